/* The cursor: where the pointer goes — to the menu, a window's frame (to
 * move or resize it), or the client under it. */
#ifndef BH_COMPOSITOR_CURSOR_H
#define BH_COMPOSITOR_CURSOR_H

#include <wlr/types/wlr_input_device.h>

#include "compositor/server.h"

/* Creates the one cursor on the output layout. */
void bh_cursor_init(struct bh_server *server);
/* A pointer device (or a host client's virtual pointer) moves it. */
void bh_cursor_attach(struct bh_server *server, struct wlr_input_device *device);

#endif
