/* Small helpers every binary needs: fd flags, whole reads and writes, spawning. */
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

bool bh_set_cloexec(int fd, bool cloexec)
{
	int flags = fcntl(fd, F_GETFD);
	if (flags < 0) {
		return false;
	}
	flags = cloexec ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
	return fcntl(fd, F_SETFD, flags) == 0;
}

bool bh_set_nonblock(int fd, bool nonblock)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0) {
		return false;
	}
	flags = nonblock ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, flags) == 0;
}

bool bh_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

bool bh_read_exact(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return false;
		}
		if (n == 0) {
			errno = EPIPE;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

pid_t bh_spawn(const char *const argv[], const char *const env_set[], const int keep_fds[],
	bool keep_stdio)
{
	pid_t pid = fork();
	if (pid < 0) {
		bh_log_errno(BH_LOG_ERROR, "fork for %s failed", argv[0]);
		return -1;
	}
	if (pid > 0) {
		return pid;
	}
	/* Child: only async-signal-safe work until exec, then report failure. */
	setpgid(0, 0);
	sigset_t set;
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	if (!keep_stdio) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
		}
	}
	for (size_t i = 0; env_set && env_set[i]; i++) {
		putenv((char *)env_set[i]);
	}
	/* Nothing leaks into the child but stdio and keep_fds, whatever this
	 * process inherited without close-on-exec itself (a proxy must not get
	 * the compositor's stray fds). */
	if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) != 0) {
		for (int fd = 3; fd < 4096; fd++) {
			fcntl(fd, F_SETFD, FD_CLOEXEC);
		}
	}
	for (size_t i = 0; keep_fds && keep_fds[i] >= 0; i++) {
		bh_set_cloexec(keep_fds[i], false);
	}
	execvp(argv[0], (char *const *)argv);
	bh_log_errno(BH_LOG_ERROR, "could not run %s", argv[0]);
	_exit(127);
}

pid_t bh_spawn_shell(const char *command, const char *const env_set[], const int keep_fds[],
	bool keep_stdio)
{
	const char *argv[] = {"/bin/sh", "-c", command, NULL};
	return bh_spawn(argv, env_set, keep_fds, keep_stdio);
}

uint64_t bh_now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void bh_print_version(const char *prog)
{
	printf("%s %s\n", prog, BH_VERSION);
}
