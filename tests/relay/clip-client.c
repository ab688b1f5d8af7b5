/* A small Wayland client for the clipboard tests: it maps a window and,
 * once it has keyboard focus, either owns the selection (copy TEXT) or
 * reads the selection offered to it (paste) and prints it.
 *   clip-client copy TEXT   -- serves TEXT until killed
 *   clip-client paste SECS  -- prints the selection; exit 3 if none came
 *   clip-client flood MIB   -- owns a selection of MIB MiB ('x's)
 *   clip-client drain SECS  -- reads the selection to its end (or SECS)
 *                              and prints how many bytes came and why it stopped
 *   clip-client paint W H   -- a WxH window (app id clip-paint-W) drawn anew,
 *                              all of it, on every frame callback; prints
 *                              "frame N" for each (a stream of big commits) */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

#define SIZE 120

struct clip {
	struct wl_display *display;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct wl_seat *seat;
	struct wl_data_device_manager *ddm;
	struct xdg_wm_base *wm;
	struct wl_surface *surface;
	struct wl_data_device *device;
	struct wl_data_source *source;
	int flood_mib; /* flood: serve this many MiB */
	struct wl_data_offer *selection;
	bool selection_seen; /* a selection event arrived (offer may be NULL) */
	bool focused;
	uint32_t serial;
	const char *text; /* copy mode */
	bool configured;
	int paint_w, paint_h; /* paint mode */
	uint32_t *paint_px;   /* two buffers, one after the other */
	struct wl_buffer *paint_buffer[2];
	unsigned frames;
};

static void paint(struct clip *c);

static void frame_done(void *data, struct wl_callback *cb, uint32_t time)
{
	struct clip *c = data;
	wl_callback_destroy(cb);
	printf("frame %u\n", ++c->frames);
	paint(c);
}

static const struct wl_callback_listener frame_listener = {frame_done};

/* Every pixel changes on every frame: each commit sends the whole buffer. */
static void paint(struct clip *c)
{
	size_t n = (size_t)c->paint_w * c->paint_h;
	if (c->paint_px == NULL) {
		int fd = memfd_create("clip-paint", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)(n * 8)) != 0) {
			exit(1);
		}
		c->paint_px = mmap(NULL, n * 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (c->paint_px == MAP_FAILED) {
			exit(1);
		}
		struct wl_shm_pool *pool = wl_shm_create_pool(c->shm, fd, (int32_t)(n * 8));
		for (int i = 0; i < 2; i++) {
			c->paint_buffer[i] = wl_shm_pool_create_buffer(pool, (int32_t)(i * n * 4),
				c->paint_w, c->paint_h, c->paint_w * 4, WL_SHM_FORMAT_XRGB8888);
		}
		wl_shm_pool_destroy(pool);
		close(fd);
	}
	int which = c->frames % 2;
	uint32_t *px = c->paint_px + which * n;
	uint32_t colour = 0xff000000u | (c->frames * 0x050301u & 0xffffff);
	for (size_t i = 0; i < n; i++) {
		px[i] = colour + (uint32_t)i;
	}
	wl_surface_attach(c->surface, c->paint_buffer[which], 0, 0);
	wl_surface_damage_buffer(c->surface, 0, 0, c->paint_w, c->paint_h);
	struct wl_callback *cb = wl_surface_frame(c->surface);
	wl_callback_add_listener(cb, &frame_listener, c);
	wl_surface_commit(c->surface);
}

static void global(
	void *data, struct wl_registry *r, uint32_t name, const char *iface, uint32_t version)
{
	struct clip *c = data;
	if (strcmp(iface, "wl_compositor") == 0) {
		c->compositor = wl_registry_bind(r, name, &wl_compositor_interface, 4);
	} else if (strcmp(iface, "wl_shm") == 0) {
		c->shm = wl_registry_bind(r, name, &wl_shm_interface, 1);
	} else if (strcmp(iface, "wl_seat") == 0 && c->seat == NULL) {
		c->seat = wl_registry_bind(r, name, &wl_seat_interface, 5);
	} else if (strcmp(iface, "wl_data_device_manager") == 0) {
		c->ddm = wl_registry_bind(r, name, &wl_data_device_manager_interface, 3);
	} else if (strcmp(iface, "xdg_wm_base") == 0) {
		c->wm = wl_registry_bind(r, name, &xdg_wm_base_interface, 1);
	}
}

static void global_remove(void *data, struct wl_registry *r, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {global, global_remove};

static void wm_ping(void *data, struct xdg_wm_base *wm, uint32_t serial)
{
	xdg_wm_base_pong(wm, serial);
}

static const struct xdg_wm_base_listener wm_listener = {wm_ping};

static void draw(struct clip *c)
{
	int fd = memfd_create("clip", MFD_CLOEXEC);
	ftruncate(fd, SIZE * SIZE * 4);
	uint32_t *px = mmap(NULL, SIZE * SIZE * 4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	uint32_t colour = c->text != NULL ? 0xff2080e0 : 0xffe08020;
	for (int i = 0; i < SIZE * SIZE; i++) {
		px[i] = colour;
	}
	munmap(px, SIZE * SIZE * 4);
	struct wl_shm_pool *pool = wl_shm_create_pool(c->shm, fd, SIZE * SIZE * 4);
	struct wl_buffer *buffer =
		wl_shm_pool_create_buffer(pool, 0, SIZE, SIZE, SIZE * 4, WL_SHM_FORMAT_ARGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	wl_surface_attach(c->surface, buffer, 0, 0);
	wl_surface_damage_buffer(c->surface, 0, 0, SIZE, SIZE);
	wl_surface_commit(c->surface);
}

static void xdg_surface_configure(void *data, struct xdg_surface *s, uint32_t serial)
{
	struct clip *c = data;
	xdg_surface_ack_configure(s, serial);
	if (!c->configured) {
		c->configured = true;
		if (c->paint_w > 0) {
			paint(c);
		} else {
			draw(c);
		}
	} else {
		wl_surface_commit(c->surface);
	}
}

static const struct xdg_surface_listener xdg_surface_listener = {xdg_surface_configure};

static void toplevel_configure(
	void *data, struct xdg_toplevel *t, int32_t w, int32_t h, struct wl_array *states)
{
}

static void toplevel_close(void *data, struct xdg_toplevel *t)
{
	exit(0);
}

static const struct xdg_toplevel_listener toplevel_listener = {toplevel_configure, toplevel_close};

static void source_target(void *data, struct wl_data_source *s, const char *mime)
{
}

static void source_send(void *data, struct wl_data_source *s, const char *mime, int fd)
{
	struct clip *c = data;
	if (c->flood_mib > 0) {
		/* Until the reader has had enough and closes its end. */
		static char chunk[1 << 16];
		memset(chunk, 'x', sizeof(chunk));
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		size_t total = 0, want = (size_t)c->flood_mib << 20;
		while (total < want) {
			ssize_t n = write(fd, chunk, sizeof(chunk));
			if (n <= 0) {
				break;
			}
			total += (size_t)n;
		}
		printf("flood: wrote %zu bytes before the reader stopped\n", total);
		close(fd);
		return;
	}
	if (write(fd, c->text, strlen(c->text)) < 0) {
		perror("clip-client: write");
	}
	close(fd);
}

static void source_cancelled(void *data, struct wl_data_source *s)
{
}

static const struct wl_data_source_listener source_listener = {
	.target = source_target,
	.send = source_send,
	.cancelled = source_cancelled,
};

static void offer_offer(void *data, struct wl_data_offer *o, const char *mime)
{
}

static const struct wl_data_offer_listener offer_listener = {.offer = offer_offer};

static void device_data_offer(void *data, struct wl_data_device *d, struct wl_data_offer *offer)
{
	wl_data_offer_add_listener(offer, &offer_listener, data);
}

static void device_enter(void *data, struct wl_data_device *d, uint32_t serial,
	struct wl_surface *s, wl_fixed_t x, wl_fixed_t y, struct wl_data_offer *o)
{
}

static void device_leave(void *data, struct wl_data_device *d)
{
}

static void device_motion(
	void *data, struct wl_data_device *d, uint32_t t, wl_fixed_t x, wl_fixed_t y)
{
}

static void device_drop(void *data, struct wl_data_device *d)
{
}

static void device_selection(void *data, struct wl_data_device *d, struct wl_data_offer *offer)
{
	struct clip *c = data;
	c->selection = offer;
	c->selection_seen = true;
}

static const struct wl_data_device_listener device_listener = {
	device_data_offer,
	device_enter,
	device_leave,
	device_motion,
	device_drop,
	device_selection,
};

static void kb_keymap(void *data, struct wl_keyboard *k, uint32_t format, int fd, uint32_t size)
{
	close(fd);
}

static void kb_enter(void *data, struct wl_keyboard *k, uint32_t serial, struct wl_surface *s,
	struct wl_array *keys)
{
	struct clip *c = data;
	c->focused = true;
	c->serial = serial;
	if (c->text != NULL && c->source == NULL) {
		c->source = wl_data_device_manager_create_data_source(c->ddm);
		wl_data_source_add_listener(c->source, &source_listener, c);
		wl_data_source_offer(c->source, "text/plain;charset=utf-8");
		wl_data_source_offer(c->source, "text/plain");
		wl_data_device_set_selection(c->device, c->source, serial);
		printf("copied\n");
		fflush(stdout);
	}
}

static void kb_leave(void *data, struct wl_keyboard *k, uint32_t serial, struct wl_surface *s)
{
}

static void kb_key(void *data, struct wl_keyboard *k, uint32_t serial, uint32_t time, uint32_t key,
	uint32_t state)
{
}

static void kb_modifiers(void *data, struct wl_keyboard *k, uint32_t serial, uint32_t dep,
	uint32_t lat, uint32_t lock, uint32_t group)
{
}

static void kb_repeat(void *data, struct wl_keyboard *k, int32_t rate, int32_t delay)
{
}

static const struct wl_keyboard_listener kb_listener = {
	kb_keymap,
	kb_enter,
	kb_leave,
	kb_key,
	kb_modifiers,
	kb_repeat,
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Dispatches for up to secs; false on a connection error. */
static bool dispatch_for(struct clip *c, double secs)
{
	double end = now() + secs;
	while (now() < end) {
		wl_display_flush(c->display);
		struct pollfd pfd = {wl_display_get_fd(c->display), POLLIN, 0};
		if (poll(&pfd, 1, 100) > 0 && wl_display_dispatch(c->display) < 0) {
			return false;
		}
		wl_display_dispatch_pending(c->display);
	}
	return true;
}

int main(int argc, char *argv[])
{
	bool paint_mode = argc == 4 && strcmp(argv[1], "paint") == 0;
	if (!paint_mode &&
		(argc != 3 ||
			(strcmp(argv[1], "copy") != 0 && strcmp(argv[1], "paste") != 0 &&
				strcmp(argv[1], "flood") != 0 && strcmp(argv[1], "drain") != 0))) {
		fprintf(stderr, "usage: clip-client copy TEXT | paste SECONDS | flood MIB | "
				"drain SECONDS | paint WIDTH HEIGHT\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	/* Static: what it holds at exit stays reachable (no leak reports). */
	static struct clip c;
	bool copy = strcmp(argv[1], "copy") == 0 || strcmp(argv[1], "flood") == 0;
	if (strcmp(argv[1], "flood") == 0) {
		c.flood_mib = atoi(argv[2]);
		c.text = "";
	} else if (copy) {
		c.text = argv[2];
	} else if (paint_mode) {
		c.paint_w = atoi(argv[2]);
		c.paint_h = atoi(argv[3]);
		if (c.paint_w <= 0 || c.paint_h <= 0 || c.paint_w > 8192 || c.paint_h > 8192) {
			fprintf(stderr, "clip-client: bad size\n");
			return 2;
		}
	}
	bool drain = strcmp(argv[1], "drain") == 0;
	char app_id[32] = "clip-paste";
	if (paint_mode) {
		snprintf(app_id, sizeof(app_id), "clip-paint-%d", c.paint_w);
	} else if (copy || drain) {
		snprintf(app_id, sizeof(app_id), copy ? "clip-copy" : "clip-drain");
	}
	c.display = wl_display_connect(NULL);
	if (c.display == NULL) {
		fprintf(stderr, "clip-client: cannot connect\n");
		return 1;
	}
	struct wl_registry *registry = wl_display_get_registry(c.display);
	wl_registry_add_listener(registry, &registry_listener, &c);
	wl_display_roundtrip(c.display);
	if (!c.compositor || !c.shm || !c.seat || !c.ddm || !c.wm) {
		fprintf(stderr, "clip-client: a global is missing\n");
		return 1;
	}
	xdg_wm_base_add_listener(c.wm, &wm_listener, &c);
	struct wl_keyboard *kb = wl_seat_get_keyboard(c.seat);
	wl_keyboard_add_listener(kb, &kb_listener, &c);
	c.device = wl_data_device_manager_get_data_device(c.ddm, c.seat);
	wl_data_device_add_listener(c.device, &device_listener, &c);
	c.surface = wl_compositor_create_surface(c.compositor);
	struct xdg_surface *xs = xdg_wm_base_get_xdg_surface(c.wm, c.surface);
	xdg_surface_add_listener(xs, &xdg_surface_listener, &c);
	struct xdg_toplevel *top = xdg_surface_get_toplevel(xs);
	xdg_toplevel_add_listener(top, &toplevel_listener, &c);
	xdg_toplevel_set_app_id(top, app_id);
	xdg_toplevel_set_title(top, app_id);
	wl_surface_commit(c.surface);
	if (copy || paint_mode) {
		while (dispatch_for(&c, 3600)) {
		}
		return 1;
	}
	double limit = atof(argv[2]);
	double end = now() + limit;
	/* the selection comes with keyboard focus */
	while (now() < end && !(c.focused && c.selection_seen && c.selection != NULL)) {
		if (!dispatch_for(&c, 0.1)) {
			return 1;
		}
	}
	if (c.selection == NULL) {
		printf("no selection\n");
		return 3;
	}
	int p[2];
	if (pipe(p) < 0) {
		return 1;
	}
	wl_data_offer_receive(c.selection, "text/plain", p[1]);
	close(p[1]);
	wl_display_flush(c.display);
	if (drain) {
		/* To the end: the owner's end of the pipe closing (or SECS). */
		static char chunk[1 << 16];
		size_t total = 0;
		const char *why = "timeout";
		while (now() < end) {
			struct pollfd pfd = {p[0], POLLIN, 0};
			if (poll(&pfd, 1, 100) <= 0) {
				continue;
			}
			ssize_t n = read(p[0], chunk, sizeof(chunk));
			if (n <= 0) {
				why = n == 0 ? "eof" : "error";
				break;
			}
			if (total == 0) {
				printf("reading\n");
			}
			total += (size_t)n;
		}
		printf("drained %zu bytes: %s\n", total, why);
		return 0;
	}
	char buf[4096];
	size_t got = 0;
	while (got < sizeof(buf) - 1) {
		struct pollfd pfd = {p[0], POLLIN, 0};
		if (poll(&pfd, 1, (int)(limit * 1000)) <= 0) {
			break;
		}
		ssize_t n = read(p[0], buf + got, sizeof(buf) - 1 - got);
		if (n <= 0) {
			break;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	printf("pasted: %s\n", buf);
	return 0;
}
