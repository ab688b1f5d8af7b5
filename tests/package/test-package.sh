#!/usr/bin/env bash
# The Debian package: built from this tree with dpkg-buildpackage (tests
# off), checked with lintian (no errors), installed with its dependencies
# into a clean Debian 12 root made by mmdebstrap (the .deb passed to apt
# like `apt install ./bulkhead_*.deb`), and run from the installed files:
# `bulkhead --version`, `bulkheadctl doctor --json` (the package's Depends
# bring qemu and qemu-img; no base, no libvirt daemon), doctor against
# libvirt's test driver, `base build` finding its recipe and the agent
# where the package put them, and `dpkg -L bulkhead` listing the session
# entry, the man pages, the example config and the guest recipes.
# As root mmdebstrap runs in root mode, otherwise in unshare mode (which
# needs the user's /etc/subuid range). BH_DEBIAN_MIRROR overrides the mirror.
. "$BH_SOURCE_ROOT/tests/lib.sh"
bh_need dpkg-buildpackage dh lintian mmdebstrap python3
bh_tmpdir
mirror=${BH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ "$(id -u)" = 0 ]; then
	mode=root
else
	mode=unshare
	if ! grep -q "^$(id -un):" /etc/subuid 2>/dev/null || ! command -v newuidmap >/dev/null; then
		why="as $(id -un) mmdebstrap's unshare mode needs a range in /etc/subuid and newuidmap (uidmap)"
		[ -z "${CI:-}" ] || bh_fail "$why; CI runs this test as root"
		echo "SKIP: $why; run as root or add the range" >&2
		exit 77
	fi
fi

# ---- build the package from a copy of the tree (what git tracks, plus new files) ----
src=$BH_TMP/src
mkdir -p "$src"
cd "$BH_SOURCE_ROOT" || bh_fail "no source tree"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		xargs -0 cp --parents -t "$src" || bh_fail "cannot copy the tree"
else
	tar --exclude='./build*' --exclude=./out -cf - . | tar -C "$src" -xf - ||
		bh_fail "cannot copy the tree"
fi
started=$SECONDS
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$BH_TMP/build.log" 2>&1 || {
	tail -40 "$BH_TMP/build.log" >&2
	bh_fail "dpkg-buildpackage failed (log above)"
}
debs=("$BH_TMP"/bulkhead_*_amd64.deb)
deb=${debs[0]}
[ -f "$deb" ] || bh_fail "dpkg-buildpackage made no bulkhead_*.deb"
echo "ok: built $(basename "$deb") in $((SECONDS - started)) s"
grep -q '#define BH_DATADIR "/usr/share/bulkhead"' "$src"/obj-*/bh-config.h ||
	bh_fail "the package's bh-config.h does not put the data in /usr/share/bulkhead"
grep -q '#define BH_SYSCONFDIR "/etc/bulkhead"' "$src"/obj-*/bh-config.h ||
	bh_fail "the package's bh-config.h does not put the config in /etc/bulkhead"

# ---- lintian: no errors; the warnings are printed ----
lintian --pedantic "$BH_TMP"/bulkhead_*_amd64.changes >"$BH_TMP/lintian.txt" 2>&1
grep -v '^running with root privileges' "$BH_TMP/lintian.txt" | sed 's/^/lintian: /'
! grep -q '^E: ' "$BH_TMP/lintian.txt" || bh_fail "lintian reports errors (above)"
echo "ok: lintian: no errors, $(grep -c '^W: ' "$BH_TMP/lintian.txt") warnings"

# ---- install into a clean root and run the installed files ----
results=$BH_TMP/results
mkdir -p "$results"
chmod 777 "$results" # unshare mode's root writes here
cat >"$BH_TMP/run-installed.sh" <<EOF
#!/bin/sh
# mmdebstrap customize hook: \$1 is the new root.
root=\$1
run() {
	name=\$1
	shift
	chroot "\$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		XDG_RUNTIME_DIR=/run/bh-test LIBVIRT_AUTOSTART=0 "\$@" \
		>"$results/\$name.out" 2>"$results/\$name.err"
	echo \$? >"$results/\$name.status"
}
mkdir -p -m 700 "\$root/run/bh-test"
run version bulkhead --version
run ctl-version bulkheadctl --version
run doctor bulkheadctl doctor --json
run doctor-text bulkheadctl doctor
run doctor-testdriver env LIBVIRT_DEFAULT_URI=test:///default bulkheadctl doctor --json
run base-build env BH_TEST_MMDEBSTRAP=/nonexistent/mmdebstrap bulkheadctl base build --no-rebase
run dpkg-L dpkg -L bulkhead
run foot sh -c 'command -v foot'
EOF
chmod 755 "$BH_TMP/run-installed.sh"
chmod 755 "$BH_TMP"
chmod 644 "$deb"
hooks=()
if [ "$mode" = root ]; then
	# Packages this machine already downloaded, hard-linked in (nothing is
	# copied; the root's apt deletes only its links).
	hooks+=(--setup-hook='mkdir -p "$1/var/cache/apt/archives" && { cp -l /var/cache/apt/archives/*.deb "$1/var/cache/apt/archives/" 2>/dev/null || true; }')
fi
started=$SECONDS
# file-mirror-automount makes the .deb visible inside the root at the same
# path, where dpkg looks for what apt outside hands it.
mmdebstrap --mode="$mode" --variant=apt --format=null \
	--hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
	--include="$deb" "${hooks[@]}" \
	--customize-hook="$BH_TMP/run-installed.sh" \
	bookworm /dev/null "deb $mirror bookworm main" >"$BH_TMP/mmdebstrap.log" 2>&1 || {
	tail -30 "$BH_TMP/mmdebstrap.log" >&2
	bh_fail "mmdebstrap could not install the package into a clean root (log above)"
}
echo "ok: installed with its dependencies into a clean bookworm root in $((SECONDS - started)) s"

result() { cat "$results/$1.$2" 2>/dev/null; }
show() {
	echo "--- $1 (status $(result "$1" status)) ---" >&2
	cat "$results/$1.out" "$results/$1.err" >&2
}
[ "$(result version status)" = 0 ] && grep -q '^bulkhead ' "$results/version.out" ||
	{ show version; bh_fail "the installed bulkhead --version failed"; }
echo "ok: $(head -1 "$results/version.out")"
[ "$(result ctl-version status)" = 0 ] || { show ctl-version; bh_fail "bulkheadctl --version failed"; }

# doctor: blocked (no base, no libvirt daemon in a bare root); what the
# package's Depends bring is there.
[ "$(result doctor status)" = 1 ] || { show doctor; bh_fail "installed doctor --json: status not 1"; }
python3 - "$results/doctor.out" <<'PY' || { show doctor; bh_fail "installed doctor --json: wrong report"; }
import json, sys
d = json.load(open(sys.argv[1]))
checks = {c["id"]: c for c in d["checks"]}
want = ["kvm", "kvm-group", "runtime-dir", "qemu", "qemu-img", "libvirt", "base", "disk",
        "vsock", "shm", "compositor"]
assert list(checks) == want, list(checks)
assert checks["qemu"]["status"] == "ok", checks["qemu"]
assert checks["qemu-img"]["status"] == "ok", checks["qemu-img"]
assert checks["base"]["status"] == "fail" and "base build" in checks["base"]["fix"], checks["base"]
assert checks["libvirt"]["status"] == "fail" and checks["libvirt"]["fix"], checks["libvirt"]
assert d["ready"] is False and d["exit"] == 1 and "base" in d["blocking"], d
PY
python3 - "$results/doctor-testdriver.out" <<'PY' || { show doctor-testdriver; bh_fail "installed doctor with libvirt's test driver"; }
import json, sys
d = json.load(open(sys.argv[1]))
checks = {c["id"]: c for c in d["checks"]}
assert checks["libvirt"]["status"] == "ok", checks["libvirt"]
PY
grep -q '^FAIL  base ' "$results/doctor-text.out" && grep -q 'fix: ' "$results/doctor-text.out" ||
	{ show doctor-text; bh_fail "installed doctor: no base line with its fix"; }
echo "ok: installed doctor --json: qemu and qemu-img from the Depends, blocked by: $(python3 -c 'import json,sys; print(", ".join(json.load(open(sys.argv[1]))["blocking"]))' "$results/doctor.out")"

# base build found the recipe in /usr/share/bulkhead and the agent beside
# bulkheadctl: it got as far as the recipe's tool check.
grep -q '/nonexistent/mmdebstrap is missing' "$results/base-build.err" ||
	{ show base-build; bh_fail "installed base build did not reach its recipe"; }
echo "ok: installed base build runs /usr/share/bulkhead/build-debian-base.sh with /usr/bin/bulkhead-agent"
[ "$(result foot status)" = 0 ] || { show foot; bh_fail "foot did not come with the package's Depends"; }

for f in /usr/bin/bulkhead /usr/bin/bulkheadctl /usr/bin/bulkhead-proxy /usr/bin/bulkhead-agent \
	/usr/bin/bulkhead-link-hub \
	/usr/share/wayland-sessions/bulkhead.desktop \
	/usr/share/man/man1/bulkhead.1.gz /usr/share/man/man1/bulkheadctl.1.gz \
	/usr/share/man/man1/bulkhead-proxy.1.gz /usr/share/man/man1/bulkhead-agent.1.gz \
	/usr/share/man/man1/bulkhead-link-hub.1.gz \
	/usr/share/man/man5/bulkhead.5.gz /usr/share/doc/bulkhead/config.example \
	/usr/share/bulkhead/build-debian-base.sh /usr/share/bulkhead/build-tiny-guest.sh; do
	grep -qx "$f" "$results/dpkg-L.out" || { show dpkg-L; bh_fail "dpkg -L bulkhead does not list $f"; }
done
echo "ok: dpkg -L bulkhead lists the binaries, the session entry, the man pages, the config and the recipes"
echo "PASS"
