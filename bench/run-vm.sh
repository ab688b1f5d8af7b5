#!/bin/bash
# The benchmark client inside a VM: the tiny guest under libvirt (session
# mode, as an ordinary user), the headless bulkhead compositor, and three
# tags that differ only in how window contents travel: through the shared
# region, copied there by the host from the guest's memory (vm-region, the
# default) or by the agent (vm-copy, guest_memory = private), or as bytes
# over virtio-serial (vm-stream, shm_size = off).
# With --remote, two more tags whose libvirt is "another machine" (qemu+ssh
# to a throwaway sshd on localhost, tests/vm/remote-lib.sh): their channel
# goes through libvirt's stream over ssh, lz4-compressed (vm-ssh-lz4, the
# default for such a tag) or not (vm-ssh-none).
# Runs are interleaved; prints frames/s, MB/s on the channel (what the
# tag's proxy read), the median Wayland roundtrip, the median time a frame
# spent in the client's own drawing and in waiting (for a free buffer, then
# commit -> frame callback) and the accelerator, one row per run, then the
# medians.
#   bench/run-vm.sh [--repeats N] [--seconds S] [--sizes WxH,...] [--patterns P,...] [--remote]
# (bench/run --ways vm runs this.) Needs a build tree (BH_BUILD_ROOT or
# build/), the tiny guest's tools (./setup.sh deps) and, as root, runs as
# the VM test user.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# Run again as another user, from /: by its full path.
case $0 in /*) ;; *) exec "$top/bench/run-vm.sh" "$@" ;; esac
export BH_SOURCE_ROOT=$top BH_BUILD_ROOT=${BH_BUILD_ROOT:-$top/build}
REPEATS=3 SECONDS_PER=5 SIZES=1280x720 PATTERNS=full,scroll REMOTE=
while [ $# -gt 0 ]; do
	case $1 in
	--repeats) REPEATS=$2; shift 2 ;;
	--seconds) SECONDS_PER=$2; shift 2 ;;
	--sizes) SIZES=$2; shift 2 ;;
	--patterns) PATTERNS=$2; shift 2 ;;
	--remote) REMOTE=1; shift ;;
	*) echo "usage: bench/run-vm.sh [--repeats N] [--seconds S] [--sizes WxH,...] [--patterns P,...] [--remote]" >&2; exit 2 ;;
	esac
done
export REPEATS SECONDS_PER SIZES PATTERNS REMOTE
# As root this re-runs itself as the VM test user (test-lifecycle-lib.sh),
# which passes only its own variables: the options go through a file.
if [ "$(id -u)" = 0 ]; then
	opts=$(mktemp /tmp/bh-bench-vm.XXXXXX)
	printf 'REPEATS=%s SECONDS_PER=%s SIZES=%s PATTERNS=%s REMOTE=%s\n' "$REPEATS" \
		"$SECONDS_PER" "$SIZES" "$PATTERNS" "$REMOTE" >"$opts"
	chmod 644 "$opts"
	export BH_BENCH_VM_OPTS=$opts
fi
if [ -n "${BH_BENCH_VM_OPTS:-}" ] && [ "$(id -u)" != 0 ]; then
	# shellcheck disable=SC1090
	. "$BH_BENCH_VM_OPTS"
fi
[ -n "$REMOTE" ] && . "$top/tests/vm/remote-lib.sh"
. "$top/tests/vm/test-lifecycle-lib.sh"
bh_need python3
IPC=$top/tests/relay/ipc.py
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
export BULKHEAD_OUTPUT_SIZE=2560x1440 BH_BENCH_REFRESH_HZ=1000
"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[tag vm-region]
memory = 512
app =
[tag vm-copy]
memory = 512
guest_memory = private
app =
[tag vm-stream]
memory = 512
shm_size = off
app =
CFG
TAGS="vm-region vm-copy vm-stream"
if [ -n "$REMOTE" ]; then
	bh_remote_start
	cat >>"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[tag vm-ssh-lz4]
uri = $BH_REMOTE_URI
# The channel is measured: the disks stay files (the same machine here).
disks = files
memory = 512
app =
[tag vm-ssh-none]
uri = $BH_REMOTE_URI
disks = files
compress = none
memory = 512
app =
CFG
	TAGS="$TAGS vm-ssh-lz4 vm-ssh-none"
fi
LD_PRELOAD=$BH_BUILD_ROOT/bench/libbench-headless-refresh.so start_compositor
for t in $TAGS; do
	"$CTL" spawn "$t" >/dev/null || bh_fail "spawn $t failed"
done
for t in $TAGS; do
	# running for the compositor: the agent said hello
	bh_wait_for 300 sh -c "python3 '$IPC' get tags | grep -q '\"name\": \"$t\".*\"state\": \"running\"'" ||
		bh_fail "$t never ran: $(tail -5 "$BH_TMP/compositor.log")"
done
# Each tag's path, as its proxy said it.
grep -q "tag vm-region: window contents are copied by the host from the guest's memory" \
	"$BH_TMP/compositor.log" || bh_fail "vm-region does not take the host's copy: $(grep "tag vm-region.*\(memory\|copies\)" "$BH_TMP/compositor.log")"
grep -q "tag vm-copy: window contents go through the shared region" "$BH_TMP/compositor.log" ||
	bh_fail "vm-copy has no shared region"
grep -q "tag vm-copy: window contents are copied by the host" "$BH_TMP/compositor.log" &&
	bh_fail "vm-copy reads guest memory though guest_memory = private"
accel=tcg
grep -q "<domain type='kvm'" "$XDG_STATE_HOME"/bulkhead/tags/*/domain.xml 2>/dev/null && accel=kvm
[ "${BULKHEAD_ACCEL:-}" = tcg ] && accel=tcg
proxy_pid() {
	pgrep -u "$(id -u)" -f "bulkhead-proxy.*--tag $1( |$)" | head -1
}
io_read() {
	sed -n 's/^rchar: //p' "/proc/$1/io" 2>/dev/null || echo 0
}
echo "| run | size | workload | way | frames/s | MB/s channel | roundtrip µs | draw ms | wait ms | accel |"
echo "|---|---|---|---|--:|--:|--:|--:|--:|---|"
results=$BH_TMP/results
: >"$results"
for r in $(seq "$REPEATS"); do
	for size in ${SIZES//,/ }; do
		for pattern in ${PATTERNS//,/ }; do
			for t in $TAGS; do
				pid=$(proxy_pid "$t")
				[ -n "$pid" ] || bh_fail "no proxy of $t"
				before=$(io_read "$pid")
				t0=$(date +%s.%N)
				line=$("$CTL" exec "$t" -- bench-client --size "$size" --pattern "$pattern" \
					--seconds "$SECONDS_PER" --roundtrips 50 2>"$BH_TMP/exec.err" | grep '^bench ')
				t1=$(date +%s.%N)
				after=$(io_read "$pid")
				fps=$(sed -n 's/.* fps=\([0-9.]*\).*/\1/p' <<<"$line")
				[ -n "$fps" ] || bh_fail "$t gave no result: $line $(tail -3 "$BH_TMP/exec.err")"
				rt=$(sed -n 's/.* rt_med_us=\([0-9.]*\).*/\1/p' <<<"$line")
				draw=$(sed -n 's/.* draw_med_us=\([0-9.]*\).*/\1/p' <<<"$line")
				wait=$(sed -n 's/.* wait_med_us=\([0-9.]*\).*/\1/p' <<<"$line")
				draw=$(python3 -c "print(f'{${draw:-0} / 1000:.1f}')")
				wait=$(python3 -c "print(f'{${wait:-0} / 1000:.1f}')")
				mbs=$(python3 -c "print(f'{($after - $before) / ($t1 - $t0) / 1e6:.1f}')")
				echo "| $r | $size | $pattern | $t | $fps | $mbs | ${rt:--} | $draw | $wait | $accel |"
				echo "$size $pattern $t $fps $mbs ${rt:-0} $draw $wait" >>"$results"
			done
		done
	done
done
echo
echo "Medians of $REPEATS interleaved runs of $SECONDS_PER s (spread: min–max), accel $accel:"
python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    size, pattern, way, fps, mbs = line.split()[:5]
    rows.setdefault((size, pattern), {}).setdefault(way, []).append((float(fps), float(mbs)))
print("| size | workload | region, host copy frames/s | region, agent copy frames/s | "
      "virtio-serial frames/s | host copy / serial | agent copy / serial | serial MB/s |")
print("|---|---|--:|--:|--:|--:|--:|--:|")
def cell(v):
    return f"{statistics.median(v):.1f} ({min(v):.1f}–{max(v):.1f})"
for (size, pattern), ways in rows.items():
    r = [f for f, _ in ways.get("vm-region", [])]
    c = [f for f, _ in ways.get("vm-copy", [])]
    s = [f for f, _ in ways.get("vm-stream", [])]
    mb = [m for _, m in ways.get("vm-stream", [])]
    if not r or not c or not s:
        continue
    ms = statistics.median(s)
    print(f"| {size} | {pattern} | {cell(r)} | {cell(c)} | {cell(s)} | "
          f"{statistics.median(r) / ms if ms else 0:.2f}× | "
          f"{statistics.median(c) / ms if ms else 0:.2f}× | {statistics.median(mb):.1f} |")
PY
echo
echo "Every way, medians (frames/s, MB/s the proxy read from the channel, Wayland roundtrip, a frame's drawing and waiting):"
python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    size, pattern, way, fps, mbs, rt, draw, wait = line.split()
    rows.setdefault((size, pattern, way), []).append(
        (float(fps), float(mbs), float(rt), float(draw), float(wait)))
print("| size | workload | way | frames/s | MB/s channel | roundtrip µs | draw ms | wait ms |")
print("|---|---|---|--:|--:|--:|--:|--:|")
for (size, pattern, way), runs in rows.items():
    med = [statistics.median(v) for v in zip(*runs)]
    print(f"| {size} | {pattern} | {way} | {med[0]:.1f} | {med[1]:.1f} | {med[2]:.0f} | "
          f"{med[3]:.1f} | {med[4]:.1f} |")
PY
