#!/bin/bash
# Killing the agent: the tag is reported failed, and a restarted agent makes
# it running again with exec working. `bulkheadctl start` on the failed
# tag waits for its proxy to reconnect instead of taking the failure its
# proxy is recovering from for its own.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
start_agent
start_compositor
spawn_tag
kill -9 "$AGENT_PID"
bh_wait_for 20 sh -c "'$CTL' tags | grep -q 't1.*failed'" ||
	bh_fail "tag t1 was not reported failed after the agent died"
start_agent
bh_wait_for 30 sh -c "'$CTL' tags | grep -q 't1.*running'" ||
	bh_fail "tag t1 did not come back when the agent returned"
[ "$("$CTL" exec t1 -- echo back)" = back ] || bh_fail "exec failed after reconnection"
echo "reconnection works"

# Stopped on purpose (SIGTERM, as a guest shutting down does): the agent says
# goodbye first, so the tag is not reported failed while it waits, and a
# returning agent brings it back.
kill -TERM "$AGENT_PID"
bh_wait_for 20 grep -q "t1: the agent said goodbye" "$BH_TMP/compositor.log" ||
	bh_fail "the proxy heard no goodbye from a stopping agent: $(tail -3 "$BH_TMP/compositor.log")"
sleep 1
! "$CTL" tags | grep -q 't1.*failed' || bh_fail "a stopping agent was reported as a failure: $("$CTL" tags)"
start_agent
bh_wait_for 30 sh -c "'$CTL' tags | grep -q 't1.*running'" ||
	bh_fail "tag t1 did not come back after its agent's goodbye"
echo "a goodbye is not a failure"

# start while the proxy reconnects: it waits, and returns once t1 runs.
kill -9 "$AGENT_PID"
bh_wait_for 20 sh -c "'$CTL' tags | grep -q 't1.*failed'" ||
	bh_fail "tag t1 was not reported failed after the agent died again"
"$CTL" start t1 >"$BH_TMP/start.out" 2>&1 &
start_pid=$!
sleep 2
kill -0 "$start_pid" 2>/dev/null ||
	bh_fail "start gave up on a reconnecting tag: $(cat "$BH_TMP/start.out")"
start_agent
wait "$start_pid" || bh_fail "start on a reconnecting tag failed: $(cat "$BH_TMP/start.out")"
grep -qx "tag t1: started" "$BH_TMP/start.out" || bh_fail "start said: $(cat "$BH_TMP/start.out")"
[ "$("$CTL" exec t1 -- echo back)" = back ] || bh_fail "exec failed after start waited"
echo "start waits for a reconnecting tag"
