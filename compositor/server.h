/* The compositor's shared state: the server struct every file reads, and
 * what server.c offers: bringing the server up and down, and the globals
 * a guest may see. */
#ifndef BH_COMPOSITOR_SERVER_H
#define BH_COMPOSITOR_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <wayland-server-core.h>
#include <wlr/backend.h>
#include <wlr/render/allocator.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xcursor_manager.h>
#include <wlr/types/wlr_xdg_shell.h>

#include "common/config.h"

struct bh_binding;   /* config.c */
struct bh_clipboard; /* clipboard.c */
struct bh_menu;      /* menu.c */
struct bh_status;    /* status.c */
struct bh_view;      /* view.c */

/* A pointer grab: the window the cursor moves or resizes (view.c, cursor.c). */
enum bh_grab { BH_GRAB_NONE, BH_GRAB_MOVE, BH_GRAB_RESIZE };

struct bh_server {
	struct wl_display *display;
	struct wl_event_loop *loop;
	struct wlr_backend *backend;
	struct wlr_renderer *renderer;
	struct wlr_allocator *allocator;
	struct wlr_scene *scene;
	struct wlr_scene_node *layer_views, *layer_overlay;
	struct wlr_output_layout *layout;
	struct wl_list outputs; /* bh_output.link */
	struct wlr_xdg_shell *xdg_shell;
	struct wlr_cursor *cursor;
	struct wlr_xcursor_manager *xcursor;
	struct wlr_seat *seat;
	bool keyboard_held;       /* the menu or prompt has the keyboard (seat.c) */
	uint64_t last_key_usec;   /* the last key press, for focus on map (view.c) */
	struct wl_list keyboards; /* bh_keyboard.link */
	struct wl_list views;     /* bh_view.link, top first */
	struct wl_list tags;      /* bh_tag.link */
	uint32_t next_view_id;
	struct bh_config *config;
	const char *config_path; /* -c, or NULL for the default */
	struct bh_binding *bindings;
	size_t binding_count;
	const char *socket;
	char ipc_path[256];
	struct bh_menu *menu;
	struct bh_status *status;
	struct bh_clipboard *clipboard;
	struct wl_global *vm_manager;
	enum bh_grab grab;
	struct bh_view *grab_view;
	double grab_x, grab_y;
	struct wlr_box grab_box;
	uint32_t grab_edges;
	pid_t startup_pid;
	bool exit_with_startup;
	bool quitting;
	int exit_status;
	char proxy_path[4096];

	struct wl_listener new_output, new_input, new_xdg_surface, new_decoration;
	struct wl_listener cursor_motion, cursor_motion_absolute, cursor_button, cursor_axis,
		cursor_frame;
	struct wl_listener request_cursor;
	struct wl_listener new_virtual_keyboard, new_virtual_pointer, request_activate;
};

bool bh_server_init(struct bh_server *server);
void bh_server_finish(struct bh_server *server);
/* Whether a guest client may see a global of that interface. */
bool bh_guest_global_allowed(const char *interface);

#endif
