/* What the compositor takes from its config file: the file read again on
 * reload, the key bindings, and the actions a binding may name. */
#ifndef BH_COMPOSITOR_CONFIG_H
#define BH_COMPOSITOR_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <xkbcommon/xkbcommon.h>

#include "compositor/server.h"

enum bh_action_kind {
	BH_ACTION_NONE,
	BH_ACTION_TERMINAL,
	BH_ACTION_HOST_TERMINAL,
	BH_ACTION_PROMPT,
	BH_ACTION_MENU,
	BH_ACTION_FOCUS_NEXT,
	BH_ACTION_CLOSE,
	BH_ACTION_QUIT,
	BH_ACTION_FULLSCREEN,
	BH_ACTION_MAXIMIZE,
	BH_ACTION_RELOAD,
	BH_ACTION_COPY,
	BH_ACTION_PASTE,
	BH_ACTION_TAG,        /* tag N: the N-th [tag] of the config */
	BH_ACTION_SPAWN,      /* spawn TAG */
	BH_ACTION_EXEC,       /* exec COMMAND, on the host */
	BH_ACTION_DISPOSABLE, /* the default app in a new disposable tag */
};

/* An action as a binding or bulkheadctl names it ("close", "tag 2"). */
struct bh_action {
	enum bh_action_kind kind;
	const char *arg; /* what follows "tag ", "spawn " or "exec "; else NULL */
};

/* A key combination and the action it runs (actions.c). */
struct bh_binding {
	uint32_t mods; /* WLR_MODIFIER_* */
	xkb_keysym_t sym;
	char *action;
};

/* Names an action; false for a name that is none. */
bool bh_config_parse_action(const char *text, struct bh_action *action);
/* The default bindings, then those of the config's [keys]; a line that
 * is no key combination or names no action is logged and skipped. */
bool bh_config_load_bindings(struct bh_server *server);
void bh_config_free_bindings(struct bh_server *server);
/* Reads the config file again and its bindings; the old config stays
 * when there is no memory for the new one. */
bool bh_config_reload(struct bh_server *server);

#endif
