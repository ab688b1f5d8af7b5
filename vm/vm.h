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
#include "vm/storage.h"
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

/* Where a tag's disks live: files made with qemu-img in the tag's state
 * directory, or volumes of a libvirt storage pool on the tag's host (made
 * through libvirt, so they can be on another machine). auto: files for a
 * libvirt on this machine (a URI without a host), the pool otherwise. */
enum bh_disks {
	BH_DISKS_AUTO = 0,
	BH_DISKS_FILES,
	BH_DISKS_POOL,
};

/* The storage pool bulkhead keeps volumes in when pool = is not set. */
#define BH_POOL_DEFAULT "bulkhead"
/* Room for the sentence of a host setting that cannot be used. */
#define BH_VM_SETTINGS_INVALID_SIZE 512

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
	/* guest_memory = private: the VM's memory is not shared with the
	 * proxy (the agent copies window contents into the region). */
	bool memory_private;
	struct bh_share shares[BH_SHARES_MAX]; /* share = HOST:GUEST[:rw], in order */
	unsigned share_count;
	char links[BH_LINKS_MAX][BH_LINK_NAME_MAX + 1]; /* link = NAME */
	unsigned link_count;
	/* Filled by bh_vm_settings_from_config from the config's [tag]
	 * sections: how many tags name each link (this one included), and
	 * the first BH_LINK_MEMBERS_MAX of them in the config's order. */
	unsigned link_members[BH_LINKS_MAX];
	char link_tags[BH_LINKS_MAX][BH_LINK_MEMBERS_MAX][BH_TAG_MAX + 1];
	/* Where the tag runs: uri = on the tag, or that of its [host NAME]
	 * (host =); NULL: [general] uri. pool, pool_path and disks likewise. */
	const char *uri;
	const char *host;
	const char *pool;      /* NULL: BH_POOL_DEFAULT */
	const char *pool_path; /* where a missing pool is made, on its host */
	enum bh_disks disks;
	/* Not "": why the tag cannot start (a host = naming no [host]
	 * section); bh_vm_start refuses with this sentence. */
	char invalid[BH_VM_SETTINGS_INVALID_SIZE];
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
/* The connection a tag's commands go through: its own uri (settings->uri,
 * else general_uri), with its disks in the pool when settings say so (or,
 * with disks = auto, when the URI names another machine). The error names
 * the tag and says what to do (ssh refused, no libvirt on the host). */
struct bh_vm *bh_vm_connect_tag(const char *tag, const struct bh_vm_settings *settings,
	const char *general_uri, char error[BH_VM_ERROR_SIZE]);
/* The same for who ("tag NAME", "host NAME"), which starts its errors. */
struct bh_vm *bh_vm_connect_for(const char *who, const struct bh_vm_settings *settings,
	const char *general_uri, char error[BH_VM_ERROR_SIZE]);
/* Whether a tag with these settings keeps its disks in a pool: disks =
 * pool, or disks = auto with a URI (its own, else general_uri) naming
 * another machine. */
bool bh_vm_settings_pool(const struct bh_vm_settings *settings, const char *general_uri);
/* True for a URI whose libvirt runs on this machine (no host part). */
bool bh_vm_uri_is_local(const char *uri);
/* The storage pool this connection keeps tag disks in, or NULL (files). */
const char *bh_vm_pool(const struct bh_vm *vm);
/* Sends the registered base id into the connection's pool once (see
 * bh_storage_push_base: uploaded, read back and checksum-checked); *sent
 * is false when it was there already. */
bool bh_vm_base_push(struct bh_vm *vm, const char *id, bh_storage_progress_fn progress,
	void *user, bool *sent, char error[BH_VM_ERROR_SIZE]);
/* Removes the bases of the connection's pool that no tag volume there is
 * backed by and that are not this machine's latest. Returns the count,
 * or -1 with error set. */
int bh_vm_pool_base_gc(struct bh_vm *vm, char error[BH_VM_ERROR_SIZE]);
/* Whether base id is whole in the connection's pool. */
bool bh_vm_base_on_host(struct bh_vm *vm, const char *id);
void bh_vm_disconnect(struct bh_vm *vm);
const char *bh_vm_uri(const struct bh_vm *vm);
/* Whether the connection's libvirt may be on another machine
 * (bh_config_uri_remote). Such a tag's channel goes through libvirt
 * (libvirt:NAME), never a shared region. */
bool bh_vm_remote(const struct bh_vm *vm);
/* Opens the running tag's channel named name through this connection
 * (vm/channel_stream.h): the socket that carries it, or -1 with a
 * sentence in err. */
int bh_vm_open_channel(struct bh_vm *vm, const char *tag, const char *name, char *err,
	size_t err_size);
/* MiB of the tag's memory at boot. */
unsigned bh_vm_memory_mib(const struct bh_vm_settings *settings);
/* MiB of the tag's shared region (0: none, shm_size = off). */
unsigned bh_vm_region_mib(const struct bh_vm_settings *settings);

/* Starts the tag's VM, creating its overlay and home disk if needed, or
 * attaches to it if it already runs. Concurrent calls for one tag (from
 * any process) start one domain. On success channel holds the address of
 * the agent's channel (unix:PATH, vsock:CID:PORT, or libvirt:NAME for a
 * VM elsewhere). started tells whether
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
/* The same through vm: from the tag's console volume when its disks are
 * in a pool (the console of a VM on another machine is written there). */
char *bh_vm_console_tail_of(struct bh_vm *vm, const char *tag, int lines);

#endif
