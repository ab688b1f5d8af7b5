/* The agent's shm mirror: only changed bytes are emitted (nearby spans
 * merged), the copy follows the pool, resize keeps contents, and a client
 * that shrinks its file mid-read ends that sync instead of the agent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest-agent/wl_guest.h"
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

static bool emit_host(uint32_t serial, uint64_t offset, const uint8_t *data, size_t len, void *user)
{
	memcpy(host_copy + offset, data, len);
	host_sent += len;
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
	CHECK(bh_shm_mirror_init(&m, 1, dup(fd), size));
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
	bh_shm_mirror_finish(&m);
	munmap(w, size);
	free(host_copy);
	close(fd);
}

int main(void)
{
	test_random_round_trips();
	int fd = memfd_create("pool", MFD_CLOEXEC);
	CHECK(ftruncate(fd, 3 * PAGE) == 0);
	uint8_t *pool = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	struct bh_shm_mirror m;
	CHECK(bh_shm_mirror_init(&m, 7, dup(fd), 2 * PAGE));

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
