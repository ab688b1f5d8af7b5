/* Writes a libFuzzer dictionary of Wayland message skeletons from the
 * scanner's interface tables: for every request (and, for fuzz_wl_msg,
 * event) of every interface a guest can reach from the allowlisted
 * globals, one well-formed message with zero arguments and its header
 * word alone. Each interface has one conventional object id, and every
 * new_id and object argument of that interface uses it, so skeletons
 * chain: get_xdg_surface creates the id that get_toplevel is sent to.
 *   wl-dict wire    records of fuzz_wl_msg (direction byte, message),
 *                   ids as its preamble binds them
 *   wl-dict relay   frames of fuzz_relay (u16 length, BH_RELAY_WL,
 *                   message), with a bind of each global it shows */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <wayland-client-protocol.h>

#include "common/allowlist.h"
#include "common/relay.h"
#include "tests/fuzz/fuzz_relay_globals.h"

#define MAX_IFACES 128
/* libFuzzer ignores longer dictionary entries. */
#define MAX_ENTRY 64
/* fuzz_wl_msg's preamble: globals from 3 in allowlist order, then this. */
#define WIRE_SURFACE_ID 19u

static const struct wl_interface *ifaces[MAX_IFACES];
static uint32_t ids[MAX_IFACES];
static size_t nifaces;
static bool relay;

static size_t iface_index(const struct wl_interface *iface)
{
	for (size_t i = 0; i < nifaces; i++) {
		if (ifaces[i] == iface || strcmp(ifaces[i]->name, iface->name) == 0) {
			return i;
		}
	}
	return SIZE_MAX;
}

static void discover(const struct wl_interface *iface)
{
	if (iface == NULL || iface_index(iface) != SIZE_MAX || nifaces == MAX_IFACES) {
		return;
	}
	ifaces[nifaces++] = iface;
	for (int dir = 0; dir < 2; dir++) {
		const struct wl_message *ms = dir ? iface->events : iface->methods;
		int count = dir ? iface->event_count : iface->method_count;
		for (int i = 0; i < count; i++) {
			size_t nargs = 0;
			for (const char *s = ms[i].signature; *s; s++) {
				if ((*s >= 'a' && *s <= 'z')) {
					discover(ms[i].types[nargs++]);
				}
			}
		}
	}
}

static uint32_t id_of(const struct wl_interface *iface)
{
	size_t i = iface != NULL ? iface_index(iface) : SIZE_MAX;
	return i != SIZE_MAX ? ids[i] : 1;
}

static void put32(uint8_t *buf, size_t *len, uint32_t v)
{
	memcpy(buf + *len, &v, 4);
	*len += 4;
}

static void put_str(uint8_t *buf, size_t *len, const char *s)
{
	uint32_t slen = (uint32_t)strlen(s) + 1;
	uint32_t padded = (slen + 3) & ~3u;
	put32(buf, len, slen);
	memset(buf + *len, 0, padded);
	memcpy(buf + *len, s, slen);
	*len += padded;
}

static void emit(const char *name, const uint8_t *p, size_t len)
{
	if (len > MAX_ENTRY) {
		return;
	}
	printf("%s=\"", name);
	for (size_t i = 0; i < len; i++) {
		printf("\\x%02x", p[i]);
	}
	printf("\"\n");
}

/* A message (object, opcode, body) as the target's input wants it. */
static void emit_message(const char *name, bool event, uint32_t object, uint32_t opcode,
	const uint8_t *body, size_t blen)
{
	uint8_t rec[3 + 8 + 256];
	size_t len = 0;
	uint32_t size = (uint32_t)(8 + blen);
	if (relay) {
		uint16_t flen = (uint16_t)(1 + size);
		memcpy(rec, &flen, 2);
		rec[2] = BH_RELAY_WL;
		len = 3;
	} else {
		rec[0] = event ? 1 : 0;
		len = 1;
	}
	put32(rec, &len, object);
	put32(rec, &len, size << 16 | opcode);
	memcpy(rec + len, body, blen);
	len += blen;
	emit(name, rec, len);
	uint32_t head = size << 16 | opcode;
	char word[160];
	snprintf(word, sizeof(word), "%s_head", name);
	emit(word, (const uint8_t *)&head, 4);
}

static void emit_skeletons(const struct wl_interface *iface)
{
	for (int dir = 0; dir < (relay ? 1 : 2); dir++) {
		const struct wl_message *ms = dir ? iface->events : iface->methods;
		int count = dir ? iface->event_count : iface->method_count;
		for (int i = 0; i < count; i++) {
			uint8_t body[256];
			size_t blen = 0, nargs = 0;
			bool nullable = false, fits = true;
			for (const char *s = ms[i].signature; *s && fits; s++) {
				if (*s == '?') {
					nullable = true;
					continue;
				}
				if (*s < 'a' || *s > 'z') {
					continue;
				}
				const struct wl_interface *type = ms[i].types[nargs++];
				fits = blen + 16 <= sizeof(body);
				switch (*s) {
				case 's':
					put_str(body, &blen, "x");
					break;
				case 'a':
					put32(body, &blen, 0);
					break;
				case 'h':
					break;
				case 'o':
					put32(body, &blen, type != NULL ? id_of(type) : nullable ? 0 : 1);
					break;
				case 'n':
					put32(body, &blen, type != NULL ? id_of(type) : 0);
					break;
				default:
					put32(body, &blen, 0);
				}
				nullable = false;
			}
			char name[160];
			snprintf(name, sizeof(name), "%s_%s_%s", dir ? "ev" : "rq", iface->name,
				ms[i].name);
			if (fits) {
				emit_message(name, dir == 1, id_of(iface), (uint32_t)i, body, blen);
			}
		}
	}
}

static void emit_bind(uint32_t name, const char *iface, uint32_t version, uint32_t id)
{
	uint8_t body[128];
	size_t blen = 0;
	put32(body, &blen, name);
	put_str(body, &blen, iface);
	put32(body, &blen, version);
	put32(body, &blen, id);
	char entry[160];
	snprintf(entry, sizeof(entry), "bind_%s", iface);
	emit_message(entry, false, 2, 0, body, blen);
	if (!relay) {
		/* and the registry event that shows it */
		blen = 0;
		put32(body, &blen, name);
		put_str(body, &blen, iface);
		put32(body, &blen, version);
		snprintf(entry, sizeof(entry), "global_%s", iface);
		emit_message(entry, true, 2, 0, body, blen);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "wire") != 0 && strcmp(argv[1], "relay") != 0)) {
		fprintf(stderr, "usage: wl-dict wire|relay\n");
		return 2;
	}
	relay = strcmp(argv[1], "relay") == 0;
	discover(&wl_display_interface);
	const struct bh_guest_global *g;
	for (size_t i = 0; (g = bh_guest_global_at(i)) != NULL; i++) {
		discover(g->interface);
	}
	/* The ids the targets' preambles give, then one per interface. */
	uint32_t next = relay ? 3 : 20;
	for (size_t i = 0; i < nifaces; i++) {
		ids[i] = next++;
	}
	ids[iface_index(&wl_display_interface)] = 1;
	ids[iface_index(&wl_registry_interface)] = 2;
	if (!relay) {
		for (size_t i = 0; (g = bh_guest_global_at(i)) != NULL; i++) {
			ids[iface_index(g->interface)] = 3 + (uint32_t)i;
		}
		ids[iface_index(&wl_surface_interface)] = WIRE_SURFACE_ID;
	}
	printf("# Wayland message skeletons for %s, made by tests/fuzz/wl-dict.c\n",
		relay ? "fuzz_relay" : "fuzz_wl_msg");
	for (size_t i = 0; i < nifaces; i++) {
		emit_skeletons(ifaces[i]);
	}
	if (relay) {
		for (size_t i = 0; i < FUZZ_RELAY_NGLOBALS; i++) {
			const struct fuzz_relay_global *rg = &fuzz_relay_globals[i];
			/* Hidden globals (dmabuf) are bound too: the refusal is a path. */
			uint32_t id = 3;
			for (size_t k = 0; k < nifaces; k++) {
				if (strcmp(ifaces[k]->name, rg->interface) == 0) {
					id = ids[k];
				}
			}
			emit_bind((uint32_t)i + 1, rg->interface, rg->version, id);
		}
		/* The other relay frames: an shm pool, its data, a pipe. */
		uint8_t f[32];
		uint16_t flen = BH_RELAY_FD_SHM_LEN;
		memcpy(f, &flen, 2);
		f[2] = BH_RELAY_FD_SHM;
		uint32_t pool = 1;
		uint64_t size = 4096;
		memcpy(f + 3, &pool, 4);
		memcpy(f + 7, &size, 8);
		emit("fd_shm", f, 2 + flen);
		flen = BH_RELAY_SHM_HEAD + 4;
		memcpy(f, &flen, 2);
		f[2] = BH_RELAY_SHM_DATA;
		uint64_t offset = 0;
		memcpy(f + 7, &offset, 8);
		memset(f + 15, 0x55, 4);
		emit("shm_data", f, 2 + flen);
		flen = BH_RELAY_FD_PIPE_LEN;
		memcpy(f, &flen, 2);
		f[2] = BH_RELAY_FD_PIPE;
		uint32_t stream = 9;
		memcpy(f + 3, &stream, 4);
		emit("fd_pipe", f, 2 + flen);
		flen = BH_RELAY_FD_FILE_LEN;
		memcpy(f, &flen, 2);
		f[2] = BH_RELAY_FD_FILE;
		uint32_t fsize = 64;
		memcpy(f + 3, &fsize, 4);
		emit("fd_file", f, 2 + flen);
		/* A region pool's fd, and a piece of guest memory copied into
		 * the first slot. */
		flen = BH_RELAY_FD_REGION_LEN;
		memcpy(f, &flen, 2);
		f[2] = BH_RELAY_FD_REGION;
		memcpy(f + 3, &pool, 4);
		emit("fd_region", f, 2 + flen);
		flen = BH_RELAY_SHM_GPA_HEAD + BH_RELAY_SHM_GPA_PIECE;
		memcpy(f, &flen, 2);
		f[2] = BH_RELAY_SHM_GPA;
		uint64_t dest = 4096, gpa = 8192;
		uint32_t plen = 4096;
		memcpy(f + 3, &dest, 8);
		memcpy(f + 11, &gpa, 8);
		memcpy(f + 19, &plen, 4);
		emit("shm_gpa", f, 2 + flen);
	} else {
		for (size_t i = 0; (g = bh_guest_global_at(i)) != NULL; i++) {
			emit_bind((uint32_t)i + 1, g->interface->name,
				(uint32_t)g->interface->version, 3 + (uint32_t)i);
		}
	}
	return ferror(stdout) ? 1 : 0;
}
