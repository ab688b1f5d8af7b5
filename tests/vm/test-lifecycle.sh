#!/bin/bash
# Two tags at once on a real libvirt session under TCG: both agents answer,
# both show as running; stopping one leaves the other; a file in a tag's
# home survives stop and start; clean removes that tag's files only; two
# concurrent starts of one tag make one domain.
. "$BH_SOURCE_ROOT/tests/vm/test-lifecycle-lib.sh"

"$CTL" base add --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" >/dev/null ||
	bh_fail "base add failed"

# Two tags at once; start returns once the agent answered on the channel.
"$CTL" start alpha >"$BH_TMP/alpha.out" 2>&1 &
a=$!
"$CTL" start 'beta two' >"$BH_TMP/beta.out" 2>&1 &
b=$!
wait $a || bh_fail "start alpha: $(cat "$BH_TMP/alpha.out")"
wait $b || bh_fail "start 'beta two': $(cat "$BH_TMP/beta.out")"
json=$("$CTL" tags --json)
echo "$json" | grep -q '"name":"alpha","state":"running"' || bh_fail "alpha not running: $json"
echo "$json" | grep -q '"name":"beta two","state":"running"' ||
	bh_fail "'beta two' not running: $json"
[ "$(domain_count 'beta%20two')" = 1 ] || bh_fail "no domain bulkhead-beta%20two"

# Each guest is its own machine: write a file in alpha's home.
guest_sh alpha 'echo alpha-data > "$HOME/kept" && sync' || bh_fail "writing in alpha failed"
[ "$(guest_sh 'beta two' 'cat "$HOME/kept" 2>/dev/null || echo none')" = none ] ||
	bh_fail "beta sees alpha's file"

# Stop one, the other runs on.
"$CTL" stop --timeout 5 'beta two' || bh_fail "stop 'beta two' failed"
[ "$(tag_state 'beta two')" = stopped ] || bh_fail "'beta two' did not stop"
[ "$(tag_state alpha)" = running ] || bh_fail "alpha stopped with beta"
[ "$(guest_sh alpha 'cat "$HOME/kept"')" = alpha-data ] || bh_fail "alpha lost its file"

# The file survives a stop and a start.
"$CTL" stop --timeout 5 alpha || bh_fail "stop alpha failed"
[ "$(domain_count alpha)" = 0 ] || bh_fail "alpha's domain is still there"
"$CTL" start alpha >/dev/null || bh_fail "restart of alpha failed"
[ "$(guest_sh alpha 'cat "$HOME/kept"')" = alpha-data ] ||
	bh_fail "the file did not survive stop and start"

# clean refuses a running tag, then removes only that tag's files.
"$CTL" clean --yes alpha 2>/dev/null && bh_fail "clean of a running tag succeeded"
"$CTL" stop --force alpha || bh_fail "stop --force alpha failed"
beta_dir=$XDG_STATE_HOME/bulkhead/tags/beta%20two
before=$(cd "$beta_dir" && sha256sum root.qcow2 home.qcow2)
"$CTL" clean alpha </dev/null 2>/dev/null && bh_fail "clean without --yes or a terminal went ahead"
"$CTL" clean --yes alpha || bh_fail "clean alpha failed"
[ -e "$XDG_STATE_HOME/bulkhead/tags/alpha" ] && bh_fail "alpha's state is still there"
[ "$(cd "$beta_dir" && sha256sum root.qcow2 home.qcow2)" = "$before" ] ||
	bh_fail "clean of alpha changed beta's disks"
"$CTL" start alpha >/dev/null || bh_fail "start after clean failed"
[ "$(guest_sh alpha 'cat "$HOME/kept" 2>/dev/null || echo gone')" = gone ] ||
	bh_fail "clean left alpha's home behind"
"$CTL" stop --force alpha

# Concurrent starts of one tag: one domain, both report success.
for i in 1 2 3; do
	"$CTL" start gamma >"$BH_TMP/gamma.$i" 2>&1 &
	eval "g$i=\$!"
done
wait "$g1" && wait "$g2" && wait "$g3" ||
	bh_fail "a concurrent start failed: $(cat "$BH_TMP"/gamma.*)"
[ "$(grep -c started "$BH_TMP"/gamma.* | awk -F: '{s+=$2} END {print s}')" = 1 ] ||
	bh_fail "not exactly one start booted gamma: $(cat "$BH_TMP"/gamma.*)"
[ "$(domain_count gamma)" = 1 ] || bh_fail "gamma does not have exactly one domain"
guest_sh gamma true || bh_fail "gamma's agent does not answer"

# bulkheadctl killed in the middle of a start: the VM and its disks are
# whole, and the next start attaches to (or boots) it.
"$CTL" start delta >/dev/null 2>&1 &
victim=$!
bh_wait_for 60 test -e "$XDG_STATE_HOME/bulkhead/tags/delta/home.qcow2" ||
	bh_fail "delta's disks never appeared"
kill -KILL "$victim"
wait "$victim" 2>/dev/null
"$CTL" start delta >/dev/null || bh_fail "start after a killed start failed"
[ "$(domain_count delta)" = 1 ] || bh_fail "delta does not have exactly one domain"
guest_sh delta true || bh_fail "delta's agent does not answer"
"$CTL" stop --force delta
for disk in root home; do
	qemu-img check -q "$XDG_STATE_HOME/bulkhead/tags/delta/$disk.qcow2" ||
		bh_fail "delta's $disk disk is damaged"
done
ls "$XDG_STATE_HOME/bulkhead/tags/delta" | grep -q tmp && bh_fail "a temporary disk was left behind"

# Invalid tags are refused with a reason.
"$CTL" start '' 2>"$BH_TMP/err" && bh_fail "an empty tag was accepted"
grep -q empty "$BH_TMP/err" || bh_fail "no reason for the empty tag: $(cat "$BH_TMP/err")"
"$CTL" start "$(printf 'x%.0s' $(seq 100))" 2>"$BH_TMP/err" && bh_fail "a 100-byte tag was accepted"
"$CTL" start ../x --no-wait >/dev/null 2>&1
[ -d "$XDG_STATE_HOME/bulkhead/tags/%2E%2E%2Fx" ] || bh_fail "../x was not mapped into the state dir"
[ -e "$XDG_STATE_HOME/bulkhead/x" ] && bh_fail "../x escaped the tags directory"
"$CTL" stop --force ../x
# A tag made of XML and shell metacharacters boots like any other.
hostile="q'<&\">\$(id)"
"$CTL" start --no-wait "$hostile" >/dev/null || bh_fail "start of a hostile tag failed"
[ "$(domain_count "q%27%3C%26%22%3E%24%28id%29")" = 1 ] ||
	bh_fail "the hostile tag's domain has another name: $(virsh list --name)"
virsh dumpxml "bulkhead-q%27%3C%26%22%3E%24%28id%29" | grep -q "<title>bulkhead tag q&apos;&lt;&amp;&quot;&gt;\$(id)</title>" ||
	bh_fail "the hostile tag's title is not escaped: $(virsh dumpxml "bulkhead-q%27%3C%26%22%3E%24%28id%29" | grep title)"
"$CTL" stop --force "$hostile" || bh_fail "stop of the hostile tag failed"
echo "lifecycle: two tags, persistence, clean and concurrent starts work"
