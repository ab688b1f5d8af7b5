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

/* Starts argv[0] (searched in PATH) in a new process group with stdin from
 * /dev/null unless keep_stdio. env_set holds "NAME=value" strings to set (NULL
 * ends it; may itself be NULL); keep_fds lists fds (ended by -1, may be NULL)
 * that stay open in the child with CLOEXEC cleared. Returns the pid, or -1
 * with errno set and a logged error. */
pid_t bh_spawn(const char *const argv[], const char *const env_set[], const int keep_fds[],
	bool keep_stdio);
/* The same for a command line run by /bin/sh -c. */
pid_t bh_spawn_shell(const char *command, const char *const env_set[], const int keep_fds[],
	bool keep_stdio);

/* Monotonic clock in microseconds. */
uint64_t bh_now_usec(void);

/* Prints the standard --version line for prog. */
void bh_print_version(const char *prog);

#endif
