/* Reading exec session messages: decoding and order rules, no actions. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/endpoint.h"
#include "common/exec_msg.h"

void bh_exec_reader_init(struct bh_exec_reader *r, bool from_host)
{
	*r = (struct bh_exec_reader){.from_host = from_host};
}

static void start_free(struct bh_exec_start *st)
{
	if (st->argv != NULL) {
		for (uint32_t i = 0; i < st->argc; i++) {
			free(st->argv[i]);
		}
		free(st->argv);
	}
	st->argv = NULL;
}

static bool read_start(
	const uint8_t *p, size_t len, struct bh_exec_start *st, char *err, size_t err_size)
{
	if (len < 12) {
		snprintf(err, err_size, "exec start message too short (%zu bytes)", len);
		return false;
	}
	struct bh_msg_reader r;
	bh_msg_reader_init(&r, p, len);
	st->flags = bh_msg_get_u32(&r);
	st->rows = bh_msg_get_u16(&r);
	st->cols = bh_msg_get_u16(&r);
	st->argc = bh_msg_get_u32(&r);
	/* Each argument takes at least its 4-byte length: a count the body
	 * cannot hold is refused before anything is allocated for it. */
	if (st->argc == 0 || st->argc > BH_EXEC_MAX_ARGS || st->argc > r.len / 4) {
		snprintf(err, err_size, "exec start with %u arguments", st->argc);
		return false;
	}
	st->argv = calloc((size_t)st->argc + 1, sizeof(*st->argv));
	if (st->argv == NULL) {
		snprintf(err, err_size, "out of memory");
		return false;
	}
	for (uint32_t i = 0; i < st->argc && r.ok; i++) {
		st->argv[i] = bh_msg_get_str(&r, SIZE_MAX);
	}
	if (!bh_msg_end(&r)) {
		start_free(st);
		snprintf(err, err_size, "malformed exec start message");
		return false;
	}
	return true;
}

/* What the host sends: START first and once, then the rest. */
static bool read_from_host(struct bh_exec_reader *r, struct bh_exec_msg *msg, const uint8_t *p,
	size_t len, char *err, size_t err_size)
{
	struct bh_msg_reader body;
	if (!r->started && msg->type != BH_EXEC_START) {
		snprintf(err, err_size, "exec message %u before start", msg->type);
		return false;
	}
	switch (msg->type) {
	case BH_EXEC_START:
		if (r->started) {
			snprintf(err, err_size, "second exec start");
			return false;
		}
		r->started = true;
		return read_start(p, len, &msg->start, err, err_size);
	case BH_EXEC_STDIN:
		msg->data = p;
		msg->len = len;
		return true;
	case BH_EXEC_EOF:
		if (len != 0) {
			snprintf(err, err_size, "malformed exec eof");
			return false;
		}
		return true;
	case BH_EXEC_SIGNAL:
		bh_msg_reader_init(&body, p, len);
		msg->signal = bh_msg_get_u32(&body);
		if (!bh_msg_end(&body) || msg->signal < 1 || msg->signal > BH_EXEC_SIGNAL_MAX) {
			snprintf(err, err_size, "malformed exec signal");
			return false;
		}
		return true;
	case BH_EXEC_RESIZE:
		bh_msg_reader_init(&body, p, len);
		msg->rows = bh_msg_get_u16(&body);
		msg->cols = bh_msg_get_u16(&body);
		if (!bh_msg_end(&body)) {
			snprintf(err, err_size, "malformed exec resize");
			return false;
		}
		return true;
	default:
		snprintf(err, err_size, "unknown exec message type %u", msg->type);
		return false;
	}
}

/* What the guest sends: output, then one EXIT or ERROR, then nothing. */
static bool read_from_guest(struct bh_exec_reader *r, struct bh_exec_msg *msg, const uint8_t *p,
	size_t len, char *err, size_t err_size)
{
	struct bh_msg_reader body;
	if (r->ended) {
		snprintf(err, err_size, "exec message %u after the exit status", msg->type);
		return false;
	}
	switch (msg->type) {
	case BH_EXEC_STDOUT:
	case BH_EXEC_STDERR:
		msg->data = p;
		msg->len = len;
		return true;
	case BH_EXEC_EXIT:
		bh_msg_reader_init(&body, p, len);
		msg->how = bh_msg_get_u32(&body);
		msg->code = bh_msg_get_u32(&body);
		if (!bh_msg_end(&body)) {
			snprintf(err, err_size, "exec exit message of %zu bytes (8 expected)", len);
			return false;
		}
		if (msg->how > 1) {
			snprintf(err, err_size, "exec exit of unknown kind %u", msg->how);
			return false;
		}
		r->ended = true;
		return true;
	case BH_EXEC_ERROR:
		if (len > BH_EXEC_ERROR_MAX) {
			snprintf(err, err_size, "exec error text of %zu bytes (at most %u)", len,
				BH_EXEC_ERROR_MAX);
			return false;
		}
		msg->data = p;
		msg->len = len;
		r->ended = true;
		return true;
	default:
		snprintf(err, err_size, "unknown exec message type %u", msg->type);
		return false;
	}
}

bool bh_exec_read(struct bh_exec_reader *r, const uint8_t *p, size_t len, struct bh_exec_msg *msg,
	char *err, size_t err_size)
{
	*msg = (struct bh_exec_msg){0};
	if (len == 0) {
		snprintf(err, err_size, "empty exec message");
		return false;
	}
	msg->type = p[0];
	return r->from_host ? read_from_host(r, msg, p + 1, len - 1, err, err_size)
			    : read_from_guest(r, msg, p + 1, len - 1, err, err_size);
}

void bh_exec_msg_finish(struct bh_exec_msg *msg)
{
	start_free(&msg->start);
}
