/* X selections and the host: an X client's CLIPBOARD becomes the tag's
 * selection on the host (a data source on Xwayland's connection that reads
 * the X selection when the host asks for it). */
#include <stdlib.h>

#include "guest-agent/xwm_internal.h"

void bh_xwm_selection_init(struct bh_xwm *xwm)
{
}

void bh_xwm_selection_finish(struct bh_xwm *xwm)
{
}

void bh_xwm_selection_event(struct bh_xwm *xwm, xcb_generic_event_t *ev)
{
}

void bh_xwm_selection_focus(struct bh_xwm *xwm)
{
}

void bh_xwm_selection_conn_closed(struct bh_xwm *xwm)
{
}
