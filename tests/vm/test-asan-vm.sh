#!/bin/bash
# The VM tests with both sides sanitized (tests/sanitizer-lib.sh): the
# compositor, every proxy it starts and bulkheadctl on the host, and the
# agent inside the tiny guest (guest/build-tiny-guest.sh --agent with the
# sanitizer build's agent), all with AddressSanitizer, LeakSanitizer and
# UBSan. It runs the end-to-end test (guest windows, exec, push and pull,
# a killed qemu) and the hostile host cases against the agent in a VM
# (tests/vm/test-evil-host.sh). A report of a host process fails it, and
# so does one of the agent's, read back from the guest consoles (saved
# before each restart and at the end, after the stop made the agent check
# for leaks); the guest's sanitizer frames are resolved on the host.
# The proxy runs unsandboxed for LeakSanitizer, as in
# tests/relay/test-asan-relay.sh, which says why.
# BH_ASAN_PLANT=1 plants a report in a copy of a console, to see the check
# fail.
. "$BH_SOURCE_ROOT/tests/lib.sh"
. "$BH_SOURCE_ROOT/tests/sanitizer-lib.sh"
bh_need meson ninja
start=$SECONDS
san_build asan-vm-build compositor/bulkhead proxy/bulkhead-proxy cli/bulkheadctl \
	guest-agent/bulkhead-agent tests/vm/channel_exec tests/relay/evil-host
echo "sanitizer build: $((SECONDS - start)) s"
for b in compositor/bulkhead proxy/bulkhead-proxy cli/bulkheadctl guest-agent/bulkhead-agent; do
	ldd "$BH_ASAN/$b" | grep -q libasan || bh_fail "$BH_ASAN/$b is not built with AddressSanitizer"
done
# The guest's other programs (foot, the benchmark and X clients) are the
# normal build's; only the agent is sanitized.
tiny=$BH_BUILD_ROOT/guest/tiny-asan
BH_BUILD=$BH_BUILD_ROOT "$BH_SOURCE_ROOT/guest/build-tiny-guest.sh" \
	--agent "$BH_ASAN/guest-agent/bulkhead-agent" "$tiny" >&2 ||
	bh_fail "building the tiny test guest with the sanitized agent failed"
chmod -R a+rX "$tiny" "$BH_ASAN"
san_env
consoles=$SAN_REPORTS/consoles
mkdir -m 1777 "$consoles"

# Leaks are checked once each process ends; the test's own kill -9 of qemu
# is a fault of the VM, not of these processes. A failed test is reported
# after the reports are looked at: a crash's report says more than its
# symptom.
failed=
run_vm_test() {
	local name=$1 status
	BH_BUILD_ROOT=$BH_ASAN BH_TINY_GUEST_DIR=$tiny BULKHEAD_PROXY_SANDBOX=0 \
		BH_CONSOLE_OUT=$consoles "$BH_SOURCE_ROOT/tests/vm/$name.sh" >"$SAN_REPORTS/$name.out" 2>&1
	status=$?
	tail -5 "$SAN_REPORTS/$name.out"
	[ "$status" = 0 ] ||
		failed="$failed; $name failed with both sides sanitized: $(grep FAIL "$SAN_REPORTS/$name.out" | tail -2)"
}
run_vm_test test-e2e
run_vm_test test-evil-host
san_check "the end-to-end VM test and the hostile host cases"
if [ -n "${BH_ASAN_PLANT:-}" ]; then
	# A real report's first lines, as the guest writes them, in a copy.
	log=$(ls "$consoles"/*.log | head -1)
	cp "$log" "$consoles/planted.exit.log"
	printf '%s\n' "==123==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000011" \
		"    #0 0x55d1c2 (/bin/bulkhead-agent+0x4f2a1)" >>"$consoles/planted.exit.log"
fi
san_check_guest "$consoles" "$BH_ASAN/guest-agent/bulkhead-agent"
[ -z "$failed" ] || bh_fail "${failed#; }"
echo "PASS: no ASan, LSan or UBSan report from the host's processes or the agent in the VMs"
