/* Push/pull archives: a tree of directories, regular files and symbolic
 * links as session messages (protocols/CONTROL.md "Files"), written from a
 * path and extracted under a directory without ever leaving it. The
 * extracting side treats every name, size and time as hostile: no absolute
 * names, no "..", an entry only inside a directory sent before it, and no
 * symbolic link is ever followed while writing. */
#ifndef COMMON_ARCHIVE_H
#define COMMON_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BH_ARCHIVE_PATH_MAX 4096     /* bytes of one entry's path */
#define BH_ARCHIVE_NAME_MAX 255      /* bytes of one path component */
#define BH_ARCHIVE_DEPTH_MAX 64      /* directory levels below the root */
#define BH_ARCHIVE_CHUNK (60 * 1024) /* file bytes per DATA message */
#define BH_ARCHIVE_ERROR_MAX 1024    /* bytes of an ERROR text */


struct bh_archive_stats {
	uint64_t dirs, files, links, bytes;
	uint64_t skipped; /* sockets, fifos, devices: not copied */
};

/* Sends src as an archive: entries in depth-first order, the root named
 * after src's last component, then END. emit gets each message (type byte
 * first) and may block; returning false stops the walk (error left as the
 * caller set it: "" here). skip (may be NULL) hears of entries that are not
 * copied. src itself is followed if it is a symbolic link; nothing below it
 * is. */
typedef bool (*bh_archive_emit_fn)(const uint8_t *msg, size_t len, void *user);
typedef void (*bh_archive_skip_fn)(const char *path, const char *why, void *user);
bool bh_archive_write(const char *src, bh_archive_emit_fn emit, bh_archive_skip_fn skip,
	void *user, struct bh_archive_stats *stats, char *error, size_t error_size);

/* Where "copy to dst" lands, as cp does: inside dst when it is an existing
 * directory (named name; NULL = the archive's own root name), else as dst
 * itself in its parent directory. Returns a directory fd to extract in and
 * sets *root_name (malloc'd, or NULL to keep the archive's), or -1 with a
 * sentence in error. */
int bh_archive_target(const char *dst, const char *name, char **root_name, char *error,
	size_t error_size);

enum bh_archive_status {
	BH_ARCHIVE_MORE,   /* fine, send the next message */
	BH_ARCHIVE_DONE,   /* END arrived and everything is written */
	BH_ARCHIVE_FAILED, /* see bh_archive_reader_error; the reader stays failed */
};

struct bh_archive_reader;
/* Extracts into the directory dirfd (taken over): the root entry is named
 * root_name there (NULL: the name the archive gives it, checked). Modes keep
 * their permission bits only (no setuid, setgid or sticky). */
struct bh_archive_reader *bh_archive_reader_create(int dirfd, const char *root_name);
/* Whether each file is flushed to disk before it gets its name, and the
 * whole copy before the end is reported (default true: a copy that was
 * reported done survives a power cut). false only for scratch copies. */
void bh_archive_reader_set_durable(struct bh_archive_reader *reader, bool durable);
/* One DIR, REG, DATA, SYMLINK or END message, type byte first. */
enum bh_archive_status bh_archive_reader_feed(struct bh_archive_reader *reader,
	const uint8_t *msg, size_t len);
/* Why the reader failed: one sentence; guest-sent names in it are made
 * printable. */
const char *bh_archive_reader_error(const struct bh_archive_reader *reader);
const struct bh_archive_stats *bh_archive_reader_stats(const struct bh_archive_reader *reader);
/* A file being written when this is called is removed. Accepts NULL. */
void bh_archive_reader_destroy(struct bh_archive_reader *reader);

/* Copies text into out as printable bytes (control bytes become '?'),
 * truncated to out_size - 1: for showing names that came from a guest. */
void bh_archive_printable(const char *text, size_t len, char *out, size_t out_size);

#endif
