# Checks shared by the relay tests.

# check_guest_globals FILE: FILE is wayland-info output from a guest client;
# fails unless every global is allowlisted (protocols/ALLOWLIST.md) and at
# most at its cap. Prints how many globals the guest saw.
check_guest_globals() {
	local allow iface version cap shown=0
	allow=$(sed -n 's/^| \([a-z_0-9]*\) | \([0-9]*\) |.*/\1 \2/p' \
		"$BH_SOURCE_ROOT/protocols/ALLOWLIST.md")
	[ -n "$allow" ] || bh_fail "no allowlist table in protocols/ALLOWLIST.md"
	while read -r iface version; do
		cap=$(echo "$allow" | awk -v i="$iface" '$1 == i { print $2 }')
		[ -n "$cap" ] || bh_fail "the guest sees $iface, which is not allowlisted"
		[ "$version" -le "$cap" ] ||
			bh_fail "the guest sees $iface version $version, over its cap $cap"
		shown=$((shown + 1))
	done < <(sed -n "s/^interface: '\([a-z_0-9]*\)', *version: *\([0-9]*\).*/\1 \2/p" "$1")
	[ "$shown" -ge 5 ] || bh_fail "the guest sees only $shown globals"
	echo "$shown"
}

# check_evil_output RC OUT LOG: the evil agent's exit status and output, and
# the log where the relay logs each client it ends. Prints the case count.
check_evil_output() {
	local rc=$1 out=$2 log=$3 cases logged
	cat "$out" >&2
	[ "$rc" = 0 ] || bh_fail "the evil agent found a case the relay did not handle (above)"
	cases=$(grep -c '^ok ' "$out")
	[ "$cases" -ge 18 ] || bh_fail "only $cases evil cases ran"
	# each ended client has one clear line in the relay's log
	logged=$(grep -c 'guest Wayland client (stream [0-9]*) ended:' "$log")
	[ "$logged" -ge "$cases" ] || bh_fail "only $logged of $cases cases were logged by the relay"
	echo "$cases"
}
