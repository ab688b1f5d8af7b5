/* The tag's shared region in the guest (common/region.h): found and mapped
 * when the host offers it (BH_CTL_REGION), checked against the header the
 * host wrote. */
#ifndef GUEST_AGENT_REGION_H
#define GUEST_AGENT_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/region.h"

/* Maps the region of size bytes whose header holds token: fd, when the
 * host sent one over a unix channel (taken, closed on every path), else
 * the VM's ivshmem-plain device (PCI 1af4:1110, its BAR 2 through sysfs).
 * NULL with the reason in why when there is none that matches. */
uint8_t *bh_agent_region_map(
	int fd, uint64_t size, const uint8_t token[BH_REGION_TOKEN_LEN], char *why, size_t why_size);
void bh_agent_region_unmap(uint8_t *map, uint64_t size);

#endif
