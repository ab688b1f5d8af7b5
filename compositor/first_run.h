/* The compositor's first run: `bulkheadctl doctor` at start, its problems
 * in the status line once, and the base build Super+t offers while there
 * is no base. bulkheadctl runs as a child: the compositor links no libvirt
 * for this. */
#ifndef COMPOSITOR_FIRST_RUN_H
#define COMPOSITOR_FIRST_RUN_H

#include <stdbool.h>

struct bh_server;

/* Starts `bulkheadctl doctor --json` unless BULKHEAD_DOCTOR=off; its
 * report arrives through the event loop. False only when it could not be
 * started (logged). */
bool bh_first_run_check(struct bh_server *server);
/* bulkheadctl beside this binary (build tree or install), else PATH. */
void bh_ctl_path(char *out, size_t size);
/* No base is registered and none is being built: the prompt offers one. */
bool bh_first_run_offers_base(struct bh_server *server);
/* Starts `bulkheadctl base build`, its progress shown in the status line. */
void bh_first_run_build_base(struct bh_server *server);
/* Closes what still runs at exit. */
void bh_first_run_finish(struct bh_server *server);

#endif
