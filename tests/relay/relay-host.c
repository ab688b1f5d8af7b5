/* A test stand-in for the proxy's compositor side: connects to an agent's
 * channel and relays each guest Wayland client to the compositor in
 * WAYLAND_DISPLAY (any compositor), with the real relay code. */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "common/endpoint.h"
#include "common/log.h"
#include "proxy/proxy.h"
#include "proxy/relay_host.h"
#include "proxy/shm.h"
#include "tests/relay/relay-test.h"

static struct wl_event_loop *loop;
static bool running = true;
static struct bh_host_region region = {.fd = -1};
static bool guest_ram_test;

/* The hellos and the shared region's offer, as the proxy does them. */
static bool host_handle_control(
	struct bh_endpoint *endpoint, uint32_t type, const uint8_t *payload, size_t len, void *user)
{
	struct bh_msg_reader r;
	bh_msg_reader_init(&r, payload, len);
	if (type == BH_CTL_HELLO) {
		bh_msg_get_u32(&r);
		uint32_t caps = bh_msg_get_u32(&r);
		bh_host_region_offer(&region, endpoint, caps, "test");
	} else if (type == BH_CTL_REGION_STATUS) {
		if (!bh_host_region_status(&region, endpoint, &r, "test")) {
			return false;
		}
		if (guest_ram_test && region.active) {
			/* --guest-ram: the agent's guest-memory frames are taken
			 * without a probe, so that a test agent can name any. */
			region.ram.on = true;
			bh_log(BH_LOG_INFO, "test: guest memory frames taken");
		}
	} else if (type == BH_CTL_GUEST_RAM_PROBE) {
		return bh_guest_ram_probe(&region, endpoint, &r, "test");
	}
	return true;
}

static bool host_handle_open(struct bh_endpoint *endpoint, struct bh_stream *stream,
	enum bh_stream_kind kind, void *user)
{
	if (kind == BH_STREAM_PIPE) {
		return bh_relay_host_accept_pipe(loop, stream);
	}
	if (kind != BH_STREAM_WAYLAND) {
		return false;
	}
	const char *display = getenv("WAYLAND_DISPLAY");
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	char path[4200];
	if (display == NULL || runtime == NULL) {
		return false;
	}
	if (display[0] == '/') {
		snprintf(path, sizeof(path), "%s", display);
	} else {
		snprintf(path, sizeof(path), "%s/%s", runtime, display);
	}
	int fd = relay_test_connect(path);
	if (fd < 0) {
		bh_log_errno(BH_LOG_ERROR, "connecting to %s", path);
		return false;
	}
	return bh_relay_host_start("test", stream, loop, fd) != NULL;
}

static void host_handle_disconnected(struct bh_endpoint *endpoint, const char *reason, void *user)
{
	bh_log(BH_LOG_INFO, "channel gone: %s", reason);
	running = false;
}

static const struct bh_endpoint_listener listener = {
	.control = host_handle_control,
	.open = host_handle_open,
	.disconnected = host_handle_disconnected,
};

static int handle_signal(int sig, void *data)
{
	running = false;
	return 0;
}

int main(int argc, char *argv[])
{
	bh_log_init("relay-host", BH_LOG_INFO);
	/* --lz4: ask the agent for compressed buffer data, as a tag with
	 * compress = lz4 does; --region MIB: offer a shared region, as a tag
	 * with a unix channel does. */
	bool lz4 = false;
	unsigned region_mib = 0, guest_ram_mib = 0;
	int i = 1;
	for (; i < argc - 1; i++) {
		if (strcmp(argv[i], "--lz4") == 0) {
			lz4 = true;
		} else if (strcmp(argv[i], "--region") == 0 && i + 1 < argc - 1) {
			region_mib = (unsigned)atoi(argv[++i]);
		} else if (strcmp(argv[i], "--guest-ram") == 0 && i + 1 < argc - 1) {
			guest_ram_mib = (unsigned)atoi(argv[++i]);
		} else {
			break;
		}
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: relay-host [--lz4] [--region MIB [--guest-ram MIB]] "
				"CHANNEL_SOCKET\n");
		return 2;
	}
	const char *channel = argv[argc - 1];
	char err[256];
	if (region_mib > 0 &&
		!bh_host_region_create(&region, (uint64_t)region_mib << 20, err, sizeof(err))) {
		bh_log(BH_LOG_ERROR, "%s", err);
		return 1;
	}
	bh_relay_host_set_region(region.fd >= 0 ? &region : NULL);
	int ram_fd = -1;
	if (guest_ram_mib > 0) {
		/* "Guest memory": a sealed memfd of this process, found and
		 * mapped the way the proxy finds qemu's. */
		uint64_t size = (uint64_t)guest_ram_mib << 20;
		ram_fd = memfd_create("test-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (ram_fd < 0 || ftruncate(ram_fd, (off_t)size) < 0 ||
			fcntl(ram_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0 ||
			!bh_guest_ram_open(&region, getpid(), size, err, sizeof(err))) {
			bh_log(BH_LOG_ERROR, "no test guest memory: %s", err);
			return 1;
		}
		guest_ram_test = true;
	}
	signal(SIGPIPE, SIG_IGN);
	loop = wl_event_loop_create();
	int fd = -1;
	for (int i = 0; i < 100 && fd < 0; i++) {
		fd = relay_test_connect(channel);
		if (fd < 0) {
			usleep(100000);
		}
	}
	if (fd < 0) {
		bh_log_errno(BH_LOG_ERROR, "connecting to the agent at %s", channel);
		return 1;
	}
	struct bh_endpoint *endpoint =
		bh_endpoint_create(loop, fd, BH_ENDPOINT_HOST, &listener, NULL);
	if ((lz4 || region.fd >= 0) && endpoint != NULL) {
		bh_relay_host_set_compression(lz4);
		bh_host_region_connected(&region, endpoint);
		struct bh_msg msg;
		bh_msg_init(&msg, 0);
		bh_msg_u32(&msg, BH_CONTROL_VERSION);
		bh_msg_u32(&msg, (lz4 ? BH_CAP_LZ4 : 0) | bh_host_region_caps(&region));
		bh_msg_u32(&msg, 0);
		bh_endpoint_send_control(endpoint, BH_CTL_HELLO, msg.buf, msg.len);
	}
	struct wl_event_source *sigterm =
		wl_event_loop_add_signal(loop, SIGTERM, handle_signal, NULL);
	struct wl_event_source *sigint =
		wl_event_loop_add_signal(loop, SIGINT, handle_signal, NULL);
	while (running) {
		wl_event_loop_dispatch(loop, -1);
	}
	bh_endpoint_destroy(endpoint);
	wl_event_source_remove(sigterm);
	wl_event_source_remove(sigint);
	wl_event_loop_destroy(loop);
	bh_relay_host_set_region(NULL);
	bh_host_region_finish(&region);
	return 0;
}
