/* base build's progress: mmdebstrap --verbose lines (as a real bookworm
 * build prints them) and the recipe's stage lines folded into stages,
 * sizes and a percentage that never goes back. */
#include <string.h>

#include "cli/base_progress.h"
#include "tests/test.h"

static void test_sizes(void)
{
	uint64_t b = 0;
	CHECK(bh_base_parse_size("38.0 MB of archives.", &b) && b == 38000000);
	CHECK(bh_base_parse_size("8941 kB]", &b) && b == 8941000);
	CHECK(bh_base_parse_size("512 B]", &b) && b == 512);
	CHECK(bh_base_parse_size("1.5 GB", &b) && b == 1500000000);
	CHECK(!bh_base_parse_size("MB", &b));
	CHECK(!bh_base_parse_size("12 parrots", &b));
	CHECK(!bh_base_parse_size("-3 MB", &b));
	CHECK(!bh_base_parse_size("12MB", &b));
	CHECK(!bh_base_parse_size("1e300 GB", &b));
}

/* Feeds lines and checks the percentage never falls. */
static int last_percent;
static void feed(struct bh_base_progress *p, const char *line)
{
	if (strncmp(line, "stage ", 6) == 0) {
		bh_base_progress_stage(p, line + 6);
	} else {
		bh_base_progress_log_line(p, line);
	}
	int percent = bh_base_progress_percent(p);
	CHECK(percent >= last_percent);
	CHECK(percent >= 0 && percent <= 100);
	last_percent = percent;
}

static void test_build(void)
{
	struct bh_base_progress p;
	char text[256];
	bh_base_progress_init(&p);
	last_percent = 0;
	CHECK_EQ_INT(p.stage, BH_BASE_STAGE_NONE);
	CHECK(strcmp(bh_base_progress_what(&p), "starting") == 0);
	feed(&p, "stage check");
	CHECK_EQ_INT(p.stage, BH_BASE_STAGE_CHECK);
	feed(&p, "stage download");
	feed(&p, "I: automatically chosen mode: root");
	feed(&p, "I: running apt-get update...");
	CHECK_EQ_INT(p.stage, BH_BASE_STAGE_LISTS);
	/* Index downloads come before any "Need to get": not counted. */
	feed(&p, "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]");
	CHECK_EQ_INT(p.bytes_done, 0);
	feed(&p, "I: downloading packages with apt...");
	CHECK_EQ_INT(p.stage, BH_BASE_STAGE_ESSENTIAL_DOWNLOAD);
	feed(&p, "0 upgraded, 89 newly installed, 0 to remove and 0 not upgraded.");
	CHECK_EQ_INT(p.packages_total, 89);
	feed(&p, "Need to get 38.0 MB of archives.");
	CHECK_EQ_INT(p.bytes_total, 38000000);
	feed(&p, "After this operation, 164 MB of additional disk space will be used.");
	CHECK_EQ_INT(p.bytes_total, 38000000);
	feed(&p, "Get:1 http://deb.debian.org/debian bookworm/main amd64 gcc-12-base amd64 "
		 "12.2.0-14+deb12u1 [37.6 kB]");
	feed(&p, "Get:2 http://deb.debian.org/debian bookworm/main amd64 libc6 amd64 "
		 "2.36-9+deb12u14 [2759 kB]");
	CHECK_EQ_INT(p.bytes_done, 37600 + 2759000);
	bh_base_progress_format(&p, 83 * 1000000ull, 10, text, sizeof(text));
	CHECK(strcmp(text, "[..........]   3% downloading the essential packages 2.8 MB of 38.0 MB"
			   "  1:23") == 0);
	/* More than announced is capped; the stage's end is not reached. */
	feed(&p, "Get:3 http://x bookworm/main amd64 big amd64 1 [90.0 MB]");
	CHECK_EQ_INT(p.bytes_done, 38000000);
	CHECK_EQ_INT(bh_base_progress_percent(&p), 7);
	feed(&p, "Fetched 38.0 MB in 2s (20.3 MB/s)");
	feed(&p, "I: extracting archives...");
	CHECK_EQ_INT(p.stage, BH_BASE_STAGE_ESSENTIAL_INSTALL);
	CHECK_EQ_INT(p.packages_total, 89);
	feed(&p, "I: installing essential packages...");
	CHECK_EQ_INT(p.stage, BH_BASE_STAGE_ESSENTIAL_INSTALL);
	for (int i = 0; i < 45; i++) {
		feed(&p, "Setting up libc6:amd64 (2.36-9+deb12u14) ...");
	}
	CHECK_EQ_INT(p.packages_done, 45);
	bh_base_progress_format(&p, 0, 0, text, sizeof(text));
	CHECK(strcmp(text, " 14% installing the essential packages 45 of 89 packages  0:00") == 0);
	for (int i = 0; i < 60; i++) {
		feed(&p, "Setting up x (1) ...");
	}
	CHECK_EQ_INT(p.packages_done, 89);
	feed(&p, "stage install");
	CHECK_EQ_INT(p.stage, BH_BASE_STAGE_DOWNLOAD);
	CHECK_EQ_INT(p.bytes_total, 0);
	feed(&p, "I: installing remaining packages inside the chroot...");
	CHECK_EQ_INT(p.stage, BH_BASE_STAGE_DOWNLOAD);
	feed(&p, "0 upgraded, 212 newly installed, 0 to remove and 0 not upgraded.");
	/* Some were cached: the Get: lines add up to the first size. */
	feed(&p, "Need to get 12.5 MB/150 MB of archives.");
	CHECK_EQ_INT(p.bytes_total, 12500000);
	feed(&p, "Get:1 http://deb.debian.org/debian bookworm/main amd64 systemd amd64 252 [3000 "
		 "kB]");
	CHECK_EQ_INT(bh_base_progress_percent(&p), 23);
	feed(&p, "Fetched 12.5 MB in 1s (12.5 MB/s)");
	CHECK_EQ_INT(p.stage, BH_BASE_STAGE_INSTALL);
	CHECK_EQ_INT(p.packages_total, 212);
	feed(&p, "Selecting previously unselected package systemd.");
	feed(&p, "Setting up systemd (252) ...");
	CHECK_EQ_INT(p.packages_done, 1);
	/* Stages never go back, and unknown ones are ignored. */
	CHECK(!bh_base_progress_stage(&p, "download"));
	CHECK(!bh_base_progress_stage(&p, "nonsense"));
	CHECK_EQ_INT(p.stage, BH_BASE_STAGE_INSTALL);
	feed(&p, "I: running apt-get update...");
	CHECK_EQ_INT(p.stage, BH_BASE_STAGE_INSTALL);
	feed(&p, "stage configure");
	feed(&p, "Setting up late (1) ...");
	CHECK_EQ_INT(p.packages_done, 0);
	feed(&p, "stage filesystem");
	feed(&p, "stage qcow2");
	feed(&p, "stage register");
	CHECK_EQ_INT(p.stage, BH_BASE_STAGE_REGISTER);
	CHECK_EQ_INT(bh_base_progress_percent(&p), 97);
	bh_base_progress_format(&p, 0, 4, text, sizeof(text));
	CHECK(strcmp(text, "[###.]  97% registering the base  0:00") == 0);
}

/* base push: one bar per file, bytes in decimal units, never past 100%. */
static void test_transfer(void)
{
	char line[256];
	bh_transfer_progress_format("sending", "base-x-root.qcow2", 12300000, 29100000, 65000000,
		10, line, sizeof(line));
	CHECK(strcmp(line, "[####......]  42% sending base-x-root.qcow2 12.3 MB of 29.1 MB  1:05") ==
	      0);
	bh_transfer_progress_format("checking", "k", 5, 4, 0, 0, line, sizeof(line));
	CHECK(strcmp(line, "100% checking k 0.0 MB of 0.0 MB  0:00") == 0);
	bh_transfer_progress_format("sending", "empty", 0, 0, 0, 4, line, sizeof(line));
	CHECK(strncmp(line, "[####] 100%", 11) == 0);
	/* A width larger than the bar's room is clipped, not overrun. */
	bh_transfer_progress_format("sending", "f", 1, 2, 0, 1000, line, sizeof(line));
	CHECK(strstr(line, "] ") != NULL && strstr(line, " 50% sending f") != NULL);
}

int main(void)
{
	test_transfer();
	test_sizes();
	test_build();
	return bh_test_finish("test_base_progress");
}
