#!/bin/bash
# A tag whose disks are volumes of a libvirt storage pool (disks = pool) on
# a real libvirt session: start refuses before its base is pushed, with one
# line saying what to do; base push sends and checks the base; the overlay
# is a volume libvirt made, backed by the base's root volume (no file in
# the tag's state directory); exec gives its exit status; home survives a
# stop and a start; status, tags, rebase and clean work on the volumes; a
# push cut short is sent again; base gc removes a pool's unused bases;
# rebase moves a stopped tag's root volume onto a new base (pushed for
# it), keeping what the guest sees.
# The settings' errors (a host = naming no section, a password in a URI,
# a host that does not answer ssh) are one line each, naming the tag.
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
bh_need ssh cmp qemu-io

POOL=bh-test-pool
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<EOF
[tag pooled]
disks = pool
pool = $POOL
memory = 256

[tag lost]
host = nowhere

[tag secret]
uri = qemu+ssh://someone:hunter2@example.invalid/session

[host closed]
uri = qemu+ssh://$(id -un)@127.0.0.1:1/session?no_verify=1

[tag knocking]
host = closed
EOF

"$CTL" base add --no-rebase --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" \
	>"$BH_TMP/base.out" || bh_fail "base add failed"
BASE=$(head -1 "$BH_TMP/base.out")
[ -n "$BASE" ] || bh_fail "base add printed no id"
V="virsh -q -c qemu:///session"

# Before the push: the pool is made (in the data directory), the start
# refuses in one line that names the tag and the command to run.
"$CTL" start pooled >"$BH_TMP/nobase.out" 2>&1 && bh_fail "start without the base pushed succeeded"
grep -q "tag pooled: base $BASE is not in the storage pool $POOL .*bulkheadctl base push --tag pooled" \
	"$BH_TMP/nobase.out" || bh_fail "no clear line for a base not pushed: $(cat "$BH_TMP/nobase.out")"
[ "$(wc -l <"$BH_TMP/nobase.out")" = 1 ] || bh_fail "more than one line: $(cat "$BH_TMP/nobase.out")"
$V pool-info "$POOL" | grep -q 'State:.*running' || bh_fail "the pool $POOL was not made and started"
pool_dir=$($V pool-dumpxml "$POOL" | sed -n 's|.*<path>\(.*\)</path>.*|\1|p' | head -1)
[ "$pool_dir" = "$XDG_DATA_HOME/bulkhead/pool" ] || bh_fail "the pool is at '$pool_dir'"

# The push: every part a volume, the same bytes as the registered base.
"$CTL" base push --tag pooled >"$BH_TMP/push.out" 2>"$BH_TMP/push.err" ||
	bh_fail "base push failed: $(cat "$BH_TMP/push.err")"
grep -q "checksums match" "$BH_TMP/push.out" || bh_fail "push did not report its check: $(cat "$BH_TMP/push.out")"
grep -q "100% checking base-$BASE-root.qcow2" "$BH_TMP/push.err" ||
	bh_fail "no progress of the check: $(cat "$BH_TMP/push.err")"
vols=$($V vol-list "$POOL" | awk '{print $1}')
for part in vmlinuz initrd.img root.qcow2 manifest.json; do
	echo "$vols" | grep -qx "base-$BASE-$part" || bh_fail "no volume base-$BASE-$part: $vols"
done
bases=$XDG_DATA_HOME/bulkhead/bases/$BASE
for part in vmlinuz initrd.img root.qcow2; do
	cmp -s "$bases/$part" "$pool_dir/base-$BASE-$part" ||
		bh_fail "the volume base-$BASE-$part differs from the registered file"
done
grep -q '"sha256"' "$pool_dir/base-$BASE-manifest.json" || bh_fail "the manifest has no checksums"
"$CTL" base push --tag pooled >"$BH_TMP/push2.out" 2>&1 || bh_fail "a second push failed"
grep -q "already in the storage pool" "$BH_TMP/push2.out" ||
	bh_fail "a second push sent again: $(cat "$BH_TMP/push2.out")"
# A push cut short leaves no manifest: the base counts as not there, and
# the next push replaces what it left.
$V vol-delete --pool "$POOL" "base-$BASE-manifest.json" >/dev/null || bh_fail "vol-delete failed"
"$CTL" base push --tag pooled >"$BH_TMP/push3.out" 2>&1 || bh_fail "push after a cut: $(cat "$BH_TMP/push3.out")"
grep -q "checksums match" "$BH_TMP/push3.out" || bh_fail "push after a cut did not send: $(cat "$BH_TMP/push3.out")"

# The start: the overlay and home are volumes libvirt made, the overlay
# backed by the base's root volume; nothing of it in the state directory.
"$CTL" start pooled >"$BH_TMP/start.out" 2>&1 || bh_fail "start pooled: $(cat "$BH_TMP/start.out")"
vols=$($V vol-list "$POOL" | awk '{print $1}')
echo "$vols" | grep -qx "tag-pooled-root.qcow2" || bh_fail "no overlay volume: $vols"
echo "$vols" | grep -qx "tag-pooled-home.qcow2" || bh_fail "no home volume: $vols"
$V vol-dumpxml --pool "$POOL" tag-pooled-root.qcow2 >"$BH_TMP/root.xml"
sed -n '/<backingStore>/,/<\/backingStore>/p' "$BH_TMP/root.xml" |
	grep -q "<path>$pool_dir/base-$BASE-root.qcow2</path>" ||
	bh_fail "the overlay is not backed by the base volume: $(cat "$BH_TMP/root.xml")"
grep -q "<format type='qcow2'/>" "$BH_TMP/root.xml" || bh_fail "the overlay is not qcow2"
ls "$XDG_STATE_HOME/bulkhead/tags/pooled/"*.qcow2 2>/dev/null &&
	bh_fail "disk files in the state directory"
virsh dumpxml bulkhead-pooled | grep -q "<source file='$pool_dir/tag-pooled-root.qcow2'" ||
	bh_fail "the domain does not boot from the volume"

# exec with its exit status, and a file in home.
guest_sh pooled 'echo pooled-data > "$HOME/kept" && sync' || bh_fail "writing in the guest failed"
guest_sh pooled 'exit 7'
[ $? = 7 ] || bh_fail "exec did not give the guest's exit status"

json=$("$CTL" status --json pooled)
echo "$json" | grep -q "\"pool\":\"$POOL\"" || bh_fail "status shows no pool: $json"
echo "$json" | grep -q "\"base\":\"$BASE\"" || bh_fail "status shows no base: $json"
echo "$json" | grep -q '"disks":true' || bh_fail "status shows no disks: $json"
"$CTL" status pooled | grep -q "disks:   volumes of the storage pool $POOL" ||
	bh_fail "status text: $("$CTL" status pooled)"
"$CTL" tags --json | grep -q '"name":"pooled","state":"running"' ||
	bh_fail "tags: $("$CTL" tags --json)"

# Home survives stop and start; the overlay is kept, not made again.
"$CTL" stop --timeout 10 pooled || bh_fail "stop failed"
"$CTL" tags --json | grep -q '"name":"pooled","state":"stopped"' ||
	bh_fail "a stopped pool tag is not listed: $("$CTL" tags --json)"
key_before=$($V vol-key --pool "$POOL" tag-pooled-root.qcow2)
"$CTL" start pooled >/dev/null 2>&1 || bh_fail "restart failed"
[ "$(guest_sh pooled 'cat "$HOME/kept"')" = pooled-data ] || bh_fail "home lost its file"
"$CTL" stop --force pooled || bh_fail "stop --force failed"
"$CTL" rebase pooled || bh_fail "rebase of a tag on its base failed"

# clean removes the tag's volumes and leaves the base.
"$CTL" clean --yes pooled || bh_fail "clean failed"
vols=$($V vol-list "$POOL" | awk '{print $1}')
echo "$vols" | grep -q "^tag-pooled-" && bh_fail "clean left volumes: $vols"
echo "$vols" | grep -qx "base-$BASE-root.qcow2" || bh_fail "clean removed the base"
[ -n "$key_before" ] || bh_fail "no volume key"

# base gc on the pool: a base no tag there uses and that is not the latest
# goes, volumes and all.
"$CTL" base push --tag pooled >/dev/null 2>&1 || bh_fail "push before gc failed"
"$CTL" start pooled >/dev/null 2>&1 || bh_fail "start before gc failed"
"$CTL" stop --force pooled || bh_fail "stop before gc failed"
"$CTL" base add --no-rebase --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >"$BH_TMP/base2.out" ||
	bh_fail "second base add failed"
BASE2=$(head -1 "$BH_TMP/base2.out")
"$CTL" base push --tag pooled "$BASE2" >/dev/null 2>&1 || bh_fail "push of the second base failed"
"$CTL" base gc --tag pooled | grep -q "removed 0 bases" || bh_fail "gc removed a base in use or the latest"
"$CTL" clean --yes pooled || bh_fail "clean before gc failed"
"$CTL" base gc --tag pooled | grep -q "removed 1 base from the storage pool $POOL" ||
	bh_fail "gc did not remove the unused base"
vols=$($V vol-list "$POOL" | awk '{print $1}')
echo "$vols" | grep -q "^base-$BASE-" && bh_fail "gc left volumes of base $BASE: $vols"
echo "$vols" | grep -qx "base-$BASE2-root.qcow2" || bh_fail "gc removed the latest base: $vols"

# rebase onto a new base: the base is pushed for it, the root volume is
# backed by the new base's root volume, the guest sees the same bytes.
"$CTL" start pooled >/dev/null 2>&1 || bh_fail "start before rebase failed"
guest_sh pooled 'printf pool-root-marker | dd of=/dev/vda bs=1M seek=8 conv=notrunc 2>/dev/null &&
	echo rebased-home >"$HOME/kept" && sync' || bh_fail "writing the root disk failed"
vda_before=$(guest_sh pooled 'dd if=/dev/vda bs=1M count=32 2>/dev/null | md5sum' | cut -d' ' -f1)
[ -n "$vda_before" ] || bh_fail "no checksum of the root disk"
"$CTL" stop --force pooled || bh_fail "stop before rebase failed"
qemu-img create -q -f qcow2 "$BH_TMP/root-new.qcow2" 64M || bh_fail "qemu-img create"
qemu-io -f qcow2 -c "write -q -P 0xbb 0 4M" -c "write -q -P 0xbb 20M 1M" \
	"$BH_TMP/root-new.qcow2" >/dev/null || bh_fail "qemu-io write"
"$CTL" base add --no-rebase --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" \
	--root "$BH_TMP/root-new.qcow2" >"$BH_TMP/base3.out" || bh_fail "third base add failed"
BASE3=$(head -1 "$BH_TMP/base3.out")
[ -n "$BASE3" ] || bh_fail "base add printed no id"
"$CTL" rebase pooled >"$BH_TMP/rebase.out" 2>&1 || bh_fail "rebase pooled: $(cat "$BH_TMP/rebase.out")"
grep -q "tag pooled: rebased" "$BH_TMP/rebase.out" || bh_fail "rebase did nothing: $(cat "$BH_TMP/rebase.out")"
$V vol-dumpxml --pool "$POOL" tag-pooled-root.qcow2 >"$BH_TMP/root3.xml"
sed -n '/<backingStore>/,/<\/backingStore>/p' "$BH_TMP/root3.xml" |
	grep -q "<path>$pool_dir/base-$BASE3-root.qcow2</path>" ||
	bh_fail "the rebased root is not backed by the new base's volume: $(cat "$BH_TMP/root3.xml")"
vols=$($V vol-list "$POOL" | awk '{print $1}')
echo "$vols" | grep -qx "base-$BASE3-manifest.json" || bh_fail "rebase did not push the new base: $vols"
echo "$vols" | grep -q "\.new$" && bh_fail "rebase left a volume behind: $vols"
ls -A "$XDG_STATE_HOME/bulkhead/tags/pooled/" 2>/dev/null | grep -q rebase &&
	bh_fail "rebase left its file in the state directory"
qemu-img check -q "$pool_dir/tag-pooled-root.qcow2" || bh_fail "the rebased root volume is damaged"
"$CTL" rebase pooled >"$BH_TMP/rebase2.out" 2>&1 || bh_fail "a second rebase failed"
grep -q rebased "$BH_TMP/rebase2.out" && bh_fail "a second rebase rebased again"
"$CTL" start pooled >"$BH_TMP/start3.out" 2>&1 || bh_fail "start after rebase: $(cat "$BH_TMP/start3.out")"
grep -q "stays on base" "$BH_TMP/start3.out" && bh_fail "the start still sees the old base"
vda_after=$(guest_sh pooled 'dd if=/dev/vda bs=1M count=32 2>/dev/null | md5sum' | cut -d' ' -f1)
[ "$vda_after" = "$vda_before" ] || bh_fail "the root disk changed across the rebase"
[ "$(guest_sh pooled 'dd if=/dev/vda bs=1M skip=8 count=1 2>/dev/null | head -c 16')" = pool-root-marker ] ||
	bh_fail "the file written before the rebase is gone"
[ "$(guest_sh pooled 'cat "$HOME/kept"')" = rebased-home ] || bh_fail "home lost its file across the rebase"
json=$("$CTL" status --json pooled)
echo "$json" | grep -q "\"base\":\"$BASE3\"" || bh_fail "status shows not the new base: $json"
"$CTL" stop --force pooled || bh_fail "stop after rebase failed"

# The settings' errors: one line each, naming the tag and what to do.
one_line() {
	local tag=$1 pattern=$2 out
	out=$("$CTL" start "$tag" 2>&1) && bh_fail "start $tag succeeded"
	[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || bh_fail "start $tag: more than one line: $out"
	printf '%s\n' "$out" | grep -q "tag $tag: $pattern" || bh_fail "start $tag: $out"
}
one_line lost "its host = names no \[host nowhere\] section"
one_line secret ".*uri = (not shown): it holds a password"
"$CTL" tags 2>&1 | grep -q hunter2 && bh_fail "a password from the config was shown"
one_line knocking "cannot reach libvirt at .*the host does not answer ssh"
[ "$(domain_count lost)$(domain_count secret)$(domain_count knocking)" = 000 ] ||
	bh_fail "a tag with bad settings started here"
echo "PASS: disks as volumes of a storage pool, base push, settings' errors"
