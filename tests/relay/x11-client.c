/* X11 clients for the guest Xwayland tests (xcb):
 *   x11-client menu     a grey 300x200 top-level (class X11Menu) and, once
 *                       it is mapped, an override-redirect "menu" of
 *                       120x80 pure green at +40,+30 from its corner; runs
 *                       until killed.
 *   x11-client fullscreen  a top-level (class X11Full) that asks for
 *                       fullscreen (_NET_WM_STATE) once mapped; runs until
 *                       killed.
 *   x11-client flood N  maps N top-levels at once, then waits 6 s and exits.
 *   x11-client hostile  a top-level with hostile properties (a title of
 *                       invalid UTF-8 and control bytes far over any limit,
 *                       a WM_CLASS without its NULs, short size hints, a
 *                       transient-for of itself), forged WL_SURFACE_ID
 *                       messages to the root, then malformed requests on
 *                       the raw socket; exits 0 once the server cut it off.
 * Prints "mapped" (menu, hostile) when its top-level is up. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <xcb/xcb.h>

static xcb_atom_t atom(xcb_connection_t *c, const char *name)
{
	xcb_intern_atom_reply_t *r =
		xcb_intern_atom_reply(c, xcb_intern_atom(c, 0, strlen(name), name), NULL);
	xcb_atom_t a = r != NULL ? r->atom : XCB_ATOM_NONE;
	free(r);
	return a;
}

static xcb_window_t toplevel(xcb_connection_t *c, xcb_screen_t *s, int w, int h, uint32_t pixel,
	const char *title, const char *class, size_t class_len)
{
	xcb_window_t win = xcb_generate_id(c);
	const uint32_t values[] = {
		pixel, XCB_EVENT_MASK_STRUCTURE_NOTIFY | XCB_EVENT_MASK_EXPOSURE};
	xcb_create_window(c, XCB_COPY_FROM_PARENT, win, s->root, 0, 0, (uint16_t)w, (uint16_t)h, 0,
		XCB_WINDOW_CLASS_INPUT_OUTPUT, s->root_visual,
		XCB_CW_BACK_PIXEL | XCB_CW_EVENT_MASK, values);
	xcb_change_property(c, XCB_PROP_MODE_REPLACE, win, XCB_ATOM_WM_NAME, XCB_ATOM_STRING, 8,
		(uint32_t)strlen(title), title);
	xcb_change_property(c, XCB_PROP_MODE_REPLACE, win, XCB_ATOM_WM_CLASS, XCB_ATOM_STRING, 8,
		(uint32_t)class_len, class);
	return win;
}

static void wait_mapped(xcb_connection_t *c, xcb_window_t win)
{
	xcb_generic_event_t *ev;
	while ((ev = xcb_wait_for_event(c)) != NULL) {
		uint8_t type = ev->response_type & 0x7f;
		bool done = type == XCB_MAP_NOTIFY && ((xcb_map_notify_event_t *)ev)->window == win;
		free(ev);
		if (done) {
			return;
		}
	}
	fprintf(stderr, "x11-client: the connection ended before the window mapped\n");
	exit(1);
}

static int menu(xcb_connection_t *c, xcb_screen_t *s)
{
	xcb_window_t top =
		toplevel(c, s, 300, 200, 0x808080, "x11 menu test", "x11menu\0X11Menu", 16);
	xcb_map_window(c, top);
	xcb_flush(c);
	wait_mapped(c, top);
	printf("mapped\n");
	fflush(stdout);
	sleep(1);
	/* The menu goes where the top-level is in X's root, plus the offset. */
	xcb_translate_coordinates_reply_t *t = xcb_translate_coordinates_reply(
		c, xcb_translate_coordinates(c, top, s->root, 0, 0), NULL);
	int16_t x = t != NULL ? t->dst_x : 0, y = t != NULL ? t->dst_y : 0;
	free(t);
	xcb_window_t m = xcb_generate_id(c);
	const uint32_t values[] = {0x00ff00, 1};
	xcb_create_window(c, XCB_COPY_FROM_PARENT, m, s->root, (int16_t)(x + 40), (int16_t)(y + 30),
		120, 80, 0, XCB_WINDOW_CLASS_INPUT_OUTPUT, s->root_visual,
		XCB_CW_BACK_PIXEL | XCB_CW_OVERRIDE_REDIRECT, values);
	xcb_change_property(c, XCB_PROP_MODE_REPLACE, m, XCB_ATOM_WM_TRANSIENT_FOR, XCB_ATOM_WINDOW,
		32, 1, &top);
	xcb_map_window(c, m);
	xcb_flush(c);
	printf("menu at %d,%d\n", x + 40, y + 30);
	fflush(stdout);
	xcb_generic_event_t *ev;
	while ((ev = xcb_wait_for_event(c)) != NULL) {
		free(ev);
	}
	return 0;
}

static int fullscreen(xcb_connection_t *c, xcb_screen_t *s)
{
	xcb_window_t top =
		toplevel(c, s, 200, 150, 0x404040, "x11 fullscreen", "full\0X11Full", 13);
	xcb_map_window(c, top);
	xcb_flush(c);
	wait_mapped(c, top);
	sleep(1);
	xcb_client_message_event_t ev = {
		.response_type = XCB_CLIENT_MESSAGE,
		.format = 32,
		.window = top,
		.type = atom(c, "_NET_WM_STATE"),
	};
	ev.data.data32[0] = 1; /* add */
	ev.data.data32[1] = atom(c, "_NET_WM_STATE_FULLSCREEN");
	xcb_send_event(c, 0, s->root,
		XCB_EVENT_MASK_SUBSTRUCTURE_REDIRECT | XCB_EVENT_MASK_SUBSTRUCTURE_NOTIFY,
		(const char *)&ev);
	xcb_flush(c);
	printf("asked\n");
	fflush(stdout);
	xcb_generic_event_t *e;
	while ((e = xcb_wait_for_event(c)) != NULL) {
		free(e);
	}
	return 0;
}

static int flood(xcb_connection_t *c, xcb_screen_t *s, int n)
{
	for (int i = 0; i < n; i++) {
		char title[32];
		snprintf(title, sizeof(title), "flood %d", i);
		xcb_window_t w = toplevel(c, s, 40, 30, 0x0000ff, title, "flood\0X11Flood", 14);
		xcb_map_window(c, w);
	}
	xcb_flush(c);
	printf("mapped %d\n", n);
	fflush(stdout);
	sleep(6);
	return 0;
}

static int hostile(xcb_connection_t *c, xcb_screen_t *s)
{
	/* 64 KiB of invalid UTF-8 and control bytes as the title. */
	size_t len = 64 * 1024;
	char *junk = malloc(len);
	for (size_t i = 0; i < len; i++) {
		junk[i] = (char)(i % 3 == 0 ? 0xff : i % 3 == 1 ? 0x01 : 0xc3);
	}
	xcb_window_t win = toplevel(c, s, 200, 100, 0xff00ff, "hostile", "no-nul-class", 12);
	xcb_change_property(c, XCB_PROP_MODE_REPLACE, win, atom(c, "_NET_WM_NAME"),
		atom(c, "UTF8_STRING"), 8, (uint32_t)len, junk);
	free(junk);
	const uint32_t hints[3] = {0xffffffff, 1, 2};
	xcb_change_property(c, XCB_PROP_MODE_REPLACE, win, XCB_ATOM_WM_NORMAL_HINTS,
		XCB_ATOM_WM_SIZE_HINTS, 32, 3, hints);
	xcb_change_property(c, XCB_PROP_MODE_REPLACE, win, XCB_ATOM_WM_TRANSIENT_FOR,
		XCB_ATOM_WINDOW, 32, 1, &win);
	xcb_map_window(c, win);
	xcb_flush(c);
	wait_mapped(c, win);
	printf("mapped\n");
	fflush(stdout);
	/* Forged surface ids: the window manager must take them only from
	 * Xwayland, never from a client's SendEvent. */
	xcb_atom_t surface_id = atom(c, "WL_SURFACE_ID");
	const uint32_t forged[] = {1, 2, 3, 0xfeffffff, 0xff000001};
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		xcb_client_message_event_t ev = {
			.response_type = XCB_CLIENT_MESSAGE,
			.format = 32,
			.window = win,
			.type = surface_id,
		};
		ev.data.data32[0] = forged[i];
		xcb_send_event(c, 0, s->root,
			XCB_EVENT_MASK_SUBSTRUCTURE_REDIRECT | XCB_EVENT_MASK_SUBSTRUCTURE_NOTIFY,
			(const char *)&ev);
	}
	xcb_flush(c);
	sleep(1);
	/* Malformed requests on the socket: a request of length 0, then
	 * noise; the server answers with errors and reads on. */
	int fd = xcb_get_file_descriptor(c);
	const uint8_t bad[] = {18 /* ChangeProperty */, 0, 0, 0};
	uint8_t noise[4096];
	for (size_t i = 0; i < sizeof(noise); i++) {
		noise[i] = (uint8_t)(i * 37 + 11);
	}
	if (write(fd, bad, sizeof(bad)) != (ssize_t)sizeof(bad) ||
		write(fd, noise, sizeof(noise)) != (ssize_t)sizeof(noise)) {
		printf("cut off\n");
		return 0;
	}
	/* And a connection whose set-up is garbage: the server ends it. */
	const char *display = getenv("DISPLAY");
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "/tmp/.X11-unix/X%d",
		display != NULL && display[0] == ':' ? atoi(display + 1) : 0);
	int raw = socket(AF_UNIX, SOCK_STREAM, 0);
	if (raw < 0 || connect(raw, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("x11-client: raw connection");
		return 1;
	}
	if (write(raw, noise, 64) < 0) {
		printf("cut off\n");
		return 0;
	}
	struct timeval tv = {.tv_sec = 10};
	setsockopt(raw, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n;
	while ((n = read(raw, noise, sizeof(noise))) > 0) {
	}
	printf("%s\n", n == 0 ? "cut off" : "still connected");
	close(raw);
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc < 2) {
		fprintf(stderr, "usage: x11-client menu | fullscreen | flood N | hostile\n");
		return 2;
	}
	xcb_connection_t *c = xcb_connect(NULL, NULL);
	if (xcb_connection_has_error(c)) {
		fprintf(stderr, "x11-client: cannot connect to the X display\n");
		return 1;
	}
	xcb_screen_t *s = xcb_setup_roots_iterator(xcb_get_setup(c)).data;
	int rc = 2;
	if (strcmp(argv[1], "menu") == 0) {
		rc = menu(c, s);
	} else if (strcmp(argv[1], "fullscreen") == 0) {
		rc = fullscreen(c, s);
	} else if (strcmp(argv[1], "flood") == 0 && argc == 3) {
		rc = flood(c, s, atoi(argv[2]));
	} else if (strcmp(argv[1], "hostile") == 0) {
		rc = hostile(c, s);
	} else {
		fprintf(stderr, "x11-client: unknown mode %s\n", argv[1]);
	}
	xcb_disconnect(c);
	return rc;
}
