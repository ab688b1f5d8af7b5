/* The launcher menu (tags and their apps) and the tag prompt, drawn by the
 * compositor above every window where no client can imitate them. */
#ifndef BH_COMPOSITOR_MENU_H
#define BH_COMPOSITOR_MENU_H

#include <stdbool.h>
#include <stdint.h>
#include <xkbcommon/xkbcommon.h>

#include "compositor/server.h"

/* What choosing does (actions.c): start tag and run command in it (NULL:
 * the tag's default app). */
typedef void (*bh_menu_choose_fn)(struct bh_server *server, const char *tag, const char *command);

bool bh_menu_init(struct bh_server *server);
void bh_menu_finish(struct bh_server *server);
/* Opens the menu or the prompt; both hold the keyboard until closed. */
void bh_menu_open(struct bh_server *server, bh_menu_choose_fn choose);
void bh_menu_open_prompt(struct bh_server *server, bh_menu_choose_fn choose);
bool bh_menu_active(struct bh_server *server);
/* "menu", "prompt", or NULL when neither is open. */
const char *bh_menu_kind(struct bh_server *server);
/* The launcher's lines as shown (at most max), for IPC and tests. */
size_t bh_menu_labels(struct bh_server *server, const char **labels, size_t max);
/* A key pressed or a click while open; true when it was used. */
bool bh_menu_key(struct bh_server *server, xkb_keysym_t sym, uint32_t mods);
bool bh_menu_click(struct bh_server *server, double lx, double ly);

#endif
