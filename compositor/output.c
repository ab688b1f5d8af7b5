/* Outputs: each screen, its mode, its frames drawn from the scene, and the
 * box of the output under a point. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/log.h"
#include "compositor/output.h"

static void output_handle_frame(struct wl_listener *listener, void *data)
{
	struct bh_output *output = wl_container_of(listener, output, frame);
	struct wlr_scene_output *scene_output =
		wlr_scene_get_scene_output(output->server->scene, output->output);
	if (scene_output == NULL) {
		return;
	}
	wlr_scene_output_commit(scene_output);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	wlr_scene_output_send_frame_done(scene_output, &now);
}

static void output_handle_destroy(struct wl_listener *listener, void *data)
{
	struct bh_output *output = wl_container_of(listener, output, destroy);
	wl_list_remove(&output->frame.link);
	wl_list_remove(&output->destroy.link);
	wl_list_remove(&output->link);
	free(output);
}

bool bh_output_create(struct bh_server *server, struct wlr_output *wlr_output)
{
	wlr_output_init_render(wlr_output, server->allocator, server->renderer);
	if (!wl_list_empty(&wlr_output->modes)) {
		wlr_output_set_mode(wlr_output, wlr_output_preferred_mode(wlr_output));
	} else if (getenv("BULKHEAD_OUTPUT_SIZE") != NULL) {
		int w = 0, h = 0;
		if (sscanf(getenv("BULKHEAD_OUTPUT_SIZE"), "%dx%d", &w, &h) == 2 && w > 0 &&
			h > 0 && w <= 8192 && h <= 8192) {
			wlr_output_set_custom_mode(wlr_output, w, h, 0);
		}
	}
	wlr_output_enable(wlr_output, true);
	if (!wlr_output_commit(wlr_output)) {
		bh_log(BH_LOG_ERROR, "output %s: cannot enable it", wlr_output->name);
		return false;
	}
	struct bh_output *output = calloc(1, sizeof(*output));
	if (output == NULL) {
		return false;
	}
	output->server = server;
	output->output = wlr_output;
	output->frame.notify = output_handle_frame;
	wl_signal_add(&wlr_output->events.frame, &output->frame);
	output->destroy.notify = output_handle_destroy;
	wl_signal_add(&wlr_output->events.destroy, &output->destroy);
	wl_list_insert(&server->outputs, &output->link);
	wlr_output_layout_add_auto(server->layout, wlr_output);
	wlr_output_create_global(wlr_output);
	bh_log(BH_LOG_INFO, "output %s: %dx%d", wlr_output->name, wlr_output->width,
		wlr_output->height);
	return true;
}

void bh_output_box(struct bh_server *server, int lx, int ly, struct wlr_box *box)
{
	struct wlr_output *output = wlr_output_layout_output_at(server->layout, lx, ly);
	if (output == NULL) {
		output = wlr_output_layout_get_center_output(server->layout);
	}
	*box = (struct wlr_box){0, 0, 1280, 720};
	struct wlr_box *found =
		output != NULL ? wlr_output_layout_get_box(server->layout, output) : NULL;
	if (found != NULL) {
		*box = *found;
	}
}
