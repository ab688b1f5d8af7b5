#!/bin/bash
# Popups: a popup asked for far beyond the right edge of the output is kept
# on it, whole (all its pixels are in the screenshot); a tag's popup gets a
# thin frame in the tag's colour, a host popup none.
. "$BH_SOURCE_ROOT/tests/compositor/lib.sh"
POPUP=$BH_BUILD_ROOT/tests/compositor/popup-client
printf '[tag t1]\ncolour = #3366cc\n' >"$CONFIG"
start_compositor

# check_popup TAG: the green 300x100 popup is whole on the output.
check_popup() {
	local n x0 y0 x1 y1
	bh_wait_for 10 sh -c "grep -q '^popup [-0-9]' '$BH_TMP/popup-$1.out'" ||
		bh_fail "the $1 popup was never configured: $(cat "$BH_TMP/popup-$1.out")"
	sleep 0.5
	shot "popup-$1"
	read -r n x0 y0 x1 y1 < <(python3 "$PROBE" "$SHOT" box 0 255 0)
	[ "$n" = 30000 ] || bh_fail "the $1 popup shows $n of its 30000 pixels (box $x0,$y0-$x1,$y1; $(cat "$BH_TMP/popup-$1.out"))"
	[ $((x1 - x0 + 1)) = 300 ] && [ $((y1 - y0 + 1)) = 100 ] || bh_fail "the $1 popup is not one 300x100 block"
	echo "$1 popup: whole on the output at $x0,$y0 ($(head -1 "$BH_TMP/popup-$1.out"))"
	POPUP_BOX="$x0 $y0 $x1 $y1"
}

in_tag t1 "$POPUP > '$BH_TMP/popup-t1.out'"
window t1 popup-client
check_popup t1
read -r x0 y0 x1 y1 <<<"$POPUP_BOX"
for xy in "$((x0 - 1)) $(((y0 + y1) / 2))" "$((x1 + 1)) $(((y0 + y1) / 2))" "$(((x0 + x1) / 2)) $((y0 - 1))" "$(((x0 + x1) / 2)) $((y1 + 1))"; do
	set -- $xy
	[ "$(pixel "$SHOT" "$1" "$2")" = "#3366cc" ] ||
		bh_fail "the t1 popup's frame at $1,$2 is $(pixel "$SHOT" "$1" "$2"), not t1's #3366cc"
done
echo "t1 popup: framed in t1's colour"
python3 "$IPC" call "{\"cmd\": \"close\", \"id\": $(field "$WIN" id)}" >/dev/null
bh_wait_for 5 sh -c "! python3 '$IPC' windows | grep -q popup" || bh_fail "the t1 window did not close"

host sh -c "'$POPUP' > '$BH_TMP/popup-host.out'"
window - popup-client
check_popup host
read -r x0 y0 x1 y1 <<<"$POPUP_BOX"
[ "$(pixel "$SHOT" $((x0 - 1)) $(((y0 + y1) / 2)))" != "#3366cc" ] || bh_fail "a host popup got a tag frame"
echo PASS
