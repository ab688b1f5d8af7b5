/* Xwayland's Wayland connection: the id offset between Xwayland and the
 * host, the window manager's own objects on the connection (their ids,
 * their events), and what the manager needs to know of Xwayland's
 * (surfaces, their buffers, globals, input serials). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wayland-client-protocol.h>
/* the event opcodes (WL_POINTER_ENTER, ...) */
#include <wayland-server-protocol.h>

#include "common/log.h"
#include "common/wl_wire.h"
#include "guest-agent/xwl_conn.h"
#include "xdg-shell-client-protocol.h"

#define SERVER_ID_BASE 0xff000000u
#define OWN_FIRST 2u
#define OWN_END (OWN_FIRST + BH_XWL_OWN_IDS)
/* Surfaces of Xwayland the connection follows, by guest id. */
#define MAX_SURFACE_ID (1u << 17)
/* Server-made objects of the manager (data offers) at once. */
#define MAX_OWN_SERVER 64

enum own_state {
	OWN_FREE,
	OWN_LIVE,
	OWN_DYING, /* destroyed, waiting for its delete_id */
};

struct own_object {
	uint8_t state;
	const struct wl_interface *iface;
	bh_xwl_dispatch dispatch;
	void *owner;
};

struct own_server_object {
	uint32_t id; /* 0 = slot free */
	const struct wl_interface *iface;
	bh_xwl_dispatch dispatch;
	void *owner;
};

struct surface_info {
	bool live;
	bool has_buffer; /* a commit with a buffer attached since it was made */
	bool attached;   /* pending attach of a buffer */
	uint32_t buffer; /* last attached buffer, guest id */
};

struct bh_xwl_conn {
	const struct bh_xwl_listener *listener;
	void *user;
	struct bh_xwl_link link;
	bool attached;
	struct own_object own[BH_XWL_OWN_IDS];
	struct own_server_object own_server[MAX_OWN_SERVER];
	struct surface_info *surfaces; /* indexed by guest id */
	size_t surfaces_len;
	uint32_t registry; /* Xwayland's first registry (guest id) */
	uint32_t seat;     /* Xwayland's first wl_seat (guest id) */
	uint32_t wm_base, subcompositor, ddm, data_device; /* ours, host ids */
	uint32_t reserve_left;                             /* reservation callbacks not yet freed */
	uint32_t serial;
	bool ready_told;
};

struct bh_xwl_conn *bh_xwl_conn_create(const struct bh_xwl_listener *listener, void *user)
{
	struct bh_xwl_conn *conn = calloc(1, sizeof(*conn));
	if (conn != NULL) {
		conn->listener = listener;
		conn->user = user;
	}
	return conn;
}

void bh_xwl_conn_destroy(struct bh_xwl_conn *conn)
{
	if (conn != NULL) {
		free(conn->surfaces);
		free(conn);
	}
}

uint32_t bh_xwl_conn_host_id(uint32_t g)
{
	return g >= OWN_FIRST && g < SERVER_ID_BASE ? g + BH_XWL_OWN_IDS : g;
}

static bool is_own(uint32_t host_id)
{
	return host_id >= OWN_FIRST && host_id < OWN_END;
}

static struct own_server_object *own_server_find(struct bh_xwl_conn *conn, uint32_t id)
{
	for (size_t i = 0; i < MAX_OWN_SERVER; i++) {
		if (conn->own_server[i].id == id) {
			return &conn->own_server[i];
		}
	}
	return NULL;
}

static struct surface_info *surface_get(struct bh_xwl_conn *conn, uint32_t id, bool grow)
{
	if (id == 0 || id >= MAX_SURFACE_ID) {
		return NULL;
	}
	if (id >= conn->surfaces_len) {
		if (!grow) {
			return NULL;
		}
		size_t n = conn->surfaces_len ? conn->surfaces_len : 256;
		while (n <= id) {
			n *= 2;
		}
		struct surface_info *s = realloc(conn->surfaces, n * sizeof(*s));
		if (s == NULL) {
			return NULL;
		}
		memset(s + conn->surfaces_len, 0, (n - conn->surfaces_len) * sizeof(*s));
		conn->surfaces = s;
		conn->surfaces_len = n;
	}
	return &conn->surfaces[id];
}

/* ---- sending ---- */

static bool link_send(struct bh_xwl_conn *conn, const void *msg, size_t len)
{
	return conn->link.send != NULL && conn->link.send(conn->link.ctx, msg, len);
}

/* Builds request opcode of id into msg; its size, 0 when it cannot. An 'h'
 * argument takes no room (its fd travels beside). */
static size_t marshal(uint8_t *msg, size_t cap, uint32_t id, const struct wl_interface *iface,
	uint32_t opcode, const uint32_t *words, const char *const *strs)
{
	if ((int)opcode >= iface->method_count) {
		return 0;
	}
	size_t pos = 8;
	uint32_t arg = 0;
	for (const char *sig = iface->methods[opcode].signature; *sig != '\0'; sig++) {
		char c = *sig;
		if (c == '?' || (c >= '0' && c <= '9')) {
			continue;
		}
		if (c == 'a') {
			return 0; /* the manager sends none */
		}
		if (c == 'h') {
			arg++;
			continue;
		}
		if (c == 's') {
			const char *s = strs != NULL ? strs[arg] : NULL;
			size_t len = s != NULL ? strlen(s) + 1 : 0;
			size_t padded = (len + 3) & ~(size_t)3;
			if (pos + 4 + padded > cap) {
				return 0;
			}
			uint32_t l32 = (uint32_t)len;
			memcpy(msg + pos, &l32, 4);
			memset(msg + pos + 4, 0, padded);
			if (len > 0) {
				memcpy(msg + pos + 4, s, len);
			}
			pos += 4 + padded;
		} else {
			if (pos + 4 > cap) {
				return 0;
			}
			memcpy(msg + pos, &words[arg], 4);
			pos += 4;
		}
		arg++;
	}
	uint32_t head[2] = {id, (uint32_t)(pos << 16) | opcode};
	memcpy(msg, head, 8);
	return pos;
}

bool bh_xwl_conn_send(struct bh_xwl_conn *conn, uint32_t id, const struct wl_interface *iface,
	uint32_t opcode, const uint32_t *words, const char *const *strs)
{
	uint8_t msg[1024];
	size_t len = marshal(msg, sizeof(msg), id, iface, opcode, words, strs);
	return len > 0 && link_send(conn, msg, len);
}

bool bh_xwl_conn_receive(struct bh_xwl_conn *conn, uint32_t offer, const char *mime, int fd)
{
	uint8_t msg[1024];
	const char *strs[] = {mime, NULL};
	size_t len = marshal(msg, sizeof(msg), offer, &wl_data_offer_interface,
		WL_DATA_OFFER_RECEIVE, NULL, strs);
	if (len == 0 || conn->link.send_pipe == NULL) {
		close(fd);
		return false;
	}
	return conn->link.send_pipe(conn->link.ctx, msg, len, fd);
}

uint32_t bh_xwl_conn_new_id(struct bh_xwl_conn *conn, const struct wl_interface *iface,
	bh_xwl_dispatch dispatch, void *owner)
{
	for (uint32_t i = 0; i < BH_XWL_OWN_IDS; i++) {
		struct own_object *o = &conn->own[i];
		if (o->state == OWN_FREE) {
			o->state = OWN_LIVE;
			o->iface = iface;
			o->dispatch = dispatch;
			o->owner = owner;
			return OWN_FIRST + i;
		}
	}
	bh_log(BH_LOG_WARN, "X window manager: out of Wayland ids for new windows");
	return 0;
}

void bh_xwl_conn_forget(struct bh_xwl_conn *conn, uint32_t id)
{
	if (is_own(id)) {
		struct own_object *o = &conn->own[id - OWN_FIRST];
		if (o->state == OWN_LIVE) {
			o->state = OWN_DYING;
			o->dispatch = NULL;
			o->owner = NULL;
		}
	} else if (id >= SERVER_ID_BASE) {
		struct own_server_object *s = own_server_find(conn, id);
		if (s != NULL) {
			memset(s, 0, sizeof(*s));
		}
	}
}

void bh_xwl_conn_attach(struct bh_xwl_conn *conn, const struct bh_xwl_link *link)
{
	conn->link = *link;
	conn->attached = true;
	/* The reservation: callbacks at host ids 2 .. OWN_END - 1. */
	for (uint32_t i = 0; i < BH_XWL_OWN_IDS; i++) {
		conn->own[i].state = OWN_DYING;
		uint32_t word = OWN_FIRST + i;
		if (!bh_xwl_conn_send(
			    conn, 1, &wl_display_interface, WL_DISPLAY_SYNC, &word, NULL)) {
			break;
		}
	}
	conn->reserve_left = BH_XWL_OWN_IDS;
}

void bh_xwl_conn_closed(struct bh_xwl_conn *conn)
{
	if (!conn->attached) {
		return;
	}
	conn->attached = false;
	memset(&conn->link, 0, sizeof(conn->link));
	if (conn->listener->closed != NULL) {
		conn->listener->closed(conn->user);
	}
}

/* ---- the manager's questions ---- */

bool bh_xwl_conn_ready(const struct bh_xwl_conn *conn)
{
	return conn->attached && conn->reserve_left == 0 && conn->wm_base != 0;
}

bool bh_xwl_conn_surface_live(const struct bh_xwl_conn *conn, uint32_t surface)
{
	return surface != 0 && surface < conn->surfaces_len && conn->surfaces[surface].live;
}

bool bh_xwl_conn_surface_has_buffer(const struct bh_xwl_conn *conn, uint32_t surface)
{
	return bh_xwl_conn_surface_live(conn, surface) && conn->surfaces[surface].has_buffer;
}

uint32_t bh_xwl_conn_surface_buffer(const struct bh_xwl_conn *conn, uint32_t surface)
{
	return bh_xwl_conn_surface_live(conn, surface) ? conn->surfaces[surface].buffer : 0;
}

uint32_t bh_xwl_conn_wm_base(const struct bh_xwl_conn *conn)
{
	return conn->wm_base;
}

uint32_t bh_xwl_conn_subcompositor(const struct bh_xwl_conn *conn)
{
	return conn->subcompositor;
}

uint32_t bh_xwl_conn_data_device(const struct bh_xwl_conn *conn)
{
	return conn->data_device;
}

uint32_t bh_xwl_conn_data_device_manager(const struct bh_xwl_conn *conn)
{
	return conn->ddm;
}

uint32_t bh_xwl_conn_seat(const struct bh_xwl_conn *conn)
{
	return conn->seat != 0 ? bh_xwl_conn_host_id(conn->seat) : 0;
}

uint32_t bh_xwl_conn_serial(const struct bh_xwl_conn *conn)
{
	return conn->serial;
}

static void maybe_ready(struct bh_xwl_conn *conn)
{
	if (!conn->ready_told && bh_xwl_conn_ready(conn)) {
		conn->ready_told = true;
		if (conn->listener->ready != NULL) {
			conn->listener->ready(conn->user);
		}
	}
}

/* ---- translation ---- */

/* Walks data's arguments by signature and moves every object and new id
 * in the client range by delta (+: to the host, -: to the guest). False
 * when the message does not match its signature or names one of the
 * manager's objects. The untyped new_id of wl_registry.bind is an 'n' too. */
static bool translate(const struct wl_message *m, uint8_t *data, size_t size, bool to_host)
{
	size_t pos = 8;
	for (const char *sig = m->signature; *sig != '\0'; sig++) {
		char c = *sig;
		if (c == '?' || (c >= '0' && c <= '9') || c == 'h') {
			continue;
		}
		if (pos + 4 > size) {
			return false;
		}
		uint32_t word;
		memcpy(&word, data + pos, 4);
		if (c == 's' || c == 'a') {
			size_t padded = ((size_t)word + 3) & ~(size_t)3;
			if (padded > size - pos - 4) {
				return false;
			}
			pos += 4 + padded;
			continue;
		}
		if ((c == 'o' || c == 'n') && word >= OWN_FIRST && word < SERVER_ID_BASE) {
			if (to_host) {
				word += BH_XWL_OWN_IDS;
			} else if (word < OWN_END) {
				return false;
			} else {
				word -= BH_XWL_OWN_IDS;
			}
			memcpy(data + pos, &word, 4);
		}
		pos += 4;
	}
	return true;
}

static uint32_t word_at(const uint8_t *data, size_t pos)
{
	uint32_t w;
	memcpy(&w, data + pos, 4);
	return w;
}

/* What the manager follows of Xwayland's requests (guest ids). A new
 * surface is told of once the request that makes it is on its way. */
static uint32_t note_request(struct bh_xwl_conn *conn, const struct bh_wl_msg *m)
{
	const struct wl_interface *iface = m->interface;
	if (iface == &wl_compositor_interface && m->opcode == WL_COMPOSITOR_CREATE_SURFACE) {
		struct surface_info *s = surface_get(conn, m->args[0], true);
		if (s != NULL) {
			memset(s, 0, sizeof(*s));
			s->live = true;
			return m->args[0];
		}
	} else if (iface == &wl_surface_interface) {
		struct surface_info *s = surface_get(conn, m->object, false);
		if (s == NULL || !s->live) {
			return 0;
		}
		switch (m->opcode) {
		case WL_SURFACE_DESTROY:
			if (conn->listener->surface_destroying != NULL) {
				conn->listener->surface_destroying(conn->user, m->object);
			}
			memset(s, 0, sizeof(*s));
			break;
		case WL_SURFACE_ATTACH:
			s->buffer = m->args[0];
			s->attached = true;
			break;
		case WL_SURFACE_COMMIT:
			if (s->attached) {
				s->has_buffer = s->buffer != 0;
				s->attached = false;
			}
			break;
		default:
			break;
		}
	} else if (iface == &wl_buffer_interface && m->opcode == WL_BUFFER_DESTROY) {
		for (size_t i = 0; i < conn->surfaces_len; i++) {
			if (conn->surfaces[i].buffer == m->object) {
				conn->surfaces[i].buffer = 0;
			}
		}
	} else if (iface == &wl_display_interface && m->opcode == WL_DISPLAY_GET_REGISTRY) {
		if (conn->registry == 0) {
			conn->registry = m->args[0];
		}
	} else if (iface == &wl_registry_interface && m->opcode == WL_REGISTRY_BIND) {
		/* bind(name, interface, version, id) */
		if (conn->seat == 0 && m->str[1] != NULL && strcmp(m->str[1], "wl_seat") == 0) {
			conn->seat = m->args[3];
		}
	}
	return 0;
}

int bh_xwl_conn_request(
	struct bh_xwl_conn *conn, const struct bh_wl_msg *m, uint8_t *data, size_t size)
{
	uint32_t created = note_request(conn, m);
	const struct wl_message *msg = &m->interface->methods[m->opcode];
	if (!translate(msg, data, size, true)) {
		bh_log(BH_LOG_ERROR, "Xwayland's %s.%s cannot be relayed", m->interface->name,
			m->name);
		return -1;
	}
	uint32_t object = bh_xwl_conn_host_id(m->object);
	memcpy(data, &object, 4);
	if (created == 0) {
		return 1;
	}
	/* The manager may give the new surface a role at once: the host must
	 * have the surface first. */
	if (!link_send(conn, data, size)) {
		return -1;
	}
	if (conn->listener->surface_created != NULL) {
		conn->listener->surface_created(conn->user, created);
	}
	return 0;
}

/* The host checks the window manager is alive. */
static void wm_base_dispatch(
	void *owner, uint32_t id, const struct bh_wl_msg *msg, const uint8_t *data, int fd)
{
	struct bh_xwl_conn *conn = owner;
	if (msg->opcode == 0 /* xdg_wm_base.ping */) {
		bh_xwl_conn_send(
			conn, id, &xdg_wm_base_interface, XDG_WM_BASE_PONG, msg->args, NULL);
	}
}

/* Binds what the manager needs as the host announces it to Xwayland. */
static void note_global(
	struct bh_xwl_conn *conn, uint32_t registry, const uint8_t *data, size_t size)
{
	/* global(uint name, string interface, uint version) */
	if (registry != conn->registry || size < 20) {
		return;
	}
	uint32_t name = word_at(data, 8);
	uint32_t len = word_at(data, 12);
	size_t padded = ((size_t)len + 3) & ~(size_t)3;
	if (len == 0 || padded > size - 20 || data[16 + len - 1] != '\0') {
		return;
	}
	const char *iface_name = (const char *)data + 16;
	uint32_t version = word_at(data, 16 + padded);
	const struct wl_interface *iface = NULL;
	uint32_t want = 1, *slot = NULL;
	if (strcmp(iface_name, "xdg_wm_base") == 0) {
		iface = &xdg_wm_base_interface;
		want = 2;
		slot = &conn->wm_base;
	} else if (strcmp(iface_name, "wl_subcompositor") == 0) {
		iface = &wl_subcompositor_interface;
		slot = &conn->subcompositor;
	} else if (strcmp(iface_name, "wl_data_device_manager") == 0) {
		iface = &wl_data_device_manager_interface;
		want = 3;
		slot = &conn->ddm;
	}
	if (slot == NULL || *slot != 0) {
		return;
	}
	if (version < want) {
		want = version;
	}
	bool wm_base = iface == &xdg_wm_base_interface;
	uint32_t id = bh_xwl_conn_new_id(
		conn, iface, wm_base ? wm_base_dispatch : NULL, wm_base ? conn : NULL);
	if (id == 0) {
		return;
	}
	const uint32_t words[] = {name, 0, want, id};
	const char *strs[] = {NULL, iface->name, NULL, NULL};
	if (bh_xwl_conn_send(conn, bh_xwl_conn_host_id(registry), &wl_registry_interface,
		    WL_REGISTRY_BIND, words, strs)) {
		*slot = id;
	}
}

/* Serials and pointer entries of Xwayland's input events (host message,
 * already translated to guest ids). */
static void note_event(struct bh_xwl_conn *conn, const struct wl_interface *iface, uint32_t opcode,
	const uint8_t *data, size_t size)
{
	if (iface == &wl_pointer_interface) {
		if ((opcode == WL_POINTER_ENTER || opcode == WL_POINTER_BUTTON) && size >= 12) {
			conn->serial = word_at(data, 8);
		}
		if (opcode == WL_POINTER_ENTER && size >= 16 &&
			conn->listener->pointer_enter != NULL) {
			conn->listener->pointer_enter(conn->user, word_at(data, 12));
		}
	} else if (iface == &wl_keyboard_interface) {
		if ((opcode == WL_KEYBOARD_ENTER || opcode == WL_KEYBOARD_KEY) && size >= 12) {
			conn->serial = word_at(data, 8);
		}
	}
}

/* An event to one of the manager's objects (host ids). */
static int own_event(struct bh_xwl_conn *conn, const struct wl_interface *iface,
	bh_xwl_dispatch dispatch, void *owner, uint32_t id, uint8_t *data, size_t size, int *fds,
	size_t *nfds)
{
	uint32_t head[2];
	memcpy(head, data, 8);
	uint32_t opcode = head[1] & 0xffff;
	if ((int)opcode >= iface->event_count) {
		bh_log(BH_LOG_ERROR, "the host sent %s %u an unknown event %u", iface->name, id,
			opcode);
		return -1;
	}
	const struct wl_message *m = &iface->events[opcode];
	struct bh_wl_msg msg = {
		.object = id, .opcode = opcode, .interface = iface, .name = m->name};
	size_t pos = 8;
	int fd = -1;
	int type_index = 0;
	for (const char *sig = m->signature; *sig != '\0'; sig++) {
		char c = *sig;
		if (c == '?' || (c >= '0' && c <= '9')) {
			continue;
		}
		const struct wl_interface *type = m->types[type_index++];
		if (msg.nargs >= BH_WL_MAX_ARGS) {
			return -1;
		}
		if (c == 'h') {
			if (*nfds == 0) {
				bh_log(BH_LOG_ERROR, "%s.%s from the host lacks its fd",
					iface->name, m->name);
				return -1;
			}
			fd = fds[0];
			(*nfds)--;
			memmove(fds, fds + 1, *nfds * sizeof(int));
			msg.args[msg.nargs++] = 0;
			msg.nfds++;
			continue;
		}
		if (pos + 4 > size) {
			goto bad;
		}
		uint32_t word = word_at(data, pos);
		if (c == 's' || c == 'a') {
			size_t padded = ((size_t)word + 3) & ~(size_t)3;
			if (padded > size - pos - 4) {
				goto bad;
			}
			if (c == 's') {
				if (word == 0 || data[pos + 4 + word - 1] != '\0' ||
					memchr(data + pos + 4, '\0', word - 1) != NULL) {
					goto bad;
				}
				msg.str[msg.nargs] = (const char *)data + pos + 4;
			}
			msg.args[msg.nargs++] = (uint32_t)pos;
			pos += 4 + padded;
			continue;
		}
		if (c == 'n') {
			/* A server object of ours (a data offer). */
			struct own_server_object *s = own_server_find(conn, 0);
			if (word < SERVER_ID_BASE || s == NULL || type == NULL) {
				bh_log(BH_LOG_WARN, "dropped %s.%s from the host: no room",
					iface->name, m->name);
			} else {
				s->id = word;
				s->iface = type;
				s->dispatch = dispatch;
				s->owner = owner;
			}
		}
		msg.args[msg.nargs++] = word;
		pos += 4;
	}
	if (pos != size) {
		goto bad;
	}
	if (dispatch != NULL) {
		dispatch(owner, id, &msg, data, fd);
	} else if (fd >= 0) {
		close(fd);
	}
	return 0;
bad:
	if (fd >= 0) {
		close(fd);
	}
	bh_log(BH_LOG_ERROR, "the host's %s.%s does not match its signature", iface->name, m->name);
	return -1;
}

int bh_xwl_conn_event(struct bh_xwl_conn *conn, uint8_t *data, size_t size, int *fds, size_t *nfds)
{
	if (size < 8) {
		return -1;
	}
	uint32_t head[2];
	memcpy(head, data, 8);
	uint32_t object = head[0], opcode = head[1] & 0xffff;
	if (object == 1) {
		if (opcode == WL_DISPLAY_DELETE_ID && size == 12) {
			uint32_t id = word_at(data, 8);
			if (is_own(id)) {
				struct own_object *o = &conn->own[id - OWN_FIRST];
				if (o->state == OWN_DYING && conn->reserve_left > 0 &&
					o->iface == NULL) {
					conn->reserve_left--;
				}
				memset(o, 0, sizeof(*o));
				maybe_ready(conn);
				return 0;
			}
			if (id >= OWN_END && id < SERVER_ID_BASE) {
				id -= BH_XWL_OWN_IDS;
				memcpy(data + 8, &id, 4);
			}
			return 1;
		}
		if (opcode == WL_DISPLAY_ERROR && size >= 12) {
			uint32_t id = word_at(data, 8);
			if (is_own(id)) {
				const char *text = size > 20 ? (const char *)data + 20 : "";
				bh_log(BH_LOG_ERROR,
					"the host ended Xwayland's connection for the X window "
					"manager's object %u: %.200s",
					id, memchr(text, '\0', size - 20) ? text : "");
			}
		}
		if (!translate(&wl_display_interface.events[opcode < 2 ? opcode : 0], data, size,
			    false)) {
			/* an error about one of ours: Xwayland hears of object 1 */
			uint32_t one = 1;
			memcpy(data + 8, &one, 4);
		}
		return 1;
	}
	if (is_own(object)) {
		struct own_object *o = &conn->own[object - OWN_FIRST];
		if (o->state != OWN_LIVE || o->iface == NULL) {
			/* a reservation callback's done, or an event on its way to an
			 * object destroyed since: the host still sent it */
			return 0;
		}
		return own_event(
			conn, o->iface, o->dispatch, o->owner, object, data, size, fds, nfds);
	}
	if (object >= SERVER_ID_BASE) {
		struct own_server_object *s = own_server_find(conn, object);
		if (s != NULL) {
			return own_event(conn, s->iface, s->dispatch, s->owner, object, data, size,
				fds, nfds);
		}
		if (bh_wl_wire_object(conn->link.wire, object, NULL) == NULL) {
			/* one of the manager's, destroyed by it since: the host's
			 * late events go nowhere (Xwayland makes no server objects) */
			return 0;
		}
	} else {
		object -= BH_XWL_OWN_IDS;
		memcpy(data, &object, 4);
	}
	const struct wl_interface *iface = bh_wl_wire_object(conn->link.wire, object, NULL);
	if (iface == NULL || (int)opcode >= iface->event_count) {
		return 1; /* the parser says what is wrong */
	}
	if (!translate(&iface->events[opcode], data, size, false)) {
		bh_log(BH_LOG_ERROR,
			"the host's %s.%s for Xwayland names the X window manager's object",
			iface->name, iface->events[opcode].name);
		return -1;
	}
	if (iface == &wl_registry_interface && opcode == WL_REGISTRY_GLOBAL) {
		note_global(conn, object, data, size);
		maybe_ready(conn);
	}
	note_event(conn, iface, opcode, data, size);
	return 1;
}
