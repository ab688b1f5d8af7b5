/* Physical addresses of the agent's own mappings, from /proc/self/pagemap
 * (root only: others read 0 for every frame number). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest-agent/guest_ram.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif

#define PAGE 4096ull
#define GIB4 (4ull << 30)
#define PM_PRESENT (1ull << 63)
#define PM_PFN ((1ull << 55) - 1)

static int pagemap = -1;
static uint8_t *probe_page;
static uint64_t *entries;
static size_t entries_cap;

static bool open_pagemap(char *why, size_t why_size)
{
	if (pagemap < 0) {
		pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	}
	if (pagemap < 0) {
		snprintf(why, why_size, "cannot open /proc/self/pagemap: %s", strerror(errno));
		return false;
	}
	return true;
}

/* The pagemap entries of pages [first, first + n); NULL on failure. */
static const uint64_t *read_entries(uint64_t first, size_t n)
{
	if (n > entries_cap) {
		uint64_t *e = realloc(entries, n * sizeof(*e));
		if (e == NULL) {
			return NULL;
		}
		entries = e;
		entries_cap = n;
	}
	size_t want = n * sizeof(*entries);
	ssize_t got = pread(pagemap, entries, want, (off_t)(first * sizeof(*entries)));
	return got == (ssize_t)want ? entries : NULL;
}

bool bh_agent_guest_ram_probe(
	const uint8_t token[BH_REGION_TOKEN_LEN], uint64_t *gpa, char *why, size_t why_size)
{
	bh_agent_guest_ram_probe_end();
	if (!open_pagemap(why, why_size)) {
		return false;
	}
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(why, why_size, "no page for the probe: %s", strerror(errno));
		return false;
	}
	probe_page = p;
	memcpy(probe_page, token, BH_REGION_TOKEN_LEN);
	if (mlock(probe_page, PAGE) != 0) {
		snprintf(why, why_size, "cannot lock the probe page: %s", strerror(errno));
		bh_agent_guest_ram_probe_end();
		return false;
	}
	const uint64_t *e = read_entries((uintptr_t)probe_page / PAGE, 1);
	if (e == NULL || !(e[0] & PM_PRESENT) || (e[0] & PM_PFN) == 0) {
		snprintf(why, why_size,
			"no physical addresses in /proc/self/pagemap (the agent "
			"does not run as root)");
		bh_agent_guest_ram_probe_end();
		return false;
	}
	*gpa = (e[0] & PM_PFN) * PAGE;
	return true;
}

void bh_agent_guest_ram_probe_end(void)
{
	if (probe_page != NULL) {
		munmap(probe_page, PAGE);
		probe_page = NULL;
	}
}

static bool host_reads(uint64_t gpa, uint64_t len, uint64_t low, uint64_t high)
{
	return (gpa < low && len <= low - gpa) ||
	       (gpa >= GIB4 && gpa - GIB4 < high && len <= high - (gpa - GIB4));
}

size_t bh_agent_guest_ram_pieces(const uint8_t *addr, uint64_t len, uint64_t low, uint64_t high,
	struct bh_gpa_piece **pieces, size_t *cap)
{
	if (len == 0 || pagemap < 0) {
		return 0;
	}
	uint64_t start = (uintptr_t)addr;
	uint64_t first = start / PAGE, last = (start + len - 1) / PAGE;
	size_t n = (size_t)(last - first + 1);
	const uint64_t *e = read_entries(first, n);
	if (e == NULL) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(e[i] & PM_PRESENT)) {
			/* The client drew them; this maps them in the agent too
			 * (once: they stay mapped, and a walk of 2000 present
			 * pages costs the emulated guest most of a millisecond). */
			if (madvise((void *)(uintptr_t)(first * PAGE), n * PAGE,
				    MADV_POPULATE_READ) != 0 ||
				(e = read_entries(first, n)) == NULL) {
				return 0; /* the file shrank, or an old kernel: the agent copies */
			}
			break;
		}
	}
	if (n > *cap) {
		struct bh_gpa_piece *p = realloc(*pieces, n * sizeof(*p));
		if (p == NULL) {
			return 0;
		}
		*pieces = p;
		*cap = n;
	}
	size_t count = 0;
	uint64_t at = start;
	for (size_t i = 0; i < n; i++) {
		if (!(e[i] & PM_PRESENT) || (e[i] & PM_PFN) == 0) {
			return 0;
		}
		uint64_t in_page = at % PAGE;
		uint64_t piece = PAGE - in_page;
		if (piece > start + len - at) {
			piece = start + len - at;
		}
		uint64_t gpa = (e[i] & PM_PFN) * PAGE + in_page;
		if (!host_reads(gpa, piece, low, high)) {
			return 0;
		}
		struct bh_gpa_piece *prev = count > 0 ? &(*pieces)[count - 1] : NULL;
		if (prev != NULL && prev->gpa + prev->len == gpa &&
			prev->len <= UINT32_MAX - piece &&
			host_reads(prev->gpa, prev->len + piece, low, high)) {
			prev->len += (uint32_t)piece;
		} else {
			(*pieces)[count++] = (struct bh_gpa_piece){gpa, (uint32_t)piece};
		}
		at += piece;
	}
	return count;
}
