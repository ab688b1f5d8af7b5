/* Xwayland's Wayland connection, as the relay carries it: the X window
 * manager (xwm.c) adds objects of its own on it (xdg toplevels and
 * subsurfaces for Xwayland's surfaces), so host and guest ids differ by a
 * fixed offset and events to the manager's objects stop here. */
#ifndef GUEST_AGENT_XWL_CONN_H
#define GUEST_AGENT_XWL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bh_wl_msg;
struct bh_wl_wire;
struct wl_interface;
struct bh_xwl_conn;

/* Host ids 2 .. BH_XWL_OWN_IDS + 1 are the manager's; Xwayland's id g is
 * g + BH_XWL_OWN_IDS on the host. The compositor takes a client's ids only
 * densely, so the range is made at the start with as many wl_display.sync
 * callbacks, which the host frees at once. */
#define BH_XWL_OWN_IDS 2048u

/* What the relay gives the connection: a way to send requests to the host
 * (after everything queued) and Xwayland's object table. */
struct bh_xwl_link {
	bool (*send)(void *ctx, const void *msg, size_t len);
	/* The same for a request that carries fd (taken), a pipe's write end
	 * (wl_data_offer.receive): the relay makes it a pipe stream. */
	bool (*send_pipe)(void *ctx, const void *msg, size_t len, int fd);
	void *ctx;
	const struct bh_wl_wire *wire;
};

/* What the connection tells the window manager. */
struct bh_xwl_listener {
	/* Xwayland made wl_surface id (guest id) / is about to destroy it (the
	 * manager drops the roles it gave it first). */
	void (*surface_created)(void *user, uint32_t surface);
	void (*surface_destroying)(void *user, uint32_t surface);
	/* The host pointer entered one of Xwayland's surfaces. */
	void (*pointer_enter)(void *user, uint32_t surface);
	/* The globals the manager needs are bound (or the link is gone). */
	void (*ready)(void *user);
	void (*closed)(void *user);
};

/* An event to one of the manager's objects: msg as bh_wl_wire_parse
 * describes messages (arrays: args is the offset into data), fd >= 0 when it
 * carries one (the handler takes it). */
typedef void (*bh_xwl_dispatch)(
	void *owner, uint32_t id, const struct bh_wl_msg *msg, const uint8_t *data, int fd);

struct bh_xwl_conn *bh_xwl_conn_create(const struct bh_xwl_listener *listener, void *user);
void bh_xwl_conn_destroy(struct bh_xwl_conn *conn);

/* The relay's side (relay_guest.c). attach: the connection starts (sends
 * the id reservation). request: Xwayland's message m, parsed, translated in
 * place (data, size) to host ids; 1 = relay it, 0 = it went already, -1 =
 * end the client (logged). event: a
 * host message translated in place to guest ids; 1 = forward it, 0 = it
 * was the manager's, -1 = end the client (logged); it takes the fds of a
 * message it keeps from the front of fds. closed: the link is gone. */
void bh_xwl_conn_attach(struct bh_xwl_conn *conn, const struct bh_xwl_link *link);
int bh_xwl_conn_request(
	struct bh_xwl_conn *conn, const struct bh_wl_msg *m, uint8_t *data, size_t size);
int bh_xwl_conn_event(struct bh_xwl_conn *conn, uint8_t *data, size_t size, int *fds, size_t *nfds);
void bh_xwl_conn_closed(struct bh_xwl_conn *conn);

/* The manager's side. */
bool bh_xwl_conn_ready(const struct bh_xwl_conn *conn);
/* Whether Xwayland's surface (guest id) exists and has had a buffer
 * committed; the last buffer attached to it (guest id, 0 = none). */
bool bh_xwl_conn_surface_live(const struct bh_xwl_conn *conn, uint32_t surface);
bool bh_xwl_conn_surface_has_buffer(const struct bh_xwl_conn *conn, uint32_t surface);
uint32_t bh_xwl_conn_surface_buffer(const struct bh_xwl_conn *conn, uint32_t surface);
/* Host id of Xwayland's object g. */
uint32_t bh_xwl_conn_host_id(uint32_t g);
/* The manager's globals (host ids, 0 = not offered) and the last input
 * serial the host gave Xwayland. */
uint32_t bh_xwl_conn_wm_base(const struct bh_xwl_conn *conn);
uint32_t bh_xwl_conn_subcompositor(const struct bh_xwl_conn *conn);
uint32_t bh_xwl_conn_data_device(const struct bh_xwl_conn *conn);
uint32_t bh_xwl_conn_data_device_manager(const struct bh_xwl_conn *conn);
uint32_t bh_xwl_conn_serial(const struct bh_xwl_conn *conn);
/* Xwayland's wl_seat (host id), 0 until it bound one. */
uint32_t bh_xwl_conn_seat(const struct bh_xwl_conn *conn);
/* A new object of the manager (0 when its ids are used up); its events go
 * to dispatch(owner, ...). */
uint32_t bh_xwl_conn_new_id(struct bh_xwl_conn *conn, const struct wl_interface *iface,
	bh_xwl_dispatch dispatch, void *owner);
/* The object was destroyed by a request: its events are dropped until the
 * host frees its id. */
void bh_xwl_conn_forget(struct bh_xwl_conn *conn, uint32_t id);
/* Sends request opcode of object id (host id; iface its interface): words
 * in signature order for integers, objects and new ids, strs[i] for a
 * string argument i. False when the link is gone or the arguments do not
 * fit. */
bool bh_xwl_conn_send(struct bh_xwl_conn *conn, uint32_t id, const struct wl_interface *iface,
	uint32_t opcode, const uint32_t *words, const char *const *strs);
/* wl_data_offer.receive(mime, fd) of the manager's offer id (fd taken). */
bool bh_xwl_conn_receive(struct bh_xwl_conn *conn, uint32_t offer, const char *mime, int fd);

#endif
