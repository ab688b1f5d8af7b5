#!/bin/bash
# bulkheadctl push and pull through the proxy and the agent: a tree with
# nested folders, modes, times, a symbolic link and a 3 MiB file goes in
# and comes back identical; copies land as cp would put them; errors from
# the guest (no such file, no permission) are one clear line and leave
# nothing half-written; a fifo is skipped with a note.
. "$BH_SOURCE_ROOT/tests/relay/agent-env.sh"
bh_need python3
start_agent
start_compositor
spawn_tag

# The "guest" is this machine; the guest user (nobody in a root run) owns
# what the agent writes, so the guest-side folder must be open to it.
G=$BH_TMP/guest
mkdir -m 777 "$G"
src=$BH_TMP/src/tree
mkdir -p "$src/a/b/c" "$src/empty"
printf 'hello\n' >"$src/hello.txt"
head -c $((3 * 1024 * 1024 + 17)) /dev/urandom >"$src/a/big.bin"
printf '#!/bin/sh\necho run\n' >"$src/a/b/c/tool.sh"
chmod 750 "$src/a/b/c/tool.sh"
chmod 700 "$src/a/b"
: >"$src/a/zero"
printf 'x' >"$src/name with spaces and ünïcode"
ln -s ../hello.txt "$src/a/link"
mkfifo "$src/a/fifo"
touch -d '2001-02-03 04:05:06.123456789' "$src/hello.txt" "$src/a/b/c"
touch -h -d '2002-01-01 00:00:00' "$src/a/link"

# The trees compared: type, mode, size, mtime (ns) and contents or target.
tree_sig() {
	(cd "$1" && find . -mindepth 1 ! -type p -print0 | sort -z |
		xargs -0 python3 -c '
import os, sys, hashlib
for p in sys.argv[1:]:
    st = os.lstat(p)
    if os.path.islink(p):
        what = "link " + os.readlink(p)
    elif os.path.isdir(p):
        what = "dir"
    else:
        what = "file " + hashlib.sha256(open(p, "rb").read()).hexdigest()
    print(p, oct(st.st_mode & 0o7777), st.st_mtime_ns if not os.path.isdir(p) or p != "." else 0, what)
')
}

# push: DST is an existing folder, so the tree lands inside it as "tree".
"$CTL" push t1 "$src" "$G" 2>"$BH_TMP/push.err" || bh_fail "push failed: $(cat "$BH_TMP/push.err")"
grep -q "pushed .* to t1:" "$BH_TMP/push.err" || bh_fail "push printed no summary: $(cat "$BH_TMP/push.err")"
grep -q "skipped .*fifo" "$BH_TMP/push.err" || bh_fail "the fifo was not reported as skipped"
[ ! -e "$G/tree/a/fifo" ] || bh_fail "a fifo was copied"
[ "$(tree_sig "$src")" = "$(tree_sig "$G/tree")" ] ||
	bh_fail "the pushed tree differs: $(diff <(tree_sig "$src") <(tree_sig "$G/tree") | head -5)"
# Files belong to the guest user, never root (nobody in a root run).
if [ "$(id -u)" = 0 ]; then
	[ "$(stat -c %u "$G/tree/hello.txt")" = "$(id -u nobody)" ] ||
		bh_fail "a pushed file is owned by uid $(stat -c %u "$G/tree/hello.txt"), not the guest user"
fi

# pull: DST does not exist, so it becomes the copy itself.
"$CTL" pull t1 "$G/tree" "$BH_TMP/back" 2>"$BH_TMP/pull.err" ||
	bh_fail "pull failed: $(cat "$BH_TMP/pull.err")"
[ "$(tree_sig "$src")" = "$(tree_sig "$BH_TMP/back")" ] ||
	bh_fail "the pulled tree differs: $(diff <(tree_sig "$src") <(tree_sig "$BH_TMP/back") | head -5)"

# A single file, to a new name and into a folder.
"$CTL" push t1 "$src/hello.txt" "$G/renamed.txt" 2>/dev/null || bh_fail "file push failed"
cmp "$src/hello.txt" "$G/renamed.txt" || bh_fail "the renamed file differs"
mkdir "$BH_TMP/into"
"$CTL" pull t1 "$G/renamed.txt" "$BH_TMP/into" 2>/dev/null || bh_fail "file pull failed"
cmp "$src/hello.txt" "$BH_TMP/into/renamed.txt" || bh_fail "the file pulled into a folder differs"

# Errors: one line naming the tag and the path, non-zero status.
"$CTL" pull t1 "$G/no-such-file" "$BH_TMP/x" 2>"$BH_TMP/err" && bh_fail "pull of a missing file succeeded"
[ "$(wc -l <"$BH_TMP/err")" = 1 ] || bh_fail "more than one line for one error: $(cat "$BH_TMP/err")"
grep -q "tag t1: pull from $G/no-such-file failed" "$BH_TMP/err" || bh_fail "unclear error: $(cat "$BH_TMP/err")"
[ ! -e "$BH_TMP/x" ] || bh_fail "a failed pull left $BH_TMP/x behind"
mkdir -m 555 "$G/ro"
"$CTL" push t1 "$src/hello.txt" "$G/ro/f" 2>"$BH_TMP/err" && bh_fail "push into a read-only folder succeeded"
grep -q "tag t1: push to $G/ro/f failed" "$BH_TMP/err" || bh_fail "unclear error: $(cat "$BH_TMP/err")"
"$CTL" push t1 "$BH_TMP/no-such" "$G/y" 2>"$BH_TMP/err" && bh_fail "push of a missing file succeeded"
grep -q "no-such" "$BH_TMP/err" || bh_fail "unclear error: $(cat "$BH_TMP/err")"
# Outside a session nothing can start a tag's proxy (inside one, push
# starts the tag first, as exec does: tests/vm/test-start-exec.sh).
env -u BULKHEAD_SOCKET "$CTL" push nosuchtag "$src" "$G" 2>"$BH_TMP/err" &&
	bh_fail "push to a tag without proxy succeeded"
grep -q "tag nosuchtag: not running" "$BH_TMP/err" || bh_fail "unclear error: $(cat "$BH_TMP/err")"
echo PASS
