/* Private links between tags: `link = NAME` on exactly two tags is a private
 * Ethernet cable between their VMs, carried as UDP datagrams between two
 * ports of the host's loopback (libvirt's unprivileged
 * <interface type='udp'>). The host has no address on it and routes
 * nothing; each member's ports, MAC and IPv4 address come from the user,
 * the link's name and the two tags' names, so every start agrees without
 * state. (libvirt's mcast interfaces cannot be bound to the loopback, so
 * their frames would reach the LAN: not used.) Pure. */
#ifndef VM_LINK_H
#define VM_LINK_H

#include <stdbool.h>

#define BH_LINKS_MAX 4
#define BH_LINK_NAME_MAX 32

/* One tag's end of one link. */
struct bh_link_member {
	unsigned local_port;  /* this tag's qemu receives here (127.0.0.1) */
	unsigned remote_port; /* and sends to the peer's */
	char mac[18];         /* "0e:XX:XX:XX:XX:XX", locally administered */
	char address[16];     /* "10.N.A.B" in the link's /16 */
	unsigned prefix;      /* 16 */
};

/* A link name: 1 to BH_LINK_NAME_MAX bytes of [a-z0-9_-]. False with a
 * static sentence in *why otherwise. */
bool bh_link_name_check(const char *name, const char **why);

/* The end of tag on link whose other end is peer, for the user uid. */
void bh_link_member(unsigned uid, const char *link, const char *tag, const char *peer,
	struct bh_link_member *out);

#endif
