/* The libvirt domain XML of a tag's VM, generated from the tag's settings
 * and its disk and socket paths. Pure: no libvirt calls, so it is unit tested. */
#ifndef VM_DOMAIN_H
#define VM_DOMAIN_H

#include <stdbool.h>
#include <stdio.h>

enum bh_accel {
	BH_ACCEL_AUTO = 0,
	BH_ACCEL_KVM,
	BH_ACCEL_TCG,
};

enum bh_transport {
	BH_TRANSPORT_SERIAL = 0,
	BH_TRANSPORT_VSOCK,
};

enum bh_network {
	BH_NETWORK_NONE = 0,
	BH_NETWORK_USER,
};

/* The port the agent listens on when the channel runs over AF_VSOCK. */
#define BH_VSOCK_PORT 7235

/* A host folder exported to the guest through 9p (vm/share.h). */
struct bh_domain_share {
	const char *source;     /* resolved host directory */
	const char *mount_tag;  /* "bh0": what the guest mounts */
	const char *guest_path; /* where the agent mounts it */
	bool readonly;
};

/* The tag's interface on one private link (vm/link.h). */
struct bh_domain_link {
	unsigned guest_port; /* qemu receives on 127.0.0.1:guest_port */
	unsigned hub_port;   /* and sends to the link's hub on 127.0.0.1:hub_port */
	const char *mac;
	const char *address; /* the guest's IPv4 address on the link */
	unsigned prefix;
};

/* Everything a domain is made of; all strings are copied into the XML
 * escaped, so any bytes are safe here. */
struct bh_domain_spec {
	const char *name; /* libvirt domain name (bh_tag_domain_name) */
	const char *tag;  /* shown in the domain's title */
	bool kvm;         /* <domain type='kvm'>, else 'qemu' (TCG) */
	unsigned memory_mib;
	/* Memory in a shared memfd the proxy can read (window contents
	 * copied by the host from the guest client's buffer). */
	bool shared_memory;
	unsigned cpus;
	unsigned virtio_mem_mib; /* 0: no virtio-mem device */
	const char *kernel;
	const char *initrd;
	const char *cmdline;     /* the whole kernel command line */
	const char *root_disk;   /* qcow2 overlay, vda */
	const char *home_disk;   /* qcow2, vdb */
	const char *console_log; /* serial console output file */
	enum bh_transport transport;
	const char *channel_path; /* unix socket of the serial channel; NULL: libvirt's choice */
	enum bh_network network;
	/* The shared region for window contents: libvirt's <shmem> of this
	 * name (ivshmem-plain, /dev/shm/NAME), or NULL for none. */
	const char *shmem_name;
	unsigned shmem_mib;
	const struct bh_domain_share *shares;
	unsigned share_count;
	const struct bh_domain_link *links;
	unsigned link_count;
};

/* The kernel command line: console on ttyS0, quiet, a panic ends the
 * domain, base_cmdline (from the base's manifest; may be NULL) appended.
 * Returns a malloc'd string. */
char *bh_domain_cmdline(const char *base_cmdline, enum bh_transport transport);

/* The kernel command line words that tell the agent what to set up at
 * boot, each preceded by a space: " bulkhead.share=TAG,ro|rw,GUEST-PATH" per
 * share, " bulkhead.link=MAC,ADDRESS/PREFIX" per link and " bulkhead.net=user"
 * with user networking ("" for none).
 * Returns a malloc'd string, NULL when out of memory. */
char *bh_domain_guest_args(const struct bh_domain_spec *spec);

/* Returns the domain XML (malloc'd), or NULL on allocation failure. */
char *bh_domain_xml(const struct bh_domain_spec *spec);

/* Writes s to the XML document f with &, <, >, ' and " escaped. */
void bh_xml_escape(FILE *f, const char *s);

/* accel: auto picks KVM when /dev/kvm opens read-write, else TCG. The
 * BULKHEAD_ACCEL environment variable (kvm|tcg), when set, overrides the
 * tag's setting: for machines whose KVM cannot run the guest kernel. */
bool bh_domain_use_kvm(enum bh_accel accel);

#endif
