/* The cursor: pointer motion, buttons and scrolling, and the move and
 * resize grabs of windows (Super + drag, or the frame). */
#include <linux/input-event-codes.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_pointer.h>
#include <wlr/util/edges.h>

#include "compositor/cursor.h"
#include "compositor/menu.h"
#include "compositor/view.h"

static void process_motion(struct bh_server *server, uint32_t time)
{
	if (server->grab == BH_GRAB_MOVE && server->grab_view != NULL) {
		bh_view_move(server->grab_view,
			server->grab_box.x + (int)(server->cursor->x - server->grab_x),
			server->grab_box.y + (int)(server->cursor->y - server->grab_y));
		return;
	}
	if (server->grab == BH_GRAB_RESIZE && server->grab_view != NULL) {
		struct bh_view *view = server->grab_view;
		int dx = (int)(server->cursor->x - server->grab_x);
		int dy = (int)(server->cursor->y - server->grab_y);
		struct wlr_box b = server->grab_box;
		uint32_t edges = server->grab_edges;
		if (edges & WLR_EDGE_LEFT) {
			b.x += dx;
			b.width -= dx;
		} else if (edges & WLR_EDGE_RIGHT) {
			b.width += dx;
		}
		if (edges & WLR_EDGE_TOP) {
			b.y += dy;
			b.height -= dy;
		} else if (edges & WLR_EDGE_BOTTOM) {
			b.height += dy;
		}
		if (b.width < 32 || b.height < 16) {
			return;
		}
		bh_view_move(view, b.x, b.y);
		wlr_xdg_toplevel_set_size(view->xdg, (uint32_t)b.width, (uint32_t)b.height);
		return;
	}
	struct bh_view_hit hit;
	if (bh_view_at(server, server->cursor->x, server->cursor->y, &hit) == NULL ||
		hit.surface == NULL) {
		wlr_xcursor_manager_set_cursor_image(server->xcursor, "left_ptr", server->cursor);
		wlr_seat_pointer_clear_focus(server->seat);
		return;
	}
	wlr_seat_pointer_notify_enter(server->seat, hit.surface, hit.sx, hit.sy);
	wlr_seat_pointer_notify_motion(server->seat, time, hit.sx, hit.sy);
}

static void cursor_handle_motion(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, cursor_motion);
	struct wlr_event_pointer_motion *event = data;
	wlr_cursor_move(server->cursor, event->device, event->delta_x, event->delta_y);
	process_motion(server, event->time_msec);
}

static void cursor_handle_motion_absolute(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, cursor_motion_absolute);
	struct wlr_event_pointer_motion_absolute *event = data;
	wlr_cursor_warp_absolute(server->cursor, event->device, event->x, event->y);
	process_motion(server, event->time_msec);
}

static void cursor_handle_button(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, cursor_button);
	struct wlr_event_pointer_button *event = data;
	if (event->state == WLR_BUTTON_RELEASED) {
		if (server->grab != BH_GRAB_NONE) {
			bh_view_end_grab(server);
			return;
		}
		wlr_seat_pointer_notify_button(
			server->seat, event->time_msec, event->button, event->state);
		return;
	}
	if (bh_menu_active(server)) {
		bh_menu_click(server, server->cursor->x, server->cursor->y);
		return;
	}
	struct bh_view_hit hit;
	struct bh_view *view = bh_view_at(server, server->cursor->x, server->cursor->y, &hit);
	bool on_frame = hit.on_frame;
	if (view != NULL) {
		bh_view_focus(view);
		struct wlr_keyboard *kb = wlr_seat_get_keyboard(server->seat);
		bool super = kb != NULL && (wlr_keyboard_get_modifiers(kb) & WLR_MODIFIER_LOGO);
		/* Super + left drag or the title bar moves; Super + right drag
		 * or a border resizes from that side. */
		uint32_t edges =
			on_frame && !view->fullscreen
				? bh_view_frame_edges(view, server->cursor->x, server->cursor->y)
				: 0;
		/* A press during a grab goes on with it from this window. */
		enum bh_grab mode = server->grab;
		uint32_t grab_edges = server->grab_edges;
		if ((super && event->button == BTN_LEFT) ||
			(on_frame && !view->fullscreen && edges == 0)) {
			mode = BH_GRAB_MOVE;
		} else if (super && event->button == BTN_RIGHT) {
			mode = BH_GRAB_RESIZE;
			grab_edges = WLR_EDGE_RIGHT | WLR_EDGE_BOTTOM;
		} else if (on_frame && !view->fullscreen) {
			mode = BH_GRAB_RESIZE;
			grab_edges = edges;
		}
		if (mode != BH_GRAB_NONE) {
			bh_view_begin_grab(view, mode, grab_edges);
			return;
		}
	}
	wlr_seat_pointer_notify_button(server->seat, event->time_msec, event->button, event->state);
}

static void cursor_handle_axis(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, cursor_axis);
	struct wlr_event_pointer_axis *event = data;
	wlr_seat_pointer_notify_axis(server->seat, event->time_msec, event->orientation,
		event->delta, event->delta_discrete, event->source);
}

static void cursor_handle_frame(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, cursor_frame);
	wlr_seat_pointer_notify_frame(server->seat);
}

void bh_cursor_attach(struct bh_server *server, struct wlr_input_device *device)
{
	wlr_cursor_attach_input_device(server->cursor, device);
}

void bh_cursor_init(struct bh_server *server)
{
	server->cursor = wlr_cursor_create();
	wlr_cursor_attach_output_layout(server->cursor, server->layout);
	server->xcursor = wlr_xcursor_manager_create(NULL, 24);
	wlr_xcursor_manager_load(server->xcursor, 1);
	server->cursor_motion.notify = cursor_handle_motion;
	wl_signal_add(&server->cursor->events.motion, &server->cursor_motion);
	server->cursor_motion_absolute.notify = cursor_handle_motion_absolute;
	wl_signal_add(&server->cursor->events.motion_absolute, &server->cursor_motion_absolute);
	server->cursor_button.notify = cursor_handle_button;
	wl_signal_add(&server->cursor->events.button, &server->cursor_button);
	server->cursor_axis.notify = cursor_handle_axis;
	wl_signal_add(&server->cursor->events.axis, &server->cursor_axis);
	server->cursor_frame.notify = cursor_handle_frame;
	wl_signal_add(&server->cursor->events.frame, &server->cursor_frame);
}
