/* What both ends of the Wayland relay share: the relay frames carried on a
 * BH_STREAM_WAYLAND stream (protocols/CHANNEL.md "Wayland relay frames"),
 * the relay's limits, and buffered raw Wayland socket I/O with fd passing. */
#ifndef COMMON_WL_RELAY_H
#define COMMON_WL_RELAY_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Every DATA payload on a Wayland stream starts with one of these type
 * bytes. Integers are little-endian. File descriptors never cross the
 * channel: each fd a Wayland message carries is replaced by a frame sent
 * just before the message that says what the receiver must put in its place
 * (in order: the n-th fd frame is the n-th fd of the messages that follow).
 */
enum bh_relay_frame {
	/* Either way: one or more whole Wayland messages, fds removed. */
	BH_RELAY_WL = 1,
	/* guest -> host: u32 pool, u64 size. The next fd is a new shm pool of
	 * that size; pool is the agent's number for it (never reused on the
	 * stream), used by BH_RELAY_SHM_DATA. */
	BH_RELAY_FD_SHM = 2,
	/* guest -> host: u32 pool, u64 offset, bytes: new contents of that
	 * range of the pool, sent before the commit that shows them. */
	BH_RELAY_SHM_DATA = 3,
	/* host -> guest: u32 size. The next fd is a sealed memfd holding size
	 * bytes, which follow in BH_RELAY_FD_FILE_DATA frames (keymaps). */
	BH_RELAY_FD_FILE = 4,
	/* host -> guest: bytes of the file announced by BH_RELAY_FD_FILE. */
	BH_RELAY_FD_FILE_DATA = 5,
	/* Either way: u32 stream. The next fd is the write end of a pipe; the
	 * sender opened BH_STREAM_PIPE stream `stream` and writes what arrives
	 * on it into the real fd; the receiver makes a pipe, passes its write
	 * end on, and sends what it reads from the read end on that stream. */
	BH_RELAY_FD_PIPE = 6,
	/* guest -> host: u32 pool number, u64 offset, u32 length, then that
	 * many bytes of the pool compressed with LZ4 (block format). Sent
	 * instead of BH_RELAY_SHM_DATA only when the host asked for it at
	 * hello; length is at most the channel's payload limit. */
	BH_RELAY_SHM_LZ4 = 7,
};

/* Limits (protocols/ALLOWLIST.md "Limits"). */
#define BH_RELAY_MAX_POOL_SIZE (1024u << 20)    /* one wl_shm pool (foot maps 512 MiB) */
#define BH_RELAY_MAX_POOL_TOTAL (2048ull << 20) /* all pools of one client */
#define BH_RELAY_MAX_POOLS 256                  /* live pools of one client */
#define BH_RELAY_MAX_FILE_SIZE (1u << 20)       /* a keymap */
#define BH_RELAY_MAX_PENDING_PIPES 16           /* pipe streams not yet claimed */
#define BH_RELAY_MAX_FDS 64                     /* fds waiting for their message */
/* Bytes queued towards one Wayland socket: over HIGH the relay stops
 * reading the other side (channel credit), over MAX the client is ended. */
#define BH_RELAY_OUT_HIGH (1u << 20)
#define BH_RELAY_OUT_MAX (32u << 20)

/* libwayland's largest message (WL_MAX_MESSAGE_SIZE in 1.21). */
#define BH_WL_MAX_MESSAGE 4096
#define BH_WL_IN_CAP (4 * BH_WL_MAX_MESSAGE)

/* One raw Wayland connection: bytes and fds read but not yet parsed, and
 * bytes and fds waiting to be written. */
struct bh_wl_conn {
	int fd;
	uint8_t in[BH_WL_IN_CAP];
	size_t in_len;
	int in_fds[BH_RELAY_MAX_FDS];
	size_t in_nfds;
	uint8_t *out;
	size_t out_head, out_len, out_cap;
	int out_fds[BH_RELAY_MAX_FDS];
	size_t out_nfds;
};

void bh_wl_conn_init(struct bh_wl_conn *conn, int fd);
/* Closes the socket and every fd still held. */
void bh_wl_conn_finish(struct bh_wl_conn *conn);
/* Reads what the socket has. Returns > 0 bytes read, 0 at end of file, -1
 * with errno (EAGAIN: nothing now; EMFILE: too many fds pending; ENOBUFS:
 * input buffer full). */
ssize_t bh_wl_conn_read(struct bh_wl_conn *conn);
/* Length of the complete message at the start of the input, 0 if it is not
 * all there yet, -1 if its header is invalid (size < 8, not a multiple of
 * 4, or over BH_WL_MAX_MESSAGE). */
int bh_wl_conn_next(const struct bh_wl_conn *conn);
/* Drops len parsed bytes from the start of the input. */
void bh_wl_conn_consume(struct bh_wl_conn *conn, size_t len);
/* Takes the oldest received fd, -1 if none. */
int bh_wl_conn_take_fd(struct bh_wl_conn *conn);
/* Queues bytes and fds to write (the fds are owned by the connection from
 * now on, also on failure). False if the queue would exceed
 * BH_RELAY_OUT_MAX or too many fds are waiting. */
bool bh_wl_conn_queue(struct bh_wl_conn *conn, const void *data, size_t len);
bool bh_wl_conn_queue_fd(struct bh_wl_conn *conn, int fd);
/* Writes what the socket takes. Returns 1 when everything is written, 0
 * when some remains (EAGAIN), -1 on error (errno set). */
int bh_wl_conn_flush(struct bh_wl_conn *conn);
/* Bytes waiting to be written. */
size_t bh_wl_conn_pending(const struct bh_wl_conn *conn);

/*
 * Message parsing for the relay: the generic table-driven layer
 * (common/wl_msg.h) plus what the relay's handlers need to see of a
 * message. One bh_relay_wire per relayed connection; both directions go
 * through it so object ids created on either side are known.
 */
enum bh_relay_dir {
	BH_RELAY_REQUEST, /* client -> compositor */
	BH_RELAY_EVENT,   /* compositor -> client */
};
#define BH_RELAY_MAX_ARGS 20
struct bh_relay_msg {
	uint32_t object;
	uint32_t opcode;
	const char *interface; /* interface name of object */
	const char *name;      /* message name */
	uint32_t nfds;
	/* Arguments in signature order (an untyped new_id is spelled "sun" by
	 * the scanner: interface string, version, id; an fd counts as one,
	 * value 0): the word of integers, objects and new_ids; for strings a
	 * pointer into the message (NUL-terminated, validated) in str[i]. */
	uint32_t nargs;
	uint32_t args[BH_RELAY_MAX_ARGS];
	const char *str[BH_RELAY_MAX_ARGS];
};
struct bh_relay_wire {
	struct bh_wl_objects *objects;
};
bool bh_relay_wire_init(struct bh_relay_wire *wire);
void bh_relay_wire_finish(struct bh_relay_wire *wire);
/* Validates one whole message (size from its header) against the object
 * table and the interface tables, applies its object creations and
 * destructions, and describes it in msg. False with a reason in err. */
bool bh_relay_wire_parse(struct bh_relay_wire *wire, enum bh_relay_dir dir, const uint8_t *data,
	size_t size, struct bh_relay_msg *msg, char *err, size_t err_size);
/* The version of the interface table the relay parses name with, 0 if it
 * has none. */
uint32_t bh_relay_wire_interface_version(const char *name);

/*
 * Pipes bridged as BH_STREAM_PIPE streams (BH_RELAY_FD_PIPE). The side that
 * holds the real fd (the write end an app gave it) opens the stream and
 * writes what arrives into the fd (sink); the other side makes a pipe,
 * hands its write end on and sends what it reads (source). The stream's
 * OPEN and the FD_PIPE frame may arrive in either order.
 */
struct wl_event_loop;
struct bh_endpoint;
struct bh_stream;
struct bh_relay_pipes;
struct bh_relay_pipes *bh_relay_pipes_create(struct wl_event_loop *loop);
void bh_relay_pipes_destroy(struct bh_relay_pipes *pipes);
/* Sink: takes fd; opens the stream and returns its id. */
bool bh_relay_pipe_sink_open(
	struct bh_relay_pipes *pipes, struct bh_endpoint *endpoint, int fd, uint32_t *stream_id);
/* Source, FD_PIPE(id) arrived: the write end to hand on, -1 if refused. */
int bh_relay_pipe_claim(struct bh_relay_pipes *pipes, struct bh_endpoint *endpoint, uint32_t id);
/* Source, the peer opened a pipe stream: false to refuse it. */
bool bh_relay_pipe_accept(struct bh_relay_pipes *pipes, struct bh_stream *stream);

/* After bh_stream_send returned false: true if the frame was refused
 * (errno EMSGSIZE, ENOBUFS or EPIPE), false if it was queued over the
 * stream's high-water mark. */
static inline bool bh_relay_send_refused(int err)
{
	return err == EMSGSIZE || err == ENOBUFS || err == EPIPE;
}

/* A memfd of size bytes (zeros; the caller writes the contents and may add
 * seals), or -1 with errno. */
int bh_relay_memfd(const char *name, size_t size);

#endif
