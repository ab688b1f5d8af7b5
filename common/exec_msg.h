/* Exec session messages as the two ends read them (protocols/CONTROL.md,
 * "Exec sessions"): the agent reads what the host sends, bulkheadctl what
 * the guest sends. Reading only decodes and checks; what a message makes
 * happen (a process, a signal, output) stays with the caller, so these
 * parsers run anywhere, the fuzzer included. */
#ifndef BH_EXEC_MSG_H
#define BH_EXEC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BH_EXEC_MAX_ARGS 4096
#define BH_EXEC_ERROR_MAX 1024 /* bytes of ERROR text */
#define BH_EXEC_SIGNAL_MAX 64

/* The order rules of one direction of one session. */
struct bh_exec_reader {
	bool from_host; /* reading host -> guest messages (the agent's side) */
	bool started;   /* host: START came */
	bool ended;     /* guest: EXIT or ERROR came, after which nothing may */
};

/* START's body. */
struct bh_exec_start {
	uint32_t flags; /* BH_EXEC_FLAG_PTY */
	uint16_t rows, cols;
	uint32_t argc; /* 1..BH_EXEC_MAX_ARGS */
	char **argv;   /* argc strings without NUL inside, then NULL */
};

/* One message read. */
struct bh_exec_msg {
	uint8_t type;        /* enum bh_session_msg */
	const uint8_t *data; /* STDIN, STDOUT, STDERR, ERROR: the bytes */
	size_t len;
	struct bh_exec_start start; /* START; its strings belong to the message */
	uint32_t signal;            /* SIGNAL: 1..BH_EXEC_SIGNAL_MAX */
	uint16_t rows, cols;        /* RESIZE */
	uint32_t how, code;         /* EXIT: how 0 exited with code, 1 killed by signal code */
};

void bh_exec_reader_init(struct bh_exec_reader *r, bool from_host);

/* Reads one message of the session (type byte first). False, with one line
 * saying why in err, when it is empty, unknown, out of order, sent the
 * wrong way or malformed: the session must end. bh_exec_msg_finish frees
 * what msg holds (after either answer). */
bool bh_exec_read(struct bh_exec_reader *r, const uint8_t *p, size_t len, struct bh_exec_msg *msg,
	char *err, size_t err_size);
void bh_exec_msg_finish(struct bh_exec_msg *msg);

#endif
