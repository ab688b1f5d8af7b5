/* libFuzzer target: the archive reader that extracts what a guest sends on
 * a pull stream (and what the host sends on a push). Input: messages, each
 * a little-endian u16 length and that many bytes (type byte first). They
 * are extracted into a fresh folder inside a scratch folder; afterwards
 * nothing may exist in the scratch folder outside that destination.
 * The folders are made once per process, on a memory file system when
 * there is one (/dev/shm), and the destination is emptied after each
 * input in one pass of getdents (empty_dir). */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/archive.h"
#include "common/log.h"

static char scratch[64];

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

/* Empties the directory dfd (closed here) in one pass of getdents, each
 * directory made searchable before it is entered (an archive may leave
 * one at mode 0) and nothing ever followed: symbolic links (some point at
 * "/" on purpose) are removed as names. Returns how many entries went.
 * This is the harness's own clean-up, so it costs what the extraction
 * costs and no more: nftw's two walks (chmod, then remove) with a stat
 * per entry and a directory stream per directory were more than half of
 * an input's time. */
static size_t empty_dir(int dfd)
{
	size_t removed = 0;
	char buf[2048];
	long n;
	while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct linux_dirent64 {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (void *)(buf + off);
			off += d->reclen;
			if (strcmp(d->name, ".") == 0 || strcmp(d->name, "..") == 0) {
				continue;
			}
			unsigned char type = d->type;
			struct stat st;
			if (type == DT_UNKNOWN && fstatat(dfd, d->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
				type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
			}
			if (type == DT_DIR) {
				fchmodat(dfd, d->name, 0700, 0);
				int sub = openat(dfd, d->name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub >= 0) {
					removed += empty_dir(sub);
				}
				removed += unlinkat(dfd, d->name, AT_REMOVEDIR) == 0;
			} else {
				removed += unlinkat(dfd, d->name, 0) == 0;
			}
		}
	}
	close(dfd);
	return removed;
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
	/* Emptied for the next input; only when something was there is it
	 * checked (and emptied again: removing while reading a directory
	 * may leave an entry for a second pass). */
	fchmod(dirfd(dst_dir), 0700);
	for (int pass = 0;; pass++) {
		int fd = openat(dirfd(dst_dir), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || empty_dir(fd) == 0) {
			break;
		}
		if (!holds_other(dst_dir, NULL)) {
			break;
		}
		if (pass == 3) {
			fprintf(stderr, "could not empty %s\n", dst);
			abort();
		}
	}
	return 0;
}
