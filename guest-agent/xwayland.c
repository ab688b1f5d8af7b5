/* The guest's X server. The agent holds the display (its lock file and its
 * two listening sockets, the abstract one and /tmp/.X11-unix/XN) and hands
 * them to `Xwayland -rootless -listenfd` when the first X client knocks;
 * Xwayland reaches Wayland through a socketpair the relay adopts as one of
 * its clients (WAYLAND_SOCKET) and the window manager (xwm.c) through
 * another (-wm). When Xwayland ends, the display waits for the next client. */
#include <errno.h>
#include <fcntl.h>
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

#include "common/log.h"
#include "common/util.h"
#include "guest-agent/agent.h"
#include "guest-agent/relay_guest.h"
#include "guest-agent/xwayland.h"
#include "guest-agent/xwm.h"

#define SOCKET_DIR "/tmp/.X11-unix"
#define MAX_DISPLAY 64

struct bh_xwayland {
	struct bh_agent *agent;
	struct bh_relay_guest *relay;
	struct wl_event_loop *loop;
	bool enabled;
	int display; /* -1 = none held */
	char name[16];
	char lock_path[64], socket_path[64];
	int listen_fd[2]; /* abstract, filesystem */
	struct wl_event_source *listen_source[2];
	bool missing_logged;
	/* the running server */
	pid_t pid;
	struct bh_xwm *xwm;
	int wm_fd;
	int ready_fd; /* -displayfd's read end */
	struct wl_event_source *ready_source;
	unsigned starts;
};

static void server_stop(struct bh_xwayland *xw);

/* ---- the display ---- */

static int listen_unix(const char *path, bool abstract)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	if (len + 2 > sizeof(addr.sun_path)) {
		return -1;
	}
	memcpy(addr.sun_path + (abstract ? 1 : 0), path, len);
	socklen_t size =
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (abstract ? 1 : 0));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -1;
	}
	if (!abstract) {
		unlink(path); /* we hold the display's lock: a stale socket */
	}
	if (bind(fd, (struct sockaddr *)&addr, size) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -1;
	}
	if (!abstract) {
		chmod(path, 0777); /* any guest process may be an X client */
	}
	return fd;
}

/* Takes /tmp/.XN-lock for display n (a stale one's owner is gone). */
static bool lock_display(struct bh_xwayland *xw, int n)
{
	snprintf(xw->lock_path, sizeof(xw->lock_path), "/tmp/.X%d-lock", n);
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(xw->lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		if (fd >= 0) {
			char pid[16];
			int len = snprintf(pid, sizeof(pid), "%10d\n", (int)getpid());
			bool ok = write(fd, pid, (size_t)len) == len;
			close(fd);
			if (!ok) {
				unlink(xw->lock_path);
			}
			return ok;
		}
		if (errno != EEXIST) {
			return false;
		}
		char buf[16] = {0};
		fd = open(xw->lock_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			return false;
		}
		ssize_t got = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		long owner = got > 0 ? strtol(buf, NULL, 10) : 0;
		if (owner <= 0 || (kill((pid_t)owner, 0) == 0 || errno != ESRCH)) {
			return false; /* a live server's */
		}
		unlink(xw->lock_path);
	}
	return false;
}

static int display_handle_connect(int fd, uint32_t mask, void *data);

static void display_release(struct bh_xwayland *xw)
{
	for (int i = 0; i < 2; i++) {
		if (xw->listen_source[i] != NULL) {
			wl_event_source_remove(xw->listen_source[i]);
			xw->listen_source[i] = NULL;
		}
		if (xw->listen_fd[i] >= 0) {
			close(xw->listen_fd[i]);
			xw->listen_fd[i] = -1;
		}
	}
	if (xw->display >= 0) {
		unlink(xw->socket_path);
		unlink(xw->lock_path);
		xw->display = -1;
		xw->name[0] = '\0';
	}
}

static bool display_take(struct bh_xwayland *xw)
{
	if (mkdir(SOCKET_DIR, 01777) == 0) {
		chmod(SOCKET_DIR, 01777);
	}
	for (int n = 0; n < MAX_DISPLAY; n++) {
		if (!lock_display(xw, n)) {
			continue;
		}
		snprintf(xw->socket_path, sizeof(xw->socket_path), SOCKET_DIR "/X%d", n);
		xw->listen_fd[0] = listen_unix(xw->socket_path, true);
		xw->listen_fd[1] = xw->listen_fd[0] >= 0 ? listen_unix(xw->socket_path, false) : -1;
		if (xw->listen_fd[1] < 0) {
			if (xw->listen_fd[0] >= 0) {
				close(xw->listen_fd[0]);
				xw->listen_fd[0] = -1;
			}
			unlink(xw->lock_path);
			continue;
		}
		xw->display = n;
		snprintf(xw->name, sizeof(xw->name), ":%d", n);
		for (int i = 0; i < 2; i++) {
			xw->listen_source[i] = wl_event_loop_add_fd(xw->loop, xw->listen_fd[i],
				WL_EVENT_READABLE, display_handle_connect, xw);
			if (xw->listen_source[i] == NULL) {
				display_release(xw);
				return false;
			}
		}
		bh_log(BH_LOG_INFO, "X11 display %s ready; Xwayland starts with its first client",
			xw->name);
		return true;
	}
	bh_log(BH_LOG_ERROR,
		"X11 apps are off in this guest: no free X display of :0 to :%d "
		"(remove stale /tmp/.X*-lock files)",
		MAX_DISPLAY - 1);
	return false;
}

static void display_watch(struct bh_xwayland *xw, bool on)
{
	for (int i = 0; i < 2; i++) {
		if (xw->listen_source[i] != NULL) {
			wl_event_source_fd_update(xw->listen_source[i], on ? WL_EVENT_READABLE : 0);
		}
	}
}

/* A client that cannot be served now is turned away, not left pending. */
static void display_refuse_pending(struct bh_xwayland *xw)
{
	for (int i = 0; i < 2; i++) {
		int fd;
		while (xw->listen_fd[i] >= 0 &&
			(fd = accept4(xw->listen_fd[i], NULL, NULL, SOCK_CLOEXEC)) >= 0) {
			close(fd);
		}
	}
}

/* ---- the server ---- */

static bool find_xwayland(char *path, size_t size)
{
	const char *dirs[] = {"/usr/bin", "/usr/local/bin", "/bin", NULL};
	for (int i = 0; dirs[i] != NULL; i++) {
		snprintf(path, size, "%s/Xwayland", dirs[i]);
		if (access(path, X_OK) == 0) {
			return true;
		}
	}
	return false;
}

static int server_handle_ready(int fd, uint32_t mask, void *data)
{
	struct bh_xwayland *xw = data;
	/* The X server writes the number and the newline separately: it is
	 * ready at the newline, and the pipe stays open until then. */
	char buf[32];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return 0;
	}
	bool ready = n > 0 && memchr(buf, '\n', (size_t)n) != NULL;
	if (n > 0 && !ready) {
		return 0;
	}
	wl_event_source_remove(xw->ready_source);
	xw->ready_source = NULL;
	close(xw->ready_fd);
	xw->ready_fd = -1;
	if (!ready) {
		bh_log(BH_LOG_ERROR, "Xwayland ended before it was ready; see its messages above");
		return 0;
	}
	int wm_fd = xw->wm_fd;
	xw->wm_fd = -1;
	if (!bh_xwm_connect(xw->xwm, wm_fd)) {
		bh_log(BH_LOG_ERROR, "X11 apps cannot show: the window manager could not "
				     "start on Xwayland; it is stopped");
		server_stop(xw);
		return 0;
	}
	bh_log(BH_LOG_INFO, "Xwayland ready on display %s (pid %d)", xw->name, (int)xw->pid);
	return 0;
}

static void server_start(struct bh_xwayland *xw)
{
	char path[64];
	if (!find_xwayland(path, sizeof(path))) {
		if (!xw->missing_logged) {
			bh_log(BH_LOG_ERROR,
				"an X11 app could not start: this guest has no Xwayland "
				"(install the xwayland package in its base)");
			xw->missing_logged = true;
		}
		display_refuse_pending(xw);
		return;
	}
	int wl[2] = {-1, -1}, wm[2] = {-1, -1}, ready[2] = {-1, -1};
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, wl) < 0 ||
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, wm) < 0 ||
		pipe2(ready, O_CLOEXEC) < 0) {
		bh_log_errno(BH_LOG_ERROR, "an X11 app could not start: no sockets for Xwayland");
		goto fail;
	}
	xw->xwm = bh_xwm_create(xw->loop);
	if (xw->xwm == NULL) {
		goto fail;
	}
	bh_set_nonblock(wl[0], true);
	if (!bh_relay_guest_adopt(xw->relay, wl[0], bh_xwm_conn(xw->xwm))) {
		wl[0] = -1; /* taken */
		bh_log(BH_LOG_ERROR, "an X11 app could not start: the host is not connected");
		goto fail;
	}
	wl[0] = -1;
	char wl_env[32], listen0[16], listen1[16], wm_arg[16], ready_arg[16];
	snprintf(wl_env, sizeof(wl_env), "WAYLAND_SOCKET=%d", wl[1]);
	snprintf(listen0, sizeof(listen0), "%d", xw->listen_fd[0]);
	snprintf(listen1, sizeof(listen1), "%d", xw->listen_fd[1]);
	snprintf(wm_arg, sizeof(wm_arg), "%d", wm[1]);
	snprintf(ready_arg, sizeof(ready_arg), "%d", ready[1]);
	const char *argv[] = {path, xw->name, "-rootless", "-shm", "-nolisten", "tcp",
		"-listenfd", listen0, "-listenfd", listen1, "-wm", wm_arg, "-displayfd", ready_arg,
		NULL};
	const char *env[] = {wl_env, NULL};
	const int keep[] = {wl[1], wm[1], ready[1], xw->listen_fd[0], xw->listen_fd[1], -1};
	xw->pid = bh_agent_spawn_with(xw->agent, argv, NULL, env, keep);
	if (xw->pid <= 0) {
		xw->pid = 0;
		goto fail;
	}
	close(wl[1]);
	close(wm[1]);
	close(ready[1]);
	xw->wm_fd = wm[0];
	xw->ready_fd = ready[0];
	bh_set_nonblock(ready[0], true);
	xw->ready_source = wl_event_loop_add_fd(
		xw->loop, ready[0], WL_EVENT_READABLE, server_handle_ready, xw);
	display_watch(xw, false); /* Xwayland accepts from now on */
	xw->starts++;
	bh_log(BH_LOG_INFO, "started Xwayland on display %s (pid %d)%s", xw->name, (int)xw->pid,
		xw->starts > 1 ? " again" : "");
	return;
fail:
	for (int i = 0; i < 2; i++) {
		if (wl[i] >= 0) {
			close(wl[i]);
		}
		if (wm[i] >= 0) {
			close(wm[i]);
		}
		if (ready[i] >= 0) {
			close(ready[i]);
		}
	}
	if (xw->xwm != NULL) {
		bh_relay_guest_disown(xw->relay, bh_xwm_conn(xw->xwm));
		bh_xwm_destroy(xw->xwm);
		xw->xwm = NULL;
	}
	display_refuse_pending(xw);
}

static int display_handle_connect(int fd, uint32_t mask, void *data)
{
	struct bh_xwayland *xw = data;
	if (xw->pid == 0) {
		server_start(xw);
	}
	return 0;
}

/* Forgets the server (gone or to be stopped); the display waits again. */
static void server_forget(struct bh_xwayland *xw)
{
	if (xw->ready_source != NULL) {
		wl_event_source_remove(xw->ready_source);
		xw->ready_source = NULL;
	}
	if (xw->ready_fd >= 0) {
		close(xw->ready_fd);
		xw->ready_fd = -1;
	}
	if (xw->wm_fd >= 0) {
		close(xw->wm_fd);
		xw->wm_fd = -1;
	}
	if (xw->xwm != NULL) {
		/* its Wayland connection first: the relay holds the manager's part */
		bh_relay_guest_disown(xw->relay, bh_xwm_conn(xw->xwm));
		bh_xwm_destroy(xw->xwm);
		xw->xwm = NULL;
	}
	xw->pid = 0;
	display_watch(xw, xw->enabled);
}

static void server_stop(struct bh_xwayland *xw)
{
	if (xw->pid > 0) {
		kill(xw->pid, SIGTERM);
		/* the SIGCHLD handler reaps it; it is not ours any more */
	}
	server_forget(xw);
}

bool bh_xwayland_reaped(struct bh_xwayland *xw, pid_t pid, int status)
{
	if (xw == NULL || pid != xw->pid || pid <= 0) {
		return false;
	}
	if (WIFSIGNALED(status)) {
		bh_log(BH_LOG_WARN,
			"Xwayland on %s was killed by signal %d; it starts again with "
			"the next X11 app",
			xw->name, WTERMSIG(status));
	} else {
		bh_log(BH_LOG_INFO,
			"Xwayland on %s ended with status %d; it starts again with the "
			"next X11 app",
			xw->name, WEXITSTATUS(status));
	}
	server_forget(xw);
	return true;
}

/* ---- life ---- */

struct bh_xwayland *bh_xwayland_create(struct bh_agent *agent, struct bh_relay_guest *relay)
{
	struct bh_xwayland *xw = calloc(1, sizeof(*xw));
	if (xw == NULL) {
		return NULL;
	}
	xw->agent = agent;
	xw->relay = relay;
	xw->loop = bh_agent_event_loop(agent);
	xw->display = -1;
	xw->listen_fd[0] = xw->listen_fd[1] = -1;
	xw->wm_fd = xw->ready_fd = -1;
	return xw;
}

void bh_xwayland_set_enabled(struct bh_xwayland *xw, bool enabled)
{
	if (xw == NULL || enabled == xw->enabled) {
		return;
	}
	xw->enabled = enabled;
	if (enabled) {
		if (xw->display < 0 && !display_take(xw)) {
			xw->enabled = false;
		}
		return;
	}
	server_stop(xw);
	display_release(xw);
	bh_log(BH_LOG_INFO, "X11 apps are off for this tag (xwayland = off)");
}

const char *bh_xwayland_display(const struct bh_xwayland *xw)
{
	return xw != NULL && xw->display >= 0 ? xw->name : NULL;
}

void bh_xwayland_destroy(struct bh_xwayland *xw)
{
	if (xw == NULL) {
		return;
	}
	server_stop(xw);
	display_release(xw);
	free(xw);
}
