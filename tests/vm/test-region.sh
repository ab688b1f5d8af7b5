#!/bin/bash
# The shared region of a VM tag, on the tiny guest under TCG as an
# unprivileged user: the proxy and the agent both say window contents go
# through it, a guest window drawn by the benchmark client shows its pixels
# (read from the region, the channel carries no buffer bytes; the host copies
# them there from the client's pages in the guest's memory), the region
# file in /dev/shm is the user's alone (mode 0600; another local user cannot
# open it), it is gone after stop, a new one replaces the one a kill -9 of
# qemu left at the next start, and clean removes a left one.
#
# Run as root, the test runs itself as the VM test user and checks, as
# nobody, that the region cannot be opened, while the VM runs.
if [ "$(id -u)" = 0 ] && [ -z "${BH_REGION_HANDSHAKE:-}" ]; then
	. "$BH_SOURCE_ROOT/tests/lib.sh"
	bh_need runuser
	user=${BH_VM_TEST_USER:-bulkhead-test}
	id "$user" >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --no-create-home \
		--shell /usr/sbin/nologin "$user" || bh_fail "cannot create the test user $user"
	BH_TINY_GUEST_DIR=${BH_TINY_GUEST_DIR:-$BH_BUILD_ROOT/guest/tiny}
	BH_BUILD=$BH_BUILD_ROOT "$BH_SOURCE_ROOT/guest/build-tiny-guest.sh" "$BH_TINY_GUEST_DIR" >&2 ||
		bh_fail "building the tiny test guest failed"
	chmod -R a+rX "$BH_TINY_GUEST_DIR"
	hs=$(mktemp -d /tmp/bh-region-XXXXXX)
	chmod 1777 "$hs"
	BH_REGION_HANDSHAKE=$hs BH_TINY_GUEST_DIR=$BH_TINY_GUEST_DIR bash "$0" &
	inner=$!
	# The inner run names the region file once its VM runs; nobody tries it.
	for _ in $(seq 600); do
		[ -f "$hs/path" ] || ! kill -0 "$inner" 2>/dev/null && break
		sleep 1
	done
	if [ -f "$hs/path" ]; then
		path=$(cat "$hs/path")
		if runuser -u nobody -- dd if="$path" of=/dev/null bs=4096 count=1 2>"$hs/err"; then
			echo "read" >"$hs/result"
		elif runuser -u nobody -- sh -c "echo x >>'$path'" 2>>"$hs/err"; then
			echo "written" >"$hs/result"
		else
			echo "refused: $(head -1 "$hs/err")" >"$hs/result"
		fi
	fi
	wait "$inner"
	rc=$?
	rm -rf "$hs"
	exit "$rc"
fi
export BH_VM_TEST_USER=${BH_VM_TEST_USER:-bulkhead-test}
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
bh_need grim python3
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
PROBE=$BH_SOURCE_ROOT/tests/relay/png-probe.py
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"
TAG=rgn1
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[tag $TAG]
colour = #2e86c1
memory = 384
app =
CFG
REGION=/dev/shm/bulkhead-$(id -u)-$TAG
rm -f "$REGION"
start_compositor

"$CTL" spawn "$TAG" >/dev/null || bh_fail "spawn $TAG failed"
bh_wait_for 240 sh -c "'$CTL' status '$TAG' | grep -q running" ||
	bh_fail "$TAG never ran: $("$CTL" status "$TAG" 2>&1); $(tail -5 "$BH_TMP/compositor.log")"
bh_wait_for 120 grep -q "tag $TAG: window contents go through the shared region" \
	"$BH_TMP/compositor.log" ||
	bh_fail "the proxy of $TAG did not take the shared region: $(grep -i "$TAG.*window contents" "$BH_TMP/compositor.log")"
"$CTL" exec "$TAG" -- test -x /usr/bin/bench-client ||
	bh_fail "the tiny guest has no bench-client (build the tree first)"

# A guest window whose pixels come from the region: the cursor pattern's
# background, grey 0x30 in the middle row (left of the blinking cursor), and
# the cursor itself, which changes every frame.
"$CTL" run "$TAG" -- bench-client --size 320x240 --pattern cursor --seconds 600 >/dev/null ||
	bh_fail "bulkheadctl run $TAG failed"
read -r id x y w h title < <(python3 "$IPC" wait-window "$TAG" '*' 120) ||
	bh_fail "no window of $TAG: $(tail -5 "$BH_TMP/compositor.log")"
sleep 2
grim "$BH_TMP/shot.png" || bh_fail "grim failed"
px=$(python3 "$PROBE" "$BH_TMP/shot.png" pixel $((x + 20)) $((y + h / 2)))
[ "$px" = "48 48 48" ] || bh_fail "the guest window's middle row is $px, not the client's grey 48 48 48"
cur=$(python3 "$PROBE" "$BH_TMP/shot.png" pixel $((x + w / 2 + 5)) $((y + h / 2 + 10)))
case $cur in "224 224 224" | "48 48 48") ;; *) bh_fail "the guest's cursor is $cur" ;; esac
echo "guest window $title at ${w}x$h: pixels from the region ($px)"
"$CTL" console "$TAG" | grep -q "window contents go through the shared region" ||
	bh_fail "the agent did not say it maps the region: $("$CTL" console "$TAG" | tail -5)"
# Copied there by the host, from the client's own pages in guest memory:
# the guest makes no copy (the agent's copy would show the same pixels).
grep -q "tag $TAG: window contents are copied by the host from the guest's memory" \
	"$BH_TMP/compositor.log" ||
	bh_fail "the proxy of $TAG does not read the guest's memory: $(grep "tag $TAG.*\(memory\|copies\)" "$BH_TMP/compositor.log")"
"$CTL" console "$TAG" | grep -q "window contents are read by the host from guest memory" ||
	bh_fail "the agent of $TAG did not take the guest-memory path: $("$CTL" console "$TAG" | grep -i memory | tail -3)"
# And the frames went that way: when the client ends, the proxy's line for
# it counts the bytes it copied from guest memory (the agent's own copy
# would count none) against the few bytes of page lists on the channel.
out=$("$CTL" exec "$TAG" -- killall bench-client 2>&1) ||
	bh_fail "could not end the guest's bench-client: $out"
bh_wait_for 30 grep -q "tag $TAG: guest Wayland client (stream [0-9]*) gone" "$BH_TMP/compositor.log" ||
	bh_fail "no end of the guest client in the proxy's log: $(grep "tag $TAG" "$BH_TMP/compositor.log" | tail -3)"
read -r copied wire < <(sed -n "s/.*tag $TAG: guest Wayland client (stream [0-9]*) gone.*(buffer data \([0-9]*\) bytes, \([0-9]*\) on the channel).*/\1 \2/p" \
	"$BH_TMP/compositor.log" | sort -n | tail -1)
[ "${copied:-0}" -ge $((2 * 320 * 240 * 4)) ] ||
	bh_fail "the host copied ${copied:-0} bytes of the client's frames from guest memory, not at least two frames"
[ $((wire * 50)) -lt "$copied" ] ||
	bh_fail "$wire bytes on the channel for $copied copied: frames crossed the channel"
echo "the host copied $copied bytes from guest memory for $wire bytes of page lists"

# The region file: this user's, 0600, the configured default size.
[ -f "$REGION" ] || bh_fail "no region file $REGION while $TAG runs"
read -r mode owner size < <(stat -c '%a %u %s' "$REGION")
[ "$mode" = 600 ] || bh_fail "the region file has mode $mode, not 600"
[ "$owner" = "$(id -u)" ] || bh_fail "the region file belongs to uid $owner"
[ "$size" = $((256 << 20)) ] || bh_fail "the region file has $size bytes, not 256 MiB"
"$CTL" status "$TAG" | grep -qx "windows: through the shared region $REGION" ||
	bh_fail "bulkheadctl status does not show the region: $("$CTL" status "$TAG")"
if [ -n "${BH_REGION_HANDSHAKE:-}" ]; then
	echo "$REGION" >"$BH_REGION_HANDSHAKE/path"
	bh_wait_for 30 test -f "$BH_REGION_HANDSHAKE/result" ||
		bh_fail "nobody's attempt on the region file did not report"
	result=$(cat "$BH_REGION_HANDSHAKE/result")
	case $result in
	refused*) echo "another user on the region file: $result" ;;
	*) bh_fail "another local user could open the region file: $result" ;;
	esac
elif [ -n "${CI:-}" ]; then
	bh_fail "run as root to check that another user cannot open the region file"
else
	echo "note: not root, so another user's access to $REGION is not tried (mode 600 is)"
fi

# Gone after stop.
"$CTL" stop "$TAG" >/dev/null || bh_fail "stop $TAG failed"
bh_wait_for 30 sh -c "! test -e '$REGION'" || bh_fail "the region file stays after stop"

# kill -9 of qemu leaves it (libvirt does); the next start makes a new one.
"$CTL" start "$TAG" >/dev/null || bh_fail "start $TAG failed"
[ -f "$REGION" ] || bh_fail "no region file after start"
before=$(stat -c %i "$REGION")
pkill -9 -u "$(id -u)" -f "qemu-system.*bulkhead-$TAG" || bh_fail "no qemu of $TAG to kill"
bh_wait_for 30 sh -c "[ \$(virsh list --name | grep -cx bulkhead-$TAG) = 0 ]" ||
	bh_fail "the killed domain is still listed"
[ -f "$REGION" ] || echo "note: the region file went with qemu"
"$CTL" start "$TAG" >/dev/null || bh_fail "the start after kill -9 failed"
[ -f "$REGION" ] || bh_fail "no region file after the start following kill -9"
[ "$(stat -c %i "$REGION")" != "$before" ] || bh_fail "the left region file was reused"
[ "$(stat -c %a "$REGION")" = 600 ] || bh_fail "the new region file is not 0600"
[ "$(ls /dev/shm | grep -c "^bulkhead-$(id -u)-$TAG$")" = 1 ] || bh_fail "more than one region file"

# clean removes one left behind.
pkill -9 -u "$(id -u)" -f "qemu-system.*bulkhead-$TAG"
bh_wait_for 30 sh -c "[ \$(virsh list --name | grep -cx bulkhead-$TAG) = 0 ]" ||
	bh_fail "the killed domain is still listed"
out=$("$CTL" clean --yes "$TAG" 2>&1) || bh_fail "clean $TAG failed: $out"
[ ! -e "$REGION" ] || bh_fail "the region file stays after clean"
echo "PASS: region used, private, removed at stop, replaced after kill -9, removed by clean"
