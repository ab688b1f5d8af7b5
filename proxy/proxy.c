/* The per-tag proxy: reports the tag's state to the compositor over
 * bulkhead_vm_manager_v1, keeps the channel to the agent up (reconnecting),
 * and hands guest streams to the relay and the control socket. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <wayland-client.h>
#include <wayland-server-core.h>

#include "bulkhead-vm-v1-client-protocol.h"
#include "common/config.h"
#include "common/log.h"
#include "common/transport.h"
#include "common/util.h"
#include "proxy/proxy.h"
#include "proxy/relay_host.h"
#include "proxy/sandbox.h"
#include "proxy/shm.h"
#include "vm/config.h"
#include "vm/paths.h"
#include "vm/tag.h"
#include "vm/vm.h"

#define RETRY_MIN_MSEC 100
#define RETRY_MAX_MSEC 2000
#define DEFAULT_BOOT_TIMEOUT_SEC 120

struct bh_proxy {
	struct wl_event_loop *loop;
	char *tag;
	char *channel;
	bool compress_lz4; /* asked of the agent at hello (compress = lz4) */
	struct bh_host_region region; /* fd -1: none */
	bool xwayland;     /* asked of the agent at hello (xwayland = on, the default) */
	/* When the agent said it is being stopped (guest shutdown), 0 = not. */
	uint64_t bye_usec;

	struct wl_display *display;
	struct wl_registry *registry;
	struct bulkhead_vm_manager_v1 *manager;
	struct wl_event_source *display_source;

	struct bh_endpoint *endpoint;
	bool ready;
	struct wl_event_source *retry_timer;
	uint32_t retry_msec;
	uint64_t connect_start_usec; /* when we started reaching the agent */
	uint64_t boot_timeout_usec;
	bool gave_up;
	uint32_t next_launch;

	struct bh_control *control;
	/* Connects the channel and talks to libvirt once the proxy is
	 * sandboxed; NULL: the proxy does both itself. */
	struct bh_keeper *keeper;

	/* The tag's VM, when this proxy started it (no channel = configured).
	 * With a keeper, vm is only used for the start. */
	struct bh_config *config;
	struct bh_vm *vm;
	bool owns_vm;
};

struct wl_event_loop *bh_proxy_event_loop(struct bh_proxy *proxy)
{
	return proxy->loop;
}

const char *bh_proxy_tag(const struct bh_proxy *proxy)
{
	return proxy->tag;
}

struct bh_endpoint *bh_proxy_endpoint(struct bh_proxy *proxy)
{
	return proxy->ready ? proxy->endpoint : NULL;
}

struct bulkhead_vm_manager_v1 *bh_proxy_manager(struct bh_proxy *proxy)
{
	return proxy->manager;
}

void bh_proxy_flush(struct bh_proxy *proxy)
{
	if (proxy->display != NULL) {
		wl_display_flush(proxy->display);
	}
}

static void set_state(struct bh_proxy *proxy, enum bulkhead_vm_manager_v1_state state,
	const char *reason)
{
	if (proxy->manager != NULL) {
		bulkhead_vm_manager_v1_set_state(proxy->manager, state, reason);
		bh_proxy_flush(proxy);
		/* A failure is the proxy's last word before it exits: the
		 * compositor must have read it before it sees the exit, or it
		 * shows "the proxy exited" instead of the reason. */
		if (state == BULKHEAD_VM_MANAGER_V1_STATE_FAILED && proxy->display != NULL) {
			wl_display_roundtrip(proxy->display);
		}
	}
}

/* ---- the channel ---- */

static void schedule_retry(struct bh_proxy *proxy)
{
	wl_event_source_timer_update(proxy->retry_timer, proxy->retry_msec);
	proxy->retry_msec = proxy->retry_msec * 2 > RETRY_MAX_MSEC ? RETRY_MAX_MSEC :
		proxy->retry_msec * 2;
}

static void send_hello(struct bh_proxy *proxy)
{
	struct bh_msg msg;
	bh_msg_init(&msg, 0);
	bh_msg_u32(&msg, BH_CONTROL_VERSION);
	bh_msg_u32(&msg, (proxy->compress_lz4 ? BH_CAP_LZ4 : 0) | bh_host_region_caps(&proxy->region) |
				 (proxy->xwayland ? BH_CAP_X11 : 0));
	bh_msg_u32(&msg, 0);
	bh_endpoint_send_control(proxy->endpoint, BH_CTL_HELLO, msg.buf, msg.len);
}

static bool handle_hello(struct bh_proxy *proxy, struct bh_msg_reader *r)
{
	uint32_t version = bh_msg_get_u32(r);
	uint32_t caps = bh_msg_get_u32(r);
	uint32_t n = bh_msg_get_u32(r);
	if (!r->ok || n > 64) {
		bh_log(BH_LOG_ERROR, "tag %s: malformed hello from the agent", proxy->tag);
		return false;
	}
	if (version != BH_CONTROL_VERSION) {
		bh_log(BH_LOG_ERROR, "tag %s: the agent speaks version %u, this proxy %u",
			proxy->tag, version, BH_CONTROL_VERSION);
		return false;
	}
	struct {
		char *name;
		uint64_t usec;
	} steps[64];
	uint32_t got = 0;
	for (; got < n; got++) {
		steps[got].name = bh_msg_get_str(r, 64);
		steps[got].usec = bh_msg_get_u64(r);
		if (!r->ok) {
			break;
		}
	}
	bool ok = bh_msg_end(r);
	for (uint32_t i = 0; i < got; i++) {
		if (ok && steps[i].name != NULL && bh_text_printable(steps[i].name) &&
			proxy->manager != NULL) {
			uint64_t usec = steps[i].usec > UINT32_MAX ? UINT32_MAX : steps[i].usec;
			bulkhead_vm_manager_v1_boot_time(proxy->manager, steps[i].name,
				(uint32_t)usec);
		}
		free(steps[i].name);
	}
	if (!ok) {
		bh_log(BH_LOG_ERROR, "tag %s: malformed boot timings in the agent's hello",
			proxy->tag);
		return false;
	}
	uint64_t connect_usec = bh_now_usec() - proxy->connect_start_usec;
	if (proxy->manager != NULL) {
		bulkhead_vm_manager_v1_boot_time(proxy->manager, "host-channel-connected",
			connect_usec > UINT32_MAX ? UINT32_MAX : (uint32_t)connect_usec);
	}
	proxy->ready = true;
	proxy->bye_usec = 0;
	bh_log(BH_LOG_INFO, "tag %s: agent said hello (capabilities %#x)", proxy->tag, caps);
	bh_host_region_offer(&proxy->region, proxy->endpoint, caps, proxy->tag);
	if (proxy->compress_lz4) {
		bh_log(BH_LOG_INFO, "tag %s: buffer data %s", proxy->tag,
			caps & BH_CAP_LZ4 ? "compressed with lz4" :
					    "uncompressed: this agent cannot compress (update the base)");
	}
	set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_READY, NULL);
	return true;
}

static bool handle_app(struct bh_proxy *proxy, struct bh_msg_reader *r)
{
	char *id = bh_msg_get_str(r, 256), *name = bh_msg_get_str(r, 256);
	char *exec = bh_msg_get_str(r, 1024), *icon = bh_msg_get_str(r, 256);
	bool ok = bh_msg_end(r) && bh_text_printable(id) && bh_text_printable(name) &&
		  bh_text_printable(exec) && bh_text_printable(icon);
	if (ok && proxy->manager != NULL) {
		bulkhead_vm_manager_v1_app(proxy->manager, id, name, exec,
			icon[0] != '\0' ? icon : NULL);
	}
	free(id);
	free(name);
	free(exec);
	free(icon);
	if (!ok) {
		bh_log(BH_LOG_ERROR, "tag %s: malformed app entry from the agent", proxy->tag);
	}
	return ok;
}

static bool proxy_handle_control(struct bh_endpoint *endpoint, uint32_t type,
	const uint8_t *payload, size_t len, void *user)
{
	struct bh_proxy *proxy = user;
	struct bh_msg_reader r;
	bh_msg_reader_init(&r, payload, len);
	if (!proxy->ready && type != BH_CTL_HELLO) {
		bh_log(BH_LOG_ERROR, "tag %s: control message %u before hello", proxy->tag, type);
		return false;
	}
	switch (type) {
	case BH_CTL_HELLO:
		if (proxy->ready) {
			bh_log(BH_LOG_ERROR, "tag %s: second hello from the agent", proxy->tag);
			return false;
		}
		return handle_hello(proxy, &r);
	case BH_CTL_APP:
		return handle_app(proxy, &r);
	case BH_CTL_REGION_STATUS:
		return bh_host_region_status(&proxy->region, proxy->endpoint, &r, proxy->tag);
	case BH_CTL_GUEST_RAM_PROBE:
		return bh_guest_ram_probe(&proxy->region, proxy->endpoint, &r, proxy->tag);
	case BH_CTL_BYE:
		if (len != 0) {
			return false;
		}
		bh_log(BH_LOG_INFO, "tag %s: the agent is being stopped (the guest shuts down)",
			proxy->tag);
		proxy->bye_usec = bh_now_usec();
		return true;
	case BH_CTL_APPS_DONE:
		if (len != 0) {
			return false;
		}
		if (proxy->manager != NULL) {
			bulkhead_vm_manager_v1_apps_done(proxy->manager);
			bh_proxy_flush(proxy);
		}
		return true;
	case BH_CTL_LAUNCHED: {
		uint32_t request = bh_msg_get_u32(&r);
		int32_t pid = (int32_t)bh_msg_get_u32(&r);
		char *error = bh_msg_get_str(&r, 512);
		bool ok = bh_msg_end(&r) && bh_text_printable(error);
		if (ok) {
			if (pid <= 0) {
				bh_log(BH_LOG_WARN, "tag %s: launch %u failed in the guest: %s",
					proxy->tag, request, error);
			}
			bh_control_launched(proxy->control, request, pid, error);
		}
		free(error);
		return ok;
	}
	case BH_CTL_PING: {
		uint64_t cookie = bh_msg_get_u64(&r);
		if (!bh_msg_end(&r)) {
			return false;
		}
		struct bh_msg msg;
		bh_msg_init(&msg, 0);
		bh_msg_u64(&msg, cookie);
		return bh_endpoint_send_control(endpoint, BH_CTL_PONG, msg.buf, msg.len);
	}
	case BH_CTL_PONG:
		bh_msg_get_u64(&r);
		return bh_msg_end(&r);
	default:
		bh_log(BH_LOG_ERROR, "tag %s: unknown control message %u from the agent",
			proxy->tag, type);
		return false;
	}
}

static bool proxy_handle_open(struct bh_endpoint *endpoint, struct bh_stream *stream,
	enum bh_stream_kind kind, void *user)
{
	struct bh_proxy *proxy = user;
	if (!proxy->ready) {
		return false;
	}
	if (kind == BH_STREAM_WAYLAND) {
		return bh_relay_host_open(proxy, stream);
	}
	if (kind == BH_STREAM_PIPE) {
		return bh_relay_host_open_pipe(proxy, stream);
	}
	bh_log(BH_LOG_WARN, "tag %s: the agent opened stream %u of kind %u, which is not served",
		proxy->tag, bh_stream_id(stream), kind);
	return false;
}

/* A VM this proxy started that is gone (qemu killed, guest powered off):
 * the tag has failed; say why and exit, so that a new spawn starts afresh.
 * libvirt may notice a dead qemu a moment after its channel closed, so this
 * runs at every reconnection attempt too. */
/* A goodbye counts for the end that follows it, not for one much later: a
 * guest must not be able to make a crash of qemu hours on look like a
 * stop. */
#define BYE_VALID_USEC (60u * 1000000u)

static bool said_bye(const struct bh_proxy *proxy)
{
	return proxy->bye_usec != 0 && bh_now_usec() - proxy->bye_usec < BYE_VALID_USEC;
}

/* Ends the proxy once the compositor has read the state just set: it
 * drops what a client sent when it sees the hang-up first, and would show
 * a clean stop as a failure. */
static _Noreturn void leave(struct bh_proxy *proxy, int status)
{
	if (proxy->display != NULL) {
		wl_display_roundtrip(proxy->display);
	}
	exit(status);
}

/* A tag whose libvirt is on another machine that does not answer (its
 * host went away, ssh refused, the connection dropped): its windows close
 * with this proxy, its VM and disks there are left alone, and the next
 * spawn connects afresh. */
static _Noreturn void become_unreachable(struct bh_proxy *proxy, const char *why)
{
	char line[BH_VM_ERROR_SIZE + 400];
	snprintf(line, sizeof(line),
		"tag %s is unreachable: its libvirt does not answer (%s); its windows were "
		"closed, its VM and disks there are untouched: spawn the tag again once that "
		"machine answers",
		proxy->tag, why);
	bh_log(BH_LOG_ERROR, "%s", line);
	set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_UNREACHABLE, line);
	leave(proxy, EXIT_FAILURE);
}

static bool proxy_remote(const struct bh_proxy *proxy)
{
	return bh_config_uri_remote(bh_config_tag_uri(proxy->config, proxy->tag));
}

/* The VM's state through the keeper or the proxy's own connection; false
 * when libvirt did not answer, with the reason in error. */
static bool vm_state(struct bh_proxy *proxy, enum bh_vm_state *state,
	char error[BH_VM_ERROR_SIZE])
{
	if (proxy->keeper != NULL) {
		return bh_keeper_vm_state(proxy->keeper, state, error);
	}
	struct bh_vm_status st;
	if (proxy->vm == NULL) {
		snprintf(error, BH_VM_ERROR_SIZE, "no connection to libvirt");
		return false;
	}
	if (!bh_vm_status(proxy->vm, proxy->tag, &st, error)) {
		return false;
	}
	*state = st.state;
	return true;
}

static void check_vm_alive(struct bh_proxy *proxy)
{
	if (!proxy->owns_vm) {
		return;
	}
	enum bh_vm_state state;
	char error[BH_VM_ERROR_SIZE];
	if (!vm_state(proxy, &state, error)) {
		/* A connection that dropped while its host is still there is
		 * made again by the keeper at once; only a second failure
		 * means the host is gone. A local libvirt that restarts is
		 * waited for, as before. */
		if (!proxy_remote(proxy) || proxy->keeper == NULL) {
			if (proxy_remote(proxy)) {
				become_unreachable(proxy, error);
			}
			return;
		}
		if (!vm_state(proxy, &state, error)) {
			become_unreachable(proxy, error);
		}
	}
	if (state == BH_VM_RUNNING) {
		return;
	}
	if (said_bye(proxy) && state != BH_VM_STOPPED) {
		return; /* still shutting down: looked at again at the next retry */
	}
	if (said_bye(proxy)) {
		/* A shutdown from inside or `bulkheadctl stop`: not a failure. */
		bh_log(BH_LOG_INFO, "tag %s: the VM shut down", proxy->tag);
		set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_STOPPED, NULL);
		leave(proxy, EXIT_SUCCESS);
	}
	char line[600];
	snprintf(line, sizeof(line),
		"the VM of tag %s stopped (qemu exited or the guest powered off); spawn the tag "
		"again to restart it, `bulkheadctl console %s` shows its last output",
		proxy->tag, proxy->tag);
	bh_log(BH_LOG_ERROR, "%s", line);
	set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_FAILED, line);
	leave(proxy, EXIT_FAILURE);
}

static void proxy_handle_disconnected(struct bh_endpoint *endpoint, const char *reason,
	void *user)
{
	struct bh_proxy *proxy = user;
	bool was_ready = proxy->ready;
	proxy->ready = false;
	proxy->region.active = false;
	bh_endpoint_destroy(proxy->endpoint);
	proxy->endpoint = NULL;
	char line[300];
	check_vm_alive(proxy);
	if (said_bye(proxy)) {
		/* The guest is shutting down (or its agent restarting): wait
		 * for the VM to go or the agent to say hello again. */
		bh_log(BH_LOG_INFO, "tag %s: the agent said goodbye; waiting for the VM to stop",
			proxy->tag);
		set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_STARTING, NULL);
	} else {
		snprintf(line, sizeof(line),
			"the channel to the agent of tag %s was lost (%s); reconnecting", proxy->tag,
			reason);
		bh_log(BH_LOG_ERROR, "%s", line);
		set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_FAILED, line);
	}
	(void)was_ready;
	proxy->retry_msec = RETRY_MIN_MSEC;
	proxy->connect_start_usec = bh_now_usec();
	proxy->gave_up = false;
	schedule_retry(proxy);
}

static const struct bh_endpoint_listener endpoint_listener = {
	.control = proxy_handle_control,
	.open = proxy_handle_open,
	.disconnected = proxy_handle_disconnected,
};

static int proxy_handle_retry(void *data)
{
	struct bh_proxy *proxy = data;
	if (proxy->endpoint != NULL) {
		return 0;
	}
	struct bh_address addr;
	char err[256];
	if (!bh_address_parse(proxy->channel, &addr, err, sizeof(err))) {
		char line[400];
		snprintf(line, sizeof(line), "tag %s: %s; fix channel = in the config", proxy->tag,
			err);
		bh_log(BH_LOG_ERROR, "%s", line);
		set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_FAILED, line);
		return 0;
	}
	int fd;
	if (proxy->keeper != NULL) {
		fd = bh_keeper_connect(proxy->keeper, err, sizeof(err));
	} else if (addr.kind == BH_ADDRESS_LIBVIRT && proxy->vm != NULL) {
		fd = bh_vm_open_channel(proxy->vm, proxy->tag, addr.path, err, sizeof(err));
	} else {
		fd = bh_transport_connect(&addr, err, sizeof(err));
	}
	if (fd < 0) {
		check_vm_alive(proxy);
		bh_log(BH_LOG_DEBUG, "tag %s: %s", proxy->tag, err);
		if (bh_now_usec() - proxy->connect_start_usec > proxy->boot_timeout_usec) {
			if (!proxy->gave_up) {
				char line[600];
				snprintf(line, sizeof(line),
					"the agent of tag %s did not answer within %llu s (%s); "
					"still trying",
					proxy->tag,
					(unsigned long long)(proxy->boot_timeout_usec / 1000000), err);
				bh_log(BH_LOG_ERROR, "%s", line);
				set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_FAILED, line);
				proxy->gave_up = true;
			}
		}
		schedule_retry(proxy);
		return 0;
	}
	proxy->endpoint = bh_endpoint_create(proxy->loop, fd, BH_ENDPOINT_HOST,
		&endpoint_listener, proxy);
	if (proxy->endpoint == NULL) {
		schedule_retry(proxy);
		return 0;
	}
	bh_log(BH_LOG_INFO, "tag %s: channel connected on %s, waiting for hello", proxy->tag,
		proxy->channel);
	bh_host_region_connected(&proxy->region, proxy->endpoint);
	proxy->retry_msec = RETRY_MIN_MSEC;
	set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_STARTING, NULL);
	send_hello(proxy);
	return 0;
}

uint32_t bh_proxy_launch(struct bh_proxy *proxy, const char *command)
{
	if (!proxy->ready || proxy->endpoint == NULL) {
		return 0;
	}
	struct bh_msg msg;
	bh_msg_init(&msg, 0);
	uint32_t request = ++proxy->next_launch;
	if (request == 0) {
		request = ++proxy->next_launch;
	}
	bh_msg_u32(&msg, request);
	bh_msg_str(&msg, command);
	if (!msg.ok || !bh_endpoint_send_control(proxy->endpoint, BH_CTL_LAUNCH, msg.buf,
			       msg.len)) {
		return 0;
	}
	return request;
}

/* ---- the compositor ---- */

static void manager_handle_tag(void *data, struct bulkhead_vm_manager_v1 *manager,
	const char *name)
{
	struct bh_proxy *proxy = data;
	if (strcmp(name, proxy->tag) != 0) {
		bh_log(BH_LOG_WARN, "the compositor says this proxy serves tag '%s', not '%s'",
			name, proxy->tag);
	}
}

static void manager_handle_launch(void *data, struct bulkhead_vm_manager_v1 *manager,
	const char *command)
{
	struct bh_proxy *proxy = data;
	if (bh_proxy_launch(proxy, command) == 0) {
		bh_log(BH_LOG_ERROR, "tag %s: cannot launch '%s': the agent is not connected",
			proxy->tag, command);
	}
}

static void manager_handle_stop(void *data, struct bulkhead_vm_manager_v1 *manager)
{
	struct bh_proxy *proxy = data;
	bh_log(BH_LOG_INFO, "tag %s: the compositor asked to stop", proxy->tag);
	char error[BH_VM_ERROR_SIZE];
	if (proxy->owns_vm && proxy->keeper != NULL) {
		if (!bh_keeper_vm_stop(proxy->keeper, error)) {
			bh_log(BH_LOG_ERROR, "%s", error);
		}
	} else if (proxy->owns_vm && proxy->vm != NULL) {
		if (!bh_vm_stop(proxy->vm, proxy->tag, false, 10, error)) {
			bh_log(BH_LOG_ERROR, "%s", error);
		}
	}
	set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_STOPPED, NULL);
	leave(proxy, EXIT_SUCCESS);
}

static const struct bulkhead_vm_manager_v1_listener manager_listener = {
	.tag = manager_handle_tag,
	.launch = manager_handle_launch,
	.stop = manager_handle_stop,
};

static void registry_handle_global(void *data, struct wl_registry *registry, uint32_t name,
	const char *interface, uint32_t version)
{
	struct bh_proxy *proxy = data;
	if (strcmp(interface, bulkhead_vm_manager_v1_interface.name) == 0 &&
		proxy->manager == NULL) {
		proxy->manager = wl_registry_bind(registry, name, &bulkhead_vm_manager_v1_interface, 1);
		bulkhead_vm_manager_v1_add_listener(proxy->manager, &manager_listener, proxy);
	}
}

static void registry_handle_global_remove(void *data, struct wl_registry *registry,
	uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_handle_global,
	.global_remove = registry_handle_global_remove,
};

static int proxy_handle_display(int fd, uint32_t mask, void *data)
{
	struct bh_proxy *proxy = data;
	if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR) && !(mask & WL_EVENT_READABLE)) {
		bh_log(BH_LOG_ERROR, "tag %s: the compositor closed the control connection",
			proxy->tag);
		exit(EXIT_FAILURE);
	}
	if (wl_display_dispatch(proxy->display) < 0) {
		bh_log_errno(BH_LOG_ERROR, "tag %s: the control connection to the compositor failed",
			proxy->tag);
		exit(EXIT_FAILURE);
	}
	return 0;
}

/* Starts (or attaches to) the tag's VM through libvirt; on success the
 * channel is the VM's. Blocking: qemu-img and libvirt take a moment. On
 * failure the tag is reported failed and false returned: the proxy exits,
 * so that the next spawn of the tag tries afresh. */
static bool start_vm(struct bh_proxy *proxy)
{
	char error[BH_VM_ERROR_SIZE];
	struct bh_vm_settings settings;
	if (proxy->config != NULL) {
		bh_vm_settings_from_config(proxy->config, proxy->tag, &settings);
	} else {
		memset(&settings, 0, sizeof(settings));
	}
	if (settings.boot_timeout > 0) {
		proxy->boot_timeout_usec = settings.boot_timeout * 1000000ull;
	}
	/* The tag's own libvirt (uri =, host =) and, when it has one, the
	 * storage pool of its disks. */
	proxy->vm = bh_vm_connect_tag(proxy->tag, &settings,
		proxy->config != NULL ? proxy->config->uri : NULL, error);
	char channel[BH_VM_CHANNEL_SIZE];
	bool started = false;
	uint64_t t0 = bh_now_usec();
	if (proxy->vm == NULL ||
		!bh_vm_start(proxy->vm, proxy->tag, &settings, channel, &started, error)) {
		/* The library's sentence says what failed for which tag and what
		 * to do; the compositor shows its first line. */
		char *nl = strchr(error, '\n');
		bh_log(BH_LOG_ERROR, "%s", error);
		if (nl != NULL) {
			*nl = '\0';
		}
		char line[BH_VM_ERROR_SIZE + 300];
		snprintf(line, sizeof(line), "%s", error);
		/* A machine that does not answer is a state of the tag; settings
		 * that cannot work, a missing pool or base are failures. */
		if (proxy->vm == NULL && proxy_remote(proxy) &&
			strstr(error, "cannot reach libvirt") != NULL) {
			become_unreachable(proxy, error);
		}
		set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_FAILED, line);
		return false;
	}
	proxy->owns_vm = true;
	proxy->channel = strdup(channel);
	if (proxy->channel == NULL) {
		return false;
	}
	/* From here on the keeper asks libvirt: the sandboxed proxy keeps no
	 * connection to it, through which a domain could reach the user's files. */
	if (proxy->keeper != NULL) {
		if (!bh_keeper_set_vm(proxy->keeper, bh_vm_uri(proxy->vm))) {
			set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_FAILED,
				"the proxy's keeper could not take over the VM");
			return false;
		}
		bh_vm_disconnect(proxy->vm);
		proxy->vm = NULL;
	}
	bh_log(BH_LOG_INFO, "tag %s: VM %s in %llu ms, channel %s", proxy->tag,
		started ? "started" : "already running",
		(unsigned long long)((bh_now_usec() - t0) / 1000), channel);
	if (proxy->manager != NULL) {
		bulkhead_vm_manager_v1_boot_time(proxy->manager, "host-domain-start",
			(uint32_t)(bh_now_usec() - t0));
	}
	return true;
}

/* The VM's memory, opened before the sandbox, so that window contents
 * need no copy in the guest. Without it the agent copies them. */
static void setup_guest_ram(struct bh_proxy *proxy, const struct bh_vm_settings *settings)
{
	char domain[BH_TAG_DOMAIN_SIZE], err[512] = "";
	const char *why = NULL;
	if (!bh_tag_domain_name(proxy->tag, domain, &why)) {
		return;
	}
	int pid = bh_guest_ram_qemu_pid(domain);
	uint64_t size = (uint64_t)bh_vm_memory_mib(settings) << 20;
	if (pid < 0) {
		snprintf(err, sizeof(err), "libvirt's pid file of %s is not readable", domain);
	}
	if (pid < 0 || !bh_guest_ram_open(&proxy->region, pid, size, err, sizeof(err))) {
		bh_log(BH_LOG_WARN,
			"tag %s: the agent copies window contents into the region itself, slower: "
			"%s",
			proxy->tag, err);
		return;
	}
	bh_log(BH_LOG_INFO, "tag %s: the proxy holds the VM's %llu MiB of memory", proxy->tag,
		(unsigned long long)(size >> 20));
}

/* The tag's shared region, made or opened before the sandbox: the VM's
 * /dev/shm file (made by bh_vm_start), or for an agent on a unix channel a
 * memfd sent to it. None for other channels and shm_size = off. */
static void setup_region(struct bh_proxy *proxy)
{
	struct bh_vm_settings settings;
	memset(&settings, 0, sizeof(settings));
	if (proxy->config != NULL) {
		bh_vm_settings_from_config(proxy->config, proxy->tag, &settings);
	}
	uint64_t size = (uint64_t)bh_vm_region_mib(&settings) << 20;
	char err[512] = "";
	bool ok = false;
	if (size == 0) {
		return;
	}
	if (proxy->owns_vm) {
		char path[4096];
		struct stat st;
		if (!bh_paths_region(proxy->tag, path, sizeof(path), NULL) ||
			stat(path, &st) != 0) {
			return; /* started without one (remote, or it could not be made) */
		}
		ok = bh_host_region_open(&proxy->region, path, size, err, sizeof(err));
	} else if (strncmp(proxy->channel, "unix:", 5) == 0) {
		ok = bh_host_region_create(&proxy->region, size, err, sizeof(err));
	} else {
		return;
	}
	if (!ok) {
		bh_log(BH_LOG_WARN, "tag %s: %s; its windows go through the channel, slower",
			proxy->tag, err);
		bh_host_region_finish(&proxy->region);
		return;
	}
	bh_relay_host_set_region(&proxy->region);
	if (proxy->owns_vm && !settings.memory_private) {
		setup_guest_ram(proxy, &settings);
	}
}

struct bh_proxy *bh_proxy_create(struct wl_event_loop *loop, const struct bh_proxy_options *opts)
{
	struct bh_proxy *proxy = calloc(1, sizeof(*proxy));
	if (proxy == NULL) {
		return NULL;
	}
	proxy->loop = loop;
	proxy->keeper = opts->keeper;
	proxy->tag = strdup(opts->tag);
	proxy->channel = opts->channel != NULL ? strdup(opts->channel) : NULL;
	proxy->boot_timeout_usec = DEFAULT_BOOT_TIMEOUT_SEC * 1000000ull;
	proxy->region.fd = -1;
	if (proxy->tag == NULL) {
		goto error;
	}
	proxy->display = wl_display_connect(NULL);
	if (proxy->display == NULL) {
		bh_log(BH_LOG_ERROR,
			"tag %s: could not connect to the compositor (the proxy is started by "
			"bulkhead with WAYLAND_SOCKET set)",
			proxy->tag);
		goto error;
	}
	proxy->registry = wl_display_get_registry(proxy->display);
	wl_registry_add_listener(proxy->registry, &registry_listener, proxy);
	if (wl_display_roundtrip(proxy->display) < 0 || proxy->manager == NULL) {
		bh_log(BH_LOG_ERROR,
			"tag %s: the compositor offers no bulkhead_vm_manager_v1 on this "
			"connection (is it the tag's control connection?)",
			proxy->tag);
		goto error;
	}
	proxy->display_source = wl_event_loop_add_fd(loop, wl_display_get_fd(proxy->display),
		WL_EVENT_READABLE, proxy_handle_display, proxy);
	proxy->retry_timer = wl_event_loop_add_timer(loop, proxy_handle_retry, proxy);
	if (proxy->display_source == NULL || proxy->retry_timer == NULL) {
		goto error;
	}
	set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_STARTING, NULL);
	proxy->config = bh_config_load(opts->config_path);
	/* A channel = in the tag's section means an agent reached directly
	 * (no VM of ours); the compositor passes it as --channel too. */
	const struct bh_config_tag *ct =
		proxy->config != NULL ? bh_config_tag(proxy->config, proxy->tag) : NULL;
	if (proxy->channel == NULL && ct != NULL && ct->channel != NULL) {
		proxy->channel = strdup(ct->channel);
	}
	/* Window contents cross a network for a tag elsewhere: compressed
	 * unless the tag says compress = none. */
	proxy->compress_lz4 = bh_config_tag_compressed(proxy->config, proxy->tag);
	proxy->xwayland = ct == NULL || !ct->xwayland_off;
	bh_relay_host_set_compression(proxy->compress_lz4);
	if (proxy->channel == NULL && !start_vm(proxy)) {
		goto error;
	}
	setup_region(proxy);
	if (proxy->keeper != NULL && !bh_keeper_set_channel(proxy->keeper, proxy->channel)) {
		set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_FAILED,
			"the proxy's keeper could not take the channel address");
		goto error;
	}
	proxy->retry_msec = RETRY_MIN_MSEC;
	proxy->connect_start_usec = bh_now_usec();
	proxy_handle_retry(proxy);
	char path[4096];
	if (bh_paths_control_socket(proxy->tag, path, sizeof(path), NULL)) {
		proxy->control = bh_control_create(proxy, path);
	}
	if (proxy->control == NULL) {
		bh_log(BH_LOG_WARN, "tag %s: no control socket; bulkheadctl exec will not work",
			proxy->tag);
	} else if (proxy->keeper != NULL) {
		if (!bh_keeper_set_control_socket(proxy->keeper, path)) {
			bh_log(BH_LOG_WARN, "tag %s: the control socket will stay when the proxy "
					    "ends",
				proxy->tag);
		}
		bh_control_keep_file(proxy->control);
	}
	/* Start-up is over: nothing from the guest has been read yet. */
	if (proxy->keeper != NULL && !bh_keeper_seal(proxy->keeper)) {
		set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_FAILED,
			"the proxy's keeper is gone");
		goto error;
	}
	if (opts->sandbox && (proxy->keeper == NULL || !bh_sandbox_enter(proxy->tag))) {
		char line[300];
		snprintf(line, sizeof(line),
			"tag %s: the proxy could not enter its sandbox; see the session log",
			proxy->tag);
		set_state(proxy, BULKHEAD_VM_MANAGER_V1_STATE_FAILED, line);
		goto error;
	}
	return proxy;
error:
	bh_proxy_destroy(proxy);
	return NULL;
}

void bh_proxy_destroy(struct bh_proxy *proxy)
{
	if (proxy == NULL) {
		return;
	}
	bh_control_destroy(proxy->control);
	bh_endpoint_destroy(proxy->endpoint);
	if (proxy->retry_timer != NULL) {
		wl_event_source_remove(proxy->retry_timer);
	}
	if (proxy->display_source != NULL) {
		wl_event_source_remove(proxy->display_source);
	}
	if (proxy->manager != NULL) {
		bulkhead_vm_manager_v1_destroy(proxy->manager);
	}
	if (proxy->registry != NULL) {
		wl_registry_destroy(proxy->registry);
	}
	if (proxy->display != NULL) {
		wl_display_disconnect(proxy->display);
	}
	if (proxy->vm != NULL) {
		bh_vm_disconnect(proxy->vm);
	}
	bh_relay_host_set_region(NULL);
	bh_host_region_finish(&proxy->region);
	bh_config_free(proxy->config);
	free(proxy->tag);
	free(proxy->channel);
	free(proxy);
}
