#!/bin/bash
# bulkheadctl exec/run through the proxy and the agent: output, exit status,
# 10 MiB both ways byte for byte, and a detached run.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
start_agent
start_compositor
spawn_tag

out=$("$CTL" exec t1 -- sh -c 'echo hi; exit 3')
status=$?
[ "$out" = hi ] || bh_fail "exec printed '$out', expected 'hi'"
[ "$status" = 3 ] || bh_fail "exec exited $status, expected 3"

err=$("$CTL" exec t1 -- sh -c 'echo oops >&2' 2>&1 >/dev/null)
[ "$err" = oops ] || bh_fail "stderr came back as '$err'"

head -c $((10 * 1024 * 1024)) /dev/urandom >"$BH_TMP/in"
"$CTL" exec t1 -- cat <"$BH_TMP/in" | cat >"$BH_TMP/out" || bh_fail "exec cat failed"
cmp "$BH_TMP/in" "$BH_TMP/out" || bh_fail "10 MiB through exec came back different"
cat "$BH_TMP/in" | "$CTL" exec t1 -- sha256sum >"$BH_TMP/sum" || bh_fail "piped exec failed"
[ "$(cut -d' ' -f1 "$BH_TMP/sum")" = "$(sha256sum <"$BH_TMP/in" | cut -d' ' -f1)" ] ||
	bh_fail "the guest saw different bytes on stdin"

# The guest user (nobody in a root test run) writes where it may.
mkdir -m 777 "$BH_TMP/w"
"$CTL" run t1 -- touch "$BH_TMP/w/ran" || bh_fail "run failed"
bh_wait_for 10 test -e "$BH_TMP/w/ran" || bh_fail "run did not start the command"
echo "exec and run work"
