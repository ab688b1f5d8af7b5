#!/bin/bash
# Clipboard chords: t1's selection is invisible to t2 and to the host until
# the user copies it (Super+c on a t1 window) and pastes it (Super+v on a t2
# window); then t2 sees it, once: t3 still sees nothing.
. "$BH_SOURCE_ROOT/tests/compositor/lib.sh"
CLIP=$BH_BUILD_ROOT/tests/relay/clip-client
start_compositor

in_tag t1 "'$CLIP' copy 'secret of t1' > '$BH_TMP/copy.out' 2>&1"
window t1 clip-copy
bh_wait_for 10 grep -q copied "$BH_TMP/copy.out" || bh_fail "t1's copy client never set its selection"
copy_id=$(field "$WIN" id)

# paste_in TAG NAME: a paste client of TAG; prints what it got.
paste_in() {
	rm -f "$BH_TMP/$2.out"
	if [ "$1" = - ]; then
		"$CLIP" paste 5 >"$BH_TMP/$2.out" 2>&1
	else
		in_tag "$1" "'$CLIP' paste 5 > '$BH_TMP/$2.part' 2>&1; mv '$BH_TMP/$2.part' '$BH_TMP/$2.out'"
		bh_wait_for 20 test -e "$BH_TMP/$2.out" || bh_fail "the paste client of $1 did not finish"
	fi
	cat "$BH_TMP/$2.out"
}

out=$(paste_in t2 before)
case $out in *secret*) bh_fail "t2 read t1's selection without a chord: $out" ;; esac
out=$(paste_in - host)
case $out in *secret*) bh_fail "the host read t1's selection without a chord: $out" ;; esac
echo "without the chords: t2 '$(cat "$BH_TMP/before.out")', host '$out'"

# Super+c on t1's window, Super+v on a t2 window.
python3 "$IPC" focus "$copy_id"
wtype -M logo c -m logo
bh_wait_for 5 grep -q "copied 12 bytes" "$BH_TMP/compositor.log" ||
	bh_fail "Super+c did not copy t1's selection: $(grep -i copy "$BH_TMP/compositor.log" | tail -2)"
in_tag t2 weston-simple-shm
window t2 '*'
python3 "$IPC" focus "$(field "$WIN" id)"
wtype -M logo v -m logo
bh_wait_for 5 grep -q "pasted 12 bytes from \[t1\] into \[t2\]" "$BH_TMP/compositor.log" ||
	bh_fail "Super+v did not hand the copy to t2"
out=$(paste_in t2 after)
[ "$out" = "pasted: secret of t1" ] || bh_fail "t2 did not get the copied text: $out"
out=$(paste_in t3 other)
case $out in *secret*) bh_fail "t3 got the copy too: $out" ;; esac
echo "after Super+c on t1 and Super+v on t2: t2 '$(cat "$BH_TMP/after.out")', t3 '$out'"
echo PASS
