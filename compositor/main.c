/* bulkhead: the compositor of the bulkhead session. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wlr/util/log.h>

#include "common/log.h"
#include "common/util.h"
#include "compositor/actions.h"
#include "compositor/config.h"
#include "compositor/first_run.h"
#include "compositor/ipc.h"
#include "compositor/server.h"
#include "compositor/tags.h"
#include "compositor/vm_manager.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: bulkhead [-c CONFIG] [-s COMMAND] [-x] [--help] [--version]\n"
		     "  -c CONFIG   read this config instead of $XDG_CONFIG_HOME/bulkhead/config\n"
		     "  -s COMMAND  run COMMAND through /bin/sh once started\n"
		     "  -x          exit when COMMAND exits, with its status\n");
}

static int server_handle_sigchld(int sig, void *data)
{
	struct bh_server *server = data;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == server->startup_pid) {
			server->startup_pid = 0;
			int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			bh_log(BH_LOG_INFO, "the startup command exited with status %d", code);
			if (server->exit_with_startup) {
				server->exit_status = code;
				wl_display_terminate(server->display);
			}
		}
		bh_vm_manager_child_exited(server, pid, status);
	}
	return 0;
}

static int server_handle_sigterm(int sig, void *data)
{
	wl_display_terminate(data);
	return 0;
}

static int server_handle_sighup(int sig, void *data)
{
	bh_action_reload(data);
	return 0;
}

static enum wlr_log_importance wlr_level(void)
{
	const char *env = getenv("BULKHEAD_LOG");
	if (env != NULL && strcmp(env, "debug") == 0) {
		return WLR_DEBUG;
	}
	return WLR_ERROR;
}

int main(int argc, char *argv[])
{
	bh_log_init("bulkhead", BH_LOG_INFO);
	wlr_log_init(wlr_level(), NULL);
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"startup", required_argument, NULL, 's'},
		{"exit-with-startup", no_argument, NULL, 'x'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	struct bh_server server = {0};
	const char *startup = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "c:s:xhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			server.config_path = optarg;
			break;
		case 's':
			startup = optarg;
			break;
		case 'x':
			server.exit_with_startup = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			bh_print_version("bulkhead");
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind != argc || (server.exit_with_startup && startup == NULL)) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	signal(SIGPIPE, SIG_IGN);
	server.config = bh_config_load(server.config_path);
	if (server.config == NULL) {
		return EXIT_FAILURE;
	}
	if (!bh_server_init(&server)) {
		bh_log(BH_LOG_ERROR, "bulkhead could not start; see the messages above");
		return EXIT_FAILURE;
	}
	bh_config_load_bindings(&server);
	bh_tags_apply_config(&server);
	struct wl_event_source *sources[] = {
		wl_event_loop_add_signal(server.loop, SIGCHLD, server_handle_sigchld, &server),
		wl_event_loop_add_signal(
			server.loop, SIGTERM, server_handle_sigterm, server.display),
		wl_event_loop_add_signal(
			server.loop, SIGINT, server_handle_sigterm, server.display),
		wl_event_loop_add_signal(server.loop, SIGHUP, server_handle_sighup, &server),
	};
	const char *socket = wl_display_add_socket_auto(server.display);
	if (socket == NULL) {
		bh_log(BH_LOG_ERROR, "cannot create the Wayland socket (is XDG_RUNTIME_DIR set?)");
		return EXIT_FAILURE;
	}
	server.socket = socket;
	if (!wlr_backend_start(server.backend)) {
		bh_log(BH_LOG_ERROR, "cannot start the backend");
		return EXIT_FAILURE;
	}
	setenv("WAYLAND_DISPLAY", socket, 1);
	unsetenv("DISPLAY");
	if (!bh_ipc_init(&server)) {
		return EXIT_FAILURE;
	}
	bh_log(BH_LOG_INFO, "running on WAYLAND_DISPLAY=%s, BULKHEAD_SOCKET=%s", socket,
		server.ipc_path);
	/* What stands between the user and a first window, once, in the
	 * status line; not being able to ask is no reason not to run. */
	bh_first_run_check(&server);
	bh_action_sweep_disposables(&server);
	if (startup != NULL) {
		server.startup_pid = bh_action_exec(&server, startup);
		if (server.startup_pid < 0 && server.exit_with_startup) {
			return EXIT_FAILURE;
		}
	}
	wl_display_run(server.display);

	bh_log(BH_LOG_INFO, "shutting down");
	server.quitting = true;
	bh_first_run_finish(&server);
	bh_ipc_finish(&server);
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		if (sources[i] != NULL) {
			wl_event_source_remove(sources[i]);
		}
	}
	bh_server_finish(&server);
	bh_config_free_bindings(&server);
	bh_config_free(server.config);
	return server.exit_status;
}
