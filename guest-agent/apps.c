/* The guest's app list: .desktop files from the XDG data dirs, reduced to
 * id, name, exec (field codes stripped) and icon. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "guest-agent/agent.h"

#define MAX_LINE 4096
#define MAX_FIELD 1024
#define MAX_DEPTH 4

static bool have_id(const struct bh_app_list *list, const char *id)
{
	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->apps[i].id, id) == 0) {
			return true;
		}
	}
	return false;
}

/* Exec with the field codes removed (%f %F %u %U %i %c %k and the deprecated
 * ones); "%%" is a literal percent. */
static char *strip_field_codes(const char *exec)
{
	size_t len = strlen(exec);
	char *out = malloc(len + 1);
	if (out == NULL) {
		return NULL;
	}
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (exec[i] == '%' && i + 1 < len) {
			i++;
			if (exec[i] == '%') {
				out[o++] = '%';
			}
			continue;
		}
		out[o++] = exec[i];
	}
	/* Trim the spaces a removed code leaves at the end. */
	while (o > 0 && out[o - 1] == ' ') {
		o--;
	}
	out[o] = '\0';
	return out;
}

static void app_free(struct bh_app *app)
{
	free(app->id);
	free(app->name);
	free(app->exec);
	free(app->icon);
}

/* Parses one desktop file; true if it is a launchable application. */
static bool parse_desktop_file(const char *path, struct bh_app *app)
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		return false;
	}
	char line[MAX_LINE];
	bool in_entry = false, is_app = false, hidden = false;
	char name[MAX_FIELD] = "", exec[MAX_FIELD] = "", icon[MAX_FIELD] = "";
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '[') {
			in_entry = strcmp(line, "[Desktop Entry]") == 0;
			continue;
		}
		if (!in_entry) {
			continue;
		}
		char *eq = strchr(line, '=');
		if (eq == NULL) {
			continue;
		}
		*eq = '\0';
		const char *key = line, *value = eq + 1;
		/* Keys may have trailing spaces before '='. */
		for (char *k = eq - 1; k >= line && *k == ' '; k--) {
			*k = '\0';
		}
		while (*value == ' ') {
			value++;
		}
		if (strcmp(key, "Type") == 0) {
			is_app = strcmp(value, "Application") == 0;
		} else if (strcmp(key, "Name") == 0) {
			snprintf(name, sizeof(name), "%s", value);
		} else if (strcmp(key, "Exec") == 0) {
			snprintf(exec, sizeof(exec), "%s", value);
		} else if (strcmp(key, "Icon") == 0) {
			snprintf(icon, sizeof(icon), "%s", value);
		} else if ((strcmp(key, "NoDisplay") == 0 || strcmp(key, "Hidden") == 0) &&
			strcmp(value, "true") == 0) {
			hidden = true;
		}
	}
	fclose(f);
	if (!is_app || hidden || name[0] == '\0' || exec[0] == '\0') {
		return false;
	}
	app->name = strdup(name);
	app->exec = strip_field_codes(exec);
	app->icon = icon[0] != '\0' ? strdup(icon) : NULL;
	if (app->name == NULL || app->exec == NULL || (icon[0] != '\0' && app->icon == NULL)) {
		app_free(app);
		return false;
	}
	return true;
}

/* The desktop file id: the path under applications/ with '/' -> '-'. */
static void scan_dir(struct bh_app_list *list, const char *dir, const char *prefix, int depth)
{
	if (depth > MAX_DEPTH) {
		return;
	}
	DIR *d = opendir(dir);
	if (d == NULL) {
		return;
	}
	struct dirent *ent;
	while ((ent = readdir(d)) != NULL && list->count < BH_AGENT_MAX_APPS) {
		if (ent->d_name[0] == '.') {
			continue;
		}
		char path[4096], id[1024];
		if (snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name) >= (int)sizeof(path) ||
			snprintf(id, sizeof(id), "%s%s", prefix, ent->d_name) >= (int)sizeof(id)) {
			continue;
		}
		struct stat st;
		if (stat(path, &st) != 0) {
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			char sub[1024];
			if (snprintf(sub, sizeof(sub), "%s-", id) < (int)sizeof(sub)) {
				scan_dir(list, path, sub, depth + 1);
			}
			continue;
		}
		size_t len = strlen(id);
		if (len <= 8 || strcmp(id + len - 8, ".desktop") != 0 || !S_ISREG(st.st_mode) ||
			have_id(list, id)) {
			continue;
		}
		struct bh_app app = {0};
		if (!parse_desktop_file(path, &app)) {
			continue;
		}
		app.id = strdup(id);
		if (app.id == NULL) {
			app_free(&app);
			continue;
		}
		list->apps[list->count++] = app;
	}
	closedir(d);
}

static int app_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bh_app *)a)->id, ((const struct bh_app *)b)->id);
}

bool bh_app_list_scan(struct bh_app_list *list, const char *data_home, const char *data_dirs)
{
	list->count = 0;
	list->apps = calloc(BH_AGENT_MAX_APPS, sizeof(*list->apps));
	if (list->apps == NULL) {
		return false;
	}
	/* Data home first: an id found there hides the same id further on. */
	char dir[4096];
	if (data_home != NULL && data_home[0] != '\0' &&
		snprintf(dir, sizeof(dir), "%s/applications", data_home) < (int)sizeof(dir)) {
		scan_dir(list, dir, "", 0);
	}
	if (data_dirs == NULL || data_dirs[0] == '\0') {
		data_dirs = "/usr/local/share:/usr/share";
	}
	char *copy = strdup(data_dirs);
	if (copy == NULL) {
		return false;
	}
	char *save = NULL;
	for (char *tok = strtok_r(copy, ":", &save); tok != NULL; tok = strtok_r(NULL, ":", &save)) {
		if (tok[0] != '/') {
			continue;
		}
		if (snprintf(dir, sizeof(dir), "%s/applications", tok) < (int)sizeof(dir)) {
			scan_dir(list, dir, "", 0);
		}
	}
	free(copy);
	qsort(list->apps, list->count, sizeof(*list->apps), app_cmp);
	return true;
}

void bh_app_list_finish(struct bh_app_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		app_free(&list->apps[i]);
	}
	free(list->apps);
	list->apps = NULL;
	list->count = 0;
}
