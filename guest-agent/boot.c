/* The guest's boot timings reported at HELLO: kernel start to init, and init
 * to agent ready, from the guest's own clocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "guest-agent/agent.h"

/* Microseconds since the guest kernel started, from /proc/uptime (which
 * counts from the kernel's start, unlike CLOCK_MONOTONIC on some setups). */
static bool read_uptime_usec(uint64_t *out)
{
	FILE *f = fopen("/proc/uptime", "re");
	if (f == NULL) {
		return false;
	}
	unsigned long long sec = 0, frac = 0;
	char dot = 0;
	int n = fscanf(f, "%llu%c%2llu", &sec, &dot, &frac);
	fclose(f);
	if (n < 1) {
		return false;
	}
	if (n < 3 || dot != '.') {
		frac = 0;
	}
	*out = sec * 1000000ull + frac * 10000ull;
	return true;
}

/* When init (pid 1) started, in microseconds after the kernel started: the
 * 22nd field of /proc/1/stat, in clock ticks. Used when /init did not pass
 * its own measurement. */
static bool read_init_start_usec(uint64_t *out)
{
	FILE *f = fopen("/proc/1/stat", "re");
	if (f == NULL) {
		return false;
	}
	char buf[1024];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields restart after
	 * the last ')'. */
	char *p = strrchr(buf, ')');
	if (p == NULL) {
		return false;
	}
	p++;
	/* Field 3 (state) is the first after ')'; starttime is field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (p == NULL) {
			return false;
		}
	}
	char *end;
	unsigned long long ticks = strtoull(p + 1, &end, 10);
	long hz = sysconf(_SC_CLK_TCK);
	if (end == p + 1 || hz <= 0) {
		return false;
	}
	*out = ticks * 1000000ull / (unsigned long long)hz;
	return true;
}

static bool parse_usec(const char *s, uint64_t *out)
{
	if (s == NULL || *s == '\0') {
		return false;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		return false;
	}
	*out = v;
	return true;
}

void bh_agent_boot_times(struct bh_boot_times *times)
{
	memset(times, 0, sizeof(*times));
	uint64_t init = 0, now = 0;
	if (parse_usec(getenv("BULKHEAD_BOOT_INIT_USEC"), &init) || read_init_start_usec(&init)) {
		times->kernel_usec = init;
		times->have_kernel = true;
	}
	if (read_uptime_usec(&now)) {
		times->uptime_usec = now;
		if (times->have_kernel && now >= init && now - init < UINT32_MAX) {
			times->userspace_usec = now - init;
			times->have_userspace = true;
		}
	}
}
