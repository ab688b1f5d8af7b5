#!/bin/bash
# bulkheadctl against the session: `run` on a tag that is not running asks
# the compositor, which starts the tag and opens the command in it;
# `windows --json` and `tags` show what the compositor knows; a tag whose
# last window closed keeps running, unless idle_shutdown is set, which
# stops it after that many seconds, while a tag with windows stays.
. "$BH_SOURCE_ROOT/tests/compositor/lib.sh"
cat >"$CONFIG" <<CFG
[general]
idle_shutdown = 2
tag_app =
CFG
start_compositor

# run: the tag starts and the command opens in it.
"$CTL" run t1 -- weston-simple-shm 2>"$BH_TMP/run.err" || bh_fail "run failed: $(cat "$BH_TMP/run.err")"
grep -q "tag t1: starting" "$BH_TMP/run.err" || bh_fail "run did not say the tag is starting: $(cat "$BH_TMP/run.err")"
window t1 '*'
t1_id=$(field "$WIN" id)
"$CTL" run t2 -- weston-simple-shm 2>/dev/null || bh_fail "run in t2 failed"
window t2 '*'

# windows --json: one object per window, with tag, title, geometry, colour.
"$CTL" windows --json >"$BH_TMP/windows.json" || bh_fail "windows --json failed"
python3 - "$BH_TMP/windows.json" <<'PY' || bh_fail "windows --json is wrong: $(cat "$BH_TMP/windows.json")"
import json, sys
ws = json.load(open(sys.argv[1]))
tags = sorted(w["tag"] for w in ws)
assert tags == ["t1", "t2"], tags
for w in ws:
    assert w["title"].startswith("[%s] " % w["tag"]), w
    assert w["width"] > 0 and w["height"] > 0, w
    assert w["colour"].startswith("#"), w
assert ws[0]["colour"] != ws[1]["colour"], "two tags share a colour"
PY
# tags: both running, from the compositor (no libvirt domain behind them).
"$CTL" tags >"$BH_TMP/tags.txt" 2>"$BH_TMP/tags.err" || bh_fail "tags failed: $(cat "$BH_TMP/tags.err")"
grep -q "t1.*running" "$BH_TMP/tags.txt" && grep -q "t2.*running" "$BH_TMP/tags.txt" ||
	bh_fail "tags does not show t1 and t2 running: $(cat "$BH_TMP/tags.txt")"
"$CTL" tags --json 2>/dev/null | python3 -c '
import json, sys
t = {x["name"]: x for x in json.load(sys.stdin)}
assert t["t1"]["state"] == "running" and t["t2"]["state"] == "running", t
' || bh_fail "tags --json does not show the tags running"

# idle_shutdown: closing t1's last window stops t1 after 2 s; t2 stays.
python3 "$IPC" call "{\"cmd\": \"close\", \"id\": $t1_id}" >/dev/null || bh_fail "close failed"
bh_wait_for 5 sh -c "! python3 '$IPC' windows | grep -q ' t1 '" || bh_fail "t1's window did not close"
python3 "$IPC" get tags | grep '"name": "t1"' | grep -q running ||
	bh_fail "t1 stopped as soon as its window closed: $(python3 "$IPC" get tags | grep t1)"
bh_wait_for 6 sh -c "python3 '$IPC' get tags | grep '\"name\": \"t1\"' | grep -q stopped" ||
	bh_fail "t1 was not stopped after idle_shutdown: $(python3 "$IPC" get tags | grep t1)"
python3 "$IPC" get tags | grep '"name": "t2"' | grep -q running || bh_fail "t2 stopped too"
python3 "$IPC" windows | grep -q ' t2 ' || bh_fail "t2's window went"
# A stopped tag runs again on the next run.
"$CTL" run t1 -- weston-simple-shm 2>/dev/null || bh_fail "run after idle stop failed"
window t1 '*'

# Without idle_shutdown (the default, after a reload) a tag whose last
# window closed keeps running.
printf '[general]\ntag_app =\n' >"$CONFIG"
python3 "$IPC" call '{"cmd": "reload"}' >/dev/null || bh_fail "reload failed"
t2_id=$(python3 "$IPC" get windows | python3 -c 'import json,sys
for l in sys.stdin:
    w = json.loads(l)
    if w["tag"] == "t2": print(w["id"])')
python3 "$IPC" call "{\"cmd\": \"close\", \"id\": $t2_id}" >/dev/null || bh_fail "close failed"
bh_wait_for 5 sh -c "! python3 '$IPC' windows | grep -q ' t2 '" || bh_fail "t2's window did not close"
sleep 3
python3 "$IPC" get tags | grep '"name": "t2"' | grep -q running ||
	bh_fail "t2 stopped without idle_shutdown: $(python3 "$IPC" get tags | grep t2)"
echo PASS
