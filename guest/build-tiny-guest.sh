#!/bin/bash
# The tiny test guest: Debian's kernel (linux-image-amd64) and an initramfs
# made here from Debian's packages: busybox-static, the kernel modules the
# guest needs (resolved from modules.dep, loaded in dependency order),
# bulkhead-agent and the libraries it needs, foot with its fonts as the
# guest terminal, and Xwayland (with xkbcomp and the XKB data) for X11 apps,
# with the tests' X client (bulkhead-x11-client), when the host has them. It boots under TCG to a running agent in seconds and needs
# no network. The result is cached: rebuilt only when an input changed.
#   guest/build-tiny-guest.sh [--agent PATH] OUTDIR   (writes vmlinuz, initrd.img)
# --agent puts that agent in instead of the build's: one from a build with
# -Db_sanitize=address,undefined makes a guest whose agent runs under
# AddressSanitizer, LeakSanitizer and UBSan (their libraries come along),
# with options fit for a guest, its reports on the guest console
# (`bulkheadctl console TAG`), leaks checked when it exits at the stop.
# Environment: BH_BUILD (the build dir; default build/ beside this script),
# BH_TEST_KERNEL_ROOT (an unpacked linux-image package instead of /).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
agent_arg=
if [ "${1:-}" = --agent ]; then
	agent_arg=${2:?--agent needs a path}
	shift 2
fi
out=${1:?usage: build-tiny-guest.sh [--agent PATH] OUTDIR}
build=${BH_BUILD:-$top/build}
agent=${agent_arg:-$build/guest-agent/bulkhead-agent}
# The benchmark client, for the shared-region test and bench/run --ways vm
# (a build tree has it; an installed recipe builds a guest without it).
benchclient=$build/bench/bench-client
# Installed (in /usr/share/bulkhead) there is no build tree: the agent is
# the installed one.
if [ -z "$agent_arg" ] && [ -z "${BH_BUILD:-}" ] && [ ! -x "$agent" ] &&
	command -v bulkhead-agent >/dev/null; then
	agent=$(command -v bulkhead-agent)
fi
root=${BH_TEST_KERNEL_ROOT:-}
fail() {
	echo "build-tiny-guest: $*" >&2
	exit 1
}
[ -x "$agent" ] || fail "no agent at $agent: build first (meson compile -C build) or install bulkhead"
# A sanitized agent: the runtime's options for it in the guest. Leaks are
# looked for when it exits (the stop's SIGTERM); an ASan error ends it (init
# starts it again, the report stays on the console), UBSan goes on; no
# symbolizer in the guest, so frames are module+offset (the host has the
# binary to resolve them). Reports go to stderr: the console.
sanitizer_env=
if ldd "$agent" 2>/dev/null | grep -q -E 'lib(asan|ubsan)\.so'; then
	sanitizer_env="ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:symbolize=0:print_summary=1"
	sanitizer_env="$sanitizer_env UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=0:symbolize=0:print_summary=1"
	sanitizer_env="$sanitizer_env LSAN_OPTIONS=symbolize=0:print_summary=1"
fi
kernel=$(ls "$root"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
[ -n "$kernel" ] || fail "no kernel in $root/boot: install linux-image-amd64 (./setup.sh deps)"
version=${kernel##*/vmlinuz-}
modules=$root/lib/modules/$version
[ -d "$modules" ] || modules=$root/usr/lib/modules/$version
[ -f "$modules/modules.dep" ] || fail "no modules.dep for kernel $version"
busybox=$(command -v busybox) || fail "no busybox: install busybox-static"
foot=$(command -v foot || true)
xwayland=$(command -v Xwayland || true)
xkbcomp=$(command -v xkbcomp || true)
x11client=$build/tests/relay/x11-client
[ -n "$xkbcomp" ] || xwayland=

# The cache key: every input's identity.
key=$( (
	echo v12
	sha256sum "$0" "$agent" "$kernel" "$busybox" ${foot:+"$foot"} ${xwayland:+"$xwayland"}
	if [ -x "$benchclient" ]; then sha256sum "$benchclient"; fi
	if [ -n "$xwayland" ] && [ -x "$x11client" ]; then sha256sum "$x11client"; fi
) | sha256sum | cut -c1-16)
if [ -f "$out/initrd.img" ] && [ "$(cat "$out/key" 2>/dev/null)" = "$key" ]; then
	echo "tiny guest: cached in $out"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir -p "$work"/{bin,sbin,etc,proc,sys,dev,home,run,tmp,root,lib/modules,usr/bin}
chmod 1777 "$work/tmp"
cp "$busybox" "$work/bin/busybox"

# Modules in dependency order: for each wanted module, its modules.dep
# entries first (deepest last in the file, so loaded in reverse), once each.
# virtio_net for private links, 9pnet_virtio and 9p for host folders.
wanted="virtio_pci virtio_console virtio_blk virtio_rng virtio_balloon virtio_net 9pnet_virtio 9p crc32c_generic ext4 button evdev"
order=()
declare -A seen
add_module() {
	local name=$1 line path deps dep
	line=$(grep -E "(^|/)$name\.ko(\.[a-z]+)?:" "$modules/modules.dep" | head -1) || return 0
	[ -n "$line" ] || return 0
	path=${line%%:*}
	[ -n "${seen[$path]:-}" ] && return 0
	seen[$path]=1
	deps=${line#*:}
	local rev=()
	for dep in $deps; do rev=("$dep" "${rev[@]}"); done
	for dep in "${rev[@]}"; do
		add_module "$(basename "${dep%%.ko*}")"
	done
	order+=("$path")
}
for m in $wanted; do add_module "$m"; done
load=""
for path in "${order[@]}"; do
	name=$(basename "${path%%.ko*}")
	case $path in
	*.xz) xz -dc "$modules/$path" >"$work/lib/modules/$name.ko" ;;
	*.zst) zstd -qdc "$modules/$path" >"$work/lib/modules/$name.ko" ;;
	*) cp "$modules/$path" "$work/lib/modules/$name.ko" ;;
	esac
	load="$load $name"
done

# Programs and the shared libraries they need, at their own paths.
copy_with_libs() {
	local bin=$1 dest=$2 lib
	cp "$bin" "$work$dest"
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$work$lib" ] && continue
		mkdir -p "$work$(dirname "$lib")"
		cp -L "$lib" "$work$lib"
	done
}
copy_with_libs "$agent" /bin/bulkhead-agent
if [ -x "$benchclient" ]; then
	copy_with_libs "$benchclient" /usr/bin/bench-client
fi
if [ -n "$foot" ]; then
	copy_with_libs "$foot" /usr/bin/foot
	mkdir -p "$work/usr/share/fonts/truetype" "$work/etc/fonts" "$work/usr/share/terminfo/f"
	cp -r /usr/share/fonts/truetype/dejavu "$work/usr/share/fonts/truetype/"
	cp -r /etc/fonts/. "$work/etc/fonts/"
	cp /usr/share/terminfo/f/foot* "$work/usr/share/terminfo/f/" 2>/dev/null || true
	mkdir -p "$work/etc/xdg/foot"
	printf '[main]\nfont=DejaVu Sans Mono:size=10\n' >"$work/etc/xdg/foot/foot.ini"
	# foot needs a UTF-8 locale: C.UTF-8 from libc-bin.
	mkdir -p "$work/usr/lib/locale"
	cp -r /usr/lib/locale/C.utf8 "$work/usr/lib/locale/"
	mkdir -p "$work/usr/share/applications"
	printf '[Desktop Entry]\nType=Application\nName=Foot\nExec=foot\nIcon=foot\n' \
		>"$work/usr/share/applications/foot.desktop"
fi
# xdg-open for `bulkheadctl open --disposable`: this guest has no desktop
# handlers, so it shows the file in a terminal (or on stdout without foot).
cat >"$work/usr/bin/xdg-open" <<'OPEN'
#!/bin/busybox sh
[ -r "$1" ] || { echo "xdg-open: cannot read $1" >&2; exit 2; }
echo "xdg-open: $1"
if command -v foot >/dev/null && [ -n "${WAYLAND_DISPLAY:-}" ]; then
	exec foot --app-id=xdg-open --hold cat "$1"
fi
exec cat "$1"
OPEN
chmod 755 "$work/usr/bin/xdg-open"
if [ -n "$xwayland" ]; then
	copy_with_libs "$xwayland" /usr/bin/Xwayland
	copy_with_libs "$xkbcomp" /usr/bin/xkbcomp
	mkdir -p "$work/usr/share/X11"
	cp -r /usr/share/X11/xkb "$work/usr/share/X11/"
	[ -x "$x11client" ] && copy_with_libs "$x11client" /usr/bin/bulkhead-x11-client
fi
printf 'root:x:0:0::/root:/bin/sh\nguest:x:1000:1000::/home/guest:/bin/sh\n' >"$work/etc/passwd"
printf 'root:x:0:\nguest:x:1000:\n' >"$work/etc/group"
# busybox acpid reads the power button from /dev/input/event* (evdev) and
# runs /etc/acpi/<ACTION>/<PARAMETER>: PWRF/00000080 for KEY_POWER.
mkdir -p "$work/etc/acpi/PWRF"
ln -s /sbin/guest-poweroff "$work/etc/acpi/PWRF/00000080"
cat >"$work/sbin/guest-poweroff" <<'OFF'
#!/bin/busybox sh
# The power button (bulkheadctl stop): the agent says goodbye to the host
# (so the stop is not taken for a crash) and ends (up to 10 s: a sanitized
# agent checks for leaks first), then flush and unmount home, power off.
touch /run/bulkhead-stopping
if killall -TERM bulkhead-agent 2>/dev/null; then
	n=0
	while pidof bulkhead-agent >/dev/null && [ $n -lt 100 ]; do usleep 100000; n=$((n + 1)); done
fi
sync
umount /home 2>/dev/null || mount -o remount,ro /home 2>/dev/null
poweroff -f
OFF
chmod 755 "$work/sbin/guest-poweroff"
cat >"$work/init" <<INIT
#!/bin/busybox sh
# Kernel start to here, for the agent's boot timings.
/bin/busybox mount -t proc proc /proc
read up _ </proc/uptime
export BULKHEAD_BOOT_INIT_USEC=\$(echo "\$up" | /bin/busybox awk '{ printf "%d", \$1 * 1000000 }')
/bin/busybox --install -s /bin
mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts -o mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
for m in$load; do insmod /lib/modules/\$m.ko 2>/dev/null; done
# Home: the persistent vdb, formatted when blank, never silently RAM.
n=0; while [ ! -b /dev/vdb ] && [ \$n -lt 100 ]; do sleep 0.05; n=\$((n + 1)); done
if ! mount -t ext4 /dev/vdb /home 2>/dev/null; then
	if [ "\$(dd if=/dev/vdb bs=4096 count=1 2>/dev/null | tr -d '\\000' | wc -c)" = 0 ]; then
		mke2fs -q /dev/vdb && mount -t ext4 /dev/vdb /home
	fi
fi
grep -q ' /home ' /proc/mounts || echo "tiny test guest: ERROR: the home disk vdb could not be mounted; files written to /home will not persist"
mkdir -p /home/guest && chown 1000:1000 /home/guest
# The tests read and write the root disk from inside the guest.
[ -b /dev/vda ] && chmod 666 /dev/vda
mkdir -p /run/user/1000 && chown 1000:1000 /run/user/1000 && chmod 700 /run/user/1000
# The log and pid files default to /var, which this guest has not.
acpid -c /etc/acpi -l /dev/null -p /run/acpid.pid 2>/dev/null || echo "tiny test guest: acpid did not start; bulkheadctl stop will have to power off"
export XDG_RUNTIME_DIR=/run/user/1000 PATH=/usr/bin:/bin:/sbin LANG=C.UTF-8
echo "tiny test guest: starting the agent${sanitizer_env:+ (sanitized: AddressSanitizer, LeakSanitizer and UBSan report here)}"
while :; do
	${sanitizer_env:+env $sanitizer_env }/bin/bulkhead-agent --channel serial:auto --user guest
	status=\$?
	# At the power button the agent ends for good.
	while [ -e /run/bulkhead-stopping ]; do sleep 1; done
	echo "tiny test guest: the agent exited (\$status); restarting it"
	sleep 1
done
INIT
chmod +x "$work/init"
mkdir -p "$out"
cp "$kernel" "$out/vmlinuz.tmp"
(cd "$work" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$out/initrd.img.tmp"
chmod 644 "$out/vmlinuz.tmp" "$out/initrd.img.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initrd.img.tmp" "$out/initrd.img"
echo "$key" >"$out/key"
echo "tiny guest: $(du -h "$out/initrd.img" | cut -f1) initramfs${sanitizer_env:+, sanitized agent}, modules:$load"
