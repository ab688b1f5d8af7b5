# Shared helpers for shell-driven tests. Source it: . "$BH_SOURCE_ROOT/tests/lib.sh"
set -u

BH_SOURCE_ROOT=${BH_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BH_BUILD_ROOT=${BH_BUILD_ROOT:-$BH_SOURCE_ROOT/build}

# A missing tool skips the test on a developer's machine (exit 77, with the
# reason) but fails it in CI, where the set-up script installs everything.
bh_need() {
	local tool
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			if [ -n "${CI:-}" ]; then
				echo "FAIL: needed tool '$tool' is missing (CI installs it: ./setup.sh deps)" >&2
				exit 1
			fi
			echo "SKIP: needed tool '$tool' is missing (install it with ./setup.sh deps)" >&2
			exit 77
		fi
	done
}

bh_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# A private scratch directory removed at exit.
bh_tmpdir() {
	BH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bh-test.XXXXXX")
	trap 'bh_cleanup' EXIT
}

BH_CLEANUP_PIDS=()
bh_cleanup() {
	local pid
	for pid in "${BH_CLEANUP_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${BH_CLEANUP_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	# BH_KEEP=1 keeps the scratch directory (logs, screenshots) for a look.
	if [ -n "${BH_KEEP:-}" ]; then
		[ -n "${BH_TMP:-}" ] && echo "kept $BH_TMP" >&2
	else
		[ -n "${BH_TMP:-}" ] && rm -rf "$BH_TMP"
	fi
}

# Waits up to $1 seconds for the command in $2.. to succeed.
bh_wait_for() {
	local timeout=$1
	shift
	local deadline=$((SECONDS + timeout))
	while ! "$@" 2>/dev/null; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.1
	done
}

# After `virsh destroy`: libvirt leaves a destroyed domain's shared region
# behind (bulkhead itself removes it at stop, clean and the next start), so
# the regions of the tags in this run's state directory go too.
bh_remove_regions() {
	local dir
	for dir in "${XDG_STATE_HOME:-$HOME/.local/state}"/bulkhead/tags/*/; do
		[ -d "$dir" ] && rm -f "/dev/shm/bulkhead-$(id -u)-$(basename "$dir")"
	done
	return 0
}
