/* A channel endpoint on a wl_event_loop: one channel fd, the decoder, the fair
 * writer, the stream table with per-stream handlers and flow control. */
#ifndef COMMON_ENDPOINT_H
#define COMMON_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wl_event_loop;
struct bh_endpoint;
struct bh_stream;

/* Which end of the channel this is: it decides the range stream ids are
 * allocated from (see protocols/CHANNEL.md), so both ends can open streams
 * without ever colliding. */
enum bh_endpoint_side {
	BH_ENDPOINT_HOST,  /* the proxy */
	BH_ENDPOINT_GUEST, /* the agent */
};

/* What a stream carries; sent in its OPEN frame. The receiving side refuses
 * (CLOSE with a reason) kinds it does not serve. */
enum bh_stream_kind {
	BH_STREAM_WAYLAND = 1, /* one guest Wayland client (opened by the guest) */
	BH_STREAM_EXEC = 2,    /* one exec session (opened by the host), CONTROL.md */
	BH_STREAM_PUSH = 3,    /* files host -> guest (opened by the host), CONTROL.md */
	BH_STREAM_PULL = 4,    /* files guest -> host (opened by the host), CONTROL.md */
	BH_STREAM_PIPE = 5,    /* a clipboard/drag-and-drop pipe, either side opens */
};

/* Per-stream callbacks. Every callback gets the user pointer given to
 * bh_endpoint_open_stream / bh_stream_set_handler. */
struct bh_stream_handler {
	/* One DATA frame's payload (len <= BH_ENDPOINT_MAX_PAYLOAD), already
	 * validated by the codec. Message boundaries are kept: what the peer
	 * passed to one bh_stream_send arrives in one call. Return false when
	 * the payload is malformed for this stream: the endpoint then ends only
	 * this stream (CLOSE with the reason given to bh_stream_fail, or a
	 * generic one) and calls closed(). */
	bool (*data)(struct bh_stream *stream, const uint8_t *payload, size_t len, void *user);
	/* The stream is gone: closed by the peer, ended by a stream error, or
	 * the whole channel went away (reason says which). The stream must not
	 * be used after this returns; the endpoint frees it. */
	void (*closed)(struct bh_stream *stream, const char *reason, void *user);
	/* Optional: output pending on this stream dropped below the low-water
	 * mark again after bh_stream_send reported it was over the high one. */
	void (*writable)(struct bh_stream *stream, void *user);
	/* Optional: a large message arriving in pieces may be read straight
	 * into its final place. prefix holds its first BH_CHANNEL_PLACE_PREFIX
	 * bytes of len; return where bytes PREFIX..len-1 go (room for all of
	 * them, valid until the message is complete or the stream ends), and
	 * the message is delivered there instead of through data(); or NULL
	 * to receive it through data() as usual (and report errors there). */
	uint8_t *(*place)(struct bh_stream *stream, const uint8_t *prefix, size_t len, void *user);
};

/* Callbacks of the endpoint's owner (agent or proxy). */
struct bh_endpoint_listener {
	/* A control message (stream 0). type and payload are as the codec
	 * decoded and validated them. Return false to treat it as a channel
	 * error (the endpoint closes the channel with that reason). */
	bool (*control)(struct bh_endpoint *endpoint, uint32_t type, const uint8_t *payload,
		size_t len, void *user);
	/* The peer opened a stream. Accept it by calling bh_stream_set_handler
	 * and returning true; return false to refuse it (CLOSE with reason). */
	bool (*open)(struct bh_endpoint *endpoint, struct bh_stream *stream,
		enum bh_stream_kind kind, void *user);
	/* The channel is gone (peer hung up, I/O error or channel error; reason
	 * is logged already). Every open stream has had closed() called first.
	 * The owner destroys the endpoint (not from inside this callback's
	 * caller's stack: bh_endpoint_destroy is safe to call here). */
	void (*disconnected)(struct bh_endpoint *endpoint, const char *reason, void *user);
};

/* Limits, enforced on both ends; the numbers are in protocols/CHANNEL.md. */
#define BH_ENDPOINT_MAX_STREAMS 1024
/* Bytes queued for writing on one stream before bh_stream_send reports
 * back-pressure (returns false), and the hard cap where it refuses. */
#define BH_ENDPOINT_STREAM_HIGH_WATER (1u << 20)
#define BH_ENDPOINT_STREAM_LOW_WATER (256u << 10)
#define BH_ENDPOINT_STREAM_QUEUE_MAX (16u << 20)

/* Takes ownership of fd (a connected channel: socket or serial port); it is
 * made non-blocking. Returns NULL (fd closed) on allocation failure. */
struct bh_endpoint *bh_endpoint_create(struct wl_event_loop *loop, int fd,
	enum bh_endpoint_side side, const struct bh_endpoint_listener *listener, void *user);
/* Closes the fd; every open stream gets closed("endpoint destroyed").
 * Accepts NULL. Safe to call from any callback of this endpoint. */
void bh_endpoint_destroy(struct bh_endpoint *endpoint);
/* Unix channels only. The host's shared region (common/region.h) travels
 * with the next bytes written: send_fd takes fd (closed once sent or when
 * the endpoint goes). accept_fds makes reads take fds, of which the first
 * is kept for take_fd (-1 when none came) and any other closed. */
void bh_endpoint_send_fd(struct bh_endpoint *endpoint, int fd);
void bh_endpoint_accept_fds(struct bh_endpoint *endpoint);
int bh_endpoint_take_fd(struct bh_endpoint *endpoint);

/* Largest payload of one message (one frame) on any stream. */
size_t bh_endpoint_max_payload(void);

/* Sends one control message on stream 0. Returns false if the channel is
 * closing or the message is too large. */
bool bh_endpoint_send_control(struct bh_endpoint *endpoint, uint32_t type, const void *payload,
	size_t len);

/* Opens a stream of kind towards the peer (OPEN frame) with a fresh id from
 * this side's range. NULL if the stream cap is reached or the channel is
 * closing. */
struct bh_stream *bh_endpoint_open_stream(struct bh_endpoint *endpoint, enum bh_stream_kind kind,
	const struct bh_stream_handler *handler, void *user);

/* Closes the channel with a reason (logged), as on a channel error: every
 * stream's closed() runs, then the listener's disconnected(). */
void bh_endpoint_fail(struct bh_endpoint *endpoint, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Queued output bytes of the whole channel (for tests and limits). */
size_t bh_endpoint_pending(const struct bh_endpoint *endpoint);
/* Writes until every control message queued so far is out (they go ahead
 * of stream data), waiting at most timeout_ms for the channel; true when
 * they are. For last words before the process ends. When the write fails,
 * the listener's disconnected() runs first; an endpoint it destroys there
 * is freed before this returns. */
bool bh_endpoint_flush_control(struct bh_endpoint *endpoint, int timeout_ms);

void bh_stream_set_handler(struct bh_stream *stream, const struct bh_stream_handler *handler,
	void *user);
uint32_t bh_stream_id(const struct bh_stream *stream);
enum bh_stream_kind bh_stream_kind(const struct bh_stream *stream);
struct bh_endpoint *bh_stream_endpoint(const struct bh_stream *stream);

/* Queues one message (len <= bh_endpoint_max_payload(); larger data is the
 * caller's to split). Returns true when queued and the stream is under its
 * high-water mark; false when it is over it (the message IS queued; wait for
 * writable()) -- or, with errno set to EMSGSIZE/ENOBUFS/EPIPE, when it was
 * refused (too large, over BH_ENDPOINT_STREAM_QUEUE_MAX, stream closed). */
bool bh_stream_send(struct bh_stream *stream, const void *payload, size_t len);
/* The same for one message made of a head and a body (hlen + blen bytes),
 * without joining them first: the body is copied once, into the frame. */
bool bh_stream_send_parts(struct bh_stream *stream, const void *head, size_t hlen,
	const void *body, size_t blen);
/* Memory a queued message may point into instead of being copied: its
 * owner keeps it readable (mapped) until the last reference is dropped,
 * then done() runs. The owner holds one reference (refs starts at 1);
 * each frame that borrows holds one more until it is written or dropped.
 * When the memory could not be read as it was written (the file under a
 * mapping shrank), zeros went in its place and faulted is set, and so is
 * *also_faulted when the owner gave one: an owner that has moved on to
 * another borrow since (a pool remapped larger) still hears of it. */
struct bh_borrow {
	unsigned refs;
	bool faulted;
	bool *also_faulted;
	void (*done)(struct bh_borrow *borrow);
};
void bh_borrow_unref(struct bh_borrow *borrow);
/* As bh_stream_send_parts, but the body is not copied: it is read from
 * where it is when the frame goes out, under a reference on borrow. */
bool bh_stream_send_borrowed(struct bh_stream *stream, const void *head, size_t hlen,
	const void *body, size_t blen, struct bh_borrow *borrow);
/* Sends len bytes of any size as messages of at most the payload limit,
 * each starting with type_byte (0 = none), so a large transfer never holds
 * the channel: the writer sends one frame per busy stream in turn. The
 * whole length is checked against the queue caps first, so either every
 * piece is queued or none (errno ENOBUFS). Returns as bh_stream_send. */
bool bh_stream_send_chunked(struct bh_stream *stream, uint8_t type_byte, const void *data,
	size_t len);
/* Bytes queued for writing on this stream. */
size_t bh_stream_pending(const struct bh_stream *stream);

/* Input flow control: while paused the endpoint grants the peer no more
 * credit for this stream, so the peer stops sending once its window is
 * used; use it when the consumer (e.g. the compositor socket) is slow.
 * Unpausing grants the credit held back. */
void bh_stream_set_paused(struct bh_stream *stream, bool paused);

/* Closes the stream: queued output is flushed, then a CLOSE frame carries
 * reason (NULL = normal end). handler->closed is NOT called for a close
 * the owner asked for; the stream must not be used afterwards. */
void bh_stream_close(struct bh_stream *stream, const char *reason);
/* The same, as a failure the peer is told of: after the queued output, the
 * CLOSE carries an error and reason, which the peer's closed() receives
 * (a normal close reaches it without one). For passing on another
 * stream's failure, or refusing a stream the peer opened. */
void bh_stream_close_error(struct bh_stream *stream, const char *reason);
/* Ends the stream as a stream error: logs and sends the reason, then calls
 * handler->closed. Use from inside data() before returning false, or any
 * time the stream's content is found invalid. */
void bh_stream_fail(struct bh_stream *stream, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Building and reading message payloads (little-endian). A reader that
 * runs past the end or finds a bad string sets ok = false and returns zeros,
 * so a parser checks ok once at the end (and bh_msg_end for leftovers). */
struct bh_msg {
	uint8_t buf[64 * 1024];
	size_t len;
	bool ok; /* false once something did not fit */
};
void bh_msg_init(struct bh_msg *msg, uint8_t type_byte); /* type_byte 0 = none */
void bh_msg_u16(struct bh_msg *msg, uint16_t v);
void bh_msg_u32(struct bh_msg *msg, uint32_t v);
void bh_msg_u64(struct bh_msg *msg, uint64_t v);
void bh_msg_str(struct bh_msg *msg, const char *s); /* NULL = "" */
void bh_msg_bytes(struct bh_msg *msg, const void *data, size_t len);

struct bh_msg_reader {
	const uint8_t *p;
	size_t len;
	bool ok;
};
void bh_msg_reader_init(struct bh_msg_reader *r, const uint8_t *p, size_t len);
uint16_t bh_msg_get_u16(struct bh_msg_reader *r);
uint32_t bh_msg_get_u32(struct bh_msg_reader *r);
uint64_t bh_msg_get_u64(struct bh_msg_reader *r);
/* len raw bytes into out; false (and not ok) when fewer are left. */
bool bh_msg_get_bytes(struct bh_msg_reader *r, void *out, size_t len);
/* A string of at most max bytes without NUL, copied into a new allocation
 * (NULL and ok = false when invalid). */
char *bh_msg_get_str(struct bh_msg_reader *r, size_t max);
/* True if the reader is ok and consumed everything. */
bool bh_msg_end(const struct bh_msg_reader *r);

/*
 * Control messages (stream 0), until the codec defines them: the type is the
 * one given to bh_endpoint_send_control; strings are u32 length + bytes (no
 * NUL); layouts in protocols/CONTROL.md.
 */
enum bh_control_msg {
	BH_CTL_HELLO = 1,     /* u32 version, u32 caps, u32 n, n x (string step, u64 usec) */
	BH_CTL_APP = 2,       /* string id, string name, string exec, string icon ("" = none) */
	BH_CTL_APPS_DONE = 3, /* empty: the app list is complete */
	BH_CTL_LAUNCH = 4,    /* u32 request, string command */
	BH_CTL_LAUNCHED = 5,  /* u32 request, i32 pid (-1 = failed), string error */
	BH_CTL_PING = 6,      /* u64 cookie */
	BH_CTL_PONG = 7,      /* u64 cookie */
	BH_CTL_BYE = 8,       /* empty: the agent is being stopped (the guest shuts down) */
	/* host -> agent, after both hellos said BH_CAP_REGION: u64 size, 16 bytes
	 * token, as the region's header holds them (common/region.h) */
	BH_CTL_REGION = 9,
	/* agent -> host: u32 used (1: new clients' buffers go through the
	 * region; 0: through the channel), string why not ("" when used) */
	BH_CTL_REGION_STATUS = 10,
	/* host -> agent, after a BH_CTL_REGION_STATUS that said used, when both
	 * hellos said BH_CAP_GUEST_RAM: 16 bytes token, u64 low, u64 high (bytes
	 * of guest memory the host reads below and above 4 GiB) */
	BH_CTL_GUEST_RAM = 11,
	/* agent -> host: u64 physical address of a page that starts with the
	 * token (BH_GUEST_RAM_NONE: none), string why not ("" when one) */
	BH_CTL_GUEST_RAM_PROBE = 12,
	/* host -> agent, empty: the host read the token there; from now on the
	 * agent may name guest memory in BH_RELAY_SHM_GPA frames */
	BH_CTL_GUEST_RAM_ON = 13,
};
#define BH_GUEST_RAM_NONE UINT64_MAX
#define BH_CONTROL_VERSION 1
#define BH_CAP_WAYLAND 1u
#define BH_CAP_EXEC 2u
#define BH_CAP_FILES 4u
#define BH_CAP_PTY 8u
/* From the host: compress buffer data with LZ4 (the tag's compress = lz4);
 * from the agent: it can. */
#define BH_CAP_LZ4 16u
/* From the host: it has a shared region for this tag (BH_CTL_REGION
 * follows the hellos); from the agent: it can use one. */
#define BH_CAP_REGION 32u
/* From the host: X11 apps run in this tag (its xwayland = on, the
 * default); from the agent: it can run Xwayland for them. */
#define BH_CAP_X11 64u
/* From the host: it can read this VM's memory (a local VM whose memory is
 * a shared memfd), so it can copy buffers from there into the region;
 * from the agent: it can name the physical pages of a buffer. */
#define BH_CAP_GUEST_RAM 128u

/*
 * Session streams (exec, push, pull): every message starts with one type
 * byte; integers are little-endian. The layouts are in protocols/CONTROL.md;
 * the same messages run between bulkheadctl and the proxy (control socket)
 * and between the proxy and the agent (channel).
 */
enum bh_session_msg {
	/* exec, host -> guest */
	BH_EXEC_START = 1,  /* u32 flags, u16 rows, u16 cols, u32 argc, argc x (u32 len, bytes) */
	BH_EXEC_STDIN = 2,  /* bytes */
	BH_EXEC_EOF = 3,    /* stdin ended */
	BH_EXEC_SIGNAL = 4, /* u32 signal number (1..64) */
	BH_EXEC_RESIZE = 5, /* u16 rows, u16 cols (pty sessions) */
	/* exec, guest -> host */
	BH_EXEC_STDOUT = 16, /* bytes */
	BH_EXEC_STDERR = 17, /* bytes */
	BH_EXEC_EXIT = 18,   /* u32 how (0 exited, 1 killed by signal), u32 code */
	BH_EXEC_ERROR = 19,  /* utf-8 text: the command could not be started */
	/* push/pull archive entries, either direction (CONTROL.md "Archives") */
	BH_FILE_START = 32,  /* u32 len, path: destination (push) or source (pull) */
	BH_FILE_DIR = 33,    /* u32 mode, i64 mtime_sec, u32 mtime_nsec, u32 len, path */
	BH_FILE_REG = 34,    /* u32 mode, i64 mtime_sec, u32 mtime_nsec, u64 size, u32 len, path */
	BH_FILE_DATA = 35,   /* bytes of the current regular file */
	BH_FILE_END = 36,    /* end of the archive */
	BH_FILE_DONE = 37,   /* receiver: everything written */
	BH_FILE_ERROR = 38,  /* utf-8 text */
	BH_FILE_SYMLINK = 39, /* i64 mtime_sec, u32 mtime_nsec, string target, string path */
};
#define BH_EXEC_FLAG_PTY 1u


#endif
