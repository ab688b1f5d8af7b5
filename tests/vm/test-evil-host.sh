#!/bin/bash
# The hostile host cases (tests/relay/evil-host.c) against the agent inside
# a tiny guest, on the VM's own serial channel (no proxy: `bulkheadctl
# start` without a session boots the VM and leaves the channel free): the
# agent refuses each as protocols/CHANNEL.md says, its port reopens after
# every broken channel, and afterwards it still runs commands and shuts
# down cleanly at the stop. The console is checked for the
# agent exiting on its own. test-asan-vm.sh runs it with the sanitized
# agent (BH_TINY_GUEST_DIR) and reads the console it leaves in
# BH_CONSOLE_OUT for sanitizer reports.
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
EVIL=$BH_BUILD_ROOT/tests/relay/evil-host
CORPUS=$BH_SOURCE_ROOT/tests/fuzz/corpus
[ -x "$EVIL" ] || bh_fail "no evil host at $EVIL: build first"
"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"
printf '[tag evil]\nmemory = 512\n' >"$XDG_CONFIG_HOME/bulkhead/config"
start=$SECONDS
"$CTL" start evil >"$BH_TMP/start.out" 2>&1 || bh_fail "start evil failed: $(cat "$BH_TMP/start.out")"
echo "evil: booted in $((SECONDS - start)) s"
channel=$("$CTL" status --json evil | sed -n 's/.*"channel":"\([^"]*\)".*/\1/p')
[ -n "$channel" ] || bh_fail "tag evil has no channel: $("$CTL" status evil 2>&1)"
console=$XDG_STATE_HOME/bulkhead/tags/evil/console.log
client=foot
guest_sh evil 'command -v foot' >/dev/null || client=
start=$SECONDS
timeout 900 "$EVIL" "$channel" ${client:+--wayland-client "$client"} \
	--corpus agent "$CORPUS/fuzz_agent" --corpus exec "$CORPUS/fuzz_exec" \
	--corpus archive "$CORPUS/fuzz_archive" >"$BH_TMP/evil.out" 2>&1
status=$?
cat "$BH_TMP/evil.out"
echo "evil host cases: $((SECONDS - start)) s"
[ "$status" = 0 ] || bh_fail "the agent in the VM did not handle every hostile host case (above)"
cases=$(grep -c '^ok ' "$BH_TMP/evil.out")
[ "$cases" -ge 30 ] || bh_fail "only $cases hostile host cases ran"
# Honest use afterwards.
[ "$(guest_sh evil 'echo alive')" = alive ] || bh_fail "the agent runs no command after the cases"
for want in "before its hello" "host speaks version 2" "unknown control message 200"; do
	grep -q "$want" "$console" || bh_fail "the agent did not log: $want"
done
[ "$(guest_sh evil 'ls /tmp/escape /etc/evil 2>/dev/null | wc -l')" = 0 ] ||
	bh_fail "a push wrote outside its folder in the guest"
"$CTL" stop evil >/dev/null || bh_fail "stop evil failed"
if grep -E "the agent exited \([1-9]" "$console"; then
	bh_fail "the agent in the VM exited on its own during the cases (above)"
fi
echo "PASS: $cases hostile host cases against the agent in a VM"
