/* The compositor's first run: the host checks of `bulkheadctl doctor` at
 * start, shown once in the status line, and the base build that Super+t
 * offers while there is no base, its progress in the status line. Both
 * are bulkheadctl children whose output is read through the event loop;
 * main.c's SIGCHLD handler reaps them. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "compositor/first_run.h"
#include "compositor/server.h"
#include "compositor/status.h"
#include "vm/paths.h"

#define OUTPUT_MAX (256 * 1024)

/* One bulkheadctl child and what it printed so far. */
struct child {
	struct bh_server *server;
	struct wl_event_source *source;
	pid_t pid;
	int fd;
	char *output;
	size_t len;
	void (*line)(struct child *child, const char *line); /* NULL: all at the end */
	void (*done)(struct child *child);
};

static struct child *doctor, *build;

void bh_ctl_path(char *out, size_t size)
{
	snprintf(out, size, "bulkheadctl");
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		return;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash == NULL) {
		return;
	}
	*slash = '\0';
	const char *candidates[] = {"%s/../cli/bulkheadctl", "%s/bulkheadctl"};
	for (size_t i = 0; i < BH_ARRAY_LEN(candidates); i++) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof(path), candidates[i], self);
		if (access(path, X_OK) == 0 && strlen(path) < size) {
			memcpy(out, path, strlen(path) + 1);
			return;
		}
	}
}

static void child_destroy(struct child *c)
{
	if (c == NULL) {
		return;
	}
	if (c->source != NULL) {
		wl_event_source_remove(c->source);
	}
	close(c->fd);
	free(c->output);
	free(c);
}

static int child_handle_readable(int fd, uint32_t mask, void *data)
{
	struct child *c = data;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return 0;
	}
	if (n > 0) {
		if (c->len + (size_t)n < OUTPUT_MAX) {
			char *grown = realloc(c->output, c->len + (size_t)n + 1);
			if (grown != NULL) {
				c->output = grown;
				memcpy(c->output + c->len, buf, (size_t)n);
				c->len += (size_t)n;
				c->output[c->len] = '\0';
			}
		}
		char *nl;
		while (c->line != NULL && c->output != NULL &&
			(nl = memchr(c->output, '\n', c->len)) != NULL) {
			*nl = '\0';
			c->line(c, c->output);
			c->len -= (size_t)(nl + 1 - c->output);
			memmove(c->output, nl + 1, c->len + 1);
		}
		return 0;
	}
	/* End of output (or a read error): the child is done with it. */
	c->done(c);
	return 0;
}

static struct child *child_start(struct bh_server *server, const char *const args[],
	void (*line)(struct child *, const char *), void (*done)(struct child *))
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		bh_log_errno(BH_LOG_ERROR, "cannot make a pipe for bulkheadctl");
		return NULL;
	}
	char ctl[PATH_MAX], script[64];
	bh_ctl_path(ctl, sizeof(ctl));
	/* Its stdout and stderr into the pipe (through /dev/fd: sh's >&N takes
	 * one digit only); the rest of its stdio as ours. */
	snprintf(script, sizeof(script), "exec \"$0\" \"$@\" >/dev/fd/%d 2>&1", pipefd[1]);
	const char *argv[8] = {"/bin/sh", "-c", script, ctl};
	size_t n = 4;
	for (size_t i = 0; args[i] != NULL && n + 1 < BH_ARRAY_LEN(argv); i++) {
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	const int keep[] = {pipefd[1], -1};
	pid_t pid = bh_spawn(argv, NULL, keep, false);
	close(pipefd[1]);
	struct child *c = pid > 0 ? calloc(1, sizeof(*c)) : NULL;
	if (c == NULL) {
		close(pipefd[0]);
		bh_log(BH_LOG_ERROR, "cannot run %s %s", ctl, args[0]);
		return NULL;
	}
	*c = (struct child){
		.server = server, .pid = pid, .fd = pipefd[0], .line = line, .done = done};
	bh_set_nonblock(c->fd, true);
	c->source = wl_event_loop_add_fd(
		server->loop, c->fd, WL_EVENT_READABLE, child_handle_readable, c);
	if (c->source == NULL) {
		bh_log(BH_LOG_ERROR, "cannot watch the output of bulkheadctl %s", args[0]);
		child_destroy(c);
		return NULL;
	}
	return c;
}

/* The doctor's report: the checks that are not ok, worst first, in one
 * line for the status line and one log line each. */
static void doctor_done(struct child *c)
{
	struct bh_server *server = c->server;
	json_object *report = c->output != NULL ? json_tokener_parse(c->output) : NULL;
	json_object *checks;
	if (report == NULL || !json_object_object_get_ex(report, "checks", &checks) ||
		!json_object_is_type(checks, json_type_array)) {
		bh_log(BH_LOG_WARN, "bulkheadctl doctor gave no report; run it in a terminal");
		json_object_put(report);
		child_destroy(c);
		doctor = NULL;
		return;
	}
	char note[512] = "";
	size_t used = 0, problems = 0;
	static const char *const levels[] = {"fail", "warn"};
	for (size_t l = 0; l < BH_ARRAY_LEN(levels); l++) {
		for (size_t i = 0; i < json_object_array_length(checks); i++) {
			json_object *check = json_object_array_get_idx(checks, i), *v;
			const char *status = json_object_object_get_ex(check, "status", &v)
						     ? json_object_get_string(v)
						     : NULL;
			if (status == NULL || strcmp(status, levels[l]) != 0) {
				continue;
			}
			const char *id = json_object_object_get_ex(check, "id", &v)
						 ? json_object_get_string(v)
						 : "?";
			const char *message = json_object_object_get_ex(check, "message", &v)
						      ? json_object_get_string(v)
						      : "";
			const char *fix = json_object_object_get_ex(check, "fix", &v)
						  ? json_object_get_string(v)
						  : "";
			bh_log(BH_LOG_WARN, "doctor: %s %s: %s; fix: %s", status, id, message, fix);
			int w = snprintf(
				note + used, sizeof(note) - used, "%s%s", problems ? ", " : "", id);
			if (w > 0 && (size_t)w < sizeof(note) - used) {
				used += (size_t)w;
			}
			problems++;
		}
	}
	if (problems > 0) {
		char line[640];
		snprintf(line, sizeof(line), "doctor: %s need%s a look (bulkheadctl doctor)", note,
			problems == 1 ? "s" : "");
		bh_status_note(server, line);
	} else {
		bh_log(BH_LOG_INFO, "doctor: every check passed");
	}
	json_object_put(report);
	child_destroy(c);
	doctor = NULL;
}

bool bh_first_run_check(struct bh_server *server)
{
	const char *env = getenv("BULKHEAD_DOCTOR");
	if (env != NULL && strcmp(env, "off") == 0) {
		return true;
	}
	const char *args[] = {"doctor", "--json", NULL};
	doctor = child_start(server, args, NULL, doctor_done);
	return doctor != NULL;
}

bool bh_first_run_offers_base(struct bh_server *server)
{
	char latest[PATH_MAX];
	if (build != NULL || !bh_paths_bases_root(latest, sizeof(latest) - 8)) {
		return false;
	}
	strcat(latest, "/latest");
	return access(latest, F_OK) != 0;
}

static void build_line(struct child *c, const char *line)
{
	/* Its progress lines ("base build: 42% installing packages ...") as
	 * they come, and its errors. */
	if (line[0] != '\0' && strncmp(line, "  | ", 4) != 0) {
		bh_status_note(c->server, line);
	}
}

static void build_done(struct child *c)
{
	/* Done when a base is there now (its exit status is main.c's). */
	char latest[PATH_MAX];
	bool ok = bh_paths_bases_root(latest, sizeof(latest) - 8) &&
		  access(strcat(latest, "/latest"), F_OK) == 0;
	const char *text = ok ? "base build: done; Super+t starts a tag"
			      : "base build: failed; run `bulkheadctl base build` in a terminal "
				"to see why";
	bh_log(ok ? BH_LOG_INFO : BH_LOG_ERROR, "%s", text);
	bh_status_note(c->server, text);
	child_destroy(c);
	build = NULL;
}

void bh_first_run_build_base(struct bh_server *server)
{
	if (build != NULL) {
		bh_status_note(server, "base build: already running");
		return;
	}
	bh_log(BH_LOG_INFO, "first run: building a base (bulkheadctl base build)");
	const char *args[] = {"base", "build", NULL};
	build = child_start(server, args, build_line, build_done);
	bh_status_note(server, build != NULL ? "base build: starting"
					      : "base build: bulkheadctl could not be started");
}

void bh_first_run_finish(struct bh_server *server)
{
	/* A build still running is stopped: it removes what it made. */
	if (build != NULL) {
		kill(build->pid, SIGTERM);
	}
	child_destroy(doctor);
	child_destroy(build);
	doctor = build = NULL;
}
