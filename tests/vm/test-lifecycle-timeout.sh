#!/bin/bash
# A guest that never brings its agent up: start fails once the boot timeout
# is over, and the message carries the tail of the guest's console.
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
bh_need busybox cpio gzip

# The tiny guest's kernel with an initramfs whose init only talks to the
# console: no agent will ever answer.
busybox=$(command -v busybox)
mkdir -p "$BH_TMP/noagent/bin"
cp "$busybox" "$BH_TMP/noagent/bin/busybox"
cat >"$BH_TMP/noagent/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox echo "no-agent-guest: init is up, there is no agent here"
while :; do /bin/busybox sleep 1000; done
INIT
chmod +x "$BH_TMP/noagent/init"
(cd "$BH_TMP/noagent" && find . | cpio -o -H newc 2>/dev/null | gzip >"$BH_TMP/noagent.img") ||
	bh_fail "cannot pack the initramfs"
file "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	echo "note: $busybox is not static; the guest may not get far" >&2

"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$BH_TMP/noagent.img" >/dev/null ||
	bh_fail "base add failed"
if "$CTL" start --timeout 20 mute 2>"$BH_TMP/err"; then
	bh_fail "start succeeded without an agent"
fi
grep -q "tag mute: its agent did not answer within 20 s" "$BH_TMP/err" ||
	bh_fail "the error does not name the tag and the timeout: $(cat "$BH_TMP/err")"
grep -q "no-agent-guest: init is up" "$BH_TMP/err" ||
	bh_fail "the error does not carry the console tail: $(cat "$BH_TMP/err")"
[ "$(wc -l <"$BH_TMP/err")" -le 20 ] || bh_fail "the error is longer than the console tail"

# A guest that dies during boot is reported at once, with its console.
printf '#!/bin/busybox sh\n/bin/busybox echo "dying-guest: bye"\n/bin/busybox poweroff -f\n' >"$BH_TMP/noagent/init"
(cd "$BH_TMP/noagent" && find . | cpio -o -H newc 2>/dev/null | gzip >"$BH_TMP/dies.img")
"$CTL" stop --force mute
"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$BH_TMP/dies.img" >/dev/null
if "$CTL" start --timeout 600 mute 2>"$BH_TMP/err"; then
	bh_fail "start succeeded with a guest that died"
fi
grep -q "tag mute: its VM stopped before its agent answered" "$BH_TMP/err" ||
	bh_fail "a dead guest was not reported as such: $(cat "$BH_TMP/err")"
grep -q "dying-guest: bye" "$BH_TMP/err" || bh_fail "no console tail: $(cat "$BH_TMP/err")"

# No base at all: the message says what to do.
rm -rf "$XDG_DATA_HOME/bulkhead/bases"
"$CTL" start other 2>"$BH_TMP/err" && bh_fail "start without a base succeeded"
grep -q 'run `bulkheadctl base build`' "$BH_TMP/err" ||
	bh_fail "no hint to build a base: $(cat "$BH_TMP/err")"

# vsock without /dev/vhost-vsock: a clear refusal (only testable where the
# device is missing, as here).
if [ ! -e /dev/vhost-vsock ] && grep -q "bh_vm_settings_set(" "$BH_SOURCE_ROOT/cli/settings.c"; then
	"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null
	printf '[tag sock]\ntransport = vsock\n' >"$XDG_CONFIG_HOME/bulkhead/config"
	"$CTL" start sock 2>"$BH_TMP/err" && bh_fail "vsock start succeeded without the device"
	grep -q "/dev/vhost-vsock" "$BH_TMP/err" || bh_fail "unclear vsock error: $(cat "$BH_TMP/err")"
fi
echo "timeouts and boot failures are reported with the console tail"
