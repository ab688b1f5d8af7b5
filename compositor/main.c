/* bulkhead: entry point (argument parsing only, until its parts land). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: bulkhead [--help] [--version]\n");
}

int main(int argc, char *argv[])
{
	bh_log_init("bulkhead", BH_LOG_INFO);
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
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
	return EXIT_SUCCESS;
}
