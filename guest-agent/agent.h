/* The guest agent: the channel to the host, its control messages, and the
 * hooks the guest end of the Wayland relay (relay_guest.c) plugs into. */
#ifndef GUEST_AGENT_AGENT_H
#define GUEST_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/endpoint.h"

struct wl_event_loop;
struct bh_agent;

struct bh_agent_options {
	const char *channel;         /* channel address (common/transport.h) */
	bool listen;                 /* listen on unix:/vsock: and serve one host at a time */
	const char *wayland_display; /* socket name in the guest user's runtime dir */
	const char *user;            /* guest user; NULL = the current user */
	/* The user's runtime dir; NULL = $XDG_RUNTIME_DIR for an agent run as
	 * the user, /run/user/UID for a root agent. */
	const char *runtime_dir;
};

/* Mounts the host folders and addresses the link interfaces that the
 * kernel command line in cmdline_path names (guest_setup.c); a writable
 * share's top is handed to uid:gid. Needs root; each failure is logged and
 * the rest goes on. */
void bh_agent_guest_setup(const char *cmdline_path, uid_t uid, gid_t gid);

struct bh_agent *bh_agent_create(struct wl_event_loop *loop, const struct bh_agent_options *opts);
void bh_agent_destroy(struct bh_agent *agent);
/* The agent was told to stop (SIGTERM: the guest shuts down): tells the
 * host, so a clean shutdown is not reported as a failure. */
void bh_agent_say_bye(struct bh_agent *agent);

struct wl_event_loop *bh_agent_event_loop(struct bh_agent *agent);

/* The guest user the agent runs apps as (uid/gid, and the runtime dir that
 * holds the Wayland socket, e.g. /run/user/1000, created 0700 for them). */
uid_t bh_agent_uid(const struct bh_agent *agent);
gid_t bh_agent_gid(const struct bh_agent *agent);
const char *bh_agent_runtime_dir(const struct bh_agent *agent);

/* True while a host is connected and has been sent HELLO. */
bool bh_agent_connected(const struct bh_agent *agent);

/* For relay_guest.c: opens a stream of kind (BH_STREAM_WAYLAND for a new guest
 * client, BH_STREAM_PIPE for a clipboard pipe) to the host. Returns NULL
 * when no host is connected: then close the guest client. Frames are sent
 * with bh_stream_send, the stream ended with bh_stream_close (client went
 * away) or bh_stream_fail (it broke the protocol). When the host goes away,
 * every stream's handler->closed runs: close the guest client cleanly then. */
struct bh_stream *bh_agent_open_stream(struct bh_agent *agent, enum bh_stream_kind kind,
	const struct bh_stream_handler *handler, void *user);

/* Internal to the agent (boot.c, apps.c, exec.c). */
struct bh_boot_times {
	bool have_kernel, have_userspace;
	uint64_t kernel_usec;    /* kernel start -> init started */
	uint64_t userspace_usec; /* init started -> agent ready */
	uint64_t uptime_usec;    /* kernel start -> now */
};
/* Kernel->init comes from BULKHEAD_BOOT_INIT_USEC (set by a tiny /init from
 * /proc/uptime) or else from init's start time in /proc/1/stat. */
void bh_agent_boot_times(struct bh_boot_times *times);

#define BH_AGENT_MAX_APPS 512
struct bh_app {
	char *id, *name, *exec, *icon; /* icon may be NULL */
};
struct bh_app_list {
	struct bh_app *apps;
	size_t count;
};
/* Scans <data_home>/applications then each <data_dirs>/applications
 * (colon-separated; default /usr/local/share:/usr/share); sorted by id. */
bool bh_app_list_scan(struct bh_app_list *list, const char *data_home, const char *data_dirs);
void bh_app_list_finish(struct bh_app_list *list);

/* The guest user's account, for the environment of everything launched. */
const char *bh_agent_home(const struct bh_agent *agent);
const char *bh_agent_user_name(const struct bh_agent *agent);
const char *bh_agent_wayland_display(const struct bh_agent *agent);
/* The guest user's login shell (/bin/sh for accounts without one). */
const char *bh_agent_shell(const struct bh_agent *agent);

/* exec.c: starts argv as the guest user (never as root) in a new session,
 * with stdio[0..2] (or /dev/null for -1) and the guest environment (HOME,
 * USER, SHELL, XDG_RUNTIME_DIR, WAYLAND_DISPLAY, PATH, LANG). */
pid_t bh_agent_spawn(struct bh_agent *agent, const char *const argv[], const int stdio[3],
	bool controlling_tty);
/* The same with env_set ("NAME=value", NULL-ended, may be NULL) on top of
 * the guest environment and keep_fds (ended by -1) left open; stdin and
 * stdout from /dev/null and the agent's stderr. */
pid_t bh_agent_spawn_with(struct bh_agent *agent, const char *const argv[], const int stdio[3],
	const char *const env_set[], const int keep_fds[]);
/* DISPLAY of the guest's X server, NULL while X11 is off. */
const char *bh_agent_x_display(const struct bh_agent *agent);
/* A detached shell command line (menu, `run`); -1 on failure. */
pid_t bh_agent_launch(struct bh_agent *agent, const char *command);
/* The host opened an exec stream: serve it (CONTROL.md "Exec"). */
bool bh_agent_exec_open(struct bh_agent *agent, struct bh_stream *stream);
/* A child was reaped; true if it belonged to an exec session. */
bool bh_agent_exec_reaped(pid_t pid, int status);

/* files.c: the host opened a push or pull stream: serve it (CONTROL.md
 * "Files") through a helper running as the guest user. */
bool bh_agent_files_open(struct bh_agent *agent, struct bh_stream *stream, bool push);
/* main() of `bulkhead-agent --files-helper push|pull` (that helper). */
int bh_agent_files_helper(const char *mode);
/* This agent's executable, to start the helper from. */
const char *bh_agent_exe_path(const struct bh_agent *agent);

/* One control message from the host (also the fuzz target's entry point:
 * agent and endpoint may be NULL there, then nothing is launched or sent).
 * False = channel error. */
bool bh_agent_handle_control(struct bh_agent *agent, struct bh_endpoint *endpoint,
	uint32_t type, const uint8_t *payload, size_t len);

#endif
