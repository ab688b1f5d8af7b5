#!/bin/bash
# The mouse, driven through a host virtual pointer: a click focuses and
# raises a window, the title bar drags it, a border resizes it from that
# side, and the launcher menu starts a tag when its entry is clicked (a
# click outside closes it).
. "$BH_SOURCE_ROOT/tests/compositor/lib.sh"
bh_need foot
VP=$BH_BUILD_ROOT/tests/relay/vpointer
cat >"$CONFIG" <<CFG
[tag m1]
app = weston-simple-shm
CFG
start_compositor
host foot --app-id=one
window - one
one=$WIN
host foot --app-id=two
window - two
two=$WIN
geo() { python3 "$IPC" get windows | python3 -c 'import json,sys
for l in sys.stdin:
    w = json.loads(l)
    if w["app_id"] == sys.argv[1]: print(w["x"], w["y"], w["width"], w["height"], w["focused"])' "$1"; }
read -r x1 y1 w1 h1 f1 < <(geo one)
read -r x2 y2 w2 h2 f2 < <(geo two)
[ "$f2" = True ] || bh_fail "the newest window is not focused: $(geo two)"

# 1. A click in window one focuses it.
"$VP" click $((x1 + 20)) $((y1 + 40)) || bh_fail "vpointer failed"
read -r _ _ _ _ f1 < <(geo one)
[ "$f1" = True ] || bh_fail "a click did not focus window one: $(geo one)"

# 2. Dragging the title bar moves it by the drag.
# x, y are the content's top left; the title bar is the 22 px above it.
"$VP" drag $((x1 + 60)) $((y1 - 10)) $((x1 + 160)) $((y1 + 50)) || bh_fail "vpointer failed"
sleep 0.3
read -r nx ny nw nh _ < <(geo one)
[ "$nx" = $((x1 + 100)) ] && [ "$ny" = $((y1 + 60)) ] ||
	bh_fail "the title bar drag moved one from $x1,$y1 to $nx,$ny, not by 100,60"
[ "$nw" = "$w1" ] && [ "$nh" = "$h1" ] || bh_fail "a move changed the size: ${nw}x$nh"

# 3. Dragging the right border makes it wider; the bottom border taller.
"$VP" drag $((nx + nw + 1)) $((ny + nh / 2)) $((nx + nw + 81)) $((ny + nh / 2)) ||
	bh_fail "vpointer failed"
bh_wait_for 5 sh -c "[ \"\$(python3 '$IPC' get windows | grep '\"one\"' | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[\"width\"])')\" -gt $nw ]" ||
	bh_fail "dragging the right border did not widen one: $(geo one) (was ${nw}x$nh)"
read -r rx ry rw rh _ < <(geo one)
[ "$rx" = "$nx" ] || bh_fail "a right-border resize moved the window"
echo "resized by the border: ${nw}x$nh -> ${rw}x$rh"

# 4. The menu by mouse: Super+d, then a click on the first entry ([m1])
# starts the tag, whose app maps as a window of m1. Lines are 22 px from
# 4 px into the panel, a sixth of the way down the 720 px output, centred;
# line 0 is the filter.
wtype -M logo d -m logo || bh_fail "wtype failed"
bh_wait_for 5 sh -c "python3 '$IPC' call '{\"cmd\": \"menu\"}' | grep -q '\"open\": \"menu\"'" ||
	bh_fail "Super+d did not open the menu"
"$VP" click 640 $((720 / 6 + 4 + 22 + 11)) || bh_fail "vpointer failed"
window m1 '*'
bh_wait_for 5 sh -c "python3 '$IPC' call '{\"cmd\": \"menu\"}' | grep -q '\"open\": null'" ||
	bh_fail "the menu stayed open after its entry was clicked"
# A click outside the menu closes it and reaches nothing.
wtype -M logo d -m logo
bh_wait_for 5 sh -c "python3 '$IPC' call '{\"cmd\": \"menu\"}' | grep -q '\"open\": \"menu\"'" ||
	bh_fail "Super+d did not open the menu again"
"$VP" click 5 700
bh_wait_for 5 sh -c "python3 '$IPC' call '{\"cmd\": \"menu\"}' | grep -q '\"open\": null'" ||
	bh_fail "a click outside did not close the menu"
echo PASS
