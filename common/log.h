/* One logger for every bulkhead binary: levels, [file:line], errno variant. */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

enum bh_log_level {
	BH_LOG_SILENT = 0,
	BH_LOG_ERROR = 1,
	BH_LOG_WARN = 2,
	BH_LOG_INFO = 3,
	BH_LOG_DEBUG = 4,
};

/* prog prefixes every line; the level comes from BULKHEAD_LOG
 * (error|warn|info|debug) when set, else from default_level. */
void bh_log_init(const char *prog, enum bh_log_level default_level);
void bh_log_set_level(enum bh_log_level level);
enum bh_log_level bh_log_get_level(void);
/* Parses "error", "warn", "info", "debug", "silent"; false if unknown. */
bool bh_log_parse_level(const char *name, enum bh_log_level *out);

void bh_log_write(enum bh_log_level level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void bh_log_vwrite(enum bh_log_level level, const char *file, int line, const char *fmt,
	va_list args);

#define bh_log(level, fmt, ...) bh_log_write(level, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define bh_log_errno(level, fmt, ...)                                                            \
	bh_log_write(level, __FILE__, __LINE__, fmt ": %s", ##__VA_ARGS__, strerror(errno))

#endif
