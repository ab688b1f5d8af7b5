#!/bin/bash
# Bindings: Super+d opens the compositor's menu (seen in a screenshot),
# keys the compositor binds never reach the focused client, other keys do;
# Super+Return runs the configured host terminal; Super+t, a tag name and
# Enter start that tag and open its app.
. "$BH_SOURCE_ROOT/tests/compositor/lib.sh"
bh_need weston-eventdemo
cat >"$CONFIG" <<CFG
[general]
terminal = touch '$BH_TMP/terminal-ran'
tag_app = weston-simple-shm
[tag work]
colour = #27ae60
CFG
start_compositor
host stdbuf -oL weston-eventdemo --log-key
window - '*'
sleep 0.5
shot before

# An unbound key reaches the client (the logger works).
wtype x || bh_fail "wtype failed"
bh_wait_for 5 grep -q "key" "$BH_TMP/clients.log" || bh_fail "the client got no keys at all"
keys_before=$(grep -c "key" "$BH_TMP/clients.log")

# Super+d: the menu, drawn above the window; the client sees nothing.
wtype -M logo d -m logo || bh_fail "wtype failed"
bh_wait_for 5 sh -c "python3 '$IPC' call '{\"cmd\": \"menu\"}' | grep -q '\"open\": \"menu\"'" ||
	bh_fail "Super+d did not open the menu"
sleep 0.5
shot menu
changed=$(python3 "$PROBE" "$SHOT" diff "$BH_TMP/before.png" 0 0 1280 720)
[ "$changed" -gt 5000 ] || bh_fail "the menu is not on the screen ($changed pixels changed)"
# Keys typed into the menu filter do not reach the client either.
wtype wor
wtype -k Escape
bh_wait_for 5 sh -c "python3 '$IPC' call '{\"cmd\": \"menu\"}' | grep -q '\"open\": null'" ||
	bh_fail "Escape did not close the menu"
sleep 0.5
keys_after=$(grep -c "key" "$BH_TMP/clients.log")
[ "$keys_after" = "$keys_before" ] ||
	bh_fail "the client received keys the compositor consumed: $(tail -4 "$BH_TMP/clients.log")"
echo "menu: $changed pixels drawn; Super+d and the menu's keys never reached the client"

# Super+Return with no tagged window focused: the host terminal.
wtype -M logo -k Return -m logo
bh_wait_for 5 test -e "$BH_TMP/terminal-ran" || bh_fail "Super+Return did not run the host terminal"

# Super+t, "work", Enter: tag work starts and shows its app in its colour.
wtype -M logo t -m logo
bh_wait_for 5 sh -c "python3 '$IPC' call '{\"cmd\": \"menu\"}' | grep -q '\"open\": \"prompt\"'" ||
	bh_fail "Super+t did not open the tag prompt"
wtype work
wtype -k Return
window work '*'
[ "$(field "$WIN" colour)" = "#27ae60" ] || bh_fail "work's window is not in work's colour"
python3 "$IPC" get tags | grep -q '"name": "work", "state": "running"' ||
	bh_fail "work is not running: $(python3 "$IPC" get tags)"
# Super+Return in work's focused window opens another work window.
wtype -M logo -k Return -m logo
bh_wait_for 10 sh -c "[ \$(python3 '$IPC' windows | grep -c ' work ') = 2 ]" ||
	bh_fail "Super+Return in a work window did not open another work window"
echo "Super+Return: host terminal, then a second work window; Super+t work: started"
echo PASS
