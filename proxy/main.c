/* bulkhead-proxy: command line, event loop and signals of one tag's proxy. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <wayland-server-core.h>

#include "common/log.h"
#include "common/util.h"
#include "proxy/proxy.h"
#include "proxy/sandbox.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: bulkhead-proxy --tag TAG [--channel ADDR] [-c CONFIG]\n"
		     "       bulkhead-proxy --sandbox-check | --help | --version\n"
		     "Started by the bulkhead compositor with WAYLAND_SOCKET set.\n"
		     "--sandbox-check tries what the proxy's sandbox must refuse and allow.\n");
}

static int handle_terminate(int sig, void *data)
{
	*(bool *)data = true;
	return 0;
}

int main(int argc, char *argv[])
{
	bh_log_init("bulkhead-proxy", BH_LOG_INFO);
	static const struct option opts[] = {
		{"tag", required_argument, NULL, 't'},
		{"channel", required_argument, NULL, 'C'},
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"sandbox-check", no_argument, NULL, 'S'},
		{0},
	};
	struct bh_proxy_options options = {0};
	int c;
	while ((c = getopt_long(argc, argv, "t:C:c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			options.tag = optarg;
			break;
		case 'C':
			options.channel = optarg;
			break;
		case 'c':
			options.config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			bh_print_version("bulkhead-proxy");
			return EXIT_SUCCESS;
		case 'S':
			return bh_sandbox_check();
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (options.tag == NULL || options.tag[0] == '\0' || optind != argc) {
		usage(stderr);
		return EXIT_FAILURE;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Forked first, while the proxy holds nothing it could inherit. */
	options.keeper = bh_keeper_start(options.tag);
	if (options.keeper == NULL) {
		return EXIT_FAILURE;
	}
	options.sandbox = true;
	struct wl_event_loop *loop = wl_event_loop_create();
	if (loop == NULL) {
		return EXIT_FAILURE;
	}
	bool done = false;
	struct wl_event_source *sigterm =
		wl_event_loop_add_signal(loop, SIGTERM, handle_terminate, &done);
	struct wl_event_source *sigint =
		wl_event_loop_add_signal(loop, SIGINT, handle_terminate, &done);
	struct bh_proxy *proxy = bh_proxy_create(loop, &options);
	if (proxy == NULL) {
		bh_log(BH_LOG_ERROR, "the proxy for tag %s could not start; see the messages above",
			options.tag);
		wl_event_source_remove(sigterm);
		wl_event_source_remove(sigint);
		wl_event_loop_destroy(loop);
		bh_keeper_destroy(options.keeper);
		return EXIT_FAILURE;
	}
	while (!done) {
		bh_proxy_flush(proxy);
		if (wl_event_loop_dispatch(loop, -1) < 0 && errno != EINTR) {
			bh_log_errno(BH_LOG_ERROR, "event loop failed");
			break;
		}
		wl_event_loop_dispatch_idle(loop);
	}
	bh_proxy_destroy(proxy);
	wl_event_source_remove(sigterm);
	wl_event_source_remove(sigint);
	wl_event_loop_destroy(loop);
	bh_keeper_destroy(options.keeper);
	return EXIT_SUCCESS;
}
