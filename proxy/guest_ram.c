/* The VM's memory, read by the proxy: window contents copied from the guest
 * client's own buffer into the shared region at host speed, so the guest
 * makes no copy at all (protocols/CHANNEL.md "Guest memory").
 *
 * libvirt backs a local tag's memory with a shared memfd (the domain's
 * <memoryBacking>); the proxy opens it through /proc/QEMU/fd before its
 * sandbox, as the same user, and maps it read-only. The agent names the
 * physical pages of a buffer; every address and length is checked against
 * the memory the host holds, and the destination against the client's own
 * slots, before a byte is copied. A guest can only make the host read its
 * own memory into its own windows. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/endpoint.h"
#include "common/log.h"
#include "common/util.h"
#include "proxy/shm.h"

#define GIB4 (4ull << 30)

/* Guest memory below 4 GiB on qemu's i440fx machine (libvirt's default):
 * all of it up to 3.5 GiB, else 3 GiB and the rest above 4 GiB. */
static uint64_t low_memory(uint64_t size)
{
	return size >= 0xe0000000ull ? 0xc0000000ull : size;
}

int bh_guest_ram_qemu_pid(const char *domain)
{
	const char *run = getenv("XDG_RUNTIME_DIR");
	char path[4096];
	if (run == NULL || run[0] != '/' ||
		snprintf(path, sizeof(path), "%s/libvirt/qemu/run/%s.pid", run, domain) >=
			(int)sizeof(path)) {
		return -1;
	}
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		return -1;
	}
	long pid = -1;
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 1 || pid > INT_MAX) {
		pid = -1;
	}
	fclose(f);
	return (int)pid;
}

/* The memfd among qemu's fds that has size bytes, opened read-only. */
static int find_memfd(int pid, uint64_t size, char *err, size_t err_size)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	DIR *d = opendir(dir);
	if (d == NULL) {
		snprintf(err, err_size, "cannot list the fds of qemu (pid %d): %s", pid,
			strerror(errno));
		return -1;
	}
	snprintf(err, err_size,
		"qemu (pid %d) holds no memfd of %" PRIu64 " MiB (the domain's "
		"memory is not shared: restart the tag)",
		pid, size >> 20);
	int found = -1;
	struct dirent *e;
	while (found < 0 && (e = readdir(d)) != NULL) {
		char path[128], link[256];
		if (e->d_name[0] == '.' || snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
						   (int)sizeof(path)) {
			continue;
		}
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0) {
			continue;
		}
		link[n] = '\0';
		if (strncmp(link, "/memfd:", 7) != 0) {
			continue;
		}
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
			(uint64_t)st.st_size != size) {
			if (fd >= 0) {
				close(fd);
			}
			continue;
		}
		/* Sealed, or qemu (which any guest that escapes runs as) could
		 * shrink it under the mapping and fault the proxy. */
		int seals = fcntl(fd, F_GET_SEALS);
		if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
			snprintf(err, err_size,
				"the VM's memory (%s) is not sealed against shrinking", link);
			close(fd);
			continue;
		}
		found = fd;
	}
	closedir(d);
	return found;
}

bool bh_guest_ram_open(
	struct bh_host_region *region, int qemu_pid, uint64_t ram_size, char *err, size_t err_size)
{
	if (region->fd < 0 || qemu_pid <= 0 || ram_size == 0) {
		snprintf(err, err_size, "no shared region or no qemu to read memory from");
		return false;
	}
	int fd = find_memfd(qemu_pid, ram_size, err, err_size);
	if (fd < 0) {
		return false;
	}
	void *ram = mmap(NULL, ram_size, PROT_READ, MAP_SHARED, fd, 0);
	void *map = ram == MAP_FAILED ? MAP_FAILED
				      : mmap(NULL, region->size, PROT_READ | PROT_WRITE, MAP_SHARED,
						region->fd, 0);
	if (map == MAP_FAILED) {
		snprintf(err, err_size, "cannot map the VM's memory and the region: %s",
			strerror(errno));
		if (ram != MAP_FAILED) {
			munmap(ram, ram_size);
		}
		close(fd);
		return false;
	}
	region->map = map;
	region->ram.fd = fd;
	region->ram.map = ram;
	region->ram.size = ram_size;
	region->ram.low = low_memory(ram_size);
	region->ram.on = region->ram.offered = false;
	return true;
}

void bh_guest_ram_finish(struct bh_host_region *region)
{
	if (region->ram.map != NULL) {
		munmap((void *)region->ram.map, region->ram.size);
		close(region->ram.fd);
	}
	if (region->map != NULL) {
		munmap(region->map, region->size);
	}
	region->map = NULL;
	memset(&region->ram, 0, sizeof(region->ram));
}

const uint8_t *bh_guest_ram_span(
	const struct bh_guest_ram *ram, uint64_t gpa, uint64_t len, char *err, size_t err_size)
{
	uint64_t offset = UINT64_MAX;
	if (ram->map == NULL) {
		snprintf(err, err_size, "guest memory named, but the host holds none");
		return NULL;
	}
	if (gpa < ram->low && len <= ram->low - gpa) {
		offset = gpa;
	} else if (gpa >= GIB4 && gpa - GIB4 < ram->size - ram->low &&
		   len <= ram->size - ram->low - (gpa - GIB4)) {
		offset = ram->low + (gpa - GIB4);
	}
	if (offset == UINT64_MAX || len == 0) {
		snprintf(err, err_size,
			"guest memory at %#" PRIx64 "+%" PRIu64 " is not all in the VM's %" PRIu64
			" MiB",
			gpa, len, ram->size >> 20);
		return NULL;
	}
	return ram->map + offset;
}

void bh_guest_ram_offer(
	struct bh_host_region *region, struct bh_endpoint *endpoint, const char *tag)
{
	if (getrandom(region->ram.token, sizeof(region->ram.token), 0) !=
		(ssize_t)sizeof(region->ram.token)) {
		bh_log(BH_LOG_WARN, "tag %s: no random bytes for the guest-memory probe", tag);
		return;
	}
	struct bh_msg msg;
	bh_msg_init(&msg, 0);
	bh_msg_bytes(&msg, region->ram.token, sizeof(region->ram.token));
	bh_msg_u64(&msg, region->ram.low);
	bh_msg_u64(&msg, region->ram.size - region->ram.low);
	if (endpoint != NULL) {
		bh_endpoint_send_control(endpoint, BH_CTL_GUEST_RAM, msg.buf, msg.len);
	}
	region->ram.offered = true;
}

bool bh_guest_ram_probe(struct bh_host_region *region, struct bh_endpoint *endpoint,
	struct bh_msg_reader *reader, const char *tag)
{
	uint64_t gpa = bh_msg_get_u64(reader);
	char *why = bh_msg_get_str(reader, 256);
	bool ok = bh_msg_end(reader) && bh_text_printable(why);
	if (!ok || !region->ram.offered) {
		bh_log(BH_LOG_ERROR, "tag %s: %s guest-memory probe from the agent", tag,
			ok ? "an unasked-for" : "a malformed");
		free(why);
		return false;
	}
	region->ram.offered = false;
	char err[256] = "";
	const uint8_t *page = gpa == BH_GUEST_RAM_NONE
				      ? NULL
				      : bh_guest_ram_span(&region->ram, gpa,
						sizeof(region->ram.token), err, sizeof(err));
	if (gpa == BH_GUEST_RAM_NONE) {
		snprintf(err, sizeof(err), "%s", why);
	} else if (page != NULL &&
		   memcmp(page, region->ram.token, sizeof(region->ram.token)) != 0) {
		snprintf(err, sizeof(err),
			"the page it named does not hold the token (a machine type whose "
			"memory layout the host does not know?)");
		page = NULL;
	}
	free(why);
	if (page == NULL) {
		bh_log(BH_LOG_WARN,
			"tag %s: the agent copies window contents into the region itself, "
			"slower: the host cannot read them from the guest's memory (%s)",
			tag, err);
		return true;
	}
	region->ram.on = true;
	bh_log(BH_LOG_INFO,
		"tag %s: window contents are copied by the host from the guest's memory "
		"(no copy in the guest)",
		tag);
	if (endpoint != NULL) {
		bh_endpoint_send_control(endpoint, BH_CTL_GUEST_RAM_ON, NULL, 0);
	}
	return true;
}
