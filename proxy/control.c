/* The tag's control socket for bulkheadctl: each connection is a channel
 * endpoint whose exec/push/pull streams are spliced, message by checked
 * message, onto streams to the agent; LAUNCH requests are forwarded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "common/archive.h"
#include "common/exec_msg.h"
#include "common/log.h"
#include "common/util.h"
#include "proxy/proxy.h"

#define MAX_CONNECTIONS 32

struct bh_control {
	struct bh_proxy *proxy;
	char *path;
	int fd;
	struct wl_event_source *source;
	struct wl_list connections;
	size_t count;
	bool keep_file;
};

struct control_conn {
	struct wl_list link;
	struct bh_control *control;
	struct bh_endpoint *endpoint;
	struct wl_list launches; /* struct pending_launch */
};

struct pending_launch {
	struct wl_list link;
	uint32_t proxy_request, client_request;
};

/* One spliced session: the bulkheadctl side and the agent side. */
struct splice {
	struct bh_stream *client, *agent;
	struct bh_proxy *proxy;
	/* Exec sessions: each direction read by the parser the agent and
	 * bulkheadctl use, order rules included. */
	struct bh_exec_reader from_guest, from_host;
};

/* Which archive messages may go which way, and their size rules; anything
 * else ends the session. from_guest: the message came from the agent. */
static bool archive_message_ok(enum bh_stream_kind kind, bool from_guest, const uint8_t *p,
	size_t len)
{
	if (len == 0) {
		return false;
	}
	uint8_t type = p[0];
	/* Entries flow from the sender (bulkheadctl for push, the agent for
	 * pull); the receiver validates every name and size. */
	bool sender = (kind == BH_STREAM_PUSH) != from_guest;
	if (type == BH_FILE_ERROR) {
		return len <= 1 + BH_ARCHIVE_ERROR_MAX;
	}
	if (type == BH_FILE_START) {
		return !from_guest;
	}
	if (type == BH_FILE_DONE) {
		return !sender && len == 1;
	}
	return sender && (type == BH_FILE_DIR || type == BH_FILE_REG || type == BH_FILE_DATA ||
				 type == BH_FILE_SYMLINK || (type == BH_FILE_END && len == 1));
}

/* Checks one message before it is forwarded; false, with why in err, ends
 * the session. */
static bool message_ok(struct splice *sp, struct bh_stream *from, bool from_guest,
	const uint8_t *p, size_t len, char *err, size_t err_size)
{
	if (bh_stream_kind(from) == BH_STREAM_EXEC) {
		struct bh_exec_msg msg;
		bool ok = bh_exec_read(from_guest ? &sp->from_guest : &sp->from_host, p, len, &msg,
			err, err_size);
		bh_exec_msg_finish(&msg);
		return ok;
	}
	if (!archive_message_ok(bh_stream_kind(from), from_guest, p, len)) {
		snprintf(err, err_size, "type %u, %zu bytes", len > 0 ? p[0] : 0u, len);
		return false;
	}
	return true;
}

static void splice_free_if_done(struct splice *sp)
{
	if (sp->client == NULL && sp->agent == NULL) {
		free(sp);
	}
}

static bool splice_forward(struct splice *sp, struct bh_stream *from, const uint8_t *p,
	size_t len)
{
	bool from_guest = from == sp->agent;
	struct bh_stream *to = from_guest ? sp->client : sp->agent;
	char err[160];
	if (!message_ok(sp, from, from_guest, p, len, err, sizeof(err))) {
		bh_stream_fail(from, "%s sent a malformed %s message: %s",
			from_guest ? "the agent" : "bulkheadctl",
			bh_stream_kind(from) == BH_STREAM_EXEC ? "exec" : "file", err);
		return false;
	}
	if (to == NULL) {
		return true;
	}
	if (!bh_stream_send(to, p, len)) {
		if (errno == EAGAIN) {
			/* The far side reads slowly: stop reading this side. */
			bh_stream_set_paused(from, true);
		} else {
			bh_stream_fail(from, "could not forward the session: %s", strerror(errno));
			return false;
		}
	}
	return true;
}

static bool splice_handle_data(struct bh_stream *stream, const uint8_t *p, size_t len,
	void *user)
{
	return splice_forward(user, stream, p, len);
}

static void splice_handle_closed(struct bh_stream *stream, const char *reason, void *user)
{
	struct splice *sp = user;
	bool from_guest = stream == sp->agent;
	struct bh_stream *other = from_guest ? sp->client : sp->agent;
	if (from_guest) {
		sp->agent = NULL;
	} else {
		sp->client = NULL;
	}
	if (other != NULL) {
		/* Normal end on one side ends the other normally, after what was
		 * already forwarded; an error passes its reason on. */
		if (from_guest) {
			sp->client = NULL;
		} else {
			sp->agent = NULL;
		}
		if (reason != NULL) {
			bh_stream_close_error(other, reason);
		} else {
			bh_stream_close(other, NULL);
		}
	}
	splice_free_if_done(sp);
}

static void splice_handle_writable(struct bh_stream *stream, void *user)
{
	struct splice *sp = user;
	struct bh_stream *other = stream == sp->agent ? sp->client : sp->agent;
	if (other != NULL) {
		bh_stream_set_paused(other, false);
	}
}

static const struct bh_stream_handler splice_handler = {
	.data = splice_handle_data,
	.closed = splice_handle_closed,
	.writable = splice_handle_writable,
};

static bool conn_handle_open(struct bh_endpoint *endpoint, struct bh_stream *stream,
	enum bh_stream_kind kind, void *user)
{
	struct control_conn *conn = user;
	struct bh_proxy *proxy = conn->control->proxy;
	if (kind != BH_STREAM_EXEC && kind != BH_STREAM_PUSH && kind != BH_STREAM_PULL) {
		return false;
	}
	struct bh_endpoint *agent = bh_proxy_endpoint(proxy);
	struct splice *sp = calloc(1, sizeof(*sp));
	if (sp == NULL) {
		return false;
	}
	sp->proxy = proxy;
	sp->client = stream;
	bh_exec_reader_init(&sp->from_guest, false);
	bh_exec_reader_init(&sp->from_host, true);
	bh_stream_set_handler(stream, &splice_handler, sp);
	if (agent == NULL) {
		sp->client = NULL;
		free(sp);
		bh_stream_set_handler(stream, &splice_handler, NULL);
		bh_stream_close_error(
			stream, "the agent of this tag is not connected (is the VM running?)");
		return true;
	}
	sp->agent = bh_endpoint_open_stream(agent, kind, &splice_handler, sp);
	if (sp->agent == NULL) {
		sp->client = NULL;
		free(sp);
		bh_stream_close_error(stream, "could not open a stream to the agent");
		return true;
	}
	return true;
}

static struct control_conn *find_launch(struct bh_control *control, uint32_t request,
	struct pending_launch **out)
{
	struct control_conn *conn;
	wl_list_for_each(conn, &control->connections, link) {
		struct pending_launch *pl;
		wl_list_for_each(pl, &conn->launches, link) {
			if (pl->proxy_request == request) {
				*out = pl;
				return conn;
			}
		}
	}
	return NULL;
}

void bh_control_launched(struct bh_control *control, uint32_t request, int32_t pid,
	const char *error)
{
	if (control == NULL) {
		return;
	}
	struct pending_launch *pl;
	struct control_conn *conn = find_launch(control, request, &pl);
	if (conn == NULL) {
		return;
	}
	struct bh_msg msg;
	bh_msg_init(&msg, 0);
	bh_msg_u32(&msg, pl->client_request);
	bh_msg_u32(&msg, (uint32_t)pid);
	bh_msg_str(&msg, error);
	bh_endpoint_send_control(conn->endpoint, BH_CTL_LAUNCHED, msg.buf, msg.len);
	wl_list_remove(&pl->link);
	free(pl);
}

static bool conn_handle_control(struct bh_endpoint *endpoint, uint32_t type,
	const uint8_t *payload, size_t len, void *user)
{
	struct control_conn *conn = user;
	struct bh_msg_reader r;
	bh_msg_reader_init(&r, payload, len);
	if (type == BH_CTL_HELLO) {
		return true;
	}
	if (type != BH_CTL_LAUNCH) {
		return false;
	}
	uint32_t client_request = bh_msg_get_u32(&r);
	char *command = bh_msg_get_str(&r, 16 * 1024);
	if (!bh_msg_end(&r)) {
		free(command);
		return false;
	}
	uint32_t request = bh_proxy_launch(conn->control->proxy, command);
	free(command);
	if (request == 0) {
		struct bh_msg msg;
		bh_msg_init(&msg, 0);
		bh_msg_u32(&msg, client_request);
		bh_msg_u32(&msg, (uint32_t)-1);
		bh_msg_str(&msg, "the agent of this tag is not connected (is the VM running?)");
		bh_endpoint_send_control(endpoint, BH_CTL_LAUNCHED, msg.buf, msg.len);
		return true;
	}
	struct pending_launch *pl = calloc(1, sizeof(*pl));
	if (pl == NULL) {
		return false;
	}
	pl->proxy_request = request;
	pl->client_request = client_request;
	wl_list_insert(&conn->launches, &pl->link);
	return true;
}

static void conn_destroy(struct control_conn *conn)
{
	struct pending_launch *pl, *tmp;
	wl_list_for_each_safe(pl, tmp, &conn->launches, link) {
		wl_list_remove(&pl->link);
		free(pl);
	}
	wl_list_remove(&conn->link);
	conn->control->count--;
	bh_endpoint_destroy(conn->endpoint);
	free(conn);
}

static void conn_handle_disconnected(struct bh_endpoint *endpoint, const char *reason,
	void *user)
{
	conn_destroy(user);
}

static const struct bh_endpoint_listener conn_listener = {
	.control = conn_handle_control,
	.open = conn_handle_open,
	.disconnected = conn_handle_disconnected,
};

static int control_handle_accept(int fd, uint32_t mask, void *data)
{
	struct bh_control *control = data;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0) {
		return 0;
	}
	if (control->count >= MAX_CONNECTIONS) {
		bh_log(BH_LOG_WARN, "control socket: too many bulkheadctl connections");
		close(c);
		return 0;
	}
	struct control_conn *conn = calloc(1, sizeof(*conn));
	if (conn == NULL) {
		close(c);
		return 0;
	}
	conn->control = control;
	wl_list_init(&conn->launches);
	conn->endpoint = bh_endpoint_create(bh_proxy_event_loop(control->proxy), c,
		BH_ENDPOINT_HOST, &conn_listener, conn);
	if (conn->endpoint == NULL) {
		free(conn);
		return 0;
	}
	wl_list_insert(&control->connections, &conn->link);
	control->count++;
	return 0;
}

static bool make_dirs(char *path)
{
	/* Creates every parent of path, private to the user. */
	for (char *p = path + 1; *p; p++) {
		if (*p != '/') {
			continue;
		}
		*p = '\0';
		bool ok = mkdir(path, 0700) == 0 || errno == EEXIST;
		*p = '/';
		if (!ok) {
			return false;
		}
	}
	return true;
}

struct bh_control *bh_control_create(struct bh_proxy *proxy, const char *path)
{
	struct bh_control *control = calloc(1, sizeof(*control));
	if (control == NULL) {
		return NULL;
	}
	control->proxy = proxy;
	control->fd = -1;
	wl_list_init(&control->connections);
	control->path = strdup(path);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (control->path == NULL || strlen(path) >= sizeof(addr.sun_path) ||
		!make_dirs(control->path)) {
		bh_log(BH_LOG_ERROR, "cannot create the control socket %s", path);
		goto error;
	}
	strcpy(addr.sun_path, path);
	control->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	unlink(path);
	if (control->fd < 0 || bind(control->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
		chmod(path, 0600) != 0 || listen(control->fd, 8) != 0) {
		bh_log_errno(BH_LOG_ERROR, "cannot listen on the control socket %s", path);
		goto error;
	}
	control->source = wl_event_loop_add_fd(bh_proxy_event_loop(proxy), control->fd,
		WL_EVENT_READABLE, control_handle_accept, control);
	if (control->source == NULL) {
		goto error;
	}
	return control;
error:
	bh_control_destroy(control);
	return NULL;
}

void bh_control_keep_file(struct bh_control *control)
{
	control->keep_file = true;
}

void bh_control_destroy(struct bh_control *control)
{
	if (control == NULL) {
		return;
	}
	struct control_conn *conn, *tmp;
	wl_list_for_each_safe(conn, tmp, &control->connections, link) {
		conn_destroy(conn);
	}
	if (control->source != NULL) {
		wl_event_source_remove(control->source);
	}
	if (control->fd >= 0) {
		close(control->fd);
		if (!control->keep_file) {
			unlink(control->path);
		}
	}
	free(control->path);
	free(control);
}
