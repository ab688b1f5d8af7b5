#!/bin/bash
# Private links (link = NAME) on the tiny guest under libvirt session mode:
# a gateway tag (network = user plus the link) and a workstation (only the
# link) reach each other over it; the workstation reaches the network only
# through a relay in the gateway (busybox nc); a third tag, not on the
# link, reaches neither; the workstation reaches no host address (busybox
# ping needs root, the tests run as the guest user: nc); a link
# named by one tag only is refused with one line.
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"
bh_need ss python3

"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"
cat >"$XDG_CONFIG_HOME/bulkhead/config" <<CFG
[tag lnk-gw]
memory = 256
network = user
link = lnk-a
[tag lnk-ws]
memory = 256
link = lnk-a
[tag lnk-out]
memory = 256
network = user
[tag lnk-lone]
memory = 256
link = lnk-nobody
CFG

link_address() {
	"$CTL" status --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["links"][0]["address"])'
}
gw=$(link_address lnk-gw) && ws=$(link_address lnk-ws) || bh_fail "no link addresses in status"
"$CTL" status lnk-ws | grep -q "^link:    lnk-a to lnk-gw, address $ws/16" ||
	bh_fail "status does not show the link: $("$CTL" status lnk-ws)"
echo "lnk-gw is $gw, lnk-ws is $ws on link lnk-a"

for t in lnk-gw lnk-ws lnk-out; do
	"$CTL" start "$t" >"$BH_TMP/$t.out" 2>&1 &
	eval "pid_${t//-/_}=\$!"
done
wait "$pid_lnk_gw" || bh_fail "start lnk-gw: $(cat "$BH_TMP/lnk-gw.out")"
wait "$pid_lnk_ws" || bh_fail "start lnk-ws: $(cat "$BH_TMP/lnk-ws.out")"
wait "$pid_lnk_out" || bh_fail "start lnk-out: $(cat "$BH_TMP/lnk-out.out")"
virsh dumpxml bulkhead-lnk-ws | grep -q "<interface type='udp'>" || bh_fail "lnk-ws has no link interface"
virsh dumpxml bulkhead-lnk-ws | grep -q "<interface type='user'>" && bh_fail "lnk-ws has user networking"
guest_sh lnk-ws 'ip -4 addr; ip route'
# On the host, each end's port is bound by that tag's qemu alone, on the
# loopback only, and lnk-out's qemu has no link socket at all.
for t in lnk-gw lnk-ws; do
	lport=$(virsh dumpxml "bulkhead-$t" | sed -n "s/.*<local address='127.0.0.1' port='\([0-9]*\)'.*/\1/p")
	qpid=$(pgrep -u "$(id -u)" -f "qemu-system.*guest=bulkhead-$t," | head -1)
	sock=$(ss -Hunap "sport = :$lport")
	echo "$t: $sock"
	[ "$(echo "$sock" | wc -l)" = 1 ] && echo "$sock" | grep -q "127.0.0.1:$lport .*pid=$qpid," ||
		bh_fail "$t's link port $lport is not bound by its qemu ($qpid) on the loopback alone: $sock"
done
opid=$(pgrep -u "$(id -u)" -f "qemu-system.*guest=bulkhead-lnk-out," | head -1)
ss -Hunap | grep -q "pid=$opid," && bh_fail "lnk-out's qemu has a UDP socket: $(ss -Hunap | grep "pid=$opid,")"

# serve TAG PORT WORD: one connection to PORT on TAG gets WORD.
serve() {
	guest_sh "$1" "setsid sh -c 'echo $3 | nc -l -p $2' </dev/null >/dev/null 2>&1 &"
	sleep 1
}
# The two ends reach each other both ways over TCP.
serve lnk-gw 7001 from-the-gateway
got=$(guest_sh lnk-ws "nc -w 10 $gw 7001 </dev/null")
[ "$got" = from-the-gateway ] || bh_fail "nc from lnk-ws to lnk-gw got \"$got\""
serve lnk-ws 7001 from-the-workstation
got=$(guest_sh lnk-gw "nc -w 10 $ws 7001 </dev/null")
[ "$got" = from-the-workstation ] || bh_fail "nc from lnk-gw to lnk-ws got \"$got\""
echo "lnk-ws and lnk-gw reach each other over lnk-a (nc both ways)"

# Whonix-like: the workstation reaches the gateway's network only through
# a relay the gateway runs (busybox nc), never by itself. A one-shot
# service on the host's loopback stands for "the network": user networking
# forwards 10.0.2.2 to it.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$port" <<'PY' &
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
got=$(guest_sh lnk-ws "nc -w 5 10.0.2.2 $port </dev/null 2>&1")
case $got in *from-the-network*) bh_fail "lnk-ws reached the network without the gateway" ;; esac
guest_sh lnk-gw "setsid sh -c 'nc -l -p 8080 -e nc 10.0.2.2 $port' </dev/null >/dev/null 2>&1 &"
sleep 1
got=$(guest_sh lnk-ws "nc -w 10 $gw 8080 </dev/null")
[ "$got" = from-the-network ] || bh_fail "the gateway's relay gave lnk-ws \"$got\": $(guest_sh lnk-gw 'ip -4 addr; ip route' 2>&1)"
echo "lnk-ws reaches the network only through lnk-gw's relay: $got"

# The third tag reaches neither, though it has a network of its own; and
# neither end reaches it.
serve lnk-gw 7002 leaked
serve lnk-ws 7002 leaked
for addr in "$gw" "$ws"; do
	got=$(guest_sh lnk-out "nc -w 5 $addr 7002 </dev/null 2>&1")
	case $got in *leaked*) bh_fail "lnk-out connected to $addr over the link" ;; esac
	echo "lnk-out to $addr: $got"
done
serve lnk-out 7003 leaked
got=$(guest_sh lnk-ws "nc -w 5 10.0.2.15 7003 </dev/null 2>&1")
case $got in *leaked*) bh_fail "lnk-ws connected to lnk-out" ;; esac

# The workstation reaches no host address: not user networking's host or
# DNS, not any of the host's own addresses. "refused" would mean a reply.
for addr in 10.0.2.2 10.0.2.3 $(hostname -I 2>/dev/null); do
	out=$(guest_sh lnk-ws "nc -w 3 $addr 22 </dev/null 2>&1; echo exit \$?")
	case $out in *refused* | *"exit 0"*) bh_fail "lnk-ws reaches host address $addr: $out" ;; esac
	echo "lnk-ws to host address $addr: $out" | tr '\n' ' '
	echo
done

# A link with one end only: refused, one line.
"$CTL" start lnk-lone >/dev/null 2>"$BH_TMP/err" && bh_fail "a link with one tag started"
cat "$BH_TMP/err"
[ "$(wc -l <"$BH_TMP/err")" = 1 ] && grep -q "lnk-lone.*lnk-nobody" "$BH_TMP/err" ||
	bh_fail "the lone link's error is not one line: $(cat "$BH_TMP/err")"
for t in lnk-gw lnk-ws lnk-out; do "$CTL" stop --force "$t"; done
echo "link: private links work"
