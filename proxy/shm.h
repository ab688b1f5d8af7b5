/* The host pools of one guest client: memfds backing the host-side wl_shm
 * pools, written with the buffer contents the agent sends after bounds
 * checks. A pool lives while its wl_shm_pool or any wl_buffer made from it
 * does (refs). */
#ifndef PROXY_SHM_H
#define PROXY_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/region.h"

struct bh_host_pool {
	uint32_t serial; /* the agent's number (BH_RELAY_FD_SHM) */
	int fd;          /* memfd; a dup goes to the compositor */
	uint8_t *map;    /* all of it, written with memcpy */
	uint64_t size;
	int refs;
};

struct bh_host_pools {
	struct bh_host_pool *pools;
	size_t count, cap;
	uint64_t total; /* bytes of all live pools */
};

void bh_host_pools_finish(struct bh_host_pools *pools);
/* Makes the memfd of a new pool. False with a reason in err (limits, a
 * serial already in use, or a system error). */
struct bh_host_pool *bh_host_pool_create(
	struct bh_host_pools *pools, uint32_t serial, uint64_t size, char *err, size_t err_size);
struct bh_host_pool *bh_host_pool_find(struct bh_host_pools *pools, uint32_t serial);
/* Grows a pool (never shrinks it). */
bool bh_host_pool_resize(struct bh_host_pools *pools, struct bh_host_pool *pool, uint64_t size,
	char *err, size_t err_size);
/* Where len bytes at offset of the pool are, or NULL (err says why) when
 * they do not all lie inside it. */
uint8_t *bh_host_pool_span(
	struct bh_host_pool *pool, uint64_t offset, size_t len, char *err, size_t err_size);
void bh_host_pool_unref(struct bh_host_pools *pools, struct bh_host_pool *pool);

/* The tag's shared region as the proxy holds it (common/region.h): the
 * file is the host's (a sealed memfd, or the VM's /dev/shm file that no
 * guest can truncate); a dup of fd backs every region pool the compositor
 * gets. */
struct bh_host_region {
	int fd;
	uint64_t size;
	uint8_t token[BH_REGION_TOKEN_LEN];
	bool memfd;  /* made here, sent to the agent (unix channels) */
	bool active; /* the agent said it maps it */
	uint32_t agent_caps; /* of the agent's hello */
	/* The region read-write, while guest memory is copied into it. */
	uint8_t *map;
	/* The VM's memory, read-only (proxy/guest_ram.c): qemu's shared
	 * memfd, sealed against shrinking. ram.map NULL: none. */
	struct bh_guest_ram {
		int fd;
		const uint8_t *map;
		uint64_t size;
		uint64_t low; /* bytes at guest-physical 0; the rest from 4 GiB */
		uint8_t token[BH_REGION_TOKEN_LEN];
		bool offered; /* BH_CTL_GUEST_RAM sent, its probe not yet answered */
		bool on;      /* the probe found the token: BH_RELAY_SHM_GPA allowed */
	} ram;
};

/* A new region of size bytes in a memfd sealed at that size (for a unix
 * channel: sent to the agent with the hello). */
bool bh_host_region_create(struct bh_host_region *region, uint64_t size, char *err,
	size_t err_size);
/* The region of a VM: the existing file at path, at least size bytes. */
bool bh_host_region_open(struct bh_host_region *region, const char *path, uint64_t size,
	char *err, size_t err_size);
void bh_host_region_finish(struct bh_host_region *region);

/* The offer, in the order the channel sees it: the hello's capability
 * bit; on connecting, the memfd rides on the first bytes; after the
 * agent's hello (its capabilities), BH_CTL_REGION when both can, else the
 * log says why window contents take the channel; the agent's
 * BH_CTL_REGION_STATUS makes the region active (false: malformed). */
struct bh_endpoint;
struct bh_msg_reader;
uint32_t bh_host_region_caps(const struct bh_host_region *region);
void bh_host_region_connected(struct bh_host_region *region, struct bh_endpoint *endpoint);
/* (BH_CTL_REGION_STATUS that says used sends BH_CTL_GUEST_RAM when the
 * proxy holds the VM's memory and the agent said it can use it.) */
void bh_host_region_offer(struct bh_host_region *region, struct bh_endpoint *endpoint,
	uint32_t agent_caps, const char *tag);
bool bh_host_region_status(struct bh_host_region *region, struct bh_endpoint *endpoint,
	struct bh_msg_reader *reader, const char *tag);

/* proxy/guest_ram.c. Opens the memory of the VM whose qemu has pid: its
 * memfd of ram_size bytes, which must be sealed against shrinking, and
 * maps the region read-write to copy into. False, with the reason in err,
 * when it cannot (the region stays as it was). */
bool bh_guest_ram_open(
	struct bh_host_region *region, int qemu_pid, uint64_t ram_size, char *err, size_t err_size);
/* The pid in libvirt's pid file of a domain of this user's session, or -1. */
int bh_guest_ram_qemu_pid(const char *domain);
void bh_guest_ram_finish(struct bh_host_region *region);
/* Where [gpa, gpa + len) of guest memory is in ram's mapping, or NULL with
 * the reason in err when not all of it is guest memory the host holds. */
const uint8_t *bh_guest_ram_span(
	const struct bh_guest_ram *ram, uint64_t gpa, uint64_t len, char *err, size_t err_size);
/* Sends BH_CTL_GUEST_RAM with a fresh token. */
void bh_guest_ram_offer(
	struct bh_host_region *region, struct bh_endpoint *endpoint, const char *tag);
/* BH_CTL_GUEST_RAM_PROBE: turns the path on (and says so to the agent) if
 * the page named holds the token; false if the message is malformed or
 * was not asked for. */
bool bh_guest_ram_probe(struct bh_host_region *region, struct bh_endpoint *endpoint,
	struct bh_msg_reader *reader, const char *tag);

#endif
