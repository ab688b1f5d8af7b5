#!/bin/bash
# The Debian base end to end under TCG: `bulkheadctl base build` makes it
# (unless the build tree holds one from the same recipe and agent); tag deb,
# pinned to it by its config while the tiny guest is the newest base, is
# spawned in the headless compositor, whose proxy boots it; the guest's foot
# appears framed in deb's colour with "[deb] " in its title; the boot trace
# adds up; commands run as the user the base was made for and not as root,
# no unit failed, the power button stops it cleanly, a file in home survives
# stop and a second spawn, and both boots' timings are printed.
. "$BH_SOURCE_ROOT/tests/lib.sh"
bh_need mmdebstrap mke2fs qemu-img cpio zstd xz grim wtype python3

CACHE=$BH_BUILD_ROOT/guest/debian-base
RECIPE=$BH_BUILD_ROOT/guest/build-debian-base.sh
AGENT=$BH_BUILD_ROOT/guest-agent/bulkhead-agent
[ -x "$RECIPE" ] && [ -x "$AGENT" ] || bh_fail "build first: no $RECIPE or $AGENT"
key=$(cat "$RECIPE" "$AGENT" | sha256sum | cut -c1-16)

# Built before the lifecycle set-up runs this again as its unprivileged
# user: as root mmdebstrap needs no subordinate ids.
if [ "$(cat "$CACHE/key" 2>/dev/null)" != "$key" ] || [ ! -f "$CACHE/root.qcow2" ]; then
	if [ "$(id -u)" != 0 ] && ! grep -q "^$(id -un):" /etc/subuid; then
		[ -z "${CI:-}" ] || bh_fail "$(id -un) has no /etc/subuid range for mmdebstrap"
		echo "SKIP: $(id -un) has no /etc/subuid range for mmdebstrap; run as root" >&2
		exit 77
	fi
	echo "building the Debian base into $CACHE" >&2
	rm -rf "$CACHE"
	state=$(mktemp -d)
	started=$SECONDS
	# The build's log goes to a scratch state directory, not root's own.
	XDG_STATE_HOME=$state "$BH_BUILD_ROOT/cli/bulkheadctl" base build --output "$CACHE" >&2 ||
		{
			rm -rf "$state"
			bh_fail "base build failed"
		}
	rm -rf "$state"
	echo "$key" >"$CACHE/key"
	chmod -R a+rX "$CACHE"
	echo "base build took $((SECONDS - started)) s" >&2
else
	echo "Debian base: cached in $CACHE" >&2
fi

. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py
PROBE=$BH_SOURCE_ROOT/tests/relay/png-probe.py
export WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1
TAG=deb

deb_base=$("$CTL" base add "$CACHE" --cmdline "$(cat "$CACHE/cmdline")") ||
	bh_fail "base add failed"
# The tiny guest registered after it is the newest base ("latest"): only
# the tag's `base =` can make it boot the Debian base.
"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add of the tiny guest failed"
[ "$(readlink "$XDG_DATA_HOME/bulkhead/bases/latest")" != "$deb_base" ] ||
	bh_fail "the Debian base is still the newest base"
user=$(sed -n 's/^  "user": "\([^"]*\)".*/\1/p' "$CACHE/manifest.json")
[ -n "$user" ] || bh_fail "the manifest names no user"
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[general]
tag_app = foot
[tag $TAG]
colour = #d35400
memory = 1024
base = $deb_base
boot_timeout = 600
CFG

start_compositor

tag_field() {
	python3 "$IPC" tag-field "$1" "$2"
}

# A shell command line in the guest, as its user, through the proxy.
gsh() {
	timeout 120 "$CTL" exec "$TAG" -- sh -c "$*"
}

# Spawns the tag through the compositor (its default app, foot) and waits
# for the guest's window: id x y w h title.
spawn_window() {
	local start=$SECONDS
	"$CTL" spawn "$TAG" >/dev/null || bh_fail "spawn $TAG failed"
	read -r id x y w h title < <(python3 "$IPC" wait-window "$TAG" '*' 600) ||
		bh_fail "no $TAG window after $((SECONDS - start)) s: state $(tag_field "$TAG" state)," \
			"$(tag_field "$TAG" error); $(tail -5 "$BH_TMP/compositor.log");" \
			"console: $("$CTL" console "$TAG" | tail -20)"
	echo "$TAG: guest window after $((SECONDS - start)) s (boot under TCG)"
}

spawn_window
# The proxy booted the Debian base the config names, not the newest.
virsh dumpxml "bulkhead-$TAG" | grep -q "<kernel>.*/$deb_base/vmlinuz</kernel>" ||
	bh_fail "$TAG did not boot the Debian base $deb_base: $(virsh dumpxml "bulkhead-$TAG" | grep '<kernel>')"
# Its frame, left of the window, in deb's colour; the title marks the tag.
python3 "$IPC" focus "$id"
grim "$BH_TMP/deb.png" || bh_fail "grim failed"
px=$(python3 "$PROBE" "$BH_TMP/deb.png" pixel $((x - 2)) $((y + h / 2)))
colour=$(python3 "$IPC" get windows | python3 -c 'import json,sys
for l in sys.stdin:
    w = json.loads(l)
    if w["id"] == int(sys.argv[1]): print(w["colour"])' "$id")
[ "$colour" = "#d35400" ] || bh_fail "the window's frame colour is $colour, not deb's #d35400"
[ "$px" = "211 84 0" ] || bh_fail "the guest window's frame is $px on screen, not deb's #d35400"
case $title in "[$TAG] "*) ;; *) bh_fail "the title lacks [$TAG]: $title" ;; esac
echo "$TAG: '$title' framed in #d35400"
# The terminal works: a command typed into it runs in the guest as the
# user, and its text (the guest's fonts) shows in the window.
grim "$BH_TMP/before.png" || bh_fail "grim failed"
wtype 'touch typed-in-deb' && wtype -k Return || bh_fail "wtype failed"
bh_wait_for 120 sh -c "[ \"\$('$CTL' exec $TAG -- stat -c %u typed-in-deb)\" = 1000 ]" ||
	bh_fail "the command typed into the guest's foot did not run as $user"
grim "$BH_TMP/typed.png" || bh_fail "grim failed"
text=$(python3 "$PROBE" "$BH_TMP/typed.png" diff "$BH_TMP/before.png" "$x" "$y" "$w" "$h")
[ "$text" -gt 100 ] || bh_fail "the typed command did not show in the guest's window ($text pixels)"
echo "$TAG: a command typed into foot ran as $user ($text pixels of text)"
check_boot_trace "$TAG"

gsh 'grep -q "^ID=debian" /etc/os-release' || bh_fail "the guest is not Debian"
[ "$(gsh id -un)" = "$user" ] || bh_fail "guest commands do not run as $user: $(gsh id)"
[ "$(gsh id -u)" = 1000 ] || bh_fail "the guest user is not uid 1000"
[ "$(gsh 'echo $HOME')" = "/home/$user" ] || bh_fail "the guest user's home is not /home/$user"
gsh 'findmnt -n -o SOURCE /home' | grep -qx /dev/vdb || bh_fail "home is not the home disk"
# The window is the guest's foot, run as the user.
[ "$(gsh 'ps -o uid= -C foot' | tr -d ' ' | sort -u)" = 1000 ] ||
	bh_fail "foot does not run as $user in the guest: $(gsh 'ps -o user,args -C foot')"
gsh 'echo debian-base-data > "$HOME/kept" && sync' || bh_fail "writing in home failed"

# The power button is heard from early boot on: a clean stop, no power-off.
# The tag's window goes with its VM.
"$CTL" stop --timeout 60 "$TAG" 2>"$BH_TMP/stop.err" ||
	bh_fail "stop failed: $(cat "$BH_TMP/stop.err")"
! grep -q "did not shut down" "$BH_TMP/stop.err" || bh_fail "the guest ignored the power button"
[ "$(tag_state "$TAG")" = stopped ] || bh_fail "$TAG did not stop"
# A stop is not a failure: the agent said goodbye before the VM went.
bh_wait_for 30 sh -c "python3 '$IPC' get tags | grep -q '\"name\": \"$TAG\".*\"state\": \"stopped\"'" ||
	bh_fail "after a clean stop the compositor shows $TAG $(tag_field "$TAG" state): $(tag_field "$TAG" error)"
bh_wait_for 30 sh -c "! python3 '$IPC' windows | grep -q ' $TAG '" ||
	bh_fail "$TAG's window stayed after its VM stopped"

# Spawned again: a second boot, the file in home kept.
spawn_window
check_boot_trace "$TAG"
[ "$(gsh 'cat "$HOME/kept"')" = debian-base-data ] ||
	bh_fail "the file in home did not survive stop and start"

# Every unit came up (degraded would name the failed ones). The agent
# answers before the system bus is there to ask.
state=$(gsh 'n=0
	while [ ! -S /run/dbus/system_bus_socket ] && [ $n -lt 200 ]; do
		sleep 0.5
		n=$((n + 1))
	done
	timeout 100 systemctl is-system-running --wait')
[ "$state" = running ] ||
	bh_fail "the guest is $state: $(gsh 'systemctl --failed --no-legend')"

# The guest's own clock for the second boot: the initrd's marks, the
# agent's start, systemd's view.
gsh '. /run/bulkhead-boot.env
	hz=$(getconf CLK_TCK)
	pid=$(pgrep -o bulkhead-agent)
	agent=$(awk -v hz="$hz" "{ printf \"%.2f\", \$22 / hz }" /proc/$pid/stat)
	echo "guest (second boot): kernel $((BULKHEAD_BOOT_INIT_USEC / 1000)) ms," \
		"initrd $(((BULKHEAD_BOOT_SYSTEMD_USEC - BULKHEAD_BOOT_INIT_USEC) / 1000)) ms," \
		"agent started at $agent s"
	systemd-analyze | head -1
	systemd-analyze blame | head -5'

"$CTL" stop --timeout 60 "$TAG" >/dev/null 2>&1 || bh_fail "final stop failed"
echo "PASS: Debian base boots under the compositor, shows foot in deb's colour, runs commands as $user and keeps home"
