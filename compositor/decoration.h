/* Decorations: the frames the compositor draws around windows and guest
 * popups, and the xdg-decoration answer that it always draws them. */
#ifndef BH_COMPOSITOR_DECORATION_H
#define BH_COMPOSITOR_DECORATION_H

#include <stdbool.h>
#include <stdint.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>

#include "compositor/text.h"

#define BH_BORDER 4        /* frame border of a VM window, px */
#define BH_HOST_BORDER 2   /* frame border of a host window */
#define BH_TITLE_HEIGHT 22 /* title bar */
#define BH_POPUP_BORDER 2  /* thin frame around VM popups */

/* How thick a frame is: above the content (a title bar, or an edge) and
 * on its three other sides. */
struct bh_decoration_size {
	int top, side;
	bool title;
};

/* The frame of one window, in the window's scene tree. */
struct bh_decoration {
	struct wlr_scene_node *tree;
	struct wlr_scene_rect *edge[4]; /* top, bottom, left, right */
	struct wlr_scene_buffer *title;
	/* What the title bar shows, so that it is drawn again only on change. */
	uint32_t drawn_colour;
	int drawn_width;
	char drawn_title[BH_TITLE_MAX + 64];
};

/* A VM window has a thicker border than a host window; fullscreen, only
 * fullscreen_edge px of a VM window's colour stay (none for the host). */
struct bh_decoration_size bh_decoration_size(bool tagged, bool fullscreen, int fullscreen_edge);
/* The frame colour: the tag's (or the host's grey), darker when not
 * focused. */
uint32_t bh_decoration_colour(bool tagged, uint32_t tag_colour, bool focused);

/* Adds the frame's edges to tree, under what is added after them. */
void bh_decoration_create(struct bh_decoration *d, struct wlr_scene_node *tree, uint32_t colour);
/* Draws the frame around content of width x height at (side, top). */
void bh_decoration_draw(struct bh_decoration *d, struct bh_decoration_size size, int width,
	int height, uint32_t colour, const char *title, bool bold);
/* Which edges (WLR_EDGE_*) a point of the frame, relative to its top left,
 * is on: 0 on the title bar, which moves the window instead. */
uint32_t bh_decoration_edges(
	struct bh_decoration_size size, int width, int height, double x, double y);

/* A guest popup's thin frame: four edges under the popup in its tree. */
void bh_decoration_popup_create(
	struct wlr_scene_rect *edge[4], struct wlr_scene_node *tree, uint32_t colour);
void bh_decoration_popup_draw(struct wlr_scene_rect *edge[4], int width, int height);

/* Answers a toplevel's decoration object: server side, now and whenever
 * the client asks for another mode. */
bool bh_decoration_set_server_side(struct wlr_xdg_toplevel_decoration_v1 *decoration);

#endif
