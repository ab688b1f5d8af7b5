#!/bin/bash
# Until guest/build-tiny-guest.sh exists: a minimal test guest from a Debian
# kernel found on this machine (/boot + /usr/lib/modules, or the unpacked
# linux-image package under $BH_TEST_KERNEL_ROOT) and an initramfs made
# here with busybox and the agent of this build.
# Usage: test-lifecycle-guest.sh AGENT OUTDIR   (writes vmlinuz, initrd.img)
set -eu
agent=$1
out=$2
root=${BH_TEST_KERNEL_ROOT:-}
kernel=$(ls "$root"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
[ -n "$kernel" ] || { echo "no kernel in $root/boot" >&2; exit 77; }
version=${kernel##*/vmlinuz-}
modules=$root/lib/modules/$version
[ -d "$modules" ] || modules=$root/usr/lib/modules/$version
[ -d "$modules" ] || { echo "no modules for $version" >&2; exit 77; }
busybox=$(command -v busybox)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir -p "$work"/{bin,lib/modules,etc,proc,sys,dev,home,run,tmp}
cp "$busybox" "$work/bin/busybox"
# The virtio drivers, in load order (modules in Debian's cloud kernel).
order="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_console virtio_blk"
for m in $order; do
	f=$(find "$modules" -name "$m.ko*" | head -1)
	[ -n "$f" ] || continue
	case $f in
	*.xz) xz -dc "$f" >"$work/lib/modules/$m.ko" ;;
	*.zst) zstd -qdc "$f" >"$work/lib/modules/$m.ko" ;;
	*) cp "$f" "$work/lib/modules/$m.ko" ;;
	esac
done
# The agent and the shared libraries it needs, at their paths.
cp "$agent" "$work/bin/bulkhead-agent"
for lib in $(ldd "$agent" | grep -o '/[^ ]*'); do
	mkdir -p "$work$(dirname "$lib")"
	cp -L "$lib" "$work$lib"
done
printf 'root:x:0:0::/root:/bin/sh\nguest:x:1000:1000::/home:/bin/sh\n' >"$work/etc/passwd"
printf 'root:x:0:\nguest:x:1000:\n' >"$work/etc/group"
cat >"$work/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $order; do [ -f /lib/modules/\$m.ko ] && insmod /lib/modules/\$m.ko; done
# Home: the blank vdb is formatted on first boot.
n=0; while [ ! -b /dev/vdb ] && [ \$n -lt 50 ]; do sleep 0.1; n=\$((n + 1)); done
mount -t ext2 /dev/vdb /home 2>/dev/null || { mke2fs -q /dev/vdb && mount -t ext2 /dev/vdb /home; }
chown 1000:1000 /home
# The tests read and write the root disk from inside the guest.
chmod 666 /dev/vda
mkdir -p /run/user/1000 && chown 1000:1000 /run/user/1000
export XDG_RUNTIME_DIR=/run/user/1000
echo "tiny test guest: starting the agent"
/bin/bulkhead-agent --channel serial:auto --user guest
echo "tiny test guest: the agent exited (\$?)"
sync; poweroff -f
INIT
chmod +x "$work/init"
mkdir -p "$out"
cp "$kernel" "$out/vmlinuz"
(cd "$work" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$out/initrd.img"
chmod 644 "$out/vmlinuz" "$out/initrd.img"
