/* The shared region's header and its slots (see region.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/le.h"
#include "common/region.h"
#include "common/relay.h"

void bh_region_write_header(uint8_t *map, uint64_t size, const uint8_t token[BH_REGION_TOKEN_LEN])
{
	memcpy(map + BH_REGION_OFF_MAGIC, BH_REGION_MAGIC, 8);
	bh_le64_put(map + BH_REGION_OFF_SIZE, size);
	memcpy(map + BH_REGION_OFF_TOKEN, token, BH_REGION_TOKEN_LEN);
}

bool bh_region_header_matches(const volatile uint8_t *map, uint64_t map_size, uint64_t size,
	const uint8_t token[BH_REGION_TOKEN_LEN])
{
	if (map_size < size || size < BH_REGION_HEADER) {
		return false;
	}
	/* Device memory: read it once, byte by byte, into our own copy. */
	uint8_t head[BH_REGION_OFF_TOKEN + BH_REGION_TOKEN_LEN];
	for (size_t i = 0; i < sizeof(head); i++) {
		head[i] = map[i];
	}
	return memcmp(head + BH_REGION_OFF_MAGIC, BH_REGION_MAGIC, 8) == 0 &&
	       bh_le64_get(head + BH_REGION_OFF_SIZE) == size &&
	       memcmp(head + BH_REGION_OFF_TOKEN, token, BH_REGION_TOKEN_LEN) == 0;
}

void bh_region_slots_init(struct bh_region_slots *s, uint64_t size)
{
	memset(s, 0, sizeof(*s));
	s->size = size;
}

void bh_region_slots_finish(struct bh_region_slots *s)
{
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

/* The first slot that ends after offset. */
static size_t first_after(const struct bh_region_slots *s, uint64_t offset)
{
	size_t lo = 0, hi = s->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->slots[mid].offset + s->slots[mid].len <= offset) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

static bool insert_at(struct bh_region_slots *s, size_t i, uint64_t offset, uint64_t len,
	const void *owner)
{
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct bh_region_slot *p = realloc(s->slots, cap * sizeof(*p));
		if (p == NULL) {
			return false;
		}
		s->slots = p;
		s->cap = cap;
	}
	memmove(s->slots + i + 1, s->slots + i, (s->count - i) * sizeof(*s->slots));
	s->slots[i] = (struct bh_region_slot){offset, len, owner};
	s->count++;
	s->used += len;
	return true;
}

uint64_t bh_region_slot_alloc(struct bh_region_slots *s, uint64_t len, const void *owner)
{
	if (len == 0 || len > s->size) {
		return 0;
	}
	len = (len + BH_REGION_ALIGN - 1) / BH_REGION_ALIGN * BH_REGION_ALIGN;
	uint64_t at = BH_REGION_HEADER;
	for (size_t i = 0; i <= s->count; i++) {
		uint64_t end = i < s->count ? s->slots[i].offset : s->size;
		if (end >= at && end - at >= len) {
			return insert_at(s, i, at, len, owner) ? at : 0;
		}
		if (i < s->count) {
			at = s->slots[i].offset + s->slots[i].len;
		}
	}
	return 0;
}

bool bh_region_slot_claim(struct bh_region_slots *s, uint64_t offset, uint64_t len,
	const void *owner, char *err, size_t err_size)
{
	if (len == 0 || offset < BH_REGION_HEADER || offset > s->size || len > s->size - offset) {
		snprintf(err, err_size,
			"a buffer of %" PRIu64 " bytes at %" PRIu64
			" does not lie inside the shared region's %" PRIu64 " bytes",
			len, offset, s->size);
		return false;
	}
	if (offset % BH_REGION_ALIGN != 0) {
		snprintf(err, err_size, "a buffer at %" PRIu64 " of the shared region is not "
					"page-aligned",
			offset);
		return false;
	}
	size_t i = first_after(s, offset);
	if (i < s->count && s->slots[i].offset < offset + len) {
		snprintf(err, err_size,
			"a buffer at %" PRIu64 " of the shared region overlaps one still in use at "
			"%" PRIu64 " (a slot reused before its buffer was destroyed)",
			offset, s->slots[i].offset);
		return false;
	}
	if (!insert_at(s, i, offset, len, owner)) {
		snprintf(err, err_size, "out of memory for the shared region's slots");
		return false;
	}
	return true;
}

bool bh_region_slot_holds(const struct bh_region_slots *s, uint64_t offset, uint64_t len)
{
	size_t i = first_after(s, offset);
	return len > 0 && i < s->count && s->slots[i].offset <= offset &&
	       len <= s->slots[i].offset + s->slots[i].len - offset;
}

static void remove_at(struct bh_region_slots *s, size_t i)
{
	s->used -= s->slots[i].len;
	memmove(s->slots + i, s->slots + i + 1, (s->count - i - 1) * sizeof(*s->slots));
	s->count--;
}

bool bh_region_slot_release(struct bh_region_slots *s, uint64_t offset, const void *owner)
{
	size_t i = first_after(s, offset);
	if (i == s->count || s->slots[i].offset != offset || s->slots[i].owner != owner) {
		return false;
	}
	remove_at(s, i);
	return true;
}

void bh_region_slots_release_owner(struct bh_region_slots *s, const void *owner)
{
	size_t j = 0;
	for (size_t i = 0; i < s->count; i++) {
		if (s->slots[i].owner == owner) {
			s->used -= s->slots[i].len;
		} else {
			s->slots[j++] = s->slots[i];
		}
	}
	s->count = j;
}

uint64_t bh_region_buffer_span(int32_t width, int32_t height, int32_t stride, char *err,
	size_t err_size)
{
	if (width <= 0 || height <= 0 || stride < width) {
		snprintf(err, err_size,
			"a buffer of %" PRId32 "x%" PRId32 " with stride %" PRId32 " is not a buffer",
			width, height, stride);
		return 0;
	}
	uint64_t span = (uint64_t)stride * (uint64_t)height;
	if (span > BH_RELAY_MAX_POOL_SIZE) {
		snprintf(err, err_size,
			"a buffer of %" PRIu64 " bytes (stride %" PRId32 " x %" PRId32
			" rows) is over the %u-byte limit",
			span, stride, height, BH_RELAY_MAX_POOL_SIZE);
		return 0;
	}
	return span;
}
