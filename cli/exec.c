/* The client side of `bulkheadctl exec|run|shell`: speaks the channel
 * protocol to the tag's proxy over its control socket (CONTROL.md). */
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "cli/cli.h"
#include "cli/exec.h"
#include "common/endpoint.h"
#include "common/exec_msg.h"
#include "common/log.h"
#include "common/util.h"
#include "vm/paths.h"

/* ---- the connection to the proxy ---- */

static bool conn_handle_control(struct bh_endpoint *endpoint, uint32_t type,
	const uint8_t *payload, size_t len, void *user)
{
	struct bh_cli_conn *conn = user;
	if (type != BH_CTL_LAUNCHED || conn->launched == NULL) {
		return false;
	}
	struct bh_msg_reader r;
	bh_msg_reader_init(&r, payload, len);
	bh_msg_get_u32(&r); /* our request id: one request per connection */
	int32_t pid = (int32_t)bh_msg_get_u32(&r);
	char *error = bh_msg_get_str(&r, 512);
	bool ok = bh_msg_end(&r);
	if (ok) {
		conn->launched(conn, pid, error);
	}
	free(error);
	return ok;
}

static bool conn_handle_open(struct bh_endpoint *endpoint, struct bh_stream *stream,
	enum bh_stream_kind kind, void *user)
{
	return false;
}

static void conn_handle_disconnected(struct bh_endpoint *endpoint, const char *reason, void *user)
{
	struct bh_cli_conn *conn = user;
	if (!conn->done) {
		bh_cli_tag_error(conn->tag,
			"lost the connection to its proxy (%s); check the tag with `bulkheadctl "
			"tags`",
			reason);
		conn->status = 255;
	}
	conn->done = true;
	conn->endpoint = NULL;
	bh_endpoint_destroy(endpoint);
}

static const struct bh_endpoint_listener conn_listener = {
	.control = conn_handle_control,
	.open = conn_handle_open,
	.disconnected = conn_handle_disconnected,
};

static int connect_control(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

bool bh_cli_conn_open(struct bh_cli_conn *conn, const char *tag)
{
	conn->tag = tag;
	conn->status = -1;
	signal(SIGPIPE, SIG_IGN);
	bh_log_init("bulkheadctl", BH_LOG_ERROR);
	char path[4096];
	const char *why = NULL;
	if (!bh_paths_control_socket(tag, path, sizeof(path), &why)) {
		bh_cli_tag_error(tag, "cannot find its control socket: %s", why);
		return false;
	}
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		bh_cli_tag_error(tag,
			"its control socket path %s is too long for a unix socket; use a shorter "
			"XDG_RUNTIME_DIR",
			path);
		return false;
	}
	strcpy(addr.sun_path, path);
	int fd = connect_control(&addr);
	if (fd < 0) {
		/* No proxy: only the compositor starts one (it owns them). */
		if (!bh_cli_in_session()) {
			bh_cli_tag_error(tag,
				"not running, and only a bulkhead session can start its proxy "
				"(BULKHEAD_SOCKET is not set); run this in a terminal of the "
				"session");
			return false;
		}
		if (bh_cli_session_start(tag, bh_cli_session_timeout(tag), true, NULL) != 0) {
			return false;
		}
		fd = connect_control(&addr);
		if (fd < 0) {
			bh_cli_tag_error(tag,
				"it runs, but its proxy's control socket %s does not answer (%s); "
				"see the session's log",
				path, strerror(errno));
			return false;
		}
	}
	conn->loop = wl_event_loop_create();
	if (conn->loop == NULL) {
		close(fd);
		return false;
	}
	conn->endpoint = bh_endpoint_create(conn->loop, fd, BH_ENDPOINT_GUEST, &conn_listener, conn);
	return conn->endpoint != NULL;
}

void bh_cli_conn_run(struct bh_cli_conn *conn)
{
	for (;;) {
		/* Writes queued outside a dispatch happen in idle callbacks: run
		 * them before deciding whether anything is left to wait for. */
		wl_event_loop_dispatch_idle(conn->loop);
		if (conn->done &&
			(conn->endpoint == NULL || bh_endpoint_pending(conn->endpoint) == 0)) {
			break;
		}
		if (wl_event_loop_dispatch(conn->loop, -1) < 0 && errno != EINTR) {
			break;
		}
	}
}

void bh_cli_conn_close(struct bh_cli_conn *conn)
{
	bh_endpoint_destroy(conn->endpoint);
	conn->endpoint = NULL;
	if (conn->loop != NULL) {
		wl_event_loop_destroy(conn->loop);
		conn->loop = NULL;
	}
}

/* ---- exec and shell ---- */

struct exec_session {
	struct bh_cli_conn conn;
	struct bh_stream *stream;
	struct bh_exec_reader reader; /* what the guest sends: parsed, checked */
	bool pty;
	struct wl_event_source *stdin_source;
	bool stdin_blocked;
	/* Output not yet written to our stdout/stderr (a slow pipe reader). */
	struct bh_byte_queue out[2];
	struct wl_event_source *out_source[2];
	int signals; /* termination signals received */
};

static void update_stdin(struct exec_session *s)
{
	if (s->stdin_source != NULL) {
		wl_event_source_fd_update(s->stdin_source, s->stdin_blocked ? 0 : WL_EVENT_READABLE);
	}
}

static void send_eof(struct exec_session *s)
{
	uint8_t eof = BH_EXEC_EOF;
	if (s->stream != NULL) {
		bh_stream_send(s->stream, &eof, 1);
	}
}

static int handle_stdin(int fd, uint32_t mask, void *data)
{
	struct exec_session *s = data;
	uint8_t buf[32 * 1024 + 1];
	buf[0] = BH_EXEC_STDIN;
	ssize_t n = read(fd, buf + 1, sizeof(buf) - 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return 0;
	}
	if (n <= 0) {
		send_eof(s);
		wl_event_source_remove(s->stdin_source);
		s->stdin_source = NULL;
		return 0;
	}
	if (s->stream != NULL && !bh_stream_send(s->stream, buf, (size_t)n + 1) &&
		errno == EAGAIN) {
		s->stdin_blocked = true;
		update_stdin(s);
	}
	return 0;
}

static int handle_output_writable(int fd, uint32_t mask, void *data);

/* Writes guest output to our stdout/stderr without blocking the loop; while
 * our reader is slow the guest stream is paused. */
static bool output(struct exec_session *s, int which, const uint8_t *p, size_t len)
{
	int fd = which == 0 ? STDOUT_FILENO : STDERR_FILENO;
	if (s->out[which].len == 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return errno == EPIPE; /* reader gone: drop like a closed pipe */
		}
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
	}
	if (len == 0) {
		return true;
	}
	uint8_t *room = bh_byte_queue_extend(&s->out[which], len);
	if (room == NULL) {
		return false;
	}
	memcpy(room, p, len);
	if (s->out_source[which] == NULL) {
		s->out_source[which] = wl_event_loop_add_fd(s->conn.loop, fd, WL_EVENT_WRITABLE,
			handle_output_writable, s);
	}
	bh_stream_set_paused(s->stream, true);
	return true;
}

static int handle_output_writable(int fd, uint32_t mask, void *data)
{
	struct exec_session *s = data;
	int which = fd == STDOUT_FILENO ? 0 : 1;
	if (!bh_byte_queue_write(&s->out[which], fd)) {
		s->out[which].len = 0; /* our reader is gone: drop like a closed pipe */
	}
	if (s->out[which].len == 0) {
		wl_event_source_remove(s->out_source[which]);
		s->out_source[which] = NULL;
		if (s->stream != NULL && s->out[1 - which].len == 0) {
			bh_stream_set_paused(s->stream, false);
		}
	}
	return 0;
}

static bool session_handle_data(struct bh_stream *stream, const uint8_t *p, size_t len,
	void *user)
{
	struct exec_session *s = user;
	struct bh_exec_msg msg;
	char err[128];
	if (!bh_exec_read(&s->reader, p, len, &msg, err, sizeof(err))) {
		bh_exec_msg_finish(&msg);
		bh_stream_fail(stream, "the guest broke the session: %s", err);
		return false;
	}
	switch (msg.type) {
	case BH_EXEC_STDOUT:
		return output(s, 0, msg.data, msg.len);
	case BH_EXEC_STDERR:
		return output(s, 1, msg.data, msg.len);
	case BH_EXEC_EXIT:
		s->conn.status = msg.how == 0 ? (int)(msg.code & 0xff) : 128 + (int)(msg.code & 0x7f);
		return true;
	case BH_EXEC_ERROR:
		bh_cli_tag_error(s->conn.tag, "%.*s", (int)msg.len, (const char *)msg.data);
		s->conn.status = 127;
		return true;
	default:
		return false; /* bh_exec_read returns no other type from the guest */
	}
}

static void session_handle_closed(struct bh_stream *stream, const char *reason, void *user)
{
	struct exec_session *s = user;
	s->stream = NULL;
	s->conn.done = true;
	if (reason != NULL) {
		bh_cli_tag_error(s->conn.tag, "the session ended: %s", reason);
		/* Broken after an exit status too: that status is not to be
		 * trusted, so it is not passed on. */
		s->conn.status = 255;
	}
}

static void session_handle_writable(struct bh_stream *stream, void *user)
{
	struct exec_session *s = user;
	s->stdin_blocked = false;
	update_stdin(s);
}

static const struct bh_stream_handler session_handler = {
	.data = session_handle_data,
	.closed = session_handle_closed,
	.writable = session_handle_writable,
};

/* SIGINT/SIGTERM/SIGHUP go to the guest command's process group; a second
 * one gives up on it (the guest session is hung up). */
static int handle_terminate(int sig, void *data)
{
	struct exec_session *s = data;
	if (s->stream == NULL) {
		return 0;
	}
	if (++s->signals > 1) {
		s->conn.status = 128 + sig;
		bh_stream_close(s->stream, NULL);
		s->stream = NULL;
		s->conn.done = true;
		return 0;
	}
	struct bh_msg msg;
	bh_msg_init(&msg, BH_EXEC_SIGNAL);
	bh_msg_u32(&msg, (uint32_t)sig);
	bh_stream_send(s->stream, msg.buf, msg.len);
	return 0;
}

static void send_window_size(struct exec_session *s)
{
	struct winsize ws;
	if (s->stream == NULL || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) != 0) {
		return;
	}
	struct bh_msg msg;
	bh_msg_init(&msg, BH_EXEC_RESIZE);
	bh_msg_u16(&msg, ws.ws_row);
	bh_msg_u16(&msg, ws.ws_col);
	bh_stream_send(s->stream, msg.buf, msg.len);
}

static int handle_winch(int sig, void *data)
{
	send_window_size(data);
	return 0;
}

/* stdin is a regular file or /dev/null (epoll refuses those): send it as
 * fast as the stream takes it, then EOF. */
static void send_file_stdin(struct exec_session *s)
{
	uint8_t buf[32 * 1024 + 1];
	buf[0] = BH_EXEC_STDIN;
	ssize_t n;
	while (s->stream != NULL && (n = read(STDIN_FILENO, buf + 1, sizeof(buf) - 1)) > 0) {
		/* false with EAGAIN: queued, but over the high-water mark. */
		if (!bh_stream_send(s->stream, buf, (size_t)n + 1) && errno != EAGAIN) {
			break;
		}
		wl_event_loop_dispatch_idle(s->conn.loop); /* the queued writes */
		while (s->stream != NULL &&
			bh_stream_pending(s->stream) > BH_ENDPOINT_STREAM_LOW_WATER) {
			wl_event_loop_dispatch(s->conn.loop, -1);
		}
	}
	send_eof(s);
}

static int exec_command(const char *tag, int argc, char *argv[], bool pty)
{
	struct exec_session s = {.pty = pty};
	bh_exec_reader_init(&s.reader, false);
	if (!bh_cli_conn_open(&s.conn, tag)) {
		bh_cli_conn_close(&s.conn);
		return 255;
	}
	struct winsize ws = {0};
	if (pty) {
		ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
	}
	struct bh_msg msg;
	bh_msg_init(&msg, BH_EXEC_START);
	bh_msg_u32(&msg, pty ? BH_EXEC_FLAG_PTY : 0);
	bh_msg_u16(&msg, ws.ws_row);
	bh_msg_u16(&msg, ws.ws_col);
	bh_msg_u32(&msg, (uint32_t)argc);
	for (int i = 0; i < argc; i++) {
		bh_msg_str(&msg, argv[i]);
	}
	if (!msg.ok) {
		bh_cli_tag_error(tag, "the command line is too long (64 KiB at most); pass long "
				      "input on stdin");
		bh_cli_conn_close(&s.conn);
		return 255;
	}
	s.stream = bh_endpoint_open_stream(s.conn.endpoint, BH_STREAM_EXEC, &session_handler, &s);
	if (s.stream == NULL || !bh_stream_send(s.stream, msg.buf, msg.len)) {
		bh_cli_conn_close(&s.conn);
		return 255;
	}
	struct wl_event_source *signals[4] = {
		wl_event_loop_add_signal(s.conn.loop, SIGINT, handle_terminate, &s),
		wl_event_loop_add_signal(s.conn.loop, SIGTERM, handle_terminate, &s),
		wl_event_loop_add_signal(s.conn.loop, SIGHUP, handle_terminate, &s),
		pty ? wl_event_loop_add_signal(s.conn.loop, SIGWINCH, handle_winch, &s) : NULL,
	};
	/* A shell gets our keys as they are typed: ^C, ^D and arrows go to the
	 * guest's terminal, not to us. */
	struct termios saved;
	bool raw = pty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(STDIN_FILENO, TCSADRAIN, &t);
	}
	bh_set_nonblock(STDOUT_FILENO, true);
	bh_set_nonblock(STDERR_FILENO, true);
	s.stdin_source = wl_event_loop_add_fd(s.conn.loop, STDIN_FILENO, WL_EVENT_READABLE,
		handle_stdin, &s);
	if (s.stdin_source == NULL) {
		send_file_stdin(&s);
	}
	bh_cli_conn_run(&s.conn);
	/* What the guest wrote before it ended still goes out. */
	while (s.out[0].len > 0 || s.out[1].len > 0) {
		if (wl_event_loop_dispatch(s.conn.loop, -1) < 0 && errno != EINTR) {
			break;
		}
	}
	if (raw) {
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
	}
	bh_set_nonblock(STDOUT_FILENO, false);
	bh_set_nonblock(STDERR_FILENO, false);
	for (int i = 0; i < 4; i++) {
		if (signals[i] != NULL) {
			wl_event_source_remove(signals[i]);
		}
	}
	for (int i = 0; i < 2; i++) {
		if (s.out_source[i] != NULL) {
			wl_event_source_remove(s.out_source[i]);
		}
		bh_byte_queue_finish(&s.out[i]);
	}
	if (s.stdin_source != NULL) {
		wl_event_source_remove(s.stdin_source);
	}
	bh_cli_conn_close(&s.conn);
	return s.conn.status < 0 ? 255 : s.conn.status;
}

static int parse_tag_and_command(int argc, char *argv[], const char **tag, int *cmd_index)
{
	if (argc < 2) {
		return -1;
	}
	*tag = argv[1];
	int i = 2;
	if (i < argc && strcmp(argv[i], "--") == 0) {
		i++;
	}
	*cmd_index = i;
	return i < argc ? 0 : -1;
}

int bh_cli_exec_argv(const char *tag, int argc, char *argv[])
{
	return exec_command(tag, argc, argv, false);
}

int bh_cli_exec(int argc, char *argv[])
{
	const char *tag;
	int i;
	if (parse_tag_and_command(argc, argv, &tag, &i) < 0) {
		return bh_cli_usage(NULL);
	}
	return exec_command(tag, argc - i, argv + i, false);
}

int bh_cli_shell(int argc, char *argv[])
{
	if (argc != 2) {
		return bh_cli_usage(NULL);
	}
	/* The agent sets SHELL to the guest user's login shell. */
	char *shell_argv[] = {"/bin/sh", "-c", "exec \"${SHELL:-/bin/sh}\" -l", NULL};
	return exec_command(argv[1], 3, shell_argv, true);
}

/* ---- run ---- */

/* Appends arg to out as one shell word ('...' with ' written '\''). */
static bool append_quoted(char *out, size_t size, size_t *o, const char *arg)
{
	if (*o + 1 >= size) {
		return false;
	}
	out[(*o)++] = '\'';
	for (const char *p = arg; *p; p++) {
		const char *piece = *p == '\'' ? "'\\''" : NULL;
		size_t n = piece != NULL ? 4 : 1;
		if (*o + n + 1 >= size) {
			return false;
		}
		if (piece != NULL) {
			memcpy(out + *o, piece, n);
		} else {
			out[*o] = *p;
		}
		*o += n;
	}
	if (*o + 2 >= size) {
		return false;
	}
	out[(*o)++] = '\'';
	out[*o] = '\0';
	return true;
}

static void run_handle_launched(struct bh_cli_conn *conn, int32_t pid, const char *error)
{
	if (pid > 0) {
		printf("%d\n", (int)pid);
		conn->status = 0;
	} else {
		bh_cli_tag_error(conn->tag, "could not launch the command: %s", error);
		conn->status = 1;
	}
	conn->done = true;
}

int bh_cli_run(int argc, char *argv[])
{
	if (argc >= 2 && strcmp(argv[1], "--disposable") == 0) {
		return bh_cli_run_disposable(argc - 1, argv + 1);
	}
	const char *tag;
	int i;
	if (parse_tag_and_command(argc, argv, &tag, &i) < 0) {
		return bh_cli_usage(NULL);
	}
	/* LAUNCH takes one shell command line (as the menu's launches do):
	 * each argument becomes one quoted word, so it arrives as given. */
	char command[16 * 1024];
	size_t o = 0;
	command[0] = '\0';
	for (int k = i; k < argc; k++) {
		bool fits = o + 1 < sizeof(command);
		if (fits && k > i) {
			command[o++] = ' ';
		}
		if (!fits || !append_quoted(command, sizeof(command), &o, argv[k])) {
			bh_cli_tag_error(tag, "the command line is too long (16 KiB at most)");
			return 2;
		}
	}
	/* A tag that is not running yet is started by the compositor, which
	 * launches the command once its VM is ready (no pid to print then;
	 * the tag's proxy only exists once it runs). */
	char sock[4096];
	const char *session = getenv("BULKHEAD_SOCKET");
	if (session != NULL && session[0] != '\0' &&
		(!bh_paths_control_socket(tag, sock, sizeof(sock), NULL) ||
			access(sock, F_OK) != 0)) {
		json_object *req = json_object_new_object();
		json_object_object_add(req, "cmd", json_object_new_string("run"));
		json_object_object_add(req, "tag", json_object_new_string(tag));
		json_object_object_add(req, "command", json_object_new_string(command));
		json_object *reply = bh_cli_ipc_call(req, false);
		if (reply == NULL) {
			return 1;
		}
		json_object_put(reply);
		bh_cli_note("tag %s: starting; the command opens when its VM is ready (see "
			    "`bulkheadctl tags`)",
			tag);
		return 0;
	}
	struct bh_cli_conn conn = {.launched = run_handle_launched};
	if (!bh_cli_conn_open(&conn, tag)) {
		bh_cli_conn_close(&conn);
		return 1;
	}
	struct bh_msg msg;
	bh_msg_init(&msg, 0);
	bh_msg_u32(&msg, 1);
	bh_msg_str(&msg, command);
	if (!bh_endpoint_send_control(conn.endpoint, BH_CTL_LAUNCH, msg.buf, msg.len)) {
		bh_cli_conn_close(&conn);
		return 1;
	}
	bh_cli_conn_run(&conn);
	bh_cli_conn_close(&conn);
	fflush(stdout);
	return conn.status < 0 ? 1 : conn.status;
}
