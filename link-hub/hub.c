/* The link hub's switching (see hub.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link-hub/hub.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* "xx:xx:xx:xx:xx:xx" then a comma; returns what follows it, or NULL. */
static const char *parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);
		if (lo < 0 || s[2] != (i == 5 ? ',' : ':')) {
			return NULL;
		}
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 3;
	}
	return s;
}

/* A port 1024..65535 in decimal then a comma; returns what follows it. */
static const char *parse_port(const char *s, unsigned *port)
{
	unsigned v = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9' && p - s < 5; p++) {
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (p == s || *p != ',' || v < 1024 || v > 65535) {
		return NULL;
	}
	*port = v;
	return p + 1;
}

bool bh_hub_member_parse(const char *arg, struct bh_hub_member *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	const char *p = parse_mac(arg, out->mac);
	if (p == NULL) {
		*why = "a member is MAC,GUEST_PORT,HUB_PORT,TAG: bad MAC";
		return false;
	}
	/* A member's MAC is one station's: not a group address. */
	if (out->mac[0] & 1) {
		*why = "a member's MAC is a multicast address";
		return false;
	}
	p = parse_port(p, &out->guest_port);
	p = p != NULL ? parse_port(p, &out->hub_port) : NULL;
	if (p == NULL) {
		*why = "a member is MAC,GUEST_PORT,HUB_PORT,TAG: bad port";
		return false;
	}
	size_t n = strlen(p);
	if (n == 0 || n > BH_TAG_MAX) {
		*why = "a member's tag is 1 to 64 bytes";
		return false;
	}
	memcpy(out->tag, p, n + 1);
	return true;
}

bool bh_hub_add(struct bh_hub *hub, const struct bh_hub_member *m, const char **why)
{
	if (hub->count >= BH_LINK_MEMBERS_MAX) {
		*why = "too many members";
		return false;
	}
	for (unsigned i = 0; i < hub->count; i++) {
		const struct bh_hub_member *o = &hub->members[i];
		if (memcmp(o->mac, m->mac, 6) == 0) {
			*why = "two members have one MAC";
			return false;
		}
		unsigned ports[] = {o->guest_port, o->hub_port};
		for (int k = 0; k < 2; k++) {
			if (ports[k] == m->guest_port || ports[k] == m->hub_port) {
				*why = "two members have one port";
				return false;
			}
		}
	}
	if (m->guest_port == m->hub_port) {
		*why = "a member's two ports are one";
		return false;
	}
	hub->members[hub->count++] = *m;
	return true;
}

uint32_t bh_hub_route(
	const struct bh_hub *hub, unsigned from, const uint8_t *frame, size_t len, const char **why)
{
	*why = NULL;
	if (from >= hub->count) {
		*why = "from no member";
		return 0;
	}
	if (len < BH_HUB_FRAME_MIN) {
		*why = "shorter than an Ethernet header (14 bytes)";
		return 0;
	}
	if (len > BH_HUB_FRAME_MAX) {
		*why = "longer than an Ethernet frame (1518 bytes; the link's MTU is 1500)";
		return 0;
	}
	const uint8_t *dst = frame, *src = frame + 6;
	if (memcmp(src, hub->members[from].mac, 6) != 0) {
		*why = "its source MAC is not the member's own (spoofed)";
		return 0;
	}
	uint32_t all = hub->count >= 32 ? 0xffffffffu : (1u << hub->count) - 1;
	if (dst[0] & 1) {
		/* Broadcast or multicast: every other member. */
		return all & ~(1u << from);
	}
	for (unsigned i = 0; i < hub->count; i++) {
		if (i != from && memcmp(dst, hub->members[i].mac, 6) == 0) {
			return 1u << i;
		}
	}
	return 0;
}

void bh_hub_log_budget_init(struct bh_hub_log_budget *b)
{
	*b = (struct bh_hub_log_budget){.tokens = BH_HUB_LOG_BURST};
}

bool bh_hub_log_allow(struct bh_hub_log_budget *b, uint64_t now, unsigned long *suppressed)
{
	/* One line back per second since the last refill, up to a burst. */
	if (b->tokens < BH_HUB_LOG_BURST && now >= b->refill) {
		uint64_t back = (now - b->refill) / 1000000 + 1;
		b->tokens = back >= BH_HUB_LOG_BURST - b->tokens ? BH_HUB_LOG_BURST
								 : b->tokens + (unsigned)back;
		b->refill = now + 1000000;
	}
	if (b->tokens == 0) {
		b->suppressed++;
		return false;
	}
	if (b->tokens-- == BH_HUB_LOG_BURST) {
		b->refill = now + 1000000;
	}
	if (suppressed != NULL) {
		*suppressed = b->suppressed;
	}
	b->suppressed = 0;
	return true;
}
