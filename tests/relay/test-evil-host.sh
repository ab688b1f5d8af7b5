#!/bin/bash
# A hostile host against the real agent on a unix socket (the evil host,
# tests/relay/evil-host.c): broken framing and stream bookkeeping end the
# channel, bad control, exec, push, pull and Wayland content end only its
# stream, the committed fuzz corpora of the agent's parsers are replayed,
# and the agent keeps serving an honest host; no push escapes its folder.
# tests/vm/test-evil-host.sh runs the same cases against the agent in a VM.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
bh_need weston-simple-shm
EVIL=$BH_BUILD_ROOT/tests/relay/evil-host
CORPUS=$BH_SOURCE_ROOT/tests/fuzz/corpus
mkdir -m 777 "$BH_TMP/push"
start_agent
"$EVIL" "unix:$CHANNEL" --wayland-client weston-simple-shm --push-dir "$BH_TMP/push" \
	--corpus agent "$CORPUS/fuzz_agent" --corpus exec "$CORPUS/fuzz_exec" \
	--corpus archive "$CORPUS/fuzz_archive" >"$BH_TMP/evil.out" 2>&1
status=$?
cat "$BH_TMP/evil.out"
[ "$status" = 0 ] || bh_fail "the agent did not handle every hostile host case (above)"
cases=$(grep -c '^ok ' "$BH_TMP/evil.out")
[ "$cases" -ge 35 ] || bh_fail "only $cases hostile host cases ran"
kill -0 "$AGENT_PID" 2>/dev/null || bh_fail "the agent died: $(tail -3 "$BH_TMP/agent.log")"
# Each refusal has its line in the agent's log.
for want in "before its hello" "host speaks version 2" "unknown control message 200"; do
	grep -q "$want" "$BH_TMP/agent.log" || bh_fail "the agent did not log: $want"
done
[ ! -e "$BH_TMP/escape" ] && [ ! -e /etc/evil ] || bh_fail "a push wrote outside its folder"
echo "PASS: $cases hostile host cases, the agent still serves"
