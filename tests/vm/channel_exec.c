/* Test tool: runs one command in a guest by talking to its agent directly
 * on the channel, as the host side (what the proxy does), so the VM tests
 * need neither compositor nor proxy. Usage: channel_exec unix:PATH CMD...
 * Prints the command's stdout and stderr, exits with its status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "common/endpoint.h"
#include "common/log.h"
#include "common/util.h"

struct run {
	bool hello, done;
	int status;
};

static bool exec_handle_data(struct bh_stream *stream, const uint8_t *p, size_t len, void *user)
{
	struct run *run = user;
	if (len == 0) {
		return false;
	}
	switch (p[0]) {
	case BH_EXEC_STDOUT:
		return bh_write_all(STDOUT_FILENO, p + 1, len - 1);
	case BH_EXEC_STDERR:
		return bh_write_all(STDERR_FILENO, p + 1, len - 1);
	case BH_EXEC_EXIT: {
		struct bh_msg_reader r;
		bh_msg_reader_init(&r, p + 1, len - 1);
		uint32_t how = bh_msg_get_u32(&r), code = bh_msg_get_u32(&r);
		if (!bh_msg_end(&r)) {
			return false;
		}
		run->status = how == 0 ? (int)(code & 0xff) : 128 + (int)(code & 0x7f);
		return true;
	}
	case BH_EXEC_ERROR:
		fprintf(stderr, "channel_exec: %.*s\n", (int)(len - 1), (const char *)p + 1);
		run->status = 127;
		return true;
	default:
		return false;
	}
}

static void exec_handle_closed(struct bh_stream *stream, const char *reason, void *user)
{
	struct run *run = user;
	run->done = true;
}

static const struct bh_stream_handler exec_handler = {
	.data = exec_handle_data,
	.closed = exec_handle_closed,
};

static bool ep_handle_control(
	struct bh_endpoint *ep, uint32_t type, const uint8_t *payload, size_t len, void *user)
{
	struct run *run = user;
	if (type == BH_CTL_HELLO) {
		run->hello = true;
	}
	return true;
}

static bool ep_handle_open(
	struct bh_endpoint *ep, struct bh_stream *stream, enum bh_stream_kind kind, void *user)
{
	return false;
}

static void ep_handle_disconnected(struct bh_endpoint *ep, const char *reason, void *user)
{
	struct run *run = user;
	fprintf(stderr, "channel_exec: channel closed: %s\n", reason);
	run->done = true;
}

static const struct bh_endpoint_listener ep_listener = {
	.control = ep_handle_control,
	.open = ep_handle_open,
	.disconnected = ep_handle_disconnected,
};

int main(int argc, char *argv[])
{
	bh_log_init("channel_exec", BH_LOG_ERROR);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (argc < 3 || strncmp(argv[1], "unix:", 5) != 0 ||
		strlen(argv[1] + 5) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: channel_exec unix:PATH COMMAND [ARG...]\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[1] + 5);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		perror("channel_exec: connect");
		return 255;
	}
	struct run run = {.status = -1};
	struct wl_event_loop *loop = wl_event_loop_create();
	struct bh_endpoint *ep = bh_endpoint_create(loop, fd, BH_ENDPOINT_HOST, &ep_listener, &run);
	struct bh_msg msg;
	bh_msg_init(&msg, 0);
	bh_msg_u32(&msg, 1);
	bh_msg_u32(&msg, 0);
	bh_msg_u32(&msg, 0);
	bh_endpoint_send_control(ep, BH_CTL_HELLO, msg.buf, msg.len);
	/* The caller bounds the run time (the test's timeout). */
	while (!run.hello && !run.done) {
		wl_event_loop_dispatch(loop, -1);
	}
	if (run.done) {
		return 255;
	}
	bh_msg_init(&msg, BH_EXEC_START);
	bh_msg_u32(&msg, 0);
	bh_msg_u16(&msg, 0);
	bh_msg_u16(&msg, 0);
	bh_msg_u32(&msg, (uint32_t)(argc - 2));
	for (int i = 2; i < argc; i++) {
		bh_msg_str(&msg, argv[i]);
	}
	struct bh_stream *stream = bh_endpoint_open_stream(ep, BH_STREAM_EXEC, &exec_handler, &run);
	uint8_t eof = BH_EXEC_EOF;
	if (stream == NULL || !msg.ok || !bh_stream_send(stream, msg.buf, msg.len) ||
		!bh_stream_send(stream, &eof, 1)) {
		fprintf(stderr, "channel_exec: cannot start the command\n");
		return 255;
	}
	while (!run.done) {
		wl_event_loop_dispatch(loop, -1);
	}
	bh_endpoint_destroy(ep);
	wl_event_loop_destroy(loop);
	return run.status < 0 ? 255 : run.status;
}
