/* bulkheadctl's compositor IPC client (windows, spawn, starting a tag
 * through the session): one JSON request per line on the socket in
 * BULKHEAD_SOCKET, one JSON reply per line. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/util.h"

/* Largest reply we accept: a window list of thousands fits easily. */
#define MAX_REPLY (4u << 20)

static int connect_compositor(bool quiet)
{
	const char *path = getenv("BULKHEAD_SOCKET");
	if (path == NULL || path[0] == '\0') {
		if (!quiet) {
			bh_cli_error(
				"BULKHEAD_SOCKET is not set: run this inside a bulkhead session");
		}
		return -1;
	}
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		bh_cli_error("BULKHEAD_SOCKET is too long for a unix socket path");
		return -1;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		if (!quiet) {
			bh_cli_error(
				"cannot reach the compositor at %s: %s", path, strerror(errno));
		}
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	return fd;
}

json_object *bh_cli_ipc_call(json_object *request, bool quiet)
{
	int fd = connect_compositor(quiet);
	if (fd < 0) {
		json_object_put(request);
		return NULL;
	}
	const char *text = json_object_to_json_string_ext(
		request, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	bool sent = bh_write_all(fd, text, strlen(text)) && bh_write_all(fd, "\n", 1);
	json_object_put(request);
	if (!sent) {
		bh_cli_error("lost the compositor while sending: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0;
	for (;;) {
		char chunk[4096];
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		char *grown =
			len + (size_t)n <= MAX_REPLY ? realloc(buf, len + (size_t)n + 1) : NULL;
		if (grown == NULL) {
			break;
		}
		buf = grown;
		memcpy(buf + len, chunk, (size_t)n);
		len += (size_t)n;
		buf[len] = '\0';
		if (memchr(chunk, '\n', (size_t)n) != NULL) {
			break;
		}
	}
	close(fd);
	json_object *reply = buf != NULL ? json_tokener_parse(buf) : NULL;
	free(buf);
	json_object *ok = NULL, *error = NULL;
	if (reply == NULL || !json_object_object_get_ex(reply, "ok", &ok)) {
		bh_cli_error("the compositor sent no valid reply");
		json_object_put(reply);
		return NULL;
	}
	if (!json_object_get_boolean(ok)) {
		json_object_object_get_ex(reply, "error", &error);
		bh_cli_error("%s", error != NULL ? json_object_get_string(error)
						 : "the compositor refused the request");
		json_object_put(reply);
		return NULL;
	}
	return reply;
}

static json_object *request(const char *cmd)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	return o;
}

static const char *field_string(json_object *o, const char *key, const char *fallback)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : fallback;
}

static int64_t field_int(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

int bh_cli_windows(int argc, char *argv[])
{
	bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
	if (argc > (json ? 2 : 1)) {
		return bh_cli_usage(NULL);
	}
	json_object *reply = bh_cli_ipc_call(request("windows"), false);
	if (reply == NULL) {
		return 1;
	}
	json_object *windows = NULL;
	json_object_object_get_ex(reply, "windows", &windows);
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(
				       windows != NULL ? windows : json_object_new_array(),
				       JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (windows != NULL && json_object_is_type(windows, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(windows); i++) {
			json_object *w = json_object_array_get_idx(windows, i);
			json_object *focused = NULL;
			json_object_object_get_ex(w, "focused", &focused);
			printf("%4lld %c %-12s %4lldx%-4lld %s\n", (long long)field_int(w, "id"),
				json_object_get_boolean(focused) ? '*' : ' ',
				field_string(w, "tag", "(host)"), (long long)field_int(w, "width"),
				(long long)field_int(w, "height"), field_string(w, "title", ""));
		}
	}
	json_object_put(reply);
	return 0;
}

int bh_cli_spawn(int argc, char *argv[])
{
	if (argc != 2) {
		return bh_cli_usage(NULL);
	}
	json_object *req = request("spawn");
	json_object_object_add(req, "tag", json_object_new_string(argv[1]));
	json_object *reply = bh_cli_ipc_call(req, false);
	if (reply == NULL) {
		return 1;
	}
	json_object_put(reply);
	return 0;
}

bool bh_cli_in_session(void)
{
	const char *path = getenv("BULKHEAD_SOCKET");
	return path != NULL && path[0] != '\0';
}

/* The tag's state and error line in the compositor's tag list ("" when it
 * does not know the tag); false when the compositor does not answer. */
static bool session_tag_state(const char *tag, char *state, size_t state_size, char *error,
	size_t error_size, bool *proxy)
{
	json_object *reply = bh_cli_ipc_call(request("tags"), false);
	if (reply == NULL) {
		return false;
	}
	snprintf(state, state_size, "%s", "");
	snprintf(error, error_size, "%s", "");
	json_object *tags = NULL;
	json_object_object_get_ex(reply, "tags", &tags);
	for (size_t i = 0; tags != NULL && json_object_is_type(tags, json_type_array) &&
			   i < json_object_array_length(tags);
		i++) {
		json_object *t = json_object_array_get_idx(tags, i);
		if (strcmp(field_string(t, "name", ""), tag) == 0) {
			snprintf(state, state_size, "%s", field_string(t, "state", ""));
			snprintf(error, error_size, "%s", field_string(t, "error", ""));
			json_object *p;
			*proxy = json_object_object_get_ex(t, "proxy", &p) &&
				 json_object_get_boolean(p);
		}
	}
	json_object_put(reply);
	return true;
}

static bool request_start(const char *tag)
{
	json_object *req = request("start");
	json_object_object_add(req, "tag", json_object_new_string(tag));
	json_object *reply = bh_cli_ipc_call(req, false);
	bool ok = reply != NULL;
	json_object_put(reply);
	return ok;
}

/* A tag whose proxy has given up or is giving up: failed, or unreachable
 * (its libvirt, on another machine, does not answer). */
static bool ended(const char *state)
{
	return strcmp(state, "failed") == 0 || strcmp(state, "unreachable") == 0;
}

int bh_cli_session_start(const char *tag, unsigned timeout, bool wait, bool *was_running)
{
	const char *path = getenv("BULKHEAD_SOCKET");
	int probe = connect_compositor(true);
	if (probe < 0) {
		bh_cli_tag_error(tag,
			"cannot start it: the compositor at %s does not answer (%s); run this in "
			"a terminal of a running bulkhead session",
			path != NULL ? path : "(BULKHEAD_SOCKET unset)", strerror(errno));
		return 1;
	}
	close(probe);
	char state[32], error[512];
	bool proxy = false;
	if (!session_tag_state(tag, state, sizeof(state), error, sizeof(error), &proxy)) {
		return 1;
	}
	if (was_running != NULL) {
		*was_running = strcmp(state, "running") == 0;
	}
	if (strcmp(state, "running") == 0) {
		return 0;
	}
	/* A failed tag whose proxy still runs is that proxy's to recover
	 * (it reconnects) or to end; once it has ended, this start asks for
	 * a new one. */
	bool old_proxy = proxy && ended(state);
	if (!request_start(tag)) {
		return 1;
	}
	if (!wait) {
		return 0;
	}
	if (isatty(STDERR_FILENO)) {
		bh_cli_tag_error(tag, "starting (its proxy boots the VM; up to %u s)", timeout);
	}
	struct timespec pause = {0, 200 * 1000 * 1000};
	for (unsigned long waited_ms = 0; waited_ms < timeout * 1000ul; waited_ms += 200) {
		if (!session_tag_state(tag, state, sizeof(state), error, sizeof(error), &proxy)) {
			return 1;
		}
		if (strcmp(state, "running") == 0) {
			return 0;
		}
		if (ended(state) && proxy) {
			nanosleep(&pause, NULL);
			continue; /* still trying */
		}
		if (ended(state) && old_proxy) {
			old_proxy = false;
			if (!request_start(tag)) {
				return 1;
			}
			nanosleep(&pause, NULL);
			continue;
		}
		if (ended(state)) {
			/* The compositor's line names the tag already. */
			char named[200];
			snprintf(named, sizeof(named), "tag %s", tag);
			if (strstr(error, named) != NULL) {
				bh_cli_error("%s", error);
			} else {
				bh_cli_tag_error(tag, "%s", error[0] ? error : "failed to start");
			}
			return 1;
		}
		nanosleep(&pause, NULL);
	}
	if (ended(state)) {
		bh_cli_tag_error(tag, "not running after %u s: %s", timeout, error);
	} else {
		bh_cli_tag_error(tag,
			"not running after %u s (still %s); see `bulkheadctl console %s`, or try "
			"again with a longer boot_timeout",
			timeout, state[0] ? state : "unknown to the compositor", tag);
	}
	return 1;
}

static double field_double(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

int bh_cli_boot_trace(int argc, char *argv[])
{
	bool json = argc == 3 && strcmp(argv[1], "--json") == 0;
	if (argc != (json ? 3 : 2)) {
		return bh_cli_usage(NULL);
	}
	const char *name = argv[json ? 2 : 1];
	json_object *reply = bh_cli_ipc_call(request("tags"), false);
	if (reply == NULL) {
		return 1;
	}
	json_object *tags = NULL, *boot = NULL;
	json_object_object_get_ex(reply, "tags", &tags);
	for (size_t i = 0; tags != NULL && i < json_object_array_length(tags); i++) {
		json_object *t = json_object_array_get_idx(tags, i);
		if (strcmp(field_string(t, "name", ""), name) == 0) {
			json_object_object_get_ex(t, "boot", &boot);
		}
	}
	json_object *steps = NULL;
	if (boot == NULL || !json_object_object_get_ex(boot, "steps", &steps)) {
		bh_cli_tag_error(name,
			"it has not booted in this session; start it with `bulkheadctl spawn %s`, "
			"then ask again",
			name);
		json_object_put(reply);
		return 1;
	}
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(boot, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(reply);
		return 0;
	}
	size_t n = json_object_array_length(steps), largest = 0;
	for (size_t i = 0; i < n; i++) {
		if (field_double(json_object_array_get_idx(steps, i), "ms") >
			field_double(json_object_array_get_idx(steps, largest), "ms")) {
			largest = i;
		}
	}
	json_object *complete = NULL;
	json_object_object_get_ex(boot, "complete", &complete);
	printf("boot of tag %s: %.2f s from spawn to %s\n", name,
		field_double(boot, "total_ms") / 1000.0,
		json_object_get_boolean(complete) ? "its first window" : "the agent (no window yet)");
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(steps, i);
		printf("  %8.1f ms  %-5s  %s%s\n", field_double(s, "ms"),
			field_string(s, "where", ""), field_string(s, "step", ""),
			i == largest ? "   <- largest" : "");
	}
	json_object_put(reply);
	return 0;
}
