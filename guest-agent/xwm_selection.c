/* X selections and the host: when an X client takes CLIPBOARD (XFixes tells
 * the window manager), a data source on Xwayland's connection becomes the
 * tag's selection on the host, with the text types; when the host asks it
 * for data, the window manager converts the X selection and writes what
 * the owner gives into the host's pipe. So a copy in an X app pastes into
 * the tag's Wayland apps, and, like every selection of the tag, reaches
 * other tags and the host only through the compositor's copy chord. */
#include <errno.h>
#include <fcntl.h>
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

struct xwm_selection {
	struct bh_xwm *xwm;
	uint8_t xfixes_event;
	xcb_window_t window; /* the requestor of conversions */
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

static void offers_drop(struct xwm_selection *sel)
{
	struct bh_xwm *xwm = sel->xwm;
	for (size_t i = 0; i < sel->n_offers; i++) {
		bh_xwl_conn_send(xwm->conn, sel->offers[i], &wl_data_offer_interface,
			WL_DATA_OFFER_DESTROY, NULL, NULL);
		bh_xwl_conn_forget(xwm->conn, sel->offers[i]);
	}
	sel->n_offers = 0;
}

static void data_device_dispatch(void *owner, uint32_t id, const struct bh_wl_msg *msg,
	const uint8_t *data, int fd)
{
	struct xwm_selection *sel = owner;
	if (fd >= 0) {
		close(fd);
	}
	if (msg->interface != &wl_data_device_interface) {
		return; /* an offer's types: the host's selection is not taken into X */
	}
	switch (msg->opcode) {
	case EV_DATA_DEVICE_DATA_OFFER:
		if (sel->n_offers == MAX_OFFERS) {
			offers_drop(sel);
		}
		sel->offers[sel->n_offers++] = msg->args[0];
		break;
	case EV_DATA_DEVICE_SELECTION:
	case EV_DATA_DEVICE_LEAVE:
		offers_drop(sel);
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

static void source_dispatch(void *owner, uint32_t id, const struct bh_wl_msg *msg,
	const uint8_t *data, int fd)
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
	sel->data_device = bh_xwl_conn_new_id(
		xwm->conn, &wl_data_device_interface, data_device_dispatch, sel);
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
	sel->source = bh_xwl_conn_new_id(xwm->conn, &wl_data_source_interface, source_dispatch, sel);
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
		/* We own no selection we could convert: refuse. */
		xcb_selection_request_event_t *req = (xcb_selection_request_event_t *)ev;
		xcb_selection_notify_event_t reply = {
			.response_type = XCB_SELECTION_NOTIFY,
			.time = req->time,
			.requestor = req->requestor,
			.selection = req->selection,
			.target = req->target,
			.property = XCB_ATOM_NONE,
		};
		xcb_send_event(xwm->x, 0, req->requestor, XCB_EVENT_MASK_NO_EVENT,
			(const char *)&reply);
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
		sel->data_device = sel->source = 0;
		sel->n_offers = 0;
	}
}
