/* Commands in the guest: detached launches and exec sessions whose stdio and
 * exit status travel on one channel stream, always as the guest user. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "common/exec_msg.h"
#include "common/le.h"
#include "common/log.h"
#include "common/util.h"
#include "guest-agent/agent.h"

#define STDIN_QUEUE_MAX (1u << 20)

struct exec_session {
	struct wl_list link;
	struct bh_agent *agent;
	struct bh_stream *stream;
	pid_t pid;
	bool started, exited, pty;
	int status;
	int in_fd, out_fd, err_fd; /* -1 when closed; with a pty in_fd == out_fd */
	struct wl_event_source *in_source, *out_source, *err_source;
	struct bh_exec_reader reader; /* what the host sends: parsed, checked */
	struct bh_byte_queue in;      /* for the process's stdin */
	bool in_eof; /* host sent EOF: close stdin once the queue is written */
	bool output_blocked;
};

static struct wl_list sessions = {&sessions, &sessions};

static pid_t spawn(struct bh_agent *agent, const char *const argv[], const int stdio[3],
	bool controlling_tty, const char *const env_set[], const int keep_fds[])
{
	char home[4200], user[300], shell[4200], runtime[4200], display[300], x_display[32];
	snprintf(home, sizeof(home), "HOME=%s", bh_agent_home(agent));
	snprintf(user, sizeof(user), "USER=%s", bh_agent_user_name(agent));
	snprintf(shell, sizeof(shell), "SHELL=%s", bh_agent_shell(agent));
	snprintf(runtime, sizeof(runtime), "XDG_RUNTIME_DIR=%s", bh_agent_runtime_dir(agent));
	snprintf(display, sizeof(display), "WAYLAND_DISPLAY=%s", bh_agent_wayland_display(agent));
	const char *x = bh_agent_x_display(agent);
	snprintf(x_display, sizeof(x_display), "DISPLAY=%s", x != NULL ? x : "");
	const char *const env[] = {home, user, shell, runtime, display,
		"PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin", "LANG=C.UTF-8",
		"TERM=xterm-256color", "XDG_SESSION_TYPE=wayland", x != NULL ? x_display : NULL,
		NULL};
	/* Only root can switch users; an agent run as a user runs as itself. */
	gid_t gid = bh_agent_gid(agent);
	const struct bh_spawn_user guest = {
		.uid = bh_agent_uid(agent), .gid = gid, .groups = &gid, .n_groups = 1};
	bool switch_user = geteuid() == 0;
	if (switch_user && guest.uid == 0) {
		bh_log(BH_LOG_ERROR, "refusing to run %s as root: start the agent with --user",
			argv[0]);
		errno = EPERM;
		return -1;
	}
	/* A launched app writes to the agent's stderr (the guest console,
	 * `bulkheadctl console TAG`), so its failures can be read there. */
	const struct bh_spawn_options opts = {
		.argv = argv,
		.env = env,
		.stdio = {stdio != NULL && stdio[0] >= 0 ? stdio[0] : BH_SPAWN_NULL,
			stdio != NULL && stdio[1] >= 0 ? stdio[1] : STDERR_FILENO,
			stdio != NULL && stdio[2] >= 0 ? stdio[2] : BH_SPAWN_INHERIT},
		.group = BH_SPAWN_NEW_SESSION,
		.controlling_tty = controlling_tty,
		.user = switch_user ? &guest : NULL,
		.cwd = bh_agent_home(agent),
		.env_set = env_set,
		.keep_fds = keep_fds,
	};
	return bh_spawn_process(&opts);
}

pid_t bh_agent_spawn(struct bh_agent *agent, const char *const argv[], const int stdio[3],
	bool controlling_tty)
{
	return spawn(agent, argv, stdio, controlling_tty, NULL, NULL);
}

pid_t bh_agent_spawn_with(struct bh_agent *agent, const char *const argv[], const int stdio[3],
	const char *const env_set[], const int keep_fds[])
{
	return spawn(agent, argv, stdio, false, env_set, keep_fds);
}

/* Launches a shell command line detached from the agent (menu, `run`). */
pid_t bh_agent_launch(struct bh_agent *agent, const char *command)
{
	const char *argv[] = {"/bin/sh", "-c", command, NULL};
	pid_t pid = bh_agent_spawn(agent, argv, NULL, false);
	if (pid > 0) {
		bh_log(BH_LOG_INFO, "launched '%s' as pid %d", command, (int)pid);
	}
	return pid;
}

static void session_update_sources(struct exec_session *s);

static void session_close_fd(struct exec_session *s, int *fd, struct wl_event_source **source)
{
	if (*source != NULL) {
		wl_event_source_remove(*source);
		*source = NULL;
	}
	if (*fd >= 0) {
		/* With a pty stdin and stdout share one fd: close it once. */
		if (!(s->pty && (fd == &s->in_fd ? s->out_fd : s->in_fd) == *fd)) {
			close(*fd);
		}
		*fd = -1;
	}
}

static void session_destroy(struct exec_session *s)
{
	session_close_fd(s, &s->in_fd, &s->in_source);
	session_close_fd(s, &s->out_fd, &s->out_source);
	session_close_fd(s, &s->err_fd, &s->err_source);
	wl_list_remove(&s->link);
	bh_byte_queue_finish(&s->in);
	free(s);
}

/* Sends EXIT and ends the stream once the process is gone and its output
 * has been read to the end, so no byte is lost behind the status. */
static void session_maybe_finish(struct exec_session *s)
{
	if (!s->exited || s->out_fd >= 0 || s->err_fd >= 0) {
		return;
	}
	uint8_t msg[9] = {BH_EXEC_EXIT};
	if (WIFSIGNALED(s->status)) {
		bh_le32_put(msg + 1, 1);
		bh_le32_put(msg + 5, WTERMSIG(s->status));
	} else {
		bh_le32_put(msg + 1, 0);
		bh_le32_put(msg + 5, WEXITSTATUS(s->status));
	}
	bh_stream_send(s->stream, msg, sizeof(msg));
	bh_stream_close(s->stream, NULL);
	session_destroy(s);
}

static int session_handle_output(int fd, uint32_t mask, void *data)
{
	struct exec_session *s = data;
	bool is_err = fd == s->err_fd;
	size_t max = bh_endpoint_max_payload();
	uint8_t buf[65536 + 1];
	if (max > sizeof(buf)) {
		max = sizeof(buf);
	}
	buf[0] = is_err ? BH_EXEC_STDERR : BH_EXEC_STDOUT;
	ssize_t n = read(fd, buf + 1, max - 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return 0;
	}
	if (n <= 0) {
		/* EOF, or EIO on a pty whose last writer is gone. */
		if (is_err) {
			session_close_fd(s, &s->err_fd, &s->err_source);
		} else {
			session_close_fd(s, &s->out_fd, &s->out_source);
			if (s->pty) {
				session_close_fd(s, &s->in_fd, &s->in_source);
			}
		}
		session_maybe_finish(s);
		return 0;
	}
	if (!bh_stream_send(s->stream, buf, (size_t)n + 1)) {
		if (errno != 0 && errno != EAGAIN && bh_stream_pending(s->stream) == 0) {
			return 0;
		}
		/* Over the high-water mark: stop reading until writable(). */
		s->output_blocked = true;
		session_update_sources(s);
	}
	return 0;
}

static int session_handle_input(int fd, uint32_t mask, void *data)
{
	struct exec_session *s = data;
	if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		s->in.len = 0;
	}
	if (!bh_byte_queue_write(&s->in, fd)) {
		/* The process closed its stdin: drop what it will not read. */
		s->in.len = 0;
		s->in_eof = true;
	}
	if (s->in.len < STDIN_QUEUE_MAX / 2) {
		bh_stream_set_paused(s->stream, false);
	}
	if (s->in.len == 0 && s->in_eof && !s->pty) {
		session_close_fd(s, &s->in_fd, &s->in_source);
	}
	session_update_sources(s);
	return 0;
}

static void session_update_sources(struct exec_session *s)
{
	struct wl_event_loop *loop = bh_agent_event_loop(s->agent);
	uint32_t out_mask = s->output_blocked ? 0 : WL_EVENT_READABLE;
	if (s->pty) {
		/* One fd for both directions. */
		uint32_t mask = out_mask | (s->in.len > 0 ? WL_EVENT_WRITABLE : 0);
		if (s->out_source != NULL) {
			wl_event_source_fd_update(s->out_source, mask);
		}
		return;
	}
	if (s->out_source != NULL) {
		wl_event_source_fd_update(s->out_source, out_mask);
	}
	if (s->err_source != NULL) {
		wl_event_source_fd_update(s->err_source, out_mask);
	}
	if (s->in_fd >= 0 && s->in_source == NULL) {
		s->in_source = wl_event_loop_add_fd(loop, s->in_fd, 0, session_handle_input, s);
	}
	if (s->in_source != NULL) {
		wl_event_source_fd_update(s->in_source, s->in.len > 0 ? WL_EVENT_WRITABLE : 0);
	}
}

static int session_handle_pty(int fd, uint32_t mask, void *data)
{
	struct exec_session *s = data;
	if (mask & WL_EVENT_WRITABLE) {
		session_handle_input(fd, mask & ~(WL_EVENT_HANGUP | WL_EVENT_ERROR), s);
		if (s->out_fd < 0) {
			return 0;
		}
	}
	if (mask & (WL_EVENT_READABLE | WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		session_handle_output(fd, mask, s);
	}
	return 0;
}

static void session_error(struct exec_session *s, const char *fmt, const char *arg)
{
	char msg[512];
	msg[0] = BH_EXEC_ERROR;
	int n = snprintf(msg + 1, sizeof(msg) - 1, fmt, arg);
	if (n < 0) {
		n = 0;
	}
	if ((size_t)n > sizeof(msg) - 2) {
		n = sizeof(msg) - 2;
	}
	bh_stream_send(s->stream, msg, (size_t)n + 1);
	bh_stream_close(s->stream, NULL);
	session_destroy(s);
}

/* Runs what a START asked for (read and checked by bh_exec_read). */
static bool session_start(struct exec_session *s, const struct bh_exec_start *start)
{
	char *const *argv = start->argv;
	uint16_t rows = start->rows, cols = start->cols;
	int child[3] = {-1, -1, -1};
	bool spawned = false;
	s->pty = start->flags & BH_EXEC_FLAG_PTY;
	if (s->pty) {
		int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		int slave = -1;
		if (master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0) {
			slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
		}
		if (slave >= 0) {
			struct winsize ws = {.ws_row = rows ? rows : 24, .ws_col = cols ? cols : 80};
			ioctl(master, TIOCSWINSZ, &ws);
			child[0] = child[1] = child[2] = slave;
			s->pid = bh_agent_spawn(s->agent, (const char *const *)argv, child, true);
			close(slave);
			spawned = s->pid > 0;
			s->in_fd = s->out_fd = master;
		} else if (master >= 0) {
			close(master);
		}
	} else {
		int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
		if (pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0 &&
			pipe2(err, O_CLOEXEC) == 0) {
			child[0] = in[0];
			child[1] = out[1];
			child[2] = err[1];
			s->pid = bh_agent_spawn(s->agent, (const char *const *)argv, child, false);
			spawned = s->pid > 0;
		}
		for (int i = 0; i < 3; i++) {
			if (child[i] >= 0) {
				close(child[i]);
			}
		}
		s->in_fd = in[1];
		s->out_fd = out[0];
		s->err_fd = err[0];
		if (!spawned) {
			session_close_fd(s, &s->in_fd, &s->in_source);
			session_close_fd(s, &s->out_fd, &s->out_source);
			session_close_fd(s, &s->err_fd, &s->err_source);
		}
	}
	if (!spawned) {
		session_error(s, "could not start %s", argv[0]);
		return true;
	}
	bh_log(BH_LOG_INFO, "exec session on stream %u: %s (pid %d)", bh_stream_id(s->stream),
		argv[0], (int)s->pid);
	s->started = true;
	struct wl_event_loop *loop = bh_agent_event_loop(s->agent);
	bh_set_nonblock(s->out_fd, true);
	if (s->pty) {
		s->out_source = wl_event_loop_add_fd(loop, s->out_fd, WL_EVENT_READABLE,
			session_handle_pty, s);
	} else {
		bh_set_nonblock(s->in_fd, true);
		bh_set_nonblock(s->err_fd, true);
		s->out_source = wl_event_loop_add_fd(loop, s->out_fd, WL_EVENT_READABLE,
			session_handle_output, s);
		s->err_source = wl_event_loop_add_fd(loop, s->err_fd, WL_EVENT_READABLE,
			session_handle_output, s);
	}
	session_update_sources(s);
	return true;
}

static bool session_handle_data(struct bh_stream *stream, const uint8_t *p, size_t len,
	void *user)
{
	struct exec_session *s = user;
	struct bh_exec_msg msg;
	char err[128];
	if (!bh_exec_read(&s->reader, p, len, &msg, err, sizeof(err))) {
		bh_exec_msg_finish(&msg);
		bh_stream_fail(stream, "%s", err);
		return false;
	}
	switch (msg.type) {
	case BH_EXEC_START: {
		bool ok = session_start(s, &msg.start);
		bh_exec_msg_finish(&msg);
		return ok;
	}
	case BH_EXEC_STDIN:
		if (s->in_eof || s->in_fd < 0) {
			return true; /* the process stopped reading: drop, like a closed pipe */
		}
		if (s->in.len + msg.len > STDIN_QUEUE_MAX * 2) {
			bh_stream_fail(stream, "exec stdin queue over %u bytes", STDIN_QUEUE_MAX * 2);
			return false;
		}
		uint8_t *room = bh_byte_queue_extend(&s->in, msg.len);
		if (room == NULL) {
			bh_stream_fail(stream, "out of memory");
			return false;
		}
		memcpy(room, msg.data, msg.len);
		if (s->in.len >= STDIN_QUEUE_MAX) {
			bh_stream_set_paused(stream, true);
		}
		session_update_sources(s);
		return true;
	case BH_EXEC_EOF:
		s->in_eof = true;
		if (s->pty) {
			/* A terminal's end of input is ^D. */
			uint8_t *eot = bh_byte_queue_extend(&s->in, 1);
			if (eot != NULL) {
				*eot = 4;
			}
		} else if (s->in.len == 0) {
			session_close_fd(s, &s->in_fd, &s->in_source);
		}
		session_update_sources(s);
		return true;
	case BH_EXEC_SIGNAL:
		if (!s->exited) {
			kill(-s->pid, (int)msg.signal);
		}
		return true;
	case BH_EXEC_RESIZE:
		if (s->pty && s->out_fd >= 0) {
			struct winsize ws = {.ws_row = msg.rows, .ws_col = msg.cols};
			ioctl(s->out_fd, TIOCSWINSZ, &ws);
		}
		return true;
	default:
		return false; /* bh_exec_read returns no other type from the host */
	}
}

static void session_handle_closed(struct bh_stream *stream, const char *reason, void *user)
{
	struct exec_session *s = user;
	/* The host went away or hung up: the session's processes go too. */
	if (s->started && !s->exited) {
		kill(-s->pid, SIGHUP);
		kill(-s->pid, SIGCONT);
	}
	session_destroy(s);
}

static void session_handle_writable(struct bh_stream *stream, void *user)
{
	struct exec_session *s = user;
	if (s->output_blocked) {
		s->output_blocked = false;
		session_update_sources(s);
	}
}

static const struct bh_stream_handler session_handler = {
	.data = session_handle_data,
	.closed = session_handle_closed,
	.writable = session_handle_writable,
};

bool bh_agent_exec_open(struct bh_agent *agent, struct bh_stream *stream)
{
	struct exec_session *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return false;
	}
	s->agent = agent;
	s->stream = stream;
	s->in_fd = s->out_fd = s->err_fd = -1;
	bh_exec_reader_init(&s->reader, true);
	wl_list_insert(&sessions, &s->link);
	bh_stream_set_handler(stream, &session_handler, s);
	return true;
}

bool bh_agent_exec_reaped(pid_t pid, int status)
{
	struct exec_session *s;
	wl_list_for_each(s, &sessions, link) {
		if (s->started && s->pid == pid) {
			s->exited = true;
			s->status = status;
			session_maybe_finish(s);
			return true;
		}
	}
	return false;
}
