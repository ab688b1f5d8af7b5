/* libFuzzer target: the proxy's handling of relay frames from a guest
 * agent (messages, fd announcements, buffer data), on a client whose
 * compositor side is a socketpair that showed it a few globals.
 * Input: frames, each a little-endian u16 length then that many bytes;
 * an input of even length is relayed as if the host had asked for
 * compressed buffer data, so LZ4 blocks are expanded into pools too; one
 * whose length is a multiple of 3 has a shared region of 16 MiB offered
 * and taken, so FD_REGION pools and their slots are checked too.
 * The socket to the compositor is made once per process: each input's
 * client gets its own descriptor of it, and what a client wrote is read
 * off before the next input, so inputs do not see each other. The
 * dictionary (wl-dict.c) holds a frame of every request and a bind of
 * every global shown. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/allowlist.h"
#include "common/relay.h"
#include "common/relay_pipes.h"
#include "proxy/proxy.h"
#include "proxy/relay_host.h"
#include "proxy/shm.h"
#include "tests/fuzz/fuzz_relay_globals.h"

/* The proxy process around the relay is not part of this target. */
struct bh_vm_client_request *bh_vm_client_request(
	struct bh_proxy *proxy, uint32_t stream, bh_vm_client_done_fn done, void *data)
{
	return NULL;
}
void bh_vm_client_request_cancel(struct bh_vm_client_request *request)
{
}
struct wl_event_loop *bh_proxy_event_loop(struct bh_proxy *proxy)
{
	return NULL;
}
const char *bh_proxy_tag(const struct bh_proxy *proxy)
{
	return "fuzz";
}

static size_t put_global(uint8_t *p, uint32_t name, const char *iface, uint32_t version)
{
	uint32_t slen = (uint32_t)strlen(iface) + 1;
	uint32_t padded = (slen + 3) & ~3u;
	uint32_t size = 8 + 4 + 4 + padded + 4;
	uint32_t words[4] = {2, size << 16 | 0, name, slen};
	memcpy(p, words, 16);
	memset(p + 16, 0, padded);
	memcpy(p + 16, iface, slen);
	memcpy(p + 16 + padded, &version, 4);
	return size;
}

/* One read when less than a sinkful waits: a read that only says EAGAIN
 * is a system call an input need not pay. */
#define DRAIN_FRAMES 32
#define DRAIN_BYTES (32u << 10)

static void drain(int fd)
{
	static uint8_t sink[65536];
	while (read(fd, sink, sizeof(sink)) == (ssize_t)sizeof(sink)) {
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* sv[0] the relay's side (each client gets a dup), sv[1] the
	 * compositor's */
	static int sv[2] = {-1, -1};
	if (sv[0] < 0) {
		bh_log_init("fuzz_relay", BH_LOG_SILENT);
		bh_log_set_level(BH_LOG_SILENT);
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
			abort();
		}
	}
	bh_relay_host_set_compression(size % 2 == 0);
	static struct bh_host_region region = {.fd = -1};
	if (region.fd < 0) {
		char err[256];
		if (!bh_host_region_create(&region, 16u << 20, err, sizeof(err))) {
			abort();
		}
		region.active = true;
		/* "Guest memory" the host reads: a sealed memfd of its own. */
		int ram = memfd_create("fuzz-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (ram < 0 || ftruncate(ram, 8u << 20) < 0 ||
			fcntl(ram, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0 ||
			!bh_guest_ram_open(&region, getpid(), 8u << 20, err, sizeof(err))) {
			abort();
		}
		close(ram);
		region.ram.on = true;
	}
	bh_relay_host_set_region(size % 3 == 0 ? &region : NULL);
	int fd = fcntl(sv[0], F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		return 0;
	}
	struct bh_relay_host *client = bh_relay_host_create("fuzz", NULL, fd);
	if (client == NULL) {
		return 0;
	}
	/* wl_display.get_registry(2), then the compositor's globals */
	uint8_t prelude[1 + 12] = {BH_RELAY_WL};
	uint32_t get_registry[3] = {1, 12u << 16 | 1, 2};
	memcpy(prelude + 1, get_registry, 12);
	bool ok = bh_relay_host_handle_frame(client, prelude, sizeof(prelude));
	uint8_t events[1024];
	size_t n = 0;
	for (size_t i = 0; i < FUZZ_RELAY_NGLOBALS; i++) {
		n += put_global(events + n, (uint32_t)i + 1, fuzz_relay_globals[i].interface,
			fuzz_relay_globals[i].version);
	}
	ok = ok && bh_relay_host_feed_events(client, events, n);
	/* What the client wrote is read off every DRAIN_FRAMES frames or
	 * DRAIN_BYTES bytes of them, well before the socket could be full
	 * (each small write costs the socket a buffer of its own), so the
	 * client never finds it full: a read per frame was most of an
	 * input's system calls. */
	size_t frames = 0, bytes = 0;
	while (ok && size >= 2) {
		size_t len = (size_t)data[0] | (size_t)data[1] << 8;
		data += 2;
		size -= 2;
		if (len > size) {
			len = size;
		}
		ok = bh_relay_host_handle_frame(client, data, len);
		data += len;
		size -= len;
		bytes += len;
		if (++frames >= DRAIN_FRAMES || bytes >= DRAIN_BYTES) {
			drain(sv[1]);
			frames = bytes = 0;
		}
	}
	bh_relay_host_destroy(client);
	drain(sv[1]);
	return 0;
}
