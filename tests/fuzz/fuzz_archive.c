/* libFuzzer target: the archive reader that extracts what a guest sends on
 * a pull stream (and what the host sends on a push). Input: messages, each
 * a little-endian u16 length and that many bytes (type byte first). They
 * are extracted into a fresh folder inside a scratch folder; afterwards
 * nothing may exist in the scratch folder outside that destination. */
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
	(void)st, (void)ftw;
	if (flag == FTW_DP) {
		chmod(path, 0700);
	}
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (scratch[0] == '\0') {
		bh_log_init("fuzz_archive", BH_LOG_SILENT);
		snprintf(scratch, sizeof(scratch), "/tmp/fuzz-archive-XXXXXX");
		if (mkdtemp(scratch) == NULL) {
			abort();
		}
	}
	char dst[128];
	snprintf(dst, sizeof(dst), "%s/dst", scratch);
	mkdir(dst, 0700);
	struct bh_archive_reader *r =
		bh_archive_reader_create(open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC), NULL);
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
	DIR *dir = opendir(scratch);
	struct dirent *ent;
	while (dir != NULL && (ent = readdir(dir)) != NULL) {
		if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0 &&
			strcmp(ent->d_name, "dst") != 0) {
			fprintf(stderr, "%s escaped the destination\n", ent->d_name);
			abort();
		}
	}
	if (dir != NULL) {
		closedir(dir);
	}
	nftw(dst, chmod_entry, 16, FTW_PHYS);
	nftw(dst, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
