/* bind-probe NAME INTERFACE VERSION: binds a global by its numeric name,
 * whether or not the registry showed it to this client, and says whether
 * the compositor let it. Exit 0: refused (a protocol error), 1: bound. */
#include <stdio.h>
#include <stdlib.h>
#include <wayland-client.h>

int main(int argc, char *argv[])
{
	if (argc != 4) {
		fprintf(stderr, "usage: bind-probe NAME INTERFACE VERSION\n");
		return 2;
	}
	struct wl_display *display = wl_display_connect(NULL);
	if (display == NULL) {
		fprintf(stderr, "bind-probe: cannot connect\n");
		return 2;
	}
	/* An interface with the name and version only: nothing is called on it. */
	struct wl_interface iface = {.name = argv[2], .version = atoi(argv[3])};
	struct wl_registry *registry = wl_display_get_registry(display);
	wl_registry_bind(registry, (uint32_t)strtoul(argv[1], NULL, 10), &iface,
		(uint32_t)iface.version);
	if (wl_display_roundtrip(display) < 0) {
		const struct wl_interface *on = NULL;
		uint32_t id = 0;
		int code = wl_display_get_protocol_error(display, &on, &id);
		printf("refused: error %d on %s\n", code, on != NULL ? on->name : "?");
		return 0;
	}
	printf("bound %s\n", argv[2]);
	return 1;
}
