/* common/util.c: the spawn helper (stdio slots, the environment, fds
 * closed off, the working directory, process groups, exec failures,
 * bh_run_tool) and the byte queue. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "tests/test.h"

static int wait_status(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) != pid) {
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs `sh -c script` with opts (argv replaced) and returns its stdout. */
static char *run_script(struct bh_spawn_options *opts, const char *script, int *status)
{
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	int out[2];
	if (pipe2(out, O_CLOEXEC) != 0) {
		return NULL;
	}
	opts->argv = argv;
	if (opts->stdio[1] == BH_SPAWN_INHERIT) {
		opts->stdio[1] = out[1];
	}
	pid_t pid = bh_spawn_process(opts);
	close(out[1]);
	static char buf[4096];
	size_t len = 0;
	ssize_t n;
	while ((n = read(out[0], buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(out[0]);
	*status = pid > 0 ? wait_status(pid) : -1;
	return buf;
}

static void test_env(void)
{
	setenv("BH_TEST_KEPT", "kept", 1);
	setenv("BH_TEST_REPLACED", "old", 1);
	const char *set[] = {"BH_TEST_REPLACED=new", "BH_TEST_ADDED=added", NULL};
	struct bh_spawn_options opts = {
		.env_set = set,
		.stdio = {BH_SPAWN_NULL, BH_SPAWN_INHERIT, BH_SPAWN_INHERIT},
	};
	int status;
	char *out = run_script(&opts,
		"echo \"$BH_TEST_KEPT $BH_TEST_REPLACED $BH_TEST_ADDED\"; env | grep -c "
		"'^BH_TEST_REPLACED='",
		&status);
	CHECK_EQ_INT(status, 0);
	CHECK(out != NULL && strcmp(out, "kept new added\n1\n") == 0);

	/* env replaces ours entirely. */
	const char *env[] = {"ONLY=this", "PATH=/usr/bin:/bin", NULL};
	struct bh_spawn_options only = {
		.env = env,
		.stdio = {BH_SPAWN_NULL, BH_SPAWN_INHERIT, BH_SPAWN_INHERIT},
	};
	out = run_script(&only, "echo \"$ONLY:${BH_TEST_KEPT:-unset}\"", &status);
	CHECK_EQ_INT(status, 0);
	CHECK(out != NULL && strcmp(out, "this:unset\n") == 0);
}

static void test_fds(void)
{
	/* An fd without close-on-exec is closed off unless kept. */
	int leaked = open("/dev/null", O_RDONLY);
	int kept = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(leaked > 2 && kept > 2);
	char script[256];
	snprintf(script, sizeof(script),
		"[ -e /proc/self/fd/%d ] && echo leaked; [ -e /proc/self/fd/%d ] && echo kept; "
		"read line || echo stdin-empty",
		leaked, kept);
	const int keep[] = {kept, -1};
	struct bh_spawn_options opts = {
		.keep_fds = keep,
		.stdio = {BH_SPAWN_NULL, BH_SPAWN_INHERIT, BH_SPAWN_INHERIT},
	};
	int status;
	char *out = run_script(&opts, script, &status);
	CHECK(out != NULL && strcmp(out, "kept\nstdin-empty\n") == 0);
	close(leaked);
	close(kept);

	/* Slots that name each other's fds: stdout to our stderr, stderr to
	 * our stdout (through a pipe each), both arrive where they should. */
	int a[2], b[2];
	CHECK(pipe2(a, O_CLOEXEC) == 0 && pipe2(b, O_CLOEXEC) == 0);
	int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
	dup2(a[1], STDOUT_FILENO);
	dup2(b[1], STDERR_FILENO);
	const char *argv[] = {"/bin/sh", "-c", "echo to-out; echo to-err >&2", NULL};
	struct bh_spawn_options swap = {
		.argv = argv,
		.stdio = {BH_SPAWN_NULL, STDERR_FILENO, STDOUT_FILENO},
	};
	pid_t pid = bh_spawn_process(&swap);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	close(a[1]);
	close(b[1]);
	CHECK_EQ_INT(wait_status(pid), 0);
	char buf[64] = {0};
	CHECK(read(b[0], buf, sizeof(buf) - 1) > 0 && strcmp(buf, "to-out\n") == 0);
	memset(buf, 0, sizeof(buf));
	CHECK(read(a[0], buf, sizeof(buf) - 1) > 0 && strcmp(buf, "to-err\n") == 0);
	close(a[0]);
	close(b[0]);
}

static void test_group_and_cwd(void)
{
	struct bh_spawn_options opts = {
		.stdio = {BH_SPAWN_NULL, BH_SPAWN_INHERIT, BH_SPAWN_INHERIT},
		.group = BH_SPAWN_NEW_SESSION,
		.cwd = "/",
	};
	int status;
	/* A session leader: its session id and process group are its pid. */
	char *out = run_script(&opts,
		"read -r _ _ _ _ pgrp sid _ </proc/$$/stat; [ \"$pgrp\" = $$ ] && [ \"$sid\" = $$ "
		"] "
		"&& echo leader; pwd",
		&status);
	CHECK(out != NULL && strcmp(out, "leader\n/\n") == 0);

	struct bh_spawn_options missing = {
		.stdio = {BH_SPAWN_NULL, BH_SPAWN_INHERIT, BH_SPAWN_INHERIT},
		.cwd = "/nonexistent/bulkhead-test",
	};
	out = run_script(&missing, "pwd", &status);
	CHECK(out != NULL && strcmp(out, "/\n") == 0);

	/* Signals we ignore are not inherited. */
	signal(SIGUSR1, SIG_IGN);
	struct bh_spawn_options sig = {
		.stdio = {BH_SPAWN_NULL, BH_SPAWN_INHERIT, BH_SPAWN_INHERIT},
	};
	out = run_script(&sig, "kill -USR1 $$; echo survived", &status);
	CHECK_EQ_INT(status, 128 + SIGUSR1);
	CHECK(out != NULL && out[0] == '\0');
	signal(SIGUSR1, SIG_DFL);
}

static void test_run_tool(void)
{
	const char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	char *out = NULL, *err = NULL;
	CHECK_EQ_INT(bh_run_tool(argv, &out, &err), 3);
	CHECK(out != NULL && strcmp(out, "out\n") == 0);
	CHECK(err != NULL && strcmp(err, "err\n") == 0);
	free(out);
	free(err);

	/* A program that cannot be run: 127 and the reason on its stderr. */
	const char *missing[] = {"bulkhead-no-such-program", NULL};
	err = NULL;
	CHECK_EQ_INT(bh_run_tool(missing, NULL, &err), 127);
	CHECK(err != NULL && strstr(err, "could not run bulkhead-no-such-program") != NULL);
	free(err);
}

static void test_byte_queue(void)
{
	int fds[2];
	CHECK(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
	fcntl(fds[1], F_SETPIPE_SZ, 4096);
	struct bh_byte_queue q = {0};
	uint8_t *room = bh_byte_queue_extend(&q, 3 * 4096);
	CHECK(room != NULL && q.len == 3 * 4096);
	for (size_t i = 0; room != NULL && i < q.len; i++) {
		room[i] = (uint8_t)(i % 251);
	}
	/* The pipe takes what fits; the rest waits, in order. */
	size_t got = 0;
	bool in_order = true;
	uint8_t buf[4096];
	for (int round = 0; round < 16 && (q.len > 0 || got < 3 * 4096); round++) {
		CHECK(bh_byte_queue_write(&q, fds[1]));
		ssize_t n;
		while ((n = read(fds[0], buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < n; i++) {
				in_order = in_order && buf[i] == (uint8_t)((got + (size_t)i) % 251);
			}
			got += (size_t)n;
		}
	}
	CHECK_EQ_INT(got, 3 * 4096);
	CHECK_EQ_INT(q.len, 0);
	CHECK(in_order);

	/* A reader that is gone: false with errno kept. */
	signal(SIGPIPE, SIG_IGN);
	close(fds[0]);
	room = bh_byte_queue_extend(&q, 1);
	CHECK(room != NULL);
	CHECK(!bh_byte_queue_write(&q, fds[1]) && errno == EPIPE);
	signal(SIGPIPE, SIG_DFL);
	close(fds[1]);
	bh_byte_queue_finish(&q);
	CHECK(q.data == NULL && q.len == 0);
}

/* A grown table keeps its items and the new ones are zero, also when
 * the allocator reused memory that held something. */
static void test_table_grow(void)
{
	uint32_t *t = bh_table_grow(NULL, 0, 4, sizeof(*t));
	CHECK(t != NULL);
	for (int i = 0; i < 4; i++) {
		CHECK(t[i] == 0);
		t[i] = 0xdead0000u + (uint32_t)i;
	}
	/* dirty memory the next allocation may get */
	uint32_t *junk = malloc(64 * sizeof(*junk));
	CHECK(junk != NULL);
	memset(junk, 0xab, 64 * sizeof(*junk));
	free(junk);
	t = bh_table_grow(t, 4, 64, sizeof(*t));
	CHECK(t != NULL);
	bool ok = true;
	for (int i = 0; i < 64; i++) {
		ok = ok && t[i] == (i < 4 ? 0xdead0000u + (uint32_t)i : 0);
	}
	CHECK(ok);
	/* shrinking is refused; the table stays */
	CHECK(bh_table_grow(t, 64, 8, sizeof(*t)) == NULL);
	CHECK(t[3] == 0xdead0003u);
	free(t);
}

static void test_text_printable(void)
{
	CHECK(bh_text_printable(""));
	CHECK(bh_text_printable("not root: no physical addresses"));
	CHECK(bh_text_printable("caf\xc3\xa9")); /* UTF-8 is text */
	CHECK(!bh_text_printable(NULL));
	CHECK(!bh_text_printable("bad\x1b[2J"));
	CHECK(!bh_text_printable("two\nlines"));
	CHECK(!bh_text_printable("del\x7f"));
}

int main(void)
{
	test_text_printable();
	test_env();
	test_fds();
	test_group_and_cwd();
	test_run_tool();
	test_byte_queue();
	test_table_grow();
	return bh_test_finish("test_util");
}
