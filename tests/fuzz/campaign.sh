#!/usr/bin/env bash
# A fuzzing campaign: every libFuzzer target in turn with -fork on all the
# machine's cores, for MINUTES of fuzzing in all (shared by weight, below),
# then
#   - the new inputs merged into the committed corpus (tests/fuzz/corpus/
#     TARGET): only those that add coverage, so it stays small;
#   - crashes kept as artifacts and added to the corpus, so the suite's
#     bounded runs replay them from then on;
#   - a table per target (executions, coverage before and after, crashes)
#     and one per parser source (line and branch coverage, from a
#     -fprofile-instr-generate -fcoverage-mapping build run over the
#     merged corpus), printed and written to OUT/summary.md.
# Not part of the test suite: it runs for as long as it is told to.
#   campaign.sh MINUTES
# Environment: CAMPAIGN_TARGETS (default: every target), CAMPAIGN_JOBS
# (default: nproc), CAMPAIGN_WEIGHTS (e.g. "fuzz_channel=8 fuzz_relay=2",
# instead of the weights below), CAMPAIGN_OUT (default: BUILD/fuzz-campaign),
# CAMPAIGN_NO_MERGE=1 leaves the committed corpus alone.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
bh_need clang llvm-profdata llvm-cov python3

usage() {
	echo "usage: $0 MINUTES" >&2
	exit 2
}
[ $# -eq 1 ] || usage
case $1 in
'' | *[!0-9]*) usage ;;
esac
minutes=$1
[ "$minutes" -gt 0 ] || usage

src=$BH_SOURCE_ROOT
here=$src/tests/fuzz
targets=(${CAMPAIGN_TARGETS:-fuzz_agent fuzz_archive fuzz_channel fuzz_exec fuzz_link_hub fuzz_relay fuzz_wl_msg})
jobs=${CAMPAIGN_JOBS:-$(nproc)}
out=${CAMPAIGN_OUT:-$BH_BUILD_ROOT/fuzz-campaign}
# The parsers of guest (and host) data whose coverage is reported.
parser_sources=(common/channel.c common/endpoint.c common/wl_wire.c common/archive.c
	common/exec_msg.c proxy/relay_host.c proxy/shm.c guest-agent/agent.c link-hub/hub.c)

rm -rf "$out"
mkdir -p "$out/bin" "$out/cov-bin" "$out/profiles"
out=$(cd "$out" && pwd)
echo "building ${#targets[@]} targets (ASan + UBSan, and coverage) into $out"
for t in "${targets[@]}"; do
	[ -d "$here/corpus/$t" ] || bh_fail "no committed corpus at tests/fuzz/corpus/$t"
	"$here/build-fuzz.sh" fuzz "$t" "$out/bin" || exit 1
	"$here/build-fuzz.sh" coverage "$t" "$out/cov-bin" || exit 1
done

# Time is shared by weight: the targets whose inputs cost system calls
# (sockets, files) get more of it, so that each one reaches depth.
weight() {
	local w
	for w in ${CAMPAIGN_WEIGHTS:-}; do
		[ "${w%%=*}" = "$1" ] && echo "${w#*=}" && return
	done
	case $1 in
	fuzz_archive) echo 6 ;;
	fuzz_channel | fuzz_relay) echo 4 ;;
	fuzz_wl_msg) echo 2 ;;
	*) echo 1 ;;
	esac
}
total_weight=0
for t in "${targets[@]}"; do
	total_weight=$((total_weight + $(weight "$t")))
done
started=$(date -u '+%Y-%m-%d %H:%M UTC')
status=0
: >"$out/targets.tsv"

# The last "#N: cov: C ft: F corp: K exec/s: E …" line of fork mode has the
# executions of all its jobs.
field() {
	sed -n "s/.*$1 \([0-9]*\).*/\1/p"
}

# Coverage of a corpus, "EDGES FEATURES": what libFuzzer finds when it runs
# every input of it once.
corpus_cov() {
	local line
	line=$("$out/bin/$1" -runs=0 -timeout=10 -rss_limit_mb=2048 "$2" 2>&1 | grep -m1 'INITED')
	echo "$(echo "$line" | field cov:) $(echo "$line" | field ft:)"
}

for t in "${targets[@]}"; do
	dir=$out/$t
	mkdir -p "$dir/corpus" "$dir/crashes"
	seconds=$((minutes * 60 * $(weight "$t") / total_weight))
	[ "$seconds" -ge 10 ] || seconds=10
	dict=()
	[ -f "$out/bin/$t.dict" ] && dict=(-dict="$out/bin/$t.dict")
	echo "== $t: ${seconds}s on $jobs jobs"
	before=$(ls "$here/corpus/$t" | wc -l)
	read -r cov0 ft0 < <(corpus_cov "$t" "$here/corpus/$t")
	(cd "$dir" && "$out/bin/$t" -fork="$jobs" -ignore_crashes=1 -ignore_ooms=1 \
		-ignore_timeouts=1 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		"${dict[@]}" -artifact_prefix="$dir/crashes/" -print_final_stats=1 \
		"$dir/corpus" "$here/corpus/$t" >"$dir/fuzz.log" 2>&1)
	last=$(grep -E '^#[0-9]+: cov:' "$dir/fuzz.log" | tail -n 1)
	execs=$(echo "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
	crashes=$(find "$dir/crashes" -type f -name 'crash-*' | wc -l)
	problems=$(find "$dir/crashes" -type f \( -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	if [ -z "$execs" ]; then
		tail -n 30 "$dir/fuzz.log" >&2
		bh_fail "$t: the fuzzer did not run (log: $dir/fuzz.log)"
	fi

	# Crashes (and leaks, timeouts, out-of-memory inputs) go into the
	# corpus, where the suite's bounded run replays them; every one of
	# them must be fixed before the corpus is committed.
	for f in "$dir"/crashes/*; do
		[ -f "$f" ] || continue
		cp "$f" "$here/corpus/$t/regress-$(basename "$f")"
		status=1
	done
	added=0
	if [ -z "${CAMPAIGN_NO_MERGE:-}" ]; then
		# Only inputs that add coverage to what is committed are kept.
		(cd "$dir" && "$out/bin/$t" -merge=1 -timeout=10 -rss_limit_mb=2048 \
			"$here/corpus/$t" "$dir/corpus" >"$dir/merge.log" 2>&1) ||
			bh_fail "$t: merging the corpus failed (log: $dir/merge.log)"
		added=$(($(ls "$here/corpus/$t" | wc -l) - before))
	fi
	# (without the merge: the committed corpus and what the run found)
	if [ -z "${CAMPAIGN_NO_MERGE:-}" ]; then
		read -r cov1 ft1 < <(corpus_cov "$t" "$here/corpus/$t")
	else
		cp -n "$here/corpus/$t"/* "$dir/corpus/" 2>/dev/null
		read -r cov1 ft1 < <(corpus_cov "$t" "$dir/corpus")
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$seconds" "$execs" "$cov0" "$cov1" \
		"$ft0 $ft1" "$crashes" "$problems" "$added" >>"$out/targets.tsv"
	echo "$t: $execs executions, coverage $cov0 -> $cov1 edges ($ft0 -> $ft1 features), $crashes crashes, $problems leaks/timeouts/ooms, $added inputs added to the corpus"

	# Coverage of the merged corpus, by the coverage build.
	(cd "$dir" && LLVM_PROFILE_FILE="$out/profiles/$t.profraw" "$out/cov-bin/$t" -runs=0 \
		-timeout=10 -rss_limit_mb=2048 "$here/corpus/$t" >"$dir/coverage.log" 2>&1) ||
		echo "$t: the coverage run failed (log: $dir/coverage.log)" >&2
done

llvm-profdata merge -sparse "$out"/profiles/*.profraw -o "$out/campaign.profdata" ||
	bh_fail "could not merge the coverage profiles"
objects=()
for t in "${targets[@]}"; do
	objects+=(-object "$out/cov-bin/$t")
done
llvm-cov export -summary-only -instr-profile="$out/campaign.profdata" "${objects[@]}" \
	>"$out/coverage.json" || bh_fail "llvm-cov could not read the coverage"

python3 - "$out" "$src" "$started" "$minutes" "$jobs" "${parser_sources[@]}" <<'EOF'
import json, os, sys
out, src, started, minutes, jobs = sys.argv[1:6]
sources = sys.argv[6:]
rows = [l.rstrip('\n').split('\t') for l in open(os.path.join(out, 'targets.tsv'))]
lines = []
lines.append(f'Campaign of {started}: `tests/fuzz/campaign.sh {minutes}` on {jobs} jobs.')
lines.append('')
lines.append('| target | seconds | executions | exec/s | coverage (edges) | features | crashes | leaks/timeouts/ooms | inputs added |')
lines.append('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
for t, secs, execs, c0, c1, ft, crashes, problems, added in rows:
    rate = int(execs) // max(1, int(secs))
    ft0, ft1 = ft.split()
    lines.append(f'| {t} | {secs} | {int(execs):,} | {rate:,} | {c0} → {c1} | {ft0} → {ft1} | {crashes} | {problems} | {added} |')
files = {}
for data in json.load(open(os.path.join(out, 'coverage.json')))['data']:
    for f in data['files']:
        files[os.path.relpath(f['filename'], src)] = f['summary']
lines.append('')
lines.append('| parser source | lines | line coverage | branches | branch coverage |')
lines.append('|---|---:|---:|---:|---:|')
for s in sources:
    if s not in files:
        lines.append(f'| {s} | – | not built into any target | – | – |')
        continue
    l, b = files[s]['lines'], files[s]['branches']
    lines.append(f"| {s} | {l['covered']}/{l['count']} | {l['percent']:.1f}% | {b['covered']}/{b['count']} | {b['percent']:.1f}% |")
text = '\n'.join(lines) + '\n'
open(os.path.join(out, 'summary.md'), 'w').write(text)
print()
print(text)
EOF
if [ "$status" -ne 0 ]; then
	echo "FAIL: the campaign found crashes: reproducers are in tests/fuzz/corpus/*/regress-* (details in $out/*/fuzz.log)" >&2
fi
exit "$status"
