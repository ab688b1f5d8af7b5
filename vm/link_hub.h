/* Starting a link's hub (bulkhead-link-hub) for the tags that start on the
 * link: one per user and link, found by the lock it holds in the runtime
 * directory, replaced when the config names other members. */
#ifndef VM_LINK_HUB_H
#define VM_LINK_HUB_H

#include <stdbool.h>
#include <stddef.h>

#include "vm/link.h"

/* The user's link start lock, held from before a tag's hubs are ensured
 * until its qemu has bound its link ports: a hub that finds no member
 * running takes it before it ends, so a start never counts on a hub that
 * is going. Returns the fd for bh_link_start_unlock, or -1 with a sentence
 * naming tag in error. */
int bh_link_start_lock(const char *tag, char *error, size_t error_size);
void bh_link_start_unlock(int fd);

/* Makes sure the hub of link runs for exactly the n members tags (whose
 * ends are members, bh_link_plan), starting it or replacing one that
 * serves other members. Call with the start lock held. False with one
 * line naming tag and link in error. */
bool bh_link_hub_ensure(const char *tag, const char *link, const char *const tags[],
	const struct bh_link_member members[], unsigned n, char *error, size_t error_size);

#endif
