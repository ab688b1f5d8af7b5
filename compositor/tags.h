/* Tags: the record the compositor keeps of each project, whether its VM
 * runs or not; starting and stopping them is vm_manager.c's. */
#ifndef BH_COMPOSITOR_TAGS_H
#define BH_COMPOSITOR_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <wayland-server-core.h>

#include "compositor/server.h"

enum bh_tag_state {
	BH_TAG_STOPPED,
	BH_TAG_STARTING,
	BH_TAG_RUNNING,
	BH_TAG_FAILED,
	/* Its libvirt is on another machine that does not answer; its
	 * windows are closed, its VM and disks there are untouched. */
	BH_TAG_UNREACHABLE,
};

/* An app installed in the guest, as the agent reported it. */
struct bh_app {
	char *id, *name, *exec, *icon;
};

struct bh_clipboard_domain; /* clipboard.c */

struct bh_tag {
	struct wl_list link; /* bh_server.tags */
	struct bh_server *server;
	char *name;
	uint32_t colour;
	bool colour_configured;
	enum bh_tag_state state;
	char *error;
	bool listed_on_disk; /* a tag directory exists in the state dir */
	int windows;
	struct bh_app *apps, *apps_pending;
	size_t app_count, apps_pending_count;
	/* The proxy and its connection (vm_manager.c). */
	pid_t proxy_pid;
	struct wl_client *control;   /* the proxy's connection, or NULL */
	struct wl_resource *manager; /* its bulkhead_vm_manager_v1 */
	struct wl_listener control_destroy;
	uint64_t start_usec; /* spawn time, for the boot status */
	char **launches;     /* commands waiting for the tag to be ready */
	/* When the user last asked for an app of this tag: its first window
	 * takes the focus even while the user types elsewhere (view.c). */
	uint64_t focus_grant_usec;
	size_t launch_count;
	struct wl_event_source *idle_timer;
	bool stopping;
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
	struct bh_clipboard_domain *selection; /* its own clipboard, or NULL */
};

/* disp-N: a disposable tag (cli/disposable.c), framed in its own colours. */
bool bh_tag_is_disposable(const struct bh_tag *tag);
/* A disposable that stopped and has no window: gone for good, so the menu
 * and IPC no longer list it (its number is never used again). */
bool bh_tag_gone(const struct bh_tag *tag);

/* What the tag's VM is given besides its own disks, from its settings, for
 * the menu: "  shares ~/src (rw), /data  link lan", or "" when nothing. */
void bh_tag_compartments(const struct bh_tag *tag, char *buf, size_t size);

/* The tag of that name; with create, a new stopped one when there is none
 * (NULL only when out of memory). */
struct bh_tag *bh_tag_get(struct bh_server *server, const char *name, bool create);
/* false, with a message for the user, when name cannot be a tag. */
bool bh_tag_name_valid(const char *name, char *error, size_t size);
const char *bh_tag_state_name(enum bh_tag_state state);
/* Starting or running. */
bool bh_tag_active(const struct bh_tag *tag);
/* Gives tag its configured colour, or a palette colour no other active
 * tag shows. */
void bh_tag_assign_colour(struct bh_tag *tag);
/* Adds an app to the list the proxy is sending (its strings sanitised);
 * bh_tag_apps_done makes that list the tag's. */
void bh_tag_add_app(
	struct bh_tag *tag, const char *id, const char *name, const char *exec, const char *icon);
void bh_tag_apps_done(struct bh_tag *tag);
/* A window of tag mapped: the first one after a start ends its boot trace. */
void bh_tag_window_shown(struct bh_tag *tag);
/* The duration (µs) of a boot step the proxy or agent reported, 0 if none. */
uint64_t bh_tag_boot_step(const struct bh_tag *tag, const char *name);

/* Adds the config's tags and gives every tag its colour again; the caller
 * draws the frames again. */
void bh_tags_apply_config(struct bh_server *server);
/* Adds the tags that have a directory in the state dir. */
void bh_tags_scan_disk(struct bh_server *server);
/* Frees every record; their proxies (vm_manager.c) and clipboards are
 * gone already. */
void bh_tags_destroy(struct bh_server *server);

#endif
