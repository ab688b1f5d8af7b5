/* A channel endpoint on a wl_event_loop: one channel fd, the decoder, the fair
 * writer, the stream table with per-stream handlers and flow control. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "common/channel.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "common/util.h"

/* Frames are common/channel.h's; the names here are short for it. */
#define FRAME_HEADER BH_CHANNEL_HEADER
#define FRAME_MAX_PAYLOAD BH_CHANNEL_MAX_PAYLOAD
#define FRAME_OPEN BH_FRAME_OPEN
#define FRAME_DATA BH_FRAME_DATA
#define FRAME_CLOSE BH_FRAME_CLOSE
#define FRAME_CREDIT BH_FRAME_CREDIT
#define FRAME_CONTROL_BASE BH_FRAME_CONTROL_BASE
/* Credit each stream starts with in each direction. */
#define INITIAL_WINDOW (512u * 1024u)
#define MAX_QUEUED_TOTAL (64u << 20)
/* Bytes read from the channel at once. */
#define READ_CHUNK (128u * 1024u)
/* Frames handed to one writev: with frames of at most 64 KiB that is at
 * most 512 KiB, and how far a control frame queued meanwhile waits. */
#define INFLIGHT_MAX 8
/* Bytes read after a placed frame's rest: enough for the next frame's
 * header and the start its placer looks at, so a run of large frames is
 * read one frame per call, each into its own place. */
#define PLACED_TAIL 4096u

/* ---- state ---- */

struct out_frame {
	struct wl_list link;
	uint32_t type;
	size_t len; /* payload length */
	size_t cap; /* payload room allocated */
	/* A borrowed frame's payload ends in body (blen bytes of its owner's
	 * memory, read when it is written); data holds the rest. */
	const uint8_t *body;
	size_t blen;
	struct bh_borrow *borrow;
	uint8_t data[]; /* header + payload (without the borrowed body) */
};

/* What a borrowed body whose memory could not be read is sent as. */
static const uint8_t zeros[FRAME_MAX_PAYLOAD];

enum stream_state {
	STREAM_OPEN,
	STREAM_CLOSING, /* closed locally, flushing output before CLOSE */
	STREAM_DEAD,    /* gone; freed when no dispatch is using it */
};

struct bh_stream {
	struct wl_list link;      /* bh_endpoint.streams */
	struct wl_list out_link;  /* bh_endpoint.ready, while it has output to send */
	struct bh_endpoint *endpoint;
	uint32_t id;
	enum bh_stream_kind kind;
	enum stream_state state;
	const struct bh_stream_handler *handler;
	void *user;
	struct wl_list out; /* struct out_frame */
	size_t out_bytes;
	bool over_high_water;
	uint32_t send_credit;  /* bytes we may still send */
	uint32_t consumed;     /* bytes delivered, not yet credited back */
	bool paused;
	bool in_ready;
	char *close_reason;
	uint32_t close_error;
};

struct bh_endpoint {
	struct wl_event_loop *loop;
	int fd;
	struct wl_event_source *source;
	enum bh_endpoint_side side;
	const struct bh_endpoint_listener *listener;
	void *user;

	struct bh_channel_decoder decoder;
	uint8_t *in_buf; /* READ_CHUNK bytes */

	struct wl_list streams; /* bh_stream.link */
	size_t stream_count;
	uint32_t next_id;       /* next id of our own range */
	uint32_t peer_next_id;  /* lowest id of the peer's range it has not used */

	struct wl_list control_out; /* struct out_frame for stream 0 */
	struct wl_list ready;       /* streams with output, round-robin order */
	/* Frames taken off the queues, in the order they go out, written with
	 * one writev each round; woff bytes of the first are written. */
	struct out_frame *inflight[INFLIGHT_MAX];
	size_t inflight_count, inflight_bytes, woff;
	size_t pending;             /* all queued bytes */

	struct wl_event_source *idle; /* a write at the end of this loop iteration */
	int dispatch_depth;
	bool failed;
	bool destroy_pending;
	bool writable_armed;
	/* An fd that goes with the next bytes written (unix channels only),
	 * and one that came with bytes read, when fds are accepted. */
	int send_fd, recv_fd;
	bool accept_fds;
	/* A write the peer's close refused: what it sent before (a goodbye
	 * behind window data) is read first, then the endpoint ends. */
	bool write_closed;
	char write_error[96];
};

/* The host allocates even ids, the guest odd ones; 0 is control. */
static uint32_t first_id(enum bh_endpoint_side side)
{
	return side == BH_ENDPOINT_HOST ? 2 : 1;
}

static bool id_is_ours(const struct bh_endpoint *ep, uint32_t id)
{
	return (id & 1) == (first_id(ep->side) & 1);
}

size_t bh_endpoint_max_payload(void)
{
	return FRAME_MAX_PAYLOAD;
}

/* Frames are recycled, in two sizes: large ones (buffer data; a window
 * redrawn whole queues megabytes per frame, and fresh heap for each would
 * mean page faults and the heap growing and shrinking every frame) and
 * small ones (Wayland messages, buffer data heads, control): the hot path
 * allocates nothing once it runs. At most FRAME_CACHE of each are kept
 * (4 MiB and 256 KiB), shared by the process's endpoints (one thread);
 * sizes between are allocated to size. */
#define FRAME_BIG (48u * 1024u)
#define FRAME_SMALL (4u * 1024u)
#define FRAME_CACHE 64
struct frame_cache {
	struct out_frame *frames[FRAME_CACHE];
	size_t count;
};
static struct frame_cache big_frames, small_frames;

void bh_borrow_unref(struct bh_borrow *b)
{
	if (b != NULL && --b->refs == 0) {
		b->done(b);
	}
}

static void frame_free(struct out_frame *f)
{
	if (f == NULL) {
		return;
	}
	if (f->borrow != NULL) {
		bh_borrow_unref(f->borrow);
	}
	struct frame_cache *c = f->cap == FRAME_MAX_PAYLOAD ? &big_frames :
		f->cap == FRAME_SMALL                     ? &small_frames :
							    NULL;
	if (c != NULL && c->count < FRAME_CACHE) {
		c->frames[c->count++] = f;
		return;
	}
	free(f);
}

static struct out_frame *frame_new(uint32_t type, uint32_t stream, const void *a, size_t alen,
	const void *b, size_t blen)
{
	size_t len = alen + blen;
	size_t cap = len >= FRAME_BIG ? FRAME_MAX_PAYLOAD : len <= FRAME_SMALL ? FRAME_SMALL : len;
	struct frame_cache *c = cap == FRAME_MAX_PAYLOAD ? &big_frames :
		cap == FRAME_SMALL                     ? &small_frames :
							 NULL;
	struct out_frame *f = c != NULL && c->count > 0 ? c->frames[--c->count] :
							    malloc(sizeof(*f) + FRAME_HEADER + cap);
	if (f == NULL) {
		return NULL;
	}
	f->cap = cap;
	f->type = type;
	f->len = len;
	f->body = NULL;
	f->blen = 0;
	f->borrow = NULL;
	bh_frame_header(f->data, type, stream, (uint32_t)len);
	if (alen) {
		memcpy(f->data + FRAME_HEADER, a, alen);
	}
	if (blen) {
		memcpy(f->data + FRAME_HEADER + alen, b, blen);
	}
	return f;
}

static void update_writable(struct bh_endpoint *ep);
static void endpoint_kick(struct bh_endpoint *ep);

static void stream_free(struct bh_stream *s)
{
	struct out_frame *f, *tmp;
	wl_list_for_each_safe(f, tmp, &s->out, link) {
		s->endpoint->pending -= FRAME_HEADER + f->len;
		wl_list_remove(&f->link);
		frame_free(f);
	}
	if (s->in_ready) {
		wl_list_remove(&s->out_link);
	}
	wl_list_remove(&s->link);
	s->endpoint->stream_count--;
	free(s->close_reason);
	free(s);
}

/* Marks the stream gone and tells its handler (unless the owner closed it);
 * the memory is released once no dispatch holds it. */
/* A stream that ends while one of its frames is being placed: its owner
 * frees the destination, so the rest of that frame is dropped instead. */
static void stream_unplace(struct bh_stream *s)
{
	uint8_t *dest;
	if (bh_channel_decoder_direct(&s->endpoint->decoder, &dest) > 0 &&
		s->endpoint->decoder.stream == s->id) {
		bh_channel_decoder_unplace(&s->endpoint->decoder);
	}
}

static void stream_kill(struct bh_stream *s, const char *reason, bool notify)
{
	if (s->state == STREAM_DEAD) {
		return;
	}
	stream_unplace(s);
	bool was_open = s->state == STREAM_OPEN;
	s->state = STREAM_DEAD;
	if (notify && was_open && s->handler != NULL && s->handler->closed != NULL) {
		s->handler->closed(s, reason, s->user);
	}
	if (s->endpoint->dispatch_depth == 0) {
		stream_free(s);
	}
}

static void reap_dead(struct bh_endpoint *ep)
{
	struct bh_stream *s, *tmp;
	wl_list_for_each_safe(s, tmp, &ep->streams, link) {
		if (s->state == STREAM_DEAD) {
			stream_free(s);
		}
	}
}

static struct bh_stream *find_stream(struct bh_endpoint *ep, uint32_t id)
{
	struct bh_stream *s;
	wl_list_for_each(s, &ep->streams, link) {
		if (s->id == id && s->state != STREAM_DEAD) {
			return s;
		}
	}
	return NULL;
}

static void queue_control_frame(struct bh_endpoint *ep, struct out_frame *f)
{
	wl_list_insert(ep->control_out.prev, &f->link);
	ep->pending += FRAME_HEADER + f->len;
	endpoint_kick(ep);
}

static void send_close_frame(struct bh_endpoint *ep, uint32_t id, uint32_t error,
	const char *reason)
{
	uint8_t code[4];
	bh_le32_put(code, error);
	size_t rlen = reason ? strnlen(reason, BH_CHANNEL_MAX_REASON) : 0;
	struct out_frame *f = frame_new(FRAME_CLOSE, id, code, 4, reason, rlen);
	if (f != NULL) {
		/* CLOSE goes with the control frames, after the stream's own
		 * output (which has been flushed or dropped by now). */
		queue_control_frame(ep, f);
	}
}

static void send_credit(struct bh_stream *s)
{
	if (s->consumed == 0 || s->paused || s->state != STREAM_OPEN) {
		return;
	}
	uint8_t n[4];
	bh_le32_put(n, s->consumed);
	struct out_frame *f = frame_new(FRAME_CREDIT, s->id, n, 4, NULL, 0);
	if (f != NULL) {
		s->consumed = 0;
		queue_control_frame(s->endpoint, f);
	}
}

/* ---- writer ---- */

static bool stream_can_send(struct bh_stream *s)
{
	if (wl_list_empty(&s->out)) {
		return false;
	}
	struct out_frame *f = wl_container_of(s->out.next, f, link);
	return f->type != FRAME_DATA || f->len <= s->send_credit;
}

/* Takes frames off the queues into the in-flight list: all control frames
 * first (they are small and urgent), then one frame per stream in turn, so
 * a stream with megabytes queued delays a keystroke on another stream by at
 * most one frame. The frames are written from where they were queued, with
 * no copy. */
static void take_frame(struct bh_endpoint *ep, struct out_frame *f)
{
	wl_list_remove(&f->link);
	ep->inflight[ep->inflight_count++] = f;
	ep->inflight_bytes += FRAME_HEADER + f->len;
	ep->pending -= FRAME_HEADER + f->len;
}

static void fill_inflight(struct bh_endpoint *ep)
{
	if (ep->inflight_count > 0) {
		return;
	}
	ep->woff = 0;
	ep->inflight_bytes = 0;
	while (!wl_list_empty(&ep->control_out)) {
		if (ep->inflight_count == INFLIGHT_MAX) {
			return;
		}
		struct out_frame *f = wl_container_of(ep->control_out.next, f, link);
		take_frame(ep, f);
	}
	bool progress = true;
	while (progress && ep->inflight_count < INFLIGHT_MAX) {
		progress = false;
		struct bh_stream *s, *tmp;
		wl_list_for_each_safe(s, tmp, &ep->ready, out_link) {
			if (!stream_can_send(s)) {
				continue;
			}
			struct out_frame *f = wl_container_of(s->out.next, f, link);
			s->out_bytes -= f->len;
			if (f->type == FRAME_DATA) {
				s->send_credit -= (uint32_t)f->len;
			}
			take_frame(ep, f);
			progress = true;
			/* Move to the back: round robin. */
			wl_list_remove(&s->out_link);
			if (wl_list_empty(&s->out)) {
				s->in_ready = false;
				wl_list_init(&s->out_link);
				if (s->state == STREAM_CLOSING) {
					send_close_frame(ep, s->id, s->close_error, s->close_reason);
					stream_kill(s, NULL, false);
				}
			} else {
				wl_list_insert(ep->ready.prev, &s->out_link);
			}
			if (s->state == STREAM_OPEN && s->over_high_water &&
				s->out_bytes <= BH_ENDPOINT_STREAM_LOW_WATER) {
				s->over_high_water = false;
				if (s->handler != NULL && s->handler->writable != NULL) {
					s->handler->writable(s, s->user);
				}
			}
			break;
		}
	}
}

/* Drops the frames writev has written; true when none is left. */
static bool retire_written(struct bh_endpoint *ep, size_t n)
{
	ep->woff += n;
	size_t done = 0;
	while (done < ep->inflight_count) {
		size_t flen = FRAME_HEADER + ep->inflight[done]->len;
		if (ep->woff < flen) {
			break;
		}
		ep->woff -= flen;
		ep->inflight_bytes -= flen;
		frame_free(ep->inflight[done]);
		done++;
	}
	if (done > 0) {
		memmove(ep->inflight, ep->inflight + done,
			(ep->inflight_count - done) * sizeof(ep->inflight[0]));
		ep->inflight_count -= done;
	}
	return ep->inflight_count == 0;
}

static bool has_sendable(struct bh_endpoint *ep)
{
	if (ep->inflight_count > 0 || !wl_list_empty(&ep->control_out)) {
		return true;
	}
	struct bh_stream *s;
	wl_list_for_each(s, &ep->ready, out_link) {
		if (stream_can_send(s)) {
			return true;
		}
	}
	return false;
}

static void update_writable(struct bh_endpoint *ep)
{
	if (ep->source == NULL || ep->failed) {
		return;
	}
	bool want = !ep->write_closed && has_sendable(ep);
	if (want != ep->writable_armed) {
		ep->writable_armed = want;
		wl_event_source_fd_update(ep->source,
			WL_EVENT_READABLE | (want ? WL_EVENT_WRITABLE : 0));
	}
}

static void endpoint_fail(struct bh_endpoint *ep, const char *reason);
static void endpoint_fail_at(struct bh_endpoint *ep, enum bh_log_level level, const char *reason);

/* The iovecs of the in-flight frames from where writing stands: one for
 * each frame's own bytes, one more for a borrowed body. */
static int inflight_iov(struct bh_endpoint *ep, struct iovec *iov)
{
	int n = 0;
	size_t skip = ep->woff;
	for (size_t i = 0; i < ep->inflight_count; i++) {
		struct out_frame *f = ep->inflight[i];
		size_t own = FRAME_HEADER + f->len - f->blen;
		if (skip < own) {
			iov[n++] = (struct iovec){f->data + skip, own - skip};
			skip = 0;
		} else {
			skip -= own;
		}
		if (f->blen > 0) {
			iov[n++] = (struct iovec){(uint8_t *)f->body + skip, f->blen - skip};
			skip = 0;
		}
	}
	return n;
}

/* writev found memory it could not read: only a borrowed body can be that
 * (its owner's file shrank under it). Writes the first piece alone; a body
 * that still cannot be read is sent as zeros, so the channel keeps its
 * framing, and its owner finds its borrow faulted. */
static ssize_t write_past_fault(struct bh_endpoint *ep, const struct iovec *first)
{
	ssize_t n = write(ep->fd, first->iov_base, first->iov_len);
	struct out_frame *f = ep->inflight[0];
	if (n < 0 && errno == EFAULT && f->borrow != NULL &&
		(const uint8_t *)first->iov_base >= f->body &&
		(const uint8_t *)first->iov_base < f->body + f->blen) {
		f->borrow->faulted = true;
		if (f->borrow->also_faulted != NULL) {
			*f->borrow->also_faulted = true;
		}
		f->body = zeros;
		bh_log(BH_LOG_WARN, "a frame's data could not be read (the file under it shrank); "
				    "zeros were sent in its place");
		return 0; /* nothing written; the next round sends zeros */
	}
	return n;
}

/* The first write after bh_endpoint_send_fd: the fd rides on its bytes. */
static ssize_t write_with_fd(struct bh_endpoint *ep, struct iovec *iov, int count)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)count,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &ep->send_fd, sizeof(int));
	ssize_t n = sendmsg(ep->fd, &msg, MSG_NOSIGNAL);
	if (n > 0) {
		close(ep->send_fd);
		ep->send_fd = -1;
	}
	return n;
}

/* A write failed. When the peer closed (EPIPE, ECONNRESET) and left bytes
 * or its end of file to read, writing stops and the reader goes on: the
 * peer's last frames (its goodbye) are handled, then its end of file or
 * the first read that finds nothing more ends the endpoint. Anything else,
 * or nothing left to read, ends it now. */
static void write_failed(struct bh_endpoint *ep, int err)
{
	snprintf(ep->write_error, sizeof(ep->write_error), "write to the channel failed: %s",
		strerror(err));
	if (err == EPIPE || err == ECONNRESET) {
		char c;
		ssize_t n = recv(ep->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n >= 0) {
			ep->write_closed = true;
			update_writable(ep);
			return;
		}
	}
	endpoint_fail(ep, ep->write_error);
}

static void flush_output(struct bh_endpoint *ep)
{
	ep->dispatch_depth++;
	while (!ep->failed && !ep->write_closed) {
		fill_inflight(ep);
		if (ep->inflight_count == 0) {
			break;
		}
		struct iovec iov[2 * INFLIGHT_MAX];
		int count = inflight_iov(ep, iov);
		ssize_t n = ep->send_fd >= 0 ? write_with_fd(ep, iov, count) :
					       writev(ep->fd, iov, count);
		if (n < 0 && errno == EFAULT) {
			n = write_past_fault(ep, &iov[0]);
		}
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno != EAGAIN) {
				write_failed(ep, errno);
			}
			break;
		}
		retire_written(ep, (size_t)n);
	}
	ep->dispatch_depth--;
}

/* ---- reader ---- */

static bool handle_frame(struct bh_endpoint *ep, uint32_t type, uint32_t id, const uint8_t *p,
	size_t len, bool placed)
{
	/* The decoder has checked the frame's shape (bh_frame_check): what is
	 * left is the state of streams and credit. */
	char reason[160];
	if (id == 0) {
		if (ep->listener->control == NULL ||
			!ep->listener->control(ep, type - FRAME_CONTROL_BASE, p, len, ep->user)) {
			if (!ep->failed) {
				snprintf(reason, sizeof(reason), "bad control message %u",
					type - FRAME_CONTROL_BASE);
				endpoint_fail(ep, reason);
			}
			return false;
		}
		return true;
	}
	if (type == FRAME_OPEN) {
		if (id_is_ours(ep, id) || id < ep->peer_next_id) {
			snprintf(reason, sizeof(reason), "bad OPEN of stream %u", id);
			endpoint_fail(ep, reason);
			return false;
		}
		ep->peer_next_id = id + 2;
		uint32_t kind = bh_le32_get(p);
		if (ep->stream_count >= BH_ENDPOINT_MAX_STREAMS) {
			bh_log(BH_LOG_WARN, "refusing stream %u: %d streams open", id,
				BH_ENDPOINT_MAX_STREAMS);
			send_close_frame(ep, id, 1, "too many streams");
			return true;
		}
		struct bh_stream *s = calloc(1, sizeof(*s));
		if (s == NULL) {
			send_close_frame(ep, id, 1, "out of memory");
			return true;
		}
		s->endpoint = ep;
		s->id = id;
		s->kind = kind;
		s->send_credit = INITIAL_WINDOW;
		wl_list_init(&s->out);
		wl_list_init(&s->out_link);
		wl_list_insert(ep->streams.prev, &s->link);
		ep->stream_count++;
		bool ok = kind >= BH_STREAM_WAYLAND && kind <= BH_STREAM_PIPE &&
			ep->listener->open != NULL && ep->listener->open(ep, s, kind, ep->user);
		if (!ok || s->handler == NULL) {
			if (s->state != STREAM_DEAD) {
				bh_log(BH_LOG_WARN, "refusing stream %u of kind %u", id, kind);
				send_close_frame(ep, id, 1, "stream kind not served");
				stream_kill(s, NULL, false);
			}
		}
		return true;
	}
	struct bh_stream *s = find_stream(ep, id);
	if (s == NULL) {
		/* A stream either side closed may still have frames in flight:
		 * ignore those; an id never opened is a protocol error. */
		bool opened = id_is_ours(ep, id) ? id < ep->next_id : id < ep->peer_next_id;
		if (!opened) {
			snprintf(reason, sizeof(reason), "frame type %u for stream %u, never opened",
				type, id);
			endpoint_fail(ep, reason);
			return false;
		}
		return true;
	}
	switch (type) {
	case FRAME_DATA:
		if (s->state != STREAM_OPEN) {
			return true;
		}
		s->consumed += (uint32_t)len;
		if (s->consumed > INITIAL_WINDOW + (s->paused ? 0 : INITIAL_WINDOW)) {
			/* More than the credit we granted: the peer ignores flow
			 * control. That is a channel error (its accounting is off). */
			snprintf(reason, sizeof(reason), "stream %u sent past its credit", id);
			endpoint_fail(ep, reason);
			return false;
		}
		/* A placed payload has been delivered where the handler said. */
		if (!placed && s->handler->data != NULL && !s->handler->data(s, p, len, s->user)) {
			if (s->state == STREAM_OPEN) {
				bh_stream_fail(s, "malformed data on stream %u", id);
			}
			return true;
		}
		if (s->consumed >= INITIAL_WINDOW / 4) {
			send_credit(s);
		}
		return true;
	case FRAME_CLOSE: {
		char text[BH_CHANNEL_MAX_REASON + 1];
		size_t tlen = len - 4;
		memcpy(text, p + 4, tlen);
		text[tlen] = '\0';
		for (size_t i = 0; i < tlen; i++) {
			if ((unsigned char)text[i] < 0x20) {
				text[i] = ' ';
			}
		}
		if (bh_le32_get(p) != 0) {
			bh_log(BH_LOG_WARN, "stream %u closed by the peer: %s", id,
				tlen ? text : "error");
		}
		stream_kill(s, bh_le32_get(p) != 0 ? (tlen ? text : "error") : NULL, true);
		return true;
	}
	case FRAME_CREDIT:
		if ((uint64_t)s->send_credit + bh_le32_get(p) > 16u * INITIAL_WINDOW) {
			snprintf(reason, sizeof(reason), "bad CREDIT for stream %u", id);
			endpoint_fail(ep, reason);
			return false;
		}
		s->send_credit += bh_le32_get(p);
		return true;
	}
	return true;
}

static bool endpoint_frame(const struct bh_frame *frame, void *data)
{
	struct bh_endpoint *ep = data;
	handle_frame(ep, frame->type, frame->stream, frame->payload, frame->len, frame->placed);
	return !ep->failed && !ep->destroy_pending;
}

static uint8_t *endpoint_place(const struct bh_frame *head, void *data)
{
	struct bh_endpoint *ep = data;
	if (head->stream == 0 || head->type != FRAME_DATA || ep->failed) {
		return NULL;
	}
	struct bh_stream *s = find_stream(ep, head->stream);
	/* Anything the normal delivery would refuse or report takes that way. */
	if (s == NULL || s->state != STREAM_OPEN || s->handler == NULL ||
		s->handler->place == NULL ||
		(uint64_t)s->consumed + head->len > INITIAL_WINDOW + (s->paused ? 0 : INITIAL_WINDOW)) {
		return NULL;
	}
	return s->handler->place(s, head->payload, head->len, s->user);
}

static void decode_input(struct bh_endpoint *ep, size_t len)
{
	if (bh_channel_decoder_feed(&ep->decoder, ep->in_buf, len, endpoint_frame, ep, NULL) ==
		BH_DECODE_ERROR) {
		endpoint_fail(ep, bh_channel_decoder_error(&ep->decoder));
	}
}

static void endpoint_finish_destroy(struct bh_endpoint *ep);

/* A read that also takes fds the peer sent (bh_endpoint_accept_fds): the
 * first is kept for bh_endpoint_take_fd, any other is closed. */
static ssize_t read_with_fds(struct bh_endpoint *ep, struct iovec *iov, int count)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} control;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)count,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf)};
	ssize_t n = recvmsg(ep->fd, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0) {
		return n;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (ep->recv_fd < 0) {
				ep->recv_fd = fd;
			} else {
				bh_log(BH_LOG_WARN, "the channel's peer sent more fds than one; "
						    "closed the rest");
				close(fd);
			}
		}
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		bh_log(BH_LOG_WARN, "the channel's peer sent more fds than are taken");
	}
	return n;
}

static int endpoint_handle_fd(int fd, uint32_t mask, void *data)
{
	struct bh_endpoint *ep = data;
	ep->dispatch_depth++;
	if (mask & WL_EVENT_READABLE) {
		for (int rounds = 0; rounds < 16 && !ep->failed && !ep->destroy_pending; rounds++) {
			/* A frame being placed is read where it belongs, with the
			 * start of what follows. */
			uint8_t *dest;
			size_t direct = bh_channel_decoder_direct(&ep->decoder, &dest);
			struct iovec iov[2] = {{dest, direct}, {ep->in_buf, PLACED_TAIL}};
			if (direct == 0) {
				iov[0] = (struct iovec){ep->in_buf, READ_CHUNK};
			}
			ssize_t n = ep->accept_fds ? read_with_fds(ep, iov, direct > 0 ? 2 : 1) :
				    direct > 0     ? readv(fd, iov, 2) :
						     read(fd, ep->in_buf, READ_CHUNK);
			if (n < 0) {
				if (errno == EINTR) {
					continue;
				}
				if (errno != EAGAIN) {
					char reason[128];
					snprintf(reason, sizeof(reason),
						"read from the channel failed: %s", strerror(errno));
					endpoint_fail(ep, reason);
				} else if (ep->write_closed) {
					endpoint_fail(ep, ep->write_error);
				}
				break;
			}
			if (n == 0) {
				if (bh_channel_decoder_partial(&ep->decoder)) {
					endpoint_fail(ep, "the channel was cut in the middle of a "
							  "frame");
				} else {
					endpoint_fail_at(ep, BH_LOG_DEBUG,
						"the peer closed the channel");
				}
				break;
			}
			size_t rest = (size_t)n;
			if (direct > 0) {
				size_t placed = rest < direct ? rest : direct;
				rest -= placed;
				if (bh_channel_decoder_direct_done(&ep->decoder, placed, endpoint_frame,
					    ep) == BH_DECODE_ERROR) {
					endpoint_fail(ep, bh_channel_decoder_error(&ep->decoder));
					break;
				}
				if (ep->failed || ep->destroy_pending) {
					break;
				}
			}
			if (rest > 0) {
				decode_input(ep, rest);
			}
			/* Less than asked for: a socket had no more (one more read
			 * would only say EAGAIN); a device that hands out one buffer
			 * a read stays readable, and the loop comes back. */
			if ((size_t)n < (direct > 0 ? direct + PLACED_TAIL : READ_CHUNK) &&
				!ep->write_closed) {
				break;
			}
		}
	} else if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		endpoint_fail(ep, "the channel hung up");
	}
	if (!ep->failed && !ep->destroy_pending) {
		flush_output(ep);
	}
	ep->dispatch_depth--;
	if (ep->dispatch_depth == 0) {
		if (ep->destroy_pending) {
			endpoint_finish_destroy(ep);
			return 0;
		}
		reap_dead(ep);
		update_writable(ep);
	}
	return 0;
}

static void endpoint_idle(void *data)
{
	struct bh_endpoint *ep = data;
	ep->idle = NULL;
	if (ep->failed || ep->destroy_pending) {
		return;
	}
	flush_output(ep);
	if (ep->dispatch_depth > 0) {
		return;
	}
	if (ep->destroy_pending) {
		/* A failed write told the owner, who destroyed the endpoint. */
		endpoint_finish_destroy(ep);
	} else if (!ep->failed) {
		reap_dead(ep);
		update_writable(ep);
	}
}

/* Output queued outside the endpoint's own dispatch is written from an idle
 * callback, which runs before this loop iteration ends: many small sends of
 * one iteration coalesce into one write, callers are never re-entered, and
 * no extra poll round (arm POLLOUT, wake, write, disarm) stands between a
 * guest's request and the host: that round was most of a roundtrip's cost.
 * Writes the socket cannot take wait for WL_EVENT_WRITABLE as before. */
static void endpoint_kick(struct bh_endpoint *ep)
{
	if (ep->dispatch_depth > 0) {
		/* endpoint_handle_fd flushes when its dispatch ends. */
		return;
	}
	if (ep->idle == NULL && !ep->failed && !ep->destroy_pending && ep->loop != NULL) {
		ep->idle = wl_event_loop_add_idle(ep->loop, endpoint_idle, ep);
	}
	if (ep->idle == NULL) {
		update_writable(ep);
	}
}

/* level: an orderly close by the peer is no warning (every bulkheadctl
 * command ends its control connection so); each listener says what the
 * end means for its own user. */
static void endpoint_fail_at(struct bh_endpoint *ep, enum bh_log_level level, const char *reason)
{
	if (ep->failed) {
		return;
	}
	ep->failed = true;
	bh_log(level, "channel closed: %s", reason);
	if (ep->source != NULL) {
		wl_event_source_remove(ep->source);
		ep->source = NULL;
	}
	ep->dispatch_depth++;
	struct bh_stream *s;
	wl_list_for_each(s, &ep->streams, link) {
		if (s->state == STREAM_CLOSING) {
			s->state = STREAM_DEAD;
		}
		stream_kill(s, "the channel closed", true);
	}
	ep->dispatch_depth--;
	if (ep->listener->disconnected != NULL) {
		ep->listener->disconnected(ep, reason, ep->user);
	}
}

static void endpoint_fail(struct bh_endpoint *ep, const char *reason)
{
	endpoint_fail_at(ep, BH_LOG_WARN, reason);
}

struct bh_endpoint *bh_endpoint_create(struct wl_event_loop *loop, int fd,
	enum bh_endpoint_side side, const struct bh_endpoint_listener *listener, void *user)
{
	struct bh_endpoint *ep = calloc(1, sizeof(*ep));
	if (ep == NULL) {
		close(fd);
		return NULL;
	}
	ep->loop = loop;
	ep->fd = fd;
	ep->side = side;
	ep->listener = listener;
	ep->user = user;
	ep->send_fd = ep->recv_fd = -1;
	ep->next_id = first_id(side);
	ep->peer_next_id = side == BH_ENDPOINT_HOST ? 1 : 2;
	ep->in_buf = malloc(READ_CHUNK);
	bh_channel_decoder_init(&ep->decoder);
	bh_channel_decoder_set_placer(&ep->decoder, endpoint_place, ep);
	wl_list_init(&ep->streams);
	wl_list_init(&ep->control_out);
	wl_list_init(&ep->ready);
	bh_set_nonblock(fd, true);
	bh_set_cloexec(fd, true);
	ep->source = wl_event_loop_add_fd(loop, fd, WL_EVENT_READABLE, endpoint_handle_fd, ep);
	if (ep->in_buf == NULL || ep->source == NULL) {
		bh_log(BH_LOG_ERROR, "could not set up the channel endpoint");
		if (ep->source != NULL) {
			wl_event_source_remove(ep->source);
		}
		free(ep->in_buf);
		bh_channel_decoder_finish(&ep->decoder);
		free(ep);
		close(fd);
		return NULL;
	}
	return ep;
}

static void endpoint_finish_destroy(struct bh_endpoint *ep)
{
	if (ep->idle != NULL) {
		wl_event_source_remove(ep->idle);
	}
	struct bh_stream *s, *tmp;
	wl_list_for_each_safe(s, tmp, &ep->streams, link) {
		stream_free(s);
	}
	struct out_frame *f, *ftmp;
	wl_list_for_each_safe(f, ftmp, &ep->control_out, link) {
		wl_list_remove(&f->link);
		frame_free(f);
	}
	if (ep->source != NULL) {
		wl_event_source_remove(ep->source);
	}
	close(ep->fd);
	if (ep->send_fd >= 0) {
		close(ep->send_fd);
	}
	if (ep->recv_fd >= 0) {
		close(ep->recv_fd);
	}
	free(ep->in_buf);
	bh_channel_decoder_finish(&ep->decoder);
	for (size_t i = 0; i < ep->inflight_count; i++) {
		frame_free(ep->inflight[i]);
	}
	free(ep);
}

void bh_endpoint_destroy(struct bh_endpoint *ep)
{
	if (ep == NULL || ep->destroy_pending) {
		return;
	}
	ep->destroy_pending = true;
	ep->dispatch_depth++;
	struct bh_stream *s;
	wl_list_for_each(s, &ep->streams, link) {
		if (s->state == STREAM_CLOSING) {
			s->state = STREAM_DEAD;
		}
		stream_kill(s, "the endpoint was destroyed", true);
	}
	ep->dispatch_depth--;
	if (ep->dispatch_depth == 0) {
		endpoint_finish_destroy(ep);
	}
}

void bh_endpoint_send_fd(struct bh_endpoint *ep, int fd)
{
	if (ep->send_fd >= 0) {
		close(ep->send_fd);
	}
	ep->send_fd = fd;
}

void bh_endpoint_accept_fds(struct bh_endpoint *ep)
{
	ep->accept_fds = true;
}

int bh_endpoint_take_fd(struct bh_endpoint *ep)
{
	int fd = ep->recv_fd;
	ep->recv_fd = -1;
	return fd;
}

bool bh_endpoint_send_control(struct bh_endpoint *ep, uint32_t type, const void *payload,
	size_t len)
{
	if (ep->failed || ep->destroy_pending || len > FRAME_MAX_PAYLOAD ||
		ep->pending + len > MAX_QUEUED_TOTAL) {
		return false;
	}
	struct out_frame *f = frame_new(type + FRAME_CONTROL_BASE, 0, payload, len, NULL, 0);
	if (f == NULL) {
		return false;
	}
	queue_control_frame(ep, f);
	endpoint_kick(ep);
	return true;
}

struct bh_stream *bh_endpoint_open_stream(struct bh_endpoint *ep, enum bh_stream_kind kind,
	const struct bh_stream_handler *handler, void *user)
{
	if (ep->failed || ep->destroy_pending || ep->stream_count >= BH_ENDPOINT_MAX_STREAMS ||
		ep->next_id > UINT32_MAX - 2) {
		return NULL;
	}
	struct bh_stream *s = calloc(1, sizeof(*s));
	uint8_t k[4];
	bh_le32_put(k, kind);
	struct out_frame *f = frame_new(FRAME_OPEN, ep->next_id, k, 4, NULL, 0);
	if (s == NULL || f == NULL) {
		free(s);
		frame_free(f);
		return NULL;
	}
	s->endpoint = ep;
	s->id = ep->next_id;
	ep->next_id += 2;
	s->kind = kind;
	s->handler = handler;
	s->user = user;
	s->send_credit = INITIAL_WINDOW;
	wl_list_init(&s->out);
	wl_list_init(&s->out_link);
	wl_list_insert(ep->streams.prev, &s->link);
	ep->stream_count++;
	queue_control_frame(ep, f);
	return s;
}

void bh_endpoint_fail(struct bh_endpoint *ep, const char *fmt, ...)
{
	char reason[256];
	va_list args;
	va_start(args, fmt);
	vsnprintf(reason, sizeof(reason), fmt, args);
	va_end(args);
	endpoint_fail(ep, reason);
}

bool bh_endpoint_flush_control(struct bh_endpoint *ep, int timeout_ms)
{
	uint64_t deadline = bh_now_usec() + (uint64_t)timeout_ms * 1000u;
	bool written = false;
	ep->dispatch_depth++;
	for (;;) {
		flush_output(ep);
		/* A peer that closed takes no more: nothing is read here. */
		if (ep->write_closed && !ep->failed) {
			endpoint_fail(ep, ep->write_error);
		}
		/* Control frames are taken first at every refill: once none is
		 * queued or in flight, they are all written. */
		if (ep->failed) {
			break;
		}
		if (wl_list_empty(&ep->control_out) && ep->inflight_count == 0) {
			written = true;
			break;
		}
		uint64_t now = bh_now_usec();
		if (now >= deadline) {
			break;
		}
		struct pollfd pfd = {.fd = ep->fd, .events = POLLOUT};
		if (poll(&pfd, 1, (int)((deadline - now) / 1000u) + 1) < 0 && errno != EINTR) {
			break;
		}
	}
	/* A write that failed told the owner, who may have destroyed the
	 * endpoint meanwhile: that finishes here. */
	if (--ep->dispatch_depth == 0 && ep->destroy_pending) {
		endpoint_finish_destroy(ep);
	}
	return written;
}

size_t bh_endpoint_pending(const struct bh_endpoint *ep)
{
	return ep->pending + (ep->inflight_bytes - ep->woff);
}

void bh_stream_set_handler(struct bh_stream *s, const struct bh_stream_handler *handler,
	void *user)
{
	s->handler = handler;
	s->user = user;
}

uint32_t bh_stream_id(const struct bh_stream *s)
{
	return s->id;
}

enum bh_stream_kind bh_stream_kind(const struct bh_stream *s)
{
	return s->kind;
}

struct bh_endpoint *bh_stream_endpoint(const struct bh_stream *s)
{
	return s->endpoint;
}

/* Queues one DATA frame made of head (hlen bytes) and body, checked
 * against the limits; errno and result as bh_stream_send. */
static bool stream_queue(struct bh_stream *s, const void *head, size_t hlen, const void *body,
	size_t blen, struct bh_borrow *borrow)
{
	struct bh_endpoint *ep = s->endpoint;
	size_t len = hlen + blen;
	if (s->state != STREAM_OPEN || ep->failed) {
		errno = EPIPE;
		return false;
	}
	if (len > FRAME_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return false;
	}
	if (s->out_bytes + len > BH_ENDPOINT_STREAM_QUEUE_MAX ||
		ep->pending + len > MAX_QUEUED_TOTAL) {
		errno = ENOBUFS;
		return false;
	}
	struct out_frame *f = borrow != NULL ?
		frame_new(FRAME_DATA, s->id, head, hlen, NULL, 0) :
		frame_new(FRAME_DATA, s->id, head, hlen, body, blen);
	if (f == NULL) {
		errno = ENOMEM;
		return false;
	}
	if (borrow != NULL) {
		/* The header says the whole length; the body is read at writing. */
		bh_frame_header(f->data, FRAME_DATA, s->id, (uint32_t)len);
		f->len = len;
		f->body = body;
		f->blen = blen;
		f->borrow = borrow;
		borrow->refs++;
	}
	wl_list_insert(s->out.prev, &f->link);
	s->out_bytes += len;
	ep->pending += FRAME_HEADER + len;
	if (!s->in_ready) {
		s->in_ready = true;
		wl_list_insert(ep->ready.prev, &s->out_link);
	}
	endpoint_kick(ep);
	if (s->out_bytes > BH_ENDPOINT_STREAM_HIGH_WATER) {
		s->over_high_water = true;
		errno = EAGAIN;
		return false;
	}
	return true;
}

bool bh_stream_send(struct bh_stream *s, const void *payload, size_t len)
{
	return stream_queue(s, payload, len, NULL, 0, NULL);
}

bool bh_stream_send_parts(
	struct bh_stream *s, const void *head, size_t hlen, const void *body, size_t blen)
{
	return stream_queue(s, head, hlen, body, blen, NULL);
}

bool bh_stream_send_borrowed(struct bh_stream *s, const void *head, size_t hlen, const void *body,
	size_t blen, struct bh_borrow *borrow)
{
	return stream_queue(s, head, hlen, body, blen, blen > 0 ? borrow : NULL);
}

bool bh_stream_send_chunked(struct bh_stream *s, uint8_t type_byte, const void *data, size_t len)
{
	struct bh_endpoint *ep = s->endpoint;
	size_t prefix = type_byte != 0 ? 1 : 0;
	size_t room = FRAME_MAX_PAYLOAD - prefix;
	size_t pieces = len == 0 ? 1 : (len + room - 1) / room;
	if (s->state == STREAM_OPEN && !ep->failed &&
		(s->out_bytes + len + pieces * prefix > BH_ENDPOINT_STREAM_QUEUE_MAX ||
			ep->pending + len + pieces * (prefix + FRAME_HEADER) > MAX_QUEUED_TOTAL)) {
		errno = ENOBUFS;
		return false;
	}
	const uint8_t *p = data;
	bool under = true;
	size_t off = 0;
	do {
		size_t n = len - off > room ? room : len - off;
		/* Each frame is built from the type byte and the slice: no copy
		 * here beyond the frame's own. */
		if (!stream_queue(s, &type_byte, prefix, p + off, n, NULL)) {
			if (errno != EAGAIN) {
				return false;
			}
			under = false;
		}
		off += n;
	} while (off < len);
	if (!under) {
		errno = EAGAIN;
	}
	return under;
}

size_t bh_stream_pending(const struct bh_stream *s)
{
	return s->out_bytes;
}

void bh_stream_set_paused(struct bh_stream *s, bool paused)
{
	if (s->paused == paused) {
		return;
	}
	s->paused = paused;
	if (!paused) {
		send_credit(s);
		endpoint_kick(s->endpoint);
	}
}

/* drop: the stream's content is bad, what was queued goes too. */
static void stream_close(struct bh_stream *s, uint32_t error, const char *reason, bool drop)
{
	struct bh_endpoint *ep = s->endpoint;
	if (s->state != STREAM_OPEN) {
		return;
	}
	stream_unplace(s);
	if (wl_list_empty(&s->out) || ep->failed || drop) {
		if (!ep->failed) {
			send_close_frame(ep, s->id, error, reason);
		}
		s->state = STREAM_CLOSING;
		stream_kill(s, NULL, false);
		endpoint_kick(ep);
		return;
	}
	s->state = STREAM_CLOSING;
	s->close_error = error;
	s->close_reason = reason ? strdup(reason) : NULL;
	endpoint_kick(ep);
}

void bh_stream_close(struct bh_stream *s, const char *reason)
{
	stream_close(s, 0, reason, false);
}

void bh_stream_close_error(struct bh_stream *s, const char *reason)
{
	stream_close(s, 1, reason, false);
}

void bh_stream_fail(struct bh_stream *s, const char *fmt, ...)
{
	if (s->state != STREAM_OPEN) {
		return;
	}
	char reason[256];
	va_list args;
	va_start(args, fmt);
	vsnprintf(reason, sizeof(reason), fmt, args);
	va_end(args);
	bh_log(BH_LOG_WARN, "stream %u (kind %u) ended: %s", s->id, s->kind, reason);
	const struct bh_stream_handler *handler = s->handler;
	void *user = s->user;
	struct bh_endpoint *ep = s->endpoint;
	ep->dispatch_depth++;
	stream_close(s, 1, reason, true);
	if (handler != NULL && handler->closed != NULL) {
		handler->closed(s, reason, user);
	}
	ep->dispatch_depth--;
	if (ep->dispatch_depth == 0) {
		reap_dead(ep);
	}
}

/* ---- message payloads ---- */

void bh_msg_init(struct bh_msg *msg, uint8_t type_byte)
{
	msg->len = 0;
	msg->ok = true;
	if (type_byte != 0) {
		msg->buf[msg->len++] = type_byte;
	}
}

void bh_msg_bytes(struct bh_msg *msg, const void *data, size_t len)
{
	if (!msg->ok || len > FRAME_MAX_PAYLOAD - msg->len) {
		msg->ok = false;
		return;
	}
	if (len) {
		memcpy(msg->buf + msg->len, data, len);
	}
	msg->len += len;
}

void bh_msg_u16(struct bh_msg *msg, uint16_t v)
{
	uint8_t b[2];
	bh_le16_put(b, v);
	bh_msg_bytes(msg, b, 2);
}

void bh_msg_u32(struct bh_msg *msg, uint32_t v)
{
	uint8_t b[4];
	bh_le32_put(b, v);
	bh_msg_bytes(msg, b, 4);
}

void bh_msg_u64(struct bh_msg *msg, uint64_t v)
{
	uint8_t b[8];
	bh_le64_put(b, v);
	bh_msg_bytes(msg, b, 8);
}

void bh_msg_str(struct bh_msg *msg, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	bh_msg_u32(msg, (uint32_t)len);
	bh_msg_bytes(msg, s, len);
}

void bh_msg_reader_init(struct bh_msg_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->ok = true;
}

static const uint8_t *reader_take(struct bh_msg_reader *r, size_t n)
{
	if (!r->ok || r->len < n) {
		r->ok = false;
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += n;
	r->len -= n;
	return p;
}

uint16_t bh_msg_get_u16(struct bh_msg_reader *r)
{
	const uint8_t *p = reader_take(r, 2);
	return p ? bh_le16_get(p) : 0;
}

uint32_t bh_msg_get_u32(struct bh_msg_reader *r)
{
	const uint8_t *p = reader_take(r, 4);
	return p ? bh_le32_get(p) : 0;
}

uint64_t bh_msg_get_u64(struct bh_msg_reader *r)
{
	const uint8_t *p = reader_take(r, 8);
	return p ? bh_le64_get(p) : 0;
}

bool bh_msg_get_bytes(struct bh_msg_reader *r, void *out, size_t len)
{
	const uint8_t *p = reader_take(r, len);
	if (p != NULL) {
		memcpy(out, p, len);
	}
	return p != NULL;
}

char *bh_msg_get_str(struct bh_msg_reader *r, size_t max)
{
	uint32_t len = bh_msg_get_u32(r);
	if (!r->ok || len > max) {
		r->ok = false;
		return NULL;
	}
	const uint8_t *p = reader_take(r, len);
	if (p == NULL || memchr(p, '\0', len) != NULL) {
		r->ok = false;
		return NULL;
	}
	char *s = strndup((const char *)p, len);
	if (s == NULL) {
		r->ok = false;
	}
	return s;
}

bool bh_msg_end(const struct bh_msg_reader *r)
{
	return r->ok && r->len == 0;
}
