/* bulkhead-agent: command line, event loop and signals of the guest agent. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-server-core.h>

#include "common/log.h"
#include "common/util.h"
#include "guest-agent/agent.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: bulkhead-agent --channel ADDR [--listen] [--wayland-display NAME]\n"
		     "                      [--user NAME] [--runtime-dir DIR] [--help] [--version]\n"
		     "ADDR: serial:auto, serial:/dev/vportNpM, unix:PATH, vsock:CID:PORT\n");
}

static int handle_terminate(int sig, void *data)
{
	*(bool *)data = true;
	return 0;
}

int main(int argc, char *argv[])
{
	bh_log_init("bulkhead-agent", BH_LOG_INFO);
	/* The agent starts itself as the guest user to read or write files. */
	if (argc == 3 && strcmp(argv[1], "--files-helper") == 0) {
		return bh_agent_files_helper(argv[2]);
	}
	static const struct option opts[] = {
		{"channel", required_argument, NULL, 'c'},
		{"listen", no_argument, NULL, 'l'},
		{"wayland-display", required_argument, NULL, 'w'},
		{"user", required_argument, NULL, 'u'},
		{"runtime-dir", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	struct bh_agent_options options = {.wayland_display = "wayland-0"};
	int c;
	while ((c = getopt_long(argc, argv, "c:lw:u:r:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			options.channel = optarg;
			break;
		case 'l':
			options.listen = true;
			break;
		case 'w':
			options.wayland_display = optarg;
			break;
		case 'u':
			options.user = optarg;
			break;
		case 'r':
			options.runtime_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			bh_print_version("bulkhead-agent");
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (options.channel == NULL || optind != argc) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	/* A host that vanishes mid-write must not kill the agent. */
	signal(SIGPIPE, SIG_IGN);
	struct wl_event_loop *loop = wl_event_loop_create();
	if (loop == NULL) {
		bh_log(BH_LOG_ERROR, "could not create the event loop");
		return EXIT_FAILURE;
	}
	bool done = false; /* set by SIGTERM or SIGINT */
	struct wl_event_source *sigterm =
		wl_event_loop_add_signal(loop, SIGTERM, handle_terminate, &done);
	struct wl_event_source *sigint =
		wl_event_loop_add_signal(loop, SIGINT, handle_terminate, &done);
	struct bh_agent *agent = bh_agent_create(loop, &options);
	if (agent == NULL) {
		bh_log(BH_LOG_ERROR, "the agent could not start on %s; see the messages above",
			options.channel);
		wl_event_loop_destroy(loop);
		return EXIT_FAILURE;
	}
	bool failed = false;
	while (!done) {
		if (wl_event_loop_dispatch(loop, -1) < 0 && errno != EINTR) {
			bh_log_errno(BH_LOG_ERROR, "event loop failed");
			failed = true;
			break;
		}
		wl_event_loop_dispatch_idle(loop);
	}
	/* Told to stop: a goodbye, so the host reports a stop, not a failure. */
	if (!failed) {
		bh_agent_say_bye(agent);
	}
	/* Idle callbacks queued meanwhile (the endpoint's flush) run before
	 * the endpoint goes, or it is kept for them and leaks. */
	wl_event_loop_dispatch_idle(loop);
	bh_agent_destroy(agent);
	wl_event_source_remove(sigterm);
	wl_event_source_remove(sigint);
	wl_event_loop_destroy(loop);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
