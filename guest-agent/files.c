/* push and pull in the guest: each session runs a helper (this binary with
 * --files-helper) as the guest user, so files are read and written with the
 * user's rights, never root's. The agent passes the session's messages to
 * the helper and back, framed on its stdin and stdout, with flow control. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "common/archive.h"
#include "common/le.h"
#include "common/log.h"
#include "common/util.h"
#include "guest-agent/agent.h"

#define FRAME_MAX (64 * 1024)     /* one session message */
#define QUEUE_HIGH (1u << 20)     /* bytes queued for the helper before the stream pauses */
#define QUEUE_LOW (256u << 10)

struct files_session {
	struct wl_list link;
	struct bh_agent *agent;
	struct bh_stream *stream;
	bool push; /* else pull */
	bool started, finished; /* START seen; the helper sent its last message */
	pid_t pid;
	int to_fd, from_fd; /* the helper's stdin and stdout */
	struct wl_event_source *to_source, *from_source;
	struct bh_byte_queue to; /* frames for the helper's stdin */
	uint8_t from_buf[4 + FRAME_MAX];
	size_t from_len;
	bool from_blocked;
};

static struct wl_list sessions = {&sessions, &sessions};

/* Which messages each side may send, per kind (CONTROL.md "Files"). */
static bool from_host_ok(bool push, uint8_t type)
{
	if (push) {
		return type == BH_FILE_DIR || type == BH_FILE_REG || type == BH_FILE_DATA ||
			type == BH_FILE_SYMLINK || type == BH_FILE_END || type == BH_FILE_ERROR;
	}
	return type == BH_FILE_DONE || type == BH_FILE_ERROR;
}

static bool from_helper_ok(bool push, uint8_t type)
{
	if (push) {
		return type == BH_FILE_DONE || type == BH_FILE_ERROR;
	}
	return type == BH_FILE_DIR || type == BH_FILE_REG || type == BH_FILE_DATA ||
		type == BH_FILE_SYMLINK || type == BH_FILE_END || type == BH_FILE_ERROR;
}

static void close_source(int *fd, struct wl_event_source **source)
{
	if (*source != NULL) {
		wl_event_source_remove(*source);
		*source = NULL;
	}
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Closing the helper's pipes ends it: a push helper reads EOF before END
 * and removes its partial file, a pull helper's next write fails. */
static void session_destroy(struct files_session *s)
{
	close_source(&s->to_fd, &s->to_source);
	close_source(&s->from_fd, &s->from_source);
	wl_list_remove(&s->link);
	bh_byte_queue_finish(&s->to);
	free(s);
}

static void send_error(struct files_session *s, const char *text)
{
	uint8_t msg[1 + 200];
	msg[0] = BH_FILE_ERROR;
	size_t n = strlen(text) < sizeof(msg) - 1 ? strlen(text) : sizeof(msg) - 1;
	memcpy(msg + 1, text, n);
	bh_stream_send(s->stream, msg, n + 1);
}

static void session_end(struct files_session *s, const char *error)
{
	if (error != NULL) {
		bh_log(BH_LOG_WARN, "%s on stream %u: %s", s->push ? "push" : "pull",
			bh_stream_id(s->stream), error);
		send_error(s, error);
	}
	bh_stream_close(s->stream, NULL);
	session_destroy(s);
}

static void update_sources(struct files_session *s)
{
	if (s->to_source != NULL) {
		wl_event_source_fd_update(s->to_source, s->to.len > 0 ? WL_EVENT_WRITABLE : 0);
	}
	if (s->from_source != NULL) {
		wl_event_source_fd_update(s->from_source, s->from_blocked ? 0 : WL_EVENT_READABLE);
	}
}

static int handle_to_helper(int fd, uint32_t mask, void *data)
{
	struct files_session *s = data;
	if (!bh_byte_queue_write(&s->to, fd)) {
		/* The helper stopped reading: its last message says why. */
		s->to.len = 0;
		close_source(&s->to_fd, &s->to_source);
		return 0;
	}
	if (s->to.len < QUEUE_LOW) {
		bh_stream_set_paused(s->stream, false);
	}
	update_sources(s);
	return 0;
}

static int handle_from_helper(int fd, uint32_t mask, void *data)
{
	struct files_session *s = data;
	ssize_t n = read(fd, s->from_buf + s->from_len, sizeof(s->from_buf) - s->from_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return 0;
	}
	if (n <= 0) {
		bool clean = s->finished && s->from_len == 0;
		session_end(s, clean ? NULL : "the copy stopped in the guest (see its console)");
		return 0;
	}
	s->from_len += (size_t)n;
	size_t off = 0;
	while (s->from_len - off >= 4) {
		uint32_t len = bh_le32_get(s->from_buf + off);
		if (len == 0 || len > FRAME_MAX) {
			session_end(s, "the file helper sent a malformed frame");
			return 0;
		}
		if (s->from_len - off < 4 + (size_t)len) {
			break;
		}
		const uint8_t *msg = s->from_buf + off + 4;
		off += 4 + len;
		if (!from_helper_ok(s->push, msg[0])) {
			session_end(s, "the file helper sent an unexpected message");
			return 0;
		}
		s->finished = s->finished || msg[0] == BH_FILE_ERROR || msg[0] == BH_FILE_DONE ||
			msg[0] == BH_FILE_END;
		if (!bh_stream_send(s->stream, msg, len)) {
			if (errno != EAGAIN) {
				session_end(s, NULL);
				return 0;
			}
			/* Over the high-water mark: stop reading until writable(). */
			s->from_blocked = true;
		}
	}
	memmove(s->from_buf, s->from_buf + off, s->from_len - off);
	s->from_len -= off;
	update_sources(s);
	return 0;
}

static bool start_helper(struct files_session *s)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1};
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		for (int i = 0; i < 2; i++) {
			if (in[i] >= 0) {
				close(in[i]);
			}
		}
		return false;
	}
	const char *argv[] = {bh_agent_exe_path(s->agent), "--files-helper",
		s->push ? "push" : "pull", NULL};
	const int stdio[3] = {in[0], out[1], -1};
	s->pid = bh_agent_spawn(s->agent, argv, stdio, false);
	close(in[0]);
	close(out[1]);
	s->to_fd = in[1];
	s->from_fd = out[0];
	if (s->pid <= 0) {
		return false;
	}
	struct wl_event_loop *loop = bh_agent_event_loop(s->agent);
	bh_set_nonblock(s->to_fd, true);
	bh_set_nonblock(s->from_fd, true);
	s->to_source = wl_event_loop_add_fd(loop, s->to_fd, 0, handle_to_helper, s);
	s->from_source = wl_event_loop_add_fd(loop, s->from_fd, WL_EVENT_READABLE,
		handle_from_helper, s);
	return s->to_source != NULL && s->from_source != NULL;
}

static bool queue_to_helper(struct files_session *s, const uint8_t *msg, size_t len)
{
	if (s->to_fd < 0) {
		return true; /* the helper is gone; its last word is on its way */
	}
	uint8_t *frame = bh_byte_queue_extend(&s->to, 4 + len);
	if (frame == NULL) {
		return false;
	}
	bh_le32_put(frame, (uint32_t)len);
	memcpy(frame + 4, msg, len);
	if (s->to.len > QUEUE_HIGH) {
		bh_stream_set_paused(s->stream, true);
	}
	update_sources(s);
	return true;
}

static bool session_handle_data(struct bh_stream *stream, const uint8_t *p, size_t len,
	void *user)
{
	struct files_session *s = user;
	if (len == 0 || len > FRAME_MAX) {
		bh_stream_fail(stream, "malformed file message (%zu bytes)", len);
		return false;
	}
	if (!s->started) {
		struct bh_msg_reader r;
		bh_msg_reader_init(&r, p + 1, len - 1);
		char *path = p[0] == BH_FILE_START ? bh_msg_get_str(&r, BH_ARCHIVE_PATH_MAX) : NULL;
		bool ok = bh_msg_end(&r) && path != NULL && path[0] != '\0';
		free(path);
		if (!ok) {
			bh_stream_fail(stream, "a file session must begin with START and a path");
			return false;
		}
		s->started = true;
		if (!start_helper(s)) {
			session_end(s, "could not start the file helper in the guest");
			return true;
		}
	} else if (!from_host_ok(s->push, p[0])) {
		bh_stream_fail(stream, "unexpected file message type %u from the host", p[0]);
		return false;
	}
	if (!queue_to_helper(s, p, len)) {
		bh_stream_fail(stream, "out of memory");
		return false;
	}
	return true;
}

static void session_handle_closed(struct bh_stream *stream, const char *reason, void *user)
{
	session_destroy(user);
}

static void session_handle_writable(struct bh_stream *stream, void *user)
{
	struct files_session *s = user;
	if (s->from_blocked) {
		s->from_blocked = false;
		update_sources(s);
	}
}

static const struct bh_stream_handler session_handler = {
	.data = session_handle_data,
	.closed = session_handle_closed,
	.writable = session_handle_writable,
};

bool bh_agent_files_open(struct bh_agent *agent, struct bh_stream *stream, bool push)
{
	struct files_session *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return false;
	}
	s->agent = agent;
	s->stream = stream;
	s->push = push;
	s->to_fd = s->from_fd = -1;
	wl_list_insert(&sessions, &s->link);
	bh_stream_set_handler(stream, &session_handler, s);
	return true;
}

/* ---- the helper: runs as the guest user, blocking I/O on stdio ---- */

static bool helper_read(uint8_t *buf, size_t *len)
{
	uint8_t head[4];
	if (!bh_read_exact(STDIN_FILENO, head, 4)) {
		return false;
	}
	uint32_t n = bh_le32_get(head);
	if (n == 0 || n > FRAME_MAX || !bh_read_exact(STDIN_FILENO, buf, n)) {
		return false;
	}
	*len = n;
	return true;
}

static bool helper_emit(const uint8_t *msg, size_t len, void *user)
{
	uint8_t head[4];
	bh_le32_put(head, (uint32_t)len);
	return bh_write_all(STDOUT_FILENO, head, 4) && bh_write_all(STDOUT_FILENO, msg, len);
}

static void helper_error(const char *text)
{
	uint8_t msg[1 + BH_ARCHIVE_ERROR_MAX];
	msg[0] = BH_FILE_ERROR;
	size_t n = strlen(text) < BH_ARCHIVE_ERROR_MAX ? strlen(text) : BH_ARCHIVE_ERROR_MAX;
	memcpy(msg + 1, text, n);
	helper_emit(msg, n + 1, NULL);
}

static void helper_skip(const char *path, const char *why, void *user)
{
	bh_log(BH_LOG_WARN, "pull: skipped %s: %s", path, why);
}

static int helper_push(const char *dst, uint8_t *buf)
{
	char error[BH_ARCHIVE_ERROR_MAX];
	char *root_name;
	int fd = bh_archive_target(dst, NULL, &root_name, error, sizeof(error));
	if (fd < 0) {
		helper_error(error);
		return EXIT_FAILURE;
	}
	struct bh_archive_reader *reader = bh_archive_reader_create(fd, root_name);
	free(root_name);
	if (reader == NULL) {
		helper_error("out of memory in the guest");
		return EXIT_FAILURE;
	}
	int status = EXIT_FAILURE;
	size_t len;
	while (helper_read(buf, &len)) {
		if (buf[0] == BH_FILE_ERROR) {
			break; /* the host gave up */
		}
		enum bh_archive_status st = bh_archive_reader_feed(reader, buf, len);
		if (st == BH_ARCHIVE_FAILED) {
			helper_error(bh_archive_reader_error(reader));
			break;
		}
		if (st == BH_ARCHIVE_DONE) {
			uint8_t done = BH_FILE_DONE;
			helper_emit(&done, 1, NULL);
			status = EXIT_SUCCESS;
			break;
		}
	}
	bh_archive_reader_destroy(reader);
	return status;
}

int bh_agent_files_helper(const char *mode)
{
	/* The agent reads our stdout; a host that left must not leave us
	 * blocked, so a closed pipe ends us. */
	signal(SIGPIPE, SIG_DFL);
	uint8_t *buf = malloc(FRAME_MAX);
	size_t len;
	if (buf == NULL || !helper_read(buf, &len) || buf[0] != BH_FILE_START) {
		free(buf);
		return EXIT_FAILURE;
	}
	struct bh_msg_reader r;
	bh_msg_reader_init(&r, buf + 1, len - 1);
	char *path = bh_msg_get_str(&r, BH_ARCHIVE_PATH_MAX);
	int status = EXIT_FAILURE;
	if (!bh_msg_end(&r) || path == NULL || path[0] == '\0') {
		helper_error("malformed start of a file session");
	} else if (strcmp(mode, "push") == 0) {
		status = helper_push(path, buf);
	} else if (strcmp(mode, "pull") == 0) {
		char error[BH_ARCHIVE_ERROR_MAX];
		if (bh_archive_write(path, helper_emit, helper_skip, NULL, NULL, error,
			    sizeof(error))) {
			status = EXIT_SUCCESS;
		} else if (error[0] != '\0') {
			helper_error(error);
		}
	}
	free(path);
	free(buf);
	return status;
}
