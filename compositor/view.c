/* Windows: xdg toplevels and popups, the frames the compositor draws around
 * them, focus, maximize and fullscreen. The frame of a window depends only
 * on the connection its client came from (view->tag), never on anything the
 * client says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/util/edges.h>
#include <wlr/types/wlr_output.h>
#include <wlr/util/log.h>

#include "common/log.h"
#include "compositor/server.h"

void bh_sanitize_title(const char *in, char *out, size_t size)
{
	/* Control characters (C0, DEL, C1) go; invalid UTF-8 bytes become '?';
	 * the result is cut at a character boundary below size. */
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)(in != NULL ? in : "");
	while (*p != '\0' && o + 1 < size) {
		unsigned char c = *p;
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
			: (c & 0xf8) == 0xf0 ? 4 : 0;
		bool valid = len > 0;
		for (size_t i = 1; valid && i < len; i++) {
			valid = (p[i] & 0xc0) == 0x80;
		}
		if (valid && len == 2 && c < 0xc2) {
			valid = false; /* overlong */
		}
		if (!valid) {
			out[o++] = '?';
			p++;
			continue;
		}
		if (len == 1 && (c < 0x20 || c == 0x7f)) {
			p++;
			continue;
		}
		/* C1 controls U+0080..U+009F, and bidi overrides that could
		 * reorder the tag prefix (U+202A..U+202E, U+2066..U+2069). */
		if (len == 2 && c == 0xc2 && p[1] < 0xa0) {
			p += 2;
			continue;
		}
		if (len == 3 && c == 0xe2 &&
			((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) ||
				(p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9))) {
			p += 3;
			continue;
		}
		if (o + len >= size) {
			break;
		}
		memcpy(out + o, p, len);
		o += len;
		p += len;
	}
	out[o] = '\0';
}

uint32_t bh_view_colour(const struct bh_view *view)
{
	uint32_t base = view->tag != NULL ? view->tag->colour : BH_HOST_COLOUR;
	return view->focused ? base : bh_colour_shade(base, view->tag != NULL ? 0.6 : 0.7);
}

void bh_view_display_title(const struct bh_view *view, char *buf, size_t size)
{
	if (view->tag != NULL) {
		snprintf(buf, size, "[%s] %s", view->tag->name, view->title);
	} else {
		snprintf(buf, size, "%s", view->title);
	}
}

static bool vm_fullscreen_edge(const struct bh_view *view, int *edge)
{
	*edge = view->tag != NULL ? view->server->config->fullscreen_edge : 0;
	return *edge > 0;
}

/* Thickness of the frame: above the content (title bar or edge) and on the
 * other three sides. */
static void frame_metrics(const struct bh_view *view, int *top, int *side, bool *title)
{
	if (view->fullscreen) {
		int edge;
		vm_fullscreen_edge(view, &edge);
		*top = *side = edge;
		*title = false;
		return;
	}
	*side = view->tag != NULL ? BH_BORDER : BH_HOST_BORDER;
	*top = BH_TITLE_HEIGHT;
	*title = true;
}

uint32_t bh_view_frame_edges(const struct bh_view *view, double lx, double ly)
{
	int top, side;
	bool title;
	frame_metrics(view, &top, &side, &title);
	double x = lx - view->x, y = ly - view->y;
	uint32_t edges = 0;
	if (y >= top + view->height) {
		edges |= WLR_EDGE_BOTTOM;
	}
	if (x < side) {
		edges |= WLR_EDGE_LEFT;
	} else if (x >= side + view->width) {
		edges |= WLR_EDGE_RIGHT;
	}
	if (y < top && !title) {
		edges |= WLR_EDGE_TOP;
	}
	/* The title bar (corners included) moves the window. */
	return y < top && title ? 0 : edges;
}

static uint32_t text_colour(uint32_t bg)
{
	double lum = 0.299 * ((bg >> 16) & 0xff) + 0.587 * ((bg >> 8) & 0xff) + 0.114 * (bg & 0xff);
	return lum > 140 ? 0x000000 : 0xffffff;
}

void bh_view_redraw_frame(struct bh_view *view)
{
	int top, side;
	bool show_title;
	frame_metrics(view, &top, &side, &show_title);
	int w = view->width, h = view->height;
	uint32_t colour = bh_view_colour(view);
	float c[4];
	bh_colour_to_float(colour, c);
	int total_w = w + 2 * side;
	wlr_scene_rect_set_size(view->edge[0], total_w, top);
	wlr_scene_node_set_position(&view->edge[0]->node, 0, 0);
	wlr_scene_rect_set_size(view->edge[1], total_w, side);
	wlr_scene_node_set_position(&view->edge[1]->node, 0, top + h);
	wlr_scene_rect_set_size(view->edge[2], side, h);
	wlr_scene_node_set_position(&view->edge[2]->node, 0, top);
	wlr_scene_rect_set_size(view->edge[3], side, h);
	wlr_scene_node_set_position(&view->edge[3]->node, side + w, top);
	for (int i = 0; i < 4; i++) {
		wlr_scene_rect_set_color(view->edge[i], c);
	}
	wlr_scene_node_set_position(view->surface, side, top);

	char title[sizeof(view->drawn_title)];
	bh_view_display_title(view, title, sizeof(title));
	bool same = view->title_buffer != NULL && view->drawn_colour == colour &&
		    view->drawn_width == total_w && strcmp(view->drawn_title, title) == 0;
	if (!show_title) {
		if (view->title_buffer != NULL) {
			wlr_scene_node_destroy(&view->title_buffer->node);
			view->title_buffer = NULL;
		}
		return;
	}
	if (same) {
		return;
	}
	if (view->title_buffer != NULL) {
		wlr_scene_node_destroy(&view->title_buffer->node);
		view->title_buffer = NULL;
	}
	/* The title text never covers the side borders. */
	view->title_buffer = bh_text_buffer(view->tree, title, total_w - 2 * side, top, colour,
		text_colour(colour), view->tag != NULL);
	if (view->title_buffer != NULL) {
		wlr_scene_node_set_position(&view->title_buffer->node, side, 0);
	}
	view->drawn_colour = colour;
	view->drawn_width = total_w;
	snprintf(view->drawn_title, sizeof(view->drawn_title), "%s", title);
}

void bh_views_redraw_tag(struct bh_server *server, struct bh_tag *tag)
{
	struct bh_view *view;
	wl_list_for_each (view, &server->views, link) {
		if (view->tag == tag) {
			bh_view_redraw_frame(view);
		}
	}
}

static void view_place(struct bh_view *view)
{
	wlr_scene_node_set_position(view->tree, view->x, view->y);
}

struct bh_view *bh_view_focused(struct bh_server *server)
{
	struct bh_view *view;
	wl_list_for_each (view, &server->views, link) {
		if (view->focused) {
			return view;
		}
	}
	return NULL;
}

struct bh_view *bh_view_by_id(struct bh_server *server, uint32_t id)
{
	struct bh_view *view;
	wl_list_for_each (view, &server->views, link) {
		if (view->id == id) {
			return view;
		}
	}
	return NULL;
}

void bh_view_focus(struct bh_view *view)
{
	struct bh_server *server = view->server;
	struct bh_view *old = bh_view_focused(server);
	if (old != NULL && old != view) {
		old->focused = false;
		wlr_xdg_toplevel_set_activated(old->xdg, false);
		bh_view_redraw_frame(old);
	}
	view->focused = true;
	wlr_scene_node_raise_to_top(view->tree);
	wl_list_remove(&view->link);
	wl_list_insert(&server->views, &view->link);
	wlr_xdg_toplevel_set_activated(view->xdg, true);
	bh_view_redraw_frame(view);
	if (bh_overlay_active(server)) {
		return; /* the menu or prompt keeps the keyboard */
	}
	/* The focused window's domain decides which selection clients see. */
	bh_clipboard_focus(server, view->tag);
	struct wlr_keyboard *kb = wlr_seat_get_keyboard(server->seat);
	if (kb != NULL) {
		wlr_seat_keyboard_notify_enter(server->seat, view->xdg->surface, kb->keycodes,
			kb->num_keycodes, &kb->modifiers);
	} else {
		wlr_seat_keyboard_notify_enter(server->seat, view->xdg->surface, NULL, 0, NULL);
	}
}

void bh_view_close(struct bh_view *view)
{
	wlr_xdg_toplevel_send_close(view->xdg);
}

/* The output box under a layout point (or the first output). */
void bh_server_output_box(struct bh_server *server, int lx, int ly, struct wlr_box *box)
{
	struct wlr_output *output = wlr_output_layout_output_at(server->layout, lx, ly);
	if (output == NULL) {
		output = wlr_output_layout_get_center_output(server->layout);
	}
	*box = (struct wlr_box){0, 0, 1280, 720};
	struct wlr_box *found =
		output != NULL ? wlr_output_layout_get_box(server->layout, output) : NULL;
	if (found != NULL) {
		*box = *found;
	}
}

void bh_view_set_maximized(struct bh_view *view, bool on)
{
	if (view->fullscreen || view->maximized == on) {
		wlr_xdg_surface_schedule_configure(view->xdg);
		return;
	}
	int top, side;
	bool title;
	frame_metrics(view, &top, &side, &title);
	if (on) {
		view->saved = (struct wlr_box){view->x, view->y, view->width, view->height};
		struct wlr_box box;
		bh_server_output_box(view->server, view->x + 10, view->y + 10, &box);
		view->x = box.x;
		view->y = box.y;
		wlr_xdg_toplevel_set_size(view->xdg, (uint32_t)(box.width - 2 * side),
			(uint32_t)(box.height - top - side));
	} else {
		view->x = view->saved.x;
		view->y = view->saved.y;
		wlr_xdg_toplevel_set_size(view->xdg, (uint32_t)view->saved.width,
			(uint32_t)view->saved.height);
	}
	view->maximized = on;
	wlr_xdg_toplevel_set_maximized(view->xdg, on);
	view_place(view);
}

void bh_view_set_fullscreen(struct bh_view *view, bool on)
{
	if (view->fullscreen == on) {
		wlr_xdg_surface_schedule_configure(view->xdg);
		return;
	}
	if (on) {
		if (!view->maximized) {
			view->saved = (struct wlr_box){view->x, view->y, view->width, view->height};
		}
		view->fullscreen = true;
		int edge;
		vm_fullscreen_edge(view, &edge);
		struct wlr_box box;
		bh_server_output_box(view->server, view->x + 10, view->y + 10, &box);
		view->x = box.x;
		view->y = box.y;
		wlr_xdg_toplevel_set_size(view->xdg, (uint32_t)(box.width - 2 * edge),
			(uint32_t)(box.height - 2 * edge));
	} else {
		view->fullscreen = false;
		view->maximized = false;
		view->x = view->saved.x;
		view->y = view->saved.y;
		wlr_xdg_toplevel_set_size(view->xdg, (uint32_t)view->saved.width,
			(uint32_t)view->saved.height);
		wlr_xdg_toplevel_set_maximized(view->xdg, false);
	}
	wlr_xdg_toplevel_set_fullscreen(view->xdg, on);
	view_place(view);
	bh_view_redraw_frame(view);
}

struct bh_view *bh_view_at(struct bh_server *server, double lx, double ly,
	struct wlr_surface **surface, double *sx, double *sy, bool *on_frame)
{
	*surface = NULL;
	*on_frame = false;
	struct wlr_scene_node *node = wlr_scene_node_at(server->layer_views, lx, ly, sx, sy);
	if (node == NULL) {
		return NULL;
	}
	if (node->type == WLR_SCENE_NODE_SURFACE) {
		*surface = wlr_scene_surface_from_node(node)->surface;
	}
	for (struct wlr_scene_node *n = node; n != NULL; n = n->parent) {
		if (n->data != NULL) {
			struct bh_view *view = n->data;
			*on_frame = node->parent == view->tree &&
				    (node->type == WLR_SCENE_NODE_RECT ||
					    node->type == WLR_SCENE_NODE_BUFFER);
			return view;
		}
	}
	return NULL;
}

static void focus_next_mapped(struct bh_server *server, struct bh_view *except)
{
	struct bh_view *view;
	wl_list_for_each (view, &server->views, link) {
		if (view != except && view->mapped) {
			bh_view_focus(view);
			return;
		}
	}
	wlr_seat_keyboard_notify_clear_focus(server->seat);
}

static void view_update_size(struct bh_view *view)
{
	struct wlr_box geo;
	wlr_xdg_surface_get_geometry(view->xdg, &geo);
	if (geo.width != view->width || geo.height != view->height) {
		view->width = geo.width;
		view->height = geo.height;
		bh_view_redraw_frame(view);
	}
}

static void handle_commit(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, commit);
	view_update_size(view);
}

static void handle_map(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, map);
	struct bh_server *server = view->server;
	view->mapped = true;
	if (view->tag != NULL) {
		bh_tag_window_shown(view->tag);
	}
	/* Title and app id may have been set before we listened. */
	bh_sanitize_title(view->xdg->toplevel->title, view->title, sizeof(view->title));
	bh_sanitize_title(view->xdg->toplevel->app_id, view->app_id, sizeof(view->app_id));
	struct wlr_box geo;
	wlr_xdg_surface_get_geometry(view->xdg, &geo);
	view->width = geo.width;
	view->height = geo.height;
	/* Cascade new windows from the top left of the output. */
	struct wlr_box box;
	bh_server_output_box(server, (int)server->cursor->x, (int)server->cursor->y, &box);
	int n = 0;
	struct bh_view *other;
	wl_list_for_each (other, &server->views, link) {
		n += other != view && other->mapped;
	}
	view->x = box.x + 24 + (n % 10) * 28;
	view->y = box.y + 24 + (n % 10) * 28;
	view_place(view);
	wlr_scene_node_set_enabled(view->tree, true);
	bh_view_redraw_frame(view);
	if (view->tag != NULL) {
		bh_log(BH_LOG_INFO, "tag %s: window %u mapped (%s)", view->tag->name, view->id,
			view->title);
	}
	bh_view_focus(view);
	bh_status_update(server);
}

static void handle_unmap(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, unmap);
	struct bh_server *server = view->server;
	view->mapped = false;
	wlr_scene_node_set_enabled(view->tree, false);
	if (server->grab_view == view) {
		server->grab = BH_GRAB_NONE;
		server->grab_view = NULL;
	}
	if (view->focused) {
		view->focused = false;
		focus_next_mapped(server, view);
	}
}

static void handle_destroy(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, destroy);
	struct bh_server *server = view->server;
	if (server->grab_view == view) {
		server->grab = BH_GRAB_NONE;
		server->grab_view = NULL;
	}
	wl_list_remove(&view->link);
	wl_list_remove(&view->map.link);
	wl_list_remove(&view->unmap.link);
	wl_list_remove(&view->destroy.link);
	wl_list_remove(&view->commit.link);
	wl_list_remove(&view->new_popup.link);
	wl_list_remove(&view->request_move.link);
	wl_list_remove(&view->request_resize.link);
	wl_list_remove(&view->request_maximize.link);
	wl_list_remove(&view->request_fullscreen.link);
	wl_list_remove(&view->set_title.link);
	wl_list_remove(&view->set_app_id.link);
	wlr_scene_node_destroy(view->tree);
	if (view->tag != NULL) {
		bh_tag_window_closed(view->tag);
	}
	free(view);
	bh_status_update(server);
}

static void begin_grab(struct bh_view *view, enum bh_grab mode, uint32_t edges)
{
	struct bh_server *server = view->server;
	if (view->fullscreen) {
		return;
	}
	server->grab = mode;
	server->grab_view = view;
	server->grab_x = server->cursor->x;
	server->grab_y = server->cursor->y;
	server->grab_box = (struct wlr_box){view->x, view->y, view->width, view->height};
	server->grab_edges = edges;
}

static void handle_request_move(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, request_move);
	/* Only while a button is down on the window: a guest cannot drag
	 * itself around on its own. */
	if (view->server->seat->pointer_state.button_count > 0 && view->focused) {
		begin_grab(view, BH_GRAB_MOVE, 0);
	}
}

static void handle_request_resize(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, request_resize);
	struct wlr_xdg_toplevel_resize_event *event = data;
	if (view->server->seat->pointer_state.button_count > 0 && view->focused) {
		begin_grab(view, BH_GRAB_RESIZE, event->edges);
	}
}

static void handle_request_maximize(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, request_maximize);
	bh_view_set_maximized(view, view->xdg->toplevel->requested.maximized);
}

static void handle_request_fullscreen(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, request_fullscreen);
	bh_view_set_fullscreen(view, view->xdg->toplevel->requested.fullscreen);
}

static void handle_set_title(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, set_title);
	bh_sanitize_title(view->xdg->toplevel->title, view->title, sizeof(view->title));
	if (view->mapped) {
		bh_view_redraw_frame(view);
	}
}

static void handle_set_app_id(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, set_app_id);
	bh_sanitize_title(view->xdg->toplevel->app_id, view->app_id, sizeof(view->app_id));
}

/* Popups */

static struct bh_view *view_of_xdg(struct wlr_xdg_surface *xdg)
{
	while (xdg != NULL && xdg->role == WLR_XDG_SURFACE_ROLE_POPUP) {
		if (xdg->popup->parent == NULL || !wlr_surface_is_xdg_surface(xdg->popup->parent)) {
			return NULL;
		}
		xdg = wlr_xdg_surface_from_wlr_surface(xdg->popup->parent);
	}
	if (xdg == NULL || xdg->role != WLR_XDG_SURFACE_ROLE_TOPLEVEL || xdg->data == NULL) {
		return NULL;
	}
	struct wlr_scene_node *node = xdg->data;
	return node->parent != NULL ? node->parent->data : NULL;
}

static void popup_unconstrain(struct bh_popup *p)
{
	struct bh_view *view = view_of_xdg(p->popup->base);
	if (view == NULL) {
		return;
	}
	int top, side;
	bool title;
	frame_metrics(view, &top, &side, &title);
	struct wlr_box geo;
	wlr_xdg_surface_get_geometry(view->xdg, &geo);
	int sx = view->x + side - geo.x, sy = view->y + top - geo.y;
	struct wlr_box box;
	bh_server_output_box(view->server, view->x + side, view->y + top, &box);
	/* Inside the output, leaving room for the popup's own thin frame. */
	int inset = p->tag != NULL ? BH_POPUP_BORDER : 0;
	struct wlr_box local = {box.x - sx + inset, box.y - sy + inset, box.width - 2 * inset,
		box.height - 2 * inset};
	wlr_xdg_popup_unconstrain_from_box(p->popup, &local);
}

static void popup_commit(struct wl_listener *listener, void *data)
{
	struct bh_popup *p = wl_container_of(listener, p, commit);
	if (p->tag == NULL) {
		return;
	}
	struct wlr_box geo;
	wlr_xdg_surface_get_geometry(p->popup->base, &geo);
	int b = BH_POPUP_BORDER, w = geo.width, h = geo.height;
	wlr_scene_node_set_position(&p->edge[0]->node, -b, -b);
	wlr_scene_rect_set_size(p->edge[0], w + 2 * b, b);
	wlr_scene_node_set_position(&p->edge[1]->node, -b, h);
	wlr_scene_rect_set_size(p->edge[1], w + 2 * b, b);
	wlr_scene_node_set_position(&p->edge[2]->node, -b, 0);
	wlr_scene_rect_set_size(p->edge[2], b, h);
	wlr_scene_node_set_position(&p->edge[3]->node, w, 0);
	wlr_scene_rect_set_size(p->edge[3], b, h);
}

static void popup_destroy(struct wl_listener *listener, void *data)
{
	struct bh_popup *p = wl_container_of(listener, p, destroy);
	wl_list_remove(&p->commit.link);
	wl_list_remove(&p->destroy.link);
	free(p);
}

static void create_popup(struct wlr_xdg_surface *xdg)
{
	struct wlr_xdg_popup *popup = xdg->popup;
	if (popup->parent == NULL || !wlr_surface_is_xdg_surface(popup->parent)) {
		return;
	}
	struct wlr_xdg_surface *parent = wlr_xdg_surface_from_wlr_surface(popup->parent);
	if (parent == NULL || parent->data == NULL) {
		return;
	}
	struct bh_popup *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return;
	}
	p->popup = popup;
	p->tag = bh_client_tag(wl_resource_get_client(xdg->resource));
	p->node = wlr_scene_xdg_surface_create(parent->data, xdg);
	if (p->node == NULL) {
		free(p);
		return;
	}
	xdg->data = p->node;
	if (p->tag != NULL) {
		float c[4];
		bh_colour_to_float(p->tag->colour, c);
		for (int i = 0; i < 4; i++) {
			p->edge[i] = wlr_scene_rect_create(p->node, 0, 0, c);
			wlr_scene_node_lower_to_bottom(&p->edge[i]->node);
		}
	}
	p->commit.notify = popup_commit;
	wl_signal_add(&xdg->surface->events.commit, &p->commit);
	p->destroy.notify = popup_destroy;
	wl_signal_add(&xdg->events.destroy, &p->destroy);
	popup_unconstrain(p);
}

static bool tag_window_limit(struct bh_server *server, struct bh_tag *tag)
{
	int n = 0;
	struct bh_view *view;
	wl_list_for_each (view, &server->views, link) {
		n += view->tag == tag;
	}
	return n >= server->config->max_windows_per_tag;
}

static void handle_view_new_popup(struct wl_listener *listener, void *data)
{
	/* Popups are created from new_xdg_surface; nothing to do here. */
}

void bh_view_new_xdg_surface(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, new_xdg_surface);
	struct wlr_xdg_surface *xdg = data;
	if (xdg->role == WLR_XDG_SURFACE_ROLE_POPUP) {
		create_popup(xdg);
		return;
	}
	if (xdg->role != WLR_XDG_SURFACE_ROLE_TOPLEVEL) {
		return;
	}
	struct wl_client *client = wl_resource_get_client(xdg->resource);
	struct bh_tag *tag = bh_client_tag(client);
	if (tag != NULL && tag_window_limit(server, tag)) {
		bh_log(BH_LOG_ERROR,
			"tag %s: a guest app opened more than %d windows; closing that app "
			"(raise max_windows_per_tag in the config if this is expected)",
			tag->name, server->config->max_windows_per_tag);
		wl_client_post_no_memory(client);
		return;
	}
	struct bh_view *view = calloc(1, sizeof(*view));
	if (view == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	view->server = server;
	view->xdg = xdg;
	view->tag = tag;
	view->id = ++server->next_view_id;
	view->tree = &wlr_scene_tree_create(server->layer_views)->node;
	view->tree->data = view;
	float c[4];
	bh_colour_to_float(bh_view_colour(view), c);
	for (int i = 0; i < 4; i++) {
		view->edge[i] = wlr_scene_rect_create(view->tree, 0, 0, c);
	}
	view->surface = wlr_scene_xdg_surface_create(view->tree, xdg);
	xdg->data = view->surface;
	wlr_scene_node_set_enabled(view->tree, false);
	wl_list_insert(&server->views, &view->link);
	if (tag != NULL) {
		tag->windows++;
		if (tag->idle_timer != NULL) {
			wl_event_source_timer_update(tag->idle_timer, 0);
		}
	}

	view->map.notify = handle_map;
	wl_signal_add(&xdg->events.map, &view->map);
	view->unmap.notify = handle_unmap;
	wl_signal_add(&xdg->events.unmap, &view->unmap);
	view->destroy.notify = handle_destroy;
	wl_signal_add(&xdg->events.destroy, &view->destroy);
	view->commit.notify = handle_commit;
	wl_signal_add(&xdg->surface->events.commit, &view->commit);
	view->new_popup.notify = handle_view_new_popup;
	wl_signal_add(&xdg->events.new_popup, &view->new_popup);
	struct wlr_xdg_toplevel *toplevel = xdg->toplevel;
	view->request_move.notify = handle_request_move;
	wl_signal_add(&toplevel->events.request_move, &view->request_move);
	view->request_resize.notify = handle_request_resize;
	wl_signal_add(&toplevel->events.request_resize, &view->request_resize);
	view->request_maximize.notify = handle_request_maximize;
	wl_signal_add(&toplevel->events.request_maximize, &view->request_maximize);
	view->request_fullscreen.notify = handle_request_fullscreen;
	wl_signal_add(&toplevel->events.request_fullscreen, &view->request_fullscreen);
	view->set_title.notify = handle_set_title;
	wl_signal_add(&toplevel->events.set_title, &view->set_title);
	view->set_app_id.notify = handle_set_app_id;
	wl_signal_add(&toplevel->events.set_app_id, &view->set_app_id);
}
