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

void bh_link_member(unsigned uid, const char *link, const char *tag, struct bh_link_member *out)
{
	uint64_t l = hash(uid, link, NULL);
	uint64_t m = hash(uid, link, tag);
	snprintf(out->group, sizeof(out->group), "239.255.%u.%u", (unsigned)(l & 0xff),
		(unsigned)((l >> 8) & 0xff));
	out->port = 20000 + (unsigned)((l >> 16) % 40000);
	snprintf(out->mac, sizeof(out->mac), "0e:%02x:%02x:%02x:%02x:%02x",
		(unsigned)(m & 0xff), (unsigned)((m >> 8) & 0xff), (unsigned)((m >> 16) & 0xff),
		(unsigned)((m >> 24) & 0xff), (unsigned)((m >> 32) & 0xff));
	/* 10.100.0.0 to 10.199.255.255, away from user networking's 10.0.2.0/24;
	 * the host part avoids .0 and .255 in either byte. */
	unsigned net = 100 + (unsigned)((l >> 40) % 100);
	unsigned host = (unsigned)((m >> 40) % (254 * 254));
	snprintf(out->address, sizeof(out->address), "10.%u.%u.%u", net, 1 + host / 254,
		1 + host % 254);
	out->prefix = 16;
}
