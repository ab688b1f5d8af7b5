/* The guest agent: reaches the host over the channel, says hello with boot
 * timings and the app list, serves launches, exec sessions and pings, and
 * waits for the host again whenever it goes away. */
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wayland-server-core.h>

#include "common/log.h"
#include "common/transport.h"
#include "common/util.h"
#include "guest-agent/agent.h"
#include "guest-agent/guest_ram.h"
#include "guest-agent/region.h"
#include "guest-agent/relay_guest.h"
#include "guest-agent/xwayland.h"

#define RETRY_MSEC 1000

struct bh_agent {
	struct wl_event_loop *loop;
	char *channel;
	struct bh_address addr;
	bool retry_logged; /* the first failed attempt is logged, not each retry */
	bool listen;
	char *wayland_display;
	uid_t uid;
	gid_t gid;
	char *user_name, *home, *runtime_dir, *shell;
	char exe_path[4096];

	int listen_fd;
	struct wl_event_source *listen_source;
	struct wl_event_source *retry_timer;
	struct wl_event_source *sigchld;
	struct bh_endpoint *endpoint;
	bool connected;
	bool host_hello; /* this channel's host has said HELLO */
	struct bh_boot_times boot;
	struct bh_relay_guest *relay;
	/* The shared region of the current host, while mapped. */
	uint8_t *region_map;
	uint64_t region_size;
	/* BH_CTL_GUEST_RAM answered on this connection, and what it said. */
	bool guest_ram_asked;
	uint64_t guest_ram_low, guest_ram_high;
	struct bh_xwayland *xwayland;
};

static const struct bh_endpoint_listener endpoint_listener;

struct wl_event_loop *bh_agent_event_loop(struct bh_agent *agent)
{
	return agent->loop;
}

uid_t bh_agent_uid(const struct bh_agent *agent)
{
	return agent->uid;
}

gid_t bh_agent_gid(const struct bh_agent *agent)
{
	return agent->gid;
}

const char *bh_agent_runtime_dir(const struct bh_agent *agent)
{
	return agent->runtime_dir;
}

const char *bh_agent_home(const struct bh_agent *agent)
{
	return agent->home;
}

const char *bh_agent_user_name(const struct bh_agent *agent)
{
	return agent->user_name;
}

const char *bh_agent_exe_path(const struct bh_agent *agent)
{
	return agent->exe_path;
}

const char *bh_agent_shell(const struct bh_agent *agent)
{
	return agent->shell;
}

const char *bh_agent_wayland_display(const struct bh_agent *agent)
{
	return agent->wayland_display;
}

const char *bh_agent_x_display(const struct bh_agent *agent)
{
	return bh_xwayland_display(agent->xwayland);
}

bool bh_agent_connected(const struct bh_agent *agent)
{
	return agent->connected;
}

struct bh_stream *bh_agent_open_stream(struct bh_agent *agent, enum bh_stream_kind kind,
	const struct bh_stream_handler *handler, void *user)
{
	if (!agent->connected || agent->endpoint == NULL) {
		return NULL;
	}
	return bh_endpoint_open_stream(agent->endpoint, kind, handler, user);
}

/* ---- hello ---- */

static void send_hello(struct bh_agent *agent)
{
	struct bh_msg msg;
	bh_msg_init(&msg, 0);
	bh_msg_u32(&msg, BH_CONTROL_VERSION);
	uint32_t caps = BH_CAP_EXEC | BH_CAP_FILES | BH_CAP_PTY | BH_CAP_WAYLAND | BH_CAP_LZ4 |
			BH_CAP_REGION | BH_CAP_X11 | BH_CAP_GUEST_RAM;
	bh_msg_u32(&msg, caps);
	uint32_t n = (agent->boot.have_kernel ? 1 : 0) + (agent->boot.have_userspace ? 1 : 0);
	bh_msg_u32(&msg, n);
	if (agent->boot.have_kernel) {
		bh_msg_str(&msg, "guest-kernel");
		bh_msg_u64(&msg, agent->boot.kernel_usec);
	}
	if (agent->boot.have_userspace) {
		bh_msg_str(&msg, "guest-userspace");
		bh_msg_u64(&msg, agent->boot.userspace_usec);
	}
	bh_endpoint_send_control(agent->endpoint, BH_CTL_HELLO, msg.buf, msg.len);

	/* The app list is scanned at every hello: packages may have been
	 * installed since the last host connection. */
	struct bh_app_list apps;
	char data_home[4200];
	const char *xdg_home = getenv("XDG_DATA_HOME");
	if (xdg_home != NULL && xdg_home[0] == '/') {
		snprintf(data_home, sizeof(data_home), "%s", xdg_home);
	} else {
		snprintf(data_home, sizeof(data_home), "%s/.local/share", agent->home);
	}
	if (bh_app_list_scan(&apps, data_home, getenv("XDG_DATA_DIRS"))) {
		for (size_t i = 0; i < apps.count; i++) {
			bh_msg_init(&msg, 0);
			bh_msg_str(&msg, apps.apps[i].id);
			bh_msg_str(&msg, apps.apps[i].name);
			bh_msg_str(&msg, apps.apps[i].exec);
			bh_msg_str(&msg, apps.apps[i].icon);
			if (msg.ok) {
				bh_endpoint_send_control(agent->endpoint, BH_CTL_APP, msg.buf,
					msg.len);
			}
		}
		bh_log(BH_LOG_INFO, "reported %zu apps", apps.count);
	}
	bh_app_list_finish(&apps);
	bh_endpoint_send_control(agent->endpoint, BH_CTL_APPS_DONE, NULL, 0);
}

/* ---- control messages from the host ---- */

static void region_drop(struct bh_agent *agent)
{
	bh_relay_guest_set_region(NULL, 0);
	bh_relay_guest_set_guest_ram(false, 0, 0);
	bh_agent_guest_ram_probe_end();
	if (agent != NULL) {
		agent->guest_ram_asked = false;
		bh_agent_region_unmap(agent->region_map, agent->region_size);
		agent->region_map = NULL;
		agent->region_size = 0;
	}
}

/* BH_CTL_REGION: u64 size, the token. The agent maps the region and says
 * whether new clients' buffers go there. */
static bool handle_region(struct bh_agent *agent, struct bh_endpoint *endpoint,
	struct bh_msg_reader *r)
{
	uint8_t token[BH_REGION_TOKEN_LEN];
	uint64_t size = bh_msg_get_u64(r);
	bh_msg_get_bytes(r, token, sizeof(token));
	int fd = endpoint != NULL ? bh_endpoint_take_fd(endpoint) : -1;
	if (!bh_msg_end(r)) {
		if (fd >= 0) {
			close(fd);
		}
		bh_log(BH_LOG_ERROR, "malformed shared-region offer from the host");
		return false;
	}
	if (agent != NULL && agent->region_map != NULL) {
		/* Its clients' buffers live in the one it mapped. */
		if (fd >= 0) {
			close(fd);
		}
		bh_log(BH_LOG_ERROR, "a second shared-region offer from the host");
		return false;
	}
	char why[256] = "";
	uint8_t *map = agent != NULL ? bh_agent_region_map(fd, size, token, why, sizeof(why)) :
				       NULL;
	if (agent == NULL && fd >= 0) {
		close(fd);
	}
	if (map != NULL) {
		agent->region_map = map;
		agent->region_size = size;
		bh_relay_guest_set_region(map, size);
		bh_log(BH_LOG_INFO, "window contents go through the shared region (%llu MiB)",
			(unsigned long long)(size >> 20));
	} else {
		bh_log(BH_LOG_WARN, "window contents go through the channel: %s", why);
	}
	struct bh_msg msg;
	bh_msg_init(&msg, 0);
	bh_msg_u32(&msg, map != NULL);
	bh_msg_str(&msg, why);
	return endpoint == NULL ||
	       bh_endpoint_send_control(endpoint, BH_CTL_REGION_STATUS, msg.buf, msg.len);
}

/* BH_CTL_GUEST_RAM: 16 bytes token, u64 low, u64 high. The agent puts the
 * token in a page of its own and names that page's physical address. */
static bool handle_guest_ram(
	struct bh_agent *agent, struct bh_endpoint *endpoint, struct bh_msg_reader *r)
{
	uint8_t token[BH_REGION_TOKEN_LEN];
	bh_msg_get_bytes(r, token, sizeof(token));
	uint64_t low = bh_msg_get_u64(r), high = bh_msg_get_u64(r);
	if (!bh_msg_end(r) || low > (4ull << 30) || high > (1ull << 50)) {
		bh_log(BH_LOG_ERROR, "malformed guest-memory offer from the host");
		return false;
	}
	if (agent == NULL || agent->region_map == NULL || agent->guest_ram_asked) {
		bh_log(BH_LOG_ERROR, "a guest-memory offer from the host %s",
			agent != NULL && agent->guest_ram_asked ? "twice"
								: "without a shared region in use");
		return false;
	}
	char why[256] = "";
	uint64_t gpa = BH_GUEST_RAM_NONE;
	if (!bh_agent_guest_ram_probe(token, &gpa, why, sizeof(why))) {
		gpa = BH_GUEST_RAM_NONE;
		bh_log(BH_LOG_WARN, "the agent copies window contents into the region: %s", why);
	}
	agent->guest_ram_asked = true;
	agent->guest_ram_low = low;
	agent->guest_ram_high = high;
	struct bh_msg msg;
	bh_msg_init(&msg, 0);
	bh_msg_u64(&msg, gpa);
	bh_msg_str(&msg, why);
	return endpoint == NULL ||
	       bh_endpoint_send_control(endpoint, BH_CTL_GUEST_RAM_PROBE, msg.buf, msg.len);
}

static bool handle_guest_ram_on(struct bh_agent *agent, size_t len)
{
	if (len != 0 || agent == NULL || !agent->guest_ram_asked || agent->region_map == NULL) {
		bh_log(BH_LOG_ERROR, "an unasked-for or malformed guest-memory go-ahead from the "
				     "host");
		return false;
	}
	bh_agent_guest_ram_probe_end();
	bh_relay_guest_set_guest_ram(true, agent->guest_ram_low, agent->guest_ram_high);
	bh_log(BH_LOG_INFO, "window contents are read by the host from guest memory");
	return true;
}

bool bh_agent_handle_control(struct bh_agent *agent, struct bh_endpoint *endpoint,
	uint32_t type, const uint8_t *payload, size_t len)
{
	struct bh_msg_reader r;
	bh_msg_reader_init(&r, payload, len);
	switch (type) {
	case BH_CTL_HELLO: {
		uint32_t version = bh_msg_get_u32(&r);
		uint32_t host_caps = bh_msg_get_u32(&r);
		uint32_t n = bh_msg_get_u32(&r);
		if (!bh_msg_end(&r) || n != 0) {
			bh_log(BH_LOG_ERROR, "malformed hello from the host");
			return false;
		}
		if (version != BH_CONTROL_VERSION) {
			bh_log(BH_LOG_ERROR, "host speaks version %u, this agent %u", version,
				BH_CONTROL_VERSION);
			return false;
		}
		/* For this connection's guest clients from now on. */
		bh_relay_guest_set_compression((host_caps & BH_CAP_LZ4) != 0);
		if (host_caps & BH_CAP_LZ4) {
			bh_log(BH_LOG_INFO, "the host asked for lz4-compressed buffer data");
		}
		if (agent != NULL) {
			bh_xwayland_set_enabled(agent->xwayland, (host_caps & BH_CAP_X11) != 0);
		}
		return true;
	}
	case BH_CTL_REGION:
		return handle_region(agent, endpoint, &r);
	case BH_CTL_GUEST_RAM:
		return handle_guest_ram(agent, endpoint, &r);
	case BH_CTL_GUEST_RAM_ON:
		return handle_guest_ram_on(agent, len);
	case BH_CTL_LAUNCH: {
		uint32_t request = bh_msg_get_u32(&r);
		char *command = bh_msg_get_str(&r, 16 * 1024);
		if (!bh_msg_end(&r) || command[0] == '\0') {
			free(command);
			bh_log(BH_LOG_ERROR, "malformed launch request from the host");
			return false;
		}
		pid_t pid = agent != NULL ? bh_agent_launch(agent, command) : -1;
		struct bh_msg msg;
		bh_msg_init(&msg, 0);
		bh_msg_u32(&msg, request);
		bh_msg_u32(&msg, (uint32_t)(pid > 0 ? pid : -1));
		bh_msg_str(&msg, pid > 0 ? "" : "could not start the command in the guest");
		free(command);
		if (endpoint != NULL) {
			bh_endpoint_send_control(endpoint, BH_CTL_LAUNCHED, msg.buf, msg.len);
		}
		return true;
	}
	case BH_CTL_PING: {
		uint64_t cookie = bh_msg_get_u64(&r);
		if (!bh_msg_end(&r)) {
			bh_log(BH_LOG_ERROR, "malformed ping from the host");
			return false;
		}
		struct bh_msg msg;
		bh_msg_init(&msg, 0);
		bh_msg_u64(&msg, cookie);
		if (endpoint != NULL) {
			bh_endpoint_send_control(endpoint, BH_CTL_PONG, msg.buf, msg.len);
		}
		return true;
	}
	case BH_CTL_PONG:
		bh_msg_get_u64(&r);
		return bh_msg_end(&r);
	default:
		bh_log(BH_LOG_ERROR, "unknown control message %u from the host", type);
		return false;
	}
}

static bool agent_handle_control(struct bh_endpoint *endpoint, uint32_t type,
	const uint8_t *payload, size_t len, void *user)
{
	struct bh_agent *agent = user;
	/* Nothing but HELLO before HELLO (CONTROL.md): on a serial port a
	 * new host is only known by its hello. */
	if (!agent->host_hello && type != BH_CTL_HELLO) {
		bh_log(BH_LOG_ERROR, "control message %u from the host before its hello", type);
		return false;
	}
	if (!bh_agent_handle_control(agent, endpoint, type, payload, len)) {
		return false;
	}
	agent->host_hello = true;
	return true;
}

static bool agent_handle_open(struct bh_endpoint *endpoint, struct bh_stream *stream,
	enum bh_stream_kind kind, void *user)
{
	struct bh_agent *agent = user;
	switch (kind) {
	case BH_STREAM_EXEC:
		return bh_agent_exec_open(agent, stream);
	case BH_STREAM_PUSH:
	case BH_STREAM_PULL:
		return agent->exe_path[0] != '\0' &&
			bh_agent_files_open(agent, stream, kind == BH_STREAM_PUSH);
	case BH_STREAM_PIPE:
		return agent->relay != NULL && bh_relay_guest_open_pipe(agent->relay, stream);
	default:
		return false;
	}
}

static void start_connecting(struct bh_agent *agent);

static void agent_handle_disconnected(struct bh_endpoint *endpoint, const char *reason,
	void *user)
{
	struct bh_agent *agent = user;
	bh_log(BH_LOG_INFO, "host went away (%s); waiting for it to come back", reason);
	agent->connected = false;
	bh_endpoint_destroy(agent->endpoint);
	agent->endpoint = NULL;
	/* Its clients are gone with the endpoint; the next host offers its own. */
	region_drop(agent);
	start_connecting(agent);
}

static const struct bh_endpoint_listener endpoint_listener = {
	.control = agent_handle_control,
	.open = agent_handle_open,
	.disconnected = agent_handle_disconnected,
};

static void agent_attach(struct bh_agent *agent, int fd)
{
	agent->endpoint = bh_endpoint_create(agent->loop, fd, BH_ENDPOINT_GUEST,
		&endpoint_listener, agent);
	if (agent->endpoint == NULL) {
		start_connecting(agent);
		return;
	}
	if (agent->listen_source != NULL) {
		/* One host at a time: stop accepting until this one leaves. */
		wl_event_source_fd_update(agent->listen_source, 0);
	}
	if (agent->addr.kind == BH_ADDRESS_UNIX) {
		/* The host's shared region comes as an fd with its hello. */
		bh_endpoint_accept_fds(agent->endpoint);
	}
	agent->connected = true;
	agent->host_hello = false;
	bh_log(BH_LOG_INFO, "host connected on %s", agent->channel);
	send_hello(agent);
}

static int agent_handle_accept(int fd, uint32_t mask, void *data)
{
	struct bh_agent *agent = data;
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			bh_log_errno(BH_LOG_WARN, "accept on %s failed", agent->channel);
		}
		return 0;
	}
	if (agent->endpoint != NULL) {
		close(conn);
		return 0;
	}
	agent_attach(agent, conn);
	return 0;
}

static int agent_handle_retry(void *data)
{
	struct bh_agent *agent = data;
	char err[256];
	int fd = bh_transport_connect(&agent->addr, err, sizeof(err));
	if (fd < 0) {
		if (!agent->retry_logged) {
			bh_log(BH_LOG_WARN, "%s; retrying", err);
			agent->retry_logged = true;
		}
		wl_event_source_timer_update(agent->retry_timer, RETRY_MSEC);
		return 0;
	}
	agent->retry_logged = false;
	agent_attach(agent, fd);
	return 0;
}

/* Listening addresses accept the next host; a serial port is reopened (the
 * host end reconnecting shows up as new data on the same port). */
static void start_connecting(struct bh_agent *agent)
{
	if (agent->listen_source != NULL) {
		wl_event_source_fd_update(agent->listen_source, WL_EVENT_READABLE);
		return;
	}
	wl_event_source_timer_update(agent->retry_timer,
		agent->addr.kind == BH_ADDRESS_SERIAL ? 200 : RETRY_MSEC);
}

/* ---- children ---- */

static int agent_handle_sigchld(int sig, void *data)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct bh_agent *agent = data;
		if (bh_xwayland_reaped(agent->xwayland, pid, status)) {
			continue;
		}
		if (!bh_agent_exec_reaped(pid, status)) {
			bh_log(BH_LOG_INFO, "launched pid %d ended with status %d", (int)pid,
				WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		}
	}
	return 0;
}

/* ---- the guest user ---- */

static bool resolve_user(struct bh_agent *agent, const char *name, const char *runtime_dir)
{
	struct passwd *pw = name != NULL ? getpwnam(name) : getpwuid(getuid());
	if (pw == NULL) {
		bh_log(BH_LOG_ERROR, "unknown guest user %s", name ? name : "(current)");
		return false;
	}
	if (geteuid() == 0 && pw->pw_uid == 0) {
		bh_log(BH_LOG_ERROR,
			"the agent runs as root: pass --user NAME, guest apps never run as root");
		return false;
	}
	if (geteuid() != 0 && pw->pw_uid != geteuid()) {
		bh_log(BH_LOG_ERROR, "--user %s needs the agent to run as root", name);
		return false;
	}
	agent->uid = pw->pw_uid;
	agent->gid = pw->pw_gid;
	agent->user_name = strdup(pw->pw_name);
	agent->home = strdup(pw->pw_dir);
	/* Accounts without a login shell (nobody) still get one for `shell`. */
	const char *shell = pw->pw_shell;
	const char *shell_name = shell != NULL ? strrchr(shell, '/') : NULL;
	if (shell_name == NULL || shell[0] != '/' || access(shell, X_OK) != 0 ||
		strcmp(shell_name, "/nologin") == 0 || strcmp(shell_name, "/false") == 0) {
		shell = "/bin/sh";
	}
	agent->shell = strdup(shell);
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char buf[128];
	if (runtime_dir != NULL) {
		if (runtime_dir[0] != '/') {
			bh_log(BH_LOG_ERROR, "--runtime-dir %s is not an absolute path", runtime_dir);
			return false;
		}
		agent->runtime_dir = strdup(runtime_dir);
	} else if (geteuid() != 0 && xdg != NULL && xdg[0] == '/') {
		agent->runtime_dir = strdup(xdg);
	} else {
		snprintf(buf, sizeof(buf), "/run/user/%u", (unsigned)pw->pw_uid);
		agent->runtime_dir = strdup(buf);
	}
	if (agent->user_name == NULL || agent->home == NULL || agent->runtime_dir == NULL ||
		agent->shell == NULL) {
		return false;
	}
	/* The runtime dir must exist and belong to the user (a tiny guest has
	 * no logind to make it). */
	if (mkdir(agent->runtime_dir, 0700) != 0 && errno != EEXIST) {
		bh_log_errno(BH_LOG_ERROR, "could not create %s", agent->runtime_dir);
		return false;
	}
	/* A directory already there is handed over only if it is one (not a
	 * link to somewhere else) and root's or the user's already. */
	struct stat st;
	if (lstat(agent->runtime_dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
		(st.st_uid != 0 && st.st_uid != agent->uid)) {
		bh_log(BH_LOG_ERROR,
			"the runtime dir %s is not a directory of root or %s: give another with "
			"--runtime-dir",
			agent->runtime_dir, agent->user_name);
		return false;
	}
	if (geteuid() == 0 && chown(agent->runtime_dir, agent->uid, agent->gid) != 0) {
		bh_log_errno(BH_LOG_ERROR, "could not hand %s to %s", agent->runtime_dir,
			agent->user_name);
		return false;
	}
	return true;
}

struct bh_agent *bh_agent_create(struct wl_event_loop *loop, const struct bh_agent_options *opts)
{
	struct bh_agent *agent = calloc(1, sizeof(*agent));
	if (agent == NULL) {
		return NULL;
	}
	agent->loop = loop;
	agent->listen_fd = -1;
	agent->channel = strdup(opts->channel);
	agent->listen = opts->listen;
	agent->wayland_display = strdup(opts->wayland_display ? opts->wayland_display : "wayland-0");
	if (agent->channel == NULL || agent->wayland_display == NULL ||
		!resolve_user(agent, opts->user, opts->runtime_dir)) {
		bh_agent_destroy(agent);
		return NULL;
	}
	char err[256];
	if (!bh_address_parse(agent->channel, &agent->addr, err, sizeof(err))) {
		bh_log(BH_LOG_ERROR, "%s", err);
		bh_agent_destroy(agent);
		return NULL;
	}
	if (agent->addr.kind == BH_ADDRESS_VSOCK && !agent->listen) {
		bh_log(BH_LOG_ERROR, "a vsock channel needs --listen in the guest");
		bh_agent_destroy(agent);
		return NULL;
	}
	/* Only a bulkhead VM's kernel command line has bulkhead.share= or
	 * bulkhead.link= words. */
	if (geteuid() == 0) {
		bh_agent_guest_setup("/proc/cmdline", agent->uid, agent->gid);
	}
	bh_agent_boot_times(&agent->boot);
	/* Resolved now: the file helper is this binary, as the guest user. */
	ssize_t n = readlink("/proc/self/exe", agent->exe_path, sizeof(agent->exe_path) - 1);
	agent->exe_path[n > 0 ? n : 0] = '\0';
	if (n <= 0) {
		bh_log_errno(BH_LOG_WARN, "cannot find this program's path; push and pull will "
					  "not work");
	}
	agent->sigchld = wl_event_loop_add_signal(loop, SIGCHLD, agent_handle_sigchld, agent);
	agent->retry_timer = wl_event_loop_add_timer(loop, agent_handle_retry, agent);
	if (agent->sigchld == NULL || agent->retry_timer == NULL) {
		bh_agent_destroy(agent);
		return NULL;
	}
	if (agent->listen) {
		agent->listen_fd = bh_transport_listen(&agent->addr, err, sizeof(err));
		if (agent->listen_fd < 0) {
			bh_log(BH_LOG_ERROR, "%s", err);
			bh_agent_destroy(agent);
			return NULL;
		}
		agent->listen_source = wl_event_loop_add_fd(loop, agent->listen_fd,
			WL_EVENT_READABLE, agent_handle_accept, agent);
	}
	char socket_path[4400];
	snprintf(socket_path, sizeof(socket_path), "%s/%s", agent->runtime_dir,
		agent->wayland_display);
	agent->relay = bh_relay_guest_create(agent, socket_path);
	if (agent->relay == NULL) {
		bh_log(BH_LOG_ERROR, "could not offer the guest Wayland socket %s", socket_path);
		bh_agent_destroy(agent);
		return NULL;
	}
	agent->xwayland = bh_xwayland_create(agent, agent->relay);
	if (agent->xwayland == NULL) {
		bh_agent_destroy(agent);
		return NULL;
	}
	if (!agent->listen) {
		agent_handle_retry(agent);
	}
	bh_log(BH_LOG_INFO, "agent ready on %s for user %s", agent->channel, agent->user_name);
	return agent;
}

void bh_agent_say_bye(struct bh_agent *agent)
{
	if (agent == NULL || !agent->connected || agent->endpoint == NULL) {
		return;
	}
	/* Ahead of any queued window contents; the guest is going anyway. */
	if (bh_endpoint_send_control(agent->endpoint, BH_CTL_BYE, NULL, 0) &&
		bh_endpoint_flush_control(agent->endpoint, 500)) {
		bh_log(BH_LOG_INFO, "stopping: told the host");
	} else {
		bh_log(BH_LOG_WARN, "stopping: could not tell the host in time; it will report "
				    "the channel lost");
	}
}

void bh_agent_destroy(struct bh_agent *agent)
{
	if (agent == NULL) {
		return;
	}
	bh_endpoint_destroy(agent->endpoint);
	bh_xwayland_destroy(agent->xwayland);
	bh_relay_guest_destroy(agent->relay);
	if (agent->listen_source != NULL) {
		wl_event_source_remove(agent->listen_source);
	}
	if (agent->listen_fd >= 0) {
		close(agent->listen_fd);
		if (agent->addr.kind == BH_ADDRESS_UNIX) {
			unlink(agent->addr.path);
		}
	}
	if (agent->retry_timer != NULL) {
		wl_event_source_remove(agent->retry_timer);
	}
	if (agent->sigchld != NULL) {
		wl_event_source_remove(agent->sigchld);
	}
	free(agent->channel);
	free(agent->wayland_display);
	free(agent->user_name);
	free(agent->home);
	free(agent->runtime_dir);
	free(agent->shell);
	free(agent);
}
