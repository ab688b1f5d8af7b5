/* The link hub's switching (link-hub/hub.c): members from their command-line
 * form, and where each frame goes, with malformed and hostile frames. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link-hub/hub.h"
#include "tests/test.h"

static const uint8_t mac_a[6] = {0x0e, 1, 2, 3, 4, 5};
static const uint8_t mac_b[6] = {0x0e, 9, 9, 9, 9, 9};
static const uint8_t mac_c[6] = {0x0e, 0xab, 0xcd, 0xef, 0, 1};

static void check_members(struct bh_hub *hub)
{
	struct bh_hub_member m;
	const char *why = NULL;
	CHECK(bh_hub_member_parse("0e:01:02:03:04:05,20000,20001,alpha", &m, &why));
	CHECK(memcmp(m.mac, mac_a, 6) == 0 && m.guest_port == 20000 && m.hub_port == 20001);
	CHECK(strcmp(m.tag, "alpha") == 0);
	CHECK(bh_hub_add(hub, &m, &why));
	/* A tag is any string, commas included: it is the rest. */
	CHECK(bh_hub_member_parse("0E:09:09:09:09:09,20010,20011,be,ta", &m, &why));
	CHECK(strcmp(m.tag, "be,ta") == 0 && memcmp(m.mac, mac_b, 6) == 0);
	CHECK(bh_hub_add(hub, &m, &why));
	CHECK(bh_hub_member_parse("0e:ab:cd:ef:00:01,20020,20021,gamma", &m, &why));
	CHECK(bh_hub_add(hub, &m, &why));
	CHECK(hub->count == 3);

	const char *bad[] = {"", "0e:01:02:03:04:05", "0e:01:02:03:04,1,2,x",
		"0e:01:02:03:04:0g,20000,20001,x", "0e:01:02:03:04:05:20000,20001,x",
		"0e:01:02:03:04:05,,20001,x", "0e:01:02:03:04:05,20000,,x",
		"0e:01:02:03:04:05,80,20001,x", "0e:01:02:03:04:05,20000,70000,x",
		"0e:01:02:03:04:05,200000,20001,x", "0e:01:02:03:04:05,20000,20001,",
		"0e:01:02:03:04:05,-1,20001,x", "0f:01:02:03:04:05,20000,20001,multicast", NULL};
	for (int i = 0; bad[i] != NULL; i++) {
		why = NULL;
		bool ok = bh_hub_member_parse(bad[i], &m, &why);
		CHECK(!ok && why != NULL);
		if (ok) {
			fprintf(stderr, "accepted \"%s\"\n", bad[i]);
		}
	}
	char long_tag[200] = "0e:01:02:03:04:05,20000,20001,";
	memset(long_tag + strlen(long_tag), 'x', 65);
	CHECK(!bh_hub_member_parse(long_tag, &m, &why));

	/* No two members with one MAC or port. */
	struct bh_hub copy = *hub;
	CHECK(bh_hub_member_parse("0e:01:02:03:04:05,30000,30001,again", &m, &why));
	CHECK(!bh_hub_add(&copy, &m, &why));
	CHECK(bh_hub_member_parse("0e:07:07:07:07:07,20011,30001,port", &m, &why));
	CHECK(!bh_hub_add(&copy, &m, &why));
	CHECK(bh_hub_member_parse("0e:07:07:07:07:07,30001,30001,same", &m, &why));
	CHECK(!bh_hub_add(&copy, &m, &why));
	CHECK(copy.count == 3);
}

static size_t frame(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], size_t len)
{
	memset(buf, 0x5a, len);
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	return len;
}

static void check_route(const struct bh_hub *hub)
{
	static uint8_t buf[BH_HUB_FRAME_MAX + 64];
	const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	const uint8_t ipv6_mcast[6] = {0x33, 0x33, 0, 0, 0, 1};
	const uint8_t nobody[6] = {0x0e, 0x42, 0x42, 0x42, 0x42, 0x42};
	const char *why;

	/* Unicast to exactly its owner, in both directions. */
	CHECK_EQ_INT(bh_hub_route(hub, 0, buf, frame(buf, mac_b, mac_a, 60), &why), 1u << 1);
	CHECK(why == NULL);
	CHECK_EQ_INT(bh_hub_route(hub, 1, buf, frame(buf, mac_c, mac_b, 1514), &why), 1u << 2);
	CHECK_EQ_INT(bh_hub_route(hub, 2, buf, frame(buf, mac_a, mac_c, 14), &why), 1u << 0);
	/* Broadcast and multicast: every other member, never the sender. */
	CHECK_EQ_INT(bh_hub_route(hub, 0, buf, frame(buf, bcast, mac_a, 42), &why), 0x6);
	CHECK_EQ_INT(bh_hub_route(hub, 1, buf, frame(buf, ipv6_mcast, mac_b, 90), &why), 0x5);
	/* Good frames nobody is to get: silently dropped. */
	CHECK_EQ_INT(bh_hub_route(hub, 0, buf, frame(buf, nobody, mac_a, 60), &why), 0);
	CHECK(why == NULL);
	CHECK_EQ_INT(bh_hub_route(hub, 0, buf, frame(buf, mac_a, mac_a, 60), &why), 0);
	CHECK(why == NULL);
	/* Bad frames: dropped with a reason. */
	for (size_t len = 0; len < BH_HUB_FRAME_MIN; len++) {
		why = NULL;
		CHECK_EQ_INT(bh_hub_route(hub, 0, buf, len, &why), 0);
		CHECK(why != NULL && strstr(why, "shorter") != NULL);
	}
	CHECK_EQ_INT(bh_hub_route(hub, 0, buf, frame(buf, bcast, mac_a, 1518), &why), 0x6);
	CHECK_EQ_INT(bh_hub_route(hub, 0, buf, frame(buf, bcast, mac_a, 1519), &why), 0);
	CHECK(why != NULL && strstr(why, "longer") != NULL);
	CHECK_EQ_INT(bh_hub_route(hub, 0, buf, 65536, &why), 0);
	CHECK(why != NULL);
	/* Spoofing: another member's MAC, a made-up one, a group address. */
	CHECK_EQ_INT(bh_hub_route(hub, 0, buf, frame(buf, mac_c, mac_b, 60), &why), 0);
	CHECK(why != NULL && strstr(why, "spoofed") != NULL);
	CHECK_EQ_INT(bh_hub_route(hub, 2, buf, frame(buf, bcast, nobody, 60), &why), 0);
	CHECK(why != NULL);
	CHECK_EQ_INT(bh_hub_route(hub, 1, buf, frame(buf, mac_a, bcast, 60), &why), 0);
	CHECK(why != NULL);
	/* From no member at all. */
	CHECK_EQ_INT(bh_hub_route(hub, 3, buf, frame(buf, bcast, mac_a, 60), &why), 0);
	CHECK(why != NULL);

	/* Random frames: never back to the sender, never outside the hub,
	 * and unicast to one member at most. */
	srand(19);
	bool sane = true;
	for (int i = 0; i < 200000; i++) {
		size_t len = (size_t)(rand() % (BH_HUB_FRAME_MAX + 40));
		for (size_t k = 0; k < len && k < 14; k++) {
			buf[k] = (uint8_t)rand();
		}
		unsigned from = (unsigned)(rand() % 3);
		const uint8_t *own[] = {mac_a, mac_b, mac_c};
		if (rand() % 2 && len >= 12) {
			memcpy(buf + 6, own[from], 6);
		}
		if (rand() % 2 && len >= 6) {
			memcpy(buf, own[rand() % 3], 6);
		}
		uint32_t to = bh_hub_route(hub, from, buf, len, &why);
		sane = sane && !(to & (1u << from)) && (to & ~0x7u) == 0;
		sane = sane && (to == 0 || (len >= 14 && len <= 1518 &&
						   memcmp(buf + 6, own[from], 6) == 0));
		sane = sane && ((buf[0] & 1) || (to & (to - 1)) == 0);
	}
	CHECK(sane);
}

/* A flood of bad frames costs a burst of lines, then one a second, and
 * the line after a quiet spell says how many went unlogged. */
static void check_log_budget(void)
{
	struct bh_hub_log_budget b;
	bh_hub_log_budget_init(&b);
	uint64_t t = 5000000;
	unsigned long skipped = 99;
	unsigned logged = 0;
	for (int i = 0; i < 1000; i++) {
		logged += bh_hub_log_allow(&b, t, &skipped);
	}
	CHECK_EQ_INT(logged, BH_HUB_LOG_BURST);
	CHECK_EQ_INT(skipped, 0);
	/* Half a second on: still nothing; a second on: one, with the count. */
	CHECK(!bh_hub_log_allow(&b, t + 500000, &skipped));
	CHECK(bh_hub_log_allow(&b, t + 1000000, &skipped));
	CHECK_EQ_INT(skipped, 1000 - BH_HUB_LOG_BURST + 1);
	CHECK(!bh_hub_log_allow(&b, t + 1000001, &skipped));
	/* A minute of quiet gives the whole burst back, no more. */
	logged = 0;
	for (int i = 0; i < 100; i++) {
		logged += bh_hub_log_allow(&b, t + 61000000, &skipped);
	}
	CHECK_EQ_INT(logged, BH_HUB_LOG_BURST);
	/* A steady flood for ten seconds: about one a second. */
	logged = 0;
	for (uint64_t now = t + 62000000; now < t + 72000000; now += 1000) {
		logged += bh_hub_log_allow(&b, now, &skipped);
	}
	CHECK(logged >= 9 && logged <= 11);
}

int main(void)
{
	check_log_budget();
	struct bh_hub hub = {0};
	check_members(&hub);
	check_route(&hub);
	return bh_test_finish("test_link_hub");
}
