/* Pipes bridged as BH_STREAM_PIPE streams: clipboard and drag-and-drop
 * transfers of the Wayland relay, on either end. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wayland-server-core.h>

#include "common/endpoint.h"
#include "common/log.h"
#include "common/relay.h"
#include "common/relay_pipes.h"
#include "common/util.h"

/* ---- pipes bridged as streams ---- */

struct pipe_bridge {
	struct wl_list link; /* bh_relay_pipes.bridges */
	struct bh_relay_pipes *pipes;
	struct bh_endpoint *endpoint;
	uint32_t id;
	struct bh_stream *stream;
	bool sink;
	int fd;       /* sink: the real write end; source: our read end */
	int write_fd; /* source: the write end until claimed */
	bool claimed;
	struct wl_event_source *source;
	/* sink: bytes not yet written */
	uint8_t *out;
	size_t out_len;
	bool peer_done;
};

struct bh_relay_pipes {
	struct wl_event_loop *loop;
	struct wl_list bridges;
};

struct bh_relay_pipes *bh_relay_pipes_create(struct wl_event_loop *loop)
{
	struct bh_relay_pipes *pipes = calloc(1, sizeof(*pipes));
	if (pipes == NULL) {
		return NULL;
	}
	pipes->loop = loop;
	wl_list_init(&pipes->bridges);
	return pipes;
}

static void bridge_destroy(struct pipe_bridge *b)
{
	wl_list_remove(&b->link);
	if (b->source != NULL) {
		wl_event_source_remove(b->source);
	}
	if (b->fd >= 0) {
		close(b->fd);
	}
	if (b->write_fd >= 0) {
		close(b->write_fd);
	}
	free(b->out);
	free(b);
}

void bh_relay_pipes_destroy(struct bh_relay_pipes *pipes)
{
	if (pipes == NULL) {
		return;
	}
	struct pipe_bridge *b, *tmp;
	wl_list_for_each_safe(b, tmp, &pipes->bridges, link)
	{
		if (b->stream != NULL) {
			bh_stream_close(b->stream, "pipe bridge destroyed");
		}
		bridge_destroy(b);
	}
	free(pipes);
}

static void bridge_update(struct pipe_bridge *b, uint32_t mask)
{
	if (b->source != NULL) {
		wl_event_source_fd_update(b->source, mask);
	}
}

/* sink */

static void sink_finish(struct pipe_bridge *b, const char *reason)
{
	if (b->stream != NULL) {
		bh_stream_close(b->stream, reason);
		b->stream = NULL;
	}
	bridge_destroy(b);
}

static bool sink_flush(struct pipe_bridge *b)
{
	while (b->out_len > 0) {
		ssize_t n = write(b->fd, b->out, b->out_len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			bridge_update(b, WL_EVENT_WRITABLE);
			return true;
		}
		if (n <= 0) {
			return false;
		}
		memmove(b->out, b->out + n, b->out_len - (size_t)n);
		b->out_len -= (size_t)n;
	}
	bridge_update(b, 0);
	if (b->stream != NULL) {
		bh_stream_set_paused(b->stream, false);
	}
	return true;
}

static int sink_handle_fd(int fd, uint32_t mask, void *data)
{
	struct pipe_bridge *b = data;
	if (!sink_flush(b)) {
		sink_finish(b, "the reader of the pipe went away");
		return 0;
	}
	if (b->out_len == 0 && b->peer_done) {
		bridge_destroy(b);
	}
	return 0;
}

static bool sink_data(struct bh_stream *stream, const uint8_t *payload, size_t len, void *user)
{
	struct pipe_bridge *b = user;
	if (b->out_len + len > BH_RELAY_OUT_MAX) {
		bh_stream_fail(stream, "pipe reader too slow");
		return false;
	}
	uint8_t *out = realloc(b->out, b->out_len + len);
	if (out == NULL) {
		bh_stream_fail(stream, "out of memory for a pipe");
		return false;
	}
	b->out = out;
	memcpy(b->out + b->out_len, payload, len);
	b->out_len += len;
	if (!sink_flush(b)) {
		/* the reader went away: end the stream, the data is not wanted */
		b->stream = NULL;
		bh_stream_close(stream, "the reader of the pipe went away");
		bridge_destroy(b);
		return true;
	}
	if (b->out_len > BH_RELAY_OUT_HIGH) {
		bh_stream_set_paused(stream, true);
	}
	return true;
}

static void sink_closed(struct bh_stream *stream, const char *reason, void *user)
{
	struct pipe_bridge *b = user;
	b->stream = NULL;
	if (reason == NULL && b->out_len > 0) {
		b->peer_done = true; /* flushed by sink_handle_fd, then closed */
		return;
	}
	bridge_destroy(b);
}

static const struct bh_stream_handler sink_handler = {
	.data = sink_data,
	.closed = sink_closed,
};

bool bh_relay_pipe_sink_open(
	struct bh_relay_pipes *pipes, struct bh_endpoint *endpoint, int fd, uint32_t *stream_id)
{
	struct pipe_bridge *b = calloc(1, sizeof(*b));
	if (b == NULL || endpoint == NULL) {
		free(b);
		close(fd);
		return false;
	}
	b->pipes = pipes;
	b->endpoint = endpoint;
	b->sink = true;
	b->fd = fd;
	b->write_fd = -1;
	wl_list_insert(&pipes->bridges, &b->link);
	bh_set_nonblock(fd, true);
	b->source = wl_event_loop_add_fd(pipes->loop, fd, 0, sink_handle_fd, b);
	b->stream = bh_endpoint_open_stream(endpoint, BH_STREAM_PIPE, &sink_handler, b);
	if (b->source == NULL || b->stream == NULL) {
		sink_finish(b, "could not open a pipe stream");
		return false;
	}
	b->id = bh_stream_id(b->stream);
	*stream_id = b->id;
	return true;
}

/* source */

static int source_handle_fd(int fd, uint32_t mask, void *data)
{
	struct pipe_bridge *b = data;
	/* A large read (a clipboard image) goes out as several frames, so the
	 * writer can interleave other streams between them. */
	static uint8_t buf[256 * 1024];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return 0;
	}
	if (n <= 0) {
		struct bh_stream *stream = b->stream;
		b->stream = NULL;
		bh_stream_close(stream, n < 0 ? "reading the pipe failed" : NULL);
		bridge_destroy(b);
		return 0;
	}
	errno = 0;
	if (!bh_stream_send_chunked(b->stream, 0, buf, (size_t)n)) {
		if (bh_relay_send_refused(errno)) {
			struct bh_stream *stream = b->stream;
			b->stream = NULL;
			bh_stream_close(stream, "the pipe stream refused data");
			bridge_destroy(b);
			return 0;
		}
		bridge_update(b, 0); /* over high water: wait for writable() */
	}
	return 0;
}

static bool source_data(struct bh_stream *stream, const uint8_t *payload, size_t len, void *user)
{
	bh_stream_fail(stream, "data sent the wrong way on a pipe stream");
	return false;
}

static void source_closed(struct bh_stream *stream, const char *reason, void *user)
{
	struct pipe_bridge *b = user;
	b->stream = NULL;
	bridge_destroy(b);
}

static void source_writable(struct bh_stream *stream, void *user)
{
	bridge_update(user, WL_EVENT_READABLE);
}

static const struct bh_stream_handler source_handler = {
	.data = source_data,
	.closed = source_closed,
	.writable = source_writable,
};

static struct pipe_bridge *source_get(
	struct bh_relay_pipes *pipes, struct bh_endpoint *endpoint, uint32_t id)
{
	size_t waiting = 0;
	struct pipe_bridge *b;
	wl_list_for_each(b, &pipes->bridges, link)
	{
		if (b->sink) {
			continue;
		}
		if (b->endpoint == endpoint && b->id == id) {
			return b;
		}
		if (b->stream == NULL || !b->claimed) {
			waiting++;
		}
	}
	if (waiting >= BH_RELAY_MAX_PENDING_PIPES) {
		bh_log(BH_LOG_ERROR, "more than %d pipe streams wait to be matched; refusing %u",
			BH_RELAY_MAX_PENDING_PIPES, id);
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		return NULL;
	}
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		bh_log_errno(BH_LOG_ERROR, "pipe for a relayed pipe stream");
		free(b);
		return NULL;
	}
	b->pipes = pipes;
	b->endpoint = endpoint;
	b->id = id;
	b->fd = fds[0];
	b->write_fd = fds[1];
	wl_list_insert(&pipes->bridges, &b->link);
	bh_set_nonblock(b->fd, true);
	return b;
}

int bh_relay_pipe_claim(struct bh_relay_pipes *pipes, struct bh_endpoint *endpoint, uint32_t id)
{
	struct pipe_bridge *b = source_get(pipes, endpoint, id);
	if (b == NULL || b->claimed) {
		return -1;
	}
	b->claimed = true;
	int fd = b->write_fd;
	b->write_fd = -1;
	return fd;
}

bool bh_relay_pipe_accept(struct bh_relay_pipes *pipes, struct bh_stream *stream)
{
	struct pipe_bridge *b = source_get(pipes, bh_stream_endpoint(stream), bh_stream_id(stream));
	if (b == NULL || b->stream != NULL) {
		return false;
	}
	b->stream = stream;
	bh_stream_set_handler(stream, &source_handler, b);
	b->source =
		wl_event_loop_add_fd(pipes->loop, b->fd, WL_EVENT_READABLE, source_handle_fd, b);
	if (b->source == NULL) {
		b->stream = NULL;
		bridge_destroy(b);
		return false;
	}
	return true;
}
