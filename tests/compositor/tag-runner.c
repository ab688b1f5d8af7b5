/* A stand-in for bulkhead-proxy in compositor tests: the compositor starts
 * it (BULKHEAD_PROXY) for a tag exactly as it starts the real proxy. It
 * says the tag is ready and, for every launch the compositor sends, asks
 * for a tagged connection through bulkhead_vm_manager_v1 and runs the
 * command on the host with WAYLAND_SOCKET set to that connection. So host
 * programs (weston-simple-shm, wayland-info, foot) become clients of the
 * tag, with no VM and no agent: it tests the compositor's side alone.
 *
 * BH_TEST_FAIL_TAG=NAME makes it report "failed" for that tag instead. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wayland-client.h>

#include "bulkhead-vm-v1-client-protocol.h"

static struct bulkhead_vm_manager_v1 *manager;
static char *tag;

struct pending {
	char *command;
};

static void run_on(int fd, const char *command)
{
	pid_t pid = fork();
	if (pid == 0) {
		char value[16];
		/* libwayland received it close-on-exec: a copy without. */
		snprintf(value, sizeof(value), "%d", dup(fd));
		setenv("WAYLAND_SOCKET", value, 1);
		unsetenv("WAYLAND_DISPLAY");
		execl("/bin/sh", "/bin/sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	close(fd);
}

static void client_connection(void *data, struct bulkhead_vm_client_v1 *client, int fd)
{
	struct pending *p = data;
	fprintf(stderr, "tag-runner %s: running %s\n", tag, p->command);
	run_on(fd, p->command);
	free(p->command);
	free(p);
	bulkhead_vm_client_v1_destroy(client);
}

static void client_refused(void *data, struct bulkhead_vm_client_v1 *client, const char *reason)
{
	struct pending *p = data;
	fprintf(stderr, "tag-runner %s: refused: %s\n", tag, reason);
	free(p->command);
	free(p);
	bulkhead_vm_client_v1_destroy(client);
}

static const struct bulkhead_vm_client_v1_listener client_listener = {
	.connection = client_connection,
	.refused = client_refused,
};

static uint32_t next_stream = 2;

static void manager_tag(void *data, struct bulkhead_vm_manager_v1 *m, const char *name)
{
	if (strcmp(name, tag) != 0) {
		fprintf(stderr, "tag-runner: told tag %s, started for %s\n", name, tag);
		exit(1);
	}
}

static void manager_launch(void *data, struct bulkhead_vm_manager_v1 *m, const char *command)
{
	struct pending *p = calloc(1, sizeof(*p));
	p->command = strdup(command);
	struct bulkhead_vm_client_v1 *c = bulkhead_vm_manager_v1_create_client(m, next_stream);
	next_stream += 2;
	bulkhead_vm_client_v1_add_listener(c, &client_listener, p);
}

static void manager_stop(void *data, struct bulkhead_vm_manager_v1 *m)
{
	bulkhead_vm_manager_v1_set_state(m, BULKHEAD_VM_MANAGER_V1_STATE_STOPPED, NULL);
	exit(0);
}

static const struct bulkhead_vm_manager_v1_listener manager_listener = {
	.tag = manager_tag,
	.launch = manager_launch,
	.stop = manager_stop,
};

static void global(void *data, struct wl_registry *registry, uint32_t name, const char *iface,
	uint32_t version)
{
	if (strcmp(iface, bulkhead_vm_manager_v1_interface.name) == 0) {
		manager = wl_registry_bind(registry, name, &bulkhead_vm_manager_v1_interface, 1);
		bulkhead_vm_manager_v1_add_listener(manager, &manager_listener, NULL);
	} else {
		fprintf(stderr, "tag-runner: the control connection shows %s\n", iface);
		exit(3);
	}
}

static void global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {global, global_remove};

int main(int argc, char *argv[])
{
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--tag") == 0) {
			tag = argv[i + 1];
		}
	}
	if (tag == NULL) {
		fprintf(stderr, "usage: tag-runner --tag TAG (started by the compositor)\n");
		return 2;
	}
	signal(SIGCHLD, SIG_IGN);
	struct wl_display *display = wl_display_connect(NULL);
	if (display == NULL) {
		fprintf(stderr, "tag-runner: no WAYLAND_SOCKET\n");
		return 1;
	}
	struct wl_registry *registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	wl_display_roundtrip(display);
	if (manager == NULL) {
		fprintf(stderr, "tag-runner: no bulkhead_vm_manager_v1 on the control connection\n");
		return 1;
	}
	const char *fail = getenv("BH_TEST_FAIL_TAG");
	if (fail != NULL && strcmp(fail, tag) == 0) {
		bulkhead_vm_manager_v1_set_state(manager, BULKHEAD_VM_MANAGER_V1_STATE_FAILED,
			"test: the VM of this tag cannot boot; see its console log");
	} else {
		bulkhead_vm_manager_v1_app(manager, "test-app", "Test App", "weston-simple-shm %U",
			NULL);
		bulkhead_vm_manager_v1_apps_done(manager);
		bulkhead_vm_manager_v1_set_state(manager, BULKHEAD_VM_MANAGER_V1_STATE_READY, NULL);
	}
	while (wl_display_dispatch(display) >= 0) {
	}
	return 0;
}
