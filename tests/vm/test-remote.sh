#!/bin/bash
# A tag on "another machine" end to end: [host far] with a qemu+ssh URI to
# a throwaway sshd on localhost, [tag far] with host = far. Before its base
# is pushed a spawn fails with one line saying to push it; base push sends
# it into the far side's storage pool (made by bulkhead at pool_path);
# then the tag's guest window shows framed in its colour, exec gives its
# exit status, a tree pushed in and pulled out comes back identical, and
# its disks are volumes of that pool (the overlay backed by the base's
# root volume), not files in this side's state directory.
. "$BH_SOURCE_ROOT/tests/vm/remote-lib.sh"
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
bh_need grim python3 virsh
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
PROBE=$BH_SOURCE_ROOT/tests/relay/png-probe.py
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
"$CTL" base add --no-rebase --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" \
	>"$BH_TMP/base.out" || bh_fail "base add failed"
BASE=$(head -1 "$BH_TMP/base.out")
bh_remote_start
POOL=far-pool
POOL_DIR=$BH_TMP/far-side/pool
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[general]
tag_app = foot
[host far]
uri = $BH_REMOTE_URI
pool = $POOL
pool_path = $POOL_DIR
[tag far]
host = far
colour = #d35400
memory = 384
CFG
grep -qi 'password' "$XDG_CONFIG_HOME/bulkhead/config" && bh_fail "the test's config holds a password"
V="virsh -q -c $BH_REMOTE_URI"
start_compositor

# Not pushed yet: the tag fails with one line that says what to do.
"$CTL" spawn far >/dev/null 2>&1
bh_wait_for 120 sh -c "python3 '$IPC' tag-field far state | grep -q failed" ||
	bh_fail "spawn before the push did not fail: $(python3 "$IPC" tag-field far state)"
err=$(python3 "$IPC" tag-field far error)
case $err in
"tag far: base $BASE is not in the storage pool $POOL on "*"bulkheadctl base push --tag far $BASE"*) ;;
*) bh_fail "the failure does not say to push the base: $err" ;;
esac
echo "before the push: $err"
$V pool-info "$POOL" | grep -q 'State:.*running' || bh_fail "bulkhead did not make the pool on the far side"

# base push HOST: sent, read back, checksums compared.
t0=$(date +%s%N)
"$CTL" base push far >"$BH_TMP/push.out" 2>"$BH_TMP/push.err" ||
	bh_fail "base push far failed: $(cat "$BH_TMP/push.err")"
t1=$(date +%s%N)
grep -q "checksums match" "$BH_TMP/push.out" || bh_fail "push: $(cat "$BH_TMP/push.out")"
grep -q "sending base-$BASE-initrd.img" "$BH_TMP/push.err" || bh_fail "no progress: $(cat "$BH_TMP/push.err")"
cat "$BH_TMP/push.out"
# The figure of the push (sent and read back): bytes of the base's files
# over the time it took.
bytes=$(cat "$XDG_DATA_HOME/bulkhead/bases/$BASE"/{vmlinuz,initrd.img,root.qcow2} | wc -c)
echo "push: $((bytes / 1000000)) MB sent and read back in $(((t1 - t0) / 1000000)) ms over qemu+ssh"

# The window, framed in far's colour.
start=$SECONDS
"$CTL" spawn far || bh_fail "spawn far failed"
read -r id x y w h title < <(python3 "$IPC" wait-window far '*' 240) ||
	bh_fail "no window of the remote tag after $((SECONDS - start)) s: $(python3 "$IPC" tag-field far state) $(python3 "$IPC" tag-field far error)"
echo "far: guest window '$title' over qemu+ssh after $((SECONDS - start)) s"
sleep 1
grim "$BH_TMP/far.png" || bh_fail "grim failed"
px=$(python3 "$PROBE" "$BH_TMP/far.png" pixel $((x - 2)) $((y + h / 2)))
[ "$px" = "211 84 0" ] || bh_fail "the remote tag's window frame is $px, not far's #d35400"
case $title in "[far] "*) ;; *) bh_fail "the title lacks [far]: $title" ;; esac

# exec: output and exit status.
out=$("$CTL" exec far -- sh -c 'echo $((6 * 7)); exit 5')
rc=$?
[ "$rc" = 5 ] || bh_fail "exec in far exited $rc, not the guest command's 5 (output: $out)"
[ "$out" = 42 ] || bh_fail "exec in far printed '$out', not 42"

# push and pull of a tree, byte for byte.
tree_sig() {
	(cd "$1" && find . -mindepth 1 -print0 | sort -z | xargs -0 stat -c '%n %a %s %Y %F' &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
src=$BH_TMP/tree
mkdir -p "$src/sub"
head -c 200000 /dev/urandom >"$src/sub/blob"
echo hello >"$src/hello"
chmod 640 "$src/hello"
ghome=$("$CTL" exec far -- sh -c 'echo $HOME') || bh_fail "exec in far failed"
"$CTL" push far "$src" "$ghome" || bh_fail "push into far failed"
"$CTL" pull far "$ghome/tree" "$BH_TMP/back" || bh_fail "pull from far failed"
[ "$(tree_sig "$src")" = "$(tree_sig "$BH_TMP/back")" ] ||
	bh_fail "the tree came back different: $(diff <(tree_sig "$src") <(tree_sig "$BH_TMP/back"))"
echo "exec (status 5) and push/pull over the stream"

# The disks: volumes of the far side's pool, made through libvirt.
vols=$($V vol-list "$POOL" | awk '{print $1}')
for v in "base-$BASE-root.qcow2" "base-$BASE-vmlinuz" "base-$BASE-manifest.json" \
	tag-far-root.qcow2 tag-far-home.qcow2; do
	echo "$vols" | grep -qx "$v" || bh_fail "no volume $v in $POOL: $vols"
done
$V vol-dumpxml --pool "$POOL" tag-far-root.qcow2 | sed -n '/<backingStore>/,/<\/backingStore>/p' |
	grep -q "<path>$POOL_DIR/base-$BASE-root.qcow2</path>" ||
	bh_fail "the overlay is not backed by the base's root volume: $($V vol-dumpxml --pool "$POOL" tag-far-root.qcow2)"
ls "$XDG_STATE_HOME/bulkhead/tags/far/"*.qcow2 2>/dev/null && bh_fail "disk files in this side's state directory"
$V dumpxml bulkhead-far | grep -q "<source file='$POOL_DIR/tag-far-root.qcow2'" ||
	bh_fail "the domain does not boot from the volume"
json=$("$CTL" status --json far)
echo "$json" | grep -q "\"pool\":\"$POOL\"" || bh_fail "status shows no pool: $json"
echo "$json" | grep -q "\"base\":\"$BASE\"" || bh_fail "status shows no base: $json"
"$CTL" tags --json | grep -q '"name":"far","state":"running"' || bh_fail "tags: $("$CTL" tags --json)"
"$CTL" console far | grep -q . || bh_fail "no console of the remote tag (written into its pool)"
echo "disks: volumes of $POOL on the far side, the overlay backed by base-$BASE-root.qcow2"
echo PASS
