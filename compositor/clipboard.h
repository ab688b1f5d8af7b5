/* The clipboard: one selection per domain (the host, each tag), and the
 * copy and paste chords that move data between domains. */
#ifndef BH_COMPOSITOR_CLIPBOARD_H
#define BH_COMPOSITOR_CLIPBOARD_H

#include <stdbool.h>

#include "compositor/server.h"

struct bh_tag;

/* Takes the seat's selection requests; the seat exists already. */
bool bh_clipboard_init(struct bh_server *server);
/* Forgets every domain's selection; before the tags go. */
void bh_clipboard_finish(struct bh_server *server);
/* The seat shows the selections of tag's domain (NULL: the host's). */
void bh_clipboard_focus(struct bh_server *server, struct bh_tag *tag);
/* The chords: copy takes tag's selection into the compositor, paste
 * offers it, once, to tag's domain (NULL: the host). */
void bh_clipboard_copy(struct bh_server *server, struct bh_tag *tag);
void bh_clipboard_paste(struct bh_server *server, struct bh_tag *tag);

#endif
