/* Views: xdg toplevels and popups as windows, focus and stacking, maximize
 * and fullscreen, and the pointer grabs that move and resize them. The
 * frame of a window depends only on the connection its client came from
 * (view->tag), never on anything the client says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wlr/types/wlr_output.h>

#include "common/log.h"
#include "common/util.h"
#include "compositor/client.h"
#include "compositor/output.h"
#include "compositor/seat.h"
#include "compositor/status.h"
#include "compositor/tags.h"
#include "compositor/view.h"
#include "compositor/vm_manager.h"

/* A popup of any client: framed thinly in the tag's colour when a guest's. */
struct popup {
	struct wlr_xdg_popup *popup;
	struct wlr_scene_node *node;
	struct wlr_scene_rect *edge[4];
	struct bh_tag *tag;
	struct wl_listener commit, destroy;
};

uint32_t bh_view_colour(const struct bh_view *view)
{
	return bh_decoration_colour(
		view->tag != NULL, view->tag != NULL ? view->tag->colour : 0, view->focused);
}

void bh_view_display_title(const struct bh_view *view, char *buf, size_t size)
{
	if (view->tag != NULL && view->tag->state == BH_TAG_UNREACHABLE) {
		/* Its windows are closing: none may look live meanwhile. */
		snprintf(buf, size, "[%s unreachable] %s", view->tag->name, view->title);
	} else if (view->tag != NULL) {
		snprintf(buf, size, "[%s] %s", view->tag->name, view->title);
	} else {
		snprintf(buf, size, "%s", view->title);
	}
}

struct bh_decoration_size bh_view_frame_size(const struct bh_view *view)
{
	return bh_decoration_size(
		view->tag != NULL, view->fullscreen, view->server->config->fullscreen_edge);
}

uint32_t bh_view_frame_edges(const struct bh_view *view, double lx, double ly)
{
	return bh_decoration_edges(
		bh_view_frame_size(view), view->width, view->height, lx - view->x, ly - view->y);
}

void bh_view_redraw_frame(struct bh_view *view)
{
	struct bh_decoration_size size = bh_view_frame_size(view);
	char title[sizeof(view->frame.drawn_title)];
	bh_view_display_title(view, title, sizeof(title));
	bh_decoration_draw(&view->frame, size, view->width, view->height, bh_view_colour(view),
		title, view->tag != NULL);
	wlr_scene_node_set_position(view->surface, size.side, size.top);
}

void bh_views_redraw_all(struct bh_server *server)
{
	struct bh_view *view;
	wl_list_for_each (view, &server->views, link) {
		bh_view_redraw_frame(view);
	}
}

void bh_view_move(struct bh_view *view, int x, int y)
{
	view->x = x;
	view->y = y;
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
	bh_seat_focus(server, view->xdg->surface, view->tag);
}

void bh_view_close(struct bh_view *view)
{
	wlr_xdg_toplevel_send_close(view->xdg);
}

void bh_view_set_maximized(struct bh_view *view, bool on)
{
	if (view->fullscreen || view->maximized == on) {
		wlr_xdg_surface_schedule_configure(view->xdg);
		return;
	}
	struct bh_decoration_size size = bh_view_frame_size(view);
	if (on) {
		view->saved = (struct wlr_box){view->x, view->y, view->width, view->height};
		struct wlr_box box;
		bh_output_box(view->server, view->x + 10, view->y + 10, &box);
		bh_view_move(view, box.x, box.y);
		wlr_xdg_toplevel_set_size(view->xdg, (uint32_t)(box.width - 2 * size.side),
			(uint32_t)(box.height - size.top - size.side));
	} else {
		bh_view_move(view, view->saved.x, view->saved.y);
		wlr_xdg_toplevel_set_size(
			view->xdg, (uint32_t)view->saved.width, (uint32_t)view->saved.height);
	}
	view->maximized = on;
	wlr_xdg_toplevel_set_maximized(view->xdg, on);
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
		int edge = bh_view_frame_size(view).side;
		struct wlr_box box;
		bh_output_box(view->server, view->x + 10, view->y + 10, &box);
		bh_view_move(view, box.x, box.y);
		wlr_xdg_toplevel_set_size(view->xdg, (uint32_t)(box.width - 2 * edge),
			(uint32_t)(box.height - 2 * edge));
	} else {
		view->fullscreen = false;
		view->maximized = false;
		bh_view_move(view, view->saved.x, view->saved.y);
		wlr_xdg_toplevel_set_size(
			view->xdg, (uint32_t)view->saved.width, (uint32_t)view->saved.height);
		wlr_xdg_toplevel_set_maximized(view->xdg, false);
	}
	wlr_xdg_toplevel_set_fullscreen(view->xdg, on);
	bh_view_redraw_frame(view);
}

struct bh_view *bh_view_at(struct bh_server *server, double lx, double ly, struct bh_view_hit *hit)
{
	*hit = (struct bh_view_hit){0};
	struct wlr_scene_node *node =
		wlr_scene_node_at(server->layer_views, lx, ly, &hit->sx, &hit->sy);
	if (node == NULL) {
		return NULL;
	}
	if (node->type == WLR_SCENE_NODE_SURFACE) {
		hit->surface = wlr_scene_surface_from_node(node)->surface;
	}
	for (struct wlr_scene_node *n = node; n != NULL; n = n->parent) {
		if (n->data != NULL) {
			hit->view = n->data;
			hit->on_frame = node->parent == hit->view->tree &&
					(node->type == WLR_SCENE_NODE_RECT ||
						node->type == WLR_SCENE_NODE_BUFFER);
			return hit->view;
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

static void view_handle_commit(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, commit);
	view_update_size(view);
}

/* A guest window that maps while the user types into a window of another
 * tag (or of the host) does not take the keyboard: what is typed goes
 * where the user was typing, not into a window that appeared under it.
 * The first window after the user asked for an app of that tag does. */
#define TYPING_USEC (1500 * 1000ull)
#define GRANT_USEC (30 * 1000 * 1000ull)

static bool map_takes_focus(struct bh_view *view, struct bh_view *focused)
{
	uint64_t now = bh_now_usec();
	struct bh_tag *tag = view->tag;
	bool granted = tag != NULL && tag->focus_grant_usec != 0 &&
		now - tag->focus_grant_usec < GRANT_USEC;
	if (tag != NULL) {
		tag->focus_grant_usec = 0;
	}
	if (tag == NULL || focused == NULL || focused->tag == tag || granted) {
		return true;
	}
	return view->server->last_key_usec == 0 || now - view->server->last_key_usec >= TYPING_USEC;
}

static void view_handle_map(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, map);
	struct bh_server *server = view->server;
	view->mapped = true;
	if (view->tag != NULL) {
		bh_tag_window_shown(view->tag);
	}
	/* Title and app id may have been set before we listened. */
	bh_text_sanitize(view->xdg->toplevel->title, view->title, sizeof(view->title));
	bh_text_sanitize(view->xdg->toplevel->app_id, view->app_id, sizeof(view->app_id));
	struct wlr_box geo;
	wlr_xdg_surface_get_geometry(view->xdg, &geo);
	view->width = geo.width;
	view->height = geo.height;
	/* Cascade new windows from the top left of the output. */
	struct wlr_box box;
	bh_output_box(server, (int)server->cursor->x, (int)server->cursor->y, &box);
	int n = 0;
	struct bh_view *other;
	wl_list_for_each (other, &server->views, link) {
		n += other != view && other->mapped;
	}
	bh_view_move(view, box.x + 24 + (n % 10) * 28, box.y + 24 + (n % 10) * 28);
	wlr_scene_node_set_enabled(view->tree, true);
	bh_view_redraw_frame(view);
	if (view->tag != NULL) {
		bh_log(BH_LOG_INFO, "tag %s: window %u mapped (%s)", view->tag->name, view->id,
			view->title);
	}
	struct bh_view *focused = bh_view_focused(server);
	if (map_takes_focus(view, focused)) {
		bh_view_focus(view);
	} else {
		/* Under the window being typed into, not over it. */
		wlr_scene_node_place_below(view->tree, focused->tree);
		wl_list_remove(&view->link);
		wl_list_insert(&focused->link, &view->link);
		bh_log(BH_LOG_INFO, "tag %s: window %u opened without the keyboard: you were "
				    "typing in another window (click it to use it)",
			view->tag->name, view->id);
	}
	bh_status_update(server);
}

static void view_handle_unmap(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, unmap);
	struct bh_server *server = view->server;
	view->mapped = false;
	wlr_scene_node_set_enabled(view->tree, false);
	if (server->grab_view == view) {
		bh_view_end_grab(server);
	}
	if (view->focused) {
		view->focused = false;
		focus_next_mapped(server, view);
	}
}

static void view_handle_destroy(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, destroy);
	struct bh_server *server = view->server;
	if (server->grab_view == view) {
		bh_view_end_grab(server);
	}
	wl_list_remove(&view->link);
	wl_list_remove(&view->map.link);
	wl_list_remove(&view->unmap.link);
	wl_list_remove(&view->destroy.link);
	wl_list_remove(&view->commit.link);
	wl_list_remove(&view->request_move.link);
	wl_list_remove(&view->request_resize.link);
	wl_list_remove(&view->request_maximize.link);
	wl_list_remove(&view->request_fullscreen.link);
	wl_list_remove(&view->set_title.link);
	wl_list_remove(&view->set_app_id.link);
	wlr_scene_node_destroy(view->tree);
	if (view->tag != NULL) {
		bh_vm_manager_window_closed(view->tag);
	}
	free(view);
	bh_status_update(server);
}

void bh_view_begin_grab(struct bh_view *view, enum bh_grab mode, uint32_t edges)
{
	struct bh_server *server = view->server;
	server->grab = mode;
	server->grab_view = view;
	server->grab_x = server->cursor->x;
	server->grab_y = server->cursor->y;
	server->grab_box = (struct wlr_box){view->x, view->y, view->width, view->height};
	server->grab_edges = edges;
}

void bh_view_end_grab(struct bh_server *server)
{
	server->grab = BH_GRAB_NONE;
	server->grab_view = NULL;
}

/* A client may ask to be moved or resized only while a button is down on
 * its focused window: a guest cannot drag itself around on its own. */
static bool may_grab(struct bh_view *view)
{
	return view->server->seat->pointer_state.button_count > 0 && view->focused &&
	       !view->fullscreen;
}

static void view_handle_request_move(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, request_move);
	if (may_grab(view)) {
		bh_view_begin_grab(view, BH_GRAB_MOVE, 0);
	}
}

static void view_handle_request_resize(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, request_resize);
	struct wlr_xdg_toplevel_resize_event *event = data;
	if (may_grab(view)) {
		bh_view_begin_grab(view, BH_GRAB_RESIZE, event->edges);
	}
}

static void view_handle_request_maximize(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, request_maximize);
	bh_view_set_maximized(view, view->xdg->toplevel->requested.maximized);
}

static void view_handle_request_fullscreen(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, request_fullscreen);
	bh_view_set_fullscreen(view, view->xdg->toplevel->requested.fullscreen);
}

static void view_handle_set_title(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, set_title);
	bh_text_sanitize(view->xdg->toplevel->title, view->title, sizeof(view->title));
	if (view->mapped) {
		bh_view_redraw_frame(view);
	}
}

static void view_handle_set_app_id(struct wl_listener *listener, void *data)
{
	struct bh_view *view = wl_container_of(listener, view, set_app_id);
	bh_text_sanitize(view->xdg->toplevel->app_id, view->app_id, sizeof(view->app_id));
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

static void popup_unconstrain(struct popup *p)
{
	struct bh_view *view = view_of_xdg(p->popup->base);
	if (view == NULL) {
		return;
	}
	struct bh_decoration_size size = bh_view_frame_size(view);
	struct wlr_box geo;
	wlr_xdg_surface_get_geometry(view->xdg, &geo);
	int sx = view->x + size.side - geo.x, sy = view->y + size.top - geo.y;
	struct wlr_box box;
	bh_output_box(view->server, view->x + size.side, view->y + size.top, &box);
	/* Inside the output, leaving room for the popup's own thin frame. */
	int inset = p->tag != NULL ? BH_POPUP_BORDER : 0;
	struct wlr_box local = {box.x - sx + inset, box.y - sy + inset, box.width - 2 * inset,
		box.height - 2 * inset};
	wlr_xdg_popup_unconstrain_from_box(p->popup, &local);
}

static void popup_handle_commit(struct wl_listener *listener, void *data)
{
	struct popup *p = wl_container_of(listener, p, commit);
	if (p->tag == NULL) {
		return;
	}
	struct wlr_box geo;
	wlr_xdg_surface_get_geometry(p->popup->base, &geo);
	bh_decoration_popup_draw(p->edge, geo.width, geo.height);
}

static void popup_handle_destroy(struct wl_listener *listener, void *data)
{
	struct popup *p = wl_container_of(listener, p, destroy);
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
	struct popup *p = calloc(1, sizeof(*p));
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
		bh_decoration_popup_create(p->edge, p->node, p->tag->colour);
	}
	p->commit.notify = popup_handle_commit;
	wl_signal_add(&xdg->surface->events.commit, &p->commit);
	p->destroy.notify = popup_handle_destroy;
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

void bh_view_create(struct bh_server *server, struct wlr_xdg_surface *xdg)
{
	/* A popup comes here too, as a new xdg surface, with its parent set. */
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
	bh_decoration_create(&view->frame, view->tree, bh_view_colour(view));
	view->surface = wlr_scene_xdg_surface_create(view->tree, xdg);
	xdg->data = view->surface;
	wlr_scene_node_set_enabled(view->tree, false);
	wl_list_insert(&server->views, &view->link);
	if (tag != NULL) {
		bh_vm_manager_window_opened(tag);
	}

	view->map.notify = view_handle_map;
	wl_signal_add(&xdg->events.map, &view->map);
	view->unmap.notify = view_handle_unmap;
	wl_signal_add(&xdg->events.unmap, &view->unmap);
	view->destroy.notify = view_handle_destroy;
	wl_signal_add(&xdg->events.destroy, &view->destroy);
	view->commit.notify = view_handle_commit;
	wl_signal_add(&xdg->surface->events.commit, &view->commit);
	struct wlr_xdg_toplevel *toplevel = xdg->toplevel;
	view->request_move.notify = view_handle_request_move;
	wl_signal_add(&toplevel->events.request_move, &view->request_move);
	view->request_resize.notify = view_handle_request_resize;
	wl_signal_add(&toplevel->events.request_resize, &view->request_resize);
	view->request_maximize.notify = view_handle_request_maximize;
	wl_signal_add(&toplevel->events.request_maximize, &view->request_maximize);
	view->request_fullscreen.notify = view_handle_request_fullscreen;
	wl_signal_add(&toplevel->events.request_fullscreen, &view->request_fullscreen);
	view->set_title.notify = view_handle_set_title;
	wl_signal_add(&toplevel->events.set_title, &view->set_title);
	view->set_app_id.notify = view_handle_set_app_id;
	wl_signal_add(&toplevel->events.set_app_id, &view->set_app_id);
}
