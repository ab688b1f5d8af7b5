# Shared set-up of the compositor tests: a private runtime dir, the
# headless compositor with a config written by the test, and the tag-runner
# stand-in proxy (tests/compositor/tag-runner.c) for tagged clients.
. "$BH_SOURCE_ROOT/tests/lib.sh"
bh_need grim wtype python3 weston-simple-shm wayland-info
bh_tmpdir
COMPOSITOR=${BH_COMPOSITOR:-$BH_BUILD_ROOT/compositor/bulkhead}
CTL=$BH_BUILD_ROOT/cli/bulkheadctl
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
PROBE=$BH_SOURCE_ROOT/tests/relay/png-probe.py
export XDG_RUNTIME_DIR=$BH_TMP/run XDG_CONFIG_HOME=$BH_TMP/config XDG_STATE_HOME=$BH_TMP/state
export XDG_DATA_HOME=$BH_TMP/data HOME=$BH_TMP/home
export BULKHEAD_PROXY=$BH_BUILD_ROOT/tests/compositor/tag-runner
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME/bulkhead" "$HOME"
chmod 700 "$XDG_RUNTIME_DIR"
CONFIG=$XDG_CONFIG_HOME/bulkhead/config
: >"$CONFIG"
unset WAYLAND_DISPLAY BULKHEAD_SOCKET DISPLAY

# start_compositor [ARGS...]: starts it and sets WAYLAND_DISPLAY and
# BULKHEAD_SOCKET for what follows.
start_compositor() {
	"${BH_COMPOSITOR_WRAPPER[@]}" "$COMPOSITOR" -c "$CONFIG" "$@" 2>"$BH_TMP/compositor.log" &
	COMPOSITOR_PID=$!
	BH_CLEANUP_PIDS+=("$COMPOSITOR_PID")
	bh_wait_for 20 sh -c "ls '$XDG_RUNTIME_DIR'/bulkhead-*.sock >/dev/null 2>&1" ||
		bh_fail "the compositor did not start: $(tail -5 "$BH_TMP/compositor.log")"
	export BULKHEAD_SOCKET WAYLAND_DISPLAY
	BULKHEAD_SOCKET=$(ls "$XDG_RUNTIME_DIR"/bulkhead-*.sock | head -1)
	WAYLAND_DISPLAY=$(basename "$(ls "$XDG_RUNTIME_DIR"/wayland-* | grep -v lock | head -1)")
}

# host CMD...: a host client in the background.
host() {
	"$@" >>"$BH_TMP/clients.log" 2>&1 &
	BH_CLEANUP_PIDS+=("$!")
	LAST_PID=$!
}

# in_tag TAG COMMAND: the command runs as a client of TAG.
in_tag() {
	python3 "$IPC" call "$(python3 -c 'import json,sys; print(json.dumps({"cmd": "run", "tag": sys.argv[1], "command": sys.argv[2]}))' "$1" "$2")" >/dev/null ||
		bh_fail "run in tag $1 failed"
}

# window TAG APP_ID [SECONDS]: waits for the window; sets WIN (JSON).
window() {
	local id
	read -r id _ < <(python3 "$IPC" wait-window "$1" "$2" "${3:-20}") ||
		bh_fail "no window of tag $1 with app id $2: $(python3 "$IPC" windows)"
	WIN=$(python3 "$IPC" get windows | python3 -c 'import json,sys
for l in sys.stdin:
    w = json.loads(l)
    if w["id"] == int(sys.argv[1]): print(l.strip())' "$id")
}

# field JSON KEY
field() {
	python3 -c 'import json,sys; v = json.loads(sys.argv[1])[sys.argv[2]]; print("" if v is None else v)' "$1" "$2"
}

# pixel FILE X Y -> "#rrggbb"
pixel() {
	python3 "$PROBE" "$1" pixel "$2" "$3" | awk '{ printf "#%02x%02x%02x\n", $1, $2, $3 }'
}

shot() {
	grim "$BH_TMP/$1.png" || bh_fail "grim failed"
	SHOT=$BH_TMP/$1.png
}
