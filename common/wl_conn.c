/* Buffered raw Wayland socket I/O with fd passing, shared by both ends of
 * the Wayland relay (the agent's guest clients, the proxy's host
 * connections). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/wl_conn.h"

/* libwayland sends at most 28 fds with one sendmsg; we read with room for
 * more so a burst never truncates the control data. */
#define CMSG_FDS 32

void bh_wl_conn_init(struct bh_wl_conn *conn, int fd)
{
	memset(conn, 0, sizeof(*conn));
	conn->fd = fd;
}

void bh_wl_conn_finish(struct bh_wl_conn *conn)
{
	for (size_t i = 0; i < conn->in_nfds; i++) {
		close(conn->in_fds[i]);
	}
	for (size_t i = 0; i < conn->out_nfds; i++) {
		close(conn->out_fds[i]);
	}
	conn->in_nfds = conn->out_nfds = 0;
	free(conn->out);
	conn->out = NULL;
	conn->out_len = conn->out_head = conn->out_cap = 0;
	if (conn->fd >= 0) {
		close(conn->fd);
		conn->fd = -1;
	}
}

ssize_t bh_wl_conn_read(struct bh_wl_conn *conn)
{
	if (conn->in_len == sizeof(conn->in)) {
		errno = ENOBUFS;
		return -1;
	}
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(CMSG_FDS * sizeof(int))];
	} control;
	struct iovec iov = {
		.iov_base = conn->in + conn->in_len,
		.iov_len = sizeof(conn->in) - conn->in_len,
	};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;
	do {
		n = recvmsg(conn->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return -1;
	}
	bool overflow = (msg.msg_flags & MSG_CTRUNC) != 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *data = CMSG_DATA(c);
		for (size_t i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, data + i * sizeof(int), sizeof(int));
			if (conn->in_nfds < BH_WL_CONN_MAX_FDS) {
				conn->in_fds[conn->in_nfds++] = fd;
			} else {
				close(fd);
				overflow = true;
			}
		}
	}
	if (overflow) {
		errno = EMFILE;
		return -1;
	}
	conn->in_len += (size_t)n;
	return n;
}

/* The size a message header at p says, 0 if no message can have it. */
static uint32_t header_size(const uint8_t *p)
{
	uint32_t word;
	memcpy(&word, p + 4, sizeof(word)); /* Wayland's byte order is the host's */
	uint32_t size = word >> 16;
	return size < 8 || size % 4 != 0 || size > BH_WL_MAX_MESSAGE ? 0 : size;
}

int bh_wl_conn_next(const struct bh_wl_conn *conn)
{
	if (conn->in_len < 8) {
		return 0;
	}
	uint32_t size = header_size(conn->in);
	if (size == 0) {
		return -1;
	}
	return size <= conn->in_len ? (int)size : 0;
}

size_t bh_wl_message_size(const uint8_t *p, size_t len)
{
	if (len < 8) {
		return 0;
	}
	uint32_t size = header_size(p);
	return size <= len ? size : 0;
}

void bh_wl_conn_consume(struct bh_wl_conn *conn, size_t len)
{
	if (len >= conn->in_len) {
		conn->in_len = 0;
		return;
	}
	memmove(conn->in, conn->in + len, conn->in_len - len);
	conn->in_len -= len;
}

int bh_wl_conn_take_fd(struct bh_wl_conn *conn)
{
	if (conn->in_nfds == 0) {
		return -1;
	}
	int fd = conn->in_fds[0];
	conn->in_nfds--;
	memmove(conn->in_fds, conn->in_fds + 1, conn->in_nfds * sizeof(int));
	return fd;
}

bool bh_wl_conn_queue(struct bh_wl_conn *conn, const void *data, size_t len)
{
	if (len > BH_WL_CONN_OUT_MAX - conn->out_len) {
		return false;
	}
	if (conn->out_head + conn->out_len + len > conn->out_cap) {
		if (conn->out_head > 0) {
			memmove(conn->out, conn->out + conn->out_head, conn->out_len);
			conn->out_head = 0;
		}
		if (conn->out_len + len > conn->out_cap) {
			size_t cap = conn->out_cap ? conn->out_cap : 16384;
			while (cap < conn->out_len + len) {
				cap *= 2;
			}
			uint8_t *out = realloc(conn->out, cap);
			if (out == NULL) {
				return false;
			}
			conn->out = out;
			conn->out_cap = cap;
		}
	}
	memcpy(conn->out + conn->out_head + conn->out_len, data, len);
	conn->out_len += len;
	return true;
}

bool bh_wl_conn_queue_fd(struct bh_wl_conn *conn, int fd)
{
	if (conn->out_nfds == BH_WL_CONN_MAX_FDS) {
		close(fd);
		return false;
	}
	conn->out_fd_at[conn->out_nfds] = conn->out_len;
	conn->out_fds[conn->out_nfds++] = fd;
	return true;
}

int bh_wl_conn_flush(struct bh_wl_conn *conn)
{
	while (conn->out_len > 0) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(28 * sizeof(int))];
		} control;
		struct iovec iov = {
			.iov_base = conn->out + conn->out_head,
			.iov_len = conn->out_len,
		};
		struct msghdr msg = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
		};
		/* fds go with the bytes of the message that carries them (or
		 * earlier); the peer's libwayland queues them in order. At most
		 * 28 go at once (libwayland's limit): then the bytes stop
		 * before the message of the first fd left behind, which the
		 * peer would otherwise read without its fd. */
		size_t nfds = conn->out_nfds < 28 ? conn->out_nfds : 28;
		if (conn->out_nfds > 28 && conn->out_fd_at[28] > 0 &&
			conn->out_fd_at[28] < iov.iov_len) {
			iov.iov_len = conn->out_fd_at[28];
		}
		if (nfds > 0) {
			memset(&control, 0, sizeof(control));
			msg.msg_control = control.buf;
			msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
			struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
			memcpy(CMSG_DATA(c), conn->out_fds, nfds * sizeof(int));
		}
		ssize_t n;
		do {
			n = sendmsg(conn->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			return errno == EAGAIN ? 0 : -1;
		}
		for (size_t i = 0; i < nfds; i++) {
			close(conn->out_fds[i]);
		}
		conn->out_nfds -= nfds;
		memmove(conn->out_fds, conn->out_fds + nfds, conn->out_nfds * sizeof(int));
		memmove(conn->out_fd_at, conn->out_fd_at + nfds, conn->out_nfds * sizeof(size_t));
		for (size_t i = 0; i < conn->out_nfds; i++) {
			conn->out_fd_at[i] =
				conn->out_fd_at[i] > (size_t)n ? conn->out_fd_at[i] - (size_t)n : 0;
		}
		conn->out_head += (size_t)n;
		conn->out_len -= (size_t)n;
	}
	conn->out_head = 0;
	return 1;
}

size_t bh_wl_conn_pending(const struct bh_wl_conn *conn)
{
	return conn->out_len;
}
