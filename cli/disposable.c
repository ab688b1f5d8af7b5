/* Disposable tags: `run --disposable [--from TAG] -- COMMAND` and
 * `open --disposable FILE` make a new tag disp-N (N never reused) that boots
 * from the base, or from a stopped tag's disks through throwaway overlays,
 * run the command framed like any tag, and destroy it with every trace
 * (VM, disks, console log, sockets, runtime files, /dev/shm) once the
 * command exited and its last window closed. The process that made it owns
 * it through a lock on its marker file; a disposable whose owner died (kill
 * -9, a crash) is removed by the next `run --disposable`, by `clean
 * --disposables`, and at the compositor's start. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/exec.h"
#include "common/log.h"
#include "vm/image.h"
#include "vm/paths.h"

#define PREFIX "disp-"
#define MARKER "disposable"

/* disp-N with N a decimal number without leading zeros. */
static bool disposable_name(const char *tag)
{
	if (strncmp(tag, PREFIX, strlen(PREFIX)) != 0) {
		return false;
	}
	const char *n = tag + strlen(PREFIX);
	if (n[0] < '1' || n[0] > '9') {
		return false;
	}
	for (; *n; n++) {
		if (*n < '0' || *n > '9') {
			return false;
		}
	}
	return true;
}

static void sleep_ms(long ms)
{
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

/* Shared-memory files named after the tag's domain (bulkhead-disp-N,
 * followed by nothing or a non-digit). */
static void remove_shm(const char *tag)
{
	char domain[BH_TAG_DOMAIN_SIZE];
	if (!bh_tag_domain_name(tag, domain, NULL)) {
		return;
	}
	DIR *d = opendir("/dev/shm");
	if (d == NULL) {
		return;
	}
	size_t n = strlen(domain);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, domain, n) == 0 &&
			(e->d_name[n] == '\0' || e->d_name[n] < '0' || e->d_name[n] > '9')) {
			char path[PATH_MAX];
			if (bh_path_fmt(path, sizeof(path), "/dev/shm/%s", e->d_name)) {
				unlink(path);
			}
		}
	}
	closedir(d);
}

/* Ends the tag's VM and removes everything it left; spawned: the
 * compositor knows it (and stops its proxy first). */
static bool destroy(struct bh_vm *vm, const char *tag, bool spawned)
{
	char error[BH_VM_ERROR_SIZE];
	if (spawned) {
		json_object *req = json_object_new_object();
		json_object_object_add(req, "cmd", json_object_new_string("stop"));
		json_object_object_add(req, "tag", json_object_new_string(tag));
		json_object *reply = bh_cli_ipc_call(req, true);
		json_object_put(reply);
	}
	bool ok = bh_vm_stop(vm, tag, true, 0, error);
	if (!ok) {
		bh_cli_tag_error(tag, "could not end its VM: %s", error);
	}
	/* The proxy goes with the VM; its control socket is the last to go. */
	char sock[PATH_MAX];
	for (int i = 0; i < 100 && bh_paths_control_socket(tag, sock, sizeof(sock), NULL) &&
			access(sock, F_OK) == 0;
		i++) {
		sleep_ms(100);
	}
	/* What clean removes for any tag (disks, console log, sockets and
	 * whatever else the vm library keeps for it), then the rest. */
	if (ok && !bh_vm_clean(vm, tag, error)) {
		bh_log(BH_LOG_WARN, "tag %s: clean: %s", tag, error);
	}
	char state[PATH_MAX], runtime[PATH_MAX];
	if (bh_paths_tag_runtime(tag, NULL, runtime, sizeof(runtime), NULL) &&
		!bh_remove_tree(runtime)) {
		ok = false;
	}
	if (bh_paths_tag_state(tag, NULL, state, sizeof(state), NULL) && !bh_remove_tree(state)) {
		ok = false;
	}
	remove_shm(tag);
	if (!ok) {
		bh_cli_tag_error(tag, "some of the disposable's files stayed behind; `bulkheadctl "
				      "clean --disposables` tries again");
	}
	return ok;
}

/* Removes every disposable whose owner is gone; returns how many. */
static int sweep(struct bh_vm *vm)
{
	char **tags = NULL;
	char error[BH_VM_ERROR_SIZE];
	int n = bh_vm_tags(vm, &tags, error);
	int removed = 0;
	for (int i = 0; i < n; i++) {
		if (!disposable_name(tags[i])) {
			continue;
		}
		char marker[PATH_MAX];
		if (!bh_paths_tag_state(tags[i], MARKER, marker, sizeof(marker), NULL)) {
			continue;
		}
		int fd = open(marker, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			/* A domain without its state: a leftover too, unless a tag
			 * of that name was made by hand (it has disks, no marker). */
			struct bh_vm_status st;
			if (!bh_vm_status(vm, tags[i], &st, error) || st.has_disks) {
				continue;
			}
		} else if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
			if (fd >= 0) {
				close(fd);
			}
			continue; /* its owner runs */
		}
		bh_log(BH_LOG_INFO, "tag %s: a disposable left by a crash; removing it", tags[i]);
		if (destroy(vm, tags[i], getenv("BULKHEAD_SOCKET") != NULL)) {
			removed++;
		}
		if (fd >= 0) {
			close(fd);
		}
	}
	if (n > 0) {
		bh_vm_tags_free(tags, n);
	}
	return removed;
}

/* The next N, from a counter beside the tags that only grows. */
static bool next_number(unsigned long *out)
{
	char root[PATH_MAX], path[PATH_MAX];
	if (!bh_paths_state_root(root, sizeof(root)) || !bh_mkdir_p(root, 0700) ||
		!bh_path_fmt(path, sizeof(path), "%s/disposable-counter", root)) {
		return false;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		if (fd >= 0) {
			close(fd);
		}
		return false;
	}
	char buf[32] = "";
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);
	unsigned long n = r > 0 ? strtoul(buf, NULL, 10) : 0;
	if (n == 0) {
		n = 1;
	}
	/* A number whose directory exists (a counter that was lost) is skipped. */
	for (;; n++) {
		char tag[32], dir[PATH_MAX];
		snprintf(tag, sizeof(tag), PREFIX "%lu", n);
		if (!bh_paths_tag_state(tag, NULL, dir, sizeof(dir), NULL) ||
			access(dir, F_OK) != 0) {
			break;
		}
	}
	int len = snprintf(buf, sizeof(buf), "%lu\n", n + 1);
	bool ok = ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)len, 0) == len;
	close(fd);
	*out = n;
	return ok;
}

/* The tag's state and windows from the compositor; false when it does not
 * answer or does not know the tag. */
static bool tag_info(const char *tag, char *state, size_t size, int *windows)
{
	json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("tags"));
	json_object *reply = bh_cli_ipc_call(req, true);
	json_object *list = NULL;
	bool found = false;
	if (reply != NULL && json_object_object_get_ex(reply, "tags", &list)) {
		for (size_t i = 0; i < json_object_array_length(list) && !found; i++) {
			json_object *t = json_object_array_get_idx(list, i), *v;
			if (json_object_object_get_ex(t, "name", &v) &&
				strcmp(json_object_get_string(v), tag) == 0) {
				found = true;
				snprintf(state, size, "%s",
					json_object_object_get_ex(t, "state", &v)
						? json_object_get_string(v)
						: "");
				*windows = json_object_object_get_ex(t, "windows", &v)
						   ? json_object_get_int(v)
						   : 0;
			}
		}
	}
	json_object_put(reply);
	return found;
}

/* Throwaway overlays on a stopped tag's disks: its files, none of its
 * changes. */
static bool overlays_from(struct bh_vm *vm, const char *tag, const char *from)
{
	struct bh_vm_status st;
	char error[BH_VM_ERROR_SIZE];
	/* Its overlays are files here, on the source tag's files. */
	struct bh_vm_settings s;
	bh_cli_tag_settings(from, &s);
	if (s.invalid[0] == '\0' && bh_vm_settings_pool(&s, bh_cli_uri())) {
		bh_cli_tag_error(from,
			"its disks are volumes of a storage pool (uri, host or disks = pool); a "
			"disposable starts from the disks of a tag kept as files on this machine");
		return false;
	}
	if (!bh_vm_status(vm, from, &st, error)) {
		bh_cli_error("%s", error);
		return false;
	}
	if (st.state != BH_VM_STOPPED || !st.has_disks) {
		bh_cli_tag_error(from,
			st.has_disks ? "it runs; a disposable starts from a stopped tag's disks: "
				       "`bulkheadctl stop %s` first"
				     : "it has no disks to start a disposable from%s",
			st.has_disks ? from : "");
		return false;
	}
	const char *disks[] = {"root.qcow2", "home.qcow2"};
	for (int i = 0; i < 2; i++) {
		char src[PATH_MAX], dst[PATH_MAX];
		if (!bh_paths_tag_state(from, disks[i], src, sizeof(src), NULL) ||
			!bh_paths_tag_state(tag, disks[i], dst, sizeof(dst), NULL) ||
			!bh_image_create_overlay(dst, src)) {
			bh_cli_tag_error(tag,
				"cannot make its overlay on %s's %s (see the log above)", from,
				disks[i]);
			return false;
		}
	}
	return true;
}

/* Makes disp-N, runs argv in it (after pushing file to guest_file when
 * given), waits for the command and its windows, destroys it. */
static int disposable(const char *from, const char *file, int argc, char *argv[])
{
	if (getenv("BULKHEAD_SOCKET") == NULL) {
		bh_cli_error("a disposable tag needs the bulkhead session (BULKHEAD_SOCKET is not "
			     "set); run this from a terminal in the session");
		return 1;
	}
	struct bh_vm *vm = bh_cli_connect();
	if (vm == NULL) {
		return 1;
	}
	sweep(vm);
	unsigned long n;
	char tag[32], state[PATH_MAX], marker[PATH_MAX];
	if (!next_number(&n)) {
		bh_cli_error("cannot number a new disposable tag in the state directory: %s",
			strerror(errno));
		bh_vm_disconnect(vm);
		return 1;
	}
	snprintf(tag, sizeof(tag), PREFIX "%lu", n);
	int lock = -1;
	if (bh_paths_tag_state(tag, NULL, state, sizeof(state), NULL) && bh_mkdir_p(state, 0700) &&
		bh_paths_tag_state(tag, MARKER, marker, sizeof(marker), NULL)) {
		lock = open(marker, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	if (lock < 0 || flock(lock, LOCK_EX) != 0) {
		bh_cli_tag_error(
			tag, "cannot create its state directory %s: %s", state, strerror(errno));
		bh_vm_disconnect(vm);
		return 1;
	}
	dprintf(lock, "from=%s\n", from != NULL ? from : "base");
	int status = 1;
	bool spawned = false;
	if (from != NULL && !overlays_from(vm, tag, from)) {
		goto out;
	}
	json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string("spawn"));
	json_object_object_add(req, "tag", json_object_new_string(tag));
	json_object_object_add(req, "command", json_object_new_string(""));
	json_object *reply = bh_cli_ipc_call(req, false);
	if (reply == NULL) {
		goto out;
	}
	json_object_put(reply);
	spawned = true;
	bh_cli_note("tag %s: a disposable from %s; it goes when the command ends and its last "
		    "window closes",
		tag, from != NULL ? from : "the base");
	char st[32] = "";
	int windows = 0;
	unsigned timeout = bh_cli_boot_timeout(tag);
	time_t deadline = time(NULL) + (timeout ? timeout : 120) + 30;
	while (tag_info(tag, st, sizeof(st), &windows) && strcmp(st, "running") != 0 &&
		strcmp(st, "failed") != 0 && time(NULL) < deadline) {
		sleep_ms(200);
	}
	if (strcmp(st, "running") != 0) {
		bh_cli_tag_error(tag, "its VM did not start (%s); see `bulkheadctl console %s`",
			st[0] ? st : "the compositor does not know it", tag);
		goto out;
	}
	char guest_file[PATH_MAX];
	char *open_argv[] = {"xdg-open", guest_file, NULL};
	if (file != NULL) {
		const char *base = strrchr(file, '/');
		base = base != NULL ? base + 1 : file;
		snprintf(guest_file, sizeof(guest_file), "/tmp/%s", base);
		char *push_argv[] = {"push", tag, (char *)file, guest_file, NULL};
		if (bh_cli_push(4, push_argv) != 0) {
			goto out;
		}
		argc = 2;
		argv = open_argv;
	}
	status = bh_cli_exec_argv(tag, argc, argv);
	/* Windows the command left open keep the tag until they close. */
	while (tag_info(tag, st, sizeof(st), &windows) && strcmp(st, "running") == 0 &&
		windows > 0) {
		sleep_ms(300);
	}
out:
	destroy(vm, tag, spawned);
	close(lock);
	bh_vm_disconnect(vm);
	return status;
}

int bh_cli_run_disposable(int argc, char *argv[])
{
	int i = 1;
	const char *from = NULL;
	if (i + 1 < argc && strcmp(argv[i], "--from") == 0) {
		from = argv[i + 1];
		i += 2;
	}
	if (i < argc && strcmp(argv[i], "--") == 0) {
		i++;
	}
	if (i >= argc) {
		return bh_cli_usage(NULL);
	}
	return disposable(from, NULL, argc - i, argv + i);
}

int bh_cli_open(int argc, char *argv[])
{
	int i = 1;
	const char *from = NULL;
	if (i < argc && strcmp(argv[i], "--disposable") == 0) {
		i++;
	} else {
		return bh_cli_usage(NULL);
	}
	if (i + 1 < argc && strcmp(argv[i], "--from") == 0) {
		from = argv[i + 1];
		i += 2;
	}
	if (i + 1 != argc) {
		return bh_cli_usage(NULL);
	}
	if (access(argv[i], R_OK) != 0) {
		bh_cli_error("cannot read %s: %s", argv[i], strerror(errno));
		return 1;
	}
	return disposable(from, argv[i], 0, NULL);
}

int bh_cli_clean_disposables(void)
{
	struct bh_vm *vm = bh_cli_connect();
	if (vm == NULL) {
		return 1;
	}
	int n = sweep(vm);
	if (n > 0) {
		bh_cli_note("removed %d disposable tag%s left by a crash", n, n == 1 ? "" : "s");
	}
	bh_vm_disconnect(vm);
	return 0;
}
