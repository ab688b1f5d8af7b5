/* Private links between tags: names, groups and addresses (see link.h). */
#include <stdint.h>
#include <stdio.h>
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

/* A tag's port on a link: 20000..59999. */
static unsigned port_of(unsigned uid, const char *link, const char *tag)
{
	return 20000 + (unsigned)((hash(uid, link, tag) >> 16) % 40000);
}

void bh_link_member(unsigned uid, const char *link, const char *tag, const char *peer,
	struct bh_link_member *out)
{
	uint64_t l = hash(uid, link, NULL);
	uint64_t m = hash(uid, link, tag);
	unsigned mine = port_of(uid, link, tag), theirs = port_of(uid, link, peer);
	/* Two ends on one port: the end whose name sorts later moves up by one,
	 * and both ends compute the same. */
	if (mine == theirs) {
		if (strcmp(tag, peer) > 0) {
			mine = mine == 59999 ? 20000 : mine + 1;
		} else {
			theirs = theirs == 59999 ? 20000 : theirs + 1;
		}
	}
	out->local_port = mine;
	out->remote_port = theirs;
	snprintf(out->mac, sizeof(out->mac), "0e:%02x:%02x:%02x:%02x:%02x", (unsigned)(m & 0xff),
		(unsigned)((m >> 8) & 0xff), (unsigned)((m >> 16) & 0xff),
		(unsigned)((m >> 24) & 0xff), (unsigned)((m >> 32) & 0xff));
	/* 10.100.0.0 to 10.199.255.255, away from user networking's 10.0.2.0/24;
	 * the host part avoids .0 and .255 in either byte, and the two ends
	 * never get one address. */
	unsigned net = 100 + (unsigned)((l >> 40) % 100);
	unsigned host = (unsigned)((m >> 40) % (254 * 254));
	unsigned other = (unsigned)((hash(uid, link, peer) >> 40) % (254 * 254));
	if (host == other && strcmp(tag, peer) > 0) {
		host = (host + 1) % (254 * 254);
	}
	snprintf(out->address, sizeof(out->address), "10.%u.%u.%u", net, 1 + host / 254,
		1 + host % 254);
	out->prefix = 16;
}
