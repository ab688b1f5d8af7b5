/* Tagged compositor connections for the relay: one
 * bulkhead_vm_client_v1 per guest client, answered with an fd or a refusal. */
#include <stdlib.h>
#include <unistd.h>
#include <wayland-client.h>

#include "bulkhead-vm-v1-client-protocol.h"
#include "common/log.h"
#include "proxy/proxy.h"

struct bh_vm_client_request {
	struct bulkhead_vm_client_v1 *client;
	bh_vm_client_done_fn done;
	void *data;
};

static void request_finish(struct bh_vm_client_request *req, int fd, const char *reason)
{
	bulkhead_vm_client_v1_destroy(req->client);
	bh_vm_client_done_fn done = req->done;
	void *data = req->data;
	free(req);
	done(fd, reason, data);
}

static void vm_client_handle_connection(void *data, struct bulkhead_vm_client_v1 *client, int fd)
{
	request_finish(data, fd, NULL);
}

static void vm_client_handle_refused(void *data, struct bulkhead_vm_client_v1 *client,
	const char *reason)
{
	request_finish(data, -1, reason != NULL ? reason : "refused by the compositor");
}

static const struct bulkhead_vm_client_v1_listener vm_client_listener = {
	.connection = vm_client_handle_connection,
	.refused = vm_client_handle_refused,
};

struct bh_vm_client_request *bh_vm_client_request(struct bh_proxy *proxy, uint32_t stream,
	bh_vm_client_done_fn done, void *data)
{
	struct bulkhead_vm_manager_v1 *manager = bh_proxy_manager(proxy);
	if (manager == NULL) {
		return NULL;
	}
	struct bh_vm_client_request *req = calloc(1, sizeof(*req));
	if (req == NULL) {
		return NULL;
	}
	req->done = done;
	req->data = data;
	req->client = bulkhead_vm_manager_v1_create_client(manager, stream);
	if (req->client == NULL) {
		free(req);
		return NULL;
	}
	bulkhead_vm_client_v1_add_listener(req->client, &vm_client_listener, req);
	bh_proxy_flush(proxy);
	return req;
}

void bh_vm_client_request_cancel(struct bh_vm_client_request *req)
{
	if (req == NULL) {
		return;
	}
	/* A connection that arrives later is closed by libwayland with the
	 * destroyed proxy object. */
	bulkhead_vm_client_v1_destroy(req->client);
	free(req);
}
