/* Buffered raw Wayland socket I/O with fd passing, shared by both ends of
 * the Wayland relay (the agent's guest clients, the proxy's host
 * connections). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdio.h>
#include <wayland-client-protocol.h>
#include <wayland-server-core.h>

#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "pointer-constraints-unstable-v1-client-protocol.h"
#include "presentation-time-client-protocol.h"
#include "primary-selection-unstable-v1-client-protocol.h"
#include "relative-pointer-unstable-v1-client-protocol.h"
#include "viewporter-client-protocol.h"
#include "xdg-activation-v1-client-protocol.h"
#include "xdg-decoration-unstable-v1-client-protocol.h"
#include "xdg-output-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#include "common/endpoint.h"
#include "common/log.h"
#include "common/util.h"
#include "common/wl_relay.h"

/* libwayland sends at most 28 fds with one sendmsg; we read with room for
 * more so a burst never truncates the control data. */
#define CMSG_FDS 32

void bh_wl_conn_init(struct bh_wl_conn *conn, int fd)
{
	memset(conn, 0, sizeof(*conn));
	conn->fd = fd;
}

void bh_wl_conn_finish(struct bh_wl_conn *conn)
{
	for (size_t i = 0; i < conn->in_nfds; i++) {
		close(conn->in_fds[i]);
	}
	for (size_t i = 0; i < conn->out_nfds; i++) {
		close(conn->out_fds[i]);
	}
	conn->in_nfds = conn->out_nfds = 0;
	free(conn->out);
	conn->out = NULL;
	conn->out_len = conn->out_head = conn->out_cap = 0;
	if (conn->fd >= 0) {
		close(conn->fd);
		conn->fd = -1;
	}
}

ssize_t bh_wl_conn_read(struct bh_wl_conn *conn)
{
	if (conn->in_len == sizeof(conn->in)) {
		errno = ENOBUFS;
		return -1;
	}
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(CMSG_FDS * sizeof(int))];
	} control;
	struct iovec iov = {
		.iov_base = conn->in + conn->in_len,
		.iov_len = sizeof(conn->in) - conn->in_len,
	};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;
	do {
		n = recvmsg(conn->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return -1;
	}
	bool overflow = (msg.msg_flags & MSG_CTRUNC) != 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *data = CMSG_DATA(c);
		for (size_t i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, data + i * sizeof(int), sizeof(int));
			if (conn->in_nfds < BH_RELAY_MAX_FDS) {
				conn->in_fds[conn->in_nfds++] = fd;
			} else {
				close(fd);
				overflow = true;
			}
		}
	}
	if (overflow) {
		errno = EMFILE;
		return -1;
	}
	conn->in_len += (size_t)n;
	return n;
}

int bh_wl_conn_next(const struct bh_wl_conn *conn)
{
	if (conn->in_len < 8) {
		return 0;
	}
	uint32_t word;
	memcpy(&word, conn->in + 4, sizeof(word));
	uint32_t size = word >> 16;
	if (size < 8 || size % 4 != 0 || size > BH_WL_MAX_MESSAGE) {
		return -1;
	}
	return size <= conn->in_len ? (int)size : 0;
}

void bh_wl_conn_consume(struct bh_wl_conn *conn, size_t len)
{
	if (len >= conn->in_len) {
		conn->in_len = 0;
		return;
	}
	memmove(conn->in, conn->in + len, conn->in_len - len);
	conn->in_len -= len;
}

int bh_wl_conn_take_fd(struct bh_wl_conn *conn)
{
	if (conn->in_nfds == 0) {
		return -1;
	}
	int fd = conn->in_fds[0];
	conn->in_nfds--;
	memmove(conn->in_fds, conn->in_fds + 1, conn->in_nfds * sizeof(int));
	return fd;
}

bool bh_wl_conn_queue(struct bh_wl_conn *conn, const void *data, size_t len)
{
	if (len > BH_RELAY_OUT_MAX - conn->out_len) {
		return false;
	}
	if (conn->out_head + conn->out_len + len > conn->out_cap) {
		if (conn->out_head > 0) {
			memmove(conn->out, conn->out + conn->out_head, conn->out_len);
			conn->out_head = 0;
		}
		if (conn->out_len + len > conn->out_cap) {
			size_t cap = conn->out_cap ? conn->out_cap : 16384;
			while (cap < conn->out_len + len) {
				cap *= 2;
			}
			uint8_t *out = realloc(conn->out, cap);
			if (out == NULL) {
				return false;
			}
			conn->out = out;
			conn->out_cap = cap;
		}
	}
	memcpy(conn->out + conn->out_head + conn->out_len, data, len);
	conn->out_len += len;
	return true;
}

bool bh_wl_conn_queue_fd(struct bh_wl_conn *conn, int fd)
{
	if (conn->out_nfds == BH_RELAY_MAX_FDS) {
		close(fd);
		return false;
	}
	conn->out_fds[conn->out_nfds++] = fd;
	return true;
}

int bh_wl_conn_flush(struct bh_wl_conn *conn)
{
	while (conn->out_len > 0) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(28 * sizeof(int))];
		} control;
		struct iovec iov = {
			.iov_base = conn->out + conn->out_head,
			.iov_len = conn->out_len,
		};
		struct msghdr msg = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
		};
		/* fds go with the bytes of the message that carries them (or
		 * earlier); the peer's libwayland queues them in order. */
		size_t nfds = conn->out_nfds < 28 ? conn->out_nfds : 28;
		if (nfds > 0) {
			memset(&control, 0, sizeof(control));
			msg.msg_control = control.buf;
			msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
			struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
			memcpy(CMSG_DATA(c), conn->out_fds, nfds * sizeof(int));
		}
		ssize_t n;
		do {
			n = sendmsg(conn->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			return errno == EAGAIN ? 0 : -1;
		}
		for (size_t i = 0; i < nfds; i++) {
			close(conn->out_fds[i]);
		}
		conn->out_nfds -= nfds;
		memmove(conn->out_fds, conn->out_fds + nfds, conn->out_nfds * sizeof(int));
		conn->out_head += (size_t)n;
		conn->out_len -= (size_t)n;
	}
	conn->out_head = 0;
	return 1;
}

size_t bh_wl_conn_pending(const struct bh_wl_conn *conn)
{
	return conn->out_len;
}

int bh_relay_memfd(const char *name, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		return -1;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

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

/* ---- message parsing ---- */

/* Until the shared message layer (common/wl_msg.h) is in the tree, the
 * relay walks messages itself with the same scanner tables; the relay
 * code only sees bh_relay_msg, so swapping the walker changes nothing
 * else. */

#define WIRE_MAX_OBJECTS 32768u
#define SERVER_ID_BASE 0xff000000u

struct wire_object {
	const struct wl_interface *interface;
	uint32_t version;
};

struct bh_wl_objects {
	struct wire_object *client; /* indexed by id */
	size_t client_len;
	struct wire_object *server; /* indexed by id - SERVER_ID_BASE */
	size_t server_len;
	size_t count;
};

static const struct wl_interface *const known_interfaces[] = {
	&wl_display_interface,
	&wl_registry_interface,
	&wl_compositor_interface,
	&wl_subcompositor_interface,
	&wl_shm_interface,
	&wl_seat_interface,
	&wl_output_interface,
	&wl_data_device_manager_interface,
	&xdg_wm_base_interface,
	&zxdg_decoration_manager_v1_interface,
	&wp_viewporter_interface,
	&wp_presentation_interface,
	&zxdg_output_manager_v1_interface,
	&zwp_primary_selection_device_manager_v1_interface,
	&zwp_relative_pointer_manager_v1_interface,
	&zwp_pointer_constraints_v1_interface,
	&xdg_activation_v1_interface,
	&zwp_linux_dmabuf_v1_interface,
};

static const struct wl_interface *interface_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(known_interfaces) / sizeof(known_interfaces[0]); i++) {
		if (strcmp(known_interfaces[i]->name, name) == 0) {
			return known_interfaces[i];
		}
	}
	return NULL;
}

uint32_t bh_relay_wire_interface_version(const char *name)
{
	const struct wl_interface *iface = interface_by_name(name);
	return iface != NULL ? (uint32_t)iface->version : 0;
}

bool bh_relay_wire_init(struct bh_relay_wire *wire)
{
	wire->objects = calloc(1, sizeof(*wire->objects));
	if (wire->objects == NULL) {
		return false;
	}
	struct wire_object *client = calloc(64, sizeof(*client));
	if (client == NULL) {
		free(wire->objects);
		wire->objects = NULL;
		return false;
	}
	wire->objects->client = client;
	wire->objects->client_len = 64;
	client[1].interface = &wl_display_interface;
	client[1].version = 1;
	wire->objects->count = 1;
	return true;
}

void bh_relay_wire_finish(struct bh_relay_wire *wire)
{
	if (wire->objects != NULL) {
		free(wire->objects->client);
		free(wire->objects->server);
		free(wire->objects);
		wire->objects = NULL;
	}
}

static struct wire_object *object_slot(struct bh_wl_objects *o, uint32_t id, bool grow)
{
	struct wire_object **array = &o->client;
	size_t *len = &o->client_len;
	size_t index = id;
	if (id >= SERVER_ID_BASE) {
		array = &o->server;
		len = &o->server_len;
		index = id - SERVER_ID_BASE;
	}
	if (index >= *len) {
		if (!grow || index >= 4 * WIRE_MAX_OBJECTS) {
			return NULL;
		}
		size_t n = *len ? *len : 64;
		while (n <= index) {
			n *= 2;
		}
		struct wire_object *p = realloc(*array, n * sizeof(*p));
		if (p == NULL) {
			return NULL;
		}
		memset(p + *len, 0, (n - *len) * sizeof(*p));
		*array = p;
		*len = n;
	}
	return &(*array)[index];
}

static const struct wire_object *object_get(struct bh_wl_objects *o, uint32_t id)
{
	if (id == 0) {
		return NULL;
	}
	struct wire_object *obj = object_slot(o, id, false);
	return obj != NULL && obj->interface != NULL ? obj : NULL;
}

#define WIRE_ERR(...)                                                                              \
	do {                                                                                       \
		snprintf(err, err_size, __VA_ARGS__);                                              \
		return false;                                                                      \
	} while (0)

static bool object_create(struct bh_wl_objects *o, enum bh_relay_dir dir, uint32_t id,
	const struct wl_interface *iface, uint32_t version, char *err, size_t err_size)
{
	bool server_id = id >= SERVER_ID_BASE;
	if (id == 0 || server_id != (dir == BH_RELAY_EVENT)) {
		WIRE_ERR("new id %u is outside the %s's range", id,
			dir == BH_RELAY_EVENT ? "compositor" : "client");
	}
	if (o->count >= WIRE_MAX_OBJECTS) {
		WIRE_ERR("more than %u objects", WIRE_MAX_OBJECTS);
	}
	struct wire_object *obj = object_slot(o, id, true);
	if (obj == NULL) {
		WIRE_ERR("new id %u is too large", id);
	}
	if (obj->interface != NULL && !server_id) {
		WIRE_ERR("new id %u is still in use by a %s", id, obj->interface->name);
	}
	if (obj->interface == NULL) {
		o->count++;
	}
	obj->interface = iface;
	obj->version = version;
	return true;
}

bool bh_relay_wire_parse(struct bh_relay_wire *wire, enum bh_relay_dir dir, const uint8_t *data,
	size_t size, struct bh_relay_msg *msg, char *err, size_t err_size)
{
	struct bh_wl_objects *o = wire->objects;
	uint32_t head[2];
	if (size < 8) {
		WIRE_ERR("message of %zu bytes", size);
	}
	memcpy(head, data, 8);
	if ((head[1] >> 16) != size || size % 4 != 0) {
		WIRE_ERR("message size %u disagrees with its %zu bytes", head[1] >> 16, size);
	}
	memset(msg, 0, sizeof(*msg));
	msg->object = head[0];
	msg->opcode = head[1] & 0xffff;
	const struct wire_object *obj = object_get(o, msg->object);
	if (obj == NULL) {
		WIRE_ERR("message to unknown object %u", msg->object);
	}
	const struct wl_interface *iface = obj->interface;
	uint32_t version = obj->version;
	int count = dir == BH_RELAY_REQUEST ? iface->method_count : iface->event_count;
	if ((int)msg->opcode >= count) {
		WIRE_ERR("%s %u has no %s with opcode %u", iface->name, msg->object,
			dir == BH_RELAY_REQUEST ? "request" : "event", msg->opcode);
	}
	const struct wl_message *m = dir == BH_RELAY_REQUEST ? &iface->methods[msg->opcode]
							     : &iface->events[msg->opcode];
	msg->interface = iface->name;
	msg->name = m->name;
	const char *sig = m->signature;
	uint32_t since = 0;
	while (*sig >= '0' && *sig <= '9') {
		since = since * 10 + (uint32_t)(*sig - '0');
		sig++;
	}
	if (since > version) {
		WIRE_ERR("%s.%s needs version %u, the object has %u", iface->name, m->name, since,
			version);
	}
	size_t pos = 8;
	int type_index = 0;
	bool nullable = false;
	/* new objects are created once the whole message is valid */
	uint32_t new_id = 0, new_version = version;
	const struct wl_interface *new_iface = NULL;
	for (; *sig != '\0'; sig++) {
		char c = *sig;
		if (c == '?') {
			nullable = true;
			continue;
		}
		if (msg->nargs + 3 > BH_RELAY_MAX_ARGS) {
			WIRE_ERR("%s.%s has too many arguments", iface->name, m->name);
		}
		const struct wl_interface *type = m->types[type_index++];
		uint32_t word = 0;
		if (c != 'h') {
			if (size - pos < 4) {
				WIRE_ERR("%s.%s is shorter than its signature", iface->name,
					m->name);
			}
			memcpy(&word, data + pos, 4);
			pos += 4;
		}
		switch (c) {
		case 'i':
		case 'u':
		case 'f':
			msg->args[msg->nargs++] = word;
			break;
		case 'h':
			msg->args[msg->nargs++] = 0;
			msg->nfds++;
			break;
		case 'o':
			if (word == 0 && !nullable) {
				WIRE_ERR("%s.%s: null object where one is required", iface->name,
					m->name);
			}
			if (word != 0 && object_get(o, word) == NULL) {
				WIRE_ERR("%s.%s refers to unknown object %u", iface->name, m->name,
					word);
			}
			msg->args[msg->nargs++] = word;
			break;
		case 's':
		case 'a': {
			size_t len = word;
			size_t padded = (len + 3) & ~(size_t)3;
			if (len > size - pos || padded > size - pos) {
				WIRE_ERR("%s.%s: %s of %zu bytes is longer than the message",
					iface->name, m->name, c == 's' ? "string" : "array", len);
			}
			if (c == 's') {
				if (len == 0 && !nullable) {
					WIRE_ERR("%s.%s: null string where one is required",
						iface->name, m->name);
				}
				if (len > 0 && (data[pos + len - 1] != '\0' ||
						       memchr(data + pos, '\0', len - 1) != NULL)) {
					WIRE_ERR("%s.%s: string not terminated by its NUL",
						iface->name, m->name);
				}
				msg->str[msg->nargs] = len > 0 ? (const char *)data + pos : NULL;
			}
			msg->args[msg->nargs++] = (uint32_t)pos;
			pos += padded;
			break;
		}
		case 'n':
			if (type == NULL) {
				/* The signature spells an untyped new_id as "sun":
				 * the interface name and version came just before. */
				if (msg->nargs < 2 || msg->str[msg->nargs - 2] == NULL) {
					WIRE_ERR("%s.%s: new id without an interface", iface->name,
						m->name);
				}
				const char *name = msg->str[msg->nargs - 2];
				new_version = msg->args[msg->nargs - 1];
				new_iface = interface_by_name(name);
				if (new_iface == NULL) {
					WIRE_ERR("%s.%s of unknown interface %.64s", iface->name,
						m->name, name);
				}
				/* unsigned: a version with the top bit set must not
				 * pass as a negative int */
				if (new_version == 0 ||
					new_version > (uint32_t)new_iface->version) {
					WIRE_ERR("%s.%s of %s version %u, known up to %d",
						iface->name, m->name, name, new_version,
						new_iface->version);
				}
			} else {
				new_iface = type;
			}
			if (new_id != 0) {
				WIRE_ERR("%s.%s creates two objects", iface->name, m->name);
			}
			if (word == 0) {
				WIRE_ERR("%s.%s: new id 0", iface->name, m->name);
			}
			new_id = word;
			msg->args[msg->nargs++] = word;
			break;
		default:
			WIRE_ERR("%s.%s: bad signature", iface->name, m->name);
		}
		nullable = false;
	}
	if (pos != size) {
		WIRE_ERR("%s.%s is %zu bytes, its arguments take %zu", iface->name, m->name, size,
			pos);
	}
	if (new_id != 0 && !object_create(o, dir, new_id, new_iface, new_version, err, err_size)) {
		return false;
	}
	/* The compositor frees a client id with wl_display.delete_id. */
	if (dir == BH_RELAY_EVENT && msg->object == 1 && msg->opcode == 1) {
		uint32_t id = msg->args[0];
		if (id == 1) {
			WIRE_ERR("wl_display.delete_id of wl_display itself");
		}
		struct wire_object *dead = id < SERVER_ID_BASE ? object_slot(o, id, false) : NULL;
		if (dead != NULL && dead->interface != NULL) {
			dead->interface = NULL;
			o->count--;
		}
	}
	return true;
}
