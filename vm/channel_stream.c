/* The channel through libvirt's stream: one pump per opened channel, run
 * by libvirt's own event loop in one thread of the process. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libvirt/virterror.h>

#include "common/log.h"
#include "vm/channel_stream.h"

/* Each way holds at most this much: a full buffer stops reading its
 * source until the other side took it (backpressure, no growing queue). */
#define PUMP_BUFFER (64 * 1024)
/* A dead connection (a host that vanished without closing) is noticed
 * after about KEEPALIVE_SEC * (KEEPALIVE_COUNT + 1). */
#define KEEPALIVE_SEC 5
#define KEEPALIVE_COUNT 2

struct buffer {
	uint8_t data[PUMP_BUFFER];
	size_t off, len;
};

struct pump {
	struct pump *next; /* in pumps */
	virConnectPtr conn;
	pthread_mutex_t lock;
	virStreamPtr stream;
	int fd;    /* our end of the socket pair */
	int watch; /* its libvirt event handle, -1 before it has one */
	bool ended;
	struct buffer to_socket; /* from the VM, for the proxy */
	struct buffer to_stream; /* from the proxy, for the VM */
	char tag[128], uri[256];
};

static const char *libvirt_message(void)
{
	const char *msg = virGetLastErrorMessage();
	return msg != NULL ? msg : "unknown libvirt error";
}

/* Every pump, for the close of its connection: libvirt tells a
 * connection's close callback, not its streams, that the connection is
 * gone (a host that went away, ssh killed). */
static pthread_mutex_t pumps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pump *pumps;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool init_ok;
static char init_error[256];

static void *event_thread(void *data)
{
	(void)data;
	for (;;) {
		if (virEventRunDefaultImpl() < 0) {
			bh_log(BH_LOG_ERROR, "libvirt's event loop failed: %s", libvirt_message());
			return NULL;
		}
	}
}

static void init_events(void)
{
	if (virEventRegisterDefaultImpl() < 0) {
		snprintf(init_error, sizeof(init_error), "libvirt's event loop cannot start: %s",
			libvirt_message());
		return;
	}
	init_ok = true;
}

bool bh_channel_stream_init(char *err, size_t err_size)
{
	pthread_once(&init_once, init_events);
	if (!init_ok) {
		snprintf(err, err_size, "%s", init_error);
	}
	return init_ok;
}

/* The loop runs only in a process that pumps a channel (the keeper): a
 * proxy that only started the VM before its sandbox has no thread more. */
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
static bool thread_ok;

static void start_thread(void)
{
	pthread_t thread;
	pthread_attr_t attr;
	/* It runs until the process ends; nothing joins it. */
	if (pthread_attr_init(&attr) != 0) {
		return;
	}
	thread_ok = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
		    pthread_create(&thread, &attr, event_thread, NULL) == 0;
	pthread_attr_destroy(&attr);
}

static void pump_free(void *data)
{
	struct pump *p = data;
	pthread_mutex_lock(&pumps_lock);
	for (struct pump **q = &pumps; *q != NULL; q = &(*q)->next) {
		if (*q == p) {
			*q = p->next;
			break;
		}
	}
	pthread_mutex_unlock(&pumps_lock);
	close(p->fd);
	virStreamFree(p->stream);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* The end, once, in one logged line; the socket's close tells the proxy. */
static void pump_end(struct pump *p, enum bh_log_level level, const char *why)
{
	if (p->ended) {
		return;
	}
	p->ended = true;
	bh_log(level, "tag %s: the channel through libvirt (%s) ended: %s", p->tag, p->uri, why);
	virStreamEventRemoveCallback(p->stream);
	virStreamAbort(p->stream);
	/* The handle's free function closes the socket and frees the pump,
	 * after the loop is done with this round of callbacks. */
	virEventRemoveHandle(p->watch);
}

static void pump_update(struct pump *p)
{
	if (p->ended) {
		return;
	}
	bool socket_busy = p->to_socket.len > p->to_socket.off;
	bool stream_busy = p->to_stream.len > p->to_stream.off;
	virStreamEventUpdateCallback(
		p->stream, (socket_busy ? 0 : VIR_STREAM_EVENT_READABLE) |
				   (stream_busy ? VIR_STREAM_EVENT_WRITABLE : 0));
	virEventUpdateHandle(p->watch, (stream_busy ? 0 : VIR_EVENT_HANDLE_READABLE) |
					       (socket_busy ? VIR_EVENT_HANDLE_WRITABLE : 0));
}

static void flush_socket(struct pump *p)
{
	struct buffer *b = &p->to_socket;
	while (!p->ended && b->off < b->len) {
		ssize_t n = send(p->fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		}
		if (n < 0) {
			char why[160];
			snprintf(why, sizeof(why), "the proxy's side cannot take data (%s)",
				strerror(errno));
			pump_end(p, BH_LOG_INFO, why);
			return;
		}
		b->off += (size_t)n;
	}
	b->off = b->len = 0;
}

static void flush_stream(struct pump *p)
{
	struct buffer *b = &p->to_stream;
	while (!p->ended && b->off < b->len) {
		int n = virStreamSend(p->stream, (const char *)b->data + b->off, b->len - b->off);
		if (n == -2) {
			return;
		}
		if (n < 0) {
			char why[400];
			snprintf(why, sizeof(why), "sending to the VM failed: %s",
				libvirt_message());
			pump_end(p, BH_LOG_ERROR, why);
			return;
		}
		b->off += (size_t)n;
	}
	b->off = b->len = 0;
}

static void stream_handle_event(virStreamPtr stream, int events, void *data)
{
	struct pump *p = data;
	pthread_mutex_lock(&p->lock);
	if (!p->ended && (events & VIR_STREAM_EVENT_WRITABLE)) {
		flush_stream(p);
	}
	if (!p->ended && (events & VIR_STREAM_EVENT_READABLE) &&
		p->to_socket.len == p->to_socket.off) {
		int n = virStreamRecv(stream, (char *)p->to_socket.data, PUMP_BUFFER);
		if (n > 0) {
			p->to_socket.off = 0;
			p->to_socket.len = (size_t)n;
			flush_socket(p);
		} else if (n == 0) {
			pump_end(p, BH_LOG_INFO, "the VM's side closed it");
		} else if (n == -1) {
			char why[400];
			snprintf(why, sizeof(why), "receiving from the VM failed: %s",
				libvirt_message());
			pump_end(p, BH_LOG_ERROR, why);
		}
	}
	if (!p->ended && (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP))) {
		pump_end(p, BH_LOG_ERROR,
			events & VIR_STREAM_EVENT_ERROR ? "the stream failed (the connection to "
							  "libvirt was lost?)"
							: "libvirt hung up");
	}
	pump_update(p);
	pthread_mutex_unlock(&p->lock);
}

static void socket_handle_event(int watch, int fd, int events, void *data)
{
	struct pump *p = data;
	(void)watch;
	pthread_mutex_lock(&p->lock);
	if (!p->ended && (events & VIR_EVENT_HANDLE_WRITABLE)) {
		flush_socket(p);
	}
	if (!p->ended && (events & VIR_EVENT_HANDLE_READABLE) &&
		p->to_stream.len == p->to_stream.off) {
		ssize_t n = recv(fd, p->to_stream.data, PUMP_BUFFER, 0);
		if (n > 0) {
			p->to_stream.off = 0;
			p->to_stream.len = (size_t)n;
			flush_stream(p);
		} else if (n == 0) {
			pump_end(p, BH_LOG_DEBUG, "the proxy closed it");
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			char why[160];
			snprintf(why, sizeof(why), "reading the proxy's side failed (%s)",
				strerror(errno));
			pump_end(p, BH_LOG_ERROR, why);
		}
	} else if (!p->ended && (events & (VIR_EVENT_HANDLE_HANGUP | VIR_EVENT_HANDLE_ERROR)) &&
		   !(events & VIR_EVENT_HANDLE_READABLE)) {
		pump_end(p, BH_LOG_DEBUG, "the proxy hung up");
	}
	pump_update(p);
	pthread_mutex_unlock(&p->lock);
}

static const char *close_reason(int reason)
{
	switch (reason) {
	case VIR_CONNECT_CLOSE_REASON_ERROR:
		return "a transport error";
	case VIR_CONNECT_CLOSE_REASON_EOF:
		return "the far end closed it";
	case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
		return "no answer to keepalive";
	default:
		return "closed";
	}
}

/* The connection is gone: each of its pumps' sockets is shut, which
 * ends the pump in the event loop and tells the proxy at once. */
static void connection_handle_close(virConnectPtr conn, int reason, void *data)
{
	(void)data;
	pthread_mutex_lock(&pumps_lock);
	for (struct pump *p = pumps; p != NULL; p = p->next) {
		if (p->conn == conn) {
			bh_log(BH_LOG_ERROR,
				"tag %s: the channel through libvirt (%s) ended: the connection "
				"was lost (%s)",
				p->tag, p->uri, close_reason(reason));
			shutdown(p->fd, SHUT_RDWR);
		}
	}
	pthread_mutex_unlock(&pumps_lock);
}

/* One close callback per connection, for all its pumps. */
static void watch_connection(struct pump *p)
{
	pthread_mutex_lock(&pumps_lock);
	bool watched = false;
	for (struct pump *q = pumps; q != NULL && !watched; q = q->next) {
		watched = q->conn == p->conn;
	}
	if (!watched &&
		virConnectRegisterCloseCallback(p->conn, connection_handle_close, NULL, NULL) < 0) {
		bh_log(BH_LOG_DEBUG, "tag %s: no close callback on its libvirt connection: %s",
			p->tag, libvirt_message());
	}
	p->next = pumps;
	pumps = p;
	pthread_mutex_unlock(&pumps_lock);
}

int bh_channel_stream_open(virDomainPtr dom, const char *name, const char *tag, const char *uri,
	char *err, size_t err_size)
{
	if (!bh_channel_stream_init(err, err_size)) {
		return -1;
	}
	pthread_once(&thread_once, start_thread);
	if (!thread_ok) {
		snprintf(err, err_size, "cannot start libvirt's event thread for the channel");
		return -1;
	}
	virConnectPtr conn = virDomainGetConnect(dom);
	/* A host that vanishes is noticed even when no call is under way.
	 * Not every connection has keepalive (a local one may not). */
	virConnectSetKeepAlive(conn, KEEPALIVE_SEC, KEEPALIVE_COUNT);
	struct pump *p = calloc(1, sizeof(*p));
	int sv[2] = {-1, -1};
	if (p == NULL ||
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0) {
		snprintf(err, err_size, "cannot make the channel's socket pair: %s",
			strerror(errno));
		free(p);
		return -1;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->fd = sv[0];
	p->watch = -1;
	snprintf(p->tag, sizeof(p->tag), "%s", tag);
	snprintf(p->uri, sizeof(p->uri), "%s", uri);
	p->conn = conn;
	p->stream = virStreamNew(conn, VIR_STREAM_NONBLOCK);
	/* FORCE: a stream left by a proxy that died (or a connection that
	 * dropped) must not keep the channel from its next proxy. */
	if (p->stream == NULL ||
		virDomainOpenChannel(dom, name, p->stream, VIR_DOMAIN_CHANNEL_FORCE) < 0) {
		snprintf(err, err_size, "libvirt cannot open the VM's channel %s: %s", name,
			libvirt_message());
		goto error;
	}
	/* The callbacks wait for the lock until both are registered. */
	pthread_mutex_lock(&p->lock);
	if (virStreamEventAddCallback(
		    p->stream, VIR_STREAM_EVENT_READABLE, stream_handle_event, p, NULL) < 0) {
		pthread_mutex_unlock(&p->lock);
		snprintf(err, err_size, "cannot watch the VM's channel stream: %s",
			libvirt_message());
		virStreamAbort(p->stream);
		goto error;
	}
	p->watch = virEventAddHandle(
		p->fd, VIR_EVENT_HANDLE_READABLE, socket_handle_event, p, pump_free);
	if (p->watch < 0) {
		virStreamEventRemoveCallback(p->stream);
		virStreamAbort(p->stream);
		pthread_mutex_unlock(&p->lock);
		snprintf(err, err_size, "cannot watch the channel's socket pair");
		goto error;
	}
	watch_connection(p);
	pthread_mutex_unlock(&p->lock);
	return sv[1];
error:
	if (p->stream != NULL) {
		virStreamFree(p->stream);
	}
	close(sv[0]);
	close(sv[1]);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return -1;
}
