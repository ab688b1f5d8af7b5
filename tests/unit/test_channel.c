/* The channel codec and endpoint: round trips at every split point, the
 * shape checks of malformed frames, chunking, fair interleaving of streams,
 * stream-state errors (ids never opened, OPEN in the wrong range, credit
 * overrun), that a bad message on one stream leaves the others alone, and
 * borrowed bodies (read when written, zeros when their file shrank, and
 * the agent's pool mirror told so even after it remapped the pool). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "common/channel.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "common/util.h"
#include "guest-agent/shm_mirror.h"
#include "tests/test.h"

/* ---- codec ---- */

#define MAX_FRAMES 64

struct collected {
	size_t n;
	struct {
		uint32_t type, stream, len;
		uint8_t *payload;
	} f[MAX_FRAMES];
	size_t stop_after; /* 0 = never stop */
};

static bool collect(const struct bh_frame *frame, void *user)
{
	struct collected *c = user;
	if (c->n < MAX_FRAMES) {
		c->f[c->n].type = frame->type;
		c->f[c->n].stream = frame->stream;
		c->f[c->n].len = frame->len;
		c->f[c->n].payload = malloc(frame->len + 1);
		memcpy(c->f[c->n].payload, frame->payload, frame->len);
	}
	c->n++;
	return c->stop_after == 0 || c->n < c->stop_after;
}

static void collected_free(struct collected *c)
{
	for (size_t i = 0; i < c->n && i < MAX_FRAMES; i++) {
		free(c->f[i].payload);
	}
	memset(c, 0, sizeof(*c));
}

static size_t put_frame(uint8_t *out, uint32_t type, uint32_t stream, const void *p, uint32_t len)
{
	bh_frame_header(out, type, stream, len);
	if (len) {
		memcpy(out + BH_CHANNEL_HEADER, p, len);
	}
	return BH_CHANNEL_HEADER + len;
}

struct sample {
	uint32_t type, stream, len;
	uint8_t fill;
};
static const struct sample samples[] = {
	{BH_FRAME_CONTROL_BASE + 1, 0, 12, 'h'}, /* a HELLO-sized control message */
	{BH_FRAME_OPEN, 2, 4, 1},
	{BH_FRAME_DATA, 2, 0, 0}, /* empty message */
	{BH_FRAME_DATA, 2, 1, 'x'},
	{BH_FRAME_DATA, 3, 300, 'y'},
	{BH_FRAME_CREDIT, 2, 4, 9},
	{BH_FRAME_DATA, 2, BH_CHANNEL_MAX_PAYLOAD, 'z'}, /* the largest */
	{BH_FRAME_CLOSE, 3, 4 + 5, 'r'},
	{BH_FRAME_CONTROL_BASE + BH_CHANNEL_MAX_CONTROL_TYPE, 0, 0, 0},
};
#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

static size_t build_stream(uint8_t *buf)
{
	size_t off = 0;
	uint8_t *payload = malloc(BH_CHANNEL_MAX_PAYLOAD);
	for (size_t i = 0; i < NSAMPLES; i++) {
		for (uint32_t j = 0; j < samples[i].len; j++) {
			payload[j] = (uint8_t)(samples[i].fill + j);
		}
		off += put_frame(buf + off, samples[i].type, samples[i].stream, payload,
			samples[i].len);
	}
	free(payload);
	return off;
}

static bool matches_samples(const struct collected *c)
{
	if (c->n != NSAMPLES) {
		return false;
	}
	for (size_t i = 0; i < NSAMPLES; i++) {
		if (c->f[i].type != samples[i].type || c->f[i].stream != samples[i].stream ||
			c->f[i].len != samples[i].len) {
			return false;
		}
		for (uint32_t j = 0; j < samples[i].len; j++) {
			if (c->f[i].payload[j] != (uint8_t)(samples[i].fill + j)) {
				return false;
			}
		}
	}
	return true;
}

static void test_round_trip_every_split(void)
{
	uint8_t *buf = malloc(2 * BH_CHANNEL_MAX_PAYLOAD);
	size_t total = build_stream(buf);
	/* Two pieces split at every byte. */
	size_t bad = 0;
	for (size_t k = 0; k <= total; k++) {
		struct bh_channel_decoder dec;
		bh_channel_decoder_init(&dec);
		struct collected c = {0};
		enum bh_decode_status a = bh_channel_decoder_feed(&dec, buf, k, collect, &c, NULL);
		enum bh_decode_status b =
			bh_channel_decoder_feed(&dec, buf + k, total - k, collect, &c, NULL);
		if (a != BH_DECODE_OK || b != BH_DECODE_OK || !matches_samples(&c) ||
			bh_channel_decoder_partial(&dec) != 0) {
			bad++;
		}
		collected_free(&c);
		bh_channel_decoder_finish(&dec);
	}
	CHECK_EQ_INT(bad, 0);
	/* One byte at a time. */
	struct bh_channel_decoder dec;
	bh_channel_decoder_init(&dec);
	struct collected c = {0};
	bool ok = true;
	for (size_t i = 0; i < total; i++) {
		ok = ok && bh_channel_decoder_feed(&dec, buf + i, 1, collect, &c, NULL) ==
				   BH_DECODE_OK;
		/* Mid-frame the decoder reports what it holds. */
		if (i == BH_CHANNEL_HEADER + 5 - 1) {
			CHECK_EQ_INT(bh_channel_decoder_partial(&dec), BH_CHANNEL_HEADER + 5);
		}
	}
	CHECK(ok);
	CHECK(matches_samples(&c));
	collected_free(&c);
	/* Stopping keeps the place: the rest decodes on the next call. */
	c.stop_after = 2;
	size_t used = 0;
	CHECK_EQ_INT(bh_channel_decoder_feed(&dec, buf, total, collect, &c, &used),
		BH_DECODE_STOPPED);
	CHECK(used > 0 && used < total);
	c.stop_after = 0;
	CHECK_EQ_INT(bh_channel_decoder_feed(&dec, buf + used, total - used, collect, &c, NULL),
		BH_DECODE_OK);
	CHECK(matches_samples(&c));
	collected_free(&c);
	bh_channel_decoder_finish(&dec);
	free(buf);
}

/* Feeds one malformed header after a good frame: the good one is
 * delivered, then the decoder fails with a message containing want, and
 * stays failed. */
static void expect_bad(uint32_t type, uint32_t stream, uint32_t len, const char *want)
{
	uint8_t buf[64];
	uint8_t four[4] = {1, 0, 0, 0};
	size_t off = put_frame(buf, BH_FRAME_DATA, 2, four, 4);
	bh_frame_header(buf + off, type, stream, len);
	off += BH_CHANNEL_HEADER;
	struct bh_channel_decoder dec;
	bh_channel_decoder_init(&dec);
	struct collected c = {0};
	enum bh_decode_status st = bh_channel_decoder_feed(&dec, buf, off, collect, &c, NULL);
	CHECK_EQ_INT(st, BH_DECODE_ERROR);
	CHECK_EQ_INT(c.n, 1);
	const char *err = bh_channel_decoder_error(&dec);
	CHECK(err != NULL && strstr(err, want) != NULL);
	if (err == NULL || strstr(err, want) == NULL) {
		fprintf(stderr, "  wanted \"%s\" in \"%s\"\n", want, err ? err : "(none)");
	}
	/* Stays failed: good bytes afterwards are not decoded. */
	CHECK_EQ_INT(bh_channel_decoder_feed(&dec, buf, 16, collect, &c, NULL), BH_DECODE_ERROR);
	CHECK_EQ_INT(c.n, 1);
	collected_free(&c);
	bh_channel_decoder_finish(&dec);
}

static void test_malformed_frames(void)
{
	expect_bad(BH_FRAME_DATA, 2, BH_CHANNEL_MAX_PAYLOAD + 1, "over the limit");
	expect_bad(BH_FRAME_DATA, 2, 0xffffffffu, "over the limit");
	expect_bad(99, 2, 0, "unknown frame type 99");
	expect_bad(0, 2, 0, "unknown frame type 0");
	expect_bad(BH_FRAME_DATA, 0, 4, "not a control message");
	expect_bad(BH_FRAME_CONTROL_BASE, 0, 0, "not a control message");
	expect_bad(BH_FRAME_CONTROL_BASE + BH_CHANNEL_MAX_CONTROL_TYPE + 1, 0, 0,
		"not a control message");
	expect_bad(BH_FRAME_CONTROL_BASE + 1, 2, 0, "unknown frame type");
	expect_bad(BH_FRAME_OPEN, 2, 3, "not 4");
	expect_bad(BH_FRAME_CREDIT, 2, 8, "not 4");
	expect_bad(BH_FRAME_CLOSE, 2, 3, "CLOSE frame");
	expect_bad(BH_FRAME_CLOSE, 2, 4 + BH_CHANNEL_MAX_REASON + 1, "CLOSE frame");
	/* Truncated: a frame that never completes is held, not delivered. */
	uint8_t buf[64];
	uint8_t payload[20] = {0};
	size_t n = put_frame(buf, BH_FRAME_DATA, 2, payload, 20);
	struct bh_channel_decoder dec;
	bh_channel_decoder_init(&dec);
	struct collected c = {0};
	CHECK_EQ_INT(bh_channel_decoder_feed(&dec, buf, n - 1, collect, &c, NULL), BH_DECODE_OK);
	CHECK_EQ_INT(c.n, 0);
	CHECK_EQ_INT(bh_channel_decoder_partial(&dec), n - 1);
	collected_free(&c);
	bh_channel_decoder_finish(&dec);
}

/* Placement: a large DATA frame arriving in pieces is written where the
 * placer says, from the bytes fed and from bytes the caller reads there
 * itself; frames the placer declines, small frames and frames that arrive
 * whole take the usual way; the order and every byte are kept. */
struct placing {
	struct collected c;
	uint8_t *area;        /* where placed payloads go (one at a time) */
	size_t offered;       /* frames the placer saw */
	size_t placed_frames; /* frames reported as placed */
	bool bad_payload;     /* a placed frame's bytes were wrong */
};

static uint8_t *test_place(const struct bh_frame *head, void *user)
{
	struct placing *pl = user;
	pl->offered++;
	if (head->payload[0] == 'N') { /* declined */
		return NULL;
	}
	memcpy(pl->area, head->payload, BH_CHANNEL_PLACE_PREFIX);
	return pl->area + BH_CHANNEL_PLACE_PREFIX;
}

static bool collect_placed(const struct bh_frame *frame, void *user)
{
	struct placing *pl = user;
	if (!frame->placed) {
		return collect(frame, &pl->c);
	}
	/* The prefix is handed over, the rest is in the area: check the
	 * whole, then collect it like any frame. */
	if (memcmp(frame->payload, pl->area, BH_CHANNEL_PLACE_PREFIX) != 0) {
		pl->bad_payload = true;
	}
	pl->placed_frames++;
	struct bh_frame whole = *frame;
	whole.payload = pl->area;
	return collect(&whole, &pl->c);
}

static const struct sample place_samples[] = {
	{BH_FRAME_DATA, 2, 40, 'a'},
	{BH_FRAME_DATA, 2, 30000, 'P'}, /* placed when split */
	{BH_FRAME_DATA, 2, 20000, 'N'}, /* declined: gathered */
	{BH_FRAME_CREDIT, 2, 4, 9},
	{BH_FRAME_DATA, 3, BH_CHANNEL_PLACE_MIN - 1, 'P'}, /* too small to offer */
	{BH_FRAME_DATA, 2, BH_CHANNEL_MAX_PAYLOAD, 'P'},
	{BH_FRAME_CONTROL_BASE + 1, 0, 12, 'h'},
};
#define NPLACE (sizeof(place_samples) / sizeof(place_samples[0]))

static bool place_matches(const struct collected *c)
{
	if (c->n != NPLACE) {
		return false;
	}
	for (size_t i = 0; i < NPLACE; i++) {
		const struct sample *s = &place_samples[i];
		if (c->f[i].type != s->type || c->f[i].stream != s->stream || c->f[i].len != s->len) {
			return false;
		}
		for (uint32_t j = 0; j < s->len; j++) {
			if (c->f[i].payload[j] != (uint8_t)(s->fill + (j == 0 ? 0 : j * 7 + 1))) {
				return false;
			}
		}
	}
	return true;
}

static void test_placement(void)
{
	uint8_t *buf = malloc(NPLACE * (BH_CHANNEL_HEADER + BH_CHANNEL_MAX_PAYLOAD));
	uint8_t *payload = malloc(BH_CHANNEL_MAX_PAYLOAD);
	size_t total = 0;
	for (size_t i = 0; i < NPLACE; i++) {
		for (uint32_t j = 0; j < place_samples[i].len; j++) {
			payload[j] = (uint8_t)(place_samples[i].fill + (j == 0 ? 0 : j * 7 + 1));
		}
		total += put_frame(buf + total, place_samples[i].type, place_samples[i].stream,
			payload, place_samples[i].len);
	}
	free(payload);
	size_t bad = 0, runs = 0, placed_runs = 0;
	/* Split into two feeds at many points (every byte near each frame
	 * edge, a stride elsewhere); whatever the decoder then wants placed
	 * is "read" straight into place in pieces of 1000 bytes. */
	for (size_t k = 0; k <= total; k += (k % 30011 < 64 || k % 30011 > 29950) ? 1 : 113) {
		struct bh_channel_decoder dec;
		bh_channel_decoder_init(&dec);
		struct placing pl = {.area = malloc(BH_CHANNEL_MAX_PAYLOAD)};
		bh_channel_decoder_set_placer(&dec, test_place, &pl);
		size_t off = 0;
		bool ok = true;
		size_t cuts[2] = {k, total};
		for (int piece = 0; piece < 2 && ok; piece++) {
			while (off < cuts[piece] && ok) {
				uint8_t *dest;
				size_t want = bh_channel_decoder_direct(&dec, &dest);
				if (want > 0) {
					size_t n = want < 1000 ? want : 1000;
					if (n > cuts[piece] - off) {
						n = cuts[piece] - off;
					}
					memcpy(dest, buf + off, n);
					off += n;
					ok = bh_channel_decoder_direct_done(&dec, n, collect_placed,
						     &pl) == BH_DECODE_OK;
					continue;
				}
				size_t n = cuts[piece] - off;
				ok = bh_channel_decoder_feed(&dec, buf + off, n, collect_placed, &pl,
					     NULL) == BH_DECODE_OK;
				off += n;
			}
		}
		if (!ok || pl.bad_payload || !place_matches(&pl.c) ||
			bh_channel_decoder_partial(&dec) != 0) {
			bad++;
		}
		placed_runs += pl.placed_frames > 0;
		runs++;
		collected_free(&pl.c);
		free(pl.area);
		bh_channel_decoder_finish(&dec);
	}
	CHECK_EQ_INT(bad, 0);
	/* Most splits land inside a placeable frame. */
	CHECK(placed_runs > runs / 2);
	/* Byte by byte: every large frame is split, the two 'P' ones placed. */
	struct bh_channel_decoder dec;
	bh_channel_decoder_init(&dec);
	struct placing pl = {.area = malloc(BH_CHANNEL_MAX_PAYLOAD)};
	bh_channel_decoder_set_placer(&dec, test_place, &pl);
	bool ok = true;
	for (size_t i = 0; i < total && ok; i++) {
		ok = bh_channel_decoder_feed(&dec, buf + i, 1, collect_placed, &pl, NULL) ==
			BH_DECODE_OK;
	}
	CHECK(ok && !pl.bad_payload && place_matches(&pl.c));
	CHECK_EQ_INT(pl.offered, 3);
	CHECK_EQ_INT(pl.placed_frames, 2);
	collected_free(&pl.c);
	/* Unplaced mid-frame (its owner went): the rest is dropped, the area
	 * is not written again, and the frame still completes. */
	struct placing q = {.area = calloc(1, BH_CHANNEL_MAX_PAYLOAD)};
	bh_channel_decoder_set_placer(&dec, test_place, &q);
	size_t first = BH_CHANNEL_HEADER + 40; /* the small frame */
	size_t cut = first + BH_CHANNEL_HEADER + 100;
	CHECK_EQ_INT(bh_channel_decoder_feed(&dec, buf, cut, collect_placed, &q, NULL),
		BH_DECODE_OK);
	uint8_t *dest;
	CHECK_EQ_INT(bh_channel_decoder_direct(&dec, &dest), 30000 - 100);
	memset(q.area, 0, BH_CHANNEL_MAX_PAYLOAD);
	bh_channel_decoder_unplace(&dec);
	CHECK_EQ_INT(bh_channel_decoder_feed(&dec, buf + cut, total - cut, collect_placed, &q, NULL),
		BH_DECODE_OK);
	size_t zero = 0;
	while (zero < 30000 && q.area[zero] == 0) {
		zero++;
	}
	CHECK_EQ_INT(zero, 30000);
	CHECK_EQ_INT(q.c.n, NPLACE);
	collected_free(&q.c);
	free(q.area);
	free(pl.area);
	bh_channel_decoder_finish(&dec);
	free(buf);
}

/* ---- endpoints over a socketpair ---- */

struct peer {
	struct bh_endpoint *ep;
	const char *disconnect_reason;
	char reason_buf[256];
	size_t opened;
	/* What arrived per stream id (small ids only). */
	size_t bytes[16];
	size_t messages[16];
	char closed_reason[16][128];
	bool closed[16];
	bool reject_stream[16]; /* data() returns false on these */
	bool pause_new;         /* streams the peer opens start paused (no credit back) */
	bool destroy_on_disconnect; /* disconnected() destroys the endpoint, as owners do */
	/* Streams whose large messages are placed here (each at offset 0 of
	 * its own area), with how many were. */
	uint8_t *place_area[16];
	size_t placed[16];
	struct bh_stream *stream[16]; /* streams the other side opened */
	/* Every DATA message's bytes, one after the other, when set. */
	uint8_t *capture;
	size_t capture_len, capture_size;
	/* Arrival order of DATA messages: stream id per message. */
	uint32_t order[4096];
	size_t norder;
	size_t controls; /* control messages taken */
};

static bool peer_data(struct bh_stream *s, const uint8_t *p, size_t len, void *user)
{
	struct peer *peer = user;
	uint32_t id = bh_stream_id(s);
	(void)p;
	if (id < 16) {
		if (peer->reject_stream[id]) {
			return false;
		}
		if (peer->place_area[id] != NULL) {
			memcpy(peer->place_area[id], p, len);
		}
		peer->bytes[id] += len;
		peer->messages[id]++;
	}
	if (peer->capture != NULL && len <= peer->capture_size - peer->capture_len) {
		memcpy(peer->capture + peer->capture_len, p, len);
		peer->capture_len += len;
	}
	if (peer->norder < 4096) {
		peer->order[peer->norder++] = id;
	}
	return true;
}

static void peer_closed(struct bh_stream *s, const char *reason, void *user)
{
	struct peer *peer = user;
	uint32_t id = bh_stream_id(s);
	if (id < 16) {
		peer->closed[id] = true;
		snprintf(peer->closed_reason[id], sizeof(peer->closed_reason[id]), "%s",
			reason ? reason : "");
	}
}

static uint8_t *peer_place(struct bh_stream *s, const uint8_t *prefix, size_t len, void *user)
{
	struct peer *peer = user;
	uint32_t id = bh_stream_id(s);
	if (id >= 16 || peer->place_area[id] == NULL) {
		return NULL;
	}
	peer->bytes[id] += len;
	peer->messages[id]++;
	peer->placed[id]++;
	memcpy(peer->place_area[id], prefix, BH_CHANNEL_PLACE_PREFIX);
	return peer->place_area[id] + BH_CHANNEL_PLACE_PREFIX;
}

static const struct bh_stream_handler peer_handler = {
	.data = peer_data,
	.closed = peer_closed,
	.place = peer_place,
};

static bool peer_control(struct bh_endpoint *ep, uint32_t type, const uint8_t *p, size_t len,
	void *user)
{
	(void)ep, (void)p, (void)len;
	((struct peer *)user)->controls++;
	return type == 1;
}

static bool peer_open(struct bh_endpoint *ep, struct bh_stream *s, enum bh_stream_kind kind,
	void *user)
{
	struct peer *peer = user;
	(void)ep, (void)kind;
	peer->opened++;
	if (bh_stream_id(s) < 16) {
		peer->stream[bh_stream_id(s)] = s;
	}
	bh_stream_set_handler(s, &peer_handler, peer);
	if (peer->pause_new) {
		bh_stream_set_paused(s, true);
	}
	return true;
}

static void peer_disconnected(struct bh_endpoint *ep, const char *reason, void *user)
{
	struct peer *peer = user;
	(void)ep;
	snprintf(peer->reason_buf, sizeof(peer->reason_buf), "%s", reason);
	peer->disconnect_reason = peer->reason_buf;
	if (peer->destroy_on_disconnect) {
		bh_endpoint_destroy(ep);
		peer->ep = NULL;
	}
}

static const struct bh_endpoint_listener peer_listener = {
	.control = peer_control,
	.open = peer_open,
	.disconnected = peer_disconnected,
};

static void pump(struct wl_event_loop *loop, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		wl_event_loop_dispatch(loop, 5);
	}
}

/* A host endpoint talking to a raw socket the test reads and writes. */
struct raw {
	struct wl_event_loop *loop;
	struct peer host;
	int fd; /* the guest side, raw */
};

static void raw_setup(struct raw *r)
{
	memset(r, 0, sizeof(*r));
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	r->loop = wl_event_loop_create();
	r->host.ep = bh_endpoint_create(r->loop, sv[0], BH_ENDPOINT_HOST, &peer_listener, &r->host);
	r->fd = sv[1];
}

static void raw_teardown(struct raw *r)
{
	bh_endpoint_destroy(r->host.ep);
	close(r->fd);
	wl_event_loop_destroy(r->loop);
}

static void raw_send(struct raw *r, uint32_t type, uint32_t stream, const void *p, uint32_t len)
{
	uint8_t buf[BH_CHANNEL_HEADER + 256];
	size_t n = put_frame(buf, type, stream, p, len);
	CHECK_EQ_INT(write(r->fd, buf, n), (ssize_t)n);
	pump(r->loop, 3);
}

static void test_stream_id_errors(void)
{
	uint8_t kind[4] = {BH_STREAM_WAYLAND, 0, 0, 0};
	uint8_t x[4] = {1, 2, 3, 4};
	/* DATA for a stream never opened ends the channel with a reason. */
	struct raw r;
	raw_setup(&r);
	raw_send(&r, BH_FRAME_DATA, 7, x, 4);
	CHECK(r.host.disconnect_reason != NULL &&
		strstr(r.host.disconnect_reason, "stream 7, never opened") != NULL);
	raw_teardown(&r);
	/* The guest opening a stream in the host's (even) range. */
	raw_setup(&r);
	raw_send(&r, BH_FRAME_OPEN, 4, kind, 4);
	CHECK(r.host.disconnect_reason != NULL &&
		strstr(r.host.disconnect_reason, "bad OPEN of stream 4") != NULL);
	raw_teardown(&r);
	/* Reusing an id: OPEN 1, then OPEN 1 again. */
	raw_setup(&r);
	raw_send(&r, BH_FRAME_OPEN, 1, kind, 4);
	CHECK_EQ_INT(r.host.opened, 1);
	CHECK(r.host.disconnect_reason == NULL);
	raw_send(&r, BH_FRAME_OPEN, 1, kind, 4);
	CHECK(r.host.disconnect_reason != NULL &&
		strstr(r.host.disconnect_reason, "bad OPEN of stream 1") != NULL);
	raw_teardown(&r);
	/* A frame over the limit, through the endpoint. */
	uint8_t hdr[BH_CHANNEL_HEADER];
	raw_setup(&r);
	bh_frame_header(hdr, BH_FRAME_DATA, 1, BH_CHANNEL_MAX_PAYLOAD + 1);
	CHECK_EQ_INT(write(r.fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	pump(r.loop, 3);
	CHECK(r.host.disconnect_reason != NULL &&
		strstr(r.host.disconnect_reason, "over the limit") != NULL);
	raw_teardown(&r);
	/* Cut mid-frame: the reason says so. */
	raw_setup(&r);
	bh_frame_header(hdr, BH_FRAME_CONTROL_BASE + 1, 0, 10);
	CHECK_EQ_INT(write(r.fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	pump(r.loop, 2);
	shutdown(r.fd, SHUT_WR);
	pump(r.loop, 3);
	CHECK(r.host.disconnect_reason != NULL &&
		strstr(r.host.disconnect_reason, "middle of a frame") != NULL);
	raw_teardown(&r);
}

/* Two real endpoints: host and guest. */
struct pair {
	struct wl_event_loop *loop;
	struct peer host, guest;
	int host_fd; /* the host endpoint's socket, closed when it is freed */
};

static void pair_setup(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	p->loop = wl_event_loop_create();
	p->host.ep = bh_endpoint_create(p->loop, sv[0], BH_ENDPOINT_HOST, &peer_listener, &p->host);
	p->host_fd = sv[0];
	p->guest.ep =
		bh_endpoint_create(p->loop, sv[1], BH_ENDPOINT_GUEST, &peer_listener, &p->guest);
}

static void pair_teardown(struct pair *p)
{
	bh_endpoint_destroy(p->host.ep);
	bh_endpoint_destroy(p->guest.ep);
	wl_event_loop_destroy(p->loop);
}

/* A Wayland stream the host opens, its data and end recorded in peer. */
static struct bh_stream *host_stream(struct peer *peer)
{
	return bh_endpoint_open_stream(peer->ep, BH_STREAM_WAYLAND, &peer_handler, peer);
}

static void test_fair_interleaving(void)
{
	struct pair p;
	pair_setup(&p);
	/* Stream 2: a 4 MiB "buffer update" in full-size messages. */
	struct bh_stream *big = host_stream(&p.host);
	struct bh_stream *small = host_stream(&p.host);
	CHECK(big != NULL && small != NULL);
	uint32_t big_id = bh_stream_id(big), small_id = bh_stream_id(small);
	uint8_t *chunk = calloc(1, BH_CHANNEL_MAX_PAYLOAD);
	size_t sent = 0;
	while (sent < (4u << 20)) {
		bh_stream_send(big, chunk, BH_CHANNEL_MAX_PAYLOAD);
		sent += BH_CHANNEL_MAX_PAYLOAD;
	}
	/* Then one keystroke-sized message on the other stream. */
	CHECK(bh_stream_send(small, "k", 1));
	for (int i = 0; i < 400 && p.guest.bytes[big_id] < sent; i++) {
		wl_event_loop_dispatch(p.loop, 10);
	}
	CHECK_EQ_INT(p.guest.bytes[big_id], sent);
	CHECK_EQ_INT(p.guest.bytes[small_id], 1);
	/* The small message came within the first few messages, not after
	 * the megabytes queued before it. */
	size_t pos = 0;
	while (pos < p.guest.norder && p.guest.order[pos] != small_id) {
		pos++;
	}
	CHECK(pos < 3);
	fprintf(stderr, "fairness: the 1-byte message arrived as message %zu of %zu\n", pos + 1,
		p.guest.norder);
	/* Boundaries are kept: 64 messages of 64 KiB. */
	CHECK_EQ_INT(p.guest.messages[big_id], (4u << 20) / BH_CHANNEL_MAX_PAYLOAD);
	free(chunk);
	pair_teardown(&p);
}

static void test_chunked_send(void)
{
	struct pair p;
	pair_setup(&p);
	struct bh_stream *s = host_stream(&p.host);
	size_t len = 3 * BH_CHANNEL_MAX_PAYLOAD + 100;
	uint8_t *data = malloc(len);
	for (size_t i = 0; i < len; i++) {
		data[i] = (uint8_t)i;
	}
	/* One message may not exceed the limit... */
	errno = 0;
	CHECK(!bh_stream_send(s, data, BH_CHANNEL_MAX_PAYLOAD + 1));
	CHECK_EQ_INT(errno, EMSGSIZE);
	/* ...the chunked writer splits, each piece with the type byte. */
	CHECK(bh_stream_send_chunked(s, 7, data, len));
	pump(p.loop, 20);
	uint32_t id = bh_stream_id(s);
	size_t pieces = (len + BH_CHANNEL_MAX_PAYLOAD - 2) / (BH_CHANNEL_MAX_PAYLOAD - 1);
	CHECK_EQ_INT(p.guest.messages[id], pieces);
	CHECK_EQ_INT(p.guest.bytes[id], len + pieces);
	free(data);
	pair_teardown(&p);
}

static void test_stream_error_is_local(void)
{
	struct pair p;
	pair_setup(&p);
	struct bh_stream *a = host_stream(&p.host);
	struct bh_stream *b = host_stream(&p.host);
	uint32_t ia = bh_stream_id(a), ib = bh_stream_id(b);
	p.guest.reject_stream[ia] = true; /* the guest finds a's content malformed */
	bh_stream_send(a, "bad", 3);
	bh_stream_send(b, "ok", 2);
	pump(p.loop, 10);
	/* a is ended on both sides with the reason; b and the channel live on. */
	CHECK(p.host.closed[ia]);
	CHECK(strstr(p.host.closed_reason[ia], "malformed") != NULL);
	CHECK(!p.host.closed[ib]);
	CHECK_EQ_INT(p.guest.bytes[ib], 2);
	CHECK(p.host.disconnect_reason == NULL && p.guest.disconnect_reason == NULL);
	bh_stream_send(b, "more", 4);
	pump(p.loop, 5);
	CHECK_EQ_INT(p.guest.bytes[ib], 6);
	/* A control message the owner rejects ends the channel, with a reason. */
	CHECK(bh_endpoint_send_control(p.host.ep, 2, NULL, 0));
	pump(p.loop, 5);
	CHECK(p.guest.disconnect_reason != NULL &&
		strstr(p.guest.disconnect_reason, "bad control message 2") != NULL);
	pair_teardown(&p);
}

static void test_credit_overrun(void)
{
	/* A raw guest that ignores flow control: the host's window is 512 KiB. */
	struct raw r;
	raw_setup(&r);
	uint8_t kind[4] = {BH_STREAM_WAYLAND, 0, 0, 0};
	r.host.pause_new = true; /* no credit goes back: the window is all it has */
	raw_send(&r, BH_FRAME_OPEN, 1, kind, 4);
	uint8_t *frame = calloc(1, BH_CHANNEL_HEADER + BH_CHANNEL_MAX_PAYLOAD);
	bh_frame_header(frame, BH_FRAME_DATA, 1, BH_CHANNEL_MAX_PAYLOAD);
	int frames = 0;
	for (; frames < 40 && r.host.disconnect_reason == NULL; frames++) {
		ssize_t n = write(r.fd, frame, BH_CHANNEL_HEADER + BH_CHANNEL_MAX_PAYLOAD);
		(void)n;
		pump(r.loop, 2);
	}
	/* Eight full frames fill the 512 KiB window; the ninth is over it. */
	CHECK_EQ_INT(frames, 9);
	CHECK_EQ_INT(r.host.bytes[1], 8 * BH_CHANNEL_MAX_PAYLOAD);
	CHECK(r.host.disconnect_reason != NULL &&
		strstr(r.host.disconnect_reason, "past its credit") != NULL);
	free(frame);
	raw_teardown(&r);
}

/* Through real endpoints: 4 MiB of large messages is placed where the
 * receiver said, byte for byte, and counts against credit like any data
 * (else the sender would stall after its first window); a stream closed
 * while one of its messages is half placed leaves its area alone and the
 * channel and other streams carry on. */
static void test_placed_delivery(void)
{
	struct pair p;
	pair_setup(&p);
	struct bh_stream *s = host_stream(&p.host);
	uint32_t id = bh_stream_id(s);
	uint8_t *area = calloc(1, BH_CHANNEL_MAX_PAYLOAD);
	p.guest.place_area[id] = area;
	uint8_t *msg = malloc(BH_CHANNEL_MAX_PAYLOAD);
	size_t count = (4u << 20) / BH_CHANNEL_MAX_PAYLOAD;
	bool same = true;
	/* Two at a time: a read then ends inside the second. */
	for (size_t m = 0; m < count; m += 2) {
		for (size_t k = 0; k < 2; k++) {
			for (size_t j = 0; j < BH_CHANNEL_MAX_PAYLOAD; j++) {
				msg[j] = (uint8_t)((m + k) * 31 + j * 7);
			}
			bh_stream_send(s, msg, BH_CHANNEL_MAX_PAYLOAD);
		}
		for (int i = 0; i < 50 && p.guest.messages[id] < m + 2; i++) {
			wl_event_loop_dispatch(p.loop, 10);
		}
		/* The area holds the last message, whichever way it came. */
		same = same && memcmp(area, msg, BH_CHANNEL_MAX_PAYLOAD) == 0;
	}
	CHECK(same);
	CHECK_EQ_INT(p.guest.messages[id], count);
	CHECK_EQ_INT(p.guest.bytes[id], 4u << 20);
	/* Placement happens whenever a large message is split across reads;
	 * here most are. */
	CHECK(p.guest.placed[id] > 0);
	fprintf(stderr, "placement: %zu of %zu messages read straight into place\n",
		p.guest.placed[id], count);
	CHECK(p.host.disconnect_reason == NULL && p.guest.disconnect_reason == NULL);
	free(msg);
	free(area);
	pair_teardown(&p);

	/* Half a message, then the receiver closes the stream. */
	struct raw r;
	raw_setup(&r);
	uint8_t kind[4] = {BH_STREAM_WAYLAND, 0, 0, 0};
	raw_send(&r, BH_FRAME_OPEN, 1, kind, 4);
	raw_send(&r, BH_FRAME_OPEN, 3, kind, 4);
	uint8_t *half_area = calloc(1, BH_CHANNEL_MAX_PAYLOAD);
	r.host.place_area[1] = half_area;
	uint8_t *frame = malloc(BH_CHANNEL_HEADER + 20000);
	bh_frame_header(frame, BH_FRAME_DATA, 1, 20000);
	memset(frame + BH_CHANNEL_HEADER, 0xab, 20000);
	CHECK_EQ_INT(write(r.fd, frame, BH_CHANNEL_HEADER + 5000), BH_CHANNEL_HEADER + 5000);
	pump(r.loop, 3);
	CHECK_EQ_INT(r.host.placed[1], 1);
	struct bh_stream *victim = r.host.stream[1];
	CHECK(victim != NULL);
	if (victim != NULL) {
		bh_stream_close(victim, NULL);
	}
	memset(half_area, 0, BH_CHANNEL_MAX_PAYLOAD);
	CHECK_EQ_INT(write(r.fd, frame + BH_CHANNEL_HEADER + 5000, 15000), 15000);
	pump(r.loop, 3);
	size_t zero = 0;
	while (zero < BH_CHANNEL_MAX_PAYLOAD && half_area[zero] == 0) {
		zero++;
	}
	CHECK_EQ_INT(zero, BH_CHANNEL_MAX_PAYLOAD);
	raw_send(&r, BH_FRAME_DATA, 3, "next", 4);
	CHECK_EQ_INT(r.host.bytes[3], 4);
	CHECK(r.host.disconnect_reason == NULL);
	free(frame);
	free(half_area);
	raw_teardown(&r);
}

/* ---- borrowed bodies ---- */

static int borrow_done_calls;

static void borrow_done(struct bh_borrow *b)
{
	(void)b;
	borrow_done_calls++;
}

struct borrowed {
	int fd;
	size_t size;
	uint8_t *map;
	struct bh_borrow borrow;
};

static void borrowed_setup(struct borrowed *b, struct pair *p, uint8_t fill)
{
	pair_setup(p);
	b->size = 4 * BH_CHANNEL_MAX_PAYLOAD;
	b->fd = memfd_create("borrowed", MFD_CLOEXEC);
	CHECK(b->fd >= 0 && ftruncate(b->fd, (off_t)b->size) == 0);
	b->map = mmap(NULL, b->size, PROT_READ, MAP_SHARED, b->fd, 0);
	CHECK(b->map != MAP_FAILED);
	uint8_t *bytes = malloc(b->size);
	memset(bytes, fill, b->size);
	CHECK_EQ_INT(pwrite(b->fd, bytes, b->size, 0), (ssize_t)b->size);
	free(bytes);
	b->borrow = (struct bh_borrow){.refs = 1, .done = borrow_done};
	borrow_done_calls = 0;
	p->guest.capture_size = 4 * BH_CHANNEL_MAX_PAYLOAD;
	p->guest.capture = calloc(1, p->guest.capture_size);
}

static void borrowed_teardown(struct borrowed *b, struct pair *p)
{
	munmap(b->map, b->size);
	close(b->fd);
	free(p->guest.capture);
	pair_teardown(p);
}

/* A body queued by reference is read when its frame goes out (what the
 * file holds then, not when it was queued: nothing was copied), and the
 * borrow is held until every frame using it is written. */
static void test_borrowed_send(void)
{
	struct pair p;
	struct borrowed b;
	borrowed_setup(&b, &p, 0x11);
	size_t blen = 60000;
	struct bh_stream *s = host_stream(&p.host);
	for (int i = 0; i < 3; i++) {
		uint8_t head[3] = {'H', (uint8_t)i, 'h'};
		CHECK(bh_stream_send_borrowed(
			s, head, sizeof(head), b.map + (size_t)i * blen, blen, &b.borrow));
	}
	CHECK_EQ_INT(b.borrow.refs, 4);
	uint8_t *bytes = malloc(b.size);
	for (size_t i = 0; i < b.size; i++) {
		bytes[i] = (uint8_t)(i * 7 + 3);
	}
	CHECK_EQ_INT(pwrite(b.fd, bytes, b.size, 0), (ssize_t)b.size);
	pump(p.loop, 20);
	uint32_t id = bh_stream_id(s);
	CHECK_EQ_INT(p.guest.messages[id], 3);
	CHECK_EQ_INT(p.guest.capture_len, 3 * (3 + blen));
	for (int i = 0; i < 3; i++) {
		const uint8_t *m = p.guest.capture + (size_t)i * (3 + blen);
		CHECK(m[0] == 'H' && m[1] == i && m[2] == 'h');
		CHECK(memcmp(m + 3, bytes + (size_t)i * blen, blen) == 0);
	}
	CHECK_EQ_INT(b.borrow.refs, 1);
	CHECK_EQ_INT(borrow_done_calls, 0);
	CHECK(!b.borrow.faulted);
	CHECK(p.host.disconnect_reason == NULL && p.guest.disconnect_reason == NULL);
	bh_borrow_unref(&b.borrow);
	CHECK_EQ_INT(borrow_done_calls, 1);

	/* Frames never written (the endpoint goes first) let go too. */
	b.borrow = (struct bh_borrow){.refs = 1, .done = borrow_done};
	CHECK(bh_stream_send_borrowed(s, "x", 1, b.map, blen, &b.borrow));
	CHECK(bh_stream_send_borrowed(s, "y", 1, b.map, blen, &b.borrow));
	bh_endpoint_destroy(p.host.ep);
	p.host.ep = NULL;
	CHECK_EQ_INT(b.borrow.refs, 1);
	free(bytes);
	borrowed_teardown(&b, &p);
}

/* The file under a borrowed body shrinks before the frame goes out (a
 * guest client truncating its pool): the body goes as zeros, the channel
 * keeps its framing (the next message arrives whole), and the borrow is
 * marked faulted for its owner. */
static void test_borrowed_fault(void)
{
	struct pair p;
	struct borrowed b;
	borrowed_setup(&b, &p, 0x5a);
	size_t blen = 60000;
	struct bh_stream *s = host_stream(&p.host);
	CHECK(bh_stream_send(s, "before", 6));
	/* One body entirely past the new end, one across it. */
	CHECK(bh_stream_send_borrowed(s, "A", 1, b.map + 2 * blen, blen, &b.borrow));
	CHECK(bh_stream_send_borrowed(s, "B", 1, b.map + 20000, blen, &b.borrow));
	CHECK(bh_stream_send(s, "after", 5));
	CHECK(ftruncate(b.fd, 32768) == 0);
	pump(p.loop, 20);
	uint32_t id = bh_stream_id(s);
	CHECK(p.host.disconnect_reason == NULL && p.guest.disconnect_reason == NULL);
	CHECK_EQ_INT(p.guest.messages[id], 4);
	CHECK_EQ_INT(p.guest.capture_len, 6 + 2 * (1 + blen) + 5);
	const uint8_t *m = p.guest.capture;
	CHECK(memcmp(m, "before", 6) == 0);
	m += 6;
	CHECK(m[0] == 'A');
	size_t nonzero = 0;
	for (size_t i = 0; i < blen; i++) {
		nonzero += m[1 + i] != 0;
	}
	CHECK_EQ_INT(nonzero, 0);
	m += 1 + blen;
	/* B: what could still be read (bytes before the new end that went out
	 * before the fault) is the file's, the rest zeros; nothing else. */
	CHECK(m[0] == 'B');
	for (size_t i = 0; i < blen; i++) {
		if (m[1 + i] != 0 && m[1 + i] != 0x5a) {
			CHECK(!"a byte neither the file's nor zero");
			break;
		}
		if (20000 + i >= 32768 && m[1 + i] != 0) {
			CHECK(!"a byte past the file's end that was not zero");
			break;
		}
	}
	m += 1 + blen;
	CHECK(memcmp(m, "after", 5) == 0);
	CHECK(b.borrow.faulted);
	CHECK_EQ_INT(b.borrow.refs, 1);
	borrowed_teardown(&b, &p);
}

static bool emit_nothing(uint32_t serial, uint64_t offset, const uint8_t *bytes, size_t len, void *data)
{
	(void)serial, (void)offset, (void)bytes, (void)len, (void)data;
	return true;
}

/* A guest client shrinks its pool's file under a frame queued from the
 * agent's mirror, the frame goes out as zeros, then the client grows the
 * file and the pool again (wl_shm_pool.resize: the mirror maps it anew).
 * The fault was found in a mapping the pool no longer uses, and the pool's
 * next sync must still fail (the client is ended), not carry on as if
 * what the host was sent were the client's. */
static void test_borrowed_fault_outlives_remap(void)
{
	struct pair p;
	pair_setup(&p);
	p.guest.capture_size = 2 * BH_CHANNEL_MAX_PAYLOAD;
	p.guest.capture = calloc(1, p.guest.capture_size);
	size_t size = 4 * BH_CHANNEL_MAX_PAYLOAD, blen = 60000;
	int fd = memfd_create("pool", MFD_CLOEXEC);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)size) == 0);
	struct bh_shm_mirror m;
	CHECK(bh_shm_mirror_init(&m, 7, dup(fd), size, false));
	struct bh_stream *s = host_stream(&p.host);
	CHECK(bh_stream_send_borrowed(
		s, "A", 1, m.map + size / 2, blen, bh_shm_mirror_borrow(&m)));
	CHECK(ftruncate(fd, 4096) == 0);
	pump(p.loop, 20);
	CHECK(p.host.disconnect_reason == NULL && p.guest.disconnect_reason == NULL);
	CHECK_EQ_INT(p.guest.capture_len, 1 + blen);
	/* Grown again, and the pool with it. */
	CHECK(ftruncate(fd, (off_t)(2 * size)) == 0);
	CHECK(bh_shm_mirror_resize(&m, 2 * size));
	errno = 0;
	CHECK(!bh_shm_mirror_sync(&m, 0, 2 * size, emit_nothing, NULL));
	CHECK_EQ_INT(errno, EFAULT);
	errno = 0;
	uint8_t out[16];
	CHECK(!bh_shm_mirror_copy_out(&m, 0, sizeof(out), out));
	CHECK_EQ_INT(errno, EFAULT);
	bh_shm_mirror_finish(&m);
	close(fd);
	free(p.guest.capture);
	pair_teardown(&p);
}

/* A write that fails (the peer is gone) while the owner's last words are
 * flushed, or from the endpoint's own deferred write: the owner destroys
 * the endpoint from disconnected(), and it is freed then, not kept for a
 * dispatch that will never come (the sanitized run reports it otherwise). */
static void test_destroy_on_failed_write(void)
{
	for (int from_idle = 0; from_idle < 2; from_idle++) {
		struct pair p;
		pair_setup(&p);
		p.host.destroy_on_disconnect = true;
		bh_endpoint_destroy(p.guest.ep);
		p.guest.ep = NULL;
		uint8_t *big = calloc(1, BH_CHANNEL_MAX_PAYLOAD);
		struct bh_stream *s = host_stream(&p.host);
		CHECK(s != NULL);
		bh_stream_send(s, big, BH_CHANNEL_MAX_PAYLOAD);
		CHECK(bh_endpoint_send_control(p.host.ep, 1, "bye", 3));
		if (from_idle) {
			pump(p.loop, 3);
		} else {
			CHECK(!bh_endpoint_flush_control(p.host.ep, 100));
		}
		CHECK(p.host.disconnect_reason != NULL);
		CHECK(p.host.ep == NULL);
		/* Freed now, not kept for a dispatch that never comes: its
		 * socket is closed. */
		errno = 0;
		CHECK(fcntl(p.host_fd, F_GETFD) == -1 && errno == EBADF);
		free(big);
		pair_teardown(&p);
	}
}

/* The peer sent a last control message (a goodbye) and closed, while this
 * side still had frames to write: the write fails (the peer is gone), and
 * the goodbye is still read before the endpoint ends. */
static void test_goodbye_behind_failed_write(void)
{
	struct raw r;
	raw_setup(&r);
	uint8_t buf[BH_CHANNEL_HEADER + 16];
	size_t n = put_frame(buf, BH_FRAME_CONTROL_BASE + 1, 0, "bye", 3);
	CHECK_EQ_INT(write(r.fd, buf, n), (ssize_t)n);
	close(r.fd);
	r.fd = -1;
	/* Queued now, written first by the next dispatch (before any read). */
	struct bh_stream *s = host_stream(&r.host);
	CHECK(s != NULL && bh_stream_send(s, "x", 1));
	pump(r.loop, 4);
	CHECK_EQ_INT(r.host.controls, 1);
	CHECK(r.host.disconnect_reason != NULL);
	raw_teardown(&r);
}

/* Writes that stop inside a borrowed body (a small socket buffer, a peer
 * not reading yet) go on from where they stopped, and a file that shrinks
 * between two such writes: what was readable arrives, the rest of that
 * body as zeros, the next frame whole (zeros too: all of it is gone). */
static void test_borrowed_partial(void)
{
	struct raw r;
	memset(&r, 0, sizeof(r));
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	int small = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	r.loop = wl_event_loop_create();
	r.host.ep = bh_endpoint_create(r.loop, sv[0], BH_ENDPOINT_HOST, &peer_listener, &r.host);
	r.fd = sv[1];
	bh_set_nonblock(r.fd, true);
	size_t size = 256 * 1024, blen = 60000;
	int fd = memfd_create("partial", MFD_CLOEXEC);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)size) == 0);
	uint8_t *pattern = malloc(size);
	for (size_t i = 0; i < size; i++) {
		pattern[i] = (uint8_t)(i * 13 + 7) | 1; /* never 0 */
	}
	CHECK_EQ_INT(pwrite(fd, pattern, size, 0), (ssize_t)size);
	uint8_t *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(map != MAP_FAILED);
	struct bh_borrow borrow = {.refs = 1, .done = borrow_done};
	struct bh_stream *s = host_stream(&r.host);
	CHECK(bh_stream_send_borrowed(s, "A", 1, map, blen, &borrow));
	CHECK(bh_stream_send_borrowed(s, "B", 1, map + blen, blen, &borrow));
	size_t total = BH_CHANNEL_HEADER + 4 + 2 * (BH_CHANNEL_HEADER + 1 + blen);
	pump(r.loop, 2);
	size_t left = bh_endpoint_pending(r.host.ep);
	CHECK(left > 0 && left < total - BH_CHANNEL_HEADER - 4 - BH_CHANNEL_HEADER - 1);
	CHECK(ftruncate(fd, 30000) == 0);
	uint8_t *got = malloc(total);
	size_t have = 0;
	for (int i = 0; i < 2000 && have < total; i++) {
		ssize_t n = read(r.fd, got + have, total - have);
		if (n > 0) {
			have += (size_t)n;
		}
		pump(r.loop, 1);
	}
	CHECK_EQ_INT(have, total);
	CHECK(r.host.disconnect_reason == NULL);
	CHECK(borrow.faulted);
	const uint8_t *a = got + BH_CHANNEL_HEADER + 4 + BH_CHANNEL_HEADER;
	CHECK(a[0] == 'A');
	size_t wrong = 0;
	for (size_t i = 0; i < blen; i++) {
		wrong += a[1 + i] != (i < 30000 ? pattern[i] : 0);
	}
	CHECK_EQ_INT(wrong, 0);
	const uint8_t *b = a + 1 + blen + BH_CHANNEL_HEADER;
	CHECK(b[0] == 'B');
	for (size_t i = 0; i < blen; i++) {
		wrong += b[1 + i] != 0;
	}
	CHECK_EQ_INT(wrong, 0);
	CHECK_EQ_INT(borrow.refs, 1);
	free(got);
	free(pattern);
	munmap(map, size);
	close(fd);
	raw_teardown(&r);
}

/* A failure passed on with bh_stream_close_error reaches the peer's
 * closed() with its reason, after the data queued before it; a plain
 * close carries none. */
static void test_close_reasons(void)
{
	struct pair p;
	pair_setup(&p);
	struct bh_stream *a = host_stream(&p.host);
	struct bh_stream *b = host_stream(&p.host);
	uint32_t ida = bh_stream_id(a), idb = bh_stream_id(b);
	CHECK(bh_stream_send(a, "output", 6));
	bh_stream_close_error(a, "the agent broke the session");
	CHECK(bh_stream_send(b, "output", 6));
	bh_stream_close(b, "not shown");
	pump(p.loop, 10);
	CHECK_EQ_INT(p.guest.bytes[ida], 6);
	CHECK(p.guest.closed[ida]);
	CHECK(strcmp(p.guest.closed_reason[ida], "the agent broke the session") == 0);
	CHECK_EQ_INT(p.guest.bytes[idb], 6);
	CHECK(p.guest.closed[idb]);
	CHECK(strcmp(p.guest.closed_reason[idb], "") == 0);
	pair_teardown(&p);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	bh_log_init("test_channel", BH_LOG_ERROR);
	test_round_trip_every_split();
	test_malformed_frames();
	test_stream_id_errors();
	test_fair_interleaving();
	test_chunked_send();
	test_stream_error_is_local();
	test_credit_overrun();
	test_placement();
	test_placed_delivery();
	test_borrowed_send();
	test_borrowed_fault();
	test_borrowed_partial();
	test_borrowed_fault_outlives_remap();
	test_destroy_on_failed_write();
	test_goodbye_behind_failed_write();
	test_close_reasons();
	return bh_test_finish("test_channel");
}
