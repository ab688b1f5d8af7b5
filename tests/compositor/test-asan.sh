#!/bin/bash
# The compositor tests again, with the compositor built with AddressSanitizer, LeakSanitizer and UBSan: every sanitizer
# report fails this test. The instrumented build (tests/sanitizer-lib.sh)
# lives beside the normal one and is made (or updated) here.
. "$BH_SOURCE_ROOT/tests/lib.sh"
. "$BH_SOURCE_ROOT/tests/sanitizer-lib.sh"
bh_need meson ninja
asan=$BH_ASAN
san_build asan-build compositor/bulkhead
san_env
reports=$SAN_REPORTS
failed=0
for t in test-frames.sh test-globals.sh test-keys.sh test-config.sh test-isolation.sh \
	test-clipboard-chord.sh test-mouse.sh test-session.sh test-windows.sh test-popups.sh test-floods.sh; do
	if BH_COMPOSITOR=$asan/compositor/bulkhead "$BH_SOURCE_ROOT/tests/compositor/$t" \
		>"$reports/$t.out" 2>&1; then
		echo "sanitized $t: passed"
	else
		echo "sanitized $t: FAILED: $(tail -3 "$reports/$t.out")"
		failed=1
	fi
done
san_check "the compositor tests"
[ "$failed" = 0 ] || bh_fail "a compositor test failed under the sanitizers"
echo "PASS: no ASan, LSan or UBSan report in the compositor tests"
