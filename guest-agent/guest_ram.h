/* The physical pages of this process' memory, for a host that reads the
 * guest's memory itself (protocols/CHANNEL.md "Guest memory"). */
#ifndef GUEST_AGENT_GUEST_RAM_H
#define GUEST_AGENT_GUEST_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/region.h"

/* A run of guest-physical memory. */
struct bh_gpa_piece {
	uint64_t gpa;
	uint32_t len;
};

/* Writes token into a locked page of its own and gives its physical
 * address; the page stays until bh_agent_guest_ram_probe_end. False, with
 * the reason in why, when this process cannot learn physical addresses
 * (not root, no /proc/self/pagemap). */
bool bh_agent_guest_ram_probe(
	const uint8_t token[BH_REGION_TOKEN_LEN], uint64_t *gpa, char *why, size_t why_size);
void bh_agent_guest_ram_probe_end(void);

/* The physical pieces of [addr, addr + len) of a mapping of this process
 * (faulted in first), adjacent pieces merged, each inside the memory the
 * host reads ([0, low) and [4 GiB, 4 GiB + high)). Their count, 0 when a
 * page has no such address (absent, or elsewhere: hot-plugged memory);
 * *pieces grows as needed (*cap entries). */
size_t bh_agent_guest_ram_pieces(const uint8_t *addr, uint64_t len, uint64_t low, uint64_t high,
	struct bh_gpa_piece **pieces, size_t *cap);

#endif
