/* The client side of `bulkheadctl exec|run|shell`: speaks the channel
 * protocol to the tag's proxy over its control socket (CONTROL.md). */
#include <fcntl.h>
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

#include "cli/exec.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "common/util.h"
#include "proxy/proxy.h"

struct session {
	struct wl_event_loop *loop;
	struct bh_endpoint *endpoint;
	struct bh_stream *stream;
	const char *tag;
	struct wl_event_source *stdin_source;
	bool stdin_blocked, done;
	int status;
	/* Output not yet written to our stdout/stderr (a slow pipe reader). */
	uint8_t *out_buf[2];
	size_t out_len[2];
	struct wl_event_source *out_source[2];
	bool launch_done;
};

static int connect_control(const char *tag)
{
	char path[4096];
	if (!bh_control_socket_path(tag, path, sizeof(path))) {
		fprintf(stderr, "bulkheadctl: cannot find the control socket of tag %s "
				"(XDG_RUNTIME_DIR is not set)\n", tag);
		return -1;
	}
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || strlen(path) >= sizeof(addr.sun_path)) {
		return -1;
	}
	strcpy(addr.sun_path, path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		fprintf(stderr, "bulkheadctl: tag %s is not running (no proxy at %s): "
				"start it with `bulkheadctl spawn %s`\n", tag, path, tag);
		close(fd);
		return -1;
	}
	return fd;
}

static void update_stdin(struct session *s)
{
	if (s->stdin_source != NULL) {
		wl_event_source_fd_update(s->stdin_source, s->stdin_blocked ? 0 : WL_EVENT_READABLE);
	}
}

static int handle_stdin(int fd, uint32_t mask, void *data)
{
	struct session *s = data;
	uint8_t buf[32 * 1024 + 1];
	buf[0] = BH_EXEC_STDIN;
	ssize_t n = read(fd, buf + 1, sizeof(buf) - 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return 0;
	}
	if (s->stream == NULL) {
		return 0;
	}
	if (n <= 0) {
		uint8_t eof = BH_EXEC_EOF;
		bh_stream_send(s->stream, &eof, 1);
		wl_event_source_remove(s->stdin_source);
		s->stdin_source = NULL;
		return 0;
	}
	if (!bh_stream_send(s->stream, buf, (size_t)n + 1) && errno == EAGAIN) {
		s->stdin_blocked = true;
		update_stdin(s);
	}
	return 0;
}

static int handle_output_writable(int fd, uint32_t mask, void *data);

/* Writes guest output to our stdout/stderr without blocking the loop; while
 * our reader is slow the guest stream is paused. */
static bool output(struct session *s, int which, const uint8_t *p, size_t len)
{
	int fd = which == 0 ? STDOUT_FILENO : STDERR_FILENO;
	if (s->out_len[which] == 0) {
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
	uint8_t *b = realloc(s->out_buf[which], s->out_len[which] + len);
	if (b == NULL) {
		return false;
	}
	memcpy(b + s->out_len[which], p, len);
	s->out_buf[which] = b;
	s->out_len[which] += len;
	if (s->out_source[which] == NULL) {
		s->out_source[which] = wl_event_loop_add_fd(s->loop, fd, WL_EVENT_WRITABLE,
			handle_output_writable, s);
	}
	bh_stream_set_paused(s->stream, true);
	return true;
}

static int handle_output_writable(int fd, uint32_t mask, void *data)
{
	struct session *s = data;
	int which = fd == STDOUT_FILENO ? 0 : 1;
	ssize_t n = write(fd, s->out_buf[which], s->out_len[which]);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return 0;
	}
	if (n < 0) {
		s->out_len[which] = 0;
	} else {
		memmove(s->out_buf[which], s->out_buf[which] + n, s->out_len[which] - (size_t)n);
		s->out_len[which] -= (size_t)n;
	}
	if (s->out_len[which] == 0) {
		wl_event_source_remove(s->out_source[which]);
		s->out_source[which] = NULL;
		if (s->stream != NULL && s->out_len[1 - which] == 0) {
			bh_stream_set_paused(s->stream, false);
		}
	}
	return 0;
}

static bool session_handle_data(struct bh_stream *stream, const uint8_t *p, size_t len,
	void *user)
{
	struct session *s = user;
	if (len == 0) {
		return false;
	}
	switch (p[0]) {
	case BH_EXEC_STDOUT:
		return output(s, 0, p + 1, len - 1);
	case BH_EXEC_STDERR:
		return output(s, 1, p + 1, len - 1);
	case BH_EXEC_EXIT: {
		if (len != 9) {
			return false;
		}
		struct bh_msg_reader r;
		bh_msg_reader_init(&r, p + 1, 8);
		uint32_t how = bh_msg_get_u32(&r), code = bh_msg_get_u32(&r);
		s->status = how == 0 ? (int)(code & 0xff) : 128 + (int)(code & 0x7f);
		return true;
	}
	case BH_EXEC_ERROR:
		fprintf(stderr, "bulkheadctl: tag %s: %.*s\n", s->tag, (int)(len - 1),
			(const char *)p + 1);
		s->status = 127;
		return true;
	default:
		return false;
	}
}

static void session_handle_closed(struct bh_stream *stream, const char *reason, void *user)
{
	struct session *s = user;
	s->stream = NULL;
	s->done = true;
	if (reason != NULL) {
		fprintf(stderr, "bulkheadctl: tag %s: the session ended: %s\n", s->tag, reason);
		if (s->status < 0) {
			s->status = 255;
		}
	}
}

static void session_handle_writable(struct bh_stream *stream, void *user)
{
	struct session *s = user;
	s->stdin_blocked = false;
	update_stdin(s);
}

static const struct bh_stream_handler session_handler = {
	.data = session_handle_data,
	.closed = session_handle_closed,
	.writable = session_handle_writable,
};

static bool ctl_handle_control(struct bh_endpoint *endpoint, uint32_t type,
	const uint8_t *payload, size_t len, void *user)
{
	struct session *s = user;
	if (type != BH_CTL_LAUNCHED) {
		return false;
	}
	struct bh_msg_reader r;
	bh_msg_reader_init(&r, payload, len);
	bh_msg_get_u32(&r);
	int32_t pid = (int32_t)bh_msg_get_u32(&r);
	char *error = bh_msg_get_str(&r, 512);
	if (!bh_msg_end(&r)) {
		free(error);
		return false;
	}
	if (pid > 0) {
		s->status = 0;
	} else {
		fprintf(stderr, "bulkheadctl: tag %s: %s\n", s->tag, error);
		s->status = 1;
	}
	free(error);
	s->done = true;
	return true;
}

static bool ctl_handle_open(struct bh_endpoint *endpoint, struct bh_stream *stream,
	enum bh_stream_kind kind, void *user)
{
	return false;
}

static void ctl_handle_disconnected(struct bh_endpoint *endpoint, const char *reason, void *user)
{
	struct session *s = user;
	if (!s->done) {
		fprintf(stderr, "bulkheadctl: tag %s: lost the proxy: %s\n", s->tag, reason);
		s->status = 255;
	}
	s->done = true;
	s->endpoint = NULL;
	bh_endpoint_destroy(endpoint);
}

static const struct bh_endpoint_listener ctl_listener = {
	.control = ctl_handle_control,
	.open = ctl_handle_open,
	.disconnected = ctl_handle_disconnected,
};

static int run_loop(struct session *s)
{
	while (!s->done || s->out_len[0] > 0 || s->out_len[1] > 0) {
		if (s->done && s->endpoint != NULL && bh_endpoint_pending(s->endpoint) == 0 &&
			s->out_len[0] == 0 && s->out_len[1] == 0) {
			break;
		}
		if (wl_event_loop_dispatch(s->loop, -1) < 0 && errno != EINTR) {
			break;
		}
	}
	return s->status;
}

static int start(struct session *s, const char *tag)
{
	s->tag = tag;
	s->status = -1;
	signal(SIGPIPE, SIG_IGN);
	bh_log_init("bulkheadctl", BH_LOG_ERROR);
	int fd = connect_control(tag);
	if (fd < 0) {
		return -1;
	}
	s->loop = wl_event_loop_create();
	s->endpoint = s->loop ? bh_endpoint_create(s->loop, fd, BH_ENDPOINT_GUEST, &ctl_listener, s) :
		NULL;
	return s->endpoint != NULL ? 0 : -1;
}

static int exec_command(const char *tag, int argc, char *argv[], bool pty)
{
	struct session s = {0};
	if (start(&s, tag) < 0) {
		return 255;
	}
	struct bh_msg msg;
	bh_msg_init(&msg, BH_EXEC_START);
	struct winsize ws = {0};
	if (pty) {
		ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
	}
	bh_msg_u32(&msg, pty ? BH_EXEC_FLAG_PTY : 0);
	bh_msg_u16(&msg, ws.ws_row);
	bh_msg_u16(&msg, ws.ws_col);
	bh_msg_u32(&msg, (uint32_t)argc);
	for (int i = 0; i < argc; i++) {
		bh_msg_str(&msg, argv[i]);
	}
	if (!msg.ok) {
		fprintf(stderr, "bulkheadctl: the command line is too long\n");
		return 255;
	}
	s.stream = bh_endpoint_open_stream(s.endpoint, BH_STREAM_EXEC, &session_handler, &s);
	if (s.stream == NULL || !bh_stream_send(s.stream, msg.buf, msg.len)) {
		return 255;
	}
	struct termios saved;
	bool raw = pty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
	bh_set_nonblock(STDOUT_FILENO, true);
	bh_set_nonblock(STDERR_FILENO, true);
	s.stdin_source = wl_event_loop_add_fd(s.loop, STDIN_FILENO, WL_EVENT_READABLE,
		handle_stdin, &s);
	if (s.stdin_source == NULL) {
		/* stdin is a regular file or /dev/null (epoll refuses those):
		 * send it in one go, then EOF. */
		uint8_t buf[32 * 1024 + 1];
		buf[0] = BH_EXEC_STDIN;
		ssize_t n;
		while ((n = read(STDIN_FILENO, buf + 1, sizeof(buf) - 1)) > 0) {
			/* false with EAGAIN: queued, but over the high-water mark. */
			if (!bh_stream_send(s.stream, buf, (size_t)n + 1) && errno != EAGAIN) {
				break;
			}
			while (s.stream != NULL &&
				bh_stream_pending(s.stream) > BH_ENDPOINT_STREAM_LOW_WATER) {
				wl_event_loop_dispatch(s.loop, -1);
			}
			if (s.stream == NULL) {
				break;
			}
		}
		uint8_t eof = BH_EXEC_EOF;
		if (s.stream != NULL) {
			bh_stream_send(s.stream, &eof, 1);
		}
	}
	int status = run_loop(&s);
	if (raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	}
	bh_set_nonblock(STDOUT_FILENO, false);
	bh_set_nonblock(STDERR_FILENO, false);
	return status < 0 ? 255 : status;
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

int bh_cli_exec(int argc, char *argv[])
{
	const char *tag;
	int i;
	if (parse_tag_and_command(argc, argv, &tag, &i) < 0) {
		fprintf(stderr, "Usage: bulkheadctl exec TAG -- COMMAND [ARG...]\n");
		return 2;
	}
	return exec_command(tag, argc - i, argv + i, false);
}

int bh_cli_shell(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "Usage: bulkheadctl shell TAG\n");
		return 2;
	}
	char *shell_argv[] = {"/bin/sh", "-c", "exec \"${SHELL:-/bin/sh}\" -l", NULL};
	return exec_command(argv[1], 3, shell_argv, true);
}

int bh_cli_run(int argc, char *argv[])
{
	const char *tag;
	int i;
	if (parse_tag_and_command(argc, argv, &tag, &i) < 0) {
		fprintf(stderr, "Usage: bulkheadctl run TAG -- COMMAND [ARG...]\n");
		return 2;
	}
	/* One shell command line, as the compositor's launch takes it. */
	char command[16 * 1024];
	size_t o = 0;
	for (int k = i; k < argc; k++) {
		int n = snprintf(command + o, sizeof(command) - o, "%s%s", k > i ? " " : "",
			argv[k]);
		if (n < 0 || (size_t)n >= sizeof(command) - o) {
			fprintf(stderr, "bulkheadctl: the command line is too long\n");
			return 2;
		}
		o += (size_t)n;
	}
	struct session s = {0};
	if (start(&s, tag) < 0) {
		return 1;
	}
	struct bh_msg msg;
	bh_msg_init(&msg, 0);
	bh_msg_u32(&msg, 1);
	bh_msg_str(&msg, command);
	if (!bh_endpoint_send_control(s.endpoint, BH_CTL_LAUNCH, msg.buf, msg.len)) {
		return 1;
	}
	int status = run_loop(&s);
	return status < 0 ? 1 : status;
}
