/* The X window manager of the guest's Xwayland: an X client of its own
 * (xcb, on Xwayland's -wm socket) that gives each mapped X top-level an
 * xdg_toplevel on the host and each override-redirect window (menus,
 * tooltips) a subsurface of its parent, through objects it adds on
 * Xwayland's Wayland connection (xwl_conn.h). */
#ifndef GUEST_AGENT_XWM_H
#define GUEST_AGENT_XWM_H

#include <stdbool.h>

struct wl_event_loop;
struct bh_xwm;
struct bh_xwl_conn;

/* Most X top-levels mapped (and shown on the host) at once; more stay
 * unmapped (a flood of top-levels shows this many). Each costs Xwayland a
 * shm pool or two of the host's per-client limit (256). */
#define BH_XWM_MAX_VIEWS 64

struct bh_xwm *bh_xwm_create(struct wl_event_loop *loop);
void bh_xwm_destroy(struct bh_xwm *xwm);
/* The Wayland side, for the relay to adopt with Xwayland's connection. */
struct bh_xwl_conn *bh_xwm_conn(struct bh_xwm *xwm);
/* The X side, once Xwayland is ready: wm_fd (taken) is its -wm socket.
 * False when the connection fails (logged). */
bool bh_xwm_connect(struct bh_xwm *xwm, int wm_fd);
/* True while the X connection works. */
bool bh_xwm_alive(const struct bh_xwm *xwm);

#endif
