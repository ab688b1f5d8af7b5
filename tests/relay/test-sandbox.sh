#!/bin/bash
# The proxy's sandbox (protocols/SANDBOX.md): --sandbox-check finds every
# forbidden call refused and the allowed ones working; a running tag's proxy
# is under its seccomp filter with no new privileges and still relays exec
# and a guest client, reconnects to a restarted agent through its keeper,
# and ends without a forbidden call, its control socket removed, whether
# the compositor stops it or it gets SIGTERM. BULKHEAD_PROXY_SANDBOX=0 runs
# it unsandboxed, with a warning.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
bh_need python3 weston-simple-shm
PROXY=$BH_BUILD_ROOT/proxy/bulkhead-proxy
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
SOCK=$XDG_RUNTIME_DIR/bulkhead/tags/t1/control.sock

check=$("$PROXY" --sandbox-check 2>&1)
status=$?
echo "$check"
[ "$status" = 0 ] || bh_fail "--sandbox-check exited $status"
[ "$(grep -c ': refused$' <<<"$check")" -ge 5 ] || bh_fail "--sandbox-check refused too little"
! grep -q 'ALLOWED\|FAILED\|REFUSED' <<<"$check" || bh_fail "--sandbox-check: wrong answers"

start_agent
start_compositor
COMPOSITOR_PID=${BH_CLEANUP_PIDS[-1]}
spawn_tag
proxy_pid() {
	pgrep -P "$COMPOSITOR_PID" -f 'bulkhead-prox[y] --tag t1' | head -1
}
# Ended: gone, or a zombie its new parent has not reaped yet.
gone() {
	[ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status"
}
pid=$(proxy_pid)
[ -n "$pid" ] || bh_fail "no proxy of t1 runs"
grep -q '^Seccomp:[[:space:]]*2$' "/proc/$pid/status" ||
	bh_fail "the proxy has no seccomp filter: $(grep Seccomp "/proc/$pid/status")"
grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$pid/status" ||
	bh_fail "the proxy may gain privileges: $(grep NoNewPrivs "/proc/$pid/status")"
keeper=$(pgrep -P "$pid" | head -1)
[ -n "$keeper" ] && [ "$(cat "/proc/$keeper/comm")" = bulkhead-keeper ] ||
	bh_fail "the proxy has no keeper"
echo "proxy $pid: seccomp filter, no new privileges; keeper $keeper"

out=$("$CTL" exec t1 -- sh -c 'echo sandboxed; exit 4')
status=$?
[ "$out" = sandboxed ] && [ "$status" = 4 ] || bh_fail "exec gave '$out', status $status"

# A guest client: its shm pools become the proxy's memfds.
bh_wait_for 10 test -S "$GUEST_RUN/$GUEST_DISPLAY" || bh_fail "the agent made no guest socket"
"${AS_GUEST[@]}" XDG_RUNTIME_DIR="$GUEST_RUN" WAYLAND_DISPLAY=$GUEST_DISPLAY \
	weston-simple-shm >"$BH_TMP/client.log" 2>&1 &
client=$!
BH_CLEANUP_PIDS+=("$client")
python3 "$IPC" wait-window t1 '*' 15 >/dev/null || bh_fail "the guest client showed no window"
kill "$client"

# The channel again, through the keeper.
kill -9 "$AGENT_PID"
bh_wait_for 20 sh -c "'$CTL' tags | grep -q 't1.*failed'" || bh_fail "t1 not failed without agent"
start_agent
bh_wait_for 30 sh -c "'$CTL' tags | grep -q 't1.*running'" || bh_fail "t1 did not reconnect"
[ "$("$CTL" exec t1 -- echo back)" = back ] || bh_fail "exec failed after reconnection"
[ "$(proxy_pid)" = "$pid" ] || bh_fail "the proxy changed"

# The ends: a stop from the compositor, then SIGTERM.
python3 "$IPC" call '{"cmd": "stop", "tag": "t1"}' >/dev/null || bh_fail "stop failed"
bh_wait_for 10 gone "$pid" || bh_fail "the proxy did not stop"
bh_wait_for 10 gone "$keeper" || bh_fail "the keeper outlived the proxy"
[ ! -e "$SOCK" ] || bh_fail "the control socket stayed after a stop"
spawn_tag
pid=$(proxy_pid)
kill -TERM "$pid"
bh_wait_for 10 gone "$pid" || bh_fail "the proxy did not end on SIGTERM"
bh_wait_for 10 sh -c "[ ! -e '$SOCK' ]" || bh_fail "the control socket stayed after SIGTERM"
! grep 'forbidden system call' "$BH_TMP/compositor.log" || bh_fail "the sandbox stopped a proxy"

# The switch for debugging.
kill "$COMPOSITOR_PID"
wait "$COMPOSITOR_PID" 2>/dev/null
BULKHEAD_PROXY_SANDBOX=0 start_compositor
COMPOSITOR_PID=${BH_CLEANUP_PIDS[-1]}
spawn_tag
pid=$(proxy_pid)
grep -q '^Seccomp:[[:space:]]*0$' "/proc/$pid/status" || bh_fail "BULKHEAD_PROXY_SANDBOX=0 ignored"
grep -q 'runs without its sandbox' "$BH_TMP/compositor.log" || bh_fail "no warning without sandbox"
echo "the proxy runs sandboxed and still relays"
