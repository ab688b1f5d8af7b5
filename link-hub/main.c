/* bulkhead-link-hub: one link's switch. It holds one loopback UDP socket per
 * member, bound to the port that member's qemu sends to and connected to
 * the port it receives on, so the kernel hands it only that qemu's
 * datagrams; each frame is checked and switched by link-hub/hub.c. It
 * starts in the foreground, answers with its exit status whether it could
 * bind everything, then goes on alone in the background under a seccomp
 * filter, and ends when no member has run for a while. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/log.h"
#include "common/util.h"
#include "link-hub/hub.h"

/* Exit statuses the starter (vm/link_hub.c) tells apart. */
#define EXIT_RUNS 3       /* another hub holds the link's lock */
#define EXIT_FORBIDDEN 70 /* a system call outside the filter */

/* Members are probed every ROUND_SEC; with none alive for IDLE_ROUNDS in a
 * row, and not in the first GRACE_SEC (the first member's qemu is being
 * started), the hub ends. */
#define ROUND_SEC 5
#define IDLE_ROUNDS 3
#define GRACE_SEC 30

struct member_state {
	int fd;
	bool alive;                   /* heard from, or not refused, in this round */
	bool refused;                 /* its port refused a datagram in this round */
	struct bh_hub_log_budget log; /* lines its bad frames may cause */
};

static struct bh_hub hub;
static struct member_state state[BH_LINK_MEMBERS_MAX];
static const char *link_name = "?";

/* The tag is any string: logged on one line. */
static void printable(const char *in, char *out, size_t size)
{
	size_t o = 0;
	for (; *in != '\0' && o + 1 < size; in++) {
		out[o++] = (unsigned char)*in < 0x20 || *in == 0x7f ? '?' : *in;
	}
	out[o] = '\0';
}

static void log_bad_frame(unsigned from, size_t len, const char *why)
{
	unsigned long suppressed = 0;
	if (!bh_hub_log_allow(&state[from].log, bh_now_usec(), &suppressed)) {
		return;
	}
	char tag[BH_TAG_MAX + 1];
	printable(hub.members[from].tag, tag, sizeof(tag));
	if (suppressed > 0) {
		bh_log(BH_LOG_WARN,
			"link %s: %lu more bad frames from tag %s were dropped unlogged", link_name,
			suppressed, tag);
	}
	bh_log(BH_LOG_WARN, "link %s: dropped a frame of %zu bytes from tag %s: %s", link_name, len,
		tag, why);
}

static void note_error(unsigned i, int err)
{
	if (err == ECONNREFUSED) {
		state[i].refused = true;
	}
}

/* What member i sent, until its socket is empty (at most a burst, so that
 * one member cannot starve the others). */
static void read_member(unsigned i)
{
	static uint8_t frame[BH_HUB_FRAME_MAX + 1];
	for (int burst = 0; burst < 64; burst++) {
		/* MSG_TRUNC: the datagram's real length, so that one longer than
		 * the buffer is seen as too long, not cut to fit. */
		ssize_t n = recv(state[i].fd, frame, sizeof(frame), MSG_TRUNC);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				note_error(i, errno);
			}
			return;
		}
		state[i].alive = true;
		const char *why;
		uint32_t to = bh_hub_route(&hub, i, frame, (size_t)n, &why);
		if (to == 0 && why != NULL) {
			log_bad_frame(i, (size_t)n, why);
			continue;
		}
		for (unsigned k = 0; k < hub.count; k++) {
			if ((to & (1u << k)) && send(state[k].fd, frame, (size_t)n, 0) < 0) {
				/* A member that is down, or a full queue: the frame
				 * is lost, as on a cable. */
				note_error(k, errno);
			}
		}
	}
}

/* A frame that tells whether a member's qemu is there: its port refuses it
 * when not. Sent to a MAC no member has, so a guest's card filters it out,
 * with the IEEE's local experimental type. */
static void probe_all(void)
{
	uint8_t probe[60] = {0x0e, 0, 0, 0, 0, 0, 0x0e, 0, 0, 0, 0, 0, 0x88, 0xb5};
	for (unsigned i = 0; i < hub.count; i++) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(state[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0) {
			note_error(i, err);
		}
		if (send(state[i].fd, probe, sizeof(probe), 0) < 0) {
			note_error(i, errno);
		}
	}
}

/* Ends a round: who was there. True when anyone was. */
static bool round_end(void)
{
	bool any = false;
	for (unsigned i = 0; i < hub.count; i++) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(state[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0) {
			note_error(i, err);
		}
		bool alive = state[i].alive || !state[i].refused;
		any = any || alive;
		state[i].alive = false;
		state[i].refused = false;
	}
	return any;
}

static void wait_ms(int ms)
{
	uint64_t until = bh_now_usec() + (uint64_t)ms * 1000;
	for (uint64_t now; (now = bh_now_usec()) < until;) {
		poll(NULL, 0, (int)((until - now) / 1000) + 1);
	}
}

static void serve(int start_lock)
{
	struct pollfd fds[BH_LINK_MEMBERS_MAX];
	for (unsigned i = 0; i < hub.count; i++) {
		fds[i] = (struct pollfd){.fd = state[i].fd, .events = POLLIN};
	}
	uint64_t started = bh_now_usec(), next_round = started + ROUND_SEC * 1000000ull;
	unsigned idle = 0;
	probe_all();
	for (;;) {
		uint64_t now = bh_now_usec();
		if (now >= next_round) {
			idle = round_end() ? 0 : idle + 1;
			if (idle >= IDLE_ROUNDS && now - started >= GRACE_SEC * 1000000ull) {
				/* A member being started holds the start lock until
				 * its qemu has bound its port: look once more under
				 * it, and end holding it, so that a start never
				 * counts on a hub that is going. */
				while (flock(start_lock, LOCK_EX) != 0 && errno == EINTR) {
				}
				probe_all();
				wait_ms(200);
				if (!round_end()) {
					bh_log(BH_LOG_INFO, "link %s: no member runs; the hub ends",
						link_name);
					_exit(0);
				}
				flock(start_lock, LOCK_UN);
				idle = 0;
			}
			probe_all();
			next_round = now + ROUND_SEC * 1000000ull;
		}
		int timeout = (int)((next_round - now) / 1000) + 1;
		if (poll(fds, hub.count, timeout) < 0) {
			continue;
		}
		for (unsigned i = 0; i < hub.count; i++) {
			if (fds[i].revents & POLLERR) {
				int err = 0;
				socklen_t len = sizeof(err);
				if (getsockopt(fds[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0) {
					note_error(i, err);
				}
			}
			if (fds[i].revents & POLLIN) {
				read_member(i);
			}
		}
	}
}

/* Async-signal-safe: one line, then the hub ends. */
static char forbidden_line[160];
static size_t forbidden_len;

static void handle_sigsys(int sig)
{
	(void)sig;
	ssize_t n = write(STDERR_FILENO, forbidden_line, forbidden_len);
	(void)n;
	_exit(EXIT_FORBIDDEN);
}

/* What the running hub may do: move datagrams on the sockets it holds,
 * take the start lock it holds open, log to the stderr it holds, keep
 * time and end. No file, no new socket, no process. */
static bool sandbox(void)
{
	forbidden_len = (size_t)snprintf(forbidden_line, sizeof(forbidden_line),
		"bulkhead-link-hub: link %s: a forbidden system call; the hub ends (a bug or an "
		"attack)\n",
		link_name);
	if (forbidden_len >= sizeof(forbidden_line)) {
		forbidden_len = sizeof(forbidden_line) - 1;
	}
	struct sigaction sa = {.sa_handler = handle_sigsys};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0) {
		return false;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (ctx == NULL) {
		return false;
	}
	static const char *const allowed[] = {"poll", "ppoll", "recvfrom", "sendto", "getsockopt",
		"flock", "write", "clock_gettime", "clock_nanosleep", "nanosleep", "brk", "munmap",
		"rt_sigreturn", "restart_syscall", "exit", "exit_group"};
	int rc = 0;
	for (size_t i = 0; i < BH_ARRAY_LEN(allowed) && rc == 0; i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr != __NR_SCMP_ERROR) {
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
			rc = rc == -EDOM ? 0 : rc;
		}
	}
	/* The heap may grow, never into code. */
	if (rc == 0) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	}
	rc = rc == 0 ? seccomp_load(ctx) : rc;
	seccomp_release(ctx);
	return rc == 0;
}

static int open_member(const struct bh_hub_member *m)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in hub_end = {.sin_family = AF_INET,
		.sin_port = htons((uint16_t)m->hub_port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in guest_end = hub_end;
	guest_end.sin_port = htons((uint16_t)m->guest_port);
	/* No SO_REUSEADDR: while the hub runs, nobody else may bind its ports. */
	if (fd < 0 || bind(fd, (struct sockaddr *)&hub_end, sizeof(hub_end)) != 0 ||
		connect(fd, (struct sockaddr *)&guest_end, sizeof(guest_end)) != 0) {
		int err = errno;
		if (fd >= 0) {
			close(fd);
		}
		errno = err;
		return -1;
	}
	return fd;
}

static void usage(FILE *out)
{
	fputs("usage: bulkhead-link-hub --lock PATH --start-lock PATH --log PATH --id ID LINK "
	      "MEMBER...\n"
	      "       bulkhead-link-hub --help | --version\n"
	      "A MEMBER is MAC,GUEST_PORT,HUB_PORT,TAG. Started by bulkhead when a tag on the\n"
	      "link starts; see bulkhead(5), LINKS.\n",
		out);
}

int main(int argc, char *argv[])
{
	bh_log_init("bulkhead-link-hub", BH_LOG_INFO);
	const char *lock_path = NULL, *start_path = NULL, *log_path = NULL, *id = NULL;
	static const struct option options[] = {
		{"lock", required_argument, NULL, 'l'},
		{"start-lock", required_argument, NULL, 's'},
		{"log", required_argument, NULL, 'o'},
		{"id", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		switch (c) {
		case 'l':
			lock_path = optarg;
			break;
		case 's':
			start_path = optarg;
			break;
		case 'o':
			log_path = optarg;
			break;
		case 'i':
			id = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			bh_print_version("bulkhead-link-hub");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (lock_path == NULL || start_path == NULL || log_path == NULL || id == NULL ||
		argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	link_name = argv[optind];
	const char *why;
	if (!bh_link_name_check(link_name, &why)) {
		bh_log(BH_LOG_ERROR, "link %s: %s", link_name, why);
		return 2;
	}
	for (int i = optind + 1; i < argc; i++) {
		struct bh_hub_member m;
		if (!bh_hub_member_parse(argv[i], &m, &why) || !bh_hub_add(&hub, &m, &why)) {
			bh_log(BH_LOG_ERROR, "link %s: member \"%s\": %s", link_name, argv[i], why);
			return 2;
		}
	}
	int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock < 0) {
		bh_log_errno(BH_LOG_ERROR, "link %s: cannot open the hub's lock %s", link_name,
			lock_path);
		return 1;
	}
	if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
		bh_log(BH_LOG_ERROR, "link %s: a hub for it already runs (%s is locked)", link_name,
			lock_path);
		return EXIT_RUNS;
	}
	int start_lock = open(start_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int log = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (start_lock < 0 || log < 0 || null < 0) {
		bh_log_errno(BH_LOG_ERROR, "link %s: cannot open %s, %s or /dev/null", link_name,
			start_path, log_path);
		return 1;
	}
	for (unsigned i = 0; i < hub.count; i++) {
		const struct bh_hub_member *m = &hub.members[i];
		state[i].fd = open_member(m);
		bh_hub_log_budget_init(&state[i].log);
		if (state[i].fd < 0) {
			char tag[BH_TAG_MAX + 1];
			printable(m->tag, tag, sizeof(tag));
			bh_log(BH_LOG_ERROR,
				"link %s: cannot bind 127.0.0.1:%u for tag %s: %s (another program "
				"has the port: rename the link)",
				link_name, m->hub_port, tag, strerror(errno));
			return 1;
		}
	}
	pid_t pid = fork();
	if (pid < 0) {
		bh_log_errno(BH_LOG_ERROR, "link %s: cannot fork", link_name);
		return 1;
	}
	if (pid > 0) {
		/* Who holds the lock, and for which members: a start with other
		 * members replaces this hub. */
		char line[256];
		int n = snprintf(line, sizeof(line), "%ld %s\n", (long)pid, id);
		if (ftruncate(lock, 0) != 0 || n < 0 || (size_t)n >= sizeof(line) ||
			pwrite(lock, line, (size_t)n, 0) != n) {
			bh_log_errno(
				BH_LOG_ERROR, "link %s: cannot write %s", link_name, lock_path);
			kill(pid, SIGTERM);
			return 1;
		}
		return 0;
	}
	setsid();
	if (dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
		dup2(log, STDERR_FILENO) < 0 || chdir("/") != 0) {
		_exit(1);
	}
	close(null);
	close(log);
	setvbuf(stderr, NULL, _IONBF, 0);
	bh_log(BH_LOG_INFO, "link %s: switching between %u members", link_name, hub.count);
	if (!sandbox()) {
		bh_log(BH_LOG_ERROR, "link %s: cannot apply the hub's seccomp filter; it ends",
			link_name);
		_exit(1);
	}
	serve(start_lock);
	return 0;
}
