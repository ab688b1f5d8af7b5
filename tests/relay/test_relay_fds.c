/* The relay end to end in one test, with real libwayland on both sides and
 * the real agent and relay code between them: a small libwayland server
 * stands for the compositor (shm, a keyboard that sends a keymap, a data
 * device), a forked libwayland client for the guest app. It checks buffer
 * bytes exactly at every commit (full, partial damage, second buffer, pool
 * resize), the keymap's contents, and clipboard pipes both ways. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wayland-client.h>
#include <wayland-server.h>

#include "common/endpoint.h"
#include "common/log.h"
#include "common/util.h"
#include "guest-agent/agent.h"
#include "bulkhead-vm-v1-protocol.h"
#include "proxy/proxy.h"
#include "proxy/relay_host.h"
#include "proxy/shm.h"
#include "tests/relay/relay-test.h"
#include "tests/test.h"

#define W 64
#define H 48
#define STRIDE (W * 4)
static const char keymap_text[] = "xkb_keymap { test keymap of the relay test };";
static const char host_clip[] = "clipboard text from the host";
static const char guest_clip[] = "clipboard text from the guest";

/* Expected buffer checksums travel from the client to the server through
 * this pipe, written before each commit. */
static int expect_pipe[2];

static uint32_t checksum(const uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h = (h ^ p[i]) * 16777619u;
	}
	return h;
}

/* ---------------- the guest client (child process) ---------------- */

struct cl {
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct wl_seat *seat;
	struct wl_data_device_manager *ddm;
	char keymap[256];
	bool got_keymap;
	struct wl_data_offer *offer;
	bool source_sent;
};

static void registry_global(
	void *data, struct wl_registry *r, uint32_t name, const char *iface, uint32_t version)
{
	struct cl *c = data;
	if (strcmp(iface, "wl_compositor") == 0) {
		c->compositor = wl_registry_bind(r, name, &wl_compositor_interface, 4);
	} else if (strcmp(iface, "wl_shm") == 0) {
		c->shm = wl_registry_bind(r, name, &wl_shm_interface, 1);
	} else if (strcmp(iface, "wl_seat") == 0) {
		c->seat = wl_registry_bind(r, name, &wl_seat_interface, 5);
	} else if (strcmp(iface, "wl_data_device_manager") == 0) {
		c->ddm = wl_registry_bind(r, name, &wl_data_device_manager_interface, 3);
	}
}

static void registry_global_remove(void *data, struct wl_registry *r, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
	registry_global,
	registry_global_remove,
};

static void kb_keymap(void *data, struct wl_keyboard *kb, uint32_t format, int fd, uint32_t size)
{
	struct cl *c = data;
	if (size < sizeof(c->keymap)) {
		char *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p != MAP_FAILED) {
			memcpy(c->keymap, p, size);
			munmap(p, size);
			c->got_keymap = true;
		}
	}
	close(fd);
}
static void kb_enter(
	void *d, struct wl_keyboard *k, uint32_t s, struct wl_surface *sf, struct wl_array *a)
{
}
static void kb_leave(void *d, struct wl_keyboard *k, uint32_t s, struct wl_surface *sf)
{
}
static void kb_key(
	void *d, struct wl_keyboard *k, uint32_t s, uint32_t t, uint32_t key, uint32_t st)
{
}
static void kb_mods(
	void *d, struct wl_keyboard *k, uint32_t s, uint32_t a, uint32_t b, uint32_t c, uint32_t g)
{
}
static void kb_repeat(void *d, struct wl_keyboard *k, int32_t r, int32_t delay)
{
}
static const struct wl_keyboard_listener kb_listener = {
	kb_keymap,
	kb_enter,
	kb_leave,
	kb_key,
	kb_mods,
	kb_repeat,
};

static void offer_offer(void *d, struct wl_data_offer *o, const char *mime)
{
}
static void offer_source_actions(void *d, struct wl_data_offer *o, uint32_t a)
{
}
static void offer_action(void *d, struct wl_data_offer *o, uint32_t a)
{
}
static const struct wl_data_offer_listener offer_listener = {
	offer_offer,
	offer_source_actions,
	offer_action,
};

static void dd_data_offer(void *data, struct wl_data_device *dd, struct wl_data_offer *offer)
{
	wl_data_offer_add_listener(offer, &offer_listener, data);
}
static void dd_enter(void *d, struct wl_data_device *dd, uint32_t s, struct wl_surface *sf,
	wl_fixed_t x, wl_fixed_t y, struct wl_data_offer *o)
{
}
static void dd_leave(void *d, struct wl_data_device *dd)
{
}
static void dd_motion(void *d, struct wl_data_device *dd, uint32_t t, wl_fixed_t x, wl_fixed_t y)
{
}
static void dd_drop(void *d, struct wl_data_device *dd)
{
}
static void dd_selection(void *data, struct wl_data_device *dd, struct wl_data_offer *offer)
{
	struct cl *c = data;
	c->offer = offer;
}
static const struct wl_data_device_listener dd_listener = {
	dd_data_offer,
	dd_enter,
	dd_leave,
	dd_motion,
	dd_drop,
	dd_selection,
};

static void source_target(void *d, struct wl_data_source *s, const char *m)
{
}
static void source_send(void *data, struct wl_data_source *s, const char *mime, int fd)
{
	struct cl *c = data;
	write(fd, guest_clip, strlen(guest_clip));
	close(fd);
	c->source_sent = true;
}
static void source_cancelled(void *d, struct wl_data_source *s)
{
}
static const struct wl_data_source_listener source_listener = {
	source_target,
	source_send,
	source_cancelled,
};

static void fill(uint8_t *p, int frame, int x0, int y0, int x1, int y1)
{
	for (int y = y0; y < y1; y++) {
		for (int x = x0; x < x1; x++) {
			uint8_t *px = p + y * STRIDE + x * 4;
			px[0] = (uint8_t)(x * 3 + frame);
			px[1] = (uint8_t)(y * 5 + frame * 7);
			px[2] = (uint8_t)(frame * 31);
			px[3] = 255;
		}
	}
}

static void expect_len(const uint8_t *buf, size_t len)
{
	uint32_t sum = checksum(buf, len);
	write(expect_pipe[1], &sum, sizeof(sum));
}

static void expect(const uint8_t *buf)
{
	uint32_t sum = checksum(buf, STRIDE * H);
	write(expect_pipe[1], &sum, sizeof(sum));
}

static int run_client(const char *path)
{
	struct wl_display *display = wl_display_connect(path);
	if (display == NULL) {
		fprintf(stderr, "client: cannot connect to %s\n", path);
		return 10;
	}
	struct cl c = {0};
	struct wl_registry *registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registry_listener, &c);
	wl_display_roundtrip(display);
	if (!c.compositor || !c.shm || !c.seat || !c.ddm) {
		fprintf(stderr, "client: globals missing\n");
		return 11;
	}
	struct wl_keyboard *kb = wl_seat_get_keyboard(c.seat);
	wl_keyboard_add_listener(kb, &kb_listener, &c);
	struct wl_data_device *dd = wl_data_device_manager_get_data_device(c.ddm, c.seat);
	wl_data_device_add_listener(dd, &dd_listener, &c);

	/* buffers: a pool for two buffers, later grown for a third */
	size_t size = 2 * STRIDE * H;
	int fd = memfd_create("test-pool", MFD_CLOEXEC);
	ftruncate(fd, 3 * STRIDE * H);
	uint8_t *mem = mmap(NULL, 3 * STRIDE * H, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	struct wl_shm_pool *pool = wl_shm_create_pool(c.shm, fd, (int32_t)size);
	struct wl_buffer *a = wl_shm_pool_create_buffer(pool, 0, W, H, STRIDE, 0);
	struct wl_buffer *b = wl_shm_pool_create_buffer(pool, STRIDE * H, W, H, STRIDE, 0);
	struct wl_surface *surface = wl_compositor_create_surface(c.compositor);

	/* 1: buffer a, all new */
	fill(mem, 1, 0, 0, W, H);
	expect(mem);
	wl_surface_attach(surface, a, 0, 0);
	wl_surface_damage_buffer(surface, 0, 0, W, H);
	wl_surface_commit(surface);
	wl_display_roundtrip(display);
	/* 2: buffer b */
	fill(mem + STRIDE * H, 2, 0, 0, W, H);
	expect(mem + STRIDE * H);
	wl_surface_attach(surface, b, 0, 0);
	wl_surface_damage_buffer(surface, 0, 0, W, H);
	wl_surface_commit(surface);
	wl_display_roundtrip(display);
	/* 3: buffer a again, only a rectangle changed and damaged */
	fill(mem, 3, 10, 5, 30, 20);
	expect(mem);
	wl_surface_attach(surface, a, 0, 0);
	wl_surface_damage_buffer(surface, 10, 5, 20, 15);
	wl_surface_commit(surface);
	wl_display_roundtrip(display);
	/* 4: same buffer, surface damage of just the changed rows */
	fill(mem, 4, 0, 40, W, H);
	expect(mem);
	wl_surface_damage(surface, 0, 40, W, 8);
	wl_surface_commit(surface);
	wl_display_roundtrip(display);
	/* 4b: buffer scale 2 (this commit compares all), then surface damage
	 * of rows 15..17, which are buffer rows 30..34 */
	fill(mem, 5, 0, 0, W, 10);
	expect(mem);
	wl_surface_set_buffer_scale(surface, 2);
	wl_surface_damage(surface, 0, 0, W / 2, 5);
	wl_surface_commit(surface);
	wl_display_roundtrip(display);
	fill(mem, 6, 0, 30, W, 34);
	expect(mem);
	wl_surface_damage(surface, 0, 15, W / 2, 2);
	wl_surface_commit(surface);
	wl_display_roundtrip(display);
	wl_surface_set_buffer_scale(surface, 1);
	/* 5: the pool grows; a buffer in the new part; the pool object goes */
	wl_shm_pool_resize(pool, 3 * STRIDE * H);
	struct wl_buffer *d = wl_shm_pool_create_buffer(pool, 2 * STRIDE * H, W, H, STRIDE, 0);
	wl_shm_pool_destroy(pool);
	fill(mem + 2 * STRIDE * H, 5, 0, 0, W, H);
	expect(mem + 2 * STRIDE * H);
	wl_surface_attach(surface, d, 0, 0);
	wl_surface_damage_buffer(surface, 0, 0, W, H);
	wl_surface_commit(surface);
	wl_display_roundtrip(display);

	/* 6: a big buffer (16 MiB) in a new pool: its bytes cross the channel
	 * in many frames, with the commit held back until they are queued */
	{
		const int bw = 2048, bh = 2048, bstride = bw * 4;
		size_t bsize = (size_t)bstride * bh;
		int bfd = memfd_create("big-pool", MFD_CLOEXEC);
		ftruncate(bfd, (off_t)bsize);
		uint8_t *big = mmap(NULL, bsize, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
		for (size_t i = 0; i < bsize; i += 4) {
			uint32_t v = (uint32_t)(i * 2654435761u);
			memcpy(big + i, &v, 4);
		}
		struct wl_shm_pool *bpool = wl_shm_create_pool(c.shm, bfd, (int32_t)bsize);
		close(bfd);
		struct wl_buffer *e = wl_shm_pool_create_buffer(bpool, 0, bw, bh, bstride, 0);
		wl_shm_pool_destroy(bpool);
		expect_len(big, bsize);
		uint64_t t0 = bh_now_usec();
		wl_surface_attach(surface, e, 0, 0);
		wl_surface_damage_buffer(surface, 0, 0, bw, bh);
		wl_surface_commit(surface);
		wl_display_roundtrip(display);
		uint64_t t1 = bh_now_usec();
		/* the same buffer again, unchanged but damaged: the mirror
		 * finds nothing to send */
		expect_len(big, bsize);
		wl_surface_attach(surface, e, 0, 0);
		wl_surface_damage_buffer(surface, 0, 0, bw, bh);
		wl_surface_commit(surface);
		wl_display_roundtrip(display);
		uint64_t t2 = bh_now_usec();
		fprintf(stderr,
			"16 MiB buffer: new contents committed in %.1f ms, "
			"unchanged contents in %.1f ms\n",
			(double)(t1 - t0) / 1000.0, (double)(t2 - t1) / 1000.0);
	}

	/* keymap */
	if (!c.got_keymap || strcmp(c.keymap, keymap_text) != 0) {
		fprintf(stderr, "client: keymap %s: '%s'\n", c.got_keymap ? "wrong" : "missing",
			c.keymap);
		return 12;
	}

	/* clipboard host -> guest: the server set a selection at get_data_device */
	wl_display_roundtrip(display);
	if (c.offer == NULL) {
		fprintf(stderr, "client: no selection offer\n");
		return 13;
	}
	int p[2];
	pipe(p);
	wl_data_offer_receive(c.offer, "text/plain", p[1]);
	close(p[1]);
	wl_display_flush(display);
	char buf[256];
	size_t got = 0;
	ssize_t n;
	while ((n = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(p[0]);
	if (strcmp(buf, host_clip) != 0) {
		fprintf(stderr, "client: read '%s' from the host's selection\n", buf);
		return 14;
	}

	/* clipboard guest -> host */
	struct wl_data_source *source = wl_data_device_manager_create_data_source(c.ddm);
	wl_data_source_add_listener(source, &source_listener, &c);
	wl_data_source_offer(source, "text/plain");
	wl_data_device_set_selection(dd, source, 1);
	while (!c.source_sent && wl_display_dispatch(display) >= 0) {
	}
	wl_display_roundtrip(display);
	wl_display_disconnect(display);
	return 0;
}

/* ---------------- the compositor stand-in (parent) ---------------- */

static int commits, commits_ok;
static char host_read[256];
static size_t host_read_len;
static bool host_read_done;
static struct wl_event_loop *loop;

static void surface_destroy(struct wl_client *c, struct wl_resource *r)
{
	wl_resource_destroy(r);
}
static void surface_attach(struct wl_client *c, struct wl_resource *r, struct wl_resource *buffer,
	int32_t x, int32_t y)
{
	wl_resource_set_user_data(r, buffer);
}
static void surface_damage(
	struct wl_client *c, struct wl_resource *r, int32_t x, int32_t y, int32_t w, int32_t h)
{
}
static void surface_frame(struct wl_client *c, struct wl_resource *r, uint32_t id)
{
	struct wl_resource *cb = wl_resource_create(c, &wl_callback_interface, 1, id);
	wl_callback_send_done(cb, 0);
	wl_resource_destroy(cb);
}
static void surface_region(struct wl_client *c, struct wl_resource *r, struct wl_resource *g)
{
}
static void surface_commit(struct wl_client *c, struct wl_resource *r)
{
	struct wl_resource *buffer = wl_resource_get_user_data(r);
	struct wl_shm_buffer *shm = buffer ? wl_shm_buffer_get(buffer) : NULL;
	uint32_t want = 0;
	if (read(expect_pipe[0], &want, sizeof(want)) != sizeof(want) || shm == NULL) {
		commits++;
		return;
	}
	wl_shm_buffer_begin_access(shm);
	uint32_t got = checksum(wl_shm_buffer_get_data(shm),
		(size_t)wl_shm_buffer_get_stride(shm) * (size_t)wl_shm_buffer_get_height(shm));
	wl_shm_buffer_end_access(shm);
	commits++;
	if (got == want) {
		commits_ok++;
	} else {
		fprintf(stderr, "server: commit %d has the wrong buffer bytes\n", commits);
	}
}
static void surface_transform(struct wl_client *c, struct wl_resource *r, int32_t t)
{
}
static void surface_scale(struct wl_client *c, struct wl_resource *r, int32_t s)
{
}
static void surface_damage_buffer(
	struct wl_client *c, struct wl_resource *r, int32_t x, int32_t y, int32_t w, int32_t h)
{
}
static const struct wl_surface_interface surface_impl = {
	surface_destroy,
	surface_attach,
	surface_damage,
	surface_frame,
	surface_region,
	surface_region,
	surface_commit,
	surface_transform,
	surface_scale,
	surface_damage_buffer,
};

static void compositor_create_surface(struct wl_client *c, struct wl_resource *r, uint32_t id)
{
	struct wl_resource *s =
		wl_resource_create(c, &wl_surface_interface, wl_resource_get_version(r), id);
	wl_resource_set_implementation(s, &surface_impl, NULL, NULL);
}
static void compositor_create_region(struct wl_client *c, struct wl_resource *r, uint32_t id)
{
}
static const struct wl_compositor_interface compositor_impl = {
	compositor_create_surface,
	compositor_create_region,
};
static void compositor_bind(struct wl_client *c, void *data, uint32_t version, uint32_t id)
{
	struct wl_resource *r = wl_resource_create(c, &wl_compositor_interface, version, id);
	wl_resource_set_implementation(r, &compositor_impl, NULL, NULL);
}

static void kb_release(struct wl_client *c, struct wl_resource *r)
{
	wl_resource_destroy(r);
}
static const struct wl_keyboard_interface kb_impl = {kb_release};

static void seat_get_keyboard(struct wl_client *c, struct wl_resource *r, uint32_t id)
{
	struct wl_resource *kb =
		wl_resource_create(c, &wl_keyboard_interface, wl_resource_get_version(r), id);
	wl_resource_set_implementation(kb, &kb_impl, NULL, NULL);
	int fd = memfd_create("keymap", MFD_CLOEXEC);
	write(fd, keymap_text, sizeof(keymap_text));
	wl_keyboard_send_keymap(kb, WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1, fd, sizeof(keymap_text));
	close(fd);
}
static void seat_unused(struct wl_client *c, struct wl_resource *r, uint32_t id)
{
}
static void seat_release(struct wl_client *c, struct wl_resource *r)
{
	wl_resource_destroy(r);
}
static const struct wl_seat_interface seat_impl = {
	seat_unused,
	seat_get_keyboard,
	seat_unused,
	seat_release,
};
static void seat_bind(struct wl_client *c, void *data, uint32_t version, uint32_t id)
{
	struct wl_resource *r = wl_resource_create(c, &wl_seat_interface, version, id);
	wl_resource_set_implementation(r, &seat_impl, NULL, NULL);
	wl_seat_send_capabilities(r, WL_SEAT_CAPABILITY_KEYBOARD);
}

/* data device: the host's selection is offered at get_data_device; a
 * selection the client sets is read at once. */
static void offer_accept(struct wl_client *c, struct wl_resource *r, uint32_t s, const char *m)
{
}
static void offer_receive(struct wl_client *c, struct wl_resource *r, const char *mime, int fd)
{
	write(fd, host_clip, strlen(host_clip));
	close(fd);
}
static void offer_destroy(struct wl_client *c, struct wl_resource *r)
{
	wl_resource_destroy(r);
}
static void offer_finish(struct wl_client *c, struct wl_resource *r)
{
}
static void offer_set_actions(struct wl_client *c, struct wl_resource *r, uint32_t a, uint32_t p)
{
}
static const struct wl_data_offer_interface offer_impl = {
	offer_accept,
	offer_receive,
	offer_destroy,
	offer_finish,
	offer_set_actions,
};

static void source_offer(struct wl_client *c, struct wl_resource *r, const char *m)
{
}
static void source_destroy(struct wl_client *c, struct wl_resource *r)
{
	wl_resource_destroy(r);
}
static void source_set_actions(struct wl_client *c, struct wl_resource *r, uint32_t a)
{
}
static const struct wl_data_source_interface source_impl = {
	source_offer,
	source_destroy,
	source_set_actions,
};

static struct wl_event_source *host_pipe_source;
static int host_pipe_cb(int fd, uint32_t mask, void *data)
{
	ssize_t n = read(fd, host_read + host_read_len, sizeof(host_read) - 1 - host_read_len);
	if (n > 0) {
		host_read_len += (size_t)n;
		return 0;
	}
	host_read_done = true;
	wl_event_source_remove(host_pipe_source);
	close(fd);
	return 0;
}

static void dd_start_drag(struct wl_client *c, struct wl_resource *r, struct wl_resource *s,
	struct wl_resource *o, struct wl_resource *i, uint32_t serial)
{
}
static void dd_set_selection(
	struct wl_client *c, struct wl_resource *r, struct wl_resource *source, uint32_t serial)
{
	if (source == NULL) {
		return;
	}
	int p[2];
	pipe2(p, O_CLOEXEC | O_NONBLOCK);
	wl_data_source_send_send(source, "text/plain", p[1]);
	close(p[1]);
	host_pipe_source = wl_event_loop_add_fd(loop, p[0], WL_EVENT_READABLE, host_pipe_cb, NULL);
}
static void dd_release(struct wl_client *c, struct wl_resource *r)
{
	wl_resource_destroy(r);
}
static const struct wl_data_device_interface dd_impl = {
	dd_start_drag,
	dd_set_selection,
	dd_release,
};

static void ddm_create_source(struct wl_client *c, struct wl_resource *r, uint32_t id)
{
	struct wl_resource *s =
		wl_resource_create(c, &wl_data_source_interface, wl_resource_get_version(r), id);
	wl_resource_set_implementation(s, &source_impl, NULL, NULL);
}
static void ddm_get_device(
	struct wl_client *c, struct wl_resource *r, uint32_t id, struct wl_resource *seat)
{
	struct wl_resource *dd =
		wl_resource_create(c, &wl_data_device_interface, wl_resource_get_version(r), id);
	wl_resource_set_implementation(dd, &dd_impl, NULL, NULL);
	struct wl_resource *offer =
		wl_resource_create(c, &wl_data_offer_interface, wl_resource_get_version(r), 0);
	wl_resource_set_implementation(offer, &offer_impl, NULL, NULL);
	wl_data_device_send_data_offer(dd, offer);
	wl_data_offer_send_offer(offer, "text/plain");
	wl_data_device_send_selection(dd, offer);
}
static const struct wl_data_device_manager_interface ddm_impl = {
	ddm_create_source,
	ddm_get_device,
};
static void ddm_bind(struct wl_client *c, void *data, uint32_t version, uint32_t id)
{
	struct wl_resource *r =
		wl_resource_create(c, &wl_data_device_manager_interface, version, id);
	wl_resource_set_implementation(r, &ddm_impl, NULL, NULL);
}

/* The host side of the channel: each guest stream gets a fresh client
 * connection of our server, like the compositor's create_client. */
static struct wl_display *server;

static bool host_control(
	struct bh_endpoint *ep, uint32_t type, const uint8_t *p, size_t len, void *user)
{
	return true;
}
static bool host_open(
	struct bh_endpoint *ep, struct bh_stream *stream, enum bh_stream_kind kind, void *user)
{
	if (kind == BH_STREAM_PIPE) {
		return bh_relay_host_accept_pipe(loop, stream);
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		return false;
	}
	if (wl_client_create(server, sv[0]) == NULL) {
		return false;
	}
	return bh_relay_host_start("test", stream, loop, sv[1]) != NULL;
}
static bool channel_lost;
static void host_disconnected(struct bh_endpoint *ep, const char *reason, void *user)
{
	channel_lost = true;
}
static const struct bh_endpoint_listener host_listener = {
	host_control,
	host_open,
	host_disconnected,
};

static pid_t child;

/* The compositor's side of bulkhead_vm_manager_v1, for the real proxy:
 * each create_client gets a fresh client connection of this server. */
static void vm_client_destroy(struct wl_client *c, struct wl_resource *r)
{
	wl_resource_destroy(r);
}
static const struct bulkhead_vm_client_v1_interface vm_client_impl = {vm_client_destroy};

static void manager_destroy(struct wl_client *c, struct wl_resource *r)
{
	wl_resource_destroy(r);
}
static void manager_create_client(
	struct wl_client *c, struct wl_resource *r, uint32_t id, uint32_t stream)
{
	struct wl_resource *res = wl_resource_create(c, &bulkhead_vm_client_v1_interface, 1, id);
	wl_resource_set_implementation(res, &vm_client_impl, NULL, NULL);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
		wl_client_create(server, sv[0]) == NULL) {
		bulkhead_vm_client_v1_send_refused(res, "test server cannot");
		return;
	}
	bulkhead_vm_client_v1_send_connection(res, sv[1]);
	close(sv[1]);
}
static void manager_set_state(
	struct wl_client *c, struct wl_resource *r, uint32_t state, const char *reason)
{
}
static void manager_app(struct wl_client *c, struct wl_resource *r, const char *id,
	const char *name, const char *exec, const char *icon)
{
}
static void manager_apps_done(struct wl_client *c, struct wl_resource *r)
{
}
static void manager_boot_time(
	struct wl_client *c, struct wl_resource *r, const char *step, uint32_t usec)
{
}
static const struct bulkhead_vm_manager_v1_interface manager_impl = {
	manager_destroy,
	manager_create_client,
	manager_set_state,
	manager_app,
	manager_apps_done,
	manager_boot_time,
};
static void manager_bind(struct wl_client *c, void *data, uint32_t version, uint32_t id)
{
	struct wl_resource *r =
		wl_resource_create(c, &bulkhead_vm_manager_v1_interface, version, id);
	wl_resource_set_implementation(r, &manager_impl, NULL, NULL);
}

static void server_setup(bool with_manager)
{
	server = wl_display_create();
	loop = wl_display_get_event_loop(server);
	wl_display_init_shm(server);
	wl_global_create(server, &wl_compositor_interface, 4, NULL, compositor_bind);
	wl_global_create(server, &wl_seat_interface, 7, NULL, seat_bind);
	wl_global_create(server, &wl_data_device_manager_interface, 3, NULL, ddm_bind);
	if (with_manager) {
		wl_global_create(server, &bulkhead_vm_manager_v1_interface, 1, NULL, manager_bind);
	}
}

static bool server_done(void)
{
	return commits >= 9 && host_read_done;
}

/* What the server saw, as an exit status for the proxy mode's server child. */
static int server_verdict(void)
{
	host_read[host_read_len] = '\0';
	fprintf(stderr, "commits with exact bytes: %d/%d; guest clipboard read by the host: '%s'\n",
		commits_ok, commits, host_read);
	return commits == 9 && commits_ok == 9 && strcmp(host_read, guest_clip) == 0 ? 0 : 1;
}

/* argv[1] "proxy": the real bulkhead-proxy (proxy.c, vm_client.c) stands
 * between agent and server, which then runs in a child process as the
 * compositor does; otherwise an endpoint in this test plays the host. */
int main(int argc, char *argv[])
{
	bool with_proxy = argc > 1 && strcmp(argv[1], "proxy") == 0;
	const char *name = with_proxy ? "test_relay_fds proxy" : "test_relay_fds";
	bh_log_init("test_relay_fds", BH_LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	struct relay_test_env env;
	if (!relay_test_setup(&env, "relay-fds")) {
		return 1;
	}
	if (pipe(expect_pipe) < 0) {
		return 1;
	}

	pid_t server_child = -1;
	int control[2] = {-1, -1};
	int verdict[2] = {-1, -1};
	if (with_proxy) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control) < 0 ||
			pipe2(verdict, O_CLOEXEC | O_NONBLOCK) < 0) {
			return 1;
		}
		server_child = fork();
		if (server_child == 0) {
			close(control[1]);
			close(expect_pipe[1]);
			server_setup(true);
			wl_client_create(server, control[0]);
			uint64_t end = bh_now_usec() + 20 * 1000000ull;
			while (!server_done() && bh_now_usec() < end) {
				wl_display_flush_clients(server);
				wl_event_loop_dispatch(loop, 50);
			}
			/* The proxy ends its process when the compositor goes, so
			 * this server keeps serving until the test kills it. */
			uint8_t v = (uint8_t)server_verdict();
			if (write(verdict[1], &v, 1) != 1) {
				_exit(1);
			}
			end = bh_now_usec() + 30 * 1000000ull;
			while (bh_now_usec() < end) { /* the client may still talk */
				wl_display_flush_clients(server);
				wl_event_loop_dispatch(loop, 50);
			}
			_exit(0);
		}
		close(verdict[1]);
		close(control[0]);
		close(expect_pipe[0]);
		loop = wl_event_loop_create();
	} else {
		server_setup(false);
	}

	struct bh_agent *agent = relay_test_agent(loop, &env);
	CHECK(agent != NULL);
	if (agent == NULL) {
		return bh_test_finish(name);
	}

	struct bh_endpoint *host = NULL;
	struct bh_proxy *proxy = NULL;
	if (with_proxy) {
		/* the proxy's control connection, as the compositor passes it */
		int fd = dup(control[1]); /* without CLOEXEC, as WAYLAND_SOCKET wants */
		char num[16];
		snprintf(num, sizeof(num), "%d", fd);
		setenv("WAYLAND_SOCKET", num, 1);
		struct bh_proxy_options popts = {.tag = "t1", .channel = env.chan};
		proxy = bh_proxy_create(loop, &popts);
		CHECK(proxy != NULL);
		close(control[1]);
	} else {
		int cfd = relay_test_connect(env.chan_path);
		CHECK(cfd >= 0);
		host = bh_endpoint_create(loop, cfd, BH_ENDPOINT_HOST, &host_listener, NULL);
	}
	/* let the agent accept and say hello before the client connects */
	for (int i = 0; i < 100 && !bh_agent_connected(agent); i++) {
		wl_event_loop_dispatch(loop, 50);
	}
	CHECK(bh_agent_connected(agent));
	for (int i = 0; i < 10; i++) {
		wl_event_loop_dispatch(loop, 20); /* the hello reaches the host */
	}

	/* The agent reaps every child (its exec sessions), so the client
	 * reports its result through a pipe rather than its exit status. */
	int result[2];
	CHECK(pipe2(result, O_CLOEXEC | O_NONBLOCK) == 0);
	child = fork();
	if (child == 0) {
		if (!with_proxy) {
			close(expect_pipe[0]);
		}
		uint8_t r = (uint8_t)run_client(env.guest_socket);
		_exit(write(result[1], &r, 1) == 1 ? r : 1);
	}
	close(result[1]);
	if (!with_proxy) {
		close(expect_pipe[1]);
	}
	uint64_t deadline = bh_now_usec() + 20 * 1000000ull;
	uint8_t client_result = 255;
	bool client_done = false;
	while ((!client_done || (!with_proxy && !host_read_done)) && bh_now_usec() < deadline) {
		client_done = client_done || read(result[0], &client_result, 1) == 1;
		if (!with_proxy) {
			wl_display_flush_clients(server);
		}
		wl_event_loop_dispatch(loop, 50);
	}
	if (!client_done) {
		kill(child, SIGKILL);
	}
	CHECK_EQ_INT(client_result, 0);
	if (with_proxy) {
		/* keep relaying until the server has seen everything */
		uint8_t v = 1;
		while (bh_now_usec() < deadline && read(verdict[0], &v, 1) != 1) {
			wl_event_loop_dispatch(loop, 50);
		}
		CHECK_EQ_INT(v, 0);
		bh_proxy_destroy(proxy);
		kill(server_child, SIGKILL);
		waitpid(server_child, NULL, 0);
	} else {
		CHECK_EQ_INT(server_verdict(), 0);
		CHECK(!channel_lost);
		bh_endpoint_destroy(host);
	}
	/* the agent's sources live on the loop, which the display owns */
	bh_agent_destroy(agent);
	if (!with_proxy) {
		wl_display_destroy_clients(server);
		wl_display_destroy(server);
	}
	relay_test_cleanup(&env);
	return bh_test_finish(name);
}
