/* The proxy's reading of guest memory (proxy/guest_ram.c): the memfd found
 * among a process' fds by size and seal, the translation of guest-physical
 * addresses with its bounds, and the probe that turns the path on only when
 * the page the agent names holds the token. The "VM" is this process. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/endpoint.h"
#include "proxy/shm.h"
#include "tests/test.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

static int make_memfd(uint64_t size, bool sealed)
{
	int fd = memfd_create("test-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, (off_t)size) == 0);
	if (sealed) {
		CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
	}
	return fd;
}

static void test_span(void)
{
	char err[256];
	/* 6 GiB (address space only): 3 below 4 GiB, 3 from 4 GiB (i440fx
	 * over 3.5 GiB). */
	const uint8_t *base =
		mmap(NULL, 6 * GIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(base != MAP_FAILED);
	struct bh_guest_ram ram = {.map = base, .size = 6 * GIB, .low = 3 * GIB};
	CHECK(bh_guest_ram_span(&ram, 0, 4096, err, sizeof(err)) == base);
	CHECK(bh_guest_ram_span(&ram, 3 * GIB - 4096, 4096, err, sizeof(err)) ==
		base + 3 * GIB - 4096);
	CHECK(bh_guest_ram_span(&ram, 3 * GIB - 4096, 8192, err, sizeof(err)) == NULL);
	CHECK(bh_guest_ram_span(&ram, 3 * GIB, 4096, err, sizeof(err)) == NULL); /* the hole */
	CHECK(strstr(err, "is not all in the VM's 6144 MiB") != NULL);
	CHECK(bh_guest_ram_span(&ram, 4 * GIB, 4096, err, sizeof(err)) == base + 3 * GIB);
	CHECK(bh_guest_ram_span(&ram, 7 * GIB - 4096, 4096, err, sizeof(err)) ==
		base + 6 * GIB - 4096);
	CHECK(bh_guest_ram_span(&ram, 7 * GIB - 4096, 4097, err, sizeof(err)) == NULL);
	CHECK(bh_guest_ram_span(&ram, 7 * GIB, 1, err, sizeof(err)) == NULL);
	CHECK(bh_guest_ram_span(&ram, UINT64_MAX - 10, 4096, err, sizeof(err)) == NULL);
	CHECK(bh_guest_ram_span(&ram, 0, UINT64_MAX, err, sizeof(err)) == NULL);
	CHECK(bh_guest_ram_span(&ram, 4096, 0, err, sizeof(err)) == NULL);
	/* None held: nothing is guest memory. */
	struct bh_guest_ram none = {.map = NULL};
	CHECK(bh_guest_ram_span(&none, 0, 4096, err, sizeof(err)) == NULL);
	munmap((void *)base, 6 * GIB);
}

static bool probe(struct bh_host_region *region, uint64_t gpa, const char *why)
{
	struct bh_msg msg;
	bh_msg_init(&msg, 0);
	bh_msg_u64(&msg, gpa);
	bh_msg_str(&msg, why);
	struct bh_msg_reader r;
	bh_msg_reader_init(&r, msg.buf, msg.len);
	return bh_guest_ram_probe(region, NULL, &r, "test");
}

static void test_open_and_probe(void)
{
	char err[512];
	struct bh_host_region region;
	CHECK(bh_host_region_create(&region, 16 * MIB, err, sizeof(err)));
	/* Not sealed: refused (qemu could shrink it under the mapping). */
	int loose = make_memfd(8 * MIB, false);
	CHECK(!bh_guest_ram_open(&region, getpid(), 8 * MIB, err, sizeof(err)));
	CHECK(strstr(err, "not sealed against shrinking") != NULL);
	CHECK(region.ram.map == NULL);
	close(loose);
	/* None of that size. */
	int ram = make_memfd(8 * MIB, true);
	CHECK(!bh_guest_ram_open(&region, getpid(), 4 * MIB, err, sizeof(err)));
	CHECK(strstr(err, "holds no memfd of 4 MiB") != NULL);
	CHECK(bh_guest_ram_open(&region, getpid(), 8 * MIB, err, sizeof(err)));
	CHECK(region.ram.map != NULL && region.map != NULL);
	CHECK(region.ram.low == 8 * MIB);
	CHECK((bh_host_region_caps(&region) & BH_CAP_GUEST_RAM) != 0);

	/* A probe no offer asked for ends the agent's connection. */
	CHECK(!probe(&region, 8192, ""));
	/* The token at the page named: on. */
	bh_guest_ram_offer(&region, NULL, "test");
	CHECK(region.ram.offered);
	CHECK(pwrite(ram, region.ram.token, sizeof(region.ram.token), 8192) ==
		(ssize_t)sizeof(region.ram.token));
	CHECK(probe(&region, 8192, ""));
	CHECK(region.ram.on);
	/* Elsewhere, or past the memory, or none: off, the agent copies. */
	const uint64_t wrong[] = {4096, 8 * MIB, 4 * GIB, BH_GUEST_RAM_NONE};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		region.ram.on = false;
		bh_guest_ram_offer(&region, NULL, "test");
		CHECK(pwrite(ram, region.ram.token, sizeof(region.ram.token), 8192) ==
			(ssize_t)sizeof(region.ram.token));
		CHECK(probe(&region, wrong[i], wrong[i] == BH_GUEST_RAM_NONE ? "not root" : ""));
		CHECK(!region.ram.on);
	}
	/* A reason with control characters is malformed. */
	bh_guest_ram_offer(&region, NULL, "test");
	CHECK(!probe(&region, BH_GUEST_RAM_NONE, "bad\x1b[2J"));
	/* What the copy reads is what the memfd holds. */
	uint8_t bytes[64];
	memset(bytes, 0x5a, sizeof(bytes));
	CHECK(pwrite(ram, bytes, sizeof(bytes), 3 * MIB) == (ssize_t)sizeof(bytes));
	const uint8_t *at =
		bh_guest_ram_span(&region.ram, 3 * MIB, sizeof(bytes), err, sizeof(err));
	CHECK(at != NULL && memcmp(at, bytes, sizeof(bytes)) == 0);
	close(ram);
	bh_host_region_finish(&region);
	CHECK(region.ram.map == NULL && region.map == NULL);
}

int main(void)
{
	test_span();
	test_open_and_probe();
	return bh_test_finish("guest_ram");
}
