#!/bin/bash
# Buffer data compressed on the channel (a tag's compress = lz4): the host
# asks at hello, the agent then sends LZ4 blocks, the relay expands them into
# the host pool. What the guest drew is what the host shows and fewer bytes
# cross the channel than were drawn. (Malformed compressed data: the evil
# agent's case and fuzz_relay.)
. "$BH_SOURCE_ROOT/tests/relay/relay-env.sh"
bh_need weston-simple-shm
start_weston
RELAY_HOST_ARGS=--lz4 start_relay
bh_wait_for 10 grep -q "the host asked for lz4" "$BH_TMP/agent.log" ||
	bh_fail "the agent did not hear the host ask for compression: $(tail -3 "$BH_TMP/agent.log")"

sleep 1
shot base
check_simple_shm

# The relay's line for the client that went: bytes drawn and bytes carried.
bh_wait_for 10 grep -q "gone: .*buffer data" "$BH_TMP/relay.log" ||
	bh_fail "the relay did not report the client gone: $(tail -3 "$BH_TMP/relay.log")"
read -r drawn carried < <(sed -n 's/.*buffer data \([0-9]*\) bytes, \([0-9]*\) on the channel.*/\1 \2/p' \
	"$BH_TMP/relay.log" | tail -1)
echo "buffer data: $drawn bytes drawn, $carried bytes on the channel"
[ "${drawn:-0}" -gt 1000000 ] || bh_fail "too little buffer data to judge ($drawn bytes)"
[ $((carried * 10)) -lt $((drawn * 8)) ] || bh_fail "compression did not shrink the buffer data ($carried of $drawn)"

! relay_errors || bh_fail "the relay complained (above)"
echo "PASS"
