/* Clipboard policy, Qubes' model on Wayland: every tag has its own
 * selection and primary selection, the host has its own; a client only
 * ever sees the selection of its own domain. Data crosses domains only by
 * the user's chords: copy (Super+c) takes the focused domain's selection
 * into the compositor's clipboard, paste (Super+v) offers it, once, to the
 * focused window's domain.
 *
 * wlroots has one selection per seat and destroys a source it replaces, so
 * the seat only ever holds a compositor-made stand-in that forwards to the
 * domain's real source; switching domains replaces the stand-in and leaves
 * the real sources alone. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_primary_selection.h>

#include "common/log.h"
#include "compositor/client.h"
#include "compositor/clipboard.h"
#include "compositor/status.h"
#include "compositor/tags.h"

static const char *const text_types[] = {"text/plain;charset=utf-8", "text/plain", "UTF8_STRING",
	"STRING", "TEXT", "image/png", NULL};

/* One domain's selections: the real sources its clients set. */
struct bh_clipboard_domain {
	struct wlr_data_source *data;
	struct wlr_primary_selection_source *primary;
	struct wl_listener data_destroy, primary_destroy;
};

struct bh_clipboard {
	struct bh_server *server;
	struct wl_protocol_logger *logger;
	struct wl_client *setter; /* the client whose set_selection runs */
	struct wl_listener request_set_selection, request_set_primary_selection;
	struct bh_clipboard_domain host;
	struct bh_tag *current; /* the domain whose selection the seat shows */
	bool current_host;
	/* The compositor's clipboard (copy chord). */
	char *buffer;
	size_t size;
	char mime[64];
	char from[80];
	int read_fd;
	struct wl_event_source *read_source;
};

/* Stand-ins in the seat */

struct data_standin {
	struct wlr_data_source base;
	struct wlr_data_source *real;
};

static void data_standin_send(struct wlr_data_source *source, const char *mime, int32_t fd)
{
	struct data_standin *s = wl_container_of(source, s, base);
	if (s->real != NULL) {
		wlr_data_source_send(s->real, mime, fd);
	} else {
		close(fd);
	}
}

static void data_standin_destroy(struct wlr_data_source *source)
{
	struct data_standin *s = wl_container_of(source, s, base);
	free(s);
}

static const struct wlr_data_source_impl data_standin_impl = {
	.send = data_standin_send,
	.destroy = data_standin_destroy,
};

struct primary_standin {
	struct wlr_primary_selection_source base;
	struct wlr_primary_selection_source *real;
};

static void primary_standin_send(
	struct wlr_primary_selection_source *source, const char *mime, int fd)
{
	struct primary_standin *s = wl_container_of(source, s, base);
	if (s->real != NULL) {
		wlr_primary_selection_source_send(s->real, mime, fd);
	} else {
		close(fd);
	}
}

static void primary_standin_destroy(struct wlr_primary_selection_source *source)
{
	struct primary_standin *s = wl_container_of(source, s, base);
	free(s);
}

static const struct wlr_primary_selection_source_impl primary_standin_impl = {
	.send = primary_standin_send,
	.destroy = primary_standin_destroy,
};

static bool copy_types(struct wl_array *to, const struct wl_array *from)
{
	char **type;
	wl_array_for_each (type, (struct wl_array *)from) {
		char **slot = wl_array_add(to, sizeof(*slot));
		if (slot == NULL || (*slot = strdup(*type)) == NULL) {
			return false;
		}
	}
	return true;
}

/* A tag's domain is made when one of its clients first sets a selection. */
static struct bh_clipboard_domain *domain_of(
	struct bh_server *server, struct bh_tag *tag, bool create)
{
	if (tag == NULL) {
		return &server->clipboard->host;
	}
	if (tag->selection == NULL && create) {
		tag->selection = calloc(1, sizeof(*tag->selection));
	}
	return tag->selection;
}

/* Shows the domain's selections in the seat (or none). */
static void show_domain(struct bh_server *server, struct bh_tag *tag)
{
	struct bh_clipboard_domain *d = domain_of(server, tag, false);
	struct wlr_data_source *data = NULL;
	if (d != NULL && d->data != NULL) {
		struct data_standin *s = calloc(1, sizeof(*s));
		if (s != NULL) {
			wlr_data_source_init(&s->base, &data_standin_impl);
			s->real = d->data;
			if (copy_types(&s->base.mime_types, &d->data->mime_types)) {
				data = &s->base;
			} else {
				wlr_data_source_destroy(&s->base);
			}
		}
	}
	wlr_seat_set_selection(server->seat, data, wl_display_next_serial(server->display));
	struct wlr_primary_selection_source *primary = NULL;
	if (d != NULL && d->primary != NULL) {
		struct primary_standin *s = calloc(1, sizeof(*s));
		if (s != NULL) {
			wlr_primary_selection_source_init(&s->base, &primary_standin_impl);
			s->real = d->primary;
			if (copy_types(&s->base.mime_types, &d->primary->mime_types)) {
				primary = &s->base;
			} else {
				wlr_primary_selection_source_destroy(&s->base);
			}
		}
	}
	wlr_seat_set_primary_selection(
		server->seat, primary, wl_display_next_serial(server->display));
}

static bool is_current(struct bh_server *server, struct bh_tag *tag)
{
	struct bh_clipboard *c = server->clipboard;
	return tag != NULL ? c->current == tag : c->current_host;
}

static void data_real_destroyed(struct wl_listener *listener, void *data)
{
	struct bh_clipboard_domain *d = wl_container_of(listener, d, data_destroy);
	wl_list_remove(&d->data_destroy.link);
	d->data = NULL;
}

static void primary_real_destroyed(struct wl_listener *listener, void *data)
{
	struct bh_clipboard_domain *d = wl_container_of(listener, d, primary_destroy);
	wl_list_remove(&d->primary_destroy.link);
	d->primary = NULL;
}

/* Replaces a domain's selection (a NULL domain refuses it). */
static void set_data(struct bh_clipboard_domain *d, struct wlr_data_source *source)
{
	if (d == NULL) {
		if (source != NULL) {
			wlr_data_source_destroy(source);
		}
		return;
	}
	if (d->data != NULL) {
		struct wlr_data_source *old = d->data;
		data_real_destroyed(&d->data_destroy, NULL);
		wlr_data_source_destroy(old);
	}
	d->data = source;
	if (source != NULL) {
		d->data_destroy.notify = data_real_destroyed;
		wl_signal_add(&source->events.destroy, &d->data_destroy);
	}
}

static void set_primary(struct bh_clipboard_domain *d, struct wlr_primary_selection_source *source)
{
	if (d == NULL) {
		if (source != NULL) {
			wlr_primary_selection_source_destroy(source);
		}
		return;
	}
	if (d->primary != NULL) {
		struct wlr_primary_selection_source *old = d->primary;
		primary_real_destroyed(&d->primary_destroy, NULL);
		wlr_primary_selection_source_destroy(old);
	}
	d->primary = source;
	if (source != NULL) {
		d->primary_destroy.notify = primary_real_destroyed;
		wl_signal_add(&source->events.destroy, &d->primary_destroy);
	}
}

/* Which client a set_selection comes from: wlroots' selection events do
 * not say, so the request is noted on its way in. */
static void clipboard_handle_request(void *data, enum wl_protocol_logger_type type,
	const struct wl_protocol_logger_message *message)
{
	struct bh_clipboard *c = data;
	if (type == WL_PROTOCOL_LOGGER_REQUEST && message->message->name[0] == 's' &&
		strcmp(message->message->name, "set_selection") == 0) {
		c->setter = wl_resource_get_client(message->resource);
	}
}

/* The domain a selection request under way belongs to, and whether it has
 * one: a selection nobody is known to have set is refused. */
static struct bh_clipboard_domain *setter_domain(struct bh_clipboard *c, struct bh_tag **tag)
{
	struct wl_client *client = c->setter;
	c->setter = NULL;
	*tag = client != NULL ? bh_client_tag(client) : NULL;
	return client != NULL ? domain_of(c->server, *tag, true) : NULL;
}

static void clipboard_handle_request_set_selection(struct wl_listener *listener, void *data)
{
	struct bh_clipboard *c = wl_container_of(listener, c, request_set_selection);
	struct wlr_seat_request_set_selection_event *event = data;
	struct bh_tag *tag;
	struct bh_clipboard_domain *d = setter_domain(c, &tag);
	set_data(d, event->source);
	if (d != NULL && is_current(c->server, tag)) {
		show_domain(c->server, tag);
	}
}

static void clipboard_handle_request_set_primary_selection(struct wl_listener *listener, void *data)
{
	struct bh_clipboard *c = wl_container_of(listener, c, request_set_primary_selection);
	struct wlr_seat_request_set_primary_selection_event *event = data;
	struct bh_tag *tag;
	struct bh_clipboard_domain *d = setter_domain(c, &tag);
	set_primary(d, event->source);
	if (d != NULL && is_current(c->server, tag)) {
		show_domain(c->server, tag);
	}
}

void bh_clipboard_focus(struct bh_server *server, struct bh_tag *tag)
{
	struct bh_clipboard *c = server->clipboard;
	if (c == NULL || is_current(server, tag)) {
		return;
	}
	c->current = tag;
	c->current_host = tag == NULL;
	show_domain(server, tag);
}

static const struct wlr_data_source_impl buffer_source_impl;

/* Forgets a domain's sources; the compositor's own (a paste) goes too,
 * client sources go with their clients. */
static void domain_clear(struct bh_clipboard_domain *d)
{
	if (d->data != NULL) {
		struct wlr_data_source *source = d->data;
		wl_list_remove(&d->data_destroy.link);
		d->data = NULL;
		if (source->impl == &buffer_source_impl) {
			wlr_data_source_destroy(source);
		}
	}
	if (d->primary != NULL) {
		wl_list_remove(&d->primary_destroy.link);
		d->primary = NULL;
	}
}

/* The copy chord: read the focused domain's selection. */

static void finish_read(struct bh_clipboard *c, const char *error)
{
	if (c->read_source != NULL) {
		wl_event_source_remove(c->read_source);
		c->read_source = NULL;
	}
	if (c->read_fd >= 0) {
		close(c->read_fd);
		c->read_fd = -1;
	}
	char note[256];
	if (error != NULL) {
		snprintf(note, sizeof(note), "copy from %s failed: %s", c->from, error);
		free(c->buffer);
		c->buffer = NULL;
		c->size = 0;
	} else {
		snprintf(note, sizeof(note),
			"copied %zu bytes (%s) from %s; Super+v pastes them once", c->size, c->mime,
			c->from);
	}
	bh_log(error != NULL ? BH_LOG_WARN : BH_LOG_INFO, "%s", note);
	bh_status_note(c->server, note);
}

static int copy_readable(int fd, uint32_t mask, void *data)
{
	struct bh_clipboard *c = data;
	size_t limit = c->server->config->clipboard_limit;
	char chunk[65536];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return 0;
	}
	if (n <= 0) {
		finish_read(c, n < 0 ? strerror(errno) : NULL);
		return 0;
	}
	if (c->size + (size_t)n > limit) {
		char why[128];
		snprintf(why, sizeof(why), "more than the clipboard_limit of %zu bytes", limit);
		finish_read(c, why);
		return 0;
	}
	char *grown = realloc(c->buffer, c->size + (size_t)n);
	if (grown == NULL) {
		finish_read(c, "out of memory");
		return 0;
	}
	c->buffer = grown;
	memcpy(c->buffer + c->size, chunk, (size_t)n);
	c->size += (size_t)n;
	return 0;
}

void bh_clipboard_copy(struct bh_server *server, struct bh_tag *tag)
{
	struct bh_clipboard *c = server->clipboard;
	struct bh_clipboard_domain *d = domain_of(server, tag, false);
	snprintf(c->from, sizeof(c->from), "%s%s%s", tag ? "[" : "", tag ? tag->name : "the host",
		tag ? "]" : "");
	if (d == NULL || d->data == NULL) {
		bh_status_note(server, "nothing to copy: the focused window's clipboard is empty");
		return;
	}
	const char *mime = NULL;
	for (int i = 0; text_types[i] != NULL && mime == NULL; i++) {
		char **type;
		wl_array_for_each (type, &d->data->mime_types) {
			if (strcmp(*type, text_types[i]) == 0) {
				mime = text_types[i];
				break;
			}
		}
	}
	if (mime == NULL) {
		bh_status_note(server, "nothing to copy: the clipboard holds no text or image");
		return;
	}
	int fds[2];
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
		return;
	}
	if (c->read_source != NULL) {
		finish_read(c, "a new copy started");
	}
	free(c->buffer);
	c->buffer = NULL;
	c->size = 0;
	snprintf(c->mime, sizeof(c->mime), "%s", mime);
	c->read_fd = fds[0];
	c->read_source =
		wl_event_loop_add_fd(server->loop, fds[0], WL_EVENT_READABLE, copy_readable, c);
	wlr_data_source_send(d->data, mime, fds[1]);
}

/* The paste chord: a compositor source with the copied bytes. */

struct buffer_source {
	struct wlr_data_source base;
	struct bh_server *server;
	char *buffer;
	size_t size;
};

struct buffer_write {
	struct wl_event_source *source;
	int fd;
	char *buffer;
	size_t size, done;
};

static int buffer_writable(int fd, uint32_t mask, void *data)
{
	struct buffer_write *w = data;
	while (w->done < w->size) {
		ssize_t n = write(fd, w->buffer + w->done, w->size - w->done);
		if (n < 0 && errno == EAGAIN) {
			return 0;
		}
		if (n <= 0) {
			break;
		}
		w->done += (size_t)n;
	}
	wl_event_source_remove(w->source);
	close(w->fd);
	free(w->buffer);
	free(w);
	return 0;
}

static void buffer_source_send(struct wlr_data_source *source, const char *mime, int32_t fd)
{
	struct buffer_source *s = wl_container_of(source, s, base);
	struct buffer_write *w = calloc(1, sizeof(*w));
	if (w == NULL || (w->buffer = malloc(s->size ? s->size : 1)) == NULL) {
		free(w);
		close(fd);
		return;
	}
	memcpy(w->buffer, s->buffer, s->size);
	w->size = s->size;
	w->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	w->source =
		wl_event_loop_add_fd(s->server->loop, fd, WL_EVENT_WRITABLE, buffer_writable, w);
	if (w->source == NULL) {
		close(fd);
		free(w->buffer);
		free(w);
	}
}

static void buffer_source_destroy(struct wlr_data_source *source)
{
	struct buffer_source *s = wl_container_of(source, s, base);
	free(s->buffer);
	free(s);
}

static const struct wlr_data_source_impl buffer_source_impl = {
	.send = buffer_source_send,
	.destroy = buffer_source_destroy,
};

void bh_clipboard_paste(struct bh_server *server, struct bh_tag *tag)
{
	struct bh_clipboard *c = server->clipboard;
	if (c->buffer == NULL || c->read_source != NULL) {
		bh_status_note(server, "nothing to paste: copy with Super+c first");
		return;
	}
	struct buffer_source *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return;
	}
	wlr_data_source_init(&s->base, &buffer_source_impl);
	s->server = server;
	s->buffer = c->buffer;
	s->size = c->size;
	char **slot = wl_array_add(&s->base.mime_types, sizeof(*slot));
	if (slot != NULL && (*slot = strdup(c->mime)) != NULL &&
		strncmp(c->mime, "text/", 5) == 0 &&
		strcmp(c->mime, "text/plain;charset=utf-8") != 0) {
		slot = wl_array_add(&s->base.mime_types, sizeof(*slot));
		if (slot != NULL) {
			*slot = strdup("text/plain;charset=utf-8");
		}
	}
	/* Once: the compositor's clipboard now belongs to that domain only. */
	c->buffer = NULL;
	size_t size = c->size;
	c->size = 0;
	set_data(domain_of(server, tag, true), &s->base);
	if (is_current(server, tag)) {
		show_domain(server, tag);
	}
	char note[200];
	snprintf(note, sizeof(note), "pasted %zu bytes from %s into %s%s%s", size, c->from,
		tag ? "[" : "", tag ? tag->name : "the host", tag ? "]" : "");
	bh_log(BH_LOG_INFO, "%s", note);
	bh_status_note(server, note);
}

bool bh_clipboard_init(struct bh_server *server)
{
	struct bh_clipboard *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return false;
	}
	c->server = server;
	c->read_fd = -1;
	c->current_host = true;
	c->logger = wl_display_add_protocol_logger(server->display, clipboard_handle_request, c);
	if (c->logger == NULL) {
		free(c);
		return false;
	}
	c->request_set_selection.notify = clipboard_handle_request_set_selection;
	wl_signal_add(&server->seat->events.request_set_selection, &c->request_set_selection);
	c->request_set_primary_selection.notify = clipboard_handle_request_set_primary_selection;
	wl_signal_add(&server->seat->events.request_set_primary_selection,
		&c->request_set_primary_selection);
	server->clipboard = c;
	return true;
}

void bh_clipboard_finish(struct bh_server *server)
{
	struct bh_clipboard *c = server->clipboard;
	if (c == NULL) {
		return;
	}
	wl_list_remove(&c->request_set_selection.link);
	wl_list_remove(&c->request_set_primary_selection.link);
	wl_protocol_logger_destroy(c->logger);
	if (c->read_source != NULL) {
		wl_event_source_remove(c->read_source);
		close(c->read_fd);
	}
	struct bh_tag *tag;
	wl_list_for_each (tag, &server->tags, link) {
		if (tag->selection != NULL) {
			domain_clear(tag->selection);
			free(tag->selection);
			tag->selection = NULL;
		}
	}
	domain_clear(&c->host);
	free(c->buffer);
	free(c);
	server->clipboard = NULL;
}
