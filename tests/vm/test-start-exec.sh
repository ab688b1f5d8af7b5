#!/bin/bash
# start, run and exec start what they need. In a running headless session,
# `bulkheadctl start T && bulkheadctl exec T -- true` works on a fresh tag
# of the tiny guest (the compositor starts its proxy, which boots the VM);
# exec alone starts a stopped tag; start right after the tag's qemu died
# brings it back; run starts a tag too. Outside a session,
# exec says in one line why it cannot start the tag and what to do. The
# help texts say the same.
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
bh_need python3
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"
# Tag names of this test only; no default app, so no window hides a
# missing start.
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[general]
tag_app =
[tag se-fresh]
memory = 384
app =
[tag se-run]
memory = 384
app =
CFG

# Outside a session: one line, naming the tag, saying why and what to do.
(unset BULKHEAD_SOCKET; "$CTL" exec se-fresh -- true) >"$BH_TMP/nosession.out" 2>&1 &&
	bh_fail "exec outside a session succeeded: $(cat "$BH_TMP/nosession.out")"
[ "$(wc -l <"$BH_TMP/nosession.out")" = 1 ] ||
	bh_fail "exec outside a session said more than one line: $(cat "$BH_TMP/nosession.out")"
grep -q "tag se-fresh: not running, and only a bulkhead session can start its proxy.*run this in a terminal of the session" \
	"$BH_TMP/nosession.out" || bh_fail "exec outside a session said: $(cat "$BH_TMP/nosession.out")"
echo "outside a session: $(cat "$BH_TMP/nosession.out")"
[ "$(domain_count se-fresh)" = 0 ] || bh_fail "exec outside a session started a VM"

start_compositor
start=$SECONDS
out=$("$CTL" start se-fresh) || bh_fail "start se-fresh failed: $out"
[ "$out" = "tag se-fresh: started" ] || bh_fail "start said: $out"
[ "$(python3 "$IPC" tag-field se-fresh state)" = running ] ||
	bh_fail "after start the compositor shows se-fresh $(python3 "$IPC" tag-field se-fresh state)"
"$CTL" exec se-fresh -- true || bh_fail "exec right after start failed"
echo "start then exec on a fresh tag: ok after $((SECONDS - start)) s"
[ "$("$CTL" exec se-fresh -- sh -c 'echo $((6 * 7))')" = 42 ] || bh_fail "exec gave no output"
[ "$(domain_count se-fresh)" = 1 ] || bh_fail "no domain bulkhead-se-fresh"
[ "$("$CTL" start se-fresh)" = "tag se-fresh: already running" ] ||
	bh_fail "a second start did not say the tag already runs"

# A stopped tag: exec alone starts it again, through the compositor.
python3 "$IPC" call '{"cmd": "stop", "tag": "se-fresh"}' >/dev/null || bh_fail "stop failed"
bh_wait_for 60 sh -c "[ \"\$(python3 '$IPC' tag-field se-fresh state)\" = stopped ] && [ \$(virsh list --name | grep -cx bulkhead-se-fresh) = 0 ]" ||
	bh_fail "se-fresh did not stop: $(python3 "$IPC" tag-field se-fresh state)"
[ "$("$CTL" exec se-fresh -- echo again)" = again ] || bh_fail "exec did not start the stopped tag"
echo "exec started the stopped tag"

# qemu killed right after a push, start at once: the proxy may first report the channel lost
# (and try to reconnect) before it sees the VM gone and ends; start waits
# through that and boots the tag again.
# A push that returned is on the guest's disk: a power cut (kill -9 of
# qemu) right after it leaves the whole file and no temporary one.
head -c 3000000 /dev/urandom >"$BH_TMP/blob"
ghome=$("$CTL" exec se-fresh -- sh -c 'echo $HOME') || bh_fail "exec in se-fresh failed"
"$CTL" push se-fresh "$BH_TMP/blob" "$ghome/blob" >/dev/null || bh_fail "push into se-fresh failed"
pid=$(pgrep -u "$(id -u)" -f 'qemu-system.*guest=bulkhead-se-fresh,' | head -1)
[ -n "$pid" ] || bh_fail "no qemu process for se-fresh"
kill -9 "$pid"
bh_wait_for 30 sh -c "[ \"\$(python3 '$IPC' tag-field se-fresh state)\" = failed ]" ||
	bh_fail "se-fresh is not failed after its qemu died: $(python3 "$IPC" tag-field se-fresh state)"
out=$("$CTL" start se-fresh 2>&1) || bh_fail "start right after qemu died failed: $out"
[ "$("$CTL" exec se-fresh -- echo back)" = back ] || bh_fail "exec after the restart failed"
echo "start right after a qemu died brought the tag back"
[ "$("$CTL" exec se-fresh -- sha256sum "$ghome/blob" | cut -d' ' -f1)" = "$(sha256sum <"$BH_TMP/blob" | cut -d' ' -f1)" ] ||
	bh_fail "a push that returned was lost or torn by the power cut after it: $("$CTL" exec se-fresh -- ls -la "$ghome" 2>&1)"
left=$("$CTL" exec se-fresh -- ls -a "$ghome" | grep '^\.bulkhead-part' || true)
[ -z "$left" ] || bh_fail "the power cut left a temporary file in the home: $left"
echo "a pushed file survived the power cut whole"

# run on a fresh tag: the compositor starts it and launches the command
# once it is ready.
out=$("$CTL" run se-run -- sh -c 'echo ran > /tmp/ran') || bh_fail "run on a fresh tag failed: $out"
bh_wait_for 240 sh -c "[ \"\$(python3 '$IPC' tag-field se-run state)\" = running ]" ||
	bh_fail "run did not start se-run: $(python3 "$IPC" tag-field se-run state) $(python3 "$IPC" tag-field se-run error)"
bh_wait_for 30 sh -c "[ \"\$('$CTL' exec se-run -- cat /tmp/ran 2>/dev/null)\" = ran ]" ||
	bh_fail "the command given to run did not run"
echo "run started a fresh tag"

# The help says the same as the man page and README: no more "must be running".
for cmd in start run exec; do
	"$CTL" "$cmd" --help | grep -q "must be running" && bh_fail "$cmd --help still says the proxy must be running"
done
"$CTL" exec --help | tr '\n' ' ' | grep -q "started first, through the session's compositor" ||
	bh_fail "exec --help does not say it starts the tag"
"$CTL" run --help | tr '\n' ' ' | grep -q "started first, through the session's compositor, which launches" ||
	bh_fail "run --help does not say it starts the tag"
grep -q "start the tag first" "$BH_SOURCE_ROOT/doc/bulkheadctl.1.scd" ||
	bh_fail "bulkheadctl(1) does not say run and exec start the tag"
grep -q "first if it is not running, through the compositor" "$BH_SOURCE_ROOT/README.md" ||
	bh_fail "the README does not say run and exec start the tag"
echo PASS
