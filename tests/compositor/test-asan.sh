#!/bin/bash
# The compositor tests again, with the compositor built with AddressSanitizer, LeakSanitizer and UBSan: every sanitizer
# report fails this test. The instrumented build lives in build-asan/ beside
# the normal one and is made (or updated) here.
. "$BH_SOURCE_ROOT/tests/lib.sh"
bh_need meson ninja
asan=${BH_ASAN_BUILD:-$BH_BUILD_ROOT-asan}
if [ ! -f "$asan/build.ninja" ]; then
	meson setup "$asan" "$BH_SOURCE_ROOT" -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug >"$BH_BUILD_ROOT/asan-setup.log" 2>&1 ||
		bh_fail "cannot configure the sanitizer build: $(tail -3 "$BH_BUILD_ROOT/asan-setup.log")"
fi
ninja -C "$asan" compositor/bulkhead >"$BH_BUILD_ROOT/asan-build.log" 2>&1 ||
	bh_fail "the sanitizer build failed: $(tail -5 "$BH_BUILD_ROOT/asan-build.log")"
reports=$(mktemp -d "${TMPDIR:-/tmp}/bh-asan.XXXXXX")
trap 'rm -rf "$reports"' EXIT
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0:log_path=$reports/asan"
export LSAN_OPTIONS="suppressions=$BH_SOURCE_ROOT/tests/compositor/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0:log_path=$reports/ubsan"
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
found=$(ls "$reports" | grep -E '^(asan|ubsan)\.' || true)
if [ -n "$found" ]; then
	for f in $found; do
		echo "== $f" >&2
		head -40 "$reports/$f" >&2
	done
	bh_fail "sanitizer reports (above)"
fi
[ "$failed" = 0 ] || bh_fail "a compositor test failed under the sanitizers"
echo "PASS: no ASan, LSan or UBSan report in the compositor tests"
