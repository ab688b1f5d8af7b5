/* The guest's X server: a rootless Xwayland the agent starts, as the guest
 * user, when the first X11 client connects to the display socket the agent
 * listens on, and starts again at the next connection after it ended. */
#ifndef GUEST_AGENT_XWAYLAND_H
#define GUEST_AGENT_XWAYLAND_H

#include <stdbool.h>
#include <sys/types.h>

struct bh_agent;
struct bh_relay_guest;
struct bh_xwayland;

struct bh_xwayland *bh_xwayland_create(struct bh_agent *agent, struct bh_relay_guest *relay);
/* Stops the server and removes the display's sockets and lock. */
void bh_xwayland_destroy(struct bh_xwayland *xw);
/* The host's word at each hello (the tag's xwayland = on|off): on takes a
 * free display (:0 when it can) and listens on it; off stops the server
 * and gives the display up. */
void bh_xwayland_set_enabled(struct bh_xwayland *xw, bool enabled);
/* DISPLAY for guest apps (":N"), NULL while X11 is off. */
const char *bh_xwayland_display(const struct bh_xwayland *xw);
/* A child was reaped: true when it was the X server. */
bool bh_xwayland_reaped(struct bh_xwayland *xw, pid_t pid, int status);

#endif
