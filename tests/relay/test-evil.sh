#!/bin/bash
# The evil agent against the proxy's relay code: every malformed case ends
# only its own stream with a logged reason, while a well-behaved client of
# the same tag and the compositor keep working.
. "$BH_SOURCE_ROOT/tests/relay/relay-env.sh"
. "$BH_SOURCE_ROOT/tests/relay/relay-lib.sh"
EVIL=$BH_BUILD_ROOT/tests/relay/evil-agent
start_weston
"$EVIL" "$BH_TMP/evil.sock" >"$BH_TMP/evil.out" 2>&1 &
EVIL_PID=$!
BH_CLEANUP_PIDS+=("$EVIL_PID")
bh_wait_for 10 test -S "$BH_TMP/evil.sock" || bh_fail "the evil agent did not listen"
XDG_RUNTIME_DIR=$HOST_DIR WAYLAND_DISPLAY=wl-host "$RELAY_HOST" "$BH_TMP/evil.sock" \
	>"$BH_TMP/relay.log" 2>&1 &
RELAY_PID=$!
BH_CLEANUP_PIDS+=("$RELAY_PID")
wait "$EVIL_PID"
rc=$?
cases=$(check_evil_output "$rc" "$BH_TMP/evil.out" "$BH_TMP/relay.log") || exit 1
# relay-host ends normally when the evil agent hangs up; a crash would not.
wait "$RELAY_PID"
[ $? = 0 ] || bh_fail "the relay process crashed: $(tail -3 "$BH_TMP/relay.log")"
XDG_RUNTIME_DIR=$HOST_DIR WAYLAND_DISPLAY=wl-host timeout 5 wayland-info >/dev/null ||
	bh_fail "the compositor stopped answering"

# Again with a shared region offered, which the evil agent claims to map:
# every slot it names is checked (bounds, header, alignment, overflow,
# reuse before release, resize, bytes sent for it).
"$EVIL" "$BH_TMP/evil2.sock" --region >"$BH_TMP/evil2.out" 2>&1 &
EVIL_PID=$!
BH_CLEANUP_PIDS+=("$EVIL_PID")
bh_wait_for 10 test -S "$BH_TMP/evil2.sock" || bh_fail "the evil agent did not listen"
XDG_RUNTIME_DIR=$HOST_DIR WAYLAND_DISPLAY=wl-host "$RELAY_HOST" --region 16 "$BH_TMP/evil2.sock" \
	>"$BH_TMP/relay2.log" 2>&1 &
RELAY_PID=$!
BH_CLEANUP_PIDS+=("$RELAY_PID")
wait "$EVIL_PID"
rc=$?
region_cases=$(check_evil_output "$rc" "$BH_TMP/evil2.out" "$BH_TMP/relay2.log") || exit 1
grep -q "^good region slot reused after release" "$BH_TMP/evil2.out" ||
	bh_fail "the shared region's cases did not run"
grep -q "window contents go through the shared region" "$BH_TMP/relay2.log" ||
	bh_fail "the relay did not take the region: $(tail -3 "$BH_TMP/relay2.log")"
wait "$RELAY_PID"
[ $? = 0 ] || bh_fail "the relay process crashed: $(tail -3 "$BH_TMP/relay2.log")"
echo "PASS: $cases cases, $region_cases with a shared region"
