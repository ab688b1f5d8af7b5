/* Finding and mapping the shared region in the guest (see region.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "guest-agent/region.h"

#define PCI_DEVICES "/sys/bus/pci/devices"
#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110

/* Maps fd whole (at least size bytes) and checks the header; closes fd. */
static uint8_t *map_checked(int fd, uint64_t size, const uint8_t token[BH_REGION_TOKEN_LEN],
	const char *what, char *why, size_t why_size)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < size) {
		snprintf(why, why_size, "%s is smaller than the region's %llu bytes", what,
			(unsigned long long)size);
		close(fd);
		return NULL;
	}
	void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int err = errno;
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(why, why_size, "cannot map %s: %s", what, strerror(err));
		return NULL;
	}
	if (!bh_region_header_matches(map, size, size, token)) {
		munmap(map, size);
		snprintf(why, why_size, "%s is not the region the host offered", what);
		return NULL;
	}
	return map;
}

static unsigned read_hex(const char *dir, const char *file)
{
	char path[512], buf[32];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return 0;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return 0;
	}
	buf[n] = '\0';
	unsigned v = 0;
	return sscanf(buf, "%x", &v) == 1 ? v : 0;
}

/* Every ivshmem device's BAR 2 (write-combined where the kernel offers it:
 * the agent only writes there), until one holds the header. */
static uint8_t *map_ivshmem(
	uint64_t size, const uint8_t token[BH_REGION_TOKEN_LEN], char *why, size_t why_size)
{
	DIR *d = opendir(PCI_DEVICES);
	if (d == NULL) {
		snprintf(why, why_size, "no %s (sysfs not mounted?)", PCI_DEVICES);
		return NULL;
	}
	snprintf(why, why_size, "the VM has no ivshmem device (an old domain: restart the tag)");
	uint8_t *map = NULL;
	struct dirent *e;
	while (map == NULL && (e = readdir(d)) != NULL) {
		char dir[512], path[600];
		if (e->d_name[0] == '.') {
			continue;
		}
		snprintf(dir, sizeof(dir), "%s/%s", PCI_DEVICES, e->d_name);
		if (read_hex(dir, "vendor") != IVSHMEM_VENDOR ||
			read_hex(dir, "device") != IVSHMEM_DEVICE) {
			continue;
		}
		/* Unclaimed by any driver, the device may not decode its BAR yet. */
		snprintf(path, sizeof(path), "%s/enable", dir);
		int en = open(path, O_WRONLY | O_CLOEXEC);
		if (en >= 0) {
			if (write(en, "1", 1) < 0) {
				bh_log(BH_LOG_DEBUG, "could not enable %s: %s", dir, strerror(errno));
			}
			close(en);
		}
		snprintf(path, sizeof(path), "%s/resource2_wc", dir);
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			snprintf(path, sizeof(path), "%s/resource2", dir);
			fd = open(path, O_RDWR | O_CLOEXEC);
		}
		if (fd < 0) {
			snprintf(why, why_size, "cannot open %s: %s", path, strerror(errno));
			continue;
		}
		map = map_checked(fd, size, token, path, why, why_size);
	}
	closedir(d);
	return map;
}

uint8_t *bh_agent_region_map(
	int fd, uint64_t size, const uint8_t token[BH_REGION_TOKEN_LEN], char *why, size_t why_size)
{
	if (size < BH_REGION_HEADER || size > ((uint64_t)BH_REGION_MAX_MIB << 20)) {
		if (fd >= 0) {
			close(fd);
		}
		snprintf(why, why_size, "a region of %llu bytes is not one",
			(unsigned long long)size);
		return NULL;
	}
	if (fd >= 0) {
		return map_checked(fd, size, token, "the region the host sent", why, why_size);
	}
	return map_ivshmem(size, token, why, why_size);
}

void bh_agent_region_unmap(uint8_t *map, uint64_t size)
{
	if (map != NULL) {
		munmap(map, size);
	}
}
