#!/bin/bash
# Private links (link = NAME) on the tiny guest under libvirt session mode:
# three tags on one link (a gateway with network = user, a workstation and
# a third member with only the link) reach each other pairwise through the
# link's hub; the workstation reaches the network only through a relay in
# the gateway (busybox nc); a fourth tag, not on the link, reaches none of
# them; the members without a network reach no host address (busybox ping
# needs root, the tests run as the guest user: nc); a local process that
# is no member cannot put a frame on the link; the hub is sandboxed, one
# per link, survives a member's restart, comes back after being killed,
# and ends when no member runs; a link named by one tag only is
# refused with one line. (A member changing its MAC needs root in the
# guest, which the tests do not have: the hub's MAC check is the unit
# test's, tests/unit/test_link_hub.c.)
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
bh_need ss python3

"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[tag lnk-gw]
memory = 192
network = user
link = lnk-a
[tag lnk-ws]
memory = 192
link = lnk-a
[tag lnk-3]
memory = 192
link = lnk-a
[tag lnk-out]
memory = 192
network = user
[tag lnk-lone]
memory = 192
link = lnk-nobody
CFG

field() {
	"$CTL" status --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["links"][0]["'"$2"'"])'
}
gw=$(field lnk-gw address) && ws=$(field lnk-ws address) && m3=$(field lnk-3 address) ||
	bh_fail "no link addresses in status"
"$CTL" status lnk-ws | grep -q "^link:    lnk-a, address $ws/16, mac .*, with lnk-gw ($gw) lnk-3 ($m3)" ||
	bh_fail "status does not show the link: $("$CTL" status lnk-ws)"
echo "lnk-gw is $gw, lnk-ws is $ws, lnk-3 is $m3 on link lnk-a"

for t in lnk-gw lnk-ws lnk-3 lnk-out; do
	"$CTL" start "$t" >"$BH_TMP/$t.out" 2>&1 &
	eval "pid_${t//-/_}=\$!"
done
for t in lnk-gw lnk-ws lnk-3 lnk-out; do
	eval "p=\$pid_${t//-/_}"
	wait "$p" || bh_fail "start $t: $(cat "$BH_TMP/$t.out")"
done
virsh dumpxml bulkhead-lnk-ws | grep -q "<interface type='udp'>" || bh_fail "lnk-ws has no link interface"
virsh dumpxml bulkhead-lnk-ws | grep -q "<interface type='user'>" && bh_fail "lnk-ws has user networking"
guest_sh lnk-ws 'ip -4 addr; ip route'

# One hub for the link, sandboxed, with one socket per member on the
# loopback, each bound to the port its member's qemu sends to.
hubs=$(pgrep -u "$(id -u)" -f "bulkhead-link-hub .* lnk-a ")
[ "$(echo "$hubs" | grep -c .)" = 1 ] || bh_fail "not one hub for lnk-a: $(pgrep -a -u "$(id -u)" -f bulkhead-link-hub)"
hub=$hubs
BH_CLEANUP_PIDS+=("$hub")
grep -E '^(NoNewPrivs|Seccomp):' "/proc/$hub/status" | tr '\n' ' '
echo
grep -q '^Seccomp:[[:space:]]*2' "/proc/$hub/status" || bh_fail "the hub runs without its seccomp filter"
for t in lnk-gw lnk-ws lnk-3; do
	gport=$(virsh dumpxml "bulkhead-$t" | sed -n "s/.*<local address='127.0.0.1' port='\([0-9]*\)'.*/\1/p")
	hport=$(virsh dumpxml "bulkhead-$t" | sed -n "s/.*<source address='127.0.0.1' port='\([0-9]*\)'>.*/\1/p")
	qpid=$(pgrep -u "$(id -u)" -f "qemu-system.*guest=bulkhead-$t," | head -1)
	gsock=$(ss -Hunap "sport = :$gport")
	hsock=$(ss -Hunap "sport = :$hport")
	echo "$t: qemu $gsock"
	echo "$t: hub  $hsock"
	[ "$(echo "$gsock" | wc -l)" = 1 ] && echo "$gsock" | grep -q "127.0.0.1:$gport .*pid=$qpid," ||
		bh_fail "$t's port $gport is not bound by its qemu ($qpid) on the loopback alone: $gsock"
	[ "$(echo "$hsock" | wc -l)" = 1 ] && echo "$hsock" | grep -q "127.0.0.1:$hport *127.0.0.1:$gport .*pid=$hub," ||
		bh_fail "$t's hub port $hport is not the hub's ($hub), connected to $gport: $hsock"
done
opid=$(pgrep -u "$(id -u)" -f "qemu-system.*guest=bulkhead-lnk-out," | head -1)
ss -Hunap | grep -q "pid=$opid," && bh_fail "lnk-out's qemu has a UDP socket: $(ss -Hunap | grep "pid=$opid,")"

# hub_running PID: the hub runs (a zombie its new parent has yet to reap
# does not count).
hub_running() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -n "$st" ] && [ "${st#Z}" = "$st" ]
}

# serve TAG PORT WORD: one connection to PORT on TAG gets WORD.
serve() {
	guest_sh "$1" "setsid sh -c 'echo $3 | nc -l -p $2' </dev/null >/dev/null 2>&1 &"
	sleep 1
}
# Every member reaches every other over TCP, both ways.
declare -A addr=([lnk-gw]=$gw [lnk-ws]=$ws [lnk-3]=$m3)
port=7001
for from in lnk-gw lnk-ws lnk-3; do
	for to in lnk-gw lnk-ws lnk-3; do
		[ "$from" = "$to" ] && continue
		serve "$to" $port "hello-from-$to"
		got=$(guest_sh "$from" "nc -w 10 ${addr[$to]} $port </dev/null")
		[ "$got" = "hello-from-$to" ] || bh_fail "nc from $from to $to (${addr[$to]}) got \"$got\""
		echo "$from reaches $to over lnk-a"
		port=$((port + 1))
	done
done

# Whonix-like: the workstation reaches the gateway's network only through
# a relay the gateway runs (busybox nc), never by itself. A one-shot
# service on the host's loopback stands for "the network": user networking
# forwards 10.0.2.2 to it.
net_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$net_port" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
s.settimeout(300)
for _ in range(2):
    c, _ = s.accept()
    c.sendall(b"from-the-network\n")
    c.close()
PY
BH_CLEANUP_PIDS+=("$!")
sleep 0.5
got=$(guest_sh lnk-ws "nc -w 5 10.0.2.2 $net_port </dev/null 2>&1")
case $got in *from-the-network*) bh_fail "lnk-ws reached the network without the gateway" ;; esac
guest_sh lnk-gw "setsid sh -c 'nc -l -p 8080 -e nc 10.0.2.2 $net_port' </dev/null >/dev/null 2>&1 &"
sleep 1
got=$(guest_sh lnk-ws "nc -w 10 $gw 8080 </dev/null")
[ "$got" = from-the-network ] || bh_fail "the gateway's relay gave lnk-ws \"$got\": $(guest_sh lnk-gw 'ip -4 addr; ip route' 2>&1)"
echo "lnk-ws reaches the network only through lnk-gw's relay: $got"

# The fourth tag reaches none of them, though it has a network of its
# own; and none of them reaches it.
for t in lnk-gw lnk-ws lnk-3; do
	serve "$t" 7100 leaked
	got=$(guest_sh lnk-out "nc -w 5 ${addr[$t]} 7100 </dev/null 2>&1")
	case $got in *leaked*) bh_fail "lnk-out connected to $t (${addr[$t]}) over the link" ;; esac
	echo "lnk-out to $t (${addr[$t]}): $got"
done
serve lnk-out 7101 leaked
for t in lnk-ws lnk-3; do
	got=$(guest_sh "$t" "nc -w 5 10.0.2.15 7101 </dev/null 2>&1")
	case $got in *leaked*) bh_fail "$t connected to lnk-out" ;; esac
done

# The members without a network reach no host address: not user
# networking's host or DNS, not any of the host's own addresses.
# "refused" would mean a reply.
for t in lnk-ws lnk-3; do
	for a in 10.0.2.2 10.0.2.3 $(hostname -I 2>/dev/null); do
		out=$(guest_sh "$t" "nc -w 3 $a 22 </dev/null 2>&1; echo exit \$?")
		case $out in *refused* | *"exit 0"*) bh_fail "$t reaches host address $a: $out" ;; esac
		echo "$t to host address $a: $out" | tr '\n' ' '
		echo
	done
done

# A local process that is no member cannot put a frame on the link: an
# ARP request for lnk-ws from a made-up address (the frame from lnk-gw's
# MAC), sent to lnk-gw's port on the hub from any other port, is not
# taken (the hub's socket is connected to lnk-gw's qemu alone), so lnk-ws
# learns no neighbour. The same frame sent straight to lnk-ws's qemu is
# taken: qemu's socket takes datagrams from any local process (bulkhead(5)
# says so), and it shows that the check above would have seen the frame.
net=${ws%.*.*}
fake=$net.250.250
gw_hub=$(virsh dumpxml bulkhead-lnk-gw | sed -n "s/.*<source address='127.0.0.1' port='\([0-9]*\)'>.*/\1/p")
ws_qemu=$(virsh dumpxml bulkhead-lnk-ws | sed -n "s/.*<local address='127.0.0.1' port='\([0-9]*\)'.*/\1/p")
inject() {
	python3 - "$(field lnk-gw mac)" "$fake" "$ws" "$1" <<'PY'
import socket, struct, sys
src, spa, tpa, port = bytes.fromhex(sys.argv[1].replace(":", "")), sys.argv[2], sys.argv[3], int(sys.argv[4])
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, src, socket.inet_aton(spa), bytes(6), socket.inet_aton(tpa))
frame = b"\xff" * 6 + src + b"\x08\x06" + arp + bytes(18)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):
    s.sendto(frame, ("127.0.0.1", port))
PY
	sleep 2
}
inject "$gw_hub"
guest_sh lnk-ws "cat /proc/net/arp" | grep -q "^$fake " &&
	bh_fail "a local non-member put a frame on the link through the hub: $(guest_sh lnk-ws 'cat /proc/net/arp')"
inject "$ws_qemu"
guest_sh lnk-ws "cat /proc/net/arp" | grep -q "^$fake " ||
	bh_fail "the injected ARP request is not one lnk-ws takes: $(guest_sh lnk-ws 'cat /proc/net/arp')"
echo "a non-member's frames to the hub are not taken (sent straight to a member's qemu, they are)"

# A link with one end only: refused, one line.
"$CTL" start lnk-lone >/dev/null 2>"$BH_TMP/err" && bh_fail "a link with one tag started"
cat "$BH_TMP/err"
[ "$(wc -l <"$BH_TMP/err")" = 1 ] && grep -q "lnk-lone.*lnk-nobody" "$BH_TMP/err" ||
	bh_fail "the lone link's error is not one line: $(cat "$BH_TMP/err")"

# A member restarting finds the same hub; with every member stopped, the
# hub ends by itself.
"$CTL" stop --force lnk-3 && "$CTL" start lnk-3 >/dev/null || bh_fail "restarting lnk-3 failed"
[ "$(pgrep -u "$(id -u)" -f "bulkhead-link-hub .* lnk-a ")" = "$hub" ] ||
	bh_fail "lnk-3's restart did not keep the hub $hub"
serve lnk-ws 7300 after-restart
got=$(guest_sh lnk-3 "nc -w 10 $ws 7300 </dev/null")
[ "$got" = after-restart ] || bh_fail "lnk-3 after its restart got \"$got\" from lnk-ws"
echo "lnk-3 restarted on the same hub ($hub) and reaches lnk-ws"
# A hub that was killed comes back with the next start of a member that
# runs (an attach), and the link works again.
kill -9 "$hub"
bh_wait_for 10 eval '! hub_running $hub' || bh_fail "the hub $hub did not die"
"$CTL" start lnk-ws >/dev/null || bh_fail "attaching to lnk-ws failed"
hub=$(pgrep -u "$(id -u)" -f "bulkhead-link-hub .* lnk-a ")
[ "$(echo "$hub" | grep -c .)" = 1 ] || bh_fail "no new hub after attaching to lnk-ws: $hub"
BH_CLEANUP_PIDS+=("$hub")
serve lnk-gw 7301 after-the-hub-died
got=$(guest_sh lnk-3 "nc -w 10 $gw 7301 </dev/null")
[ "$got" = after-the-hub-died ] || bh_fail "lnk-3 got \"$got\" from lnk-gw through the new hub"
echo "a killed hub came back ($hub) with lnk-ws's next start"
for t in lnk-gw lnk-ws lnk-3 lnk-out; do "$CTL" stop --force "$t"; done
bh_wait_for 90 eval '! hub_running $hub' || bh_fail "the hub $hub still runs with no member"
tail -n 1 "$XDG_STATE_HOME/bulkhead/links/lnk-a.log"
echo "link: private links work"
