#!/bin/bash
# End to end with real VMs under TCG, as an unprivileged user: Super+t,
# "e2e" and Enter typed with wtype spawn tag e2e, whose proxy boots the tiny
# guest through libvirt, and the guest's terminal appears framed in e2e's
# colour; the boot trace adds up; Super+Return in it opens another without a
# new boot; a tree pushed in and pulled out comes back identical; tag e2f
# starts from the menu and runs a command through `bulkheadctl run`, in its
# own colour beside e2e; killing e2e's qemu removes only e2e's windows, marks
# it failed with a reason, while e2f's window keeps repainting; spawning e2e
# again recovers.
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
bh_need grim wtype python3 weston-simple-shm
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
PROBE=$BH_SOURCE_ROOT/tests/relay/png-probe.py
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[general]
tag_app = foot
[tag e2e]
colour = #8e44ad
memory = 512
[tag e2f]
colour = #16a085
memory = 384
CFG
start_compositor
weston-simple-shm >/dev/null 2>&1 &
BH_CLEANUP_PIDS+=("$!")

tag_field() {
	python3 "$IPC" tag-field "$1" "$2"
}

start=$SECONDS
# Super+t, the tag's name, Enter: the compositor's prompt.
wtype -M logo t -m logo || bh_fail "wtype failed"
bh_wait_for 5 sh -c "python3 '$IPC' call '{\"cmd\": \"menu\"}' | grep -q '\"open\": \"prompt\"'" ||
	bh_fail "Super+t opened no prompt: $(python3 "$IPC" call '{"cmd": "menu"}')"
wtype e2e && wtype -k Return || bh_fail "wtype failed"
bh_wait_for 10 sh -c "python3 '$IPC' get tags | grep -q '\"name\": \"e2e\".*\"state\": \"\(starting\|running\)\"'" ||
	bh_fail "Super+t e2e Enter did not start e2e: $(python3 "$IPC" get tags | grep e2e)"
[ "$(tag_field e2e state)" = starting ] || [ "$(tag_field e2e state)" = running ] ||
	bh_fail "e2e is not starting: $(tag_field e2e state) $(tag_field e2e error)"
read -r id x y w h title < <(python3 "$IPC" wait-window e2e '*' 240) ||
	bh_fail "no e2e window after $((SECONDS - start)) s: state $(tag_field e2e state), $(tag_field e2e error); $(tail -5 "$BH_TMP/compositor.log")"
echo "e2e: guest window '$title' after $((SECONDS - start)) s (boot under TCG)"
sleep 2
grim "$BH_TMP/e2e.png" || bh_fail "grim failed"
px=$(python3 "$PROBE" "$BH_TMP/e2e.png" pixel $((x - 2)) $((y + h / 2)))
[ "$px" = "142 68 173" ] || bh_fail "the guest window's frame is $px, not e2e's #8e44ad"
case $title in "[e2e] "*) ;; *) bh_fail "the title lacks [e2e]: $title" ;; esac
# The boot trace: every step from the spawn to this window, the guest's
# own (kernel, init to agent) included, adding up to the total.
check_boot_trace e2e
dom=$(virsh list --name | grep -c '^bulkhead-e2e$')
[ "$dom" = 1 ] || bh_fail "no domain bulkhead-e2e"

# Super+Return in the focused guest window: another terminal, same VM.
python3 "$IPC" focus "$id"
wtype -M logo -k Return -m logo
bh_wait_for 60 sh -c "[ \$(python3 '$IPC' windows | grep -c ' e2e ') -ge 2 ]" ||
	bh_fail "Super+Return in a guest window opened no second e2e window"
[ "$(virsh list --name | grep -c '^bulkhead-e2e$')" = 1 ] || bh_fail "a second VM was started"
echo "Super+Return: a second e2e window, one VM"

# push and pull of a tree through the channel, byte for byte, modes and
# times kept.
tree_sig() {
	(cd "$1" && find . -mindepth 1 -print0 | sort -z | xargs -0 stat -c '%n %a %s %Y %F' &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
src=$BH_TMP/tree
mkdir -p "$src/sub/deeper"
head -c 300000 /dev/urandom >"$src/sub/blob"
echo hello >"$src/hello"
chmod 640 "$src/hello"
touch -d '2003-04-05 06:07:08' "$src/hello" "$src/sub/deeper"
ghome=$("$CTL" exec e2e -- sh -c 'echo $HOME') || bh_fail "exec in e2e failed"
"$CTL" push e2e "$src" "$ghome" || bh_fail "push into e2e failed"
"$CTL" pull e2e "$ghome/tree" "$BH_TMP/back" || bh_fail "pull from e2e failed"
[ "$(tree_sig "$src")" = "$(tree_sig "$BH_TMP/back")" ] ||
	bh_fail "the tree came back different: $(diff <(tree_sig "$src") <(tree_sig "$BH_TMP/back"))"
echo "push and pull: the tree round-tripped"

# e2f from the menu: Super+d, type to filter, Enter starts it (its app is
# the default terminal); then `bulkheadctl run` opens a ticking terminal.
wtype -M logo d -m logo || bh_fail "wtype failed"
bh_wait_for 5 sh -c "python3 '$IPC' call '{\"cmd\": \"menu\"}' | grep -q '\"open\": \"menu\"'" ||
	bh_fail "Super+d opened no menu"
wtype e2f && wtype -k Return || bh_fail "wtype failed"
python3 "$IPC" wait-window e2f '*' 240 >/dev/null || bh_fail "the menu did not start e2f"
"$CTL" run e2f -- foot --app-id=ticker sh -c 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done' \
	>/dev/null || bh_fail "run in e2f failed"
read -r tid tx ty tw th _ < <(python3 "$IPC" wait-window e2f ticker 60) ||
	bh_fail "bulkheadctl run opened no ticker window in e2f"
grim "$BH_TMP/two.png" || bh_fail "grim failed"
# Each window's left border, in the screenshot, is the colour the IPC says
# its frame has (the focused or unfocused shade of its tag's colour).
python3 "$IPC" get windows >"$BH_TMP/two.windows"
python3 - "$BH_TMP/two.windows" "$BH_TMP/two.png" "$PROBE" <<'PY' || bh_fail "the two tags' frames are wrong in the screenshot"
import json, subprocess, sys
wins = [json.loads(l) for l in open(sys.argv[1])]
seen = {}
for w in wins:
    if w["tag"] not in ("e2e", "e2f"):
        continue
    px = subprocess.run(["python3", sys.argv[3], sys.argv[2], "pixel", str(w["frame_x"]),
                         str(w["y"] + w["height"] - 10)], capture_output=True, text=True).stdout.split()
    want = [int(w["colour"][i:i + 2], 16) for i in (1, 3, 5)]
    assert [int(v) for v in px] == want, (w["tag"], w["title"], px, w["colour"])
    seen.setdefault(w["tag"], set()).add(w["colour"])
assert set(seen) == {"e2e", "e2f"}, seen
assert not (seen["e2e"] & seen["e2f"]), seen
PY
python3 "$IPC" get tags | grep '"name": "e2e"' | grep -q '"colour": "#8e44ad"' || bh_fail "e2e's colour is not its configured one"
python3 "$IPC" get tags | grep '"name": "e2f"' | grep -q '"colour": "#16a085"' || bh_fail "e2f's colour is not its configured one"
echo "two tags side by side in their own colours"

# Killing qemu: e2e's windows go, e2e is failed with a reason, the host
# window stays, e2f's window keeps repainting; a new spawn recovers.
pid=$(pgrep -u "$(id -u)" -f 'qemu-system.*bulkhead-e2e' | head -1)
[ -n "$pid" ] || bh_fail "no qemu process for e2e"
save_consoles before-kill
kill -9 "$pid"
bh_wait_for 30 sh -c "! python3 '$IPC' windows | grep -q ' e2e '" ||
	bh_fail "e2e's windows stayed after its qemu died"
bh_wait_for 10 sh -c "python3 '$IPC' get tags | grep '\"name\": \"e2e\"' | grep -q failed" ||
	bh_fail "e2e is not failed after its qemu died: $(tag_field e2e state)"
echo "after kill -9 of qemu: e2e failed: $(tag_field e2e error)"
python3 "$IPC" windows | grep -q ' - ' || bh_fail "the host window went with e2e"
python3 "$IPC" get tags | grep '"name": "e2f"' | grep -q running || bh_fail "e2f went with e2e"
grim "$BH_TMP/after1.png" && sleep 1.5 && grim "$BH_TMP/after2.png" || bh_fail "grim failed"
ticks=$(python3 "$PROBE" "$BH_TMP/after2.png" diff "$BH_TMP/after1.png" "$tx" "$ty" "$tw" "$th")
[ "$ticks" -gt 0 ] || bh_fail "e2f's window stopped repainting after e2e's qemu died"
echo "e2f repaints after the kill ($ticks pixels changed)"
"$CTL" spawn e2e || bh_fail "the second spawn failed"
python3 "$IPC" wait-window e2e '*' 240 >/dev/null || bh_fail "e2e did not recover"
echo "e2e recovered"
"$CTL" boot-trace e2e || bh_fail "boot-trace after the recovery failed"

# After the kill, every overlay is intact: stop both tags, check each disk.
"$CTL" stop e2e >/dev/null && "$CTL" stop e2f >/dev/null || bh_fail "stop failed"
# A stop is not a failure: the compositor shows both stopped, not failed.
for t in e2e e2f; do
	bh_wait_for 30 sh -c "python3 '$IPC' get tags | grep -q '\"name\": \"$t\".*\"state\": \"stopped\"'" ||
		bh_fail "after a clean stop the compositor shows $t $(tag_field "$t" state): $(tag_field "$t" error)"
done
for disk in "$XDG_STATE_HOME"/bulkhead/tags/*/*.qcow2; do
	qemu-img check -q "$disk" || bh_fail "qemu-img check found $disk damaged"
done
echo "qemu-img check: $(ls "$XDG_STATE_HOME"/bulkhead/tags/*/*.qcow2 | wc -l) overlays intact"
echo PASS
