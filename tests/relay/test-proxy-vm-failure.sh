#!/bin/bash
# A tag without `channel =` makes its proxy start the tag's VM. When that
# cannot work (here: no base image exists yet), the tag is reported failed
# with one line naming the tag and what to do, the proxy exits, and a later
# spawn tries again with a new proxy instead of staying stuck.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
export XDG_STATE_HOME=$BH_TMP/state XDG_DATA_HOME=$BH_TMP/data
printf '[tag novm]\nmemory = 256\n' >"$XDG_CONFIG_HOME/bulkhead/config"
start_compositor
IPC=$BH_SOURCE_ROOT/tests/relay/ipc.py

tag_field() {
	python3 "$IPC" get tags | python3 -c 'import json,sys
for l in sys.stdin:
    t = json.loads(l)
    if t["name"] == sys.argv[1]: print(t.get(sys.argv[2]) or "")' "$1" "$2"
}

"$CTL" spawn novm >/dev/null || bh_fail "bulkheadctl spawn novm failed"
bh_wait_for 60 sh -c "[ \"\$(python3 - <<'PY'
import json, os, socket
s = socket.socket(socket.AF_UNIX); s.connect(os.environ['BULKHEAD_SOCKET'])
s.sendall(b'{\"cmd\":\"tags\"}\n'); d = b''
while not d.endswith(b'\n'):
    d += s.recv(65536)
print(next((t['state'] for t in json.loads(d)['tags'] if t['name'] == 'novm'), ''))
PY
)\" = failed ]" || bh_fail "tag novm was not reported failed: $(tag_field novm state)"
reason=$(tag_field novm error)
echo "reason: $reason"
case $reason in
*novm*) ;;
*) bh_fail "the reason does not name the tag: $reason" ;;
esac
[ "$(printf '%s' "$reason" | wc -l)" = 0 ] || bh_fail "the reason is more than one line"
bh_wait_for 10 sh -c "! pgrep -f 'bulkhead-prox[y] --tag novm' >/dev/null" ||
	bh_fail "the proxy of a failed tag stayed (a new spawn could not recover it)"
first=$(grep -c 'tag novm: proxy started' "$BH_TMP/compositor.log")
"$CTL" spawn novm >/dev/null || bh_fail "the second spawn of novm failed"
bh_wait_for 10 sh -c "[ \$(grep -c 'tag novm: proxy started' '$BH_TMP/compositor.log') -gt $first ]" ||
	bh_fail "the second spawn started no new proxy"
echo "a tag whose VM cannot start fails with a reason and can be spawned again"
