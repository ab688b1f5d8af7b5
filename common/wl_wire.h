/* The table-driven Wayland message walker both relay ends parse with: the
 * scanner's wl_interface tables (names, versions, signatures, new_id types)
 * and one object table per relayed connection, fed with both directions so
 * that object ids created on either side are known. */
#ifndef COMMON_WL_WIRE_H
#define COMMON_WL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wl_interface;

enum bh_wl_dir {
	BH_WL_REQUEST, /* client -> compositor */
	BH_WL_EVENT,   /* compositor -> client */
};

#define BH_WL_MAX_ARGS 20
/* Object ids past this many of either side (client ids from 1, server
 * ids from 0xff000000) are refused: no table grows past it. */
#define BH_WL_ID_RANGE (4u * 32768u)

/* One message, as the walker found it. */
struct bh_wl_msg {
	uint32_t object;
	uint32_t opcode;
	const struct wl_interface *interface; /* of object */
	const char *name;                     /* the message's */
	uint32_t nfds;
	/* Arguments in signature order (an untyped new_id is spelled "sun" by
	 * the scanner: interface string, version, id; an fd counts as one,
	 * value 0): the word of integers, objects and new_ids; for strings a
	 * pointer into the message (NUL-terminated, validated) in str[i]. */
	uint32_t nargs;
	uint32_t args[BH_WL_MAX_ARGS];
	const char *str[BH_WL_MAX_ARGS];
};

struct bh_wl_wire {
	struct bh_wl_objects *objects;
};

bool bh_wl_wire_init(struct bh_wl_wire *wire);
void bh_wl_wire_finish(struct bh_wl_wire *wire);
/* Initialises dst as a copy of src's object table: a connection's state
 * taken once and restored many times (the fuzzer's preamble). */
bool bh_wl_wire_copy(struct bh_wl_wire *dst, const struct bh_wl_wire *src);
/* Validates one whole message (size from its header) against the object
 * table and the interface tables, applies its object creations and
 * destructions, and describes it in msg. False with a reason in err. An
 * untyped new_id (wl_registry.bind) may only name a guest global
 * (common/allowlist.h). */
bool bh_wl_wire_parse(struct bh_wl_wire *wire, enum bh_wl_dir dir, const uint8_t *data, size_t size,
	struct bh_wl_msg *msg, char *err, size_t err_size);
/* The interface of a live object (version in *version when not NULL), NULL
 * when id names none. */
const struct wl_interface *bh_wl_wire_object(
	const struct bh_wl_wire *wire, uint32_t id, uint32_t *version);
/* The name of msg's interface. */
const char *bh_wl_msg_interface(const struct bh_wl_msg *msg);

#endif
