/* Each tag's VM as the compositor drives it: the proxy process it starts
 * per tag, the server side of bulkhead_vm_manager_v1 (state, apps, boot
 * times, launches, stop) and of bulkhead_vm_client_v1, through which the
 * proxy asks for tagged client connections. The compositor makes every
 * tagged connection itself (a socketpair), so no socket exists that a
 * guest or another program could open to pass as a tag. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bulkhead-vm-v1-protocol.h"
#include "common/log.h"
#include "common/util.h"
#include "compositor/client.h"
#include "compositor/status.h"
#include "compositor/tags.h"
#include "compositor/text.h"
#include "compositor/vm_manager.h"

#define MAX_LAUNCHES 32
#define MAX_GUEST_CLIENTS 256
#define REASON_MAX 400

static void set_error(struct bh_tag *tag, const char *reason)
{
	free(tag->error);
	tag->error = NULL;
	if (reason != NULL) {
		char clean[REASON_MAX + 1];
		bh_text_sanitize(reason, clean, sizeof(clean));
		tag->error = strdup(clean);
	}
}

static void clear_launches(struct bh_tag *tag)
{
	for (size_t i = 0; i < tag->launch_count; i++) {
		free(tag->launches[i]);
	}
	free(tag->launches);
	tag->launches = NULL;
	tag->launch_count = 0;
}

static void send_launches(struct bh_tag *tag)
{
	for (size_t i = 0; i < tag->launch_count; i++) {
		if (tag->manager != NULL) {
			bh_log(BH_LOG_INFO, "tag %s: launching %s", tag->name, tag->launches[i]);
			bulkhead_vm_manager_v1_send_launch(tag->manager, tag->launches[i]);
		}
		free(tag->launches[i]);
	}
	free(tag->launches);
	tag->launches = NULL;
	tag->launch_count = 0;
}

static bool queue_launch(struct bh_tag *tag, const char *command)
{
	if (tag->launch_count >= MAX_LAUNCHES) {
		return false;
	}
	char **grown = realloc(tag->launches, (tag->launch_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		return false;
	}
	tag->launches = grown;
	grown[tag->launch_count] = strdup(command);
	if (grown[tag->launch_count] == NULL) {
		return false;
	}
	tag->launch_count++;
	return true;
}

static void set_state(struct bh_tag *tag, enum bh_tag_state state, const char *reason)
{
	enum bh_tag_state old = tag->state;
	tag->state = state;
	if (state == BH_TAG_FAILED || state == BH_TAG_UNREACHABLE) {
		set_error(tag, reason != NULL ? reason : bh_tag_state_name(state));
		bh_log(BH_LOG_ERROR, "tag %s %s: %s", tag->name, bh_tag_state_name(state),
			tag->error);
		bh_status_note(tag->server, tag->error);
	} else if (state != BH_TAG_STARTING ||
		   (old != BH_TAG_FAILED && old != BH_TAG_UNREACHABLE)) {
		set_error(tag, NULL);
	}
	if (state == BH_TAG_RUNNING && old != BH_TAG_RUNNING) {
		bh_log(BH_LOG_INFO, "tag %s is running", tag->name);
		if (tag->boot.ready_usec == 0) {
			tag->boot.ready_usec = bh_now_usec();
		}
	}
	if (state == BH_TAG_RUNNING) {
		send_launches(tag);
	}
	/* An inactive tag's colour is free for others; it gets one again at
	 * its next start. */
	bh_status_update(tag->server);
}

/* Every guest client of a tag: closed when the tag stops or its proxy dies. */
static void destroy_tag_clients(struct bh_server *server, struct bh_tag *tag)
{
	struct wl_list *list = wl_display_get_client_list(server->display);
	size_t n = 0, cap = 0;
	struct wl_client **victims = NULL;
	struct wl_client *client;
	wl_client_for_each (client, list) {
		struct bh_client *c = bh_client_get(client);
		if (c != NULL && c->tag == tag && !c->control) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				struct wl_client **grown = realloc(victims, cap * sizeof(*grown));
				if (grown == NULL) {
					break;
				}
				victims = grown;
			}
			victims[n++] = client;
		}
	}
	for (size_t i = 0; i < n; i++) {
		wl_client_destroy(victims[i]);
	}
	free(victims);
}

static void tag_handle_control_destroy(struct wl_listener *listener, void *data)
{
	struct bh_tag *tag = wl_container_of(listener, tag, control_destroy);
	wl_list_remove(&tag->control_destroy.link);
	tag->control = NULL;
	tag->manager = NULL;
	if (tag->server->quitting) {
		return;
	}
	destroy_tag_clients(tag->server, tag);
	if (tag->stopping) {
		tag->stopping = false;
		set_state(tag, BH_TAG_STOPPED, NULL);
	} else if (tag->state != BH_TAG_FAILED && tag->state != BH_TAG_STOPPED &&
		   tag->state != BH_TAG_UNREACHABLE) {
		char reason[REASON_MAX];
		snprintf(reason, sizeof(reason),
			"the proxy of tag %s exited; its windows were closed. Spawn the tag again "
			"to restart it (Super+t %s)",
			tag->name, tag->name);
		set_state(tag, BH_TAG_FAILED, reason);
	}
	/* A tag that failed or is unreachable keeps the proxy's own reason. */
	clear_launches(tag);
	tag->proxy_pid = 0;
}

/* A new wl_client of tag (its proxy's when control) on one end of a
 * socketpair; *peer is the other end, for the proxy. NULL, with errno
 * kept and *no_socket set, when there is no socket. */
static struct wl_client *tagged_connection(
	struct bh_tag *tag, bool control, int *peer, bool *no_socket)
{
	int sv[2];
	*no_socket = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0;
	if (*no_socket) {
		return NULL;
	}
	struct wl_client *client = wl_client_create(tag->server->display, sv[0]);
	if (client == NULL || bh_client_mark(client, tag, control) == NULL) {
		if (client != NULL) {
			wl_client_destroy(client);
		} else {
			close(sv[0]);
		}
		close(sv[1]);
		return NULL;
	}
	*peer = sv[1];
	return client;
}

/* bulkhead_vm_client_v1 */

static void client_destroy(struct wl_client *client, struct wl_resource *resource)
{
	wl_resource_destroy(resource);
}

static const struct bulkhead_vm_client_v1_interface client_impl = {
	.destroy = client_destroy,
};

static int count_tag_clients(struct bh_server *server, struct bh_tag *tag)
{
	int n = 0;
	struct wl_client *client;
	wl_client_for_each (client, wl_display_get_client_list(server->display)) {
		struct bh_client *c = bh_client_get(client);
		n += c != NULL && c->tag == tag && !c->control;
	}
	return n;
}

/* bulkhead_vm_manager_v1 */

static struct bh_tag *manager_tag(struct wl_resource *resource)
{
	return wl_resource_get_user_data(resource);
}

static void manager_destroy(struct wl_client *client, struct wl_resource *resource)
{
	wl_resource_destroy(resource);
}

static void manager_create_client(
	struct wl_client *client, struct wl_resource *resource, uint32_t id, uint32_t stream)
{
	struct bh_tag *tag = manager_tag(resource);
	if (tag != NULL && tag->boot.first_client_usec == 0) {
		tag->boot.first_client_usec = bh_now_usec();
	}
	struct wl_resource *req = wl_resource_create(
		client, &bulkhead_vm_client_v1_interface, wl_resource_get_version(resource), id);
	if (req == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(req, &client_impl, NULL, NULL);
	if (tag == NULL) {
		bulkhead_vm_client_v1_send_refused(req, "this connection serves no tag");
		return;
	}
	if (count_tag_clients(tag->server, tag) >= MAX_GUEST_CLIENTS) {
		char reason[200];
		snprintf(reason, sizeof(reason), "tag %s has %d guest clients, the limit",
			tag->name, MAX_GUEST_CLIENTS);
		bh_log(BH_LOG_WARN, "%s; refusing stream %u", reason, stream);
		bulkhead_vm_client_v1_send_refused(req, reason);
		return;
	}
	int peer;
	bool no_socket;
	if (tagged_connection(tag, false, &peer, &no_socket) == NULL) {
		bulkhead_vm_client_v1_send_refused(
			req, no_socket ? "the compositor cannot make a socket"
				       : "the compositor cannot add a client");
		return;
	}
	bh_log(BH_LOG_DEBUG, "tag %s: guest client for stream %u", tag->name, stream);
	bulkhead_vm_client_v1_send_connection(req, peer);
	close(peer);
}

static void manager_set_state(
	struct wl_client *client, struct wl_resource *resource, uint32_t state, const char *reason)
{
	struct bh_tag *tag = manager_tag(resource);
	if (tag == NULL) {
		return;
	}
	switch (state) {
	case BULKHEAD_VM_MANAGER_V1_STATE_STOPPED:
		set_state(tag, BH_TAG_STOPPED, NULL);
		break;
	case BULKHEAD_VM_MANAGER_V1_STATE_STARTING:
		set_state(tag, BH_TAG_STARTING, NULL);
		break;
	case BULKHEAD_VM_MANAGER_V1_STATE_READY:
		set_state(tag, BH_TAG_RUNNING, NULL);
		break;
	case BULKHEAD_VM_MANAGER_V1_STATE_FAILED:
		set_state(tag, BH_TAG_FAILED, reason);
		break;
	case BULKHEAD_VM_MANAGER_V1_STATE_UNREACHABLE:
		set_state(tag, BH_TAG_UNREACHABLE, reason);
		break;
	default:
		wl_resource_post_error(resource, BULKHEAD_VM_MANAGER_V1_ERROR_INVALID_STATE,
			"unknown state %u", state);
	}
}

static void manager_app(struct wl_client *client, struct wl_resource *resource, const char *id,
	const char *name, const char *exec, const char *icon)
{
	struct bh_tag *tag = manager_tag(resource);
	if (tag != NULL) {
		bh_tag_add_app(tag, id, name, exec, icon);
	}
}

static void manager_apps_done(struct wl_client *client, struct wl_resource *resource)
{
	struct bh_tag *tag = manager_tag(resource);
	if (tag != NULL) {
		bh_tag_apps_done(tag);
	}
}

static void manager_boot_time(
	struct wl_client *client, struct wl_resource *resource, const char *step, uint32_t usec)
{
	struct bh_tag *tag = manager_tag(resource);
	if (tag == NULL) {
		return;
	}
	struct bh_boot *boot = &tag->boot;
	char clean[sizeof(boot->steps[0].name)];
	bh_text_sanitize(step, clean, sizeof(clean));
	bh_log(BH_LOG_INFO, "tag %s: boot step %s took %u us", tag->name, clean, usec);
	size_t i = 0;
	while (i < boot->step_count && strcmp(boot->steps[i].name, clean) != 0) {
		i++;
	}
	if (i == boot->step_count) {
		if (i == sizeof(boot->steps) / sizeof(boot->steps[0])) {
			return; /* a proxy that reports more steps than we show */
		}
		boot->step_count++;
	}
	memcpy(boot->steps[i].name, clean, sizeof(clean));
	boot->steps[i].usec = usec;
}

static const struct bulkhead_vm_manager_v1_interface manager_impl = {
	.destroy = manager_destroy,
	.create_client = manager_create_client,
	.set_state = manager_set_state,
	.app = manager_app,
	.apps_done = manager_apps_done,
	.boot_time = manager_boot_time,
};

static void manager_resource_destroy(struct wl_resource *resource)
{
	struct bh_tag *tag = manager_tag(resource);
	if (tag != NULL && tag->manager == resource) {
		tag->manager = NULL;
	}
}

static void manager_bind(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
	struct bh_client *c = bh_client_get(client);
	struct wl_resource *resource =
		wl_resource_create(client, &bulkhead_vm_manager_v1_interface, (int)version, id);
	if (resource == NULL) {
		wl_client_post_no_memory(client);
		return;
	}
	struct bh_tag *tag = c != NULL && c->control ? c->tag : NULL;
	if (tag == NULL || tag->manager != NULL) {
		/* The global filter hides it from others; a second bind is refused. */
		wl_resource_set_implementation(resource, &manager_impl, NULL, NULL);
		wl_resource_post_error(resource, WL_DISPLAY_ERROR_INVALID_OBJECT,
			"bulkhead_vm_manager_v1 is for a tag's own proxy, once");
		return;
	}
	wl_resource_set_implementation(resource, &manager_impl, tag, manager_resource_destroy);
	tag->manager = resource;
	bulkhead_vm_manager_v1_send_tag(resource, tag->name);
}

bool bh_vm_manager_init(struct bh_server *server)
{
	server->vm_manager = wl_global_create(
		server->display, &bulkhead_vm_manager_v1_interface, 1, server, manager_bind);
	if (server->vm_manager == NULL) {
		return false;
	}
	/* The proxy: next to this binary (build tree or install), else PATH. */
	const char *env = getenv("BULKHEAD_PROXY");
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	snprintf(server->proxy_path, sizeof(server->proxy_path), "%s",
		env != NULL && env[0] != '\0' ? env : "bulkhead-proxy");
	if ((env == NULL || env[0] == '\0') && n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			char candidate[PATH_MAX + 64];
			snprintf(candidate, sizeof(candidate), "%s/../proxy/bulkhead-proxy", self);
			if (access(candidate, X_OK) != 0) {
				snprintf(candidate, sizeof(candidate), "%s/bulkhead-proxy", self);
			}
			if (access(candidate, X_OK) == 0 &&
				strlen(candidate) < sizeof(server->proxy_path)) {
				memcpy(server->proxy_path, candidate, strlen(candidate) + 1);
			}
		}
	}
	return true;
}

static bool start_proxy(struct bh_server *server, struct bh_tag *tag, char *error, size_t size)
{
	int peer;
	bool no_socket;
	struct wl_client *control = tagged_connection(tag, true, &peer, &no_socket);
	if (control == NULL && no_socket) {
		snprintf(error, size, "tag %s: cannot make the proxy's socket: %s", tag->name,
			strerror(errno));
		return false;
	} else if (control == NULL) {
		snprintf(error, size, "tag %s: cannot add the proxy's connection", tag->name);
		return false;
	}
	const struct bh_config_tag *ct = bh_config_tag(server->config, tag->name);
	const char *argv[10];
	int i = 0;
	argv[i++] = server->proxy_path;
	argv[i++] = "--tag";
	argv[i++] = tag->name;
	if (ct != NULL && ct->channel != NULL) {
		argv[i++] = "--channel";
		argv[i++] = ct->channel;
	}
	if (server->config->path != NULL) {
		argv[i++] = "--config";
		argv[i++] = server->config->path;
	}
	argv[i] = NULL;
	char socket_env[32];
	snprintf(socket_env, sizeof(socket_env), "WAYLAND_SOCKET=%d", peer);
	const char *env[] = {socket_env, NULL};
	const int keep[] = {peer, -1};
	pid_t pid = bh_spawn(argv, env, keep, true);
	if (pid < 0) {
		snprintf(error, size, "tag %s: cannot start the proxy %s: %s", tag->name, argv[0],
			strerror(errno));
		wl_client_destroy(control);
		close(peer);
		return false;
	}
	close(peer);
	tag->proxy_pid = pid;
	tag->control = control;
	tag->control_destroy.notify = tag_handle_control_destroy;
	wl_client_add_destroy_listener(control, &tag->control_destroy);
	tag->start_usec = bh_now_usec();
	memset(&tag->boot, 0, sizeof(tag->boot));
	tag->stopping = false;
	bh_log(BH_LOG_INFO, "tag %s: proxy started (pid %d)", tag->name, (int)pid);
	return true;
}

bool bh_vm_manager_launch(
	struct bh_server *server, const char *name, const char *command, char *error, size_t size)
{
	if (!bh_tag_name_valid(name, error, size)) {
		return false;
	}
	struct bh_tag *tag = bh_tag_get(server, name, true);
	if (tag == NULL) {
		snprintf(error, size, "tag %s: out of memory", name);
		return false;
	}
	if (command == NULL) {
		const struct bh_config_tag *ct = bh_config_tag(server->config, name);
		command = ct != NULL && ct->app != NULL ? ct->app : server->config->tag_app;
	}
	if (tag->control == NULL) {
		/* A tag without a proxy has no windows to draw in a new colour. */
		bh_tag_assign_colour(tag);
		if (!start_proxy(server, tag, error, size)) {
			set_state(tag, BH_TAG_FAILED, error);
			return false;
		}
		set_state(tag, BH_TAG_STARTING, NULL);
	}
	if (command[0] != '\0') {
		tag->focus_grant_usec = bh_now_usec();
	}
	if (command[0] != '\0' && !queue_launch(tag, command)) {
		snprintf(error, size, "tag %s: too many launches waiting for the VM to boot", name);
		return false;
	}
	if (tag->state == BH_TAG_RUNNING) {
		send_launches(tag);
	}
	return true;
}

bool bh_vm_manager_stop(struct bh_server *server, struct bh_tag *tag, char *error, size_t size)
{
	if (tag->control == NULL) {
		if (tag->state == BH_TAG_FAILED || tag->state == BH_TAG_UNREACHABLE) {
			set_state(tag, BH_TAG_STOPPED, NULL);
		}
		return true;
	}
	tag->stopping = true;
	if (tag->manager != NULL) {
		bulkhead_vm_manager_v1_send_stop(tag->manager);
		wl_client_flush(tag->control);
	} else if (tag->proxy_pid > 0) {
		kill(tag->proxy_pid, SIGTERM);
	}
	/* Its windows go now; the proxy stops the VM and exits. */
	destroy_tag_clients(server, tag);
	return true;
}

static int tag_handle_idle_timeout(void *data)
{
	struct bh_tag *tag = data;
	if (tag->windows == 0 && bh_tag_active(tag)) {
		char error[200];
		bh_log(BH_LOG_INFO, "tag %s: no window for %d s; stopping it", tag->name,
			tag->server->config->idle_shutdown);
		bh_vm_manager_stop(tag->server, tag, error, sizeof(error));
	}
	return 0;
}

void bh_vm_manager_window_opened(struct bh_tag *tag)
{
	tag->windows++;
	if (tag->idle_timer != NULL) {
		wl_event_source_timer_update(tag->idle_timer, 0);
	}
}

void bh_vm_manager_window_closed(struct bh_tag *tag)
{
	if (tag->windows > 0) {
		tag->windows--;
	}
	int idle = tag->server->config->idle_shutdown;
	if (tag->windows == 0 && idle > 0 && bh_tag_active(tag)) {
		if (tag->idle_timer == NULL) {
			tag->idle_timer = wl_event_loop_add_timer(
				tag->server->loop, tag_handle_idle_timeout, tag);
		}
		if (tag->idle_timer != NULL) {
			wl_event_source_timer_update(tag->idle_timer, idle * 1000);
		}
	}
}

void bh_vm_manager_child_exited(struct bh_server *server, pid_t pid, int status)
{
	struct bh_tag *tag;
	wl_list_for_each (tag, &server->tags, link) {
		if (tag->proxy_pid == pid) {
			tag->proxy_pid = 0;
			if (WIFSIGNALED(status) || WEXITSTATUS(status) != 0) {
				bh_log(BH_LOG_WARN, "tag %s: the proxy exited with %s %d",
					tag->name, WIFSIGNALED(status) ? "signal" : "status",
					WIFSIGNALED(status) ? WTERMSIG(status)
							    : WEXITSTATUS(status));
			}
		}
	}
}

void bh_vm_manager_finish(struct bh_server *server)
{
	struct bh_tag *tag;
	wl_list_for_each (tag, &server->tags, link) {
		if (tag->control != NULL) {
			wl_list_remove(&tag->control_destroy.link);
			if (tag->proxy_pid > 0) {
				kill(tag->proxy_pid, SIGTERM);
			}
		}
		if (tag->idle_timer != NULL) {
			wl_event_source_remove(tag->idle_timer);
		}
		clear_launches(tag);
	}
}
