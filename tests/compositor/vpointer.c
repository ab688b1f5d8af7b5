/* Drives the compositor's cursor as a host client through the virtual
 * pointer protocol, like wtype does the keyboard (and, like it, only for
 * host clients: tags never see the manager). Steps run in order:
 *   vpointer move X Y | down [left|right] | up [left|right] | click X Y |
 *            drag X1 Y1 X2 Y2 [right] | sleep MS ...
 * Coordinates are in the (single) output's layout pixels. */
#include <linux/input-event-codes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#include "virtual-pointer-client-protocol.h"

static struct zwlr_virtual_pointer_manager_v1 *manager;
static struct wl_seat *seat;
static struct wl_output *output;
static int width, height;

static void output_mode(void *data, struct wl_output *o, uint32_t flags, int32_t w, int32_t h,
	int32_t refresh)
{
	if (flags & WL_OUTPUT_MODE_CURRENT) {
		width = w;
		height = h;
	}
}
static void output_geometry(void *data, struct wl_output *o, int32_t x, int32_t y, int32_t pw,
	int32_t ph, int32_t subpixel, const char *make, const char *model, int32_t transform)
{
}
static void output_done(void *data, struct wl_output *o)
{
}
static void output_scale(void *data, struct wl_output *o, int32_t factor)
{
}
static const struct wl_output_listener output_listener = {
	.geometry = output_geometry, .mode = output_mode, .done = output_done,
	.scale = output_scale,
};

static void global(void *data, struct wl_registry *registry, uint32_t name, const char *iface,
	uint32_t version)
{
	if (strcmp(iface, zwlr_virtual_pointer_manager_v1_interface.name) == 0) {
		manager = wl_registry_bind(registry, name, &zwlr_virtual_pointer_manager_v1_interface, 1);
	} else if (strcmp(iface, wl_seat_interface.name) == 0 && seat == NULL) {
		seat = wl_registry_bind(registry, name, &wl_seat_interface, 1);
	} else if (strcmp(iface, wl_output_interface.name) == 0 && output == NULL) {
		output = wl_registry_bind(registry, name, &wl_output_interface, 2);
		wl_output_add_listener(output, &output_listener, NULL);
	}
}
static void global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}
static const struct wl_registry_listener registry_listener = {global, global_remove};

static uint32_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void move(struct wl_display *d, struct zwlr_virtual_pointer_v1 *p, int x, int y)
{
	zwlr_virtual_pointer_v1_motion_absolute(p, now_ms(), (uint32_t)x, (uint32_t)y,
		(uint32_t)width, (uint32_t)height);
	zwlr_virtual_pointer_v1_frame(p);
	wl_display_roundtrip(d);
	usleep(30000);
}

static void button(struct wl_display *d, struct zwlr_virtual_pointer_v1 *p, uint32_t b,
	bool down)
{
	zwlr_virtual_pointer_v1_button(p, now_ms(), b, down ? WL_POINTER_BUTTON_STATE_PRESSED :
								WL_POINTER_BUTTON_STATE_RELEASED);
	zwlr_virtual_pointer_v1_frame(p);
	wl_display_roundtrip(d);
	usleep(30000);
}

static uint32_t button_of(int argc, char *argv[], int *i)
{
	if (*i + 1 < argc && strcmp(argv[*i + 1], "right") == 0) {
		(*i)++;
		return BTN_RIGHT;
	}
	if (*i + 1 < argc && strcmp(argv[*i + 1], "left") == 0) {
		(*i)++;
	}
	return BTN_LEFT;
}

int main(int argc, char *argv[])
{
	struct wl_display *d = wl_display_connect(NULL);
	if (d == NULL) {
		fprintf(stderr, "vpointer: cannot connect to the compositor\n");
		return 1;
	}
	struct wl_registry *registry = wl_display_get_registry(d);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	wl_display_roundtrip(d);
	wl_display_roundtrip(d);
	if (manager == NULL || width <= 0) {
		fprintf(stderr, "vpointer: no virtual pointer manager or output\n");
		return 1;
	}
	struct zwlr_virtual_pointer_v1 *p =
		zwlr_virtual_pointer_manager_v1_create_virtual_pointer(manager, seat);
	wl_display_roundtrip(d);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "move") == 0 && i + 2 < argc) {
			move(d, p, atoi(argv[i + 1]), atoi(argv[i + 2]));
			i += 2;
		} else if (strcmp(argv[i], "down") == 0 || strcmp(argv[i], "up") == 0) {
			bool down = argv[i][0] == 'd';
			button(d, p, button_of(argc, argv, &i), down);
		} else if (strcmp(argv[i], "click") == 0 && i + 2 < argc) {
			move(d, p, atoi(argv[i + 1]), atoi(argv[i + 2]));
			i += 2;
			uint32_t b = button_of(argc, argv, &i);
			button(d, p, b, true);
			button(d, p, b, false);
		} else if (strcmp(argv[i], "drag") == 0 && i + 4 < argc) {
			int x1 = atoi(argv[i + 1]), y1 = atoi(argv[i + 2]);
			int x2 = atoi(argv[i + 3]), y2 = atoi(argv[i + 4]);
			i += 4;
			uint32_t b = button_of(argc, argv, &i);
			move(d, p, x1, y1);
			button(d, p, b, true);
			for (int k = 1; k <= 8; k++) {
				move(d, p, x1 + (x2 - x1) * k / 8, y1 + (y2 - y1) * k / 8);
			}
			button(d, p, b, false);
		} else if (strcmp(argv[i], "sleep") == 0 && i + 1 < argc) {
			usleep((useconds_t)atoi(argv[++i]) * 1000);
		} else {
			fprintf(stderr, "vpointer: bad step '%s'\n", argv[i]);
			return 2;
		}
	}
	zwlr_virtual_pointer_v1_destroy(p);
	wl_registry_destroy(registry);
	wl_display_roundtrip(d);
	wl_display_disconnect(d);
	return 0;
}
