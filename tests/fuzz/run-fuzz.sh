#!/usr/bin/env bash
# Builds one libFuzzer target with clang (ASan + UBSan, build-fuzz.sh) and
# runs it for a bounded time on a copy of its committed seed corpus, with
# its dictionary. Prints the execution count; fails on any crash, leak or
# sanitizer report.
#   run-fuzz.sh TARGET SECONDS
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
bh_need clang pkg-config

target=$1
seconds=$2
src=$BH_SOURCE_ROOT
out=$BH_BUILD_ROOT/fuzz
"$(dirname "$0")/build-fuzz.sh" fuzz "$target" "$out" || exit 1
dict=()
[ -f "$out/$target.dict" ] && dict=(-dict="$out/$target.dict")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seeds=$src/tests/fuzz/corpus/$target
[ -d "$seeds" ] || bh_fail "no committed seed corpus at tests/fuzz/corpus/$target"

cd "$work"
"$out/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	"${dict[@]}" -print_final_stats=1 "$work" "$seeds" >"$work/log" 2>&1
status=$?
grep -E '^stat::number_of_executed_units|Done [0-9]+ runs' "$work/log" || true
if [ "$status" -ne 0 ]; then
	tail -n 60 "$work/log" >&2
	bh_fail "$target found a crash (exit $status)"
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
echo "$target: ${runs:-?} executions in ${seconds}s, no crash"
