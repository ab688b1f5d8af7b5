#!/bin/bash
# Guest clients through the real agent and the proxy's relay code, shown on
# a headless weston: each maps a window whose pixels are really there, the
# guest sees only allowlisted globals, and the relay reports no error.
. "$BH_SOURCE_ROOT/tests/relay/relay-env.sh"
bh_need weston-simple-shm weston-simple-damage weston-subsurfaces weston-terminal wayland-info
start_weston
start_relay

# 1. Only allowlisted globals, at most at their caps; the host has more.
XDG_RUNTIME_DIR=$HOST_DIR WAYLAND_DISPLAY=wl-host timeout 10 wayland-info >"$BH_TMP/host-info" ||
	bh_fail "wayland-info on the host failed"
"${AS_GUEST[@]}" timeout 10 wayland-info >"$BH_TMP/guest-info" 2>&1 ||
	bh_fail "wayland-info through the relay failed: $(tail -3 "$BH_TMP/guest-info")"
shown=$(check_guest_globals "$BH_TMP/guest-info") || exit 1
hidden=$(sed -n "s/^interface: '\([a-z_0-9]*\)'.*/\1/p" "$BH_TMP/host-info" |
	while read -r i; do grep -q "'$i'" "$BH_TMP/guest-info" || echo "$i"; done | wc -l)
[ "$hidden" -ge 1 ] || bh_fail "the host offers nothing the guest does not see: filter untested"
echo "globals: $shown shown to the guest, $hidden hidden"

sleep 1
shot base
# Pixels that changed outside weston's panel (its clock ticks).
changed() {
	python3 "$PROBE" "$BH_TMP/shots/$1.png" diff "$BH_TMP/shots/base.png" 0 40 800 560
}

# 2. weston-simple-shm: its colour pattern is on screen.
check_simple_shm

# 3. The other clients each change a window's worth of pixels.
for client in weston-simple-damage weston-subsurfaces weston-terminal gtk3-widget-factory; do
	if ! command -v "$client" >/dev/null; then
		bh_need "$client"
	fi
	sleep 1
	shot "before-$client"
	guest_run "$client"
	sleep 4
	shot "$client"
	kill "$GUEST_PID" 2>/dev/null
	wait "$GUEST_PID" 2>/dev/null
	n=$(python3 "$PROBE" "$BH_TMP/shots/$client.png" diff "$BH_TMP/shots/before-$client.png" \
		0 40 800 560)
	echo "$client: $n pixels changed"
	[ "$n" -gt 10000 ] || bh_fail "$client did not show a window through the relay ($n pixels)"
done

if relay_errors; then
	bh_fail "the relay logged errors for well-behaved clients (above)"
fi
echo "PASS"
