/* The seat: its capabilities, keyboard focus (and with it the domain whose
 * clipboard clients see), the compositor's hold on the keyboard while its
 * menu or prompt is open, and the cursor image clients set. */
#include <wlr/types/wlr_keyboard.h>

#include "compositor/clipboard.h"
#include "compositor/seat.h"

static void seat_handle_request_cursor(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, request_cursor);
	struct wlr_seat_pointer_request_set_cursor_event *event = data;
	if (server->seat->pointer_state.focused_client == event->seat_client) {
		wlr_cursor_set_surface(
			server->cursor, event->surface, event->hotspot_x, event->hotspot_y);
	}
}

void bh_seat_init(struct bh_server *server)
{
	server->seat = wlr_seat_create(server->display, "seat0");
	/* A seat always offers a pointer and a keyboard, so clients bind them
	 * even before a device (or a virtual keyboard) appears. */
	wlr_seat_set_capabilities(
		server->seat, WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);
	server->request_cursor.notify = seat_handle_request_cursor;
	wl_signal_add(&server->seat->events.request_set_cursor, &server->request_cursor);
}

void bh_seat_focus(struct bh_server *server, struct wlr_surface *surface, struct bh_tag *tag)
{
	if (server->keyboard_held) {
		return; /* the menu or prompt keeps the keyboard */
	}
	/* The focused window's domain decides which selection clients see. */
	bh_clipboard_focus(server, tag);
	struct wlr_keyboard *kb = wlr_seat_get_keyboard(server->seat);
	if (kb != NULL) {
		wlr_seat_keyboard_notify_enter(
			server->seat, surface, kb->keycodes, kb->num_keycodes, &kb->modifiers);
	} else {
		wlr_seat_keyboard_notify_enter(server->seat, surface, NULL, 0, NULL);
	}
}

void bh_seat_hold_keyboard(struct bh_server *server)
{
	server->keyboard_held = true;
	wlr_seat_keyboard_notify_clear_focus(server->seat);
}

void bh_seat_release_keyboard(struct bh_server *server)
{
	server->keyboard_held = false;
}
