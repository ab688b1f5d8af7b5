#!/bin/bash
# The end-to-end VM test again with the host's side from the sanitizer build
# (tests/sanitizer-lib.sh): the compositor, every proxy it starts and
# bulkheadctl are built with AddressSanitizer, LeakSanitizer and UBSan, and
# any report of theirs fails this test. The guest is the normal tiny guest:
# its agent runs inside the VM (the relay suite's sanitized run covers the
# agent's code). The proxy runs unsandboxed for LeakSanitizer, as in
# tests/relay/test-asan-relay.sh, which says why.
. "$BH_SOURCE_ROOT/tests/lib.sh"
. "$BH_SOURCE_ROOT/tests/sanitizer-lib.sh"
bh_need meson ninja
start=$SECONDS
san_build asan-vm-build compositor/bulkhead proxy/bulkhead-proxy cli/bulkheadctl \
	tests/vm/channel_exec
echo "sanitizer build: $((SECONDS - start)) s"
for b in compositor/bulkhead proxy/bulkhead-proxy cli/bulkheadctl; do
	ldd "$BH_ASAN/$b" | grep -q libasan || bh_fail "$BH_ASAN/$b is not built with AddressSanitizer"
done
tiny=$BH_BUILD_ROOT/guest/tiny
BH_BUILD=$BH_BUILD_ROOT "$BH_SOURCE_ROOT/guest/build-tiny-guest.sh" "$tiny" >&2 ||
	bh_fail "building the tiny test guest failed"
chmod -R a+rX "$tiny" "$BH_ASAN"
san_env
# Leaks are checked once each process ends; the test's own kill -9 of qemu
# is a fault of the VM, not of these processes.
BH_BUILD_ROOT=$BH_ASAN BH_TINY_GUEST_DIR=$tiny BULKHEAD_PROXY_SANDBOX=0 \
	"$BH_SOURCE_ROOT/tests/vm/test-e2e.sh" >"$SAN_REPORTS/e2e.out" 2>&1
status=$?
tail -5 "$SAN_REPORTS/e2e.out"
[ "$status" = 0 ] || bh_fail "the end-to-end test failed with the sanitized host: $(grep FAIL "$SAN_REPORTS/e2e.out" | tail -2)"
san_check "the end-to-end VM test"
echo "PASS: no ASan, LSan or UBSan report from the compositor, proxies or bulkheadctl with real VMs"
