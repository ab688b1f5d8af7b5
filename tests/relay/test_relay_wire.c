/* The relay's message walker on real messages: requests written by
 * libwayland-client (core and xdg-shell, bind, an fd) and events built the
 * way a compositor sends them (globals, a server-created object,
 * delete_id), read raw from a socketpair and parsed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wayland-client.h>

#include "common/allowlist.h"
#include "common/relay.h"
#include "common/relay_pipes.h"
#include "tests/test.h"
#include "xdg-shell-client-protocol.h"

static uint8_t raw[65536];
static size_t raw_len;

static void drain(int fd)
{
	raw_len = 0;
	ssize_t n;
	while ((n = recv(fd, raw + raw_len, sizeof(raw) - raw_len, MSG_DONTWAIT)) > 0) {
		raw_len += (size_t)n;
	}
}

/* Parses every message in raw; returns how many parsed, stops at the first
 * error (printed). */
static int parse_all(
	struct bh_wl_wire *wire, enum bh_wl_dir dir, struct bh_wl_msg *out, int max)
{
	size_t pos = 0;
	int count = 0;
	char err[256];
	while (pos + 8 <= raw_len && count < max) {
		uint32_t word;
		memcpy(&word, raw + pos + 4, 4);
		size_t size = word >> 16;
		if (!bh_wl_wire_parse(
			    wire, dir, raw + pos, size, &out[count], err, sizeof(err))) {
			fprintf(stderr, "parse error: %s\n", err);
			return count;
		}
		pos += size;
		count++;
	}
	return count;
}

static size_t event(uint8_t *p, uint32_t obj, uint16_t op, const uint32_t *args, size_t n)
{
	uint32_t head[2] = {obj, (uint32_t)(8 + n * 4) << 16 | op};
	memcpy(p, head, 8);
	memcpy(p + 8, args, n * 4);
	return 8 + n * 4;
}

int main(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	char num[16];
	snprintf(num, sizeof(num), "%d", dup(sv[1])); /* not CLOEXEC, as WAYLAND_SOCKET wants */
	setenv("WAYLAND_SOCKET", num, 1);
	/* Static: its objects stay reachable at exit (no leak reports). */
	static struct wl_display *display;
	display = wl_display_connect(NULL);
	CHECK(display != NULL);
	struct bh_wl_wire wire;
	CHECK(bh_wl_wire_init(&wire));
	struct bh_wl_msg m[16];

	/* get_registry, then the compositor's globals */
	struct wl_registry *registry = wl_display_get_registry(display);
	wl_display_flush(display);
	drain(sv[0]);
	CHECK_EQ_INT(parse_all(&wire, BH_WL_REQUEST, m, 16), 1);
	CHECK(strcmp(bh_wl_msg_interface(&m[0]), "wl_display") == 0 && strcmp(m[0].name, "get_registry") == 0);
	CHECK_EQ_INT(m[0].args[0], 2);

	uint8_t ev[512];
	size_t n = 0;
	uint32_t g1[] = {7, 14, 0, 0, 0, 0, 4};
	memcpy(g1 + 2, "wl_compositor\0\0", 16);
	n += event(ev + n, 2, 0, g1, 7);
	memcpy(raw, ev, n);
	raw_len = n;
	CHECK_EQ_INT(parse_all(&wire, BH_WL_EVENT, m, 16), 1);
	CHECK(m[0].str[1] != NULL && strcmp(m[0].str[1], "wl_compositor") == 0);
	CHECK_EQ_INT(m[0].args[2], 4);

	/* bind (an untyped new_id), a surface, xdg-shell objects */
	struct wl_compositor *compositor =
		wl_registry_bind(registry, 7, &wl_compositor_interface, 4);
	struct xdg_wm_base *wm = wl_registry_bind(registry, 8, &xdg_wm_base_interface, 2);
	struct wl_surface *surface = wl_compositor_create_surface(compositor);
	struct xdg_surface *xs = xdg_wm_base_get_xdg_surface(wm, surface);
	struct xdg_toplevel *top = xdg_surface_get_toplevel(xs);
	xdg_toplevel_set_title(top, "a title");
	wl_surface_commit(surface);
	wl_display_flush(display);
	drain(sv[0]);
	CHECK_EQ_INT(parse_all(&wire, BH_WL_REQUEST, m, 16), 7);
	CHECK(strcmp(m[0].name, "bind") == 0 && strcmp(m[0].str[1], "wl_compositor") == 0);
	CHECK_EQ_INT(m[0].args[2], 4); /* version */
	CHECK_EQ_INT(m[0].args[3], 3); /* new id */
	CHECK(strcmp(bh_wl_msg_interface(&m[3]), "xdg_wm_base") == 0 &&
		strcmp(m[3].name, "get_xdg_surface") == 0);
	CHECK(strcmp(bh_wl_msg_interface(&m[5]), "xdg_toplevel") == 0 && strcmp(m[5].name, "set_title") == 0);
	CHECK(m[5].str[0] != NULL && strcmp(m[5].str[0], "a title") == 0);
	CHECK(strcmp(bh_wl_msg_interface(&m[6]), "wl_surface") == 0 && strcmp(m[6].name, "commit") == 0);

	/* an fd is counted, not read from the bytes */
	struct wl_shm *shm = wl_registry_bind(registry, 9, &wl_shm_interface, 1);
	int fd = memfd_create("pool", MFD_CLOEXEC);
	CHECK(ftruncate(fd, 4096) == 0);
	struct wl_shm_pool *pool = wl_shm_create_pool(shm, fd, 4096);
	wl_display_flush(display);
	drain(sv[0]);
	CHECK_EQ_INT(parse_all(&wire, BH_WL_REQUEST, m, 16), 2);
	CHECK(strcmp(bh_wl_msg_interface(&m[1]), "wl_shm") == 0 && strcmp(m[1].name, "create_pool") == 0);
	CHECK_EQ_INT(m[1].nfds, 1);
	CHECK_EQ_INT(m[1].args[2], 4096);

	/* a live id cannot be created again; delete_id frees it */
	uint32_t pool_id = wl_proxy_get_id((struct wl_proxy *)pool);
	uint32_t reuse[] = {1, 12u << 16 | 1, pool_id};
	memcpy(raw, reuse, 12);
	raw_len = 12;
	CHECK_EQ_INT(parse_all(&wire, BH_WL_REQUEST, m, 16), 0);
	wl_shm_pool_destroy(pool);
	wl_display_flush(display);
	drain(sv[0]);
	CHECK_EQ_INT(parse_all(&wire, BH_WL_REQUEST, m, 16), 1);
	uint32_t del[] = {pool_id};
	raw_len = event(raw, 1, 1, del, 1);
	CHECK_EQ_INT(parse_all(&wire, BH_WL_EVENT, m, 16), 1);
	memcpy(raw, reuse, 12);
	raw_len = 12;
	CHECK_EQ_INT(parse_all(&wire, BH_WL_REQUEST, m, 16), 1);
	CHECK(strcmp(m[0].name, "get_registry") == 0);

	/* a server-created object (wl_data_device.data_offer) is known after */
	struct wl_seat *seat = wl_registry_bind(registry, 10, &wl_seat_interface, 5);
	struct wl_data_device_manager *ddm =
		wl_registry_bind(registry, 11, &wl_data_device_manager_interface, 3);
	struct wl_data_device *dd = wl_data_device_manager_get_data_device(ddm, seat);
	wl_display_flush(display);
	drain(sv[0]);
	CHECK_EQ_INT(parse_all(&wire, BH_WL_REQUEST, m, 16), 3);
	uint32_t dd_id = wl_proxy_get_id((struct wl_proxy *)dd);
	uint32_t offer_id = 0xff000001u;
	uint32_t offer_args[] = {offer_id};
	uint32_t mime[] = {11, 0, 0, 0};
	memcpy(mime + 1, "text/plain\0\0", 12);
	n = event(raw, dd_id, 0, offer_args, 1);
	n += event(raw + n, offer_id, 0, mime, 4);
	raw_len = n;
	CHECK_EQ_INT(parse_all(&wire, BH_WL_EVENT, m, 16), 2);
	CHECK(strcmp(bh_wl_msg_interface(&m[1]), "wl_data_offer") == 0 && strcmp(m[1].name, "offer") == 0);
	/* ...but a client may not create ids in the server's range */
	uint32_t bad[] = {1, 12u << 16 | 0, 0xff000005u};
	memcpy(raw, bad, 12);
	raw_len = 12;
	CHECK_EQ_INT(parse_all(&wire, BH_WL_REQUEST, m, 16), 0);

	bh_wl_wire_finish(&wire);
	close(fd);
	return bh_test_finish("test_relay_wire");
}
