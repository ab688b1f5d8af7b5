#!/bin/bash
# Window management from the keyboard, and the session command: Super+Tab
# moves the focus, Super+m maximizes, Super+f makes a tag's window
# fullscreen with a visible edge in the tag's colour, Super+Shift+q closes,
# Super+1 starts the first configured tag, Super+Shift+e quits; -s runs a
# command with WAYLAND_DISPLAY and BULKHEAD_SOCKET set and -x exits with
# its status.
. "$BH_SOURCE_ROOT/tests/compositor/lib.sh"
bh_need foot
cat >"$CONFIG" <<CFG
[general]
fullscreen_edge = 5
[tag k1]
colour = #c0392b
app = foot --app-id=k1app
CFG

# -s and -x: the command sees the session, the compositor exits with it.
"$COMPOSITOR" -c "$CONFIG" -s "env > '$BH_TMP/session-env'; exit 7" -x 2>"$BH_TMP/sx.log"
status=$?
[ "$status" = 7 ] || bh_fail "-x exited $status, not the command's 7"
grep -q "^WAYLAND_DISPLAY=" "$BH_TMP/session-env" || bh_fail "-s got no WAYLAND_DISPLAY"
grep -q "^BULKHEAD_SOCKET=" "$BH_TMP/session-env" || bh_fail "-s got no BULKHEAD_SOCKET"

start_compositor
host foot --app-id=a
window - a
host foot --app-id=b
window - b
focused() { python3 "$IPC" get windows | python3 -c 'import json,sys
for l in sys.stdin:
    w = json.loads(l)
    if w["focused"]: print(w["app_id"] or w["title"])'; }
[ "$(focused)" = b ] || bh_fail "the newest window is not focused: $(focused)"
wtype -M logo -k Tab -m logo
bh_wait_for 5 sh -c "[ \"\$(python3 '$IPC' get windows | grep '\"focused\": true' | grep -c '\"app_id\": \"a\"')\" = 1 ]" ||
	bh_fail "Super+Tab did not move the focus to a: $(focused)"
echo "Super+Tab: focus a"

# Super+m maximizes the focused window to the output (inside its frame).
wtype -M logo m -m logo
bh_wait_for 5 sh -c "python3 '$IPC' get windows | grep '\"app_id\": \"a\"' | grep -q '\"maximized\": true'" ||
	bh_fail "Super+m did not maximize a"
bh_wait_for 5 sh -c "[ \$(python3 '$IPC' get windows | grep '\"app_id\": \"a\"' | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[\"width\"])') -gt 1200 ]" ||
	bh_fail "the maximized window is not output-wide: $(python3 "$IPC" get windows | grep '"a"')"
wtype -M logo m -m logo
bh_wait_for 5 sh -c "python3 '$IPC' get windows | grep '\"app_id\": \"a\"' | grep -q '\"maximized\": false'" ||
	bh_fail "a second Super+m did not restore a"
echo "Super+m: maximized and restored"

# Super+Shift+q closes the focused window only.
wtype -M logo -M shift q -m shift -m logo
bh_wait_for 5 sh -c "[ \$(python3 '$IPC' get windows | grep -c '\"app_id\": \"a\"') = 0 ]" ||
	bh_fail "Super+Shift+q did not close a"
python3 "$IPC" get windows | grep -q '"app_id": "b"' || bh_fail "Super+Shift+q closed b too"
echo "Super+Shift+q: closed a, b stays"

# Super+1: the first configured tag starts and shows its app.
wtype -M logo 1 -m logo
window k1 k1app
echo "Super+1: k1 started"
# Super+f: fullscreen, with a 5 px edge in k1's colour all around.
python3 "$IPC" focus "$(field "$WIN" id)"
wtype -M logo f -m logo
bh_wait_for 5 sh -c "python3 '$IPC' get windows | grep '\"app_id\": \"k1app\"' | grep -q '\"fullscreen\": true'" ||
	bh_fail "Super+f did not make k1's window fullscreen"
sleep 1
shot fullscreen
for xy in "0 0" "1279 0" "0 719" "1279 719" "2 360" "640 717"; do
	set -- $xy
	[ "$(pixel "$SHOT" "$1" "$2")" = "#c0392b" ] ||
		bh_fail "the fullscreen edge at $1,$2 is $(pixel "$SHOT" "$1" "$2"), not k1's #c0392b"
done
read -r fx fy fw fh < <(python3 "$IPC" get windows | python3 -c 'import json,sys
for l in sys.stdin:
    w = json.loads(l)
    if w["app_id"] == "k1app": print(w["x"], w["y"], w["width"], w["height"])')
[ "$fx $fy $fw $fh" = "5 5 1270 710" ] || bh_fail "the fullscreen window is $fx,$fy ${fw}x$fh, not inside the edge"
echo "Super+f: fullscreen inside a 5 px k1 edge"

# Super+Shift+e quits the session.
wtype -M logo -M shift e -m shift -m logo
bh_wait_for 10 sh -c "! kill -0 $COMPOSITOR_PID" || bh_fail "Super+Shift+e did not quit"
echo PASS
