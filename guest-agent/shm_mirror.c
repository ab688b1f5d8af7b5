/* The agent's mirror of each guest wl_shm pool: a read-only mapping of the
 * client's fd and a copy of what the host pool holds, so a commit sends
 * only the bytes that really changed. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/endpoint.h"
#include "common/relay.h"
#include "common/log.h"
#include "guest-agent/shm_mirror.h"

/* Whether the client's file shrank under a frame that borrowed from any
 * mapping of its pool: shared by them all, so a fault found in a mapping
 * the pool has since replaced (the client shrank its file, then grew the
 * pool) still ends the client at its next sync. */
struct mirror_fault {
	unsigned refs; /* one per mapping */
	bool faulted;
};

/* A mapping of the client's pool that frames queued on the channel may
 * still read from after the mirror has moved on (resized, finished). */
struct bh_mirror_map {
	struct bh_borrow borrow; /* first: done() gets this back */
	uint8_t *addr;
	uint64_t size;
	struct mirror_fault *fault;
};

static void mirror_map_done(struct bh_borrow *borrow)
{
	struct bh_mirror_map *mm = (struct bh_mirror_map *)borrow;
	munmap(mm->addr, mm->size);
	if (--mm->fault->refs == 0) {
		free(mm->fault);
	}
	free(mm);
}

static bool pool_faulted(const struct bh_shm_mirror *m)
{
	return m->mapping->borrow.faulted || m->mapping->fault->faulted;
}

struct bh_borrow *bh_shm_mirror_borrow(struct bh_shm_mirror *m)
{
	return &m->mapping->borrow;
}

/*
 * A client can shrink the file behind its pool while the agent reads it;
 * the read would then raise SIGBUS and take every guest window down. As in
 * libwayland's server, a fault inside the pool being read replaces the
 * mapping with zero pages so the read finishes, and the client is ended.
 */
static uint8_t *volatile guard_start;
static volatile size_t guard_len;
static volatile sig_atomic_t guard_fault;
static struct sigaction default_bus;

static void handle_sigbus(int sig, siginfo_t *info, void *context)
{
	uint8_t *addr = info->si_addr;
	uint8_t *start = guard_start;
	if (start != NULL && addr >= start && addr < start + guard_len) {
		guard_fault = 1;
		if (mmap(start, guard_len, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1,
			    0) != MAP_FAILED) {
			return;
		}
	}
	sigaction(SIGBUS, &default_bus, NULL);
	raise(SIGBUS);
}

static void install_sigbus_guard(void)
{
	static bool installed;
	if (installed) {
		return;
	}
	struct sigaction sa = {0};
	sa.sa_sigaction = handle_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	installed = sigaction(SIGBUS, &sa, &default_bus) == 0;
}

/* Region state (struct bh_shm_mirror.region). A region whose last two
 * compares each found at least 7/8 of it changed is hot: the next REGION_STREAK syncs of it
 * skip the compare and the copy and send the client's bytes as they are
 * (a video, a game: every pixel changes every frame), leaving the copy
 * stale there; the sync after them sends it whole again and refreshes the
 * copy, and the one after that compares again and so decides anew. Only
 * in commits that changed (nearly) the whole buffer (whole_frame): a band
 * moving down a terminal changes a region now and then, and a stale
 * region costs every partial sync of it the whole range. */
#define REGION_STALE 0x01u /* the copy does not hold what the host has */
#define REGION_HOT 0x02u
#define REGION_CANDIDATE 0x40u /* its last compare found it all changed */
#define REGION_STREAK_SHIFT 2
#define REGION_STREAK 8u

bool bh_shm_mirror_init(
	struct bh_shm_mirror *m, uint32_t serial, int fd, uint64_t size, bool in_region)
{
	install_sigbus_guard();
	memset(m, 0, sizeof(*m));
	m->in_region = in_region;
	m->serial = serial;
	m->fd = fd;
	m->refs = 1;
	m->map = MAP_FAILED;
	return bh_shm_mirror_resize(m, size);
}

bool bh_shm_mirror_resize(struct bh_shm_mirror *m, uint64_t size)
{
	if (size == 0 || size > BH_RELAY_MAX_POOL_SIZE || size < m->size) {
		errno = EINVAL;
		return false;
	}
	if (m->region != NULL) {
		size_t old_n = (size_t)((m->size + BH_MIRROR_REGION - 1) / BH_MIRROR_REGION);
		size_t n = (size_t)((size + BH_MIRROR_REGION - 1) / BH_MIRROR_REGION);
		uint8_t *r = realloc(m->region, n);
		if (r == NULL) {
			errno = ENOMEM;
			return false;
		}
		memset(r + old_n, 0, n - old_n);
		m->region = r;
	}
	struct bh_mirror_map *mm = calloc(1, sizeof(*mm));
	struct mirror_fault *fault =
		m->mapping != NULL ? m->mapping->fault : calloc(1, sizeof(*fault));
	if (mm == NULL || fault == NULL) {
		free(mm);
		errno = ENOMEM;
		return false;
	}
	void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, m->fd, 0);
	if (map == MAP_FAILED) {
		if (fault->refs == 0) {
			free(fault);
		}
		free(mm);
		return false;
	}
	/* The host pool starts as zeros, so does the copy. Its pages are
	 * reserved lazily (clients such as foot map 512 MiB pools and draw in a
	 * small part of them, in guests with less memory than that), and a
	 * resize moves them instead of copying. */
	uint8_t *copy = NULL;
	if (m->in_region) {
		/* no copy: the slots hold what the host shows */
	} else if (m->copy != NULL) {
		copy = mremap(m->copy, m->size, size, MREMAP_MAYMOVE);
	} else {
		copy = mmap(NULL, size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	if (!m->in_region && copy == MAP_FAILED) {
		munmap(map, size);
		if (fault->refs == 0) {
			free(fault);
		}
		free(mm);
		errno = ENOMEM;
		return false;
	}
	fault->refs++;
	if (m->mapping != NULL) {
		bh_borrow_unref(&m->mapping->borrow);
	}
	*mm = (struct bh_mirror_map){
		.borrow = {.refs = 1, .also_faulted = &fault->faulted, .done = mirror_map_done},
		.addr = map,
		.size = size,
		.fault = fault};
	m->mapping = mm;
	m->map = map;
	m->copy = copy;
	m->size = size;
	return true;
}

void bh_shm_mirror_finish(struct bh_shm_mirror *m)
{
	if (m->mapping != NULL) {
		bh_borrow_unref(&m->mapping->borrow);
		m->mapping = NULL;
	}
	if (m->copy != NULL) {
		munmap(m->copy, m->size);
	}
	if (m->fd >= 0) {
		close(m->fd);
	}
	free(m->region);
	m->region = NULL;
	m->map = NULL;
	m->copy = NULL;
	m->fd = -1;
}

/* Reading past the end of a file the client shrank would raise SIGBUS:
 * check the file still covers the range first. */
static bool covered(const struct bh_shm_mirror *m, uint64_t end)
{
	struct stat st;
	if (fstat(m->fd, &st) < 0) {
		return false;
	}
	return !S_ISREG(st.st_mode) || (uint64_t)st.st_size >= end;
}

static bool compare(struct bh_shm_mirror *m, uint64_t offset, uint64_t len,
	bh_shm_mirror_emit_fn emit, void *data, uint64_t *changed);

/* Sends len bytes at offset from bytes, in pieces the emitter takes. */
static bool send_all(struct bh_shm_mirror *m, uint64_t offset, const uint8_t *bytes, uint64_t len,
	bh_shm_mirror_emit_fn emit, void *data)
{
	return len == 0 || (!guard_fault && emit(m->serial, offset, bytes, (size_t)len, data));
}

static bool sync_regions(struct bh_shm_mirror *m, uint64_t offset, uint64_t len,
	bh_shm_mirror_emit_fn emit, void *data)
{
	uint64_t end = offset + len;
	uint64_t i = offset;
	while (i < end) {
		uint64_t r = i / BH_MIRROR_REGION;
		uint64_t r_end = (r + 1) * BH_MIRROR_REGION;
		uint64_t n = (r_end < end ? r_end : end) - i;
		bool whole = n == BH_MIRROR_REGION;
		uint8_t st = m->region != NULL ? m->region[r] : 0;
		unsigned streak = st >> REGION_STREAK_SHIFT;
		if ((st & REGION_HOT) && streak < REGION_STREAK && m->whole_frame) {
			/* Hot: straight from the client, no compare, no copy. */
			if (!send_all(m, i, m->map + i, n, emit, data)) {
				return false;
			}
			m->region[r] = (uint8_t)(REGION_STALE | REGION_HOT |
				((streak + 1) << REGION_STREAK_SHIFT));
		} else if (st & REGION_STALE) {
			/* The copy is behind here: send all, and refresh the copy
			 * (only a whole region's refresh makes it fresh again). */
			memcpy(m->copy + i, m->map + i, (size_t)n);
			if (!send_all(m, i, m->copy + i, n, emit, data)) {
				return false;
			}
			if (whole) {
				m->region[r] = 0;
			}
		} else {
			uint64_t changed = 0;
			if (!compare(m, i, n, emit, data, &changed)) {
				return false;
			}
			/* Hot after two compares in a row found it all changed: a
			 * band that moves on (a terminal's scrolling) changes a region
			 * once, not every time it is synced. */
			bool all = whole && m->whole_frame && changed >= n - n / 8;
			if (all && m->region == NULL) {
				size_t count =
					(size_t)((m->size + BH_MIRROR_REGION - 1) / BH_MIRROR_REGION);
				m->region = calloc(count, 1);
			}
			if (m->region != NULL) {
				m->region[r] = !all ? 0 :
					(st & REGION_CANDIDATE) ? REGION_HOT : REGION_CANDIDATE;
			}
		}
		i += n;
	}
	return true;
}

/* Spans closer than this are sent as one, so a frame header is not paid
 * for every few changed pixels. */
#define MERGE_GAP 64

bool bh_shm_mirror_sync(struct bh_shm_mirror *m, uint64_t offset, uint64_t len,
	bh_shm_mirror_emit_fn emit, void *data)
{
	if (offset > m->size || len > m->size - offset) {
		len = offset > m->size ? 0 : m->size - offset;
	}
	if (len == 0) {
		return true;
	}
	if (!covered(m, offset + len) || pool_faulted(m)) {
		errno = EFAULT;
		return false;
	}
	guard_fault = 0;
	guard_len = m->size;
	guard_start = m->map;
	bool ok = sync_regions(m, offset, len, emit, data);
	guard_start = NULL;
	if (guard_fault) {
		errno = EFAULT;
		return false;
	}
	return ok;
}

/* The compare works on 64-byte blocks (a cache line): one pass reads the
 * client's bytes and the copy once each, updates the copy in the same pass
 * where they differ, and finds the exact first and last changed byte only
 * at the edges of each block that changed. */
#define BLOCK 64

static bool block_equal(const uint8_t *a, const uint8_t *b)
{
	uint64_t x = 0;
	for (int k = 0; k < BLOCK; k += 8) {
		uint64_t p, q;
		memcpy(&p, a + k, 8);
		memcpy(&q, b + k, 8);
		x |= p ^ q;
	}
	return x == 0;
}

static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t k = 0;
	while (k < n && a[k] == b[k]) {
		k++;
	}
	return k;
}

static size_t last_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t k = n;
	while (k > 0 && a[k - 1] == b[k - 1]) {
		k--;
	}
	return k; /* one past the last differing byte */
}

/* What the host is sent is always read from the copy, after the copy took
 * the client's bytes, and the copy changes only inside what is sent: so
 * the host pool and the copy stay equal even while the client keeps
 * drawing during the compare. */
static bool compare(struct bh_shm_mirror *m, uint64_t offset, uint64_t len,
	bh_shm_mirror_emit_fn emit, void *data, uint64_t *changed)
{
	const uint8_t *cur = m->map;
	uint8_t *copy = m->copy;
	uint64_t end = offset + len;
	uint64_t i = offset;
	bool in_span = false;
	uint64_t start = 0, last_end = 0; /* the span: [start, last_end) */
	while (i < end) {
		uint64_t n = BLOCK - (i % BLOCK);
		if (n > end - i) {
			n = end - i;
		}
		bool equal = n == BLOCK ? block_equal(cur + i, copy + i) :
					  memcmp(cur + i, copy + i, (size_t)n) == 0;
		/* The client may be drawing meanwhile: the edges are looked for
		 * again and a block that no longer differs counts as equal. */
		size_t ld = equal ? 0 : last_diff(cur + i, copy + i, (size_t)n);
		if (ld > 0) {
			uint64_t from = i;
			if (!in_span) {
				in_span = true;
				size_t fd = first_diff(cur + i, copy + i, ld);
				start = from = i + (fd < ld ? fd : ld - 1);
			}
			last_end = i + ld;
			memcpy(copy + from, cur + from, (size_t)(last_end - from));
		} else if (in_span && i >= last_end + MERGE_GAP) {
			in_span = false;
			*changed += last_end - start;
			if (guard_fault || !emit(m->serial, start, copy + start, last_end - start, data)) {
				return false;
			}
		}
		i += n;
	}
	if (in_span) {
		*changed += last_end - start;
		if (guard_fault || !emit(m->serial, start, copy + start, last_end - start, data)) {
			return false;
		}
	}
	return true;
}

bool bh_shm_mirror_copy_out(struct bh_shm_mirror *m, uint64_t offset, uint64_t len, uint8_t *dest)
{
	if (offset > m->size || len > m->size - offset || !covered(m, offset + len) ||
		pool_faulted(m)) {
		errno = EFAULT;
		return false;
	}
	guard_fault = 0;
	guard_len = m->size;
	guard_start = m->map;
	memcpy(dest, m->map + offset, (size_t)len);
	guard_start = NULL;
	if (guard_fault) {
		errno = EFAULT;
		return false;
	}
	return true;
}
