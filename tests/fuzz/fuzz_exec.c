/* libFuzzer target: reading exec session messages, as the agent reads what
 * the host sends (START, STDIN, EOF, SIGNAL, RESIZE) and as bulkheadctl
 * reads what the guest sends (STDOUT, STDERR, EXIT, ERROR): the parser both
 * use (common/exec_msg.c), without the processes a START would start.
 * Input: one byte whose lowest bit picks the side (0: the agent's, 1:
 * bulkheadctl's), then messages, each a little-endian u16 length and that
 * many bytes (type byte first), read in order until one is refused, as the
 * session would end there. What a read accepts must be exactly what the
 * message said: a START is written again from what was read and compared. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/endpoint.h"
#include "common/exec_msg.h"
#include "common/log.h"

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_exec: %s\n", what);
		abort();
	}
}

static void check_start(const struct bh_exec_start *st, const uint8_t *msg, size_t len)
{
	check(st->argc >= 1 && st->argc <= BH_EXEC_MAX_ARGS, "argc out of range");
	check(st->argv != NULL && st->argv[st->argc] == NULL, "argv not NULL-terminated");
	static struct bh_msg again;
	bh_msg_init(&again, BH_EXEC_START);
	bh_msg_u32(&again, st->flags);
	bh_msg_u16(&again, st->rows);
	bh_msg_u16(&again, st->cols);
	bh_msg_u32(&again, st->argc);
	for (uint32_t i = 0; i < st->argc; i++) {
		check(st->argv[i] != NULL, "an argument is missing");
		bh_msg_str(&again, st->argv[i]);
	}
	check(again.ok && again.len == len && memcmp(again.buf, msg, len) == 0,
		"START reads as something other than what was sent");
}

static void check_msg(
	const struct bh_exec_reader *r, const struct bh_exec_msg *m, const uint8_t *msg, size_t len)
{
	check(m->type == msg[0], "the type is not the message's");
	if (m->data != NULL) {
		check(m->data == msg + 1 && m->len == len - 1, "the bytes are not the message's");
	}
	if (r->from_host) {
		check(r->started, "a message was taken before START");
		switch (m->type) {
		case BH_EXEC_START:
			check_start(&m->start, msg, len);
			break;
		case BH_EXEC_SIGNAL:
			check(m->signal >= 1 && m->signal <= BH_EXEC_SIGNAL_MAX && len == 5,
				"a signal out of range");
			break;
		case BH_EXEC_RESIZE:
			check(len == 5 && m->rows == (msg[1] | msg[2] << 8) &&
					m->cols == (msg[3] | msg[4] << 8),
				"a resize read wrong");
			break;
		case BH_EXEC_EOF:
			check(len == 1, "EOF with a body");
			break;
		case BH_EXEC_STDIN:
			break;
		default:
			check(false, "a guest message taken from the host");
		}
	} else {
		switch (m->type) {
		case BH_EXEC_EXIT:
			check(len == 9 && m->how <= 1 && r->ended, "an exit read wrong");
			break;
		case BH_EXEC_ERROR:
			check(len - 1 <= BH_EXEC_ERROR_MAX && r->ended, "an error read wrong");
			break;
		case BH_EXEC_STDOUT:
		case BH_EXEC_STDERR:
			check(!r->ended, "output after the end");
			break;
		default:
			check(false, "a host message taken from the guest");
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	if (!once) {
		bh_log_init("fuzz_exec", BH_LOG_SILENT);
		bh_log_set_level(BH_LOG_SILENT);
		once = 1;
	}
	if (size < 1) {
		return 0;
	}
	struct bh_exec_reader r;
	bh_exec_reader_init(&r, (data[0] & 1) == 0);
	size_t off = 1;
	bool ended_before = false;
	while (size - off >= 2) {
		size_t len = data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (len > size - off) {
			len = size - off;
		}
		/* An exact-size copy, so any read past the message is caught. */
		uint8_t *msg = malloc(len ? len : 1);
		memcpy(msg, data + off, len);
		off += len;
		struct bh_exec_msg m;
		char err[128];
		err[0] = '\0';
		bool ok = bh_exec_read(&r, msg, len, &m, err, sizeof(err));
		if (ok) {
			check(!ended_before, "a message taken after EXIT or ERROR");
			check_msg(&r, &m, msg, len);
		} else {
			check(err[0] != '\0' && strchr(err, '\n') == NULL,
				"a refusal without a one-line reason");
		}
		ended_before = r.ended;
		bh_exec_msg_finish(&m);
		free(msg);
		if (!ok) {
			break;
		}
	}
	return 0;
}
