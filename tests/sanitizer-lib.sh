# The sanitizer build shared by the tests that rerun others with it:
# AddressSanitizer, LeakSanitizer and UBSan, in $BH_BUILD_ROOT-asan beside
# the normal build (BH_ASAN_BUILD names another), configured and updated by
# whichever test needs it first. Every report any process writes fails the
# test that ran it. Source it after tests/lib.sh.
BH_ASAN=${BH_ASAN_BUILD:-$BH_BUILD_ROOT-asan}

# san_build LOG [TARGET...]: configures the build when it has not been, then
# builds the targets (everything when none are given), logging to
# $BH_BUILD_ROOT/LOG-setup.log and LOG.log.
san_build() {
	local log=$BH_BUILD_ROOT/$1
	shift
	if [ ! -f "$BH_ASAN/build.ninja" ]; then
		meson setup "$BH_ASAN" "$BH_SOURCE_ROOT" -Db_sanitize=address,undefined -Db_lundef=false \
			-Dbuildtype=debug >"$log-setup.log" 2>&1 ||
			bh_fail "cannot configure the sanitizer build: $(tail -3 "$log-setup.log")"
	fi
	ninja -C "$BH_ASAN" "$@" >"$log.log" 2>&1 ||
		bh_fail "the sanitizer build failed: $(tail -5 "$log.log")"
}

# san_env: exports the sanitizers' options; each process writes its reports
# to its own file in SAN_REPORTS, removed at exit. Guest programs run as
# another user in a root test run, so anyone may add a file there.
san_env() {
	SAN_REPORTS=$(mktemp -d "${TMPDIR:-/tmp}/bh-asan.XXXXXX")
	chmod 1777 "$SAN_REPORTS"
	trap 'rm -rf "$SAN_REPORTS"' EXIT
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0:log_path=$SAN_REPORTS/asan"
	export LSAN_OPTIONS="suppressions=$BH_SOURCE_ROOT/tests/compositor/lsan.supp:print_suppressions=0"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0:log_path=$SAN_REPORTS/ubsan"
}

# san_check WHAT: fails, showing the start of each, when any report was
# written.
san_check() {
	local found f
	found=$(ls "$SAN_REPORTS" | grep -E '^(asan|ubsan)\.' || true)
	if [ -n "$found" ]; then
		for f in $found; do
			echo "== $f" >&2
			head -40 "$SAN_REPORTS/$f" >&2
		done
		bh_fail "sanitizer reports in $1 (above)"
	fi
}

# san_check_guest DIR AGENT: DIR holds the consoles (TAG.LABEL.log) of tiny
# guests whose agent is the sanitized AGENT; fails when any holds a report
# (shown with the agent's frames resolved on the host), and when none was
# saved or one shows no sanitized agent starting (nothing could be seen).
SAN_REPORT_RE='ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer'
san_check_guest() {
	local dir=$1 agent=$2 f n found=0
	n=$(ls "$dir"/*.log 2>/dev/null | wc -l)
	[ "$n" -gt 0 ] || bh_fail "no guest console was saved: the agent's sanitizer reports cannot be read"
	for f in "$dir"/*.log; do
		grep -q "starting the agent (sanitized" "$f" ||
			bh_fail "$(basename "$f"): the guest did not start a sanitized agent: $(tail -3 "$f")"
		if grep -q -E "$SAN_REPORT_RE" "$f"; then
			found=1
			echo "== $(basename "$f")" >&2
			grep -A40 -E "$SAN_REPORT_RE" "$f" | head -80 | san_symbolize "$agent" >&2
		fi
	done
	[ "$found" = 0 ] || bh_fail "sanitizer reports from the agent in the guest (above)"
	echo "guest consoles: $n read, no sanitizer report from the agent"
}

# san_symbolize AGENT: copies its input, adding to each frame in the
# guest's agent (/bin/bulkhead-agent+0xOFFSET) the function and line.
san_symbolize() {
	local line off
	while IFS= read -r line; do
		off=$(echo "$line" | sed -n 's|.*(/bin/bulkhead-agent+\(0x[0-9a-f]*\)).*|\1|p')
		if [ -n "$off" ] && command -v addr2line >/dev/null; then
			line="$line $(addr2line -f -C -p -e "$1" "$off" 2>/dev/null)"
		fi
		printf '%s\n' "$line"
	done
}
