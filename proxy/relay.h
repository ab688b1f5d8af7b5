/* The proxy's half of the Wayland relay: one host-side Wayland connection
 * per guest stream, the registry allowlist and the host memfds backing the
 * guest's shm pools. */
#ifndef PROXY_RELAY_H
#define PROXY_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wl_event_loop;

struct bh_stream;

/* registry_filter.c */
struct bh_allowed_global {
	const char *interface;
	uint32_t version; /* cap */
};
/* The allowlist entry of interface, NULL if guests may not see it. */
const struct bh_allowed_global *bh_registry_allowed(const char *interface);
/* Entry i of the allowlist, NULL past the end (for tests and docs). */
const struct bh_allowed_global *bh_registry_allowed_at(size_t i);

/* shm.c: the host pools of one guest client. A pool lives while its
 * wl_shm_pool or any wl_buffer made from it does (refs). */
struct bh_host_pool {
	uint32_t serial; /* the agent's number (BH_RELAY_FD_SHM) */
	int fd;          /* memfd; a dup goes to the compositor */
	uint8_t *map;    /* all of it, written with memcpy */
	uint64_t size;
	int refs;
};
struct bh_host_pools {
	struct bh_host_pool *pools;
	size_t count, cap;
	uint64_t total; /* bytes of all live pools */
};
void bh_host_pools_finish(struct bh_host_pools *pools);
/* Makes the memfd of a new pool. False with a reason in err (limits, a
 * serial already in use, or a system error). */
struct bh_host_pool *bh_host_pool_create(
	struct bh_host_pools *pools, uint32_t serial, uint64_t size, char *err, size_t err_size);
struct bh_host_pool *bh_host_pool_find(struct bh_host_pools *pools, uint32_t serial);
/* Grows a pool (never shrinks it). */
bool bh_host_pool_resize(struct bh_host_pools *pools, struct bh_host_pool *pool, uint64_t size,
	char *err, size_t err_size);
/* Where len bytes at offset of the pool are, or NULL (err says why) when
 * they do not all lie inside it. */
uint8_t *bh_host_pool_span(struct bh_host_pool *pool, uint64_t offset, size_t len, char *err,
	size_t err_size);
void bh_host_pool_unref(struct bh_host_pools *pools, struct bh_host_pool *pool);

/* relay.c: one guest client. The proxy makes them through bh_relay_open
 * (proxy/proxy.h); tests and the fuzz target make one directly on any
 * connected Wayland socket, with stream NULL (events are then dropped). */
struct bh_relay_client;
struct bh_relay_client *bh_relay_client_create(
	const char *tag, struct bh_stream *stream, int host_fd);
/* A client relayed to an existing Wayland connection host_fd (taken):
 * handles every frame of stream from now on. What bh_relay_open does once
 * the compositor has answered; test harnesses call it directly. */
struct bh_relay_client *bh_relay_client_start(
	const char *tag, struct bh_stream *stream, struct wl_event_loop *loop, int host_fd);
/* Serves a BH_STREAM_PIPE stream the agent opened. */
bool bh_relay_accept_pipe(struct wl_event_loop *loop, struct bh_stream *stream);
/* One relay frame from the agent. False (logged) = the client must end. */
bool bh_relay_client_handle_frame(
	struct bh_relay_client *client, const uint8_t *payload, size_t len);
/* Bytes as if read from the compositor (no fds): for the fuzz target and
 * tests. False (logged) = the client must end. */
bool bh_relay_client_feed_events(struct bh_relay_client *client, const uint8_t *data, size_t len);
/* Bytes queued towards the compositor (flow control keeps it bounded). */
size_t bh_relay_client_queued(const struct bh_relay_client *client);
/* Why the client failed, after handle_frame returned false. */
const char *bh_relay_client_error(const struct bh_relay_client *client);
void bh_relay_client_destroy(struct bh_relay_client *client);

#endif
