/* The host end of the Wayland relay (its guest end is
 * guest-agent/relay_guest.c): per guest stream, a tagged Wayland connection
 * to the compositor; everything from the guest is validated again here
 * (messages, fds, pools, binds) before the compositor sees it. */
#ifndef PROXY_RELAY_HOST_H
#define PROXY_RELAY_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wl_event_loop;
struct bh_proxy;
struct bh_stream;

/*
 * What the proxy calls.
 *
 * bh_relay_host_open: the agent opened a BH_STREAM_WAYLAND stream (one
 *   guest client). The relay takes the stream's frames and asks the
 *   compositor for a tagged connection (bh_vm_client_request). False to
 *   refuse the stream (the proxy closes it with a reason).
 * bh_relay_host_open_pipe: the same for a BH_STREAM_PIPE stream opened by
 *   the agent (clipboard / drag-and-drop data).
 * bh_relay_host_set_compression: whether this proxy asked its agent for
 *   LZ4-compressed buffer data; only then is compressed buffer data
 *   accepted.
 * bh_relay_host_set_region: the tag's shared region (NULL: none); pools on
 *   it are accepted only while region->active (the agent maps it).
 */
bool bh_relay_host_open(struct bh_proxy *proxy, struct bh_stream *stream);
bool bh_relay_host_open_pipe(struct bh_proxy *proxy, struct bh_stream *stream);
struct bh_host_region;
void bh_relay_host_set_region(const struct bh_host_region *region);
void bh_relay_host_set_compression(bool lz4);

/*
 * One guest client. Tests and the fuzz target make one directly on any
 * connected Wayland socket, with stream NULL (events are then dropped).
 */
struct bh_relay_host;
struct bh_relay_host *bh_relay_host_create(const char *tag, struct bh_stream *stream, int host_fd);
/* A client relayed to an existing Wayland connection host_fd (taken):
 * handles every frame of stream from now on. What bh_relay_host_open does
 * once the compositor has answered; test harnesses call it directly. */
struct bh_relay_host *bh_relay_host_start(
	const char *tag, struct bh_stream *stream, struct wl_event_loop *loop, int host_fd);
/* Serves a BH_STREAM_PIPE stream the agent opened. */
bool bh_relay_host_accept_pipe(struct wl_event_loop *loop, struct bh_stream *stream);
/* One relay frame from the agent. False (logged) = the client must end. */
bool bh_relay_host_handle_frame(struct bh_relay_host *client, const uint8_t *payload, size_t len);
/* Bytes as if read from the compositor (no fds): for the fuzz target and
 * tests. False (logged) = the client must end. */
bool bh_relay_host_feed_events(struct bh_relay_host *client, const uint8_t *data, size_t len);
/* Bytes queued towards the compositor (flow control keeps it bounded). */
size_t bh_relay_host_queued(const struct bh_relay_host *client);
/* Why the client failed, after handle_frame returned false. */
const char *bh_relay_host_error(const struct bh_relay_host *client);
void bh_relay_host_destroy(struct bh_relay_host *client);

#endif
