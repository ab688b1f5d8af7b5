/* The globals a guest client may see and bind, with their version caps
 * (protocols/ALLOWLIST.md says why each one is there). */
#include <string.h>

#include "proxy/relay.h"

/* Sorted by name only for the reader; the list is short. The cap is also
 * limited at run time by the version of our interface tables, so the
 * relay's parser always knows every message a bound object can carry. */
static const struct bh_allowed_global allowed[] = {
	{"wl_compositor", 5},
	{"wl_data_device_manager", 3},
	{"wl_output", 4},
	{"wl_seat", 7},
	{"wl_shm", 1},
	{"wl_subcompositor", 1},
	{"wp_presentation", 1},
	{"wp_viewporter", 1},
	{"xdg_wm_base", 5},
	{"zwp_pointer_constraints_v1", 1},
	{"zwp_primary_selection_device_manager_v1", 1},
	{"zwp_relative_pointer_manager_v1", 1},
	{"zxdg_decoration_manager_v1", 1},
	{"zxdg_output_manager_v1", 3},
};

const struct bh_allowed_global *bh_registry_allowed(const char *interface)
{
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (strcmp(allowed[i].interface, interface) == 0) {
			return &allowed[i];
		}
	}
	return NULL;
}

const struct bh_allowed_global *bh_registry_allowed_at(size_t i)
{
	return i < sizeof(allowed) / sizeof(allowed[0]) ? &allowed[i] : NULL;
}
