/* libFuzzer target: the link hub's switching (link-hub/hub.c), what a
 * guest's frames and a member's description go through. Input: one byte
 * whose low nibble picks the sender among three members, then the frame as
 * a guest sent it. The same bytes are also read as a member description
 * (the starter writes those, but the parser checks them all the same).
 * What is switched must be a good frame from the sender's own MAC, to
 * members only and never back to the sender. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link-hub/hub.h"

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_link_hub: %s\n", what);
		abort();
	}
}

static struct bh_hub hub;

static void set_up(void)
{
	const char *members[] = {"0e:01:02:03:04:05,20000,20001,alpha",
		"0e:09:09:09:09:09,20010,20011,beta", "0e:ab:cd:ef:00:01,20020,20021,gamma"};
	for (int i = 0; i < 3; i++) {
		struct bh_hub_member m;
		const char *why;
		check(bh_hub_member_parse(members[i], &m, &why) && bh_hub_add(&hub, &m, &why),
			"the members do not parse");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (hub.count == 0) {
		set_up();
	}
	if (size == 0) {
		return 0;
	}
	unsigned from = data[0] & 0x0f;
	const uint8_t *frame = data + 1;
	size_t len = size - 1;
	/* A copy of exactly len bytes, so that a read past the frame is seen. */
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, frame, len);
	const char *why = NULL;
	uint32_t to = bh_hub_route(&hub, from, copy, len, &why);
	if (to != 0) {
		check(why == NULL, "a switched frame has a reason to drop it");
		check(from < hub.count, "a frame from no member was switched");
		check(len >= BH_HUB_FRAME_MIN && len <= BH_HUB_FRAME_MAX,
			"a bad length was switched");
		check(memcmp(copy + 6, hub.members[from].mac, 6) == 0,
			"a spoofed frame was switched");
		check(!(to & (1u << from)), "a frame went back to its sender");
		check((to >> hub.count) == 0, "a frame went to no member");
		check((copy[0] & 1) || (to & (to - 1)) == 0, "a unicast frame went to two members");
	}
	/* The same bytes as a member description, NUL-ended. */
	char *arg = malloc(len + 1);
	memcpy(arg, frame, len);
	arg[len] = '\0';
	struct bh_hub_member m;
	if (bh_hub_member_parse(arg, &m, &why)) {
		check(m.tag[0] != '\0' && strlen(m.tag) <= BH_TAG_MAX, "a bad tag was accepted");
		check(m.guest_port >= 1024 && m.guest_port <= 65535 && m.hub_port >= 1024 &&
				m.hub_port <= 65535,
			"a bad port was accepted");
		check(!(m.mac[0] & 1), "a group MAC was accepted");
		struct bh_hub copy_hub = hub;
		bh_hub_add(&copy_hub, &m, &why);
		check(copy_hub.count <= BH_LINK_MEMBERS_MAX, "the hub overflowed");
	}
	free(arg);
	free(copy);
	return 0;
}
