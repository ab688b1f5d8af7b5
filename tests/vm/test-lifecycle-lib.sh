# Shared set-up of the VM lifecycle tests: a real libvirt session of an
# unprivileged user, TCG, private XDG directories, the tiny test guest.
. "$BH_SOURCE_ROOT/tests/lib.sh"
bh_need qemu-img qemu-io qemu-system-x86_64 virsh libvirtd runuser

CTL=$BH_BUILD_ROOT/cli/bulkheadctl
CHANNEL_EXEC=$BH_BUILD_ROOT/tests/vm/channel_exec
VM_TEST_USER=${BH_VM_TEST_USER:-bulkhead-test}

# libvirt's session daemon is for ordinary users: as root, run this very
# test again as a dedicated unprivileged user.
if [ "$(id -u)" = 0 ]; then
	# The tiny guest is built (or found cached) in the build tree first.
	if [ -z "${BH_TINY_GUEST_DIR:-}" ]; then
		BH_TINY_GUEST_DIR=$BH_BUILD_ROOT/guest/tiny
		BH_BUILD=$BH_BUILD_ROOT "$BH_SOURCE_ROOT/guest/build-tiny-guest.sh" "$BH_TINY_GUEST_DIR" >&2 ||
			bh_fail "building the tiny test guest failed"
		chmod -R a+rX "$BH_TINY_GUEST_DIR"
	fi
	if ! id "$VM_TEST_USER" >/dev/null 2>&1; then
		useradd --system --home-dir /nonexistent --no-create-home \
			--shell /usr/sbin/nologin "$VM_TEST_USER" ||
			bh_fail "cannot create the test user $VM_TEST_USER"
	fi
	script=$(readlink -f "$0")
	cd /
	exec runuser -u "$VM_TEST_USER" -- env -i PATH="$PATH" CI="${CI:-}" \
		BH_SOURCE_ROOT="$BH_SOURCE_ROOT" BH_BUILD_ROOT="$BH_BUILD_ROOT" \
		BH_TINY_GUEST_DIR="${BH_TINY_GUEST_DIR:-}" BH_KEEP="${BH_KEEP:-}" \
		BH_REGION_HANDSHAKE="${BH_REGION_HANDSHAKE:-}" BH_BENCH_VM_OPTS="${BH_BENCH_VM_OPTS:-}" \
		BH_TEST_KERNEL_ROOT="${BH_TEST_KERNEL_ROOT:-}" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" LSAN_OPTIONS="${LSAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" BH_CONSOLE_OUT="${BH_CONSOLE_OUT:-}" \
		BULKHEAD_PROXY_SANDBOX="${BULKHEAD_PROXY_SANDBOX:-}" bash "$script" "$@"
fi

bh_tmpdir
chmod 755 "$BH_TMP"
export HOME=$BH_TMP/home XDG_RUNTIME_DIR=$BH_TMP/run XDG_CONFIG_HOME=$BH_TMP/config
export XDG_STATE_HOME=$BH_TMP/state XDG_DATA_HOME=$BH_TMP/data
export LIBVIRT_DEFAULT_URI=qemu:///session BULKHEAD_ACCEL=tcg
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME/bulkhead"
chmod 700 "$XDG_RUNTIME_DIR"

# save_consoles LABEL: when BH_CONSOLE_OUT names a folder (a caller that
# reads the guests' consoles afterwards: a sanitized agent reports there),
# copies each tag's console log into it as TAG.LABEL.log. A start truncates
# the log, so a test that restarts a tag saves them before.
save_consoles() {
	[ -n "${BH_CONSOLE_OUT:-}" ] || return 0
	local dir
	for dir in "$XDG_STATE_HOME"/bulkhead/tags/*/; do
		[ -f "$dir/console.log" ] && cp "$dir/console.log" "$BH_CONSOLE_OUT/$(basename "$dir").$1.log"
	done
	return 0
}

# Every domain of this session goes at exit, whatever happened (the
# consoles saved first, for a caller that reads them).
vm_cleanup() {
	local dom
	save_consoles exit
	for dom in $(virsh list --name 2>/dev/null | grep '^bulkhead-'); do
		virsh destroy "$dom" >/dev/null 2>&1
	done
	bh_remove_regions
	# This session's own daemon would linger for its idle timeout.
	local pidfile
	for pidfile in "$XDG_RUNTIME_DIR"/libvirt/*.pid; do
		[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
	done
	bh_cleanup
}
trap vm_cleanup EXIT

# The tiny test guest: vmlinuz and initrd.img with the agent.
if [ -n "${BH_TINY_GUEST_DIR:-}" ]; then
	GUEST=$BH_TINY_GUEST_DIR
else
	GUEST=$BH_BUILD_ROOT/guest/tiny
	BH_BUILD=$BH_BUILD_ROOT "$BH_SOURCE_ROOT/guest/build-tiny-guest.sh" "$GUEST" >&2 ||
		bh_fail "building the tiny test guest failed"
fi
[ -r "$GUEST/vmlinuz" ] && [ -r "$GUEST/initrd.img" ] ||
	bh_fail "the tiny test guest in $GUEST has no vmlinuz/initrd.img"

virsh version >/dev/null 2>&1 || bh_fail "libvirt session unreachable: $(virsh version 2>&1)"

# Runs a shell command line in the guest of a running tag, as its user.
guest_sh() {
	local tag=$1
	shift
	local channel
	channel=$("$CTL" status --json "$tag" | sed -n 's/.*"channel":"\([^"]*\)".*/\1/p')
	[ -n "$channel" ] || bh_fail "tag $tag has no channel: $("$CTL" status "$tag" 2>&1)"
	timeout 120 "$CHANNEL_EXEC" "$channel" sh -c "$*"
}

# The domains of a tag libvirt knows (0 or 1).
domain_count() {
	virsh list --name | grep -cx "bulkhead-$1"
}

tag_state() {
	"$CTL" status --json "$1" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'
}

# The headless compositor with the test's config; exports BULKHEAD_SOCKET
# and WAYLAND_DISPLAY for bulkheadctl, the IPC script and host clients.
start_compositor() {
	"$BH_BUILD_ROOT/compositor/bulkhead" 2>"$BH_TMP/compositor.log" &
	BH_CLEANUP_PIDS+=("$!")
	bh_wait_for 20 sh -c "ls '$XDG_RUNTIME_DIR'/bulkhead-*.sock >/dev/null 2>&1" ||
		bh_fail "the compositor did not start"
	export BULKHEAD_SOCKET WAYLAND_DISPLAY
	BULKHEAD_SOCKET=$(ls "$XDG_RUNTIME_DIR"/bulkhead-*.sock | head -1)
	WAYLAND_DISPLAY=$(basename "$(ls "$XDG_RUNTIME_DIR"/wayland-* | grep -v lock | head -1)")
}

# check_boot_trace TAG: prints the tag's last boot trace and checks that every
# step from the spawn to the window, the guest's own included, is there and
# that they add up to the total.
check_boot_trace() {
	"$CTL" boot-trace "$1" || bh_fail "boot-trace failed"
	"$CTL" boot-trace --json "$1" >"$BH_TMP/boot.json" || bh_fail "boot-trace --json failed"
	python3 - "$BH_TMP/boot.json" <<'PY' || bh_fail "the boot trace is incomplete: $(cat "$BH_TMP/boot.json")"
import json, sys
b = json.load(open(sys.argv[1]))
steps = {s["step"]: s["ms"] for s in b["steps"]}
assert b["complete"], "no first window in the trace"
for name in ["libvirt starts the VM", "guest kernel to init", "guest init to agent ready",
             "first connection to its window shown"]:
    assert name in steps, name
assert steps["guest kernel to init"] > 0 and steps["guest init to agent ready"] > 0, steps
assert abs(sum(steps.values()) - b["total_ms"]) < 50, (sum(steps.values()), b["total_ms"])
PY
}
