#!/bin/bash
# One tag's failure touches nothing else: when t1's proxy dies its windows
# go and t1 shows as failed with a reason, while t2's window and the host's
# stay; spawning t1 again recovers it. A tag whose VM fails says why.
# Stopping a tag closes its windows.
. "$BH_SOURCE_ROOT/tests/compositor/lib.sh"
export BH_TEST_FAIL_TAG=t3
start_compositor
host weston-simple-shm
window - '*'
in_tag t1 weston-simple-shm
window t1 '*'
in_tag t2 weston-simple-shm
window t2 '*'
t2_id=$(field "$WIN" id)

runner=$(pgrep -P "$COMPOSITOR_PID" -f "tag-runner --tag t1" | head -1)
[ -n "$runner" ] || bh_fail "no proxy process for t1"
kill -9 "$runner"
bh_wait_for 10 sh -c "! python3 '$IPC' windows | grep -q ' t1 '" ||
	bh_fail "t1's window stayed after its proxy died"
tags=$(python3 "$IPC" get tags)
echo "$tags" | grep '"name": "t1"' | grep -q '"state": "failed"' || bh_fail "t1 is not failed: $tags"
reason=$(echo "$tags" | grep '"name": "t1"' | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["error"])')
case $reason in *t1*again*) ;; *) bh_fail "t1's failure has no useful reason: $reason" ;; esac
python3 "$IPC" windows | grep -q " t2 " || bh_fail "t2's window went with t1"
[ "$(python3 "$IPC" windows | grep -c ' - ')" = 1 ] || bh_fail "the host window went with t1"
echo "$tags" | grep '"name": "t2"' | grep -q '"state": "running"' || bh_fail "t2 is no longer running"
kill -0 "$COMPOSITOR_PID" || bh_fail "the compositor died"
echo "t1 failed: $reason"

# Spawning t1 again recovers it.
in_tag t1 weston-simple-shm
window t1 '*'
python3 "$IPC" get tags | grep '"name": "t1"' | grep -q '"state": "running"' ||
	bh_fail "t1 did not recover"

# A tag whose VM fails: state failed with the VM's reason, in the menu too.
"$CTL" spawn t3 >/dev/null 2>&1
bh_wait_for 10 sh -c "python3 '$IPC' get tags | grep '\"name\": \"t3\"' | grep -q failed" ||
	bh_fail "t3 did not fail"
python3 "$IPC" get tags | grep '"name": "t3"' | grep -q 'cannot boot' ||
	bh_fail "t3's reason is lost: $(python3 "$IPC" get tags | grep t3)"
wtype -M logo d -m logo
sleep 0.5
shot menu
wtype -k Escape

# Stopping t2 closes its window, and only it.
python3 "$IPC" call '{"cmd": "stop", "tag": "t2"}' >/dev/null || bh_fail "stop t2 failed"
bh_wait_for 10 sh -c "! python3 '$IPC' windows | grep -q ' t2 '" || bh_fail "t2's window stayed after stop"
bh_wait_for 10 sh -c "python3 '$IPC' get tags | grep '\"name\": \"t2\"' | grep -q stopped" ||
	bh_fail "t2 is not stopped: $(python3 "$IPC" get tags | grep t2)"
python3 "$IPC" windows | grep -q " t1 " || bh_fail "stopping t2 closed t1's window"
echo PASS
