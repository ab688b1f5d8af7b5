#!/bin/bash
# X11 in a real VM under TCG: tag x11vm boots the tiny guest, which carries
# Xwayland; an X client started with `bulkheadctl run` (the agent sets its
# DISPLAY and starts Xwayland for it) shows a framed x11vm window titled
# from X, and its override-redirect menu is drawn at +40,+30 on it.
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
bh_need grim python3 Xwayland
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
PROBE=$BH_SOURCE_ROOT/tests/relay/png-probe.py
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[tag x11vm]
colour = #2980b9
memory = 512
app =
CFG
start_compositor
start=$SECONDS
"$CTL" run x11vm -- bulkhead-x11-client menu >/dev/null || bh_fail "bulkheadctl run x11vm failed"
read -r id x y w h title < <(python3 "$IPC" wait-window x11vm X11Menu 300) ||
	bh_fail "no X11 window in x11vm after $((SECONDS - start)) s: $("$CTL" status x11vm 2>&1 | head -3); $(tail -5 "$BH_TMP/compositor.log")"
echo "x11vm: X window '$title' ${w}x${h} after $((SECONDS - start)) s (boot under TCG)"
[ "$title" = "[x11vm] x11 menu test" ] || bh_fail "the X window's title is '$title'"
# The menu comes a second after its top-level.
sleep 4
grim "$BH_TMP/x11vm.png" || bh_fail "grim failed"
read -r count gx0 gy0 _ < <(python3 "$PROBE" "$BH_TMP/x11vm.png" box 0 255 0)
echo "x11vm: $count green menu pixels from $gx0,$gy0 (top-level at $x,$y)"
[ "$count" -ge 9000 ] || bh_fail "the X menu is not on screen ($count green pixels)"
[ "$gx0" = $((x + 40)) ] && [ "$gy0" = $((y + 30)) ] ||
	bh_fail "the X menu is at $gx0,$gy0, not at +40,+30 from its top-level ($x,$y)"
px=$(python3 "$PROBE" "$BH_TMP/x11vm.png" pixel $((x - 2)) $((y + h / 2)))
[ "$px" = "41 128 185" ] || bh_fail "the X window's frame is $px, not x11vm's #2980b9"
echo PASS
