/* Back-pressure through the relay: when the compositor stops reading a
 * client, the proxy stops granting channel credit, the agent stops reading
 * the guest client, and the client blocks -- nothing on the way buffers
 * more than its bound. When the compositor reads again, every byte
 * arrives, in order. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "common/endpoint.h"
#include "common/log.h"
#include "common/util.h"
#include "common/allowlist.h"
#include "common/relay.h"
#include "common/relay_pipes.h"
#include "guest-agent/agent.h"
#include "proxy/relay_host.h"
#include "proxy/shm.h"
#include "tests/relay/relay-test.h"
#include "tests/test.h"

#define FLOOD_MESSAGES 400000 /* 24 bytes each: 9.6 MB of damage requests */

static struct wl_event_loop *loop;
static struct bh_relay_host *relay;
static int compositor_fd = -1; /* our end of the relay's host connection */
static bool channel_lost;

static void put(uint8_t *p, const uint32_t *words, size_t n)
{
	memcpy(p, words, n * 4);
}

/* The guest client, raw: registry, bind wl_compositor, a surface, then a
 * flood of wl_surface.damage. Exits with 0 if it was made to wait. */
static int run_client(const char *path)
{
	int fd = relay_test_connect(path);
	if (fd < 0) {
		return 10;
	}
	uint8_t msg[64];
	uint32_t get_registry[] = {1, 12u << 16 | 1, 2};
	put(msg, get_registry, 3);
	if (write(fd, msg, 12) != 12) {
		return 11;
	}
	/* wait for the global (the proxy must have shown it) */
	uint8_t in[256];
	if (read(fd, in, sizeof(in)) <= 0) {
		return 12;
	}
	/* bind(1, "wl_compositor", 4, 3); create_surface(4) */
	uint32_t bind[] = {2, 40u << 16 | 0, 1, 14, 0, 0, 0, 0, 4, 3};
	memcpy(bind + 4, "wl_compositor\0\0", 16);
	uint32_t create[] = {3, 12u << 16 | 0, 4};
	put(msg, bind, 10);
	put(msg + 40, create, 3);
	if (write(fd, msg, 52) != 52) {
		return 13;
	}
	bh_set_nonblock(fd, true);
	uint8_t batch[24 * 1000];
	for (int i = 0; i < 1000; i++) {
		uint32_t damage[] = {4, 24u << 16 | 2, 0, 0, 1, 1};
		put(batch + i * 24, damage, 6);
	}
	size_t total = (size_t)FLOOD_MESSAGES * 24, sent = 0;
	bool waited = false;
	while (sent < total) {
		size_t off = sent % sizeof(batch);
		size_t n = sizeof(batch) - off;
		if (n > total - sent) {
			n = total - sent;
		}
		ssize_t w = write(fd, batch + off, n);
		if (w < 0 && errno == EAGAIN) {
			waited = true;
			struct pollfd pfd = {fd, POLLOUT, 0};
			poll(&pfd, 1, 20000);
			continue;
		}
		if (w <= 0) {
			return 14;
		}
		sent += (size_t)w;
	}
	/* stay connected until the host has read everything */
	bh_set_nonblock(fd, false);
	if (read(fd, in, 1) < 0) {
		return 16;
	}
	return waited ? 0 : 15;
}

static bool host_control(
	struct bh_endpoint *ep, uint32_t type, const uint8_t *p, size_t len, void *user)
{
	return true;
}

static bool host_open(
	struct bh_endpoint *ep, struct bh_stream *stream, enum bh_stream_kind kind, void *user)
{
	int sv[2];
	if (kind != BH_STREAM_WAYLAND || relay != NULL ||
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		return false;
	}
	compositor_fd = sv[0];
	relay = bh_relay_host_start("flow", stream, loop, sv[1]);
	return relay != NULL;
}

static void host_disconnected(struct bh_endpoint *ep, const char *reason, void *user)
{
	channel_lost = true;
}

static const struct bh_endpoint_listener host_listener = {
	host_control,
	host_open,
	host_disconnected,
};

static void run_for(int ms)
{
	uint64_t end = bh_now_usec() + (uint64_t)ms * 1000;
	while (bh_now_usec() < end) {
		wl_event_loop_dispatch(loop, 10);
	}
}

int main(void)
{
	bh_log_init("test_relay_flow", BH_LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	struct relay_test_env env;
	if (!relay_test_setup(&env, "relay-flow")) {
		return 1;
	}
	loop = wl_event_loop_create();
	struct bh_agent *agent = relay_test_agent(loop, &env);
	CHECK(agent != NULL);
	if (agent == NULL) {
		return bh_test_finish("test_relay_flow");
	}
	int cfd = relay_test_connect(env.chan_path);
	CHECK(cfd >= 0);
	struct bh_endpoint *host =
		bh_endpoint_create(loop, cfd, BH_ENDPOINT_HOST, &host_listener, NULL);
	for (int i = 0; i < 100 && !bh_agent_connected(agent); i++) {
		wl_event_loop_dispatch(loop, 20);
	}
	/* The agent reaps every child (its exec sessions), so the client
	 * reports its result through a pipe rather than its exit status. */
	int result[2];
	CHECK(pipe2(result, O_CLOEXEC | O_NONBLOCK) == 0);
	pid_t child = fork();
	if (child == 0) {
		uint8_t r = (uint8_t)run_client(env.guest_socket);
		_exit(write(result[1], &r, 1) == 1 ? r : 1);
	}
	close(result[1]);

	/* The compositor answers get_registry with one global, then stops
	 * reading. */
	for (int i = 0; i < 200 && relay == NULL; i++) {
		wl_event_loop_dispatch(loop, 20);
	}
	CHECK(relay != NULL);
	uint8_t buf[65536];
	size_t got = 0;
	while (got < 12 && relay != NULL) {
		wl_event_loop_dispatch(loop, 20);
		ssize_t n = recv(compositor_fd, buf + got, 12 - got, MSG_DONTWAIT);
		if (n > 0) {
			got += (size_t)n;
		}
	}
	uint32_t global[] = {2, 36u << 16 | 0, 1, 14, 0, 0, 0, 0, 4};
	memcpy(global + 4, "wl_compositor\0\0", 16);
	CHECK(write(compositor_fd, global, 36) == 36);

	run_for(3000);
	size_t queued = relay != NULL ? bh_relay_host_queued(relay) : 0;
	fprintf(stderr,
		"while the compositor does not read: %zu bytes queued in the proxy, "
		"%zu in the channel\n",
		queued, bh_endpoint_pending(host));
	CHECK(relay != NULL);
	CHECK(queued <= BH_RELAY_OUT_HIGH + (1u << 20));
	uint8_t early;
	CHECK(read(result[0], &early, 1) < 0); /* the client is still blocked */

	/* The compositor reads again: everything arrives. */
	size_t want = 40 + 12 + (size_t)FLOOD_MESSAGES * 24;
	size_t total = 0;
	bool order_ok = true;
	uint64_t end = bh_now_usec() + 30 * 1000000ull;
	while (total < want && bh_now_usec() < end) {
		wl_event_loop_dispatch(loop, 5);
		ssize_t n;
		while ((n = recv(compositor_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			/* the damage requests are 6-word messages to object 4 */
			for (ssize_t i = 0; i + 4 <= n; i += 4) {
				size_t pos = total + (size_t)i;
				if (pos >= 52 && (pos - 52) % 24 == 0) {
					uint32_t w;
					memcpy(&w, buf + i, 4);
					order_ok = order_ok && w == 4;
				}
			}
			total += (size_t)n;
		}
	}
	fprintf(stderr, "after the compositor reads again: %zu of %zu bytes arrived\n", total,
		want);
	CHECK_EQ_INT(total, want);
	CHECK(order_ok);
	close(compositor_fd);
	uint8_t r = 255;
	end = bh_now_usec() + 5 * 1000000ull;
	while (bh_now_usec() < end && read(result[0], &r, 1) != 1) {
		wl_event_loop_dispatch(loop, 20);
	}
	CHECK_EQ_INT(r, 0);
	CHECK(!channel_lost);
	bh_endpoint_destroy(host);
	bh_agent_destroy(agent);
	wl_event_loop_destroy(loop);
	relay_test_cleanup(&env);
	return bh_test_finish("test_relay_flow");
}
