/* Actions: what a key binding, a menu entry or `bulkheadctl action` does. */
#ifndef BH_COMPOSITOR_ACTIONS_H
#define BH_COMPOSITOR_ACTIONS_H

#include <stdbool.h>
#include <sys/types.h>

#include "compositor/server.h"

/* Runs an action named as in the config ("close", "tag 2", "exec foot");
 * false for a name that is no action. */
bool bh_action_run(struct bh_server *server, const char *action);
/* Reads the config again and applies it: bindings, tags, their colours. */
void bh_action_reload(struct bh_server *server);
/* Runs command through /bin/sh on the host; its pid, or -1. */
pid_t bh_action_exec(struct bh_server *server, const char *command);
/* `bulkheadctl run --disposable -- sh -c TAG_APP`: the default app in a new
 * disposable tag, which goes when the app's last window closes. */
pid_t bh_action_disposable(struct bh_server *server);
/* `bulkheadctl clean --disposables`, at start: disposables a crash left. */
void bh_action_sweep_disposables(struct bh_server *server);

#endif
