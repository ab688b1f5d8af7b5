/* Decorations: the frames around windows and guest popups. A frame is drawn
 * from what the compositor knows of a window (its tag, its state), never
 * from anything the client says; a client that asks to draw its own gets
 * server side decorations anyway. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/util/edges.h>

#include "compositor/decoration.h"

#define HOST_COLOUR 0x5a5a5a

static void colour_to_float(uint32_t rgb, float out[4])
{
	out[0] = (float)((rgb >> 16) & 0xff) / 255.0f;
	out[1] = (float)((rgb >> 8) & 0xff) / 255.0f;
	out[2] = (float)(rgb & 0xff) / 255.0f;
	out[3] = 1.0f;
}

static uint32_t colour_shade(uint32_t rgb, double factor)
{
	uint32_t out = 0;
	for (int shift = 16; shift >= 0; shift -= 8) {
		double c = (double)((rgb >> shift) & 0xff) * factor;
		out |= (uint32_t)(c > 255 ? 255 : c) << shift;
	}
	return out;
}

/* Black or white, whichever reads better on bg. */
static uint32_t text_colour(uint32_t bg)
{
	double lum = 0.299 * ((bg >> 16) & 0xff) + 0.587 * ((bg >> 8) & 0xff) + 0.114 * (bg & 0xff);
	return lum > 140 ? 0x000000 : 0xffffff;
}

uint32_t bh_decoration_colour(bool tagged, uint32_t tag_colour, bool focused)
{
	uint32_t base = tagged ? tag_colour : HOST_COLOUR;
	return focused ? base : colour_shade(base, tagged ? 0.6 : 0.7);
}

struct bh_decoration_size bh_decoration_size(bool tagged, bool fullscreen, int fullscreen_edge)
{
	if (fullscreen) {
		int edge = tagged ? fullscreen_edge : 0;
		return (struct bh_decoration_size){edge, edge, false};
	}
	return (struct bh_decoration_size){
		BH_TITLE_HEIGHT, tagged ? BH_BORDER : BH_HOST_BORDER, true};
}

uint32_t bh_decoration_edges(
	struct bh_decoration_size size, int width, int height, double x, double y)
{
	uint32_t edges = 0;
	if (y >= size.top + height) {
		edges |= WLR_EDGE_BOTTOM;
	}
	if (x < size.side) {
		edges |= WLR_EDGE_LEFT;
	} else if (x >= size.side + width) {
		edges |= WLR_EDGE_RIGHT;
	}
	if (y < size.top && !size.title) {
		edges |= WLR_EDGE_TOP;
	}
	/* The title bar (corners included) moves the window. */
	return y < size.top && size.title ? 0 : edges;
}

void bh_decoration_create(struct bh_decoration *d, struct wlr_scene_node *tree, uint32_t colour)
{
	float c[4];
	colour_to_float(colour, c);
	d->tree = tree;
	for (int i = 0; i < 4; i++) {
		d->edge[i] = wlr_scene_rect_create(tree, 0, 0, c);
	}
}

static void destroy_title(struct bh_decoration *d)
{
	if (d->title != NULL) {
		wlr_scene_node_destroy(&d->title->node);
		d->title = NULL;
	}
}

void bh_decoration_draw(struct bh_decoration *d, struct bh_decoration_size size, int width,
	int height, uint32_t colour, const char *title, bool bold)
{
	int top = size.top, side = size.side, w = width, h = height;
	float c[4];
	colour_to_float(colour, c);
	int total_w = w + 2 * side;
	wlr_scene_rect_set_size(d->edge[0], total_w, top);
	wlr_scene_node_set_position(&d->edge[0]->node, 0, 0);
	wlr_scene_rect_set_size(d->edge[1], total_w, side);
	wlr_scene_node_set_position(&d->edge[1]->node, 0, top + h);
	wlr_scene_rect_set_size(d->edge[2], side, h);
	wlr_scene_node_set_position(&d->edge[2]->node, 0, top);
	wlr_scene_rect_set_size(d->edge[3], side, h);
	wlr_scene_node_set_position(&d->edge[3]->node, side + w, top);
	for (int i = 0; i < 4; i++) {
		wlr_scene_rect_set_color(d->edge[i], c);
	}

	if (!size.title) {
		destroy_title(d);
		return;
	}
	if (d->title != NULL && d->drawn_colour == colour && d->drawn_width == total_w &&
		strcmp(d->drawn_title, title) == 0) {
		return;
	}
	destroy_title(d);
	/* The title text never covers the side borders. */
	d->title = bh_text_buffer(
		d->tree, title, total_w - 2 * side, top, colour, text_colour(colour), bold);
	if (d->title != NULL) {
		wlr_scene_node_set_position(&d->title->node, side, 0);
	}
	d->drawn_colour = colour;
	d->drawn_width = total_w;
	snprintf(d->drawn_title, sizeof(d->drawn_title), "%s", title);
}

void bh_decoration_popup_create(
	struct wlr_scene_rect *edge[4], struct wlr_scene_node *tree, uint32_t colour)
{
	float c[4];
	colour_to_float(colour, c);
	for (int i = 0; i < 4; i++) {
		edge[i] = wlr_scene_rect_create(tree, 0, 0, c);
		wlr_scene_node_lower_to_bottom(&edge[i]->node);
	}
}

void bh_decoration_popup_draw(struct wlr_scene_rect *edge[4], int width, int height)
{
	int b = BH_POPUP_BORDER, w = width, h = height;
	wlr_scene_node_set_position(&edge[0]->node, -b, -b);
	wlr_scene_rect_set_size(edge[0], w + 2 * b, b);
	wlr_scene_node_set_position(&edge[1]->node, -b, h);
	wlr_scene_rect_set_size(edge[1], w + 2 * b, b);
	wlr_scene_node_set_position(&edge[2]->node, -b, 0);
	wlr_scene_rect_set_size(edge[2], b, h);
	wlr_scene_node_set_position(&edge[3]->node, w, 0);
	wlr_scene_rect_set_size(edge[3], b, h);
}

/* xdg-decoration */

struct xdg_decoration {
	struct wlr_xdg_toplevel_decoration_v1 *decoration;
	struct wl_listener request_mode, destroy;
};

static void xdg_decoration_handle_request_mode(struct wl_listener *listener, void *data)
{
	struct xdg_decoration *d = wl_container_of(listener, d, request_mode);
	wlr_xdg_toplevel_decoration_v1_set_mode(
		d->decoration, WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
}

static void xdg_decoration_handle_destroy(struct wl_listener *listener, void *data)
{
	struct xdg_decoration *d = wl_container_of(listener, d, destroy);
	wl_list_remove(&d->request_mode.link);
	wl_list_remove(&d->destroy.link);
	free(d);
}

bool bh_decoration_set_server_side(struct wlr_xdg_toplevel_decoration_v1 *decoration)
{
	struct xdg_decoration *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		return false;
	}
	d->decoration = decoration;
	d->request_mode.notify = xdg_decoration_handle_request_mode;
	wl_signal_add(&decoration->events.request_mode, &d->request_mode);
	d->destroy.notify = xdg_decoration_handle_destroy;
	wl_signal_add(&decoration->events.destroy, &d->destroy);
	xdg_decoration_handle_request_mode(&d->request_mode, NULL);
	return true;
}
