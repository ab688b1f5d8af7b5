/* The status line: tags booting or failed, and short notes to the user,
 * drawn by the compositor at the top right where no client can cover it. */
#ifndef BH_COMPOSITOR_STATUS_H
#define BH_COMPOSITOR_STATUS_H

#include <stdbool.h>

#include "compositor/server.h"

bool bh_status_init(struct bh_server *server);
void bh_status_finish(struct bh_server *server);
/* Draws the line again from the tags' states and the current note. */
void bh_status_update(struct bh_server *server);
/* Shows text (sanitised) for a few seconds. */
void bh_status_note(struct bh_server *server, const char *text);

#endif
