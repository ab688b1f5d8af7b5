/* Keyboards: keymaps, and where every key goes. A key the compositor uses
 * (a binding, VT switching, the open menu or prompt) never reaches a
 * client, nor does its release. */
#include <stdlib.h>
#include <wlr/backend/session.h>
#include <wlr/types/wlr_keyboard.h>

#include "common/log.h"
#include "common/util.h"
#include "compositor/actions.h"
#include "compositor/config.h"
#include "compositor/keyboard.h"
#include "compositor/menu.h"

struct keyboard {
	struct wl_list link; /* bh_server.keyboards */
	struct bh_server *server;
	struct wlr_input_device *device;
	bool is_virtual;
	struct wl_listener modifiers, key, destroy;
};

static bool handle_binding(struct bh_server *server, struct wlr_keyboard *kb, uint32_t keycode)
{
	uint32_t mods =
		wlr_keyboard_get_modifiers(kb) &
		(WLR_MODIFIER_LOGO | WLR_MODIFIER_SHIFT | WLR_MODIFIER_CTRL | WLR_MODIFIER_ALT);
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
			bh_action_run(server, binding->action);
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

static void keyboard_handle_key(struct wl_listener *listener, void *data)
{
	struct keyboard *keyboard = wl_container_of(listener, keyboard, key);
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
		server->last_key_usec = bh_now_usec();
		/* VT switching on a real seat. */
		const xkb_keysym_t *syms;
		int n = xkb_state_key_get_syms(kb->xkb_state, event->keycode + 8, &syms);
		for (int i = 0; i < n; i++) {
			if (syms[i] >= XKB_KEY_XF86Switch_VT_1 &&
				syms[i] <= XKB_KEY_XF86Switch_VT_12) {
				struct wlr_session *session =
					wlr_backend_get_session(server->backend);
				if (session != NULL) {
					wlr_session_change_vt(
						session, syms[i] - XKB_KEY_XF86Switch_VT_1 + 1);
				}
				consumed = true;
			}
		}
		if (!consumed && bh_menu_active(server)) {
			for (int i = 0; i < n && !consumed; i++) {
				consumed = bh_menu_key(
					server, syms[i], wlr_keyboard_get_modifiers(kb));
			}
			consumed = true; /* the menu or prompt has the keyboard */
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
		wlr_seat_keyboard_notify_key(
			server->seat, event->time_msec, event->keycode, event->state);
	}
}

static void keyboard_handle_modifiers(struct wl_listener *listener, void *data)
{
	struct keyboard *keyboard = wl_container_of(listener, keyboard, modifiers);
	if (keyboard->device->keyboard->keymap == NULL) {
		return;
	}
	wlr_seat_set_keyboard(keyboard->server->seat, keyboard->device);
	wlr_seat_keyboard_notify_modifiers(
		keyboard->server->seat, &keyboard->device->keyboard->modifiers);
}

static void free_virtual_keyboard(void *data)
{
	free(data);
}

static void keyboard_handle_destroy(struct wl_listener *listener, void *data)
{
	struct keyboard *keyboard = wl_container_of(listener, keyboard, destroy);
	if (keyboard->is_virtual) {
		/* wlroots 0.15 never frees a virtual keyboard's wlr_keyboard (its
		 * destroy hook is empty); nothing refers to it once the device is
		 * gone, so it is freed when this dispatch is over. */
		wl_event_loop_add_idle(
			keyboard->server->loop, free_virtual_keyboard, keyboard->device->keyboard);
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
		bh_log(BH_LOG_ERROR,
			"the keyboard layout %s/%s/%s cannot be compiled; using the "
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

void bh_keyboard_create(struct bh_server *server, struct wlr_input_device *device, bool is_virtual)
{
	struct keyboard *keyboard = calloc(1, sizeof(*keyboard));
	if (keyboard == NULL) {
		return;
	}
	keyboard->is_virtual = is_virtual;
	keyboard->server = server;
	keyboard->device = device;
	if (!is_virtual) {
		set_keymap(server, device->keyboard);
		wlr_keyboard_set_repeat_info(device->keyboard, 25, 600);
	}
	keyboard->modifiers.notify = keyboard_handle_modifiers;
	wl_signal_add(&device->keyboard->events.modifiers, &keyboard->modifiers);
	keyboard->key.notify = keyboard_handle_key;
	wl_signal_add(&device->keyboard->events.key, &keyboard->key);
	keyboard->destroy.notify = keyboard_handle_destroy;
	wl_signal_add(&device->events.destroy, &keyboard->destroy);
	/* A virtual keyboard has no keymap until its client sends one; the
	 * seat takes a keyboard only once it has one. */
	if (device->keyboard->keymap != NULL) {
		wlr_seat_set_keyboard(server->seat, device);
	}
	wl_list_insert(&server->keyboards, &keyboard->link);
}
