#!/bin/bash
# X11 apps of tag t1 through the guest's Xwayland, which the agent starts
# with the first X client and manages as the X window manager; the host
# sees only xdg toplevels (and subsurfaces for menus) on Xwayland's
# relayed connection. Through the whole chain (agent, unix channel,
# bulkhead-proxy, the headless compositor):
#   xterm and xmessage map framed t1 windows titled [t1] + the X title;
#   text typed with wtype reaches xterm and shows in a grim screenshot;
#   xterm's Ctrl+click menu (override-redirect) opens at the pointer;
#   the close binding (Super+Shift+q) ends the X window; an X client's
#   fullscreen request makes its window fullscreen at the output's size;
#   a copy in an X client of t1 pastes into a Wayland client of t1 and the
#   other way round, and a window of tag t2 gets nothing of it;
#   a hostile X client (malformed requests, a flood of top-levels) ends
#   only itself, and Xwayland ending starts again at the next client.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
bh_need Xwayland xterm xmessage xclip foot grim wtype python3
PROBE=$BH_SOURCE_ROOT/tests/relay/png-probe.py
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
VPOINTER=$BH_BUILD_ROOT/tests/relay/vpointer
CLIP=$BH_BUILD_ROOT/tests/relay/clip-client
EVIL_X=$BH_BUILD_ROOT/tests/relay/evil-x11
# t2 has no X11 (xwayland = off): its agent offers no X display
start_agent
start_second_agent 'app =\nxwayland = off\n'
start_compositor
spawn_tag
"$CTL" spawn t2 >/dev/null || bh_fail "bulkheadctl spawn t2 failed"
HOST_DISPLAY=$(basename "$(ls "$XDG_RUNTIME_DIR"/wayland-* | grep -v lock | head -1)")

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
[ -z "$(pgrep -x -P "$AGENT_PID" Xwayland)" ] ||
	bh_fail "Xwayland runs before any X client connected"

# 1. xterm: a framed t1 window titled from X
guest_run xterm -xrm '*selectToClipboard: true' -T "xterm of t1" -class XTermT1 \
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


# 3. an override-redirect window (a menu) opens where its client put it:
# at +40,+30 from its top-level's corner, over it
guest_run "$BH_BUILD_ROOT/tests/relay/x11-client" menu
MENU_PID=$GUEST_PID
read -r mid mx my mw mh mtitle < <(python3 "$IPC" wait-window t1 X11Menu 20) ||
	bh_fail "the menu test's top-level showed no t1 window"
bh_wait_for 10 grep -q "menu at" "$BH_TMP/clients.log" || bh_fail "the menu test client made no menu"
sleep 1.5
shot menu
read -r count gx0 gy0 gx1 gy1 < <(python3 "$PROBE" "$BH_TMP/menu.png" box 0 255 0)
echo "menu: top-level at $mx,$my; $count green pixels from $gx0,$gy0 to $gx1,$gy1"
[ "$count" -ge 9000 ] || bh_fail "the override-redirect menu is not on screen ($count green pixels)"
[ "$gx0" = $((mx + 40)) ] && [ "$gy0" = $((my + 30)) ] ||
	bh_fail "the menu is at $gx0,$gy0, not at +40,+30 from its top-level ($mx,$my)"
kill "$MENU_PID"

# 3b. xterm's own menu (Ctrl + left button, override-redirect) opens at the
# pointer, on xterm
python3 "$IPC" focus "$xid"
sleep 0.5
px=$((x + w / 3)) py=$((y + h / 2))
WAYLAND_DISPLAY=$HOST_DISPLAY "$VPOINTER" move "$px" "$py" || bh_fail "vpointer failed"
sleep 0.5
shot xterm-nomenu
WAYLAND_DISPLAY=$HOST_DISPLAY wtype -M ctrl -s 3000 -m ctrl &
CTRL_PID=$!
sleep 0.5
WAYLAND_DISPLAY=$HOST_DISPLAY "$VPOINTER" down left sleep 2000 up left &
BUTTON_PID=$!
sleep 1.2
shot xterm-menu
wait "$CTRL_PID" "$BUTTON_PID"
menu_px=$(python3 "$PROBE" "$BH_TMP/xterm-menu.png" diff "$BH_TMP/xterm-nomenu.png" \
	$((px - 20)) $((py - 20)) 200 200)
elsewhere=$(python3 "$PROBE" "$BH_TMP/xterm-menu.png" diff "$BH_TMP/xterm-nomenu.png" \
	$((px + 300)) $((py + 250)) 200 150)
echo "xterm menu: $menu_px pixels changed at the pointer, $elsewhere away from it"
[ "$menu_px" -gt 300 ] || bh_fail "xterm's Ctrl+click menu did not open at the pointer"
[ "$elsewhere" -lt 50 ] || bh_fail "xterm's menu opened away from the pointer"
grep -q "(override-redirect) placed on 0x" "$BH_TMP/agent.log" || bh_fail "the menu was not placed on xterm"

# 4. the close binding (Super+Shift+q) ends an X window
guest_run xmessage -title "x11 message" "hello from X"
MSG_PID=$GUEST_PID
read -r msgid _ < <(python3 "$IPC" wait-window t1 Xmessage 20) || bh_fail "xmessage showed no t1 window"
[ "$(window_field "$msgid" title)" = "[t1] x11 message" ] ||
	bh_fail "xmessage's title is '$(window_field "$msgid" title)'"
python3 "$IPC" focus "$msgid"
sleep 0.5
host_key -M logo -M shift -k q -m shift -m logo
bh_wait_for 10 sh -c "! kill -0 $MSG_PID 2>/dev/null" || bh_fail "Super+Shift+q did not end xmessage"
bh_wait_for 5 sh -c "! python3 '$IPC' windows | grep -q 'x11 message'" ||
	bh_fail "xmessage's window stayed after it ended"
echo "close: Super+Shift+q ended xmessage"

# 4b. an X client's fullscreen request (_NET_WM_STATE) reaches the host,
# and the host's fullscreen size reaches the X window
guest_run "$BH_BUILD_ROOT/tests/relay/x11-client" fullscreen
FULL_PID=$GUEST_PID
read -r fsid _ < <(python3 "$IPC" wait-window t1 X11Full 20) || bh_fail "the fullscreen client showed no window"
bh_wait_for 10 sh -c "python3 '$IPC' get windows | grep '\"id\": $fsid,' | grep -q '\"fullscreen\": true'" ||
	bh_fail "the X client's fullscreen request did not make its window fullscreen"
bh_wait_for 10 sh -c "python3 '$IPC' windows | grep -q '^$fsid t1 [0-9-]* [0-9-]* 1[0-9][0-9][0-9] [5-9][0-9][0-9] '" ||
	bh_fail "the fullscreen X window was not resized to the output: $(python3 "$IPC" windows | grep "^$fsid ")"
echo "fullscreen: $(python3 "$IPC" windows | grep "^$fsid " | cut -d' ' -f5,6)"
kill "$FULL_PID"

# 5. copy in xterm (a drag selects "typed into X" into CLIPBOARD), paste in
# a Wayland client of t1; a client of t2 gets nothing of it
python3 "$IPC" focus "$xid"
sleep 0.5
WAYLAND_DISPLAY=$HOST_DISPLAY "$VPOINTER" drag $((x + 3)) $((y + 9)) $((x + 3 + 6 * 12 + 2)) $((y + 9)) ||
	bh_fail "vpointer failed"
bh_wait_for 10 grep -q "X selection" "$BH_TMP/agent.log" ||
	bh_fail "the agent did not offer xterm's selection to the host"
paste() { # TAG DISPLAY
	"${AS_GUEST[@]}" WAYLAND_DISPLAY=$2 "$CLIP" paste 5 >"$BH_TMP/paste-$1.out" 2>&1 &
	local pid=$!
	BH_CLEANUP_PIDS+=("$pid")
	if read -r pid_window _ < <(python3 "$IPC" wait-window "$1" clip-paste 15); then
		python3 "$IPC" focus "$pid_window" 2>/dev/null
	elif kill -0 "$pid" 2>/dev/null; then
		bh_fail "the paste window of $1 never mapped"
	fi
	wait "$pid"
	cat "$BH_TMP/paste-$1.out"
}
out=$(paste t1 $GUEST_DISPLAY)
echo "t1 paste: $out"
[ "$out" = "pasted: typed into X" ] || bh_fail "a Wayland client of t1 could not paste xterm's copy"
out=$(paste t2 ${GUEST_DISPLAY}2)
echo "t2 paste: $out"
case "$out" in *"typed into X"*) bh_fail "a t2 window read t1's X selection" ;; esac

# 5b. and back: a Wayland client's copy in t1 pastes in an X client of t1
"${AS_GUEST[@]}" WAYLAND_DISPLAY=$GUEST_DISPLAY "$CLIP" copy "copied in Wayland" >"$BH_TMP/copy.out" 2>&1 &
BH_CLEANUP_PIDS+=("$!")
read -r cid _ < <(python3 "$IPC" wait-window t1 clip-copy 15) || bh_fail "the copy window never mapped"
python3 "$IPC" focus "$cid"
bh_wait_for 10 grep -q copied "$BH_TMP/copy.out" || bh_fail "the Wayland copy client never got focus"
python3 "$IPC" focus "$xid"
bh_wait_for 10 grep -q "the tag's clipboard offered to X" "$BH_TMP/agent.log" ||
	bh_fail "the tag's clipboard was not offered to X when xterm got the focus"
out=$("${AS_GUEST[@]}" timeout 10 xclip -o -selection clipboard 2>&1)
echo "X paste: $out"
[ "$out" = "copied in Wayland" ] || bh_fail "an X client of t1 could not paste the Wayland copy"

# 6. an X11 and a Wayland window of t1 side by side
guest_run foot --app-id=x11-foot sh -c "echo a Wayland terminal of t1; sleep 60"
read -r fid fx fy _ < <(python3 "$IPC" wait-window t1 x11-foot 20) || bh_fail "foot showed no t1 window"
sleep 1
# foot's title bar dragged to the right of xterm
WAYLAND_DISPLAY=$HOST_DISPLAY "$VPOINTER" drag $((fx + 100)) $((fy - 10)) $((x + w + 120)) $((y - 10)) ||
	bh_fail "vpointer failed"
sleep 1
shot side-by-side
[ -n "${BH_X11_SHOT:-}" ] && cp "$BH_TMP/side-by-side.png" "$BH_X11_SHOT"

# 7. a hostile X client ends only itself: its hostile properties reach the
# host cut and cleaned, forged surface ids are ignored, its malformed
# requests and a garbage connection are Xwayland's to end
"${AS_GUEST[@]}" timeout 40 "$BH_BUILD_ROOT/tests/relay/x11-client" hostile >"$BH_TMP/hostile.out" 2>&1 &
HOSTILE_PID=$!
read -r hid _ < <(python3 "$IPC" wait-window t1 no-nul-class 20) ||
	bh_fail "the hostile client's window was not shown"
htitle=$(window_field "$hid" title)
echo "hostile title: ${#htitle} characters"
python3 -c 'import sys; t = sys.argv[1]; sys.exit(not (len(t.encode()) <= 270 and all(ord(c) >= 32 for c in t)))' "$htitle" ||
	bh_fail "the hostile title reached the host uncleaned"
wait "$HOSTILE_PID"
bh_wait_for 10 grep -q "cut off" "$BH_TMP/hostile.out" ||
	bh_fail "Xwayland did not cut the hostile connection off: $(cat "$BH_TMP/hostile.out")"
kill -0 "$AGENT_PID" || bh_fail "the agent died of a hostile X client"
[ -n "$(window_field "$xid" title)" ] || bh_fail "xterm's window went with the hostile client"
echo "hostile: cut off by Xwayland; the agent and xterm live on"

# 8. a flood of top-levels: the window manager maps 64 of them (each X
# window's pixmap is a shm pool of Xwayland's connection, which the host
# limits), the rest stay unmapped; the agent, xterm and foot live on
"${AS_GUEST[@]}" timeout 60 "$BH_BUILD_ROOT/tests/relay/x11-client" flood 600 >"$BH_TMP/flood.out" 2>&1 &
FLOOD_PID=$!
bh_wait_for 30 grep -q "mapped 600" "$BH_TMP/flood.out" ||
	bh_fail "the flood client failed: $(cat "$BH_TMP/flood.out")"
bh_wait_for 20 sh -c "[ \$(python3 '$IPC' windows | grep -c X11Flood) -ge 60 ]" ||
	bh_fail "the flood's first 60 windows were not shown"
sleep 1
kill -0 "$AGENT_PID" || bh_fail "the agent died of a flood of X top-levels"
[ -n "$(window_field "$fid" title)" ] || bh_fail "foot's window went with the X flood"
shown=$(python3 "$IPC" windows | grep -c "X11Flood")
echo "flood: 600 top-levels, $shown shown; the agent and foot live on"
grep -q "X windows are shown already" "$BH_TMP/agent.log" ||
	bh_fail "the window manager did not stop at its limit of X windows"
[ "$shown" -le 64 ] || bh_fail "$shown flood windows are shown, over the window manager's 64"
[ -n "$(window_field "$xid" title)" ] || bh_fail "xterm's window went with the X flood"
wait "$FLOOD_PID"

# 9. Xwayland ending starts again with the next X client
XW_PID=$(sed -n 's/.*started Xwayland on display .* (pid \([0-9]*\)).*/\1/p' "$BH_TMP/agent.log" | tail -1)
kill -9 "$XW_PID" 2>/dev/null # unless the flood ended it
bh_wait_for 10 grep -q "Xwayland on .* \(was killed\|ended\)" "$BH_TMP/agent.log" ||
	bh_fail "the agent did not notice Xwayland's end"
# launched by the agent, with the DISPLAY it sets
"$CTL" run t1 -- xmessage -title "after restart" "again" >/dev/null ||
	bh_fail "bulkheadctl run t1 -- xmessage failed"
read -r _ < <(python3 "$IPC" wait-window t1 Xmessage 30) ||
	bh_fail "no X window after Xwayland ended (agent log: $(tail -3 "$BH_TMP/agent.log"))"
grep -q "started Xwayland on display .* again" "$BH_TMP/agent.log" ||
	bh_fail "the agent did not log Xwayland's new start"
echo "restart: Xwayland started again for the next X client"

if grep -h -E "guest Wayland client.*ended" "$BH_TMP"/agent.log | grep -v "shm pools"; then
	bh_fail "the relay ended a guest client (above)"
fi
kill -0 "$AGENT_PID" || bh_fail "the agent is gone"
! grep -q "X11 display" "$BH_TMP/agent2.log" || bh_fail "t2 (xwayland = off) got an X display"
grep -q "host connected" "$BH_TMP/agent2.log" && ! grep -q -E " (error|warn) " "$BH_TMP/agent2.log" ||
	bh_fail "t2's agent was touched: $(tail -3 "$BH_TMP/agent2.log")"
echo PASS
