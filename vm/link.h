/* Private links between tags: `link = NAME` on two or more tags puts them on
 * one Ethernet segment that exists only as a multicast group on the host's
 * loopback (libvirt's unprivileged <interface type='mcast'>). The group and
 * port come from the user and the link's name, each member's MAC and IPv4
 * address from the link and the tag's name, so every start of every member
 * agrees without any state. Pure. */
#ifndef VM_LINK_H
#define VM_LINK_H

#include <stdbool.h>

#define BH_LINKS_MAX 4
#define BH_LINK_NAME_MAX 32

/* One tag's place on one link. */
struct bh_link_member {
	char group[16];   /* "239.255.X.Y": administratively scoped multicast */
	unsigned port;    /* 20000..59999 */
	char mac[18];     /* "0e:XX:XX:XX:XX:XX", locally administered */
	char address[16]; /* "10.N.A.B" in the link's /16 */
	unsigned prefix;  /* 16 */
};

/* A link name: 1 to BH_LINK_NAME_MAX bytes of [a-z0-9_-]. False with a
 * static sentence in *why otherwise. */
bool bh_link_name_check(const char *name, const char **why);

/* The group, port, MAC and address of tag on link for the user uid. */
void bh_link_member(unsigned uid, const char *link, const char *tag, struct bh_link_member *out);

#endif
