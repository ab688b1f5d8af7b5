#!/bin/bash
# A tag on "another machine" (qemu+ssh to a throwaway sshd on localhost)
# whose host goes away while it runs: sshd and its connections are stopped.
# The tag shows as unreachable (the compositor, `bulkheadctl tags` and
# `status`), its windows close, the compositor and a local tag beside it
# are untouched, and a start while the host is away says unreachable in one
# line. When sshd is back, a spawn brings the tag back: the same VM (the
# same qemu, never rebooted, its disks the same volumes of its pool on the
# far side) with its home intact
# (a file written and a file pushed before are still there).
. "$BH_SOURCE_ROOT/tests/vm/remote-lib.sh"
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
bh_need python3
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"
bh_remote_start
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[general]
tag_app = foot
[tag far]
uri = $BH_REMOTE_URI
pool_path = $BH_TMP/far-pool
colour = #d35400
memory = 384
[tag near]
colour = #16a085
memory = 384
CFG
"$CTL" base push --tag far >/dev/null 2>&1 || bh_fail "base push to far's pool failed"
start_compositor
tag_field() {
	python3 "$IPC" tag-field "$1" "$2"
}
windows_of() {
	python3 "$IPC" windows | grep -c " $1 "
}

"$CTL" spawn far || bh_fail "spawn far failed"
python3 "$IPC" wait-window far '*' 240 >/dev/null ||
	bh_fail "no window of the remote tag: $(tag_field far state) $(tag_field far error)"
"$CTL" spawn near || bh_fail "spawn near failed"
python3 "$IPC" wait-window near '*' 240 >/dev/null ||
	bh_fail "no window of the local tag: $(tag_field near state) $(tag_field near error)"
echo "far (remote) and near (local) run, each with a window"

# Things in far's home: one written in the guest, one pushed.
ghome=$("$CTL" exec far -- sh -c 'echo $HOME') || bh_fail "exec in far failed"
"$CTL" exec far -- sh -c 'echo written-before > "$HOME/kept" && sync' || bh_fail "writing in far failed"
head -c 100000 /dev/urandom >"$BH_TMP/pushed"
"$CTL" push far "$BH_TMP/pushed" "$ghome" || bh_fail "push into far failed"
"$CTL" exec far -- sync || bh_fail "sync in far failed"
qemu_far=$(pgrep -u "$(id -u)" -f 'qemu-system.*bulkhead-far' | head -1)
[ -n "$qemu_far" ] || bh_fail "no qemu for far"
disks_before=$(stat -c '%n %i' "$BH_TMP"/far-pool/tag-far-*.qcow2)

# The host goes away.
bh_remote_stop
bh_wait_for 60 sh -c "[ \"\$(python3 '$IPC' tag-field far state)\" = unreachable ]" ||
	bh_fail "far is not unreachable after its host went away: $(tag_field far state): $(tag_field far error)"
echo "far: $(tag_field far error)"
bh_wait_for 30 sh -c "[ \$(python3 '$IPC' windows | grep -c ' far ') = 0 ]" ||
	bh_fail "far's windows stayed after its host went away"
python3 "$IPC" get tags >/dev/null || bh_fail "the compositor does not answer"
[ "$(tag_field near state)" = running ] || bh_fail "near is $(tag_field near state) after far's host went away"
[ "$(windows_of near)" -ge 1 ] || bh_fail "near's window went with far's host"
[ "$("$CTL" exec near -- sh -c 'echo $((6 * 7))')" = 42 ] || bh_fail "exec in near failed after far's host went away"
"$CTL" tags | grep -q '^far  *unreachable' || bh_fail "bulkheadctl tags does not show far unreachable: $("$CTL" tags)"
st=$("$CTL" status far) || bh_fail "status far failed: $st"
grep -q '^state:   unreachable$' <<<"$st" || bh_fail "status far says: $st"
"$CTL" status --json far | grep -q '"state":"unreachable"' || bh_fail "status --json far is not unreachable"
echo "tags, status: far unreachable; near untouched, the compositor alive"

# A start while the host is away: refused in one line that says so.
"$CTL" start far >"$BH_TMP/start-away.out" 2>&1 && bh_fail "start far succeeded with its host away"
grep -q "tag far is unreachable" "$BH_TMP/start-away.out" ||
	bh_fail "start far with its host away said: $(cat "$BH_TMP/start-away.out")"
echo "start while away: $(head -1 "$BH_TMP/start-away.out")"
kill -0 "$qemu_far" 2>/dev/null || bh_fail "far's VM ended while its host was away"

# The host is back: a spawn reconnects to the same VM, home intact.
bh_remote_start
"$CTL" spawn far || bh_fail "spawn far after the host came back failed"
python3 "$IPC" wait-window far '*' 120 >/dev/null ||
	bh_fail "far did not come back: $(tag_field far state) $(tag_field far error)"
[ "$("$CTL" exec far -- cat "$ghome/kept")" = written-before ] || bh_fail "the file written in far's home is gone"
"$CTL" pull far "$ghome/pushed" "$BH_TMP/pulled" || bh_fail "pull from far failed"
cmp -s "$BH_TMP/pushed" "$BH_TMP/pulled" || bh_fail "the file pushed into far's home came back different"
[ "$(pgrep -u "$(id -u)" -f 'qemu-system.*bulkhead-far' | head -1)" = "$qemu_far" ] ||
	bh_fail "far's VM was started again, not reconnected"
[ "$(stat -c '%n %i' "$BH_TMP"/far-pool/tag-far-*.qcow2)" = "$disks_before" ] ||
	bh_fail "far's disks were replaced: $disks_before"
[ "$(tag_field near state)" = running ] || bh_fail "near is $(tag_field near state) at the end"
echo "far back after the host returned: same VM, its home intact"
echo PASS
