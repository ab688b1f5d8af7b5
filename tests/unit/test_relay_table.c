/* The relay's message table and the guest globals allowlist: every message
 * that carries an fd, on every interface a guest can reach, has a rule that
 * says what stands for its fd, and every rule names a real message. */
#include <string.h>

#include <wayland-client-protocol.h>

#include "common/allowlist.h"
#include "common/relay.h"
#include "tests/test.h"

static bool has_fd(const struct wl_message *m)
{
	return strchr(m->signature, 'h') != NULL;
}

/* The interfaces a guest client can reach: wl_display, the allowed
 * globals, and every interface their messages create. */
#define MAX_REACHED 128
static const struct wl_interface *reached[MAX_REACHED];
static size_t nreached;

static void reach(const struct wl_interface *iface)
{
	if (iface == NULL) {
		return;
	}
	for (size_t i = 0; i < nreached; i++) {
		if (reached[i] == iface) {
			return;
		}
	}
	CHECK(nreached < MAX_REACHED);
	if (nreached == MAX_REACHED) {
		return;
	}
	reached[nreached++] = iface;
	for (int dir = 0; dir < 2; dir++) {
		int count = dir == 0 ? iface->method_count : iface->event_count;
		const struct wl_message *msgs = dir == 0 ? iface->methods : iface->events;
		for (int i = 0; i < count; i++) {
			int types = 0;
			for (const char *s = msgs[i].signature; *s; s++) {
				if (strchr("iufsoanh", *s) == NULL) {
					continue;
				}
				if (*s == 'n' || *s == 'o') {
					reach(msgs[i].types[types]);
				}
				types++;
			}
		}
	}
}

static const struct bh_relay_rule *find(
	const struct wl_interface *iface, enum bh_wl_dir dir, uint32_t opcode)
{
	struct bh_wl_msg m = {.interface = iface, .opcode = opcode};
	return bh_relay_rule_find(dir, &m);
}

static void test_every_fd_message_has_a_rule(void)
{
	reach(&wl_display_interface);
	const struct bh_guest_global *g;
	for (size_t i = 0; (g = bh_guest_global_at(i)) != NULL; i++) {
		reach(g->interface);
	}
	/* xdg-shell's objects, and the core's data device, are among them. */
	CHECK(nreached > 20);
	size_t fd_messages = 0;
	for (size_t k = 0; k < nreached; k++) {
		const struct wl_interface *iface = reached[k];
		for (int dir = 0; dir < 2; dir++) {
			int count = dir == 0 ? iface->method_count : iface->event_count;
			const struct wl_message *msgs = dir == 0 ? iface->methods : iface->events;
			for (int i = 0; i < count; i++) {
				if (!has_fd(&msgs[i])) {
					continue;
				}
				fd_messages++;
				const struct bh_relay_rule *r = find(iface, dir, (uint32_t)i);
				if (r == NULL || r->fd == 0) {
					fprintf(stderr, "no fd rule for %s.%s\n", iface->name,
						msgs[i].name);
				}
				CHECK(r != NULL && r->fd != 0);
			}
		}
	}
	/* create_pool, keymap, two receives and two sends */
	CHECK_EQ_INT(fd_messages, 6);
}

static void test_rules_name_real_messages(void)
{
	const struct bh_relay_rule *r;
	size_t n = 0;
	bool ops[BH_RELAY_OP_COUNT] = {false};
	for (size_t i = 0; (r = bh_relay_rule_at(i)) != NULL; i++, n++) {
		int count = r->dir == BH_WL_REQUEST ? r->interface->method_count
						    : r->interface->event_count;
		CHECK(r->opcode < count);
		if (r->opcode >= count) {
			continue;
		}
		const struct wl_message *m = r->dir == BH_WL_REQUEST
						     ? &r->interface->methods[r->opcode]
						     : &r->interface->events[r->opcode];
		/* an fd frame exactly where the message has an fd */
		CHECK_EQ_INT(r->fd != 0, has_fd(m));
		if (r->dir == BH_WL_REQUEST) {
			CHECK(r->fd == 0 || r->fd == BH_RELAY_FD_SHM || r->fd == BH_RELAY_FD_PIPE);
		} else {
			CHECK(r->fd == 0 || r->fd == BH_RELAY_FD_FILE || r->fd == BH_RELAY_FD_PIPE);
		}
		CHECK(r->op < BH_RELAY_OP_COUNT);
		ops[r->op] = true;
		/* the lookup finds each rule, and only in its direction */
		CHECK(find(r->interface, r->dir, r->opcode) == r);
		const struct bh_relay_rule *other = find(r->interface,
			r->dir == BH_WL_REQUEST ? BH_WL_EVENT : BH_WL_REQUEST, r->opcode);
		/* a lookup that ignored the direction would find r itself */
		CHECK(other != r);
		CHECK(other == NULL || other->dir != r->dir);
	}
	CHECK(n > 0);
	for (int op = 0; op < BH_RELAY_OP_COUNT; op++) {
		CHECK(ops[op]); /* every op has a message */
	}
	/* Spot checks against the protocol's own names. */
	r = find(&wl_shm_interface, BH_WL_REQUEST, WL_SHM_CREATE_POOL);
	CHECK(r != NULL && r->op == BH_RELAY_OP_CREATE_POOL && r->fd == BH_RELAY_FD_SHM);
	r = find(&wl_surface_interface, BH_WL_REQUEST, WL_SURFACE_COMMIT);
	CHECK(r != NULL && r->op == BH_RELAY_OP_COMMIT);
	r = find(&wl_keyboard_interface, BH_WL_EVENT, 0 /* keymap */);
	CHECK(r != NULL && r->op == BH_RELAY_OP_KEYMAP && r->fd == BH_RELAY_FD_FILE);
	CHECK(find(&wl_surface_interface, BH_WL_REQUEST, WL_SURFACE_FRAME) == NULL);
}

static void test_allowlist(void)
{
	const struct bh_guest_global *g;
	size_t n = 0;
	for (size_t i = 0; (g = bh_guest_global_at(i)) != NULL; i++, n++) {
		uint32_t v = bh_guest_global_version(g);
		CHECK(v >= 1 && v <= g->cap && (int)v <= g->interface->version);
		CHECK(bh_guest_global_find(g->interface->name) == g);
	}
	CHECK_EQ_INT(n, 14);
	CHECK(bh_guest_global_find("wl_compositor") != NULL);
	static const char *const hidden[] = {"zwp_linux_dmabuf_v1", "xdg_activation_v1",
		"zwlr_screencopy_manager_v1", "zwp_virtual_keyboard_manager_v1",
		"zwlr_layer_shell_v1", "zwlr_data_control_manager_v1",
		"ext_session_lock_manager_v1", "zwlr_foreign_toplevel_manager_v1",
		"zwlr_export_dmabuf_manager_v1", "zwlr_gamma_control_manager_v1",
		"zwlr_output_manager_v1", "zwlr_virtual_pointer_manager_v1",
		"zwp_input_method_manager_v2", "wp_security_context_manager_v1",
		"bulkhead_vm_manager_v1", "wl_display", "wl_registry", "wl_"};
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		CHECK(bh_guest_global_find(hidden[i]) == NULL);
	}
}

int main(void)
{
	test_every_fd_message_has_a_rule();
	test_rules_name_real_messages();
	test_allowlist();
	return bh_test_finish("relay_table");
}
