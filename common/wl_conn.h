/* One raw Wayland connection of the relay, on either end: buffered socket
 * I/O with fd passing and message framing, no parsing. */
#ifndef COMMON_WL_CONN_H
#define COMMON_WL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* libwayland's largest message (WL_MAX_MESSAGE_SIZE in 1.21). */
#define BH_WL_MAX_MESSAGE 4096
#define BH_WL_IN_CAP (4 * BH_WL_MAX_MESSAGE)
/* fds received or queued and waiting for their message. */
#define BH_WL_CONN_MAX_FDS 64
/* Bytes queued towards the socket, at most. */
#define BH_WL_CONN_OUT_MAX (32u << 20)

/* Bytes and fds read but not yet parsed, and bytes and fds waiting to be
 * written. */
struct bh_wl_conn {
	int fd;
	uint8_t in[BH_WL_IN_CAP];
	size_t in_len;
	int in_fds[BH_WL_CONN_MAX_FDS];
	size_t in_nfds;
	uint8_t *out;
	size_t out_head, out_len, out_cap;
	int out_fds[BH_WL_CONN_MAX_FDS];
	/* bytes queued ahead of each fd's message: a write sends no message
	 * whose fd does not go with it or before */
	size_t out_fd_at[BH_WL_CONN_MAX_FDS];
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
/* The size in the header of the message at p (len bytes available), 0 if
 * the header is invalid (as bh_wl_conn_next) or the message is longer
 * than len. For messages that arrive batched in a relay frame. */
size_t bh_wl_message_size(const uint8_t *p, size_t len);
/* Drops len parsed bytes from the start of the input. */
void bh_wl_conn_consume(struct bh_wl_conn *conn, size_t len);
/* Takes the oldest received fd, -1 if none. */
int bh_wl_conn_take_fd(struct bh_wl_conn *conn);
/* Queues bytes and fds to write (the fds are owned by the connection from
 * now on, also on failure). False if the queue would exceed
 * BH_WL_CONN_OUT_MAX or too many fds are waiting. */
bool bh_wl_conn_queue(struct bh_wl_conn *conn, const void *data, size_t len);
bool bh_wl_conn_queue_fd(struct bh_wl_conn *conn, int fd);
/* Writes what the socket takes. Returns 1 when everything is written, 0
 * when some remains (EAGAIN), -1 on error (errno set). */
int bh_wl_conn_flush(struct bh_wl_conn *conn);
/* Bytes waiting to be written. */
size_t bh_wl_conn_pending(const struct bh_wl_conn *conn);

#endif
