/* The link hub's switching, without sockets: who a link's members are, and
 * which of them a frame one member sent goes to. Pure, so that the unit
 * test and the fuzzer drive exactly what bulkhead-link-hub runs. */
#ifndef LINK_HUB_HUB_H
#define LINK_HUB_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/link.h"
#include "vm/tag.h"

/* An Ethernet frame as qemu's socket backend sends it: no preamble, no
 * checksum; a header of two MACs and a type, and at most 1500 bytes of
 * payload after an optional 802.1Q tag. */
#define BH_HUB_FRAME_MIN 14
#define BH_HUB_FRAME_MAX 1518

struct bh_hub_member {
	uint8_t mac[6];
	unsigned guest_port; /* where its qemu receives */
	unsigned hub_port;   /* where the hub receives what it sends */
	char tag[BH_TAG_MAX + 1];
};

struct bh_hub {
	struct bh_hub_member members[BH_LINK_MEMBERS_MAX];
	unsigned count;
};

/* One member from its command-line description "MAC,GUEST_PORT,HUB_PORT,TAG"
 * (bh_link_member_arg). False with a static sentence in *why. */
bool bh_hub_member_parse(const char *arg, struct bh_hub_member *out, const char **why);
/* Adds a parsed member; false (with *why) when the hub is full or the
 * member's MAC or a port is already another member's. */
bool bh_hub_add(struct bh_hub *hub, const struct bh_hub_member *m, const char **why);

/* Where the frame of len bytes that member from sent goes: a set of member
 * indexes (bit i for member i), never including from. 0 with *why set: a
 * bad frame (too short, too long, or not from the sender's own MAC), to be
 * logged; 0 with *why NULL: a good frame nobody else is to get (to an
 * unknown unicast MAC, or to the sender itself). Broadcast and multicast go
 * to every other member, unicast only to the member whose MAC it is. */
uint32_t bh_hub_route(const struct bh_hub *hub, unsigned from, const uint8_t *frame, size_t len,
	const char **why);

/* How many lines a member's bad frames may cause: a burst of
 * BH_HUB_LOG_BURST, then one a second. */
#define BH_HUB_LOG_BURST 10

struct bh_hub_log_budget {
	unsigned tokens;          /* lines it may still cause; starts full */
	uint64_t refill;          /* usec when the next one comes back */
	unsigned long suppressed; /* bad frames not logged since the last line */
};

void bh_hub_log_budget_init(struct bh_hub_log_budget *b);
/* One more bad frame at now_usec: true when it is to be logged (then
 * *suppressed, when not NULL, gets how many went unlogged before it, and
 * the count starts again). */
bool bh_hub_log_allow(struct bh_hub_log_budget *b, uint64_t now_usec, unsigned long *suppressed);

#endif
