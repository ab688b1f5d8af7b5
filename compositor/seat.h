/* The seat: which surface has the keyboard, and whether the compositor
 * holds it for its own menu or prompt. */
#ifndef BH_COMPOSITOR_SEAT_H
#define BH_COMPOSITOR_SEAT_H

#include "compositor/server.h"

struct bh_tag;

/* Creates seat0 with a pointer and a keyboard. */
void bh_seat_init(struct bh_server *server);
/* Gives surface (of tag's domain; NULL: the host's) the keyboard and that
 * domain's clipboard, unless the compositor holds the keyboard. */
void bh_seat_focus(struct bh_server *server, struct wlr_surface *surface, struct bh_tag *tag);
/* While held, no client gets a key. Releasing gives nothing back: the
 * caller focuses a window again. */
void bh_seat_hold_keyboard(struct bh_server *server);
void bh_seat_release_keyboard(struct bh_server *server);

#endif
