/* bulkheadctl commands on tag VMs: tags, start, stop, status, clean,
 * rebase, console. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/exec.h"
#include "common/config.h"
#include "vm/config.h"
#include "vm/paths.h"

static const char *state_name(enum bh_vm_state state)
{
	switch (state) {
	case BH_VM_RUNNING:
		return "running";
	case BH_VM_PAUSED:
		return "paused";
	default:
		return "stopped";
	}
}

/* Parses "[flags...] TAG": flags listed in names set the matching bool;
 * --timeout takes a number. Returns the tag or NULL after printing usage. */
static const char *parse_tag_args(int argc, char *argv[], const char *const names[], bool *flags[],
	unsigned *timeout, bool tag_optional)
{
	const char *tag = NULL;
	for (int i = 1; i < argc; i++) {
		bool matched = false;
		for (size_t k = 0; names != NULL && names[k] != NULL; k++) {
			if (strcmp(argv[i], names[k]) == 0) {
				*flags[k] = true;
				matched = true;
			}
		}
		if (matched) {
			continue;
		}
		if (timeout != NULL && strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 10);
			if (*end != '\0' || v > 86400) {
				bh_cli_error("%s: --timeout wants seconds", argv[0]);
				return NULL;
			}
			*timeout = (unsigned)v;
		} else if (strcmp(argv[i], "--") == 0 && i + 1 < argc && tag == NULL) {
			tag = argv[++i];
		} else if (argv[i][0] == '-' || tag != NULL) {
			bh_cli_error("%s: unexpected argument \"%s\" (see `bulkheadctl %s --help`)",
				argv[0], argv[i], argv[0]);
			return NULL;
		} else {
			tag = argv[i];
		}
	}
	if (tag == NULL && !tag_optional) {
		bh_cli_error("%s: which tag? (see `bulkheadctl %s --help`)", argv[0], argv[0]);
	}
	return tag != NULL ? tag : (tag_optional ? "" : NULL);
}

/* The compositor's view of its tags (proxies: starting, running, failed,
 * also tags served without a VM), or NULL outside a session. */
static json_object *compositor_tags(void)
{
	if (getenv("BULKHEAD_SOCKET") == NULL) {
		return NULL;
	}
	json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("tags"));
	json_object *reply = bh_cli_ipc_call(req, true);
	json_object *tags = NULL;
	if (reply != NULL && json_object_object_get_ex(reply, "tags", &tags) &&
		json_object_is_type(tags, json_type_array)) {
		json_object_get(tags);
	} else {
		tags = NULL;
	}
	json_object_put(reply);
	return tags;
}

static json_object *compositor_tag(json_object *tags, const char *name)
{
	for (size_t i = 0; tags != NULL && i < json_object_array_length(tags); i++) {
		json_object *t = json_object_array_get_idx(tags, i), *n;
		if (json_object_object_get_ex(t, "name", &n) &&
			strcmp(json_object_get_string(n), name) == 0) {
			return t;
		}
	}
	return NULL;
}

/* A tag whose settings name its own libvirt (uri =, host =) or a pool:
 * the general connection does not see its disks. */
static bool own_connection(const char *tag)
{
	struct bh_vm_settings s;
	bh_cli_tag_settings(tag, &s);
	return s.uri != NULL || s.host != NULL || s.disks == BH_DISKS_POOL || s.invalid[0] != '\0';
}

/* Adds the config's tags that have their own connection to tags[0..*n). */
static void add_config_tags(char ***tags, int *n)
{
	const struct bh_config *c = bh_cli_config();
	for (size_t i = 0; c != NULL && i < c->tag_count; i++) {
		const char *name = c->tags[i].name;
		bool known = false;
		for (int k = 0; k < *n && !known; k++) {
			known = strcmp((*tags)[k], name) == 0;
		}
		if (known || !own_connection(name)) {
			continue;
		}
		char **grown = realloc(*tags, (size_t)(*n + 1) * sizeof(**tags));
		if (grown != NULL) {
			*tags = grown;
			if ((grown[*n] = strdup(name)) != NULL) {
				(*n)++;
			}
		}
	}
}

int bh_cli_tags(int argc, char *argv[])
{
	bool json = false;
	bool *flags[] = {&json};
	const char *names[] = {"--json", NULL};
	if (parse_tag_args(argc, argv, names, flags, NULL, true) == NULL) {
		return 2;
	}
	char error[BH_VM_ERROR_SIZE];
	json_object *session = compositor_tags();
	/* Inside a session libvirt may be elsewhere or absent (tags reached
	 * through `channel =`): its error is then a warning. */
	struct bh_vm *vm = bh_vm_connect(bh_cli_uri(), error);
	if (vm == NULL && session == NULL) {
		bh_cli_error("%s", error);
		return 1;
	}
	if (vm == NULL) {
		bh_cli_note("warning: %s", error);
	}
	char **tags = NULL;
	int n = vm != NULL ? bh_vm_tags(vm, &tags, error) : 0;
	if (n < 0) {
		bh_cli_error("%s", error);
		n = 0;
	}
	add_config_tags(&tags, &n);
	for (size_t i = 0; session != NULL && i < json_object_array_length(session); i++) {
		json_object *name;
		if (json_object_object_get_ex(
			    json_object_array_get_idx(session, i), "name", &name)) {
			bool known = false;
			for (int k = 0; k < n && !known; k++) {
				known = strcmp(tags[k], json_object_get_string(name)) == 0;
			}
			char **grown =
				known ? tags : realloc(tags, (size_t)(n + 1) * sizeof(*tags));
			if (!known && grown != NULL) {
				tags = grown;
				tags[n++] = strdup(json_object_get_string(name));
			}
		}
	}
	json_object *list = json_object_new_array();
	for (int i = 0; i < n; i++) {
		struct bh_vm_status st = {0};
		json_object *t = compositor_tag(session, tags[i]), *v;
		/* A tag on its own libvirt is asked there; one whose host does
		 * not answer is listed as unreachable, with the reason once. */
		bool own = own_connection(tags[i]), unreachable = false;
		struct bh_vm *tag_vm = vm;
		if (own) {
			struct bh_vm_settings s;
			bh_cli_tag_settings(tags[i], &s);
			tag_vm = bh_vm_connect_tag(tags[i], &s, bh_cli_uri(), error);
			if (tag_vm == NULL) {
				bh_cli_note("warning: %s", error);
				unreachable = true;
			}
		}
		if (tag_vm != NULL && !bh_vm_status(tag_vm, tags[i], &st, error)) {
			if (own) {
				bh_vm_disconnect(tag_vm);
			}
			continue;
		}
		if (own) {
			bh_vm_disconnect(tag_vm);
		}
		/* Only tags with something to show: disks, a VM or a proxy. */
		if (own && !unreachable && !st.has_disks && st.state == BH_VM_STOPPED && t == NULL) {
			continue;
		}
		/* The VM's state, unless the compositor knows better (a proxy
		 * that is starting or failed, or a tag with no VM at all). */
		const char *vm_state = unreachable ? "unreachable" : state_name(st.state),
			   *state = vm_state;
		if (t != NULL && json_object_object_get_ex(t, "state", &v) &&
			json_object_is_type(v, json_type_string) &&
			(st.state == BH_VM_STOPPED ||
				strcmp(json_object_get_string(v), "running") != 0)) {
			state = json_object_get_string(v);
		}
		if (json) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(tags[i]));
			json_object_object_add(o, "state", json_object_new_string(state));
			json_object_object_add(o, "vm", json_object_new_string(vm_state));
			json_object_object_add(
				o, "base", st.base[0] ? json_object_new_string(st.base) : NULL);
			json_object_object_add(
				o, "disk_bytes", json_object_new_int64((int64_t)st.disk_bytes));
			json_object_array_add(list, o);
		} else {
			printf("%-24s %-8s %8.1f MiB  %s\n", tags[i], state,
				(double)st.disk_bytes / (1024 * 1024), st.base[0] ? st.base : "-");
		}
	}
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(list,
				       JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	json_object_put(list);
	json_object_put(session);
	bh_vm_tags_free(tags, n);
	bh_vm_disconnect(vm);
	return 0;
}

int bh_cli_start(int argc, char *argv[])
{
	bool no_wait = false;
	bool *flags[] = {&no_wait};
	const char *names[] = {"--no-wait", NULL};
	unsigned timeout = 0;
	const char *tag = parse_tag_args(argc, argv, names, flags, &timeout, false);
	if (tag == NULL) {
		return 2;
	}
	/* In a session the compositor starts the tag's proxy, which boots
	 * the VM: then exec, run and the windows all work at once. */
	if (bh_cli_in_session()) {
		bool was_running = false;
		if (bh_cli_session_start(tag, timeout > 0 ? timeout : bh_cli_session_timeout(tag),
			    !no_wait, &was_running) != 0) {
			return 1;
		}
		printf("tag %s: %s\n", tag,
			was_running ? "already running" : (no_wait ? "starting" : "started"));
		return 0;
	}
	struct bh_vm *vm = bh_cli_connect_tag(tag);
	if (vm == NULL) {
		return 1;
	}
	struct bh_vm_settings settings;
	bh_cli_tag_settings(tag, &settings);
	if (timeout > 0) {
		settings.boot_timeout = timeout;
	}
	char channel[BH_VM_CHANNEL_SIZE], error[BH_VM_ERROR_SIZE];
	bool started = false;
	int status = 0;
	if (!bh_vm_start(vm, tag, &settings, channel, &started, error)) {
		bh_cli_error("%s", error);
		status = 1;
	} else if (!no_wait && !bh_vm_wait_agent(vm, tag, channel, settings.boot_timeout, error)) {
		bh_cli_error("%s", error);
		status = 1;
	} else {
		printf("tag %s: %s (channel %s)\n", tag, started ? "started" : "already running",
			channel);
	}
	bh_vm_disconnect(vm);
	return status;
}

int bh_cli_stop(int argc, char *argv[])
{
	bool force = false;
	unsigned timeout = 30;
	bool *flags[] = {&force};
	const char *names[] = {"--force", NULL};
	const char *tag = parse_tag_args(argc, argv, names, flags, &timeout, false);
	if (tag == NULL) {
		return 2;
	}
	struct bh_vm *vm = bh_cli_connect_tag(tag);
	if (vm == NULL) {
		return 1;
	}
	char error[BH_VM_ERROR_SIZE];
	int status = 0;
	if (!bh_vm_stop(vm, tag, force, timeout, error)) {
		bh_cli_error("%s", error);
		status = 1;
	}
	bh_vm_disconnect(vm);
	return status;
}

/* The tag's host folders and links, from its settings: what its VM gets at
 * its next start (and has, while it runs). */
static json_object *shares_json(const struct bh_vm_settings *s)
{
	json_object *a = json_object_new_array();
	for (unsigned i = 0; i < s->share_count; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "host", json_object_new_string(s->shares[i].host));
		json_object_object_add(o, "guest", json_object_new_string(s->shares[i].guest));
		json_object_object_add(
			o, "mode", json_object_new_string(s->shares[i].rw ? "rw" : "ro"));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *links_json(const char *tag, const struct bh_vm_settings *s)
{
	json_object *a = json_object_new_array();
	for (unsigned i = 0; i < s->link_count; i++) {
		struct bh_link_member plan[BH_LINK_MEMBERS_MAX];
		const char *tags[BH_LINK_MEMBERS_MAX];
		unsigned self = 0;
		char why[512];
		unsigned n = bh_vm_link_plan(tag, s, i, plan, tags, &self, why, sizeof(why));
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(s->links[i]));
		json_object *members = json_object_new_array();
		for (unsigned k = 0; k < n; k++) {
			json_object_array_add(members, json_object_new_string(tags[k]));
		}
		json_object_object_add(o, "members", members);
		if (n == 0) {
			json_object_object_add(o, "error", json_object_new_string(why));
		} else {
			json_object_object_add(
				o, "address", json_object_new_string(plan[self].address));
			json_object_object_add(
				o, "prefix", json_object_new_int((int)plan[self].prefix));
			json_object_object_add(o, "mac", json_object_new_string(plan[self].mac));
		}
		json_object_array_add(a, o);
	}
	return a;
}

static void print_shares_links(const char *tag, const struct bh_vm_settings *s)
{
	for (unsigned i = 0; i < s->share_count; i++) {
		printf("share:   %s on %s (%s)\n", s->shares[i].host, s->shares[i].guest,
			s->shares[i].rw ? "read-write" : "read-only");
	}
	for (unsigned i = 0; i < s->link_count; i++) {
		struct bh_link_member plan[BH_LINK_MEMBERS_MAX];
		const char *tags[BH_LINK_MEMBERS_MAX];
		unsigned self = 0;
		char why[512];
		unsigned n = bh_vm_link_plan(tag, s, i, plan, tags, &self, why, sizeof(why));
		if (n == 0) {
			printf("link:    %s, not usable: %s\n", s->links[i], why);
			continue;
		}
		printf("link:    %s, address %s/%u, mac %s, with", s->links[i], plan[self].address,
			plan[self].prefix, plan[self].mac);
		for (unsigned k = 0; k < n; k++) {
			if (k != self) {
				printf(" %s (%s)", tags[k], plan[k].address);
			}
		}
		printf("\n");
	}
}

/* A tag whose libvirt is on a machine that does not answer: its disks
 * and VM are there, untouched; the next spawn reconnects. */
static int status_unreachable(const char *tag, bool json, const char *error)
{
	const char *uri = bh_cli_tag_uri(tag);
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(tag));
		json_object_object_add(o, "state", json_object_new_string("unreachable"));
		json_object_object_add(o, "uri", json_object_new_string(uri));
		json_object_object_add(o, "error", json_object_new_string(error));
		json_object_object_add(o, "region", NULL);
		printf("%s\n", json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("tag:     %s\nstate:   unreachable\nlibvirt: %s\nreason:  %s\n"
		       "(its VM and disks are on that machine, untouched; spawn the tag again "
		       "once it answers)\n",
			tag, uri, error);
	}
	return 0;
}

int bh_cli_status(int argc, char *argv[])
{
	bool json = false;
	bool *flags[] = {&json};
	const char *names[] = {"--json", NULL};
	const char *tag = parse_tag_args(argc, argv, names, flags, NULL, false);
	if (tag == NULL) {
		return 2;
	}
	char error[BH_VM_ERROR_SIZE];
	struct bh_vm_settings own;
	bh_cli_tag_settings(tag, &own);
	struct bh_vm *vm = bh_vm_connect_tag(tag, &own, bh_cli_uri(), error);
	/* A host that does not answer is a state of the tag, not a failure
	 * of the command; settings that cannot work are. */
	if (vm == NULL && own.invalid[0] == '\0' && bh_config_uri_remote(bh_cli_tag_uri(tag)) &&
		strstr(error, "cannot reach libvirt") != NULL) {
		return status_unreachable(tag, json, error);
	}
	if (vm == NULL) {
		bh_cli_error("%s", error);
		return 1;
	}
	struct bh_vm_status st;
	if (!bh_vm_status(vm, tag, &st, error)) {
		bh_cli_error("%s", error);
		bh_vm_disconnect(vm);
		return 1;
	}
	char state_dir[PATH_MAX] = "";
	bh_paths_tag_state(tag, NULL, state_dir, sizeof(state_dir), NULL);
	/* How window contents travel: the VM's shared region while it runs
	 * with one, else the channel. */
	char region[PATH_MAX] = "";
	struct stat rst;
	if (st.state == BH_VM_RUNNING && bh_paths_region(tag, region, sizeof(region), NULL) &&
		stat(region, &rst) != 0) {
		region[0] = '\0';
	}
	struct bh_vm_settings settings;
	bh_cli_tag_settings(tag, &settings);
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(tag));
		json_object_object_add(o, "state", json_object_new_string(state_name(st.state)));
		json_object_object_add(
			o, "base", st.base[0] ? json_object_new_string(st.base) : NULL);
		json_object_object_add(o, "disks", json_object_new_boolean(st.has_disks));
		json_object_object_add(
			o, "disk_bytes", json_object_new_int64((int64_t)st.disk_bytes));
		json_object_object_add(o, "state_dir", json_object_new_string(state_dir));
		json_object_object_add(
			o, "channel", st.channel[0] ? json_object_new_string(st.channel) : NULL);
		json_object_object_add(o, "uri", json_object_new_string(bh_vm_uri(vm)));
		json_object_object_add(o, "pool",
			bh_vm_pool(vm) != NULL ? json_object_new_string(bh_vm_pool(vm)) : NULL);
		json_object_object_add(
			o, "region", region[0] ? json_object_new_string(region) : NULL);
		json_object_object_add(o, "shares", shares_json(&settings));
		json_object_object_add(o, "links", links_json(tag, &settings));
		printf("%s\n", json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		char where[PATH_MAX + 128];
		if (bh_vm_pool(vm) != NULL) {
			snprintf(where, sizeof(where), "volumes of the storage pool %s",
				bh_vm_pool(vm));
		} else {
			snprintf(where, sizeof(where), "%s", state_dir);
		}
		printf("tag:     %s\nstate:   %s\nbase:    %s\ndisks:   %s (%.1f MiB)\n"
		       "channel: %s\nlibvirt: %s\n",
			tag, state_name(st.state), st.base[0] ? st.base : "-",
			st.has_disks ? where : "none", (double)st.disk_bytes / (1024 * 1024),
			st.channel[0] ? st.channel : "-", bh_vm_uri(vm));
		if (st.state == BH_VM_RUNNING) {
			if (bh_vm_remote(vm)) {
				printf("windows: through the channel over libvirt%s (a VM on "
				       "another machine has no shared region)\n",
					bh_cli_tag_compressed(tag) ? ", compressed with lz4" : "");
			} else {
				printf("windows: %s%s\n",
					region[0] ? "through the shared region " : "",
					region[0] ? region : "through the channel (no shared region)");
			}
		}
		print_shares_links(tag, &settings);
	}
	bh_vm_disconnect(vm);
	return 0;
}

int bh_cli_clean(int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "--disposables") == 0) {
		return bh_cli_clean_disposables();
	}
	bool yes = false;
	bool *flags[] = {&yes};
	const char *names[] = {"--yes", NULL};
	const char *tag = parse_tag_args(argc, argv, names, flags, NULL, false);
	if (tag == NULL) {
		return 2;
	}
	char state_dir[PATH_MAX];
	const char *why = NULL;
	if (!bh_paths_tag_state(tag, NULL, state_dir, sizeof(state_dir), &why)) {
		bh_cli_error("invalid tag \"%s\": %s", tag, why);
		return 1;
	}
	if (!yes) {
		if (!isatty(STDIN_FILENO)) {
			bh_cli_tag_error(tag, "clean deletes every disk (%s); confirm with --yes",
				state_dir);
			return 1;
		}
		printf("Delete the disks and console log of tag %s (%s)? [y/N] ", tag, state_dir);
		fflush(stdout);
		char answer[16] = "";
		if (fgets(answer, sizeof(answer), stdin) == NULL ||
			(answer[0] != 'y' && answer[0] != 'Y')) {
			printf("Nothing deleted.\n");
			return 1;
		}
	}
	struct bh_vm *vm = bh_cli_connect_tag(tag);
	if (vm == NULL) {
		return 1;
	}
	char error[BH_VM_ERROR_SIZE];
	int status = 0;
	if (!bh_vm_clean(vm, tag, error)) {
		bh_cli_error("%s", error);
		status = 1;
	}
	bh_vm_disconnect(vm);
	return status;
}

/* Rebases one tag on vm; a running tag is skipped with a note. */
static bool rebase_tag(
	struct bh_vm *vm, const char *tag, const struct bh_vm_settings *settings, bool explicit)
{
	struct bh_vm_status st;
	char error[BH_VM_ERROR_SIZE];
	if (!explicit && bh_vm_status(vm, tag, &st, error) && st.state != BH_VM_STOPPED) {
		if (bh_vm_pool(vm) != NULL) {
			/* A volume is rebased only by rebase, not by a start. */
			printf("tag %s: running, rebased once stopped by `bulkheadctl rebase %s`\n",
				tag, tag);
		} else {
			printf("tag %s: running, rebased at its next start\n", tag);
		}
		return true;
	}
	bool changed = false;
	if (!bh_vm_rebase(vm, tag, settings, &changed, error)) {
		bh_cli_error("%s", error);
		return false;
	}
	if (changed) {
		printf("tag %s: rebased\n", tag);
	}
	return true;
}

/* Rebases one tag, through its own connection when it has one. */
static bool rebase_one(struct bh_vm *vm, const char *tag, bool explicit)
{
	struct bh_vm_settings settings;
	bh_cli_tag_settings(tag, &settings);
	if (!own_connection(tag)) {
		return rebase_tag(vm, tag, &settings, explicit);
	}
	struct bh_vm *tag_vm = bh_cli_connect_tag(tag);
	if (tag_vm == NULL) {
		return false;
	}
	bool ok = rebase_tag(tag_vm, tag, &settings, explicit);
	bh_vm_disconnect(tag_vm);
	return ok;
}

int bh_cli_rebase_all(struct bh_vm *vm)
{
	char error[BH_VM_ERROR_SIZE];
	char **tags;
	int n = bh_vm_tags(vm, &tags, error);
	if (n < 0) {
		bh_cli_error("%s", error);
		return 1;
	}
	add_config_tags(&tags, &n);
	bool ok = true;
	for (int i = 0; i < n; i++) {
		ok = rebase_one(vm, tags[i], false) && ok;
	}
	bh_vm_tags_free(tags, n);
	return ok ? 0 : 1;
}

int bh_cli_rebase(int argc, char *argv[])
{
	const char *tag = parse_tag_args(argc, argv, NULL, NULL, NULL, true);
	if (tag == NULL) {
		return 2;
	}
	struct bh_vm *vm = bh_cli_connect();
	if (vm == NULL) {
		return 1;
	}
	int status = tag[0] ? (rebase_one(vm, tag, true) ? 0 : 1) : bh_cli_rebase_all(vm);
	bh_vm_disconnect(vm);
	return status;
}

int bh_cli_console(int argc, char *argv[])
{
	const char *tag = parse_tag_args(argc, argv, NULL, NULL, NULL, false);
	if (tag == NULL) {
		return 2;
	}
	char path[PATH_MAX];
	const char *why = NULL;
	if (!bh_paths_tag_state(tag, "console.log", path, sizeof(path), &why)) {
		bh_cli_error("invalid tag \"%s\": %s", tag, why);
		return 1;
	}
	if (own_connection(tag)) {
		/* A VM on a pool writes its console into the pool. */
		struct bh_vm *vm = bh_cli_connect_tag(tag);
		if (vm == NULL) {
			return 1;
		}
		if (bh_vm_pool(vm) != NULL) {
			char *tail = bh_vm_console_tail_of(vm, tag, 1 << 20);
			bh_vm_disconnect(vm);
			if (tail == NULL || tail[0] == '\0') {
				free(tail);
				bh_cli_tag_error(tag, "no console log yet; start it with `bulkheadctl "
						      "start %s`",
					tag);
				return 1;
			}
			printf("%s\n", tail);
			free(tail);
			return 0;
		}
		bh_vm_disconnect(vm);
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		bh_cli_tag_error(tag,
			"no console log yet (%s); start it with `bulkheadctl start %s`",
			strerror(errno), tag);
		return 1;
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)n, stdout);
	}
	close(fd);
	return 0;
}
