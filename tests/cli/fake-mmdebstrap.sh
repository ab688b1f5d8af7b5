#!/usr/bin/env bash
# A stand-in for mmdebstrap in `base build` tests (BH_TEST_MMDEBSTRAP): it
# prints what mmdebstrap --verbose prints (steps, apt's sizes, dpkg's
# lines), reports the recipe's hook stages on fd 3, keeps a scratch
# "chroot" in TMPDIR as mmdebstrap does, and leaves the files the recipe's
# image hook would in the sync-out directory. On SIGTERM it removes its
# chroot and exits 1, as mmdebstrap does.
#   FAKE_MM_STATE  directory for its pid and a "terminated" mark
#   FAKE_MM_HOLD   seconds to stay in the middle of the second download
set -uo pipefail
out=""
for arg in "$@"; do
	case $arg in
	--customize-hook=sync-out\ /bulkhead-out\ *) out=${arg#--customize-hook=sync-out /bulkhead-out } ;;
	esac
done
[ -n "$out" ] || { echo "fake-mmdebstrap: no sync-out hook" >&2; exit 2; }
state=${FAKE_MM_STATE:?}
echo $$ >"$state/pid"
chroot=$(mktemp -d "${TMPDIR:-/tmp}/mmdebstrap.XXXXXX")
echo "$chroot" >"$state/chroot"
pause() { sleep "$1" & wait $!; }
trap 'rm -rf "$chroot"; echo terminated >"$state/terminated"; exit 1' TERM INT

echo "I: using $chroot as tempdir" >&2
echo "I: running apt-get update..." >&2
echo "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]" >&2
echo "I: downloading packages with apt..." >&2
echo "0 upgraded, 3 newly installed, 0 to remove and 0 not upgraded." >&2
echo "Need to get 10.0 MB of archives." >&2
echo "Get:1 http://deb.debian.org/debian bookworm/main amd64 a amd64 1 [4000 kB]" >&2
pause 0.2
echo "Get:2 http://deb.debian.org/debian bookworm/main amd64 b amd64 1 [6000 kB]" >&2
echo "Fetched 10.0 MB in 1s (10.0 MB/s)" >&2
echo "I: extracting archives..." >&2
head -c 1048576 /dev/zero >"$chroot/essential.bin"
echo "I: installing essential packages..." >&2
for p in a b c; do echo "Setting up $p (1) ..." >&2; pause 0.1; done
echo "stage install" >&3
echo "I: installing remaining packages inside the chroot..." >&2
echo "0 upgraded, 4 newly installed, 0 to remove and 0 not upgraded." >&2
echo "Need to get 20.0 MB of archives." >&2
echo "Get:1 http://deb.debian.org/debian bookworm/main amd64 d amd64 1 [12.0 MB]" >&2
head -c 1048576 /dev/zero >"$chroot/download.bin"
pause "${FAKE_MM_HOLD:-0.2}"
echo "Get:2 http://deb.debian.org/debian bookworm/main amd64 e amd64 1 [8000 kB]" >&2
echo "Fetched 20.0 MB in 1s (20.0 MB/s)" >&2
echo "Selecting previously unselected package d." >&2
for p in d e f g; do echo "Setting up $p (1) ..." >&2; pause 0.1; done
echo "stage configure" >&3
echo "stage filesystem" >&3
pause 0.1
echo "stage qcow2" >&3
qemu-img create -q -f qcow2 "$chroot/root.qcow2" 64M
head -c 8192 /dev/zero >"$chroot/vmlinuz"
head -c 4096 /dev/zero >"$chroot/initrd.img"
echo "6.1.0-fake-amd64" >"$chroot/kernel-version"
printf 'a\t1\nb\t1\n' >"$chroot/packages.tsv"
mkdir -p "$out"
mv "$chroot"/root.qcow2 "$chroot"/vmlinuz "$chroot"/initrd.img "$chroot"/kernel-version \
	"$chroot"/packages.tsv "$out/"
rm -rf "$chroot"
echo "I: success in 1.0 seconds" >&2
