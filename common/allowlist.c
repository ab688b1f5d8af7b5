/* The guest globals allowlist (see allowlist.h). */
#include <string.h>

#include <wayland-client-protocol.h>

#include "pointer-constraints-unstable-v1-client-protocol.h"
#include "presentation-time-client-protocol.h"
#include "primary-selection-unstable-v1-client-protocol.h"
#include "relative-pointer-unstable-v1-client-protocol.h"
#include "viewporter-client-protocol.h"
#include "xdg-decoration-unstable-v1-client-protocol.h"
#include "xdg-output-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

#include "common/allowlist.h"

/* In the order of protocols/ALLOWLIST.md. Everything else (linux-dmabuf,
 * screencopy, virtual input, layer shell, data control, xdg-activation…)
 * is hidden and refused. */
static const struct bh_guest_global globals[] = {
	{&wl_compositor_interface, 5},
	{&wl_subcompositor_interface, 1},
	{&wl_shm_interface, 1},
	{&wl_seat_interface, 7},
	{&wl_output_interface, 4},
	{&wl_data_device_manager_interface, 3},
	{&xdg_wm_base_interface, 5},
	{&zxdg_decoration_manager_v1_interface, 1},
	{&wp_viewporter_interface, 1},
	{&wp_presentation_interface, 1},
	{&zxdg_output_manager_v1_interface, 3},
	{&zwp_primary_selection_device_manager_v1_interface, 1},
	{&zwp_relative_pointer_manager_v1_interface, 1},
	{&zwp_pointer_constraints_v1_interface, 1},
};

const struct bh_guest_global *bh_guest_global_at(size_t i)
{
	return i < sizeof(globals) / sizeof(globals[0]) ? &globals[i] : NULL;
}

const struct bh_guest_global *bh_guest_global_find(const char *name)
{
	const struct bh_guest_global *g;
	for (size_t i = 0; (g = bh_guest_global_at(i)) != NULL; i++) {
		if (strcmp(g->interface->name, name) == 0) {
			return g;
		}
	}
	return NULL;
}

uint32_t bh_guest_global_version(const struct bh_guest_global *global)
{
	uint32_t table = (uint32_t)global->interface->version;
	return global->cap < table ? global->cap : table;
}
