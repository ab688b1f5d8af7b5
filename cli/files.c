/* `bulkheadctl push TAG SRC DST` and `pull TAG SRC DST`: files and
 * directories copied over the channel (protocols/CONTROL.md "Files") with
 * their modes and times, as cp -a would, through the tag's proxy. What
 * arrives from a guest (pull) is extracted by the archive reader, which
 * refuses any name that would leave the destination. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "cli/cli.h"
#include "cli/exec.h"
#include "common/archive.h"
#include "common/endpoint.h"
#include "common/log.h"

/* Bytes queued towards the proxy before the archive walk waits. */
#define SEND_HIGH (1u << 20)

struct files_session {
	struct bh_cli_conn conn;
	struct bh_stream *stream;
	bool push;
	const char *guest_path;
	struct bh_archive_reader *reader; /* pull */
	bool interrupted;
};

static void session_error(struct files_session *s, const char *text)
{
	char shown[BH_ARCHIVE_ERROR_MAX + 1];
	bh_archive_printable(text, strlen(text), shown, sizeof(shown));
	bh_cli_tag_error(s->conn.tag, "%s %s failed: %s", s->push ? "push to" : "pull from",
		s->guest_path, shown);
}

static void send_type(struct files_session *s, uint8_t type, const char *text)
{
	struct bh_msg msg;
	bh_msg_init(&msg, type);
	if (text != NULL) {
		bh_msg_bytes(&msg, text, strnlen(text, BH_ARCHIVE_ERROR_MAX));
	}
	bh_stream_send(s->stream, msg.buf, msg.len);
}

static void finish(struct files_session *s, int status)
{
	if (s->stream != NULL) {
		bh_stream_close(s->stream, NULL);
		s->stream = NULL;
	}
	s->conn.status = status;
	s->conn.done = true;
}

static bool session_handle_data(struct bh_stream *stream, const uint8_t *p, size_t len,
	void *user)
{
	struct files_session *s = user;
	if (len == 0) {
		bh_stream_fail(stream, "empty file message");
		return false;
	}
	if (p[0] == BH_FILE_ERROR) {
		char text[BH_ARCHIVE_ERROR_MAX + 1];
		size_t n = len - 1 < BH_ARCHIVE_ERROR_MAX ? len - 1 : BH_ARCHIVE_ERROR_MAX;
		memcpy(text, p + 1, n);
		text[n] = '\0';
		session_error(s, text);
		finish(s, 1);
		return true;
	}
	if (s->push) {
		if (p[0] != BH_FILE_DONE || len != 1) {
			bh_stream_fail(stream, "unexpected message %u from the guest", p[0]);
			return false;
		}
		finish(s, 0);
		return true;
	}
	enum bh_archive_status st = bh_archive_reader_feed(s->reader, p, len);
	if (st == BH_ARCHIVE_FAILED) {
		const char *why = bh_archive_reader_error(s->reader);
		session_error(s, why);
		send_type(s, BH_FILE_ERROR, why);
		finish(s, 1);
	} else if (st == BH_ARCHIVE_DONE) {
		send_type(s, BH_FILE_DONE, NULL);
		finish(s, 0);
	}
	return true;
}

static void session_handle_closed(struct bh_stream *stream, const char *reason, void *user)
{
	struct files_session *s = user;
	s->stream = NULL;
	if (!s->conn.done) {
		session_error(s, reason != NULL ? reason : "the guest ended the copy early");
		s->conn.status = 1;
		s->conn.done = true;
	}
}

static const struct bh_stream_handler session_handler = {
	.data = session_handle_data,
	.closed = session_handle_closed,
};

/* The archive walk runs synchronously; it waits here whenever the proxy
 * is slower than the disk, so memory stays bounded. */
static bool push_emit(const uint8_t *msg, size_t len, void *user)
{
	struct files_session *s = user;
	if (s->stream == NULL || s->conn.done) {
		return false;
	}
	if (!bh_stream_send(s->stream, msg, len) && errno != EAGAIN) {
		return false;
	}
	wl_event_loop_dispatch_idle(s->conn.loop); /* the queued writes */
	while (s->stream != NULL && !s->conn.done && bh_stream_pending(s->stream) > SEND_HIGH) {
		if (wl_event_loop_dispatch(s->conn.loop, -1) < 0 && errno != EINTR) {
			return false;
		}
		if (s->interrupted) {
			return false;
		}
	}
	return s->stream != NULL && !s->conn.done;
}

static void push_skip(const char *path, const char *why, void *user)
{
	bh_cli_note("skipped %s: %s", path, why);
}

static int handle_interrupt(int sig, void *data)
{
	struct files_session *s = data;
	s->interrupted = true;
	if (s->stream != NULL) {
		send_type(s, BH_FILE_ERROR, "interrupted on the host");
	}
	bh_cli_tag_error(s->conn.tag, "copy interrupted");
	finish(s, 130);
	return 0;
}

static void print_stats(bool push, const struct bh_archive_stats *st, const char *tag,
	const char *guest_path)
{
	bh_cli_note("%s %llu files, %llu folders, %llu links (%llu bytes) %s %s:%s",
		push ? "pushed" : "pulled", (unsigned long long)st->files,
		(unsigned long long)st->dirs, (unsigned long long)st->links,
		(unsigned long long)st->bytes, push ? "to" : "from", tag, guest_path);
}

static int copy(int argc, char *argv[], bool push)
{
	if (argc != 4) {
		return bh_cli_usage(NULL);
	}
	const char *tag = argv[1];
	struct files_session s = {.push = push, .guest_path = push ? argv[3] : argv[2]};
	const char *host_path = push ? argv[2] : argv[3];
	char error[BH_ARCHIVE_ERROR_MAX];
	if (!push) {
		/* Where it lands is settled before anything is asked of the guest. */
		char *root_name = NULL;
		int dirfd = bh_archive_target(host_path, NULL, &root_name, error, sizeof(error));
		if (dirfd < 0) {
			bh_cli_tag_error(tag, "pull: %s", error);
			return 1;
		}
		s.reader = bh_archive_reader_create(dirfd, root_name);
		free(root_name);
		if (s.reader == NULL) {
			bh_cli_error("out of memory");
			return 1;
		}
	}
	if (!bh_cli_conn_open(&s.conn, tag)) {
		bh_cli_conn_close(&s.conn);
		bh_archive_reader_destroy(s.reader);
		return 255;
	}
	struct bh_msg msg;
	bh_msg_init(&msg, BH_FILE_START);
	bh_msg_str(&msg, s.guest_path);
	s.stream = bh_endpoint_open_stream(s.conn.endpoint, push ? BH_STREAM_PUSH : BH_STREAM_PULL,
		&session_handler, &s);
	if (!msg.ok || s.stream == NULL || !bh_stream_send(s.stream, msg.buf, msg.len)) {
		bh_cli_tag_error(
			tag, "could not start the copy; check the tag with `bulkheadctl tags`");
		bh_cli_conn_close(&s.conn);
		bh_archive_reader_destroy(s.reader);
		return 255;
	}
	struct wl_event_source *signals[2] = {
		wl_event_loop_add_signal(s.conn.loop, SIGINT, handle_interrupt, &s),
		wl_event_loop_add_signal(s.conn.loop, SIGTERM, handle_interrupt, &s),
	};
	struct bh_archive_stats stats = {0};
	if (push) {
		error[0] = '\0';
		if (!bh_archive_write(host_path, push_emit, push_skip, &s, &stats, error,
			    sizeof(error)) &&
			!s.conn.done) {
			bh_cli_tag_error(tag, "push: %s", error[0] ? error : "the copy stopped");
			if (s.stream != NULL) {
				send_type(&s, BH_FILE_ERROR, error[0] ? error : "stopped on the host");
			}
			finish(&s, 1);
		}
	}
	bh_cli_conn_run(&s.conn);
	int status = s.conn.status < 0 ? 255 : s.conn.status;
	if (status == 0) {
		print_stats(push, push ? &stats : bh_archive_reader_stats(s.reader), tag,
			s.guest_path);
	}
	for (int i = 0; i < 2; i++) {
		if (signals[i] != NULL) {
			wl_event_source_remove(signals[i]);
		}
	}
	bh_cli_conn_close(&s.conn);
	/* A pull that did not finish removes the file it was writing. */
	bh_archive_reader_destroy(s.reader);
	return status;
}

int bh_cli_push(int argc, char *argv[])
{
	return copy(argc, argv, true);
}

int bh_cli_pull(int argc, char *argv[])
{
	return copy(argc, argv, false);
}
