#!/bin/bash
# The unit and relay suites again, from the sanitizer build
# (tests/sanitizer-lib.sh): agent, proxy, compositor, bulkheadctl,
# relay-host, the evil agent, the test clients and every unit and relay test
# program are built with AddressSanitizer, LeakSanitizer and UBSan. A failed
# test or any report from any of those processes fails this test.
#
# The proxy's seccomp sandbox and LeakSanitizer do not mix: the leak check
# at exit stops the process's threads from a helper it clones and traces
# (clone, ptrace, prctl, reading /proc), which the allowlist rightly
# refuses, so a sandboxed proxy would die at exit on a "forbidden system
# call" instead of reporting. Widening the allowlist in sanitized builds
# would test a different sandbox from the one shipped. So the suites run
# with BULKHEAD_PROXY_SANDBOX=0 and every leak check on, and test-sandbox.sh
# runs again on its own with the sandbox on and only leak detection off:
# the sanitized proxy must still live inside the allowlist, and a memory
# error in it still ends it (its report cannot be written there, which shows
# as a forbidden system call that test fails on).
. "$BH_SOURCE_ROOT/tests/lib.sh"
. "$BH_SOURCE_ROOT/tests/sanitizer-lib.sh"
bh_need meson ninja python3
start=$SECONDS
san_build asan-relay-build
echo "sanitizer build: $((SECONDS - start)) s"
san_env

mapfile -t tests < <(meson test -C "$BH_ASAN" --no-rebuild --list --suite unit --suite relay 2>/dev/null |
	sed -n 's|^[^ ]* / ||p' | grep -v -x -e test-asan-relay.sh -e test-sandbox.sh)
[ "${#tests[@]}" -ge 20 ] || bh_fail "only ${#tests[@]} unit and relay tests found in $BH_ASAN"

# run LABEL TEST...: the tests in the sanitizer build; prints each result.
# A test that fails is run once more: the sanitizers slow everything down
# several times, and on a busy machine that alone can make a timed step
# miss. Failing twice fails this test; a sanitizer report fails it
# whichever run wrote it.
failed=0
run() {
	local label=$1 log=$BH_ASAN/meson-logs/testlog.json again status
	shift
	meson test -C "$BH_ASAN" --no-rebuild --num-processes 1 --timeout-multiplier 3 "$@" \
		>"$SAN_REPORTS/$label.out" 2>&1
	status=$?
	mapfile -t again < <(results "$log" "$label")
	if [ "${#again[@]}" = 0 ]; then
		[ "$status" = 0 ] || { tail -5 "$SAN_REPORTS/$label.out"; failed=1; }
		return
	fi
	echo "running again: ${again[*]}"
	meson test -C "$BH_ASAN" --no-rebuild --num-processes 1 --timeout-multiplier 3 "${again[@]}" \
		>"$SAN_REPORTS/$label-again.out" 2>&1
	status=$?
	mapfile -t again < <(results "$log" "$label, second run")
	[ "${#again[@]}" = 0 ] && [ "$status" = 0 ] || failed=1
}

# results LOG LABEL: prints each result of a meson test log to stderr and
# the names of the failed tests to stdout.
results() {
	python3 - "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    ok = r["result"] == "OK"
    print(f"sanitized {r['name']} ({sys.argv[2]}): {'passed' if ok else r['result']} in {r['duration']:.1f} s",
          file=sys.stderr)
    if not ok:
        for k in ("stdout", "stderr"):
            for t in (r.get(k) or "").strip().splitlines()[-8:]:
                print("    " + t, file=sys.stderr)
        print(r["name"].split(" / ", 1)[-1])
PY
}

start=$SECONDS
BULKHEAD_PROXY_SANDBOX=0 run unsandboxed "${tests[@]}"
ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0} run sandboxed test-sandbox.sh
echo "sanitized run: ${#tests[@]} + 1 tests in $((SECONDS - start)) s"
san_check "the unit and relay tests"
[ "$failed" = 0 ] || bh_fail "a unit or relay test failed under the sanitizers"
echo "PASS: no ASan, LSan or UBSan report in the unit and relay tests"
