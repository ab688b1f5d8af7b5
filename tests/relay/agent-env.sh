# Shared set-up for the agent/proxy tests: an agent listening on a unix
# socket and the real headless compositor serving tag t1 through its proxy.
. "$BH_SOURCE_ROOT/tests/lib.sh"
bh_tmpdir
COMPOSITOR=$BH_BUILD_ROOT/compositor/bulkhead
AGENT=$BH_BUILD_ROOT/guest-agent/bulkhead-agent
CTL=$BH_BUILD_ROOT/cli/bulkheadctl
# The compositor must implement bulkhead_vm_manager_v1 (the proxy's only way
# in); until it does these tests cannot run.
if ! grep -q bulkhead_vm_manager_v1 "$COMPOSITOR" 2>/dev/null; then
	echo "SKIP: the compositor does not offer bulkhead_vm_manager_v1 yet" >&2
	exit 77
fi
export XDG_RUNTIME_DIR=$BH_TMP/run XDG_CONFIG_HOME=$BH_TMP/config
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME/bulkhead"
chmod 700 "$XDG_RUNTIME_DIR"
chmod 755 "$BH_TMP"
CHANNEL=$BH_TMP/channel.sock
# No default app: each test starts the guest clients it looks at.
printf '[tag t1]\nchannel = unix:%s\napp =\n' "$CHANNEL" >"$XDG_CONFIG_HOME/bulkhead/config"
GUEST_DISPLAY=wl-guest-$$
AGENT_ARGS=(--channel "unix:$CHANNEL" --listen --wayland-display $GUEST_DISPLAY)
# Guest apps run as the agent's user, in its runtime dir: this run's own,
# also as root, where guest apps run as nobody (never root), whose
# /run/user directory every concurrent root run would otherwise share.
GUEST_RUN=$XDG_RUNTIME_DIR
AS_GUEST=(env)
if [ "$(id -u)" = 0 ]; then
	GUEST_RUN=$BH_TMP/guest-run
	AGENT_ARGS+=(--user nobody --runtime-dir "$GUEST_RUN")
	AS_GUEST=(setpriv --reuid=nobody --regid=nogroup --clear-groups env)
fi

# start_second_agent 'KEYS': a second tag t2 (config lines KEYS, \n-joined,
# after its channel) and its agent on CHANNEL2, with guest display
# ${GUEST_DISPLAY}2 (in the same runtime dir).
CHANNEL2=$BH_TMP/channel2.sock
start_second_agent() {
	printf '[tag t2]\nchannel = unix:%s\n'"$1" "$CHANNEL2" >>"$XDG_CONFIG_HOME/bulkhead/config"
	"$AGENT" --channel "unix:$CHANNEL2" --listen --wayland-display "${GUEST_DISPLAY}2" \
		"${AGENT_ARGS[@]:5}" 2>>"$BH_TMP/agent2.log" &
	BH_CLEANUP_PIDS+=("$!")
	bh_wait_for 10 test -S "$CHANNEL2" || bh_fail "the second agent did not listen"
}

start_agent() {
	env ${BH_AGENT_LOG:+BULKHEAD_LOG=$BH_AGENT_LOG} "$AGENT" "${AGENT_ARGS[@]}" 2>>"$BH_TMP/agent.log" &
	AGENT_PID=$!
	BH_CLEANUP_PIDS+=("$AGENT_PID")
	bh_wait_for 10 test -S "$CHANNEL" || bh_fail "the agent did not listen on $CHANNEL"
}

start_compositor() {
	"$COMPOSITOR" -c "$XDG_CONFIG_HOME/bulkhead/config" 2>"$BH_TMP/compositor.log" &
	COMPOSITOR_PID=$!
	BH_CLEANUP_PIDS+=("$COMPOSITOR_PID")
	bh_wait_for 10 sh -c "ls $XDG_RUNTIME_DIR/wayland-* >/dev/null 2>&1" ||
		bh_fail "the compositor did not start"
	export BULKHEAD_SOCKET
	BULKHEAD_SOCKET=$(ls "$XDG_RUNTIME_DIR"/bulkhead*.sock 2>/dev/null | head -1)
}

# Asks the compositor to start tag t1 (its proxy) and waits for the proxy's
# control socket and for the tag to be running.
spawn_tag() {
	"$CTL" spawn t1 >/dev/null || bh_fail "bulkheadctl spawn t1 failed"
	bh_wait_for 20 test -S "$XDG_RUNTIME_DIR/bulkhead/tags/t1/control.sock" ||
		bh_fail "the proxy of t1 made no control socket"
	bh_wait_for 20 sh -c "'$CTL' tags | grep -q 't1.*running'" ||
		bh_fail "tag t1 never became running"
}
