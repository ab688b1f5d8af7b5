/* A hostile guest agent for tests: it speaks the channel like the real one,
 * then sends crafted relay frames and Wayland messages, one malformed case
 * per stream, and checks that the host ends exactly that stream with a
 * reason while a well-behaved client on another stream keeps working. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "common/endpoint.h"
#include "common/log.h"
#include "common/util.h"
#include "common/allowlist.h"
#include "common/region.h"
#include "common/relay.h"
#include "common/relay_pipes.h"

static struct wl_event_loop *loop;
static struct bh_endpoint *endpoint;
static bool channel_gone;

/* One guest client as the evil agent sees it. */
struct evil_client {
	struct bh_stream *stream;
	bool closed;
	char reason[300];
	uint32_t next_id;
	/* globals the host showed: name per interface of interest */
	uint32_t shm_name, compositor_name, seat_name;
	uint32_t shm_version, compositor_version;
	uint32_t registry_id;
	uint32_t done_callback; /* id of the last sync whose done arrived */
	uint32_t max_global_name;
	uint8_t shown[256]; /* names 0..255 the host showed */
};

static bool client_data(struct bh_stream *stream, const uint8_t *p, size_t len, void *user)
{
	struct evil_client *c = user;
	if (len == 0 || p[0] != BH_RELAY_WL) {
		return true; /* keymaps and pipes do not matter here */
	}
	p++;
	len--;
	while (len >= 8) {
		uint32_t obj, word;
		memcpy(&obj, p, 4);
		memcpy(&word, p + 4, 4);
		size_t size = word >> 16;
		uint32_t opcode = word & 0xffff;
		if (size < 8 || size > len) {
			break;
		}
		if (obj == c->registry_id && opcode == 0 && size >= 16) {
			uint32_t name, slen, version;
			memcpy(&name, p + 8, 4);
			memcpy(&slen, p + 12, 4);
			size_t padded = (slen + 3) & ~3u;
			if (16 + padded + 4 <= size) {
				const char *iface = (const char *)p + 16;
				memcpy(&version, p + 16 + padded, 4);
				if (strcmp(iface, "wl_shm") == 0) {
					c->shm_name = name;
					c->shm_version = version;
				} else if (strcmp(iface, "wl_compositor") == 0) {
					c->compositor_name = name;
					c->compositor_version = version;
				}
				if (name < sizeof(c->shown)) {
					c->shown[name] = 1;
				}
				if (name > c->max_global_name) {
					c->max_global_name = name;
				}
			}
		} else if (opcode == 0 && size == 12 && obj >= 3 && obj < 0xff000000u) {
			/* wl_callback.done on one of our syncs */
			if (obj > c->done_callback) {
				c->done_callback = obj;
			}
		}
		p += size;
		len -= size;
	}
	return true;
}

static void client_closed(struct bh_stream *stream, const char *reason, void *user)
{
	struct evil_client *c = user;
	c->closed = true;
	c->stream = NULL;
	snprintf(c->reason, sizeof(c->reason), "%s", reason ? reason : "(normal close)");
}

static const struct bh_stream_handler client_handler = {
	.data = client_data,
	.closed = client_closed,
};

static bool wait_for(bool (*cond)(void *), void *data, int ms)
{
	uint64_t end = bh_now_usec() + (uint64_t)ms * 1000;
	while (!cond(data)) {
		if (channel_gone || bh_now_usec() > end) {
			return cond(data);
		}
		wl_event_loop_dispatch(loop, 50);
	}
	return true;
}

/* Message building. */
struct wmsg {
	uint8_t buf[64 * 1024];
	size_t len;
	size_t start;
};

static void w_begin(struct wmsg *m, uint32_t obj, uint16_t opcode)
{
	m->start = m->len;
	memcpy(m->buf + m->len, &obj, 4);
	uint32_t word = opcode;
	memcpy(m->buf + m->len + 4, &word, 4);
	m->len += 8;
}

static void w_u32(struct wmsg *m, uint32_t v)
{
	memcpy(m->buf + m->len, &v, 4);
	m->len += 4;
}

static void w_str(struct wmsg *m, const char *s)
{
	uint32_t len = (uint32_t)strlen(s) + 1;
	w_u32(m, len);
	memset(m->buf + m->len, 0, (len + 3) & ~3u);
	memcpy(m->buf + m->len, s, len);
	m->len += (len + 3) & ~3u;
}

static void w_end(struct wmsg *m)
{
	uint32_t word;
	memcpy(&word, m->buf + m->start + 4, 4);
	word |= (uint32_t)(m->len - m->start) << 16;
	memcpy(m->buf + m->start + 4, &word, 4);
}

static bool send_wl(struct evil_client *c, const struct wmsg *m)
{
	uint8_t frame[64 * 1024];
	frame[0] = BH_RELAY_WL;
	memcpy(frame + 1, m->buf, m->len);
	return c->stream != NULL && bh_stream_send(c->stream, frame, 1 + m->len);
}

static void send_raw(struct evil_client *c, const void *data, size_t len)
{
	if (c->stream != NULL) {
		bh_stream_send(c->stream, data, len);
	}
}

static bool have_globals(void *data)
{
	struct evil_client *c = data;
	return c->closed || (c->shm_name != 0 && c->compositor_name != 0);
}

static struct evil_client *client_open(void)
{
	struct evil_client *c = calloc(1, sizeof(*c));
	c->stream = bh_endpoint_open_stream(endpoint, BH_STREAM_WAYLAND, &client_handler, c);
	if (c->stream == NULL) {
		fprintf(stderr, "evil-agent: could not open a stream\n");
		exit(1);
	}
	c->next_id = 2;
	/* every client starts like a real one: registry, wait for globals */
	struct wmsg m = {.len = 0};
	c->registry_id = c->next_id++;
	w_begin(&m, 1, 1); /* wl_display.get_registry */
	w_u32(&m, c->registry_id);
	w_end(&m);
	send_wl(c, &m);
	wait_for(have_globals, c, 5000);
	return c;
}

static uint32_t bind_global(
	struct evil_client *c, struct wmsg *m, uint32_t name, const char *iface, uint32_t version)
{
	uint32_t id = c->next_id++;
	w_begin(m, c->registry_id, 0);
	w_u32(m, name);
	w_str(m, iface);
	w_u32(m, version);
	w_u32(m, id);
	w_end(m);
	return id;
}

static bool is_closed(void *data)
{
	return ((struct evil_client *)data)->closed;
}

struct sync_wait {
	struct evil_client *c;
	uint32_t id;
};

static bool sync_done(void *data)
{
	struct sync_wait *w = data;
	return w->c->closed || w->c->done_callback >= w->id;
}

/* The well-behaved client still gets answers. */
static bool good_alive(struct evil_client *good)
{
	struct wmsg m = {.len = 0};
	struct sync_wait w = {good, good->next_id++};
	w_begin(&m, 1, 0); /* wl_display.sync */
	w_u32(&m, w.id);
	w_end(&m);
	send_wl(good, &m);
	return wait_for(sync_done, &w, 5000) && !good->closed;
}

static int failures;

static void expect_end(struct evil_client *c, const char *name, struct evil_client *good)
{
	bool ended = wait_for(is_closed, c, 5000);
	if (!ended) {
		printf("FAIL %s: the host did not end the stream\n", name);
		failures++;
	} else if (strstr(c->reason, "normal close") != NULL) {
		printf("FAIL %s: the stream ended without a reason\n", name);
		failures++;
	} else {
		printf("ok   %s: ended: %s\n", name, c->reason);
	}
	if (!good_alive(good)) {
		printf("FAIL %s: the well-behaved client stopped working (%s)\n", name,
			good->closed ? good->reason : "no answer");
		failures++;
	}
	if (c->stream != NULL) {
		bh_stream_close(c->stream, NULL);
	}
	free(c);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void send_fd_shm(struct evil_client *c, uint32_t serial, uint64_t size)
{
	uint8_t ph[13] = {BH_RELAY_FD_SHM};
	put32(ph + 1, serial);
	put64(ph + 5, size);
	send_raw(c, ph, sizeof(ph));
}

static void send_shm_data(struct evil_client *c, uint32_t serial, uint64_t offset, size_t len)
{
	uint8_t data[13 + 256] = {BH_RELAY_SHM_DATA};
	put32(data + 1, serial);
	put64(data + 5, offset);
	memset(data + 13, 0xab, sizeof(data) - 13);
	send_raw(c, data, 13 + (len < 256 ? len : 256));
}

/* Appends binding wl_shm and wl_shm.create_pool of size to m; returns the
 * pool's id. The fd must be announced separately (or not, to test that). */
static uint32_t add_create_pool(struct evil_client *c, struct wmsg *m, int32_t size)
{
	uint32_t shm = bind_global(c, m, c->shm_name, "wl_shm", 1);
	uint32_t pool = c->next_id++;
	w_begin(m, shm, 0);
	w_u32(m, pool);
	w_u32(m, (uint32_t)size);
	w_end(m);
	return pool;
}

static bool region_cases; /* --region: the host offers a shared region */
static uint64_t region_size; /* as offered */

/* Freed after the endpoint, whose end still reports its stream closed. */
static struct evil_client *good_client;

static bool have_region(void *data)
{
	return region_size != 0;
}

/* A pool on the shared region (its fd announced as FD_REGION) of size
 * bytes, and create_buffer on it; returns the pool's id. */
static uint32_t add_region_pool(struct evil_client *c, struct wmsg *m, uint64_t size)
{
	uint8_t ph[BH_RELAY_FD_REGION_LEN] = {BH_RELAY_FD_REGION};
	put32(ph + 1, 1);
	send_raw(c, ph, sizeof(ph));
	return add_create_pool(c, m, (int32_t)size);
}

static uint32_t add_buffer(struct evil_client *c, struct wmsg *m, uint32_t pool, int32_t offset,
	int32_t width, int32_t height, int32_t stride)
{
	uint32_t id = c->next_id++;
	w_begin(m, pool, 0); /* create_buffer */
	w_u32(m, id);
	w_u32(m, (uint32_t)offset);
	w_u32(m, (uint32_t)width);
	w_u32(m, (uint32_t)height);
	w_u32(m, (uint32_t)stride);
	w_u32(m, 0); /* argb8888 */
	w_end(m);
	return id;
}

static uint64_t guest_ram_size; /* --guest-ram MIB: the host reads that much */

/* A BH_RELAY_SHM_GPA frame: dest, then n pieces of (gpa, len). */
static void send_gpa(struct evil_client *c, uint64_t dest, const uint64_t *gpa, const uint32_t *len,
	size_t n, size_t extra)
{
	uint8_t f[BH_RELAY_SHM_GPA_HEAD + 4 * BH_RELAY_SHM_GPA_PIECE + 8] = {BH_RELAY_SHM_GPA};
	put64(f + 1, dest);
	for (size_t i = 0; i < n; i++) {
		put64(f + BH_RELAY_SHM_GPA_HEAD + i * BH_RELAY_SHM_GPA_PIECE, gpa[i]);
		put32(f + BH_RELAY_SHM_GPA_HEAD + i * BH_RELAY_SHM_GPA_PIECE + 8, len[i]);
	}
	send_raw(c, f, BH_RELAY_SHM_GPA_HEAD + n * BH_RELAY_SHM_GPA_PIECE + extra);
}

/* A client with a 64x64 buffer at slot of the region (16 KiB). */
static struct evil_client *region_buffer_client(int32_t slot)
{
	struct evil_client *c = client_open();
	struct wmsg m = {.len = 0};
	uint32_t pool = add_region_pool(c, &m, region_size);
	add_buffer(c, &m, pool, slot, 64, 64, 256);
	send_wl(c, &m);
	return c;
}

static void run_guest_memory_cases(struct evil_client *good, int32_t slot)
{
	uint64_t gpa[2] = {0, 4096};
	uint32_t len[2] = {4096, 4096};
	struct evil_client *c;
	if (guest_ram_size == 0) {
		c = region_buffer_client(slot);
		send_gpa(c, (uint64_t)slot, gpa, len, 1, 0);
		expect_end(c, "guest memory named to a host that does not read it", good);
		return;
	}
	c = region_buffer_client(slot);
	send_gpa(c, (uint64_t)slot, gpa, len, 2, 0);
	if (!good_alive(c)) {
		printf("FAIL guest memory copied into its own buffer: ended: %s\n", c->reason);
		failures++;
	} else {
		printf("good guest memory copied into its own buffer: the client lives on\n");
	}
	bh_stream_close(c->stream, NULL);
	free(c);

	c = region_buffer_client(slot);
	gpa[0] = guest_ram_size - 100;
	send_gpa(c, (uint64_t)slot, gpa, len, 1, 0);
	expect_end(c, "guest memory past the VM's memory", good);

	c = region_buffer_client(slot);
	gpa[0] = 4ull << 30; /* above 4 GiB, where this VM has none */
	send_gpa(c, (uint64_t)slot, gpa, len, 1, 0);
	expect_end(c, "guest memory above 4 GiB that the VM has not", good);

	c = region_buffer_client(slot);
	gpa[0] = UINT64_MAX - 100;
	send_gpa(c, (uint64_t)slot, gpa, len, 1, 0);
	expect_end(c, "guest memory whose address + length overflows", good);

	c = region_buffer_client(slot);
	gpa[0] = 0;
	send_gpa(c, (uint64_t)slot + 16384 - 100, gpa, len, 1, 0);
	expect_end(c, "guest memory copied past the end of its buffer", good);

	c = region_buffer_client(slot);
	send_gpa(c, (uint64_t)slot + 65536, gpa, len, 1, 0);
	expect_end(c, "guest memory copied where it has no buffer", good);

	c = region_buffer_client(slot);
	len[0] = 0;
	send_gpa(c, (uint64_t)slot, gpa, len, 1, 0);
	expect_end(c, "a guest memory piece of no bytes", good);

	c = region_buffer_client(slot);
	len[0] = 4096;
	send_gpa(c, (uint64_t)slot, gpa, len, 1, 5);
	expect_end(c, "a guest memory frame of a piece and a half", good);
}

/* The shared region's cases: every slot the agent names is checked. */
static void run_region_cases(struct evil_client *good)
{
	if (!wait_for(have_region, NULL, 5000)) {
		printf("FAIL region: the host offered no shared region\n");
		failures++;
		return;
	}
	struct evil_client *c;
	struct wmsg m;
	int32_t slot = BH_REGION_HEADER;

	c = client_open();
	m.len = 0;
	add_region_pool(c, &m, region_size / 2);
	send_wl(c, &m);
	expect_end(c, "region pool of another size than the region", good);

	c = client_open();
	m.len = 0;
	uint32_t pool = add_region_pool(c, &m, region_size);
	add_buffer(c, &m, pool, (int32_t)(region_size - 4096), 64, 64, 256);
	send_wl(c, &m);
	expect_end(c, "region buffer past the region's end", good);

	c = client_open();
	m.len = 0;
	pool = add_region_pool(c, &m, region_size);
	add_buffer(c, &m, pool, 0, 64, 64, 256);
	send_wl(c, &m);
	expect_end(c, "region buffer over the header", good);

	c = client_open();
	m.len = 0;
	pool = add_region_pool(c, &m, region_size);
	add_buffer(c, &m, pool, -4096, 64, 64, 256);
	send_wl(c, &m);
	expect_end(c, "region buffer at a negative offset", good);

	c = client_open();
	m.len = 0;
	pool = add_region_pool(c, &m, region_size);
	add_buffer(c, &m, pool, slot, 0x40000000, 0x40000000, 0x7fffffff);
	send_wl(c, &m);
	expect_end(c, "region buffer whose stride x height overflows", good);

	c = client_open();
	m.len = 0;
	pool = add_region_pool(c, &m, region_size);
	add_buffer(c, &m, pool, slot + 100, 16, 16, 64);
	send_wl(c, &m);
	expect_end(c, "region buffer off a page", good);

	c = client_open();
	m.len = 0;
	pool = add_region_pool(c, &m, region_size);
	add_buffer(c, &m, pool, slot, 64, 64, 256);
	add_buffer(c, &m, pool, slot + 8192, 64, 64, 256); /* inside the first */
	send_wl(c, &m);
	expect_end(c, "region slot reused before its buffer was destroyed", good);

	c = client_open();
	m.len = 0;
	pool = add_region_pool(c, &m, region_size);
	w_begin(&m, pool, 2); /* resize */
	w_u32(&m, (uint32_t)region_size);
	w_end(&m);
	send_wl(c, &m);
	expect_end(c, "resize of a region pool", good);

	c = client_open();
	m.len = 0;
	add_region_pool(c, &m, region_size);
	send_wl(c, &m);
	send_shm_data(c, 1, BH_REGION_HEADER, 64); /* bytes are never sent for it */
	expect_end(c, "buffer data sent for a region pool", good);

	/* Buffer data named in guest memory: refused unless the host reads
	 * it, and then every address, length and destination checked. */
	run_guest_memory_cases(good, slot);

	/* A slot given back may be used again: the same client lives on. */
	c = client_open();
	m.len = 0;
	pool = add_region_pool(c, &m, region_size);
	uint32_t b = add_buffer(c, &m, pool, slot, 64, 64, 256);
	w_begin(&m, b, 0); /* wl_buffer.destroy */
	w_end(&m);
	add_buffer(c, &m, pool, slot, 64, 64, 256);
	send_wl(c, &m);
	if (!good_alive(c)) {
		printf("FAIL region slot reused after release: ended: %s\n", c->reason);
		failures++;
	} else {
		printf("good region slot reused after release: the client lives on\n");
	}
	bh_stream_close(c->stream, NULL);
	free(c);
}

static void run_cases(void)
{
	struct evil_client *good = good_client = client_open();
	if (good->closed || good->shm_name == 0) {
		printf("FAIL setup: the well-behaved client got no globals (%s)\n", good->reason);
		failures++;
		return;
	}
	struct evil_client *c;
	struct wmsg m;

	c = client_open();
	m.len = 0;
	w_begin(&m, c->registry_id, 0); /* bind with an unterminated string */
	w_u32(&m, c->shm_name);
	w_u32(&m, 8);
	memcpy(m.buf + m.len, "wl_shmXY", 8);
	m.len += 8;
	w_u32(&m, 1);
	w_u32(&m, 9);
	w_end(&m);
	send_wl(c, &m);
	expect_end(c, "string without NUL", good);

	c = client_open();
	m.len = 0;
	w_begin(&m, c->registry_id, 0); /* a string (array) longer than the message */
	w_u32(&m, c->shm_name);
	w_u32(&m, 4000);
	w_u32(&m, 0);
	w_end(&m);
	send_wl(c, &m);
	expect_end(c, "string/array longer than the message", good);

	c = client_open();
	m.len = 0;
	w_begin(&m, c->registry_id + 40, 0);
	w_end(&m);
	send_wl(c, &m);
	expect_end(c, "unknown object", good);

	c = client_open();
	m.len = 0;
	w_begin(&m, 1, 9);
	w_end(&m);
	send_wl(c, &m);
	expect_end(c, "unknown opcode", good);

	c = client_open();
	m.len = 0;
	w_begin(&m, 1, 0); /* wl_display.sync with an extra word */
	w_u32(&m, c->next_id++);
	w_u32(&m, 0);
	w_end(&m);
	send_wl(c, &m);
	expect_end(c, "size disagreeing with the signature", good);

	c = client_open();
	m.len = 0;
	w_begin(&m, 1, 1); /* get_registry on the live registry id */
	w_u32(&m, c->registry_id);
	w_end(&m);
	send_wl(c, &m);
	expect_end(c, "new_id reusing a live id", good);

	c = client_open();
	{
		uint8_t bad[1 + 6] = {BH_RELAY_WL, 1, 0, 0, 0, 0, 0};
		send_raw(c, bad, sizeof(bad));
	}
	expect_end(c, "truncated Wayland message", good);

	c = client_open();
	{
		uint8_t bad[9] = {BH_RELAY_WL};
		put32(bad + 1, 1);
		put32(bad + 5, (4u << 16) | 0); /* size 4 < header */
		send_raw(c, bad, sizeof(bad));
	}
	expect_end(c, "message size below its header", good);

	c = client_open();
	{
		uint8_t bad[4] = {99, 1, 2, 3};
		send_raw(c, bad, sizeof(bad));
	}
	expect_end(c, "unknown relay frame type", good);

	c = client_open();
	{
		/* This host did not ask for compression at hello. */
		uint8_t lz[17 + 8] = {BH_RELAY_SHM_LZ4};
		put32(lz + 1, 1);
		put32(lz + 13, 4096);
		send_raw(c, lz, sizeof(lz));
	}
	expect_end(c, "compressed buffer data never asked for", good);

	c = client_open();
	m.len = 0;
	bind_global(c, &m, c->max_global_name + 100, "wl_shm", 1);
	send_wl(c, &m);
	expect_end(c, "bind of a global it was not shown", good);

	/* a name the compositor has but hid (a gap in the names shown) */
	c = client_open();
	uint32_t hidden = 0;
	for (uint32_t n = 1; n < c->max_global_name && n < sizeof(c->shown); n++) {
		if (!c->shown[n]) {
			hidden = n;
			break;
		}
	}
	if (hidden != 0) {
		m.len = 0;
		bind_global(c, &m, hidden, "zwp_linux_dmabuf_v1", 3);
		send_wl(c, &m);
		expect_end(c, "bind of a hidden global's name", good);
	} else {
		printf("skip bind of a hidden global's name: the compositor hides nothing\n");
		bh_stream_close(c->stream, NULL);
		free(c);
	}

	c = client_open();
	for (int i = 0; i <= BH_RELAY_MAX_FDS; i++) {
		send_fd_shm(c, (uint32_t)i + 1, 4096);
	}
	expect_end(c, "more fds announced than messages carry", good);

	c = client_open();
	m.len = 0;
	bind_global(c, &m, c->shm_name, "wl_compositor", 1);
	send_wl(c, &m);
	expect_end(c, "bind of a name as another interface", good);

	c = client_open();
	m.len = 0;
	bind_global(c, &m, c->compositor_name, "wl_compositor", c->compositor_version + 1);
	send_wl(c, &m);
	expect_end(c, "bind over the version shown", good);

	/* fd cases: a pool needs wl_shm bound */
	c = client_open();
	m.len = 0;
	add_create_pool(c, &m, 4096); /* no fd announced */
	send_wl(c, &m);
	expect_end(c, "fd count different from the signature (fd missing)", good);

	c = client_open();
	{
		uint8_t ph[5] = {BH_RELAY_FD_PIPE};
		put32(ph + 1, 12345);
		send_raw(c, ph, sizeof(ph));
	}
	m.len = 0;
	add_create_pool(c, &m, 4096);
	send_wl(c, &m);
	expect_end(c, "fd of the wrong kind", good);

	c = client_open();
	send_fd_shm(c, 1, 4ull << 30);
	expect_end(c, "4 GiB pool", good);

	c = client_open();
	send_fd_shm(c, 1, 4096);
	m.len = 0;
	add_create_pool(c, &m, 4096);
	send_wl(c, &m);
	send_shm_data(c, 1, 4000, 200);
	expect_end(c, "buffer past the pool's end", good);

	c = client_open();
	send_shm_data(c, 77, 0, 16);
	expect_end(c, "buffer data for an unknown pool", good);

	c = client_open();
	send_fd_shm(c, 1, 4096);
	m.len = 0;
	uint32_t pool = add_create_pool(c, &m, 4096);
	w_begin(&m, pool, 2); /* resize to 1.5 GiB, over BH_RELAY_MAX_POOL_SIZE */
	w_u32(&m, 1536u << 20);
	w_end(&m);
	send_wl(c, &m);
	expect_end(c, "pool resized over the limit", good);

	c = client_open();
	{
		uint32_t comp = 0;
		m.len = 0;
		comp = bind_global(c, &m, c->compositor_name, "wl_compositor", 1);
		send_wl(c, &m);
		/* 100 000 regions, in frames of 4000 messages */
		for (int sent = 0; sent < 100000 && !c->closed;) {
			m.len = 0;
			for (int i = 0; i < 4000; i++, sent++) {
				w_begin(&m, comp, 1); /* create_region */
				w_u32(&m, c->next_id++);
				w_end(&m);
			}
			send_wl(c, &m);
			wl_event_loop_dispatch(loop, 0);
		}
	}
	expect_end(c, "100 000 objects", good);

	c = client_open();
	{
		/* 1 000 small pools, each announced and created in turn: the
		 * pool count limit (BH_RELAY_MAX_POOLS) ends the client. */
		m.len = 0;
		uint32_t shm = bind_global(c, &m, c->shm_name, "wl_shm", 1);
		send_wl(c, &m);
		for (uint32_t i = 1; i <= 1000 && !c->closed; i++) {
			send_fd_shm(c, i, 4096);
			m.len = 0;
			w_begin(&m, shm, 0);
			w_u32(&m, c->next_id++);
			w_u32(&m, 4096);
			w_end(&m);
			send_wl(c, &m);
			if (i % 50 == 0) {
				wl_event_loop_dispatch(loop, 0);
			}
		}
	}
	expect_end(c, "1 000 pools", good);

	if (region_cases) {
		run_region_cases(good);
	}

	if (!good_alive(good)) {
		printf("FAIL end: the well-behaved client stopped working\n");
		failures++;
	}
}

/* The host's offer of a shared region (--region): "mapped", whether or
 * not, as a compromised agent might say. */
static bool handle_control(
	struct bh_endpoint *ep, uint32_t type, const uint8_t *payload, size_t len, void *user)
{
	if (type == BH_CTL_REGION && len >= 8) {
		memcpy(&region_size, payload, 8);
		struct bh_msg msg;
		bh_msg_init(&msg, 0);
		bh_msg_u32(&msg, 1);
		bh_msg_str(&msg, "");
		bh_endpoint_send_control(ep, BH_CTL_REGION_STATUS, msg.buf, msg.len);
	}
	return true;
}

/* With --exec-cases: exec sessions the host opens are answered with
 * malformed replies, one kind per session, which the proxy must refuse
 * itself (it logs why) before they reach bulkheadctl. */
#define EXEC_CASES 3
static bool exec_cases;
static int exec_answered;

static bool exec_data(struct bh_stream *stream, const uint8_t *p, size_t len, void *user)
{
	if (len == 0 || p[0] != BH_EXEC_START || exec_answered >= EXEC_CASES) {
		return true;
	}
	uint8_t m[2048];
	switch (exec_answered++) {
	case 0: /* output after the exit status */
		m[0] = BH_EXEC_STDOUT;
		memcpy(m + 1, "hi\n", 3);
		bh_stream_send(stream, m, 4);
		m[0] = BH_EXEC_EXIT;
		put32(m + 1, 0);
		put32(m + 5, 0);
		bh_stream_send(stream, m, 9);
		m[0] = BH_EXEC_STDOUT;
		memcpy(m + 1, "late\n", 5);
		bh_stream_send(stream, m, 6);
		break;
	case 1: /* an exit of a kind that does not exist */
		m[0] = BH_EXEC_EXIT;
		put32(m + 1, 7);
		put32(m + 5, 0);
		bh_stream_send(stream, m, 9);
		break;
	default: /* an error text over the limit */
		m[0] = BH_EXEC_ERROR;
		memset(m + 1, 'e', 2000);
		bh_stream_send(stream, m, 2001);
		break;
	}
	printf("exec case %d answered\n", exec_answered);
	return true;
}

static void exec_closed(struct bh_stream *stream, const char *reason, void *user)
{
}

static const struct bh_stream_handler exec_handler = {
	.data = exec_data,
	.closed = exec_closed,
};

static bool handle_open(
	struct bh_endpoint *ep, struct bh_stream *stream, enum bh_stream_kind kind, void *user)
{
	if (!exec_cases || kind != BH_STREAM_EXEC) {
		return false;
	}
	bh_stream_set_handler(stream, &exec_handler, NULL);
	return true;
}

static bool exec_cases_done(void *data)
{
	return exec_answered >= EXEC_CASES;
}

static bool is_never(void *data)
{
	return false;
}

static void handle_disconnected(struct bh_endpoint *ep, const char *reason, void *user)
{
	printf("channel lost: %s\n", reason);
	channel_gone = true;
}

static const struct bh_endpoint_listener listener = {
	.control = handle_control,
	.open = handle_open,
	.disconnected = handle_disconnected,
};

int main(int argc, char *argv[])
{
	bh_log_init("evil-agent", BH_LOG_WARN);
	exec_cases = argc == 3 && strcmp(argv[2], "--exec-cases") == 0;
	region_cases = argc >= 3 && strcmp(argv[2], "--region") == 0;
	if (region_cases && argc == 5 && strcmp(argv[3], "--guest-ram") == 0) {
		guest_ram_size = strtoull(argv[4], NULL, 10) << 20;
	}
	if (argc != 2 && !exec_cases && !(region_cases && (argc == 3 || guest_ram_size > 0))) {
		fprintf(stderr,
			"usage: evil-agent SOCKET [--exec-cases|--region [--guest-ram MIB]] "
			"(listens there for the host)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", argv[1]);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(argv[1]);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
		listen(lfd, 1) < 0) {
		perror("evil-agent: listen");
		return 1;
	}
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		perror("evil-agent: accept");
		return 1;
	}
	close(lfd);
	loop = wl_event_loop_create();
	endpoint = bh_endpoint_create(loop, fd, BH_ENDPOINT_GUEST, &listener, NULL);
	struct bh_msg hello;
	bh_msg_init(&hello, 0);
	bh_msg_u32(&hello, BH_CONTROL_VERSION);
	bh_msg_u32(&hello, BH_CAP_WAYLAND | (region_cases ? BH_CAP_REGION : 0));
	bh_msg_u32(&hello, 0);
	bh_endpoint_send_control(endpoint, BH_CTL_HELLO, hello.buf, hello.len);
	bh_endpoint_send_control(endpoint, BH_CTL_APPS_DONE, NULL, 0);
	run_cases();
	if (exec_cases) {
		printf("relay cases done; answering exec sessions\n");
		if (!wait_for(exec_cases_done, NULL, 60000)) {
			printf("FAIL exec: only %d of %d exec sessions came\n", exec_answered,
				EXEC_CASES);
			failures++;
		}
		/* What was queued goes out before the channel closes. */
		wait_for(is_never, NULL, 500);
	}
	bh_endpoint_destroy(endpoint);
	free(good_client);
	wl_event_loop_destroy(loop);
	printf("%s: %d failures\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
