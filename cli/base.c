/* bulkheadctl base: list, add, push and gc of base images (build lives in
 * base_build.c). */
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/base_progress.h"
#include "cli/cli.h"
#include "common/util.h"
#include "vm/config.h"
#include "vm/image.h"
#include "vm/paths.h"

static int base_list(int argc, char *argv[])
{
	bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
	if (argc > (json ? 2 : 1)) {
		return bh_cli_usage("list [--json]");
	}
	struct bh_base *bases;
	int n = bh_base_list(&bases);
	if (n < 0) {
		bh_cli_error("cannot read the base images directory");
		return 1;
	}
	json_object *list = json_object_new_array();
	for (int i = 0; i < n; i++) {
		if (json) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "id", json_object_new_string(bases[i].id));
			json_object_object_add(
				o, "created", json_object_new_string(bases[i].created));
			json_object_object_add(
				o, "latest", json_object_new_boolean(bases[i].latest));
			json_object_object_add(
				o, "bytes", json_object_new_int64((int64_t)bases[i].bytes));
			json_object_object_add(
				o, "cmdline", json_object_new_string(bases[i].cmdline));
			json_object_array_add(list, o);
		} else {
			printf("%-26s %s %8.1f MiB%s\n", bases[i].id, bases[i].created,
				(double)bases[i].bytes / (1024 * 1024),
				bases[i].latest ? "  latest" : "");
		}
	}
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(list,
				       JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (n == 0) {
		printf("No base images yet: run `bulkheadctl base build` or `bulkheadctl base "
		       "add`.\n");
	}
	json_object_put(list);
	bh_base_list_free(bases, n);
	return 0;
}

static bool readable(const char *what, const char *path)
{
	if (path != NULL && access(path, R_OK) != 0) {
		bh_cli_error("base add: cannot read the %s %s", what, path);
		return false;
	}
	return true;
}

/* The progress of a push on stderr: a bar redrawn on a terminal, else a
 * line per quarter of each file. */
struct push_display {
	bool tty, drawn;
	uint64_t started_usec, drawn_usec;
	char file[256], what[16];
	int quarter;
};

static void push_progress(
	void *user, const char *what, const char *file, uint64_t done, uint64_t total)
{
	struct push_display *d = user;
	uint64_t now = bh_now_usec();
	bool same = strcmp(d->file, file) == 0 && strcmp(d->what, what) == 0;
	int quarter = total > 0 ? (int)(done * 4 / total) : 4;
	char line[512];
	if (d->tty) {
		if (same && done < total && now - d->drawn_usec < 250000) {
			return;
		}
		bh_transfer_progress_format(
			what, file, done, total, now - d->started_usec, 30, line, sizeof(line));
		fprintf(stderr, "%s\r\033[Kbase push: %s", same || !d->drawn ? "" : "\n", line);
		d->drawn = true;
	} else {
		if (same && quarter == d->quarter) {
			return;
		}
		bh_transfer_progress_format(
			what, file, done, total, now - d->started_usec, 0, line, sizeof(line));
		fprintf(stderr, "base push: %s\n", line);
	}
	fflush(stderr);
	snprintf(d->file, sizeof(d->file), "%s", file);
	snprintf(d->what, sizeof(d->what), "%s", what);
	d->quarter = quarter;
	d->drawn_usec = now;
}

/* Sends base id (a name bh_base_resolve takes) into the pool that target
 * names: a [host NAME] section, or with kind "--tag"/"--uri" a tag's host
 * or a URI. Returns the exit status. */
/* The pool that target names (see push), connected; NULL after printing
 * why not. cmd is "base push" or "base gc", for messages. */
static struct bh_vm *connect_target(const char *cmd, const char *kind, const char *target)
{
	char error[BH_VM_ERROR_SIZE], who[512];
	struct bh_vm_settings s;
	const struct bh_config *config = bh_cli_config();
	if (kind == NULL) {
		bh_vm_host_settings(config, target, &s);
		snprintf(who, sizeof(who), "host %s", target);
	} else if (strcmp(kind, "--tag") == 0) {
		bh_cli_tag_settings(target, &s);
		snprintf(who, sizeof(who), "tag %s", target);
		if (s.invalid[0] == '\0' && !bh_vm_settings_pool(&s, bh_cli_uri())) {
			bh_cli_error("%s: tag %s keeps its disks as files of this machine, which "
				     "use the bases where they are",
				cmd, target);
			return NULL;
		}
	} else {
		memset(&s, 0, sizeof(s));
		if (!bh_vm_uri_check(target, error, sizeof(error))) {
			bh_cli_error("%s: %s", cmd, error);
			return NULL;
		}
		s.uri = target;
		snprintf(who, sizeof(who), "%s", target);
	}
	/* A pool, whatever the URI. */
	s.disks = BH_DISKS_POOL;
	struct bh_vm *vm = bh_vm_connect_for(who, &s, bh_cli_uri(), error);
	if (vm == NULL) {
		bh_cli_error("%s: %s", cmd, error);
	}
	return vm;
}

static int push(const char *kind, const char *target, const char *name)
{
	char id[BH_BASE_ID_SIZE], error[BH_VM_ERROR_SIZE];
	if (!bh_base_resolve(name, id)) {
		return 1;
	}
	struct bh_vm *vm = connect_target("base push", kind, target);
	if (vm == NULL) {
		return 1;
	}
	struct push_display d = {.tty = isatty(STDERR_FILENO) == 1, .started_usec = bh_now_usec(),
		.quarter = -1};
	bool sent = false;
	bool ok = bh_vm_base_push(vm, id, push_progress, &d, &sent, error);
	if (d.drawn) {
		fputc('\n', stderr);
	}
	if (!ok) {
		bh_cli_error("base push: %s; nothing of it is left in the pool", error);
	} else if (sent) {
		printf("base %s: in the storage pool %s on %s (checksums match)\n", id,
			bh_vm_pool(vm), bh_vm_uri(vm));
	} else {
		printf("base %s: already in the storage pool %s on %s\n", id, bh_vm_pool(vm),
			bh_vm_uri(vm));
	}
	bh_vm_disconnect(vm);
	return ok ? 0 : 1;
}

static int base_push(int argc, char *argv[])
{
	const char *kind = NULL, *target = NULL, *name = NULL;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--tag") == 0 || strcmp(argv[i], "--uri") == 0) &&
			i + 1 < argc && target == NULL) {
			kind = argv[i];
			target = argv[++i];
		} else if (argv[i][0] != '-' && target == NULL) {
			target = argv[i];
		} else if (argv[i][0] != '-' && name == NULL) {
			name = argv[i];
		} else {
			return bh_cli_usage("push HOST|--tag TAG|--uri URI [BASE]");
		}
	}
	if (target == NULL) {
		bh_cli_error("base push: where to? a [host NAME] of the config, --tag TAG or "
			     "--uri URI (see `bulkheadctl base --help`)");
		return 2;
	}
	return push(kind, target, name);
}

static int base_add(int argc, char *argv[])
{
	const char *kernel = NULL, *initrd = NULL, *root = NULL, *cmdline = NULL, *dir = NULL,
		   *host = NULL;
	bool no_rebase = false;
	for (int i = 1; i < argc; i++) {
		const char **opt = strcmp(argv[i], "--kernel") == 0    ? &kernel
				   : strcmp(argv[i], "--initrd") == 0  ? &initrd
				   : strcmp(argv[i], "--root") == 0    ? &root
				   : strcmp(argv[i], "--cmdline") == 0 ? &cmdline
				   : strcmp(argv[i], "--host") == 0    ? &host
								       : NULL;
		if (opt != NULL && i + 1 < argc) {
			*opt = argv[++i];
		} else if (strcmp(argv[i], "--no-rebase") == 0) {
			no_rebase = true;
		} else if (argv[i][0] != '-' && dir == NULL) {
			dir = argv[i];
		} else {
			return bh_cli_usage("add DIR | add --kernel K [--initrd I] [--root R] "
					    "[--cmdline C] [--host HOST] [--no-rebase]");
		}
	}
	char k[PATH_MAX], in[PATH_MAX], r[PATH_MAX];
	if (dir != NULL) {
		/* A directory as `base build` or the guest recipes leave it. */
		if (kernel == NULL && bh_path_fmt(k, sizeof(k), "%s/vmlinuz", dir)) {
			kernel = k;
		}
		if (initrd == NULL && bh_path_fmt(in, sizeof(in), "%s/initrd.img", dir) &&
			access(in, F_OK) == 0) {
			initrd = in;
		}
		if (root == NULL && bh_path_fmt(r, sizeof(r), "%s/root.qcow2", dir) &&
			access(r, F_OK) == 0) {
			root = r;
		}
	}
	if (kernel == NULL) {
		bh_cli_error("base add: which kernel? (DIR/vmlinuz or --kernel)");
		return 2;
	}
	if (!readable("kernel", kernel) || !readable("initrd", initrd) ||
		!readable("root image", root)) {
		return 1;
	}
	char id[BH_BASE_ID_SIZE];
	if (!bh_base_add(kernel, initrd, root, cmdline, id)) {
		bh_cli_error("base add: registering the base failed (see above); nothing was "
			     "registered");
		return 1;
	}
	printf("%s\n", id);
	/* Registered here either way; the host gets its copy too. */
	if (host != NULL && push(NULL, host, id) != 0) {
		return 1;
	}
	if (no_rebase) {
		return 0;
	}
	return bh_cli_follow_new_base();
}

int bh_cli_follow_new_base(void)
{
	/* Persistent tags that follow "latest" move onto the new base now
	 * if they are stopped, so the old one can be collected. */
	struct bh_vm *vm = bh_cli_connect();
	if (vm == NULL) {
		return 1;
	}
	int status = bh_cli_rebase_all(vm);
	bh_vm_disconnect(vm);
	return status;
}

static int base_gc(int argc, char *argv[])
{
	char error[BH_VM_ERROR_SIZE];
	const char *kind = NULL, *target = NULL;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--tag") == 0 || strcmp(argv[i], "--uri") == 0) &&
			i + 1 < argc && target == NULL) {
			kind = argv[i];
			target = argv[++i];
		} else if (argv[i][0] != '-' && target == NULL) {
			target = argv[i];
		} else {
			return bh_cli_usage("gc [HOST|--tag TAG|--uri URI]");
		}
	}
	if (target != NULL) {
		/* The pool's bases that none of its tags' disks use. */
		struct bh_vm *vm = connect_target("base gc", kind, target);
		if (vm == NULL) {
			return 1;
		}
		int removed = bh_vm_pool_base_gc(vm, error);
		if (removed < 0) {
			bh_cli_error("base gc: %s", error);
		} else {
			printf("removed %d base%s from the storage pool %s on %s\n", removed,
				removed == 1 ? "" : "s", bh_vm_pool(vm), bh_vm_uri(vm));
		}
		bh_vm_disconnect(vm);
		return removed < 0 ? 1 : 0;
	}
	int removed = bh_vm_base_gc(error);
	if (removed < 0) {
		bh_cli_error("base gc: %s", error);
		return 1;
	}
	printf("removed %d base%s\n", removed, removed == 1 ? "" : "s");
	return 0;
}

int bh_cli_base(int argc, char *argv[])
{
	if (argc < 2) {
		bh_cli_error("base: list, add, push, gc or build? (see `bulkheadctl base --help`)");
		return 2;
	}
	if (strcmp(argv[1], "list") == 0) {
		return base_list(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "add") == 0) {
		return base_add(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "push") == 0) {
		return base_push(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "gc") == 0) {
		return base_gc(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "build") == 0) {
		return bh_cli_base_build(argc - 1, argv + 1);
	}
	bh_cli_error("base: unknown subcommand \"%s\" (list, add, push, gc, build)", argv[1]);
	return 2;
}
