#!/bin/bash
# Guest clients through the whole chain -- agent, channel, bulkhead-proxy,
# the headless bulkhead compositor: each maps a window of tag t1 whose
# pixels are right in a grim screenshot, the guest sees only allowlisted
# globals, and text typed with wtype reaches the focused guest foot.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
. "$BH_SOURCE_ROOT/tests/relay/relay-lib.sh"
bh_need grim wtype foot weston-simple-shm weston-eventdemo wayland-info python3
PROBE=$BH_SOURCE_ROOT/tests/relay/png-probe.py
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
start_agent
start_compositor
spawn_tag
HOST_DISPLAY=$(basename "$(ls "$XDG_RUNTIME_DIR"/wayland-* | grep -v lock | head -1)")

OUT=$BH_TMP/out
mkdir -p "$OUT"
chmod 777 "$OUT"
AS_GUEST+=(XDG_RUNTIME_DIR="$GUEST_RUN" WAYLAND_DISPLAY=$GUEST_DISPLAY HOME="$OUT" LANG=C.UTF-8)
bh_wait_for 10 test -S "$GUEST_RUN/$GUEST_DISPLAY" || bh_fail "the agent made no guest socket"

guest_run() {
	"${AS_GUEST[@]}" "$@" >>"$BH_TMP/clients.log" 2>&1 &
	GUEST_PID=$!
	BH_CLEANUP_PIDS+=("$GUEST_PID")
}
shot() {
	WAYLAND_DISPLAY=$HOST_DISPLAY grim "$BH_TMP/$1.png" || bh_fail "grim failed"
}

# 1. globals
"${AS_GUEST[@]}" timeout 10 wayland-info >"$BH_TMP/guest-info" 2>&1 ||
	bh_fail "wayland-info in the guest failed: $(tail -3 "$BH_TMP/guest-info")"
shown=$(check_guest_globals "$BH_TMP/guest-info") || exit 1
echo "wayland-info in the guest: $shown allowlisted globals"

# 2. weston-simple-shm: a t1 window with the client's colour pattern in it
guest_run weston-simple-shm
read -r id x y w h title < <(python3 "$IPC" wait-window t1 '*' 15) ||
	bh_fail "weston-simple-shm showed no t1 window (logs: $BH_TMP)"
case "$title" in "[t1]"*) ;; *) bh_fail "the window title '$title' lacks the [t1] prefix" ;; esac
sleep 1
shot shm
sat=$(python3 "$PROBE" "$BH_TMP/shm.png" saturated "$x" "$y" "$w" "$h")
echo "weston-simple-shm: window ${w}x${h}, $sat strongly coloured pixels"
[ "$sat" -gt $((w * h / 4)) ] || bh_fail "weston-simple-shm's pattern is not in its window"
# ... drawn from the tag's shared region: the proxy and the agent took it,
# the compositor maps it, and no buffer bytes crossed the channel.
grep -q "tag t1: window contents go through the shared region" "$BH_TMP/compositor.log" ||
	bh_fail "the proxy did not take the shared region: $(grep 'window contents' "$BH_TMP/compositor.log")"
grep -q "window contents go through the shared region" "$BH_TMP/agent.log" ||
	bh_fail "the agent did not map the shared region: $(tail -3 "$BH_TMP/agent.log")"
grep -q "memfd:bulkhead-region" "/proc/$COMPOSITOR_PID/maps" ||
	bh_fail "the compositor does not map the shared region"
! grep -q "memfd:bulkhead-shm" "/proc/$COMPOSITOR_PID/maps" ||
	bh_fail "the compositor maps a host pool: buffer bytes went through the channel"
kill "$GUEST_PID"
bh_wait_for 10 grep -q "gone: .*(buffer data 0 bytes, 0 on the channel)" "$BH_TMP/compositor.log" ||
	bh_fail "buffer bytes crossed the channel: $(grep 'gone:' "$BH_TMP/compositor.log" | tail -2)"

# 3. text typed with wtype reaches the focused guest foot
guest_run foot --app-id=relay-foot sh -c "read -r line; printf '%s' \"\$line\" > '$OUT/typed'"
read -r id x y w h title < <(python3 "$IPC" wait-window t1 relay-foot 20) ||
	bh_fail "foot showed no t1 window"
python3 "$IPC" focus "$id"
sleep 1
shot foot-before
WAYLAND_DISPLAY=$HOST_DISPLAY wtype "typed through the relay" || bh_fail "wtype failed"
sleep 1
shot foot-typed
changed=$(python3 "$PROBE" "$BH_TMP/foot-typed.png" diff "$BH_TMP/foot-before.png" "$x" "$y" "$w" "$h")
echo "foot: $changed pixels changed by typing"
[ "$changed" -gt 100 ] || bh_fail "the typed text did not appear in foot's window"
WAYLAND_DISPLAY=$HOST_DISPLAY wtype -k Return
bh_wait_for 5 test -s "$OUT/typed" || bh_fail "foot never received Return"
[ "$(cat "$OUT/typed")" = "typed through the relay" ] ||
	bh_fail "foot received '$(cat "$OUT/typed")' instead of the typed text"

# 3b. a click on a guest window focuses it, and the guest client gets the
# button (weston-eventdemo logs it) through the relay.
guest_run stdbuf -oL weston-eventdemo --log-button
EVENTDEMO_PID=$GUEST_PID
eventdemo() { python3 "$IPC" get windows | python3 -c 'import json,sys
for l in sys.stdin:
    w = json.loads(l)
    if w["tag"] == "t1" and w["title"] == "[t1] EventDemo": print(w["id"], w["x"], w["y"], w["width"], w["height"], w["focused"])'; }
bh_wait_for 20 sh -c "python3 '$IPC' windows | grep -q EventDemo" ||
	bh_fail "weston-eventdemo showed no t1 window"
# Another guest window takes the focus.
guest_run weston-simple-shm
SHM_PID=$GUEST_PID
bh_wait_for 20 sh -c "python3 '$IPC' windows | grep -q simple-shm" ||
	bh_fail "weston-simple-shm showed no second window"
sleep 0.5
read -r eid ex ey ew eh efocused < <(eventdemo)
[ "$efocused" = False ] || bh_fail "weston-eventdemo kept the focus from the newer window"
# Its bottom right corner: the newer window cascades over its top left.
WAYLAND_DISPLAY=$HOST_DISPLAY "$BH_BUILD_ROOT/tests/relay/vpointer" \
	click $((ex + ew - 8)) $((ey + eh - 8)) || bh_fail "vpointer failed"
bh_wait_for 5 sh -c "python3 '$IPC' get windows | grep '\"id\": $eid,' | grep -q '\"focused\": true'" ||
	bh_fail "a click did not focus the guest window"
bh_wait_for 5 grep -qi "button" "$BH_TMP/clients.log" ||
	bh_fail "the guest client did not get the click"
echo "click: focused the guest window and reached the guest client"
kill "$EVENTDEMO_PID" "$SHM_PID" 2>/dev/null

# 4. the other clients each map a t1 window with content
for client in weston-simple-damage weston-subsurfaces weston-terminal gtk3-widget-factory; do
	command -v "$client" >/dev/null || bh_need "$client"
	before=$(python3 "$IPC" windows | grep -c ' t1 ')
	guest_run "$client"
	bh_wait_for 20 sh -c "[ \$(python3 '$IPC' windows | grep -c ' t1 ') -gt $before ]" ||
		bh_fail "$client showed no t1 window"
	sleep 2
	shot "$client"
	kill "$GUEST_PID" 2>/dev/null
	wait "$GUEST_PID" 2>/dev/null
	echo "$client: window mapped"
done

if grep -h -E "guest Wayland client.*ended" "$BH_TMP"/*.log; then
	bh_fail "the relay ended a well-behaved client (above)"
fi
echo PASS
