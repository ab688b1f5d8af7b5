/* The status line, top right, above every window: booting and failed tags
 * and the last note (a failure, a copy or paste), redrawn every second
 * while something boots or a note shows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "compositor/output.h"
#include "compositor/status.h"
#include "compositor/tags.h"
#include "compositor/text.h"

#define NOTE_MSEC 10000

struct bh_status {
	struct wlr_scene_buffer *line;
	char note[512];
	uint64_t note_until;
	struct wl_event_source *timer;
};

void bh_status_update(struct bh_server *server)
{
	struct bh_status *s = server->status;
	if (s == NULL) {
		return;
	}
	if (s->line != NULL) {
		wlr_scene_node_destroy(&s->line->node);
		s->line = NULL;
	}
	char text[1024];
	size_t used = 0;
	bool booting = false;
	text[0] = '\0';
	struct bh_tag *tag;
	wl_list_for_each (tag, &server->tags, link) {
		char part[256] = "";
		if (tag->state == BH_TAG_STARTING) {
			booting = true;
			snprintf(part, sizeof(part), "[%s] booting %llu s  ", tag->name,
				(unsigned long long)((bh_now_usec() - tag->start_usec) / 1000000));
		} else if (tag->state == BH_TAG_FAILED || tag->state == BH_TAG_UNREACHABLE) {
			snprintf(part, sizeof(part), "[%s] %s  ", tag->name,
				bh_tag_state_name(tag->state));
		}
		size_t n = strlen(part);
		if (used + n < sizeof(text)) {
			memcpy(text + used, part, n + 1);
			used += n;
		}
	}
	uint64_t now = bh_now_usec();
	if (s->note[0] != '\0' && now < s->note_until) {
		snprintf(text + used, sizeof(text) - used, "%s", s->note);
	} else {
		s->note[0] = '\0';
	}
	if (text[0] != '\0') {
		struct wlr_box box;
		bh_output_box(server, 0, 0, &box);
		int width = box.width * 2 / 3;
		s->line = bh_text_buffer(
			server->layer_overlay, text, width, 24, 0x202020, 0xffd75f, false);
		if (s->line != NULL) {
			wlr_scene_node_set_position(
				&s->line->node, box.x + box.width - width, box.y);
		}
	}
	if (booting || s->note[0] != '\0') {
		wl_event_source_timer_update(s->timer, 1000);
	}
}

void bh_status_note(struct bh_server *server, const char *text)
{
	struct bh_status *s = server->status;
	if (s == NULL) {
		return;
	}
	bh_text_sanitize(text, s->note, sizeof(s->note));
	s->note_until = bh_now_usec() + NOTE_MSEC * 1000ull;
	bh_status_update(server);
}

static int status_handle_tick(void *data)
{
	bh_status_update(data);
	return 0;
}

bool bh_status_init(struct bh_server *server)
{
	struct bh_status *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return false;
	}
	s->timer = wl_event_loop_add_timer(server->loop, status_handle_tick, server);
	if (s->timer == NULL) {
		free(s);
		return false;
	}
	server->status = s;
	return true;
}

void bh_status_finish(struct bh_server *server)
{
	struct bh_status *s = server->status;
	if (s == NULL) {
		return;
	}
	wl_event_source_remove(s->timer);
	free(s);
	server->status = NULL;
}
