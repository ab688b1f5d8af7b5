/* The relay's Wayland message walker (bh_wl_wire_parse): object ids
 * created and deleted from both directions, arguments as the relay's
 * handlers see them, fds counted, and malformed messages refused without
 * disturbing the connection's object table. Messages are built by hand in
 * the wire format so the tests do not lean on libwayland's marshalling
 * agreeing with the walker. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <wayland-client-protocol.h>

#include "common/allowlist.h"
#include "common/relay.h"
#include "common/relay_pipes.h"
#include "common/wl_conn.h"
#include "tests/test.h"
#include "xdg-shell-client-protocol.h"

/* The version of name's interface table the walker parses with, 0 when
 * a bind may not name it. */
static uint32_t table_version(const char *name)
{
	const struct bh_guest_global *g = bh_guest_global_find(name);
	return g != NULL ? (uint32_t)g->interface->version : 0;
}

/* The client headers name request opcodes only; these are the events'. */
enum {
	EV_DISPLAY_ERROR = 0,
	EV_DISPLAY_DELETE_ID = 1,
	EV_REGISTRY_GLOBAL = 0,
	EV_REGISTRY_GLOBAL_REMOVE = 1,
	EV_CALLBACK_DONE = 0,
	EV_SURFACE_ENTER = 0,
	EV_SEAT_CAPABILITIES = 0,
	EV_SEAT_NAME = 1,
	EV_KEYBOARD_KEYMAP = 0,
	EV_KEYBOARD_ENTER = 1,
	EV_DATA_DEVICE_DATA_OFFER = 0,
	EV_DATA_OFFER_OFFER = 0,
	EV_XDG_WM_BASE_PING = 0,
	EV_XDG_TOPLEVEL_CONFIGURE = 0,
};

#define REQ BH_WL_REQUEST
#define EV BH_WL_EVENT

/* Ids of the standard connection made by setup(). */
enum {
	DISPLAY = 1,
	REGISTRY = 2,
	COMPOSITOR = 3,
	SHM = 4,
	WM_BASE = 5,
	SEAT = 6,
	DDM = 7, /* wl_data_device_manager */
	SURFACE = 8,
	OUTPUT = 9,
	SPARE = 1000, /* used by check_usable() and freed again */
};
#define SERVER_ID 0xff000000u

/* ---- building messages ---- */

struct wmsg {
	uint8_t data[1024];
	size_t len;
	uint32_t opcode;
};

static void put32(struct wmsg *m, uint32_t v)
{
	memcpy(m->data + m->len, &v, 4);
	m->len += 4;
}

/* A string or array argument: the length word says len_field, then n
 * bytes, padded with zeros to 4. Separate from the length so malformed
 * strings can be written. */
static void put_bytes(struct wmsg *m, uint32_t len_field, const void *bytes, size_t n)
{
	put32(m, len_field);
	if (n > 0) {
		memcpy(m->data + m->len, bytes, n);
		m->len += n;
	}
	while (m->len % 4 != 0) {
		m->data[m->len++] = 0;
	}
}

static void put_str(struct wmsg *m, const char *s)
{
	put_bytes(m, (uint32_t)strlen(s) + 1, s, strlen(s) + 1);
}

static void begin(struct wmsg *m, uint32_t object, uint32_t opcode)
{
	memset(m, 0, sizeof(*m));
	m->opcode = opcode;
	put32(m, object);
	put32(m, 0);
}

/* Writes the header's size word from the bytes written so far. */
static void end(struct wmsg *m)
{
	uint32_t word = (uint32_t)m->len << 16 | m->opcode;
	memcpy(m->data + 4, &word, 4);
}

/* One whole message: fmt has 'u' (a uint32_t: ints, objects, new ids,
 * fixed) or 's' (a NUL-terminated string) per argument; fds take no bytes
 * and are left out. */
static void build(struct wmsg *m, uint32_t object, uint32_t opcode, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	begin(m, object, opcode);
	for (const char *f = fmt; *f; f++) {
		if (*f == 's') {
			put_str(m, va_arg(ap, const char *));
		} else {
			put32(m, va_arg(ap, uint32_t));
		}
	}
	va_end(ap);
	end(m);
}

/* ---- parsing ---- */

static struct bh_wl_msg msg;
static char err[256];

static bool parse(struct bh_wl_wire *w, enum bh_wl_dir dir, const struct wmsg *m)
{
	memset(err, 0, sizeof(err));
	return bh_wl_wire_parse(w, dir, m->data, m->len, &msg, err, sizeof(err));
}

/* CHECK reports the helper's line; these say which call site it was. */
#define PARSE_OK(w, dir, m) parse_ok(w, dir, m, __LINE__)
#define PARSE_FAIL(w, dir, m, why) parse_fail(w, dir, m, why, __LINE__)

static bool parse_ok(struct bh_wl_wire *w, enum bh_wl_dir dir, const struct wmsg *m, int line)
{
	bool ok = parse(w, dir, m);
	if (!ok) {
		fprintf(stderr, "line %d: refused: %s\n", line, err);
	}
	CHECK(ok);
	return ok;
}

static void parse_fail(
	struct bh_wl_wire *w, enum bh_wl_dir dir, const struct wmsg *m, const char *why, int line)
{
	bool ok = parse(w, dir, m);
	/* the reason matters: a message refused for the wrong reason hides
	 * the check that was meant to refuse it */
	if (ok || strstr(err, why) == NULL) {
		fprintf(stderr, "line %d: %s, error \"%s\", expected \"%s\"\n", line,
			ok ? "accepted" : "refused", err, why);
	}
	CHECK(!ok);
	CHECK(err[0] != '\0');
	CHECK(strstr(err, why) != NULL);
}

static bool is(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* A string argument points into the message it came from. */
static bool inside(const char *p, const struct wmsg *m)
{
	return p != NULL && (const uint8_t *)p >= m->data && (const uint8_t *)p < m->data + m->len;
}

/* The standard connection: a registry, the globals the tests use bound at
 * the version the tables know, a surface and an output. */
static void setup(struct bh_wl_wire *w)
{
	struct wmsg m;
	CHECK(bh_wl_wire_init(w));
	build(&m, DISPLAY, WL_DISPLAY_GET_REGISTRY, "u", REGISTRY);
	PARSE_OK(w, REQ, &m);
	static const struct {
		uint32_t id;
		const char *name;
	} globals[] = {
		{COMPOSITOR, "wl_compositor"},
		{SHM, "wl_shm"},
		{WM_BASE, "xdg_wm_base"},
		{SEAT, "wl_seat"},
		{DDM, "wl_data_device_manager"},
		{OUTPUT, "wl_output"},
	};
	for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++) {
		const char *name = globals[i].name;
		build(&m, REGISTRY, WL_REGISTRY_BIND, "usuu", (uint32_t)i + 1, name,
			table_version(name), globals[i].id);
		PARSE_OK(w, REQ, &m);
	}
	build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_SURFACE, "u", SURFACE);
	PARSE_OK(w, REQ, &m);
}

/* After a refused message the connection must carry on as before: an
 * object can still be created, used and deleted, and the surface is
 * still a surface. */
#define CHECK_USABLE(w) check_usable(w, __LINE__)
static void check_usable(struct bh_wl_wire *w, int line)
{
	struct wmsg m;
	int failures = bh_test_failures;
	build(&m, DISPLAY, WL_DISPLAY_SYNC, "u", SPARE);
	PARSE_OK(w, REQ, &m);
	build(&m, SPARE, EV_CALLBACK_DONE, "u", 42);
	PARSE_OK(w, EV, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_callback"));
	build(&m, DISPLAY, EV_DISPLAY_DELETE_ID, "u", SPARE);
	PARSE_OK(w, EV, &m);
	build(&m, SPARE, EV_CALLBACK_DONE, "u", 42);
	PARSE_FAIL(w, EV, &m, "unknown object");
	build(&m, SURFACE, WL_SURFACE_COMMIT, "");
	PARSE_OK(w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_surface") && is(msg.name, "commit"));
	if (bh_test_failures != failures) {
		fprintf(stderr, "line %d: the connection is disturbed\n", line);
	}
}

/* ---- tests ---- */

static void test_registry_and_bind(void)
{
	struct bh_wl_wire w;
	struct wmsg m;
	CHECK(bh_wl_wire_init(&w));

	/* Only wl_display exists at first. */
	build(&m, REGISTRY, EV_REGISTRY_GLOBAL, "usu", 1, "wl_compositor", 4);
	PARSE_FAIL(&w, EV, &m, "unknown object 2");

	build(&m, DISPLAY, WL_DISPLAY_GET_REGISTRY, "u", REGISTRY);
	CHECK_EQ_INT(m.len, 12);
	PARSE_OK(&w, REQ, &m);
	CHECK_EQ_INT(msg.object, DISPLAY);
	CHECK_EQ_INT(msg.opcode, WL_DISPLAY_GET_REGISTRY);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_display") && is(msg.name, "get_registry"));
	CHECK_EQ_INT(msg.nargs, 1);
	CHECK_EQ_INT(msg.args[0], REGISTRY);
	CHECK_EQ_INT(msg.nfds, 0);

	/* The new id now parses as a wl_registry. */
	build(&m, REGISTRY, EV_REGISTRY_GLOBAL, "usu", 7, "wl_compositor", 4);
	PARSE_OK(&w, EV, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_registry") && is(msg.name, "global"));
	CHECK_EQ_INT(msg.nargs, 3);
	CHECK_EQ_INT(msg.args[0], 7);
	CHECK(msg.str[0] == NULL);
	CHECK(is(msg.str[1], "wl_compositor"));
	CHECK(inside(msg.str[1], &m));
	CHECK_EQ_INT(msg.args[2], 4);
	/* a name whose length with its NUL is a multiple of 4: no padding */
	build(&m, REGISTRY, EV_REGISTRY_GLOBAL, "usu", 8, "wl_seat", 7);
	CHECK_EQ_INT(m.len, 8 + 4 + 4 + 8 + 4);
	PARSE_OK(&w, EV, &m);
	CHECK(is(msg.str[1], "wl_seat"));
	CHECK_EQ_INT(msg.args[2], 7);
	build(&m, REGISTRY, EV_REGISTRY_GLOBAL_REMOVE, "u", 8);
	PARSE_OK(&w, EV, &m);
	CHECK(is(msg.name, "global_remove"));
	CHECK_EQ_INT(msg.args[0], 8);

	/* bind's untyped new_id is "sun": interface, version, id. */
	uint32_t version = table_version("wl_compositor");
	CHECK(version >= 4);
	build(&m, REGISTRY, WL_REGISTRY_BIND, "usuu", 7, "wl_compositor", version, COMPOSITOR);
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_registry") && is(msg.name, "bind"));
	CHECK_EQ_INT(msg.nargs, 4);
	CHECK_EQ_INT(msg.args[0], 7);
	CHECK(is(msg.str[1], "wl_compositor"));
	CHECK(inside(msg.str[1], &m));
	CHECK_EQ_INT(msg.args[2], version);
	CHECK_EQ_INT(msg.args[3], COMPOSITOR);

	/* The bound object has that interface, and what it creates has theirs. */
	build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_SURFACE, "u", SURFACE);
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_compositor") && is(msg.name, "create_surface"));
	CHECK_EQ_INT(msg.args[0], SURFACE);
	build(&m, SURFACE, WL_SURFACE_ATTACH, "uuu", 0, 0, 0); /* ?o: null buffer */
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_surface") && is(msg.name, "attach"));
	CHECK_EQ_INT(msg.args[0], 0);
	build(&m, SURFACE, WL_SURFACE_DAMAGE, "uuuu", (uint32_t)-5, 6, 100, 200);
	PARSE_OK(&w, REQ, &m);
	CHECK_EQ_INT(msg.nargs, 4);
	CHECK_EQ_INT((int32_t)msg.args[0], -5);
	CHECK_EQ_INT(msg.args[3], 200);
	build(&m, SURFACE, WL_SURFACE_SET_BUFFER_SCALE, "u", 2); /* since 3 */
	PARSE_OK(&w, REQ, &m);
	build(&m, SURFACE, WL_SURFACE_FRAME, "u", 20);
	PARSE_OK(&w, REQ, &m);
	build(&m, 20, EV_CALLBACK_DONE, "u", 1234);
	PARSE_OK(&w, EV, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_callback") && is(msg.name, "done"));
	CHECK_EQ_INT(msg.args[0], 1234);
	/* wl_callback has an event but no requests */
	PARSE_FAIL(&w, REQ, &m, "wl_callback 20 has no request with opcode 0");

	/* Objects take the version they were bound with: a wl_compositor bound
	 * at 1 makes version 1 surfaces, which have no set_buffer_scale. */
	build(&m, REGISTRY, WL_REGISTRY_BIND, "usuu", 7, "wl_compositor", 1, 30);
	PARSE_OK(&w, REQ, &m);
	build(&m, 30, WL_COMPOSITOR_CREATE_SURFACE, "u", 31);
	PARSE_OK(&w, REQ, &m);
	build(&m, 31, WL_SURFACE_SET_BUFFER_SCALE, "u", 2);
	PARSE_FAIL(&w, REQ, &m, "needs version 3");
	build(&m, 31, WL_SURFACE_SET_BUFFER_TRANSFORM, "u", 0);
	PARSE_FAIL(&w, REQ, &m, "needs version 2");
	build(&m, 31, WL_SURFACE_COMMIT, "");
	PARSE_OK(&w, REQ, &m);
	/* events too: wl_seat.name is since 2 */
	build(&m, REGISTRY, WL_REGISTRY_BIND, "usuu", 8, "wl_seat", 1, 32);
	PARSE_OK(&w, REQ, &m);
	build(&m, 32, EV_SEAT_CAPABILITIES, "u", 3);
	PARSE_OK(&w, EV, &m);
	build(&m, 32, EV_SEAT_NAME, "s", "seat0");
	PARSE_FAIL(&w, EV, &m, "needs version 2");

	bh_wl_wire_finish(&w);
	CHECK(w.objects == NULL);
	bh_wl_wire_finish(&w); /* twice is harmless */
}

static void test_xdg_shell(void)
{
	struct bh_wl_wire w;
	struct wmsg m;
	setup(&w);

	build(&m, WM_BASE, XDG_WM_BASE_GET_XDG_SURFACE, "uu", 20, SURFACE);
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "xdg_wm_base") && is(msg.name, "get_xdg_surface"));
	CHECK_EQ_INT(msg.nargs, 2);
	CHECK_EQ_INT(msg.args[0], 20);
	CHECK_EQ_INT(msg.args[1], SURFACE);
	build(&m, 20, XDG_SURFACE_GET_TOPLEVEL, "u", 21);
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "xdg_surface") && is(msg.name, "get_toplevel"));
	build(&m, 21, XDG_TOPLEVEL_SET_TITLE, "s", "a window title");
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "xdg_toplevel") && is(msg.name, "set_title"));
	CHECK_EQ_INT(msg.nargs, 1);
	CHECK(is(msg.str[0], "a window title"));
	CHECK(inside(msg.str[0], &m));
	/* a string's word is where its bytes start in the message */
	CHECK_EQ_INT(msg.args[0], 12);
	build(&m, 21, XDG_TOPLEVEL_SET_APP_ID, "s", "org.example.App");
	PARSE_OK(&w, REQ, &m);
	CHECK(is(msg.name, "set_app_id") && is(msg.str[0], "org.example.App"));
	/* the empty string is a string (length 1), not a null one */
	build(&m, 21, XDG_TOPLEVEL_SET_TITLE, "s", "");
	PARSE_OK(&w, REQ, &m);
	CHECK(is(msg.str[0], ""));

	/* xdg_toplevel.configure: i i a, the array's word is its offset. */
	uint32_t states[2] = {XDG_TOPLEVEL_STATE_ACTIVATED, XDG_TOPLEVEL_STATE_MAXIMIZED};
	begin(&m, 21, EV_XDG_TOPLEVEL_CONFIGURE);
	put32(&m, 800);
	put32(&m, 600);
	put_bytes(&m, sizeof(states), states, sizeof(states));
	end(&m);
	PARSE_OK(&w, EV, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "xdg_toplevel") && is(msg.name, "configure"));
	CHECK_EQ_INT(msg.nargs, 3);
	CHECK_EQ_INT(msg.args[0], 800);
	CHECK_EQ_INT(msg.args[1], 600);
	CHECK_EQ_INT(msg.args[2], 20);
	CHECK(msg.str[2] == NULL);
	CHECK(memcmp(m.data + msg.args[2], states, sizeof(states)) == 0);
	/* an empty array */
	begin(&m, 21, EV_XDG_TOPLEVEL_CONFIGURE);
	put32(&m, 0);
	put32(&m, 0);
	put_bytes(&m, 0, NULL, 0);
	end(&m);
	PARSE_OK(&w, EV, &m);
	build(&m, 20, 0 /* xdg_surface.configure */, "u", 55);
	PARSE_OK(&w, EV, &m);
	build(&m, 20, XDG_SURFACE_ACK_CONFIGURE, "u", 55);
	PARSE_OK(&w, REQ, &m);
	CHECK(is(msg.name, "ack_configure") && msg.args[0] == 55);
	build(&m, WM_BASE, EV_XDG_WM_BASE_PING, "u", 9);
	PARSE_OK(&w, EV, &m);
	CHECK(is(msg.name, "ping"));
	build(&m, WM_BASE, XDG_WM_BASE_PONG, "u", 9);
	PARSE_OK(&w, REQ, &m);
	CHECK(is(msg.name, "pong"));

	/* Destructors parse; the ids stay until the compositor frees them. */
	build(&m, 21, XDG_TOPLEVEL_DESTROY, "");
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "xdg_toplevel") && is(msg.name, "destroy"));
	build(&m, 20, XDG_SURFACE_DESTROY, "");
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "xdg_surface") && is(msg.name, "destroy"));
	CHECK_USABLE(&w);
	bh_wl_wire_finish(&w);
}

static void test_destroy_and_delete_id(void)
{
	struct bh_wl_wire w;
	struct wmsg m;
	setup(&w);

	build(&m, SURFACE, WL_SURFACE_DESTROY, "");
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_surface") && is(msg.name, "destroy"));
	CHECK_EQ_INT(msg.nargs, 0);
	/* An event the compositor sent before it saw the destroy is still a
	 * surface's, and the client may not reuse the id yet. */
	build(&m, SURFACE, EV_SURFACE_ENTER, "u", OUTPUT);
	PARSE_OK(&w, EV, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_surface") && is(msg.name, "enter"));
	CHECK_EQ_INT(msg.args[0], OUTPUT);
	build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_SURFACE, "u", SURFACE);
	PARSE_FAIL(&w, REQ, &m, "still in use by a wl_surface");

	/* wl_display.delete_id frees it. */
	build(&m, DISPLAY, EV_DISPLAY_DELETE_ID, "u", SURFACE);
	PARSE_OK(&w, EV, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_display") && is(msg.name, "delete_id"));
	CHECK_EQ_INT(msg.args[0], SURFACE);
	build(&m, SURFACE, WL_SURFACE_COMMIT, "");
	PARSE_FAIL(&w, REQ, &m, "unknown object 8");
	build(&m, SURFACE, EV_SURFACE_ENTER, "u", OUTPUT);
	PARSE_FAIL(&w, EV, &m, "unknown object 8");
	/* nor may it be named as an argument */
	build(&m, WM_BASE, XDG_WM_BASE_GET_XDG_SURFACE, "uu", 20, SURFACE);
	PARSE_FAIL(&w, REQ, &m, "unknown object 8");

	/* The id can be created again, with another interface. */
	build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_REGION, "u", SURFACE);
	PARSE_OK(&w, REQ, &m);
	build(&m, SURFACE, 1 /* wl_region.add */, "uuuu", 0, 0, 5, 5);
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_region") && is(msg.name, "add"));
	build(&m, SURFACE, WL_SURFACE_COMMIT, ""); /* wl_region has no opcode 6 */
	PARSE_FAIL(&w, REQ, &m, "wl_region 8 has no request with opcode 6");
	build(&m, SURFACE, 0 /* wl_region.destroy */, "");
	PARSE_OK(&w, REQ, &m);
	build(&m, DISPLAY, EV_DISPLAY_DELETE_ID, "u", SURFACE);
	PARSE_OK(&w, EV, &m);
	build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_SURFACE, "u", SURFACE);
	PARSE_OK(&w, REQ, &m);
	build(&m, SURFACE, WL_SURFACE_COMMIT, "");
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_surface"));

	/* delete_id of an id nobody uses changes nothing. */
	build(&m, DISPLAY, EV_DISPLAY_DELETE_ID, "u", 777);
	PARSE_OK(&w, EV, &m);
	build(&m, DISPLAY, EV_DISPLAY_DELETE_ID, "u", 1u << 30);
	PARSE_OK(&w, EV, &m);
	/* wl_display itself cannot be deleted. */
	build(&m, DISPLAY, EV_DISPLAY_DELETE_ID, "u", DISPLAY);
	PARSE_FAIL(&w, EV, &m, "delete_id of wl_display itself");
	CHECK_USABLE(&w);
	/* Only the event deletes: the same bytes as a request are
	 * wl_display.get_registry, refused for the live id, which stays. */
	build(&m, DISPLAY, EV_DISPLAY_DELETE_ID, "u", SURFACE);
	PARSE_FAIL(&w, REQ, &m, "new id 8 is still in use by a wl_surface");
	CHECK_USABLE(&w);
	bh_wl_wire_finish(&w);
}

static void test_server_ids(void)
{
	struct bh_wl_wire w;
	struct wmsg m;
	setup(&w);

	build(&m, DDM, WL_DATA_DEVICE_MANAGER_GET_DATA_DEVICE, "uu", 20, SEAT);
	PARSE_OK(&w, REQ, &m);
	CHECK(is(msg.name, "get_data_device") && msg.args[0] == 20 && msg.args[1] == SEAT);
	/* The compositor creates objects from 0xff000000 up. */
	build(&m, 20, EV_DATA_DEVICE_DATA_OFFER, "u", SERVER_ID);
	PARSE_OK(&w, EV, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_data_device") && is(msg.name, "data_offer"));
	CHECK_EQ_INT(msg.args[0], SERVER_ID);
	build(&m, SERVER_ID, EV_DATA_OFFER_OFFER, "s", "text/plain;charset=utf-8");
	PARSE_OK(&w, EV, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_data_offer") &&
		is(msg.str[0], "text/plain;charset=utf-8"));
	/* accept(u, ?s): a null string is length 0 */
	build(&m, SERVER_ID, WL_DATA_OFFER_ACCEPT, "uu", 5, 0);
	PARSE_OK(&w, REQ, &m);
	CHECK(is(msg.name, "accept"));
	CHECK_EQ_INT(msg.nargs, 2);
	CHECK(msg.str[1] == NULL);

	/* Each side creates ids only in its own range. */
	build(&m, 20, EV_DATA_DEVICE_DATA_OFFER, "u", 50);
	PARSE_FAIL(&w, EV, &m, "outside the compositor's range");
	build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_SURFACE, "u", SERVER_ID + 1);
	PARSE_FAIL(&w, REQ, &m, "outside the client's range");
	build(&m, 50, WL_SURFACE_COMMIT, "");
	PARSE_FAIL(&w, REQ, &m, "unknown object 50");
	build(&m, SERVER_ID + 1, WL_SURFACE_COMMIT, "");
	PARSE_FAIL(&w, REQ, &m, "unknown object");

	/* The compositor reuses its ids once the client destroyed them, with
	 * no delete_id to tell: a server id may be created again. */
	build(&m, SERVER_ID, 2 /* wl_data_offer.destroy */, "");
	PARSE_OK(&w, REQ, &m);
	build(&m, 20, EV_DATA_DEVICE_DATA_OFFER, "u", SERVER_ID);
	PARSE_OK(&w, EV, &m);
	/* delete_id is only for client ids: the offer stays */
	build(&m, DISPLAY, EV_DISPLAY_DELETE_ID, "u", SERVER_ID);
	PARSE_OK(&w, EV, &m);
	build(&m, SERVER_ID, EV_DATA_OFFER_OFFER, "s", "text/plain");
	PARSE_OK(&w, EV, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_data_offer"));
	CHECK_USABLE(&w);
	bh_wl_wire_finish(&w);
}

static void test_fds(void)
{
	struct bh_wl_wire w;
	struct wmsg m;
	setup(&w);

	/* wl_shm.create_pool(n, h, i): the fd takes no bytes. */
	build(&m, SHM, WL_SHM_CREATE_POOL, "uu", 20, 4096);
	CHECK_EQ_INT(m.len, 16);
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_shm") && is(msg.name, "create_pool"));
	CHECK_EQ_INT(msg.nfds, 1);
	CHECK_EQ_INT(msg.nargs, 3);
	CHECK_EQ_INT(msg.args[0], 20);
	CHECK_EQ_INT(msg.args[1], 0);
	CHECK_EQ_INT(msg.args[2], 4096);
	build(&m, 20, WL_SHM_POOL_CREATE_BUFFER, "uuuuuu", 21, 0, 16, 16, 64, 0);
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_shm_pool") && msg.nfds == 0 && msg.nargs == 6);
	/* a word where the fd is would make the message too long */
	build(&m, SHM, WL_SHM_CREATE_POOL, "uuu", 22, 99, 4096);
	PARSE_FAIL(&w, REQ, &m, "its arguments take 16");

	/* wl_keyboard.keymap(u, h, u) */
	build(&m, SEAT, WL_SEAT_GET_KEYBOARD, "u", 30);
	PARSE_OK(&w, REQ, &m);
	CHECK_EQ_INT(msg.nfds, 0);
	build(&m, 30, EV_KEYBOARD_KEYMAP, "uu", WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1, 48000);
	PARSE_OK(&w, EV, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "wl_keyboard") && is(msg.name, "keymap"));
	CHECK_EQ_INT(msg.nfds, 1);
	CHECK_EQ_INT(msg.nargs, 3);
	CHECK_EQ_INT(msg.args[0], WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1);
	CHECK_EQ_INT(msg.args[2], 48000);
	/* keyboard.enter(u, o, a) carries no fd */
	uint32_t keys[1] = {30};
	begin(&m, 30, EV_KEYBOARD_ENTER);
	put32(&m, 7);
	put32(&m, SURFACE);
	put_bytes(&m, sizeof(keys), keys, sizeof(keys));
	end(&m);
	PARSE_OK(&w, EV, &m);
	CHECK(is(msg.name, "enter"));
	CHECK_EQ_INT(msg.nfds, 0);
	CHECK_EQ_INT(msg.args[1], SURFACE);

	/* wl_data_offer.receive(s, h): a string and an fd */
	build(&m, DDM, WL_DATA_DEVICE_MANAGER_GET_DATA_DEVICE, "uu", 40, SEAT);
	PARSE_OK(&w, REQ, &m);
	build(&m, 40, EV_DATA_DEVICE_DATA_OFFER, "u", SERVER_ID);
	PARSE_OK(&w, EV, &m);
	build(&m, SERVER_ID, WL_DATA_OFFER_RECEIVE, "s", "text/plain");
	PARSE_OK(&w, REQ, &m);
	CHECK_EQ_INT(msg.nfds, 1);
	CHECK_EQ_INT(msg.nargs, 2);
	CHECK(is(msg.str[0], "text/plain"));

	/* and none elsewhere */
	build(&m, SURFACE, WL_SURFACE_COMMIT, "");
	PARSE_OK(&w, REQ, &m);
	CHECK_EQ_INT(msg.nfds, 0);
	bh_wl_wire_finish(&w);
}

/* Every malformed message is refused with a reason and leaves the
 * connection as it was. */
static void test_malformed(void)
{
	struct bh_wl_wire w;
	struct wmsg m;
	setup(&w);
	build(&m, WM_BASE, XDG_WM_BASE_GET_XDG_SURFACE, "uu", 20, SURFACE);
	PARSE_OK(&w, REQ, &m);
	build(&m, 20, XDG_SURFACE_GET_TOPLEVEL, "u", 21);
	PARSE_OK(&w, REQ, &m);

	/* A string without its NUL. */
	begin(&m, 21, XDG_TOPLEVEL_SET_TITLE);
	put_bytes(&m, 5, "hello", 5);
	end(&m);
	PARSE_FAIL(&w, REQ, &m, "not terminated");
	CHECK_USABLE(&w);
	/* ... with the NUL early and garbage in its last byte */
	begin(&m, 21, XDG_TOPLEVEL_SET_TITLE);
	put_bytes(&m, 6, "hel\0lo", 6);
	end(&m);
	PARSE_FAIL(&w, REQ, &m, "not terminated");
	CHECK_USABLE(&w);
	/* ... with a NUL inside as well as at the end */
	begin(&m, 21, XDG_TOPLEVEL_SET_TITLE);
	put_bytes(&m, 7, "hel\0lo", 7);
	end(&m);
	PARSE_FAIL(&w, REQ, &m, "not terminated");
	CHECK_USABLE(&w);
	/* A null string where one is required. */
	begin(&m, 21, XDG_TOPLEVEL_SET_TITLE);
	put_bytes(&m, 0, NULL, 0);
	end(&m);
	PARSE_FAIL(&w, REQ, &m, "null string");
	CHECK_USABLE(&w);

	/* A string longer than the message. */
	begin(&m, 21, XDG_TOPLEVEL_SET_TITLE);
	put_bytes(&m, 100, "short\0\0", 8);
	end(&m);
	PARSE_FAIL(&w, REQ, &m, "longer than the message");
	CHECK_USABLE(&w);
	/* one byte too long: the padding it needs is not there */
	begin(&m, 21, XDG_TOPLEVEL_SET_TITLE);
	put_bytes(&m, 9, "12345678", 8);
	end(&m);
	PARSE_FAIL(&w, REQ, &m, "longer than the message");
	CHECK_USABLE(&w);
	/* a length that would wrap a 32-bit position */
	begin(&m, 21, XDG_TOPLEVEL_SET_TITLE);
	put_bytes(&m, 0xffffffffu, "x\0\0\0", 4);
	end(&m);
	PARSE_FAIL(&w, REQ, &m, "longer than the message");
	CHECK_USABLE(&w);
	/* An array longer than the message. */
	begin(&m, 21, EV_XDG_TOPLEVEL_CONFIGURE);
	put32(&m, 1);
	put32(&m, 1);
	put_bytes(&m, 64, "\1\0\0\0\2\0\0\0", 8);
	end(&m);
	PARSE_FAIL(&w, EV, &m, "array of 64 bytes is longer");
	CHECK_USABLE(&w);
	begin(&m, 21, EV_XDG_TOPLEVEL_CONFIGURE);
	put32(&m, 1);
	put32(&m, 1);
	put_bytes(&m, 0xfffffffdu, NULL, 0);
	end(&m);
	PARSE_FAIL(&w, EV, &m, "longer than the message");
	CHECK_USABLE(&w);

	/* A new id that is still in use, here or by another interface. */
	build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_SURFACE, "u", SURFACE);
	PARSE_FAIL(&w, REQ, &m, "new id 8 is still in use");
	CHECK_USABLE(&w);
	build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_SURFACE, "u", DISPLAY);
	PARSE_FAIL(&w, REQ, &m, "still in use by a wl_display");
	build(&m, DISPLAY, WL_DISPLAY_SYNC, "u", 22);
	PARSE_OK(&w, REQ, &m); /* wl_display itself was not replaced */
	build(&m, SURFACE, WL_SURFACE_FRAME, "u", 21);
	PARSE_FAIL(&w, REQ, &m, "still in use by a xdg_toplevel");
	build(&m, 21, XDG_TOPLEVEL_SET_TITLE, "s", "still a toplevel");
	PARSE_OK(&w, REQ, &m);
	CHECK(is(bh_wl_msg_interface(&msg), "xdg_toplevel"));
	CHECK_USABLE(&w);
	/* new id 0, and one past what the table holds */
	build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_SURFACE, "u", 0);
	PARSE_FAIL(&w, REQ, &m, "new id 0");
	build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_SURFACE, "u", 1u << 20);
	PARSE_FAIL(&w, REQ, &m, "too large");
	CHECK_USABLE(&w);

	/* Unknown objects. */
	build(&m, 555, WL_SURFACE_COMMIT, "");
	PARSE_FAIL(&w, REQ, &m, "unknown object 555");
	build(&m, 0, 0, "");
	PARSE_FAIL(&w, REQ, &m, "unknown object 0");
	build(&m, 0xfffffff0u, 0, "");
	PARSE_FAIL(&w, EV, &m, "unknown object");
	build(&m, 0x7fffffffu, 0, "");
	PARSE_FAIL(&w, REQ, &m, "unknown object");
	CHECK_USABLE(&w);

	/* Unknown opcodes, each way. */
	build(&m, SURFACE, 11, "");
	PARSE_FAIL(&w, REQ, &m, "wl_surface 8 has no request with opcode 11");
	build(&m, SURFACE, 0xffff, "");
	PARSE_FAIL(&w, REQ, &m, "no request with opcode 65535");
	build(&m, DISPLAY, 2, "u", 1);
	PARSE_FAIL(&w, EV, &m, "wl_display 1 has no event with opcode 2");
	build(&m, 21, 4, "");
	PARSE_FAIL(&w, EV, &m, "no event with opcode 4");
	CHECK_USABLE(&w);

	/* Sizes that disagree with the signature: too short... */
	build(&m, DISPLAY, WL_DISPLAY_GET_REGISTRY, "");
	PARSE_FAIL(&w, REQ, &m, "shorter than its signature");
	build(&m, SURFACE, WL_SURFACE_DAMAGE, "uuu", 0, 0, 1);
	PARSE_FAIL(&w, REQ, &m, "shorter than its signature");
	/* ...or with bytes left over, which must not create the new id */
	build(&m, DISPLAY, WL_DISPLAY_GET_REGISTRY, "uu", 23, 0);
	PARSE_FAIL(&w, REQ, &m, "is 16 bytes, its arguments take 12");
	build(&m, SURFACE, WL_SURFACE_COMMIT, "u", 0);
	PARSE_FAIL(&w, REQ, &m, "its arguments take 8");
	build(&m, 23, 0 /* wl_registry.bind */, "usuu", 1, "wl_shm", 1, 24);
	PARSE_FAIL(&w, REQ, &m, "unknown object 23");
	CHECK_USABLE(&w);

	/* Objects that do not exist, where one is required... */
	build(&m, WM_BASE, XDG_WM_BASE_GET_XDG_SURFACE, "uu", 25, 4242);
	PARSE_FAIL(&w, REQ, &m, "refers to unknown object 4242");
	build(&m, WM_BASE, XDG_WM_BASE_GET_XDG_SURFACE, "uu", 25, 0);
	PARSE_FAIL(&w, REQ, &m, "null object");
	/* ...and where null is allowed: null is, a missing object is not */
	build(&m, SURFACE, WL_SURFACE_ATTACH, "uuu", 4242, 0, 0);
	PARSE_FAIL(&w, REQ, &m, "refers to unknown object 4242");
	build(&m, SURFACE, WL_SURFACE_SET_INPUT_REGION, "u", 0);
	PARSE_OK(&w, REQ, &m);
	/* the refused messages created nothing */
	build(&m, 25, XDG_SURFACE_GET_TOPLEVEL, "u", 26);
	PARSE_FAIL(&w, REQ, &m, "unknown object 25");
	build(&m, WM_BASE, XDG_WM_BASE_GET_XDG_SURFACE, "uu", 25, SURFACE);
	PARSE_OK(&w, REQ, &m);
	CHECK_USABLE(&w);

	/* Binds the tables cannot follow are refused: an interface they do
	 * not know (the relay cannot parse its messages), a version above
	 * theirs or version 0. */
	build(&m, REGISTRY, WL_REGISTRY_BIND, "usuu", 40, "wl_not_an_interface", 1, 27);
	PARSE_FAIL(&w, REQ, &m, "unknown interface wl_not_an_interface");
	build(&m, 27, 0, "");
	PARSE_FAIL(&w, REQ, &m, "unknown object 27");
	uint32_t known = table_version("wl_seat");
	CHECK(known > 0);
	CHECK_EQ_INT(table_version("wl_not_an_interface"), 0);
	build(&m, REGISTRY, WL_REGISTRY_BIND, "usuu", 4, "wl_seat", known + 1, 27);
	PARSE_FAIL(&w, REQ, &m, "known up to");
	build(&m, REGISTRY, WL_REGISTRY_BIND, "usuu", 4, "wl_seat", 0, 27);
	PARSE_FAIL(&w, REQ, &m, "version 0");
	/* a version with the top bit set is not a small negative one */
	build(&m, REGISTRY, WL_REGISTRY_BIND, "usuu", 4, "wl_seat", 0x80000000u, 27);
	PARSE_FAIL(&w, REQ, &m, "known up to");
	build(&m, REGISTRY, WL_REGISTRY_BIND, "usuu", 4, "wl_seat", 0xffffffffu, 27);
	PARSE_FAIL(&w, REQ, &m, "known up to");
	begin(&m, REGISTRY, WL_REGISTRY_BIND);
	put32(&m, 4);
	put_bytes(&m, 0, NULL, 0); /* no interface name */
	put32(&m, 1);
	put32(&m, 27);
	end(&m);
	PARSE_FAIL(&w, REQ, &m, "null string");
	build(&m, 27, 0, "");
	PARSE_FAIL(&w, REQ, &m, "unknown object 27");
	build(&m, REGISTRY, WL_REGISTRY_BIND, "usuu", 4, "wl_seat", known, 27);
	PARSE_OK(&w, REQ, &m);
	CHECK_USABLE(&w);

	/* Headers: under 8 bytes, a size that is not the message's or not a
	 * multiple of 4. */
	build(&m, SURFACE, WL_SURFACE_COMMIT, "");
	CHECK(!bh_wl_wire_parse(&w, REQ, m.data, 4, &msg, err, sizeof(err)) && err[0]);
	CHECK(!bh_wl_wire_parse(&w, REQ, m.data, 0, &msg, err, sizeof(err)) && err[0]);
	build(&m, SURFACE, WL_SURFACE_COMMIT, "");
	m.data[6] = 4; /* size field 4 on an 8-byte message */
	PARSE_FAIL(&w, REQ, &m, "message size 4 disagrees with its 8 bytes");
	m.data[6] = 0;
	PARSE_FAIL(&w, REQ, &m, "message size 0 disagrees");
	build(&m, SURFACE, WL_SURFACE_COMMIT, "");
	m.data[6] = 10; /* size 10, and 10 bytes given */
	m.len = 10;
	PARSE_FAIL(&w, REQ, &m, "disagrees");
	build(&m, DISPLAY, WL_DISPLAY_GET_REGISTRY, "u", 28);
	m.len = 8; /* the header says 12 */
	PARSE_FAIL(&w, REQ, &m, "message size 12 disagrees with its 8 bytes");
	m.len = 16; /* or more bytes than the header says */
	PARSE_FAIL(&w, REQ, &m, "message size 12 disagrees with its 16 bytes");
	build(&m, 28, 0, "");
	PARSE_FAIL(&w, REQ, &m, "unknown object 28");
	CHECK_USABLE(&w);

	/* A reason that does not fit is cut, still terminated. */
	char small[8];
	memset(small, 'x', sizeof(small));
	build(&m, 555, 0, "");
	CHECK(!bh_wl_wire_parse(&w, REQ, m.data, m.len, &msg, small, sizeof(small)));
	CHECK(memchr(small, '\0', sizeof(small)) != NULL && small[0] != '\0');
	CHECK_USABLE(&w);
	bh_wl_wire_finish(&w);
}

/* The table holds a bounded number of objects; deleting one makes room. */
static void test_object_limit(void)
{
	struct bh_wl_wire w;
	struct wmsg m;
	CHECK(bh_wl_wire_init(&w));
	build(&m, DISPLAY, WL_DISPLAY_GET_REGISTRY, "u", REGISTRY);
	PARSE_OK(&w, REQ, &m);
	build(&m, REGISTRY, WL_REGISTRY_BIND, "usuu", 1, "wl_compositor", 4, COMPOSITOR);
	PARSE_OK(&w, REQ, &m);
	uint32_t id = COMPOSITOR + 1;
	for (;; id++) {
		build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_REGION, "u", id);
		if (!parse(&w, REQ, &m)) {
			break;
		}
	}
	/* display, registry, compositor and the regions: 32768 */
	CHECK_EQ_INT(id, 32769);
	CHECK(strstr(err, "more than 32768 objects") != NULL);
	build(&m, id - 1, 1 /* wl_region.add */, "uuuu", 0, 0, 1, 1);
	PARSE_OK(&w, REQ, &m);
	build(&m, DISPLAY, EV_DISPLAY_DELETE_ID, "u", 100);
	PARSE_OK(&w, EV, &m);
	build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_REGION, "u", id);
	PARSE_OK(&w, REQ, &m);
	build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_REGION, "u", id + 1);
	PARSE_FAIL(&w, REQ, &m, "more than");
	bh_wl_wire_finish(&w);
}

/* More fd-carrying messages than one write takes (28 fds): the first write
 * stops before the message of the 29th fd, so no message arrives without
 * its fd. */
static void test_fd_burst(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	struct bh_wl_conn *conn = calloc(1, sizeof(*conn));
	bh_wl_conn_init(conn, sv[0]);
	uint8_t msg[16] = {0};
	msg[6] = sizeof(msg); /* size in the header's top half */
	for (int i = 0; i < 40; i++) {
		CHECK(bh_wl_conn_queue_fd(conn, dup(sv[1])));
		CHECK(bh_wl_conn_queue(conn, msg, sizeof(msg)));
	}
	CHECK_EQ_INT(bh_wl_conn_flush(conn), 1);
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(64 * sizeof(int))];
	} control;
	uint8_t in[4096];
	struct iovec iov = {.iov_base = in, .iov_len = sizeof(in)};
	struct msghdr m = {.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf)};
	ssize_t n = recvmsg(sv[1], &m, MSG_DONTWAIT);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	size_t fds = c != NULL ? (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0;
	CHECK_EQ_INT(fds, 28);
	CHECK_EQ_INT(n, 28 * (ssize_t)sizeof(msg));
	for (size_t i = 0; i < fds; i++) {
		close(((int *)CMSG_DATA(c))[i]);
	}
	m.msg_controllen = sizeof(control.buf);
	n = recvmsg(sv[1], &m, MSG_DONTWAIT);
	c = CMSG_FIRSTHDR(&m);
	fds = c != NULL ? (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0;
	CHECK_EQ_INT(fds, 12);
	CHECK_EQ_INT(n, 12 * (ssize_t)sizeof(msg));
	for (size_t i = 0; i < fds; i++) {
		close(((int *)CMSG_DATA(c))[i]);
	}
	bh_wl_conn_finish(conn);
	free(conn);
	close(sv[1]);
}

/* A copy is the state it was taken from, and the two go their own ways:
 * what one creates or deletes the other does not see. */
static void test_copy(void)
{
	struct bh_wl_wire w, copy, again;
	struct wmsg m;
	setup(&w);
	build(&m, DDM, WL_DATA_DEVICE_MANAGER_GET_DATA_DEVICE, "uu", 20, SEAT);
	PARSE_OK(&w, REQ, &m);
	build(&m, 20, EV_DATA_DEVICE_DATA_OFFER, "u", SERVER_ID);
	PARSE_OK(&w, EV, &m);
	CHECK(bh_wl_wire_copy(&copy, &w));
	/* the copy knows the surface, the data device and the server's offer */
	build(&m, SURFACE, WL_SURFACE_COMMIT, "");
	PARSE_OK(&copy, REQ, &m);
	build(&m, SERVER_ID, EV_DATA_OFFER_OFFER, "s", "text/plain");
	PARSE_OK(&copy, EV, &m);
	/* an object the copy creates is unknown to the original */
	build(&m, COMPOSITOR, WL_COMPOSITOR_CREATE_SURFACE, "u", 40000);
	PARSE_OK(&copy, REQ, &m);
	build(&m, 40000, WL_SURFACE_COMMIT, "");
	PARSE_OK(&copy, REQ, &m);
	PARSE_FAIL(&w, REQ, &m, "unknown object 40000");
	/* one the original deletes is still in the copy */
	build(&m, DISPLAY, EV_DISPLAY_DELETE_ID, "u", SURFACE);
	PARSE_OK(&w, EV, &m);
	build(&m, SURFACE, WL_SURFACE_COMMIT, "");
	PARSE_FAIL(&w, REQ, &m, "unknown object");
	PARSE_OK(&copy, REQ, &m);
	/* a copy of a copy, its grown table included */
	CHECK(bh_wl_wire_copy(&again, &copy));
	build(&m, 40000, WL_SURFACE_COMMIT, "");
	PARSE_OK(&again, REQ, &m);
	bh_wl_wire_finish(&w);
	bh_wl_wire_finish(&copy);
	CHECK_USABLE(&again);
	bh_wl_wire_finish(&again);
}

int main(void)
{
	test_registry_and_bind();
	test_xdg_shell();
	test_destroy_and_delete_id();
	test_server_ids();
	test_fds();
	test_malformed();
	test_object_limit();
	test_fd_burst();
	test_copy();
	return bh_test_finish("wl_msg");
}
