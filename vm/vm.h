/* A tag's VM on libvirt: start (creating its disks), attach, stop, status,
 * clean and rebase; and waiting for its agent to answer on the channel. */
#ifndef VM_VM_H
#define VM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/domain.h"
#include "vm/image.h"
#include "vm/link.h"
#include "vm/share.h"
#include "vm/tag.h"

/* Error sentences returned by this library: one line saying what failed
 * for which tag and what to do, plus the console tail where it helps. */
#define BH_VM_ERROR_SIZE 4096
/* Longest channel address ("unix:/path" or "vsock:CID:PORT"). */
#define BH_VM_CHANNEL_SIZE 4200

enum bh_root_policy {
	BH_ROOT_PERSISTENT = 0, /* the overlay keeps everything; rebased on a new base */
	BH_ROOT_FRESH,          /* the overlay is recreated on the newest base at each start */
};

/* A tag's settings (the caller fills them from its [tag NAME] section). */
struct bh_vm_settings {
	const char *base;        /* base id, "latest" or NULL (latest) */
	unsigned memory_mib;     /* 0: 1024 */
	unsigned cpus;           /* 0: 1 */
	unsigned virtio_mem_mib; /* 0: no virtio-mem */
	enum bh_accel accel;
	enum bh_transport transport;
	enum bh_network network;
	enum bh_root_policy root;
	unsigned boot_timeout; /* seconds for the agent to answer; 0: 120 */
	/* The shared region for window contents (shm_size): MiB, 0 for the
	 * default (BH_REGION_DEFAULT_MIB); shm_off: none, the stream path. */
	unsigned shm_mib;
	bool shm_off;
	struct bh_share shares[BH_SHARES_MAX]; /* share = HOST:GUEST[:rw], in order */
	unsigned share_count;
	char links[BH_LINKS_MAX][BH_LINK_NAME_MAX + 1]; /* link = NAME */
	unsigned link_count;
	/* Filled by bh_vm_settings_from_config from the config's [tag]
	 * sections: how many tags name each link (this one included), and
	 * the first BH_LINK_MEMBERS_MAX of them in the config's order. */
	unsigned link_members[BH_LINKS_MAX];
	char link_tags[BH_LINKS_MAX][BH_LINK_MEMBERS_MAX][BH_TAG_MAX + 1];
};

enum bh_vm_state {
	BH_VM_STOPPED = 0,
	BH_VM_RUNNING,
	BH_VM_PAUSED, /* exists but not running (paused, crashed, shutting down) */
};

struct bh_vm_status {
	enum bh_vm_state state;
	bool has_disks;                   /* root or home disk exists */
	char base[BH_BASE_ID_SIZE];       /* base of the root overlay, "" if none */
	uint64_t disk_bytes;              /* space the tag's disks take */
	char channel[BH_VM_CHANNEL_SIZE]; /* while running */
};

/* One libvirt connection. */
struct bh_vm;

/* uri: NULL for LIBVIRT_DEFAULT_URI, else qemu:///session. */
struct bh_vm *bh_vm_connect(const char *uri, char error[BH_VM_ERROR_SIZE]);
void bh_vm_disconnect(struct bh_vm *vm);
const char *bh_vm_uri(const struct bh_vm *vm);
/* MiB of the tag's shared region (0: none, shm_size = off). */
unsigned bh_vm_region_mib(const struct bh_vm_settings *settings);

/* Starts the tag's VM, creating its overlay and home disk if needed, or
 * attaches to it if it already runs. Concurrent calls for one tag (from
 * any process) start one domain. On success channel holds the address of
 * the agent's channel (unix:PATH or vsock:CID:PORT). started tells whether
 * this call booted it (may be NULL). */
bool bh_vm_start(struct bh_vm *vm, const char *tag, const struct bh_vm_settings *settings,
	char channel[BH_VM_CHANNEL_SIZE], bool *started, char error[BH_VM_ERROR_SIZE]);
/* Connects to the channel, sends HELLO and waits for the agent's HELLO,
 * then hangs up (the agent waits for its next host). Fails after
 * timeout_sec, or as soon as the domain stops, with the console's last
 * lines in error. */
bool bh_vm_wait_agent(struct bh_vm *vm, const char *tag, const char *channel, unsigned timeout_sec,
	char error[BH_VM_ERROR_SIZE]);
/* ACPI shutdown, then after timeout_sec (or at once with force) power off.
 * Stopping a stopped tag succeeds. */
bool bh_vm_stop(struct bh_vm *vm, const char *tag, bool force, unsigned timeout_sec,
	char error[BH_VM_ERROR_SIZE]);
bool bh_vm_status(struct bh_vm *vm, const char *tag, struct bh_vm_status *status,
	char error[BH_VM_ERROR_SIZE]);
/* Every tag with disks or a running domain, sorted; returns the count or
 * -1. Free with bh_vm_tags_free. */
int bh_vm_tags(struct bh_vm *vm, char ***tags, char error[BH_VM_ERROR_SIZE]);
void bh_vm_tags_free(char **tags, int n);
/* Deletes the tag's disks, console log and sockets; refuses while it runs. */
bool bh_vm_clean(struct bh_vm *vm, const char *tag, char error[BH_VM_ERROR_SIZE]);
/* Rebases a stopped persistent tag's overlay onto the base its settings
 * name, keeping its contents identical. *changed tells whether anything
 * was done. Refuses (false) while the tag runs. */
bool bh_vm_rebase(struct bh_vm *vm, const char *tag, const struct bh_vm_settings *settings,
	bool *changed, char error[BH_VM_ERROR_SIZE]);
/* Bases that no tag's overlay uses and that are not "latest". Returns the
 * count of removed bases, or -1. */
int bh_vm_base_gc(char error[BH_VM_ERROR_SIZE]);
/* The last lines of the tag's console log (malloc'd, "" when there is none). */
char *bh_vm_console_tail(const char *tag, int lines);

#endif
