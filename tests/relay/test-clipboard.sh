#!/bin/bash
# Copy and paste between two guest windows of tag t1 works through the
# relay's pipe streams; a window of tag t2 cannot read t1's selection.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
bh_need python3
CLIP=$BH_BUILD_ROOT/tests/relay/clip-client
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
start_agent
start_second_agent ''
start_compositor
spawn_tag
"$CTL" spawn t2 >/dev/null || bh_fail "bulkheadctl spawn t2 failed"

AS_GUEST+=(XDG_RUNTIME_DIR="$GUEST_RUN")
bh_wait_for 10 test -S "$GUEST_RUN/${GUEST_DISPLAY}2" || bh_fail "the second agent made no guest socket"

# The owner of t1's selection.
"${AS_GUEST[@]}" WAYLAND_DISPLAY=$GUEST_DISPLAY "$CLIP" copy "secret of t1" >"$BH_TMP/copy.out" 2>&1 &
BH_CLEANUP_PIDS+=("$!")
read -r id _ < <(python3 "$IPC" wait-window t1 clip-copy 15) || bh_fail "the copy window never mapped"
python3 "$IPC" focus "$id"
bh_wait_for 10 grep -q copied "$BH_TMP/copy.out" || bh_fail "the copy client never got focus"

# paste TAG DISPLAY: starts a paste client of TAG, focuses it, prints its
# output. A new window gets the focus as it maps, so the client may have
# pasted and gone before the test sees its window.
paste() {
	"${AS_GUEST[@]}" WAYLAND_DISPLAY=$2 "$CLIP" paste 5 >"$BH_TMP/paste-$1.out" 2>&1 &
	local pid=$!
	BH_CLEANUP_PIDS+=("$pid")
	if read -r pid_window _ < <(python3 "$IPC" wait-window "$1" clip-paste 15); then
		python3 "$IPC" focus "$pid_window" 2>/dev/null
	elif kill -0 "$pid" 2>/dev/null; then
		bh_fail "the paste window of $1 never mapped"
	fi
	wait "$pid"
	cat "$BH_TMP/paste-$1.out"
}

out=$(paste t1 $GUEST_DISPLAY)
echo "t1 paste: $out"
[ "$out" = "pasted: secret of t1" ] || bh_fail "a t1 window could not paste t1's selection"
out=$(paste t2 ${GUEST_DISPLAY}2)
echo "t2 paste: $out"
case "$out" in *"secret of t1"*) bh_fail "a t2 window read t1's selection" ;; esac
echo PASS
