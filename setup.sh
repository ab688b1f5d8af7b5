#!/usr/bin/env bash
# Set-up for a fresh Debian 12 machine, as root or as a user with sudo.
#   ./setup.sh run    install, build, and run the main job (screenshot in out/)
#   ./setup.sh test   install, build, and run every test suite
#   ./setup.sh deps | build    just that step
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD

# Everything the build, the tests and the main job need, from Debian 12.
packages=(
	# build
	build-essential meson ninja-build pkg-config clang libclang-rt-14-dev scdoc git
	libwlroots-dev libwayland-dev wayland-protocols libxkbcommon-dev libpixman-1-dev
	libcairo2-dev libpango1.0-dev libinih-dev libjson-c-dev libseccomp-dev libvirt-dev liblz4-dev
	nettle-dev
	libxcb1-dev libxcb-composite0-dev libxcb-xfixes0-dev
	# the Debian package and its test
	debhelper dpkg-dev lintian
	# virtual machines
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils
	# tags on another machine: a throwaway sshd on localhost in the tests (the
	# far side runs virt-ssh-helper, from libvirt-daemon)
	openssh-server openssh-client
	# guest images
	linux-image-amd64 busybox-static cpio zstd xz-utils kmod mmdebstrap uidmap
	# real clients and tools for tests, benchmarks and the main job
	foot weston grim wtype wayland-utils gtk-3-examples waypipe xvfb python3
	# X11 apps in a tag: the guest's Xwayland (run on the host by the relay tests)
	xwayland xterm x11-utils xclip
	fonts-dejavu-core procps psmisc util-linux passwd iproute2
)

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}

step() { printf '==> %s\n' "$*"; }

deps() {
	local missing=()
	local p
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		step "all ${#packages[@]} packages are installed"
		return
	fi
	step "installing ${#missing[@]} packages: ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
	if [ ! -f build/build.ninja ]; then
		step "configuring build/"
		meson setup build --prefix=/usr/local
	fi
	step "building"
	meson compile -C build
}

run_main() {
	step "running the main job"
	exec "$top/tests/main-job.sh" "$top/out"
}

run_tests() {
	step "running the tests"
	exec "$top/tests/run-all.sh"
}

case "${1:-}" in
deps) deps ;;
build) build ;;
run)
	deps
	build
	run_main
	;;
test)
	deps
	build
	run_tests
	;;
*)
	echo "usage: $0 run|test|deps|build" >&2
	exit 2
	;;
esac
