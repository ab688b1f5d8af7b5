# Shared set-up for the relay tests that need no bulkhead compositor: a
# headless weston (with its screenshooter) as the host compositor, the real
# agent, and relay-host, the test stand-in that runs the proxy's relay code
# against any compositor. Guest clients run as the guest user: nobody when
# the test runs as root.
. "$BH_SOURCE_ROOT/tests/lib.sh"
. "$BH_SOURCE_ROOT/tests/relay/relay-lib.sh"
bh_need weston weston-screenshooter python3
bh_tmpdir
AGENT=$BH_BUILD_ROOT/guest-agent/bulkhead-agent
RELAY_HOST=$BH_BUILD_ROOT/tests/relay/relay-host
PROBE=$BH_SOURCE_ROOT/tests/relay/png-probe.py
HOST_DIR=$BH_TMP/host
GUEST_DIR=$BH_TMP/guest
mkdir -p "$HOST_DIR" "$GUEST_DIR" "$BH_TMP/shots"
chmod 700 "$HOST_DIR" "$GUEST_DIR"
chmod 755 "$BH_TMP"
AS_GUEST=(env)
if [ "$(id -u)" = 0 ]; then
	bh_need setpriv
	chown nobody "$GUEST_DIR"
	AS_GUEST=(setpriv --reuid=nobody --regid=nogroup --clear-groups env)
fi
AS_GUEST+=(XDG_RUNTIME_DIR="$GUEST_DIR" WAYLAND_DISPLAY=guest-0 HOME="$GUEST_DIR" LANG=C.UTF-8)

start_weston() {
	XDG_RUNTIME_DIR=$HOST_DIR weston --debug --backend=headless-backend.so --socket=wl-host \
		--width=800 --height=600 --use-pixman --idle-time=0 >"$BH_TMP/weston.log" 2>&1 &
	BH_CLEANUP_PIDS+=("$!")
	bh_wait_for 10 test -S "$HOST_DIR/wl-host" || bh_fail "headless weston did not start"
}

start_relay() {
	"${AS_GUEST[@]}" "$AGENT" --channel "unix:$GUEST_DIR/chan" --listen \
		--wayland-display guest-0 >>"$BH_TMP/agent.log" 2>&1 &
	AGENT_PID=$!
	BH_CLEANUP_PIDS+=("$AGENT_PID")
	bh_wait_for 10 test -S "$GUEST_DIR/chan" || bh_fail "the agent did not listen"
	XDG_RUNTIME_DIR=$HOST_DIR WAYLAND_DISPLAY=wl-host "$RELAY_HOST" ${RELAY_HOST_ARGS:-} "$GUEST_DIR/chan" \
		>>"$BH_TMP/relay.log" 2>&1 &
	RELAY_PID=$!
	BH_CLEANUP_PIDS+=("$RELAY_PID")
	bh_wait_for 10 grep -q "host connected" "$BH_TMP/agent.log" ||
		bh_fail "the relay host did not connect to the agent"
}

# Runs a guest client in the background; its pid in GUEST_PID.
guest_run() {
	"${AS_GUEST[@]}" "$@" >>"$BH_TMP/clients.log" 2>&1 &
	GUEST_PID=$!
	BH_CLEANUP_PIDS+=("$GUEST_PID")
}

# Takes a screenshot of the host compositor into $BH_TMP/shots/$1.png.
shot() {
	local dir=$BH_TMP/shots/tmp
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && XDG_RUNTIME_DIR=$HOST_DIR WAYLAND_DISPLAY=wl-host timeout 10 \
		weston-screenshooter) || bh_fail "weston-screenshooter failed"
	mv "$dir"/*.png "$BH_TMP/shots/$1.png" || bh_fail "no screenshot was written"
}

# The relay's own complaints: none may appear while well-behaved clients run.
relay_errors() {
	grep -h -E " (error|warn) " "$BH_TMP/agent.log" "$BH_TMP/relay.log" 2>/dev/null
}

# check_simple_shm: weston-simple-shm runs in the guest for 3 s and its
# colour pattern is on the host's screen (against the screenshot "base").
check_simple_shm() {
	guest_run weston-simple-shm
	sleep 3
	shot shm
	kill "$GUEST_PID"
	local sat base_sat
	sat=$(python3 "$PROBE" "$BH_TMP/shots/shm.png" saturated 0 40 800 560)
	base_sat=$(python3 "$PROBE" "$BH_TMP/shots/base.png" saturated 0 40 800 560)
	echo "weston-simple-shm: $sat strongly coloured pixels (desktop alone: $base_sat)"
	[ "$sat" -gt $((base_sat + 20000)) ] || bh_fail "weston-simple-shm's pattern is not on screen"
}
