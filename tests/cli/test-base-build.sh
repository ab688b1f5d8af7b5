#!/usr/bin/env bash
# bulkheadctl base build with mmdebstrap replaced by a fake one
# (BH_TEST_MMDEBSTRAP, tests/cli/fake-mmdebstrap.sh) that prints what
# mmdebstrap --verbose prints:
#  1. a whole build shows every stage with its sizes, in order, and ends
#     with the base registered;
#  2. SIGINT in the middle of the download stops the recipe and its
#     mmdebstrap (which removes its chroot), and leaves no scratch
#     directory, no temporary file and no base behind;
#  3. SIGTERM does the same.
. "$BH_SOURCE_ROOT/tests/lib.sh"
bh_need qemu-img mke2fs cpio zstd xz python3
bh_tmpdir
ctl=$BH_BUILD_ROOT/cli/bulkheadctl
fake=$BH_SOURCE_ROOT/tests/cli/fake-mmdebstrap.sh
[ -x "$ctl" ] || bh_fail "no $ctl: build first"
if [ "$(id -u)" != 0 ] && ! grep -q "^$(id -un):" /etc/subuid 2>/dev/null; then
	# The recipe checks unshare mode's needs before it runs mmdebstrap.
	[ -z "${CI:-}" ] || bh_fail "CI runs this as root"
	echo "SKIP: as $(id -un), base build needs a range in /etc/subuid (or run as root)" >&2
	exit 77
fi

# One build in a fresh home: $1 = case name; FAKE_MM_HOLD from the caller.
start_build() {
	local c=$BH_TMP/$1
	mkdir -p "$c/home" "$c/run" "$c/state" "$c/tmp"
	chmod 700 "$c/run"
	env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME="$c/home" XDG_RUNTIME_DIR="$c/run" \
		TMPDIR="$c/tmp" BH_TEST_MMDEBSTRAP="$fake" FAKE_MM_STATE="$c/state" \
		FAKE_MM_HOLD="${FAKE_MM_HOLD:-0.2}" \
		"$ctl" base build --no-rebase >"$c/out.txt" 2>"$c/err.txt" &
	build_pid=$!
	BH_CLEANUP_PIDS+=("$build_pid")
}

# Nothing of a build may remain in case $1.
check_nothing_left() {
	local c=$BH_TMP/$1 left
	left=$(find "$c/home/.local/share/bulkhead" -mindepth 1 -maxdepth 1 2>/dev/null |
		grep -v '/bases$' || true)
	[ -z "$left" ] || bh_fail "$1: left behind: $left"
	left=$(find "$c/home/.local/share/bulkhead/bases" -mindepth 1 2>/dev/null || true)
	[ -z "$left" ] || bh_fail "$1: a base was registered: $left"
	left=$(find "$c/tmp" -mindepth 1 2>/dev/null || true)
	[ -z "$left" ] || bh_fail "$1: left in TMPDIR: $left"
	local chroot
	chroot=$(cat "$c/state/chroot")
	[ ! -e "$chroot" ] || bh_fail "$1: the fake mmdebstrap's chroot $chroot is still there"
	[ -f "$c/state/terminated" ] || bh_fail "$1: mmdebstrap was not told to stop"
	local pid
	pid=$(cat "$c/state/pid")
	! kill -0 "$pid" 2>/dev/null || bh_fail "$1: the fake mmdebstrap ($pid) still runs"
}

# ---- 1. a whole build ----
start_build whole
wait "$build_pid"
status=$?
c=$BH_TMP/whole
if [ "$status" != 0 ]; then
	cat "$c/out.txt" "$c/err.txt" >&2
	cat "$c/home/.local/state/bulkhead/base-build.log" >&2 2>/dev/null
	bh_fail "whole build: exit $status"
fi
out=$c/out.txt
for want in 'checking the agent and the tools' 'reading the package lists' \
	'downloading the essential packages 4.0 MB of 10.0 MB' \
	'installing the essential packages 3 of 3 packages' \
	'downloading packages [0-9.]+ MB of 20.0 MB' 'installing packages 4 of 4 packages' \
	'setting up the user, the agent and the services' 'making the root file system' \
	'writing root.qcow2' 'registering the base' \
	'100% done in [0-9]+:[0-9]{2}: base [^ ]+ \(root.qcow2 [0-9.]+ [MG]iB on disk\) is the latest'; do
	grep -qE "$want" "$out" || { cat "$out" >&2; bh_fail "whole build: no line matching '$want'"; }
done
# The percentages only grow, and the stages come in their order.
python3 - "$out" <<'PY' || bh_fail "whole build: the progress went back"
import re, sys
last = -1
for line in open(sys.argv[1]):
    m = re.match(r"base build: +(\d+)%", line)
    if m:
        p = int(m.group(1))
        if p < last:
            print("went back:", line.strip(), file=sys.stderr)
            sys.exit(1)
        last = p
sys.exit(0 if last == 100 else 1)
PY
env -i PATH=/usr/bin:/bin HOME="$c/home" "$ctl" base list >"$c/list.txt" ||
	bh_fail "whole build: base list failed"
[ "$(grep -c 'latest' "$c/list.txt")" = 1 ] || { cat "$c/list.txt" >&2; bh_fail "whole build: no latest base"; }
id=$(awk '{print $1}' "$c/list.txt")
for f in vmlinuz initrd.img root.qcow2 build.json; do
	[ -s "$c/home/.local/share/bulkhead/bases/$id/$f" ] || bh_fail "whole build: base $id has no $f"
done
left=$(find "$c/home/.local/share/bulkhead" -maxdepth 1 -name '.base-build-*')
[ -z "$left" ] || bh_fail "whole build: scratch left: $left"
echo "ok: a whole build: every stage with its sizes, in order, base $id registered"

# ---- 2 and 3. stopped in the middle of the download ----
for sig in INT TERM; do
	name=cancel-$sig
	FAKE_MM_HOLD=120 start_build "$name"
	c=$BH_TMP/$name
	bh_wait_for 30 grep -qE 'downloading packages [0-9.]+ MB of 20.0 MB' "$c/out.txt" || {
		cat "$c/out.txt" "$c/err.txt" >&2
		bh_fail "$name: the build did not reach the download"
	}
	chroot=$(cat "$c/state/chroot")
	[ -f "$chroot/download.bin" ] || bh_fail "$name: the fake chroot has nothing in it yet"
	if [ "$(id -u)" = 0 ]; then
		case $chroot in
		"$c"/home/.local/share/bulkhead/.base-build-*/tmp/*) ;;
		*) bh_fail "$name: as root the chroot should be in the scratch directory, not $chroot" ;;
		esac
	fi
	started=$SECONDS
	kill -"$sig" "$build_pid"
	wait "$build_pid"
	status=$?
	[ $((SECONDS - started)) -lt 30 ] || bh_fail "$name: stopping took $((SECONDS - started)) s"
	want=$((128 + $(kill -l "$sig")))
	[ "$status" = "$want" ] || { cat "$c/err.txt" >&2; bh_fail "$name: exit $status, not $want"; }
	grep -q 'base build: stopped; nothing was registered' "$c/err.txt" ||
		{ cat "$c/err.txt" >&2; bh_fail "$name: no 'stopped' line"; }
	check_nothing_left "$name"
	echo "ok: SIG$sig during the download: exit $status, nothing left behind"
done
echo "PASS"
