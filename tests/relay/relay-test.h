/* Set-up shared by the in-process relay tests: a scratch directory, the
 * real agent listening on a unix channel in it, and unix connections. */
#ifndef TESTS_RELAY_RELAY_TEST_H
#define TESTS_RELAY_RELAY_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "guest-agent/agent.h"

struct relay_test_env {
	char dir[64];
	char chan_path[128];
	char chan[140];         /* "unix:" + chan_path */
	char display_name[64];  /* the guest Wayland socket's name */
	char guest_socket[512]; /* its path, once the agent runs */
};

/* A connected unix stream socket to path (CLOEXEC), -1 on failure. */
static inline int relay_test_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Makes the scratch directory (also the runtime dir when the agent runs as
 * the test's user) and the names. */
static inline bool relay_test_setup(struct relay_test_env *env, const char *name)
{
	snprintf(env->dir, sizeof(env->dir), "/tmp/bh-%s.XXXXXX", name);
	if (mkdtemp(env->dir) == NULL) {
		return false;
	}
	chmod(env->dir, 0755);
	if (getuid() != 0 || getenv("XDG_RUNTIME_DIR") == NULL) {
		setenv("XDG_RUNTIME_DIR", env->dir, 1);
	}
	snprintf(env->chan_path, sizeof(env->chan_path), "%s/chan", env->dir);
	snprintf(env->chan, sizeof(env->chan), "unix:%s", env->chan_path);
	snprintf(env->display_name, sizeof(env->display_name), "bh-%s-%d", name, (int)getpid());
	return true;
}

/* The real agent, listening on the channel; guest apps run as nobody when
 * the test runs as root (the agent refuses to run them as root). */
static inline struct bh_agent *relay_test_agent(
	struct wl_event_loop *loop, struct relay_test_env *env)
{
	struct bh_agent_options opts = {
		.channel = env->chan,
		.listen = true,
		.wayland_display = env->display_name,
		.user = getuid() == 0 ? "nobody" : NULL,
	};
	struct bh_agent *agent = bh_agent_create(loop, &opts);
	if (agent != NULL) {
		snprintf(env->guest_socket, sizeof(env->guest_socket), "%s/%s",
			bh_agent_runtime_dir(agent), env->display_name);
	}
	return agent;
}

static inline void relay_test_cleanup(struct relay_test_env *env)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", env->dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "could not remove %s\n", env->dir);
	}
}

#endif
