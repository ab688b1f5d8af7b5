#!/usr/bin/env bash
# Runs every test suite and prints one closing line: N passed, N failed[, N skipped].
# In CI (CI set) a skipped test counts as failed: CI installs every tool.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
build=${BH_BUILD:-build}
jobs=${BH_TEST_JOBS:-2}

meson test -C "$build" --print-errorlogs --num-processes "$jobs" \
	--timeout-multiplier "${BH_TIMEOUT_MULTIPLIER:-1}" "$@"
meson_status=$?

python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, os, sys
passed = failed = skipped = 0
names = []
try:
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            res = r.get("result")
            if res in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif res == "SKIP":
                if os.environ.get("CI"):
                    failed += 1
                    names.append(r["name"] + " (skipped in CI)")
                else:
                    skipped += 1
            else:
                failed += 1
                names.append(r["name"] + " (" + str(res) + ")")
except FileNotFoundError:
    failed += 1
    names.append("no test log: the test run did not start")
for n in names:
    print("failed:", n)
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
PY
count_status=$?
if [ "$count_status" -ne 0 ] || [ "$meson_status" -ne 0 ]; then
	exit 1
fi
exit 0
