#!/bin/bash
# The Debian base image of bulkhead tags: a systemd root on ext4 in a qcow2
# with the agent as an early service that runs guest apps as one user whose
# home is the tag's home disk, plus the kernel and a small initrd for direct
# kernel boot.
#   guest/build-debian-base.sh --agent PATH [--suite S] [--mirror URL]
#       [--size GIB] [--packages "a b,c"] [--user NAME] [--log FILE] OUTDIR
# OUTDIR (made here; must not exist or be empty) gets root.qcow2, vmlinuz,
# initrd.img, cmdline and manifest.json: what `bulkheadctl base add DIR
# --cmdline "$(cat DIR/cmdline)"` registers. `bulkheadctl base build` runs
# this and registers the result.
# Progress: a "stage NAME" line as each stage starts, on the fd named by
# BH_BASE_PROGRESS_FD, else on stdout; mmdebstrap runs --verbose so that
# bulkheadctl can fold its log (apt's sizes, dpkg's steps) into its bar.
# Test hook: BH_TEST_MMDEBSTRAP names a program run instead of mmdebstrap.
# As root mmdebstrap runs in root mode,
# otherwise in unshare mode (needs the user's /etc/subuid range and uidmap).
set -euo pipefail

# Bumped when what the recipe makes changes in a way its inputs do not show.
recipe_version=1

# Modules the initrd loads, dependencies first (see make_initrd): the disks,
# the channel's port, the root's file system, and the power button with the
# event device that makes it readable before udev runs.
initrd_modules="virtio_pci virtio_blk virtio_console crc32c_generic ext4 button evdev"
# Modules for hardware a bulkhead VM has but never uses (the i440fx board's
# floppy, IDE, PC speaker, PS/2 mouse, SMBus) or that cannot work in it.
blacklist="floppy ata_piix ata_generic pata_acpi pcspkr psmouse serio_raw joydev i2c_piix4
	kvm kvm_amd kvm_intel ccp qemu_fw_cfg intel_rapl_msr intel_rapl_common"
# Units a tag does not need, each a process to start under emulation:
# module loaders and mounts of kernel file systems nothing here uses, boot
# records of a machine nobody logs into, periodic jobs that would wake an
# idle tag, login prompts, and every wait for a network.
masked="modprobe@configfs.service modprobe@dm_mod.service modprobe@drm.service
	modprobe@efi_pstore.service modprobe@fuse.service modprobe@loop.service
	dev-hugepages.mount dev-mqueue.mount sys-kernel-debug.mount sys-kernel-tracing.mount
	sys-kernel-config.mount sys-fs-fuse-connections.mount
	systemd-update-utmp.service systemd-update-utmp-runlevel.service
	systemd-random-seed.service systemd-journal-flush.service systemd-pstore.service
	systemd-tmpfiles-clean.timer apt-daily.timer apt-daily-upgrade.timer
	dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer man-db.timer
	getty@.service serial-getty@.service systemd-networkd-wait-online.service
	NetworkManager-wait-online.service systemd-timesyncd.service"
# Generators for things a tag does not have (GPT auto-mounts, SysV scripts,
# encrypted, verity or integrity volumes, hibernation, boot counting, gettys).
masked_generators="systemd-gpt-auto-generator systemd-sysv-generator
	systemd-cryptsetup-generator systemd-veritysetup-generator
	systemd-integritysetup-generator systemd-hibernate-resume-generator
	systemd-bless-boot-generator systemd-rc-local-generator systemd-getty-generator
	systemd-system-update-generator systemd-run-generator"
# root is mounted by the initrd; the rest keeps systemd quiet and the boot
# free of checks that cannot find anything on a fresh overlay. The crypto
# self-tests are the kernel's slowest start-up step under emulation.
cmdline="root=/dev/vda rw rootfstype=ext4 fsck.mode=skip systemd.show_status=false
	cryptomgr.notests"

progress() {
	echo "stage $1" >&3
}

# ---- hooks: mmdebstrap runs this script again inside its chroot set-up ----
# Parameters travel in the environment (BH_BASE_*), set by the main part.

# Before the packages beyond the essential set.
hook_essential() {
	local root=$1
	progress install
	# The base boots its own initrd (make_initrd): initramfs-tools is only
	# there for the kernel package's sake, and need not make one, twice.
	chroot "$root" dpkg-divert --quiet --local --rename \
		--divert /usr/sbin/update-initramfs.bulkhead --add /usr/sbin/update-initramfs
	printf '#!/bin/sh\nexit 0\n' >"$root/usr/sbin/update-initramfs"
	chmod 755 "$root/usr/sbin/update-initramfs"
}

# Everything installed: the user, the agent, the home disk, the units.
hook_configure() {
	local root=$1 user=$BH_BASE_USER
	progress configure
	rm "$root/usr/sbin/update-initramfs"
	chroot "$root" dpkg-divert --quiet --local --rename \
		--divert /usr/sbin/update-initramfs.bulkhead --remove /usr/sbin/update-initramfs
	# No documentation but the copyright files, no manuals, no translations,
	# now and in what a tag installs later. Removed here rather than left out
	# by mmdebstrap's --dpkgopt, which passes the essential packages through
	# a slow filter.
	find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
	rm -rf "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/usr/share/info/*
	local p
	{
		for p in doc man locale info; do echo "path-exclude=/usr/share/$p/*"; done
		echo "path-include=/usr/share/doc/*/copyright"
	} >"$root/etc/dpkg/dpkg.cfg.d/bulkhead-slim"
	install -m 755 "$root/bulkhead-in/agent" "$root/usr/local/bin/bulkhead-agent"
	local missing
	missing=$(chroot "$root" ldd /usr/local/bin/bulkhead-agent | grep 'not found' || true)
	if [ -n "$missing" ]; then
		echo "build-debian-base: the agent needs libraries the image lacks:" >&2
		echo "$missing" >&2
		exit 1
	fi
	# uid 1000: the agent's runtime dir is /run/user/1000.
	chroot "$root" useradd --uid 1000 --user-group --shell /bin/bash \
		--home-dir "/home/$user" --no-create-home "$user"
	echo bulkhead >"$root/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tbulkhead\n::1\t\tlocalhost ip6-localhost\n' \
		>"$root/etc/hosts"
	# The host's resolver settings are none of the guest's business.
	rm -f "$root/etc/resolv.conf"
	# Empty, not absent: each tag gets its own id at its first boot, which
	# systemd keeps in the tag's root overlay, without first-boot set-up.
	: >"$root/etc/machine-id"
	rm -f "$root/var/lib/dbus/machine-id"
	printf '/dev/vda\t/\text4\trw,noatime,errors=remount-ro\t0 0\n' >"$root/etc/fstab"
	# The host boots the base's own kernel: a newer kernel package in a tag
	# would only take the running kernel's modules away.
	local kernel_package
	kernel_package=$(chroot "$root" dpkg-query -W -f '${Depends}' linux-image-amd64)
	chroot "$root" apt-mark hold linux-image-amd64 "${kernel_package%% *}" >/dev/null

	cat >"$root/usr/local/sbin/bulkhead-home" <<-EOF
		#!/bin/sh
		# The tag's home disk (vdb): formatted on its first boot, when it is
		# still all zeros, then mounted on /home with the user's home on it.
		# The initrd runs this before systemd starts; the unit of the same
		# name, for a boot where it did not, finds /home mounted.
		set -eu
		dev=/dev/vdb user=$user
		! mountpoint -q /home || exit 0
		# The initrd loaded virtio_blk, so the node is there or coming.
		n=0
		while [ ! -b \$dev ] && [ \$n -lt 100 ]; do sleep 0.1; n=\$((n + 1)); done
		if [ -z "\$(blkid -p -o value -s TYPE \$dev || true)" ]; then
		    if ! cmp -s -n 1048576 \$dev /dev/zero; then
		        echo "bulkhead-home: \$dev holds data but no file system;" \
		            "not formatting it" >&2
		        exit 1
		    fi
		    # Blank means zeros: the inode tables and the journal need no
		    # zeroing, now or later in the background.
		    mkfs.ext4 -q -L bulkhead-home \
		        -E lazy_itable_init=1,lazy_journal_init=1,nodiscard \$dev
		fi
		mount -t ext4 -o noatime,noinit_itable \$dev /home
		if [ ! -d /home/\$user ]; then
		    mkdir /home/\$user
		    cp -a /etc/skel/. /home/\$user/
		    chown -R \$user: /home/\$user
		    chmod 0700 /home/\$user
		fi
	EOF
	cat >"$root/usr/local/sbin/bulkhead-powerbutton" <<-'EOF'
		#!/bin/sh
		# The ACPI power button (`bulkheadctl stop`) from the first second of
		# the boot on, long before logind listens: the initrd loaded button
		# and evdev, and any event of that device is a press.
		for dev in /sys/class/input/event*; do
		    read -r name <"$dev/device/name" || continue
		    if [ "$name" = "Power Button" ]; then
		        dd if="/dev/input/${dev##*/}" of=/dev/null bs=24 count=1 status=none &&
		            exec systemctl poweroff
		    fi
		done
		echo "bulkhead-powerbutton: no power button device" >&2
		exit 1
	EOF
	chmod 755 "$root/usr/local/sbin/bulkhead-home" "$root/usr/local/sbin/bulkhead-powerbutton"
	local units=$root/etc/systemd/system
	# Early: the root is mounted read-write by the initrd and vdb is there.
	# Only when the initrd did not mount home already: skipped by systemd,
	# not a process to start under emulation while the agent waits.
	cat >"$units/bulkhead-home.service" <<-'EOF'
		[Unit]
		Description=Home disk of the bulkhead tag
		DefaultDependencies=no
		ConditionPathIsMountPoint=!/home
		Before=local-fs.target
		Conflicts=shutdown.target
		Before=shutdown.target

		[Service]
		Type=oneshot
		RemainAfterExit=yes
		ExecStart=/usr/local/sbin/bulkhead-home

		[Install]
		WantedBy=local-fs.target
	EOF
	cat >"$units/bulkhead-powerbutton.service" <<-'EOF'
		[Unit]
		Description=Power off on the ACPI power button, from early boot
		DefaultDependencies=no
		Conflicts=shutdown.target
		Before=shutdown.target

		[Service]
		ExecStart=/usr/local/sbin/bulkhead-powerbutton

		[Install]
		WantedBy=sysinit.target
	EOF
	# As early as the home disk allows: its hello is what `bulkheadctl
	# start` waits for. It runs as root to start apps as the user, never as
	# root; its log goes to the console too, where the host can read it.
	cat >"$units/bulkhead-agent.service" <<-EOF
		[Unit]
		Description=bulkhead guest agent
		DefaultDependencies=no
		Wants=bulkhead-home.service
		After=bulkhead-home.service systemd-journald.socket
		Conflicts=shutdown.target
		Before=shutdown.target

		[Service]
		ExecStart=/usr/local/bin/bulkhead-agent --channel serial:auto --user $user
		# Boot timings the initrd measured (BULKHEAD_BOOT_INIT_USEC).
		EnvironmentFile=-/run/bulkhead-boot.env
		# The Wayland socket's directory; the agent hands it to the user.
		RuntimeDirectory=user/1000
		RuntimeDirectoryMode=0700
		RuntimeDirectoryPreserve=yes
		StandardOutput=journal+console
		Restart=always
		RestartSec=1

		[Install]
		WantedBy=multi-user.target
	EOF
	chroot "$root" systemctl enable --quiet bulkhead-home.service \
		bulkhead-powerbutton.service bulkhead-agent.service
	echo "d /run/user/1000 0700 $user $user -" >"$root/etc/tmpfiles.d/bulkhead.conf"

	# logind handles the button too once it runs.
	mkdir -p "$root/etc/systemd/logind.conf.d" "$root/etc/systemd/journald.conf.d" \
		"$root/etc/systemd/system-generators"
	printf '[Login]\nHandlePowerKey=poweroff\n' >"$root/etc/systemd/logind.conf.d/bulkhead.conf"
	printf 'button\nevdev\n' >"$root/etc/modules-load.d/bulkhead.conf"
	# The journal in RAM: the root overlay does not grow with logs.
	printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n' \
		>"$root/etc/systemd/journald.conf.d/bulkhead.conf"
	printf 'blacklist %s\n' $blacklist >"$root/etc/modprobe.d/bulkhead.conf"
	local unit
	for unit in $masked; do
		ln -sf /dev/null "$units/$unit"
	done
	for unit in $masked_generators; do
		ln -sf /dev/null "$root/etc/systemd/system-generators/$unit"
	done
}

# The initrd the base boots: busybox, the modules of $initrd_modules in
# dependency order, and an /init that mounts vda and hands over to systemd.
# initramfs-tools' own takes seconds longer under emulation (udev, scripts).
make_initrd() {
	local root=$1 out=$2 kv modules work
	kv=$(ls "$root/lib/modules")
	modules=$root/lib/modules/$kv
	work=$(mktemp -d)
	mkdir -p "$work"/{bin,dev,proc,run,root,lib/modules}
	cp "$root/bin/busybox" "$work/bin/busybox"
	local order=() load="" m
	declare -A seen
	add_module() {
		local line path dep rev=()
		line=$(grep -m1 -E "(^|/)$1\.ko(\.[a-z]+)?:" "$modules/modules.dep" || true)
		[ -n "$line" ] || { echo "build-debian-base: no module $1 in $kv" >&2; return 1; }
		path=${line%%:*}
		[ -z "${seen[$path]:-}" ] || return 0
		seen[$path]=1
		# modules.dep lists the deepest dependency last.
		for dep in ${line#*:}; do rev=("$dep" "${rev[@]}"); done
		for dep in "${rev[@]}"; do add_module "$(basename "${dep%%.ko*}")"; done
		order+=("$path")
	}
	for m in $initrd_modules; do add_module "$m"; done
	for path in "${order[@]}"; do
		m=$(basename "${path%%.ko*}")
		case $path in
		*.xz) xz -dc "$modules/$path" >"$work/lib/modules/$m.ko" ;;
		*.zst) zstd -qdc "$modules/$path" >"$work/lib/modules/$m.ko" ;;
		*) cp "$modules/$path" "$work/lib/modules/$m.ko" ;;
		esac
		load="$load $m"
	done
	cat >"$work/init" <<-EOF
		#!/bin/busybox sh
		# bulkhead base initrd: modules, root, systemd.
		/bin/busybox mount -t proc proc /proc
		read -r up _ </proc/uptime
		/bin/busybox --install -s /bin
		mount -t devtmpfs -o nosuid,mode=0755 dev /dev
		mount -t tmpfs -o nosuid,nodev,mode=0755 run /run
		for m in$load; do insmod /lib/modules/\$m.ko; done
		n=0
		while [ ! -b /dev/vda ] && [ \$n -lt 200 ]; do sleep 0.05; n=\$((n + 1)); done
		if ! mount -t ext4 -o rw,noatime /dev/vda /root; then
		    echo "bulkhead initrd: cannot mount the root disk vda; stopping" >/dev/console
		    exit 1
		fi
		mount --move /dev /root/dev
		mount --move /run /root/run
		# The home disk, mounted here by the root's own script (mkfs.ext4 on
		# the first boot): before systemd, the agent's only wait, this has
		# the CPU to itself instead of sharing it with udev and journald.
		mount -t proc proc /root/proc
		chroot /root /usr/local/sbin/bulkhead-home ||
		    echo "bulkhead initrd: the home disk is not mounted yet" >/dev/console
		umount /root/proc
		# Kernel start to this init and to systemd, in microseconds, for the
		# agent's boot report (guest-agent/boot.c).
		read -r now _ </proc/uptime
		usec() { echo "\${1%.*}\${1#*.}0000"; }
		printf 'BULKHEAD_BOOT_INIT_USEC=%s\nBULKHEAD_BOOT_SYSTEMD_USEC=%s\n' \\
		    "\$(usec \$up)" "\$(usec \$now)" >/root/run/bulkhead-boot.env
		umount /proc
		exec switch_root /root /sbin/init
	EOF
	chmod 755 "$work/init"
	(cd "$work" && find . | cpio -o -H newc -R 0:0 --quiet | zstd -q -19) >"$out"
	rm -rf "$work"
}

# The kernel as the ELF inside Debian's bzImage, which qemu boots through
# its PVH entry: no real-mode set-up and, above all, no xz decompression,
# which takes seconds under emulation. A kernel without PVH or not packed
# with xz is used as it is.
extract_kernel() {
	local bzimage=$1 out=$2 offset
	offset=$(LC_ALL=C grep -m1 -obUaP '\xfd7zXZ\x00' "$bzimage" | cut -d: -f1)
	# No pipe into xz: it stops reading at the stream's end, and the
	# writer's SIGPIPE would fail the pipeline.
	if [ -n "$offset" ] && tail -c +$((offset + 1)) "$bzimage" >"$out.xz" &&
		xz -dc --single-stream "$out.xz" >"$out.elf" &&
		[ "$(head -c 4 "$out.elf")" = $'\x7fELF' ] &&
		# The PVH entry note: name "Xen", type 18 (XEN_ELFNOTE_PHYS32_ENTRY).
		LC_ALL=C grep -qaP '\x04\0\0\0\x08\0\0\0\x12\0\0\0Xen\0' "$out.elf"; then
		mv "$out.elf" "$out"
		rm "$out.xz"
	else
		echo "build-debian-base: no PVH kernel in $bzimage; the base boots the bzImage" >&2
		rm -f "$out.elf" "$out.xz"
		cp "$bzimage" "$out"
	fi
}

# The root file system image, the kernel and the initrd, and the package
# list, while the tree's owners are still root (in unshare mode only this
# namespace sees them so). Made in a scratch directory and moved into the
# chroot at /bulkhead-out, which the sync-out hook copies to OUTDIR: in
# unshare mode, root here is a subordinate id that cannot reach OUTDIR.
hook_image() {
	local root=$1
	# Global: the trap runs after this function has returned.
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	chroot "$root" dpkg-query -W -f '${Package}\t${Version}\n' >"$work/packages.tsv"
	extract_kernel "$root"/boot/vmlinuz-* "$work/vmlinuz"
	ls "$root/lib/modules" >"$work/kernel-version"
	make_initrd "$root" "$work/initrd.img"
	rm -rf "$root/bulkhead-in" "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
		"$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log "$root"/var/log/apt/*
	progress filesystem
	# A plain bind mount of the tree shows none of the /proc, /sys and /dev
	# mounts mmdebstrap made inside it.
	local tree status=0
	tree=$(mktemp -d)
	mount --bind "$root" "$tree"
	mke2fs -q -t ext4 -L bulkhead-root -d "$tree" -E nodiscard \
		"$work/root.raw" "${BH_BASE_SIZE}G" || status=$?
	umount "$tree"
	rmdir "$tree"
	[ $status = 0 ] || return $status
	progress qcow2
	# Uncompressed: a compressed cluster costs a decompression at every
	# read, and the base is read at every boot of every tag.
	qemu-img convert -O qcow2 "$work/root.raw" "$work/root.qcow2"
	rm "$work/root.raw"
	chmod 644 "$work"/*
	mkdir "$root/bulkhead-out"
	mv "$work"/* "$root/bulkhead-out/"
}

if [ "${1:-}" = --hook ]; then
	exec 3>&"$BH_BASE_PROGRESS_FD"
	"hook_$2" "$3"
	exit
fi

# ---- the main part ----
agent="" suite=bookworm mirror=http://deb.debian.org/debian size=8 extra="" out="" log=""
user=$(id -un)
[ "$user" != root ] || user=user
usage() {
	echo "usage: $0 --agent PATH [--suite S] [--mirror URL] [--size GIB]" \
		"[--packages LIST] [--user NAME] [--log FILE] OUTDIR" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--agent | --suite | --mirror | --size | --packages | --user | --log)
		[ $# -ge 2 ] || usage
		case $1 in
		--agent) agent=$2 ;;
		--suite) suite=$2 ;;
		--mirror) mirror=$2 ;;
		--size) size=$2 ;;
		--packages) extra="$extra $2" ;;
		--user) user=$2 ;;
		--log) log=$2 ;;
		esac
		shift 2
		;;
	-*) usage ;;
	*)
		[ -z "$out" ] || usage
		out=$1
		shift
		;;
	esac
done
[ -n "$out" ] || usage
# fd 3 carries progress; the log, when named, takes everything else.
if [ -n "${BH_BASE_PROGRESS_FD:-}" ]; then
	exec 3>&"$BH_BASE_PROGRESS_FD"
else
	exec 3>&1
fi
if [ -n "$log" ]; then
	exec >"$log" 2>&1
fi
fail() {
	echo "build-debian-base: $*" >&2
	exit 1
}
progress check
[ -n "$agent" ] && [ -x "$agent" ] || fail "no agent binary (--agent PATH)"
[[ $size =~ ^[0-9]+$ ]] && [ "$size" -ge 2 ] && [ "$size" -le 1024 ] ||
	fail "--size is a whole number of GiB from 2 to 1024, not \"$size\""
[[ $user =~ ^[a-z_][a-z0-9_-]{0,30}$ ]] || fail "\"$user\" is not a usable user name (--user)"
[[ $suite =~ ^[a-z0-9-]+$ ]] || fail "\"$suite\" is not a Debian suite name"
[[ $mirror =~ ^[a-z+]+://[^[:space:]]+$ ]] || fail "\"$mirror\" is not a mirror URL"
extra=$(echo "$extra" | tr ',' ' ' | xargs -r echo)
for p in $extra; do
	[[ $p =~ ^[a-z0-9][a-z0-9+.:=~-]*$ ]] || fail "\"$p\" is not a package name (--packages)"
done
mmdebstrap=${BH_TEST_MMDEBSTRAP:-mmdebstrap}
for tool in "$mmdebstrap" mke2fs qemu-img cpio zstd xz; do
	command -v "$tool" >/dev/null || fail "$tool is missing (./setup.sh deps installs it)"
done
if [ "$(id -u)" = 0 ]; then
	mode=root
else
	mode=unshare
	command -v newuidmap >/dev/null || fail "unshare mode needs newuidmap (package uidmap)"
	grep -q "^$(id -un):" /etc/subuid ||
		fail "$(id -un) has no range in /etc/subuid, which unshare mode needs (usermod" \
			"--add-subuids 100000-165535 --add-subgids 100000-165535 $(id -un))"
fi
mkdir -p "$out"
[ -z "$(ls -A "$out")" ] || fail "$out is not empty"
out=$(cd "$out" && pwd)

# The agent's libraries come from the same Debian packages in the image.
agent_packages=""
for lib in $(ldd "$agent" | grep -o '/[^ ]*' | grep -v '/ld-linux'); do
	pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
		dpkg -S "/usr$lib" 2>/dev/null) ||
		fail "no Debian package provides $lib (for the agent)"
	agent_packages="$agent_packages ${pkg%%:*}"
done

packages="systemd systemd-sysv udev dbus kmod linux-image-amd64 initramfs-tools busybox-static
	e2fsprogs util-linux foot weston xwayland fonts-dejavu-core less vim-tiny procps ca-certificates
	$agent_packages $extra"
packages=$(echo $packages | tr ' ' '\n' | sort -u | paste -sd,)

export BH_BASE_USER=$user BH_BASE_SIZE=$size BH_BASE_PROGRESS_FD=3
# In unshare mode the hooks' root is a subordinate id that may not reach
# this script or the agent where they are: both are copied into the chroot
# (/bulkhead-in) first, by mmdebstrap's copy-in, which runs as the caller.
inputs=$(mktemp -d)
trap 'rm -rf "$inputs"' EXIT
cp "$0" "$inputs/recipe"
cp "$agent" "$inputs/agent"
hook='"$1/bulkhead-in/recipe" --hook'
progress download
started=$(date +%s)
# /usr merged by mmdebstrap rather than by the usrmerge package and the perl
# it needs; dpkg without its syncs (eatmydata), which the image does not
# need while it is being made.
"$mmdebstrap" --verbose --mode="$mode" --variant=minbase --format=null --include="$packages" \
	--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
	--hook-dir=/usr/share/mmdebstrap/hooks/eatmydata \
	--setup-hook='mkdir "$1/bulkhead-in"' \
	--setup-hook="copy-in $inputs/recipe $inputs/agent /bulkhead-in" \
	--essential-hook="$hook essential \"\$1\"" \
	--customize-hook="$hook configure \"\$1\"" \
	--customize-hook="$hook image \"\$1\"" \
	--customize-hook="sync-out /bulkhead-out $out" \
	"$suite" /dev/null "deb $mirror $suite main" &
mm=$!
# Stopped, mmdebstrap still has to remove its chroot, which in unshare mode
# only it can (subordinate ids own it): pass the signal on and wait.
trap 'kill -TERM $mm 2>/dev/null || true' TERM INT HUP
status=0
wait $mm || status=$?
while kill -0 $mm 2>/dev/null; do wait $mm || status=$?; done
trap - TERM INT HUP
[ $status = 0 ] || fail "mmdebstrap failed (status $status; see above)"
echo $cmdline >"$out/cmdline"

# The manifest: what the base is made of.
key=$( (
	echo "v$recipe_version"
	sha256sum "$0" "$agent" | cut -d' ' -f1
) | sha256sum | cut -c1-16)
{
	printf '{\n'
	printf '  "recipe": "build-debian-base.sh",\n  "recipe_key": "%s",\n' "$key"
	printf '  "date": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '  "suite": "%s",\n  "mirror": "%s",\n  "user": "%s",\n' "$suite" "$mirror" "$user"
	printf '  "kernel": "%s",\n' "$(cat "$out/kernel-version")"
	printf '  "cmdline": "%s",\n' "$(cat "$out/cmdline")"
	printf '  "build_seconds": %d,\n' $(($(date +%s) - started))
	printf '  "sizes": {"root_virtual_gib": %d, "root_qcow2": %d,' \
		"$size" "$(stat -c %s "$out/root.qcow2")"
	printf ' "vmlinuz": %d, "initrd": %d},\n' \
		"$(stat -c %s "$out/vmlinuz")" "$(stat -c %s "$out/initrd.img")"
	printf '  "packages": {\n'
	awk -F '\t' '{ printf "%s    \"%s\": \"%s\"", (NR > 1 ? ",\n" : ""), $1, $2 }
		END { print "" }' "$out/packages.tsv"
	printf '  }\n}\n'
} >"$out/manifest.json"
rm -f "$out/packages.tsv" "$out/kernel-version"
chmod 644 "$out"/*
echo "build-debian-base: $out in $(($(date +%s) - started)) s"
