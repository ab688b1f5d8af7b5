/* Small helpers every binary needs: fd flags, whole reads and writes, spawning. */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

bool bh_set_cloexec(int fd, bool cloexec);
bool bh_set_nonblock(int fd, bool nonblock);

/* Writes or reads exactly len bytes, retrying on EINTR; a blocking fd is
 * expected. Returns false on error or (read) early end of file. */
bool bh_write_all(int fd, const void *buf, size_t len);
bool bh_read_exact(int fd, void *buf, size_t len);

/* A table of n items of size bytes grown to new_n, the new items zero:
 * made with calloc and the old items copied, so a large table's untouched
 * pages are never written (the allocator's fresh memory is zero already)
 * and a peer naming a far index costs address space, not memory. Frees
 * table and returns the new one; NULL (table kept) when there is no
 * memory or new_n < n. */
void *bh_table_grow(void *table, size_t n, size_t new_n, size_t size);

/* Bytes waiting for a non-blocking fd that is not ready (a slow reader):
 * appended at the end, written from the front. Zeroed is empty. */
struct bh_byte_queue {
	uint8_t *data;
	size_t len;
};

/* Room for len more bytes at the end, to be filled by the caller; NULL
 * (and the queue unchanged) when there is no memory. */
uint8_t *bh_byte_queue_extend(struct bh_byte_queue *queue, size_t len);
/* Writes from the front until the queue is empty or fd would block; what
 * was written leaves the queue. False (errno kept) on any other error. */
bool bh_byte_queue_write(struct bh_byte_queue *queue, int fd);
void bh_byte_queue_finish(struct bh_byte_queue *queue);

/* Where a child's stdin, stdout or stderr comes from: an fd of ours, or */
#define BH_SPAWN_INHERIT (-1) /* ours, unchanged */
#define BH_SPAWN_NULL (-2)    /* /dev/null */

enum bh_spawn_group {
	BH_SPAWN_SAME_GROUP = 0, /* our process group: a terminal's ^C reaches both */
	BH_SPAWN_NEW_GROUP,      /* a process group of its own */
	BH_SPAWN_NEW_SESSION,    /* a session of its own, so no controlling terminal */
};

/* Who a child becomes, for good, before it runs anything (needs root). */
struct bh_spawn_user {
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* the supplementary groups, n_groups of them */
	size_t n_groups;
};

struct bh_spawn_options {
	const char *const *argv; /* argv[0] is searched in our PATH */
	/* The child's environment: env (NULL: ours) with the "NAME=value"
	 * entries of env_set set on top; both NULL-ended. */
	const char *const *env;
	const char *const *env_set;
	/* stdin, stdout, stderr: an fd of ours, BH_SPAWN_INHERIT or
	 * BH_SPAWN_NULL. No default: set all three. */
	int stdio[3];
	/* Fds that stay open in the child (ended by -1, may be NULL); every
	 * other fd above stderr is closed. */
	const int *keep_fds;
	enum bh_spawn_group group;
	bool controlling_tty;             /* stdin becomes it (with BH_SPAWN_NEW_SESSION) */
	const struct bh_spawn_user *user; /* NULL: stay who we are */
	const char *cwd;                  /* NULL: ours; "/" when it cannot be entered */
};

/* The one way processes are started. The child has every signal at its
 * default and none blocked. Returns the pid, or -1 with errno set and a
 * logged error. When the program cannot be run the child says why on its
 * stderr and exits 127 (126 when it cannot become opts->user). */
pid_t bh_spawn_process(const struct bh_spawn_options *opts);
/* argv in a new process group with our stdout and stderr, stdin from
 * /dev/null unless keep_stdio; env_set and keep_fds as above. */
pid_t bh_spawn(const char *const argv[], const char *const env_set[], const int keep_fds[],
	bool keep_stdio);
/* The same for a command line run by /bin/sh -c. */
pid_t bh_spawn_shell(const char *command, const char *const env_set[], const int keep_fds[],
	bool keep_stdio);
/* Runs argv (stdin from /dev/null, in our process group) to its end and
 * collects its standard output and error (out, err may be NULL; the
 * strings are malloc'd). Returns the exit status (127 with the reason in
 * *err when the program could not be run), or -1 when it could not be
 * started or was killed. */
int bh_run_tool(const char *const argv[], char **out, char **err);

/* Monotonic clock in microseconds. */
uint64_t bh_now_usec(void);

/* Prints the standard --version line for prog. */
void bh_print_version(const char *prog);

/* A path that is safe on a kernel command line and as a mount point: absolute,
 * not "/", shorter than max, made of [A-Za-z0-9._/+@-] only, without empty,
 * "." or ".." parts (a host folder's place in the guest). */
bool bh_path_is_plain(const char *path, size_t max);

/* Whether s (from a guest, to be shown to the user) has no control
 * characters; NULL is not text. */
bool bh_text_printable(const char *s);

#endif
