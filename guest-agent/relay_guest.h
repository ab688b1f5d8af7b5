/* The guest end of the Wayland relay (its host end is proxy/relay_host.h):
 * the guest Wayland socket, one channel stream per guest client, and the
 * mirrors of the clients' shm pools. */
#ifndef GUEST_AGENT_RELAY_GUEST_H
#define GUEST_AGENT_RELAY_GUEST_H

#include <stdbool.h>
#include <stdint.h>

struct bh_agent;
struct bh_stream;
struct bh_xwl_conn;

/*
 * What the agent calls.
 *
 * bh_relay_guest_create: listen on the guest Wayland socket at socket_path
 *   (the agent made its 0700 directory), accept guest clients on the
 *   agent's event loop, and open one BH_STREAM_WAYLAND stream per client
 *   with bh_agent_open_stream.
 * bh_relay_guest_open_pipe: the host opened a BH_STREAM_PIPE stream
 *   (clipboard or drag-and-drop data to or from a guest client): true when
 *   it is taken, false to refuse it.
 * bh_relay_guest_destroy: close every guest client and the socket.
 * bh_relay_guest_set_compression: buffer data goes out LZ4-compressed
 *   (BH_RELAY_SHM_LZ4) where that makes it smaller: the host asked for it
 *   at hello.
 */
struct bh_relay_guest;
struct bh_relay_guest *bh_relay_guest_create(struct bh_agent *agent, const char *socket_path);
bool bh_relay_guest_open_pipe(struct bh_relay_guest *guest, struct bh_stream *stream);
void bh_relay_guest_destroy(struct bh_relay_guest *guest);
/* The tag's shared region as this agent maps it (NULL: none): pools made
 * from now on put their buffers there. */
/* Whether the host reads guest memory ([0, low) and [4 GiB, 4 GiB + high)
 * of it): then a region buffer's changed rows are named by their physical
 * pages in BH_RELAY_SHM_GPA frames instead of copied by the agent. */
void bh_relay_guest_set_guest_ram(bool on, uint64_t low, uint64_t high);
void bh_relay_guest_set_region(uint8_t *map, uint64_t size);
void bh_relay_guest_set_compression(bool lz4);
/* Xwayland's connection (fd, taken; the other end is its WAYLAND_SOCKET):
 * relayed like any guest client's, with xwl moving ids and keeping the X
 * window manager's objects (guest-agent/xwl_conn.h). False when no host is
 * connected. */
bool bh_relay_guest_adopt(struct bh_relay_guest *guest, int fd, struct bh_xwl_conn *xwl);
/* Ends the adopted connection of xwl, if it is still there. */
void bh_relay_guest_disown(struct bh_relay_guest *guest, struct bh_xwl_conn *xwl);

#endif
