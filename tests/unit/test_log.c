/* The logger writes level, program and [file:line] on one line. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/test.h"

static char *capture(void (*fn)(void))
{
	static char buf[4096];
	int fds[2];
	if (pipe(fds) != 0) {
		return NULL;
	}
	int saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void log_error(void)
{
	bh_log(BH_LOG_ERROR, "tag %s failed", "work");
}

static void log_debug_filtered(void)
{
	bh_log(BH_LOG_DEBUG, "hidden");
}

static void log_errno(void)
{
	errno = ENOENT;
	bh_log_errno(BH_LOG_WARN, "open %s", "x");
}

int main(void)
{
	bh_log_init("test-log", BH_LOG_INFO);
	char *out = capture(log_error);
	CHECK(strstr(out, "error") != NULL);
	CHECK(strstr(out, "test-log") != NULL);
	CHECK(strstr(out, "[tests/unit/test_log.c:") != NULL);
	CHECK(strstr(out, "tag work failed") != NULL);
	out = capture(log_debug_filtered);
	CHECK(strcmp(out, "") == 0);
	out = capture(log_errno);
	CHECK(strstr(out, "open x: No such file or directory") != NULL);
	enum bh_log_level l;
	CHECK(bh_log_parse_level("debug", &l) && l == BH_LOG_DEBUG);
	CHECK(!bh_log_parse_level("loud", &l));
	return bh_test_finish("log");
}
