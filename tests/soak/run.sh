#!/bin/bash
# The soak: tests/soak/run.sh MINUTES [SEED] (or SOAK_SEED=N) runs a headless
# session with tags on the tiny guest under libvirt (TCG) and relay-only
# tags (agents on unix channels), and lets tests/soak/driver.py use it with
# faults for MINUTES; see driver.py for what it does and checks. The seed is
# printed at the start and in the summary; the logs stay in the scratch
# directory with BH_KEEP=1.
minutes=${1:-3}
# The seed travels as an argument: a root run starts this script again as
# the VM test user with a cleared environment.
seed=${2:-${SOAK_SEED:-}}
[ -n "$seed" ] || seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
set -- "$minutes" "$seed"
# Run by hand as well as from meson: the tree is the one this script is in.
export BH_SOURCE_ROOT=${BH_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# As root: a user of its own, so that every process, socket and /dev/shm
# file of that user is this run's.
BH_VM_TEST_USER=${BH_VM_TEST_USER:-bulkhead-soak}
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
bh_need python3 foot weston-terminal weston-simple-shm wtype
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
# The terminals' shell: the test user's login shell may be nologin, which
# would end each terminal as it opens.
export SHELL=/bin/sh

"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"
# One VM tag and two relay tags (the driver's forwarders listen on the
# -front sockets and pass the bytes on to each agent). No default apps:
# the driver opens every window itself.
export SOAK_VM_TAGS="soak-vm" SOAK_RELAY_TAGS="soak-r1 soak-r2"
{
	printf '[general]\ntag_app =\n'
	printf '[tag soak-vm]\nmemory = 384\napp =\n'
	for t in $SOAK_RELAY_TAGS; do
		printf '[tag %s]\nchannel = unix:%s/%s-front.sock\napp =\n' "$t" "$BH_TMP" "$t"
	done
} >"$XDG_CONFIG_HOME/bulkhead/config"
start_compositor
export BH_TMP BH_BUILD_ROOT BH_SOURCE_ROOT SOAK_MINUTES=$minutes SOAK_SEED=$seed
python3 "$BH_SOURCE_ROOT/tests/soak/driver.py"
status=$?
if [ "$status" != 0 ]; then
	echo "--- the compositor's log, last lines ---" >&2
	tail -30 "$BH_TMP/compositor.log" >&2
fi
exit $status
