/* Tag VMs on libvirt: disks, transient domains, lifecycle (see vm.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "common/endpoint.h"
#include "common/config.h"
#include "common/log.h"
#include "common/region.h"
#include "common/transport.h"
#include "common/util.h"
#include "vm/channel_stream.h"
#include "vm/config.h"
#include "vm/link_hub.h"
#include "vm/lock.h"
#include "vm/paths.h"
#include "vm/storage.h"
#include "vm/vm.h"

#define DEFAULT_URI "qemu:///session"
#define DEFAULT_MEMORY_MIB 1024
#define DEFAULT_BOOT_TIMEOUT 120
#define CONSOLE_TAIL_LINES 15
#define PROBE_HANGUP_USEC (1000 * 1000)
#define SETTLE_USEC (60ull * 1000 * 1000)

struct bh_vm {
	virConnectPtr conn;
	char *uri;
	/* The storage pool of the tag's disks, or NULL: files of the state
	 * directory (bh_vm_connect_tag decides). */
	virStoragePoolPtr pool;
};

static void set_error(char error[BH_VM_ERROR_SIZE], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_error(char error[BH_VM_ERROR_SIZE], const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(error, BH_VM_ERROR_SIZE, fmt, args);
	va_end(args);
	bh_log(BH_LOG_DEBUG, "%s", error);
}

static const char *libvirt_message(void)
{
	const char *msg = virGetLastErrorMessage();
	return msg != NULL ? msg : "unknown libvirt error";
}

/* libvirt prints every error to stderr by default; ours carry them. */
static void silence_libvirt(void *data, virErrorPtr err)
{
}

struct bh_vm *bh_vm_connect(const char *uri, char error[BH_VM_ERROR_SIZE])
{
	virSetErrorFunc(NULL, silence_libvirt);
	if (uri == NULL || uri[0] == '\0') {
		uri = getenv("LIBVIRT_DEFAULT_URI");
	}
	if (uri == NULL || uri[0] == '\0') {
		uri = DEFAULT_URI;
	}
	struct bh_vm *vm = calloc(1, sizeof(*vm));
	if (vm == NULL || (vm->uri = strdup(uri)) == NULL) {
		free(vm);
		set_error(error, "out of memory");
		return NULL;
	}
	/* A VM elsewhere has its channel through a stream, which needs
	 * libvirt's event loop from before the connection is opened. */
	char why[256];
	if (bh_config_uri_remote(uri) && !bh_channel_stream_init(why, sizeof(why))) {
		set_error(error, "cannot reach libvirt at %s: %s", uri, why);
		free(vm->uri);
		free(vm);
		return NULL;
	}
	vm->conn = virConnectOpen(uri);
	if (vm->conn == NULL) {
		if (bh_config_uri_remote(uri)) {
			/* Another machine: its being up and its ssh or TLS set-up
			 * are what usually fails, and virsh tells the same. */
			set_error(error,
				"cannot reach libvirt at %s: %s (is that machine up, and does "
				"`virsh -c '%s' list` work from here?)",
				uri, libvirt_message(), uri);
		} else {
			set_error(error,
				"cannot reach libvirt at %s: %s (is libvirt installed, and is "
				"`uri =` in the config right?)",
				uri, libvirt_message());
		}
		free(vm->uri);
		free(vm);
		return NULL;
	}
	return vm;
}

bool bh_vm_uri_is_local(const char *uri)
{
	/* One definition for the channel, the region and the disks. */
	return !bh_config_uri_remote(uri);
}

/* What to do about a connection libvirt could not make, from its words:
 * ssh's refusals and a host without libvirt read differently. */
static const char *connect_hint(const char *msg)
{
	if (strstr(msg, "Permission denied") != NULL || strstr(msg, "publickey") != NULL ||
		strstr(msg, "Host key verification failed") != NULL ||
		strstr(msg, "authentication") != NULL) {
		return "ssh refused the login: check the user in the URI, its key (keyfile=) and "
		       "the host's key in known_hosts";
	}
	if (strstr(msg, "Connection refused") != NULL || strstr(msg, "No route to host") != NULL ||
		strstr(msg, "Could not resolve") != NULL || strstr(msg, "timed out") != NULL) {
		return "the host does not answer ssh: is it up, is sshd running, and are the host "
		       "name and port in the URI right?";
	}
	if (strstr(msg, "virt-ssh-helper") != NULL || strstr(msg, "nc: ") != NULL ||
		strstr(msg, "command not found") != NULL || strstr(msg, "not found") != NULL) {
		return "libvirt is missing on that host: install libvirt-clients and "
		       "libvirt-daemon-driver-qemu there";
	}
	if (strstr(msg, "Failed to connect socket") != NULL || strstr(msg, "No such file") != NULL) {
		return "libvirt's daemon does not run there: install libvirt-daemon (and "
		       "libvirt-daemon-driver-qemu) on that host";
	}
	return "is libvirt installed there, and is `uri =` in the config right?";
}

bool bh_vm_settings_pool(const struct bh_vm_settings *s, const char *general_uri)
{
	const char *uri = s->uri != NULL ? s->uri : general_uri;
	if (uri == NULL) {
		uri = getenv("LIBVIRT_DEFAULT_URI"); /* as bh_vm_connect picks it */
	}
	return s->disks == BH_DISKS_POOL ||
	       (s->disks == BH_DISKS_AUTO && uri != NULL && !bh_vm_uri_is_local(uri));
}

struct bh_vm *bh_vm_connect_tag(const char *tag, const struct bh_vm_settings *s,
	const char *general_uri, char error[BH_VM_ERROR_SIZE])
{
	char who[BH_TAG_MAX + 8];
	snprintf(who, sizeof(who), "tag %s", tag);
	return bh_vm_connect_for(who, s, general_uri, error);
}

struct bh_vm *bh_vm_connect_for(const char *who, const struct bh_vm_settings *s,
	const char *general_uri, char error[BH_VM_ERROR_SIZE])
{
	if (s->invalid[0] != '\0') {
		set_error(error, "%s", s->invalid);
		return NULL;
	}
	const char *uri = s->uri != NULL ? s->uri : general_uri;
	char why[BH_VM_ERROR_SIZE];
	struct bh_vm *vm = bh_vm_connect(uri, why);
	if (vm == NULL) {
		/* libvirt's own words in one line, then what to do. */
		char msg[1024];
		snprintf(msg, sizeof(msg), "%.1000s", virGetLastError() != NULL ? libvirt_message() : why);
		for (char *c = msg; *c; c++) {
			if (*c == '\n' || *c == '\r') {
				*c = ' ';
			}
		}
		const char *shown = uri != NULL ? uri : getenv("LIBVIRT_DEFAULT_URI");
		set_error(error, "%s: cannot reach libvirt at %s: %s; %s", who,
			shown != NULL && shown[0] != '\0' ? shown : DEFAULT_URI, msg, connect_hint(msg));
		return NULL;
	}
	if (bh_vm_settings_pool(s, vm->uri)) {
		char why_pool[BH_VM_ERROR_SIZE];
		const char *name = s->pool != NULL ? s->pool : BH_POOL_DEFAULT;
		vm->pool = bh_storage_pool(
			vm->conn, vm->uri, name, s->pool_path, why_pool, sizeof(why_pool));
		if (vm->pool == NULL) {
			set_error(error, "%s: %s", who, why_pool);
			bh_vm_disconnect(vm);
			return NULL;
		}
	}
	return vm;
}

bool bh_vm_base_push(struct bh_vm *vm, const char *id, bh_storage_progress_fn progress,
	void *user, bool *sent, char error[BH_VM_ERROR_SIZE])
{
	*sent = false;
	if (vm->pool == NULL) {
		set_error(error, "%s keeps its disks as files of this machine: nothing to push",
			vm->uri);
		return false;
	}
	char why[BH_VM_ERROR_SIZE];
	if (!bh_storage_push_base(vm->conn, vm->pool, id, progress, user, sent, why, sizeof(why))) {
		set_error(error, "pushing base %s to the storage pool %s on %s failed: %s", id,
			virStoragePoolGetName(vm->pool), vm->uri, why);
		return false;
	}
	return true;
}

int bh_vm_pool_base_gc(struct bh_vm *vm, char error[BH_VM_ERROR_SIZE])
{
	if (vm->pool == NULL) {
		set_error(error, "%s keeps its disks as files of this machine", vm->uri);
		return -1;
	}
	virStorageVolPtr *vols = NULL;
	int n = virStoragePoolListAllVolumes(vm->pool, &vols, 0);
	if (n < 0) {
		set_error(error, "cannot list the volumes of the storage pool %s on %s: %s",
			virStoragePoolGetName(vm->pool), vm->uri, libvirt_message());
		return -1;
	}
	/* Whole bases (their manifest) and the bases the tags' overlays use. */
	char (*bases)[BH_BASE_ID_SIZE] = calloc((size_t)n + 1, sizeof(*bases));
	bool *used = calloc((size_t)n + 1, sizeof(*used));
	int nbases = 0;
	bool scanned = bases != NULL && used != NULL;
	const char *suffix = "-manifest.json";
	for (int i = 0; scanned && i < n; i++) {
		const char *name = virStorageVolGetName(vols[i]);
		size_t len = name != NULL ? strlen(name) : 0, slen = strlen(suffix);
		if (len > 5 + slen && strncmp(name, "base-", 5) == 0 &&
			strcmp(name + len - slen, suffix) == 0 && len - 5 - slen < BH_BASE_ID_SIZE) {
			memcpy(bases[nbases], name + 5, len - 5 - slen);
			bases[nbases][len - 5 - slen] = '\0';
			nbases++;
		}
	}
	char latest[BH_BASE_ID_SIZE] = "";
	bool has_latest = bh_base_resolve(NULL, latest);
	for (int i = 0; scanned && i < n; i++) {
		const char *name = virStorageVolGetName(vols[i]);
		char tag[BH_TAG_MAX + 1], id[BH_BASE_ID_SIZE];
		size_t len = name != NULL ? strlen(name) : 0;
		if (name == NULL || !bh_storage_tag_of_volume(name, tag) || len < 11 ||
			strcmp(name + len - 11, "-root.qcow2") != 0) {
			continue;
		}
		char *backing = bh_storage_backing(vm->pool, name);
		if (backing == NULL || !bh_storage_base_of_root(backing, id)) {
			/* Unknown use: keep every base rather than guess. */
			scanned = false;
		}
		for (int k = 0; scanned && k < nbases; k++) {
			used[k] = used[k] || strcmp(bases[k], id) == 0;
		}
		free(backing);
	}
	int removed = 0;
	if (!scanned) {
		set_error(error, "could not tell the base of every tag's root disk in the storage pool "
				 "%s on %s; no base was removed",
			virStoragePoolGetName(vm->pool), vm->uri);
		removed = -1;
	}
	for (int k = 0; removed >= 0 && k < nbases; k++) {
		if (!used[k] && !(has_latest && strcmp(bases[k], latest) == 0)) {
			bh_storage_delete_base(vm->pool, bases[k]);
			bh_log(BH_LOG_INFO, "removed base %s from the storage pool %s on %s", bases[k],
				virStoragePoolGetName(vm->pool), vm->uri);
			removed++;
		}
	}
	for (int i = 0; i < n; i++) {
		virStorageVolFree(vols[i]);
	}
	free(vols);
	free(bases);
	free(used);
	return removed;
}

bool bh_vm_base_on_host(struct bh_vm *vm, const char *id)
{
	struct bh_pool_base base;
	if (vm->pool == NULL || !bh_storage_base_get(vm->conn, vm->pool, id, &base)) {
		return false;
	}
	bh_storage_base_finish(&base);
	return true;
}

const char *bh_vm_pool(const struct bh_vm *vm)
{
	return vm != NULL && vm->pool != NULL ? virStoragePoolGetName(vm->pool) : NULL;
}

void bh_vm_disconnect(struct bh_vm *vm)
{
	if (vm == NULL) {
		return;
	}
	if (vm->pool != NULL) {
		virStoragePoolFree(vm->pool);
	}
	virConnectClose(vm->conn);
	free(vm->uri);
	free(vm);
}

const char *bh_vm_uri(const struct bh_vm *vm)
{
	return vm->uri;
}

bool bh_vm_remote(const struct bh_vm *vm)
{
	return bh_config_uri_remote(vm->uri);
}

static virDomainPtr lookup(struct bh_vm *vm, const char *domain);

int bh_vm_open_channel(struct bh_vm *vm, const char *tag, const char *name, char *err,
	size_t err_size)
{
	char domain[BH_TAG_DOMAIN_SIZE];
	const char *why = NULL;
	if (!bh_tag_domain_name(tag, domain, &why)) {
		snprintf(err, err_size, "invalid tag \"%s\": %s", tag, why);
		return -1;
	}
	virDomainPtr dom = lookup(vm, domain);
	if (dom == NULL) {
		snprintf(err, err_size, "tag %s: its VM %s does not run at %s", tag, domain,
			vm->uri);
		return -1;
	}
	int fd = bh_channel_stream_open(dom, name, tag, vm->uri, err, err_size);
	virDomainFree(dom);
	return fd;
}

/* The paths of one tag; every field is filled by tag_paths. */
struct tag_paths {
	char domain[BH_TAG_DOMAIN_SIZE];
	char state[PATH_MAX], runtime[PATH_MAX];
	char root[PATH_MAX], home[PATH_MAX], console[PATH_MAX], channel[PATH_MAX];
	char region_name[BH_TAG_DIRNAME_SIZE + 32], region[PATH_MAX];
};

static bool tag_paths(const char *tag, struct tag_paths *p, char error[BH_VM_ERROR_SIZE])
{
	const char *why = "the path is too long";
	if (!bh_tag_domain_name(tag, p->domain, &why) ||
		!bh_paths_tag_state(tag, NULL, p->state, sizeof(p->state), &why) ||
		!bh_paths_tag_state(tag, "root.qcow2", p->root, sizeof(p->root), &why) ||
		!bh_paths_tag_state(tag, "home.qcow2", p->home, sizeof(p->home), &why) ||
		!bh_paths_tag_state(tag, "console.log", p->console, sizeof(p->console), &why) ||
		!bh_paths_tag_runtime(tag, NULL, p->runtime, sizeof(p->runtime), &why) ||
		!bh_paths_tag_runtime(tag, "channel.sock", p->channel, sizeof(p->channel), &why) ||
		!bh_paths_region_name(tag, p->region_name, sizeof(p->region_name), &why) ||
		!bh_paths_region(tag, p->region, sizeof(p->region), &why)) {
		set_error(error, "invalid tag \"%s\": %s", tag, why);
		return false;
	}
	struct sockaddr_un addr;
	if (strlen(p->channel) >= sizeof(addr.sun_path)) {
		set_error(error,
			"tag %s: its socket path %s is longer than a unix socket allows: "
			"use a shorter tag or XDG_RUNTIME_DIR",
			tag, p->channel);
		return false;
	}
	return true;
}

/* The running (or otherwise existing) domain of a tag, or NULL. */
static virDomainPtr lookup(struct bh_vm *vm, const char *domain)
{
	virDomainPtr dom = virDomainLookupByName(vm->conn, domain);
	if (dom == NULL) {
		virResetLastError();
	}
	return dom;
}

static enum bh_vm_state domain_state(virDomainPtr dom)
{
	int state = VIR_DOMAIN_NOSTATE, reason;
	if (dom == NULL || virDomainGetState(dom, &state, &reason, 0) != 0) {
		return BH_VM_STOPPED;
	}
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
		return BH_VM_RUNNING;
	case VIR_DOMAIN_SHUTOFF:
		return BH_VM_STOPPED;
	default:
		return BH_VM_PAUSED;
	}
}

/* A domain another start is still bringing up (libvirt keeps it paused
 * until its devices are ready, even when the starting process died) is
 * waited for; one paused by hand is resumed: attaching means running. */
static enum bh_vm_state settle(virDomainPtr dom)
{
	uint64_t deadline = bh_now_usec() + SETTLE_USEC;
	for (;;) {
		int state = VIR_DOMAIN_NOSTATE, reason = 0;
		if (virDomainGetState(dom, &state, &reason, 0) != 0 || state != VIR_DOMAIN_PAUSED) {
			return domain_state(dom);
		}
		if (reason != VIR_DOMAIN_PAUSED_STARTING_UP) {
			virDomainResume(dom);
			return domain_state(dom);
		}
		if (bh_now_usec() >= deadline) {
			return BH_VM_PAUSED;
		}
		usleep(100 * 1000);
	}
}

/* The channel address of a running domain. */
static bool channel_address(struct bh_vm *vm, virDomainPtr dom, const struct tag_paths *p,
	char channel[BH_VM_CHANNEL_SIZE], char error[BH_VM_ERROR_SIZE], const char *tag)
{
	/* The socket qemu binds is on the VM's machine: from elsewhere the
	 * channel goes through the libvirt connection. A local VM keeps the
	 * socket itself, one copy fewer on the way of every window's pixels. */
	if (bh_vm_remote(vm)) {
		snprintf(channel, BH_VM_CHANNEL_SIZE, "libvirt:%s", BH_CHANNEL_PORT_NAME);
		return true;
	}
	char *xml = virDomainGetXMLDesc(dom, 0);
	if (xml == NULL) {
		set_error(error, "tag %s: cannot read its domain: %s", tag, libvirt_message());
		return false;
	}
	bool ok = true;
	if (strstr(xml, "<vsock") != NULL) {
		/* libvirt writes the automatic CID it picked as address='N'. */
		const char *cid = strstr(xml, "<cid ");
		const char *addr = cid != NULL ? strstr(cid, "address='") : NULL;
		unsigned long n = addr != NULL ? strtoul(addr + 9, NULL, 10) : 0;
		if (n < 3) {
			set_error(error, "tag %s: libvirt did not assign a vsock CID", tag);
			ok = false;
		} else {
			snprintf(channel, BH_VM_CHANNEL_SIZE, "vsock:%lu:%u", n, BH_VSOCK_PORT);
		}
	} else {
		snprintf(channel, BH_VM_CHANNEL_SIZE, "unix:%s", p->channel);
	}
	free(xml);
	return ok;
}

/* Makes the root overlay match the policy and the wanted base; runs with
 * the tag locked and its domain stopped. */
static bool prepare_root(const char *tag, const struct tag_paths *p, const char *base_id,
	enum bh_root_policy policy, char error[BH_VM_ERROR_SIZE])
{
	char base_root[PATH_MAX];
	if (!bh_paths_base(base_id, "root.qcow2", base_root, sizeof(base_root))) {
		set_error(error, "tag %s: invalid base \"%s\"", tag, base_id);
		return false;
	}
	bool exists = access(p->root, F_OK) == 0;
	if (exists && policy == BH_ROOT_FRESH) {
		if (unlink(p->root) != 0) {
			set_error(error, "tag %s: cannot replace %s: %s", tag, p->root,
				strerror(errno));
			return false;
		}
		exists = false;
	}
	if (!exists) {
		if (!bh_image_create_overlay(p->root, base_root)) {
			set_error(error,
				"tag %s: cannot create its root disk %s (see the log above)", tag,
				p->root);
			return false;
		}
		return true;
	}
	bool failed = false;
	char *backing = bh_image_backing(p->root, &failed);
	if (failed) {
		set_error(error,
			"tag %s: cannot read its root disk %s: check it with `qemu-img "
			"check %s`",
			tag, p->root, p->root);
		return false;
	}
	bool ok = true;
	if (backing == NULL || strcmp(backing, base_root) != 0) {
		if (backing != NULL && access(backing, R_OK) != 0) {
			set_error(error,
				"tag %s: the base its root disk was made from (%s) is gone; "
				"`bulkheadctl clean %s` starts it afresh",
				tag, backing, tag);
			ok = false;
		} else {
			bh_log(BH_LOG_INFO, "tag %s: rebasing its root disk onto base %s", tag,
				base_id);
			ok = bh_image_rebase(p->root, base_root);
			if (!ok) {
				set_error(error,
					"tag %s: could not rebase its root disk onto base %s "
					"(see the log above); the disk is unchanged",
					tag, base_id);
			}
		}
	}
	free(backing);
	return ok;
}

static bool vsock_usable(const struct bh_vm *vm, const char *tag, char error[BH_VM_ERROR_SIZE])
{
	/* Only a local libvirt uses this machine's device. */
	if (bh_vm_remote(vm)) {
		return true;
	}
	if (access("/dev/vhost-vsock", R_OK | W_OK) != 0) {
		set_error(error,
			"tag %s: transport = vsock needs /dev/vhost-vsock, which is %s "
			"(load vhost_vsock and give your user access to it, or use transport = "
			"serial)",
			tag, errno == ENOENT ? "missing" : "not accessible to you");
		return false;
	}
	return true;
}

/* The VM's shared region: made here, private to the user, before qemu
 * opens it (qemu keeps the mode of a file that exists; made by qemu it
 * would be 0644, readable by every local user). One left by a VM that
 * died goes first. False (logged): the tag runs without one. */
static bool prepare_region(const char *tag, const struct tag_paths *p, unsigned mib)
{
	unlink(p->region);
	int fd = open(p->region, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)mib << 20) != 0) {
		bh_log(BH_LOG_WARN,
			"tag %s: could not make its shared region %s (%s); its windows go through "
			"the channel, slower (free /dev/shm or set shm_size = off)",
			tag, p->region, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(p->region);
		}
		return false;
	}
	close(fd);
	return true;
}

unsigned bh_vm_memory_mib(const struct bh_vm_settings *s)
{
	return s->memory_mib ? s->memory_mib : DEFAULT_MEMORY_MIB;
}

unsigned bh_vm_region_mib(const struct bh_vm_settings *s)
{
	return s->shm_off ? 0 : s->shm_mib ? s->shm_mib : BH_REGION_DEFAULT_MIB;
}

/* A tag's host folders and link interfaces, ready for its domain spec. */
struct tag_devices {
	char resolved[BH_SHARES_MAX][PATH_MAX];
	char mount_tags[BH_SHARES_MAX][8];
	struct bh_domain_share shares[BH_SHARES_MAX];
	struct bh_link_member members[BH_LINKS_MAX]; /* the tag's end of each link */
	struct bh_domain_link links[BH_LINKS_MAX];
};

static bool tag_devices(const char *tag, const struct bh_vm_settings *s, struct tag_devices *d,
	struct bh_domain_spec *spec, char error[BH_VM_ERROR_SIZE])
{
	/* No share may reach bulkhead's own files. */
	char state[PATH_MAX] = "", bases[PATH_MAX] = "", runtime[PATH_MAX] = "",
	     config[PATH_MAX] = "";
	bh_paths_state_root(state, sizeof(state));
	bh_paths_bases_root(bases, sizeof(bases));
	bh_paths_tag_runtime(tag, NULL, runtime, sizeof(runtime), NULL);
	char *slash = strrchr(runtime, '/'); /* .../bulkhead/tags/<tag> */
	for (int up = 0; up < 2 && slash != NULL && slash != runtime; up++) {
		*slash = '\0';
		slash = strrchr(runtime, '/');
	}
	if (bh_config_default_path(config, sizeof(config)) && strrchr(config, '/') != NULL) {
		*strrchr(config, '/') = '\0';
	}
	const char *protected_dirs[] = {state, bases, runtime, config, NULL};
	for (unsigned i = 0; i < s->share_count && i < BH_SHARES_MAX; i++) {
		char why[PATH_MAX + 256];
		if (!bh_share_resolve(&s->shares[i], d->resolved[i], sizeof(d->resolved[i]), why,
			    sizeof(why)) ||
			!bh_share_check_protected(
				d->resolved[i], protected_dirs, why, sizeof(why))) {
			set_error(error, "tag %s: %s", tag, why);
			return false;
		}
		bh_share_mount_tag(i, d->mount_tags[i]);
		d->shares[i] = (struct bh_domain_share){
			.source = d->resolved[i],
			.mount_tag = d->mount_tags[i],
			.guest_path = s->shares[i].guest,
			.readonly = !s->shares[i].rw,
		};
	}
	spec->shares = d->shares;
	spec->share_count = s->share_count;
	for (unsigned i = 0; i < s->link_count && i < BH_LINKS_MAX; i++) {
		struct bh_link_member plan[BH_LINK_MEMBERS_MAX];
		const char *tags[BH_LINK_MEMBERS_MAX];
		unsigned self;
		if (bh_vm_link_plan(tag, s, i, plan, tags, &self, error, BH_VM_ERROR_SIZE) == 0) {
			return false;
		}
		const struct bh_link_member *m = &d->members[i];
		d->members[i] = plan[self];
		d->links[i] = (struct bh_domain_link){
			.guest_port = m->guest_port,
			.hub_port = m->hub_port,
			.mac = m->mac,
			.address = m->address,
			.prefix = m->prefix,
		};
	}
	spec->links = d->links;
	spec->link_count = s->link_count;
	return true;
}

/* The kernel command line with the words that tell the agent what to set
 * up (bh_domain_guest_args) appended. */
static char *full_cmdline(const char *base_cmdline, const struct bh_domain_spec *spec)
{
	char *cmdline = bh_domain_cmdline(base_cmdline, spec->transport);
	char *args = bh_domain_guest_args(spec);
	char *out = NULL;
	if (cmdline != NULL && args != NULL && asprintf(&out, "%s%s", cmdline, args) < 0) {
		out = NULL;
	}
	free(cmdline);
	free(args);
	return out;
}

/* Where a tag's VM finds its kernel and disks on its host, and the base's
 * kernel command line (malloc'd, may be NULL). */
struct tag_disks {
	char kernel[PATH_MAX], initrd[PATH_MAX]; /* initrd "" for none */
	char root[PATH_MAX], home[PATH_MAX], console[PATH_MAX];
	char *cmdline;
};

/* The base a start wants: "fresh" always follows the newest base;
 * "persistent" follows what the settings name (latest unless pinned). */
static bool wanted_base(const char *tag, const struct bh_vm_settings *s, char id[BH_BASE_ID_SIZE],
	char error[BH_VM_ERROR_SIZE])
{
	if (bh_base_resolve(s->root == BH_ROOT_FRESH ? NULL : s->base, id)) {
		return true;
	}
	if (s->base != NULL && strcmp(s->base, "latest") != 0 && s->root != BH_ROOT_FRESH) {
		set_error(error, "tag %s: there is no base \"%s\" (see `bulkheadctl base list`)",
			tag, s->base);
	} else {
		set_error(error,
			"tag %s: no base image yet: run `bulkheadctl base build` (or `bulkheadctl "
			"base add`)",
			tag);
	}
	return false;
}

/* Disks as files of the tag's state directory, made with qemu-img. */
static bool file_disks(const char *tag, const struct bh_vm_settings *s, const struct tag_paths *p,
	struct tag_disks *d, char error[BH_VM_ERROR_SIZE])
{
	memset(d, 0, sizeof(*d));
	char base_id[BH_BASE_ID_SIZE];
	if (!wanted_base(tag, s, base_id, error)) {
		return false;
	}
	if (!bh_mkdir_p(p->state, 0700)) {
		set_error(error, "tag %s: cannot create %s: %s", tag, p->state, strerror(errno));
		return false;
	}
	if (!prepare_root(tag, p, base_id, s->root, error)) {
		return false;
	}
	if (access(p->home, F_OK) != 0 && !bh_image_create_disk(p->home, BH_HOME_DISK_MIB)) {
		set_error(error, "tag %s: cannot create its home disk %s (see the log above)", tag,
			p->home);
		return false;
	}
	snprintf(d->root, sizeof(d->root), "%s", p->root);
	snprintf(d->home, sizeof(d->home), "%s", p->home);
	snprintf(d->console, sizeof(d->console), "%s", p->console);
	bh_paths_base(base_id, "vmlinuz", d->kernel, sizeof(d->kernel));
	bh_paths_base(base_id, "initrd.img", d->initrd, sizeof(d->initrd));
	struct bh_base *bases = NULL;
	int n = bh_base_list(&bases);
	for (int i = 0; i < n; i++) {
		if (strcmp(bases[i].id, base_id) == 0) {
			d->cmdline = strdup(bases[i].cmdline);
			if (!bases[i].has_initrd) {
				d->initrd[0] = '\0';
			}
		}
	}
	bh_base_list_free(bases, n);
	return true;
}

/* The host path of one of the tag's volumes, or of a base's. */
static bool volume_name(const char *tag, const char *part, char *out, size_t size,
	char error[BH_VM_ERROR_SIZE])
{
	if (!bh_storage_tag_volume(tag, part, out, size)) {
		set_error(error, "invalid tag \"%s\": its volume name is too long", tag);
		return false;
	}
	return true;
}

/* Disks as volumes of the storage pool on the tag's host: the overlay
 * made by libvirt with the base's root volume as its backing store. */
static bool pool_disks(struct bh_vm *vm, const char *tag, const struct bh_vm_settings *s,
	struct tag_disks *d, char error[BH_VM_ERROR_SIZE])
{
	memset(d, 0, sizeof(*d));
	const char *pool = virStoragePoolGetName(vm->pool);
	char root[BH_VOLUME_NAME_SIZE], home[BH_VOLUME_NAME_SIZE], console[BH_VOLUME_NAME_SIZE];
	char why[BH_VM_ERROR_SIZE];
	if (!volume_name(tag, "root.qcow2", root, sizeof(root), error) ||
		!volume_name(tag, "home.qcow2", home, sizeof(home), error) ||
		!volume_name(tag, "console.log", console, sizeof(console), error)) {
		return false;
	}
	char wanted[BH_BASE_ID_SIZE], base_id[BH_BASE_ID_SIZE];
	bool exists = bh_storage_volume_path(vm->pool, root, d->root, sizeof(d->root));
	if (exists && s->root == BH_ROOT_FRESH) {
		if (!bh_storage_delete(vm->pool, root, why, sizeof(why))) {
			set_error(error, "tag %s: cannot replace its root disk: %s", tag, why);
			return false;
		}
		exists = false;
	}
	if (exists) {
		/* A volume keeps its base until `bulkheadctl rebase` moves it
		 * (see bh_vm_rebase): a start does not download the disk. */
		char *backing = bh_storage_backing(vm->pool, root);
		bool known = bh_storage_base_of_root(backing, base_id);
		free(backing);
		if (!known) {
			set_error(error,
				"tag %s: its root disk %s in the storage pool %s on %s has no base "
				"of ours behind it; `bulkheadctl clean %s` starts it afresh",
				tag, root, pool, vm->uri, tag);
			return false;
		}
		if (bh_base_resolve(s->base, wanted) && strcmp(wanted, base_id) != 0) {
			bh_log(BH_LOG_WARN,
				"tag %s: its root disk on %s stays on base %s (a volume is not "
				"rebased by a start); stop it and run `bulkheadctl rebase %s` to "
				"move it to base %s",
				tag, vm->uri, base_id, tag, wanted);
		}
	} else {
		bool local = s->root == BH_ROOT_FRESH || s->base == NULL ||
			     strcmp(s->base, "latest") == 0;
		if (local && !wanted_base(tag, s, base_id, error)) {
			return false;
		}
		if (!local) {
			/* A pinned base may be on the host only. */
			snprintf(base_id, sizeof(base_id), "%s", s->base);
		}
	}
	struct bh_pool_base base;
	if (!bh_storage_base_get(vm->conn, vm->pool, base_id, &base)) {
		set_error(error,
			"tag %s: base %s is not in the storage pool %s on %s: send it once with "
			"`bulkheadctl base push --tag %s %s`",
			tag, base_id, pool, vm->uri, tag, base_id);
		return false;
	}
	char base_root[BH_VOLUME_NAME_SIZE], kernel[BH_VOLUME_NAME_SIZE],
		initrd[BH_VOLUME_NAME_SIZE];
	bool ok = bh_storage_base_volume(base_id, "root.qcow2", base_root, sizeof(base_root)) &&
		  bh_storage_base_volume(base_id, "vmlinuz", kernel, sizeof(kernel)) &&
		  bh_storage_base_volume(base_id, "initrd.img", initrd, sizeof(initrd)) &&
		  bh_storage_volume_path(vm->pool, kernel, d->kernel, sizeof(d->kernel)) &&
		  (!base.has_initrd ||
			  bh_storage_volume_path(vm->pool, initrd, d->initrd, sizeof(d->initrd)));
	char backing[PATH_MAX];
	if (ok && !exists) {
		ok = bh_storage_volume_path(vm->pool, base_root, backing, sizeof(backing));
		if (ok && !bh_storage_create_overlay(vm->pool, root, backing, why, sizeof(why))) {
			set_error(error, "tag %s: cannot create its root disk: %s", tag, why);
			bh_storage_base_finish(&base);
			return false;
		}
		ok = ok && bh_storage_volume_path(vm->pool, root, d->root, sizeof(d->root));
	}
	if (!ok) {
		set_error(error,
			"tag %s: base %s is incomplete in the storage pool %s on %s: send it again "
			"with `bulkheadctl base push --tag %s %s`",
			tag, base_id, pool, vm->uri, tag, base_id);
		bh_storage_base_finish(&base);
		return false;
	}
	if (!bh_storage_volume_path(vm->pool, home, d->home, sizeof(d->home))) {
		if (!bh_storage_create_disk(vm->pool, home, BH_HOME_DISK_MIB, why, sizeof(why)) ||
			!bh_storage_volume_path(vm->pool, home, d->home, sizeof(d->home))) {
			set_error(error, "tag %s: cannot create its home disk: %s", tag, why);
			bh_storage_base_finish(&base);
			return false;
		}
	}
	/* qemu writes the console into the pool's directory on the host, where
	 * a refresh makes it a volume that bulkhead can read back. */
	char dir[PATH_MAX];
	if (!bh_storage_pool_path(vm->pool, dir, sizeof(dir)) ||
		!bh_path_fmt(d->console, sizeof(d->console), "%s/%s", dir, console)) {
		set_error(error, "tag %s: cannot tell where the storage pool %s keeps its files", tag,
			pool);
		bh_storage_base_finish(&base);
		return false;
	}
	d->cmdline = base.cmdline;
	base.cmdline = NULL;
	bh_storage_base_finish(&base);
	bh_log(BH_LOG_INFO, "tag %s: disks in the storage pool %s on %s, base %s", tag, pool,
		vm->uri, base_id);
	return true;
}

/* Makes sure the hubs of the tag's links run (vm/link_hub.h). Returns the
 * held start lock (for bh_link_start_unlock once qemu runs), -2 when the
 * tag has no link, or -1 with the reason in error. */
static int start_hubs(const char *tag, const struct bh_vm_settings *s, char error[BH_VM_ERROR_SIZE])
{
	if (s->link_count == 0) {
		return -2;
	}
	int lock = bh_link_start_lock(tag, error, BH_VM_ERROR_SIZE);
	for (unsigned i = 0; lock >= 0 && i < s->link_count && i < BH_LINKS_MAX; i++) {
		struct bh_link_member plan[BH_LINK_MEMBERS_MAX];
		const char *tags[BH_LINK_MEMBERS_MAX];
		unsigned self;
		unsigned n = bh_vm_link_plan(tag, s, i, plan, tags, &self, error, BH_VM_ERROR_SIZE);
		if (n == 0 || !bh_link_hub_ensure(
				      tag, s->links[i], tags, plan, n, error, BH_VM_ERROR_SIZE)) {
			bh_link_start_unlock(lock);
			lock = -1;
		}
	}
	return lock;
}

static bool start_locked(struct bh_vm *vm, const char *tag, const struct bh_vm_settings *s,
	const struct tag_paths *p, char channel[BH_VM_CHANNEL_SIZE], bool *started,
	char error[BH_VM_ERROR_SIZE])
{
	virDomainPtr dom = lookup(vm, p->domain);
	if (dom != NULL) {
		enum bh_vm_state state = settle(dom);
		bool ok = false;
		if (state == BH_VM_RUNNING) {
			/* A running member whose hub went (killed, or the config
			 * changed) gets it back. */
			int links_lock = start_hubs(tag, s, error);
			if (links_lock == -1) {
				bh_log(BH_LOG_WARN, "%s", error);
			}
			bh_link_start_unlock(links_lock);
			ok = channel_address(vm, dom, p, channel, error, tag);
		} else if (state == BH_VM_PAUSED) {
			set_error(error,
				"tag %s: its VM %s exists but does not run (crashed, or stuck "
				"starting): `bulkheadctl stop --force %s` ends it",
				tag, p->domain, tag);
		} else {
			set_error(error,
				"tag %s: a defined, inactive domain %s is in the way: remove "
				"it with `virsh undefine %s`",
				tag, p->domain, p->domain);
		}
		virDomainFree(dom);
		return ok;
	}
	if (s->transport == BH_TRANSPORT_VSOCK && bh_vm_remote(vm)) {
		set_error(error,
			"tag %s: transport = vsock is for a VM on this machine, and its libvirt is "
			"%s: remove transport = vsock from the tag (its channel goes through libvirt)",
			tag, vm->uri);
		return false;
	}
	if (s->transport == BH_TRANSPORT_VSOCK && !vsock_usable(vm, tag, error)) {
		return false;
	}
	if (vm->pool != NULL && s->share_count > 0 && !bh_vm_uri_is_local(vm->uri)) {
		set_error(error,
			"tag %s: share = exports a folder of this machine, and the tag runs on %s: "
			"remove its share lines or run it here",
			tag, vm->uri);
		return false;
	}
	if (s->link_count > 0 && bh_vm_remote(vm)) {
		set_error(error,
			"tag %s: link = joins tags through a hub on this machine, and the tag runs "
			"on %s: remove its link lines or run it here",
			tag, vm->uri);
		return false;
	}
	struct tag_disks d;
	if (!(vm->pool != NULL ? pool_disks(vm, tag, s, &d, error)
			       : file_disks(tag, s, p, &d, error))) {
		return false;
	}
	/* A socket left by a VM that died would make the bind fail. */
	unlink(p->channel);
	const char *base_cmdline = d.cmdline;
	/* Window contents through shared memory: a VM on this machine only. */
	unsigned region_mib = bh_vm_region_mib(s);
	bool region = region_mib > 0 && !bh_vm_remote(vm) && prepare_region(tag, p, region_mib);
	if (region_mib > 0 && bh_vm_remote(vm)) {
		bh_log(BH_LOG_INFO,
			"tag %s: its VM runs elsewhere (%s): windows go through the channel, "
			"not a shared region (that is for a VM on this machine)",
			tag, vm->uri);
	}
	struct bh_domain_spec spec = {
		.name = p->domain,
		.tag = tag,
		.kvm = bh_domain_use_kvm(s->accel),
		.memory_mib = bh_vm_memory_mib(s),
		.shared_memory = region && !s->memory_private,
		.cpus = s->cpus ? s->cpus : 1,
		.virtio_mem_mib = s->virtio_mem_mib,
		.kernel = d.kernel,
		.initrd = d.initrd[0] ? d.initrd : NULL,
		.root_disk = d.root,
		.home_disk = d.home,
		.console_log = d.console,
		.transport = s->transport,
		.channel_path = bh_vm_remote(vm) ? NULL : p->channel,
		.network = s->network,
		.shmem_name = region ? p->region_name : NULL,
		.shmem_mib = region_mib,
	};
	struct tag_devices *devices = calloc(1, sizeof(*devices));
	if (devices == NULL) {
		free(d.cmdline);
		set_error(error, "out of memory");
		return false;
	}
	if (!tag_devices(tag, s, devices, &spec, error)) {
		free(d.cmdline);
		free(devices);
		if (region) {
			unlink(p->region);
		}
		return false;
	}
	char *cmdline = full_cmdline(base_cmdline, &spec);
	free(d.cmdline);
	spec.cmdline = cmdline != NULL ? cmdline : "console=ttyS0";
	char *xml = bh_domain_xml(&spec);
	free(cmdline);
	if (xml == NULL) {
		free(devices);
		set_error(error, "out of memory");
		return false;
	}
	bh_log(BH_LOG_DEBUG, "tag %s: domain XML:\n%s", tag, xml);
	/* The hubs of the tag's links run before its qemu sends to them; the
	 * start lock stays held until qemu has bound its ports. */
	int links_lock = start_hubs(tag, s, error);
	if (links_lock == -1) {
		free(devices);
		free(xml);
		if (region) {
			unlink(p->region);
		}
		return false;
	}
	free(devices);
	/* Transient: libvirt forgets the domain when it stops; the tag's
	 * disks and settings are the whole state, so nothing can go stale. */
	dom = virDomainCreateXML(vm->conn, xml, 0);
	bh_link_start_unlock(links_lock);
	free(xml);
	if (dom == NULL) {
		set_error(error, "tag %s: libvirt (%s) could not start its VM: %s", tag, vm->uri,
			libvirt_message());
		if (region) {
			unlink(p->region);
		}
		return false;
	}
	bool ok = channel_address(vm, dom, p, channel, error, tag);
	virDomainFree(dom);
	if (ok && started != NULL) {
		*started = true;
	}
	return ok;
}

bool bh_vm_start(struct bh_vm *vm, const char *tag, const struct bh_vm_settings *settings,
	char channel[BH_VM_CHANNEL_SIZE], bool *started, char error[BH_VM_ERROR_SIZE])
{
	struct tag_paths p;
	if (started != NULL) {
		*started = false;
	}
	if (!tag_paths(tag, &p, error)) {
		return false;
	}
	int lock = bh_tag_lock(tag, error, BH_VM_ERROR_SIZE);
	if (lock < 0) {
		return false;
	}
	bool ok = start_locked(vm, tag, settings, &p, channel, started, error);
	bh_tag_unlock(lock);
	return ok;
}

/* The last lines of console output in buf[0..n) (modified), malloc'd. */
static char *console_lines(char *buf, ssize_t n, int lines)
{
	if (n <= 0) {
		return strdup("");
	}
	buf[n] = '\0';
	/* The guest writes what it likes: keep text, drop escapes and \r. */
	size_t o = 0;
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == 0x1b && i + 1 < n && buf[i + 1] == '[') {
			/* A CSI sequence (colours): skip to its final byte. */
			for (i += 2; i < n && !(buf[i] >= 0x40 && buf[i] <= 0x7e); i++) {
			}
			continue;
		}
		if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f)) {
			buf[o++] = (char)c;
		}
	}
	buf[o] = '\0';
	while (o > 0 && buf[o - 1] == '\n') {
		buf[--o] = '\0';
	}
	char *start = buf + o;
	int seen = 0;
	while (start > buf) {
		if (start[-1] == '\n' && ++seen == lines) {
			break;
		}
		start--;
	}
	return strdup(start);
}

/* The tail of the console: 64 KiB holds far more lines than anyone
 * reads in an error message. */
#define CONSOLE_TAIL_BYTES 65536

char *bh_vm_console_tail(const char *tag, int lines)
{
	char path[PATH_MAX];
	if (!bh_paths_tag_state(tag, "console.log", path, sizeof(path), NULL)) {
		return strdup("");
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return strdup("");
	}
	char *buf = malloc(CONSOLE_TAIL_BYTES);
	if (buf == NULL) {
		close(fd);
		return strdup("");
	}
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > CONSOLE_TAIL_BYTES - 1 ? size - CONSOLE_TAIL_BYTES + 1 : 0;
	ssize_t n = pread(fd, buf, CONSOLE_TAIL_BYTES - 1, from);
	close(fd);
	char *tail = console_lines(buf, n, lines);
	free(buf);
	return tail;
}

char *bh_vm_console_tail_of(struct bh_vm *vm, const char *tag, int lines)
{
	char name[BH_VOLUME_NAME_SIZE];
	if (vm->pool == NULL || !bh_storage_tag_volume(tag, "console.log", name, sizeof(name))) {
		return bh_vm_console_tail(tag, lines);
	}
	/* qemu made the file; the pool knows it once refreshed. */
	virStoragePoolRefresh(vm->pool, 0);
	size_t len = 0;
	char *buf = bh_storage_read(vm->conn, vm->pool, name, -1, CONSOLE_TAIL_BYTES - 1, &len);
	if (buf == NULL) {
		return strdup("");
	}
	char *tail = console_lines(buf, (ssize_t)len, lines);
	free(buf);
	return tail;
}

static void error_with_console(
	struct bh_vm *vm, char error[BH_VM_ERROR_SIZE], const char *tag, const char *what)
{
	char *tail = bh_vm_console_tail_of(vm, tag, CONSOLE_TAIL_LINES);
	set_error(error,
		"tag %s: %s; `bulkheadctl console %s` shows its console. Last console "
		"lines:\n%s",
		tag, what, tag, tail != NULL && tail[0] ? tail : "(the console is empty)");
	free(tail);
}

struct agent_wait {
	bool hello;
	bool gone;
};

static bool wait_handle_control(
	struct bh_endpoint *endpoint, uint32_t type, const uint8_t *payload, size_t len, void *user)
{
	struct agent_wait *w = user;
	if (type == BH_CTL_HELLO) {
		w->hello = true;
	}
	/* App lists and the rest are the proxy's business. */
	return true;
}

static bool wait_handle_open(struct bh_endpoint *endpoint, struct bh_stream *stream,
	enum bh_stream_kind kind, void *user)
{
	return false;
}

static void wait_handle_disconnected(struct bh_endpoint *endpoint, const char *reason, void *user)
{
	struct agent_wait *w = user;
	w->gone = true;
}

static const struct bh_endpoint_listener wait_listener = {
	.control = wait_handle_control,
	.open = wait_handle_open,
	.disconnected = wait_handle_disconnected,
};

bool bh_vm_wait_agent(struct bh_vm *vm, const char *tag, const char *channel, unsigned timeout_sec,
	char error[BH_VM_ERROR_SIZE])
{
	struct tag_paths p;
	if (!tag_paths(tag, &p, error)) {
		return false;
	}
	struct bh_address addr;
	char reason[256];
	if (!bh_address_parse(channel, &addr, reason, sizeof(reason))) {
		set_error(error, "tag %s: cannot reach its agent: %s", tag, reason);
		return false;
	}
	if (timeout_sec == 0) {
		timeout_sec = DEFAULT_BOOT_TIMEOUT;
	}
	error[0] = '\0';
	/* One probe at a time per tag: the channel serves one host, and a
	 * second connection queued behind the first may never be answered. */
	int lock = bh_tag_lock(tag, error, BH_VM_ERROR_SIZE);
	if (lock < 0) {
		return false;
	}
	struct wl_event_loop *loop = wl_event_loop_create();
	if (loop == NULL) {
		bh_tag_unlock(lock);
		set_error(error, "out of memory");
		return false;
	}
	/* Connections reset by a booting or dying VM are expected here; the
	 * outcome is reported through error. */
	enum bh_log_level level = bh_log_get_level();
	if (level < BH_LOG_DEBUG) {
		bh_log_set_level(BH_LOG_ERROR);
	}
	uint64_t deadline = bh_now_usec() + (uint64_t)timeout_sec * 1000000u;
	bool ok = false, timed_out = false;
	const char *why = NULL;
	struct agent_wait w = {0};
	struct bh_endpoint *ep = NULL;
	while (!ok && why == NULL && error[0] == '\0') {
		uint64_t now = bh_now_usec();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		/* A VM that stopped will never answer: say so at once. */
		virDomainPtr dom = lookup(vm, p.domain);
		enum bh_vm_state state = domain_state(dom);
		if (dom != NULL) {
			virDomainFree(dom);
		}
		if (state != BH_VM_RUNNING) {
			why = "its VM stopped before its agent answered";
			break;
		}
		if (ep == NULL) {
			int fd = addr.kind == BH_ADDRESS_LIBVIRT ?
					 bh_vm_open_channel(vm, tag, addr.path, reason, sizeof(reason)) :
					 bh_transport_connect(&addr, reason, sizeof(reason));
			if (fd < 0) {
				usleep(200 * 1000);
				continue;
			}
			w = (struct agent_wait){0};
			ep = bh_endpoint_create(loop, fd, BH_ENDPOINT_HOST, &wait_listener, &w);
			if (ep == NULL) {
				set_error(error, "out of memory");
				break;
			}
			struct bh_msg msg;
			bh_msg_init(&msg, 0);
			bh_msg_u32(&msg, 1);
			bh_msg_u32(&msg, 0);
			bh_msg_u32(&msg, 0);
			bh_endpoint_send_control(ep, BH_CTL_HELLO, msg.buf, msg.len);
		}
		/* Until the agent answers or hangs up, in slices of a second
		 * so that a VM that dies is noticed. */
		uint64_t slice_end = now + 1000000u < deadline ? now + 1000000u : deadline;
		while (!w.hello && !w.gone && (now = bh_now_usec()) < slice_end) {
			wl_event_loop_dispatch(loop, (int)((slice_end - now) / 1000) + 1);
		}
		ok = w.hello;
		if (w.gone) {
			/* The endpoint told us it is finished; it is ours to free. */
			bh_endpoint_destroy(ep);
			ep = NULL;
			if (!ok) {
				usleep(200 * 1000);
			}
		}
	}
	/* Hanging up lets the agent wait for its next host, the proxy. */
	bh_endpoint_destroy(ep);
	if (ok) {
		/* A virtio-serial guest sees the host's hang-up only as a state
		 * change of its port; a next host connecting at once would hide
		 * it, so the next one (waiting for this lock) comes a bit later. */
		usleep(PROBE_HANGUP_USEC);
	}
	if (timed_out) {
		char what[128];
		snprintf(what, sizeof(what), "its agent did not answer within %u s", timeout_sec);
		error_with_console(vm, error, tag, what);
	}
	wl_event_loop_destroy(loop);
	bh_log_set_level(level);
	bh_tag_unlock(lock);
	if (why != NULL) {
		error_with_console(vm, error, tag, why);
	}
	return ok;
}

bool bh_vm_stop(struct bh_vm *vm, const char *tag, bool force, unsigned timeout_sec,
	char error[BH_VM_ERROR_SIZE])
{
	struct tag_paths p;
	if (!tag_paths(tag, &p, error)) {
		return false;
	}
	virDomainPtr dom = lookup(vm, p.domain);
	if (dom == NULL) {
		return true;
	}
	bool ok = true;
	if (!force && domain_state(dom) == BH_VM_RUNNING) {
		if (virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) != 0) {
			bh_log(BH_LOG_WARN, "tag %s: shutdown request failed: %s", tag,
				libvirt_message());
		} else {
			uint64_t deadline = bh_now_usec() + (uint64_t)timeout_sec * 1000000u;
			while (virDomainIsActive(dom) == 1 && bh_now_usec() < deadline) {
				usleep(100 * 1000);
			}
		}
	}
	if (virDomainIsActive(dom) == 1) {
		if (!force) {
			bh_log(BH_LOG_WARN,
				"tag %s: the guest did not shut down within %u s; "
				"powering it off",
				tag, timeout_sec);
		}
		/* Waits for qemu to flush and exit; GRACEFUL never sends SIGKILL,
		 * so fall back to a plain destroy only if that times out. */
		if (virDomainDestroyFlags(dom, VIR_DOMAIN_DESTROY_GRACEFUL) != 0 &&
			virDomainIsActive(dom) == 1 && virDomainDestroy(dom) != 0 &&
			virDomainIsActive(dom) == 1) {
			set_error(error, "tag %s: libvirt (%s) could not stop its VM: %s", tag,
				vm->uri, libvirt_message());
			ok = false;
		}
	}
	virDomainFree(dom);
	if (ok) {
		unlink(p.channel);
		unlink(p.region); /* libvirt leaves it behind */
	}
	return ok;
}

static uint64_t file_bytes(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

bool bh_vm_status(struct bh_vm *vm, const char *tag, struct bh_vm_status *status,
	char error[BH_VM_ERROR_SIZE])
{
	struct tag_paths p;
	memset(status, 0, sizeof(*status));
	if (!tag_paths(tag, &p, error)) {
		return false;
	}
	virDomainPtr dom = lookup(vm, p.domain);
	/* No domain on a connection that is gone says nothing of the VM. */
	if (dom == NULL && virConnectIsAlive(vm->conn) != 1) {
		set_error(error, "libvirt at %s does not answer: the connection was lost", vm->uri);
		return false;
	}
	status->state = domain_state(dom);
	if (dom != NULL && status->state == BH_VM_RUNNING) {
		channel_address(vm, dom, &p, status->channel, error, tag);
	}
	if (dom != NULL) {
		virDomainFree(dom);
	}
	if (vm->pool != NULL) {
		char root[BH_VOLUME_NAME_SIZE], home[BH_VOLUME_NAME_SIZE], path[PATH_MAX];
		if (!volume_name(tag, "root.qcow2", root, sizeof(root), error) ||
			!volume_name(tag, "home.qcow2", home, sizeof(home), error)) {
			return false;
		}
		bool has_root = bh_storage_volume_path(vm->pool, root, path, sizeof(path));
		status->has_disks = has_root || bh_storage_volume_path(vm->pool, home, path, sizeof(path));
		status->disk_bytes =
			bh_storage_allocation(vm->pool, root) + bh_storage_allocation(vm->pool, home);
		char *backing = has_root ? bh_storage_backing(vm->pool, root) : NULL;
		if (backing != NULL && !bh_storage_base_of_root(backing, status->base)) {
			status->base[0] = '\0';
		}
		free(backing);
		return true;
	}
	status->has_disks = access(p.root, F_OK) == 0 || access(p.home, F_OK) == 0;
	status->disk_bytes = file_bytes(p.root) + file_bytes(p.home);
	if (access(p.root, F_OK) == 0) {
		char *backing = bh_image_backing(p.root, NULL);
		if (backing != NULL && !bh_base_of_root(backing, status->base)) {
			status->base[0] = '\0';
		}
		free(backing);
	}
	return true;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool add_tag(char ***tags, int *n, const char *tag)
{
	for (int i = 0; i < *n; i++) {
		if (strcmp((*tags)[i], tag) == 0) {
			return true;
		}
	}
	char **grown = realloc(*tags, (size_t)(*n + 1) * sizeof(**tags));
	if (grown == NULL) {
		return false;
	}
	*tags = grown;
	return (grown[(*n)++] = strdup(tag)) != NULL;
}

int bh_vm_tags(struct bh_vm *vm, char ***tags, char error[BH_VM_ERROR_SIZE])
{
	*tags = NULL;
	int n = 0;
	char root[PATH_MAX], dir_path[PATH_MAX];
	if (bh_paths_state_root(root, sizeof(root)) &&
		bh_path_fmt(dir_path, sizeof(dir_path), "%s/tags", root)) {
		DIR *dir = opendir(dir_path);
		struct dirent *e;
		while (dir != NULL && (e = readdir(dir)) != NULL) {
			char tag[BH_TAG_MAX + 1];
			/* Only names the mapping produces: anything else in the
			 * directory is not a tag of ours. */
			if (bh_tag_from_dirname(e->d_name, tag)) {
				add_tag(tags, &n, tag);
			}
		}
		if (dir != NULL) {
			closedir(dir);
		}
	}
	virStorageVolPtr *vols = NULL;
	int nvols = vm->pool != NULL ? virStoragePoolListAllVolumes(vm->pool, &vols, 0) : 0;
	for (int i = 0; i < nvols; i++) {
		char tag[BH_TAG_MAX + 1];
		const char *name = virStorageVolGetName(vols[i]);
		if (name != NULL && bh_storage_tag_of_volume(name, tag)) {
			add_tag(tags, &n, tag);
		}
		virStorageVolFree(vols[i]);
	}
	free(vols);
	virDomainPtr *doms = NULL;
	int count = virConnectListAllDomains(vm->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (count < 0) {
		set_error(error, "cannot list the VMs of libvirt (%s): %s", vm->uri,
			libvirt_message());
		bh_vm_tags_free(*tags, n);
		*tags = NULL;
		return -1;
	}
	for (int i = 0; i < count; i++) {
		char tag[BH_TAG_MAX + 1];
		const char *name = virDomainGetName(doms[i]);
		if (name != NULL && bh_tag_from_domain_name(name, tag)) {
			add_tag(tags, &n, tag);
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	if (n > 1) {
		qsort(*tags, (size_t)n, sizeof(**tags), compare_strings);
	}
	return n;
}

void bh_vm_tags_free(char **tags, int n)
{
	for (int i = 0; i < n; i++) {
		free(tags[i]);
	}
	free(tags);
}

/* Locks a tag whose VM must not run (clean, rebase): returns the lock, or
 * -1 with error set (hint says what to do) when it runs. */
static int lock_stopped(struct bh_vm *vm, const char *tag, const struct tag_paths *p,
	const char *hint, char error[BH_VM_ERROR_SIZE])
{
	int lock = bh_tag_lock(tag, error, BH_VM_ERROR_SIZE);
	if (lock < 0) {
		return -1;
	}
	virDomainPtr dom = lookup(vm, p->domain);
	if (dom != NULL) {
		virDomainFree(dom);
		set_error(error, "tag %s is running; %s", tag, hint);
		bh_tag_unlock(lock);
		return -1;
	}
	return lock;
}

bool bh_vm_clean(struct bh_vm *vm, const char *tag, char error[BH_VM_ERROR_SIZE])
{
	struct tag_paths p;
	if (!tag_paths(tag, &p, error)) {
		return false;
	}
	char hint[BH_TAG_MAX + 64];
	snprintf(hint, sizeof(hint), "stop it first with `bulkheadctl stop %s`", tag);
	int lock = lock_stopped(vm, tag, &p, hint, error);
	if (lock < 0) {
		return false;
	}
	unlink(p.region);
	if (vm->pool != NULL) {
		static const char *const parts[] = {"root.qcow2", "home.qcow2", "console.log", NULL};
		for (int i = 0; parts[i] != NULL; i++) {
			char name[BH_VOLUME_NAME_SIZE], why[BH_VM_ERROR_SIZE];
			if (!volume_name(tag, parts[i], name, sizeof(name), error)) {
				bh_tag_unlock(lock);
				return false;
			}
			if (!bh_storage_delete(vm->pool, name, why, sizeof(why))) {
				set_error(error, "tag %s: %s; its other disks are kept", tag, why);
				bh_tag_unlock(lock);
				return false;
			}
		}
	}
	bool ok = bh_remove_tree(p.state);
	if (!ok) {
		set_error(error, "tag %s: could not remove all of %s: %s", tag, p.state,
			strerror(errno));
	} else {
		/* The runtime directory holds the lock file we hold: empty it
		 * but leave the lock, which is harmless and shared by waiters. */
		DIR *dir = opendir(p.runtime);
		struct dirent *e;
		while (dir != NULL && (e = readdir(dir)) != NULL) {
			char path[PATH_MAX];
			if (e->d_name[0] != '.' && strcmp(e->d_name, "lock") != 0 &&
				bh_path_fmt(path, sizeof(path), "%s/%s", p.runtime, e->d_name)) {
				unlink(path);
			}
		}
		if (dir != NULL) {
			closedir(dir);
		}
	}
	bh_tag_unlock(lock);
	return ok;
}

/* libvirt's storage API makes an overlay but cannot move one onto a new
 * base, so the overlay comes here: downloaded into a private file of the
 * tag's state directory, pointed at this machine's copy of its base (the
 * same bytes as the base's volume), rebased in safe mode onto the local
 * copy of the new base, pointed at the new base's volume on the host and
 * sent back. The new overlay goes into a volume of its own first; only
 * once its bytes are checked there does the old root go, and the root is
 * written again under its own name (libvirt cannot rename a volume). */
static bool pool_rebase_locked(struct bh_vm *vm, const char *tag, const struct tag_paths *p,
	const char *root, const char *have, const char *want, bool *changed,
	char error[BH_VM_ERROR_SIZE])
{
	const char *pool = virStoragePoolGetName(vm->pool);
	char why[BH_VM_ERROR_SIZE];
	char old_local[PATH_MAX], new_local[PATH_MAX];
	if (!bh_paths_base(have, "root.qcow2", old_local, sizeof(old_local)) ||
		!bh_paths_base(want, "root.qcow2", new_local, sizeof(new_local))) {
		set_error(error, "tag %s: invalid base \"%s\" or \"%s\"", tag, have, want);
		return false;
	}
	if (access(old_local, R_OK) != 0) {
		set_error(error,
			"tag %s: its root disk on %s is on base %s, which is not registered "
			"here, so it cannot be rebased; `bulkheadctl clean %s` starts it afresh "
			"on base %s",
			tag, vm->uri, have, tag, want);
		return false;
	}
	bool sent = false;
	if (!bh_storage_push_base(vm->conn, vm->pool, want, NULL, NULL, &sent, why, sizeof(why))) {
		set_error(error, "tag %s: cannot send base %s into the storage pool %s: %s", tag,
			want, pool, why);
		return false;
	}
	if (sent) {
		bh_log(BH_LOG_INFO, "base %s: in the storage pool %s on %s (checksums match)", want,
			pool, vm->uri);
	}
	char new_root[BH_VOLUME_NAME_SIZE], new_vol[BH_VOLUME_NAME_SIZE], new_backing[PATH_MAX];
	if (!bh_storage_base_volume(want, "root.qcow2", new_root, sizeof(new_root)) ||
		!bh_storage_volume_path(vm->pool, new_root, new_backing, sizeof(new_backing))) {
		set_error(error, "tag %s: base %s has no root volume in the storage pool %s", tag,
			want, pool);
		return false;
	}
	if (!volume_name(tag, "root.qcow2.new", new_vol, sizeof(new_vol), error)) {
		return false;
	}
	if (!bh_mkdir_p(p->state, 0700)) {
		set_error(error, "tag %s: cannot create %s: %s", tag, p->state, strerror(errno));
		return false;
	}
	char tmp[PATH_MAX];
	if (!bh_path_fmt(tmp, sizeof(tmp), "%s/root.qcow2.rebase-XXXXXX", p->state)) {
		set_error(error, "invalid tag \"%s\": the path is too long", tag);
		return false;
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		set_error(error, "tag %s: cannot make a file in %s: %s", tag, p->state,
			strerror(errno));
		return false;
	}
	fchmod(fd, 0600);
	bh_log(BH_LOG_INFO, "tag %s: rebasing its root disk on %s onto base %s", tag, vm->uri,
		want);
	bool ok = bh_storage_download(vm->conn, vm->pool, root, fd, why, sizeof(why));
	close(fd);
	if (!ok) {
		set_error(error, "tag %s: %s; its root disk is unchanged", tag, why);
		unlink(tmp);
		return false;
	}
	if (!bh_image_set_backing(tmp, old_local) || !bh_image_rebase(tmp, new_local) ||
		!bh_image_set_backing(tmp, new_backing) || !bh_image_check(tmp)) {
		set_error(error,
			"tag %s: could not rebase its root disk onto base %s (see the log above); "
			"the disk is unchanged",
			tag, want);
		unlink(tmp);
		return false;
	}
	/* Left by a rebase cut short: the root volume is still the disk. */
	if (!bh_storage_delete(vm->pool, new_vol, why, sizeof(why)) ||
		!bh_storage_upload_checked(vm->conn, vm->pool, new_vol, tmp, why, sizeof(why))) {
		set_error(error,
			"tag %s: %s; its root disk is unchanged: run `bulkheadctl rebase "
			"%s` again",
			tag, why, tag);
		unlink(tmp);
		return false;
	}
	if (!bh_storage_delete(vm->pool, root, why, sizeof(why))) {
		set_error(error,
			"tag %s: %s; its root disk is unchanged: run `bulkheadctl rebase "
			"%s` again",
			tag, why, tag);
		bh_storage_delete(vm->pool, new_vol, why, sizeof(why));
		unlink(tmp);
		return false;
	}
	if (!bh_storage_upload_checked(vm->conn, vm->pool, root, tmp, why, sizeof(why))) {
		set_error(error,
			"tag %s: %s; its rebased root disk is kept in the volume %s and in %s: run "
			"`bulkheadctl rebase %s` again before it starts",
			tag, why, new_vol, tmp, tag);
		return false;
	}
	char *backing = bh_storage_backing(vm->pool, root);
	ok = backing != NULL && strcmp(backing, new_backing) == 0;
	free(backing);
	if (!ok) {
		set_error(error,
			"tag %s: the storage pool %s does not show its new root disk %s as "
			"backed by %s; it is kept in the volume %s and in %s",
			tag, pool, root, new_backing, new_vol, tmp);
		return false;
	}
	bh_storage_delete(vm->pool, new_vol, why, sizeof(why));
	unlink(tmp);
	*changed = true;
	return true;
}

/* A root volume that a rebase cut short after deleting it: what it sent
 * is whole in the .new volume (checked when sent), which becomes the
 * root again. */
static bool pool_rebase_resume(struct bh_vm *vm, const char *tag, const struct tag_paths *p,
	const char *root, char error[BH_VM_ERROR_SIZE])
{
	char new_vol[BH_VOLUME_NAME_SIZE], tmp[PATH_MAX], why[BH_VM_ERROR_SIZE];
	char path[PATH_MAX];
	if (!volume_name(tag, "root.qcow2.new", new_vol, sizeof(new_vol), error)) {
		return false;
	}
	if (bh_storage_volume_path(vm->pool, root, path, sizeof(path)) ||
		!bh_storage_volume_path(vm->pool, new_vol, path, sizeof(path))) {
		return true;
	}
	if (!bh_mkdir_p(p->state, 0700) ||
		!bh_path_fmt(tmp, sizeof(tmp), "%s/root.qcow2.rebase-XXXXXX", p->state)) {
		set_error(error, "tag %s: cannot use %s", tag, p->state);
		return false;
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		set_error(error, "tag %s: cannot make a file in %s: %s", tag, p->state,
			strerror(errno));
		return false;
	}
	bool ok = bh_storage_download(vm->conn, vm->pool, new_vol, fd, why, sizeof(why));
	close(fd);
	ok = ok && bh_storage_upload_checked(vm->conn, vm->pool, root, tmp, why, sizeof(why));
	unlink(tmp);
	if (!ok) {
		set_error(error,
			"tag %s: its rebased root disk is in the volume %s but cannot become its "
			"root: %s; run `bulkheadctl rebase %s` again",
			tag, new_vol, why, tag);
		return false;
	}
	bh_storage_delete(vm->pool, new_vol, why, sizeof(why));
	bh_log(BH_LOG_INFO, "tag %s: its root disk is back from the volume %s", tag, new_vol);
	return true;
}

static bool pool_rebase(struct bh_vm *vm, const char *tag, const struct tag_paths *p,
	const struct bh_vm_settings *settings, bool *changed, char error[BH_VM_ERROR_SIZE])
{
	char root[BH_VOLUME_NAME_SIZE], have[BH_BASE_ID_SIZE], want[BH_BASE_ID_SIZE];
	if (!volume_name(tag, "root.qcow2", root, sizeof(root), error)) {
		return false;
	}
	if (settings->root == BH_ROOT_FRESH) {
		return true;
	}
	if (!bh_base_resolve(settings->base, want)) {
		set_error(error,
			"tag %s: there is no base \"%s\" to rebase onto (see `bulkheadctl "
			"base list`)",
			tag, settings->base ? settings->base : "latest");
		return false;
	}
	char hint[BH_TAG_MAX + 64];
	snprintf(hint, sizeof(hint), "stop it first with `bulkheadctl stop %s`", tag);
	int lock = lock_stopped(vm, tag, p, hint, error);
	if (lock < 0) {
		return false;
	}
	bool ok = pool_rebase_resume(vm, tag, p, root, error);
	char *backing = ok ? bh_storage_backing(vm->pool, root) : NULL;
	bool known = bh_storage_base_of_root(backing, have);
	free(backing);
	if (ok && known && strcmp(have, want) != 0) {
		ok = pool_rebase_locked(vm, tag, p, root, have, want, changed, error);
	}
	bh_tag_unlock(lock);
	return ok;
}

bool bh_vm_rebase(struct bh_vm *vm, const char *tag, const struct bh_vm_settings *settings,
	bool *changed, char error[BH_VM_ERROR_SIZE])
{
	struct tag_paths p;
	*changed = false;
	if (!tag_paths(tag, &p, error)) {
		return false;
	}
	if (vm->pool != NULL) {
		return pool_rebase(vm, tag, &p, settings, changed, error);
	}
	if (settings->root == BH_ROOT_FRESH || access(p.root, F_OK) != 0) {
		/* Nothing to keep: the next start makes a new overlay. */
		return true;
	}
	char base_id[BH_BASE_ID_SIZE];
	if (!bh_base_resolve(settings->base, base_id)) {
		set_error(error,
			"tag %s: there is no base \"%s\" to rebase onto (see `bulkheadctl "
			"base list`)",
			tag, settings->base ? settings->base : "latest");
		return false;
	}
	char hint[BH_TAG_MAX + 128];
	snprintf(hint, sizeof(hint),
		"it is rebased when it next starts, or stop it and run `bulkheadctl rebase %s`",
		tag);
	int lock = lock_stopped(vm, tag, &p, hint, error);
	if (lock < 0) {
		return false;
	}
	char *before = bh_image_backing(p.root, NULL);
	bool ok = prepare_root(tag, &p, base_id, BH_ROOT_PERSISTENT, error);
	char *after = bh_image_backing(p.root, NULL);
	*changed = ok && ((before == NULL) != (after == NULL) ||
				 (before != NULL && after != NULL && strcmp(before, after) != 0));
	free(before);
	free(after);
	bh_tag_unlock(lock);
	return ok;
}

int bh_vm_base_gc(char error[BH_VM_ERROR_SIZE])
{
	struct bh_base *bases = NULL;
	int n = bh_base_list(&bases);
	if (n < 0) {
		set_error(error, "cannot read the base directory");
		return -1;
	}
	bool *used = calloc((size_t)n + 1, sizeof(*used));
	if (used == NULL) {
		bh_base_list_free(bases, n);
		set_error(error, "out of memory");
		return -1;
	}
	/* Every tag's overlay, running or not, names the base it needs. */
	char root[PATH_MAX], dir_path[PATH_MAX];
	bool scanned = bh_paths_state_root(root, sizeof(root)) &&
		       bh_path_fmt(dir_path, sizeof(dir_path), "%s/tags", root);
	DIR *dir = scanned ? opendir(dir_path) : NULL;
	if (dir == NULL && errno != ENOENT) {
		scanned = false;
	}
	struct dirent *e;
	while (dir != NULL && (e = readdir(dir)) != NULL) {
		char tag[BH_TAG_MAX + 1], overlay[PATH_MAX], id[BH_BASE_ID_SIZE];
		if (!bh_tag_from_dirname(e->d_name, tag) ||
			!bh_path_fmt(overlay, sizeof(overlay), "%s/%s/root.qcow2", dir_path,
				e->d_name) ||
			access(overlay, F_OK) != 0) {
			continue;
		}
		bool failed = false;
		char *backing = bh_image_backing(overlay, &failed);
		if (failed) {
			/* Unknown use: keep every base rather than guess. */
			scanned = false;
		}
		for (int i = 0; backing != NULL && i < n; i++) {
			if (bh_base_of_root(backing, id) && strcmp(id, bases[i].id) == 0) {
				used[i] = true;
			}
		}
		free(backing);
	}
	if (dir != NULL) {
		closedir(dir);
	}
	int removed = 0;
	if (!scanned) {
		set_error(error, "could not read every tag's root disk; no base was removed");
		removed = -1;
	}
	for (int i = 0; removed >= 0 && i < n; i++) {
		if (!used[i] && !bases[i].latest) {
			if (bh_base_remove(bases[i].id)) {
				bh_log(BH_LOG_INFO, "removed base %s", bases[i].id);
				removed++;
			}
		}
	}
	free(used);
	bh_base_list_free(bases, n);
	bh_base_remove_partial();
	return removed;
}
