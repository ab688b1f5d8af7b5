/* libFuzzer target: the channel as the host reads it from a guest. The
 * first input byte picks the split of the rest into reads (so the decoder
 * sees frames cut at every place, in at most DECODER_FEEDS reads); the
 * bytes go both through a bare decoder and through a host endpoint on a
 * socketpair whose owner accepts streams, answers on them, pauses some and ends others, so stream state,
 * credit and close handling run on hostile input too. Large frames cut
 * across reads are placed (read straight into an area whose end is the end
 * of its allocation, so a byte placed too far is a sanitizer report).
 * The event loop and the socketpair are made once per process: each
 * input's endpoint gets its own descriptor of the socket, and whatever
 * was left unread is read off before the next input. The endpoint sees
 * the bytes in at most ENDPOINT_WRITES writes (each costs system calls). The dictionary (fuzz_channel.dict)
 * holds frame headers of every type. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "common/channel.h"
#include "common/endpoint.h"
#include "common/log.h"

static bool count_frame(const struct bh_frame *frame, void *user)
{
	size_t *n = user;
	/* Touch the payload so the sanitizers check its bounds. */
	volatile uint8_t sum = 0;
	uint32_t len = frame->placed ? BH_CHANNEL_PLACE_PREFIX : frame->len;
	for (uint32_t i = 0; i < len; i++) {
		sum += frame->payload[i];
	}
	(*n)++;
	return true;
}

static bool on_data(struct bh_stream *s, const uint8_t *p, size_t len, void *user)
{
	(void)user;
	if (len > 0 && p[0] == 0xff) {
		return false; /* "malformed": ends only this stream */
	}
	if (len > 0 && p[0] == 0xfe) {
		bh_stream_set_paused(s, true);
	}
	if (len > 0 && p[0] == 0xfd) {
		bh_stream_close(s, "done");
		return true;
	}
	bh_stream_send(s, p, len > 64 ? 64 : len);
	return true;
}

static uint8_t *area; /* BH_CHANNEL_MAX_PAYLOAD bytes */

static uint8_t *place_at_end(size_t len)
{
	return area + BH_CHANNEL_MAX_PAYLOAD - (len - BH_CHANNEL_PLACE_PREFIX);
}

static uint8_t *decoder_place(const struct bh_frame *head, void *user)
{
	(void)user;
	return head->payload[0] == 0xfc ? NULL : place_at_end(head->len);
}

static uint8_t *on_place(struct bh_stream *s, const uint8_t *prefix, size_t len, void *user)
{
	(void)s, (void)user;
	return prefix[0] == 0xfc ? NULL : place_at_end(len);
}

static void on_closed(struct bh_stream *s, const char *reason, void *user)
{
	(void)s, (void)reason, (void)user;
}

static const struct bh_stream_handler handler = {
	.data = on_data, .closed = on_closed, .place = on_place};

static bool on_control(struct bh_endpoint *ep, uint32_t type, const uint8_t *p, size_t len,
	void *user)
{
	(void)p, (void)user;
	if (type == 2 && len == 0) {
		/* The owner opens a stream of its own in answer. */
		bh_endpoint_open_stream(ep, BH_STREAM_EXEC, &handler, NULL);
	}
	return type != 3;
}

static bool on_open(struct bh_endpoint *ep, struct bh_stream *s, enum bh_stream_kind kind,
	void *user)
{
	(void)ep, (void)user;
	if (kind == BH_STREAM_PIPE) {
		return false;
	}
	bh_stream_set_handler(s, &handler, NULL);
	return true;
}

static void on_disconnected(struct bh_endpoint *ep, const char *reason, void *user)
{
	(void)ep, (void)reason;
	*(bool *)user = true;
}

static const struct bh_endpoint_listener listener = {
	.control = on_control,
	.open = on_open,
	.disconnected = on_disconnected,
};

#define ENDPOINT_WRITES 4
#define DECODER_FEEDS 512

/* One read when less than a sinkful waits (the common case): a read that
 * only says EAGAIN is a system call an input need not pay. */
static void drain(int fd)
{
	static uint8_t sink[65536];
	while (read(fd, sink, sizeof(sink)) == (ssize_t)sizeof(sink)) {
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wl_event_loop *loop;
	/* sv[0] the endpoint's side (each endpoint gets a dup), sv[1] the
	 * guest's */
	static int sv[2];
	if (loop == NULL) {
		bh_log_init("fuzz_channel", BH_LOG_SILENT);
		area = malloc(BH_CHANNEL_MAX_PAYLOAD);
		loop = wl_event_loop_create();
		if (area == NULL || loop == NULL ||
			socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0) {
			abort();
		}
	}
	if (size < 1) {
		return 0;
	}
	size_t step = 1 + data[0] * 7u;
	data++;
	size--;
	/* A large input is cut into at most DECODER_FEEDS pieces: the cuts
	 * still fall anywhere in a frame, without a call per byte. */
	if (step < size / DECODER_FEEDS) {
		step = size / DECODER_FEEDS + data[0] % 8u;
	}

	struct bh_channel_decoder dec;
	bh_channel_decoder_init(&dec);
	bh_channel_decoder_set_placer(&dec, decoder_place, NULL);
	size_t frames = 0;
	for (size_t off = 0; off < size; off += step) {
		size_t n = size - off < step ? size - off : step;
		if (bh_channel_decoder_feed(&dec, data + off, n, count_frame, &frames, NULL) ==
			BH_DECODE_ERROR) {
			break;
		}
	}
	bh_channel_decoder_finish(&dec);

	int fd = fcntl(sv[0], F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		return 0;
	}
	bool gone = false;
	struct bh_endpoint *ep = bh_endpoint_create(loop, fd, BH_ENDPOINT_HOST, &listener, &gone);
	if (ep == NULL) {
		return 0;
	}
	size_t chunk = (size + ENDPOINT_WRITES - 1) / ENDPOINT_WRITES;
	if (chunk < step) {
		chunk = step;
	}
	/* (a full socket takes a few more rounds) */
	for (size_t off = 0, round = 0; off < size && !gone && round < 4 * ENDPOINT_WRITES;
		round++) {
		size_t n = size - off < chunk ? size - off : chunk;
		ssize_t w = write(sv[1], data + off, n);
		off += w > 0 ? (size_t)w : 0;
		wl_event_loop_dispatch(loop, 0);
		/* What the endpoint answered is read off only when the socket
		 * may be full (a write it did not take all of); otherwise once,
		 * below. */
		if (w < (ssize_t)n) {
			drain(sv[1]);
		}
	}
	/* what the endpoint still has to write (answers, credit, CLOSE) */
	for (int i = 0; i < 4 && !gone && bh_endpoint_pending(ep) > 0; i++) {
		wl_event_loop_dispatch(loop, 0);
		drain(sv[1]);
	}
	bh_endpoint_destroy(ep);
	/* the loop frees removed sources in its next dispatch */
	wl_event_loop_dispatch(loop, 0);
	/* An endpoint that did not fail read everything written to it. */
	if (gone) {
		drain(sv[0]);
	}
	drain(sv[1]);
	return 0;
}
