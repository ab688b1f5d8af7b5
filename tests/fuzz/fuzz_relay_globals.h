/* The globals fuzz_relay's compositor shows (registry names from 1), which
 * its dictionary binds: one list for the target and the generator. */
#ifndef TESTS_FUZZ_FUZZ_RELAY_GLOBALS_H
#define TESTS_FUZZ_FUZZ_RELAY_GLOBALS_H

#include <stdint.h>

struct fuzz_relay_global {
	const char *interface;
	uint32_t version;
};

static const struct fuzz_relay_global fuzz_relay_globals[] = {
	{"wl_compositor", 4},
	{"wl_shm", 1},
	{"xdg_wm_base", 3},
	{"wl_seat", 7},
	{"zwp_linux_dmabuf_v1", 3},
	{"wl_data_device_manager", 3},
};

#define FUZZ_RELAY_NGLOBALS (sizeof(fuzz_relay_globals) / sizeof(fuzz_relay_globals[0]))

#endif
