#!/bin/bash
# Floods from a tag hit the compositor's limits with a clear error and cost
# nothing else: 10 000 windows end that app at the window limit; a 1 GiB
# selection copied with Super+c stops at clipboard_limit with a note. The
# compositor keeps serving, and another tag's window stays.
. "$BH_SOURCE_ROOT/tests/compositor/lib.sh"
POPUP=$BH_BUILD_ROOT/tests/compositor/popup-client
CLIP=$BH_BUILD_ROOT/tests/relay/clip-client
start_compositor
in_tag t2 weston-simple-shm
window t2 '*'

# 10 000 windows from t1.
in_tag t1 "'$POPUP' windows 10000 > '$BH_TMP/flood.out' 2>&1"
bh_wait_for 60 grep -q "^flood:" "$BH_TMP/flood.out" || bh_fail "the window flood did not finish"
grep -q "ended this client" "$BH_TMP/flood.out" || bh_fail "10 000 windows were accepted: $(cat "$BH_TMP/flood.out")"
grep -q "tag t1: a guest app opened more than 256 windows" "$BH_TMP/compositor.log" ||
	bh_fail "no clear error for the window flood"
echo "window flood: $(cat "$BH_TMP/flood.out")"
bh_wait_for 10 sh -c "[ \$(python3 '$IPC' get windows | grep -c '\"tag\": \"t1\"') = 0 ]" ||
	bh_fail "the flood's windows stayed"
python3 "$IPC" windows | grep -q ' t2 ' || bh_fail "t2's window went with t1's flood"

# 1 GiB of selection from t1, copied with the chord.
in_tag t1 "'$CLIP' flood 1024 > '$BH_TMP/clip.out' 2>&1"
window t1 clip-copy
bh_wait_for 10 grep -q copied "$BH_TMP/clip.out" || bh_fail "the flood client never set its selection"
python3 "$IPC" focus "$(field "$WIN" id)"
rss_before=$(awk '/VmRSS/ { print $2 }' "/proc/$COMPOSITOR_PID/status")
wtype -M logo c -m logo
bh_wait_for 20 grep -q "clipboard_limit" "$BH_TMP/compositor.log" ||
	bh_fail "the 1 GiB copy was not stopped at the limit: $(grep -i cop "$BH_TMP/compositor.log" | tail -3)"
bh_wait_for 20 grep -q "^flood: wrote" "$BH_TMP/clip.out" || bh_fail "the flood client never saw the reader stop"
wrote=$(sed -n 's/^flood: wrote \([0-9]*\) bytes.*/\1/p' "$BH_TMP/clip.out")
[ "$wrote" -lt $((64 << 20)) ] || bh_fail "the compositor read $wrote bytes of a 1 GiB selection"
rss_after=$(awk '/VmRSS/ { print $2 }' "/proc/$COMPOSITOR_PID/status")
echo "clipboard flood: stopped after $wrote bytes written; compositor RSS ${rss_before} -> ${rss_after} KiB"
# (A sanitizer build keeps freed memory in quarantine: its RSS says nothing.)
if [ -z "${BH_COMPOSITOR:-}" ]; then
	[ $((rss_after - rss_before)) -lt $((64 * 1024)) ] ||
		bh_fail "the compositor grew by $((rss_after - rss_before)) KiB"
fi
grep "clipboard_limit" "$BH_TMP/compositor.log" | tail -1

# Still serving: a new window of t2 maps.
in_tag t2 "weston-simple-shm"
bh_wait_for 20 sh -c "[ \$(python3 '$IPC' get windows | grep -c '\"tag\": \"t2\"') -ge 2 ]" ||
	bh_fail "the compositor stopped serving after the floods"
kill -0 "$COMPOSITOR_PID" || bh_fail "the compositor died"
echo PASS
