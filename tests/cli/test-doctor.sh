#!/usr/bin/env bash
# bulkheadctl doctor: each check failing on purpose (no libvirt socket, no
# base, no /dev/kvm, no access to /dev/kvm, a dead compositor socket)
# prints its line and fix and exits non-zero; all passing exits 0; only
# warnings exit 3. The host is stood in for by an empty HOME, libvirt's
# test driver (no daemon) and BH_TEST_DEV_DIR (a directory in place of /dev).
. "$BH_SOURCE_ROOT/tests/lib.sh"
bh_need python3 qemu-img
bh_tmpdir
ctl=$BH_BUILD_ROOT/cli/bulkheadctl
[ -x "$ctl" ] || bh_fail "no $ctl: build first"

# A clean environment per case: $1 = case directory; the rest of the
# settings come from the caller's environment assignments.
doctor() {
	local dir=$1
	shift
	mkdir -p "$dir/home" "$dir/run" "$dir/dev"
	chmod 700 "$dir/run"
	env -i PATH=/usr/bin:/bin HOME="$dir/home" XDG_RUNTIME_DIR="$dir/run" \
		BH_TEST_DEV_DIR="$dir/dev" LIBVIRT_AUTOSTART=0 "$@"
}

expect_line() { # file pattern what
	grep -qE -- "$2" "$1" || {
		cat "$1" >&2
		bh_fail "$3: no line matching '$2'"
	}
}

json_get() { # file python-expression-on-d
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- everything missing: no libvirt socket, no base, no /dev/kvm ----
c=$BH_TMP/missing
status=0
doctor "$c" LIBVIRT_DEFAULT_URI='qemu+unix:///session?socket=/nonexistent/libvirt-sock' \
	"$ctl" doctor >"$BH_TMP/missing.txt" 2>&1 || status=$?
[ "$status" = 1 ] || { cat "$BH_TMP/missing.txt" >&2; bh_fail "missing: exit $status, not 1"; }
t=$BH_TMP/missing.txt
expect_line "$t" '^FAIL  libvirt +cannot reach libvirt at qemu\+unix:///session' "no libvirt"
expect_line "$t" '^ +fix: sudo apt install libvirt-daemon libvirt-daemon-driver-qemu' "libvirt fix"
expect_line "$t" '^FAIL  base +no base image is registered' "no base"
expect_line "$t" '^ +fix: .*bulkheadctl base build' "base fix"
expect_line "$t" '^warn  kvm +.*/dev/kvm is absent: guests run under TCG' "no kvm"
expect_line "$t" '^ +fix: enable virtualization' "kvm fix"
expect_line "$t" '^info  vsock ' "no vsock"
expect_line "$t" '^info  shm ' "no shm"
expect_line "$t" '^info  compositor +not inside a bulkhead session' "no session"
expect_line "$t" '^not ready: 2 checks block a first window \(libvirt, base\)' "verdict"
status=0
doctor "$c" LIBVIRT_DEFAULT_URI='qemu+unix:///session?socket=/nonexistent/libvirt-sock' \
	"$ctl" doctor --json >"$BH_TMP/missing.json" 2>"$BH_TMP/missing.err" || status=$?
[ "$status" = 1 ] || bh_fail "missing --json: exit $status, not 1"
[ ! -s "$BH_TMP/missing.err" ] || { cat "$BH_TMP/missing.err" >&2; bh_fail "--json wrote to stderr"; }
[ "$(json_get "$BH_TMP/missing.json" 'd["blocking"]')" = "['libvirt', 'base']" ] ||
	bh_fail "missing --json: blocking is $(json_get "$BH_TMP/missing.json" 'd["blocking"]')"
[ "$(json_get "$BH_TMP/missing.json" '[c["status"] for c in d["checks"] if c["id"] == "kvm"]')" = "['warn']" ] ||
	bh_fail "missing --json: kvm is not a warning"
[ "$(json_get "$BH_TMP/missing.json" 'd["ready"], d["exit"]')" = "(False, 1)" ] ||
	bh_fail "missing --json: ready/exit wrong"
echo "ok: everything missing: exit 1, libvirt and base block, kvm warns, each with its fix"

# ---- all passing: libvirt's test driver, a base, devices, a listening socket ----
c=$BH_TMP/ready
mkdir -p "$c/dev" "$c/home"
: >"$c/dev/kvm"
: >"$c/dev/vhost-vsock"
ln -s /dev/shm "$c/dev/shm"
head -c 4096 /dev/zero >"$BH_TMP/vmlinuz"
doctor "$c" "$ctl" base add --kernel "$BH_TMP/vmlinuz" --no-rebase >"$BH_TMP/base.txt" 2>&1 ||
	{ cat "$BH_TMP/base.txt" >&2; bh_fail "base add for the ready case failed"; }
sock=$c/run/compositor.sock
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8); time.sleep(120)' "$sock" &
BH_CLEANUP_PIDS+=($!)
bh_wait_for 10 test -S "$sock" || bh_fail "the stand-in compositor socket did not appear"
status=0
doctor "$c" LIBVIRT_DEFAULT_URI=test:///default BULKHEAD_SOCKET="$sock" \
	"$ctl" doctor >"$BH_TMP/ready.txt" 2>&1 || status=$?
t=$BH_TMP/ready.txt
if [ "$status" != 0 ]; then
	# Only the free space of this machine may legitimately fail here.
	grep -qE '^(FAIL|warn)  disk ' "$t" && ! grep -E '^(FAIL|warn) ' "$t" | grep -vq ' disk ' && {
		echo "SKIP: this machine has too little free disk for doctor's ready case" >&2
		exit 77
	}
	cat "$t" >&2
	bh_fail "ready: exit $status, not 0"
fi
for id in kvm kvm-group runtime-dir qemu qemu-img libvirt base disk vsock shm compositor; do
	expect_line "$t" "^ok    $id " "ready: $id"
done
expect_line "$t" '^ok    libvirt +libvirt answers at test:///default' "libvirt answers"
expect_line "$t" '^ready: ' "ready verdict"
! grep -q 'fix:' "$t" || { cat "$t" >&2; bh_fail "ready: a fix is shown though all passed"; }
doctor "$c" LIBVIRT_DEFAULT_URI=test:///default BULKHEAD_SOCKET="$sock" \
	"$ctl" doctor --json >"$BH_TMP/ready.json" || bh_fail "ready --json: non-zero exit"
[ "$(json_get "$BH_TMP/ready.json" 'd["ready"], d["exit"], d["blocking"], len(d["checks"])')" = "(True, 0, [], 11)" ] ||
	bh_fail "ready --json: $(cat "$BH_TMP/ready.json")"
echo "ok: all passing: exit 0, every check ok, no fix shown"

# ---- warnings only: no /dev/kvm ----
rm "$c/dev/kvm"
status=0
doctor "$c" LIBVIRT_DEFAULT_URI=test:///default BULKHEAD_SOCKET="$sock" \
	"$ctl" doctor >"$BH_TMP/tcg.txt" 2>&1 || status=$?
[ "$status" = 3 ] || { cat "$BH_TMP/tcg.txt" >&2; bh_fail "no kvm: exit $status, not 3"; }
expect_line "$BH_TMP/tcg.txt" '^ready, with 1 warning \(kvm\)' "tcg verdict"
echo "ok: no /dev/kvm alone: exit 3 (degraded), the TCG warning and its fix"

# ---- the compositor's socket is dead ----
status=0
doctor "$c" LIBVIRT_DEFAULT_URI=test:///default BULKHEAD_SOCKET="$c/run/gone.sock" \
	"$ctl" doctor >"$BH_TMP/gone.txt" 2>&1 || status=$?
[ "$status" = 1 ] || { cat "$BH_TMP/gone.txt" >&2; bh_fail "dead socket: exit $status, not 1"; }
expect_line "$BH_TMP/gone.txt" '^FAIL  compositor +the compositor does not answer at BULKHEAD_SOCKET=' "dead socket"
expect_line "$BH_TMP/gone.txt" '^ +fix: log out of the session and in again' "dead socket fix"
echo "ok: a dead compositor socket blocks, with its fix"

# ---- no access to the real /dev/kvm: as an unprivileged user ----
if [ "$(id -u)" = 0 ] && [ -c /dev/kvm ] && command -v setpriv >/dev/null &&
	! setpriv --reuid=nobody --regid=nogroup --clear-groups test -w /dev/kvm; then
	c=$BH_TMP/nobody
	mkdir -p "$c/home" "$c/run" "$c/dev"
	ln -s /dev/kvm "$c/dev/kvm"
	chmod 755 "$BH_TMP"
	chown -R nobody:nogroup "$c"
	status=0
	doctor "$c" LIBVIRT_DEFAULT_URI=test:///default \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$ctl" doctor >"$BH_TMP/nobody.txt" 2>&1 || status=$?
	t=$BH_TMP/nobody.txt
	[ "$status" != 0 ] || { cat "$t" >&2; bh_fail "no kvm access: exit 0"; }
	expect_line "$t" '^warn  kvm +.*/dev/kvm is not yours to open: guests run under TCG' "kvm access"
	expect_line "$t" '^ +fix: sudo adduser nobody kvm, then log out and in again' "kvm access fix"
	expect_line "$t" '^warn  kvm-group +nobody is not in group kvm' "kvm group"
	echo "ok: no access to /dev/kvm: the warning names the group and the fix"
else
	echo "note: the unprivileged /dev/kvm case needs root, setpriv and a /dev/kvm that nobody cannot open; not run"
fi
echo "PASS"
