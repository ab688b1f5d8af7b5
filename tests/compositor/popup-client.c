/* A client that maps a blue 200x150 window, then asks for a green 300x100
 * popup placed far beyond the right edge of the output (offset 2000) with
 * slide and flip allowed, as menus near a screen edge do. The compositor
 * must keep it on the output; the test counts its pixels in a screenshot.
 * Prints "popup X Y W H" (relative to the window) when configured, then
 * stays until killed.
 *   popup-client            -- the popup test
 *   popup-client windows N  -- a flood: N toplevels at once */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

static struct wl_compositor *compositor;
static struct wl_shm *shm;
static struct xdg_wm_base *wm;
static bool top_configured, popup_configured;

static void global(void *data, struct wl_registry *r, uint32_t name, const char *iface,
	uint32_t version)
{
	if (strcmp(iface, "wl_compositor") == 0) {
		compositor = wl_registry_bind(r, name, &wl_compositor_interface, 4);
	} else if (strcmp(iface, "wl_shm") == 0) {
		shm = wl_registry_bind(r, name, &wl_shm_interface, 1);
	} else if (strcmp(iface, "xdg_wm_base") == 0) {
		wm = wl_registry_bind(r, name, &xdg_wm_base_interface, 2);
	}
}
static void global_remove(void *data, struct wl_registry *r, uint32_t name)
{
}
static const struct wl_registry_listener registry_listener = {global, global_remove};

static void wm_ping(void *data, struct xdg_wm_base *w, uint32_t serial)
{
	xdg_wm_base_pong(w, serial);
}
static const struct xdg_wm_base_listener wm_listener = {wm_ping};

static struct wl_buffer *solid(int w, int h, uint32_t argb)
{
	int stride = w * 4, size = stride * h;
	int fd = memfd_create("popup-client", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, size) != 0) {
		exit(1);
	}
	uint32_t *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	for (int i = 0; i < w * h; i++) {
		p[i] = argb;
	}
	munmap(p, (size_t)size);
	struct wl_shm_pool *pool = wl_shm_create_pool(shm, fd, size);
	struct wl_buffer *b = wl_shm_pool_create_buffer(pool, 0, w, h, stride, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	return b;
}

static void surface_configure(void *data, struct xdg_surface *s, uint32_t serial)
{
	xdg_surface_ack_configure(s, serial);
	*(bool *)data = true;
}
static const struct xdg_surface_listener surface_listener = {surface_configure};

static void top_configure(void *data, struct xdg_toplevel *t, int32_t w, int32_t h,
	struct wl_array *states)
{
}
static void top_close(void *data, struct xdg_toplevel *t)
{
	exit(0);
}
static const struct xdg_toplevel_listener top_listener = {top_configure, top_close};

static void popup_configure(void *data, struct xdg_popup *p, int32_t x, int32_t y, int32_t w,
	int32_t h)
{
	printf("popup %d %d %d %d\n", x, y, w, h);
	fflush(stdout);
}
static void popup_done(void *data, struct xdg_popup *p)
{
	printf("popup dismissed\n");
	fflush(stdout);
}
static const struct xdg_popup_listener popup_listener = {popup_configure, popup_done};

static int flood_windows(struct wl_display *d, int n)
{
	for (int i = 0; i < n; i++) {
		struct wl_surface *surface = wl_compositor_create_surface(compositor);
		struct xdg_surface *xdg = xdg_wm_base_get_xdg_surface(wm, surface);
		struct xdg_toplevel *top = xdg_surface_get_toplevel(xdg);
		xdg_toplevel_set_app_id(top, "flood");
		wl_surface_commit(surface);
		if (i % 100 == 99 && wl_display_roundtrip(d) < 0) {
			printf("flood: the compositor ended this client after %d windows\n", i + 1);
			return 0;
		}
	}
	printf("flood: all %d windows were accepted\n", n);
	while (wl_display_dispatch(d) >= 0) {
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct wl_display *d = wl_display_connect(NULL);
	if (d == NULL) {
		return 1;
	}
	struct wl_registry *r = wl_display_get_registry(d);
	wl_registry_add_listener(r, &registry_listener, NULL);
	wl_display_roundtrip(d);
	if (compositor == NULL || shm == NULL || wm == NULL) {
		return 1;
	}
	xdg_wm_base_add_listener(wm, &wm_listener, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "windows") == 0) {
		return flood_windows(d, atoi(argv[2]));
	}
	struct wl_surface *top_surface = wl_compositor_create_surface(compositor);
	struct xdg_surface *top_xdg = xdg_wm_base_get_xdg_surface(wm, top_surface);
	xdg_surface_add_listener(top_xdg, &surface_listener, &top_configured);
	struct xdg_toplevel *top = xdg_surface_get_toplevel(top_xdg);
	xdg_toplevel_add_listener(top, &top_listener, NULL);
	xdg_toplevel_set_title(top, "popup test");
	xdg_toplevel_set_app_id(top, "popup-client");
	wl_surface_commit(top_surface);
	while (!top_configured && wl_display_dispatch(d) >= 0) {
	}
	wl_surface_attach(top_surface, solid(200, 150, 0xff0000ff), 0, 0);
	wl_surface_commit(top_surface);
	wl_display_roundtrip(d);

	struct xdg_positioner *pos = xdg_wm_base_create_positioner(wm);
	xdg_positioner_set_size(pos, 300, 100);
	xdg_positioner_set_anchor_rect(pos, 190, 10, 10, 10);
	xdg_positioner_set_anchor(pos, XDG_POSITIONER_ANCHOR_TOP_RIGHT);
	xdg_positioner_set_gravity(pos, XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT);
	xdg_positioner_set_offset(pos, 2000, 0);
	xdg_positioner_set_constraint_adjustment(pos,
		XDG_POSITIONER_CONSTRAINT_ADJUSTMENT_SLIDE_X |
			XDG_POSITIONER_CONSTRAINT_ADJUSTMENT_SLIDE_Y);
	struct wl_surface *popup_surface = wl_compositor_create_surface(compositor);
	struct xdg_surface *popup_xdg = xdg_wm_base_get_xdg_surface(wm, popup_surface);
	xdg_surface_add_listener(popup_xdg, &surface_listener, &popup_configured);
	struct xdg_popup *popup = xdg_surface_get_popup(popup_xdg, top_xdg, pos);
	xdg_popup_add_listener(popup, &popup_listener, NULL);
	wl_surface_commit(popup_surface);
	while (!popup_configured && wl_display_dispatch(d) >= 0) {
	}
	wl_surface_attach(popup_surface, solid(300, 100, 0xff00ff00), 0, 0);
	wl_surface_commit(popup_surface);
	while (wl_display_dispatch(d) >= 0) {
	}
	return 0;
}
