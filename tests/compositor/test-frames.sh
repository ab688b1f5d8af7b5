#!/bin/bash
# Frames: a host window gets a neutral frame; windows of tags get a border
# and title bar in their tag's colour (configured, or from the palette,
# different per tag) and "[tag] title"; a title cannot fake another tag.
. "$BH_SOURCE_ROOT/tests/compositor/lib.sh"
printf '[tag t1]\ncolour = #3366cc\n' >"$CONFIG"
start_compositor

# A host client: its pixels, and a grey frame around them.
host weston-simple-shm
window - '*'
[ -z "$(field "$WIN" tag)" ] || bh_fail "a host window has a tag: $WIN"
sleep 0.5
shot host
x=$(field "$WIN" x) y=$(field "$WIN" y) w=$(field "$WIN" width) h=$(field "$WIN" height)
b=$(field "$WIN" border)
sat=$(python3 "$PROBE" "$SHOT" saturated "$x" "$y" "$w" "$h")
[ "$sat" -gt $((w * h / 4)) ] || bh_fail "the host client's pixels are not on screen ($sat)"
left=$(pixel "$SHOT" $((x - 1)) $((y + h / 2)))
[ "$left" = "$(field "$WIN" colour)" ] || bh_fail "host border is $left, IPC says $(field "$WIN" colour)"
case $left in "#5a5a5a" | "#3f3f3f") ;; *) bh_fail "the host frame is not neutral grey: $left" ;; esac
echo "host window: ${w}x${h}, $sat coloured pixels, frame $left, border $b px"

# Tag t1 (configured colour) and t2 (palette): frames in their colours.
in_tag t1 weston-simple-shm
window t1 '*'
t1=$WIN
case $(field "$t1" title) in "[t1] "*) ;; *) bh_fail "t1's title lacks [t1]: $(field "$t1" title)" ;; esac
[ "$(field "$t1" colour)" = "#3366cc" ] || bh_fail "t1 is not in its configured colour: $t1"
[ "$(field "$t1" border)" -ge 3 ] || bh_fail "t1's border is thinner than 3 px"
sleep 0.5
shot t1
x=$(field "$t1" x) y=$(field "$t1" y) w=$(field "$t1" width) h=$(field "$t1" height)
for p in "$((x - 1)) $((y + h / 2))" "$((x - 3)) $((y + 5))" "$((x + w)) $((y + h / 2))" \
	"$((x + w / 2)) $((y + h + 1))" "$((x + 2)) $((y - 3))"; do
	got=$(pixel "$SHOT" $p)
	[ "$got" = "#3366cc" ] || bh_fail "t1's frame at ($p) is $got, not #3366cc"
done
sat=$(python3 "$PROBE" "$SHOT" saturated "$x" "$y" "$w" "$h")
[ "$sat" -gt $((w * h / 4)) ] || bh_fail "t1's client pixels are not inside its frame"
# The title text is drawn: white glyph pixels in the title bar.
light=$(python3 "$PROBE" "$SHOT" light "$x" "$((y - 20))" "$w" 18)
[ "$light" -gt 20 ] || bh_fail "no title text in t1's title bar ($light light pixels)"
echo "t1 window: frame #3366cc on four sides, title '$(field "$t1" title)'"

in_tag t2 weston-simple-shm
window t2 '*'
t2=$WIN
c2=$(field "$t2" colour)
[ "$c2" != "#3366cc" ] && [ "$c2" != "#5a5a5a" ] || bh_fail "t2 has no colour of its own: $c2"
sleep 0.5
shot t2
x=$(field "$t2" x) y=$(field "$t2" y) h=$(field "$t2" height)
[ "$(pixel "$SHOT" $((x - 2)) $((y + h / 2)))" = "$c2" ] || bh_fail "t2's frame is not $c2"
# t1 lost the focus: a darker shade of its colour, still not t2's.
t1now=$(python3 "$IPC" get windows | grep '"tag": "t1"')
c1=$(field "$t1now" colour)
[ "$c1" != "#3366cc" ] && [ "$c1" != "$c2" ] || bh_fail "unfocused t1 shows $c1"
x=$(field "$t1now" x) y=$(field "$t1now" y)
[ "$(pixel "$SHOT" $((x - 2)) $((y + 3)))" = "$c1" ] || bh_fail "unfocused t1's frame is not $c1"
echo "t2 window: $c2; unfocused t1: $c1"

# A guest cannot pose as another tag or hide its prefix with control or
# bidi characters.
if command -v foot >/dev/null; then
	in_tag t1 "foot --app-id=spoof --title '[bank] Login'"
	window t1 spoof
	[ "$(field "$WIN" title)" = "[t1] [bank] Login" ] ||
		bh_fail "the spoofing title shows as '$(field "$WIN" title)'"
	in_tag t1 "foot --app-id=ctrl --title \"\$(printf 'a\\033[2Jb\\342\\200\\256c')\""
	window t1 ctrl
	[ "$(field "$WIN" title)" = "[t1] a[2Jbc" ] ||
		bh_fail "control characters were not stripped: '$(field "$WIN" title)'"
	echo "titles: '[t1] [bank] Login', control and bidi characters stripped"
fi
echo PASS
