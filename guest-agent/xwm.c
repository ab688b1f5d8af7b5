/* The X window manager of the guest's Xwayland. It redirects the root's
 * children, and for each mapped X window whose wl_surface Xwayland names
 * (the WL_SURFACE_ID client message: Debian 12's Xwayland 22.1 has no
 * xwayland_shell_v1) it adds a role on Xwayland's Wayland connection: an
 * xdg_toplevel with the X title, class, size hints and transient parent for
 * managed windows, a desynchronised subsurface of the parent toplevel at
 * the X offset for override-redirect ones. Host configures resize the X
 * window, host close asks it to close, host activation gives it the X
 * input focus. CLIPBOARD goes between X and the tag's selection on the
 * host (xwm_selection.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wayland-client-protocol.h>
#include <wayland-server-core.h>
#include <xcb/composite.h>
#include <xcb/xcb.h>

#include "common/log.h"
#include "common/wl_wire.h"
#include "guest-agent/xwl_conn.h"
#include "guest-agent/xwm.h"
#include "guest-agent/xwm_internal.h"
#include "xdg-shell-client-protocol.h"

/* Event opcodes (the client header names requests only): xdg-shell.xml. */
enum {
	EV_XDG_SURFACE_CONFIGURE = 0,
	EV_XDG_TOPLEVEL_CONFIGURE = 0,
	EV_XDG_TOPLEVEL_CLOSE = 1,
};
#define XDG_STATE_FULLSCREEN 2 /* xdg_toplevel.state.fullscreen */
#define XDG_STATE_ACTIVATED 4  /* xdg_toplevel.state.activated */

/* X windows followed at once (children of the root). */
#define MAX_WINDOWS 4096
/* Longest title or class read from a property, in bytes. */
#define MAX_TEXT 1024
/* ICCCM WM_NORMAL_HINTS flags. */
#define HINT_MIN_SIZE 16
#define HINT_MAX_SIZE 32

static const char *const atom_names[ATOM_COUNT] = {
	[ATOM_WL_SURFACE_ID] = "WL_SURFACE_ID",
	[ATOM_WM_PROTOCOLS] = "WM_PROTOCOLS",
	[ATOM_WM_DELETE_WINDOW] = "WM_DELETE_WINDOW",
	[ATOM_WM_TAKE_FOCUS] = "WM_TAKE_FOCUS",
	[ATOM_WM_STATE] = "WM_STATE",
	[ATOM_NET_WM_NAME] = "_NET_WM_NAME",
	[ATOM_UTF8_STRING] = "UTF8_STRING",
	[ATOM_NET_ACTIVE_WINDOW] = "_NET_ACTIVE_WINDOW",
	[ATOM_NET_SUPPORTED] = "_NET_SUPPORTED",
	[ATOM_NET_SUPPORTING_WM_CHECK] = "_NET_SUPPORTING_WM_CHECK",
	[ATOM_XWAYLAND_ALLOW_COMMITS] = "_XWAYLAND_ALLOW_COMMITS",
	[ATOM_CLIPBOARD] = "CLIPBOARD",
	[ATOM_TARGETS] = "TARGETS",
	[ATOM_TEXT] = "TEXT",
	[ATOM_INCR] = "INCR",
	[ATOM_BH_SELECTION] = "_BULKHEAD_SELECTION",
	[ATOM_WM_S0] = "WM_S0",
	[ATOM_NET_WM_STATE] = "_NET_WM_STATE",
	[ATOM_NET_WM_STATE_FULLSCREEN] = "_NET_WM_STATE_FULLSCREEN",
};

static void window_try_role(struct bh_xwm *xwm, struct xwm_window *win);

/* ---- windows ---- */

static struct xwm_window *window_find(struct bh_xwm *xwm, xcb_window_t id)
{
	struct xwm_window *win;
	wl_list_for_each (win, &xwm->windows, link) {
		if (win->id == id) {
			return win;
		}
	}
	return NULL;
}

static struct xwm_window *window_by_surface(struct bh_xwm *xwm, uint32_t surface)
{
	struct xwm_window *win;
	wl_list_for_each (win, &xwm->windows, link) {
		if (win->surface != 0 && win->surface == surface) {
			return win;
		}
	}
	return NULL;
}

static bool send(struct bh_xwm *xwm, uint32_t id, const struct wl_interface *iface, uint32_t op,
	const uint32_t *words, const char *const *strs)
{
	return bh_xwl_conn_send(xwm->conn, id, iface, op, words, strs);
}

static void surface_commit(struct bh_xwm *xwm, uint32_t surface)
{
	send(xwm, bh_xwl_conn_host_id(surface), &wl_surface_interface, WL_SURFACE_COMMIT, NULL,
		NULL);
}

/* Drops the host roles of win (and of the menus placed on it). */
static void window_drop_role(struct bh_xwm *xwm, struct xwm_window *win)
{
	if (win->toplevel != 0 || win->subsurface != 0) {
		struct xwm_window *child;
		wl_list_for_each (child, &xwm->windows, link) {
			if (child->role_parent == win) {
				window_drop_role(xwm, child);
			}
		}
		xwm->views--;
	}
	bool linked = bh_xwl_conn_ready(xwm->conn);
	if (win->toplevel != 0) {
		if (linked) {
			send(xwm, win->toplevel, &xdg_toplevel_interface, XDG_TOPLEVEL_DESTROY,
				NULL, NULL);
		}
		bh_xwl_conn_forget(xwm->conn, win->toplevel);
	}
	if (win->xdg_surface != 0) {
		if (linked) {
			send(xwm, win->xdg_surface, &xdg_surface_interface, XDG_SURFACE_DESTROY,
				NULL, NULL);
		}
		bh_xwl_conn_forget(xwm->conn, win->xdg_surface);
	}
	if (win->subsurface != 0) {
		if (linked) {
			send(xwm, win->subsurface, &wl_subsurface_interface, WL_SUBSURFACE_DESTROY,
				NULL, NULL);
		}
		bh_xwl_conn_forget(xwm->conn, win->subsurface);
	}
	win->toplevel = win->xdg_surface = win->subsurface = 0;
	win->role_parent = NULL;
	win->configured = false;
	if (xwm->focused == win) {
		xwm->focused = NULL;
	}
}

static void window_destroy(struct bh_xwm *xwm, struct xwm_window *win)
{
	window_drop_role(xwm, win);
	if (win->managed) {
		xwm->managed_count--;
	}
	struct xwm_window *other;
	wl_list_for_each (other, &xwm->windows, link) {
		if (other->role_parent == win) {
			other->role_parent = NULL;
		}
	}
	wl_list_remove(&win->link);
	xwm->window_count--;
	free(win->title);
	free(win->class);
	free(win);
}

/* ---- properties ---- */

/* Up to MAX_TEXT bytes of property atom (any type); NULL when unset. */
static char *property_read(
	struct bh_xwm *xwm, xcb_window_t id, xcb_atom_t atom, xcb_atom_t *type, size_t *len)
{
	xcb_get_property_cookie_t cookie =
		xcb_get_property(xwm->x, 0, id, atom, XCB_GET_PROPERTY_TYPE_ANY, 0, MAX_TEXT / 4);
	xcb_get_property_reply_t *reply = xcb_get_property_reply(xwm->x, cookie, NULL);
	if (reply == NULL) {
		return NULL;
	}
	int n = xcb_get_property_value_length(reply);
	char *value = NULL;
	if (reply->type != XCB_ATOM_NONE && n >= 0 && n <= MAX_TEXT) {
		value = malloc((size_t)n + 1);
		if (value != NULL) {
			memcpy(value, xcb_get_property_value(reply), (size_t)n);
			value[n] = '\0';
			*len = (size_t)n;
			if (type != NULL) {
				*type = reply->type;
			}
		}
	}
	free(reply);
	return value;
}

/* Text an X client gave, made fit for a Wayland string: valid UTF-8 (Latin-1
 * converted when not UTF-8), no control characters, at most 255 bytes. */
static char *text_clean(const char *in, size_t len, bool latin1)
{
	char *out = malloc(len * 2 + 1);
	if (out == NULL) {
		return NULL;
	}
	size_t o = 0;
	for (size_t i = 0; i < len && o < 255;) {
		unsigned char c = (unsigned char)in[i];
		if (c == '\0') {
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			out[o++] = ' ';
			i++;
			continue;
		}
		if (c < 0x80) {
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (latin1) {
			if (o + 2 > 255) {
				break;
			}
			out[o++] = (char)(0xc0 | (c >> 6));
			out[o++] = (char)(0x80 | (c & 0x3f));
			i++;
			continue;
		}
		size_t n = c >= 0xf0 && c < 0xf5   ? 4
			   : c >= 0xe0             ? 3
			   : c >= 0xc2 && c < 0xe0 ? 2
						   : 0;
		bool ok = n > 0 && i + n <= len && o + n <= 255;
		for (size_t k = 1; ok && k < n; k++) {
			ok = ((unsigned char)in[i + k] & 0xc0) == 0x80;
		}
		if (!ok) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, in + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

static void window_read_title(struct bh_xwm *xwm, struct xwm_window *win)
{
	size_t len = 0;
	xcb_atom_t type = 0;
	char *raw = property_read(xwm, win->id, xwm->atoms[ATOM_NET_WM_NAME], &type, &len);
	bool latin1 = false;
	if (raw == NULL) {
		raw = property_read(xwm, win->id, XCB_ATOM_WM_NAME, &type, &len);
		latin1 = raw != NULL && type == XCB_ATOM_STRING;
	}
	free(win->title);
	win->title = raw != NULL ? text_clean(raw, len, latin1) : NULL;
	free(raw);
}

static void window_read_class(struct bh_xwm *xwm, struct xwm_window *win)
{
	size_t len = 0;
	char *raw = property_read(xwm, win->id, XCB_ATOM_WM_CLASS, NULL, &len);
	free(win->class);
	win->class = NULL;
	if (raw == NULL) {
		return;
	}
	/* "instance\0class\0": the class names the app. */
	size_t first = strnlen(raw, len);
	const char *class = first + 1 < len ? raw + first + 1 : raw;
	size_t class_len = first + 1 < len ? strnlen(class, len - first - 1) : first;
	win->class = text_clean(class, class_len, true);
	free(raw);
}

static void window_read_hints(struct bh_xwm *xwm, struct xwm_window *win)
{
	size_t len = 0;
	char *raw = property_read(xwm, win->id, XCB_ATOM_WM_NORMAL_HINTS, NULL, &len);
	win->min_w = win->min_h = win->max_w = win->max_h = 0;
	if (raw != NULL && len >= 9 * 4) {
		uint32_t h[9];
		memcpy(h, raw, sizeof(h));
		if (h[0] & HINT_MIN_SIZE) {
			win->min_w = (int32_t)h[5] > 0 && h[5] < 32768 ? (int32_t)h[5] : 0;
			win->min_h = (int32_t)h[6] > 0 && h[6] < 32768 ? (int32_t)h[6] : 0;
		}
		if (h[0] & HINT_MAX_SIZE) {
			win->max_w = (int32_t)h[7] > 0 && h[7] < 32768 ? (int32_t)h[7] : 0;
			win->max_h = (int32_t)h[8] > 0 && h[8] < 32768 ? (int32_t)h[8] : 0;
		}
	}
	free(raw);
}

static void window_read_transient(struct bh_xwm *xwm, struct xwm_window *win)
{
	size_t len = 0;
	char *raw = property_read(xwm, win->id, XCB_ATOM_WM_TRANSIENT_FOR, NULL, &len);
	win->transient_for = 0;
	if (raw != NULL && len >= 4) {
		memcpy(&win->transient_for, raw, 4);
	}
	free(raw);
}

static void window_read_protocols(struct bh_xwm *xwm, struct xwm_window *win)
{
	size_t len = 0;
	char *raw = property_read(xwm, win->id, xwm->atoms[ATOM_WM_PROTOCOLS], NULL, &len);
	win->delete_window = win->take_focus = false;
	for (size_t i = 0; raw != NULL && i + 4 <= len; i += 4) {
		xcb_atom_t a;
		memcpy(&a, raw + i, 4);
		win->delete_window |= a == xwm->atoms[ATOM_WM_DELETE_WINDOW];
		win->take_focus |= a == xwm->atoms[ATOM_WM_TAKE_FOCUS];
	}
	free(raw);
}

/* The X client's wish for fullscreen, to the host (which decides). */
static void toplevel_fullscreen(struct bh_xwm *xwm, struct xwm_window *win)
{
	if (win->toplevel == 0) {
		return;
	}
	const uint32_t no_output = 0;
	if (win->fullscreen) {
		send(xwm, win->toplevel, &xdg_toplevel_interface, XDG_TOPLEVEL_SET_FULLSCREEN,
			&no_output, NULL);
	} else {
		send(xwm, win->toplevel, &xdg_toplevel_interface, XDG_TOPLEVEL_UNSET_FULLSCREEN,
			NULL, NULL);
	}
}

static void window_read_state(struct bh_xwm *xwm, struct xwm_window *win)
{
	size_t len = 0;
	char *raw = property_read(xwm, win->id, xwm->atoms[ATOM_NET_WM_STATE], NULL, &len);
	win->fullscreen = false;
	for (size_t i = 0; raw != NULL && i + 4 <= len; i += 4) {
		xcb_atom_t a;
		memcpy(&a, raw + i, 4);
		win->fullscreen |= a == xwm->atoms[ATOM_NET_WM_STATE_FULLSCREEN];
	}
	free(raw);
}

/* The host toplevel's title, app id, parent and size limits from win. */
static void toplevel_update(struct bh_xwm *xwm, struct xwm_window *win)
{
	if (win->toplevel == 0) {
		return;
	}
	const char *title[] = {win->title != NULL ? win->title : ""};
	send(xwm, win->toplevel, &xdg_toplevel_interface, XDG_TOPLEVEL_SET_TITLE, NULL, title);
	if (win->class != NULL && win->class[0] != '\0') {
		const char *app_id[] = {win->class};
		send(xwm, win->toplevel, &xdg_toplevel_interface, XDG_TOPLEVEL_SET_APP_ID, NULL,
			app_id);
	}
	struct xwm_window *parent =
		win->transient_for != 0 ? window_find(xwm, win->transient_for) : NULL;
	uint32_t parent_id = parent != NULL && parent != win ? parent->toplevel : 0;
	send(xwm, win->toplevel, &xdg_toplevel_interface, XDG_TOPLEVEL_SET_PARENT, &parent_id,
		NULL);
	uint32_t min[2] = {(uint32_t)win->min_w, (uint32_t)win->min_h};
	uint32_t max[2] = {(uint32_t)win->max_w, (uint32_t)win->max_h};
	send(xwm, win->toplevel, &xdg_toplevel_interface, XDG_TOPLEVEL_SET_MIN_SIZE, min, NULL);
	send(xwm, win->toplevel, &xdg_toplevel_interface, XDG_TOPLEVEL_SET_MAX_SIZE, max, NULL);
}

/* ---- X requests ---- */

static void set_cardinal(struct bh_xwm *xwm, xcb_window_t id, xcb_atom_t atom, xcb_atom_t type,
	const uint32_t *values, uint32_t n)
{
	xcb_change_property(xwm->x, XCB_PROP_MODE_REPLACE, id, atom, type, 32, n, values);
}

static void allow_commits(struct bh_xwm *xwm, struct xwm_window *win, bool allow)
{
	uint32_t v = allow ? 1 : 0;
	set_cardinal(
		xwm, win->id, xwm->atoms[ATOM_XWAYLAND_ALLOW_COMMITS], XCB_ATOM_CARDINAL, &v, 1);
}

static void send_protocol(struct bh_xwm *xwm, struct xwm_window *win, xcb_atom_t what)
{
	xcb_client_message_event_t ev = {
		.response_type = XCB_CLIENT_MESSAGE,
		.format = 32,
		.window = win->id,
		.type = xwm->atoms[ATOM_WM_PROTOCOLS],
	};
	ev.data.data32[0] = what;
	ev.data.data32[1] = XCB_CURRENT_TIME;
	xcb_send_event(xwm->x, 0, win->id, XCB_EVENT_MASK_NO_EVENT, (const char *)&ev);
}

static void window_raise(struct bh_xwm *xwm, struct xwm_window *win)
{
	const uint32_t above = XCB_STACK_MODE_ABOVE;
	xcb_configure_window(xwm->x, win->id, XCB_CONFIG_WINDOW_STACK_MODE, &above);
}

static void window_focus(struct bh_xwm *xwm, struct xwm_window *win)
{
	xwm->focused = win;
	xcb_set_input_focus(xwm->x, XCB_INPUT_FOCUS_POINTER_ROOT, win != NULL ? win->id : XCB_NONE,
		XCB_CURRENT_TIME);
	if (win == NULL) {
		uint32_t none = XCB_NONE;
		set_cardinal(xwm, xwm->screen->root, xwm->atoms[ATOM_NET_ACTIVE_WINDOW],
			XCB_ATOM_WINDOW, &none, 1);
		return;
	}
	if (win->take_focus) {
		send_protocol(xwm, win, xwm->atoms[ATOM_WM_TAKE_FOCUS]);
	}
	window_raise(xwm, win);
	set_cardinal(xwm, xwm->screen->root, xwm->atoms[ATOM_NET_ACTIVE_WINDOW], XCB_ATOM_WINDOW,
		&win->id, 1);
	bh_xwm_selection_focus(xwm);
}

/* Host close: WM_DELETE_WINDOW where the window speaks it, else its client
 * goes. */
static void window_close(struct bh_xwm *xwm, struct xwm_window *win)
{
	if (win->delete_window) {
		send_protocol(xwm, win, xwm->atoms[ATOM_WM_DELETE_WINDOW]);
	} else {
		xcb_kill_client(xwm->x, win->id);
	}
}

/* ---- host events ---- */

static void toplevel_dispatch(
	void *owner, uint32_t id, const struct bh_wl_msg *msg, const uint8_t *data, int fd)
{
	struct xwm_window *win = owner;
	struct bh_xwm *xwm = win->xwm;
	if (fd >= 0) {
		close(fd);
	}
	if (msg->opcode == EV_XDG_TOPLEVEL_CONFIGURE) {
		/* configure(int width, int height, array states) */
		win->pending_w = (int32_t)msg->args[0];
		win->pending_h = (int32_t)msg->args[1];
		uint32_t off = msg->args[2], len;
		memcpy(&len, data + off, 4);
		win->pending_activated = win->pending_fullscreen = false;
		for (uint32_t i = 0; i + 4 <= len; i += 4) {
			uint32_t state;
			memcpy(&state, data + off + 4 + i, 4);
			win->pending_activated |= state == XDG_STATE_ACTIVATED;
			win->pending_fullscreen |= state == XDG_STATE_FULLSCREEN;
		}
	} else if (msg->opcode == EV_XDG_TOPLEVEL_CLOSE) {
		window_close(xwm, win);
		xcb_flush(xwm->x);
	}
}

static void xdg_surface_dispatch(
	void *owner, uint32_t id, const struct bh_wl_msg *msg, const uint8_t *data, int fd)
{
	struct xwm_window *win = owner;
	struct bh_xwm *xwm = win->xwm;
	if (fd >= 0) {
		close(fd);
	}
	if (msg->opcode != EV_XDG_SURFACE_CONFIGURE) {
		return;
	}
	int32_t w = win->pending_w, h = win->pending_h;
	if (w > 0 && h > 0 && w < 32768 && h < 32768 && (w != win->width || h != win->height)) {
		const uint32_t size[] = {(uint32_t)w, (uint32_t)h};
		xcb_configure_window(
			xwm->x, win->id, XCB_CONFIG_WINDOW_WIDTH | XCB_CONFIG_WINDOW_HEIGHT, size);
	}
	if (win->pending_activated && !win->activated) {
		window_focus(xwm, win);
	} else if (!win->pending_activated && win->activated && xwm->focused == win) {
		window_focus(xwm, NULL);
	}
	win->activated = win->pending_activated;
	if (win->pending_fullscreen != win->host_fullscreen) {
		/* what X clients read of it (_NET_WM_STATE) */
		win->host_fullscreen = win->pending_fullscreen;
		xcb_atom_t state = xwm->atoms[ATOM_NET_WM_STATE_FULLSCREEN];
		xcb_change_property(xwm->x, XCB_PROP_MODE_REPLACE, win->id,
			xwm->atoms[ATOM_NET_WM_STATE], XCB_ATOM_ATOM, 32,
			win->host_fullscreen ? 1 : 0, &state);
	}
	uint32_t serial = msg->args[0];
	send(xwm, win->xdg_surface, &xdg_surface_interface, XDG_SURFACE_ACK_CONFIGURE, &serial,
		NULL);
	if (!win->configured) {
		win->configured = true;
		allow_commits(xwm, win, true);
		/* The buffer taken off before the role came back on. */
		uint32_t buffer = bh_xwl_conn_surface_buffer(xwm->conn, win->surface);
		if (win->detached && buffer != 0) {
			uint32_t surface = bh_xwl_conn_host_id(win->surface);
			const uint32_t attach[] = {bh_xwl_conn_host_id(buffer), 0, 0};
			const uint32_t damage[] = {0, 0, INT32_MAX, INT32_MAX};
			send(xwm, surface, &wl_surface_interface, WL_SURFACE_ATTACH, attach, NULL);
			send(xwm, surface, &wl_surface_interface, WL_SURFACE_DAMAGE, damage, NULL);
			surface_commit(xwm, win->surface);
		}
		win->detached = false;
	}
	xcb_flush(xwm->x);
}

/* ---- roles ---- */

static void window_make_toplevel(struct bh_xwm *xwm, struct xwm_window *win)
{
	uint32_t surface = bh_xwl_conn_host_id(win->surface);
	/* An xdg_surface may not start with a buffer: Xwayland may have
	 * committed one before the window manager heard of the surface. */
	win->detached = bh_xwl_conn_surface_has_buffer(xwm->conn, win->surface);
	if (win->detached) {
		const uint32_t none[] = {0, 0, 0};
		send(xwm, surface, &wl_surface_interface, WL_SURFACE_ATTACH, none, NULL);
		surface_commit(xwm, win->surface);
	}
	win->xdg_surface =
		bh_xwl_conn_new_id(xwm->conn, &xdg_surface_interface, xdg_surface_dispatch, win);
	win->toplevel = win->xdg_surface != 0
				? bh_xwl_conn_new_id(xwm->conn, &xdg_toplevel_interface,
					  toplevel_dispatch, win)
				: 0;
	if (win->toplevel == 0) {
		bh_xwl_conn_forget(xwm->conn, win->xdg_surface);
		win->xdg_surface = 0;
		return;
	}
	const uint32_t get_surface[] = {win->xdg_surface, surface};
	send(xwm, bh_xwl_conn_wm_base(xwm->conn), &xdg_wm_base_interface,
		XDG_WM_BASE_GET_XDG_SURFACE, get_surface, NULL);
	send(xwm, win->xdg_surface, &xdg_surface_interface, XDG_SURFACE_GET_TOPLEVEL,
		&win->toplevel, NULL);
	toplevel_update(xwm, win);
	if (win->fullscreen) {
		toplevel_fullscreen(xwm, win);
	}
	surface_commit(xwm, win->surface);
	xwm->views++;
	bh_log(BH_LOG_INFO, "X window 0x%x \"%s\" shown as a toplevel", win->id,
		win->title != NULL ? win->title : "");
}

/* The toplevel an override-redirect window (a menu) belongs to. */
static struct xwm_window *window_menu_parent(struct bh_xwm *xwm, struct xwm_window *win)
{
	struct xwm_window *t =
		win->transient_for != 0 ? window_find(xwm, win->transient_for) : NULL;
	if (t != NULL && t->toplevel != 0) {
		return t;
	}
	if (xwm->focused != NULL && xwm->focused->toplevel != 0) {
		return xwm->focused;
	}
	struct xwm_window *last = NULL, *other;
	wl_list_for_each (other, &xwm->windows, link) {
		if (other->toplevel != 0) {
			last = other; /* the list is newest first */
			break;
		}
	}
	return last;
}

static void subsurface_place(struct bh_xwm *xwm, struct xwm_window *win)
{
	struct xwm_window *parent = win->role_parent;
	const uint32_t pos[] = {(uint32_t)(win->x - parent->x), (uint32_t)(win->y - parent->y)};
	send(xwm, win->subsurface, &wl_subsurface_interface, WL_SUBSURFACE_SET_POSITION, pos, NULL);
	/* a subsurface's position applies with its parent's next commit */
	surface_commit(xwm, parent->surface);
}

static void window_make_subsurface(struct bh_xwm *xwm, struct xwm_window *win)
{
	struct xwm_window *parent = window_menu_parent(xwm, win);
	uint32_t subcompositor = bh_xwl_conn_subcompositor(xwm->conn);
	if (parent == NULL || subcompositor == 0) {
		return; /* nothing to place it on */
	}
	win->subsurface = bh_xwl_conn_new_id(xwm->conn, &wl_subsurface_interface, NULL, win);
	if (win->subsurface == 0) {
		return;
	}
	win->role_parent = parent;
	const uint32_t get[] = {win->subsurface, bh_xwl_conn_host_id(win->surface),
		bh_xwl_conn_host_id(parent->surface)};
	send(xwm, subcompositor, &wl_subcompositor_interface, WL_SUBCOMPOSITOR_GET_SUBSURFACE, get,
		NULL);
	send(xwm, win->subsurface, &wl_subsurface_interface, WL_SUBSURFACE_SET_DESYNC, NULL, NULL);
	subsurface_place(xwm, win);
	surface_commit(xwm, win->surface);
	xwm->views++;
	bh_log(BH_LOG_INFO, "X window 0x%x (override-redirect) placed on 0x%x at %d,%d", win->id,
		parent->id, win->x - parent->x, win->y - parent->y);
}

static void window_try_role(struct bh_xwm *xwm, struct xwm_window *win)
{

	if (win->toplevel != 0 || win->subsurface != 0 || win->surface == 0 || !win->mapped ||
		!bh_xwl_conn_ready(xwm->conn) ||
		!bh_xwl_conn_surface_live(xwm->conn, win->surface)) {
		return;
	}
	if (xwm->views >= BH_XWM_MAX_VIEWS) {
		if (!xwm->flood_logged) {
			bh_log(BH_LOG_WARN,
				"X window manager: %d X windows are shown already; more are not",
				BH_XWM_MAX_VIEWS);
			xwm->flood_logged = true;
		}
		return;
	}
	if (win->override_redirect) {
		window_make_subsurface(xwm, win);
	} else if (win->managed) {
		window_make_toplevel(xwm, win);
	}
}

/* ---- X events ---- */

static void handle_create(struct bh_xwm *xwm, xcb_create_notify_event_t *ev)
{
	const xcb_setup_t *setup = xcb_get_setup(xwm->x);
	bool ours = (ev->window & ~setup->resource_id_mask) == setup->resource_id_base;
	if (ev->parent != xwm->screen->root || ours || window_find(xwm, ev->window) != NULL) {
		return;
	}
	if (xwm->window_count >= MAX_WINDOWS) {
		if (!xwm->flood_logged) {
			bh_log(BH_LOG_WARN,
				"X window manager: more than %d X windows; the rest "
				"are not managed",
				MAX_WINDOWS);
			xwm->flood_logged = true;
		}
		return;
	}
	struct xwm_window *win = calloc(1, sizeof(*win));
	if (win == NULL) {
		return;
	}
	win->xwm = xwm;
	win->id = ev->window;
	win->x = ev->x;
	win->y = ev->y;
	win->width = ev->width;
	win->height = ev->height;
	win->override_redirect = ev->override_redirect;
	wl_list_insert(&xwm->windows, &win->link);
	xwm->window_count++;
	const uint32_t mask = XCB_EVENT_MASK_PROPERTY_CHANGE | XCB_EVENT_MASK_FOCUS_CHANGE;
	xcb_change_window_attributes(xwm->x, win->id, XCB_CW_EVENT_MASK, &mask);
}

static void handle_map_request(struct bh_xwm *xwm, xcb_map_request_event_t *ev)
{
	struct xwm_window *win = window_find(xwm, ev->window);
	if (win == NULL) {
		/* not followed (over the limit): it maps, unshown */
		xcb_map_window(xwm->x, ev->window);
		return;
	}
	/* Every mapped X window costs Xwayland a pixmap, a shm pool on the
	 * host: past the limit a flood stays unmapped rather than end
	 * Xwayland's connection at the host's pool limit. */
	if (xwm->managed_count >= BH_XWM_MAX_VIEWS) {
		if (!xwm->flood_logged) {
			bh_log(BH_LOG_WARN,
				"X window manager: %d X windows are shown already; more are not",
				BH_XWM_MAX_VIEWS);
			xwm->flood_logged = true;
		}
		return;
	}
	xwm->managed_count++;
	window_read_title(xwm, win);
	window_read_class(xwm, win);
	window_read_hints(xwm, win);
	window_read_transient(xwm, win);
	window_read_protocols(xwm, win);
	window_read_state(xwm, win);
	win->managed = true;
	/* No commits until the host has configured its toplevel. */
	allow_commits(xwm, win, false);
	const uint32_t state[] = {1, XCB_NONE}; /* NormalState */
	set_cardinal(xwm, win->id, xwm->atoms[ATOM_WM_STATE], xwm->atoms[ATOM_WM_STATE], state, 2);
	xcb_map_window(xwm->x, win->id);
}

static void handle_map(struct bh_xwm *xwm, xcb_map_notify_event_t *ev)
{
	struct xwm_window *win = window_find(xwm, ev->window);
	if (win == NULL) {
		return;
	}
	win->mapped = true;
	win->override_redirect = ev->override_redirect;
	if (win->override_redirect) {
		window_read_transient(xwm, win);
	}
	window_try_role(xwm, win);
}

static void handle_unmap(struct bh_xwm *xwm, xcb_unmap_notify_event_t *ev)
{
	struct xwm_window *win = window_find(xwm, ev->window);
	if (win == NULL) {
		return;
	}
	window_drop_role(xwm, win);
	win->mapped = false;
	win->surface = 0; /* Xwayland makes a new one at the next map */
	if (win->managed) {
		win->managed = false;
		xwm->managed_count--;
		const uint32_t state[] = {0, XCB_NONE}; /* WithdrawnState */
		set_cardinal(xwm, win->id, xwm->atoms[ATOM_WM_STATE], xwm->atoms[ATOM_WM_STATE],
			state, 2);
	}
}

static void handle_configure_request(struct bh_xwm *xwm, xcb_configure_request_event_t *ev)
{
	/* X clients place and size themselves; the host decides where the
	 * toplevel really is, and its configures resize. */
	uint32_t values[7];
	int n = 0;
	uint16_t mask = ev->value_mask &
			(XCB_CONFIG_WINDOW_X | XCB_CONFIG_WINDOW_Y | XCB_CONFIG_WINDOW_WIDTH |
				XCB_CONFIG_WINDOW_HEIGHT | XCB_CONFIG_WINDOW_BORDER_WIDTH);
	if (mask & XCB_CONFIG_WINDOW_X) {
		values[n++] = (uint32_t)(int32_t)ev->x;
	}
	if (mask & XCB_CONFIG_WINDOW_Y) {
		values[n++] = (uint32_t)(int32_t)ev->y;
	}
	if (mask & XCB_CONFIG_WINDOW_WIDTH) {
		values[n++] = ev->width;
	}
	if (mask & XCB_CONFIG_WINDOW_HEIGHT) {
		values[n++] = ev->height;
	}
	if (mask & XCB_CONFIG_WINDOW_BORDER_WIDTH) {
		values[n++] = 0;
	}
	xcb_configure_window(xwm->x, ev->window, mask, values);
}

static void handle_configure(struct bh_xwm *xwm, xcb_configure_notify_event_t *ev)
{
	struct xwm_window *win = window_find(xwm, ev->window);
	if (win == NULL) {
		return;
	}
	bool moved = win->x != ev->x || win->y != ev->y;
	win->x = ev->x;
	win->y = ev->y;
	win->width = ev->width;
	win->height = ev->height;
	win->override_redirect = ev->override_redirect;
	if (moved && win->subsurface != 0 && win->role_parent != NULL) {
		subsurface_place(xwm, win);
	}
	if (moved && win->toplevel != 0) {
		/* its menus keep their place on it */
		struct xwm_window *child;
		wl_list_for_each (child, &xwm->windows, link) {
			if (child->role_parent == win && child->subsurface != 0) {
				subsurface_place(xwm, child);
			}
		}
	}
}

static void handle_property(struct bh_xwm *xwm, xcb_property_notify_event_t *ev)
{
	struct xwm_window *win = window_find(xwm, ev->window);
	if (win == NULL) {
		return;
	}
	xcb_atom_t a = ev->atom;
	if (a == XCB_ATOM_WM_NAME || a == xwm->atoms[ATOM_NET_WM_NAME]) {
		window_read_title(xwm, win);
	} else if (a == XCB_ATOM_WM_CLASS) {
		window_read_class(xwm, win);
	} else if (a == XCB_ATOM_WM_NORMAL_HINTS) {
		window_read_hints(xwm, win);
	} else if (a == XCB_ATOM_WM_TRANSIENT_FOR) {
		window_read_transient(xwm, win);
	} else if (a == xwm->atoms[ATOM_WM_PROTOCOLS]) {
		window_read_protocols(xwm, win);
		return;
	} else {
		return;
	}
	toplevel_update(xwm, win);
}

/* _NET_WM_STATE requests (EWMH): add, remove or toggle fullscreen. */
static void handle_state_request(struct bh_xwm *xwm, xcb_client_message_event_t *ev)
{
	struct xwm_window *win = window_find(xwm, ev->window);
	xcb_atom_t fs = xwm->atoms[ATOM_NET_WM_STATE_FULLSCREEN];
	if (win == NULL || ev->format != 32 ||
		(ev->data.data32[1] != fs && ev->data.data32[2] != fs)) {
		return;
	}
	uint32_t action = ev->data.data32[0];
	bool want = action == 1 ? true : action == 0 ? false : !win->fullscreen;
	if (action > 2 || want == win->fullscreen) {
		return;
	}
	win->fullscreen = want;
	toplevel_fullscreen(xwm, win);
	if (win->toplevel != 0) {
		surface_commit(xwm, win->surface);
	}
}

/* Only Xwayland names surfaces: a client's SendEvent (synthetic) could
 * name any surface of the connection. State requests come by SendEvent. */
static void handle_client_message(
	struct bh_xwm *xwm, xcb_client_message_event_t *ev, bool synthetic)
{
	if (ev->type == xwm->atoms[ATOM_NET_WM_STATE]) {
		handle_state_request(xwm, ev);
		return;
	}
	if (ev->type != xwm->atoms[ATOM_WL_SURFACE_ID] || ev->format != 32 || synthetic) {
		return;
	}
	struct xwm_window *win = window_find(xwm, ev->window);
	if (win == NULL) {
		return;
	}
	uint32_t surface = ev->data.data32[0];
	if (surface == 0 || surface >= 0xff000000u) {
		return;
	}
	/* A surface named twice is one window's: the newer naming wins. */
	struct xwm_window *other = window_by_surface(xwm, surface);
	if (other != NULL && other != win) {
		window_drop_role(xwm, other);
		other->surface = 0;
	}
	window_drop_role(xwm, win);
	win->surface = surface;
	window_try_role(xwm, win);
}

static void handle_event(struct bh_xwm *xwm, xcb_generic_event_t *ev)
{
	uint8_t type = ev->response_type & 0x7f;
	switch (type) {
	case XCB_CREATE_NOTIFY:
		handle_create(xwm, (xcb_create_notify_event_t *)ev);
		break;
	case XCB_DESTROY_NOTIFY: {
		xcb_destroy_notify_event_t *d = (xcb_destroy_notify_event_t *)ev;
		struct xwm_window *win = window_find(xwm, d->window);
		if (win != NULL) {
			window_destroy(xwm, win);
		}
		break;
	}
	case XCB_MAP_REQUEST:
		handle_map_request(xwm, (xcb_map_request_event_t *)ev);
		break;
	case XCB_MAP_NOTIFY:
		handle_map(xwm, (xcb_map_notify_event_t *)ev);
		break;
	case XCB_UNMAP_NOTIFY:
		handle_unmap(xwm, (xcb_unmap_notify_event_t *)ev);
		break;
	case XCB_CONFIGURE_REQUEST:
		handle_configure_request(xwm, (xcb_configure_request_event_t *)ev);
		break;
	case XCB_CONFIGURE_NOTIFY:
		handle_configure(xwm, (xcb_configure_notify_event_t *)ev);
		break;
	case XCB_PROPERTY_NOTIFY:
		handle_property(xwm, (xcb_property_notify_event_t *)ev);
		break;
	case XCB_CLIENT_MESSAGE:
		handle_client_message(
			xwm, (xcb_client_message_event_t *)ev, (ev->response_type & 0x80) != 0);
		break;
	case 0: {
		/* an error of a request of ours: mostly a window gone meanwhile */
		xcb_generic_error_t *e = (xcb_generic_error_t *)ev;
		bh_log(BH_LOG_DEBUG, "X error %u of request %u.%u", e->error_code, e->major_code,
			e->minor_code);
		break;
	}
	default:
		bh_xwm_selection_event(xwm, ev);
		break;
	}
}

static void xwm_disconnect(struct bh_xwm *xwm)
{
	if (xwm->source != NULL) {
		wl_event_source_remove(xwm->source);
		xwm->source = NULL;
	}
	bh_xwm_selection_finish(xwm);
	if (xwm->x != NULL) {
		xcb_disconnect(xwm->x);
		xwm->x = NULL;
	}
}

static int xwm_handle_x(int fd, uint32_t mask, void *data)
{
	struct bh_xwm *xwm = data;
	xcb_generic_event_t *ev;
	while (xwm->x != NULL && (ev = xcb_poll_for_event(xwm->x)) != NULL) {
		handle_event(xwm, ev);
		free(ev);
	}
	if (xwm->x == NULL || xcb_connection_has_error(xwm->x)) {
		bh_log(BH_LOG_WARN, "X window manager: the connection to Xwayland ended");
		xwm_disconnect(xwm);
		return 0;
	}
	xcb_flush(xwm->x);
	return 0;
}

/* ---- Xwayland's Wayland connection ---- */

static void conn_surface_created(void *user, uint32_t surface)
{
	struct bh_xwm *xwm = user;
	struct xwm_window *win = window_by_surface(xwm, surface);
	if (win != NULL && xwm->x != NULL) {
		window_try_role(xwm, win);
		xcb_flush(xwm->x);
	}
}

static void conn_surface_destroying(void *user, uint32_t surface)
{
	struct bh_xwm *xwm = user;
	struct xwm_window *win = window_by_surface(xwm, surface);
	if (win != NULL) {
		window_drop_role(xwm, win);
		win->surface = 0;
	}
}

static void conn_pointer_enter(void *user, uint32_t surface)
{
	struct bh_xwm *xwm = user;
	struct xwm_window *win = window_by_surface(xwm, surface);
	/* Windows overlap in X's root, not on the host: the one under the host
	 * pointer goes on top, so X finds it under the pointer's X position. */
	if (win != NULL && win->toplevel != 0 && xwm->x != NULL) {
		window_raise(xwm, win);
		xcb_flush(xwm->x);
	}
}

static void conn_ready(void *user)
{
	struct bh_xwm *xwm = user;
	if (xwm->x == NULL) {
		return;
	}
	struct xwm_window *win;
	wl_list_for_each_reverse (win, &xwm->windows, link) {
		window_try_role(xwm, win);
	}
	bh_xwm_selection_ready(xwm);
	xcb_flush(xwm->x);
}

static void conn_closed(void *user)
{
	struct bh_xwm *xwm = user;
	struct xwm_window *win;
	wl_list_for_each (win, &xwm->windows, link) {
		window_drop_role(xwm, win);
	}
	bh_xwm_selection_conn_closed(xwm);
}

static const struct bh_xwl_listener conn_listener = {
	.surface_created = conn_surface_created,
	.surface_destroying = conn_surface_destroying,
	.pointer_enter = conn_pointer_enter,
	.ready = conn_ready,
	.closed = conn_closed,
};

/* ---- life ---- */

struct bh_xwm *bh_xwm_create(struct wl_event_loop *loop)
{
	struct bh_xwm *xwm = calloc(1, sizeof(*xwm));
	if (xwm == NULL) {
		return NULL;
	}
	xwm->loop = loop;
	wl_list_init(&xwm->windows);
	xwm->conn = bh_xwl_conn_create(&conn_listener, xwm);
	if (xwm->conn == NULL) {
		free(xwm);
		return NULL;
	}
	return xwm;
}

struct bh_xwl_conn *bh_xwm_conn(struct bh_xwm *xwm)
{
	return xwm->conn;
}

bool bh_xwm_alive(const struct bh_xwm *xwm)
{
	return xwm->x != NULL && !xcb_connection_has_error(xwm->x);
}

bool bh_xwm_connect(struct bh_xwm *xwm, int wm_fd)
{
	xwm->x = xcb_connect_to_fd(wm_fd, NULL);
	if (xcb_connection_has_error(xwm->x)) {
		bh_log(BH_LOG_ERROR, "X window manager: could not connect to Xwayland");
		xwm_disconnect(xwm);
		return false;
	}
	xwm->screen = xcb_setup_roots_iterator(xcb_get_setup(xwm->x)).data;
	xcb_intern_atom_cookie_t cookies[ATOM_COUNT];
	for (int i = 0; i < ATOM_COUNT; i++) {
		cookies[i] = xcb_intern_atom(xwm->x, 0, strlen(atom_names[i]), atom_names[i]);
	}
	for (int i = 0; i < ATOM_COUNT; i++) {
		xcb_intern_atom_reply_t *r = xcb_intern_atom_reply(xwm->x, cookies[i], NULL);
		xwm->atoms[i] = r != NULL ? r->atom : XCB_ATOM_NONE;
		free(r);
	}
	xcb_window_t root = xwm->screen->root;
	const uint32_t mask = XCB_EVENT_MASK_SUBSTRUCTURE_REDIRECT |
			      XCB_EVENT_MASK_SUBSTRUCTURE_NOTIFY | XCB_EVENT_MASK_PROPERTY_CHANGE;
	xcb_void_cookie_t redirect =
		xcb_change_window_attributes_checked(xwm->x, root, XCB_CW_EVENT_MASK, &mask);
	xcb_generic_error_t *error = xcb_request_check(xwm->x, redirect);
	if (error != NULL) {
		bh_log(BH_LOG_ERROR, "X window manager: another window manager runs on Xwayland");
		free(error);
		xwm_disconnect(xwm);
		return false;
	}
	/* Xwayland gives a wl_surface only to windows redirected this way. */
	xcb_composite_redirect_subwindows(xwm->x, root, XCB_COMPOSITE_REDIRECT_MANUAL);
	/* _NET_SUPPORTING_WM_CHECK: toolkits look for a window manager. */
	xwm->check_window = xcb_generate_id(xwm->x);
	xcb_create_window(xwm->x, XCB_COPY_FROM_PARENT, xwm->check_window, root, 0, 0, 1, 1, 0,
		XCB_WINDOW_CLASS_INPUT_OUTPUT, XCB_COPY_FROM_PARENT, 0, NULL);
	set_cardinal(xwm, root, xwm->atoms[ATOM_NET_SUPPORTING_WM_CHECK], XCB_ATOM_WINDOW,
		&xwm->check_window, 1);
	set_cardinal(xwm, xwm->check_window, xwm->atoms[ATOM_NET_SUPPORTING_WM_CHECK],
		XCB_ATOM_WINDOW, &xwm->check_window, 1);
	xcb_change_property(xwm->x, XCB_PROP_MODE_REPLACE, xwm->check_window,
		xwm->atoms[ATOM_NET_WM_NAME], xwm->atoms[ATOM_UTF8_STRING], 8, 8, "bulkhead");
	const uint32_t supported[] = {xwm->atoms[ATOM_NET_ACTIVE_WINDOW],
		xwm->atoms[ATOM_NET_SUPPORTING_WM_CHECK], xwm->atoms[ATOM_NET_WM_NAME],
		xwm->atoms[ATOM_NET_WM_STATE], xwm->atoms[ATOM_NET_WM_STATE_FULLSCREEN]};
	set_cardinal(xwm, root, xwm->atoms[ATOM_NET_SUPPORTED], XCB_ATOM_ATOM, supported, 5);
	/* Owning WM_S0 says a window manager runs: Xwayland (started with -wm)
	 * accepts X clients only from then on. */
	xcb_set_selection_owner(
		xwm->x, xwm->check_window, xwm->atoms[ATOM_WM_S0], XCB_CURRENT_TIME);
	bh_xwm_selection_init(xwm);
	xcb_flush(xwm->x);
	xwm->source = wl_event_loop_add_fd(
		xwm->loop, xcb_get_file_descriptor(xwm->x), WL_EVENT_READABLE, xwm_handle_x, xwm);
	if (xwm->source == NULL) {
		xwm_disconnect(xwm);
		return false;
	}
	bh_log(BH_LOG_INFO, "X window manager: managing Xwayland's windows");
	/* Events that came with the replies above. */
	xwm_handle_x(-1, 0, xwm);
	return xwm->x != NULL;
}

void bh_xwm_destroy(struct bh_xwm *xwm)
{
	if (xwm == NULL) {
		return;
	}
	struct xwm_window *win, *tmp;
	wl_list_for_each_safe (win, tmp, &xwm->windows, link) {
		window_destroy(xwm, win);
	}
	xwm_disconnect(xwm);
	bh_xwl_conn_destroy(xwm->conn);
	free(xwm);
}
