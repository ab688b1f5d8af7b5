/* The bulkhead compositor: shared state of the server, its views and tags. */
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
#include <xkbcommon/xkbcommon.h>

#include "common/config.h"

#define BH_BORDER 4        /* frame border of a VM window, px */
#define BH_HOST_BORDER 2   /* frame border of a host window */
#define BH_TITLE_HEIGHT 22 /* title bar */
#define BH_POPUP_BORDER 2  /* thin frame around VM popups */
#define BH_TITLE_MAX 256   /* bytes of a client title kept */
#define BH_HOST_COLOUR 0x5a5a5a

enum bh_tag_state {
	BH_TAG_STOPPED,
	BH_TAG_STARTING,
	BH_TAG_RUNNING,
	BH_TAG_FAILED,
};

struct domain_selection; /* clipboard.c */
struct bh_clipboard;

struct bh_app {
	char *id, *name, *exec, *icon;
};

struct bh_tag {
	struct wl_list link; /* bh_server.tags */
	struct bh_server *server;
	char *name;
	uint32_t colour;
	bool colour_configured;
	enum bh_tag_state state;
	char *error;
	pid_t proxy_pid;
	struct wl_client *control;         /* the proxy's connection, or NULL */
	struct wl_resource *manager;       /* its bulkhead_vm_manager_v1 */
	struct wl_listener control_destroy;
	uint64_t start_usec;               /* spawn time, for the boot status */
	/* The last boot, for `bulkheadctl boot-trace` (IPC "tags"): when each
	 * milestone was reached (0 = not yet) and the steps the proxy and the
	 * agent measured (host-domain-start, host-channel-connected,
	 * guest-kernel, guest-userspace), in microseconds. */
	struct bh_boot {
		uint64_t ready_usec, first_client_usec, first_window_usec;
		struct {
			char name[32];
			uint64_t usec;
		} steps[8];
		size_t step_count;
	} boot;
	struct bh_app *apps, *apps_pending;
	size_t app_count, apps_pending_count;
	char **launches; /* commands waiting for the tag to be ready */
	size_t launch_count;
	int windows;
	struct wl_event_source *idle_timer;
	bool stopping;
	bool listed_on_disk; /* a tag directory exists in the state dir */
	struct domain_selection *selection; /* its own clipboard */
};

/* What the compositor knows about a wl_client: host (tag NULL) or tagged. */
struct bh_client {
	struct wl_listener destroy;
	struct bh_tag *tag;
	bool control; /* the proxy's own connection */
};

enum bh_view_kind { BH_VIEW_TOPLEVEL };

struct bh_view {
	struct wl_list link; /* bh_server.views, top first */
	struct bh_server *server;
	uint32_t id;
	struct wlr_xdg_surface *xdg;
	struct bh_tag *tag; /* NULL for host windows; fixed at creation */
	struct wlr_scene_node *tree;    /* whole frame */
	struct wlr_scene_node *surface; /* the xdg surface tree */
	struct wlr_scene_rect *edge[4]; /* top, bottom, left, right */
	struct wlr_scene_buffer *title_buffer;
	char title[BH_TITLE_MAX + 1];   /* sanitised client title */
	char app_id[BH_TITLE_MAX + 1];
	int x, y;           /* frame position (layout coords) */
	int width, height;  /* content size (the xdg geometry) */
	bool mapped, focused, maximized, fullscreen;
	struct wlr_box saved; /* geometry before maximize/fullscreen */
	uint32_t drawn_colour;
	int drawn_width;
	bool drawn_focused;
	char drawn_title[BH_TITLE_MAX + 64];
	struct wl_listener map, unmap, destroy, commit, new_popup;
	struct wl_listener request_move, request_resize, request_maximize, request_fullscreen;
	struct wl_listener set_title, set_app_id;
};

struct bh_popup {
	struct wlr_xdg_popup *popup;
	struct wlr_scene_node *node;
	struct wlr_scene_rect *edge[4];
	struct bh_tag *tag;
	struct wl_listener commit, destroy, new_popup;
};

enum bh_grab { BH_GRAB_NONE, BH_GRAB_MOVE, BH_GRAB_RESIZE };

struct bh_binding {
	uint32_t mods;
	xkb_keysym_t sym;
	char *action;
};

struct bh_keyboard {
	struct wl_list link;
	struct bh_server *server;
	struct wlr_input_device *device;
	bool is_virtual;
	struct wl_listener modifiers, key, destroy;
};

struct bh_overlay; /* menu, prompt and status (menu.c) */

struct bh_server {
	struct wl_display *display;
	struct wl_event_loop *loop;
	struct wlr_backend *backend;
	struct wlr_renderer *renderer;
	struct wlr_allocator *allocator;
	struct wlr_scene *scene;
	struct wlr_scene_node *layer_views, *layer_overlay;
	struct wlr_output_layout *layout;
	struct wl_list outputs;
	struct wlr_xdg_shell *xdg_shell;
	struct wlr_cursor *cursor;
	struct wlr_xcursor_manager *xcursor;
	struct wlr_seat *seat;
	struct wl_list keyboards;
	struct wl_list views;
	struct wl_list tags;
	uint32_t next_view_id;
	struct bh_config *config;
	const char *config_path; /* -c, or NULL for the default */
	struct bh_binding *bindings;
	size_t binding_count;
	const char *socket;
	char ipc_path[256];
	struct bh_overlay *overlay;
	struct bh_clipboard *clipboard;
	struct wl_client *selection_client; /* the client whose set_selection runs */
	struct wl_protocol_logger *logger;
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
	struct wl_listener request_cursor, request_set_selection, request_set_primary_selection;
	struct wl_listener new_virtual_keyboard, new_virtual_pointer, request_activate;
};

/* server.c */
bool bh_server_init(struct bh_server *server);
void bh_server_finish(struct bh_server *server);
bool bh_guest_global_allowed(const char *interface);
struct bh_client *bh_client_get(struct wl_client *client);
struct bh_tag *bh_client_tag(struct wl_client *client);
struct bh_client *bh_client_mark(struct wl_client *client, struct bh_tag *tag, bool control);
void bh_server_output_box(struct bh_server *server, int lx, int ly, struct wlr_box *box);

/* view.c */
void bh_view_new_xdg_surface(struct wl_listener *listener, void *data);
void bh_view_focus(struct bh_view *view);
void bh_view_close(struct bh_view *view);
void bh_view_redraw_frame(struct bh_view *view);
void bh_view_set_maximized(struct bh_view *view, bool on);
void bh_view_set_fullscreen(struct bh_view *view, bool on);
struct bh_view *bh_view_at(struct bh_server *server, double lx, double ly,
	struct wlr_surface **surface, double *sx, double *sy, bool *on_frame);
struct bh_view *bh_view_focused(struct bh_server *server);
struct bh_view *bh_view_by_id(struct bh_server *server, uint32_t id);
uint32_t bh_view_colour(const struct bh_view *view);
void bh_view_display_title(const struct bh_view *view, char *buf, size_t size);
void bh_sanitize_title(const char *in, char *out, size_t size);
void bh_views_redraw_tag(struct bh_server *server, struct bh_tag *tag);

/* input.c */
void bh_input_init(struct bh_server *server);
void bh_input_new_input(struct wl_listener *listener, void *data);
void bh_input_add_keyboard(struct bh_server *server, struct wlr_input_device *device);
void bh_input_new_virtual_keyboard(struct wl_listener *listener, void *data);
void bh_input_new_virtual_pointer(struct wl_listener *listener, void *data);
/* Which frame edges (WLR_EDGE_*) the layout point is on: 0 on the title
 * bar, which moves the window instead. */
uint32_t bh_view_frame_edges(const struct bh_view *view, double lx, double ly);
bool bh_bindings_load(struct bh_server *server);
bool bh_run_action(struct bh_server *server, const char *action);
void bh_config_reload(struct bh_server *server);

/* tags.c */
bool bh_vm_manager_init(struct bh_server *server);
struct bh_tag *bh_tag_get(struct bh_server *server, const char *name, bool create);
bool bh_tag_name_valid(const char *name, char *error, size_t size);
bool bh_tag_spawn(struct bh_server *server, const char *name, const char *command,
	char *error, size_t size);
bool bh_tag_stop(struct bh_server *server, struct bh_tag *tag, char *error, size_t size);
const char *bh_tag_state_name(enum bh_tag_state state);
void bh_tags_apply_config(struct bh_server *server);
void bh_tags_scan_disk(struct bh_server *server);
void bh_tag_window_closed(struct bh_tag *tag);
/* A window of tag mapped: the first one after a start ends its boot trace. */
void bh_tag_window_shown(struct bh_tag *tag);
/* The duration (µs) of a boot step the proxy or agent reported, 0 if none. */
uint64_t bh_tag_boot_step(const struct bh_tag *tag, const char *name);
void bh_tags_destroy(struct bh_server *server);
pid_t bh_spawn_host(struct bh_server *server, const char *command);

/* ipc.c */
bool bh_ipc_init(struct bh_server *server);
void bh_ipc_finish(struct bh_server *server);

/* menu.c */
bool bh_overlay_init(struct bh_server *server);
void bh_overlay_destroy(struct bh_server *server);
void bh_menu_open(struct bh_server *server);
void bh_prompt_open(struct bh_server *server);
bool bh_overlay_active(struct bh_server *server);
const char *bh_overlay_kind(struct bh_server *server);
bool bh_overlay_key(struct bh_server *server, xkb_keysym_t sym, uint32_t mods);
bool bh_overlay_click(struct bh_server *server, double lx, double ly);
void bh_status_update(struct bh_server *server);
void bh_overlay_note(struct bh_server *server, const char *text);

/* clipboard.c */
struct wlr_data_source;
struct wlr_primary_selection_source;
bool bh_clipboard_init(struct bh_server *server);
void bh_clipboard_finish(struct bh_server *server);
bool bh_clipboard_tag_init(struct bh_tag *tag);
void bh_clipboard_tag_finish(struct bh_server *server, struct bh_tag *tag);
void bh_clipboard_focus(struct bh_server *server, struct bh_tag *tag);
void bh_clipboard_request_set(struct bh_server *server, struct wl_client *client,
	struct wlr_data_source *source);
void bh_clipboard_request_set_primary(struct bh_server *server, struct wl_client *client,
	struct wlr_primary_selection_source *source);
void bh_clipboard_copy(struct bh_server *server);
void bh_clipboard_paste(struct bh_server *server);

/* text.c: pango text into a scene buffer */
struct wlr_scene_buffer *bh_text_buffer(struct wlr_scene_node *parent, const char *text,
	int width, int height, uint32_t background, uint32_t foreground, bool bold);
struct wlr_scene_buffer *bh_lines_buffer(struct wlr_scene_node *parent, const char *const *lines,
	const bool *highlight, size_t count, int width, uint32_t background, uint32_t foreground,
	uint32_t accent);
void bh_colour_to_float(uint32_t rgb, float out[4]);
uint32_t bh_colour_shade(uint32_t rgb, double factor);

#endif
