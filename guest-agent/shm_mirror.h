/* The agent's mirror of one guest client's shm pool: what the host pool
 * holds, so that a commit sends only the bytes that changed. */
#ifndef GUEST_AGENT_SHM_MIRROR_H
#define GUEST_AGENT_SHM_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bh_borrow;

/* One guest pool. */
struct bh_shm_mirror {
	uint32_t serial; /* the number the host knows the pool by */
	int fd;          /* the client's fd */
	uint8_t *map;    /* the client's pool, read-only */
	/* map's owner: queued frames may borrow its bytes (bh_shm_mirror_borrow),
	 * so a resize maps anew and the old mapping goes with its last frame. */
	struct bh_mirror_map *mapping;
	uint8_t *copy; /* what the host pool holds */
	uint64_t size;
	int refs; /* the wl_shm_pool and each of its wl_buffers */
	/* The byte ranges of the last BH_MIRROR_SYNC_LOG syncs, so a buffer
	 * synced earlier knows whether another buffer overwrote its part of
	 * the host pool since (then it is compared whole). */
	uint32_t syncs;
#define BH_MIRROR_SYNC_LOG 8
	uint64_t sync_lo[BH_MIRROR_SYNC_LOG], sync_hi[BH_MIRROR_SYNC_LOG];
	/* Per region of BH_MIRROR_REGION bytes: whether its last compare found
	 * it (nearly) all changed, then it is sent without compare for a few
	 * syncs while the copy there is stale (shm_mirror.c). NULL until a
	 * region gets hot. */
#define BH_MIRROR_REGION (64u * 1024u)
	uint8_t *region;
	/* Set by the caller for the syncs of one commit: at least 7/8 of the
	 * buffer's rows changed. Regions turn hot only in such commits. */
	bool whole_frame;
	/* The pool's buffers live in slots of the tag's shared region: no copy
	 * is kept (copy stays NULL), bh_shm_mirror_copy_out writes the slots. */
	bool in_region;
};

/* Maps fd (owned from now on, also on failure) and, unless in_region,
 * makes a zeroed copy. */
bool bh_shm_mirror_init(
	struct bh_shm_mirror *m, uint32_t serial, int fd, uint64_t size, bool in_region);
/* Grows the mapping and the copy to size. */
bool bh_shm_mirror_resize(struct bh_shm_mirror *m, uint64_t size);
void bh_shm_mirror_finish(struct bh_shm_mirror *m);

/* Where channel frames may borrow the bytes of m->map (valid until the
 * mirror is resized or finished, and until every borrowing frame is gone);
 * its faulted flag set means the client's file shrank under such a frame. */
struct bh_borrow *bh_shm_mirror_borrow(struct bh_shm_mirror *m);

/* Receives one changed span (bytes are the mirror's copy or, in a region
 * sent without compare, its mapping of the client's pool; valid during the
 * call); false stops the sync. */
typedef bool (*bh_shm_mirror_emit_fn)(
	uint32_t serial, uint64_t offset, const uint8_t *bytes, size_t len, void *data);
/* Compares [offset, offset+len) of the client's pool with the copy and
 * emits every changed span (nearby spans merged), updating the copy. The
 * range is clamped to the pool. False if emit failed or the client's file
 * no longer covers the range. */
bool bh_shm_mirror_sync(struct bh_shm_mirror *m, uint64_t offset, uint64_t len,
	bh_shm_mirror_emit_fn emit, void *data);

/* Copies [offset, offset+len) of the client's pool to dest (a slot of the
 * shared region): the one copy a frame costs. False if the client's file
 * no longer covers the range (it shrank it: the client is ended). */
bool bh_shm_mirror_copy_out(struct bh_shm_mirror *m, uint64_t offset, uint64_t len, uint8_t *dest);

#endif
