/* Who a wl_client is: a host client, or a tag's guest client or proxy. */
#ifndef BH_COMPOSITOR_CLIENT_H
#define BH_COMPOSITOR_CLIENT_H

#include <stdbool.h>
#include <wayland-server-core.h>

struct bh_tag;

/* The mark of a connection the compositor made for a tag; host clients
 * have none. */
struct bh_client {
	struct wl_listener destroy;
	struct bh_tag *tag;
	bool control; /* the proxy's own connection */
};

/* Marks client as tag's (its proxy's when control); the mark lives as
 * long as the client. NULL when out of memory. */
struct bh_client *bh_client_mark(struct wl_client *client, struct bh_tag *tag, bool control);
/* The mark, or NULL for a host client. */
struct bh_client *bh_client_get(struct wl_client *client);
/* The tag of a guest client; NULL for host clients and proxies. */
struct bh_tag *bh_client_tag(struct wl_client *client);

#endif
