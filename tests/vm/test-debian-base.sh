#!/bin/bash
# The Debian base end to end under TCG: `bulkheadctl base build` makes it
# (unless the build tree holds one from the same recipe and agent), a tag
# boots on it, its agent answers, commands run as the user the base was made
# for and not as root, no unit failed, the power button stops it cleanly, a
# file in home survives stop and start, and the boot's timings are printed.
. "$BH_SOURCE_ROOT/tests/lib.sh"
bh_need mmdebstrap mke2fs qemu-img cpio zstd xz

CACHE=$BH_BUILD_ROOT/guest/debian-base
RECIPE=$BH_BUILD_ROOT/guest/build-debian-base.sh
AGENT=$BH_BUILD_ROOT/guest-agent/bulkhead-agent
[ -x "$RECIPE" ] && [ -x "$AGENT" ] || bh_fail "build first: no $RECIPE or $AGENT"
key=$(cat "$RECIPE" "$AGENT" | sha256sum | cut -c1-16)

# Built before the lifecycle set-up runs this again as its unprivileged
# user: as root mmdebstrap needs no subordinate ids.
if [ "$(cat "$CACHE/key" 2>/dev/null)" != "$key" ] || [ ! -f "$CACHE/root.qcow2" ]; then
	if [ "$(id -u)" != 0 ] && ! grep -q "^$(id -un):" /etc/subuid; then
		[ -z "${CI:-}" ] || bh_fail "$(id -un) has no /etc/subuid range for mmdebstrap"
		echo "SKIP: $(id -un) has no /etc/subuid range for mmdebstrap; run as root" >&2
		exit 77
	fi
	echo "building the Debian base into $CACHE" >&2
	rm -rf "$CACHE"
	state=$(mktemp -d)
	started=$SECONDS
	# The build's log goes to a scratch state directory, not root's own.
	XDG_STATE_HOME=$state "$BH_BUILD_ROOT/cli/bulkheadctl" base build --output "$CACHE" >&2 ||
		{
			rm -rf "$state"
			bh_fail "base build failed"
		}
	rm -rf "$state"
	echo "$key" >"$CACHE/key"
	chmod -R a+rX "$CACHE"
	echo "base build took $((SECONDS - started)) s" >&2
else
	echo "Debian base: cached in $CACHE" >&2
fi

. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"

"$CTL" base add "$CACHE" --cmdline "$(cat "$CACHE/cmdline")" >/dev/null ||
	bh_fail "base add failed"
user=$(sed -n 's/^  "user": "\([^"]*\)".*/\1/p' "$CACHE/manifest.json")
[ -n "$user" ] || bh_fail "the manifest names no user"
TAG=deb

# Seconds.hundredths since $1 (date +%s%N).
since() {
	local ms=$((($(date +%s%N) - $1) / 10000000))
	printf '%d.%02d' $((ms / 100)) $((ms % 100))
}

t0=$(date +%s%N)
"$CTL" start --timeout 600 "$TAG" >/dev/null ||
	bh_fail "start failed: $("$CTL" console "$TAG" | tail -20)"
first_boot=$(since "$t0")

[ "$(guest_sh "$TAG" id -un)" = "$user" ] ||
	bh_fail "guest commands do not run as $user: $(guest_sh "$TAG" id)"
[ "$(guest_sh "$TAG" id -u)" = 1000 ] || bh_fail "the guest user is not uid 1000"
[ "$(guest_sh "$TAG" 'echo $HOME')" = "/home/$user" ] ||
	bh_fail "the guest user's home is not /home/$user"
guest_sh "$TAG" 'findmnt -n -o SOURCE /home' | grep -qx /dev/vdb ||
	bh_fail "home is not the home disk"
guest_sh "$TAG" 'echo debian-base-data > "$HOME/kept" && sync' || bh_fail "writing in home failed"

# The power button is heard from early boot on: a clean stop, no power-off.
"$CTL" stop --timeout 60 "$TAG" 2>"$BH_TMP/stop.err" ||
	bh_fail "stop failed: $(cat "$BH_TMP/stop.err")"
! grep -q "did not shut down" "$BH_TMP/stop.err" || bh_fail "the guest ignored the power button"
[ "$(tag_state "$TAG")" = stopped ] || bh_fail "$TAG did not stop"

t0=$(date +%s%N)
"$CTL" start --timeout 600 "$TAG" >/dev/null ||
	bh_fail "restart failed: $("$CTL" console "$TAG" | tail -20)"
second_boot=$(since "$t0")
[ "$(guest_sh "$TAG" 'cat "$HOME/kept"')" = debian-base-data ] ||
	bh_fail "the file in home did not survive stop and start"

# Every unit came up (degraded would name the failed ones). The agent
# answers before the system bus is there to ask.
state=$(guest_sh "$TAG" 'n=0
	while [ ! -S /run/dbus/system_bus_socket ] && [ $n -lt 200 ]; do
		sleep 0.5
		n=$((n + 1))
	done
	timeout 100 systemctl is-system-running --wait')
[ "$state" = running ] ||
	bh_fail "the guest is $state: $(guest_sh "$TAG" 'systemctl --failed --no-legend')"

# The timings: the host's wait for the agent, and the guest's own clock
# (the initrd's marks, the agent's start, systemd's view).
echo "boot to agent hello (host, start to hello): first $first_boot s, second $second_boot s"
guest_sh "$TAG" '. /run/bulkhead-boot.env
	hz=$(getconf CLK_TCK)
	pid=$(pgrep -o bulkhead-agent)
	agent=$(awk -v hz="$hz" "{ printf \"%.2f\", \$22 / hz }" /proc/$pid/stat)
	echo "guest (second boot): kernel $((BULKHEAD_BOOT_INIT_USEC / 1000)) ms," \
		"initrd $(((BULKHEAD_BOOT_SYSTEMD_USEC - BULKHEAD_BOOT_INIT_USEC) / 1000)) ms," \
		"agent started at $agent s"
	systemd-analyze | head -1
	systemd-analyze blame | head -5'

"$CTL" stop --timeout 60 "$TAG" >/dev/null 2>&1 || bh_fail "final stop failed"
echo "PASS: Debian base boots, runs commands as $user and keeps home"
