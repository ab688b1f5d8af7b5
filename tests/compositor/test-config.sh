#!/bin/bash
# A config with errors: the compositor starts anyway, names FILE:LINE for
# each error and keeps the defaults there; a reload applies a fixed file.
. "$BH_SOURCE_ROOT/tests/compositor/lib.sh"
cat >"$CONFIG" <<'CFG'
[general]
fullscreen_edge = lots
this line has no equals sign
[keys]
Super+Nonsensekey = menu
Super+k = explode
[tag t1]
colour = #12345z
app = weston-simple-shm
[tag t2]
colour = #aa5500
bogus = 1
[mystery]
CFG
start_compositor
log=$BH_TMP/compositor.log
for expect in "config:2: fullscreen_edge" "config:3:" "config:5: \"Super+Nonsensekey\"" \
	"config:6: unknown action \"explode\"" "config:8: colour" "config:12: unknown key \"bogus\"" \
	"config:13: unknown section"; do
	grep -qF "$expect" "$log" || bh_fail "no error line with '$expect' in: $(grep config: "$log")"
done
echo "errors reported: $(grep -c 'config:[0-9]*:' "$log") lines with file:line"
# The good parts apply; the bad ones keep their defaults.
in_tag t2 weston-simple-shm
window t2 '*'
[ "$(field "$WIN" colour)" = "#aa5500" ] || bh_fail "t2's valid colour was not used"
in_tag t1 weston-simple-shm
window t1 '*'
c1=$(field "$WIN" colour)
[ "$c1" != "#aa5500" ] && [ "$c1" != "#5a5a5a" ] || bh_fail "t1 got no palette colour: $c1"
# Super+k was refused, Super+d still opens the menu (the default).
wtype -M logo d -m logo
bh_wait_for 5 sh -c "python3 '$IPC' call '{\"cmd\": \"menu\"}' | grep -q '\"open\": \"menu\"'" ||
	bh_fail "the default Super+d binding was lost"
wtype -k Escape

# Fix the file and reload without a restart: t1 takes its colour.
printf '[tag t1]\ncolour = #123456\n[tag t2]\ncolour = #aa5500\n' >"$CONFIG"
reply=$(python3 "$IPC" call '{"cmd": "reload"}')
echo "$reply" | grep -q '"errors": 0' || bh_fail "reload: $reply"
bh_wait_for 5 sh -c "python3 '$IPC' get windows | grep '\"tag\": \"t1\"' | grep -q '#123456\|#0a1f33'" ||
	bh_fail "reload did not recolour t1: $(python3 "$IPC" get windows | grep t1)"
kill -0 "$COMPOSITOR_PID" || bh_fail "the compositor died"
echo PASS
