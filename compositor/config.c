/* The compositor's side of the config: the key bindings it builds from the
 * file (defaults first, then [keys]), the names of the actions a binding
 * may run, and reading the file again on reload. What the actions do is
 * actions.c's. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wlr/types/wlr_keyboard.h>

#include "common/log.h"
#include "compositor/config.h"

static const struct {
	const char *combo, *action;
} default_bindings[] = {
	{"Super+Return", "terminal"},
	{"Super+Shift+Return", "host-terminal"},
	{"Super+t", "prompt"},
	{"Super+d", "menu"},
	{"Super+Shift+d", "disposable"},
	{"Super+Tab", "focus-next"},
	{"Super+Shift+q", "close"},
	{"Super+Shift+e", "quit"},
	{"Super+f", "fullscreen"},
	{"Super+m", "maximize"},
	{"Super+Shift+r", "reload"},
	{"Super+c", "copy"},
	{"Super+v", "paste"},
	{"Super+1", "tag 1"},
	{"Super+2", "tag 2"},
	{"Super+3", "tag 3"},
	{"Super+4", "tag 4"},
	{"Super+5", "tag 5"},
	{"Super+6", "tag 6"},
	{"Super+7", "tag 7"},
	{"Super+8", "tag 8"},
	{"Super+9", "tag 9"},
};

static bool parse_combo(const char *combo, uint32_t *mods, xkb_keysym_t *sym)
{
	char buf[128];
	if (strlen(combo) >= sizeof(buf)) {
		return false;
	}
	strcpy(buf, combo);
	*mods = 0;
	*sym = XKB_KEY_NoSymbol;
	char *save = NULL;
	for (char *part = strtok_r(buf, "+", &save); part != NULL;
		part = strtok_r(NULL, "+", &save)) {
		if (*sym != XKB_KEY_NoSymbol) {
			return false; /* the key must come last */
		}
		if (strcasecmp(part, "Super") == 0 || strcasecmp(part, "Logo") == 0 ||
			strcasecmp(part, "Mod4") == 0) {
			*mods |= WLR_MODIFIER_LOGO;
		} else if (strcasecmp(part, "Shift") == 0) {
			*mods |= WLR_MODIFIER_SHIFT;
		} else if (strcasecmp(part, "Ctrl") == 0 || strcasecmp(part, "Control") == 0) {
			*mods |= WLR_MODIFIER_CTRL;
		} else if (strcasecmp(part, "Alt") == 0 || strcasecmp(part, "Mod1") == 0) {
			*mods |= WLR_MODIFIER_ALT;
		} else {
			*sym = xkb_keysym_from_name(part, XKB_KEYSYM_CASE_INSENSITIVE);
			if (*sym == XKB_KEY_NoSymbol) {
				return false;
			}
			*sym = xkb_keysym_to_lower(*sym);
		}
	}
	return *sym != XKB_KEY_NoSymbol;
}

static const struct {
	const char *name;
	enum bh_action_kind kind;
	bool takes_arg; /* "name ARG" */
} action_names[] = {
	{"terminal", BH_ACTION_TERMINAL, false},
	{"host-terminal", BH_ACTION_HOST_TERMINAL, false},
	{"prompt", BH_ACTION_PROMPT, false},
	{"menu", BH_ACTION_MENU, false},
	{"focus-next", BH_ACTION_FOCUS_NEXT, false},
	{"close", BH_ACTION_CLOSE, false},
	{"quit", BH_ACTION_QUIT, false},
	{"fullscreen", BH_ACTION_FULLSCREEN, false},
	{"maximize", BH_ACTION_MAXIMIZE, false},
	{"reload", BH_ACTION_RELOAD, false},
	{"copy", BH_ACTION_COPY, false},
	{"paste", BH_ACTION_PASTE, false},
	{"disposable", BH_ACTION_DISPOSABLE, false},
	{"none", BH_ACTION_NONE, false},
	{"tag", BH_ACTION_TAG, true},
	{"spawn", BH_ACTION_SPAWN, true},
	{"exec", BH_ACTION_EXEC, true},
};

bool bh_config_parse_action(const char *text, struct bh_action *action)
{
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++) {
		const char *name = action_names[i].name;
		size_t len = strlen(name);
		if (action_names[i].takes_arg ? strncmp(text, name, len) == 0 && text[len] == ' '
					      : strcmp(text, name) == 0) {
			action->kind = action_names[i].kind;
			action->arg = action_names[i].takes_arg ? text + len + 1 : NULL;
			return true;
		}
	}
	return false;
}

static bool add_binding(
	struct bh_server *server, uint32_t mods, xkb_keysym_t sym, const char *action)
{
	for (size_t i = 0; i < server->binding_count; i++) {
		if (server->bindings[i].mods == mods && server->bindings[i].sym == sym) {
			char *copy = strdup(action);
			if (copy == NULL) {
				return false;
			}
			free(server->bindings[i].action);
			server->bindings[i].action = copy;
			return true;
		}
	}
	struct bh_binding *grown =
		realloc(server->bindings, (server->binding_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		return false;
	}
	server->bindings = grown;
	grown[server->binding_count].mods = mods;
	grown[server->binding_count].sym = sym;
	grown[server->binding_count].action = strdup(action);
	if (grown[server->binding_count].action == NULL) {
		return false;
	}
	server->binding_count++;
	return true;
}

void bh_config_free_bindings(struct bh_server *server)
{
	for (size_t i = 0; i < server->binding_count; i++) {
		free(server->bindings[i].action);
	}
	free(server->bindings);
	server->bindings = NULL;
	server->binding_count = 0;
}

bool bh_config_load_bindings(struct bh_server *server)
{
	bh_config_free_bindings(server);
	uint32_t mods;
	xkb_keysym_t sym;
	for (size_t i = 0; i < sizeof(default_bindings) / sizeof(default_bindings[0]); i++) {
		parse_combo(default_bindings[i].combo, &mods, &sym);
		add_binding(server, mods, sym, default_bindings[i].action);
	}
	const struct bh_config *c = server->config;
	const char *file = c->path != NULL ? c->path : "config";
	for (size_t i = 0; i < c->key_count; i++) {
		const struct bh_config_entry *e = &c->keys[i];
		if (!parse_combo(e->key, &mods, &sym)) {
			bh_log(BH_LOG_ERROR,
				"%s:%d: \"%s\" is not a key combination like Super+Shift+q; "
				"ignored",
				file, e->line, e->key);
			continue;
		}
		struct bh_action action;
		if (!bh_config_parse_action(e->value, &action) ||
			(action.arg != NULL && action.arg[0] == '\0')) {
			bh_log(BH_LOG_ERROR,
				"%s:%d: unknown action \"%s\" (terminal, host-terminal, prompt, "
				"menu, "
				"focus-next, close, quit, fullscreen, maximize, reload, copy, "
				"paste, none, tag N, "
				"spawn TAG, exec COMMAND); ignored",
				file, e->line, e->value);
			continue;
		}
		add_binding(server, mods, sym, e->value);
	}
	return true;
}

bool bh_config_reload(struct bh_server *server)
{
	struct bh_config *config = bh_config_load(server->config_path);
	if (config == NULL) {
		bh_log(BH_LOG_ERROR, "cannot reload the config: out of memory");
		return false;
	}
	bh_config_free(server->config);
	server->config = config;
	bh_config_load_bindings(server);
	bh_log(BH_LOG_INFO, "config %s loaded (%d errors)",
		config->path != NULL ? config->path : "(defaults)", config->errors);
	return true;
}
