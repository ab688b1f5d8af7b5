/* The relay's one table of messages that need a handler (see relay.h), and
 * the memfds both ends make. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <wayland-client-protocol.h>
#include <wayland-server-protocol.h>

#include "primary-selection-unstable-v1-client-protocol.h"
#include "primary-selection-unstable-v1-protocol.h"
#include "viewporter-client-protocol.h"

#include "common/relay.h"

/* Request opcodes come from the client headers, event opcodes from the
 * server headers, as the scanner names them. */
#define REQ(iface, opcode, op, fd)                                                                 \
	{                                                                                          \
		&iface##_interface, opcode, BH_WL_REQUEST, op, fd                                  \
	}
#define EV(iface, opcode, op, fd)                                                                  \
	{                                                                                          \
		&iface##_interface, opcode, BH_WL_EVENT, op, fd                                    \
	}

static const struct bh_relay_rule rules[] = {
	REQ(wl_registry, WL_REGISTRY_BIND, BH_RELAY_OP_BIND, 0),
	REQ(wl_shm, WL_SHM_CREATE_POOL, BH_RELAY_OP_CREATE_POOL, BH_RELAY_FD_SHM),
	REQ(wl_shm_pool, WL_SHM_POOL_CREATE_BUFFER, BH_RELAY_OP_CREATE_BUFFER, 0),
	REQ(wl_shm_pool, WL_SHM_POOL_DESTROY, BH_RELAY_OP_POOL_DESTROY, 0),
	REQ(wl_shm_pool, WL_SHM_POOL_RESIZE, BH_RELAY_OP_POOL_RESIZE, 0),
	REQ(wl_buffer, WL_BUFFER_DESTROY, BH_RELAY_OP_BUFFER_DESTROY, 0),
	REQ(wl_compositor, WL_COMPOSITOR_CREATE_SURFACE, BH_RELAY_OP_CREATE_SURFACE, 0),
	REQ(wp_viewporter, WP_VIEWPORTER_GET_VIEWPORT, BH_RELAY_OP_GET_VIEWPORT, 0),
	REQ(wl_surface, WL_SURFACE_DESTROY, BH_RELAY_OP_SURFACE_DESTROY, 0),
	REQ(wl_surface, WL_SURFACE_ATTACH, BH_RELAY_OP_ATTACH, 0),
	REQ(wl_surface, WL_SURFACE_DAMAGE, BH_RELAY_OP_DAMAGE, 0),
	REQ(wl_surface, WL_SURFACE_DAMAGE_BUFFER, BH_RELAY_OP_DAMAGE_BUFFER, 0),
	REQ(wl_surface, WL_SURFACE_SET_BUFFER_TRANSFORM, BH_RELAY_OP_SET_TRANSFORM, 0),
	REQ(wl_surface, WL_SURFACE_SET_BUFFER_SCALE, BH_RELAY_OP_SET_SCALE, 0),
	REQ(wl_surface, WL_SURFACE_COMMIT, BH_RELAY_OP_COMMIT, 0),
	REQ(wl_data_offer, WL_DATA_OFFER_RECEIVE, BH_RELAY_OP_RECEIVE, BH_RELAY_FD_PIPE),
	REQ(zwp_primary_selection_offer_v1, ZWP_PRIMARY_SELECTION_OFFER_V1_RECEIVE,
		BH_RELAY_OP_RECEIVE, BH_RELAY_FD_PIPE),
	EV(wl_registry, WL_REGISTRY_GLOBAL, BH_RELAY_OP_GLOBAL, 0),
	EV(wl_registry, WL_REGISTRY_GLOBAL_REMOVE, BH_RELAY_OP_GLOBAL_REMOVE, 0),
	EV(wl_keyboard, WL_KEYBOARD_KEYMAP, BH_RELAY_OP_KEYMAP, BH_RELAY_FD_FILE),
	EV(wl_data_source, WL_DATA_SOURCE_SEND, BH_RELAY_OP_SEND, BH_RELAY_FD_PIPE),
	EV(zwp_primary_selection_source_v1, ZWP_PRIMARY_SELECTION_SOURCE_V1_SEND, BH_RELAY_OP_SEND,
		BH_RELAY_FD_PIPE),
};

const struct bh_relay_rule *bh_relay_rule_find(enum bh_wl_dir dir, const struct bh_wl_msg *msg)
{
	/* A pointer compare per entry: cheaper than the system calls a
	 * message costs anyway, and the table stays one readable list. */
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct bh_relay_rule *r = &rules[i];
		if (r->interface == msg->interface && r->opcode == msg->opcode && r->dir == dir) {
			return r;
		}
	}
	return NULL;
}

const struct bh_relay_rule *bh_relay_rule_at(size_t i)
{
	return i < sizeof(rules) / sizeof(rules[0]) ? &rules[i] : NULL;
}

int bh_relay_memfd(const char *name, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		return -1;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}
