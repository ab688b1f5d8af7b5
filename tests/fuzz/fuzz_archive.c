/* libFuzzer target: the archive reader that extracts what a guest sends on
 * a pull stream (and what the host sends on a push). Input: messages, each
 * a little-endian u16 length and that many bytes (type byte first). They
 * are extracted into a fresh folder inside a scratch folder; afterwards
 * nothing may exist in the scratch folder outside that destination.
 * The folders are made once per process, on a memory file system when
 * there is one (/dev/shm), and the destination is emptied after an input
 * only when the input left something in it. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/archive.h"
#include "common/log.h"

static char scratch[64];

/* Never chmod anything but a real directory: chmod follows a symbolic
 * link, and the archives make links to "/" on purpose. */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (ftw->level == 0) {
		return 0; /* the destination itself stays */
	}
	if (flag == FTW_DP) {
		chmod(path, 0700);
	}
	return remove(path);
}

static int remove_all(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int chmod_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw, (void)st;
	if (flag == FTW_D || flag == FTW_DNR) {
		chmod(path, 0700);
	}
	return 0;
}

/* Whether dir holds anything but "." and ".." (and keep, when given). */
static bool holds_other(DIR *dir, const char *keep)
{
	rewinddir(dir);
	struct dirent *ent;
	while ((ent = readdir(dir)) != NULL) {
		if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0 &&
			(keep == NULL || strcmp(ent->d_name, keep) != 0)) {
			return true;
		}
	}
	return false;
}

static void remove_scratch(void)
{
	nftw(scratch, chmod_entry, 16, FTW_PHYS);
	nftw(scratch, remove_all, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dst[128];
	static DIR *scratch_dir, *dst_dir;
	if (scratch[0] == '\0') {
		bh_log_init("fuzz_archive", BH_LOG_SILENT);
		struct stat st;
		const char *base = stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0 ?
			"/dev/shm" :
			getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
		snprintf(scratch, sizeof(scratch), "%s/fuzz-archive-XXXXXX", base);
		if (mkdtemp(scratch) == NULL) {
			abort();
		}
		atexit(remove_scratch);
		snprintf(dst, sizeof(dst), "%s/dst", scratch);
		if (mkdir(dst, 0700) != 0 || (scratch_dir = opendir(scratch)) == NULL ||
			(dst_dir = opendir(dst)) == NULL) {
			abort();
		}
	}
	int fd = fcntl(dirfd(dst_dir), F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		return 0;
	}
	struct bh_archive_reader *r = bh_archive_reader_create(fd, NULL);
	if (r != NULL) {
		bh_archive_reader_set_durable(r, false); /* a scratch copy: no fsync */
	}
	size_t off = 0;
	while (size - off >= 2) {
		size_t len = data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (len > size - off) {
			len = size - off;
		}
		/* An exact-size copy, so any read past the message is caught. */
		uint8_t *msg = malloc(len ? len : 1);
		memcpy(msg, data + off, len);
		enum bh_archive_status st = bh_archive_reader_feed(r, msg, len);
		free(msg);
		off += len;
		if (st != BH_ARCHIVE_MORE) {
			break;
		}
	}
	bh_archive_reader_destroy(r);
	/* Nothing but dst may be in the scratch folder. */
	if (holds_other(scratch_dir, "dst")) {
		fprintf(stderr, "something escaped the destination into %s\n", scratch);
		abort();
	}
	if (holds_other(dst_dir, NULL)) {
		nftw(dst, chmod_entry, 16, FTW_PHYS);
		nftw(dst, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		if (holds_other(dst_dir, NULL)) {
			fprintf(stderr, "could not empty %s\n", dst);
			abort();
		}
	}
	return 0;
}
