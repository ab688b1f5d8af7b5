/* The per-tag proxy: its compositor connection (bulkhead_vm_manager_v1), the
 * channel to the agent, and the hooks the host end of the Wayland relay
 * (relay_host.c) plugs into. */
#ifndef PROXY_PROXY_H
#define PROXY_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/endpoint.h"

struct wl_event_loop;
struct bh_proxy;
struct bh_keeper;

struct bh_proxy_options {
	const char *tag;
	const char *channel;     /* agent address; NULL = start the tag's VM */
	const char *config_path; /* NULL = the default config file */
	/* The process that connects the channel and talks to libvirt for the
	 * proxy (proxy/sandbox.h); NULL = the proxy does it itself. */
	struct bh_keeper *keeper;
	/* Enter the sandbox once started (needs a keeper). */
	bool sandbox;
};

/* Connects to the compositor (WAYLAND_SOCKET) and starts reaching the agent. */
struct bh_proxy *bh_proxy_create(struct wl_event_loop *loop, const struct bh_proxy_options *opts);
void bh_proxy_destroy(struct bh_proxy *proxy);

struct wl_event_loop *bh_proxy_event_loop(struct bh_proxy *proxy);
const char *bh_proxy_tag(const struct bh_proxy *proxy);
/* The current channel endpoint, NULL while the agent is not connected. */
struct bh_endpoint *bh_proxy_endpoint(struct bh_proxy *proxy);

/*
 * Tagged compositor connections, for the relay (proxy/vm_client.c).
 * Asks the compositor for a new Wayland connection tagged with this proxy's
 * tag (bulkhead_vm_manager_v1.create_client). done() runs once, later, from
 * the event loop: with fd >= 0 (the relay owns it: speak Wayland on it as
 * the guest client) or fd = -1 and a reason. Cancel with
 * bh_vm_client_request_cancel before the stream/client goes away; done() is
 * then not called.
 */
struct bh_vm_client_request;
typedef void (*bh_vm_client_done_fn)(int fd, const char *refused_reason, void *data);
struct bh_vm_client_request *bh_vm_client_request(struct bh_proxy *proxy, uint32_t stream,
	bh_vm_client_done_fn done, void *data);
void bh_vm_client_request_cancel(struct bh_vm_client_request *request);

/* Internal to the proxy (proxy.c, control.c, vm_client.c). */
struct bulkhead_vm_manager_v1;
struct bulkhead_vm_manager_v1 *bh_proxy_manager(struct bh_proxy *proxy);
/* Flushes requests to the compositor now (they are also flushed before the
 * loop sleeps). */
void bh_proxy_flush(struct bh_proxy *proxy);
/* Forwards a LAUNCH to the agent; request ids are the proxy's own. Returns
 * the request id, or 0 when the agent is not connected. */
uint32_t bh_proxy_launch(struct bh_proxy *proxy, const char *command);

/* control.c: the control socket for bulkheadctl (protocols/CONTROL.md). */
struct bh_control;
struct bh_control *bh_control_create(struct bh_proxy *proxy, const char *path);
/* The socket file is left in place when the control goes: the keeper
 * removes it when the proxy ends (a sandboxed proxy cannot unlink). */
void bh_control_keep_file(struct bh_control *control);
void bh_control_destroy(struct bh_control *control);
/* The agent answered a launch request of the proxy. */
void bh_control_launched(struct bh_control *control, uint32_t request, int32_t pid,
	const char *error);

#endif
