/* A tag's shared region: memory both the guest and the host compositor map
 * (an ivshmem-plain device in a VM, a sealed memfd passed over a unix
 * channel), where the agent copies guest buffers once and from which the
 * compositor reads them without a copy (protocols/CHANNEL.md "Shared
 * region").
 *
 * Layout: one header page the host writes (magic, size, a random token the
 * agent reads back to prove it maps the same memory), then slots, one per
 * guest wl_buffer, page-aligned. The host never reads anything else of the
 * region; every slot the agent names is checked against it. */
#ifndef COMMON_REGION_H
#define COMMON_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BH_REGION_MAGIC "BHREGN01"
#define BH_REGION_TOKEN_LEN 16
#define BH_REGION_HEADER 4096u /* bytes before the first slot */
#define BH_REGION_ALIGN 4096u  /* slots start on pages */
/* The default (bulkhead(5) shm-size): two 3840x2160 windows, each double
 * buffered (4 x 33 MB), and room for the rest. ivshmem wants a power of
 * two. */
#define BH_REGION_DEFAULT_MIB 256u
#define BH_REGION_MIN_MIB 4u
#define BH_REGION_MAX_MIB 1024u /* a wl_shm pool's size is an int32 */

/* Header fields, at these offsets of the first page. */
#define BH_REGION_OFF_MAGIC 0
#define BH_REGION_OFF_SIZE 8
#define BH_REGION_OFF_TOKEN 16

/* Writes the header into a mapping of the region (host). */
void bh_region_write_header(uint8_t *map, uint64_t size, const uint8_t token[BH_REGION_TOKEN_LEN]);
/* True if map (of map_size bytes) holds a header for size and token
 * (agent). */
bool bh_region_header_matches(const volatile uint8_t *map, uint64_t map_size, uint64_t size,
	const uint8_t token[BH_REGION_TOKEN_LEN]);

/*
 * The slots in use, as [offset, offset + len) ranges with an owner. The
 * agent allocates from it (first fit); the host claims what the agent names
 * and refuses a range that overlaps one still in use (a slot reused before
 * its buffer was destroyed).
 */
struct bh_region_slot {
	uint64_t offset, len;
	const void *owner;
};

struct bh_region_slots {
	uint64_t size; /* of the region; slots lie in [BH_REGION_HEADER, size) */
	struct bh_region_slot *slots; /* sorted by offset, never overlapping */
	size_t count, cap;
	uint64_t used; /* bytes of all slots */
};

void bh_region_slots_init(struct bh_region_slots *s, uint64_t size);
void bh_region_slots_finish(struct bh_region_slots *s);
/* A free slot of len bytes (rounded up to BH_REGION_ALIGN) for owner: its
 * offset, or 0 when the region has no such gap (or len is 0 or too big). */
uint64_t bh_region_slot_alloc(struct bh_region_slots *s, uint64_t len, const void *owner);
/* Takes [offset, offset + len) for owner. False, with the reason in err,
 * if it is not inside the region's slot area, not page-aligned, or
 * overlaps a slot in use. */
bool bh_region_slot_claim(struct bh_region_slots *s, uint64_t offset, uint64_t len,
	const void *owner, char *err, size_t err_size);
/* Whether [offset, offset + len) lies inside one slot (len > 0). */
bool bh_region_slot_holds(const struct bh_region_slots *s, uint64_t offset, uint64_t len);
/* Gives back the slot at offset, if owner has it; false if it has not. */
bool bh_region_slot_release(struct bh_region_slots *s, uint64_t offset, const void *owner);
/* Gives back every slot of owner (a client that ended). */
void bh_region_slots_release_owner(struct bh_region_slots *s, const void *owner);

/* The bytes a wl_shm buffer of these arguments spans (stride * height),
 * or 0 with the reason in err when they are not a buffer: width, height
 * and stride positive, stride at least width (as libwayland checks; the
 * format's own minimum is the compositor's to check), and the product
 * within a pool's limit. */
uint64_t bh_region_buffer_span(int32_t width, int32_t height, int32_t stride, char *err,
	size_t err_size);

#endif
