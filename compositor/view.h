/* Views: the windows of xdg toplevels, their frames, focus, stacking,
 * maximize and fullscreen, and the pointer grabs that move them. */
#ifndef BH_COMPOSITOR_VIEW_H
#define BH_COMPOSITOR_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "compositor/decoration.h"
#include "compositor/server.h"
#include "compositor/text.h"

struct bh_view {
	struct wl_list link; /* bh_server.views, top first */
	struct bh_server *server;
	uint32_t id;
	struct wlr_xdg_surface *xdg;
	struct bh_tag *tag;             /* NULL for host windows; fixed at creation */
	struct wlr_scene_node *tree;    /* whole frame */
	struct wlr_scene_node *surface; /* the xdg surface tree */
	struct bh_decoration frame;
	char title[BH_TITLE_MAX + 1]; /* sanitised client title */
	char app_id[BH_TITLE_MAX + 1];
	int x, y;          /* frame position (layout coords) */
	int width, height; /* content size (the xdg geometry) */
	bool mapped, focused, maximized, fullscreen;
	struct wlr_box saved; /* geometry before maximize/fullscreen */
	struct wl_listener map, unmap, destroy, commit;
	struct wl_listener request_move, request_resize, request_maximize, request_fullscreen;
	struct wl_listener set_title, set_app_id;
};

/* A new xdg surface: a view for a toplevel (refused past the tag's window
 * limit), a scene node for a popup (framed when a guest's). */
void bh_view_create(struct bh_server *server, struct wlr_xdg_surface *xdg);

void bh_view_focus(struct bh_view *view);
void bh_view_close(struct bh_view *view);
void bh_view_set_maximized(struct bh_view *view, bool on);
void bh_view_set_fullscreen(struct bh_view *view, bool on);
/* Puts the frame's top left at layout point (x, y). */
void bh_view_move(struct bh_view *view, int x, int y);

/* What is under a layout point: a view, the surface there (NULL on the
 * frame) with surface-local coordinates, and whether it is the frame. */
struct bh_view_hit {
	struct bh_view *view;
	struct wlr_surface *surface;
	double sx, sy;
	bool on_frame;
};

/* The view under a layout point (NULL: none), and hit filled in. */
struct bh_view *bh_view_at(struct bh_server *server, double lx, double ly, struct bh_view_hit *hit);
struct bh_view *bh_view_focused(struct bh_server *server);
struct bh_view *bh_view_by_id(struct bh_server *server, uint32_t id);

uint32_t bh_view_colour(const struct bh_view *view);
/* The title as the frame shows it: "[tag] title" for a VM window. */
void bh_view_display_title(const struct bh_view *view, char *buf, size_t size);
struct bh_decoration_size bh_view_frame_size(const struct bh_view *view);
/* Which frame edges (WLR_EDGE_*) the layout point is on: 0 on the title
 * bar, which moves the window instead. */
uint32_t bh_view_frame_edges(const struct bh_view *view, double lx, double ly);
void bh_view_redraw_frame(struct bh_view *view);
void bh_views_redraw_all(struct bh_server *server);

/* The cursor moves (BH_GRAB_MOVE) or resizes the view from edges until the
 * button goes up; ending it ends any grab. */
void bh_view_begin_grab(struct bh_view *view, enum bh_grab mode, uint32_t edges);
void bh_view_end_grab(struct bh_server *server);

#endif
