/* The proxy's sandbox: after start-up a seccomp allowlist leaves it the fds
 * it holds and nothing else, so a guest that takes the proxy over reaches
 * neither the user's files nor other tags (protocols/SANDBOX.md). */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "proxy/sandbox.h"

#include <seccomp.h>

static bool sandbox_wanted(void)
{
	const char *env = getenv("BULKHEAD_PROXY_SANDBOX");
	return env == NULL || strcmp(env, "0") != 0;
}

/* Every call the started proxy makes without argument rules, by what needs
 * it; SANDBOX.md explains each group. Names that do not exist on this
 * architecture are skipped. */
/* clang-format off */
static const char *const allowed_calls[] = {
	/* bytes on the fds it holds: channel, compositor, guest clients,
	 * clipboard pipes, bulkheadctl connections, shm memfds */
	"read", "readv", "pread64", "write", "writev", "pwrite64", "lseek", "close",
	"recvmsg", "recvfrom", "sendmsg", "shutdown", "getsockopt", "accept4",
	"pipe", "pipe2", "dup", "dup2", "dup3", "fstat",
	/* the event loop */
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "poll", "ppoll",
	"timerfd_create", "timerfd_settime", "timerfd_gettime", "signalfd4", "eventfd2",
	/* memory: host shm pools and the heap */
	"memfd_create", "ftruncate", "munmap", "mremap", "madvise", "brk",
	/* what glibc and libwayland do on their own */
	"futex", "set_robust_list", "rseq", "sched_yield", "sched_getaffinity", "getrandom",
	"clock_gettime", "clock_getres", "gettimeofday", "nanosleep", "clock_nanosleep",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "exit", "exit_group",
};
/* clang-format on */

/* Names of the calls by number, looked up before the filter is loaded:
 * the SIGSYS handler may not allocate. */
#define NAMED_CALLS 512
static char *call_names[NAMED_CALLS];
static uint32_t native_arch;
static char stop_prefix[256];
/* --sandbox-check: the number of the call refused, or -1. */
static volatile sig_atomic_t refused_call = -1;

static void append(char *buf, size_t size, size_t *o, const char *s)
{
	for (; *s != '\0' && *o + 1 < size; s++) {
		buf[(*o)++] = *s;
	}
}

static void append_uint(char *buf, size_t size, size_t *o, unsigned long v)
{
	char digits[24];
	size_t n = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0 && *o + 1 < size) {
		buf[(*o)++] = digits[--n];
	}
}

/* Async-signal-safe: one line, then the proxy ends. Its death makes the
 * compositor mark the tag failed, which is what a taken-over proxy
 * deserves, and a missing allowlist entry shows at once in the log. */
static void handle_sigsys(int sig, siginfo_t *info, void *context)
{
	char line[512];
	size_t o = 0;
	append(line, sizeof(line), &o, stop_prefix);
	append_uint(line, sizeof(line), &o, (unsigned long)(unsigned)info->si_syscall);
	if (info->si_arch != native_arch) {
		append(line, sizeof(line), &o, " (of another architecture)");
	} else if (info->si_syscall >= 0 && info->si_syscall < NAMED_CALLS &&
		   call_names[info->si_syscall] != NULL) {
		append(line, sizeof(line), &o, " (");
		append(line, sizeof(line), &o, call_names[info->si_syscall]);
		append(line, sizeof(line), &o, ")");
	}
	append(line, sizeof(line), &o, ": stopping; this is a bug or an attack\n");
	ssize_t n = write(STDERR_FILENO, line, o);
	(void)n;
	_exit(BH_SANDBOX_EXIT_FORBIDDEN);
}

static void handle_sigsys_check(int sig, siginfo_t *info, void *context)
{
	refused_call = info->si_syscall;
}

static void prepare_names(const char *tag)
{
	native_arch = seccomp_arch_native();
	for (int nr = 0; nr < NAMED_CALLS; nr++) {
		if (call_names[nr] == NULL) {
			call_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		}
	}
	/* The tag is any string: the line stays one line. */
	size_t o = 0;
	append(stop_prefix, sizeof(stop_prefix), &o, "bulkhead-proxy: tag ");
	for (const char *p = tag; *p != '\0' && o < 160; p++) {
		stop_prefix[o++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
	}
	append(stop_prefix, sizeof(stop_prefix), &o, ": forbidden system call ");
	stop_prefix[o] = '\0';
}

static int add_rule(
	scmp_filter_ctx ctx, const char *name, unsigned count, const struct scmp_arg_cmp *args)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR) {
		return 0;
	}
	int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, count, args);
	/* A call this architecture does not have (only a libseccomp
	 * pseudo-number) needs no rule. */
	return rc == -EDOM || (rc == -EINVAL && nr < 0) ? 0 : rc;
}

static int add_rules(scmp_filter_ctx ctx)
{
	int rc = 0;
	for (size_t i = 0; i < BH_ARRAY_LEN(allowed_calls) && rc == 0; i++) {
		rc = add_rule(ctx, allowed_calls[i], 0, NULL);
	}
	/* glibc's fstat is newfstatat(fd, "", st, AT_EMPTY_PATH). */
	const struct scmp_arg_cmp empty_path =
		SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH);
	/* Memory, never code: no new executable mappings. */
	const struct scmp_arg_cmp no_exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	/* send() is sendto without an address: only the peer it is connected to. */
	const struct scmp_arg_cmp no_address = SCMP_A4(SCMP_CMP_EQ, 0);
	/* abort() and raise() signal this process, and only it. */
	const struct scmp_arg_cmp own_pid = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid());
	if (rc == 0) {
		rc = add_rule(ctx, "newfstatat", 1, &empty_path);
	}
	if (rc == 0) {
		rc = add_rule(ctx, "mmap", 1, &no_exec);
	}
	if (rc == 0) {
		rc = add_rule(ctx, "mprotect", 1, &no_exec);
	}
	if (rc == 0) {
		rc = add_rule(ctx, "sendto", 1, &no_address);
	}
	if (rc == 0) {
		rc = add_rule(ctx, "tgkill", 1, &own_pid);
	}
	/* fd flags, duplicates and memfd seals; not F_SETOWN or F_SETSIG, with
	 * which I/O on an fd would signal any process of the user. */
	static const char *const fcntl_names[] = {"fcntl", "fcntl64"};
	static const int fcntl_commands[] = {F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD,
		F_DUPFD_CLOEXEC, F_ADD_SEALS, F_GET_SEALS};
	for (size_t i = 0; i < BH_ARRAY_LEN(fcntl_commands) && rc == 0; i++) {
		const struct scmp_arg_cmp command = SCMP_A1(SCMP_CMP_EQ, fcntl_commands[i]);
		for (size_t n = 0; n < BH_ARRAY_LEN(fcntl_names) && rc == 0; n++) {
			rc = add_rule(ctx, fcntl_names[n], 1, &command);
		}
	}
	return rc;
}

/* Loads the filter on every thread; check: SIGSYS only records the call. */
static bool sandbox_apply(const char *tag, bool check, char *err, size_t err_size)
{
	prepare_names(tag);
	struct sigaction sa = {.sa_flags = SA_SIGINFO};
	sa.sa_sigaction = check ? handle_sigsys_check : handle_sigsys;
	sigemptyset(&sa.sa_mask);
	sigset_t sigsys;
	sigemptyset(&sigsys);
	sigaddset(&sigsys, SIGSYS);
	if (sigaction(SIGSYS, &sa, NULL) != 0 || sigprocmask(SIG_UNBLOCK, &sigsys, NULL) != 0) {
		snprintf(err, err_size, "cannot handle SIGSYS: %s", strerror(errno));
		return false;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, err_size, "cannot set no_new_privs: %s", strerror(errno));
		return false;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (ctx == NULL) {
		snprintf(err, err_size, "cannot make a seccomp filter");
		return false;
	}
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	const char *step = "ask for it on every thread";
	if (rc == 0) {
		step = "refuse other architectures' calls";
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	}
	if (rc == 0) {
		step = "build the allowlist";
		rc = add_rules(ctx);
	}
	if (rc == 0) {
		step = "load it";
		rc = seccomp_load(ctx);
	}
	seccomp_release(ctx);
	if (rc != 0) {
		snprintf(err, err_size, "cannot %s: %s", step, strerror(-rc));
		return false;
	}
	return true;
}

bool bh_sandbox_enter(const char *tag)
{
	if (!sandbox_wanted()) {
		bh_log(BH_LOG_WARN,
			"tag %s: the proxy runs without its sandbox (BULKHEAD_PROXY_SANDBOX=0): a "
			"guest that takes it over can reach your files; only for debugging",
			tag);
		return true;
	}
	/* strerror() and libvirt's messages would look for translation catalogs
	 * in another locale, and files are out of reach from here on. */
	setlocale(LC_ALL, "C");
	char err[256];
	if (!sandbox_apply(tag, false, err, sizeof(err))) {
		bh_log(BH_LOG_ERROR,
			"tag %s: the proxy cannot enter its sandbox (%s); it stops rather than "
			"run unprotected (BULKHEAD_PROXY_SANDBOX=0 runs it without, for debugging)",
			tag, err);
		return false;
	}
	bh_log(BH_LOG_DEBUG, "tag %s: the proxy is sandboxed", tag);
	return true;
}

/* ---- bulkhead-proxy --sandbox-check ---- */

enum {
	ATTEMPT_REFUSED = 10, /* SIGSYS: the filter refused the call */
	ATTEMPT_REACHED,      /* the call reached the kernel */
	ATTEMPT_FAILED,       /* an allowed call reached it and failed */
};

static char check_dir[64];
static pid_t check_parent;

static void try_open(void)
{
	syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
}

static void try_execve(void)
{
	char *const argv[] = {"true", NULL};
	char *const envp[] = {NULL};
	execve("/bin/true", argv, envp);
}

static void try_socket_inet(void)
{
	socket(AF_INET, SOCK_STREAM, 0);
}

static void try_socket_unix(void)
{
	socket(AF_UNIX, SOCK_STREAM, 0);
}

static void try_mkdir(void)
{
	mkdir(check_dir, 0700);
}

static void try_kill(void)
{
	kill(check_parent, 0);
}

static void try_setown(void)
{
	fcntl(STDERR_FILENO, F_SETOWN, check_parent);
}

static const struct {
	const char *what;
	void (*run)(void);
} forbidden[] = {
	{"open /etc/passwd (openat)", try_open},
	{"execve /bin/true", try_execve},
	{"socket(AF_INET, SOCK_STREAM)", try_socket_inet},
	{"socket(AF_UNIX, SOCK_STREAM) (the keeper connects)", try_socket_unix},
	{"mkdir in /tmp", try_mkdir},
	{"kill(another process, 0)", try_kill},
	{"fcntl(F_SETOWN) (I/O would signal another process)", try_setown},
};

/* The allowed control: what a host shm pool needs. */
static bool try_memfd(void)
{
	int fd = memfd_create("bulkhead-sandbox-check", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 4096) != 0 || pwrite(fd, "pool", 4, 0) != 4 ||
		write(fd, "data", 4) != 4) {
		return false;
	}
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	bool ok = p != MAP_FAILED && memcmp(p, "data", 4) == 0;
	if (p != MAP_FAILED) {
		munmap(p, 4096);
	}
	close(fd);
	return ok;
}

/* Runs one attempt in a sandboxed child; returns its exit status. */
static int run_attempt(void (*run)(void), bool (*control)(void))
{
	pid_t pid = fork();
	if (pid < 0) {
		return -1;
	}
	if (pid == 0) {
		char err[256];
		if (!sandbox_apply("sandbox-check", true, err, sizeof(err))) {
			fprintf(stderr, "bulkhead-proxy: cannot apply the sandbox: %s\n", err);
			_exit(1);
		}
		bool ok = true;
		if (run != NULL) {
			run();
		} else {
			ok = control();
		}
		_exit(refused_call >= 0 ? ATTEMPT_REFUSED : ok ? ATTEMPT_REACHED : ATTEMPT_FAILED);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			return -1;
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A forbidden call in a running proxy: one line on stderr, status 70. */
static bool check_stop(void)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		return false;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		char err[256];
		if (sandbox_apply("sandbox-check", false, err, sizeof(err))) {
			try_open();
		}
		_exit(1);
	}
	close(pipefd[1]);
	char line[600];
	size_t len = 0;
	ssize_t n;
	while (len + 1 < sizeof(line) &&
		(n = read(pipefd[0], line + len, sizeof(line) - 1 - len)) != 0) {
		if (n < 0 && errno != EINTR) {
			break;
		}
		len += n > 0 ? (size_t)n : 0;
	}
	line[len] = '\0';
	close(pipefd[0]);
	int status = 0;
	bool waited = pid > 0 && waitpid(pid, &status, 0) == pid;
	line[strcspn(line, "\n")] = '\0';
	bool ok =
		waited && WIFEXITED(status) && WEXITSTATUS(status) == BH_SANDBOX_EXIT_FORBIDDEN &&
		strstr(line, "bulkhead-proxy: tag sandbox-check: forbidden system call") == line &&
		strstr(line, "(openat)") != NULL;
	printf("a forbidden call in a running proxy: %s (status %d: %s)\n",
		ok ? "stops it" : "DOES NOT STOP IT", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		line);
	return ok;
}

int bh_sandbox_check(void)
{
	check_parent = getpid();
	snprintf(check_dir, sizeof(check_dir), "/tmp/bulkhead-sandbox-check.%ld", (long)getpid());
	bool all = true;
	for (size_t i = 0; i < BH_ARRAY_LEN(forbidden); i++) {
		int r = run_attempt(forbidden[i].run, NULL);
		if (r == ATTEMPT_REFUSED) {
			printf("%s: refused\n", forbidden[i].what);
		} else {
			printf("%s: ALLOWED (%s %d)\n", forbidden[i].what,
				r == ATTEMPT_REACHED ? "the call reached the kernel, status"
						     : "the process ended with status",
				r);
			all = false;
		}
		fflush(stdout);
	}
	rmdir(check_dir);
	int r = run_attempt(NULL, try_memfd);
	printf("memfd_create, write, mmap (allowed): %s\n", r == ATTEMPT_REACHED   ? "works"
							    : r == ATTEMPT_REFUSED ? "REFUSED"
										   : "FAILED");
	all = all && r == ATTEMPT_REACHED;
	fflush(stdout);
	all = check_stop() && all;
	return all ? EXIT_SUCCESS : EXIT_FAILURE;
}
