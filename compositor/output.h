/* Outputs: each screen the backend offers, and where they lie. */
#ifndef BH_COMPOSITOR_OUTPUT_H
#define BH_COMPOSITOR_OUTPUT_H

#include <stdbool.h>
#include <wlr/types/wlr_output.h>

#include "compositor/server.h"

struct bh_output {
	struct wl_list link; /* bh_server.outputs */
	struct bh_server *server;
	struct wlr_output *output;
	struct wl_listener frame, destroy;
};

/* Enables a new output in its preferred mode (or BULKHEAD_OUTPUT_SIZE on a
 * headless one) and adds it to the layout; false when it cannot be used. */
bool bh_output_create(struct bh_server *server, struct wlr_output *wlr_output);
/* The box of the output under a layout point (or the first output). */
void bh_output_box(struct bh_server *server, int lx, int ly, struct wlr_box *box);

#endif
