/* Private links between tags: `link = NAME` on two or more tags puts their
 * VMs on one private Ethernet segment. Each member's qemu sends its frames
 * as UDP datagrams on the host's loopback (libvirt's unprivileged
 * <interface type='udp'>) to the link's hub (bulkhead-link-hub), which
 * passes each frame on only to the members it is for. The host has no
 * address on the segment and routes nothing. Every member's ports, MAC and
 * IPv4 address come from the user, the link's name and the names of all
 * its members, so every start agrees without state. Pure. */
#ifndef VM_LINK_H
#define VM_LINK_H

#include <stdbool.h>
#include <stddef.h>

#define BH_LINKS_MAX 4
#define BH_LINK_NAME_MAX 32
/* Tags on one link. */
#define BH_LINK_MEMBERS_MAX 16

/* One tag's end of one link. */
struct bh_link_member {
	unsigned guest_port; /* the member's qemu receives here (127.0.0.1) */
	unsigned hub_port;   /* and sends to the hub here */
	char mac[18];        /* "0e:XX:XX:XX:XX:XX", locally administered */
	char address[16];    /* "10.N.A.B" in the link's /16 */
	unsigned prefix;     /* 16 */
};

/* A link name: 1 to BH_LINK_NAME_MAX bytes of [a-z0-9_-]. False with a
 * static sentence in *why otherwise. */
bool bh_link_name_check(const char *name, const char **why);

/* The ends of all n members of link (tags in any order, no repeats, n at
 * most BH_LINK_MEMBERS_MAX), for the user uid: out[i] is tags[i]'s. No two
 * members share a port, a MAC or an address, and the result does not
 * depend on the order of tags. */
void bh_link_plan(unsigned uid, const char *link, const char *const tags[], unsigned n,
	struct bh_link_member out[]);

/* The hub's description of member m (tag's end): "MAC,GUEST_PORT,HUB_PORT,TAG",
 * what bulkhead-link-hub takes on its command line. False if it does not fit. */
bool bh_link_member_arg(const struct bh_link_member *m, const char *tag, char *out, size_t size);

#endif
