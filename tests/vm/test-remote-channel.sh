#!/bin/bash
# A tag whose libvirt is "another machine" (qemu+ssh to a throwaway sshd on
# localhost): its channel goes through libvirt's stream, not qemu's socket.
# Its guest window appears framed in its colour, `bulkheadctl exec` returns
# the guest command's exit status and output over the stream, status says
# the windows cross the channel over libvirt (no shared region) and the
# proxy compresses with lz4 by default; the domain has no socket path of
# ours (libvirt picked it).
. "$BH_SOURCE_ROOT/tests/vm/remote-lib.sh"
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
bh_need grim python3
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
PROBE=$BH_SOURCE_ROOT/tests/relay/png-probe.py
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"
bh_remote_start
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[general]
tag_app = foot
[tag far]
uri = $BH_REMOTE_URI
# This test is about the channel: the disks stay files of this machine (the
# same one here); test-remote.sh has them as volumes on the far side.
disks = files
colour = #d35400
memory = 384
CFG
start_compositor
start=$SECONDS
"$CTL" spawn far || bh_fail "spawn far failed"
read -r id x y w h title < <(python3 "$IPC" wait-window far '*' 240) ||
	bh_fail "no window of the remote tag after $((SECONDS - start)) s: $(python3 "$IPC" tag-field far state) $(python3 "$IPC" tag-field far error); $(grep -i 'far' "$BH_TMP/compositor.log" | tail -5)"
echo "far: guest window '$title' over qemu+ssh after $((SECONDS - start)) s"
sleep 1
grim "$BH_TMP/far.png" || bh_fail "grim failed"
px=$(python3 "$PROBE" "$BH_TMP/far.png" pixel $((x - 2)) $((y + h / 2)))
[ "$px" = "211 84 0" ] || bh_fail "the remote tag's window frame is $px, not far's #d35400"
case $title in "[far] "*) ;; *) bh_fail "the title lacks [far]: $title" ;; esac

# exec over the stream: output and exit status.
out=$("$CTL" exec far -- sh -c 'echo $((6 * 7)); exit 3')
rc=$?
[ "$rc" = 3 ] || bh_fail "exec in far exited $rc, not the guest command's 3 (output: $out)"
[ "$out" = 42 ] || bh_fail "exec in far printed '$out', not 42"
echo "exec over the stream: output 42, exit status 3"

st=$("$CTL" status far) || bh_fail "status far failed: $st"
echo "$st"
grep -q '^channel: libvirt:org.bulkhead.channel.0$' <<<"$st" ||
	bh_fail "the remote tag's channel is not the libvirt stream"
grep -q '^windows: through the channel over libvirt, compressed with lz4' <<<"$st" ||
	bh_fail "status does not say the windows cross the channel over libvirt, compressed"
"$CTL" status --json far | grep -q '"region":null' || bh_fail "the remote tag has a shared region"
grep -q "tag far: .*compressed with lz4" "$BH_TMP/compositor.log" ||
	bh_fail "the proxy did not compress the remote tag's channel: $(grep 'tag far' "$BH_TMP/compositor.log" | tail -5)"
grep -q "tag far: its VM runs elsewhere .*not a shared region" "$BH_TMP/compositor.log" ||
	bh_fail "the log does not say the remote tag has no shared region"
virsh dumpxml bulkhead-far | grep -A1 "<channel type='unix'>" | grep -q "$XDG_RUNTIME_DIR" &&
	bh_fail "the remote tag's channel socket is a path of ours, not libvirt's"
[ ! -e "/dev/shm/bulkhead-$(id -u)-far" ] || bh_fail "a shared region file exists for the remote tag"
echo PASS
