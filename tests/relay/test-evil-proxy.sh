#!/bin/bash
# The evil agent against the real bulkhead-proxy under the headless
# compositor: each malformed case ends only its own guest client with a
# logged reason; a well-behaved client of the same tag, the proxy and the
# compositor keep working.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
. "$BH_SOURCE_ROOT/tests/relay/relay-lib.sh"
bh_need wayland-info
EVIL=$BH_BUILD_ROOT/tests/relay/evil-agent
"$EVIL" "$CHANNEL" >"$BH_TMP/evil.out" 2>&1 &
EVIL_PID=$!
BH_CLEANUP_PIDS+=("$EVIL_PID")
bh_wait_for 10 test -S "$CHANNEL" || bh_fail "the evil agent did not listen"
start_compositor
"$CTL" spawn t1 >/dev/null || bh_fail "bulkheadctl spawn t1 failed"
wait "$EVIL_PID"
rc=$?
cases=$(check_evil_output "$rc" "$BH_TMP/evil.out" "$BH_TMP/compositor.log") || exit 1
HOST_DISPLAY=$(basename "$(ls "$XDG_RUNTIME_DIR"/wayland-* | grep -v lock | head -1)")
WAYLAND_DISPLAY=$HOST_DISPLAY timeout 5 wayland-info >/dev/null ||
	bh_fail "the compositor stopped answering"
echo "PASS: $cases cases"
