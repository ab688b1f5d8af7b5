/* The table-driven Wayland message walker: every message of a relayed
 * connection is checked against the scanner's interface tables and the
 * connection's object table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wayland-client-protocol.h>

#include "common/allowlist.h"
#include "common/util.h"
#include "common/wl_wire.h"

#define WIRE_MAX_OBJECTS 32768u
#define SERVER_ID_BASE 0xff000000u

struct wire_object {
	const struct wl_interface *interface;
	uint32_t version;
};

struct bh_wl_objects {
	struct wire_object *client; /* indexed by id */
	size_t client_len;
	struct wire_object *server; /* indexed by id - SERVER_ID_BASE */
	size_t server_len;
	size_t count;
};

/* The interfaces an untyped new_id may name: the guest globals. */
static const struct wl_interface *interface_by_name(const char *name)
{
	const struct bh_guest_global *g = bh_guest_global_find(name);
	return g != NULL ? g->interface : NULL;
}

const char *bh_wl_msg_interface(const struct bh_wl_msg *msg)
{
	return msg->interface->name;
}

bool bh_wl_wire_init(struct bh_wl_wire *wire)
{
	wire->objects = calloc(1, sizeof(*wire->objects));
	if (wire->objects == NULL) {
		return false;
	}
	struct wire_object *client = calloc(64, sizeof(*client));
	if (client == NULL) {
		free(wire->objects);
		wire->objects = NULL;
		return false;
	}
	wire->objects->client = client;
	wire->objects->client_len = 64;
	client[1].interface = &wl_display_interface;
	client[1].version = 1;
	wire->objects->count = 1;
	return true;
}

void bh_wl_wire_finish(struct bh_wl_wire *wire)
{
	if (wire->objects != NULL) {
		free(wire->objects->client);
		free(wire->objects->server);
		free(wire->objects);
		wire->objects = NULL;
	}
}

static struct wire_object *table_copy(const struct wire_object *src, size_t len)
{
	struct wire_object *p = malloc(len * sizeof(*p));
	if (p != NULL) {
		memcpy(p, src, len * sizeof(*p));
	}
	return p;
}

bool bh_wl_wire_copy(struct bh_wl_wire *dst, const struct bh_wl_wire *src)
{
	const struct bh_wl_objects *s = src->objects;
	struct bh_wl_objects *o = calloc(1, sizeof(*o));
	dst->objects = o;
	if (o == NULL) {
		return false;
	}
	*o = *s;
	o->client = s->client_len > 0 ? table_copy(s->client, s->client_len) : NULL;
	o->server = s->server_len > 0 ? table_copy(s->server, s->server_len) : NULL;
	if ((s->client_len > 0 && o->client == NULL) || (s->server_len > 0 && o->server == NULL)) {
		bh_wl_wire_finish(dst);
		return false;
	}
	return true;
}

static struct wire_object *object_slot(struct bh_wl_objects *o, uint32_t id, bool grow)
{
	struct wire_object **array = &o->client;
	size_t *len = &o->client_len;
	size_t index = id;
	if (id >= SERVER_ID_BASE) {
		array = &o->server;
		len = &o->server_len;
		index = id - SERVER_ID_BASE;
	}
	if (index >= *len) {
		if (!grow || index >= BH_WL_ID_RANGE) {
			return NULL;
		}
		size_t n = *len ? *len : 64;
		while (n <= index) {
			n *= 2;
		}
		struct wire_object *p = bh_table_grow(*array, *len, n, sizeof(*p));
		if (p == NULL) {
			return NULL;
		}
		*array = p;
		*len = n;
	}
	return &(*array)[index];
}

static const struct wire_object *object_get(struct bh_wl_objects *o, uint32_t id)
{
	if (id == 0) {
		return NULL;
	}
	struct wire_object *obj = object_slot(o, id, false);
	return obj != NULL && obj->interface != NULL ? obj : NULL;
}

const struct wl_interface *bh_wl_wire_object(
	const struct bh_wl_wire *wire, uint32_t id, uint32_t *version)
{
	const struct wire_object *obj = object_get(wire->objects, id);
	if (obj != NULL && version != NULL) {
		*version = obj->version;
	}
	return obj != NULL ? obj->interface : NULL;
}

#define WIRE_ERR(...)                                                                              \
	do {                                                                                       \
		snprintf(err, err_size, __VA_ARGS__);                                              \
		return false;                                                                      \
	} while (0)

static bool object_create(struct bh_wl_objects *o, enum bh_wl_dir dir, uint32_t id,
	const struct wl_interface *iface, uint32_t version, char *err, size_t err_size)
{
	bool server_id = id >= SERVER_ID_BASE;
	if (id == 0 || server_id != (dir == BH_WL_EVENT)) {
		WIRE_ERR("new id %u is outside the %s's range", id,
			dir == BH_WL_EVENT ? "compositor" : "client");
	}
	if (o->count >= WIRE_MAX_OBJECTS) {
		WIRE_ERR("more than %u objects", WIRE_MAX_OBJECTS);
	}
	struct wire_object *obj = object_slot(o, id, true);
	if (obj == NULL) {
		WIRE_ERR("new id %u is too large", id);
	}
	if (obj->interface != NULL && !server_id) {
		WIRE_ERR("new id %u is still in use by a %s", id, obj->interface->name);
	}
	if (obj->interface == NULL) {
		o->count++;
	}
	obj->interface = iface;
	obj->version = version;
	return true;
}

bool bh_wl_wire_parse(struct bh_wl_wire *wire, enum bh_wl_dir dir, const uint8_t *data, size_t size,
	struct bh_wl_msg *msg, char *err, size_t err_size)
{
	struct bh_wl_objects *o = wire->objects;
	uint32_t head[2];
	if (size < 8) {
		WIRE_ERR("message of %zu bytes", size);
	}
	memcpy(head, data, 8);
	if ((head[1] >> 16) != size || size % 4 != 0) {
		WIRE_ERR("message size %u disagrees with its %zu bytes", head[1] >> 16, size);
	}
	memset(msg, 0, sizeof(*msg));
	msg->object = head[0];
	msg->opcode = head[1] & 0xffff;
	const struct wire_object *obj = object_get(o, msg->object);
	if (obj == NULL) {
		WIRE_ERR("message to unknown object %u", msg->object);
	}
	const struct wl_interface *iface = obj->interface;
	uint32_t version = obj->version;
	int count = dir == BH_WL_REQUEST ? iface->method_count : iface->event_count;
	if ((int)msg->opcode >= count) {
		WIRE_ERR("%s %u has no %s with opcode %u", iface->name, msg->object,
			dir == BH_WL_REQUEST ? "request" : "event", msg->opcode);
	}
	const struct wl_message *m =
		dir == BH_WL_REQUEST ? &iface->methods[msg->opcode] : &iface->events[msg->opcode];
	msg->interface = iface;
	msg->name = m->name;
	const char *sig = m->signature;
	uint32_t since = 0;
	while (*sig >= '0' && *sig <= '9') {
		since = since * 10 + (uint32_t)(*sig - '0');
		sig++;
	}
	if (since > version) {
		WIRE_ERR("%s.%s needs version %u, the object has %u", iface->name, m->name, since,
			version);
	}
	size_t pos = 8;
	int type_index = 0;
	bool nullable = false;
	/* new objects are created once the whole message is valid */
	uint32_t new_id = 0, new_version = version;
	const struct wl_interface *new_iface = NULL;
	for (; *sig != '\0'; sig++) {
		char c = *sig;
		if (c == '?') {
			nullable = true;
			continue;
		}
		if (msg->nargs + 3 > BH_WL_MAX_ARGS) {
			WIRE_ERR("%s.%s has too many arguments", iface->name, m->name);
		}
		const struct wl_interface *type = m->types[type_index++];
		uint32_t word = 0;
		if (c != 'h') {
			if (size - pos < 4) {
				WIRE_ERR("%s.%s is shorter than its signature", iface->name,
					m->name);
			}
			memcpy(&word, data + pos, 4);
			pos += 4;
		}
		switch (c) {
		case 'i':
		case 'u':
		case 'f':
			msg->args[msg->nargs++] = word;
			break;
		case 'h':
			msg->args[msg->nargs++] = 0;
			msg->nfds++;
			break;
		case 'o':
			if (word == 0 && !nullable) {
				WIRE_ERR("%s.%s: null object where one is required", iface->name,
					m->name);
			}
			if (word != 0 && object_get(o, word) == NULL) {
				WIRE_ERR("%s.%s refers to unknown object %u", iface->name, m->name,
					word);
			}
			msg->args[msg->nargs++] = word;
			break;
		case 's':
		case 'a': {
			size_t len = word;
			size_t padded = (len + 3) & ~(size_t)3;
			if (len > size - pos || padded > size - pos) {
				WIRE_ERR("%s.%s: %s of %zu bytes is longer than the message",
					iface->name, m->name, c == 's' ? "string" : "array", len);
			}
			if (c == 's') {
				if (len == 0 && !nullable) {
					WIRE_ERR("%s.%s: null string where one is required",
						iface->name, m->name);
				}
				if (len > 0 && (data[pos + len - 1] != '\0' ||
						       memchr(data + pos, '\0', len - 1) != NULL)) {
					WIRE_ERR("%s.%s: string not terminated by its NUL",
						iface->name, m->name);
				}
				msg->str[msg->nargs] = len > 0 ? (const char *)data + pos : NULL;
			}
			msg->args[msg->nargs++] = (uint32_t)pos;
			pos += padded;
			break;
		}
		case 'n':
			if (type == NULL) {
				/* The signature spells an untyped new_id as "sun":
				 * the interface name and version came just before. */
				if (msg->nargs < 2 || msg->str[msg->nargs - 2] == NULL) {
					WIRE_ERR("%s.%s: new id without an interface", iface->name,
						m->name);
				}
				const char *name = msg->str[msg->nargs - 2];
				new_version = msg->args[msg->nargs - 1];
				new_iface = interface_by_name(name);
				if (new_iface == NULL) {
					WIRE_ERR("%s.%s of unknown interface %.64s", iface->name,
						m->name, name);
				}
				/* unsigned: a version with the top bit set must not
				 * pass as a negative int */
				if (new_version == 0 ||
					new_version > (uint32_t)new_iface->version) {
					WIRE_ERR("%s.%s of %s version %u, known up to %d",
						iface->name, m->name, name, new_version,
						new_iface->version);
				}
			} else {
				new_iface = type;
			}
			if (new_id != 0) {
				WIRE_ERR("%s.%s creates two objects", iface->name, m->name);
			}
			if (word == 0) {
				WIRE_ERR("%s.%s: new id 0", iface->name, m->name);
			}
			new_id = word;
			msg->args[msg->nargs++] = word;
			break;
		default:
			WIRE_ERR("%s.%s: bad signature", iface->name, m->name);
		}
		nullable = false;
	}
	if (pos != size) {
		WIRE_ERR("%s.%s is %zu bytes, its arguments take %zu", iface->name, m->name, size,
			pos);
	}
	if (new_id != 0 && !object_create(o, dir, new_id, new_iface, new_version, err, err_size)) {
		return false;
	}
	/* The compositor frees a client id with wl_display.delete_id. */
	if (dir == BH_WL_EVENT && msg->object == 1 && msg->opcode == 1) {
		uint32_t id = msg->args[0];
		if (id == 1) {
			WIRE_ERR("wl_display.delete_id of wl_display itself");
		}
		struct wire_object *dead = id < SERVER_ID_BASE ? object_slot(o, id, false) : NULL;
		if (dead != NULL && dead->interface != NULL) {
			dead->interface = NULL;
			o->count--;
		}
	}
	return true;
}
