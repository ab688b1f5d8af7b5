/* What the X window manager's files (xwm.c, xwm_selection.c) share. */
#ifndef GUEST_AGENT_XWM_INTERNAL_H
#define GUEST_AGENT_XWM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <wayland-util.h>
#include <xcb/xcb.h>

struct bh_xwl_conn;
struct wl_event_loop;
struct wl_event_source;

enum xwm_atom {
	ATOM_WL_SURFACE_ID,
	ATOM_WM_PROTOCOLS,
	ATOM_WM_DELETE_WINDOW,
	ATOM_WM_TAKE_FOCUS,
	ATOM_WM_STATE,
	ATOM_NET_WM_NAME,
	ATOM_UTF8_STRING,
	ATOM_NET_ACTIVE_WINDOW,
	ATOM_NET_SUPPORTED,
	ATOM_NET_SUPPORTING_WM_CHECK,
	ATOM_XWAYLAND_ALLOW_COMMITS,
	ATOM_CLIPBOARD,
	ATOM_TARGETS,
	ATOM_TEXT,
	ATOM_INCR,
	ATOM_BH_SELECTION,
	ATOM_WM_S0,
	ATOM_NET_WM_STATE,
	ATOM_NET_WM_STATE_FULLSCREEN,
	ATOM_COUNT,
};

struct bh_xwm;

/* One child of the root. Host ids of its role objects; 0 = none. */
struct xwm_window {
	struct wl_list link; /* bh_xwm.windows, newest first */
	struct bh_xwm *xwm;
	xcb_window_t id;
	int16_t x, y;
	uint16_t width, height;
	bool override_redirect;
	bool managed; /* mapped through a MapRequest */
	bool mapped;
	uint32_t surface; /* Xwayland's wl_surface (guest id), 0 = not named yet */
	uint32_t xdg_surface, toplevel, subsurface;
	struct xwm_window *role_parent; /* a subsurface's toplevel */
	bool configured;                /* the first configure was acked */
	bool detached;                  /* its buffer was taken off for the role */
	char *title, *class;
	xcb_window_t transient_for;
	bool delete_window, take_focus;
	int32_t min_w, min_h, max_w, max_h;
	int32_t pending_w, pending_h;
	bool pending_activated, activated;
	bool fullscreen;                  /* the X client asks for it */
	bool pending_fullscreen, host_fullscreen; /* the host's state */
};

struct xwm_selection; /* xwm_selection.c */

struct bh_xwm {
	struct wl_event_loop *loop;
	struct bh_xwl_conn *conn;
	xcb_connection_t *x;
	xcb_screen_t *screen;
	struct wl_event_source *source;
	xcb_atom_t atoms[ATOM_COUNT];
	xcb_window_t check_window;
	struct wl_list windows;
	int window_count;
	int views;         /* windows with a host role */
	int managed_count; /* windows mapped through a MapRequest */
	bool flood_logged;
	struct xwm_window *focused;
	struct xwm_selection *selection;
};

/* xwm_selection.c: X selections owned by X clients become the tag's
 * selection on the host. */
void bh_xwm_selection_init(struct bh_xwm *xwm);
void bh_xwm_selection_finish(struct bh_xwm *xwm);
/* An X event the window manager does not handle itself. */
void bh_xwm_selection_event(struct bh_xwm *xwm, xcb_generic_event_t *ev);
/* An X window got the focus: a serial to set the host selection with. */
void bh_xwm_selection_focus(struct bh_xwm *xwm);
void bh_xwm_selection_conn_closed(struct bh_xwm *xwm);
/* Xwayland's connection has the globals: the data device can be made. */
void bh_xwm_selection_ready(struct bh_xwm *xwm);

#endif
