/* Small helpers every binary needs: fd flags, whole reads and writes, spawning. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
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

void *bh_table_grow(void *table, size_t n, size_t new_n, size_t size)
{
	if (new_n < n) {
		return NULL;
	}
	void *grown = calloc(new_n, size);
	if (grown == NULL) {
		return NULL;
	}
	if (n > 0) {
		memcpy(grown, table, n * size);
	}
	free(table);
	return grown;
}

uint8_t *bh_byte_queue_extend(struct bh_byte_queue *queue, size_t len)
{
	uint8_t *data = realloc(queue->data, queue->len + len + 1);
	if (data == NULL) {
		return NULL;
	}
	queue->data = data;
	queue->len += len;
	return data + queue->len - len;
}

bool bh_byte_queue_write(struct bh_byte_queue *queue, int fd)
{
	size_t done = 0;
	bool ok = true;
	while (done < queue->len) {
		ssize_t n = write(fd, queue->data + done, queue->len - done);
		if (n < 0) {
			ok = errno == EAGAIN || errno == EINTR;
			if (errno != EINTR) {
				break;
			}
			continue;
		}
		done += (size_t)n;
	}
	memmove(queue->data, queue->data + done, queue->len - done);
	queue->len -= done;
	return ok;
}

void bh_byte_queue_finish(struct bh_byte_queue *queue)
{
	free(queue->data);
	queue->data = NULL;
	queue->len = 0;
}

/* Writes "PROG: could not WHAT ARG: ERROR" with async-signal-safe calls only. */
static void child_fail(const char *what, const char *arg, int err)
{
	const char *parts[] = {program_invocation_short_name, ": could not ", what, " ", arg, ": ",
		strerror(err), "\n"};
	for (size_t i = 0; i < BH_ARRAY_LEN(parts); i++) {
		if (write(STDERR_FILENO, parts[i], strlen(parts[i])) < 0) {
			break;
		}
	}
}

/* The child's half of bh_spawn_process, between fork and exec. */
static _Noreturn void spawn_child(const struct bh_spawn_options *opts, char *const envp[])
{
	sigset_t set;
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	/* Nothing we ignore or catch is inherited (an agent started with
	 * SIGINT ignored would make ^C in a guest shell do nothing). */
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP) {
			signal(sig, SIG_DFL);
		}
	}
	if (opts->group == BH_SPAWN_NEW_GROUP) {
		setpgid(0, 0);
	} else if (opts->group == BH_SPAWN_NEW_SESSION) {
		setsid();
	}
	/* An fd that is also another slot's target is moved up first, so no
	 * dup2 below overwrites a source still to be used. */
	int fds[3];
	for (int i = 0; i < 3; i++) {
		fds[i] = opts->stdio[i] == BH_SPAWN_NULL ? open("/dev/null", O_RDWR | O_CLOEXEC)
							 : opts->stdio[i];
		if (fds[i] >= 0 && fds[i] < 3 && fds[i] != i) {
			fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		}
	}
	for (int i = 0; i < 3; i++) {
		if (fds[i] == i) {
			bh_set_cloexec(i, false);
		} else if (fds[i] >= 0) {
			dup2(fds[i], i);
		}
	}
	if (opts->controlling_tty) {
		ioctl(STDIN_FILENO, TIOCSCTTY, 0);
	}
	/* Nothing leaks into the child but stdio and keep_fds, whatever this
	 * process holds without close-on-exec (a proxy must not get the
	 * compositor's stray fds, a guest app not the agent's). */
	if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) != 0) {
		for (int fd = 3; fd < 4096; fd++) {
			fcntl(fd, F_SETFD, FD_CLOEXEC);
		}
	}
	for (size_t i = 0; opts->keep_fds != NULL && opts->keep_fds[i] >= 0; i++) {
		bh_set_cloexec(opts->keep_fds[i], false);
	}
	/* Groups, gid, then uid: once the uid is dropped nothing else can be. */
	const struct bh_spawn_user *user = opts->user;
	if (user != NULL && (setgroups(user->n_groups, user->groups) != 0 ||
				    setgid(user->gid) != 0 || setuid(user->uid) != 0)) {
		child_fail("become the user for", opts->argv[0], errno);
		_exit(126);
	}
	if (opts->cwd != NULL && chdir(opts->cwd) != 0 && chdir("/") != 0) {
		_exit(126);
	}
	execvpe(opts->argv[0], (char *const *)opts->argv, envp);
	child_fail("run", opts->argv[0], errno);
	_exit(127);
}

/* True when entry ("NAME=value") sets a name that one of set[0..n) sets. */
static bool env_overridden(const char *entry, const char *const set[], size_t n)
{
	const char *eq = strchr(entry, '=');
	size_t len = eq != NULL ? (size_t)(eq - entry) + 1 : strlen(entry);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(set[i], entry, len) == 0) {
			return true;
		}
	}
	return false;
}

pid_t bh_spawn_process(const struct bh_spawn_options *opts)
{
	/* The environment is built before the fork: the child only makes
	 * async-signal-safe calls. */
	const char *const *base = opts->env != NULL ? opts->env : (const char *const *)environ;
	char **merged = NULL;
	if (opts->env_set != NULL && opts->env_set[0] != NULL) {
		size_t n = 0, m = 0;
		while (base[n] != NULL) {
			n++;
		}
		while (opts->env_set[m] != NULL) {
			m++;
		}
		merged = calloc(n + m + 1, sizeof(*merged));
		if (merged == NULL) {
			bh_log_errno(
				BH_LOG_ERROR, "no memory for the environment of %s", opts->argv[0]);
			return -1;
		}
		size_t k = 0;
		for (size_t i = 0; i < m; i++) {
			merged[k++] = (char *)opts->env_set[i];
		}
		for (size_t i = 0; i < n; i++) {
			if (!env_overridden(base[i], opts->env_set, m)) {
				merged[k++] = (char *)base[i];
			}
		}
	}
	pid_t pid = fork();
	if (pid == 0) {
		spawn_child(opts, merged != NULL ? merged : (char *const *)base);
	}
	int saved = errno;
	free(merged);
	if (pid < 0) {
		errno = saved;
		bh_log_errno(BH_LOG_ERROR, "fork for %s failed", opts->argv[0]);
		return -1;
	}
	return pid;
}

pid_t bh_spawn(const char *const argv[], const char *const env_set[], const int keep_fds[],
	bool keep_stdio)
{
	const struct bh_spawn_options opts = {
		.argv = argv,
		.env_set = env_set,
		.stdio = {keep_stdio ? BH_SPAWN_INHERIT : BH_SPAWN_NULL, BH_SPAWN_INHERIT,
			BH_SPAWN_INHERIT},
		.keep_fds = keep_fds,
		.group = BH_SPAWN_NEW_GROUP,
	};
	return bh_spawn_process(&opts);
}

pid_t bh_spawn_shell(const char *command, const char *const env_set[], const int keep_fds[],
	bool keep_stdio)
{
	const char *argv[] = {"/bin/sh", "-c", command, NULL};
	return bh_spawn(argv, env_set, keep_fds, keep_stdio);
}

struct buffer {
	char *data;
	size_t len;
};

/* Appends what fd has; false at its end or on an error. */
static bool buffer_read(struct buffer *b, int fd)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	if (n < 0 && errno == EINTR) {
		return true;
	}
	if (n <= 0) {
		return false;
	}
	char *data = realloc(b->data, b->len + (size_t)n + 1);
	if (data == NULL) {
		return false;
	}
	memcpy(data + b->len, chunk, (size_t)n);
	b->data = data;
	b->len += (size_t)n;
	b->data[b->len] = '\0';
	return true;
}

int bh_run_tool(const char *const argv[], char **out, char **err)
{
	int pipes[2][2] = {{-1, -1}, {-1, -1}};
	struct buffer bufs[2] = {0};
	int status = -1;
	if (pipe2(pipes[0], O_CLOEXEC) != 0 || pipe2(pipes[1], O_CLOEXEC) != 0) {
		bh_log_errno(BH_LOG_ERROR, "pipe for %s", argv[0]);
		goto out;
	}
	const struct bh_spawn_options opts = {
		.argv = argv,
		.stdio = {BH_SPAWN_NULL, pipes[0][1], pipes[1][1]},
	};
	pid_t pid = bh_spawn_process(&opts);
	if (pid < 0) {
		goto out;
	}
	close(pipes[0][1]);
	close(pipes[1][1]);
	pipes[0][1] = pipes[1][1] = -1;
	struct pollfd fds[2] = {
		{.fd = pipes[0][0], .events = POLLIN}, {.fd = pipes[1][0], .events = POLLIN}};
	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd >= 0 && fds[i].revents != 0 &&
				!buffer_read(&bufs[i], fds[i].fd)) {
				fds[i].fd = -1;
			}
		}
	}
	int wstatus;
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
	}
	status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
out:
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 2; j++) {
			if (pipes[i][j] >= 0) {
				close(pipes[i][j]);
			}
		}
	}
	char **dest[2] = {out, err};
	for (int i = 0; i < 2; i++) {
		if (dest[i] != NULL) {
			*dest[i] = bufs[i].data != NULL ? bufs[i].data : strdup("");
		} else {
			free(bufs[i].data);
		}
	}
	return status;
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

bool bh_path_is_plain(const char *p, size_t max)
{
	if (p[0] != '/' || p[1] == '\0' || strlen(p) >= max) {
		return false;
	}
	for (const char *c = p; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			    (*c >= '0' && *c <= '9') || strchr("._/+@-", *c) != NULL)) {
			return false;
		}
	}
	for (const char *part = p + 1;;) {
		const char *end = strchr(part, '/');
		size_t n = end != NULL ? (size_t)(end - part) : strlen(part);
		if (n == 0 || (n == 1 && part[0] == '.') ||
			(n == 2 && part[0] == '.' && part[1] == '.')) {
			return false;
		}
		if (end == NULL) {
			return true;
		}
		part = end + 1;
	}
}

bool bh_text_printable(const char *s)
{
	if (s == NULL) {
		return false;
	}
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			return false;
		}
	}
	return true;
}
