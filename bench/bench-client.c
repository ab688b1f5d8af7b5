/* The benchmark client: one xdg_toplevel of a chosen size that commits
 * frames with a chosen damage pattern as fast as frame callbacks allow,
 * then measures wl_display_roundtrip latency; prints one line of
 * key=value results. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

#define MAX_BUFFERS 4
#define WARMUP_FRAMES 10
/* A sample per frame (commit latency) and per roundtrip. */
#define MAX_SAMPLES (1u << 20)

enum pattern {
	PATTERN_FULL,
	PATTERN_SCROLL,
	PATTERN_CURSOR,
	PATTERN_IDLE,
	PATTERN_FLIP,
};

static const char *const pattern_names[] = {"full", "scroll", "cursor", "idle", "flip"};
#define PATTERN_COUNT (sizeof(pattern_names) / sizeof(pattern_names[0]))

struct buffer {
	struct wl_buffer *wl;
	uint32_t *pixels;
	bool busy;
	int64_t frame; /* the frame whose state it holds; -1 = none */
};

struct sample_set {
	double *v;
	size_t n;
};

struct bench {
	struct wl_display *display;
	struct wl_registry *registry;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	bool configured, closed;

	int width, height, stride;
	enum pattern pattern;
	struct buffer buffers[MAX_BUFFERS];
	int nbuffers;

	/* scroll: the window is a grid of bands, one band changes per frame */
	int band_h, nbands;
	/* cursor: one small rectangle */
	int cur_x, cur_y, cur_w, cur_h;

	bool frame_pending;
	uint64_t frames_done;
	uint64_t damage_bytes;
	struct sample_set commit_lat; /* commit -> the compositor answered a sync */
	struct sample_set roundtrip;
	/* Where a frame's time goes: the client's own drawing, and the rest
	 * (waiting for a free buffer, then commit -> frame callback). */
	struct sample_set draw;
	struct sample_set wait;
};

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void sample_add(struct sample_set *s, double v)
{
	if (s->v == NULL) {
		s->v = malloc(MAX_SAMPLES * sizeof(double));
		if (s->v == NULL) {
			return;
		}
	}
	if (s->n < MAX_SAMPLES) {
		s->v[s->n++] = v;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The q-quantile (nearest rank); -1 when there are no samples. */
static double quantile(struct sample_set *s, double q)
{
	if (s->n == 0) {
		return -1;
	}
	qsort(s->v, s->n, sizeof(double), cmp_double);
	size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);
	return s->v[i < s->n ? i : s->n - 1];
}

/* ---- drawing: every pattern can redraw a buffer's whole state for a
 * frame, and bring an older buffer up to date (buffer age) ---- */

static void fill_row(uint32_t *row, int x0, int x1, uint32_t base, uint32_t step)
{
	uint32_t v = base;
	for (int x = x0; x < x1; x++) {
		row[x] = v;
		/* text-like: the colour changes every 8 pixels */
		if ((x & 7) == 7) {
			v = v * 1664525u + step;
		}
	}
}

static void draw_background(struct bench *b, struct buffer *buf, int y0, int y1)
{
	for (int y = y0; y < y1; y++) {
		uint32_t *row = buf->pixels + (size_t)y * (size_t)(b->stride / 4);
		uint32_t grey = 0x20 + (uint32_t)(y * 32 / b->height);
		uint32_t v = 0xff000000u | grey << 16 | grey << 8 | grey;
		for (int x = 0; x < b->width; x++) {
			row[x] = v;
		}
	}
}

/* full: a pattern like weston-simple-shm's, moving every frame. */
static void draw_full(struct bench *b, struct buffer *buf, int64_t frame)
{
	uint32_t f = (uint32_t)frame;
	for (int y = 0; y < b->height; y++) {
		uint32_t *row = buf->pixels + (size_t)y * (size_t)(b->stride / 4);
		uint32_t yy = (uint32_t)y + f * 2;
		for (int x = 0; x < b->width; x++) {
			uint32_t v = ((uint32_t)x + f * 4) ^ yy;
			row[x] = 0xff000000u | (v & 0xff) << 16 | ((v >> 1) & 0xff) << 8 |
				 ((v >> 2) & 0xff);
		}
	}
}

static void draw_band(struct bench *b, struct buffer *buf, int64_t frame)
{
	int band = (int)(frame % b->nbands);
	int y0 = band * b->band_h;
	for (int y = y0; y < y0 + b->band_h; y++) {
		uint32_t *row = buf->pixels + (size_t)y * (size_t)(b->stride / 4);
		fill_row(row, 0, b->width, 0xff000000u | (uint32_t)(frame * 2654435761u + (uint64_t)y),
			(uint32_t)frame | 1);
	}
}

static void draw_cursor(struct bench *b, struct buffer *buf, int64_t frame)
{
	uint32_t colour = frame & 1 ? 0xffe0e0e0u : 0xff303030u;
	for (int y = b->cur_y; y < b->cur_y + b->cur_h; y++) {
		uint32_t *row = buf->pixels + (size_t)y * (size_t)(b->stride / 4);
		for (int x = b->cur_x; x < b->cur_x + b->cur_w; x++) {
			row[x] = colour;
		}
	}
}

/* Brings buf to the state of frame; adds this frame's damage to the surface. */
static void draw_frame(struct bench *b, struct buffer *buf, int64_t frame)
{
	switch (b->pattern) {
	case PATTERN_FULL:
		draw_full(b, buf, frame);
		wl_surface_damage_buffer(b->surface, 0, 0, b->width, b->height);
		b->damage_bytes += (uint64_t)b->width * (uint64_t)b->height * 4;
		break;
	case PATTERN_SCROLL: {
		int64_t from = buf->frame + 1;
		if (buf->frame < 0 || frame - buf->frame > b->nbands) {
			draw_background(b, buf, 0, b->height);
			from = frame - b->nbands + 1;
			if (from < 0) {
				from = 0;
			}
		}
		for (int64_t f = from; f <= frame; f++) {
			draw_band(b, buf, f);
		}
		int y0 = (int)(frame % b->nbands) * b->band_h;
		wl_surface_damage_buffer(b->surface, 0, y0, b->width, b->band_h);
		b->damage_bytes += (uint64_t)b->width * (uint64_t)b->band_h * 4;
		break;
	}
	case PATTERN_CURSOR:
		if (buf->frame < 0) {
			draw_background(b, buf, 0, b->height);
		}
		draw_cursor(b, buf, frame);
		wl_surface_damage_buffer(b->surface, b->cur_x, b->cur_y, b->cur_w, b->cur_h);
		b->damage_bytes += (uint64_t)b->cur_w * (uint64_t)b->cur_h * 4;
		break;
	case PATTERN_FLIP:
		/* full frames that cost the client nothing to draw (each buffer is
		 * drawn once, then shown in turn): what the path itself takes */
		if (buf->frame < 0) {
			draw_full(b, buf, frame);
		}
		wl_surface_damage_buffer(b->surface, 0, 0, b->width, b->height);
		b->damage_bytes += (uint64_t)b->width * (uint64_t)b->height * 4;
		break;
	case PATTERN_IDLE:
		if (buf->frame < 0) {
			draw_background(b, buf, 0, b->height);
		}
		wl_surface_damage_buffer(b->surface, 0, 0, b->width, b->height);
		break;
	}
	buf->frame = frame;
}

/* ---- Wayland ---- */

static void buffer_handle_release(void *data, struct wl_buffer *wl_buffer)
{
	struct buffer *buf = data;
	buf->busy = false;
}

static const struct wl_buffer_listener buffer_listener = {
	.release = buffer_handle_release,
};

static void wm_base_handle_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial)
{
	xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {
	.ping = wm_base_handle_ping,
};

static void xdg_surface_handle_configure(
	void *data, struct xdg_surface *xdg_surface, uint32_t serial)
{
	struct bench *b = data;
	xdg_surface_ack_configure(xdg_surface, serial);
	b->configured = true;
}

static const struct xdg_surface_listener xdg_surface_listener = {
	.configure = xdg_surface_handle_configure,
};

/* The size is the benchmark's: the compositor's suggestion is ignored, as
 * a toplevel that is neither maximized nor fullscreen may do. */
static void toplevel_handle_configure(void *data, struct xdg_toplevel *toplevel, int32_t width,
	int32_t height, struct wl_array *states)
{
}

static void toplevel_handle_close(void *data, struct xdg_toplevel *toplevel)
{
	struct bench *b = data;
	b->closed = true;
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = toplevel_handle_configure,
	.close = toplevel_handle_close,
};

static void registry_handle_global(void *data, struct wl_registry *registry, uint32_t name,
	const char *interface, uint32_t version)
{
	struct bench *b = data;
	if (strcmp(interface, wl_compositor_interface.name) == 0 && version >= 4) {
		b->compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 4);
	} else if (strcmp(interface, wl_shm_interface.name) == 0) {
		b->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	} else if (strcmp(interface, xdg_wm_base_interface.name) == 0) {
		b->wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
		xdg_wm_base_add_listener(b->wm_base, &wm_base_listener, b);
	}
}

static void registry_handle_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_handle_global,
	.global_remove = registry_handle_global_remove,
};

static void frame_handle_done(void *data, struct wl_callback *callback, uint32_t time)
{
	struct bench *b = data;
	wl_callback_destroy(callback);
	b->frame_pending = false;
	b->frames_done++;
}

static const struct wl_callback_listener frame_listener = {
	.done = frame_handle_done,
};

struct sync_probe {
	struct bench *bench;
	double sent;
	bool record;
};

static void sync_handle_done(void *data, struct wl_callback *callback, uint32_t serial)
{
	struct sync_probe *probe = data;
	if (probe->record) {
		sample_add(&probe->bench->commit_lat, now_us() - probe->sent);
	}
	wl_callback_destroy(callback);
	free(probe);
}

static const struct wl_callback_listener sync_listener = {
	.done = sync_handle_done,
};

static bool create_buffers(struct bench *b)
{
	size_t size = (size_t)b->stride * (size_t)b->height;
	size_t total = size * (size_t)b->nbuffers;
	int fd = memfd_create("bench-shm", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)total) < 0) {
		perror("bench-client: shm memfd");
		return false;
	}
	uint8_t *map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("bench-client: mmap");
		close(fd);
		return false;
	}
	struct wl_shm_pool *pool = wl_shm_create_pool(b->shm, fd, (int32_t)total);
	for (int i = 0; i < b->nbuffers; i++) {
		struct buffer *buf = &b->buffers[i];
		buf->pixels = (uint32_t *)(map + size * (size_t)i);
		buf->frame = -1;
		buf->wl = wl_shm_pool_create_buffer(pool, (int32_t)(size * (size_t)i), b->width,
			b->height, b->stride, WL_SHM_FORMAT_XRGB8888);
		wl_buffer_add_listener(buf->wl, &buffer_listener, buf);
	}
	wl_shm_pool_destroy(pool);
	close(fd);
	return true;
}

/* A buffer the compositor is not reading; NULL when the connection died. */
static struct buffer *free_buffer(struct bench *b)
{
	for (;;) {
		for (int i = 0; i < b->nbuffers; i++) {
			if (!b->buffers[i].busy) {
				return &b->buffers[i];
			}
		}
		if (wl_display_dispatch(b->display) < 0) {
			return NULL;
		}
	}
}

/* Draws and commits one frame, then waits for its frame callback. */
static bool run_frame(struct bench *b, int64_t frame, bool record)
{
	double start = now_us();
	struct buffer *buf = free_buffer(b);
	if (buf == NULL) {
		return false;
	}
	double drawn_from = now_us();
	draw_frame(b, buf, frame);
	double drawn = now_us();
	wl_surface_attach(b->surface, buf->wl, 0, 0);
	buf->busy = true;
	struct wl_callback *cb = wl_surface_frame(b->surface);
	wl_callback_add_listener(cb, &frame_listener, b);
	b->frame_pending = true;
	wl_surface_commit(b->surface);
	struct sync_probe *probe = calloc(1, sizeof(*probe));
	if (probe != NULL) {
		probe->bench = b;
		probe->record = record;
		probe->sent = now_us();
		struct wl_callback *sync = wl_display_sync(b->display);
		wl_callback_add_listener(sync, &sync_listener, probe);
	}
	while (b->frame_pending && !b->closed) {
		if (wl_display_dispatch(b->display) < 0) {
			return false;
		}
	}
	if (record) {
		sample_add(&b->draw, drawn - drawn_from);
		sample_add(&b->wait, (drawn_from - start) + (now_us() - drawn));
	}
	return !b->closed;
}

static int parse_size(const char *s, int *w, int *h)
{
	return sscanf(s, "%dx%d", w, h) == 2 && *w >= 16 && *h >= 16 && *w <= 8192 && *h <= 8192;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: bench-client [--size WxH] [--pattern full|scroll|cursor|idle|flip]\n"
		"                    [--seconds S] [--roundtrips N] [--buffers N] [--label TEXT]\n"
		"Commits frames for S seconds (frame-callback paced), then times N\n"
		"wl_display_roundtrip calls; prints one line of key=value results.\n");
}

int main(int argc, char *argv[])
{
	struct bench b = {.width = 1280, .height = 720, .nbuffers = 2};
	double seconds = 5;
	int roundtrips = 1000;
	const char *label = "-";
	static const struct option opts[] = {
		{"size", required_argument, NULL, 's'},
		{"pattern", required_argument, NULL, 'p'},
		{"seconds", required_argument, NULL, 't'},
		{"roundtrips", required_argument, NULL, 'r'},
		{"buffers", required_argument, NULL, 'b'},
		{"label", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "s:p:t:r:b:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!parse_size(optarg, &b.width, &b.height)) {
				fprintf(stderr, "bench-client: bad size %s (WxH, 16..8192)\n", optarg);
				return 2;
			}
			break;
		case 'p': {
			bool found = false;
			for (size_t i = 0; i < PATTERN_COUNT; i++) {
				if (strcmp(optarg, pattern_names[i]) == 0) {
					b.pattern = (enum pattern)i;
					found = true;
				}
			}
			if (!found) {
				fprintf(stderr, "bench-client: unknown pattern %s\n", optarg);
				return 2;
			}
			break;
		}
		case 't':
			seconds = atof(optarg);
			break;
		case 'r':
			roundtrips = atoi(optarg);
			break;
		case 'b':
			b.nbuffers = atoi(optarg);
			if (b.nbuffers < 1 || b.nbuffers > MAX_BUFFERS) {
				fprintf(stderr, "bench-client: buffers must be 1..%d\n", MAX_BUFFERS);
				return 2;
			}
			break;
		case 'l':
			label = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || seconds < 0 || roundtrips < 0) {
		usage(stderr);
		return 2;
	}
	b.stride = b.width * 4;
	/* scroll: two text lines of 16 rows, 1-5 % of the area */
	b.band_h = 32;
	b.nbands = b.height / b.band_h;
	if (b.nbands < 1) {
		b.band_h = b.height;
		b.nbands = 1;
	}
	b.cur_w = 10;
	b.cur_h = 20;
	b.cur_x = b.width / 2;
	b.cur_y = b.height / 2;

	b.display = wl_display_connect(NULL);
	if (b.display == NULL) {
		fprintf(stderr, "bench-client: cannot connect to the Wayland display %s\n",
			getenv("WAYLAND_DISPLAY") ? getenv("WAYLAND_DISPLAY") : "(unset)");
		return 1;
	}
	b.registry = wl_display_get_registry(b.display);
	wl_registry_add_listener(b.registry, &registry_listener, &b);
	wl_display_roundtrip(b.display);
	if (b.compositor == NULL || b.shm == NULL || b.wm_base == NULL) {
		fprintf(stderr, "bench-client: the compositor lacks wl_compositor v4, wl_shm or "
				"xdg_wm_base\n");
		return 1;
	}
	b.surface = wl_compositor_create_surface(b.compositor);
	b.xdg_surface = xdg_wm_base_get_xdg_surface(b.wm_base, b.surface);
	xdg_surface_add_listener(b.xdg_surface, &xdg_surface_listener, &b);
	b.toplevel = xdg_surface_get_toplevel(b.xdg_surface);
	xdg_toplevel_add_listener(b.toplevel, &toplevel_listener, &b);
	xdg_toplevel_set_title(b.toplevel, "bench");
	xdg_toplevel_set_app_id(b.toplevel, "bulkhead-bench");
	wl_surface_commit(b.surface);
	while (!b.configured) {
		if (wl_display_dispatch(b.display) < 0) {
			fprintf(stderr, "bench-client: the connection failed before configure\n");
			return 1;
		}
	}
	if (!create_buffers(&b)) {
		return 1;
	}

	int64_t frame = 0;
	bool ok = true;
	/* The first frames carry whole new buffers: not timed. */
	for (int i = 0; i < WARMUP_FRAMES && ok; i++) {
		ok = run_frame(&b, frame++, false);
	}
	/* The runner samples the relay's CPU and I/O at these marks. */
	printf("phase frames-start\n");
	fflush(stdout);
	double t0 = now_us(), elapsed = 0;
	uint64_t frames0 = b.frames_done;
	b.damage_bytes = 0;
	if (b.pattern != PATTERN_IDLE) {
		while (ok && elapsed < seconds * 1e6) {
			ok = run_frame(&b, frame++, true);
			elapsed = now_us() - t0;
		}
	}
	uint64_t frames = b.frames_done - frames0;
	printf("phase frames-end\n");
	fflush(stdout);
	/* Let the last sync answers arrive before the roundtrips. */
	if (ok && wl_display_roundtrip(b.display) < 0) {
		ok = false;
	}
	for (int i = 0; i < roundtrips && ok; i++) {
		double r0 = now_us();
		if (wl_display_roundtrip(b.display) < 0) {
			ok = false;
			break;
		}
		sample_add(&b.roundtrip, now_us() - r0);
	}
	if (!ok) {
		fprintf(stderr, "bench-client: the Wayland connection failed: %s\n",
			strerror(wl_display_get_error(b.display)));
		return 1;
	}
	double secs = elapsed / 1e6;
	printf("bench label=%s pattern=%s size=%dx%d frames=%llu seconds=%.3f fps=%.2f "
	       "damage_mb_per_frame=%.4f commit_med_us=%.1f commit_p99_us=%.1f "
	       "draw_med_us=%.1f wait_med_us=%.1f rt_n=%zu rt_med_us=%.1f rt_p99_us=%.1f\n",
		label, pattern_names[b.pattern], b.width, b.height, (unsigned long long)frames, secs,
		secs > 0 ? (double)frames / secs : 0.0,
		frames > 0 ? (double)b.damage_bytes / (double)frames / 1e6 : 0.0,
		quantile(&b.commit_lat, 0.5), quantile(&b.commit_lat, 0.99),
		quantile(&b.draw, 0.5), quantile(&b.wait, 0.5), b.roundtrip.n,
		quantile(&b.roundtrip, 0.5), quantile(&b.roundtrip, 0.99));
	fflush(stdout);
	xdg_toplevel_destroy(b.toplevel);
	xdg_surface_destroy(b.xdg_surface);
	wl_surface_destroy(b.surface);
	wl_display_roundtrip(b.display);
	wl_display_disconnect(b.display);
	free(b.commit_lat.v);
	free(b.roundtrip.v);
	free(b.draw.v);
	free(b.wait.v);
	return 0;
}
