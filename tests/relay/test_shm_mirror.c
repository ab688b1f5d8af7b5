/* The agent's shm mirror: only changed bytes are emitted (nearby spans
 * merged), the copy follows the pool, resize keeps contents, a client
 * that shrinks its file mid-read ends that sync instead of the agent, and
 * a mapping frames still borrow outlives a resize and the mirror. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/endpoint.h"
#include "guest-agent/shm_mirror.h"
#include "tests/test.h"

#define PAGE 4096

static size_t spans, bytes;
static int shrink_fd = -1;
static uint8_t seen[3 * PAGE];

static bool emit(uint32_t serial, uint64_t offset, const uint8_t *data, size_t len, void *user)
{
	spans++;
	bytes += len;
	memcpy(seen + offset, data, len);
	if (shrink_fd >= 0) {
		/* the client shrinks its file while the agent reads it */
		if (ftruncate(shrink_fd, 0) < 0) {
			return false;
		}
		shrink_fd = -1;
	}
	return true;
}

/* Random writes and random sync ranges: what the host rebuilds from the
 * emitted spans equals the client's bytes over every range synced, and
 * little more than what changed is sent. */
static uint8_t *host_copy;
static size_t host_sent;

static const uint8_t *client_map;
static size_t client_size, streamed;

static bool emit_host(uint32_t serial, uint64_t offset, const uint8_t *data, size_t len, void *user)
{
	memcpy(host_copy + offset, data, len);
	host_sent += len;
	if (data >= client_map && data < client_map + client_size) {
		streamed += len; /* sent straight from the client (a hot region) */
	}
	return true;
}

static void test_random_round_trips(void)
{
	const size_t size = 256 * 1024;
	int fd = memfd_create("pool", MFD_CLOEXEC);
	CHECK(ftruncate(fd, (off_t)size) == 0);
	uint8_t *w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	host_copy = calloc(1, size);
	struct bh_shm_mirror m;
	CHECK(bh_shm_mirror_init(&m, 1, dup(fd), size, false));
	unsigned seed = 1;
	size_t bad = 0, changed = 0;
	host_sent = 0;
	for (int it = 0; it < 2000; it++) {
		int writes = (int)(rand_r(&seed) % 12);
		for (int j = 0; j < writes; j++) {
			size_t o = rand_r(&seed) % size;
			size_t l = rand_r(&seed) % (it % 3 == 0 ? 3000 : 70);
			if (o + l > size) {
				l = size - o;
			}
			for (size_t q = 0; q < l; q++) {
				w[o + q] = (uint8_t)rand_r(&seed);
			}
			changed += l;
		}
		size_t so = rand_r(&seed) % size;
		size_t sl = it % 2 ? size - so : rand_r(&seed) % (size - so + 1);
		if (it % 4 == 1) {
			so = 0;
			sl = size;
		}
		CHECK(bh_shm_mirror_sync(&m, so, sl, emit_host, NULL));
		bad += memcmp(host_copy + so, w + so, sl) != 0;
	}
	CHECK_EQ_INT(bad, 0);
	/* Spans merge over gaps of at most 64 bytes: never much more than
	 * what was written is sent. */
	CHECK(host_sent <= changed + changed / 2 + 2000 * 128);

	/* Now every byte changes at most syncs (a video): regions turn hot and
	 * are sent without compare, the copy goes stale there and is refreshed
	 * later; some rounds change a little, some sync only part. The host
	 * must follow the client exactly all along. */
	client_map = m.map;
	client_size = size;
	streamed = 0;
	bad = 0;
	for (int it = 0; it < 120; it++) {
		if (it % 7 == 3) {
			size_t o = rand_r(&seed) % size;
			w[o] ^= 0x5a;
		} else {
			uint32_t x = rand_r(&seed);
			for (size_t q = 0; q + 4 <= size; q += 4) {
				x = x * 1664525u + 1013904223u;
				memcpy(w + q, &x, 4);
			}
		}
		size_t so = 0, sl = size;
		m.whole_frame = true;
		if (it % 5 == 4) {
			so = rand_r(&seed) % size;
			sl = rand_r(&seed) % (size - so + 1);
			/* A part of the buffer: hot regions are refreshed, not
			 * streamed, unless the caller says the commit was whole. */
			m.whole_frame = it % 2 == 0;
		}
		CHECK(bh_shm_mirror_sync(&m, so, sl, emit_host, NULL));
		bad += memcmp(host_copy + so, w + so, sl) != 0;
		/* A whole sync now and then: everything is in step again. */
		if (it % 11 == 10) {
			CHECK(bh_shm_mirror_sync(&m, 0, size, emit_host, NULL));
			bad += memcmp(host_copy, w, size) != 0;
		}
	}
	CHECK_EQ_INT(bad, 0);
	/* The hot path ran: much was sent straight from the client. */
	fprintf(stderr, "streamed %zu sizes\n", streamed / size);
	CHECK(streamed > 10 * size);
	/* Growing the pool keeps the regions' state in step. */
	CHECK(ftruncate(fd, (off_t)(2 * size)) == 0);
	CHECK(bh_shm_mirror_resize(&m, 2 * size));
	uint8_t *w2 = mmap(NULL, 2 * size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	uint8_t *h2 = calloc(1, 2 * size);
	memcpy(h2, host_copy, size);
	free(host_copy);
	host_copy = h2;
	memset(w2 + size / 2, 0x33, size);
	CHECK(bh_shm_mirror_sync(&m, 0, 2 * size, emit_host, NULL));
	CHECK(memcmp(host_copy, w2, 2 * size) == 0);
	munmap(w2, 2 * size);
	bh_shm_mirror_finish(&m);
	munmap(w, size);
	free(host_copy);
	close(fd);
}

/* A client going back to bytes the stale copy still holds: after a hot
 * region was streamed, a partial refresh must not make the region's copy
 * count as current, or a later compare would miss the change back. */
static void test_revert_after_partial_refresh(void)
{
	const size_t size = 2 * BH_MIRROR_REGION;
	int fd = memfd_create("pool", MFD_CLOEXEC);
	CHECK(ftruncate(fd, (off_t)size) == 0);
	uint8_t *w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	host_copy = calloc(1, size);
	struct bh_shm_mirror m;
	CHECK(bh_shm_mirror_init(&m, 1, dup(fd), size, false));
	m.whole_frame = true;
	memset(w, 0x11, size); /* X: everything changed, the regions turn hot */
	CHECK(bh_shm_mirror_sync(&m, 0, size, emit_host, NULL));
	memset(w, 0x22, size); /* Y: streamed, refreshed whole, compared */
	for (int i = 0; i < 12; i++) {
		CHECK(bh_shm_mirror_sync(&m, 0, size, emit_host, NULL));
	}
	/* Hot again from a compare that finds all changed, then streamed. */
	memset(w, 0x33, size);
	CHECK(bh_shm_mirror_sync(&m, 0, size, emit_host, NULL));
	for (int i = 0; i < 8; i++) {
		memset(w, 0x44 + i, size);
		CHECK(bh_shm_mirror_sync(&m, 0, size, emit_host, NULL));
	}
	/* The streak is over: the next sync of region 0 refreshes; do only
	 * half of it. */
	CHECK(bh_shm_mirror_sync(&m, 0, BH_MIRROR_REGION / 2, emit_host, NULL));
	/* The client writes back what the copy held before the streak. */
	memset(w + BH_MIRROR_REGION / 2, 0x33, BH_MIRROR_REGION / 2);
	CHECK(bh_shm_mirror_sync(&m, 0, size, emit_host, NULL));
	CHECK(memcmp(host_copy, w, size) == 0);
	bh_shm_mirror_finish(&m);
	munmap(w, size);
	free(host_copy);
	close(fd);
}

static bool mapped(const void *p)
{
	return msync((void *)((uintptr_t)p & ~(uintptr_t)(PAGE - 1)), PAGE, MS_ASYNC) == 0;
}

/* Frames queued on the channel may still point into the mapping when the
 * client grows its pool or goes: the old mapping stays until the last
 * such frame lets go; a borrow found faulted ends the next sync. */
static void test_borrowed_mapping(void)
{
	int fd = memfd_create("pool", MFD_CLOEXEC);
	CHECK(ftruncate(fd, 4 * PAGE) == 0);
	struct bh_shm_mirror m;
	CHECK(bh_shm_mirror_init(&m, 3, dup(fd), 2 * PAGE, false));
	const uint8_t *old = m.map;
	struct bh_borrow *b = bh_shm_mirror_borrow(&m);
	b->refs++; /* a frame queued */
	CHECK(bh_shm_mirror_resize(&m, 4 * PAGE));
	CHECK(bh_shm_mirror_borrow(&m) != b);
	CHECK(mapped(old));
	bh_borrow_unref(b); /* the frame written */
	CHECK(!mapped(old));
	b = bh_shm_mirror_borrow(&m);
	old = m.map;
	b->refs++;
	bh_shm_mirror_finish(&m);
	CHECK(mapped(old));
	bh_borrow_unref(b);
	CHECK(!mapped(old));

	CHECK(bh_shm_mirror_init(&m, 4, dup(fd), 4 * PAGE, false));
	bh_shm_mirror_borrow(&m)->faulted = true;
	errno = 0;
	CHECK(!bh_shm_mirror_sync(&m, 0, 4 * PAGE, emit, NULL));
	CHECK_EQ_INT(errno, EFAULT);
	bh_shm_mirror_finish(&m);
	close(fd);
}

int main(void)
{
	test_borrowed_mapping();
	test_random_round_trips();
	test_revert_after_partial_refresh();
	int fd = memfd_create("pool", MFD_CLOEXEC);
	CHECK(ftruncate(fd, 3 * PAGE) == 0);
	uint8_t *pool = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	struct bh_shm_mirror m;
	CHECK(bh_shm_mirror_init(&m, 7, dup(fd), 2 * PAGE, false));

	/* nothing changed: nothing sent */
	CHECK(bh_shm_mirror_sync(&m, 0, 2 * PAGE, emit, NULL));
	CHECK_EQ_INT(spans, 0);

	/* two bytes close together are one span; a far one is another */
	pool[100] = 1;
	pool[130] = 2;
	pool[5000] = 3;
	spans = bytes = 0;
	CHECK(bh_shm_mirror_sync(&m, 0, 2 * PAGE, emit, NULL));
	CHECK_EQ_INT(spans, 2);
	CHECK(bytes <= 64);
	CHECK(seen[100] == 1 && seen[130] == 2 && seen[5000] == 3);
	/* the same again: the copy knows them now */
	spans = 0;
	CHECK(bh_shm_mirror_sync(&m, 0, 2 * PAGE, emit, NULL));
	CHECK_EQ_INT(spans, 0);
	/* a range that excludes the change sends nothing */
	pool[6000] = 4;
	spans = 0;
	CHECK(bh_shm_mirror_sync(&m, 0, PAGE, emit, NULL));
	CHECK_EQ_INT(spans, 0);
	CHECK(bh_shm_mirror_sync(&m, PAGE, PAGE, emit, NULL));
	CHECK_EQ_INT(spans, 1);

	/* resize: old contents kept, the new part compared */
	CHECK(bh_shm_mirror_resize(&m, 3 * PAGE));
	pool[2 * PAGE + 10] = 5;
	spans = 0;
	CHECK(bh_shm_mirror_sync(&m, 0, 3 * PAGE, emit, NULL));
	CHECK_EQ_INT(spans, 1);
	CHECK(seen[2 * PAGE + 10] == 5);
	CHECK(!bh_shm_mirror_resize(&m, PAGE)); /* never shrinks */

	/* shrunk before the read: refused up front */
	pool[0] = 9;
	CHECK(ftruncate(fd, PAGE) == 0);
	CHECK(!bh_shm_mirror_sync(&m, 0, 3 * PAGE, emit, NULL));
	CHECK_EQ_INT(errno, EFAULT);

	/* shrunk during the read: the fault is caught, the sync fails */
	CHECK(ftruncate(fd, 3 * PAGE) == 0);
	pool[1] = 1;
	pool[2 * PAGE + 1] = 1;
	shrink_fd = fd;
	spans = 0;
	CHECK(!bh_shm_mirror_sync(&m, 0, 3 * PAGE, emit, NULL));
	CHECK_EQ_INT(errno, EFAULT);
	CHECK_EQ_INT(spans, 1);

	bh_shm_mirror_finish(&m);
	close(fd);
	return bh_test_finish("test_shm_mirror");
}
