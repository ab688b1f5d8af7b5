/* Private links between tags: names, members' ends and the hub's
 * description of them (see link.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/link.h"

bool bh_link_name_check(const char *name, const char **why)
{
	size_t n = strlen(name);
	if (n == 0 || n > BH_LINK_NAME_MAX) {
		*why = "a link name has 1 to 32 characters";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
			*why = "a link name is made of a-z, 0-9, _ and -";
			return false;
		}
	}
	return true;
}

/* FNV-1a over the parts, each ended by a NUL so that ("ab","c") and
 * ("a","bc") differ. */
static uint64_t hash(unsigned uid, const char *a, const char *b)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char id[16];
	snprintf(id, sizeof(id), "%u", uid);
	const char *parts[] = {id, a, b};
	for (int i = 0; i < 3; i++) {
		if (parts[i] == NULL) {
			continue;
		}
		for (const char *p = parts[i];; p++) {
			h ^= (unsigned char)*p;
			h *= 0x100000001b3ull;
			if (*p == '\0') {
				break;
			}
		}
	}
	return h;
}

/* Ports come in pairs: the guest's even port and the hub's one above it,
 * 20000..59999. */
#define PORT_FIRST 20000u
#define PORT_PAIRS 20000u
/* Host parts of an address: neither byte .0 or .255. */
#define HOSTS (254u * 254u)

struct planned {
	unsigned pair; /* port pair index */
	unsigned host; /* host part index */
	uint64_t mac;  /* the low 40 bits */
};

static const char *const *sort_tags;

static int by_name(const void *a, const void *b)
{
	return strcmp(sort_tags[*(const unsigned *)a], sort_tags[*(const unsigned *)b]);
}

void bh_link_plan(unsigned uid, const char *link, const char *const tags[], unsigned n,
	struct bh_link_member out[])
{
	if (n > BH_LINK_MEMBERS_MAX) {
		n = BH_LINK_MEMBERS_MAX;
	}
	/* Collisions are settled in the order of the names, so that every
	 * member computes the same plan from the same set. */
	unsigned order[BH_LINK_MEMBERS_MAX];
	for (unsigned i = 0; i < n; i++) {
		order[i] = i;
	}
	sort_tags = tags;
	qsort(order, n, sizeof(order[0]), by_name);
	uint64_t l = hash(uid, link, NULL);
	/* 10.100.0.0 to 10.199.255.255, away from user networking's 10.0.2.0/24. */
	unsigned net = 100 + (unsigned)((l >> 40) % 100);
	struct planned done[BH_LINK_MEMBERS_MAX];
	for (unsigned k = 0; k < n; k++) {
		uint64_t m = hash(uid, link, tags[order[k]]);
		struct planned p = {
			.pair = (unsigned)((m >> 16) % PORT_PAIRS),
			.host = (unsigned)((m >> 40) % HOSTS),
			.mac = m & 0xffffffffffull,
		};
		for (unsigned j = 0; j < k; j++) {
			if (done[j].pair == p.pair) {
				p.pair = (p.pair + 1) % PORT_PAIRS;
				j = (unsigned)-1; /* look again from the first */
			}
		}
		for (unsigned j = 0; j < k; j++) {
			if (done[j].host == p.host) {
				p.host = (p.host + 1) % HOSTS;
				j = (unsigned)-1;
			}
		}
		for (unsigned j = 0; j < k; j++) {
			if (done[j].mac == p.mac) {
				p.mac = (p.mac + 1) & 0xffffffffffull;
				j = (unsigned)-1;
			}
		}
		done[k] = p;
		struct bh_link_member *o = &out[order[k]];
		o->guest_port = PORT_FIRST + 2 * p.pair;
		o->hub_port = o->guest_port + 1;
		snprintf(o->mac, sizeof(o->mac), "0e:%02x:%02x:%02x:%02x:%02x",
			(unsigned)(p.mac & 0xff), (unsigned)((p.mac >> 8) & 0xff),
			(unsigned)((p.mac >> 16) & 0xff), (unsigned)((p.mac >> 24) & 0xff),
			(unsigned)((p.mac >> 32) & 0xff));
		snprintf(o->address, sizeof(o->address), "10.%u.%u.%u", net % 256,
			(1 + p.host / 254) % 256, (1 + p.host % 254) % 256);
		o->prefix = 16;
	}
}

bool bh_link_member_arg(const struct bh_link_member *m, const char *tag, char *out, size_t size)
{
	int n = snprintf(out, size, "%s,%u,%u,%s", m->mac, m->guest_port, m->hub_port, tag);
	return n >= 0 && (size_t)n < size;
}
