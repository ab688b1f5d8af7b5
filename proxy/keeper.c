/* The proxy's keeper: a process forked before anything is connected that
 * does, for one tag, what the sandboxed proxy may not (see sandbox.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/transport.h"
#include "proxy/sandbox.h"

/* Requests are one message each on a SOCK_SEQPACKET pair: a type byte and
 * a text. Replies: an ok byte, a value byte, a text; CONNECT's carries
 * the channel fd. */
enum keeper_request {
	KEEPER_SET_CHANNEL = 1,
	KEEPER_SET_VM,
	KEEPER_SET_CONTROL_SOCKET,
	KEEPER_SEAL,
	KEEPER_CONNECT,
	KEEPER_VM_STATE,
	KEEPER_VM_STOP,
};

#define KEEPER_MESSAGE_MAX 8192
#define KEEPER_FD 3
#define STOP_TIMEOUT_SEC 10

struct bh_keeper {
	int fd;
	pid_t pid;
};

/* ---- the keeper process ---- */

struct keeper {
	int fd;
	const char *tag;
	char *channel;
	char *uri;
	struct bh_vm *vm;
	char *control_path;
	dev_t control_dev;
	ino_t control_ino;
	bool sealed;
};

static void keeper_reply(struct keeper *k, bool ok, uint8_t value, const char *text, int fd)
{
	uint8_t buf[KEEPER_MESSAGE_MAX];
	size_t len = text != NULL ? strnlen(text, sizeof(buf) - 2) : 0;
	buf[0] = ok;
	buf[1] = value;
	if (len > 0) {
		memcpy(buf + 2, text, len);
	}
	struct iovec iov = {.iov_base = buf, .iov_len = len + 2};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	while (sendmsg(k->fd, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR) {
	}
}

static bool keeper_vm(struct keeper *k, char error[BH_VM_ERROR_SIZE])
{
	if (k->uri == NULL) {
		snprintf(error, BH_VM_ERROR_SIZE, "tag %s: its proxy did not start a VM", k->tag);
		return false;
	}
	if (k->vm == NULL) {
		k->vm = bh_vm_connect(k->uri, error);
	}
	return k->vm != NULL;
}

static void keeper_connect(struct keeper *k)
{
	char err[512];
	struct bh_address addr;
	if (k->channel == NULL) {
		keeper_reply(k, false, 0, "the proxy set no channel address", -1);
		return;
	}
	if (!bh_address_parse(k->channel, &addr, err, sizeof(err))) {
		keeper_reply(k, false, 0, err, -1);
		return;
	}
	int fd;
	if (addr.kind == BH_ADDRESS_LIBVIRT) {
		/* A VM elsewhere: the channel is a stream of the tag's own
		 * libvirt connection, pumped here, outside the sandbox. */
		char error[BH_VM_ERROR_SIZE];
		if (!keeper_vm(k, error)) {
			keeper_reply(k, false, 0, error, -1);
			return;
		}
		fd = bh_vm_open_channel(k->vm, k->tag, addr.path, err, sizeof(err));
		if (fd < 0) {
			/* The connection may be what failed: a fresh one next time. */
			bh_vm_disconnect(k->vm);
			k->vm = NULL;
		}
	} else {
		fd = bh_transport_connect(&addr, err, sizeof(err));
	}
	if (fd < 0) {
		keeper_reply(k, false, 0, err, -1);
		return;
	}
	keeper_reply(k, true, 0, NULL, fd);
	close(fd);
}

/* Set-up comes from the proxy before it takes any guest data; after the
 * seal a request to change it can only come from a proxy taken over. */
static bool keeper_set_up(struct keeper *k, enum keeper_request type, const char *text)
{
	if (k->sealed) {
		bh_log(BH_LOG_ERROR,
			"tag %s: the sandboxed proxy asked its keeper to change what it acts on; "
			"refused (this is a bug or an attack)",
			k->tag);
		return false;
	}
	char **field = type == KEEPER_SET_CHANNEL ? &k->channel
		       : type == KEEPER_SET_VM    ? &k->uri
						  : &k->control_path;
	free(*field);
	*field = strdup(text);
	if (*field == NULL) {
		return false;
	}
	if (type == KEEPER_SET_CONTROL_SOCKET) {
		/* Only this very socket is removed at the end, never one a
		 * newer proxy of the tag has bound at the same path. */
		struct stat st;
		if (lstat(text, &st) != 0 || !S_ISSOCK(st.st_mode)) {
			free(k->control_path);
			k->control_path = NULL;
			return false;
		}
		k->control_dev = st.st_dev;
		k->control_ino = st.st_ino;
	}
	return true;
}

static void keeper_handle(struct keeper *k, const uint8_t *req, size_t len)
{
	char text[KEEPER_MESSAGE_MAX];
	memcpy(text, req + 1, len - 1);
	text[len - 1] = '\0';
	char error[BH_VM_ERROR_SIZE] = "";
	switch ((enum keeper_request)req[0]) {
	case KEEPER_SET_CHANNEL:
	case KEEPER_SET_VM:
	case KEEPER_SET_CONTROL_SOCKET:
		keeper_reply(
			k, strlen(text) == len - 1 && keeper_set_up(k, req[0], text), 0, NULL, -1);
		return;
	case KEEPER_SEAL:
		k->sealed = true;
		keeper_reply(k, true, 0, NULL, -1);
		return;
	case KEEPER_CONNECT:
		keeper_connect(k);
		return;
	case KEEPER_VM_STATE: {
		struct bh_vm_status st;
		if (!keeper_vm(k, error) || !bh_vm_status(k->vm, k->tag, &st, error)) {
			/* libvirt may have restarted: connect afresh next time. */
			bh_vm_disconnect(k->vm);
			k->vm = NULL;
			keeper_reply(k, false, 0, error, -1);
			return;
		}
		keeper_reply(k, true, (uint8_t)st.state, NULL, -1);
		return;
	}
	case KEEPER_VM_STOP: {
		bool ok = keeper_vm(k, error) &&
			  bh_vm_stop(k->vm, k->tag, false, STOP_TIMEOUT_SEC, error);
		keeper_reply(k, ok, 0, error, -1);
		return;
	}
	}
	keeper_reply(k, false, 0, "unknown keeper request", -1);
}

static void keeper_finish(struct keeper *k)
{
	struct stat st;
	if (k->control_path != NULL && lstat(k->control_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		st.st_dev == k->control_dev && st.st_ino == k->control_ino) {
		unlink(k->control_path);
	}
	bh_vm_disconnect(k->vm);
}

static void close_other_fds(int keep)
{
	/* Nothing of the proxy stays open here: above all not its compositor
	 * connection, whose end must come with the proxy's. */
	if (keep != KEEPER_FD) {
		dup2(keep, KEEPER_FD);
		close(keep);
	}
	if (close_range(KEEPER_FD + 1, ~0U, 0) != 0) {
		long max = sysconf(_SC_OPEN_MAX);
		for (int fd = KEEPER_FD + 1; fd < (max > 0 ? max : 4096); fd++) {
			close(fd);
		}
	}
}

static _Noreturn void keeper_main(int fd, const char *tag)
{
	close_other_fds(fd);
	/* It outlives a signal to the proxy's process group, to clean up
	 * after the proxy; the end of the proxy ends it. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, "bulkhead-keeper");
	struct keeper k = {.fd = KEEPER_FD, .tag = tag};
	for (;;) {
		uint8_t req[KEEPER_MESSAGE_MAX];
		ssize_t n = recv(k.fd, req, sizeof(req), 0);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		keeper_handle(&k, req, (size_t)n);
	}
	keeper_finish(&k);
	_exit(EXIT_SUCCESS);
}

/* ---- the proxy's side ---- */

struct bh_keeper *bh_keeper_start(const char *tag)
{
	struct bh_keeper *keeper = calloc(1, sizeof(*keeper));
	int sv[2];
	if (keeper == NULL || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		bh_log_errno(BH_LOG_ERROR, "tag %s: cannot make the proxy's keeper", tag);
		free(keeper);
		return NULL;
	}
	pid_t pid = fork();
	if (pid < 0) {
		bh_log_errno(BH_LOG_ERROR, "tag %s: cannot start the proxy's keeper", tag);
		close(sv[0]);
		close(sv[1]);
		free(keeper);
		return NULL;
	}
	if (pid == 0) {
		close(sv[0]);
		keeper_main(sv[1], tag);
	}
	close(sv[1]);
	keeper->fd = sv[0];
	keeper->pid = pid;
	return keeper;
}

void bh_keeper_destroy(struct bh_keeper *keeper)
{
	if (keeper == NULL) {
		return;
	}
	close(keeper->fd);
	free(keeper);
}

/* One request and its reply; text (NUL-ended) gets the reply's text. */
static bool keeper_call(struct bh_keeper *keeper, enum keeper_request type, const char *arg,
	uint8_t *value, char *text, size_t text_size, int *fd_out)
{
	uint8_t buf[KEEPER_MESSAGE_MAX];
	size_t len = arg != NULL ? strlen(arg) : 0;
	if (len + 1 > sizeof(buf)) {
		snprintf(text, text_size, "the keeper request is too long");
		return false;
	}
	buf[0] = (uint8_t)type;
	memcpy(buf + 1, arg != NULL ? arg : "", len);
	ssize_t n;
	while ((n = send(keeper->fd, buf, len + 1, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
	}
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr msg = {.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf)};
	if (n == (ssize_t)len + 1) {
		while ((n = recvmsg(keeper->fd, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
		}
	}
	if (n < 2) {
		snprintf(text, text_size, "the proxy's keeper is gone");
		return false;
	}
	int fd = -1;
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
		cmsg->cmsg_len == CMSG_LEN(sizeof(int))) {
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	}
	if (fd_out != NULL) {
		*fd_out = fd;
	} else if (fd >= 0) {
		close(fd);
	}
	if (value != NULL) {
		*value = buf[1];
	}
	size_t tlen = (size_t)n - 2 < text_size - 1 ? (size_t)n - 2 : text_size - 1;
	memcpy(text, buf + 2, tlen);
	text[tlen] = '\0';
	return buf[0] != 0;
}

static bool keeper_set(struct bh_keeper *keeper, enum keeper_request type, const char *arg)
{
	char text[256];
	return keeper_call(keeper, type, arg, NULL, text, sizeof(text), NULL);
}

bool bh_keeper_set_channel(struct bh_keeper *keeper, const char *address)
{
	return keeper_set(keeper, KEEPER_SET_CHANNEL, address);
}

bool bh_keeper_set_vm(struct bh_keeper *keeper, const char *uri)
{
	return keeper_set(keeper, KEEPER_SET_VM, uri);
}

bool bh_keeper_set_control_socket(struct bh_keeper *keeper, const char *path)
{
	return keeper_set(keeper, KEEPER_SET_CONTROL_SOCKET, path);
}

bool bh_keeper_seal(struct bh_keeper *keeper)
{
	return keeper_set(keeper, KEEPER_SEAL, NULL);
}

int bh_keeper_connect(struct bh_keeper *keeper, char *err, size_t err_size)
{
	int fd = -1;
	if (!keeper_call(keeper, KEEPER_CONNECT, NULL, NULL, err, err_size, &fd)) {
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	if (fd < 0) {
		snprintf(err, err_size, "the proxy's keeper sent no channel");
	}
	return fd;
}

bool bh_keeper_vm_state(struct bh_keeper *keeper, enum bh_vm_state *state,
	char error[BH_VM_ERROR_SIZE])
{
	uint8_t value;
	if (!keeper_call(keeper, KEEPER_VM_STATE, NULL, &value, error, BH_VM_ERROR_SIZE, NULL)) {
		bh_log(BH_LOG_DEBUG, "the VM's state is unknown: %s", error);
		return false;
	}
	*state = (enum bh_vm_state)value;
	return true;
}

bool bh_keeper_vm_stop(struct bh_keeper *keeper, char error[BH_VM_ERROR_SIZE])
{
	return keeper_call(keeper, KEEPER_VM_STOP, NULL, NULL, error, BH_VM_ERROR_SIZE, NULL);
}
