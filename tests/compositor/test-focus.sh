#!/bin/bash
# Focus on map: a tag's window that opens while the user types into a
# window of another tag (here a host window) does not take the keyboard:
# every key typed reaches the window being typed into, and the new window
# opens under it. The first window after the user asked for an app of the
# tag does take the keyboard, typing or not, and so does a window that
# opens when the user is not typing.
. "$BH_SOURCE_ROOT/tests/compositor/lib.sh"
bh_need weston-eventdemo foot footclient
cat >"$CONFIG" <<CFG
[general]
tag_app =
[tag work]
colour = #27ae60
CFG
start_compositor
export SHELL=/bin/sh
host stdbuf -oL weston-eventdemo --log-key
window - '*'
host_id=$(field "$WIN" id)
keys() { grep -c "key" "$BH_TMP/clients.log"; }
focused_id() { python3 "$IPC" windows | awk '$7 == 1 { print $1 }'; }
# The window at the top of the stack (the list is bottom first).
top_id() { python3 "$IPC" windows | tail -1 | awk '{ print $1 }'; }
# types N characters, one every 25 ms, in the background
type_slowly() {
	wtype -d 25 "$(head -c "$1" /dev/zero | tr '\0' a)" &
	TYPER=$!
	BH_CLEANUP_PIDS+=("$TYPER")
}
# new_window APP_ID: a window of tag work, from its foot server
new_window() {
	footclient -N -s "$BH_TMP/foot.sock" -a "$1" sleep 600 >>"$BH_TMP/clients.log" 2>&1 ||
		bh_fail "footclient could not open a window of tag work"
	window work "$1"
	new_id=$(field "$WIN" id)
}

# How many log lines one typed character makes for the host client.
bh_wait_for 5 sh -c "[ \"\$(python3 '$IPC' windows | awk '\$7 == 1 { print \$1 }')\" = $host_id ]" ||
	bh_fail "the host window has no focus to begin with"
before=$(keys)
wtype aa
bh_wait_for 5 sh -c "[ \$(grep -c key '$BH_TMP/clients.log') -ge $((before + 2)) ]" ||
	bh_fail "the host client got no keys"
sleep 0.5
per_char=$((($(keys) - before) / 2))
[ "$per_char" -ge 1 ] || bh_fail "no key lines per character"

# The foot server of tag work: the user asked for it, so its first window
# takes the keyboard even while the user types.
in_tag work "foot --server=$BH_TMP/foot.sock"
bh_wait_for 20 test -S "$BH_TMP/foot.sock" || bh_fail "the tag's foot server did not start"
type_slowly 60
sleep 0.3
new_window focus-granted
wait "$TYPER"
bh_wait_for 5 sh -c "[ \"\$(python3 '$IPC' windows | awk '\$7 == 1 { print \$1 }')\" = $new_id ]" ||
	bh_fail "the window the user asked for did not get the keyboard: $(python3 "$IPC" windows)"
echo "asked for: window $new_id of tag work took the keyboard"

# Back to the host window; while the user types, a window of work opens.
python3 "$IPC" focus "$host_id"
sleep 2 # the typing above is over
before=$(keys)
type_slowly 200
sleep 0.3
new_window focus-typing
[ "$(focused_id)" = "$host_id" ] ||
	bh_fail "a window of another tag took the keyboard while the user typed: $(python3 "$IPC" windows)"
[ "$(top_id)" = "$host_id" ] ||
	bh_fail "the new window opened over the one being typed into: $(python3 "$IPC" windows)"
wait "$TYPER"
bh_wait_for 5 sh -c "[ \$(grep -c key '$BH_TMP/clients.log') -ge $((before + 200 * per_char)) ]" ||
	bh_fail "keys typed into the host window went elsewhere: $(($(keys) - before)) of $((200 * per_char)) key lines"
grep -q "tag work: window $new_id opened without the keyboard" "$BH_TMP/compositor.log" ||
	bh_fail "the compositor did not say why the window has no keyboard"
echo "typing: window $new_id of tag work opened under the host window; all 200 keys reached the host client"

# Not typing: a new window takes the keyboard as usual.
sleep 2
new_window focus-idle
bh_wait_for 5 sh -c "[ \"\$(python3 '$IPC' windows | awk '\$7 == 1 { print \$1 }')\" = $new_id ]" ||
	bh_fail "a new window did not get the keyboard when nobody typed: $(python3 "$IPC" windows)"
echo "PASS: a window that opens while the user types elsewhere does not take the keyboard"
