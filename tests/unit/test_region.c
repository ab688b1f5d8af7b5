/* The shared region's header and slots (common/region.c): the agent's first
 * fit, the host's claims that refuse overlaps, bounds, alignment and the
 * header, and buffer spans that cannot overflow. */
#include <stdint.h>
#include <string.h>

#include "common/region.h"
#include "tests/test.h"

#define MIB (1024u * 1024u)

static void test_header(void)
{
	uint8_t map[BH_REGION_HEADER] = {0};
	uint8_t token[BH_REGION_TOKEN_LEN], other[BH_REGION_TOKEN_LEN];
	for (int i = 0; i < BH_REGION_TOKEN_LEN; i++) {
		token[i] = (uint8_t)(i * 7 + 1);
		other[i] = token[i];
	}
	other[5] ^= 1;
	CHECK(!bh_region_header_matches(map, 16 * MIB, 16 * MIB, token)); /* zeros */
	bh_region_write_header(map, 16 * MIB, token);
	CHECK(bh_region_header_matches(map, 16 * MIB, 16 * MIB, token));
	CHECK(!bh_region_header_matches(map, 16 * MIB, 16 * MIB, other));
	CHECK(!bh_region_header_matches(map, 16 * MIB, 8 * MIB, token)); /* another size */
	CHECK(!bh_region_header_matches(map, 8 * MIB, 16 * MIB, token)); /* mapping too small */
}

static void test_alloc(void)
{
	struct bh_region_slots s;
	int a, b;
	bh_region_slots_init(&s, 1 * MIB);
	uint64_t x = bh_region_slot_alloc(&s, 100, &a);
	CHECK_EQ_INT(x, BH_REGION_HEADER); /* the first slot follows the header */
	uint64_t y = bh_region_slot_alloc(&s, 5000, &b);
	CHECK_EQ_INT(y, BH_REGION_HEADER + BH_REGION_ALIGN); /* rounded to a page */
	uint64_t z = bh_region_slot_alloc(&s, 4096, &a);
	CHECK_EQ_INT(z, y + 2 * BH_REGION_ALIGN);
	CHECK_EQ_INT(s.used, 4 * BH_REGION_ALIGN);
	/* a slot given back is found again, first fit */
	CHECK(!bh_region_slot_release(&s, y, &a)); /* not its owner's */
	CHECK(bh_region_slot_release(&s, y, &b));
	CHECK_EQ_INT(bh_region_slot_alloc(&s, 8192, &a), y);
	/* full: no room, 0 */
	CHECK_EQ_INT(bh_region_slot_alloc(&s, 1 * MIB, &a), 0);
	CHECK_EQ_INT(bh_region_slot_alloc(&s, 0, &a), 0);
	/* what a client had goes with it */
	bh_region_slots_release_owner(&s, &a);
	CHECK_EQ_INT(s.count, 0);
	CHECK_EQ_INT(s.used, 0);
	CHECK_EQ_INT(bh_region_slot_alloc(&s, 1 * MIB - BH_REGION_HEADER, &a), BH_REGION_HEADER);
	bh_region_slots_finish(&s);
}

static void test_claim(void)
{
	struct bh_region_slots s;
	char err[256];
	int a, b;
	bh_region_slots_init(&s, 1 * MIB);
	CHECK(bh_region_slot_claim(&s, 8192, 4096, &a, err, sizeof(err)));
	CHECK(!bh_region_slot_claim(&s, 8192, 4096, &a, err, sizeof(err))); /* reused */
	CHECK(strstr(err, "reused before") != NULL);
	CHECK(!bh_region_slot_claim(&s, 4096, 4097, &a, err, sizeof(err))); /* into it */
	CHECK(bh_region_slot_claim(&s, 4096, 4096, &b, err, sizeof(err)));  /* touching */
	CHECK(bh_region_slot_claim(&s, 12288, 4096, &a, err, sizeof(err)));
	CHECK(!bh_region_slot_claim(&s, 0, 64, &a, err, sizeof(err)));           /* header */
	CHECK(!bh_region_slot_claim(&s, 16384 + 64, 64, &a, err, sizeof(err)));  /* off a page */
	CHECK(!bh_region_slot_claim(&s, 1 * MIB - 4096, 8192, &a, err, sizeof(err))); /* past */
	CHECK(!bh_region_slot_claim(&s, UINT64_MAX - 4095, 8192, &a, err, sizeof(err)));
	CHECK(!bh_region_slot_claim(&s, 16384, 0, &a, err, sizeof(err)));
	/* what a guest-memory copy may write: inside one slot */
	CHECK(bh_region_slot_holds(&s, 8192, 4096));
	CHECK(bh_region_slot_holds(&s, 8192 + 100, 4096 - 100));
	CHECK(!bh_region_slot_holds(&s, 8192 + 100, 4096)); /* into the next slot */
	CHECK(!bh_region_slot_holds(&s, 8192, 0));
	CHECK(!bh_region_slot_holds(&s, 16384, 64));         /* no slot there */
	CHECK(!bh_region_slot_holds(&s, 0, 64));             /* the header */
	CHECK(!bh_region_slot_holds(&s, 12288, UINT64_MAX)); /* overflow */
	CHECK(bh_region_slot_release(&s, 8192, &a));
	CHECK(!bh_region_slot_holds(&s, 8192, 64));                        /* given back */
	CHECK(bh_region_slot_claim(&s, 8192, 4096, &a, err, sizeof(err))); /* after release */
	CHECK_EQ_INT(s.count, 3);
	bh_region_slots_finish(&s);
}

static void test_span(void)
{
	char err[256];
	CHECK_EQ_INT(bh_region_buffer_span(64, 64, 256, err, sizeof(err)), 64 * 256);
	CHECK_EQ_INT(bh_region_buffer_span(0, 64, 256, err, sizeof(err)), 0);
	CHECK_EQ_INT(bh_region_buffer_span(64, -1, 256, err, sizeof(err)), 0);
	CHECK_EQ_INT(bh_region_buffer_span(64, 64, 63, err, sizeof(err)), 0); /* stride < width */
	CHECK_EQ_INT(bh_region_buffer_span(INT32_MAX, INT32_MAX, INT32_MAX, err, sizeof(err)), 0);
	CHECK(strstr(err, "limit") != NULL);
}

int main(void)
{
	test_header();
	test_alloc();
	test_claim();
	test_span();
	return bh_test_finish("region");
}
