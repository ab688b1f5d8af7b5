/* Tags: their state, colours, proxies, and the server side of
 * bulkhead_vm_manager_v1 through which a tag's proxy asks for tagged client
 * connections. The compositor makes every tagged connection itself (a
 * socketpair), so no socket exists that a guest or another program could
 * open to pass as a tag. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bulkhead-vm-v1-protocol.h"
#include "common/log.h"
#include "common/util.h"
#include "compositor/server.h"
#include "vm/paths.h"
#include "vm/tag.h"

#define MAX_APPS 512
#define MAX_LAUNCHES 32
#define MAX_GUEST_CLIENTS 256
#define REASON_MAX 400

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

static bool tag_active(const struct bh_tag *tag)
{
	return tag->state == BH_TAG_STARTING || tag->state == BH_TAG_RUNNING;
}

/* A colour for a tag without one in the config: the first palette colour
 * no other active tag shows; when all are taken, the least used one. */
static void assign_colour(struct bh_server *server, struct bh_tag *tag)
{
	const struct bh_config_tag *ct = bh_config_tag(server->config, tag->name);
	if (ct != NULL && ct->has_colour) {
		tag->colour = ct->colour;
		tag->colour_configured = true;
		return;
	}
	tag->colour_configured = false;
	unsigned used[PALETTE_SIZE] = {0};
	struct bh_tag *other;
	wl_list_for_each (other, &server->tags, link) {
		if (other == tag || !tag_active(other)) {
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
	if (!bh_clipboard_tag_init(tag)) {
		free(tag->name);
		free(tag);
		return NULL;
	}
	tag->colour = 0xffffffff;
	wl_list_insert(server->tags.prev, &tag->link);
	assign_colour(server, tag);
	return tag;
}

static void set_error(struct bh_tag *tag, const char *reason)
{
	free(tag->error);
	tag->error = NULL;
	if (reason != NULL) {
		char clean[REASON_MAX + 1];
		bh_sanitize_title(reason, clean, sizeof(clean));
		tag->error = strdup(clean);
	}
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
	if (state == BH_TAG_FAILED) {
		set_error(tag, reason != NULL ? reason : "failed");
		bh_log(BH_LOG_ERROR, "tag %s failed: %s", tag->name, tag->error);
		bh_overlay_note(tag->server, tag->error);
	} else if (state != BH_TAG_STARTING || old != BH_TAG_FAILED) {
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
	if (!tag_active(tag) && old != state) {
		/* Its colour becomes free for others; it gets one again at start. */
	}
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

static void control_destroyed(struct wl_listener *listener, void *data)
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
	} else if (tag->state != BH_TAG_FAILED && tag->state != BH_TAG_STOPPED) {
		char reason[REASON_MAX];
		snprintf(reason, sizeof(reason),
			"the proxy of tag %s exited; its windows were closed. Spawn the tag again "
			"to restart it (Super+t %s)",
			tag->name, tag->name);
		set_state(tag, BH_TAG_FAILED, reason);
	} else if (tag->state == BH_TAG_FAILED && tag->error != NULL) {
		/* Keep the proxy's own reason. */
	}
	for (size_t i = 0; i < tag->launch_count; i++) {
		free(tag->launches[i]);
	}
	free(tag->launches);
	tag->launches = NULL;
	tag->launch_count = 0;
	tag->proxy_pid = 0;
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

static void manager_create_client(struct wl_client *client, struct wl_resource *resource,
	uint32_t id, uint32_t stream)
{
	struct bh_tag *tag = manager_tag(resource);
	if (tag != NULL && tag->boot.first_client_usec == 0) {
		tag->boot.first_client_usec = bh_now_usec();
	}
	struct wl_resource *req = wl_resource_create(client, &bulkhead_vm_client_v1_interface,
		wl_resource_get_version(resource), id);
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
		snprintf(reason, sizeof(reason), "tag %s has %d guest clients, the limit", tag->name,
			MAX_GUEST_CLIENTS);
		bh_log(BH_LOG_WARN, "%s; refusing stream %u", reason, stream);
		bulkhead_vm_client_v1_send_refused(req, reason);
		return;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		bulkhead_vm_client_v1_send_refused(req, "the compositor cannot make a socket");
		return;
	}
	struct wl_client *guest = wl_client_create(tag->server->display, sv[0]);
	if (guest == NULL || bh_client_mark(guest, tag, false) == NULL) {
		if (guest != NULL) {
			wl_client_destroy(guest);
		} else {
			close(sv[0]);
		}
		close(sv[1]);
		bulkhead_vm_client_v1_send_refused(req, "the compositor cannot add a client");
		return;
	}
	bh_log(BH_LOG_DEBUG, "tag %s: guest client for stream %u", tag->name, stream);
	bulkhead_vm_client_v1_send_connection(req, sv[1]);
	close(sv[1]);
}

static void manager_set_state(struct wl_client *client, struct wl_resource *resource,
	uint32_t state, const char *reason)
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
	default:
		wl_resource_post_error(resource, BULKHEAD_VM_MANAGER_V1_ERROR_INVALID_STATE,
			"unknown state %u", state);
	}
}

static char *clean_dup(const char *text)
{
	char buf[BH_TITLE_MAX + 1];
	bh_sanitize_title(text, buf, sizeof(buf));
	return strdup(buf);
}

static void manager_app(struct wl_client *client, struct wl_resource *resource, const char *id,
	const char *name, const char *exec, const char *icon)
{
	struct bh_tag *tag = manager_tag(resource);
	if (tag == NULL || tag->apps_pending_count >= MAX_APPS) {
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

static void manager_apps_done(struct wl_client *client, struct wl_resource *resource)
{
	struct bh_tag *tag = manager_tag(resource);
	if (tag == NULL) {
		return;
	}
	free_apps(tag->apps, tag->app_count);
	tag->apps = tag->apps_pending;
	tag->app_count = tag->apps_pending_count;
	tag->apps_pending = NULL;
	tag->apps_pending_count = 0;
	bh_log(BH_LOG_INFO, "tag %s: %zu apps", tag->name, tag->app_count);
}

static void manager_boot_time(struct wl_client *client, struct wl_resource *resource,
	const char *step, uint32_t usec)
{
	struct bh_tag *tag = manager_tag(resource);
	if (tag == NULL) {
		return;
	}
	struct bh_boot *boot = &tag->boot;
	char clean[sizeof(boot->steps[0].name)];
	bh_sanitize_title(step, clean, sizeof(clean));
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

uint64_t bh_tag_boot_step(const struct bh_tag *tag, const char *name)
{
	for (size_t i = 0; i < tag->boot.step_count; i++) {
		if (strcmp(tag->boot.steps[i].name, name) == 0) {
			return tag->boot.steps[i].usec;
		}
	}
	return 0;
}

void bh_tag_window_shown(struct bh_tag *tag)
{
	if (tag->boot.first_window_usec == 0 && tag->start_usec != 0) {
		tag->boot.first_window_usec = bh_now_usec();
	}
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
	server->vm_manager = wl_global_create(server->display, &bulkhead_vm_manager_v1_interface,
		1, server, manager_bind);
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
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(error, size, "tag %s: cannot make the proxy's socket: %s", tag->name,
			strerror(errno));
		return false;
	}
	struct wl_client *control = wl_client_create(server->display, sv[0]);
	if (control == NULL || bh_client_mark(control, tag, true) == NULL) {
		if (control != NULL) {
			wl_client_destroy(control);
		} else {
			close(sv[0]);
		}
		close(sv[1]);
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
	snprintf(socket_env, sizeof(socket_env), "WAYLAND_SOCKET=%d", sv[1]);
	const char *env[] = {socket_env, NULL};
	const int keep[] = {sv[1], -1};
	pid_t pid = bh_spawn(argv, env, keep, true);
	if (pid < 0) {
		snprintf(error, size, "tag %s: cannot start the proxy %s: %s", tag->name, argv[0],
			strerror(errno));
		wl_client_destroy(control);
		close(sv[1]);
		return false;
	}
	close(sv[1]);
	tag->proxy_pid = pid;
	tag->control = control;
	tag->control_destroy.notify = control_destroyed;
	wl_client_add_destroy_listener(control, &tag->control_destroy);
	tag->start_usec = bh_now_usec();
	memset(&tag->boot, 0, sizeof(tag->boot));
	tag->stopping = false;
	bh_log(BH_LOG_INFO, "tag %s: proxy started (pid %d)", tag->name, (int)pid);
	return true;
}

bool bh_tag_spawn(struct bh_server *server, const char *name, const char *command, char *error,
	size_t size)
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
		assign_colour(server, tag);
		bh_views_redraw_tag(server, tag);
		if (!start_proxy(server, tag, error, size)) {
			set_state(tag, BH_TAG_FAILED, error);
			return false;
		}
		set_state(tag, BH_TAG_STARTING, NULL);
	}
	if (command[0] != '\0' && !queue_launch(tag, command)) {
		snprintf(error, size, "tag %s: too many launches waiting for the VM to boot",
			name);
		return false;
	}
	if (tag->state == BH_TAG_RUNNING) {
		send_launches(tag);
	}
	return true;
}

bool bh_tag_stop(struct bh_server *server, struct bh_tag *tag, char *error, size_t size)
{
	if (tag->control == NULL) {
		if (tag->state == BH_TAG_FAILED) {
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

static int idle_timeout(void *data)
{
	struct bh_tag *tag = data;
	if (tag->windows == 0 && tag_active(tag)) {
		char error[200];
		bh_log(BH_LOG_INFO, "tag %s: no window for %d s; stopping it", tag->name,
			tag->server->config->idle_shutdown);
		bh_tag_stop(tag->server, tag, error, sizeof(error));
	}
	return 0;
}

void bh_tag_window_closed(struct bh_tag *tag)
{
	if (tag->windows > 0) {
		tag->windows--;
	}
	int idle = tag->server->config->idle_shutdown;
	if (tag->windows == 0 && idle > 0 && tag_active(tag)) {
		if (tag->idle_timer == NULL) {
			tag->idle_timer =
				wl_event_loop_add_timer(tag->server->loop, idle_timeout, tag);
		}
		if (tag->idle_timer != NULL) {
			wl_event_source_timer_update(tag->idle_timer, idle * 1000);
		}
	}
}

void bh_tags_apply_config(struct bh_server *server)
{
	for (size_t i = 0; i < server->config->tag_count; i++) {
		bh_tag_get(server, server->config->tags[i].name, true);
	}
	struct bh_tag *tag;
	wl_list_for_each (tag, &server->tags, link) {
		uint32_t old = tag->colour;
		assign_colour(server, tag);
		if (old != tag->colour) {
			bh_views_redraw_tag(server, tag);
		}
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

pid_t bh_spawn_host(struct bh_server *server, const char *command)
{
	if (command == NULL || command[0] == '\0') {
		return -1;
	}
	pid_t pid = bh_spawn_shell(command, NULL, NULL, true);
	if (pid > 0) {
		bh_log(BH_LOG_INFO, "started host command %s (pid %d)", command, (int)pid);
	}
	return pid;
}

void bh_tags_destroy(struct bh_server *server)
{
	struct bh_tag *tag, *tmp;
	wl_list_for_each_safe (tag, tmp, &server->tags, link) {
		if (tag->control != NULL) {
			wl_list_remove(&tag->control_destroy.link);
			if (tag->proxy_pid > 0) {
				kill(tag->proxy_pid, SIGTERM);
			}
		}
		if (tag->idle_timer != NULL) {
			wl_event_source_remove(tag->idle_timer);
		}
		free_apps(tag->apps, tag->app_count);
		free_apps(tag->apps_pending, tag->apps_pending_count);
		for (size_t i = 0; i < tag->launch_count; i++) {
			free(tag->launches[i]);
		}
		free(tag->launches);
		free(tag->error);
		bh_clipboard_tag_finish(server, tag);
		free(tag->name);
		wl_list_remove(&tag->link);
		free(tag);
	}
}
