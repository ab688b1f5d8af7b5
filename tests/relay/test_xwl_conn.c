/* Xwayland's connection as the relay carries it (guest-agent/xwl_conn.c),
 * without Xwayland: the id reservation, Xwayland's ids moved to the host
 * and back (objects, new ids, wl_registry.bind's untyped id, delete_id),
 * the window manager's globals bound as the host announces them, its
 * objects' events kept (ping answered), a new surface named only after its
 * creation went out, and host events naming the manager's objects to
 * Xwayland refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wayland-client-protocol.h>

#include "common/wl_wire.h"
#include "guest-agent/xwl_conn.h"
#include "tests/test.h"
#include "xdg-shell-client-protocol.h"

#define K BH_XWL_OWN_IDS

/* What the connection sent to the host, one message after another. */
static uint8_t sent[256 * 1024];
static size_t sent_len;
static int sent_count;
static uint32_t created_surface;
static int created_after; /* sent_count when surface_created ran */
static bool ready;

static bool capture(void *ctx, const void *msg, size_t len)
{
	if (sent_len + len > sizeof(sent)) {
		return false;
	}
	memcpy(sent + sent_len, msg, len);
	sent_len += len;
	sent_count++;
	return true;
}

static void on_created(void *user, uint32_t surface)
{
	created_surface = surface;
	created_after = sent_count;
}

static void on_ready(void *user)
{
	ready = true;
}

static const struct bh_xwl_listener listener = {
	.surface_created = on_created,
	.ready = on_ready,
};

static uint32_t word(const uint8_t *p, size_t i)
{
	uint32_t w;
	memcpy(&w, p + 8 + 4 * i, 4);
	return w;
}

/* The n-th message sent (0-based) and its size. */
static const uint8_t *sent_msg(int n, size_t *size)
{
	size_t pos = 0;
	for (int i = 0; pos + 8 <= sent_len; i++) {
		uint32_t head[2];
		memcpy(head, sent + pos, 8);
		if (i == n) {
			*size = head[1] >> 16;
			return sent + pos;
		}
		pos += head[1] >> 16;
	}
	return NULL;
}

static size_t build(uint8_t *p, uint32_t obj, uint16_t op, const uint32_t *args, size_t n)
{
	uint32_t head[2] = {obj, (uint32_t)(8 + n * 4) << 16 | op};
	memcpy(p, head, 8);
	memcpy(p + 8, args, n * 4);
	return 8 + n * 4;
}

/* A request of Xwayland's: parsed as the relay does, then translated. */
static int request(struct bh_xwl_conn *conn, struct bh_wl_wire *wire, uint8_t *msg, size_t size)
{
	struct bh_wl_msg m;
	char err[256];
	if (!bh_wl_wire_parse(wire, BH_WL_REQUEST, msg, size, &m, err, sizeof(err))) {
		fprintf(stderr, "request: %s\n", err);
		return -2;
	}
	return bh_xwl_conn_request(conn, &m, msg, size);
}

/* A host event: translated, then parsed by Xwayland's table when kept. */
static int event(struct bh_xwl_conn *conn, struct bh_wl_wire *wire, uint8_t *msg, size_t size)
{
	int fds[1];
	size_t nfds = 0;
	int r = bh_xwl_conn_event(conn, msg, size, fds, &nfds);
	if (r == 1) {
		struct bh_wl_msg m;
		char err[256];
		if (!bh_wl_wire_parse(wire, BH_WL_EVENT, msg, size, &m, err, sizeof(err))) {
			fprintf(stderr, "event: %s\n", err);
			return -2;
		}
	}
	return r;
}

int main(void)
{
	struct bh_wl_wire wire;
	CHECK(bh_wl_wire_init(&wire));
	struct bh_xwl_conn *conn = bh_xwl_conn_create(&listener, NULL);
	const struct bh_xwl_link link = {.send = capture, .wire = &wire};
	bh_xwl_conn_attach(conn, &link);

	/* The reservation: K syncs at host ids 2 .. K + 1. */
	CHECK_EQ_INT(sent_count, K);
	size_t size;
	const uint8_t *m = sent_msg(0, &size);
	CHECK(m != NULL && size == 12 && word(m, 0) == 2);
	m = sent_msg(K - 1, &size);
	CHECK(m != NULL && word(m, 0) == K + 1);
	CHECK(!bh_xwl_conn_ready(conn));
	uint8_t msg[512];
	for (uint32_t id = 2; id < K + 2; id++) {
		size = build(msg, id, 0 /* wl_callback.done */, &id, 1);
		CHECK_EQ_INT(event(conn, &wire, msg, size), 0);
		size = build(msg, 1, 1 /* wl_display.delete_id */, &id, 1);
		CHECK_EQ_INT(event(conn, &wire, msg, size), 0);
	}

	/* Xwayland's get_registry(new id 2) goes out as new id K + 2. */
	uint32_t two = 2;
	size = build(msg, 1, WL_DISPLAY_GET_REGISTRY, &two, 1);
	CHECK_EQ_INT(request(conn, &wire, msg, size), 1);
	CHECK_EQ_INT(word(msg, 0), K + 2);

	/* The host's global xdg_wm_base to registry K + 2: Xwayland sees it
	 * on its registry 2, and the manager binds its own. */
	sent_len = 0;
	sent_count = 0;
	uint32_t global[] = {7, 12, 0, 0, 0, 3};
	memcpy(&global[2], "xdg_wm_base", 12);
	size = build(msg, K + 2, 0 /* wl_registry.global */, global, 6);
	CHECK_EQ_INT(event(conn, &wire, msg, size), 1);
	CHECK_EQ_INT(((uint32_t *)msg)[0], 2);
	CHECK_EQ_INT(sent_count, 1);
	m = sent_msg(0, &size);
	/* bind(name 7, "xdg_wm_base", version 2, new id in the manager's range) */
	CHECK(m != NULL && word(m - 0, 0) == 7);
	uint32_t head0;
	memcpy(&head0, m, 4);
	CHECK_EQ_INT(head0, K + 2);
	uint32_t wm_base = bh_xwl_conn_wm_base(conn);
	CHECK(wm_base >= 2 && wm_base < K + 2);
	CHECK(ready && bh_xwl_conn_ready(conn));

	/* Xwayland binds wl_compositor (untyped new id 3 -> K + 3) and makes a
	 * surface (4 -> K + 4): the manager hears of it once it went out. */
	uint32_t bind[] = {1, 14, 0, 0, 0, 0, 4, 3};
	memcpy(&bind[2], "wl_compositor", 14);
	size = build(msg, 2, WL_REGISTRY_BIND, bind, 8);
	CHECK_EQ_INT(request(conn, &wire, msg, size), 1);
	CHECK_EQ_INT(word(msg, 7), K + 3);
	CHECK_EQ_INT(((uint32_t *)msg)[0], K + 2);
	sent_count = 0;
	uint32_t four = 4;
	size = build(msg, 3, WL_COMPOSITOR_CREATE_SURFACE, &four, 1);
	CHECK_EQ_INT(request(conn, &wire, msg, size), 0); /* sent by the connection */
	CHECK_EQ_INT(created_surface, 4);
	CHECK_EQ_INT(created_after, 1);
	CHECK(bh_xwl_conn_surface_live(conn, 4));
	CHECK_EQ_INT(bh_xwl_conn_host_id(4), K + 4);

	/* The manager's objects: a ping to its wm_base is answered there. */
	sent_count = 0;
	sent_len = 0;
	uint32_t serial = 99;
	size = build(msg, wm_base, 0 /* xdg_wm_base.ping */, &serial, 1);
	CHECK_EQ_INT(event(conn, &wire, msg, size), 0);
	CHECK_EQ_INT(sent_count, 1);
	m = sent_msg(0, &size);
	CHECK(m != NULL && word(m, 0) == 99);

	/* An event to Xwayland's surface that names one of the manager's
	 * objects as its output is refused; a proper one is moved back. */
	uint32_t own = wm_base;
	size = build(msg, K + 4, 0 /* wl_surface.enter */, &own, 1);
	CHECK_EQ_INT(bh_xwl_conn_event(conn, msg, size, NULL, &(size_t){0}), -1);

	/* delete_id of Xwayland's id K + 4 reaches it as 4. */
	uint32_t dead = K + 4;
	size = build(msg, 1, 1, &dead, 1);
	CHECK_EQ_INT(event(conn, &wire, msg, size), 1);
	CHECK_EQ_INT(word(msg, 0), 4);

	/* A new object of the manager after the reservation: a free own id. */
	uint32_t id = bh_xwl_conn_new_id(conn, &xdg_surface_interface, NULL, NULL);
	CHECK(id >= 2 && id < K + 2 && id != wm_base);

	bh_xwl_conn_closed(conn);
	CHECK(!bh_xwl_conn_ready(conn));
	bh_xwl_conn_destroy(conn);
	bh_wl_wire_finish(&wire);
	return bh_test_finish("xwl_conn");
}
