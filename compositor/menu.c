/* The launcher menu (Super+d: every tag, its state and its apps, filtered
 * as the user types) and the tag prompt (Super+t), drawn by the compositor
 * above every window where no client can imitate or cover them. While one
 * is open it has the keyboard. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wlr/types/wlr_keyboard.h>

#include "common/util.h"
#include "compositor/actions.h"
#include "compositor/first_run.h"
#include "compositor/menu.h"
#include "compositor/output.h"
#include "compositor/seat.h"
#include "compositor/tags.h"
#include "compositor/text.h"
#include "compositor/view.h"

#define FILTER_MAX 64
#define MENU_WIDTH 480
#define MENU_LINES_MAX 40

enum menu_kind { MENU_NONE, MENU_LAUNCHER, MENU_PROMPT };

struct menu_entry {
	char label[BH_TITLE_MAX + 96];
	char tag[80];
	char *command; /* NULL: the tag's default app */
};

struct bh_menu {
	struct bh_server *server;
	enum menu_kind kind;
	bh_menu_choose_fn choose;
	char filter[FILTER_MAX + 1];
	struct menu_entry *entries;
	size_t entry_count;
	size_t shown[MENU_LINES_MAX];
	size_t shown_count;
	size_t selected; /* index into shown */
	struct wlr_scene_buffer *panel;
	int panel_x, panel_y;
};

static void free_entries(struct bh_menu *o)
{
	for (size_t i = 0; i < o->entry_count; i++) {
		free(o->entries[i].command);
	}
	free(o->entries);
	o->entries = NULL;
	o->entry_count = 0;
}

static void add_entry(struct bh_menu *o, const char *label, const char *tag, const char *command)
{
	struct menu_entry *grown = realloc(o->entries, (o->entry_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		return;
	}
	o->entries = grown;
	struct menu_entry *e = &grown[o->entry_count++];
	snprintf(e->label, sizeof(e->label), "%s", label);
	snprintf(e->tag, sizeof(e->tag), "%s", tag);
	e->command = command != NULL ? strdup(command) : NULL;
}

/* A .desktop Exec line without its field codes (%f, %U, ...). */
static void strip_field_codes(const char *exec, char *out, size_t size)
{
	size_t o = 0;
	for (const char *p = exec; *p != '\0' && o + 1 < size; p++) {
		if (p[0] == '%' && p[1] != '\0') {
			if (p[1] == '%') {
				out[o++] = '%';
			}
			p++;
			continue;
		}
		out[o++] = *p;
	}
	while (o > 0 && out[o - 1] == ' ') {
		o--;
	}
	out[o] = '\0';
}

static void build_entries(struct bh_menu *o)
{
	struct bh_server *server = o->server;
	free_entries(o);
	bh_tags_scan_disk(server);
	struct bh_tag *tag;
	wl_list_for_each (tag, &server->tags, link) {
		if (bh_tag_gone(tag)) {
			continue;
		}
		char label[sizeof(o->entries[0].label)];
		char more[256];
		bh_tag_compartments(tag, more, sizeof(more));
		if ((tag->state == BH_TAG_FAILED || tag->state == BH_TAG_UNREACHABLE) &&
			tag->error != NULL) {
			snprintf(label, sizeof(label), "[%s]  %s: %s", tag->name,
				bh_tag_state_name(tag->state), tag->error);
		} else if (tag->state == BH_TAG_STARTING) {
			snprintf(label, sizeof(label), "[%s]  starting (%llu s)", tag->name,
				(unsigned long long)((bh_now_usec() - tag->start_usec) / 1000000));
		} else {
			snprintf(label, sizeof(label), "[%s]  %s", tag->name,
				bh_tag_state_name(tag->state));
		}
		size_t used = strlen(label);
		snprintf(label + used, sizeof(label) - used, "%s", more);
		add_entry(o, label, tag->name, NULL);
		for (size_t i = 0; i < tag->app_count; i++) {
			char exec[BH_TITLE_MAX + 1];
			strip_field_codes(tag->apps[i].exec, exec, sizeof(exec));
			snprintf(label, sizeof(label), "      %s  (%s)", tag->apps[i].name,
				tag->name);
			add_entry(o, label, tag->name, exec);
		}
	}
	/* Last, the entry with no tag: a new disposable tag. */
	add_entry(o, "[disp-N]  open in a disposable (Super+Shift+d)", "", NULL);
}

static void apply_filter(struct bh_menu *o)
{
	o->shown_count = 0;
	for (size_t i = 0; i < o->entry_count && o->shown_count < MENU_LINES_MAX; i++) {
		if (o->filter[0] == '\0' || strcasestr(o->entries[i].label, o->filter) != NULL) {
			o->shown[o->shown_count++] = i;
		}
	}
	if (o->selected >= o->shown_count) {
		o->selected = o->shown_count > 0 ? o->shown_count - 1 : 0;
	}
}

static void redraw(struct bh_menu *o)
{
	struct bh_server *server = o->server;
	if (o->panel != NULL) {
		wlr_scene_node_destroy(&o->panel->node);
		o->panel = NULL;
	}
	if (o->kind == MENU_NONE) {
		return;
	}
	const char *lines[MENU_LINES_MAX + 2];
	bool highlight[MENU_LINES_MAX + 2] = {0};
	char header[FILTER_MAX + 64];
	size_t count = 0;
	if (o->kind == MENU_PROMPT) {
		snprintf(header, sizeof(header), "Tag to start: %s_", o->filter);
		lines[count++] = header;
		lines[count++] = bh_first_run_offers_base(server)
					 ? "No base image yet: Enter alone builds one (Debian, a "
					   "few minutes); a name starts that tag"
					 : "Enter starts it, Escape cancels";
	} else {
		snprintf(header, sizeof(header), "bulkhead: %s_", o->filter);
		lines[count++] = header;
		for (size_t i = 0; i < o->shown_count; i++) {
			highlight[count] = i == o->selected;
			lines[count++] = o->entries[o->shown[i]].label;
		}
		if (o->shown_count == 0) {
			lines[count++] = o->entry_count > 0 ? "nothing matches"
					 : bh_first_run_offers_base(server)
						 ? "no tags and no base image yet: Super+t builds one"
						 : "no tags yet: Super+t starts one";
		}
	}
	struct wlr_box box;
	bh_output_box(server, (int)server->cursor->x, (int)server->cursor->y, &box);
	int width = MENU_WIDTH < box.width ? MENU_WIDTH : box.width;
	o->panel = bh_text_lines_buffer(server->layer_overlay, lines, highlight, count, width,
		0x202020, 0xf0f0f0, 0x3d6fb5);
	if (o->panel != NULL) {
		o->panel_x = box.x + (box.width - width) / 2;
		o->panel_y = box.y + box.height / 6;
		wlr_scene_node_set_position(&o->panel->node, o->panel_x, o->panel_y);
	}
}

/* The keyboard goes back to the focused window. */
static void release_keyboard(struct bh_server *server)
{
	bh_seat_release_keyboard(server);
	struct bh_view *view = bh_view_focused(server);
	if (view != NULL && view->mapped) {
		bh_view_focus(view);
	}
}

static void menu_close(struct bh_menu *o)
{
	o->kind = MENU_NONE;
	o->filter[0] = '\0';
	free_entries(o);
	redraw(o);
	release_keyboard(o->server);
}

void bh_menu_open(struct bh_server *server, bh_menu_choose_fn choose)
{
	struct bh_menu *o = server->menu;
	o->kind = MENU_LAUNCHER;
	o->choose = choose;
	o->filter[0] = '\0';
	o->selected = 0;
	build_entries(o);
	apply_filter(o);
	bh_seat_hold_keyboard(server);
	redraw(o);
}

void bh_menu_open_prompt(struct bh_server *server, bh_menu_choose_fn choose)
{
	struct bh_menu *o = server->menu;
	o->kind = MENU_PROMPT;
	o->choose = choose;
	o->filter[0] = '\0';
	free_entries(o);
	bh_seat_hold_keyboard(server);
	redraw(o);
}

bool bh_menu_active(struct bh_server *server)
{
	return server->menu != NULL && server->menu->kind != MENU_NONE;
}

const char *bh_menu_kind(struct bh_server *server)
{
	switch (server->menu != NULL ? server->menu->kind : MENU_NONE) {
	case MENU_LAUNCHER:
		return "menu";
	case MENU_PROMPT:
		return "prompt";
	default:
		return NULL;
	}
}

size_t bh_menu_labels(struct bh_server *server, const char **labels, size_t max)
{
	struct bh_menu *o = server->menu;
	size_t n = 0;
	for (size_t i = 0; o != NULL && o->kind == MENU_LAUNCHER && i < o->shown_count && n < max;
		i++) {
		labels[n++] = o->entries[o->shown[i]].label;
	}
	return n;
}

static void choose(struct bh_menu *o)
{
	struct bh_server *server = o->server;
	bh_menu_choose_fn chosen = o->choose;
	if (o->kind == MENU_PROMPT) {
		char name[FILTER_MAX + 1];
		snprintf(name, sizeof(name), "%s", o->filter);
		menu_close(o);
		if (name[0] != '\0') {
			chosen(server, name, NULL);
		} else if (bh_first_run_offers_base(server)) {
			bh_first_run_build_base(server);
		}
		return;
	}
	if (o->selected >= o->shown_count) {
		return;
	}
	struct menu_entry e = o->entries[o->shown[o->selected]];
	if (e.tag[0] == '\0') {
		menu_close(o);
		bh_action_disposable(server);
		return;
	}
	char *command = e.command != NULL ? strdup(e.command) : NULL;
	menu_close(o);
	chosen(server, e.tag, command);
	free(command);
}

static void filter_changed(struct bh_menu *o)
{
	if (o->kind == MENU_LAUNCHER) {
		o->selected = 0;
		apply_filter(o);
	}
	redraw(o);
}

bool bh_menu_key(struct bh_server *server, xkb_keysym_t sym, uint32_t mods)
{
	struct bh_menu *o = server->menu;
	size_t len = strlen(o->filter);
	switch (sym) {
	case XKB_KEY_Escape:
		menu_close(o);
		return true;
	case XKB_KEY_Return:
	case XKB_KEY_KP_Enter:
		choose(o);
		return true;
	case XKB_KEY_BackSpace:
		if (len > 0) {
			/* Remove one UTF-8 character. */
			do {
				len--;
			} while (len > 0 && (o->filter[len] & 0xc0) == 0x80);
			o->filter[len] = '\0';
			filter_changed(o);
		}
		return true;
	case XKB_KEY_Up:
		if (o->selected > 0) {
			o->selected--;
			redraw(o);
		}
		return true;
	case XKB_KEY_Down:
	case XKB_KEY_Tab:
		if (o->selected + 1 < o->shown_count) {
			o->selected++;
			redraw(o);
		}
		return true;
	default:
		break;
	}
	if (mods & (WLR_MODIFIER_LOGO | WLR_MODIFIER_CTRL | WLR_MODIFIER_ALT)) {
		return false;
	}
	uint32_t cp = xkb_keysym_to_utf32(sym);
	if (cp < 0x20 || cp == 0x7f) {
		return false;
	}
	char utf8[8];
	int n = xkb_keysym_to_utf8(sym, utf8, sizeof(utf8));
	if (n <= 1 || len + (size_t)(n - 1) > FILTER_MAX) {
		return true;
	}
	memcpy(o->filter + len, utf8, (size_t)n); /* n counts the NUL */
	filter_changed(o);
	return true;
}

bool bh_menu_click(struct bh_server *server, double lx, double ly)
{
	struct bh_menu *o = server->menu;
	if (o->panel == NULL) {
		menu_close(o);
		return true;
	}
	int x = (int)lx - o->panel_x, y = (int)ly - o->panel_y;
	int width = o->panel->buffer != NULL ? o->panel->buffer->width : 0;
	int height = o->panel->buffer != NULL ? o->panel->buffer->height : 0;
	if (x < 0 || y < 0 || x >= width || y >= height) {
		menu_close(o);
		return true;
	}
	int line = (y - BH_TEXT_LINES_TOP) / BH_TEXT_LINE_HEIGHT;
	if (o->kind == MENU_LAUNCHER && line >= 1 && (size_t)line - 1 < o->shown_count) {
		o->selected = (size_t)line - 1;
		choose(o);
	}
	return true;
}

bool bh_menu_init(struct bh_server *server)
{
	struct bh_menu *o = calloc(1, sizeof(*o));
	if (o == NULL) {
		return false;
	}
	o->server = server;
	server->menu = o;
	return true;
}

void bh_menu_finish(struct bh_server *server)
{
	struct bh_menu *o = server->menu;
	if (o == NULL) {
		return;
	}
	free_entries(o);
	free(o);
	server->menu = NULL;
}
