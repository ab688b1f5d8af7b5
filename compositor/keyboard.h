/* Keyboards: where keys go — to the compositor's bindings, its menu, or
 * the focused client. */
#ifndef BH_COMPOSITOR_KEYBOARD_H
#define BH_COMPOSITOR_KEYBOARD_H

#include <stdbool.h>
#include <wlr/types/wlr_input_device.h>

#include "compositor/server.h"

/* Takes a keyboard device: a real one gets the configured layout, a
 * virtual one (wtype, on-screen keyboards) brings its own keymap. */
void bh_keyboard_create(struct bh_server *server, struct wlr_input_device *device, bool is_virtual);

#endif
