/* The logger: one line per event on stderr, with level, program and origin. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

static enum bh_log_level log_level = BH_LOG_INFO;
static const char *log_prog = "bulkhead";
static bool log_color;

static const char *const level_names[] = {
	[BH_LOG_SILENT] = "silent",
	[BH_LOG_ERROR] = "error",
	[BH_LOG_WARN] = "warn",
	[BH_LOG_INFO] = "info",
	[BH_LOG_DEBUG] = "debug",
};

static const char *const level_colors[] = {
	[BH_LOG_SILENT] = "",
	[BH_LOG_ERROR] = "\x1b[1;31m",
	[BH_LOG_WARN] = "\x1b[1;33m",
	[BH_LOG_INFO] = "\x1b[1;34m",
	[BH_LOG_DEBUG] = "\x1b[1;90m",
};

bool bh_log_parse_level(const char *name, enum bh_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum bh_log_level)i;
			return true;
		}
	}
	return false;
}

void bh_log_init(const char *prog, enum bh_log_level default_level)
{
	log_prog = prog;
	log_level = default_level;
	const char *env = getenv("BULKHEAD_LOG");
	if (env && *env) {
		enum bh_log_level level;
		if (bh_log_parse_level(env, &level)) {
			log_level = level;
		} else {
			bh_log(BH_LOG_WARN, "BULKHEAD_LOG=%s is not a level (error, warn, info, debug)",
				env);
		}
	}
	log_color = isatty(STDERR_FILENO) && !getenv("NO_COLOR");
}

void bh_log_set_level(enum bh_log_level level)
{
	log_level = level;
}

enum bh_log_level bh_log_get_level(void)
{
	return log_level;
}

void bh_log_vwrite(enum bh_log_level level, const char *file, int line, const char *fmt,
	va_list args)
{
	if (level > log_level || level <= BH_LOG_SILENT) {
		return;
	}
	int saved_errno = errno;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* Strip the source tree prefix so paths read common/log.c. */
	const char *base = file;
	static const char *const dirs[] = {"common/", "compositor/", "proxy/", "guest-agent/",
		"cli/", "vm/", "tests/", "bench/"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		const char *p = strstr(file, dirs[i]);
		if (p) {
			base = p;
			break;
		}
	}
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, args);
	fprintf(stderr, "%02ld:%02ld:%02ld.%03ld %s%s%s %s: [%s:%d] %s\n",
		(long)(ts.tv_sec / 3600 % 100), (long)(ts.tv_sec / 60 % 60), (long)(ts.tv_sec % 60),
		ts.tv_nsec / 1000000, log_color ? level_colors[level] : "", level_names[level],
		log_color ? "\x1b[0m" : "", log_prog, base, line, msg);
	errno = saved_errno;
}

void bh_log_write(enum bh_log_level level, const char *file, int line, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	bh_log_vwrite(level, file, line, fmt, args);
	va_end(args);
}
