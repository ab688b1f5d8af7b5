/* Tags: one record per project the compositor knows (from the config, the
 * state dir, or a spawn), with its colour, state, apps and boot trace.
 * Records live until the compositor exits. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "compositor/tags.h"
#include "compositor/text.h"
#include "vm/config.h"
#include "vm/paths.h"
#include "vm/tag.h"

#define MAX_APPS 512

/* Distinct, readable on white text or black text, not grey (grey is the
 * host's frame). */
static const uint32_t palette[] = {
	0xd64541, /* red */
	0x2e86de, /* blue */
	0x27ae60, /* green */
	0xf39c12, /* orange */
	0x8e44ad, /* purple */
	0x16a5a5, /* teal */
	0xe84393, /* pink */
	0xb7950b, /* olive */
	0x6c5ce7, /* indigo */
	0x935116, /* brown */
	0x00b894, /* mint */
	0xc0392b, /* dark red */
};
#define PALETTE_SIZE (sizeof(palette) / sizeof(palette[0]))

/* Disposable tags: shades of warning yellow with black text,
 * never in the palette above, so a throwaway window never looks like a
 * kept tag's. */
static const uint32_t disposable_palette[] = {0xffd600, 0xffea00, 0xfff176, 0xffc400};

bool bh_tag_is_disposable(const struct bh_tag *tag)
{
	const char *n = tag->name;
	if (strncmp(n, "disp-", 5) != 0 || n[5] < '1' || n[5] > '9') {
		return false;
	}
	for (n += 5; *n; n++) {
		if (*n < '0' || *n > '9') {
			return false;
		}
	}
	return true;
}

bool bh_tag_gone(const struct bh_tag *tag)
{
	return bh_tag_is_disposable(tag) && tag->state == BH_TAG_STOPPED && tag->windows == 0;
}

const char *bh_tag_state_name(enum bh_tag_state state)
{
	switch (state) {
	case BH_TAG_STOPPED:
		return "stopped";
	case BH_TAG_STARTING:
		return "starting";
	case BH_TAG_RUNNING:
		return "running";
	case BH_TAG_FAILED:
		return "failed";
	case BH_TAG_UNREACHABLE:
		return "unreachable";
	}
	return "unknown";
}

bool bh_tag_name_valid(const char *name, char *error, size_t size)
{
	const char *why = NULL;
	if (!bh_tag_check(name, &why)) {
		snprintf(error, size, "cannot use that tag name: %s", why);
		return false;
	}
	return true;
}

bool bh_tag_active(const struct bh_tag *tag)
{
	return tag->state == BH_TAG_STARTING || tag->state == BH_TAG_RUNNING;
}

/* A colour for a tag without one in the config: the first palette colour
 * no other active tag shows; when all are taken, the least used one. */
void bh_tag_assign_colour(struct bh_tag *tag)
{
	struct bh_server *server = tag->server;
	const struct bh_config_tag *ct = bh_config_tag(server->config, tag->name);
	if (ct != NULL && ct->has_colour) {
		tag->colour = ct->colour;
		tag->colour_configured = true;
		return;
	}
	tag->colour_configured = false;
	if (bh_tag_is_disposable(tag)) {
		unsigned long n = strtoul(tag->name + 5, NULL, 10);
		tag->colour = disposable_palette[n % BH_ARRAY_LEN(disposable_palette)];
		return;
	}
	unsigned used[PALETTE_SIZE] = {0};
	struct bh_tag *other;
	wl_list_for_each (other, &server->tags, link) {
		if (other == tag || !bh_tag_active(other)) {
			continue;
		}
		for (size_t i = 0; i < PALETTE_SIZE; i++) {
			used[i] += other->colour == palette[i];
		}
	}
	size_t best = 0;
	for (size_t i = 1; i < PALETTE_SIZE; i++) {
		if (used[i] < used[best]) {
			best = i;
		}
	}
	/* Keep the colour it has when it is still free. */
	for (size_t i = 0; i < PALETTE_SIZE; i++) {
		if (tag->colour == palette[i] && used[i] == used[best]) {
			return;
		}
	}
	tag->colour = palette[best];
}

struct bh_tag *bh_tag_get(struct bh_server *server, const char *name, bool create)
{
	struct bh_tag *tag;
	wl_list_for_each (tag, &server->tags, link) {
		if (strcmp(tag->name, name) == 0) {
			return tag;
		}
	}
	if (!create) {
		return NULL;
	}
	tag = calloc(1, sizeof(*tag));
	if (tag == NULL || (tag->name = strdup(name)) == NULL) {
		free(tag);
		return NULL;
	}
	tag->server = server;
	tag->state = BH_TAG_STOPPED;
	tag->colour = 0xffffffff;
	wl_list_insert(server->tags.prev, &tag->link);
	bh_tag_assign_colour(tag);
	return tag;
}

static void free_apps(struct bh_app *apps, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(apps[i].id);
		free(apps[i].name);
		free(apps[i].exec);
		free(apps[i].icon);
	}
	free(apps);
}

static char *clean_dup(const char *text)
{
	char buf[BH_TITLE_MAX + 1];
	bh_text_sanitize(text, buf, sizeof(buf));
	return strdup(buf);
}

void bh_tag_add_app(
	struct bh_tag *tag, const char *id, const char *name, const char *exec, const char *icon)
{
	if (tag->apps_pending_count >= MAX_APPS) {
		return;
	}
	struct bh_app *grown =
		realloc(tag->apps_pending, (tag->apps_pending_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		return;
	}
	tag->apps_pending = grown;
	struct bh_app *app = &grown[tag->apps_pending_count++];
	app->id = clean_dup(id);
	app->name = clean_dup(name);
	app->exec = clean_dup(exec);
	app->icon = icon != NULL ? clean_dup(icon) : NULL;
}

void bh_tag_apps_done(struct bh_tag *tag)
{
	free_apps(tag->apps, tag->app_count);
	tag->apps = tag->apps_pending;
	tag->app_count = tag->apps_pending_count;
	tag->apps_pending = NULL;
	tag->apps_pending_count = 0;
	bh_log(BH_LOG_INFO, "tag %s: %zu apps", tag->name, tag->app_count);
}

void bh_tag_window_shown(struct bh_tag *tag)
{
	if (tag->boot.first_window_usec == 0 && tag->start_usec != 0) {
		tag->boot.first_window_usec = bh_now_usec();
	}
}

uint64_t bh_tag_boot_step(const struct bh_tag *tag, const char *name)
{
	for (size_t i = 0; i < tag->boot.step_count; i++) {
		if (strcmp(tag->boot.steps[i].name, name) == 0) {
			return tag->boot.steps[i].usec;
		}
	}
	return 0;
}

void bh_tags_apply_config(struct bh_server *server)
{
	for (size_t i = 0; i < server->config->tag_count; i++) {
		bh_tag_get(server, server->config->tags[i].name, true);
	}
	struct bh_tag *tag;
	wl_list_for_each (tag, &server->tags, link) {
		bh_tag_assign_colour(tag);
	}
}

void bh_tags_scan_disk(struct bh_server *server)
{
	char root[PATH_MAX];
	if (!bh_paths_state_root(root, sizeof(root))) {
		return;
	}
	char dir[PATH_MAX + 8];
	snprintf(dir, sizeof(dir), "%s/tags", root);
	DIR *d = opendir(dir);
	if (d == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char name[BH_TAG_MAX + 1];
		if (e->d_name[0] == '.' || !bh_tag_from_dirname(e->d_name, name)) {
			continue;
		}
		struct bh_tag *tag = bh_tag_get(server, name, true);
		if (tag != NULL) {
			tag->listed_on_disk = true;
		}
	}
	closedir(d);
}

void bh_tags_destroy(struct bh_server *server)
{
	struct bh_tag *tag, *tmp;
	wl_list_for_each_safe (tag, tmp, &server->tags, link) {
		free_apps(tag->apps, tag->app_count);
		free_apps(tag->apps_pending, tag->apps_pending_count);
		free(tag->error);
		free(tag->name);
		wl_list_remove(&tag->link);
		free(tag);
	}
}

void bh_tag_compartments(const struct bh_tag *tag, char *buf, size_t size)
{
	struct bh_vm_settings *s = calloc(1, sizeof(*s));
	buf[0] = '\0';
	if (s == NULL) {
		return;
	}
	bh_vm_settings_from_config(tag->server->config, tag->name, s);
	size_t n = 0;
	for (unsigned i = 0; i < s->share_count && n < size; i++) {
		n += (size_t)snprintf(buf + n, size - n, "%s%s%s", i == 0 ? "  shares " : ", ",
			s->shares[i].host, s->shares[i].rw ? " (rw)" : "");
	}
	for (unsigned i = 0; i < s->link_count && n < size; i++) {
		n += (size_t)snprintf(
			buf + n, size - n, "%s%s", i == 0 ? "  link " : ", ", s->links[i]);
	}
	free(s);
}
