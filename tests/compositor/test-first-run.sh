#!/usr/bin/env bash
# The compositor's first run: at start it runs `bulkheadctl doctor --json`
# and reports what is not ok (here: no base, no libvirt daemon) in its log
# and status line; with no base, Super+t then Enter with no name builds
# one (mmdebstrap faked by BH_TEST_MMDEBSTRAP), which ends registered.
. "$BH_SOURCE_ROOT/tests/compositor/lib.sh"
bh_need qemu-img mke2fs cpio zstd xz
if [ "$(id -u)" != 0 ] && ! grep -q "^$(id -un):" /etc/subuid 2>/dev/null; then
	[ -z "${CI:-}" ] || bh_fail "CI runs this as root"
	echo "SKIP: as $(id -un), base build needs a range in /etc/subuid (or run as root)" >&2
	exit 77
fi
unset BULKHEAD_DOCTOR
export LIBVIRT_DEFAULT_URI='qemu+unix:///session?socket=/nonexistent/libvirt-sock'
export LIBVIRT_AUTOSTART=0
export BH_TEST_MMDEBSTRAP=$BH_SOURCE_ROOT/tests/cli/fake-mmdebstrap.sh
export FAKE_MM_STATE=$BH_TMP/fake-mm TMPDIR=$BH_TMP/tmp
mkdir -p "$FAKE_MM_STATE" "$TMPDIR"
start_compositor

log=$BH_TMP/compositor.log
bh_wait_for 20 grep -q 'doctor: fail base: no base image is registered' "$log" ||
	bh_fail "the compositor did not report doctor's missing base: $(tail -5 "$log")"
grep -q 'doctor: fail libvirt: cannot reach libvirt' "$log" ||
	bh_fail "the compositor did not report the missing libvirt: $(grep doctor "$log")"
[ "$(grep -c 'doctor: fail base' "$log")" = 1 ] || bh_fail "doctor's report was shown more than once"
echo "ok: at start, doctor's failures are reported once"

wtype -M logo t -m logo || bh_fail "wtype failed"
bh_wait_for 5 sh -c "python3 '$IPC' call '{\"cmd\": \"menu\"}' | grep -q prompt" ||
	bh_fail "Super+t opened no prompt"
wtype -k Return
bh_wait_for 10 grep -q 'first run: building a base' "$log" ||
	bh_fail "Enter with no name did not start a base build: $(tail -5 "$log")"
bh_wait_for 60 grep -q 'base build: done; Super+t starts a tag' "$log" ||
	bh_fail "the base build did not finish: $(tail -5 "$log"; cat "$XDG_STATE_HOME/bulkhead/base-build.log" 2>/dev/null | tail -5)"
"$CTL" base list | grep -q latest || bh_fail "no base registered after the first-run build"
echo "ok: Super+t, Enter with no name: the base was built and registered"
echo "PASS"
