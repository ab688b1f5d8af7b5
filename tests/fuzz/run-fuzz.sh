#!/usr/bin/env bash
# Builds one libFuzzer target with clang (ASan + UBSan) and runs it for a
# bounded time on a copy of its committed seed corpus. Prints the execution
# count; fails on any crash, leak or sanitizer report.
#   run-fuzz.sh TARGET SECONDS
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
bh_need clang pkg-config

target=$1
seconds=$2
src=$BH_SOURCE_ROOT
build=$BH_BUILD_ROOT
out=$build/fuzz
mkdir -p "$out"

# Generated protocol code comes from the main build.
protocol_code=("$build"/protocols/*-protocol.c)
[ -e "${protocol_code[0]}" ] || bh_fail "generated protocol code missing in $build/protocols: build first"

extra_sources=()
[ -f "$src/tests/fuzz/$target.sources" ] && mapfile -t extra_sources < <(sed "s|^|$src/|" "$src/tests/fuzz/$target.sources")

# shellcheck disable=SC2046
if ! clang -g -O1 -std=c11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -DWLR_USE_UNSTABLE -DBH_VERSION='"fuzz"' \
	-I"$src" -I"$build" -I"$build/protocols" \
	"$src/tests/fuzz/$target.c" "$src"/common/*.c "${extra_sources[@]}" "${protocol_code[@]}" \
	$(pkg-config --cflags --libs wayland-client wayland-server json-c inih liblz4 xcb xcb-composite xcb-xfixes) \
	-o "$out/$target" 2>"$out/$target.build.log"; then
	cat "$out/$target.build.log" >&2
	bh_fail "could not build $target with clang"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seeds=$src/tests/fuzz/corpus/$target
[ -d "$seeds" ] || bh_fail "no committed seed corpus at tests/fuzz/corpus/$target"

cd "$work"
"$out/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 "$work" "$seeds" >"$work/log" 2>&1
status=$?
grep -E '^stat::number_of_executed_units|Done [0-9]+ runs' "$work/log" || true
if [ "$status" -ne 0 ]; then
	tail -n 60 "$work/log" >&2
	bh_fail "$target found a crash (exit $status)"
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
echo "$target: ${runs:-?} executions in ${seconds}s, no crash"
