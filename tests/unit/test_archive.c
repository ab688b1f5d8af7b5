/* The archive reader against hostile senders: names that try to leave the
 * destination (absolute, "..", through a link the archive itself made or
 * one already there), entries out of order, sizes that lie, setuid bits,
 * nesting past the limit; and that a copy cut short leaves no partial
 * file. The good case is covered end to end by tests/relay/test-files.sh. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/archive.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "tests/test.h"

static char top[64];

static size_t dir_msg(uint8_t *out, const char *path, uint32_t mode)
{
	struct bh_msg m;
	bh_msg_init(&m, BH_FILE_DIR);
	bh_msg_u32(&m, mode);
	bh_msg_u64(&m, 1000000000);
	bh_msg_u32(&m, 0);
	bh_msg_str(&m, path);
	memcpy(out, m.buf, m.len);
	return m.len;
}

static size_t reg_msg(uint8_t *out, const char *path, uint32_t mode, uint64_t size)
{
	struct bh_msg m;
	bh_msg_init(&m, BH_FILE_REG);
	bh_msg_u32(&m, mode);
	bh_msg_u64(&m, 1000000000);
	bh_msg_u32(&m, 0);
	bh_msg_u64(&m, size);
	bh_msg_str(&m, path);
	memcpy(out, m.buf, m.len);
	return m.len;
}

static size_t link_msg(uint8_t *out, const char *path, const char *target)
{
	struct bh_msg m;
	bh_msg_init(&m, BH_FILE_SYMLINK);
	bh_msg_u64(&m, 1000000000);
	bh_msg_u32(&m, 0);
	bh_msg_str(&m, target);
	bh_msg_str(&m, path);
	memcpy(out, m.buf, m.len);
	return m.len;
}

static size_t data_msg(uint8_t *out, const char *bytes)
{
	out[0] = BH_FILE_DATA;
	memcpy(out + 1, bytes, strlen(bytes));
	return 1 + strlen(bytes);
}

/* A fresh destination folder dst inside top. */
static struct bh_archive_reader *fresh(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", top, name);
	mkdir(path, 0700);
	return bh_archive_reader_create(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), NULL);
}

static bool exists(const char *rel)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", top, rel);
	return lstat(path, &st) == 0;
}

/* Feeds messages until one fails; returns the index of the failing one
 * (-1 if none failed) and checks the error mentions want. */
static int feed_all(struct bh_archive_reader *r, uint8_t msgs[][512], const size_t *lens, int n,
	const char *want)
{
	for (int i = 0; i < n; i++) {
		if (bh_archive_reader_feed(r, msgs[i], lens[i]) == BH_ARCHIVE_FAILED) {
			const char *err = bh_archive_reader_error(r);
			CHECK(want == NULL || strstr(err, want) != NULL);
			if (want != NULL && strstr(err, want) == NULL) {
				fprintf(stderr, "  wanted \"%s\" in \"%s\"\n", want, err);
			}
			return i;
		}
	}
	return -1;
}

static uint8_t msgs[8][512];
static size_t lens[8];

static void test_escaping_names(void)
{
	static const char *bad[] = {"/etc/evil", "../evil", "root/../../evil", "root/./x", "root//x",
		"", ".", "..", NULL};
	for (int i = 0; bad[i] != NULL; i++) {
		struct bh_archive_reader *r = fresh("esc");
		lens[0] = dir_msg(msgs[0], "root", 0755);
		lens[1] = reg_msg(msgs[1], bad[i], 0644, 0);
		int failed = feed_all(r, msgs, lens, 2, "unsafe name");
		/* A root-level "..", ".", "/..." or "" fails; so does any later one. */
		CHECK(failed == 1 || (failed == 0 && bad[i][0] != 'r'));
		bh_archive_reader_destroy(r);
	}
	CHECK(!exists("evil"));
	/* A name over 255 bytes in one component. */
	char longname[300] = "root/";
	memset(longname + 5, 'n', 256);
	longname[261] = '\0';
	struct bh_archive_reader *r = fresh("long");
	lens[0] = dir_msg(msgs[0], "root", 0755);
	lens[1] = reg_msg(msgs[1], longname, 0644, 0);
	CHECK_EQ_INT(feed_all(r, msgs, lens, 2, "unsafe name"), 1);
	bh_archive_reader_destroy(r);
}

static void test_order_and_links(void)
{
	/* An entry whose folder was not sent before it. */
	struct bh_archive_reader *r = fresh("order");
	lens[0] = dir_msg(msgs[0], "root", 0755);
	lens[1] = reg_msg(msgs[1], "other/x", 0644, 0);
	CHECK_EQ_INT(feed_all(r, msgs, lens, 2, "not inside a folder"), 1);
	bh_archive_reader_destroy(r);
	/* Two roots. */
	r = fresh("roots");
	lens[0] = reg_msg(msgs[0], "one", 0644, 0);
	lens[1] = reg_msg(msgs[1], "two", 0644, 0);
	CHECK_EQ_INT(feed_all(r, msgs, lens, 2, "not inside a folder"), 1);
	bh_archive_reader_destroy(r);
	CHECK(!exists("roots/two"));
	/* A link the archive made, then a folder of the same name to write
	 * through it: the link is never followed. */
	r = fresh("through");
	lens[0] = dir_msg(msgs[0], "root", 0755);
	lens[1] = link_msg(msgs[1], "root/esc", "../../..");
	lens[2] = dir_msg(msgs[2], "root/esc", 0755);
	lens[3] = reg_msg(msgs[3], "root/esc/pwned", 0644, 0);
	CHECK_EQ_INT(feed_all(r, msgs, lens, 4, "not a folder"), 2);
	bh_archive_reader_destroy(r);
	CHECK(!exists("../pwned") && !exists("pwned"));
	/* A link already in the destination with the root's name: a folder is
	 * not merged through it. */
	char path[256];
	snprintf(path, sizeof(path), "%s/pre", top);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/pre/root", top);
	CHECK(symlink("/tmp", path) == 0);
	snprintf(path, sizeof(path), "%s/pre", top);
	r = bh_archive_reader_create(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), NULL);
	lens[0] = dir_msg(msgs[0], "root", 0755);
	lens[1] = reg_msg(msgs[1], "root/in-tmp", 0644, 0);
	CHECK_EQ_INT(feed_all(r, msgs, lens, 2, "links are not followed"), 0);
	bh_archive_reader_destroy(r);
	CHECK(access("/tmp/in-tmp", F_OK) != 0);
	/* A file replaces a link of its name instead of writing through it. */
	snprintf(path, sizeof(path), "%s/target", top);
	FILE *f = fopen(path, "w");
	fputs("keep", f);
	fclose(f);
	r = fresh("replace");
	snprintf(path, sizeof(path), "%s/replace/f", top);
	CHECK(symlink("../target", path) == 0);
	lens[0] = reg_msg(msgs[0], "f", 0644, 3);
	lens[1] = data_msg(msgs[1], "new");
	CHECK_EQ_INT(feed_all(r, msgs, lens, 2, NULL), -1);
	bh_archive_reader_destroy(r);
	snprintf(path, sizeof(path), "%s/target", top);
	char buf[8] = "";
	f = fopen(path, "r");
	CHECK(fgets(buf, sizeof(buf), f) != NULL && strcmp(buf, "keep") == 0);
	fclose(f);
}

static void test_sizes_and_modes(void)
{
	/* More data than announced. */
	struct bh_archive_reader *r = fresh("size");
	lens[0] = reg_msg(msgs[0], "f", 0644, 2);
	lens[1] = data_msg(msgs[1], "abc");
	CHECK_EQ_INT(feed_all(r, msgs, lens, 2, "more data"), 1);
	bh_archive_reader_destroy(r);
	CHECK(!exists("size/f"));
	/* An entry while a file still expects data. */
	r = fresh("mid");
	lens[0] = dir_msg(msgs[0], "root", 0755);
	lens[1] = reg_msg(msgs[1], "root/f", 0644, 10);
	lens[2] = data_msg(msgs[2], "abc");
	lens[3] = reg_msg(msgs[3], "root/g", 0644, 0);
	CHECK_EQ_INT(feed_all(r, msgs, lens, 4, "in the middle"), 3);
	bh_archive_reader_destroy(r);
	/* Cut short: the partial file is gone, nothing named f appears. */
	r = fresh("cut");
	lens[0] = reg_msg(msgs[0], "f", 0644, 10);
	lens[1] = data_msg(msgs[1], "abc");
	CHECK_EQ_INT(feed_all(r, msgs, lens, 2, NULL), -1);
	bh_archive_reader_destroy(r);
	char path[256];
	snprintf(path, sizeof(path), "%s/cut", top);
	int count = 0;
	FILE *ls = NULL;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", path);
	ls = popen(cmd, "r");
	CHECK(ls != NULL && fscanf(ls, "%d", &count) == 1);
	pclose(ls);
	CHECK_EQ_INT(count, 0);
	/* setuid, setgid and sticky bits are dropped. */
	r = fresh("modes");
	lens[0] = reg_msg(msgs[0], "suid", 06755, 0);
	msgs[1][0] = BH_FILE_END;
	lens[1] = 1;
	CHECK_EQ_INT(feed_all(r, msgs, lens, 2, NULL), -1);
	bh_archive_reader_destroy(r);
	struct stat st;
	snprintf(path, sizeof(path), "%s/modes/suid", top);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0755);
	/* Unknown message types, a bad time, and data after the end. */
	r = fresh("junk");
	msgs[0][0] = 99;
	lens[0] = 1;
	CHECK_EQ_INT(feed_all(r, msgs, lens, 1, "unexpected message"), 0);
	bh_archive_reader_destroy(r);
	r = fresh("time");
	struct bh_msg m;
	bh_msg_init(&m, BH_FILE_DIR);
	bh_msg_u32(&m, 0755);
	bh_msg_u64(&m, 1);
	bh_msg_u32(&m, 2000000000u); /* nanoseconds over a second */
	bh_msg_str(&m, "root");
	memcpy(msgs[0], m.buf, m.len);
	lens[0] = m.len;
	CHECK_EQ_INT(feed_all(r, msgs, lens, 1, "modification time"), 0);
	bh_archive_reader_destroy(r);
	/* Truncated entry: the string runs past the message. */
	r = fresh("trunc");
	lens[0] = dir_msg(msgs[0], "root", 0755) - 2;
	CHECK_EQ_INT(feed_all(r, msgs, lens, 1, "malformed"), 0);
	bh_archive_reader_destroy(r);
}

static void test_depth(void)
{
	struct bh_archive_reader *r = fresh("deep");
	char path[BH_ARCHIVE_PATH_MAX] = "d";
	enum bh_archive_status st = BH_ARCHIVE_MORE;
	int levels = 0;
	for (; levels < BH_ARCHIVE_DEPTH_MAX + 5 && st != BH_ARCHIVE_FAILED; levels++) {
		uint8_t msg[BH_ARCHIVE_PATH_MAX + 64];
		struct bh_msg m;
		bh_msg_init(&m, BH_FILE_DIR);
		bh_msg_u32(&m, 0755);
		bh_msg_u64(&m, 1);
		bh_msg_u32(&m, 0);
		bh_msg_str(&m, path);
		memcpy(msg, m.buf, m.len);
		st = bh_archive_reader_feed(r, msg, m.len);
		strcat(path, "/d");
	}
	CHECK(st == BH_ARCHIVE_FAILED);
	CHECK(strstr(bh_archive_reader_error(r), "deep") != NULL);
	CHECK_EQ_INT(levels, BH_ARCHIVE_DEPTH_MAX + 2);
	bh_archive_reader_destroy(r);
}

int main(void)
{
	bh_log_init("test_archive", BH_LOG_ERROR);
	snprintf(top, sizeof(top), "/tmp/bh-archive-XXXXXX");
	CHECK(mkdtemp(top) != NULL);
	test_escaping_names();
	test_order_and_links();
	test_sizes_and_modes();
	test_depth();
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx %s; rm -rf %s", top, top);
	CHECK_EQ_INT(system(cmd), 0);
	return bh_test_finish("test_archive");
}
