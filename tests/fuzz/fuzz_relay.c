/* libFuzzer target: the proxy's handling of relay frames from a guest
 * agent (messages, fd announcements, buffer data), on a client whose
 * compositor side is a socketpair that showed it a few globals.
 * Input: frames, each a little-endian u16 length then that many bytes;
 * an input of even length is relayed as if the host had asked for
 * compressed buffer data, so LZ4 blocks are expanded into pools too; one
 * whose length is a multiple of 3 has a shared region of 16 MiB offered
 * and taken, so FD_REGION pools and their slots are checked too. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/allowlist.h"
#include "common/relay.h"
#include "common/relay_pipes.h"
#include "proxy/proxy.h"
#include "proxy/relay_host.h"
#include "proxy/shm.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	if (!once) {
		bh_log_init("fuzz_relay", BH_LOG_SILENT);
		bh_log_set_level(BH_LOG_SILENT);
		once = 1;
	}
	bh_relay_host_set_compression(size % 2 == 0);
	static struct bh_host_region region = {.fd = -1};
	if (region.fd < 0) {
		char err[256];
		if (!bh_host_region_create(&region, 16u << 20, err, sizeof(err))) {
			return 0;
		}
		region.active = true;
	}
	bh_relay_host_set_region(size % 3 == 0 ? &region : NULL);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
		return 0;
	}
	struct bh_relay_host *client = bh_relay_host_create("fuzz", NULL, sv[0]);
	if (client == NULL) {
		close(sv[1]);
		return 0;
	}
	/* wl_display.get_registry(2), then the compositor's globals */
	uint8_t prelude[1 + 12] = {BH_RELAY_WL};
	uint32_t get_registry[3] = {1, 12u << 16 | 1, 2};
	memcpy(prelude + 1, get_registry, 12);
	bool ok = bh_relay_host_handle_frame(client, prelude, sizeof(prelude));
	uint8_t events[1024];
	size_t n = 0;
	n += put_global(events + n, 1, "wl_compositor", 4);
	n += put_global(events + n, 2, "wl_shm", 1);
	n += put_global(events + n, 3, "xdg_wm_base", 3);
	n += put_global(events + n, 4, "wl_seat", 7);
	n += put_global(events + n, 5, "zwp_linux_dmabuf_v1", 3);
	n += put_global(events + n, 6, "wl_data_device_manager", 3);
	ok = ok && bh_relay_host_feed_events(client, events, n);
	uint8_t drain[65536];
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
		while (read(sv[1], drain, sizeof(drain)) > 0) {
		}
	}
	bh_relay_host_destroy(client);
	close(sv[1]);
	return 0;
}
