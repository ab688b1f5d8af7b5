/* Client identity: a wl_client is a host client unless the compositor
 * itself made its connection for a tag (vm_manager.c). The mark is a
 * destroy listener on the wl_client, found again with
 * wl_client_get_destroy_listener, so it lives exactly as long as the
 * client and no client can set or change it. */
#include <stdlib.h>

#include "compositor/client.h"

static void client_handle_destroy(struct wl_listener *listener, void *data)
{
	struct bh_client *c = wl_container_of(listener, c, destroy);
	wl_list_remove(&c->destroy.link);
	free(c);
}

struct bh_client *bh_client_get(struct wl_client *client)
{
	struct wl_listener *l = wl_client_get_destroy_listener(client, client_handle_destroy);
	if (l == NULL) {
		return NULL;
	}
	struct bh_client *c = wl_container_of(l, c, destroy);
	return c;
}

struct bh_tag *bh_client_tag(struct wl_client *client)
{
	struct bh_client *c = bh_client_get(client);
	return c != NULL && !c->control ? c->tag : NULL;
}

struct bh_client *bh_client_mark(struct wl_client *client, struct bh_tag *tag, bool control)
{
	struct bh_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->tag = tag;
	c->control = control;
	c->destroy.notify = client_handle_destroy;
	wl_client_add_destroy_listener(client, &c->destroy);
	return c;
}
