#!/bin/bash
# Disposable tags on the tiny guest under libvirt session mode, through the
# headless compositor: `run --disposable` runs a command in a new disp-N
# (its output and exit status pass through) and leaves no trace (libvirt
# domain, state and runtime directories, /dev/shm); a disposable's window
# is framed in the disposable colours with [disp-N], and closing it destroys
# the tag; Super+Shift+d opens one; --from a stopped tag sees its files and changes none of its disks;
# open --disposable shows a host file there; a disposable whose qemu is
# killed is removed by its owner at once; after kill -9 of qemu, of the
# owner and of the compositor, the next compositor start removes the
# leftovers, and N is never reused.
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
bh_need grim wtype python3
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
PROBE=$BH_SOURCE_ROOT/tests/relay/png-probe.py
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[general]
tag_app = foot
[tag dsp-src]
memory = 384
CFG
STATE=$XDG_STATE_HOME/bulkhead/tags
RUNTIME=$XDG_RUNTIME_DIR/bulkhead/tags

# no_trace N: nothing of disp-N is left anywhere.
no_trace() {
	local t=disp-$1
	virsh list --all --name | grep -qx "bulkhead-$t" && bh_fail "$t's domain is still there"
	[ -e "$STATE/$t" ] && bh_fail "$t's state directory is still there: $(ls -la "$STATE/$t")"
	[ -e "$RUNTIME/$t" ] && bh_fail "$t's runtime directory is still there: $(ls -la "$RUNTIME/$t")"
	ls /dev/shm | grep -q "bulkhead-$t\b" && bh_fail "$t left files in /dev/shm: $(ls /dev/shm)"
	"$CTL" tags | grep -q "$t" && bh_fail "bulkheadctl tags still lists $t"
	pgrep -u "$(id -u)" -f "qemu-system.*bulkhead-$t( |,|$)" >/dev/null && bh_fail "$t's qemu still runs"
	return 0
}

start_compositor
# A command: its output and status pass through; then nothing is left.
out=$("$CTL" run --disposable -- sh -c 'echo "in $(cat /proc/sys/kernel/hostname) as $(id -un)"; ls /home/guest; exit 3' 2>"$BH_TMP/err")
status=$?
echo "run --disposable said: $out (status $status); $(cat "$BH_TMP/err")"
[ "$status" = 3 ] || bh_fail "the disposable's exit status is $status, not 3: $(cat "$BH_TMP/err")"
case $out in "in "*" as guest"*) ;; *) bh_fail "the disposable's output is \"$out\"" ;; esac
grep -q "tag disp-1: a disposable from the base" "$BH_TMP/err" || bh_fail "no note naming disp-1: $(cat "$BH_TMP/err")"
no_trace 1
echo "disp-1: ran, exit status 3 passed through, no trace left"

# A window: framed in the disposable colours with [disp-2]; closing it ends
# the tag. The menu offers a disposable.
wtype -M logo d -m logo || bh_fail "wtype failed"
bh_wait_for 5 sh -c "python3 '$IPC' call '{\"cmd\": \"menu\"}' | grep -q 'open in a disposable'" ||
	bh_fail "the menu has no disposable entry: $(python3 "$IPC" call '{"cmd": "menu"}')"
python3 "$IPC" call '{"cmd": "menu"}' | python3 -c 'import json,sys; print("menu:", json.load(sys.stdin)["lines"])'
wtype -k Escape
"$CTL" run --disposable -- foot --app-id=throwaway sh -c 'echo a disposable; sleep 600' >"$BH_TMP/d2.out" 2>&1 &
owner=$!
read -r id x y w h title < <(python3 "$IPC" wait-window disp-2 throwaway 240) ||
	bh_fail "no disp-2 window: $(cat "$BH_TMP/d2.out"); $(tail -5 "$BH_TMP/compositor.log")"
case $title in "[disp-2] "*) ;; *) bh_fail "the disposable's title lacks [disp-2]: $title" ;; esac
sleep 1
grim "$BH_TMP/disp.png" || bh_fail "grim failed"
colour=$(python3 "$IPC" tag-field disp-2 colour)
px=$(python3 "$PROBE" "$BH_TMP/disp.png" pixel $((x - 2)) $((y + h / 2)))
echo "disp-2: window '$title', frame $px, tag colour $colour"
case $colour in "#ffd600" | "#ffea00" | "#fff176" | "#ffc400") ;; *) bh_fail "disp-2's colour $colour is not a disposable colour" ;; esac
[ "$px" = "$((16#${colour:1:2})) $((16#${colour:3:2})) $((16#${colour:5:2}))" ] ||
	bh_fail "disp-2's frame is $px on screen, not its colour $colour"
[ -d "$STATE/disp-2" ] || bh_fail "no state directory for disp-2 while it runs"
python3 "$IPC" call "{\"cmd\": \"close\", \"id\": $id}" >/dev/null
bh_wait_for 60 sh -c "! kill -0 $owner" || bh_fail "the disposable did not end when its window closed"
wait "$owner"
no_trace 2
echo "disp-2: framed window, closed, no trace left"

# Super+Shift+d: the default app (foot) in disp-3, framed; closing it ends
# the tag. The compositor owns nothing: its bulkheadctl child does.
wtype -M logo -M shift d -m shift -m logo || bh_fail "wtype failed"
read -r id _ < <(python3 "$IPC" wait-window disp-3 '*' 240) ||
	bh_fail "Super+Shift+d opened no disposable window: $(tail -5 "$BH_TMP/compositor.log")"
echo "Super+Shift+d: $(python3 "$IPC" windows | grep disp-3)"
python3 "$IPC" call "{\"cmd\": \"close\", \"id\": $id}" >/dev/null
bh_wait_for 60 sh -c "[ ! -e '$STATE/disp-3' ]" || bh_fail "disp-3 stayed after its window closed"
bh_wait_for 30 sh -c "! virsh list --name | grep -q disp-3" || bh_fail "disp-3's VM stayed"
no_trace 3

# --from a stopped tag: its files, none of its disks changed.
"$CTL" start dsp-src >/dev/null || bh_fail "start dsp-src failed"
# (start in a session goes through the compositor's proxy, which holds the
# channel: commands go through it)
"$CTL" exec dsp-src -- sh -c 'echo source-data >"$HOME/kept" && sync' ||
	bh_fail "writing in dsp-src failed"
"$CTL" stop --timeout 10 dsp-src || bh_fail "stop dsp-src failed"
before=$(cd "$STATE/dsp-src" && sha256sum root.qcow2 home.qcow2)
out=$("$CTL" run --disposable --from dsp-src -- sh -c 'cat "$HOME/kept"; echo changed >"$HOME/kept"; rm -rf /tmp/*; cat "$HOME/kept"; sync')
[ "$out" = "source-data
changed" ] || bh_fail "the disposable from dsp-src saw \"$out\""
[ "$(cd "$STATE/dsp-src" && sha256sum root.qcow2 home.qcow2)" = "$before" ] ||
	bh_fail "the disposable changed dsp-src's disks"
no_trace 4
"$CTL" start dsp-src >/dev/null && [ "$("$CTL" exec dsp-src -- sh -c 'cat "$HOME/kept"')" = source-data ] ||
	bh_fail "dsp-src lost its file to the disposable"
# A running tag is refused as a source, in one line.
"$CTL" run --disposable --from dsp-src -- true 2>"$BH_TMP/err" && bh_fail "a disposable from a running tag started"
cat "$BH_TMP/err"
grep -q "tag dsp-src: it runs" "$BH_TMP/err" || bh_fail "no reason for the running source"
"$CTL" stop --force dsp-src
echo "disp-4: from dsp-src's disks, which stayed as they were"

# open --disposable: the host file shows in a framed window there.
echo "a file from the host" >"$BH_TMP/letter.txt"
"$CTL" open --disposable "$BH_TMP/letter.txt" >"$BH_TMP/open.out" 2>&1 &
owner=$!
read -r id _ < <(python3 "$IPC" wait-window disp-6 xdg-open 240) ||
	bh_fail "open --disposable showed no window: $(cat "$BH_TMP/open.out")"
sleep 1
echo "open --disposable: $(python3 "$IPC" windows | grep disp-6)"
python3 "$IPC" call "{\"cmd\": \"close\", \"id\": $id}" >/dev/null
bh_wait_for 60 sh -c "! kill -0 $owner" || bh_fail "open's disposable did not end with its window"
wait "$owner"
no_trace 6

# qemu killed under a running disposable: its owner removes it at once.
"$CTL" run --disposable -- sleep 600 >/dev/null 2>"$BH_TMP/d7.err" &
owner=$!
bh_wait_for 240 sh -c "python3 '$IPC' tag-field disp-7 state | grep -q running" || bh_fail "disp-7 did not start"
kill -9 "$(pgrep -u "$(id -u)" -f 'qemu-system.*bulkhead-disp-7' | head -1)"
bh_wait_for 60 sh -c "! kill -0 $owner" || bh_fail "disp-7's owner did not notice its qemu died"
wait "$owner"
echo "disp-7 after kill -9 of its qemu: $(cat "$BH_TMP/d7.err" | tr '\n' ' ')"
no_trace 7

# Crash: kill -9 its qemu, its owner and the compositor; the next start of
# the compositor removes what is left, and the number is not reused.
"$CTL" run --disposable -- sleep 600 >/dev/null 2>&1 &
owner=$!
bh_wait_for 240 sh -c "python3 '$IPC' tag-field disp-8 state | grep -q running" || bh_fail "disp-8 did not start"
kill -9 "$owner"
kill -9 "$(pgrep -u "$(id -u)" -f 'qemu-system.*bulkhead-disp-8' | head -1)"
kill -9 "${BH_CLEANUP_PIDS[0]}"
sleep 2
rm -f "$BULKHEAD_SOCKET" # a killed compositor leaves its socket
[ -d "$STATE/disp-8" ] || bh_fail "disp-8's state was gone before the restart (nothing to test)"
echo "after kill -9: $(ls "$STATE" | tr '\n' ' ')"
start_compositor
bh_wait_for 60 sh -c "[ ! -e '$STATE/disp-8' ]" || bh_fail "the compositor's start did not remove disp-8"
no_trace 8
out=$("$CTL" run --disposable -- sh -c 'cat /proc/sys/kernel/hostname' 2>"$BH_TMP/err")
grep -q "tag disp-9:" "$BH_TMP/err" || bh_fail "the next disposable is not disp-9: $(cat "$BH_TMP/err")"
no_trace 9
echo "after kill -9 of qemu, owner and compositor: disp-8 removed at the next start; next is disp-9"
echo "disposable: no trace remains"
