/* IPC: JSON over a unix socket ($BULKHEAD_SOCKET), one request object per
 * line, one reply object per line. See doc/IPC.md. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "compositor/actions.h"
#include "compositor/ipc.h"
#include "compositor/menu.h"
#include "compositor/tags.h"
#include "compositor/view.h"
#include "compositor/vm_manager.h"

#define IPC_LINE_MAX (64 * 1024)
#define IPC_CLIENTS_MAX 64

struct ipc_client {
	struct wl_list link;
	struct bh_server *server;
	int fd;
	struct wl_event_source *source;
	char buf[IPC_LINE_MAX];
	size_t len;
};

static int listen_fd = -1;
static struct wl_event_source *listen_source;
static struct wl_list ipc_clients;
static int ipc_client_count;

static void ipc_client_close(struct ipc_client *c)
{
	wl_event_source_remove(c->source);
	close(c->fd);
	wl_list_remove(&c->link);
	ipc_client_count--;
	free(c);
}

static json_object *ok_reply(void)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}

static json_object *error_reply(const char *message)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(message));
	return o;
}

static const char *get_string(json_object *req, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string)) {
		return NULL;
	}
	return json_object_get_string(v);
}

static void colour_string(uint32_t rgb, char out[8])
{
	snprintf(out, 8, "#%06x", rgb & 0xffffff);
}

static json_object *window_json(struct bh_view *view)
{
	json_object *w = json_object_new_object();
	char title[BH_TITLE_MAX + 80];
	bh_view_display_title(view, title, sizeof(title));
	char colour[8];
	colour_string(bh_view_colour(view), colour);
	json_object_object_add(w, "id", json_object_new_int64(view->id));
	json_object_object_add(w, "tag",
		view->tag != NULL ? json_object_new_string(view->tag->name) : NULL);
	json_object_object_add(w, "title", json_object_new_string(title));
	json_object_object_add(w, "app_id", json_object_new_string(view->app_id));
	/* Geometry of the content (the client's window) in layout coordinates. */
	struct bh_decoration_size frame = bh_view_frame_size(view);
	json_object_object_add(w, "x", json_object_new_int(view->x + frame.side));
	json_object_object_add(w, "y", json_object_new_int(view->y + frame.top));
	json_object_object_add(w, "width", json_object_new_int(view->width));
	json_object_object_add(w, "height", json_object_new_int(view->height));
	json_object_object_add(w, "frame_x", json_object_new_int(view->x));
	json_object_object_add(w, "frame_y", json_object_new_int(view->y));
	json_object_object_add(w, "border", json_object_new_int(frame.side));
	json_object_object_add(w, "title_height", json_object_new_int(frame.top));
	json_object_object_add(w, "colour", json_object_new_string(colour));
	json_object_object_add(w, "focused", json_object_new_boolean(view->focused));
	json_object_object_add(w, "mapped", json_object_new_boolean(view->mapped));
	json_object_object_add(w, "fullscreen", json_object_new_boolean(view->fullscreen));
	json_object_object_add(w, "maximized", json_object_new_boolean(view->maximized));
	return w;
}

static void add_step(json_object *steps, const char *name, const char *where, int64_t usec)
{
	if (usec < 0) {
		usec = 0;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "step", json_object_new_string(name));
	json_object_object_add(o, "where", json_object_new_string(where));
	json_object_object_add(o, "ms", json_object_new_double((double)usec / 1000.0));
	json_object_array_add(steps, o);
}

/* The last boot of a tag as consecutive steps from the spawn to its first
 * window (doc/BOOT.md): what the compositor saw, what the proxy measured
 * around libvirt and the channel, and what the guest measured inside; the
 * time the guest cannot see (qemu, firmware, loading the kernel) is what
 * the channel wait leaves over. null before any boot. */
static json_object *boot_json(const struct bh_tag *tag)
{
	const struct bh_boot *b = &tag->boot;
	if (tag->start_usec == 0 || b->ready_usec == 0) {
		return NULL;
	}
	int64_t start = (int64_t)tag->start_usec, ready = (int64_t)b->ready_usec;
	int64_t domain = (int64_t)bh_tag_boot_step(tag, "host-domain-start");
	int64_t channel = (int64_t)bh_tag_boot_step(tag, "host-channel-connected");
	int64_t kernel = (int64_t)bh_tag_boot_step(tag, "guest-kernel");
	int64_t user = (int64_t)bh_tag_boot_step(tag, "guest-userspace");
	json_object *o = json_object_new_object(), *steps = json_object_new_array();
	add_step(steps, "proxy start", "host", ready - start - domain - channel);
	if (domain > 0) {
		add_step(steps, "libvirt starts the VM", "host", domain);
	}
	if (kernel > 0 || user > 0) {
		add_step(steps, "qemu, firmware, kernel loading and the channel", "vm",
			channel - kernel - user);
		add_step(steps, "guest kernel to init", "guest", kernel);
		add_step(steps, "guest init to agent ready", "guest", user);
	} else {
		add_step(steps, "until the agent said hello", "vm", channel);
	}
	int64_t end = ready;
	if (b->first_client_usec >= b->ready_usec && b->first_client_usec != 0) {
		add_step(steps, "agent ready to the app's first connection", "guest",
			(int64_t)b->first_client_usec - ready);
		end = (int64_t)b->first_client_usec;
		if (b->first_window_usec >= b->first_client_usec) {
			add_step(steps, "first connection to its window shown", "guest",
				(int64_t)b->first_window_usec - end);
			end = (int64_t)b->first_window_usec;
		}
	}
	json_object_object_add(o, "steps", steps);
	json_object_object_add(o, "total_ms", json_object_new_double((double)(end - start) / 1000.0));
	json_object_object_add(o, "complete", json_object_new_boolean(b->first_window_usec != 0));
	return o;
}

static json_object *tag_json(struct bh_tag *tag)
{
	json_object *t = json_object_new_object();
	char colour[8];
	colour_string(tag->colour, colour);
	json_object_object_add(t, "name", json_object_new_string(tag->name));
	json_object_object_add(t, "state", json_object_new_string(bh_tag_state_name(tag->state)));
	json_object_object_add(t, "error",
		tag->error != NULL ? json_object_new_string(tag->error) : NULL);
	json_object_object_add(t, "colour", json_object_new_string(colour));
	/* A failed tag whose proxy lives is still trying (reconnecting). */
	json_object_object_add(t, "proxy", json_object_new_boolean(tag->control != NULL));
	json_object_object_add(t, "windows", json_object_new_int(tag->windows));
	json_object_object_add(t, "configured",
		json_object_new_boolean(bh_config_tag(tag->server->config, tag->name) != NULL));
	json_object *apps = json_object_new_array();
	for (size_t i = 0; i < tag->app_count; i++) {
		json_object *a = json_object_new_object();
		json_object_object_add(a, "id", json_object_new_string(tag->apps[i].id));
		json_object_object_add(a, "name", json_object_new_string(tag->apps[i].name));
		json_object_object_add(a, "exec", json_object_new_string(tag->apps[i].exec));
		json_object_array_add(apps, a);
	}
	json_object_object_add(t, "apps", apps);
	json_object_object_add(t, "boot", boot_json(tag));
	if (tag->state == BH_TAG_STARTING && tag->start_usec != 0) {
		json_object_object_add(t, "booting_ms",
			json_object_new_int64((int64_t)((bh_now_usec() - tag->start_usec) / 1000)));
	}
	return t;
}

static struct bh_view *request_view(struct bh_server *server, json_object *req)
{
	json_object *v;
	if (!json_object_object_get_ex(req, "id", &v) || !json_object_is_type(v, json_type_int)) {
		return NULL;
	}
	int64_t id = json_object_get_int64(v);
	return id > 0 && id <= UINT32_MAX ? bh_view_by_id(server, (uint32_t)id) : NULL;
}

static json_object *handle_request(struct bh_server *server, json_object *req)
{
	const char *cmd = get_string(req, "cmd");
	char error[512];
	if (cmd == NULL) {
		return error_reply("the request has no \"cmd\" string");
	}
	if (strcmp(cmd, "windows") == 0) {
		json_object *reply = ok_reply();
		json_object *list = json_object_new_array();
		struct bh_view *view;
		wl_list_for_each_reverse (view, &server->views, link) {
			if (view->mapped) {
				json_object_array_add(list, window_json(view));
			}
		}
		json_object_object_add(reply, "windows", list);
		return reply;
	} else if (strcmp(cmd, "tags") == 0) {
		bh_tags_scan_disk(server);
		json_object *reply = ok_reply();
		json_object *list = json_object_new_array();
		struct bh_tag *tag;
		wl_list_for_each (tag, &server->tags, link) {
			if (!bh_tag_gone(tag)) {
				json_object_array_add(list, tag_json(tag));
			}
		}
		json_object_object_add(reply, "tags", list);
		return reply;
	} else if (strcmp(cmd, "spawn") == 0 || strcmp(cmd, "run") == 0 ||
		   strcmp(cmd, "start") == 0) {
		const char *tag = get_string(req, "tag");
		const char *command = get_string(req, "command");
		if (tag == NULL) {
			return error_reply("spawn, run and start need a \"tag\"");
		}
		if (strcmp(cmd, "run") == 0 && (command == NULL || command[0] == '\0')) {
			return error_reply("run needs a \"command\"");
		}
		/* start: the tag's proxy (and VM), no app. */
		if (strcmp(cmd, "start") == 0) {
			command = "";
		}
		if (!bh_vm_manager_launch(server, tag, command, error, sizeof(error))) {
			return error_reply(error);
		}
		return ok_reply();
	} else if (strcmp(cmd, "stop") == 0) {
		const char *name = get_string(req, "tag");
		struct bh_tag *tag = name != NULL ? bh_tag_get(server, name, false) : NULL;
		if (tag == NULL) {
			return error_reply("stop needs the \"tag\" of a known tag");
		}
		if (!bh_vm_manager_stop(server, tag, error, sizeof(error))) {
			return error_reply(error);
		}
		return ok_reply();
	} else if (strcmp(cmd, "focus") == 0 || strcmp(cmd, "close") == 0) {
		struct bh_view *view = request_view(server, req);
		if (view == NULL || !view->mapped) {
			return error_reply("no window with that \"id\"");
		}
		if (strcmp(cmd, "focus") == 0) {
			bh_view_focus(view);
		} else {
			bh_view_close(view);
		}
		return ok_reply();
	} else if (strcmp(cmd, "action") == 0) {
		const char *action = get_string(req, "action");
		if (action == NULL || !bh_action_run(server, action)) {
			return error_reply("unknown action");
		}
		return ok_reply();
	} else if (strcmp(cmd, "menu") == 0) {
		json_object *reply = ok_reply();
		const char *kind = bh_menu_kind(server);
		json_object_object_add(reply, "open",
			kind != NULL ? json_object_new_string(kind) : NULL);
		const char *labels[64];
		size_t n = bh_menu_labels(server, labels, 64);
		json_object *lines = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			json_object_array_add(lines, json_object_new_string(labels[i]));
		}
		json_object_object_add(reply, "lines", lines);
		return reply;
	} else if (strcmp(cmd, "reload") == 0) {
		bh_action_reload(server);
		json_object *reply = ok_reply();
		json_object_object_add(reply, "errors", json_object_new_int(server->config->errors));
		return reply;
	} else if (strcmp(cmd, "quit") == 0) {
		wl_display_terminate(server->display);
		return ok_reply();
	} else if (strcmp(cmd, "version") == 0) {
		json_object *reply = ok_reply();
		json_object_object_add(reply, "version", json_object_new_string(BH_VERSION));
		return reply;
	}
	snprintf(error, sizeof(error), "unknown command \"%.64s\"", cmd);
	return error_reply(error);
}

static bool send_reply(struct ipc_client *c, json_object *reply)
{
	const char *text = json_object_to_json_string_ext(
		reply, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	/* Replies are small; a client that does not read them is dropped. */
	bool ok = bh_write_all(c->fd, text, strlen(text)) && bh_write_all(c->fd, "\n", 1);
	json_object_put(reply);
	return ok;
}

static int ipc_client_readable(int fd, uint32_t mask, void *data)
{
	struct ipc_client *c = data;
	if (mask & WL_EVENT_READABLE) {
		ssize_t n = read(fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			return 0;
		}
		if (n <= 0) {
			ipc_client_close(c);
			return 0;
		}
		c->len += (size_t)n;
		char *nl;
		while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
			*nl = '\0';
			json_object *req = json_tokener_parse(c->buf);
			json_object *reply = req != NULL && json_object_is_type(req, json_type_object)
						     ? handle_request(c->server, req)
						     : error_reply("the request is not a JSON object");
			json_object_put(req);
			size_t used = (size_t)(nl - c->buf) + 1;
			memmove(c->buf, nl + 1, c->len - used);
			c->len -= used;
			if (!send_reply(c, reply)) {
				ipc_client_close(c);
				return 0;
			}
		}
		if (c->len == sizeof(c->buf)) {
			send_reply(c, error_reply("request line too long"));
			ipc_client_close(c);
			return 0;
		}
		return 0;
	}
	ipc_client_close(c);
	return 0;
}

static int ipc_accept(int fd, uint32_t mask, void *data)
{
	struct bh_server *server = data;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0) {
		return 0;
	}
	if (ipc_client_count >= IPC_CLIENTS_MAX) {
		close(cfd);
		return 0;
	}
	struct ipc_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(cfd);
		return 0;
	}
	c->server = server;
	c->fd = cfd;
	c->source = wl_event_loop_add_fd(server->loop, cfd, WL_EVENT_READABLE, ipc_client_readable, c);
	if (c->source == NULL) {
		close(cfd);
		free(c);
		return 0;
	}
	wl_list_insert(&ipc_clients, &c->link);
	ipc_client_count++;
	return 0;
}

bool bh_ipc_init(struct bh_server *server)
{
	wl_list_init(&ipc_clients);
	const char *dir = getenv("XDG_RUNTIME_DIR");
	if (dir == NULL || dir[0] != '/') {
		bh_log(BH_LOG_ERROR, "XDG_RUNTIME_DIR is not set; bulkheadctl cannot reach this "
				     "session (log in through a session manager, or set it)");
		return false;
	}
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int n = snprintf(server->ipc_path, sizeof(server->ipc_path), "%s/bulkhead-%d.sock", dir,
		(int)getpid());
	if (n < 0 || (size_t)n >= sizeof(addr.sun_path)) {
		bh_log(BH_LOG_ERROR, "XDG_RUNTIME_DIR is too long for the IPC socket path");
		return false;
	}
	strcpy(addr.sun_path, server->ipc_path);
	unlink(server->ipc_path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
		listen(listen_fd, 16) != 0) {
		bh_log_errno(BH_LOG_ERROR, "cannot listen on %s", server->ipc_path);
		return false;
	}
	chmod(server->ipc_path, 0600);
	listen_source = wl_event_loop_add_fd(server->loop, listen_fd, WL_EVENT_READABLE, ipc_accept,
		server);
	setenv("BULKHEAD_SOCKET", server->ipc_path, 1);
	return listen_source != NULL;
}

void bh_ipc_finish(struct bh_server *server)
{
	struct ipc_client *c, *tmp;
	if (listen_source == NULL) {
		return;
	}
	wl_list_for_each_safe (c, tmp, &ipc_clients, link) {
		ipc_client_close(c);
	}
	wl_event_source_remove(listen_source);
	listen_source = NULL;
	close(listen_fd);
	unlink(server->ipc_path);
}
