/* Host memfds backing the host-side wl_shm pools of one guest client: the
 * agent's buffer contents are written into them after bounds checks. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include "common/relay.h"
#include "proxy/shm.h"

void bh_host_pools_finish(struct bh_host_pools *pools)
{
	for (size_t i = 0; i < pools->count; i++) {
		munmap(pools->pools[i].map, pools->pools[i].size);
		close(pools->pools[i].fd);
	}
	free(pools->pools);
	memset(pools, 0, sizeof(*pools));
}

struct bh_host_pool *bh_host_pool_find(struct bh_host_pools *pools, uint32_t serial)
{
	for (size_t i = 0; i < pools->count; i++) {
		if (pools->pools[i].serial == serial) {
			return &pools->pools[i];
		}
	}
	return NULL;
}

static bool check_size(
	struct bh_host_pools *pools, uint64_t old_size, uint64_t size, char *err, size_t err_size)
{
	if (size == 0 || size > BH_RELAY_MAX_POOL_SIZE) {
		snprintf(err, err_size, "shm pool size %" PRIu64 " is outside 1..%u bytes", size,
			BH_RELAY_MAX_POOL_SIZE);
		return false;
	}
	if (pools->total - old_size + size > BH_RELAY_MAX_POOL_TOTAL) {
		snprintf(err, err_size,
			"shm pools would total %" PRIu64 " bytes, over the %llu limit",
			pools->total - old_size + size,
			(unsigned long long)BH_RELAY_MAX_POOL_TOTAL);
		return false;
	}
	return true;
}

struct bh_host_pool *bh_host_pool_create(
	struct bh_host_pools *pools, uint32_t serial, uint64_t size, char *err, size_t err_size)
{
	if (bh_host_pool_find(pools, serial) != NULL) {
		snprintf(err, err_size, "shm pool number %" PRIu32 " is already in use", serial);
		return NULL;
	}
	if (pools->count >= BH_RELAY_MAX_POOLS) {
		snprintf(err, err_size, "more than %d shm pools", BH_RELAY_MAX_POOLS);
		return NULL;
	}
	if (!check_size(pools, 0, size, err, err_size)) {
		return NULL;
	}
	if (pools->count == pools->cap) {
		size_t cap = pools->cap ? pools->cap * 2 : 8;
		struct bh_host_pool *p = realloc(pools->pools, cap * sizeof(*p));
		if (p == NULL) {
			snprintf(err, err_size, "out of memory for shm pools");
			return NULL;
		}
		pools->pools = p;
		pools->cap = cap;
	}
	int fd = bh_relay_memfd("bulkhead-shm", size);
	if (fd < 0) {
		snprintf(err, err_size, "could not make a %" PRIu64 "-byte memfd: %s", size,
			strerror(errno));
		return NULL;
	}
	/* Written through a mapping: a pwrite per message would lock and
	 * unlock every page it touches in the kernel. No one may shrink the
	 * file under the mapping (the compositor is handed a dup). */
	void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
		snprintf(err, err_size, "could not map a %" PRIu64 "-byte memfd: %s", size,
			strerror(errno));
		if (map != MAP_FAILED) {
			munmap(map, size);
		}
		close(fd);
		return NULL;
	}
	struct bh_host_pool *pool = &pools->pools[pools->count++];
	pool->serial = serial;
	pool->fd = fd;
	pool->map = map;
	pool->size = size;
	pool->refs = 1;
	pools->total += size;
	return pool;
}

bool bh_host_pool_resize(struct bh_host_pools *pools, struct bh_host_pool *pool, uint64_t size,
	char *err, size_t err_size)
{
	if (size < pool->size) {
		snprintf(err, err_size,
			"shm pool resized from %" PRIu64 " down to %" PRIu64 " bytes", pool->size,
			size);
		return false;
	}
	if (!check_size(pools, pool->size, size, err, err_size)) {
		return false;
	}
	if (ftruncate(pool->fd, (off_t)size) < 0) {
		snprintf(err, err_size, "could not grow a memfd to %" PRIu64 " bytes: %s", size,
			strerror(errno));
		return false;
	}
	void *map = mremap(pool->map, pool->size, size, MREMAP_MAYMOVE);
	if (map == MAP_FAILED) {
		snprintf(err, err_size, "could not map a memfd grown to %" PRIu64 " bytes: %s",
			size, strerror(errno));
		return false;
	}
	pool->map = map;
	pools->total += size - pool->size;
	pool->size = size;
	return true;
}

uint8_t *bh_host_pool_span(struct bh_host_pool *pool, uint64_t offset, size_t len, char *err,
	size_t err_size)
{
	if (offset > pool->size || len > pool->size - offset) {
		snprintf(err, err_size,
			"buffer data at %" PRIu64 "+%zu lies past the end of shm pool %" PRIu32
			" (%" PRIu64 " bytes)",
			offset, len, pool->serial, pool->size);
		return NULL;
	}
	return pool->map + offset;
}

void bh_host_pool_unref(struct bh_host_pools *pools, struct bh_host_pool *pool)
{
	if (--pool->refs > 0) {
		return;
	}
	munmap(pool->map, pool->size);
	close(pool->fd);
	pools->total -= pool->size;
	size_t i = (size_t)(pool - pools->pools);
	pools->pools[i] = pools->pools[--pools->count];
}

/* A fresh token, and the header written where the agent reads it. */
static bool region_setup(struct bh_host_region *region, char *err, size_t err_size)
{
	if (getrandom(region->token, sizeof(region->token), 0) != (ssize_t)sizeof(region->token)) {
		snprintf(err, err_size, "no random bytes for the shared region: %s",
			strerror(errno));
		return false;
	}
	uint8_t header[BH_REGION_OFF_TOKEN + BH_REGION_TOKEN_LEN];
	bh_region_write_header(header, region->size, region->token);
	if (pwrite(region->fd, header, sizeof(header), 0) != (ssize_t)sizeof(header)) {
		snprintf(err, err_size, "could not write the shared region's header: %s",
			strerror(errno));
		return false;
	}
	return true;
}

bool bh_host_region_create(
	struct bh_host_region *region, uint64_t size, char *err, size_t err_size)
{
	memset(region, 0, sizeof(*region));
	region->size = size;
	region->fd = bh_relay_memfd("bulkhead-region", size);
	if (region->fd < 0) {
		snprintf(err, err_size, "could not make a %" PRIu64 "-byte shared region: %s",
			size, strerror(errno));
		return false;
	}
	/* The agent gets this very file: it may write it, never resize it. */
	if (fcntl(region->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		snprintf(err, err_size, "could not seal the shared region: %s", strerror(errno));
		bh_host_region_finish(region);
		return false;
	}
	if (!region_setup(region, err, err_size)) {
		bh_host_region_finish(region);
		return false;
	}
	region->memfd = true;
	return true;
}

bool bh_host_region_open(struct bh_host_region *region, const char *path, uint64_t size,
	char *err, size_t err_size)
{
	memset(region, 0, sizeof(*region));
	region->size = size;
	region->fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (region->fd < 0 || fstat(region->fd, &st) < 0) {
		snprintf(err, err_size, "could not open the shared region %s: %s", path,
			strerror(errno));
		bh_host_region_finish(region);
		return false;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0 ||
		(uint64_t)st.st_size < size) {
		snprintf(err, err_size,
			"the shared region %s is not a private file of %" PRIu64 " bytes of this user",
			path, size);
		bh_host_region_finish(region);
		return false;
	}
	if (!region_setup(region, err, err_size)) {
		bh_host_region_finish(region);
		return false;
	}
	return true;
}

void bh_host_region_finish(struct bh_host_region *region)
{
	bh_guest_ram_finish(region);
	if (region->fd >= 0) {
		close(region->fd);
	}
	memset(region, 0, sizeof(*region));
	region->fd = -1;
}

uint32_t bh_host_region_caps(const struct bh_host_region *region)
{
	return (region->fd >= 0 ? BH_CAP_REGION : 0) |
	       (region->ram.map != NULL ? BH_CAP_GUEST_RAM : 0);
}

void bh_host_region_connected(struct bh_host_region *region, struct bh_endpoint *endpoint)
{
	region->active = false; /* until this agent says it maps it */
	region->ram.on = region->ram.offered = false;
	if (region->fd >= 0 && region->memfd) {
		/* The agent maps the very file the compositor reads. */
		int fd = fcntl(region->fd, F_DUPFD_CLOEXEC, 0);
		if (fd >= 0) {
			bh_endpoint_send_fd(endpoint, fd);
		}
	}
}

void bh_host_region_offer(struct bh_host_region *region, struct bh_endpoint *endpoint,
	uint32_t agent_caps, const char *tag)
{
	region->active = false;
	region->ram.on = region->ram.offered = false;
	region->agent_caps = agent_caps;
	if (region->fd < 0) {
		bh_log(BH_LOG_INFO,
			"tag %s: window contents go through the channel (no shared region: a remote "
			"host, another kind of channel, or shm_size = off)",
			tag);
		return;
	}
	if (!(agent_caps & BH_CAP_REGION)) {
		bh_log(BH_LOG_WARN,
			"tag %s: window contents go through the channel, slower: its agent cannot "
			"use a shared region (update the base with `bulkheadctl base build`)",
			tag);
		return;
	}
	struct bh_msg msg;
	bh_msg_init(&msg, 0);
	bh_msg_u64(&msg, region->size);
	bh_msg_bytes(&msg, region->token, sizeof(region->token));
	bh_endpoint_send_control(endpoint, BH_CTL_REGION, msg.buf, msg.len);
}

bool bh_host_region_status(struct bh_host_region *region, struct bh_endpoint *endpoint,
	struct bh_msg_reader *reader, const char *tag)
{
	uint32_t used = bh_msg_get_u32(reader);
	char *why = bh_msg_get_str(reader, 256);
	bool ok = bh_msg_end(reader) && used <= 1 && bh_text_printable(why);
	if (!ok) {
		bh_log(BH_LOG_ERROR, "tag %s: malformed shared-region status from the agent", tag);
	} else if (used && region->fd < 0) {
		bh_log(BH_LOG_ERROR, "tag %s: the agent says it uses a shared region it was not "
				     "offered",
			tag);
		ok = false;
	} else if (used) {
		region->active = true;
		bh_log(BH_LOG_INFO, "tag %s: window contents go through the shared region (%llu MiB)",
			tag, (unsigned long long)(region->size >> 20));
		if (region->ram.map != NULL && (region->agent_caps & BH_CAP_GUEST_RAM)) {
			bh_guest_ram_offer(region, endpoint, tag);
		} else if (region->ram.map != NULL) {
			bh_log(BH_LOG_INFO,
				"tag %s: the agent copies window contents into the region itself "
				"(it cannot name guest memory: update the base)",
				tag);
		}
	} else {
		bh_log(BH_LOG_WARN,
			"tag %s: window contents go through the channel, slower: the agent cannot "
			"map the shared region (%s)",
			tag, why);
	}
	free(why);
	return ok;
}
