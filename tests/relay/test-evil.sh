#!/bin/bash
# The evil agent against the proxy's relay code: every malformed case ends
# only its own stream with a logged reason, while a well-behaved client of
# the same tag and the compositor keep working. Three times: without a
# shared region, with one offered, which the evil agent claims to map (every
# slot it names is checked: bounds, header, alignment, overflow, reuse
# before release, resize, bytes sent for it, guest memory named to a host
# that does not read it), and with a host that reads "guest memory" (a
# sealed memfd of the relay's own: every address, length and destination
# of the pieces the agent names is checked).
. "$BH_SOURCE_ROOT/tests/relay/relay-env.sh"
. "$BH_SOURCE_ROOT/tests/relay/relay-lib.sh"
EVIL=$BH_BUILD_ROOT/tests/relay/evil-agent
start_weston

# run_evil NAME EVIL-ARGS -- RELAY-ARGS: one evil agent against one relay;
# prints the count of cases, leaves NAME.out and NAME.log.
run_evil() {
	local name=$1 evil_args=() relay_args=() rc
	shift
	while [ "$1" != -- ]; do evil_args+=("$1"); shift; done
	shift
	relay_args=("$@")
	"$EVIL" "$BH_TMP/$name.sock" "${evil_args[@]}" >"$BH_TMP/$name.out" 2>&1 &
	local evil_pid=$!
	BH_CLEANUP_PIDS+=("$evil_pid")
	bh_wait_for 10 test -S "$BH_TMP/$name.sock" || bh_fail "the evil agent did not listen"
	XDG_RUNTIME_DIR=$HOST_DIR WAYLAND_DISPLAY=wl-host "$RELAY_HOST" "${relay_args[@]}" \
		"$BH_TMP/$name.sock" >"$BH_TMP/$name.log" 2>&1 &
	local relay_pid=$!
	BH_CLEANUP_PIDS+=("$relay_pid")
	wait "$evil_pid"
	rc=$?
	check_evil_output "$rc" "$BH_TMP/$name.out" "$BH_TMP/$name.log" || exit 1
	# relay-host ends normally when the evil agent hangs up; a crash would not.
	wait "$relay_pid"
	[ $? = 0 ] || bh_fail "the relay process crashed: $(tail -3 "$BH_TMP/$name.log")"
	XDG_RUNTIME_DIR=$HOST_DIR WAYLAND_DISPLAY=wl-host timeout 5 wayland-info >/dev/null ||
		bh_fail "the compositor stopped answering"
}

cases=$(run_evil evil --) || exit 1
region_cases=$(run_evil region --region -- --region 16) || exit 1
grep -q "^good region slot reused after release" "$BH_TMP/region.out" ||
	bh_fail "the shared region's cases did not run"
grep -q "window contents go through the shared region" "$BH_TMP/region.log" ||
	bh_fail "the relay did not take the region: $(tail -3 "$BH_TMP/region.log")"
ram_cases=$(run_evil guestram --region --guest-ram 8 -- --region 16 --guest-ram 8) || exit 1
grep -q "^good guest memory copied into its own buffer" "$BH_TMP/guestram.out" ||
	bh_fail "the guest-memory cases did not run"
echo "PASS: $cases cases, $region_cases with a shared region, $ram_cases with guest memory"
