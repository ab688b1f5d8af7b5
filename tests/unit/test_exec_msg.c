/* Reading exec session messages (common/exec_msg.c): what the agent takes
 * from the host and bulkheadctl from the guest, in order, and what ends a
 * session with which reason. */
#include <string.h>

#include "common/endpoint.h"
#include "common/exec_msg.h"
#include "tests/test.h"

static struct bh_msg start_msg(uint32_t flags, int argc, const char *const argv[])
{
	struct bh_msg m;
	bh_msg_init(&m, BH_EXEC_START);
	bh_msg_u32(&m, flags);
	bh_msg_u16(&m, 24);
	bh_msg_u16(&m, 80);
	bh_msg_u32(&m, (uint32_t)argc);
	for (int i = 0; i < argc; i++) {
		bh_msg_str(&m, argv[i]);
	}
	return m;
}

/* Reads one message; returns whether it was taken, the reason in err. */
static bool read1(
	struct bh_exec_reader *r, const void *p, size_t len, struct bh_exec_msg *m, char *err)
{
	err[0] = '\0';
	return bh_exec_read(r, p, len, m, err, 128);
}

static void test_host_session(void)
{
	struct bh_exec_reader r;
	struct bh_exec_msg m;
	char err[128];
	bh_exec_reader_init(&r, true);
	uint8_t early[] = {BH_EXEC_STDIN, 'x'};
	CHECK(!read1(&r, early, sizeof(early), &m, err));
	CHECK(strcmp(err, "exec message 2 before start") == 0);

	bh_exec_reader_init(&r, true);
	const char *argv[] = {"sh", "-c", "", "echo hi"};
	struct bh_msg s = start_msg(BH_EXEC_FLAG_PTY, 4, argv);
	CHECK(read1(&r, s.buf, s.len, &m, err));
	CHECK_EQ_INT(m.type, BH_EXEC_START);
	CHECK_EQ_INT(m.start.flags, BH_EXEC_FLAG_PTY);
	CHECK_EQ_INT(m.start.rows, 24);
	CHECK_EQ_INT(m.start.cols, 80);
	CHECK_EQ_INT(m.start.argc, 4);
	CHECK(strcmp(m.start.argv[2], "") == 0 && strcmp(m.start.argv[3], "echo hi") == 0);
	CHECK(m.start.argv[4] == NULL);
	bh_exec_msg_finish(&m);
	CHECK(m.start.argv == NULL);

	uint8_t in[] = {BH_EXEC_STDIN, 'a', 'b'};
	CHECK(read1(&r, in, sizeof(in), &m, err) && m.len == 2 && m.data == in + 1);
	uint8_t sig[] = {BH_EXEC_SIGNAL, 15, 0, 0, 0};
	CHECK(read1(&r, sig, sizeof(sig), &m, err) && m.signal == 15);
	uint8_t resize[] = {BH_EXEC_RESIZE, 50, 0, 132, 0};
	CHECK(read1(&r, resize, sizeof(resize), &m, err) && m.rows == 50 && m.cols == 132);
	uint8_t eof[] = {BH_EXEC_EOF};
	CHECK(read1(&r, eof, sizeof(eof), &m, err));

	CHECK(!read1(&r, s.buf, s.len, &m, err));
	CHECK(strcmp(err, "second exec start") == 0);
	uint8_t sig0[] = {BH_EXEC_SIGNAL, 0, 0, 0, 0};
	CHECK(!read1(&r, sig0, sizeof(sig0), &m, err));
	uint8_t sig65[] = {BH_EXEC_SIGNAL, 65, 0, 0, 0};
	CHECK(!read1(&r, sig65, sizeof(sig65), &m, err));
	CHECK(strcmp(err, "malformed exec signal") == 0);
	CHECK(!read1(&r, resize, 4, &m, err));
	CHECK(strcmp(err, "malformed exec resize") == 0);
	uint8_t eof_body[] = {BH_EXEC_EOF, 0};
	CHECK(!read1(&r, eof_body, sizeof(eof_body), &m, err));
	uint8_t out[] = {BH_EXEC_STDOUT, 'x'};
	CHECK(!read1(&r, out, sizeof(out), &m, err));
	CHECK(strcmp(err, "unknown exec message type 16") == 0);
	CHECK(!read1(&r, out, 0, &m, err));
	CHECK(strcmp(err, "empty exec message") == 0);
}

static void test_bad_starts(void)
{
	struct bh_exec_reader r;
	struct bh_exec_msg m;
	char err[128];
	const char *argv[] = {"true"};
	struct bh_msg s = start_msg(0, 1, argv);
	bh_exec_reader_init(&r, true);
	CHECK(!read1(&r, s.buf, 12, &m, err));
	CHECK(strcmp(err, "exec start message too short (11 bytes)") == 0);
	/* no argument, and more than the body could hold */
	s = start_msg(0, 0, argv);
	bh_exec_reader_init(&r, true);
	CHECK(!read1(&r, s.buf, s.len, &m, err));
	CHECK(strcmp(err, "exec start with 0 arguments") == 0);
	s = start_msg(0, 1, argv);
	s.buf[9] = 0xff; /* argc 255 with one argument's bytes */
	bh_exec_reader_init(&r, true);
	CHECK(!read1(&r, s.buf, s.len, &m, err));
	CHECK(strcmp(err, "exec start with 255 arguments") == 0);
	/* 4097 empty arguments: over the limit though the body holds them */
	static const char *many[BH_EXEC_MAX_ARGS + 1];
	for (int i = 0; i <= BH_EXEC_MAX_ARGS; i++) {
		many[i] = "";
	}
	s = start_msg(0, BH_EXEC_MAX_ARGS + 1, many);
	bh_exec_reader_init(&r, true);
	CHECK(!read1(&r, s.buf, s.len, &m, err));
	s = start_msg(0, BH_EXEC_MAX_ARGS, many);
	bh_exec_reader_init(&r, true);
	CHECK(read1(&r, s.buf, s.len, &m, err) && m.start.argc == BH_EXEC_MAX_ARGS);
	bh_exec_msg_finish(&m);
	/* a NUL inside, trailing bytes, a length past the end */
	const char *nul[] = {"ab"};
	s = start_msg(0, 1, nul);
	s.buf[s.len - 1] = '\0';
	bh_exec_reader_init(&r, true);
	CHECK(!read1(&r, s.buf, s.len, &m, err));
	CHECK(strcmp(err, "malformed exec start message") == 0);
	s = start_msg(0, 1, argv);
	bh_msg_u32(&s, 0);
	bh_exec_reader_init(&r, true);
	CHECK(!read1(&r, s.buf, s.len, &m, err));
	s = start_msg(0, 1, argv);
	bh_exec_reader_init(&r, true);
	CHECK(!read1(&r, s.buf, s.len - 1, &m, err));
	CHECK(strcmp(err, "malformed exec start message") == 0);
}

static void test_guest_session(void)
{
	struct bh_exec_reader r;
	struct bh_exec_msg m;
	char err[128];
	bh_exec_reader_init(&r, false);
	uint8_t out[] = {BH_EXEC_STDOUT, 'h', 'i'};
	CHECK(read1(&r, out, sizeof(out), &m, err) && m.len == 2);
	uint8_t errout[] = {BH_EXEC_STDERR};
	CHECK(read1(&r, errout, sizeof(errout), &m, err) && m.len == 0);
	uint8_t exit_msg[] = {BH_EXEC_EXIT, 1, 0, 0, 0, 9, 0, 0, 0};
	CHECK(read1(&r, exit_msg, sizeof(exit_msg), &m, err) && m.how == 1 && m.code == 9);
	/* nothing after the status */
	CHECK(!read1(&r, out, sizeof(out), &m, err));
	CHECK(strcmp(err, "exec message 16 after the exit status") == 0);

	bh_exec_reader_init(&r, false);
	CHECK(!read1(&r, exit_msg, 5, &m, err));
	CHECK(strcmp(err, "exec exit message of 4 bytes (8 expected)") == 0);
	exit_msg[1] = 2;
	CHECK(!read1(&r, exit_msg, sizeof(exit_msg), &m, err));
	static uint8_t text[1 + BH_EXEC_ERROR_MAX + 1] = {BH_EXEC_ERROR};
	CHECK(!read1(&r, text, sizeof(text), &m, err));
	CHECK(read1(&r, text, sizeof(text) - 1, &m, err) && m.len == BH_EXEC_ERROR_MAX);
	CHECK(!read1(&r, text, 1, &m, err));
	bh_exec_reader_init(&r, false);
	uint8_t start[] = {BH_EXEC_START, 0};
	CHECK(!read1(&r, start, sizeof(start), &m, err));
	CHECK(strcmp(err, "unknown exec message type 1") == 0);
}

int main(void)
{
	test_host_session();
	test_bad_starts();
	test_guest_session();
	return bh_test_finish("exec_msg");
}
