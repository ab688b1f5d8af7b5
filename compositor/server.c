/* The server: the display, backend, renderer and scene, every global and
 * which clients may see it, and what happens when something new appears
 * (an output, an input device, a window, a decoration request). Bringing
 * it up and down calls every other part, so this file sits on top. */
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
#include "compositor/client.h"
#include "compositor/clipboard.h"
#include "compositor/cursor.h"
#include "compositor/decoration.h"
#include "compositor/keyboard.h"
#include "compositor/menu.h"
#include "compositor/output.h"
#include "compositor/seat.h"
#include "compositor/server.h"
#include "compositor/status.h"
#include "compositor/tags.h"
#include "compositor/view.h"
#include "compositor/vm_manager.h"

/* What a tagged client may see: the globals guest apps need
 * (common/allowlist.h, the list the proxy filters with too), and nothing
 * that reads the screen, injects input, sees other clients or controls the
 * session. */
bool bh_guest_global_allowed(const char *interface)
{
	return bh_guest_global_find(interface) != NULL;
}

static bool global_filter(
	const struct wl_client *client, const struct wl_global *global, void *data)
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

static void server_handle_new_output(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, new_output);
	if (bh_output_create(server, data)) {
		bh_status_update(server);
	}
}

static void server_handle_new_input(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, new_input);
	struct wlr_input_device *device = data;
	switch (device->type) {
	case WLR_INPUT_DEVICE_KEYBOARD:
		bh_keyboard_create(server, device, false);
		break;
	case WLR_INPUT_DEVICE_POINTER:
		bh_cursor_attach(server, device);
		break;
	default:
		break;
	}
	wlr_seat_set_capabilities(
		server->seat, WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);
}

static void server_handle_new_virtual_keyboard(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, new_virtual_keyboard);
	struct wlr_virtual_keyboard_v1 *vkbd = data;
	bh_log(BH_LOG_DEBUG, "virtual keyboard added");
	bh_keyboard_create(server, &vkbd->input_device, true);
	wlr_seat_set_capabilities(
		server->seat, WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);
}

/* A host client's virtual pointer (test drivers, remote desktops) moves the
 * one cursor like a mouse; tagged clients never see the manager. */
static void server_handle_new_virtual_pointer(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, new_virtual_pointer);
	struct wlr_virtual_pointer_v1_new_pointer_event *event = data;
	bh_cursor_attach(server, &event->new_pointer->input_device);
}

static void server_handle_new_xdg_surface(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, new_xdg_surface);
	bh_view_create(server, data);
}

/* Decorations are always the compositor's. */
static void server_handle_new_decoration(struct wl_listener *listener, void *data)
{
	bh_decoration_set_server_side(data);
}

/* xdg-activation: a guest cannot take the focus by itself. */
static void server_handle_request_activate(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, request_activate);
	struct wlr_xdg_activation_v1_request_activate_event *event = data;
	struct bh_tag *tag = bh_client_tag(wl_resource_get_client(event->surface->resource));
	if (tag != NULL) {
		bh_log(BH_LOG_WARN, "tag %s: a guest window asked for the focus; refused",
			tag->name);
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

bool bh_server_init(struct bh_server *server)
{
	server->display = wl_display_create();
	server->loop = wl_display_get_event_loop(server->display);
	wl_list_init(&server->outputs);
	wl_list_init(&server->keyboards);
	wl_list_init(&server->views);
	wl_list_init(&server->tags);
	wl_display_set_global_filter(server->display, global_filter, server);

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
	server->new_output.notify = server_handle_new_output;
	wl_signal_add(&server->backend->events.new_output, &server->new_output);

	server->scene = wlr_scene_create();
	wlr_scene_attach_output_layout(server->scene, server->layout);
	wlr_scene_set_presentation(server->scene, presentation);
	server->layer_views = &wlr_scene_tree_create(&server->scene->node)->node;
	server->layer_overlay = &wlr_scene_tree_create(&server->scene->node)->node;

	server->xdg_shell = wlr_xdg_shell_create(server->display);
	server->new_xdg_surface.notify = server_handle_new_xdg_surface;
	wl_signal_add(&server->xdg_shell->events.new_surface, &server->new_xdg_surface);
	struct wlr_xdg_decoration_manager_v1 *decorations =
		wlr_xdg_decoration_manager_v1_create(server->display);
	server->new_decoration.notify = server_handle_new_decoration;
	wl_signal_add(&decorations->events.new_toplevel_decoration, &server->new_decoration);
	server->request_activate.notify = server_handle_request_activate;
	wl_signal_add(&activation->events.request_activate, &server->request_activate);

	bh_cursor_init(server);
	server->new_input.notify = server_handle_new_input;
	wl_signal_add(&server->backend->events.new_input, &server->new_input);
	bh_seat_init(server);
	server->new_virtual_keyboard.notify = server_handle_new_virtual_keyboard;
	wl_signal_add(&vkbd->events.new_virtual_keyboard, &server->new_virtual_keyboard);
	server->new_virtual_pointer.notify = server_handle_new_virtual_pointer;
	wl_signal_add(&vptr->events.new_virtual_pointer, &server->new_virtual_pointer);

	if (!bh_vm_manager_init(server) || !bh_status_init(server) || !bh_menu_init(server) ||
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
	bh_clipboard_finish(server);
	bh_vm_manager_finish(server);
	bh_tags_destroy(server);
	bh_menu_finish(server);
	bh_status_finish(server);
	struct wl_listener *listeners[] = {
		&server->new_output,
		&server->new_input,
		&server->new_xdg_surface,
		&server->new_decoration,
		&server->cursor_motion,
		&server->cursor_motion_absolute,
		&server->cursor_button,
		&server->cursor_axis,
		&server->cursor_frame,
		&server->request_cursor,
		&server->new_virtual_keyboard,
		&server->new_virtual_pointer,
		&server->request_activate,
	};
	for (size_t i = 0; i < sizeof(listeners) / sizeof(listeners[0]); i++) {
		wl_list_remove(&listeners[i]->link);
	}
	wlr_backend_destroy(server->backend);
	wl_display_destroy(server->display);
	wlr_scene_node_destroy(&server->scene->node);
	wlr_xcursor_manager_destroy(server->xcursor);
	wlr_cursor_destroy(server->cursor);
	wlr_output_layout_destroy(server->layout);
	wlr_allocator_destroy(server->allocator);
	wlr_renderer_destroy(server->renderer);
}
