/* Actions: what key bindings, menu entries and `bulkheadctl action` do,
 * from the names config.c knows to the calls that do them. */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "compositor/actions.h"
#include "compositor/clipboard.h"
#include "compositor/config.h"
#include "compositor/first_run.h"
#include "compositor/menu.h"
#include "compositor/status.h"
#include "compositor/tags.h"
#include "compositor/view.h"
#include "compositor/vm_manager.h"
#include "vm/paths.h"

pid_t bh_action_exec(struct bh_server *server, const char *command)
{
	if (command == NULL || command[0] == '\0') {
		return -1;
	}
	pid_t pid = bh_spawn_shell(command, NULL, NULL, true);
	if (pid > 0) {
		bh_log(BH_LOG_INFO, "started host command %s (pid %d)", command, (int)pid);
	}
	return pid;
}

pid_t bh_action_disposable(struct bh_server *server)
{
	char ctl[4096];
	bh_ctl_path(ctl, sizeof(ctl));
	const char *app = server->config->tag_app != NULL ? server->config->tag_app : "foot";
	const char *argv[] = {ctl, "run", "--disposable", "--", "sh", "-c", app, NULL};
	pid_t pid = bh_spawn(argv, NULL, NULL, true);
	if (pid > 0) {
		bh_log(BH_LOG_INFO, "opening %s in a disposable tag (pid %d)", app, (int)pid);
	} else {
		bh_status_note(server, "could not start a disposable tag: bulkheadctl did not run");
	}
	return pid;
}

/* Whether the state dir holds a disposable tag (only then is libvirt
 * asked). */
static bool any_disposable(void)
{
	char root[PATH_MAX], dir[PATH_MAX + 8];
	if (!bh_paths_state_root(root, sizeof(root)) ||
		!bh_path_fmt(dir, sizeof(dir), "%s/tags", root)) {
		return false;
	}
	DIR *d = opendir(dir);
	if (d == NULL) {
		return false;
	}
	struct dirent *e;
	bool found = false;
	while (!found && (e = readdir(d)) != NULL) {
		found = strncmp(e->d_name, "disp-", 5) == 0;
	}
	closedir(d);
	return found;
}

void bh_action_sweep_disposables(struct bh_server *server)
{
	if (!any_disposable()) {
		return;
	}
	char ctl[4096];
	bh_ctl_path(ctl, sizeof(ctl));
	const char *argv[] = {ctl, "clean", "--disposables", NULL};
	bh_spawn(argv, NULL, NULL, true);
}

void bh_action_reload(struct bh_server *server)
{
	if (!bh_config_reload(server)) {
		return;
	}
	bh_tags_apply_config(server);
	bh_views_redraw_all(server); /* a tag's colour may have changed */
}

/* Starts tag and runs command in it; a failure is the user's to see. */
static void launch(struct bh_server *server, const char *tag, const char *command)
{
	char error[512];
	if (!bh_vm_manager_launch(server, tag, command, error, sizeof(error))) {
		bh_log(BH_LOG_ERROR, "%s", error);
		bh_status_note(server, error);
	}
}

/* The n-th [tag] section of the config (1-based). */
static const char *nth_tag(struct bh_server *server, int n)
{
	if (n < 1 || (size_t)n > server->config->tag_count) {
		return NULL;
	}
	return server->config->tags[n - 1].name;
}

/* The bottom-most mapped window comes to the top: a cycle. */
static void focus_next(struct bh_server *server, struct bh_view *focused)
{
	struct bh_view *v;
	wl_list_for_each_reverse (v, &server->views, link) {
		if (v->mapped && v != focused) {
			bh_view_focus(v);
			return;
		}
	}
}

bool bh_action_run(struct bh_server *server, const char *text)
{
	struct bh_action action;
	if (!bh_config_parse_action(text, &action)) {
		return false;
	}
	struct bh_view *view = bh_view_focused(server);
	struct bh_tag *tag = view != NULL ? view->tag : NULL; /* the focused domain */
	const char *name;
	switch (action.kind) {
	case BH_ACTION_NONE:
		break;
	case BH_ACTION_TERMINAL:
		if (tag != NULL) {
			launch(server, tag->name, NULL);
		} else {
			bh_action_exec(server, server->config->terminal);
		}
		break;
	case BH_ACTION_HOST_TERMINAL:
		bh_action_exec(server, server->config->terminal);
		break;
	case BH_ACTION_PROMPT:
		bh_menu_open_prompt(server, launch);
		break;
	case BH_ACTION_MENU:
		bh_menu_open(server, launch);
		break;
	case BH_ACTION_FOCUS_NEXT:
		focus_next(server, view);
		break;
	case BH_ACTION_CLOSE:
		if (view != NULL) {
			bh_view_close(view);
		}
		break;
	case BH_ACTION_QUIT:
		wl_display_terminate(server->display);
		break;
	case BH_ACTION_FULLSCREEN:
		if (view != NULL) {
			bh_view_set_fullscreen(view, !view->fullscreen);
		}
		break;
	case BH_ACTION_MAXIMIZE:
		if (view != NULL) {
			bh_view_set_maximized(view, !view->maximized);
		}
		break;
	case BH_ACTION_RELOAD:
		bh_action_reload(server);
		break;
	case BH_ACTION_COPY:
		bh_clipboard_copy(server, tag);
		break;
	case BH_ACTION_PASTE:
		bh_clipboard_paste(server, tag);
		break;
	case BH_ACTION_TAG:
		name = nth_tag(server, atoi(action.arg));
		if (name != NULL) {
			launch(server, name, NULL);
		}
		break;
	case BH_ACTION_SPAWN:
		launch(server, action.arg, NULL);
		break;
	case BH_ACTION_EXEC:
		bh_action_exec(server, action.arg);
		break;
	case BH_ACTION_DISPOSABLE:
		bh_action_disposable(server);
		break;
	}
	return true;
}
