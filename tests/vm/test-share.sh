#!/bin/bash
# Host folders (share = HOST:GUEST[:rw]) on the tiny guest under libvirt
# session mode: the agent mounts them at boot; a read-only share is readable
# and not writable (and read-only in qemu, whatever the guest does); a
# read-write share writes through both ways; a host symlink in a share that
# points outside it does not reveal its target, and a symlink the guest makes
# is no symlink on the host; status shows the shares; a share whose folder is
# missing is refused with one line naming the tag.
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"

"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"
shares=$BH_TMP/shares
mkdir -p "$shares/ro/sub" "$shares/rw" "$shares/outside"
echo "read-only content" >"$shares/ro/readme"
echo "deeper" >"$shares/ro/sub/deeper"
echo "host secret" >"$shares/outside/secret"
ln -s "$shares/outside/secret" "$shares/ro/escape-abs"
ln -s ../outside/secret "$shares/ro/escape-rel"
ln -s "$shares/outside" "$shares/ro/escape-dir"
echo "from the host" >"$shares/rw/hostfile"
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[tag shr-one]
memory = 384
share = $shares/ro:/home/guest/project
share = $shares/rw:/mnt/out:rw
[tag shr-bad]
memory = 384
share = $shares/missing:/mnt/x
[tag shr-state]
memory = 384
share = $BH_TMP:/mnt/all
[tag shr-disks]
memory = 384
share = $XDG_STATE_HOME/bulkhead/tags:/mnt/disks
CFG

"$CTL" start shr-one >/dev/null || bh_fail "start shr-one failed"
"$CTL" status shr-one
"$CTL" status shr-one | grep -q "^share:   $shares/ro on /home/guest/project (read-only)" ||
	bh_fail "status does not show the read-only share"
"$CTL" status --json shr-one | grep -q '"guest":"/mnt/out","mode":"rw"' ||
	bh_fail "status --json does not show the rw share: $("$CTL" status --json shr-one)"
virsh dumpxml bulkhead-shr-one | grep -A4 "<filesystem type='mount' accessmode='mapped'>" |
	grep -q "<readonly/>" || bh_fail "the read-only share is not read-only in the domain"

# Read-only: readable, not writable, the host's files unchanged.
[ "$(guest_sh shr-one 'cat /home/guest/project/readme')" = "read-only content" ] ||
	bh_fail "the read-only share is not readable: $(guest_sh shr-one 'ls -la /home/guest/project; grep 9p /proc/mounts' 2>&1)"
[ "$(guest_sh shr-one 'cat /home/guest/project/sub/deeper')" = deeper ] ||
	bh_fail "a subfolder of the share is not readable"
guest_sh shr-one 'echo x >/home/guest/project/new' 2>/dev/null && bh_fail "a file was created in the read-only share"
guest_sh shr-one 'echo x >>/home/guest/project/readme' 2>/dev/null && bh_fail "the read-only share was written"
guest_sh shr-one 'rm -f /home/guest/project/readme' 2>/dev/null
[ -e "$shares/ro/new" ] && bh_fail "the read-only share's new file reached the host"
[ "$(cat "$shares/ro/readme")" = "read-only content" ] || bh_fail "the read-only share's file changed on the host"
guest_sh shr-one 'grep " /home/guest/project 9p " /proc/mounts' | grep -q ' ro[ ,]' ||
	bh_fail "the read-only share is not mounted read-only"
echo "read-only share: readable, not writable"

# Symlinks out of the share: none shows the host's secret.
for link in escape-abs escape-rel escape-dir/secret; do
	out=$(guest_sh shr-one "cat /home/guest/project/$link 2>&1")
	case $out in *"host secret"*) bh_fail "the symlink $link revealed its target: $out" ;; esac
	echo "symlink $link in the guest: $out"
done
out=$(guest_sh shr-one 'readlink /home/guest/project/escape-abs 2>&1; ls -la /home/guest/project/ 2>&1')
case $out in *outside*) bh_fail "the symlink's host target shows in the guest: $out" ;; esac

# Read-write: the guest's writes land on the host and the host's in the guest.
[ "$(guest_sh shr-one 'cat /mnt/out/hostfile')" = "from the host" ] ||
	bh_fail "the rw share does not show the host's file"
guest_sh shr-one 'echo "from the guest" >/mnt/out/guestfile && mkdir /mnt/out/dir && echo inner >/mnt/out/dir/f && sync' ||
	bh_fail "writing to the rw share failed: $(guest_sh shr-one 'ls -lan /mnt/out' 2>&1)"
[ "$(cat "$shares/rw/guestfile")" = "from the guest" ] || bh_fail "the guest's write did not reach the host"
[ "$(cat "$shares/rw/dir/f")" = inner ] || bh_fail "the guest's folder did not reach the host"
echo "later" >"$shares/rw/later"
[ "$(guest_sh shr-one 'cat /mnt/out/later')" = later ] || bh_fail "a later host write is not seen in the guest"
# A symlink the guest makes is a plain file on the host (9p mapped mode).
guest_sh shr-one 'ln -s /etc/passwd /mnt/out/planted' || bh_fail "ln -s in the rw share failed"
[ -L "$shares/rw/planted" ] && bh_fail "the guest planted a real symlink on the host"
[ "$(guest_sh shr-one 'readlink /mnt/out/planted')" = /etc/passwd ] ||
	bh_fail "the guest's own symlink does not read back in the guest"
echo "rw share: writes through both ways; a guest symlink is a plain file on the host"

# The share is mounted again after a stop and a start.
"$CTL" stop --timeout 10 shr-one || bh_fail "stop shr-one failed"
"$CTL" start shr-one >/dev/null || bh_fail "restart of shr-one failed"
[ "$(guest_sh shr-one 'cat /mnt/out/guestfile')" = "from the guest" ] ||
	bh_fail "the rw share is not there after a restart"
"$CTL" stop --force shr-one

# A missing host folder: one line naming the tag and the folder.
"$CTL" start shr-bad >/dev/null 2>"$BH_TMP/err" && bh_fail "a share of a missing folder started"
cat "$BH_TMP/err"
[ "$(wc -l <"$BH_TMP/err")" = 1 ] && grep -q "shr-bad.*$shares/missing" "$BH_TMP/err" ||
	bh_fail "the missing share's error is not one line naming tag and folder: $(cat "$BH_TMP/err")"
[ "$(domain_count shr-bad)" = 0 ] || bh_fail "shr-bad's VM runs"
# A share that holds, or lies inside, bulkhead's own disks and settings.
for t in shr-state shr-disks; do
	"$CTL" start "$t" >/dev/null 2>"$BH_TMP/err" && bh_fail "$t, sharing bulkhead's own files, started"
	cat "$BH_TMP/err"
	[ "$(wc -l <"$BH_TMP/err")" = 1 ] && grep -q "tag $t: share .*where bulkhead keeps" "$BH_TMP/err" ||
		bh_fail "$t's refusal is not one line naming it: $(cat "$BH_TMP/err")"
	[ "$(domain_count "$t")" = 0 ] || bh_fail "$t's VM runs"
done

# The menu (Super+d) says which tags have host folders.
bh_need wtype python3
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
start_compositor
wtype -M logo d -m logo || bh_fail "wtype failed"
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
bh_wait_for 5 sh -c "python3 '$IPC' call '{\"cmd\": \"menu\"}' | grep -q '\"open\": \"menu\"'" ||
	bh_fail "Super+d opened no menu"
menu=$(python3 "$IPC" call '{"cmd": "menu"}')
echo "$menu" | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["lines"]))'
echo "$menu" | grep -qF "[shr-one]  stopped  shares $shares/ro, $shares/rw (rw)" ||
	bh_fail "the menu does not show shr-one's shares: $menu"
echo "share: host folders work"
