#!/bin/bash
# kill -9 in the middle of transfers: of a guest app streaming big shm
# commits, of the app that owns a selection another app is reading, of the
# agent, and of the proxy. Each time the compositor keeps running, the
# other app of the same tag and an app of another tag keep getting frame
# callbacks, what died leaves no window behind (ipc windows), and the log
# says what went; the agent and the proxy can then be brought back.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
bh_need python3
CLIP=$BH_BUILD_ROOT/tests/relay/clip-client
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
start_agent
start_second_agent 'app =\n'
start_compositor
COMPOSITOR_PID=${BH_CLEANUP_PIDS[-1]}
spawn_tag
"$CTL" spawn t2 >/dev/null || bh_fail "bulkheadctl spawn t2 failed"
bh_wait_for 20 sh -c "'$CTL' tags | grep -q 't2.*running'" || bh_fail "tag t2 never ran"

AS_GUEST+=(XDG_RUNTIME_DIR="$GUEST_RUN")
bh_wait_for 10 test -S "$GUEST_RUN/$GUEST_DISPLAY" || bh_fail "the agent made no guest socket"
bh_wait_for 10 test -S "$GUEST_RUN/${GUEST_DISPLAY}2" || bh_fail "the second agent made no guest socket"

# app NAME DISPLAY ARGS...: a clip-client in the guest, its output in
# $BH_TMP/NAME.out, its pid in APP_PID.
app() {
	local name=$1 display=$2
	shift 2
	"${AS_GUEST[@]}" WAYLAND_DISPLAY="$display" "$CLIP" "$@" >"$BH_TMP/$name.out" 2>&1 &
	APP_PID=$!
	BH_CLEANUP_PIDS+=("$APP_PID")
}
frames() {
	sed -n 's/^frame //p' "$BH_TMP/$1.out" | tail -1
}
# Frame callbacks keep coming to app NAME: its count grows by 5 within 10 s.
still_drawing() {
	local before
	before=$(frames "$1")
	bh_wait_for 10 sh -c "[ \"\$(sed -n 's/^frame //p' '$BH_TMP/$1.out' | tail -1)\" -ge $((${before:-0} + 5)) ]" ||
		bh_fail "$1 got no frame callbacks after $2 (still at frame ${before:-none})"
}
# The number of windows of TAG [with APP_ID] the compositor lists.
windows_of() {
	python3 "$IPC" windows | awk -v t="$1" -v a="${2:-*}" '$2 == t && (a == "*" || $8 == a)' | wc -l
}
alive() {
	kill -0 "$COMPOSITOR_PID" 2>/dev/null || bh_fail "the compositor died after $1"
	python3 "$IPC" get tags >/dev/null || bh_fail "the compositor stopped answering after $1"
}
tag_field() {
	python3 "$IPC" tag-field "$1" "$2"
}
# Waits for app NAME's window (TAG, APP_ID) and its first frames.
mapped() {
	python3 "$IPC" wait-window "$2" "$3" 20 >/dev/null || bh_fail "$1 showed no $2 window"
	bh_wait_for 20 sh -c "[ \"\$(sed -n 's/^frame //p' '$BH_TMP/$1.out' | tail -1)\" -ge 3 ]" ||
		bh_fail "$1 got no frame callbacks"
}

# The witnesses: a small app of t1 and one of t2, redrawn on every frame.
app other-t2 ${GUEST_DISPLAY}2 paint 100 100
mapped other-t2 t2 clip-paint-100
app same-t1 $GUEST_DISPLAY paint 120 120
mapped same-t1 t1 clip-paint-120

# 1. An app of t1 sending a whole 1280x720 buffer (3.5 MiB) per commit.
app big $GUEST_DISPLAY paint 1280 720
big=$APP_PID
mapped big t1 clip-paint-1280
still_drawing big "it started"
gone_before=$(grep -c 'tag t1: guest Wayland client (stream [0-9]*) gone' "$BH_TMP/compositor.log")
kill -9 "$big"
echo "killed the app streaming big commits at frame $(frames big)"
alive "the kill of a guest app"
bh_wait_for 10 sh -c "[ \$(python3 '$IPC' windows | awk '\$8 == \"clip-paint-1280\"' | wc -l) = 0 ]" ||
	bh_fail "the killed app's window stayed: $(python3 "$IPC" windows)"
bh_wait_for 10 sh -c "[ \$(grep -c 'tag t1: guest Wayland client (stream [0-9]*) gone' '$BH_TMP/compositor.log') -gt $gone_before ]" ||
	bh_fail "the proxy logged nothing about the app that went"
grep 'tag t1: guest Wayland client (stream [0-9]*) gone' "$BH_TMP/compositor.log" | tail -1
still_drawing same-t1 "another app of its tag was killed"
still_drawing other-t2 "an app of another tag was killed"

# 2. The owner of a 4 GiB selection, while another app of t1 reads it.
app flood $GUEST_DISPLAY flood 4096
flood=$APP_PID
python3 "$IPC" wait-window t1 clip-copy 20 >/dev/null || bh_fail "the selection owner showed no window"
bh_wait_for 10 grep -q copied "$BH_TMP/flood.out" || bh_fail "the selection owner got no focus"
app drain $GUEST_DISPLAY drain 60
drain=$APP_PID
bh_wait_for 20 grep -q reading "$BH_TMP/drain.out" || bh_fail "the reader got no selection data"
sleep 0.5
kill -9 "$flood"
echo "killed the selection owner while its selection was being read"
bh_wait_for 15 grep -q '^drained' "$BH_TMP/drain.out" ||
	bh_fail "the reader of a dead owner's selection never saw its end"
wait "$drain"
cat "$BH_TMP/drain.out"
grep -q '^drained [1-9][0-9]* bytes: eof' "$BH_TMP/drain.out" ||
	bh_fail "the reader did not get an end of file: $(tail -1 "$BH_TMP/drain.out")"
bytes=$(sed -n 's/^drained \([0-9]*\) .*/\1/p' "$BH_TMP/drain.out")
[ "$bytes" -lt $((4096 << 20)) ] || bh_fail "the whole selection came: the owner died too late"
alive "the kill of a selection's owner"
bh_wait_for 10 sh -c "[ \$(python3 '$IPC' windows | awk '\$8 == \"clip-copy\"' | wc -l) = 0 ]" ||
	bh_fail "the killed owner's window stayed: $(python3 "$IPC" windows)"
still_drawing same-t1 "a selection's owner was killed mid-transfer"
still_drawing other-t2 "a selection's owner of another tag was killed"

# A new agent for t1: the tag runs again and takes guest apps; the small
# app of t1 is started again.
restart_agent() {
	start_agent
	bh_wait_for 30 sh -c "'$CTL' tags | grep -q 't1.*running'" || bh_fail "t1 did not come back"
	# The dead agent's socket file stays until the new one has made its own.
	bh_wait_for 10 python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' \
		"$GUEST_RUN/$GUEST_DISPLAY" || bh_fail "the restarted agent takes no guest apps"
	app same-t1 $GUEST_DISPLAY paint 120 120
	mapped same-t1 t1 clip-paint-120
}

# 3. The agent of t1, while its app streams big commits.
app big $GUEST_DISPLAY paint 1280 720
mapped big t1 clip-paint-1280
still_drawing big "it started again"
kill -9 "$AGENT_PID"
echo "killed the agent of t1 mid-transfer"
bh_wait_for 20 sh -c "'$CTL' tags | grep -q 't1.*failed'" || bh_fail "t1 was not failed without its agent"
echo "t1: $(tag_field t1 error)"
alive "the kill of an agent"
bh_wait_for 10 sh -c "[ \$(python3 '$IPC' windows | awk '\$2 == \"t1\"' | wc -l) = 0 ]" ||
	bh_fail "windows of t1 stayed after its agent died: $(python3 "$IPC" windows)"
still_drawing other-t2 "the agent of another tag was killed"
restart_agent

# 3b. The agent of t1 told to stop (SIGTERM, as when its guest shuts down)
# while the channel is full: an app of t1 reads another one's endless
# selection (the bytes cross the channel both ways, unpaced), the proxy is
# held (SIGSTOP) so the agent's side of the channel fills, and it is let go
# only after the agent was told to stop. The goodbye must wait for room,
# ahead of the megabytes still queued, and still arrive: t1 is not failed.
app flood $GUEST_DISPLAY flood 4096
python3 "$IPC" wait-window t1 clip-copy 20 >/dev/null || bh_fail "the selection owner showed no window"
bh_wait_for 10 grep -q copied "$BH_TMP/flood.out" || bh_fail "the selection owner got no focus"
app drain $GUEST_DISPLAY drain 60
bh_wait_for 20 grep -q reading "$BH_TMP/drain.out" || bh_fail "the reader got no selection data"
proxy=$(pgrep -P "$COMPOSITOR_PID" -f 'bulkhead-prox[y] --tag t1' | head -1)
[ -n "$proxy" ] || bh_fail "no proxy of t1 runs"
kill -STOP "$proxy"
sleep 1
kill -TERM "$AGENT_PID"
sleep 0.05
kill -CONT "$proxy"
echo "stopped the agent of t1 while its channel was full"
bh_wait_for 10 grep -q "t1: the agent said goodbye" "$BH_TMP/compositor.log" ||
	bh_fail "no goodbye reached the proxy from an agent stopped with a full channel: $(grep -i 'stopping' "$BH_TMP/agent.log" | tail -2)"
sleep 1
! "$CTL" tags | grep -q 't1.*failed' || bh_fail "a stopped agent was reported as a failure: $("$CTL" tags)"
alive "an agent's stop"
still_drawing other-t2 "the agent of another tag stopped"
restart_agent

# 4. The proxy of t1, while its app streams big commits.
app big $GUEST_DISPLAY paint 1280 720
mapped big t1 clip-paint-1280
still_drawing big "it started a third time"
proxy=$(pgrep -P "$COMPOSITOR_PID" -f 'bulkhead-prox[y] --tag t1' | head -1)
[ -n "$proxy" ] || bh_fail "no proxy of t1 runs"
kill -9 "$proxy"
echo "killed the proxy of t1 mid-transfer"
bh_wait_for 20 sh -c "'$CTL' tags | grep -q 't1.*failed'" || bh_fail "t1 was not failed without its proxy"
reason=$(tag_field t1 error)
echo "t1: $reason"
case $reason in *"proxy of tag t1 exited"*) ;; *) bh_fail "an unclear reason: $reason" ;; esac
alive "the kill of a proxy"
bh_wait_for 10 sh -c "[ \$(python3 '$IPC' windows | awk '\$2 == \"t1\"' | wc -l) = 0 ]" ||
	bh_fail "windows of t1 stayed after its proxy died: $(python3 "$IPC" windows)"
still_drawing other-t2 "the proxy of another tag was killed"
spawn_tag
app same-t1 $GUEST_DISPLAY paint 120 120
mapped same-t1 t1 clip-paint-120
[ "$(windows_of t2 clip-paint-100)" = 1 ] || bh_fail "t2's window is gone"
echo "PASS: the compositor and the other apps outlived every kill -9"
