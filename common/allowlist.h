/* The globals a guest client may see and bind, with their version caps: the
 * one list the compositor's global filter, the proxy's registry filter and
 * the relay's message walker all read (protocols/ALLOWLIST.md says why each
 * one is there). */
#ifndef COMMON_ALLOWLIST_H
#define COMMON_ALLOWLIST_H

#include <stddef.h>
#include <stdint.h>

struct wl_interface;

struct bh_guest_global {
	const struct wl_interface *interface;
	uint32_t cap; /* ALLOWLIST.md's */
};

/* The entry for the interface named name, NULL if guests may not see it. */
const struct bh_guest_global *bh_guest_global_find(const char *name);
/* Entry i, NULL past the end (for tests and docs). */
const struct bh_guest_global *bh_guest_global_at(size_t i);
/* The highest version a guest may bind: the cap, lowered to the version of
 * the interface tables the relay parses with, so every message of a bound
 * object can be checked. */
uint32_t bh_guest_global_version(const struct bh_guest_global *global);

#endif
