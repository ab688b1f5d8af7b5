#!/bin/bash
# Killing the agent: the tag is reported failed, and a restarted agent makes
# it running again with exec working.
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
