/* The guest end of the Wayland relay (its host end is proxy/relay_host.c):
 * the guest Wayland socket, where each guest client becomes one channel
 * stream; the handlers of the relay table's requests, which mirror shm pools
 * and send changed buffer bytes before each commit; and the fds from the
 * host side (keymaps, pipes), recreated here. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <lz4.h>

#include <wayland-server-core.h>

#include "common/channel.h"
#include "common/log.h"
#include "common/util.h"
#include "common/le.h"
#include "common/region.h"
#include "common/relay.h"
#include "common/relay_pipes.h"
#include "guest-agent/agent.h"
#include "guest-agent/relay_guest.h"
#include "guest-agent/guest_ram.h"
#include "guest-agent/shm_mirror.h"
#include "guest-agent/xwl_conn.h"

/* Pool bytes compared per step of a commit's sync; between steps the
 * client waits if the stream is over its high-water mark. */
#define SYNC_STEP (1u << 20)

struct bh_relay_guest {
	struct bh_agent *agent;
	struct wl_event_loop *loop;
	char *socket_path;
	int listen_fd;
	struct wl_event_source *listen_source;
	struct wl_list clients; /* guest_client.link */
	struct bh_relay_pipes *pipes;
};

enum extra_kind {
	EXTRA_NONE,
	EXTRA_POOL,
	EXTRA_BUFFER,
	EXTRA_SURFACE,
};

/* Commits a surface remembers the damage of: a client that cycles through
 * up to this many buffers has each compared only where it changed since it
 * was last shown (double and triple buffering), not whole. */
#define DAMAGE_HISTORY 4

/* What the agent tracks about one client object beyond its interface. */
struct extra {
	uint8_t kind;
	bool attached;    /* surface: attach since the last commit */
	bool damage_full; /* surface: damage we cannot map to buffer rows */
	bool plain;       /* surface: no transform or viewport: surface rows map to buffer rows */
	int32_t scale;    /* surface: buffer scale */
	struct bh_shm_mirror *pool;     /* pool, buffer */
	int32_t offset, stride, height; /* buffer */
	uint64_t slot;                  /* buffer in the shared region: its slot */
	uint32_t pending, current;      /* surface: buffer ids */
	int32_t damage_y0, damage_y1;   /* surface: buffer rows, y0 < y1 when set */
	/* surface: commits so far and the damaged rows of the last
	 * DAMAGE_HISTORY of them (y1 == INT32_MAX: all) */
	uint32_t gen; /* surface: this client's surfaces are numbered, never reused */
	uint32_t commits;
	int32_t hist_y0[DAMAGE_HISTORY], hist_y1[DAMAGE_HISTORY];
	/* buffer: the surface and commit it was last synced at, and the pool's
	 * sync count then; 0 = never */
	uint32_t synced_surface, synced_commit, synced_pool_sync;
};

struct guest_client {
	struct wl_list link;
	struct bh_relay_guest *guest;
	struct bh_wl_conn conn;
	struct wl_event_source *source;
	uint32_t mask; /* the events source waits for */
	struct bh_stream *stream;
	struct bh_wl_wire wire; /* message parsing and object tables */
	uint32_t next_pool;
	uint32_t surface_gens; /* surfaces created so far */
	struct extra *extras;
	size_t extras_len;
	/* a commit waiting until its buffer bytes are queued */
	struct bh_shm_mirror *sync_pool;
	uint64_t sync_pos, sync_end;
	uint8_t held[16];
	size_t held_len;
	bool send_blocked; /* stream over high water: stop reading the client */
	/* fds made from host frames, for the next events that carry fds */
	int host_fds[BH_RELAY_MAX_FDS];
	size_t host_nfds;
	int file_fd;
	uint32_t file_size, file_got;
	/* Xwayland's connection: ids moved, the X window manager's objects */
	struct bh_xwl_conn *xwl;
	/* WL frame being filled */
	uint8_t batch[64 * 1024];
	size_t batch_len;
	size_t max_payload;
};

static void client_destroy(struct guest_client *client);
static bool client_process(struct guest_client *client);

static void client_fail(struct guest_client *client, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void client_fail(struct guest_client *client, const char *fmt, ...)
{
	char reason[512];
	va_list args;
	va_start(args, fmt);
	vsnprintf(reason, sizeof(reason), fmt, args);
	va_end(args);
	bh_log(BH_LOG_ERROR, "guest Wayland client on stream %u ended: %s",
		client->stream ? bh_stream_id(client->stream) : 0, reason);
	if (client->stream != NULL) {
		struct bh_stream *stream = client->stream;
		client->stream = NULL;
		bh_stream_close(stream, reason);
	}
	client_destroy(client);
}

static struct extra *extra_get(struct guest_client *client, uint32_t id, bool create)
{
	if (id == 0 || id >= 0xff000000u) {
		return NULL;
	}
	if (id >= client->extras_len) {
		if (!create) {
			return NULL;
		}
		size_t len = client->extras_len ? client->extras_len : 64;
		while (len <= id) {
			len *= 2;
		}
		struct extra *e = realloc(client->extras, len * sizeof(*e));
		if (e == NULL) {
			return NULL;
		}
		memset(e + client->extras_len, 0, (len - client->extras_len) * sizeof(*e));
		client->extras = e;
		client->extras_len = len;
	}
	return &client->extras[id];
}

static void pool_unref(struct bh_shm_mirror *pool)
{
	if (pool != NULL && --pool->refs == 0) {
		bh_shm_mirror_finish(pool);
		free(pool);
	}
}

/* ---- towards the host ---- */

/* Queues one frame; false when the client must end (already failed). */
static bool send_parts(struct guest_client *client, const void *head, size_t hlen, const void *body,
	size_t blen, struct bh_borrow *borrow)
{
	errno = 0;
	if (borrow != NULL ? bh_stream_send_borrowed(client->stream, head, hlen, body, blen, borrow)
			   : bh_stream_send_parts(client->stream, head, hlen, body, blen)) {
		return true;
	}
	if (bh_relay_send_refused(errno)) {
		client_fail(client, "the channel refused a frame: %s", strerror(errno));
		return false;
	}
	client->send_blocked = true;
	return true;
}

static bool send_frame(struct guest_client *client, const void *data, size_t len)
{
	return send_parts(client, data, len, NULL, 0, NULL);
}

static bool flush_batch(struct guest_client *client)
{
	if (client->batch_len <= 1) {
		return true;
	}
	size_t len = client->batch_len;
	client->batch_len = 1;
	return send_frame(client, client->batch, len);
}

static bool batch_append(struct guest_client *client, const uint8_t *msg, size_t len)
{
	if (client->batch_len + len > client->max_payload && !flush_batch(client)) {
		return false;
	}
	memcpy(client->batch + client->batch_len, msg, len);
	client->batch_len += len;
	return true;
}

/* The tag's shared region, while the host offered one and it is mapped:
 * new pools go there, each buffer in a slot of its own. */
static struct {
	uint8_t *map;
	uint64_t size;
	struct bh_region_slots slots; /* owner: the guest_client */
} region;

/* The host's reading of guest memory, while on. */
static struct {
	bool on;
	uint64_t low, high;
	struct bh_gpa_piece *pieces;
	size_t cap;
	uint8_t frame[BH_CHANNEL_MAX_PAYLOAD];
} guest_ram;

void bh_relay_guest_set_guest_ram(bool on, uint64_t low, uint64_t high)
{
	guest_ram.on = on;
	guest_ram.low = low;
	guest_ram.high = high;
}

/* Names [offset, offset + len) of pool, the rows a commit shows, by its
 * physical pages for the host to copy to dest in the region: 1 when sent,
 * 0 when the agent must copy them itself, -1 when the client ended. */
static int send_guest_memory(struct guest_client *client, struct bh_shm_mirror *pool,
	uint64_t offset, uint64_t len, uint64_t dest)
{
	if (!guest_ram.on || offset > pool->size || len > pool->size - offset) {
		return 0;
	}
	size_t n = bh_agent_guest_ram_pieces(pool->map + offset, len, guest_ram.low, guest_ram.high,
		&guest_ram.pieces, &guest_ram.cap);
	if (n == 0) {
		return 0;
	}
	/* After the messages before it (the buffer's create_buffer may be
	 * among them: the host checks the pieces against its slots). */
	if (!flush_batch(client)) {
		return -1;
	}
	size_t per_frame = (client->max_payload - BH_RELAY_SHM_GPA_HEAD) / BH_RELAY_SHM_GPA_PIECE;
	for (size_t i = 0; i < n;) {
		size_t k = n - i < per_frame ? n - i : per_frame;
		uint8_t head[BH_RELAY_SHM_GPA_HEAD] = {BH_RELAY_SHM_GPA};
		bh_le64_put(head + 1, dest);
		for (size_t j = 0; j < k; j++) {
			const struct bh_gpa_piece *p = &guest_ram.pieces[i + j];
			bh_le64_put(guest_ram.frame + j * BH_RELAY_SHM_GPA_PIECE, p->gpa);
			bh_le32_put(guest_ram.frame + j * BH_RELAY_SHM_GPA_PIECE + 8, p->len);
			dest += p->len;
		}
		if (!send_parts(client, head, sizeof(head), guest_ram.frame,
			    k * BH_RELAY_SHM_GPA_PIECE, NULL)) {
			return -1;
		}
		i += k;
	}
	return 1;
}

void bh_relay_guest_set_region(uint8_t *map, uint64_t size)
{
	bh_region_slots_finish(&region.slots);
	region.map = map;
	region.size = map != NULL ? size : 0;
	if (map == NULL) {
		guest_ram.on = false;
	}
	bh_region_slots_init(&region.slots, region.size);
}

static bool compress_lz4;
/* One compressed message: the 17-byte head's room in a frame, at most. */
static char lz4_out[BH_CHANNEL_MAX_PAYLOAD];

void bh_relay_guest_set_compression(bool lz4)
{
	compress_lz4 = lz4;
}

/* Sends n bytes compressed when that saves something; false when they
 * must go as they are. In a hot region the bytes are the client's own,
 * which it may be drawing into meanwhile: the block then expands to a mix
 * of old and new pixels of that client's window, and the region is stale,
 * so its next sync sends it whole again. */
static bool send_compressed(struct guest_client *client, uint32_t serial, uint64_t offset,
	const uint8_t *bytes, size_t n, bool *ok)
{
	size_t room = client->max_payload - BH_RELAY_SHM_LZ4_HEAD;
	if (n < 256 || n > BH_CHANNEL_MAX_PAYLOAD) {
		return false;
	}
	int c = LZ4_compress_default(
		(const char *)bytes, lz4_out, (int)n, (int)(room < n - 5 ? room : n - 5));
	if (c <= 0) {
		return false; /* would not shrink */
	}
	uint8_t head[BH_RELAY_SHM_LZ4_HEAD];
	head[0] = BH_RELAY_SHM_LZ4;
	bh_le32_put(head + 1, serial);
	bh_le64_put(head + 5, offset);
	bh_le32_put(head + 13, (uint32_t)n);
	*ok = send_parts(client, head, sizeof(head), lz4_out, (size_t)c, NULL);
	return true;
}

static bool emit_shm_data(
	uint32_t serial, uint64_t offset, const uint8_t *bytes, size_t len, void *data)
{
	struct guest_client *client = data;
	size_t room = client->max_payload - BH_RELAY_SHM_HEAD;
	/* Bytes straight from the client's pool (a region sent without
	 * compare) go out from there, not copied into the frame first. */
	struct bh_shm_mirror *pool = client->sync_pool;
	struct bh_borrow *borrow = NULL;
	if (pool != NULL && bytes >= pool->map && bytes < pool->map + pool->size) {
		borrow = bh_shm_mirror_borrow(pool);
	}
	while (len > 0) {
		size_t n = len < room ? len : room;
		bool sent_ok;
		if (compress_lz4 && send_compressed(client, serial, offset, bytes, n, &sent_ok)) {
			if (!sent_ok) {
				return false;
			}
			bytes += n;
			offset += n;
			len -= n;
			continue;
		}
		uint8_t head[BH_RELAY_SHM_HEAD];
		head[0] = BH_RELAY_SHM_DATA;
		bh_le32_put(head + 1, serial);
		bh_le64_put(head + 5, offset);
		if (!send_parts(client, head, sizeof(head), bytes, n, borrow)) {
			return false;
		}
		bytes += n;
		offset += n;
		len -= n;
	}
	return true;
}

/* Continues the sync of a commit; true when it is complete. */
static bool sync_step(struct guest_client *client, bool *failed)
{
	*failed = false;
	while (client->sync_pos < client->sync_end) {
		if (client->send_blocked) {
			return false;
		}
		/* Steps end on SYNC_STEP boundaries of the pool (a multiple of
		 * the mirror's regions), so a region inside the range is always
		 * synced whole and can be found current again. */
		uint64_t step_end = (client->sync_pos / SYNC_STEP + 1) * SYNC_STEP;
		uint64_t n = (step_end < client->sync_end ? step_end : client->sync_end) -
			     client->sync_pos;
		if (!bh_shm_mirror_sync(
			    client->sync_pool, client->sync_pos, n, emit_shm_data, client)) {
			if (client->stream != NULL) {
				client_fail(client, "could not read its shm pool (file shrunk?)");
			}
			*failed = true;
			return false;
		}
		client->sync_pos += n;
	}
	pool_unref(client->sync_pool);
	client->sync_pool = NULL;
	return true;
}

/* The rows of buffer (attached to the surface of generation surface_gen) that may
 * differ from what the host pool holds: the union of the damage of every
 * commit since the buffer was last synced, if the surface remembers them
 * all and no other buffer's sync touched its bytes since; else all rows. */
static void buffer_changed_rows(
	const struct extra *surface, const struct extra *buffer, int32_t *y0, int32_t *y1)
{
	*y0 = 0;
	*y1 = buffer->height;
	uint32_t n = surface->commits;
	const struct bh_shm_mirror *pool = buffer->pool;
	if (buffer->synced_surface != surface->gen || buffer->synced_commit == 0 ||
		n - buffer->synced_commit > DAMAGE_HISTORY ||
		pool->syncs - buffer->synced_pool_sync - 1 > BH_MIRROR_SYNC_LOG) {
		return;
	}
	uint64_t lo = (uint64_t)buffer->offset;
	uint64_t hi = lo + (uint64_t)buffer->height * (uint64_t)buffer->stride;
	/* The syncs after its own (the ring holds the last BH_MIRROR_SYNC_LOG). */
	for (uint32_t j = buffer->synced_pool_sync + 1; j != pool->syncs; j++) {
		uint32_t i = j % BH_MIRROR_SYNC_LOG;
		if (pool->sync_lo[i] < hi && pool->sync_hi[i] > lo) {
			return; /* another buffer wrote over part of it */
		}
	}
	int32_t u0 = INT32_MAX, u1 = INT32_MIN;
	for (uint32_t c = buffer->synced_commit + 1; c != n + 1; c++) {
		uint32_t i = c % DAMAGE_HISTORY;
		if (surface->hist_y0[i] < surface->hist_y1[i]) {
			u0 = surface->hist_y0[i] < u0 ? surface->hist_y0[i] : u0;
			u1 = surface->hist_y1[i] > u1 ? surface->hist_y1[i] : u1;
		}
	}
	if (u0 >= u1) {
		*y0 = *y1 = 0; /* nothing changed since */
		return;
	}
	*y0 = u0 > 0 ? u0 : 0;
	*y1 = u1 < buffer->height ? u1 : buffer->height;
}

/* The attached buffer's changed bytes go out before the commit. */
static bool surface_commit(struct guest_client *client, struct extra *surface, bool *held)
{
	*held = false;
	if (surface->attached) {
		surface->current = surface->pending;
		surface->attached = false;
	}
	/* This commit's damage goes into the history first. */
	uint32_t n = ++surface->commits;
	if (n == 0) {
		n = surface->commits = 1; /* 0 means "never" for buffers */
	}
	uint32_t slot = n % DAMAGE_HISTORY;
	if (surface->damage_full) {
		surface->hist_y0[slot] = 0;
		surface->hist_y1[slot] = INT32_MAX;
	} else {
		surface->hist_y0[slot] = surface->damage_y0;
		surface->hist_y1[slot] = surface->damage_y1;
	}
	surface->damage_full = false;
	surface->damage_y0 = surface->damage_y1 = 0;
	struct extra *buffer = extra_get(client, surface->current, false);
	if (buffer == NULL || buffer->kind != EXTRA_BUFFER) {
		return true;
	}
	int32_t y0, y1;
	buffer_changed_rows(surface, buffer, &y0, &y1);
	struct bh_shm_mirror *pool = buffer->pool;
	uint32_t i = pool->syncs % BH_MIRROR_SYNC_LOG;
	pool->sync_lo[i] = (uint64_t)(buffer->offset > 0 ? buffer->offset : 0);
	pool->sync_hi[i] =
		pool->sync_lo[i] + (uint64_t)(buffer->height > 0 ? buffer->height : 0) *
					   (uint64_t)(buffer->stride > 0 ? buffer->stride : 0);
	buffer->synced_pool_sync = pool->syncs++;
	buffer->synced_surface = surface->gen;
	buffer->synced_commit = n;
	if (y0 >= y1 || buffer->offset < 0 || buffer->stride <= 0) {
		return true;
	}
	if (buffer->slot != 0) {
		/* The one copy: the changed rows into the buffer's slot, before
		 * the commit that shows them goes out. */
		uint64_t from = (uint64_t)y0 * (uint64_t)buffer->stride;
		uint64_t len = (uint64_t)(y1 - y0) * (uint64_t)buffer->stride;
		int named = send_guest_memory(
			client, pool, (uint64_t)buffer->offset + from, len, buffer->slot + from);
		if (named != 0) {
			return named > 0;
		}
		if (!bh_shm_mirror_copy_out(pool, (uint64_t)buffer->offset + from, len,
			    region.map + buffer->slot + from)) {
			client_fail(client, "could not read its shm pool (file shrunk?)");
			return false;
		}
		return true;
	}
	if (!flush_batch(client)) {
		return false;
	}
	client->sync_pool = buffer->pool;
	buffer->pool->refs++;
	buffer->pool->whole_frame = (int64_t)(y1 - y0) * 8 >= (int64_t)buffer->height * 7;
	client->sync_pos = (uint64_t)buffer->offset + (uint64_t)y0 * (uint64_t)buffer->stride;
	client->sync_end = (uint64_t)buffer->offset + (uint64_t)y1 * (uint64_t)buffer->stride;
	bool failed;
	if (sync_step(client, &failed)) {
		return true;
	}
	if (failed) {
		return false;
	}
	*held = true;
	return true;
}

static bool extra_damage_rows(struct extra *surface, int32_t y, int32_t h)
{
	if (h <= 0) {
		return true;
	}
	int64_t y1 = (int64_t)y + h;
	if (y1 > INT32_MAX) {
		y1 = INT32_MAX;
	}
	if (surface->damage_y0 >= surface->damage_y1) {
		surface->damage_y0 = y;
		surface->damage_y1 = (int32_t)y1;
	} else {
		if (y < surface->damage_y0) {
			surface->damage_y0 = y;
		}
		if (y1 > surface->damage_y1) {
			surface->damage_y1 = (int32_t)y1;
		}
	}
	return true;
}

/* One request, as its handler sees it. */
struct guest_msg {
	const struct bh_wl_msg *m;
	const char *interface; /* m's interface name, for messages */
	uint8_t *data;         /* its bytes, which the handler may rewrite */
	int fd;                /* the fd it carries (the handler takes it), -1 if none */
	bool held;             /* set: the message waits until a sync is queued */
	bool drop;             /* set: not passed on */
};

/* Where argument i (of 32 bits; an fd takes none) is in a message. */
#define ARG_AT(i) (8 + 4 * (i))

/* False when the client ended (the handler said why). */
typedef bool (*guest_handler)(struct guest_client *client, struct guest_msg *msg);

/* create_pool(new_id, fd, int size): the pool is mirrored, and the host
 * makes one of its own (FD_SHM). */
static bool request_create_pool(struct guest_client *client, struct guest_msg *msg)
{
	const struct bh_wl_msg *m = msg->m;
	int32_t size = (int32_t)m->args[2];
	struct bh_shm_mirror *pool = calloc(1, sizeof(*pool));
	bool in_region = region.map != NULL;
	if (pool == NULL || size <= 0 ||
		!bh_shm_mirror_init(
			pool, ++client->next_pool, msg->fd, (uint64_t)size, in_region)) {
		if (pool == NULL) {
			close(msg->fd);
		}
		free(pool);
		client_fail(
			client, "cannot map its shm pool of %d bytes: %s", size, strerror(errno));
		return false;
	}
	struct extra *e = extra_get(client, m->args[0], true);
	if (e == NULL) {
		pool_unref(pool);
		client_fail(client, "out of memory");
		return false;
	}
	memset(e, 0, sizeof(*e));
	e->kind = EXTRA_POOL;
	e->pool = pool;
	if (in_region) {
		/* The host's pool is the whole region, in place of the fd. */
		bh_le32_put(msg->data + ARG_AT(1), (uint32_t)region.size);
		uint8_t rframe[BH_RELAY_FD_REGION_LEN] = {BH_RELAY_FD_REGION};
		bh_le32_put(rframe + 1, pool->serial);
		return flush_batch(client) && send_frame(client, rframe, sizeof(rframe));
	}
	uint8_t frame[BH_RELAY_FD_SHM_LEN] = {BH_RELAY_FD_SHM};
	bh_le32_put(frame + 1, pool->serial);
	bh_le64_put(frame + 5, (uint64_t)size);
	return flush_batch(client) && send_frame(client, frame, sizeof(frame));
}

/* receive(mime, fd): the client reads what the host sends on a pipe stream
 * we open. */
static bool request_receive(struct guest_client *client, struct guest_msg *msg)
{
	uint32_t id;
	if (!bh_relay_pipe_sink_open(
		    client->guest->pipes, bh_stream_endpoint(client->stream), msg->fd, &id)) {
		client_fail(client, "could not open a pipe stream for %s.receive", msg->interface);
		return false;
	}
	uint8_t frame[BH_RELAY_FD_PIPE_LEN] = {BH_RELAY_FD_PIPE};
	bh_le32_put(frame + 1, id);
	return flush_batch(client) && send_frame(client, frame, sizeof(frame));
}

/* The extra of the object a request is sent to, of the kind expected. */
static struct extra *request_extra(struct guest_client *client, struct guest_msg *msg, uint8_t kind)
{
	struct extra *e = extra_get(client, msg->m->object, false);
	if (e == NULL || e->kind != kind) {
		client_fail(client, "%s %u is not known", msg->interface, msg->m->object);
		return NULL;
	}
	return e;
}

/* A buffer of a pool in the shared region gets a slot of its own; the
 * host sees the slot's offset in place of the client's. The client's
 * arguments are checked here, as the compositor would have. */
static bool region_buffer(struct guest_client *client, struct guest_msg *msg, struct extra *b)
{
	char err[256];
	uint64_t span = bh_region_buffer_span((int32_t)msg->m->args[2], b->height, b->stride, err,
		sizeof(err));
	if (span == 0 || b->offset < 0 || (uint64_t)b->offset > b->pool->size ||
		span > b->pool->size - (uint64_t)b->offset) {
		client_fail(client, "%s",
			span == 0 ? err : "a buffer that does not lie inside its shm pool");
		return false;
	}
	b->slot = bh_region_slot_alloc(&region.slots, span, client);
	if (b->slot == 0 || b->slot > INT32_MAX) {
		client_fail(client,
			"the tag's shared region (%llu MiB) has no room for a %llu-byte buffer: "
			"raise shm_size in the tag's config",
			(unsigned long long)(region.size >> 20), (unsigned long long)span);
		return false;
	}
	bh_le32_put(msg->data + ARG_AT(1), (uint32_t)b->slot);
	return true;
}

/* create_buffer(new_id, offset, width, height, stride, format) */
static bool request_create_buffer(struct guest_client *client, struct guest_msg *msg)
{
	const struct bh_wl_msg *m = msg->m;
	struct extra *pe = request_extra(client, msg, EXTRA_POOL);
	if (pe == NULL) {
		return false;
	}
	/* the table may move as it grows for the new id */
	struct bh_shm_mirror *pool = pe->pool;
	struct extra *b = extra_get(client, m->args[0], true);
	if (b == NULL) {
		client_fail(client, "out of memory");
		return false;
	}
	memset(b, 0, sizeof(*b));
	b->kind = EXTRA_BUFFER;
	b->pool = pool;
	b->pool->refs++;
	b->offset = (int32_t)m->args[1];
	b->height = (int32_t)m->args[3];
	b->stride = (int32_t)m->args[4];
	return !b->pool->in_region || region_buffer(client, msg, b);
}

static bool request_pool_destroy(struct guest_client *client, struct guest_msg *msg)
{
	struct extra *pe = request_extra(client, msg, EXTRA_POOL);
	if (pe == NULL) {
		return false;
	}
	pool_unref(pe->pool);
	memset(pe, 0, sizeof(*pe));
	return true;
}

static bool request_pool_resize(struct guest_client *client, struct guest_msg *msg)
{
	struct extra *pe = request_extra(client, msg, EXTRA_POOL);
	if (pe == NULL) {
		return false;
	}
	int32_t size = (int32_t)msg->m->args[0];
	if (size <= 0 || !bh_shm_mirror_resize(pe->pool, (uint64_t)size)) {
		client_fail(client, "cannot resize its shm pool to %d bytes: %s", size,
			strerror(errno));
		return false;
	}
	/* The host's pool on the region keeps its size. */
	msg->drop = pe->pool->in_region;
	return true;
}

static bool request_buffer_destroy(struct guest_client *client, struct guest_msg *msg)
{
	struct extra *b = extra_get(client, msg->m->object, false);
	if (b != NULL && b->kind == EXTRA_BUFFER) {
		if (b->slot != 0) {
			bh_region_slot_release(&region.slots, b->slot, client);
		}
		pool_unref(b->pool);
		memset(b, 0, sizeof(*b));
	}
	return true;
}

static bool request_create_surface(struct guest_client *client, struct guest_msg *msg)
{
	struct extra *s = extra_get(client, msg->m->args[0], true);
	if (s == NULL) {
		client_fail(client, "out of memory");
		return false;
	}
	memset(s, 0, sizeof(*s));
	s->kind = EXTRA_SURFACE;
	s->plain = true;
	s->scale = 1;
	s->gen = ++client->surface_gens;
	return true;
}

/* get_viewport(id, surface): the buffer is scaled or cropped */
static bool request_get_viewport(struct guest_client *client, struct guest_msg *msg)
{
	struct extra *s = extra_get(client, msg->m->args[1], false);
	if (s != NULL && s->kind == EXTRA_SURFACE) {
		s->plain = false;
		s->damage_full = true;
	}
	return true;
}

static bool surface_destroy(struct guest_client *client, struct guest_msg *msg)
{
	struct extra *s = request_extra(client, msg, EXTRA_SURFACE);
	if (s != NULL) {
		memset(s, 0, sizeof(*s));
	}
	return s != NULL;
}

/* attach(buffer, x, y) */
static bool surface_attach(struct guest_client *client, struct guest_msg *msg)
{
	struct extra *s = request_extra(client, msg, EXTRA_SURFACE);
	if (s != NULL) {
		s->pending = msg->m->args[0];
		s->attached = true;
	}
	return s != NULL;
}

/* damage(x, y, w, h), in surface coordinates */
static bool surface_damage(struct guest_client *client, struct guest_msg *msg)
{
	struct extra *s = request_extra(client, msg, EXTRA_SURFACE);
	if (s == NULL) {
		return false;
	}
	if (s->plain && s->scale >= 1 && s->scale <= 16) {
		int64_t y = (int64_t)(int32_t)msg->m->args[1] * s->scale;
		int64_t h = (int64_t)(int32_t)msg->m->args[3] * s->scale;
		y = y < INT32_MIN ? INT32_MIN : y > INT32_MAX ? INT32_MAX : y;
		h = h > INT32_MAX ? INT32_MAX : h;
		extra_damage_rows(s, (int32_t)y, (int32_t)h);
	} else {
		/* a transform or viewport moves rows: compare all */
		s->damage_full = true;
	}
	return true;
}

/* damage_buffer(x, y, w, h) */
static bool surface_damage_buffer(struct guest_client *client, struct guest_msg *msg)
{
	struct extra *s = request_extra(client, msg, EXTRA_SURFACE);
	if (s != NULL) {
		extra_damage_rows(s, (int32_t)msg->m->args[1], (int32_t)msg->m->args[3]);
	}
	return s != NULL;
}

/* set_buffer_transform: rows move, compare all once */
static bool surface_set_transform(struct guest_client *client, struct guest_msg *msg)
{
	struct extra *s = request_extra(client, msg, EXTRA_SURFACE);
	if (s != NULL) {
		s->plain = s->plain && msg->m->args[0] == 0;
		s->damage_full = true;
	}
	return s != NULL;
}

static bool surface_set_scale(struct guest_client *client, struct guest_msg *msg)
{
	struct extra *s = request_extra(client, msg, EXTRA_SURFACE);
	if (s != NULL) {
		s->scale = (int32_t)msg->m->args[0];
		s->damage_full = true;
	}
	return s != NULL;
}

static bool request_commit(struct guest_client *client, struct guest_msg *msg)
{
	struct extra *s = request_extra(client, msg, EXTRA_SURFACE);
	return s != NULL && surface_commit(client, s, &msg->held);
}

/* The guest's handlers of the relay table (common/relay.c). Events need
 * none here: the fds they carry arrive as frames from the host, in order. */
static const guest_handler handlers[BH_RELAY_OP_COUNT] = {
	[BH_RELAY_OP_CREATE_POOL] = request_create_pool,
	[BH_RELAY_OP_CREATE_BUFFER] = request_create_buffer,
	[BH_RELAY_OP_POOL_DESTROY] = request_pool_destroy,
	[BH_RELAY_OP_POOL_RESIZE] = request_pool_resize,
	[BH_RELAY_OP_BUFFER_DESTROY] = request_buffer_destroy,
	[BH_RELAY_OP_CREATE_SURFACE] = request_create_surface,
	[BH_RELAY_OP_GET_VIEWPORT] = request_get_viewport,
	[BH_RELAY_OP_SURFACE_DESTROY] = surface_destroy,
	[BH_RELAY_OP_ATTACH] = surface_attach,
	[BH_RELAY_OP_DAMAGE] = surface_damage,
	[BH_RELAY_OP_DAMAGE_BUFFER] = surface_damage_buffer,
	[BH_RELAY_OP_SET_TRANSFORM] = surface_set_transform,
	[BH_RELAY_OP_SET_SCALE] = surface_set_scale,
	[BH_RELAY_OP_COMMIT] = request_commit,
	[BH_RELAY_OP_RECEIVE] = request_receive,
};

/* One request of the guest client. *held = the message waits for a sync.
 * False when the client ended. */
static bool handle_request(struct guest_client *client, uint8_t *data, size_t size, bool *held)
{
	*held = false;
	struct bh_wl_msg m;
	char err[256];
	if (!bh_wl_wire_parse(&client->wire, BH_WL_REQUEST, data, size, &m, err, sizeof(err))) {
		client_fail(client, "%s", err);
		return false;
	}
	struct guest_msg msg = {
		.m = &m, .interface = bh_wl_msg_interface(&m), .data = data, .fd = -1};
	const struct bh_relay_rule *rule = bh_relay_rule_find(BH_WL_REQUEST, &m);
	guest_handler handler = rule != NULL ? handlers[rule->op] : NULL;
	if (m.nfds > 0) {
		if (rule == NULL || rule->fd == 0 || handler == NULL) {
			client_fail(client, "%s.%s carries an fd the relay does not pass",
				msg.interface, m.name);
			return false;
		}
		if (m.nfds > client->conn.in_nfds) {
			client_fail(client, "%s.%s needs %u fds that did not arrive", msg.interface,
				m.name, m.nfds);
			return false;
		}
		msg.fd = bh_wl_conn_take_fd(&client->conn);
	}
	if (handler != NULL && !handler(client, &msg)) {
		return false;
	}
	uint8_t moved[BH_WL_MAX_MESSAGE];
	if (client->xwl != NULL && size <= sizeof(moved)) {
		memcpy(moved, data, size);
		int relay = bh_xwl_conn_request(client->xwl, &m, moved, size);
		if (relay < 0) {
			client_fail(client, "Xwayland's message cannot be relayed");
			return false;
		}
		if (relay == 0 && !msg.held) {
			return true; /* sent by the X window manager's part */
		}
		data = moved;
	}
	if (msg.held) {
		if (size > sizeof(client->held)) {
			client_fail(client, "internal: held message too large");
			return false;
		}
		memcpy(client->held, data, size);
		client->held_len = size;
		*held = true;
		return true;
	}
	return msg.drop || batch_append(client, data, size);
}

static void client_update_mask(struct guest_client *client)
{
	uint32_t mask = 0;
	if (!client->send_blocked && client->sync_pool == NULL) {
		mask |= WL_EVENT_READABLE;
	}
	if (bh_wl_conn_pending(&client->conn) > 0) {
		mask |= WL_EVENT_WRITABLE;
	}
	/* Unchanged (the usual case) costs no system call. */
	if (mask != client->mask) {
		client->mask = mask;
		wl_event_source_fd_update(client->source, mask);
	}
}

/* Parses and forwards what the client sent, as far as it can go now.
 * False when the client was ended (and freed). */
static bool client_process(struct guest_client *client)
{
	if (client->sync_pool != NULL) {
		bool failed;
		if (!sync_step(client, &failed)) {
			if (failed) {
				return false;
			}
			client_update_mask(client);
			return true;
		}
		if (!batch_append(client, client->held, client->held_len)) {
			return false;
		}
		client->held_len = 0;
	}
	int size;
	while (!client->send_blocked && (size = bh_wl_conn_next(&client->conn)) > 0) {
		bool held;
		if (!handle_request(client, client->conn.in, (size_t)size, &held)) {
			return false;
		}
		bh_wl_conn_consume(&client->conn, (size_t)size);
		if (held) {
			break;
		}
	}
	if (bh_wl_conn_next(&client->conn) < 0) {
		client_fail(client, "sent a message with an invalid size");
		return false;
	}
	if (!flush_batch(client)) {
		return false;
	}
	client_update_mask(client);
	return true;
}

static int client_handle_fd(int fd, uint32_t mask, void *data)
{
	struct guest_client *client = data;
	if (mask & WL_EVENT_WRITABLE) {
		int r = bh_wl_conn_flush(&client->conn);
		if (r < 0) {
			bh_stream_close(client->stream, "guest client write failed");
			client->stream = NULL;
			client_destroy(client);
			return 0;
		}
		if (bh_wl_conn_pending(&client->conn) < BH_RELAY_OUT_HIGH / 4) {
			bh_stream_set_paused(client->stream, false);
		}
	}
	if (mask & WL_EVENT_READABLE) {
		ssize_t n = bh_wl_conn_read(&client->conn);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			if (n < 0 && errno != ECONNRESET) {
				client_fail(client, "reading it failed: %s", strerror(errno));
				return 0;
			}
			/* the client went away: what it sent before still goes */
			if (!client_process(client)) {
				return 0;
			}
			if (client->stream != NULL) {
				flush_batch(client);
				bh_stream_close(client->stream, NULL);
				client->stream = NULL;
			}
			client_destroy(client);
			return 0;
		}
		client_process(client);
		return 0;
	}
	if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		bh_stream_close(client->stream, NULL);
		client->stream = NULL;
		client_destroy(client);
		return 0;
	}
	client_update_mask(client);
	return 0;
}

/* ---- from the host ---- */

static bool push_host_fd(struct guest_client *client, int fd)
{
	if (client->host_nfds == BH_RELAY_MAX_FDS) {
		close(fd);
		bh_stream_fail(client->stream, "too many fds announced by the host");
		return false;
	}
	client->host_fds[client->host_nfds++] = fd;
	return true;
}

static bool handle_host_messages(struct guest_client *client, const uint8_t *p, size_t len)
{
	while (len > 0) {
		size_t size = bh_wl_message_size(p, len);
		if (size == 0) {
			bh_stream_fail(client->stream,
				"a Wayland message from the host has an invalid size or is cut");
			return false;
		}
		const uint8_t *event = p;
		uint8_t moved[BH_WL_MAX_MESSAGE];
		if (client->xwl != NULL && size <= sizeof(moved)) {
			memcpy(moved, p, size);
			int kept = bh_xwl_conn_event(
				client->xwl, moved, size, client->host_fds, &client->host_nfds);
			if (kept < 0) {
				bh_stream_fail(
					client->stream, "the host's event for Xwayland is bad");
				return false;
			}
			p += size;
			len -= size;
			if (kept == 0) {
				continue; /* the X window manager's own */
			}
			event = moved;
		} else {
			p += size;
			len -= size;
		}
		struct bh_wl_msg m;
		char err[256];
		if (!bh_wl_wire_parse(
			    &client->wire, BH_WL_EVENT, event, size, &m, err, sizeof(err))) {
			bh_stream_fail(client->stream, "event from the host: %s", err);
			return false;
		}
		if (m.nfds > 0) {
			/* The host relays only the fds the table names; each came
			 * as a frame before its message. */
			const struct bh_relay_rule *rule = bh_relay_rule_find(BH_WL_EVENT, &m);
			if (rule == NULL || rule->fd == 0) {
				bh_stream_fail(client->stream, "%s.%s from the host carries an fd",
					bh_wl_msg_interface(&m), m.name);
				return false;
			}
			if (m.nfds > client->host_nfds) {
				bh_stream_fail(client->stream, "%s.%s from the host lacks its fd",
					bh_wl_msg_interface(&m), m.name);
				return false;
			}
		}
		for (uint32_t i = 0; i < m.nfds; i++) {
			if (!bh_wl_conn_queue_fd(&client->conn, client->host_fds[0])) {
				bh_stream_fail(
					client->stream, "too many fds queued for the client");
				return false;
			}
			client->host_nfds--;
			memmove(client->host_fds, client->host_fds + 1,
				client->host_nfds * sizeof(int));
		}
		if (!bh_wl_conn_queue(&client->conn, event, size)) {
			bh_stream_fail(client->stream, "the guest client does not read its events");
			return false;
		}
	}
	return true;
}

static bool client_stream_data(
	struct bh_stream *stream, const uint8_t *payload, size_t len, void *user)
{
	struct guest_client *client = user;
	if (len == 0) {
		bh_stream_fail(stream, "empty relay frame");
		return false;
	}
	uint32_t v;
	switch (payload[0]) {
	case BH_RELAY_WL:
		if (!handle_host_messages(client, payload + 1, len - 1)) {
			return false;
		}
		break;
	case BH_RELAY_FD_FILE:
		if (len != BH_RELAY_FD_FILE_LEN || client->file_fd >= 0) {
			bh_stream_fail(stream, "bad FD_FILE frame");
			return false;
		}
		v = bh_le32_get(payload + 1);
		if (v > BH_RELAY_MAX_FILE_SIZE) {
			bh_stream_fail(
				stream, "file of %u bytes from the host is over the limit", v);
			return false;
		}
		client->file_fd = bh_relay_memfd("bulkhead-file", v);
		if (client->file_fd < 0) {
			bh_stream_fail(stream, "memfd for a host file: %s", strerror(errno));
			return false;
		}
		client->file_size = v;
		client->file_got = 0;
		break;
	case BH_RELAY_FD_FILE_DATA:
		if (client->file_fd < 0 || len - 1 > client->file_size - client->file_got) {
			bh_stream_fail(stream, "FD_FILE_DATA outside a file");
			return false;
		}
		if (pwrite(client->file_fd, payload + 1, len - 1, client->file_got) !=
			(ssize_t)(len - 1)) {
			bh_stream_fail(stream, "writing a host file: %s", strerror(errno));
			return false;
		}
		client->file_got += len - 1;
		break;
	case BH_RELAY_FD_PIPE: {
		if (len != BH_RELAY_FD_PIPE_LEN) {
			bh_stream_fail(stream, "bad FD_PIPE frame");
			return false;
		}
		v = bh_le32_get(payload + 1);
		int fd = bh_relay_pipe_claim(client->guest->pipes, bh_stream_endpoint(stream), v);
		if (fd < 0) {
			bh_stream_fail(stream, "FD_PIPE for stream %u cannot be served", v);
			return false;
		}
		if (!push_host_fd(client, fd)) {
			return false;
		}
		break;
	}
	default:
		bh_stream_fail(stream, "unknown relay frame type %u", payload[0]);
		return false;
	}
	if (client->file_fd >= 0 && client->file_got == client->file_size) {
		fcntl(client->file_fd, F_ADD_SEALS,
			F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
		int fd = client->file_fd;
		client->file_fd = -1;
		if (!push_host_fd(client, fd)) {
			return false;
		}
	}
	int r = bh_wl_conn_flush(&client->conn);
	if (r < 0) {
		/* the client is gone; its read side reports it */
		return true;
	}
	if (bh_wl_conn_pending(&client->conn) > BH_RELAY_OUT_HIGH) {
		bh_stream_set_paused(stream, true);
	}
	client_update_mask(client);
	return true;
}

static void client_stream_closed(struct bh_stream *stream, const char *reason, void *user)
{
	struct guest_client *client = user;
	client->stream = NULL;
	if (reason != NULL) {
		bh_log(BH_LOG_INFO, "guest Wayland client closed by the host: %s", reason);
	}
	/* Events already queued are worth delivering (a protocol error
	 * message, for one); a best-effort flush is all we can do. */
	bh_wl_conn_flush(&client->conn);
	client_destroy(client);
}

static void client_stream_writable(struct bh_stream *stream, void *user)
{
	struct guest_client *client = user;
	client->send_blocked = false;
	client_process(client);
}

static const struct bh_stream_handler client_stream_handler = {
	.data = client_stream_data,
	.closed = client_stream_closed,
	.writable = client_stream_writable,
};

static void client_destroy(struct guest_client *client)
{
	if (client->stream != NULL) {
		bh_stream_close(client->stream, NULL);
	}
	wl_list_remove(&client->link);
	if (client->xwl != NULL) {
		bh_xwl_conn_closed(client->xwl);
	}
	if (client->source != NULL) {
		wl_event_source_remove(client->source);
	}
	for (size_t i = 0; i < client->extras_len; i++) {
		struct extra *e = &client->extras[i];
		if (e->kind == EXTRA_POOL || e->kind == EXTRA_BUFFER) {
			pool_unref(e->pool);
		}
	}
	pool_unref(client->sync_pool);
	bh_region_slots_release_owner(&region.slots, client);
	free(client->extras);
	for (size_t i = 0; i < client->host_nfds; i++) {
		close(client->host_fds[i]);
	}
	if (client->file_fd >= 0) {
		close(client->file_fd);
	}
	bh_wl_wire_finish(&client->wire);
	bh_wl_conn_finish(&client->conn);
	free(client);
}

/* ---- the socket ---- */

/* A request of the X window manager's on Xwayland's connection, after
 * what Xwayland sent so far. */
static bool client_inject(void *ctx, const void *msg, size_t len)
{
	struct guest_client *client = ctx;
	if (client->stream == NULL) {
		return false;
	}
	/* not from inside a read: the batch goes out now */
	return batch_append(client, msg, len) && flush_batch(client);
}

/* The same for a wl_data_offer.receive with its pipe (fd, taken). */
static bool client_inject_pipe(void *ctx, const void *msg, size_t len, int fd)
{
	struct guest_client *client = ctx;
	uint32_t id;
	if (client->stream == NULL || !bh_relay_pipe_sink_open(client->guest->pipes,
					      bh_stream_endpoint(client->stream), fd, &id)) {
		return false;
	}
	uint8_t frame[BH_RELAY_FD_PIPE_LEN] = {BH_RELAY_FD_PIPE};
	bh_le32_put(frame + 1, id);
	return flush_batch(client) && send_frame(client, frame, sizeof(frame)) &&
	       client_inject(ctx, msg, len);
}

/* A guest client on cfd (taken) gets its stream; NULL when it cannot. */
static struct guest_client *client_start(
	struct bh_relay_guest *guest, int cfd, struct bh_xwl_conn *xwl)
{
	struct guest_client *client = calloc(1, sizeof(*client));
	if (client == NULL) {
		close(cfd);
		return NULL;
	}
	bh_wl_conn_init(&client->conn, cfd);
	client->guest = guest;
	client->file_fd = -1;
	client->batch[0] = BH_RELAY_WL;
	client->batch_len = 1;
	client->max_payload = bh_endpoint_max_payload();
	if (client->max_payload > sizeof(client->batch)) {
		client->max_payload = sizeof(client->batch);
	}
	wl_list_init(&client->link);
	if (!bh_wl_wire_init(&client->wire)) {
		bh_wl_conn_finish(&client->conn);
		free(client);
		return NULL;
	}
	client->stream = bh_agent_open_stream(
		guest->agent, BH_STREAM_WAYLAND, &client_stream_handler, client);
	if (client->stream == NULL) {
		bh_log(BH_LOG_WARN, "guest Wayland client refused: the host is not connected");
		client_destroy(client);
		return NULL;
	}
	wl_list_insert(&guest->clients, &client->link);
	if (xwl != NULL) {
		client->xwl = xwl;
		const struct bh_xwl_link link = {.send = client_inject,
			.send_pipe = client_inject_pipe,
			.ctx = client,
			.wire = &client->wire};
		bh_xwl_conn_attach(xwl, &link);
	}
	client->source =
		wl_event_loop_add_fd(guest->loop, cfd, WL_EVENT_READABLE, client_handle_fd, client);
	client->mask = WL_EVENT_READABLE;
	if (client->source == NULL) {
		client_fail(client, "could not watch its socket");
		return NULL;
	}
	return client;
}

static int guest_handle_accept(int fd, uint32_t mask, void *data)
{
	struct bh_relay_guest *guest = data;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			bh_log_errno(BH_LOG_WARN, "accepting a guest Wayland client");
		}
		return 0;
	}
	client_start(guest, cfd, NULL);
	return 0;
}

bool bh_relay_guest_adopt(struct bh_relay_guest *guest, int fd, struct bh_xwl_conn *xwl)
{
	return client_start(guest, fd, xwl) != NULL;
}

void bh_relay_guest_disown(struct bh_relay_guest *guest, struct bh_xwl_conn *xwl)
{
	struct guest_client *client, *tmp;
	wl_list_for_each_safe (client, tmp, &guest->clients, link) {
		if (client->xwl == xwl) {
			client_destroy(client);
		}
	}
}

struct bh_relay_guest *bh_relay_guest_create(struct bh_agent *agent, const char *socket_path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(socket_path) >= sizeof(addr.sun_path)) {
		bh_log(BH_LOG_ERROR, "guest Wayland socket path too long: %s", socket_path);
		return NULL;
	}
	struct bh_relay_guest *guest = calloc(1, sizeof(*guest));
	if (guest == NULL) {
		return NULL;
	}
	guest->agent = agent;
	guest->loop = bh_agent_event_loop(agent);
	guest->listen_fd = -1;
	wl_list_init(&guest->clients);
	guest->socket_path = strdup(socket_path);
	guest->pipes = bh_relay_pipes_create(guest->loop);
	if (guest->socket_path == NULL || guest->pipes == NULL) {
		goto error;
	}
	strcpy(addr.sun_path, socket_path);
	guest->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (guest->listen_fd < 0) {
		bh_log_errno(BH_LOG_ERROR, "socket for %s", socket_path);
		goto error;
	}
	unlink(socket_path); /* a stale socket of an earlier agent */
	if (bind(guest->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
		listen(guest->listen_fd, 64) < 0) {
		bh_log_errno(BH_LOG_ERROR, "listening on %s", socket_path);
		goto error;
	}
	if (getuid() == 0 && chown(socket_path, bh_agent_uid(agent), bh_agent_gid(agent)) < 0) {
		bh_log_errno(BH_LOG_ERROR, "chown %s", socket_path);
		goto error;
	}
	guest->listen_source = wl_event_loop_add_fd(
		guest->loop, guest->listen_fd, WL_EVENT_READABLE, guest_handle_accept, guest);
	if (guest->listen_source == NULL) {
		goto error;
	}
	return guest;
error:
	bh_relay_guest_destroy(guest);
	return NULL;
}

bool bh_relay_guest_open_pipe(struct bh_relay_guest *guest, struct bh_stream *stream)
{
	return bh_relay_pipe_accept(guest->pipes, stream);
}

void bh_relay_guest_destroy(struct bh_relay_guest *guest)
{
	if (guest == NULL) {
		return;
	}
	struct guest_client *client, *tmp;
	wl_list_for_each_safe(client, tmp, &guest->clients, link)
	{
		client_destroy(client);
	}
	if (guest->listen_source != NULL) {
		wl_event_source_remove(guest->listen_source);
	}
	if (guest->listen_fd >= 0) {
		close(guest->listen_fd);
		unlink(guest->socket_path);
	}
	bh_relay_pipes_destroy(guest->pipes);
	free(guest->socket_path);
	free(guest);
}
