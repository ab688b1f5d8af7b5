/* Push/pull archives: the writer walks a tree with *at() calls and never
 * follows a link below its root; the reader creates every entry relative to
 * the directory fd of its parent, which it opened itself with O_NOFOLLOW, so
 * no name it is sent can reach outside the target. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/archive.h"
#include "common/endpoint.h"
#include "common/util.h"

#define PERMISSION_BITS 0777

void bh_archive_printable(const char *text, size_t len, char *out, size_t out_size)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 1 < out_size; i++) {
		unsigned char c = (unsigned char)text[i];
		out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (out_size > 0) {
		out[o] = '\0';
	}
}

/* ---- writing ---- */

struct writer {
	bh_archive_emit_fn emit;
	bh_archive_skip_fn skip;
	void *user;
	struct bh_archive_stats *stats;
	char *error;
	size_t error_size;
	char path[BH_ARCHIVE_PATH_MAX + 1]; /* archive path of the current entry */
	uint8_t buf[1 + BH_ARCHIVE_CHUNK];
};

static bool writer_fail(struct writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool writer_fail(struct writer *w, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(w->error, w->error_size, fmt, args);
	va_end(args);
	return false;
}

static void header(struct bh_msg *msg, uint8_t type, const struct stat *st)
{
	bh_msg_init(msg, type);
	if (type != BH_FILE_SYMLINK) {
		bh_msg_u32(msg, (uint32_t)(st->st_mode & PERMISSION_BITS));
	}
	bh_msg_u64(msg, (uint64_t)(int64_t)st->st_mtim.tv_sec);
	bh_msg_u32(msg, (uint32_t)st->st_mtim.tv_nsec);
}

static bool write_file(struct writer *w, int fd, const struct stat *st)
{
	struct bh_msg msg;
	header(&msg, BH_FILE_REG, st);
	bh_msg_u64(&msg, (uint64_t)st->st_size);
	bh_msg_str(&msg, w->path);
	if (!w->emit(msg.buf, msg.len, w->user)) {
		return false;
	}
	/* Exactly the size announced: a file that grows is cut there, one that
	 * shrinks is an error (the receiver would wait for bytes forever). */
	uint64_t left = (uint64_t)st->st_size;
	w->buf[0] = BH_FILE_DATA;
	while (left > 0) {
		size_t want = left < BH_ARCHIVE_CHUNK ? (size_t)left : BH_ARCHIVE_CHUNK;
		ssize_t n = read(fd, w->buf + 1, want);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return writer_fail(w, "cannot read %s: %s", w->path, strerror(errno));
		}
		if (n == 0) {
			return writer_fail(w, "%s shrank while it was being copied", w->path);
		}
		if (!w->emit(w->buf, (size_t)n + 1, w->user)) {
			return false;
		}
		left -= (uint64_t)n;
	}
	w->stats->files++;
	w->stats->bytes += (uint64_t)st->st_size;
	return true;
}

static bool write_link(struct writer *w, int dirfd, const char *name, const struct stat *st)
{
	char target[BH_ARCHIVE_PATH_MAX + 1];
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target));
	if (n < 0) {
		return writer_fail(w, "cannot read the link %s: %s", w->path, strerror(errno));
	}
	if (n == 0 || (size_t)n > BH_ARCHIVE_PATH_MAX) {
		if (w->skip != NULL) {
			w->skip(w->path, "its link target is too long", w->user);
		}
		w->stats->skipped++;
		return true;
	}
	target[n] = '\0';
	struct bh_msg msg;
	header(&msg, BH_FILE_SYMLINK, st);
	bh_msg_str(&msg, target);
	bh_msg_str(&msg, w->path);
	w->stats->links++;
	return w->emit(msg.buf, msg.len, w->user);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted (so archives are reproducible). */
static char **list_dir(int fd, size_t *count)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (d == NULL) {
		if (dup_fd >= 0) {
			close(dup_fd);
		}
		return NULL;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	bool ok = true;
	for (;;) {
		errno = 0;
		if (!ok || (e = readdir(d)) == NULL) {
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **grown = realloc(names, cap * sizeof(*names));
			ok = grown != NULL;
			names = ok ? grown : names;
		}
		if (ok) {
			names[n] = strdup(e->d_name);
			ok = names[n++] != NULL;
		}
	}
	ok = ok && errno == 0;
	closedir(d);
	if (!ok) {
		for (size_t i = 0; i < n; i++) {
			free(names[i]);
		}
		free(names);
		return NULL;
	}
	if (n > 0) {
		qsort(names, n, sizeof(*names), compare_names);
	}
	*count = n;
	return names != NULL ? names : calloc(1, sizeof(*names));
}

static bool write_dir(struct writer *w, int fd, const struct stat *st, int depth)
{
	struct bh_msg msg;
	header(&msg, BH_FILE_DIR, st);
	bh_msg_str(&msg, w->path);
	if (!w->emit(msg.buf, msg.len, w->user)) {
		return false;
	}
	w->stats->dirs++;
	size_t count = 0;
	char **names = list_dir(fd, &count);
	if (names == NULL) {
		return writer_fail(w, "cannot list %s: %s", w->path, strerror(errno));
	}
	size_t base_len = strlen(w->path);
	bool ok = true;
	for (size_t i = 0; i < count && ok; i++) {
		const char *name = names[i];
		if (base_len + 1 + strlen(name) > BH_ARCHIVE_PATH_MAX) {
			ok = writer_fail(w, "%s/%s: the path is longer than %d bytes", w->path, name,
				BH_ARCHIVE_PATH_MAX);
			break;
		}
		snprintf(w->path + base_len, sizeof(w->path) - base_len, "/%s", name);
		struct stat cst;
		if (fstatat(fd, name, &cst, AT_SYMLINK_NOFOLLOW) != 0) {
			ok = writer_fail(w, "cannot read %s: %s", w->path, strerror(errno));
		} else if (S_ISDIR(cst.st_mode)) {
			if (depth + 1 > BH_ARCHIVE_DEPTH_MAX) {
				ok = writer_fail(w, "%s is more than %d directories deep", w->path,
					BH_ARCHIVE_DEPTH_MAX);
				break;
			}
			int cfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			ok = cfd >= 0 ? write_dir(w, cfd, &cst, depth + 1) :
					writer_fail(w, "cannot open %s: %s", w->path, strerror(errno));
			if (cfd >= 0) {
				close(cfd);
			}
		} else if (S_ISREG(cst.st_mode)) {
			int cfd = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			ok = cfd >= 0 ? write_file(w, cfd, &cst) :
					writer_fail(w, "cannot open %s: %s", w->path, strerror(errno));
			if (cfd >= 0) {
				close(cfd);
			}
		} else if (S_ISLNK(cst.st_mode)) {
			ok = write_link(w, fd, name, &cst);
		} else {
			if (w->skip != NULL) {
				w->skip(w->path, "not a file, directory or link", w->user);
			}
			w->stats->skipped++;
		}
		w->path[base_len] = '\0';
	}
	for (size_t i = 0; i < count; i++) {
		free(names[i]);
	}
	free(names);
	return ok;
}

/* src's last component, as the archive's root name. */
static bool root_name_of(const char *src, char *out, size_t size)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", src);
	size_t len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/') {
		copy[--len] = '\0';
	}
	const char *slash = strrchr(copy, '/');
	const char *name = slash != NULL ? slash + 1 : copy;
	char real[PATH_MAX];
	if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		if (realpath(src, real) == NULL) {
			return false;
		}
		slash = strrchr(real, '/');
		name = slash != NULL ? slash + 1 : real;
	}
	if (name[0] == '\0' || strlen(name) > BH_ARCHIVE_NAME_MAX) {
		return false;
	}
	snprintf(out, size, "%s", name);
	return true;
}

bool bh_archive_write(const char *src, bh_archive_emit_fn emit, bh_archive_skip_fn skip,
	void *user, struct bh_archive_stats *stats, char *error, size_t error_size)
{
	struct bh_archive_stats local;
	struct writer *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		snprintf(error, error_size, "out of memory");
		return false;
	}
	*w = (struct writer){.emit = emit, .skip = skip, .user = user,
		.stats = stats != NULL ? stats : &local, .error = error, .error_size = error_size};
	memset(w->stats, 0, sizeof(*w->stats));
	error[0] = '\0';
	bool ok = false;
	int fd = -1;
	struct stat st;
	if (!root_name_of(src, w->path, sizeof(w->path))) {
		writer_fail(w, "cannot copy %s: it has no name to give the copy (name a file or "
			       "folder below /)", src);
	} else if ((fd = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 || fstat(fd, &st) != 0) {
		writer_fail(w, "cannot read %s: %s", src, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		ok = write_dir(w, fd, &st, 0);
	} else if (S_ISREG(st.st_mode)) {
		ok = write_file(w, fd, &st);
	} else {
		writer_fail(w, "cannot copy %s: it is not a file or a folder", src);
	}
	if (fd >= 0) {
		close(fd);
	}
	if (ok) {
		uint8_t end = BH_FILE_END;
		ok = emit(&end, 1, user);
	}
	free(w);
	return ok;
}

int bh_archive_target(const char *dst, const char *name, char **root_name, char *error,
	size_t error_size)
{
	*root_name = NULL;
	char copy[PATH_MAX];
	if (dst[0] == '\0' || strlen(dst) >= sizeof(copy)) {
		snprintf(error, error_size, "the destination '%s' is not a usable path", dst);
		return -1;
	}
	snprintf(copy, sizeof(copy), "%s", dst);
	size_t len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/') {
		copy[--len] = '\0';
	}
	struct stat st;
	if (stat(copy, &st) == 0 && S_ISDIR(st.st_mode)) {
		int fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(error, error_size, "cannot open the folder %s: %s", copy,
				strerror(errno));
			return -1;
		}
		if (name != NULL && (*root_name = strdup(name)) == NULL) {
			close(fd);
			snprintf(error, error_size, "out of memory");
			return -1;
		}
		return fd;
	}
	char *slash = strrchr(copy, '/');
	const char *base = slash != NULL ? slash + 1 : copy;
	const char *parent = slash == NULL ? "." : slash == copy ? "/" : copy;
	if (slash != NULL && slash != copy) {
		*slash = '\0';
	}
	if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
		strlen(base) > BH_ARCHIVE_NAME_MAX) {
		snprintf(error, error_size, "the destination '%s' does not name a file or folder",
			dst);
		return -1;
	}
	int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(error, error_size, "cannot write %s: the folder %s %s", dst, parent,
			errno == ENOENT ? "does not exist" : strerror(errno));
		return -1;
	}
	if ((*root_name = strdup(base)) == NULL) {
		close(fd);
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	return fd;
}

/* ---- reading ---- */

struct dir_level {
	int fd;
	size_t path_len; /* this directory's archive path is reader->path[0..path_len) */
	uint32_t mode;
	struct timespec mtime;
};

struct bh_archive_reader {
	int base_fd;
	char *root_name;
	bool started, finished, failed;
	char path[BH_ARCHIVE_PATH_MAX + 1]; /* archive path of the innermost open dir */
	struct dir_level dirs[BH_ARCHIVE_DEPTH_MAX + 1];
	size_t depth;
	/* The regular file being received. */
	int file_fd, file_dir;
	char file_tmp[64], file_name[BH_ARCHIVE_NAME_MAX + 1];
	uint64_t file_left;
	uint32_t file_mode;
	struct timespec file_mtime;
	unsigned tmp_counter;
	bool volatile_copy; /* no fsync: bh_archive_reader_set_durable */
	struct bh_archive_stats stats;
	char error[BH_ARCHIVE_ERROR_MAX];
};

static enum bh_archive_status reader_fail(struct bh_archive_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum bh_archive_status reader_fail(struct bh_archive_reader *r, const char *fmt, ...)
{
	if (!r->failed) {
		va_list args;
		va_start(args, fmt);
		vsnprintf(r->error, sizeof(r->error), fmt, args);
		va_end(args);
		r->failed = true;
	}
	return BH_ARCHIVE_FAILED;
}

struct bh_archive_reader *bh_archive_reader_create(int dirfd, const char *root_name)
{
	struct bh_archive_reader *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		close(dirfd);
		return NULL;
	}
	r->base_fd = dirfd;
	r->file_fd = -1;
	if (root_name != NULL && (r->root_name = strdup(root_name)) == NULL) {
		close(dirfd);
		free(r);
		return NULL;
	}
	return r;
}

static void times_of(const struct timespec *mtime, struct timespec times[2])
{
	times[0] = *mtime; /* atime: as good as any, and reproducible */
	times[1] = *mtime;
}

/* A directory is finished: its own mode and time are set last, so a
 * read-only directory could still be filled and its time is not changed
 * by its contents. */
static bool pop_dir(struct bh_archive_reader *r)
{
	struct dir_level *d = &r->dirs[--r->depth];
	struct timespec times[2];
	times_of(&d->mtime, times);
	bool ok = fchmod(d->fd, d->mode) == 0 && futimens(d->fd, times) == 0;
	int e = errno;
	close(d->fd);
	r->path[r->depth > 0 ? r->dirs[r->depth - 1].path_len : 0] = '\0';
	if (!ok) {
		char shown[300];
		bh_archive_printable(r->path, strlen(r->path), shown, sizeof(shown));
		reader_fail(r, "cannot set the mode or time of a folder in %s: %s",
			shown[0] ? shown : "the copy", strerror(e));
	}
	return ok;
}

/* Checks an archive path: relative, no empty, "." or ".." component, at
 * most BH_ARCHIVE_NAME_MAX bytes per component. */
static bool path_ok(const char *path, size_t len)
{
	if (len == 0 || len > BH_ARCHIVE_PATH_MAX || path[0] == '/') {
		return false;
	}
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && path[i] != '/') {
			continue;
		}
		size_t clen = i - start;
		if (clen == 0 || clen > BH_ARCHIVE_NAME_MAX ||
			(clen == 1 && path[start] == '.') ||
			(clen == 2 && path[start] == '.' && path[start + 1] == '.')) {
			return false;
		}
		start = i + 1;
	}
	return true;
}

/* Finds the directory an entry goes in: its parent must be a directory of
 * this archive still open (depth-first order). Sets *dirfd and *name. */
static bool locate(struct bh_archive_reader *r, const char *path, int *dirfd, const char **name)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL) {
		if (r->started) {
			return false; /* a second root */
		}
		*dirfd = r->base_fd;
		*name = r->root_name != NULL ? r->root_name : path;
		return true;
	}
	size_t parent_len = (size_t)(slash - path);
	while (r->depth > 0) {
		struct dir_level *top = &r->dirs[r->depth - 1];
		if (top->path_len == parent_len && memcmp(r->path, path, parent_len) == 0) {
			*dirfd = top->fd;
			*name = slash + 1;
			return true;
		}
		if (!pop_dir(r)) {
			return false;
		}
	}
	return false;
}

static bool read_times(struct bh_msg_reader *m, struct timespec *ts)
{
	int64_t sec = (int64_t)bh_msg_get_u64(m);
	uint32_t nsec = bh_msg_get_u32(m);
	if (nsec >= 1000000000u) {
		return false;
	}
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = (long)nsec;
	return (int64_t)ts->tv_sec == sec;
}

static enum bh_archive_status finish_file(struct bh_archive_reader *r)
{
	struct timespec times[2];
	times_of(&r->file_mtime, times);
	/* On disk before it gets its name: a power cut (a killed VM) must not
	 * leave an empty or torn file under the name of one that was copied. */
	bool ok = fchmod(r->file_fd, r->file_mode) == 0 && futimens(r->file_fd, times) == 0 &&
		  (r->volatile_copy || fsync(r->file_fd) == 0);
	int e = errno;
	ok = close(r->file_fd) == 0 && ok;
	r->file_fd = -1;
	/* rename replaces a file or a link of that name (never following it)
	 * and refuses to replace a directory. */
	if (ok && renameat(r->file_dir, r->file_tmp, r->file_dir, r->file_name) != 0) {
		ok = false;
		e = errno;
	}
	if (!ok) {
		unlinkat(r->file_dir, r->file_tmp, 0);
		char shown[300];
		bh_archive_printable(r->file_name, strlen(r->file_name), shown, sizeof(shown));
		return reader_fail(r, "cannot write %s: %s", shown, strerror(e));
	}
	r->stats.files++;
	return BH_ARCHIVE_MORE;
}

static int make_tmp(struct bh_archive_reader *r, int dirfd)
{
	for (int tries = 0; tries < 100; tries++) {
		snprintf(r->file_tmp, sizeof(r->file_tmp), ".bulkhead-part.%d.%u", (int)getpid(),
			r->tmp_counter++);
		int fd = openat(dirfd, r->file_tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST) {
			return fd;
		}
	}
	return -1;
}

static enum bh_archive_status reader_entry(struct bh_archive_reader *r, uint8_t type,
	const uint8_t *p, size_t len)
{
	struct bh_msg_reader m;
	bh_msg_reader_init(&m, p, len);
	uint32_t mode = type == BH_FILE_SYMLINK ? 0 : bh_msg_get_u32(&m);
	struct timespec mtime;
	bool times_ok = read_times(&m, &mtime);
	uint64_t size = type == BH_FILE_REG ? bh_msg_get_u64(&m) : 0;
	char *target = type == BH_FILE_SYMLINK ? bh_msg_get_str(&m, BH_ARCHIVE_PATH_MAX) : NULL;
	char *path = bh_msg_get_str(&m, BH_ARCHIVE_PATH_MAX);
	bool ok = bh_msg_end(&m);
	char shown[300];
	bh_archive_printable(path != NULL ? path : "", path != NULL ? strlen(path) : 0, shown,
		sizeof(shown));
	enum bh_archive_status status = BH_ARCHIVE_MORE;
	int dirfd;
	const char *name;
	if (!ok) {
		status = reader_fail(r, "a malformed archive entry (type %u, %zu bytes)", type, len);
	} else if (!times_ok) {
		status = reader_fail(r, "a bad modification time for %s", shown);
	} else if (!path_ok(path, strlen(path))) {
		status = reader_fail(r, "refused the unsafe name '%s' (absolute, empty, or with "
					"'.' or '..' in it)", shown);
	} else if (type == BH_FILE_SYMLINK && target[0] == '\0') {
		status = reader_fail(r, "an empty link target for %s", shown);
	} else if (!locate(r, path, &dirfd, &name)) {
		status = reader_fail(r, "refused '%s': it is not inside a folder sent before it",
			shown);
	} else if (!r->started && type == BH_FILE_SYMLINK) {
		status = reader_fail(r, "the copy is a link (%s), not a file or folder", shown);
	} else if (type == BH_FILE_DIR && r->depth > BH_ARCHIVE_DEPTH_MAX) {
		status = reader_fail(r, "%s is more than %d folders deep", shown,
			BH_ARCHIVE_DEPTH_MAX);
	} else if (type == BH_FILE_DIR) {
		/* Made private while it is filled; its mode is set at the end. An
		 * existing folder is merged into, but a link is never followed. */
		if (mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST) {
			status = reader_fail(r, "cannot create the folder %s: %s", shown,
				strerror(errno));
		} else {
			int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				status = reader_fail(r, "cannot write into %s: %s", shown,
					errno == ELOOP || errno == ENOTDIR ?
						"it exists and is not a folder (links are not followed)" :
						strerror(errno));
			} else {
				struct dir_level *d = &r->dirs[r->depth++];
				d->fd = fd;
				d->path_len = strlen(path);
				d->mode = mode & PERMISSION_BITS;
				d->mtime = mtime;
				memcpy(r->path, path, d->path_len + 1);
				r->stats.dirs++;
			}
		}
	} else if (type == BH_FILE_REG) {
		int fd = make_tmp(r, dirfd);
		if (fd < 0) {
			status = reader_fail(r, "cannot create %s: %s", shown, strerror(errno));
		} else {
			r->file_fd = fd;
			r->file_dir = dirfd;
			snprintf(r->file_name, sizeof(r->file_name), "%s", name);
			r->file_left = size;
			r->file_mode = mode & PERMISSION_BITS;
			r->file_mtime = mtime;
			if (size == 0) {
				status = finish_file(r);
			}
		}
	} else {
		/* A link is made under a temporary name and renamed into place, so
		 * it replaces a file or link but never writes through one. */
		int made = -1;
		for (int tries = 0; tries < 100 && made != 0; tries++) {
			snprintf(r->file_tmp, sizeof(r->file_tmp), ".bulkhead-part.%d.%u",
				(int)getpid(), r->tmp_counter++);
			made = symlinkat(target, dirfd, r->file_tmp);
			if (made != 0 && errno != EEXIST) {
				break;
			}
		}
		struct timespec times[2];
		times_of(&mtime, times);
		if (made != 0) {
			status = reader_fail(r, "cannot create the link %s: %s", shown,
				strerror(errno));
		} else if (utimensat(dirfd, r->file_tmp, times, AT_SYMLINK_NOFOLLOW) != 0 ||
			renameat(dirfd, r->file_tmp, dirfd, name) != 0) {
			int e = errno;
			unlinkat(dirfd, r->file_tmp, 0);
			status = reader_fail(r, "cannot create the link %s: %s", shown, strerror(e));
		} else {
			r->stats.links++;
		}
	}
	r->started = true;
	free(target);
	free(path);
	return status;
}

void bh_archive_reader_set_durable(struct bh_archive_reader *r, bool durable)
{
	r->volatile_copy = !durable;
}

enum bh_archive_status bh_archive_reader_feed(struct bh_archive_reader *r, const uint8_t *msg,
	size_t len)
{
	if (r->failed) {
		return BH_ARCHIVE_FAILED;
	}
	if (len == 0) {
		return reader_fail(r, "an empty archive message");
	}
	if (r->finished) {
		return reader_fail(r, "archive data after its end");
	}
	uint8_t type = msg[0];
	msg++;
	len--;
	if (type == BH_FILE_DATA) {
		if (r->file_fd < 0) {
			return reader_fail(r, "file data outside of a file");
		}
		if (len > r->file_left) {
			char shown[300];
			bh_archive_printable(r->file_name, strlen(r->file_name), shown,
				sizeof(shown));
			return reader_fail(r, "more data for %s than its announced size", shown);
		}
		if (!bh_write_all(r->file_fd, msg, len)) {
			char shown[300];
			bh_archive_printable(r->file_name, strlen(r->file_name), shown,
				sizeof(shown));
			return reader_fail(r, "cannot write %s: %s", shown, strerror(errno));
		}
		r->file_left -= len;
		r->stats.bytes += len;
		return r->file_left == 0 ? finish_file(r) : BH_ARCHIVE_MORE;
	}
	if (r->file_fd >= 0) {
		char shown[300];
		bh_archive_printable(r->file_name, strlen(r->file_name), shown, sizeof(shown));
		return reader_fail(r, "an archive entry in the middle of %s's data", shown);
	}
	switch (type) {
	case BH_FILE_DIR:
	case BH_FILE_REG:
	case BH_FILE_SYMLINK:
		return reader_entry(r, type, msg, len);
	case BH_FILE_END:
		if (len != 0) {
			return reader_fail(r, "a malformed end of archive");
		}
		if (!r->started) {
			return reader_fail(r, "an empty archive");
		}
		while (r->depth > 0) {
			if (!pop_dir(r)) {
				return BH_ARCHIVE_FAILED;
			}
		}
		/* The renames too, before the copy is reported done: else a
		 * power cut soon after leaves only the temporary names. */
		if (!r->volatile_copy && syncfs(r->base_fd) != 0) {
			return reader_fail(r, "cannot flush the copy to disk: %s", strerror(errno));
		}
		r->finished = true;
		return BH_ARCHIVE_DONE;
	default:
		return reader_fail(r, "an unexpected message (type %u) in an archive", type);
	}
}

const char *bh_archive_reader_error(const struct bh_archive_reader *r)
{
	return r->failed ? r->error : "";
}

const struct bh_archive_stats *bh_archive_reader_stats(const struct bh_archive_reader *r)
{
	return &r->stats;
}

void bh_archive_reader_destroy(struct bh_archive_reader *r)
{
	if (r == NULL) {
		return;
	}
	if (r->file_fd >= 0) {
		close(r->file_fd);
		unlinkat(r->file_dir, r->file_tmp, 0);
	}
	/* An unfinished copy keeps its folders private (0700). */
	while (r->depth > 0) {
		close(r->dirs[--r->depth].fd);
	}
	close(r->base_fd);
	free(r->root_name);
	free(r);
}
