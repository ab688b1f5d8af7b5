/* IPC: the JSON socket bulkheadctl speaks to ($BULKHEAD_SOCKET). */
#ifndef BH_COMPOSITOR_IPC_H
#define BH_COMPOSITOR_IPC_H

#include <stdbool.h>

#include "compositor/server.h"

/* Listens on $XDG_RUNTIME_DIR/bulkhead-PID.sock and sets BULKHEAD_SOCKET. */
bool bh_ipc_init(struct bh_server *server);
void bh_ipc_finish(struct bh_server *server);

#endif
