/* X selections and the host: when an X client takes CLIPBOARD (XFixes tells
 * the window manager), a data source on Xwayland's connection becomes the
 * tag's selection on the host, with the text types; when the host asks it
 * for data, the window manager converts the X selection and writes what
 * the owner gives into the host's pipe. The other way, the tag's selection
 * as the host shows it to Xwayland (when an X window has the focus) makes
 * the window manager CLIPBOARD's X owner, and an X paste reads the host's
 * offer through a pipe. So copies go between the tag's X and Wayland apps,
 * and, like every selection of the tag, reach other tags and the host only
 * through the compositor's copy chord. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wayland-client-protocol.h>
#include <wayland-server-core.h>
#include <xcb/xfixes.h>

#include "common/log.h"
#include "common/util.h"
#include "common/wl_wire.h"
#include "guest-agent/xwl_conn.h"
#include "guest-agent/xwm_internal.h"

/* Most bytes one X selection hands over (INCR transfers are not taken). */
#define MAX_SELECTION (4u << 20)
#define MAX_OFFERS 16

/* Event opcodes (wayland.xml). */
enum {
	EV_DATA_SOURCE_SEND = 1,
	EV_DATA_SOURCE_CANCELLED = 2,
	EV_DATA_DEVICE_DATA_OFFER = 0,
	EV_DATA_DEVICE_LEAVE = 2,
	EV_DATA_DEVICE_SELECTION = 5,
};

static const char *const text_types[] = {
	"text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "STRING", "TEXT", NULL};

/* An X paste of the host's selection under way. */
struct x_paste {
	int fd; /* the read end of the host's pipe, -1 = none */
	struct wl_event_source *source;
	xcb_window_t requestor;
	xcb_atom_t property, target;
	xcb_timestamp_t time;
	uint8_t *data;
	size_t len;
};

struct xwm_selection {
	struct bh_xwm *xwm;
	uint32_t offer;        /* the host's selection offer, 0 = none */
	char offer_mime[64];   /* its best text type */
	uint32_t newest_offer; /* the last data_offer, whose types come now */
	char newest_mime[64];
	struct x_paste paste;
	uint8_t xfixes_event;
	xcb_window_t window;          /* the requestor of conversions */
	uint32_t data_device, source; /* ours on the host, 0 = none */
	uint32_t offers[MAX_OFFERS];  /* the host's offers to us, to destroy */
	size_t n_offers;
	/* the one transfer under way: conversion, then writing to fd */
	int fd;
	bool converting;
	uint8_t *data;
	size_t len, pos;
	struct wl_event_source *write_source;
};

static void transfer_end(struct xwm_selection *sel)
{
	if (sel->write_source != NULL) {
		wl_event_source_remove(sel->write_source);
		sel->write_source = NULL;
	}
	if (sel->fd >= 0) {
		close(sel->fd);
		sel->fd = -1;
	}
	free(sel->data);
	sel->data = NULL;
	sel->len = sel->pos = 0;
	sel->converting = false;
}

/* Writes what the pipe takes; its reader is the relay, in this loop. */
static int transfer_handle_writable(int fd, uint32_t mask, void *data)
{
	struct xwm_selection *sel = data;
	while (sel->pos < sel->len) {
		ssize_t n = write(sel->fd, sel->data + sel->pos, sel->len - sel->pos);
		if (n < 0 && errno == EAGAIN) {
			if (sel->write_source == NULL) {
				sel->write_source = wl_event_loop_add_fd(sel->xwm->loop, sel->fd,
					WL_EVENT_WRITABLE, transfer_handle_writable, sel);
				if (sel->write_source == NULL) {
					transfer_end(sel);
				}
			}
			return 0;
		}
		if (n <= 0) {
			break; /* the reader went */
		}
		sel->pos += (size_t)n;
	}
	transfer_end(sel);
	return 0;
}

static void offers_drop_except(struct xwm_selection *sel, uint32_t keep)
{
	struct bh_xwm *xwm = sel->xwm;
	size_t kept = 0;
	for (size_t i = 0; i < sel->n_offers; i++) {
		if (sel->offers[i] == keep) {
			sel->offers[kept++] = keep;
			continue;
		}
		bh_xwl_conn_send(xwm->conn, sel->offers[i], &wl_data_offer_interface,
			WL_DATA_OFFER_DESTROY, NULL, NULL);
		bh_xwl_conn_forget(xwm->conn, sel->offers[i]);
	}
	sel->n_offers = kept;
}

/* The best text type of an offer: UTF-8 first. */
static void note_offer_type(struct xwm_selection *sel, const char *mime)
{
	static const char *const order[] = {
		"text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "STRING", "TEXT", NULL};
	int have = -1, got = -1;
	for (int i = 0; order[i] != NULL; i++) {
		if (strcmp(order[i], sel->newest_mime) == 0) {
			have = i;
		}
		if (strcmp(order[i], mime) == 0) {
			got = i;
		}
	}
	if (got >= 0 && (have < 0 || got < have)) {
		snprintf(sel->newest_mime, sizeof(sel->newest_mime), "%s", order[got]);
	}
}

static void data_device_dispatch(
	void *owner, uint32_t id, const struct bh_wl_msg *msg, const uint8_t *data, int fd)
{
	struct xwm_selection *sel = owner;
	struct bh_xwm *xwm = sel->xwm;
	if (fd >= 0) {
		close(fd);
	}
	if (msg->interface == &wl_data_offer_interface) {
		/* offer(mime_type) of the newest offer */
		if (msg->opcode == 0 && id == sel->newest_offer && msg->str[0] != NULL) {
			note_offer_type(sel, msg->str[0]);
		}
		return;
	}
	if (msg->interface != &wl_data_device_interface) {
		return;
	}
	switch (msg->opcode) {
	case EV_DATA_DEVICE_DATA_OFFER:
		if (sel->n_offers == MAX_OFFERS) {
			offers_drop_except(sel, sel->offer);
		}
		if (sel->n_offers < MAX_OFFERS) {
			sel->offers[sel->n_offers++] = msg->args[0];
		}
		sel->newest_offer = msg->args[0];
		sel->newest_mime[0] = '\0';
		break;
	case EV_DATA_DEVICE_SELECTION: {
		uint32_t offer = msg->args[0];
		offers_drop_except(sel, offer);
		sel->offer = 0;
		/* Our own source's offer (an X client's copy) stays with X. */
		if (offer == 0 || sel->source != 0 || xwm->x == NULL) {
			break;
		}
		sel->offer = offer;
		snprintf(sel->offer_mime, sizeof(sel->offer_mime), "%s",
			offer == sel->newest_offer && sel->newest_mime[0] != '\0'
				? sel->newest_mime
				: "text/plain;charset=utf-8");
		xcb_set_selection_owner(
			xwm->x, sel->window, xwm->atoms[ATOM_CLIPBOARD], XCB_CURRENT_TIME);
		xcb_flush(xwm->x);
		bh_log(BH_LOG_INFO, "the tag's clipboard offered to X (%s)", sel->offer_mime);
		break;
	}
	case EV_DATA_DEVICE_LEAVE:
		offers_drop_except(sel, sel->offer);
		break;
	default:
		break;
	}
}

static void source_destroy(struct xwm_selection *sel)
{
	if (sel->source != 0) {
		bh_xwl_conn_send(sel->xwm->conn, sel->source, &wl_data_source_interface,
			WL_DATA_SOURCE_DESTROY, NULL, NULL);
		bh_xwl_conn_forget(sel->xwm->conn, sel->source);
		sel->source = 0;
	}
}

static void source_dispatch(
	void *owner, uint32_t id, const struct bh_wl_msg *msg, const uint8_t *data, int fd)
{
	struct xwm_selection *sel = owner;
	struct bh_xwm *xwm = sel->xwm;
	if (msg->opcode == EV_DATA_SOURCE_CANCELLED) {
		if (fd >= 0) {
			close(fd);
		}
		if (id == sel->source) {
			source_destroy(sel);
		}
		return;
	}
	if (msg->opcode != EV_DATA_SOURCE_SEND || fd < 0) {
		if (fd >= 0) {
			close(fd);
		}
		return;
	}
	/* send(mime_type, fd) */
	if (sel->fd >= 0 || xwm->x == NULL) {
		close(fd); /* one paste at a time */
		return;
	}
	bh_set_nonblock(fd, true);
	sel->fd = fd;
	sel->converting = true;
	const char *mime = msg->str[0] != NULL ? msg->str[0] : "";
	xcb_atom_t target = strcmp(mime, "STRING") == 0 || strcmp(mime, "text/plain") == 0
				    ? XCB_ATOM_STRING
				    : xwm->atoms[ATOM_UTF8_STRING];
	xcb_convert_selection(xwm->x, sel->window, xwm->atoms[ATOM_CLIPBOARD], target,
		xwm->atoms[ATOM_BH_SELECTION], XCB_CURRENT_TIME);
	xcb_flush(xwm->x);
}

static bool ensure_data_device(struct xwm_selection *sel)
{
	struct bh_xwm *xwm = sel->xwm;
	uint32_t ddm = bh_xwl_conn_data_device_manager(xwm->conn);
	uint32_t seat = bh_xwl_conn_seat(xwm->conn);
	if (sel->data_device != 0) {
		return true;
	}
	if (ddm == 0 || seat == 0 || !bh_xwl_conn_ready(xwm->conn)) {
		return false;
	}
	sel->data_device =
		bh_xwl_conn_new_id(xwm->conn, &wl_data_device_interface, data_device_dispatch, sel);
	if (sel->data_device == 0) {
		return false;
	}
	const uint32_t args[] = {sel->data_device, seat};
	return bh_xwl_conn_send(xwm->conn, ddm, &wl_data_device_manager_interface,
		WL_DATA_DEVICE_MANAGER_GET_DATA_DEVICE, args, NULL);
}

/* An X client owns CLIPBOARD: it becomes the tag's selection. */
static void offer_x_selection(struct xwm_selection *sel, xcb_window_t owner)
{
	struct bh_xwm *xwm = sel->xwm;
	if (!ensure_data_device(sel)) {
		return;
	}
	source_destroy(sel);
	sel->source =
		bh_xwl_conn_new_id(xwm->conn, &wl_data_source_interface, source_dispatch, sel);
	if (sel->source == 0) {
		return;
	}
	uint32_t ddm = bh_xwl_conn_data_device_manager(xwm->conn);
	bh_xwl_conn_send(xwm->conn, ddm, &wl_data_device_manager_interface,
		WL_DATA_DEVICE_MANAGER_CREATE_DATA_SOURCE, &sel->source, NULL);
	for (int i = 0; text_types[i] != NULL; i++) {
		const char *strs[] = {text_types[i]};
		bh_xwl_conn_send(xwm->conn, sel->source, &wl_data_source_interface,
			WL_DATA_SOURCE_OFFER, NULL, strs);
	}
	const uint32_t args[] = {sel->source, bh_xwl_conn_serial(xwm->conn)};
	bh_xwl_conn_send(xwm->conn, sel->data_device, &wl_data_device_interface,
		WL_DATA_DEVICE_SET_SELECTION, args, NULL);
	bh_log(BH_LOG_INFO, "X selection of window 0x%x offered as the tag's clipboard", owner);
}

static void handle_selection_notify(struct xwm_selection *sel, xcb_selection_notify_event_t *ev)
{
	struct bh_xwm *xwm = sel->xwm;
	if (ev->requestor != sel->window || !sel->converting) {
		return;
	}
	sel->converting = false;
	if (ev->property == XCB_ATOM_NONE) {
		transfer_end(sel); /* the owner could not convert */
		return;
	}
	xcb_get_property_reply_t *reply = xcb_get_property_reply(xwm->x,
		xcb_get_property(xwm->x, 1, sel->window, xwm->atoms[ATOM_BH_SELECTION],
			XCB_GET_PROPERTY_TYPE_ANY, 0, MAX_SELECTION / 4),
		NULL);
	if (reply == NULL || reply->type == xwm->atoms[ATOM_INCR]) {
		if (reply != NULL) {
			bh_log(BH_LOG_WARN, "an X selection over %u bytes (INCR) is not pasted",
				MAX_SELECTION);
		}
		free(reply);
		transfer_end(sel);
		return;
	}
	int n = xcb_get_property_value_length(reply);
	sel->data = n > 0 ? malloc((size_t)n) : NULL;
	if (sel->data != NULL) {
		memcpy(sel->data, xcb_get_property_value(reply), (size_t)n);
		sel->len = (size_t)n;
	}
	free(reply);
	transfer_handle_writable(sel->fd, 0, sel);
}

static void paste_reply(struct bh_xwm *xwm, xcb_window_t requestor, xcb_atom_t selection,
	xcb_atom_t target, xcb_atom_t property, xcb_timestamp_t time)
{
	xcb_selection_notify_event_t reply = {
		.response_type = XCB_SELECTION_NOTIFY,
		.time = time,
		.requestor = requestor,
		.selection = selection,
		.target = target,
		.property = property,
	};
	xcb_send_event(xwm->x, 0, requestor, XCB_EVENT_MASK_NO_EVENT, (const char *)&reply);
	xcb_flush(xwm->x);
}

static void paste_end(struct xwm_selection *sel)
{
	struct x_paste *p = &sel->paste;
	if (p->source != NULL) {
		wl_event_source_remove(p->source);
	}
	if (p->fd >= 0) {
		close(p->fd);
	}
	free(p->data);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

/* The host's data comes through the pipe; at its end it goes to the X
 * requestor's property. */
static int paste_handle_readable(int fd, uint32_t mask, void *data)
{
	struct xwm_selection *sel = data;
	struct bh_xwm *xwm = sel->xwm;
	struct x_paste *p = &sel->paste;
	uint8_t chunk[16384];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (p->len + (size_t)n > MAX_SELECTION) {
			bh_log(BH_LOG_WARN, "the tag's clipboard is over %u bytes: not pasted in X",
				MAX_SELECTION);
			n = -1;
			errno = EFBIG;
			break;
		}
		uint8_t *grown = realloc(p->data, p->len + (size_t)n);
		if (grown == NULL) {
			n = -1;
			break;
		}
		memcpy(grown + p->len, chunk, (size_t)n);
		p->data = grown;
		p->len += (size_t)n;
	}
	if (n < 0 && errno == EAGAIN) {
		return 0;
	}
	xcb_atom_t property = XCB_ATOM_NONE;
	if (n == 0 && xwm->x != NULL) {
		property = p->property;
		xcb_change_property(xwm->x, XCB_PROP_MODE_REPLACE, p->requestor, p->property,
			p->target, 8, (uint32_t)p->len, p->data);
	}
	if (xwm->x != NULL) {
		paste_reply(xwm, p->requestor, xwm->atoms[ATOM_CLIPBOARD], p->target, property,
			p->time);
	}
	paste_end(sel);
	return 0;
}

static void handle_selection_request(struct xwm_selection *sel, xcb_selection_request_event_t *req)
{
	struct bh_xwm *xwm = sel->xwm;
	xcb_atom_t property = req->property != XCB_ATOM_NONE ? req->property : req->target;
	xcb_atom_t utf8 = xwm->atoms[ATOM_UTF8_STRING];
	if (req->selection != xwm->atoms[ATOM_CLIPBOARD] || sel->offer == 0) {
		paste_reply(
			xwm, req->requestor, req->selection, req->target, XCB_ATOM_NONE, req->time);
		return;
	}
	if (req->target == xwm->atoms[ATOM_TARGETS]) {
		const xcb_atom_t targets[] = {
			xwm->atoms[ATOM_TARGETS], utf8, XCB_ATOM_STRING, xwm->atoms[ATOM_TEXT]};
		xcb_change_property(xwm->x, XCB_PROP_MODE_REPLACE, req->requestor, property,
			XCB_ATOM_ATOM, 32, 4, targets);
		paste_reply(xwm, req->requestor, req->selection, req->target, property, req->time);
		return;
	}
	bool text = req->target == utf8 || req->target == XCB_ATOM_STRING ||
		    req->target == xwm->atoms[ATOM_TEXT];
	int pipe_fds[2];
	if (!text || sel->paste.fd >= 0 || pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		paste_reply(
			xwm, req->requestor, req->selection, req->target, XCB_ATOM_NONE, req->time);
		return;
	}
	struct x_paste *p = &sel->paste;
	p->fd = pipe_fds[0];
	p->requestor = req->requestor;
	p->property = property;
	p->target = req->target == XCB_ATOM_STRING ? XCB_ATOM_STRING : utf8;
	p->time = req->time;
	p->source = wl_event_loop_add_fd(
		xwm->loop, p->fd, WL_EVENT_READABLE, paste_handle_readable, sel);
	if (p->source == NULL ||
		!bh_xwl_conn_receive(xwm->conn, sel->offer, sel->offer_mime, pipe_fds[1])) {
		if (p->source == NULL) {
			close(pipe_fds[1]);
		}
		paste_reply(
			xwm, req->requestor, req->selection, req->target, XCB_ATOM_NONE, req->time);
		paste_end(sel);
	}
}

void bh_xwm_selection_event(struct bh_xwm *xwm, xcb_generic_event_t *ev)
{
	struct xwm_selection *sel = xwm->selection;
	if (sel == NULL) {
		return;
	}
	uint8_t type = ev->response_type & 0x7f;
	if (type == XCB_SELECTION_NOTIFY) {
		handle_selection_notify(sel, (xcb_selection_notify_event_t *)ev);
	} else if (type == XCB_SELECTION_REQUEST) {
		handle_selection_request(sel, (xcb_selection_request_event_t *)ev);
	} else if (sel->xfixes_event != 0 &&
		   type == sel->xfixes_event + XCB_XFIXES_SELECTION_NOTIFY) {
		xcb_xfixes_selection_notify_event_t *n = (xcb_xfixes_selection_notify_event_t *)ev;
		if (n->selection != xwm->atoms[ATOM_CLIPBOARD] || n->owner == sel->window) {
			return;
		}
		if (n->owner == XCB_NONE) {
			source_destroy(sel); /* the X owner went: so does the tag's copy */
			return;
		}
		offer_x_selection(sel, n->owner);
	}
}

void bh_xwm_selection_init(struct bh_xwm *xwm)
{
	struct xwm_selection *sel = calloc(1, sizeof(*sel));
	if (sel == NULL) {
		return;
	}
	sel->xwm = xwm;
	sel->fd = -1;
	sel->paste.fd = -1;
	const xcb_query_extension_reply_t *ext = xcb_get_extension_data(xwm->x, &xcb_xfixes_id);
	if (ext == NULL || !ext->present) {
		bh_log(BH_LOG_WARN, "X window manager: Xwayland has no XFixes; X copies stay in X");
		free(sel);
		return;
	}
	sel->xfixes_event = ext->first_event;
	xcb_xfixes_query_version_reply_t *v = xcb_xfixes_query_version_reply(
		xwm->x, xcb_xfixes_query_version(xwm->x, 5, 0), NULL);
	free(v);
	sel->window = xcb_generate_id(xwm->x);
	xcb_create_window(xwm->x, XCB_COPY_FROM_PARENT, sel->window, xwm->screen->root, -1, -1, 1,
		1, 0, XCB_WINDOW_CLASS_INPUT_ONLY, XCB_COPY_FROM_PARENT, 0, NULL);
	xcb_xfixes_select_selection_input(xwm->x, sel->window, xwm->atoms[ATOM_CLIPBOARD],
		XCB_XFIXES_SELECTION_EVENT_MASK_SET_SELECTION_OWNER |
			XCB_XFIXES_SELECTION_EVENT_MASK_SELECTION_WINDOW_DESTROY |
			XCB_XFIXES_SELECTION_EVENT_MASK_SELECTION_CLIENT_CLOSE);
	xwm->selection = sel;
}

void bh_xwm_selection_finish(struct bh_xwm *xwm)
{
	struct xwm_selection *sel = xwm->selection;
	if (sel == NULL) {
		return;
	}
	transfer_end(sel);
	paste_end(sel);
	free(sel);
	xwm->selection = NULL;
}

void bh_xwm_selection_focus(struct bh_xwm *xwm)
{
	/* A selection taken while no X window had input has no serial the host
	 * takes; the owner is offered again once one has. */
	struct xwm_selection *sel = xwm->selection;
	if (sel == NULL || sel->source != 0 || xwm->x == NULL) {
		return;
	}
	xcb_get_selection_owner_reply_t *r = xcb_get_selection_owner_reply(
		xwm->x, xcb_get_selection_owner(xwm->x, xwm->atoms[ATOM_CLIPBOARD]), NULL);
	if (r != NULL && r->owner != XCB_NONE && r->owner != sel->window) {
		offer_x_selection(sel, r->owner);
	}
	free(r);
}

void bh_xwm_selection_conn_closed(struct bh_xwm *xwm)
{
	struct xwm_selection *sel = xwm->selection;
	if (sel != NULL) {
		sel->data_device = sel->source = sel->offer = 0;
		sel->n_offers = 0;
	}
}

void bh_xwm_selection_ready(struct bh_xwm *xwm)
{
	if (xwm->selection != NULL) {
		ensure_data_device(xwm->selection);
	}
}
