/* Input: keyboards (with the compositor's bindings, which no client ever
 * sees), the pointer, move and resize grabs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/input-event-codes.h>
#include <strings.h>
#include <wlr/backend/session.h>
#include <wlr/types/wlr_input_device.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_pointer.h>
#include <wlr/types/wlr_primary_selection.h>
#include <wlr/types/wlr_virtual_keyboard_v1.h>
#include <wlr/types/wlr_virtual_pointer_v1.h>

#include "common/log.h"
#include "compositor/server.h"

static const struct {
	const char *combo, *action;
} default_bindings[] = {
	{"Super+Return", "terminal"},
	{"Super+Shift+Return", "host-terminal"},
	{"Super+t", "prompt"},
	{"Super+d", "menu"},
	{"Super+Tab", "focus-next"},
	{"Super+Shift+q", "close"},
	{"Super+Shift+e", "quit"},
	{"Super+f", "fullscreen"},
	{"Super+m", "maximize"},
	{"Super+Shift+r", "reload"},
	{"Super+c", "copy"},
	{"Super+v", "paste"},
	{"Super+1", "tag 1"},
	{"Super+2", "tag 2"},
	{"Super+3", "tag 3"},
	{"Super+4", "tag 4"},
	{"Super+5", "tag 5"},
	{"Super+6", "tag 6"},
	{"Super+7", "tag 7"},
	{"Super+8", "tag 8"},
	{"Super+9", "tag 9"},
};

static bool parse_combo(const char *combo, uint32_t *mods, xkb_keysym_t *sym)
{
	char buf[128];
	if (strlen(combo) >= sizeof(buf)) {
		return false;
	}
	strcpy(buf, combo);
	*mods = 0;
	*sym = XKB_KEY_NoSymbol;
	char *save = NULL;
	for (char *part = strtok_r(buf, "+", &save); part != NULL;
		part = strtok_r(NULL, "+", &save)) {
		if (*sym != XKB_KEY_NoSymbol) {
			return false; /* the key must come last */
		}
		if (strcasecmp(part, "Super") == 0 || strcasecmp(part, "Logo") == 0 ||
			strcasecmp(part, "Mod4") == 0) {
			*mods |= WLR_MODIFIER_LOGO;
		} else if (strcasecmp(part, "Shift") == 0) {
			*mods |= WLR_MODIFIER_SHIFT;
		} else if (strcasecmp(part, "Ctrl") == 0 || strcasecmp(part, "Control") == 0) {
			*mods |= WLR_MODIFIER_CTRL;
		} else if (strcasecmp(part, "Alt") == 0 || strcasecmp(part, "Mod1") == 0) {
			*mods |= WLR_MODIFIER_ALT;
		} else {
			*sym = xkb_keysym_from_name(part, XKB_KEYSYM_CASE_INSENSITIVE);
			if (*sym == XKB_KEY_NoSymbol) {
				return false;
			}
			*sym = xkb_keysym_to_lower(*sym);
		}
	}
	return *sym != XKB_KEY_NoSymbol;
}

static bool known_action(const char *action)
{
	static const char *const simple[] = {"terminal", "host-terminal", "prompt", "menu",
		"focus-next", "close", "quit", "fullscreen", "maximize", "reload", "copy", "paste", "none",
		NULL};
	for (int i = 0; simple[i] != NULL; i++) {
		if (strcmp(action, simple[i]) == 0) {
			return true;
		}
	}
	return (strncmp(action, "tag ", 4) == 0 && action[4] != '\0') ||
	       (strncmp(action, "spawn ", 6) == 0 && action[6] != '\0') ||
	       (strncmp(action, "exec ", 5) == 0 && action[5] != '\0');
}

static bool add_binding(struct bh_server *server, uint32_t mods, xkb_keysym_t sym,
	const char *action)
{
	for (size_t i = 0; i < server->binding_count; i++) {
		if (server->bindings[i].mods == mods && server->bindings[i].sym == sym) {
			char *copy = strdup(action);
			if (copy == NULL) {
				return false;
			}
			free(server->bindings[i].action);
			server->bindings[i].action = copy;
			return true;
		}
	}
	struct bh_binding *grown =
		realloc(server->bindings, (server->binding_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		return false;
	}
	server->bindings = grown;
	grown[server->binding_count].mods = mods;
	grown[server->binding_count].sym = sym;
	grown[server->binding_count].action = strdup(action);
	if (grown[server->binding_count].action == NULL) {
		return false;
	}
	server->binding_count++;
	return true;
}

bool bh_bindings_load(struct bh_server *server)
{
	for (size_t i = 0; i < server->binding_count; i++) {
		free(server->bindings[i].action);
	}
	free(server->bindings);
	server->bindings = NULL;
	server->binding_count = 0;
	uint32_t mods;
	xkb_keysym_t sym;
	for (size_t i = 0; i < sizeof(default_bindings) / sizeof(default_bindings[0]); i++) {
		parse_combo(default_bindings[i].combo, &mods, &sym);
		add_binding(server, mods, sym, default_bindings[i].action);
	}
	const struct bh_config *c = server->config;
	const char *file = c->path != NULL ? c->path : "config";
	for (size_t i = 0; i < c->key_count; i++) {
		const struct bh_config_entry *e = &c->keys[i];
		if (!parse_combo(e->key, &mods, &sym)) {
			bh_log(BH_LOG_ERROR, "%s:%d: \"%s\" is not a key combination like Super+Shift+q; "
					     "ignored",
				file, e->line, e->key);
			continue;
		}
		if (!known_action(e->value)) {
			bh_log(BH_LOG_ERROR,
				"%s:%d: unknown action \"%s\" (terminal, host-terminal, prompt, menu, "
				"focus-next, close, quit, fullscreen, maximize, reload, copy, paste, none, tag N, "
				"spawn TAG, exec COMMAND); ignored",
				file, e->line, e->value);
			continue;
		}
		add_binding(server, mods, sym, e->value);
	}
	return true;
}

static struct bh_tag *focused_tag(struct bh_server *server)
{
	struct bh_view *view = bh_view_focused(server);
	return view != NULL ? view->tag : NULL;
}

/* The n-th [tag] section of the config (1-based). */
static const char *nth_tag(struct bh_server *server, int n)
{
	if (n < 1 || (size_t)n > server->config->tag_count) {
		return NULL;
	}
	return server->config->tags[n - 1].name;
}

static void spawn_or_note(struct bh_server *server, const char *tag, const char *command)
{
	char error[512];
	if (!bh_tag_spawn(server, tag, command, error, sizeof(error))) {
		bh_log(BH_LOG_ERROR, "%s", error);
		bh_overlay_note(server, error);
	}
}

bool bh_run_action(struct bh_server *server, const char *action)
{
	struct bh_view *view = bh_view_focused(server);
	if (strcmp(action, "terminal") == 0) {
		struct bh_tag *tag = focused_tag(server);
		if (tag != NULL) {
			spawn_or_note(server, tag->name, NULL);
		} else {
			bh_spawn_host(server, server->config->terminal);
		}
	} else if (strcmp(action, "host-terminal") == 0) {
		bh_spawn_host(server, server->config->terminal);
	} else if (strcmp(action, "prompt") == 0) {
		bh_prompt_open(server);
	} else if (strcmp(action, "menu") == 0) {
		bh_menu_open(server);
	} else if (strcmp(action, "focus-next") == 0) {
		struct bh_view *next = NULL, *v;
		/* The bottom-most mapped window comes to the top: a cycle. */
		wl_list_for_each_reverse (v, &server->views, link) {
			if (v->mapped && v != view) {
				next = v;
				break;
			}
		}
		if (next != NULL) {
			bh_view_focus(next);
		}
	} else if (strcmp(action, "close") == 0) {
		if (view != NULL) {
			bh_view_close(view);
		}
	} else if (strcmp(action, "quit") == 0) {
		wl_display_terminate(server->display);
	} else if (strcmp(action, "fullscreen") == 0) {
		if (view != NULL) {
			bh_view_set_fullscreen(view, !view->fullscreen);
		}
	} else if (strcmp(action, "maximize") == 0) {
		if (view != NULL) {
			bh_view_set_maximized(view, !view->maximized);
		}
	} else if (strcmp(action, "copy") == 0) {
		bh_clipboard_copy(server);
	} else if (strcmp(action, "paste") == 0) {
		bh_clipboard_paste(server);
	} else if (strcmp(action, "reload") == 0) {
		bh_config_reload(server);
	} else if (strncmp(action, "tag ", 4) == 0) {
		const char *name = nth_tag(server, atoi(action + 4));
		if (name != NULL) {
			spawn_or_note(server, name, NULL);
		}
	} else if (strncmp(action, "spawn ", 6) == 0) {
		spawn_or_note(server, action + 6, NULL);
	} else if (strncmp(action, "exec ", 5) == 0) {
		bh_spawn_host(server, action + 5);
	} else if (strcmp(action, "none") != 0) {
		return false;
	}
	return true;
}

/* Keyboards */

static bool handle_binding(struct bh_server *server, struct wlr_keyboard *kb, uint32_t keycode)
{
	uint32_t mods = wlr_keyboard_get_modifiers(kb) &
			(WLR_MODIFIER_LOGO | WLR_MODIFIER_SHIFT | WLR_MODIFIER_CTRL |
				WLR_MODIFIER_ALT);
	const xkb_keysym_t *syms;
	int n = xkb_state_key_get_syms(kb->xkb_state, keycode + 8, &syms);
	const xkb_keysym_t *base_syms;
	xkb_layout_index_t layout = xkb_state_key_get_layout(kb->xkb_state, keycode + 8);
	int nb = xkb_keymap_key_get_syms_by_level(kb->keymap, keycode + 8, layout, 0, &base_syms);
	for (size_t b = 0; b < server->binding_count; b++) {
		const struct bh_binding *binding = &server->bindings[b];
		if (binding->mods != mods) {
			continue;
		}
		bool hit = false;
		for (int i = 0; i < n && !hit; i++) {
			hit = xkb_keysym_to_lower(syms[i]) == binding->sym;
		}
		for (int i = 0; i < nb && !hit; i++) {
			hit = xkb_keysym_to_lower(base_syms[i]) == binding->sym;
		}
		if (hit) {
			bh_log(BH_LOG_DEBUG, "binding: %s", binding->action);
			bh_run_action(server, binding->action);
			return true;
		}
	}
	return false;
}

/* Keys whose press the compositor consumed: their release is not sent. */
static uint32_t swallowed[32];
static size_t swallowed_count;

static bool take_swallowed(uint32_t keycode)
{
	for (size_t i = 0; i < swallowed_count; i++) {
		if (swallowed[i] == keycode) {
			swallowed[i] = swallowed[--swallowed_count];
			return true;
		}
	}
	return false;
}

static void keyboard_key(struct wl_listener *listener, void *data)
{
	struct bh_keyboard *keyboard = wl_container_of(listener, keyboard, key);
	struct bh_server *server = keyboard->server;
	struct wlr_event_keyboard_key *event = data;
	struct wlr_keyboard *kb = keyboard->device->keyboard;
	if (kb->keymap == NULL) {
		return;
	}
	bool pressed = event->state == WL_KEYBOARD_KEY_STATE_PRESSED;
	bh_log(BH_LOG_DEBUG, "key %u %s", event->keycode, pressed ? "pressed" : "released");
	if (!pressed && take_swallowed(event->keycode)) {
		return;
	}
	bool consumed = false;
	if (pressed) {
		/* VT switching on a real seat. */
		const xkb_keysym_t *syms;
		int n = xkb_state_key_get_syms(kb->xkb_state, event->keycode + 8, &syms);
		for (int i = 0; i < n; i++) {
			if (syms[i] >= XKB_KEY_XF86Switch_VT_1 && syms[i] <= XKB_KEY_XF86Switch_VT_12) {
				struct wlr_session *session = wlr_backend_get_session(server->backend);
				if (session != NULL) {
					wlr_session_change_vt(session,
						syms[i] - XKB_KEY_XF86Switch_VT_1 + 1);
				}
				consumed = true;
			}
		}
		if (!consumed && bh_overlay_active(server)) {
			for (int i = 0; i < n && !consumed; i++) {
				consumed = bh_overlay_key(server, syms[i],
					wlr_keyboard_get_modifiers(kb));
			}
			consumed = true; /* the overlay has the keyboard */
		}
		if (!consumed) {
			consumed = handle_binding(server, kb, event->keycode);
		}
		if (consumed && swallowed_count < sizeof(swallowed) / sizeof(swallowed[0])) {
			swallowed[swallowed_count++] = event->keycode;
		}
	}
	if (!consumed) {
		wlr_seat_set_keyboard(server->seat, keyboard->device);
		wlr_seat_keyboard_notify_key(server->seat, event->time_msec, event->keycode,
			event->state);
	}
}

static void keyboard_modifiers(struct wl_listener *listener, void *data)
{
	struct bh_keyboard *keyboard = wl_container_of(listener, keyboard, modifiers);
	if (keyboard->device->keyboard->keymap == NULL) {
		return;
	}
	wlr_seat_set_keyboard(keyboard->server->seat, keyboard->device);
	wlr_seat_keyboard_notify_modifiers(keyboard->server->seat,
		&keyboard->device->keyboard->modifiers);
}

static void free_virtual_keyboard(void *data)
{
	free(data);
}

static void keyboard_destroy(struct wl_listener *listener, void *data)
{
	struct bh_keyboard *keyboard = wl_container_of(listener, keyboard, destroy);
	if (keyboard->is_virtual) {
		/* wlroots 0.15 never frees a virtual keyboard's wlr_keyboard (its
		 * destroy hook is empty); nothing refers to it once the device is
		 * gone, so it is freed when this dispatch is over. */
		wl_event_loop_add_idle(keyboard->server->loop, free_virtual_keyboard,
			keyboard->device->keyboard);
	}
	wl_list_remove(&keyboard->modifiers.link);
	wl_list_remove(&keyboard->key.link);
	wl_list_remove(&keyboard->destroy.link);
	wl_list_remove(&keyboard->link);
	free(keyboard);
}

static bool set_keymap(struct bh_server *server, struct wlr_keyboard *kb)
{
	struct xkb_rule_names rules = {
		.layout = server->config->xkb_layout,
		.variant = server->config->xkb_variant,
		.options = server->config->xkb_options,
	};
	struct xkb_context *context = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	if (context == NULL) {
		return false;
	}
	struct xkb_keymap *keymap =
		xkb_keymap_new_from_names(context, &rules, XKB_KEYMAP_COMPILE_NO_FLAGS);
	if (keymap == NULL) {
		bh_log(BH_LOG_ERROR, "the keyboard layout %s/%s/%s cannot be compiled; using the "
				     "default layout",
			rules.layout ? rules.layout : "", rules.variant ? rules.variant : "",
			rules.options ? rules.options : "");
		struct xkb_rule_names none = {0};
		keymap = xkb_keymap_new_from_names(context, &none, XKB_KEYMAP_COMPILE_NO_FLAGS);
	}
	bool ok = keymap != NULL && wlr_keyboard_set_keymap(kb, keymap);
	xkb_keymap_unref(keymap);
	xkb_context_unref(context);
	return ok;
}

static void add_keyboard(struct bh_server *server, struct wlr_input_device *device,
	bool own_keymap)
{
	struct bh_keyboard *keyboard = calloc(1, sizeof(*keyboard));
	if (keyboard == NULL) {
		return;
	}
	keyboard->is_virtual = !own_keymap;
	keyboard->server = server;
	keyboard->device = device;
	if (own_keymap) {
		set_keymap(server, device->keyboard);
		wlr_keyboard_set_repeat_info(device->keyboard, 25, 600);
	}
	keyboard->modifiers.notify = keyboard_modifiers;
	wl_signal_add(&device->keyboard->events.modifiers, &keyboard->modifiers);
	keyboard->key.notify = keyboard_key;
	wl_signal_add(&device->keyboard->events.key, &keyboard->key);
	keyboard->destroy.notify = keyboard_destroy;
	wl_signal_add(&device->events.destroy, &keyboard->destroy);
	/* A virtual keyboard has no keymap until its client sends one; the
	 * seat takes a keyboard only once it has one. */
	if (device->keyboard->keymap != NULL) {
		wlr_seat_set_keyboard(server->seat, device);
	}
	wl_list_insert(&server->keyboards, &keyboard->link);
}

void bh_input_add_keyboard(struct bh_server *server, struct wlr_input_device *device)
{
	add_keyboard(server, device, true);
}

void bh_input_new_virtual_keyboard(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, new_virtual_keyboard);
	struct wlr_virtual_keyboard_v1 *vkbd = data;
	/* The virtual keyboard brings its own keymap (wtype, on-screen keyboards). */
	bh_log(BH_LOG_DEBUG, "virtual keyboard added");
	add_keyboard(server, &vkbd->input_device, false);
	uint32_t caps = WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD;
	wlr_seat_set_capabilities(server->seat, caps);
}

/* Pointer */

static void process_motion(struct bh_server *server, uint32_t time)
{
	if (server->grab == BH_GRAB_MOVE && server->grab_view != NULL) {
		struct bh_view *view = server->grab_view;
		view->x = server->grab_box.x + (int)(server->cursor->x - server->grab_x);
		view->y = server->grab_box.y + (int)(server->cursor->y - server->grab_y);
		wlr_scene_node_set_position(view->tree, view->x, view->y);
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
		view->x = b.x;
		view->y = b.y;
		wlr_scene_node_set_position(view->tree, view->x, view->y);
		wlr_xdg_toplevel_set_size(view->xdg, (uint32_t)b.width, (uint32_t)b.height);
		return;
	}
	double sx, sy;
	struct wlr_surface *surface;
	bool on_frame;
	struct bh_view *view =
		bh_view_at(server, server->cursor->x, server->cursor->y, &surface, &sx, &sy, &on_frame);
	if (view == NULL || surface == NULL) {
		wlr_xcursor_manager_set_cursor_image(server->xcursor, "left_ptr", server->cursor);
		wlr_seat_pointer_clear_focus(server->seat);
		return;
	}
	wlr_seat_pointer_notify_enter(server->seat, surface, sx, sy);
	wlr_seat_pointer_notify_motion(server->seat, time, sx, sy);
}

static void cursor_motion(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, cursor_motion);
	struct wlr_event_pointer_motion *event = data;
	wlr_cursor_move(server->cursor, event->device, event->delta_x, event->delta_y);
	process_motion(server, event->time_msec);
}

static void cursor_motion_absolute(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, cursor_motion_absolute);
	struct wlr_event_pointer_motion_absolute *event = data;
	wlr_cursor_warp_absolute(server->cursor, event->device, event->x, event->y);
	process_motion(server, event->time_msec);
}

static void cursor_button(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, cursor_button);
	struct wlr_event_pointer_button *event = data;
	if (event->state == WLR_BUTTON_RELEASED) {
		if (server->grab != BH_GRAB_NONE) {
			server->grab = BH_GRAB_NONE;
			server->grab_view = NULL;
			return;
		}
		wlr_seat_pointer_notify_button(server->seat, event->time_msec, event->button,
			event->state);
		return;
	}
	if (bh_overlay_active(server)) {
		bh_overlay_click(server, server->cursor->x, server->cursor->y);
		return;
	}
	double sx, sy;
	struct wlr_surface *surface;
	bool on_frame;
	struct bh_view *view =
		bh_view_at(server, server->cursor->x, server->cursor->y, &surface, &sx, &sy, &on_frame);
	if (view != NULL) {
		bh_view_focus(view);
		struct wlr_keyboard *kb = wlr_seat_get_keyboard(server->seat);
		bool super = kb != NULL && (wlr_keyboard_get_modifiers(kb) & WLR_MODIFIER_LOGO);
		/* Super + left drag or the title bar moves; Super + right drag
		 * or a border resizes from that side. */
		uint32_t edges = on_frame && !view->fullscreen ?
			bh_view_frame_edges(view, server->cursor->x, server->cursor->y) :
			0;
		if ((super && event->button == BTN_LEFT) ||
			(on_frame && !view->fullscreen && edges == 0)) {
			server->grab = BH_GRAB_MOVE;
		} else if (super && event->button == BTN_RIGHT) {
			server->grab = BH_GRAB_RESIZE;
			server->grab_edges = WLR_EDGE_RIGHT | WLR_EDGE_BOTTOM;
		} else if (on_frame && !view->fullscreen) {
			server->grab = BH_GRAB_RESIZE;
			server->grab_edges = edges;
		}
		if (server->grab != BH_GRAB_NONE) {
			server->grab_view = view;
			server->grab_x = server->cursor->x;
			server->grab_y = server->cursor->y;
			server->grab_box = (struct wlr_box){view->x, view->y, view->width,
				view->height};
			return;
		}
	}
	wlr_seat_pointer_notify_button(server->seat, event->time_msec, event->button, event->state);
}

static void cursor_axis(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, cursor_axis);
	struct wlr_event_pointer_axis *event = data;
	wlr_seat_pointer_notify_axis(server->seat, event->time_msec, event->orientation,
		event->delta, event->delta_discrete, event->source);
}

static void cursor_frame(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, cursor_frame);
	wlr_seat_pointer_notify_frame(server->seat);
}

static void request_cursor(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, request_cursor);
	struct wlr_seat_pointer_request_set_cursor_event *event = data;
	if (server->seat->pointer_state.focused_client == event->seat_client) {
		wlr_cursor_set_surface(server->cursor, event->surface, event->hotspot_x,
			event->hotspot_y);
	}
}

static void request_set_selection(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, request_set_selection);
	struct wlr_seat_request_set_selection_event *event = data;
	struct wl_client *client = server->selection_client;
	server->selection_client = NULL;
	if (client == NULL) {
		if (event->source != NULL) {
			wlr_data_source_destroy(event->source);
		}
		return;
	}
	bh_clipboard_request_set(server, client, event->source);
}

static void request_set_primary_selection(struct wl_listener *listener, void *data)
{
	struct bh_server *server =
		wl_container_of(listener, server, request_set_primary_selection);
	struct wlr_seat_request_set_primary_selection_event *event = data;
	struct wl_client *client = server->selection_client;
	server->selection_client = NULL;
	if (client == NULL) {
		if (event->source != NULL) {
			wlr_primary_selection_source_destroy(event->source);
		}
		return;
	}
	bh_clipboard_request_set_primary(server, client, event->source);
}

void bh_input_new_input(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, new_input);
	struct wlr_input_device *device = data;
	switch (device->type) {
	case WLR_INPUT_DEVICE_KEYBOARD:
		bh_input_add_keyboard(server, device);
		break;
	case WLR_INPUT_DEVICE_POINTER:
		wlr_cursor_attach_input_device(server->cursor, device);
		break;
	default:
		break;
	}
	wlr_seat_set_capabilities(server->seat,
		WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);
}

/* A host client's virtual pointer (test drivers, remote desktops) moves the
 * one cursor like a mouse; tagged clients never see the manager. */
void bh_input_new_virtual_pointer(struct wl_listener *listener, void *data)
{
	struct bh_server *server = wl_container_of(listener, server, new_virtual_pointer);
	struct wlr_virtual_pointer_v1_new_pointer_event *event = data;
	wlr_cursor_attach_input_device(server->cursor, &event->new_pointer->input_device);
}

void bh_input_init(struct bh_server *server)
{
	server->cursor = wlr_cursor_create();
	wlr_cursor_attach_output_layout(server->cursor, server->layout);
	server->xcursor = wlr_xcursor_manager_create(NULL, 24);
	wlr_xcursor_manager_load(server->xcursor, 1);
	server->cursor_motion.notify = cursor_motion;
	wl_signal_add(&server->cursor->events.motion, &server->cursor_motion);
	server->cursor_motion_absolute.notify = cursor_motion_absolute;
	wl_signal_add(&server->cursor->events.motion_absolute, &server->cursor_motion_absolute);
	server->cursor_button.notify = cursor_button;
	wl_signal_add(&server->cursor->events.button, &server->cursor_button);
	server->cursor_axis.notify = cursor_axis;
	wl_signal_add(&server->cursor->events.axis, &server->cursor_axis);
	server->cursor_frame.notify = cursor_frame;
	wl_signal_add(&server->cursor->events.frame, &server->cursor_frame);

	server->new_input.notify = bh_input_new_input;
	wl_signal_add(&server->backend->events.new_input, &server->new_input);
	server->seat = wlr_seat_create(server->display, "seat0");
	/* A seat always offers a pointer and a keyboard, so clients bind them
	 * even before a device (or a virtual keyboard) appears. */
	wlr_seat_set_capabilities(server->seat,
		WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);
	server->request_cursor.notify = request_cursor;
	wl_signal_add(&server->seat->events.request_set_cursor, &server->request_cursor);
	server->request_set_selection.notify = request_set_selection;
	wl_signal_add(&server->seat->events.request_set_selection,
		&server->request_set_selection);
	server->request_set_primary_selection.notify = request_set_primary_selection;
	wl_signal_add(&server->seat->events.request_set_primary_selection,
		&server->request_set_primary_selection);
}
