#!/bin/bash
# The main job: the bulkhead compositor with a demo tag's VM and a guest
# window. Builds the tiny guest, registers it as a base, starts the
# compositor (nested in the current Wayland or X11 session when there is
# one, headless otherwise), spawns tag "demo" through the compositor as a
# user would (its VM boots through libvirt, its proxy connects, its terminal
# opens framed in the tag's colour), and saves a screenshot.
#   tests/main-job.sh OUTDIR
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$top/out}" && cd "${1:-$top/out}" && pwd)
build=${BH_BUILD:-$top/build}
. "$top/tests/lib.sh"
user=${BH_VM_TEST_USER:-bulkhead-test}
say() { printf '==> %s\n' "$*"; }
die() {
	printf 'main job failed: %s\n' "$*" >&2
	exit 1
}

guest=$build/guest/tiny
if [ -z "${BH_GUEST_BUILT:-}" ]; then
	say "building the tiny guest"
	BH_BUILD=$build "$top/guest/build-tiny-guest.sh" "$guest" || die "building the tiny guest failed"
	chmod -R a+rX "$guest"
fi

# libvirt's session mode is for ordinary users: as root, run as a dedicated one.
if [ "$(id -u)" = 0 ]; then
	id "$user" >/dev/null 2>&1 ||
		useradd --system --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$user" ||
		die "cannot create the user $user for the VM"
	chmod 755 "$out"
	chown "$user" "$out"
	say "running as $user (libvirt session mode needs an ordinary user)"
	cd /
	exec runuser -u "$user" -- env -i PATH="$PATH" BH_BUILD="$build" BH_GUEST_BUILT=1 \
		${WAYLAND_DISPLAY:+WAYLAND_DISPLAY=$WAYLAND_DISPLAY} ${DISPLAY:+DISPLAY=$DISPLAY} \
		bash "$0" "$out"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bulkhead-main.XXXXXX")
chmod 755 "$work"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
	for dom in $(virsh list --name 2>/dev/null | grep '^bulkhead-'); do
		virsh destroy "$dom" >/dev/null 2>&1
	done
	bh_remove_regions
	for pidfile in "$XDG_RUNTIME_DIR"/libvirt/*.pid; do
		[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

# A private session: the demo's disks and sockets live under $work, and a
# display the user has stays theirs.
host_wayland=${WAYLAND_DISPLAY:-}
host_runtime=${XDG_RUNTIME_DIR:-}
export HOME=$work/home XDG_RUNTIME_DIR=$work/run XDG_CONFIG_HOME=$work/config
export XDG_STATE_HOME=$work/state XDG_DATA_HOME=$work/data
export LIBVIRT_DEFAULT_URI=${LIBVIRT_DEFAULT_URI:-qemu:///session}
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME/bulkhead"
chmod 700 "$XDG_RUNTIME_DIR"
if [ -n "$host_wayland" ] && [ -n "$host_runtime" ]; then
	ln -s "$host_runtime/$host_wayland" "$XDG_RUNTIME_DIR/host-wayland"
	export WAYLAND_DISPLAY=host-wayland
	mode="nested in your Wayland session"
elif [ -n "${DISPLAY:-}" ]; then
	mode="nested in your X11 session"
else
	export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
	mode="headless"
fi

say "registering it as a base"
"$build/cli/bulkheadctl" base add --kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" \
	>"$work/base.log" 2>&1 || die "bulkheadctl base add failed: $(tail -3 "$work/base.log")"

cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[general]
tag_app = ${BH_DEMO_APP:-foot}
[tag demo]
colour = #2e86de
memory = 512
CFG

say "starting the compositor ($mode)"
"$build/compositor/bulkhead" 2>"$out/compositor.log" &
pids+=($!)
for _ in $(seq 100); do
	ls "$XDG_RUNTIME_DIR"/bulkhead-*.sock >/dev/null 2>&1 && break
	sleep 0.1
done
export BULKHEAD_SOCKET
BULKHEAD_SOCKET=$(ls "$XDG_RUNTIME_DIR"/bulkhead-*.sock 2>/dev/null | head -1)
[ -S "$BULKHEAD_SOCKET" ] || die "the compositor did not start: $(tail -3 "$out/compositor.log")"
session_display=$(basename "$(ls "$XDG_RUNTIME_DIR"/wayland-* | grep -v lock | head -1)")

say "spawning tag demo: its VM boots under libvirt, then its terminal opens"
start=$SECONDS
"$build/cli/bulkheadctl" spawn demo || die "bulkheadctl spawn demo failed"
deadline=$((SECONDS + ${BH_DEMO_TIMEOUT:-300}))
while :; do
	windows=$("$build/cli/bulkheadctl" windows --json 2>/dev/null)
	echo "$windows" | grep -q '"tag":"demo"' && break
	state=$(python3 "$top/tests/relay/ipc.py" get tags 2>/dev/null | grep '"name": "demo"')
	if echo "$state" | grep -q '"state": "failed"'; then
		die "tag demo failed: $(echo "$state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["error"])')"
	fi
	[ "$SECONDS" -lt "$deadline" ] || die "no demo window after $((SECONDS - start)) s (see $out/compositor.log)"
	sleep 1
done
say "the demo terminal appeared after $((SECONDS - start)) s"
sleep 2
WAYLAND_DISPLAY=$session_display grim "$out/screenshot.png" || die "grim could not take the screenshot"
"$build/cli/bulkheadctl" windows >"$out/windows.txt"
cat "$out/windows.txt"
say "screenshot: $out/screenshot.png"
if [ "$mode" != headless ]; then
	say "the session stays open; close its window or press Super+Shift+e to quit"
	wait "${pids[0]}"
fi
