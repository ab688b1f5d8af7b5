/* Test tool: a hostile host against a real agent, on its channel (a VM's
 * serial channel socket, or an agent listening on a unix socket). Each
 * case connects, says hello, sends what no honest proxy would (broken
 * framing, bad stream bookkeeping, malformed control and session messages,
 * hostile Wayland events to a guest client, the committed fuzz corpora of
 * the agent's parsers), then checks that the agent dealt with it as
 * protocols/CHANNEL.md says: a broken frame ends the channel (the agent
 * comes back with a new HELLO), bad content ends only its stream (CLOSE
 * with an error) and the channel still answers PING. Prints "ok CASE" per
 * case, "FAIL CASE: why" otherwise; exits 1 if any case failed.
 * Usage: evil-host unix:PATH [--wayland-client PROGRAM] [--push-dir DIR]
 *                 [--corpus KIND DIR]...
 * PROGRAM: a guest Wayland client the hostile events go to (run through
 * exec); DIR: the guest folder push sessions write into (default /tmp);
 * KIND: agent, exec or archive, whose inputs are replayed (the agent may
 * refuse them any way it likes, but must go on answering). */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/channel.h"
#include "common/endpoint.h"
#include "common/le.h"
#include "common/relay.h"

static struct sockaddr_un channel_addr = {.sun_family = AF_UNIX};
static int fd = -1;
static struct bh_channel_decoder dec;
static uint8_t inbuf[BH_CHANNEL_MAX_PAYLOAD + BH_CHANNEL_HEADER];
static size_t inlen;
static uint32_t next_stream = 2; /* the host's ids are even, never reused */
static int failures;
static const char *push_dir = "/tmp"; /* where push sessions point */

/* One frame the agent sent, copied. */
struct frame {
	uint32_t type, stream, len;
	uint8_t payload[BH_CHANNEL_MAX_PAYLOAD];
};
static struct frame got;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void hang_up(void)
{
	if (fd >= 0) {
		close(fd);
		fd = -1;
	}
	bh_channel_decoder_finish(&dec);
	inlen = 0;
}

static bool dial(void)
{
	if (fd >= 0) {
		/* Long enough for the agent to see the end of the last channel
		 * and reopen its port before this one starts. */
		hang_up();
		usleep(500000);
	}
	hang_up();
	bh_channel_decoder_init(&dec);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd >= 0 && connect(fd, (struct sockaddr *)&channel_addr, sizeof(channel_addr)) == 0;
}

static bool send_bytes(const void *p, size_t len)
{
	const uint8_t *b = p;
	while (len > 0) {
		ssize_t n = send(fd, b, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return false;
		}
		b += n;
		len -= (size_t)n;
	}
	return true;
}

/* A frame with any header at all: the length field says hdr_len, the
 * payload sent is len bytes. */
static bool send_raw(uint32_t type, uint32_t stream, uint32_t hdr_len, const void *p, size_t len)
{
	uint8_t h[BH_CHANNEL_HEADER];
	bh_le32_put(h, hdr_len);
	bh_le32_put(h + 4, stream);
	bh_le32_put(h + 8, type);
	return send_bytes(h, sizeof(h)) && (len == 0 || send_bytes(p, len));
}

static bool send_frame(uint32_t type, uint32_t stream, const void *p, size_t len)
{
	return send_raw(type, stream, (uint32_t)len, p, len);
}

static bool send_control(uint32_t ctl, const void *p, size_t len)
{
	return send_frame(BH_FRAME_CONTROL_BASE + ctl, 0, p, len);
}

static bool send_hello(uint32_t version)
{
	uint8_t p[12];
	bh_le32_put(p, version);
	bh_le32_put(p + 4, BH_CAP_X11);
	bh_le32_put(p + 8, 0);
	return send_control(BH_CTL_HELLO, p, sizeof(p));
}

static uint32_t open_stream(uint32_t kind)
{
	uint32_t id = next_stream;
	next_stream += 2;
	uint8_t p[4];
	bh_le32_put(p, kind);
	return send_frame(BH_FRAME_OPEN, id, p, sizeof(p)) ? id : 0;
}

static bool keep_frame(const struct bh_frame *f, void *user)
{
	(void)user;
	got.type = f->type;
	got.stream = f->stream;
	got.len = f->len;
	memcpy(got.payload, f->payload, f->len);
	return false; /* one at a time */
}

static bool hung_up; /* the last next_frame ended at the end of the socket */

/* The agent's next frame, within the deadline; false on timeout or end. */
static bool next_frame(uint64_t deadline)
{
	hung_up = false;
	for (;;) {
		if (inlen > 0) {
			size_t used = 0;
			enum bh_decode_status st =
				bh_channel_decoder_feed(&dec, inbuf, inlen, keep_frame, NULL, &used);
			if (st == BH_DECODE_ERROR) {
				fprintf(stderr, "evil-host: the agent sent a bad frame: %s\n",
					bh_channel_decoder_error(&dec));
				return false;
			}
			if (st == BH_DECODE_STOPPED) {
				memmove(inbuf, inbuf + used, inlen - used);
				inlen -= used;
				return true;
			}
			inlen = 0;
		}
		uint64_t now = now_ms();
		if (now >= deadline) {
			return false;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			return false;
		}
		ssize_t n = read(fd, inbuf, sizeof(inbuf));
		if (n <= 0) {
			hung_up = n == 0 || errno != EINTR;
			return false;
		}
		inlen = (size_t)n;
	}
}

static bool is_control(uint32_t ctl)
{
	return got.stream == 0 && got.type == BH_FRAME_CONTROL_BASE + ctl;
}

enum outcome { GOES_ON, RESET, STREAM_CLOSED, SILENT };
static enum outcome settle(uint32_t close_of, unsigned timeout_ms);

/* A fresh channel: connect, hello, the agent's hello, and a ping
 * answered. An agent busy with the previous connection's end may need a
 * moment (and a new try); on a serial port, bytes the last host left
 * (half a frame) make the agent end this channel once more: settle says
 * hello again. */
static bool connect_agent(void)
{
	for (int attempt = 0; attempt < 10; attempt++) {
		if (!dial() || !send_hello(BH_CONTROL_VERSION)) {
			usleep(500000);
			continue;
		}
		uint64_t deadline = now_ms() + 15000;
		bool hello = false;
		while (!hello && next_frame(deadline)) {
			hello = is_control(BH_CTL_HELLO);
		}
		for (int i = 0; hello && i < 3; i++) {
			enum outcome o = settle(0, 15000);
			if (o == GOES_ON) {
				return true;
			}
			if (o == SILENT) {
				break;
			}
		}
	}
	return false;
}

/* What the channel did after a case: PONG (it goes on), a new HELLO (the
 * agent ended the channel and reopened its port: this side says hello
 * again), a CLOSE with an error of stream close_of (when non-zero), or
 * nothing (the agent hung or died). */
static enum outcome settle(uint32_t close_of, unsigned timeout_ms)
{
	static uint64_t cookie = 1000;
	uint8_t p[8];
	bh_le64_put(p, ++cookie);
	bool pinged = send_control(BH_CTL_PING, p, sizeof(p));
	uint64_t deadline = now_ms() + timeout_ms;
	bool closed = false, ponged = false;
	while (next_frame(deadline)) {
		if (is_control(BH_CTL_HELLO)) {
			/* The agent reopened its port: greet the new channel. */
			send_hello(BH_CONTROL_VERSION);
			return RESET;
		}
		/* A stream ends with CLOSE (an error, or after a files session's
		 * own ERROR message). */
		if (close_of != 0 && got.stream == close_of &&
			(got.type == BH_FRAME_CLOSE ||
				(got.type == BH_FRAME_DATA && got.len > 0 &&
					got.payload[0] == BH_FILE_ERROR))) {
			closed = true;
		}
		if (pinged && is_control(BH_CTL_PONG) && got.len == 8 &&
			bh_le64_get(got.payload) == cookie) {
			ponged = true;
		}
		/* The channel answered; a session's helper may answer later. */
		if (ponged && (closed || close_of == 0)) {
			return closed ? STREAM_CLOSED : GOES_ON;
		}
	}
	if (hung_up && !ponged) {
		/* An agent listening on a socket ends a channel by closing it:
		 * the next host connects anew. */
		static bool reconnecting;
		if (reconnecting) {
			return SILENT;
		}
		reconnecting = true;
		bool again = connect_agent();
		reconnecting = false;
		return again ? RESET : SILENT;
	}
	return ponged ? GOES_ON : SILENT;
}

static const char *outcome_name(enum outcome o)
{
	switch (o) {
	case GOES_ON:
		return "the channel went on";
	case RESET:
		return "the agent ended the channel";
	case STREAM_CLOSED:
		return "the agent closed the stream";
	case SILENT:
		return "no answer";
	}
	return "?";
}

static void result(const char *name, enum outcome want, enum outcome got_outcome)
{
	if (got_outcome == want || (want == GOES_ON && got_outcome != SILENT)) {
		printf("ok %s: %s\n", name, outcome_name(got_outcome));
	} else {
		printf("FAIL %s: %s, expected: %s\n", name, outcome_name(got_outcome),
			outcome_name(want));
		failures++;
	}
	fflush(stdout);
}

/* ---- broken framing and stream bookkeeping: the channel ends ---- */

static void framing_cases(void)
{
	uint8_t kind_exec[4], big_credit[4], zero4[4] = {0};
	bh_le32_put(kind_exec, BH_STREAM_EXEC);
	bh_le32_put(big_credit, 0xfffffff0u);
	struct {
		const char *name;
		uint32_t type, stream, hdr_len;
	} headers[] = {
		{"frame over the payload limit", BH_FRAME_DATA, 2, BH_CHANNEL_MAX_PAYLOAD + 1},
		{"unknown frame type", 9, 2, 0},
		{"control type on a stream", BH_FRAME_CONTROL_BASE + BH_CTL_PING, 2, 8},
		{"stream type on stream 0", BH_FRAME_DATA, 0, 0},
		{"OPEN of 3 bytes", BH_FRAME_OPEN, 2, 3},
		{"CLOSE reason over 1024 bytes", BH_FRAME_CLOSE, 2, 4 + BH_CHANNEL_MAX_REASON + 1},
		{"CREDIT of 5 bytes", BH_FRAME_CREDIT, 2, 5},
		{"control type 0 on stream 0", BH_FRAME_CONTROL_BASE - 1, 0, 0},
	};
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		if (!connect_agent()) {
			printf("FAIL %s: no hello from the agent\n", headers[i].name);
			failures++;
			continue;
		}
		send_raw(headers[i].type, headers[i].stream, headers[i].hdr_len, NULL, 0);
		result(headers[i].name, RESET, settle(0, 20000));
	}

	struct {
		const char *name;
		int steps;
	} state[] = {
		{"DATA for a stream never opened", 0},
		{"OPEN in the guest's id range", 1},
		{"OPEN of an id already used", 2},
		{"credit beyond 8 MiB", 3},
		{"unknown control message 200", 4},
		{"LAUNCH whose command overruns it", 5},
		{"hello of version 2", 6},
		{"PING before HELLO", 7},
		{"CLOSE of a stream never opened", 8},
		{"GUEST_RAM without a shared region", 9},
		{"GUEST_RAM of 3 bytes", 10},
		{"GUEST_RAM_ON never asked for", 11},
	};
	for (size_t i = 0; i < sizeof(state) / sizeof(state[0]); i++) {
		if (state[i].steps == 7) {
			/* A new connection whose first word is not hello: the
			 * agent's own hello (of its reopened port) comes, the ping
			 * must not be answered but end the channel. */
			dial();
			uint64_t deadline = now_ms() + 20000;
			bool hello = false;
			while (!hello && next_frame(deadline)) {
				hello = is_control(BH_CTL_HELLO);
			}
			if (!hello) {
				printf("FAIL %s: no hello from the agent\n", state[i].name);
				failures++;
				continue;
			}
			result(state[i].name, RESET, settle(0, 20000));
			continue;
		}
		if (!connect_agent()) {
			printf("FAIL %s: no hello from the agent\n", state[i].name);
			failures++;
			continue;
		}
		uint32_t id;
		uint8_t launch[12];
		switch (state[i].steps) {
		case 0:
			send_frame(BH_FRAME_DATA, next_stream + 100, "x", 1);
			break;
		case 1:
			send_frame(BH_FRAME_OPEN, 3, kind_exec, 4);
			break;
		case 2:
			id = open_stream(BH_STREAM_EXEC);
			send_frame(BH_FRAME_OPEN, id, kind_exec, 4);
			break;
		case 3:
			id = open_stream(BH_STREAM_EXEC);
			send_frame(BH_FRAME_CREDIT, id, big_credit, 4);
			break;
		case 4:
			send_control(200, NULL, 0);
			break;
		case 5:
			bh_le32_put(launch, 1);
			bh_le32_put(launch + 4, 0xffffff00u);
			memcpy(launch + 8, "true", 4);
			send_control(BH_CTL_LAUNCH, launch, sizeof(launch));
			break;
		case 6:
			send_hello(2);
			break;
		case 8:
			send_frame(BH_FRAME_CLOSE, next_stream + 200, zero4, 4);
			break;
		case 9: {
			/* token, low, high: well-formed, but no region is in use */
			uint8_t offer[16 + 16] = {0};
			bh_le64_put(offer + 16, 256u << 20);
			send_control(BH_CTL_GUEST_RAM, offer, sizeof(offer));
			break;
		}
		case 10:
			send_control(BH_CTL_GUEST_RAM, "abc", 3);
			break;
		case 11:
			send_control(BH_CTL_GUEST_RAM_ON, NULL, 0);
			break;
		}
		result(state[i].name, RESET, settle(0, 20000));
	}

	/* Half a header, then the host is gone: the next host is served
	 * (after one more reset on a serial port, where those bytes stay). */
	if (connect_agent()) {
		send_bytes("\x10\x00\x00", 3);
		hang_up();
		if (connect_agent()) {
			printf("ok half a header, then hang-up: the next host is served\n");
		} else {
			printf("FAIL half a header, then hang-up: the next host is not served\n");
			failures++;
		}
	}
}

/* ---- bad session content: only the stream ends ---- */

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s);
	bh_le32_put(p, (uint32_t)n);
	memcpy(p + 4, s, n);
	return 4 + n;
}

static size_t exec_start(uint8_t *p, uint32_t argc, const char *const argv[])
{
	size_t off = 0;
	p[off++] = BH_EXEC_START;
	bh_le32_put(p + off, 0);
	bh_le16_put(p + off + 4, 0);
	bh_le16_put(p + off + 6, 0);
	bh_le32_put(p + off + 8, argc);
	off += 12;
	for (uint32_t i = 0; argv != NULL && argv[i] != NULL; i++) {
		off += put_str(p + off, argv[i]);
	}
	return off;
}

static void session_cases(void)
{
	static uint8_t m[BH_CHANNEL_MAX_PAYLOAD];
	size_t n;
	for (int c = 0; c < 10; c++) {
		const char *name = NULL;
		if (!connect_agent()) {
			printf("FAIL session case %d: no hello from the agent\n", c);
			failures++;
			continue;
		}
		uint32_t id = 0;
		switch (c) {
		case 0:
			name = "OPEN of an unknown kind";
			id = open_stream(99);
			break;
		case 1:
			name = "exec: STDIN before START";
			id = open_stream(BH_STREAM_EXEC);
			m[0] = BH_EXEC_STDIN;
			send_frame(BH_FRAME_DATA, id, m, 1);
			break;
		case 2:
			name = "exec: START with 5000 arguments";
			id = open_stream(BH_STREAM_EXEC);
			n = exec_start(m, 5000, NULL);
			send_frame(BH_FRAME_DATA, id, m, n);
			break;
		case 3: {
			name = "exec: START whose argument overruns it";
			id = open_stream(BH_STREAM_EXEC);
			const char *argv[] = {"true", NULL};
			n = exec_start(m, 1, argv);
			bh_le32_put(m + 13, 40000); /* the string's length */
			send_frame(BH_FRAME_DATA, id, m, n);
			break;
		}
		case 4: {
			name = "exec: SIGNAL 0 to a running command";
			id = open_stream(BH_STREAM_EXEC);
			const char *argv[] = {"sleep", "30", NULL};
			n = exec_start(m, 2, argv);
			send_frame(BH_FRAME_DATA, id, m, n);
			m[0] = BH_EXEC_SIGNAL;
			bh_le32_put(m + 1, 0);
			send_frame(BH_FRAME_DATA, id, m, 5);
			break;
		}
		case 5: {
			name = "exec: a second START";
			id = open_stream(BH_STREAM_EXEC);
			const char *argv[] = {"sleep", "30", NULL};
			n = exec_start(m, 2, argv);
			send_frame(BH_FRAME_DATA, id, m, n);
			send_frame(BH_FRAME_DATA, id, m, n);
			break;
		}
		case 6:
		case 7:
		case 8: {
			/* Push into push_dir, with entries that leave it. */
			const char *names[] = {"push: an entry named ../escape",
				"push: an absolute entry", "push: DATA beyond the file's size"};
			name = names[c - 6];
			id = open_stream(BH_STREAM_PUSH);
			m[0] = BH_FILE_START;
			n = 1 + put_str(m + 1, push_dir);
			send_frame(BH_FRAME_DATA, id, m, n);
			/* The root: a folder evil-push. */
			m[0] = BH_FILE_DIR;
			bh_le32_put(m + 1, 0755);
			bh_le64_put(m + 5, 1000);
			bh_le32_put(m + 13, 0);
			n = 17 + put_str(m + 17, "evil-push");
			send_frame(BH_FRAME_DATA, id, m, n);
			m[0] = BH_FILE_REG;
			bh_le32_put(m + 1, 0644);
			bh_le64_put(m + 5, 1000);
			bh_le32_put(m + 13, 0);
			bh_le64_put(m + 17, 4);
			n = 25 + put_str(m + 25, c == 6 ? "evil-push/../../escape" :
						 c == 7 ? "/etc/evil" :
							  "evil-push/f");
			send_frame(BH_FRAME_DATA, id, m, n);
			if (c == 8) {
				m[0] = BH_FILE_DATA;
				memset(m + 1, 'x', 100);
				send_frame(BH_FRAME_DATA, id, m, 101);
			}
			break;
		}
		case 9:
			name = "pull: START whose path overruns it";
			id = open_stream(BH_STREAM_PULL);
			m[0] = BH_FILE_START;
			bh_le32_put(m + 1, 60000);
			memcpy(m + 5, "/tmp", 4);
			send_frame(BH_FRAME_DATA, id, m, 9);
			break;
		}
		enum outcome o = settle(id, 20000);
		/* A files session refuses in its own words (ERROR) before the
		 * CLOSE; either way the stream must end and the channel stay. */
		result(name, STREAM_CLOSED, o);
	}
}

/* ---- hostile Wayland events to a guest client ---- */

static void wayland_cases(const char *client)
{
	static uint8_t m[BH_CHANNEL_MAX_PAYLOAD];
	for (int c = 0; c < 7; c++) {
		static const char *const names[] = {
			"wayland: a message shorter than its header",
			"wayland: an event on an object never made",
			"wayland: a message longer than its frame",
			"wayland: an error event whose string overruns it",
			"wayland: a file announced of 4 GiB",
			"wayland: file data never announced",
			"wayland: an unknown relay frame",
		};
		if (!connect_agent()) {
			printf("FAIL %s: no hello from the agent\n", names[c]);
			failures++;
			continue;
		}
		uint32_t exec = open_stream(BH_STREAM_EXEC);
		const char *argv[] = {client, NULL};
		size_t n = exec_start(m, 1, argv);
		send_frame(BH_FRAME_DATA, exec, m, n);
		/* The guest client connects: the agent opens its stream. */
		uint32_t wl = 0;
		uint64_t deadline = now_ms() + 60000;
		while (wl == 0 && next_frame(deadline)) {
			if (got.type == BH_FRAME_OPEN && got.len == 4 &&
				bh_le32_get(got.payload) == BH_STREAM_WAYLAND) {
				wl = got.stream;
			}
		}
		if (wl == 0) {
			printf("FAIL %s: %s in the guest never connected\n", names[c], client);
			failures++;
			continue;
		}
		m[0] = BH_RELAY_WL;
		switch (c) {
		case 0:
			bh_le32_put(m + 1, 1);
			bh_le32_put(m + 5, (4u << 16) | 0);
			send_frame(BH_FRAME_DATA, wl, m, 9);
			break;
		case 1:
			bh_le32_put(m + 1, 77777);
			bh_le32_put(m + 5, (8u << 16) | 0);
			send_frame(BH_FRAME_DATA, wl, m, 9);
			break;
		case 2:
			bh_le32_put(m + 1, 1);
			bh_le32_put(m + 5, (4096u << 16) | 1);
			bh_le32_put(m + 9, 5);
			send_frame(BH_FRAME_DATA, wl, m, 13);
			break;
		case 3:
			/* wl_display.error(object 1, code 0, string of 1000 bytes) */
			bh_le32_put(m + 1, 1);
			bh_le32_put(m + 5, (24u << 16) | 0);
			bh_le32_put(m + 9, 1);
			bh_le32_put(m + 13, 0);
			bh_le32_put(m + 17, 1000);
			memcpy(m + 21, "evil", 4);
			send_frame(BH_FRAME_DATA, wl, m, 25);
			break;
		case 4:
			m[0] = BH_RELAY_FD_FILE;
			bh_le32_put(m + 1, 0xffffffffu);
			send_frame(BH_FRAME_DATA, wl, m, 5);
			break;
		case 5:
			m[0] = BH_RELAY_FD_FILE_DATA;
			memset(m + 1, 'k', 64);
			send_frame(BH_FRAME_DATA, wl, m, 65);
			break;
		case 6:
			m[0] = 200;
			send_frame(BH_FRAME_DATA, wl, m, 1);
			break;
		}
		result(names[c], STREAM_CLOSED, settle(wl, 20000));
	}
}

/* ---- the fuzz corpora, replayed ---- */

static uint8_t *read_input(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		return NULL;
	}
	static uint8_t buf[1 << 20];
	*len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return buf;
}

/* Messages of the u16-length format of the exec and archive corpora,
 * each sent as one DATA frame on stream id. */
static void send_messages(uint32_t id, const uint8_t *p, size_t len)
{
	size_t off = 0;
	while (off + 2 <= len) {
		size_t n = bh_le16_get(p + off);
		off += 2;
		if (n > len - off) {
			n = len - off;
		}
		send_frame(BH_FRAME_DATA, id, p + off, n);
		off += n;
	}
}

static void corpus_cases(const char *kind, const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		printf("FAIL corpus %s: cannot open %s\n", kind, dir);
		failures++;
		return;
	}
	int count = 0, resets = 0, silent = 0;
	bool connected = false;
	struct dirent *e;
	static uint8_t m[BH_CHANNEL_MAX_PAYLOAD];
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.') {
			continue;
		}
		size_t len;
		const uint8_t *in = read_input(dir, e->d_name, &len);
		if (in == NULL || len == 0) {
			continue;
		}
		if (!connected && !(connected = connect_agent())) {
			printf("FAIL corpus %s: no hello from the agent\n", kind);
			failures++;
			break;
		}
		if (strcmp(kind, "agent") == 0) {
			/* First byte the control type, the rest its payload (HELLO and
			 * PING are the channel's own: sent as they are too). */
			if (in[0] == 0 || len - 1 > BH_CHANNEL_MAX_PAYLOAD) {
				continue;
			}
			send_control(in[0], in + 1, len - 1);
		} else if (strcmp(kind, "exec") == 0) {
			if ((in[0] & 1) != 0) {
				continue; /* bulkheadctl's side */
			}
			uint32_t id = open_stream(BH_STREAM_EXEC);
			send_messages(id, in + 1, len - 1);
			uint8_t zero[4] = {0};
			send_frame(BH_FRAME_CLOSE, id, zero, 4);
		} else {
			uint32_t id = open_stream(BH_STREAM_PUSH);
			m[0] = BH_FILE_START;
			size_t n = 1 + put_str(m + 1, push_dir);
			send_frame(BH_FRAME_DATA, id, m, n);
			send_messages(id, in, len);
			uint8_t zero[4] = {0};
			send_frame(BH_FRAME_CLOSE, id, zero, 4);
		}
		count++;
		enum outcome o = settle(0, 20000);
		if (o == RESET) {
			resets++;
		} else if (o == SILENT) {
			silent++;
			printf("FAIL corpus %s input %s: no answer after it\n", kind, e->d_name);
			failures++;
			connected = false;
		}
	}
	closedir(d);
	if (silent == 0) {
		printf("ok corpus %s: %d inputs, the agent ended the channel after %d\n", kind, count,
			resets);
	}
	fflush(stdout);
}

int main(int argc, char *argv[])
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || strncmp(argv[1], "unix:", 5) != 0 ||
		strlen(argv[1] + 5) >= sizeof(channel_addr.sun_path)) {
		fprintf(stderr, "usage: evil-host unix:PATH [--wayland-client NAME] [--push-dir DIR] "
				"[--corpus agent|exec|archive DIR]...\n");
		return 2;
	}
	strcpy(channel_addr.sun_path, argv[1] + 5);
	const char *client = NULL;
	const char *corpus[8][2];
	int corpora = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--wayland-client") == 0 && i + 1 < argc) {
			client = argv[++i];
		} else if (strcmp(argv[i], "--push-dir") == 0 && i + 1 < argc) {
			push_dir = argv[++i];
		} else if (strcmp(argv[i], "--corpus") == 0 && i + 2 < argc && corpora < 8) {
			corpus[corpora][0] = argv[i + 1];
			corpus[corpora++][1] = argv[i + 2];
			i += 2;
		} else {
			fprintf(stderr, "evil-host: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	framing_cases();
	session_cases();
	if (client != NULL) {
		wayland_cases(client);
	}
	for (int i = 0; i < corpora; i++) {
		corpus_cases(corpus[i][0], corpus[i][1]);
	}
	/* The agent still serves an honest host. */
	if (!connect_agent() || settle(0, 20000) != GOES_ON) {
		printf("FAIL the agent no longer answers an honest hello\n");
		failures++;
	}
	hang_up();
	printf("%s: %d failed\n", failures ? "evil host cases done, some failed" : "evil host cases done",
		failures);
	return failures ? 1 : 0;
}
