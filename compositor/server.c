/* The server: backend, outputs, the globals, and who each client is.
 *
 * Identity: a wl_client is a host client unless the compositor itself made
 * its connection for a tag (tags.c, through bulkhead_vm_manager_v1). The
 * mark is a destroy listener on the wl_client, found again with
 * wl_client_get_destroy_listener, so it lives exactly as long as the client. */
#include <stdlib.h>
#include <string.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_data_control_v1.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_export_dmabuf_v1.h>
#include <wlr/types/wlr_gamma_control_v1.h>
#include <wlr/types/wlr_idle.h>
#include <wlr/types/wlr_input_inhibitor.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_pointer_constraints_v1.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_primary_selection_v1.h>
#include <wlr/types/wlr_relative_pointer_v1.h>
#include <wlr/types/wlr_screencopy_v1.h>
#include <wlr/types/wlr_viewporter.h>
#include <wlr/types/wlr_virtual_keyboard_v1.h>
#include <wlr/types/wlr_virtual_pointer_v1.h>
#include <wlr/types/wlr_xdg_activation_v1.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_output_v1.h>

#include "common/log.h"
#include "common/allowlist.h"
#include "compositor/server.h"

static void client_destroyed(struct wl_listener *listener, void *data)
{
	struct bh_client *c = wl_container_of(listener, c, destroy);
	wl_list_remove(&c->destroy.link);
	free(c);
}

struct bh_client *bh_client_get(struct wl_client *client)
{
	struct wl_listener *l = wl_client_get_destroy_listener(client, client_destroyed);
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
	c->destroy.notify = client_destroyed;
	wl_client_add_destroy_listener(client, &c->destroy);
	return c;
}

/* What a tagged client may see: the globals guest apps need
 * (common/allowlist.h, the list the proxy filters with too), and nothing
 * that reads the screen, injects input, sees other clients or controls the
 * session. */
bool bh_guest_global_allowed(const char *interface)
{
	return bh_guest_global_find(interface) != NULL;
}

static bool global_filter(const struct wl_client *client, const struct wl_global *global,
	void *data)
{
	struct bh_server *server = data;
	const char *name = wl_global_get_interface(global)->name;
	struct bh_client *c = bh_client_get((struct wl_client *)client);
	if (global == server->vm_manager) {
		/* Only a proxy's own connection sees the private protocol. */
		return c != NULL && c->control;
	}
	if (c == NULL) {
		return true; /* a host client */
	}
	if (c->control) {
		return false; /* the proxy needs nothing but the manager */
	}
	return bh_guest_global_allowed(name);
}

/* Outputs */

struct bh_output {
	struct wl_list link;
	struct bh_server *server;
	struct wlr_output *output;
	struct wl_listener frame, destroy;
};

static void output_frame(struct wl_listener *listener, void *data)
{
	struct bh_output *output = wl_container_of(listener, output, frame);
	struct wlr_scene_output *scene_output =
		wlr_scene_get_scene_output(output->server->scene, output->output);
	if (scene_output == NULL) {
		return;
	}
	wlr_scene_output_commit(scene_output);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	wlr_scene_output_send_frame_done(scene_output, &now);
}

static void output_destroy(struct wl_listener *listener, void *data)
{
	struct bh_output *output = wl_container_of(listener, output, destroy);
	wl_list_remove(&output->frame.link);
	wl_list_remove(&output->destroy.link);
	wl_list_remove(&output->link);
	free(output);
}

static void new_output(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, new_output);
	struct wlr_output *wlr_output = data;
	wlr_output_init_render(wlr_output, server->allocator, server->renderer);
	if (!wl_list_empty(&wlr_output->modes)) {
		wlr_output_set_mode(wlr_output, wlr_output_preferred_mode(wlr_output));
	} else if (getenv("BULKHEAD_OUTPUT_SIZE") != NULL) {
		int w = 0, h = 0;
		if (sscanf(getenv("BULKHEAD_OUTPUT_SIZE"), "%dx%d", &w, &h) == 2 && w > 0 &&
			h > 0 && w <= 8192 && h <= 8192) {
			wlr_output_set_custom_mode(wlr_output, w, h, 0);
		}
	}
	wlr_output_enable(wlr_output, true);
	if (!wlr_output_commit(wlr_output)) {
		bh_log(BH_LOG_ERROR, "output %s: cannot enable it", wlr_output->name);
		return;
	}
	struct bh_output *output = calloc(1, sizeof(*output));
	if (output == NULL) {
		return;
	}
	output->server = server;
	output->output = wlr_output;
	output->frame.notify = output_frame;
	wl_signal_add(&wlr_output->events.frame, &output->frame);
	output->destroy.notify = output_destroy;
	wl_signal_add(&wlr_output->events.destroy, &output->destroy);
	wl_list_insert(&server->outputs, &output->link);
	wlr_output_layout_add_auto(server->layout, wlr_output);
	wlr_output_create_global(wlr_output);
	bh_log(BH_LOG_INFO, "output %s: %dx%d", wlr_output->name, wlr_output->width,
		wlr_output->height);
	bh_status_update(server);
}

/* Decorations: always server side; a client that asks for its own gets
 * server side anyway (and is framed whatever it draws). */

struct bh_decoration {
	struct wlr_xdg_toplevel_decoration_v1 *decoration;
	struct wl_listener request_mode, destroy;
};

static void decoration_request_mode(struct wl_listener *listener, void *data)
{
	struct bh_decoration *d = wl_container_of(listener, d, request_mode);
	wlr_xdg_toplevel_decoration_v1_set_mode(d->decoration,
		WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
}

static void decoration_destroy(struct wl_listener *listener, void *data)
{
	struct bh_decoration *d = wl_container_of(listener, d, destroy);
	wl_list_remove(&d->request_mode.link);
	wl_list_remove(&d->destroy.link);
	free(d);
}

static void new_decoration(struct wl_listener *listener, void *data)
{
	struct wlr_xdg_toplevel_decoration_v1 *decoration = data;
	struct bh_decoration *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		return;
	}
	d->decoration = decoration;
	d->request_mode.notify = decoration_request_mode;
	wl_signal_add(&decoration->events.request_mode, &d->request_mode);
	d->destroy.notify = decoration_destroy;
	wl_signal_add(&decoration->events.destroy, &d->destroy);
	decoration_request_mode(&d->request_mode, NULL);
}

/* xdg-activation: a guest cannot take the focus by itself. */
static void request_activate(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, request_activate);
	struct wlr_xdg_activation_v1_request_activate_event *event = data;
	struct bh_tag *tag = bh_client_tag(wl_resource_get_client(event->surface->resource));
	if (tag != NULL) {
		bh_log(BH_LOG_WARN, "tag %s: a guest window asked for the focus; refused", tag->name);
		return;
	}
	if (!wlr_surface_is_xdg_surface(event->surface)) {
		return;
	}
	struct wlr_xdg_surface *xdg = wlr_xdg_surface_from_wlr_surface(event->surface);
	struct bh_view *view;
	wl_list_for_each (view, &server->views, link) {
		if (view->xdg == xdg && view->mapped) {
			bh_view_focus(view);
		}
	}
}

/* Which client a set_selection comes from: wlroots' selection events do not
 * say, so the request is noted on its way in. */
static void protocol_logger(void *data, enum wl_protocol_logger_type type,
	const struct wl_protocol_logger_message *message)
{
	struct bh_server *server = data;
	if (type == WL_PROTOCOL_LOGGER_REQUEST && message->message->name[0] == 's' &&
		strcmp(message->message->name, "set_selection") == 0) {
		server->selection_client = wl_resource_get_client(message->resource);
	}
}

bool bh_server_init(struct bh_server *server)
{
	server->display = wl_display_create();
	server->loop = wl_display_get_event_loop(server->display);
	wl_list_init(&server->outputs);
	wl_list_init(&server->keyboards);
	wl_list_init(&server->views);
	wl_list_init(&server->tags);
	wl_display_set_global_filter(server->display, global_filter, server);
	server->logger = wl_display_add_protocol_logger(server->display, protocol_logger, server);

	server->backend = wlr_backend_autocreate(server->display);
	if (server->backend == NULL) {
		bh_log(BH_LOG_ERROR, "cannot create a backend (no display, no seat and no "
				     "WLR_BACKENDS=headless?)");
		return false;
	}
	server->renderer = wlr_renderer_autocreate(server->backend);
	if (server->renderer == NULL) {
		bh_log(BH_LOG_ERROR, "cannot create a renderer (try WLR_RENDERER=pixman)");
		return false;
	}
	wlr_renderer_init_wl_display(server->renderer, server->display);
	server->allocator = wlr_allocator_autocreate(server->backend, server->renderer);
	if (server->allocator == NULL) {
		bh_log(BH_LOG_ERROR, "cannot create a buffer allocator");
		return false;
	}

	struct wlr_compositor *compositor =
		wlr_compositor_create(server->display, server->renderer);
	wlr_data_device_manager_create(server->display);
	wlr_primary_selection_v1_device_manager_create(server->display);
	wlr_viewporter_create(server->display);
	struct wlr_presentation *presentation =
		wlr_presentation_create(server->display, server->backend);
	wlr_relative_pointer_manager_v1_create(server->display);
	wlr_pointer_constraints_v1_create(server->display);
	/* Host-only globals (filtered for tags). */
	wlr_screencopy_manager_v1_create(server->display);
	wlr_export_dmabuf_manager_v1_create(server->display);
	wlr_data_control_manager_v1_create(server->display);
	wlr_gamma_control_manager_v1_create(server->display);
	wlr_idle_create(server->display);
	wlr_input_inhibit_manager_create(server->display);
	struct wlr_virtual_keyboard_manager_v1 *vkbd =
		wlr_virtual_keyboard_manager_v1_create(server->display);
	struct wlr_virtual_pointer_manager_v1 *vptr =
		wlr_virtual_pointer_manager_v1_create(server->display);
	struct wlr_xdg_activation_v1 *activation = wlr_xdg_activation_v1_create(server->display);
	(void)compositor;

	server->layout = wlr_output_layout_create();
	wlr_xdg_output_manager_v1_create(server->display, server->layout);
	server->new_output.notify = new_output;
	wl_signal_add(&server->backend->events.new_output, &server->new_output);

	server->scene = wlr_scene_create();
	wlr_scene_attach_output_layout(server->scene, server->layout);
	wlr_scene_set_presentation(server->scene, presentation);
	server->layer_views = &wlr_scene_tree_create(&server->scene->node)->node;
	server->layer_overlay = &wlr_scene_tree_create(&server->scene->node)->node;

	server->xdg_shell = wlr_xdg_shell_create(server->display);
	server->new_xdg_surface.notify = bh_view_new_xdg_surface;
	wl_signal_add(&server->xdg_shell->events.new_surface, &server->new_xdg_surface);
	struct wlr_xdg_decoration_manager_v1 *decorations =
		wlr_xdg_decoration_manager_v1_create(server->display);
	server->new_decoration.notify = new_decoration;
	wl_signal_add(&decorations->events.new_toplevel_decoration, &server->new_decoration);
	server->request_activate.notify = request_activate;
	wl_signal_add(&activation->events.request_activate, &server->request_activate);

	bh_input_init(server);
	server->new_virtual_keyboard.notify = bh_input_new_virtual_keyboard;
	wl_signal_add(&vkbd->events.new_virtual_keyboard, &server->new_virtual_keyboard);
	server->new_virtual_pointer.notify = bh_input_new_virtual_pointer;
	wl_signal_add(&vptr->events.new_virtual_pointer, &server->new_virtual_pointer);

	if (!bh_vm_manager_init(server) || !bh_overlay_init(server) ||
		!bh_clipboard_init(server)) {
		return false;
	}
	return true;
}

void bh_server_finish(struct bh_server *server)
{
	/* Clients first (their windows refer to tags), then tags; what their
	 * destruction left for idle callbacks (a virtual keyboard's memory)
	 * runs before the loop goes. */
	wl_display_destroy_clients(server->display);
	wl_event_loop_dispatch_idle(server->loop);
	bh_tags_destroy(server);
	bh_clipboard_finish(server);
	wl_protocol_logger_destroy(server->logger);
	bh_overlay_destroy(server);
	wlr_backend_destroy(server->backend);
	wl_display_destroy(server->display);
	wlr_scene_node_destroy(&server->scene->node);
	wlr_xcursor_manager_destroy(server->xcursor);
	wlr_cursor_destroy(server->cursor);
	wlr_output_layout_destroy(server->layout);
	wlr_allocator_destroy(server->allocator);
	wlr_renderer_destroy(server->renderer);
}
