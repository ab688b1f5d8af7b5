#!/bin/bash
# The evil agent against the real bulkhead-proxy under the headless
# compositor: each malformed case ends only its own guest client with a
# logged reason; a well-behaved client of the same tag, the proxy and the
# compositor keep working.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
. "$BH_SOURCE_ROOT/tests/relay/relay-lib.sh"
bh_need wayland-info
EVIL=$BH_BUILD_ROOT/tests/relay/evil-agent
"$EVIL" "$CHANNEL" --exec-cases >"$BH_TMP/evil.out" 2>&1 &
EVIL_PID=$!
BH_CLEANUP_PIDS+=("$EVIL_PID")
bh_wait_for 10 test -S "$CHANNEL" || bh_fail "the evil agent did not listen"
start_compositor
"$CTL" spawn t1 >/dev/null || bh_fail "bulkheadctl spawn t1 failed"
# Then exec sessions the agent answers wrongly: the proxy ends each itself,
# with the reason in its log, and bulkheadctl does not report success.
bh_wait_for 120 grep -q "relay cases done" "$BH_TMP/evil.out" ||
	bh_fail "the evil agent never finished its relay cases: $(tail -3 "$BH_TMP/evil.out")"
for i in 1 2 3; do
	"$CTL" exec t1 -- true >"$BH_TMP/exec$i.out" 2>&1
	status=$?
	echo "exec session $i: exit $status: $(tail -1 "$BH_TMP/exec$i.out")"
	[ "$status" != 0 ] || bh_fail "exec session $i reported success"
done
for want in "exec message 16 after the exit status" "exec exit of unknown kind 7" \
	"exec error text of 2000 bytes"; do
	grep -q "the agent sent a malformed exec message: $want" "$BH_TMP/compositor.log" ||
		bh_fail "the proxy did not end the exec session with: $want"
done
# bulkheadctl says why, in one line, and does not claim success.
for i in 1 2 3; do
	grep -q "^bulkheadctl: tag t1: the session ended: the agent sent a malformed exec message" \
		"$BH_TMP/exec$i.out" || bh_fail "bulkheadctl did not say why exec session $i ended"
done
wait "$EVIL_PID"
rc=$?
cases=$(check_evil_output "$rc" "$BH_TMP/evil.out" "$BH_TMP/compositor.log") || exit 1
HOST_DISPLAY=$(basename "$(ls "$XDG_RUNTIME_DIR"/wayland-* | grep -v lock | head -1)")
WAYLAND_DISPLAY=$HOST_DISPLAY timeout 5 wayland-info >/dev/null ||
	bh_fail "the compositor stopped answering"
echo "PASS: $cases cases"
