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

# The guest's runtime dir is this run's own, also as root (guest apps as
# nobody): a concurrent run's agent, clients and leftovers are elsewhere.
run=$("$CTL" exec t1 -- sh -c 'echo "$XDG_RUNTIME_DIR"') || bh_fail "exec of echo failed"
[ "$run" = "$GUEST_RUN" ] || bh_fail "the guest's runtime dir is $run, not $GUEST_RUN"
case $run in "$BH_TMP"/*) ;; *) bh_fail "the guest's runtime dir $run is not this run's ($BH_TMP)" ;; esac
[ -S "$run/$GUEST_DISPLAY" ] || bh_fail "no guest socket $GUEST_DISPLAY in $run"
[ "$(stat -c %a "$run")" = 700 ] || bh_fail "the guest's runtime dir $run is mode $(stat -c %a "$run"), not 700"
echo "guest runtime dir: $run (this run's own)"

err=$("$CTL" exec t1 -- sh -c 'echo oops >&2' 2>&1 >/dev/null)
[ "$err" = oops ] || bh_fail "stderr came back as '$err'"

head -c $((10 * 1024 * 1024)) /dev/urandom >"$BH_TMP/in"
"$CTL" exec t1 -- cat <"$BH_TMP/in" | cat >"$BH_TMP/out" || bh_fail "exec cat failed"
cmp "$BH_TMP/in" "$BH_TMP/out" || bh_fail "10 MiB through exec came back different"
cat "$BH_TMP/in" | "$CTL" exec t1 -- sha256sum >"$BH_TMP/sum" || bh_fail "piped exec failed"
[ "$(cut -d' ' -f1 "$BH_TMP/sum")" = "$(sha256sum <"$BH_TMP/in" | cut -d' ' -f1)" ] ||
	bh_fail "the guest saw different bytes on stdin"

# A signal to bulkheadctl goes to the guest command, whose status comes back.
"$CTL" exec t1 -- sh -c 'trap "echo got-term; exit 9" TERM; echo up; sleep 30 & wait' \
	>"$BH_TMP/sig.out" &
ctl_pid=$!
bh_wait_for 10 grep -q up "$BH_TMP/sig.out" || bh_fail "the trapping command did not start"
kill -TERM "$ctl_pid"
wait "$ctl_pid"
status=$?
[ "$status" = 9 ] || bh_fail "exec ended $status after SIGTERM, expected the guest's 9"
grep -q got-term "$BH_TMP/sig.out" || bh_fail "the guest command did not get SIGTERM"

# The guest user (nobody in a root test run) writes where it may.
mkdir -m 777 "$BH_TMP/w"
pid=$("$CTL" run t1 -- touch "$BH_TMP/w/ran") || bh_fail "run failed"
[ "$pid" -gt 0 ] 2>/dev/null || bh_fail "run printed '$pid', not a pid"
bh_wait_for 10 test -e "$BH_TMP/w/ran" || bh_fail "run did not start the command"
# Arguments arrive as given: spaces and quotes stay inside their word.
"$CTL" run t1 -- touch "$BH_TMP/w/a b" "$BH_TMP/w/it's" >/dev/null || bh_fail "run failed"
bh_wait_for 10 test -e "$BH_TMP/w/a b" -a -e "$BH_TMP/w/it's" ||
	bh_fail "run split or mangled its arguments: $(ls "$BH_TMP/w")"
[ ! -e "$BH_TMP/w/a" ] || bh_fail "run split an argument at its space"
# The printed pid is the launched command's (the "guest" is this machine).
pid=$("$CTL" run t1 -- sleep 4242) || bh_fail "run sleep failed"
# (It is printed once forked; the exec follows a moment later.)
bh_wait_for 5 sh -c "tr '\\0' ' ' <'/proc/$pid/cmdline' | grep -q 4242" ||
	bh_fail "pid $pid is not the launched command: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
kill "$pid"
# Outside a session a tag without proxy is an error (inside one, the
# compositor starts it: tests/compositor/test-session.sh).
env -u BULKHEAD_SOCKET "$CTL" run nosuchtag -- true 2>"$BH_TMP/err" &&
	bh_fail "run on a tag without proxy succeeded"
grep -q "tag nosuchtag: not running" "$BH_TMP/err" || bh_fail "unclear error: $(cat "$BH_TMP/err")"
# Each bulkheadctl command ends its control connection: that is no warning
# in the session's log.
! grep -q "warn.*channel closed: the peer closed" "$BH_TMP/compositor.log" ||
	bh_fail "the session log warns at every bulkheadctl command: $(grep -m1 'channel closed' "$BH_TMP/compositor.log")"
echo "exec and run work"
