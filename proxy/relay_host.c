/* The host end of the Wayland relay (see relay_host.h): the handlers of the
 * relay table's messages that concern the host, the relay frames from the
 * agent, and the tagged connection to the compositor. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lz4.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "common/allowlist.h"
#include "common/channel.h"
#include "common/endpoint.h"
#include "common/le.h"
#include "common/log.h"
#include "common/relay.h"
#include "common/relay_pipes.h"
#include "common/util.h"
#include "proxy/proxy.h"
#include "proxy/relay_host.h"
#include "proxy/shm.h"

/* An fd announced by the agent, waiting for the message that carries it. */
struct placeholder {
	uint8_t kind;   /* BH_RELAY_FD_SHM, BH_RELAY_FD_PIPE or BH_RELAY_FD_REGION */
	uint32_t value; /* pool serial or pipe stream id */
	uint64_t size;
};

/* A global shown to the client, so a bind can be checked. */
struct shown_global {
	uint32_t name;
	const struct bh_guest_global *global;
	uint32_t version;
};

struct bh_relay_host {
	char tag[128];
	struct bh_proxy *proxy; /* NULL in tests */
	struct bh_stream *stream;
	struct bh_vm_client_request *request;
	struct bh_wl_conn conn; /* fd -1 until the compositor answers */
	struct wl_event_source *source;
	uint32_t mask; /* the events source waits for */
	struct bh_wl_wire wire;
	struct bh_host_pools pools;
	struct placeholder ph[BH_RELAY_MAX_FDS];
	size_t nph;
	/* client object id -> its pool, for wl_shm_pool and wl_buffer */
	struct obj *obj_pool;
	size_t obj_len;
	/* The slots of the shared region its buffers use (one client's
	 * buffers never overlap), and its pools on the region. */
	struct bh_region_slots slots;
	size_t region_pools;
	struct shown_global *shown;
	size_t nshown, shown_cap;
	bool read_blocked; /* the stream to the agent is over high water */
	/* Buffer data: bytes written into pools, and the frames' bytes that
	 * carried them (less when compressed). */
	uint64_t shm_bytes, shm_wire;
	bool destroying;
	/* BATCH_CAP bytes, allocated apart and not zeroed: a client that
	 * sends little never touches most of it. */
	uint8_t *batch;
	size_t batch_len, max_payload;
	char error[320];
};

/* What a client's wl_shm_pool or wl_buffer id stands for on the host. */
enum obj_kind {
	OBJ_NONE,
	OBJ_SHM,           /* a pool or buffer of host pool `pool` */
	OBJ_REGION_POOL,   /* a pool on the shared region */
	OBJ_REGION_BUFFER, /* a buffer at slot `slot` of the shared region */
};
struct obj {
	uint8_t kind;
	uint32_t pool;
	uint64_t slot;
};

#define BATCH_CAP (64u * 1024u)

static struct bh_relay_pipes *proxy_pipes;
static bool accept_lz4;
static const struct bh_host_region *shared_region;

void bh_relay_host_set_region(const struct bh_host_region *region)
{
	shared_region = region;
}

void bh_relay_host_set_compression(bool lz4)
{
	accept_lz4 = lz4;
}
static uint8_t scratch[64 * 1024];

static bool client_error(struct bh_relay_host *client, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool client_error(struct bh_relay_host *client, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(client->error, sizeof(client->error), fmt, args);
	va_end(args);
	bh_log(BH_LOG_ERROR,
		"tag %s: guest Wayland client (stream %u) ended: %s (only this app is closed; "
		"restart it in the VM)",
		client->tag, client->stream ? bh_stream_id(client->stream) : 0, client->error);
	return false;
}

size_t bh_relay_host_queued(const struct bh_relay_host *client)
{
	return bh_wl_conn_pending(&client->conn);
}

const char *bh_relay_host_error(const struct bh_relay_host *client)
{
	return client->error;
}

static struct obj *obj_pool_slot(struct bh_relay_host *client, uint32_t id, bool create)
{
	/* The walker has bounded ids already; a table that grows with a
	 * guest's ids checks the bound itself all the same. */
	if (id == 0 || id >= BH_WL_ID_RANGE) {
		return NULL;
	}
	if (id >= client->obj_len) {
		if (!create) {
			return NULL;
		}
		size_t len = client->obj_len ? client->obj_len : 64;
		while (len <= id) {
			len *= 2;
		}
		struct obj *p = bh_table_grow(client->obj_pool, client->obj_len, len, sizeof(*p));
		if (p == NULL) {
			return NULL;
		}
		client->obj_pool = p;
		client->obj_len = len;
	}
	return &client->obj_pool[id];
}

static void pool_release(struct bh_relay_host *client, uint32_t id)
{
	struct obj *o = obj_pool_slot(client, id, false);
	if (o == NULL) {
		return;
	}
	if (o->kind == OBJ_SHM) {
		struct bh_host_pool *pool = bh_host_pool_find(&client->pools, o->pool);
		if (pool != NULL) {
			bh_host_pool_unref(&client->pools, pool);
		}
	} else if (o->kind == OBJ_REGION_BUFFER) {
		bh_region_slot_release(&client->slots, o->slot, client);
	} else if (o->kind == OBJ_REGION_POOL) {
		client->region_pools--;
	}
	memset(o, 0, sizeof(*o));
}

/* One message of either direction, as its handler sees it. */
struct host_msg {
	const struct bh_wl_msg *m;
	const char *interface; /* m's interface name, for messages */
	/* requests: the fd frame that stood for its fd */
	struct placeholder ph;
	/* events: the message's bytes (rewritable in place), the fd it
	 * carries (the handler takes it), and whether it goes on at all */
	uint8_t *data;
	size_t size;
	int fd;
	bool pass;
};

typedef bool (*host_handler)(struct bh_relay_host *client, struct host_msg *msg);

static bool take_placeholder(struct bh_relay_host *client, uint8_t kind, struct host_msg *msg)
{
	/* A pool's fd is a pool of its own or the shared region. */
	uint8_t alt = kind == BH_RELAY_FD_SHM ? BH_RELAY_FD_REGION : kind;
	if (client->nph == 0) {
		return client_error(client, "%s.%s carries an fd the agent did not announce",
			msg->interface, msg->m->name);
	}
	msg->ph = client->ph[0];
	client->nph--;
	memmove(client->ph, client->ph + 1, client->nph * sizeof(client->ph[0]));
	if (msg->ph.kind != kind && msg->ph.kind != alt) {
		return client_error(client, "%s.%s got an fd of the wrong kind (%u, expected %u)",
			msg->interface, msg->m->name, msg->ph.kind, kind);
	}
	return true;
}

/* ---- requests from the guest ---- */

/* bind(name, interface, version, id) */
static bool request_bind(struct bh_relay_host *client, struct host_msg *msg)
{
	const struct bh_wl_msg *m = msg->m;
	uint32_t name = m->args[0];
	const char *iface = m->str[1];
	uint32_t version = m->args[2];
	for (size_t i = 0; i < client->nshown; i++) {
		struct shown_global *g = &client->shown[i];
		if (g->name != name) {
			continue;
		}
		const char *shown = g->global->interface->name;
		if (iface == NULL || strcmp(iface, shown) != 0) {
			return client_error(client, "bind of global %u as %s, but it is %s", name,
				iface ? iface : "(none)", shown);
		}
		if (version == 0 || version > g->version) {
			return client_error(client, "bind of %s version %u, allowed 1..%u", shown,
				version, g->version);
		}
		return true;
	}
	return client_error(client, "bind of global %u (%s), which it was not shown", name,
		iface ? iface : "?");
}

/* create_pool(new_id, fd, size) on the shared region: the pool is all of
 * it, and the region's own fd goes to the compositor. */
static bool request_create_region_pool(struct bh_relay_host *client, struct host_msg *msg)
{
	const struct bh_wl_msg *m = msg->m;
	const struct bh_host_region *region = shared_region;
	if (region == NULL || !region->active) {
		return client_error(client, "a pool on the shared region, which this tag has not");
	}
	if ((uint64_t)(int32_t)m->args[2] != region->size) {
		return client_error(client,
			"a pool on the shared region of %" PRId32 " bytes, but it has %" PRIu64,
			(int32_t)m->args[2], region->size);
	}
	if (client->region_pools + client->pools.count >= BH_RELAY_MAX_POOLS) {
		return client_error(client, "more than %d shm pools", BH_RELAY_MAX_POOLS);
	}
	struct obj *o = obj_pool_slot(client, m->args[0], true);
	int fd = o != NULL ? fcntl(region->fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (fd < 0) {
		return client_error(client, "out of memory or fds for a pool");
	}
	if (client->slots.size == 0) {
		bh_region_slots_init(&client->slots, region->size);
	}
	*o = (struct obj){.kind = OBJ_REGION_POOL};
	client->region_pools++;
	if (!bh_wl_conn_queue_fd(&client->conn, fd)) {
		return client_error(client, "too many fds queued for the compositor");
	}
	return true;
}

/* create_pool(new_id, fd, int size): the fd becomes a host pool of ours. */
static bool request_create_pool(struct bh_relay_host *client, struct host_msg *msg)
{
	if (msg->ph.kind == BH_RELAY_FD_REGION) {
		return request_create_region_pool(client, msg);
	}
	const struct bh_wl_msg *m = msg->m;
	int32_t size = (int32_t)m->args[2];
	if (size <= 0 || (uint64_t)size != msg->ph.size) {
		return client_error(client,
			"create_pool of %" PRId32 " bytes, but the pool announced has %" PRIu64,
			size, msg->ph.size);
	}
	if (msg->ph.value == 0) {
		return client_error(client, "shm pool number 0 is reserved");
	}
	char err[256];
	struct bh_host_pool *pool =
		bh_host_pool_create(&client->pools, msg->ph.value, msg->ph.size, err, sizeof(err));
	if (pool == NULL) {
		return client_error(client, "%s", err);
	}
	struct obj *o = obj_pool_slot(client, m->args[0], true);
	int fd = o != NULL ? fcntl(pool->fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (fd < 0) {
		bh_host_pool_unref(&client->pools, pool);
		return client_error(client, "out of memory or fds for a pool");
	}
	*o = (struct obj){.kind = OBJ_SHM, .pool = pool->serial};
	if (!bh_wl_conn_queue_fd(&client->conn, fd)) {
		return client_error(client, "too many fds queued for the compositor");
	}
	return true;
}

/* The pool a wl_shm_pool request is sent to: a host pool, or NULL with
 * *region set for a pool on the shared region (else the client ended). */
static struct bh_host_pool *request_pool(
	struct bh_relay_host *client, const struct bh_wl_msg *m, bool *region)
{
	struct obj *o = obj_pool_slot(client, m->object, false);
	*region = o != NULL && o->kind == OBJ_REGION_POOL;
	struct bh_host_pool *pool =
		o != NULL && o->kind == OBJ_SHM ? bh_host_pool_find(&client->pools, o->pool) : NULL;
	if (pool == NULL && !*region) {
		client_error(client, "wl_shm_pool %u has no pool", m->object);
	}
	return pool;
}

/* create_buffer(new_id, offset, width, height, stride, format) on the
 * shared region: offset names a slot, which must lie inside the region and
 * overlap none of this client's buffers still in use. */
static bool region_buffer(struct bh_relay_host *client, const struct bh_wl_msg *m, struct obj *b)
{
	char err[256];
	int32_t offset = (int32_t)m->args[1];
	uint64_t span = bh_region_buffer_span(
		(int32_t)m->args[2], (int32_t)m->args[3], (int32_t)m->args[4], err, sizeof(err));
	if (span == 0 || offset < 0 ||
		!bh_region_slot_claim(&client->slots, (uint64_t)offset, span, client, err,
			sizeof(err))) {
		return client_error(client, "%s", offset < 0 ? "a buffer at a negative offset" : err);
	}
	*b = (struct obj){.kind = OBJ_REGION_BUFFER, .slot = (uint64_t)offset};
	return true;
}

/* create_buffer(new_id, ...): the buffer keeps its pool alive. */
static bool request_create_buffer(struct bh_relay_host *client, struct host_msg *msg)
{
	bool region;
	struct bh_host_pool *pool = request_pool(client, msg->m, &region);
	if (pool == NULL && !region) {
		return false;
	}
	struct obj *b = obj_pool_slot(client, msg->m->args[0], true);
	if (b == NULL) {
		return client_error(client, "out of memory");
	}
	if (b->kind != OBJ_NONE) {
		return client_error(client, "wl_buffer %u already exists", msg->m->args[0]);
	}
	if (region) {
		return region_buffer(client, msg->m, b);
	}
	*b = (struct obj){.kind = OBJ_SHM, .pool = pool->serial};
	pool->refs++;
	return true;
}

/* wl_shm_pool.destroy and wl_buffer.destroy */
static bool request_release_pool(struct bh_relay_host *client, struct host_msg *msg)
{
	pool_release(client, msg->m->object);
	return true;
}

static bool request_pool_resize(struct bh_relay_host *client, struct host_msg *msg)
{
	bool region;
	struct bh_host_pool *pool = request_pool(client, msg->m, &region);
	if (region) {
		/* The agent never passes one on: the region is the size it is. */
		return client_error(client, "a resize of a pool on the shared region");
	}
	if (pool == NULL) {
		return false;
	}
	int32_t size = (int32_t)msg->m->args[0];
	char err[256];
	if (size <= 0 ||
		!bh_host_pool_resize(&client->pools, pool, (uint64_t)size, err, sizeof(err))) {
		return client_error(
			client, "resize to %" PRId32 ": %s", size, size <= 0 ? "not a size" : err);
	}
	return true;
}

/* receive(mime, fd): the agent's pipe stream stands for the fd. */
static bool request_receive(struct bh_relay_host *client, struct host_msg *msg)
{
	if (proxy_pipes == NULL || client->stream == NULL) {
		return client_error(client, "pipes cannot be relayed here");
	}
	int fd =
		bh_relay_pipe_claim(proxy_pipes, bh_stream_endpoint(client->stream), msg->ph.value);
	if (fd < 0) {
		return client_error(client, "pipe stream %u cannot be used", msg->ph.value);
	}
	if (!bh_wl_conn_queue_fd(&client->conn, fd)) {
		return client_error(client, "too many fds queued for the compositor");
	}
	return true;
}

/* ---- events from the compositor ---- */

static bool send_frame(struct bh_relay_host *client, const void *data, size_t len);
static bool flush_batch(struct bh_relay_host *client);
static bool send_file(struct bh_relay_host *client, int fd, uint32_t size);

/* global(name, interface, version): only allowed globals, at most at their
 * cap; remembered so that a bind can be checked. */
static bool event_global(struct bh_relay_host *client, struct host_msg *msg)
{
	const struct bh_wl_msg *m = msg->m;
	const struct bh_guest_global *allowed = bh_guest_global_find(m->str[1]);
	if (allowed == NULL) {
		msg->pass = false; /* hidden */
		return true;
	}
	uint32_t cap = bh_guest_global_version(allowed);
	uint32_t version = m->args[2] < cap ? m->args[2] : cap;
	if (client->nshown == client->shown_cap) {
		size_t n = client->shown_cap ? client->shown_cap * 2 : 32;
		struct shown_global *s = realloc(client->shown, n * sizeof(*s));
		if (s == NULL) {
			return client_error(client, "out of memory");
		}
		client->shown = s;
		client->shown_cap = n;
	}
	client->shown[client->nshown++] = (struct shown_global){
		.name = m->args[0],
		.global = allowed,
		.version = version,
	};
	/* version is the last word; Wayland's byte order is the host's */
	memcpy(msg->data + msg->size - 4, &version, 4);
	return true;
}

static bool event_global_remove(struct bh_relay_host *client, struct host_msg *msg)
{
	for (size_t i = 0; i < client->nshown; i++) {
		if (client->shown[i].name == msg->m->args[0]) {
			client->shown[i] = client->shown[--client->nshown];
			return true;
		}
	}
	msg->pass = false; /* never shown */
	return true;
}

/* keymap(format, fd, size): the file goes by content. */
static bool event_keymap(struct bh_relay_host *client, struct host_msg *msg)
{
	bool ok = send_file(client, msg->fd, msg->m->args[2]);
	close(msg->fd);
	return ok;
}

/* send(mime, fd): the compositor reads what the guest writes, through a
 * pipe stream we open. */
static bool event_send(struct bh_relay_host *client, struct host_msg *msg)
{
	uint32_t id;
	if (proxy_pipes == NULL || client->stream == NULL) {
		close(msg->fd);
		return client_error(client, "pipes cannot be relayed here");
	}
	if (!bh_relay_pipe_sink_open(
		    proxy_pipes, bh_stream_endpoint(client->stream), msg->fd, &id)) {
		return client_error(
			client, "could not open a pipe stream for %s.send", msg->interface);
	}
	uint8_t frame[BH_RELAY_FD_PIPE_LEN] = {BH_RELAY_FD_PIPE};
	bh_le32_put(frame + 1, id);
	return flush_batch(client) && send_frame(client, frame, sizeof(frame));
}

/* The host's handlers of the relay table (common/relay.c). */
static const host_handler handlers[BH_RELAY_OP_COUNT] = {
	[BH_RELAY_OP_BIND] = request_bind,
	[BH_RELAY_OP_CREATE_POOL] = request_create_pool,
	[BH_RELAY_OP_CREATE_BUFFER] = request_create_buffer,
	[BH_RELAY_OP_POOL_DESTROY] = request_release_pool,
	[BH_RELAY_OP_POOL_RESIZE] = request_pool_resize,
	[BH_RELAY_OP_BUFFER_DESTROY] = request_release_pool,
	[BH_RELAY_OP_RECEIVE] = request_receive,
	[BH_RELAY_OP_GLOBAL] = event_global,
	[BH_RELAY_OP_GLOBAL_REMOVE] = event_global_remove,
	[BH_RELAY_OP_KEYMAP] = event_keymap,
	[BH_RELAY_OP_SEND] = event_send,
};

/* The handler of a message (NULL: it passes as bytes) and the frame that
 * stands for its fd. One that carries an fd must have a rule naming that
 * fd and a handler here. */
static bool find_handler(struct bh_relay_host *client, enum bh_wl_dir dir, struct host_msg *msg,
	host_handler *handler, uint8_t *fd_kind)
{
	const struct bh_relay_rule *rule = bh_relay_rule_find(dir, msg->m);
	*handler = rule != NULL ? handlers[rule->op] : NULL;
	*fd_kind = rule != NULL ? rule->fd : 0;
	if (msg->m->nfds > 0 && (*fd_kind == 0 || *handler == NULL)) {
		return client_error(client, "%s.%s%s carries an fd, which is not relayed",
			msg->interface, msg->m->name,
			dir == BH_WL_EVENT ? " from the compositor" : "");
	}
	return true;
}

static bool handle_request(struct bh_relay_host *client, const uint8_t *data, size_t size)
{
	struct bh_wl_msg m;
	char err[256];
	if (!bh_wl_wire_parse(&client->wire, BH_WL_REQUEST, data, size, &m, err, sizeof(err))) {
		return client_error(client, "%s", err);
	}
	struct host_msg msg = {.m = &m, .interface = bh_wl_msg_interface(&m), .fd = -1};
	host_handler handler;
	uint8_t fd_kind;
	if (!find_handler(client, BH_WL_REQUEST, &msg, &handler, &fd_kind)) {
		return false;
	}
	if (m.nfds > 0 && !take_placeholder(client, fd_kind, &msg)) {
		return false;
	}
	if (handler != NULL && !handler(client, &msg)) {
		return false;
	}
	if (!bh_wl_conn_queue(&client->conn, data, size)) {
		return client_error(client, "the compositor does not read this client's requests");
	}
	return true;
}

static bool handle_messages(struct bh_relay_host *client, const uint8_t *p, size_t len)
{
	while (len > 0) {
		size_t size = bh_wl_message_size(p, len);
		if (size == 0) {
			return client_error(client,
				"a Wayland message in its relay frame has an invalid size or is "
				"cut "
				"(%zu bytes left)",
				len);
		}
		if (!handle_request(client, p, size)) {
			return false;
		}
		p += size;
		len -= size;
	}
	return true;
}

static void client_update_mask(struct bh_relay_host *client);

/* BH_RELAY_SHM_GPA: pieces of the guest's memory copied into one of the
 * client's buffers in the region, every one checked first. */
static bool copy_guest_memory(struct bh_relay_host *client, const uint8_t *payload, size_t len)
{
	const struct bh_host_region *region = shared_region;
	if (region == NULL || !region->ram.on || region->map == NULL) {
		return client_error(client, "buffer data named in guest memory, which the host "
					    "does not read for this tag");
	}
	if (len < BH_RELAY_SHM_GPA_HEAD + BH_RELAY_SHM_GPA_PIECE ||
		(len - BH_RELAY_SHM_GPA_HEAD) % BH_RELAY_SHM_GPA_PIECE != 0) {
		return client_error(client, "guest-memory buffer data frame of %zu bytes", len);
	}
	uint64_t dest = bh_le64_get(payload + 1), total = 0;
	size_t n = (len - BH_RELAY_SHM_GPA_HEAD) / BH_RELAY_SHM_GPA_PIECE;
	for (size_t i = 0; i < n; i++) {
		total += bh_le32_get(
			payload + BH_RELAY_SHM_GPA_HEAD + i * BH_RELAY_SHM_GPA_PIECE + 8);
	}
	/* n pieces of at most 4 GiB each: no overflow. */
	if (!bh_region_slot_holds(&client->slots, dest, total)) {
		return client_error(client,
			"guest memory copied to %" PRIu64 "+%" PRIu64
			" of the shared region, which is not inside one of its buffers",
			dest, total);
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = payload + BH_RELAY_SHM_GPA_HEAD + i * BH_RELAY_SHM_GPA_PIECE;
		uint32_t piece = bh_le32_get(p + 8);
		char err[256];
		const uint8_t *from =
			bh_guest_ram_span(&region->ram, bh_le64_get(p), piece, err, sizeof(err));
		if (from == NULL) {
			return client_error(client, "%s", err);
		}
		memcpy(region->map + dest, from, piece);
		dest += piece;
	}
	client->shm_bytes += total;
	client->shm_wire += len;
	return true;
}

bool bh_relay_host_handle_frame(struct bh_relay_host *client, const uint8_t *payload, size_t len)
{
	if (len == 0) {
		return client_error(client, "empty relay frame");
	}
	switch (payload[0]) {
	case BH_RELAY_WL:
		if (!handle_messages(client, payload + 1, len - 1)) {
			return false;
		}
		break;
	case BH_RELAY_FD_SHM:
	case BH_RELAY_FD_PIPE:
	case BH_RELAY_FD_REGION: {
		size_t want = payload[0] == BH_RELAY_FD_SHM ? BH_RELAY_FD_SHM_LEN :
			      payload[0] == BH_RELAY_FD_PIPE ? BH_RELAY_FD_PIPE_LEN :
							       BH_RELAY_FD_REGION_LEN;
		if (len != want) {
			return client_error(client, "relay fd frame %u of %zu bytes, expected %zu",
				payload[0], len, want);
		}
		if (client->nph == BH_RELAY_MAX_FDS) {
			return client_error(client,
				"more than %d fds announced ahead of their messages",
				BH_RELAY_MAX_FDS);
		}
		struct placeholder *ph = &client->ph[client->nph++];
		ph->kind = payload[0];
		ph->value = bh_le32_get(payload + 1);
		ph->size = payload[0] == BH_RELAY_FD_SHM ? bh_le64_get(payload + 5) : 0;
		if (ph->kind == BH_RELAY_FD_SHM &&
			(ph->size == 0 || ph->size > BH_RELAY_MAX_POOL_SIZE)) {
			return client_error(client,
				"shm pool of %" PRIu64 " bytes announced, the limit is %u",
				ph->size, BH_RELAY_MAX_POOL_SIZE);
		}
		break;
	}
	case BH_RELAY_SHM_DATA:
	case BH_RELAY_SHM_LZ4: {
		/* u32 pool, u64 offset, then the bytes, or (LZ4) u32 length
		 * and the block that expands to them. */
		bool lz4 = payload[0] == BH_RELAY_SHM_LZ4;
		size_t head = lz4 ? BH_RELAY_SHM_LZ4_HEAD : BH_RELAY_SHM_HEAD;
		if (lz4 && !accept_lz4) {
			return client_error(
				client, "compressed buffer data, but none was asked for");
		}
		if (len < head) {
			return client_error(client, "short buffer data frame (%zu bytes)", len);
		}
		uint32_t serial = bh_le32_get(payload + 1);
		size_t raw = lz4 ? bh_le32_get(payload + BH_RELAY_SHM_HEAD) : len - head;
		struct bh_host_pool *pool = bh_host_pool_find(&client->pools, serial);
		if (pool == NULL) {
			return client_error(
				client, "buffer data for unknown shm pool %" PRIu32, serial);
		}
		if (raw > BH_CHANNEL_MAX_PAYLOAD) {
			return client_error(client, "compressed buffer data over 64 KiB");
		}
		char err[256];
		uint8_t *dest =
			bh_host_pool_span(pool, bh_le64_get(payload + 5), raw, err, sizeof(err));
		if (dest == NULL) {
			return client_error(client, "%s", err);
		}
		if (!lz4) {
			memcpy(dest, payload + head, raw);
		} else if (LZ4_decompress_safe((const char *)payload + head, (char *)dest,
				   (int)(len - head), (int)raw) != (int)raw) {
			/* It never writes past raw bytes, whatever the input. */
			return client_error(client,
				"compressed buffer data does not expand to its %zu bytes", raw);
		}
		client->shm_bytes += raw;
		client->shm_wire += len;
		break;
	}
	case BH_RELAY_SHM_GPA:
		if (!copy_guest_memory(client, payload, len)) {
			return false;
		}
		break;
	default:
		return client_error(client, "relay frame of unknown type %u", payload[0]);
	}
	if (client->conn.fd >= 0) {
		if (bh_wl_conn_flush(&client->conn) < 0) {
			return client_error(
				client, "writing to the compositor: %s", strerror(errno));
		}
	}
	if (client->stream != NULL && bh_wl_conn_pending(&client->conn) > BH_RELAY_OUT_HIGH) {
		/* The compositor is slow: hold back channel credit instead of
		 * buffering without bound. */
		bh_stream_set_paused(client->stream, true);
	}
	client_update_mask(client);
	return true;
}

/* ---- frames to the agent ---- */

static bool send_frame(struct bh_relay_host *client, const void *data, size_t len)
{
	if (client->stream == NULL) {
		return true; /* tests: events are dropped */
	}
	errno = 0;
	if (bh_stream_send(client->stream, data, len)) {
		return true;
	}
	if (bh_relay_send_refused(errno)) {
		return client_error(client, "the channel refused a frame: %s", strerror(errno));
	}
	client->read_blocked = true;
	return true;
}

static bool flush_batch(struct bh_relay_host *client)
{
	if (client->batch_len <= 1) {
		return true;
	}
	size_t len = client->batch_len;
	client->batch_len = 1;
	return send_frame(client, client->batch, len);
}

static bool send_file(struct bh_relay_host *client, int fd, uint32_t size)
{
	if (size > BH_RELAY_MAX_FILE_SIZE) {
		return client_error(
			client, "a %u-byte file from the compositor is over the limit", size);
	}
	uint8_t head[BH_RELAY_FD_FILE_LEN] = {BH_RELAY_FD_FILE};
	bh_le32_put(head + 1, size);
	if (!flush_batch(client) || !send_frame(client, head, sizeof(head))) {
		return false;
	}
	size_t room = client->max_payload - 1;
	uint32_t done = 0;
	while (done < size) {
		size_t n = size - done < room ? size - done : room;
		scratch[0] = BH_RELAY_FD_FILE_DATA;
		ssize_t r = pread(fd, scratch + 1, n, done);
		if (r <= 0) {
			return client_error(client, "reading a file from the compositor failed");
		}
		if (!send_frame(client, scratch, 1 + (size_t)r)) {
			return false;
		}
		done += (uint32_t)r;
	}
	return true;
}

static bool handle_event(struct bh_relay_host *client, uint8_t *data, size_t size)
{
	struct bh_wl_msg m;
	char err[256];
	if (!bh_wl_wire_parse(&client->wire, BH_WL_EVENT, data, size, &m, err, sizeof(err))) {
		return client_error(client, "event from the compositor: %s", err);
	}
	struct host_msg msg = {
		.m = &m,
		.interface = bh_wl_msg_interface(&m),
		.data = data,
		.size = size,
		.fd = -1,
		.pass = true,
	};
	if (m.nfds > client->conn.in_nfds) {
		return client_error(
			client, "%s.%s from the compositor lacks its fd", msg.interface, m.name);
	}
	host_handler handler;
	uint8_t fd_kind;
	if (!find_handler(client, BH_WL_EVENT, &msg, &handler, &fd_kind)) {
		return false;
	}
	if (m.nfds > 0) {
		msg.fd = bh_wl_conn_take_fd(&client->conn);
	}
	if (handler != NULL && !handler(client, &msg)) {
		return false;
	}
	if (!msg.pass) {
		return true;
	}
	if (client->batch_len + size > client->max_payload && !flush_batch(client)) {
		return false;
	}
	memcpy(client->batch + client->batch_len, data, size);
	client->batch_len += size;
	return true;
}

bool bh_relay_host_feed_events(struct bh_relay_host *client, const uint8_t *data, size_t len)
{
	while (len > 0) {
		size_t room = sizeof(client->conn.in) - client->conn.in_len;
		size_t n = len < room ? len : room;
		memcpy(client->conn.in + client->conn.in_len, data, n);
		client->conn.in_len += n;
		data += n;
		len -= n;
		int size;
		while ((size = bh_wl_conn_next(&client->conn)) > 0) {
			if (!handle_event(client, client->conn.in, (size_t)size)) {
				return false;
			}
			bh_wl_conn_consume(&client->conn, (size_t)size);
		}
		if (size < 0) {
			return client_error(
				client, "the compositor sent a message with a bad size");
		}
		if (n == 0) {
			return client_error(client, "events do not fit the input buffer");
		}
	}
	return flush_batch(client);
}

static void client_end(struct bh_relay_host *client)
{
	if (client->stream != NULL) {
		struct bh_stream *stream = client->stream;
		client->stream = NULL;
		bh_stream_close(stream, client->error[0] ? client->error : NULL);
	}
	bh_relay_host_destroy(client);
}

static int client_handle_fd(int fd, uint32_t mask, void *data)
{
	struct bh_relay_host *client = data;
	if (mask & WL_EVENT_WRITABLE) {
		if (bh_wl_conn_flush(&client->conn) < 0) {
			client_error(client, "writing to the compositor: %s", strerror(errno));
			client_end(client);
			return 0;
		}
		if (client->stream != NULL &&
			bh_wl_conn_pending(&client->conn) < BH_RELAY_OUT_HIGH / 4) {
			bh_stream_set_paused(client->stream, false);
		}
	}
	if ((mask & WL_EVENT_READABLE) && !client->read_blocked) {
		ssize_t n = bh_wl_conn_read(&client->conn);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			/* The compositor closed the connection (after a protocol
			 * error it has already sent wl_display.error). */
			int size;
			while ((size = bh_wl_conn_next(&client->conn)) > 0 &&
				handle_event(client, client->conn.in, (size_t)size)) {
				bh_wl_conn_consume(&client->conn, (size_t)size);
			}
			flush_batch(client);
			bh_log(BH_LOG_INFO, "tag %s: the compositor closed guest client stream %u",
				client->tag, client->stream ? bh_stream_id(client->stream) : 0);
			client_end(client);
			return 0;
		}
		int size;
		while ((size = bh_wl_conn_next(&client->conn)) > 0) {
			if (!handle_event(client, client->conn.in, (size_t)size)) {
				client_end(client);
				return 0;
			}
			bh_wl_conn_consume(&client->conn, (size_t)size);
		}
		if (size < 0) {
			client_error(client, "the compositor sent a message with a bad size");
			client_end(client);
			return 0;
		}
		if (!flush_batch(client)) {
			client_end(client);
			return 0;
		}
	}
	client_update_mask(client);
	return 0;
}

static void client_update_mask(struct bh_relay_host *client)
{
	if (client->source == NULL) {
		return;
	}
	uint32_t mask = client->read_blocked ? 0 : WL_EVENT_READABLE;
	if (bh_wl_conn_pending(&client->conn) > 0) {
		mask |= WL_EVENT_WRITABLE;
	}
	/* Unchanged (the usual case) costs no system call. */
	if (mask != client->mask) {
		client->mask = mask;
		wl_event_source_fd_update(client->source, mask);
	}
}

/* ---- the stream ---- */

static bool stream_data(struct bh_stream *stream, const uint8_t *payload, size_t len, void *user)
{
	struct bh_relay_host *client = user;
	if (!bh_relay_host_handle_frame(client, payload, len)) {
		client->stream = NULL;
		bh_stream_fail(stream, "%s", client->error);
		bh_relay_host_destroy(client);
		return false;
	}
	return true;
}

/* Buffer data arriving in pieces goes straight into the host pool; any
 * other message, or one the checks would refuse, takes stream_data. */
static uint8_t *stream_place(
	struct bh_stream *stream, const uint8_t *prefix, size_t len, void *user)
{
	struct bh_relay_host *client = user;
	const size_t head = BH_RELAY_SHM_HEAD;
	if (prefix[0] != BH_RELAY_SHM_DATA || len < BH_CHANNEL_PLACE_PREFIX) {
		return NULL;
	}
	struct bh_host_pool *pool = bh_host_pool_find(&client->pools, bh_le32_get(prefix + 1));
	char err[160];
	uint8_t *dest = pool != NULL ? bh_host_pool_span(pool, bh_le64_get(prefix + 5), len - head,
					       err, sizeof(err))
				     : NULL;
	if (dest == NULL) {
		return NULL;
	}
	memcpy(dest, prefix + head, BH_CHANNEL_PLACE_PREFIX - head);
	client->shm_bytes += len - head;
	client->shm_wire += len;
	return dest + (BH_CHANNEL_PLACE_PREFIX - head);
}

static void stream_closed(struct bh_stream *stream, const char *reason, void *user)
{
	struct bh_relay_host *client = user;
	if (client->stream == NULL) {
		return;
	}
	client->stream = NULL;
	/* One line per app that went (a fault already said why). */
	if (client->error[0] == '\0') {
		bh_log(BH_LOG_INFO,
			"tag %s: guest Wayland client (stream %u) gone: %s; its windows close "
			"(buffer data %" PRIu64 " bytes, %" PRIu64 " on the channel)",
			client->tag, bh_stream_id(stream),
			reason != NULL ? reason : "its connection in the guest closed",
			client->shm_bytes, client->shm_wire);
	}
	/* Requests already accepted still reach the compositor if it takes
	 * them now; the connection then closes and the windows go. */
	if (client->conn.fd >= 0) {
		bh_wl_conn_flush(&client->conn);
	}
	bh_relay_host_destroy(client);
}

static void stream_writable(struct bh_stream *stream, void *user)
{
	struct bh_relay_host *client = user;
	client->read_blocked = false;
	client_update_mask(client);
}

static const struct bh_stream_handler stream_handler = {
	.data = stream_data,
	.closed = stream_closed,
	.writable = stream_writable,
	.place = stream_place,
};

static bool client_connect(struct bh_relay_host *client, struct wl_event_loop *loop, int fd)
{
	client->conn.fd = fd;
	client->source =
		wl_event_loop_add_fd(loop, fd, WL_EVENT_READABLE, client_handle_fd, client);
	if (client->source == NULL) {
		return client_error(client, "could not watch the compositor connection");
	}
	client->mask = WL_EVENT_READABLE;
	if (client->stream != NULL) {
		bh_stream_set_paused(client->stream, false);
	}
	if (bh_wl_conn_flush(&client->conn) < 0) {
		return client_error(client, "writing to the compositor: %s", strerror(errno));
	}
	client_update_mask(client);
	return true;
}

static void request_done(int fd, const char *refused_reason, void *data)
{
	struct bh_relay_host *client = data;
	client->request = NULL;
	if (fd < 0) {
		client_error(client, "the compositor refused a connection: %s", refused_reason);
		client_end(client);
		return;
	}
	bh_set_nonblock(fd, true);
	if (!client_connect(client, bh_proxy_event_loop(client->proxy), fd)) {
		client_end(client);
	}
}

struct bh_relay_host *bh_relay_host_create(const char *tag, struct bh_stream *stream, int host_fd)
{
	struct bh_relay_host *client = calloc(1, sizeof(*client));
	if (client == NULL) {
		if (host_fd >= 0) {
			close(host_fd);
		}
		return NULL;
	}
	snprintf(client->tag, sizeof(client->tag), "%s", tag);
	client->stream = stream;
	bh_wl_conn_init(&client->conn, host_fd);
	client->batch = malloc(BATCH_CAP);
	if (client->batch == NULL || !bh_wl_wire_init(&client->wire)) {
		bh_wl_conn_finish(&client->conn);
		free(client->batch);
		free(client);
		return NULL;
	}
	client->batch[0] = BH_RELAY_WL;
	client->batch_len = 1;
	client->max_payload = bh_endpoint_max_payload();
	if (client->max_payload > BATCH_CAP) {
		client->max_payload = BATCH_CAP;
	}
	return client;
}

void bh_relay_host_destroy(struct bh_relay_host *client)
{
	if (client == NULL) {
		return;
	}
	bh_vm_client_request_cancel(client->request);
	if (client->source != NULL) {
		wl_event_source_remove(client->source);
	}
	if (client->stream != NULL) {
		bh_stream_close(client->stream, NULL);
	}
	bh_wl_wire_finish(&client->wire);
	bh_host_pools_finish(&client->pools);
	bh_wl_conn_finish(&client->conn);
	free(client->obj_pool);
	bh_region_slots_finish(&client->slots);
	free(client->shown);
	free(client->batch);
	free(client);
}

static bool ensure_pipes(struct wl_event_loop *loop)
{
	if (proxy_pipes == NULL) {
		proxy_pipes = bh_relay_pipes_create(loop);
	}
	return proxy_pipes != NULL;
}

struct bh_relay_host *bh_relay_host_start(
	const char *tag, struct bh_stream *stream, struct wl_event_loop *loop, int host_fd)
{
	struct bh_relay_host *client = bh_relay_host_create(tag, stream, -1);
	if (client == NULL || !ensure_pipes(loop)) {
		close(host_fd);
		bh_relay_host_destroy(client);
		return NULL;
	}
	bh_stream_set_handler(stream, &stream_handler, client);
	bh_set_nonblock(host_fd, true);
	if (!client_connect(client, loop, host_fd)) {
		client_end(client);
		return NULL;
	}
	return client;
}

bool bh_relay_host_accept_pipe(struct wl_event_loop *loop, struct bh_stream *stream)
{
	return ensure_pipes(loop) && bh_relay_pipe_accept(proxy_pipes, stream);
}

bool bh_relay_host_open(struct bh_proxy *proxy, struct bh_stream *stream)
{
	struct bh_relay_host *client = bh_relay_host_create(bh_proxy_tag(proxy), stream, -1);
	if (client == NULL) {
		return false;
	}
	client->proxy = proxy;
	if (!ensure_pipes(bh_proxy_event_loop(proxy))) {
		bh_relay_host_destroy(client);
		return false;
	}
	/* Frames are accepted (and queued) while the compositor makes the
	 * connection, but no more credit is granted until it is there. */
	bh_stream_set_paused(stream, true);
	client->stream = stream;
	client->request = bh_vm_client_request(proxy, bh_stream_id(stream), request_done, client);
	if (client->request == NULL) {
		bh_log(BH_LOG_ERROR, "tag %s: could not ask the compositor for a connection",
			client->tag);
		client->stream = NULL;
		bh_relay_host_destroy(client);
		return false;
	}
	bh_stream_set_handler(stream, &stream_handler, client);
	return true;
}

bool bh_relay_host_open_pipe(struct bh_proxy *proxy, struct bh_stream *stream)
{
	return bh_relay_host_accept_pipe(bh_proxy_event_loop(proxy), stream);
}
