/* libFuzzer target: the relay's Wayland message walker
 * (bh_wl_wire_parse) on one connection per input that has already
 * bound every global the tables know, so deep interfaces are a message
 * or two away. That connection is made once per process and each input
 * starts from a copy of it (bh_wl_wire_copy). The dictionary
 * (wl-dict.c) holds a skeleton of every message.
 * Input: records, each one byte whose low bit is the direction (1: an
 * event) and then a Wayland message whose length is its header's size
 * (at least 8, at most what is left), so one bad size does not hide the
 * messages after it. Parsing goes on after a refused message: the walker
 * promises to leave the object table as it was. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <wayland-util.h>

#include "common/allowlist.h"
#include "common/relay.h"
#include "common/relay_pipes.h"

/* The version of name's interface table the walker parses with, 0 when
 * a bind may not name it. */
static uint32_t table_version(const char *name)
{
	const struct bh_guest_global *g = bh_guest_global_find(name);
	return g != NULL ? (uint32_t)g->interface->version : 0;
}

/* The preamble's ids: wl_registry 2, these globals from 3 in this order,
 * then a wl_surface (seeds in make-wl-msg-seeds.py rely on them). */
/* The preamble binds every guest global (common/allowlist.h) as objects
 * 3, 4, …, then makes a surface; the surface keeps the id the committed
 * corpus was made with. */
#define SURFACE_ID 19u

static void put32(uint8_t *buf, size_t *len, uint32_t v)
{
	memcpy(buf + *len, &v, 4);
	*len += 4;
}

static bool parse_checked(
	struct bh_wl_wire *wire, enum bh_wl_dir dir, const uint8_t *data, size_t size)
{
	struct bh_wl_msg msg;
	char err[128];
	err[0] = '\0';
	bool ok = bh_wl_wire_parse(wire, dir, data, size, &msg, err, sizeof(err));
	/* Beyond not crashing: what a parse reports must be safe for the
	 * relay's handlers to use as it is. */
	if (!ok) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL) {
			abort();
		}
		return false;
	}
	uint32_t head[2];
	memcpy(head, data, 8);
	if (msg.object != head[0] || msg.opcode != (head[1] & 0xffff) || msg.interface == NULL ||
		msg.name == NULL || msg.nargs > BH_WL_MAX_ARGS || msg.nfds > msg.nargs) {
		abort();
	}
	for (uint32_t i = 0; i < msg.nargs; i++) {
		const uint8_t *s = (const uint8_t *)msg.str[i];
		if (s == NULL) {
			continue;
		}
		/* a string lies in the message, its NUL included */
		if (s < data + 8 || s >= data + size ||
			memchr(s, '\0', size - (size_t)(s - data)) == NULL) {
			abort();
		}
	}
	return true;
}

/* A message of its own exact size on the heap, so reading past its end
 * is an AddressSanitizer report and not a read of the next record. */
static bool parse_copy(
	struct bh_wl_wire *wire, enum bh_wl_dir dir, const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (copy == NULL) {
		return false;
	}
	memcpy(copy, data, size);
	bool ok = parse_checked(wire, dir, copy, size);
	free(copy);
	return ok;
}

static void preamble(struct bh_wl_wire *wire)
{
	uint8_t buf[128];
	size_t len = 0;
	put32(buf, &len, 1);
	put32(buf, &len, 12u << 16 | 1); /* wl_display.get_registry */
	put32(buf, &len, 2);
	bool ok = parse_copy(wire, BH_WL_REQUEST, buf, len);
	const struct bh_guest_global *g;
	for (uint32_t i = 0; (g = bh_guest_global_at(i)) != NULL; i++) {
		const char *name = g->interface->name;
		uint32_t slen = (uint32_t)strlen(name) + 1;
		uint32_t padded = (slen + 3) & ~3u;
		uint32_t size = 8 + 4 + 4 + padded + 4 + 4;
		len = 0;
		put32(buf, &len, 2);
		put32(buf, &len, size << 16 | 0); /* wl_registry.bind */
		put32(buf, &len, i + 1);
		put32(buf, &len, slen);
		memset(buf + len, 0, padded);
		memcpy(buf + len, name, slen);
		len += padded;
		put32(buf, &len, table_version(name));
		put32(buf, &len, 3 + i);
		ok = ok && parse_copy(wire, BH_WL_REQUEST, buf, len);
	}
	len = 0;
	put32(buf, &len, 3);
	put32(buf, &len, 12u << 16 | 0); /* wl_compositor.create_surface */
	put32(buf, &len, SURFACE_ID);
	ok = ok && parse_copy(wire, BH_WL_REQUEST, buf, len);
	/* the fixed start must parse, or the fuzzing reaches little */
	if (!ok) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bh_wl_wire start;
	if (start.objects == NULL) {
		if (!bh_wl_wire_init(&start)) {
			abort();
		}
		preamble(&start);
	}
	struct bh_wl_wire wire;
	if (!bh_wl_wire_copy(&wire, &start)) {
		return 0;
	}
	while (size > 0) {
		enum bh_wl_dir dir = data[0] & 1 ? BH_WL_EVENT : BH_WL_REQUEST;
		data++;
		size--;
		size_t len = size;
		if (size >= 8) {
			uint32_t word;
			memcpy(&word, data + 4, 4);
			len = word >> 16;
			if (len < 8) {
				len = 8;
			}
			if (len > size) {
				len = size;
			}
		}
		parse_copy(&wire, dir, data, len);
		data += len;
		size -= len;
	}
	bh_wl_wire_finish(&wire);
	return 0;
}
