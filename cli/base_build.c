/* bulkheadctl base build: runs the Debian base recipe (guest/build-debian-base.sh)
 * into a scratch directory beside the bases, shows its progress (its stages
 * and mmdebstrap's log folded into one bar, base_progress.c), and registers
 * the result the way `base add` does. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bh-config.h"
#include "cli/base_progress.h"
#include "cli/cli.h"
#include "common/util.h"
#include "vm/image.h"
#include "vm/paths.h"

#define RECIPE "build-debian-base.sh"
#define USAGE                                                                                      \
	"build [--packages LIST] [--suite SUITE] [--mirror URL] [--size GIB] [--output DIR] "      \
	"[--no-rebase]"

struct options {
	const char *suite, *mirror;
	char output[PATH_MAX]; /* "" without --output */
	char packages[4096];
	unsigned size_gib;
	bool no_rebase;
};

static volatile sig_atomic_t interrupted;

static void handle_interrupt(int sig)
{
	interrupted = sig;
}

static uint64_t started_usec;

/* What is shown of the progress: on a terminal one line redrawn in place,
 * elsewhere (logs, tests) a line per stage and per tenth of a stage. */
struct display {
	struct bh_base_progress progress;
	bool tty;
	bool drawn; /* a tty line is on screen without its newline */
	enum bh_base_stage stage_shown;
	int tenths_shown; /* of the stage */
	bool size_shown;  /* its total size or count was known */
	uint64_t drawn_usec;
};

static void show(struct display *d, bool force)
{
	struct bh_base_progress *p = &d->progress;
	int tenths = (int)(bh_base_progress_fraction(p) * 10);
	bool size = p->bytes_total > 0 || p->packages_total > 0;
	uint64_t now = bh_now_usec();
	char line[256];
	if (d->tty) {
		if (!force && p->stage == d->stage_shown && now - d->drawn_usec < 250000) {
			return;
		}
		bh_base_progress_format(p, now - started_usec, 30, line, sizeof(line));
		printf("\r\033[Kbase build: %s", line);
		d->drawn = true;
	} else {
		if (!force && p->stage == d->stage_shown && tenths == d->tenths_shown &&
			size == d->size_shown) {
			return;
		}
		bh_base_progress_format(p, now - started_usec, 0, line, sizeof(line));
		printf("base build: %s\n", line);
	}
	fflush(stdout);
	d->stage_shown = p->stage;
	d->tenths_shown = tenths;
	d->size_shown = size;
	d->drawn_usec = now;
}

/* Ends the tty line before anything else is printed. */
static void show_done(struct display *d)
{
	if (d->drawn) {
		fputc('\n', stdout);
		fflush(stdout);
		d->drawn = false;
	}
}

static bool parse_args(int argc, char *argv[], struct options *o)
{
	*o = (struct options){
		.suite = "bookworm", .mirror = "http://deb.debian.org/debian", .size_gib = 8};
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		if (strcmp(opt, "--no-rebase") == 0) {
			o->no_rebase = true;
			continue;
		}
		if (i + 1 >= argc || opt[0] != '-') {
			bh_cli_usage(USAGE);
			return false;
		}
		const char *value = argv[++i];
		if (strcmp(opt, "--suite") == 0) {
			o->suite = value;
		} else if (strcmp(opt, "--mirror") == 0) {
			o->mirror = value;
		} else if (strcmp(opt, "--output") == 0) {
			size_t len = strlen(value);
			while (len > 1 && value[len - 1] == '/') {
				len--;
			}
			if (len == 0 || len >= sizeof(o->output)) {
				bh_cli_error("base build: --output wants a directory to create");
				return false;
			}
			memcpy(o->output, value, len);
			o->output[len] = '\0';
		} else if (strcmp(opt, "--packages") == 0) {
			/* Repeatable; the recipe splits on commas and spaces. */
			size_t used = strlen(o->packages);
			if (snprintf(o->packages + used, sizeof(o->packages) - used, "%s%s",
				    used ? "," : "", value) >= (int)(sizeof(o->packages) - used)) {
				bh_cli_error("base build: the --packages list is too long");
				return false;
			}
		} else if (strcmp(opt, "--size") == 0) {
			char *end;
			unsigned long v = strtoul(value, &end, 10);
			if (*end != '\0' || v < 2 || v > 1024) {
				bh_cli_error("base build: --size is a whole number of GiB from 2 "
					     "to 1024");
				return false;
			}
			o->size_gib = (unsigned)v;
		} else {
			bh_cli_usage(USAGE);
			return false;
		}
	}
	return true;
}

/* path = dir of this executable + rel, if that file exists. */
static bool beside_self(const char *rel, char *path, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		return false;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash == NULL) {
		return false;
	}
	*slash = '\0';
	return bh_path_fmt(path, size, "%s/%s", self, rel) && access(path, X_OK) == 0;
}

/* The recipe and the agent it installs: from the build tree when this
 * bulkheadctl runs from one, else installed beside it. */
static bool find_inputs(char *recipe, char *agent, size_t size)
{
	if (!beside_self("../guest/" RECIPE, recipe, size) &&
		!(bh_path_fmt(recipe, size, "%s/%s", BH_DATADIR, RECIPE) &&
			access(recipe, X_OK) == 0)) {
		bh_cli_error("base build: the recipe %s is neither in the build tree nor in %s; "
			     "reinstall bulkhead",
			RECIPE, BH_DATADIR);
		return false;
	}
	if (!beside_self("../guest-agent/bulkhead-agent", agent, size) &&
		!beside_self("bulkhead-agent", agent, size)) {
		bh_cli_error("base build: no bulkhead-agent beside bulkheadctl to put in the "
			     "image; build or install it first");
		return false;
	}
	return true;
}

/* The guest user is named after the one building, root excepted, when the
 * name suits useradd; otherwise "user". */
static const char *guest_user(void)
{
	struct passwd *pw = getpwuid(getuid());
	const char *name = pw != NULL ? pw->pw_name : NULL;
	if (name == NULL || getuid() == 0 || strlen(name) > 31 ||
		!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_')) {
		return "user";
	}
	for (const char *p = name; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
			    *p == '-')) {
			return "user";
		}
	}
	return name;
}

/* Scratch directories of builds whose bulkheadctl is gone: a killed build
 * removes nothing itself. Named .base-build-PID-XXXXXX. */
static void remove_stale_scratch(const char *parent)
{
	DIR *dir = opendir(parent);
	if (dir == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		int pid;
		if (sscanf(e->d_name, ".base-build-%d-", &pid) != 1 || pid <= 0 ||
			pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH) {
			continue;
		}
		char path[PATH_MAX];
		if (bh_path_fmt(path, sizeof(path), "%s/%s", parent, e->d_name)) {
			bh_remove_tree(path);
		}
	}
	closedir(dir);
}

/* The last lines of the log, for a failure's reason. */
static void print_log_tail(const char *log, int lines)
{
	FILE *f = fopen(log, "re");
	if (f == NULL) {
		return;
	}
	char ring[16][512];
	int n = 0;
	while (fgets(ring[n % lines], sizeof(ring[0]), f) != NULL) {
		n++;
	}
	fclose(f);
	for (int i = n > lines ? n - lines : 0; i < n; i++) {
		fprintf(stderr, "  | %s", ring[i % lines]);
		size_t len = strlen(ring[i % lines]);
		if (len == 0 || ring[i % lines][len - 1] != '\n') {
			fputc('\n', stderr);
		}
	}
}

/* Acts on one line the recipe wrote to the progress pipe. */
static void handle_progress_line(const char *line, struct display *d)
{
	if (strncmp(line, "stage ", 6) == 0 && bh_base_progress_stage(&d->progress, line + 6)) {
		show(d, true);
	}
}

/* The log the recipe writes (mmdebstrap's verbose output among it), read
 * as it grows and folded into the progress. */
struct log_reader {
	FILE *f;
	char line[1024];
	size_t len;
};

static void read_log(struct log_reader *r, const char *path, struct display *d)
{
	if (r->f == NULL && (r->f = fopen(path, "re")) == NULL) {
		return;
	}
	int c;
	while ((c = getc(r->f)) != EOF) {
		if (c != '\n') {
			if (r->len + 1 < sizeof(r->line)) {
				r->line[r->len++] = (char)c;
			}
			continue;
		}
		r->line[r->len] = '\0';
		r->len = 0;
		enum bh_base_stage before = d->progress.stage;
		if (bh_base_progress_log_line(&d->progress, r->line)) {
			show(d, d->progress.stage != before);
		}
	}
	clearerr(r->f); /* more may come */
}

/* Runs the recipe into out, its output into log, relaying its stages.
 * Returns its exit status, or -1 when it was interrupted or could not run. */
static int run_recipe(
	const char *const argv[], const char *tmpdir, const char *log, struct display *d)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		bh_cli_error("base build: cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	/* Interrupted, the recipe's process group (its own, so a terminal's
	 * ^C reaches only us) gets SIGTERM: mmdebstrap then removes its
	 * chroot. SIGKILL follows if that takes more than a minute. Caught
	 * from before the spawn, so no signal leaves the recipe running. */
	struct sigaction sa = {.sa_handler = handle_interrupt}, old[3];
	const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	for (int i = 0; i < 3; i++) {
		sigaction(sigs[i], &sa, &old[i]);
	}
	char fd_env[48], tmp_env[PATH_MAX + 8];
	snprintf(fd_env, sizeof(fd_env), "BH_BASE_PROGRESS_FD=%d", pipefd[1]);
	snprintf(tmp_env, sizeof(tmp_env), "TMPDIR=%s", tmpdir != NULL ? tmpdir : "");
	const char *env[] = {fd_env, tmpdir != NULL ? tmp_env : NULL, NULL};
	const int keep[] = {pipefd[1], -1};
	pid_t pid = bh_spawn(argv, env, keep, false);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		for (int i = 0; i < 3; i++) {
			sigaction(sigs[i], &old[i], NULL);
		}
		bh_cli_error("base build: cannot run %s (see above)", argv[0]);
		return -1;
	}
	char buf[1024];
	size_t len = 0;
	int status = -1;
	bool exited = false, open = true;
	uint64_t kill_at = 0;
	struct log_reader reader = {0};
	while (!exited) {
		read_log(&reader, log, d);
		if (interrupted && kill_at == 0) {
			show_done(d);
			bh_cli_note("base build: interrupted; stopping the recipe");
			kill(-pid, SIGTERM);
			kill_at = bh_now_usec() + 60 * 1000000u;
		}
		if (kill_at != 0 && bh_now_usec() > kill_at) {
			kill(-pid, SIGKILL);
		}
		struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
		if (open && poll(&p, 1, 500) > 0) {
			ssize_t n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len);
			/* Closed by every holder: the recipe is ending. */
			open = n > 0 || (n < 0 && errno == EINTR);
			len += n > 0 ? (size_t)n : 0;
			buf[len] = '\0';
			/* The log first: what it says came before the stage line. */
			read_log(&reader, log, d);
			char *nl;
			while ((nl = strchr(buf, '\n')) != NULL) {
				*nl = '\0';
				handle_progress_line(buf, d);
				len -= (size_t)(nl + 1 - buf);
				memmove(buf, nl + 1, len + 1);
			}
			if (len == sizeof(buf) - 1) {
				len = 0; /* a line this long is no progress line */
			}
		} else if (!open) {
			usleep(200 * 1000);
		}
		int wstatus;
		pid_t w = waitpid(pid, &wstatus, WNOHANG);
		if (w == pid) {
			exited = true;
			status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
		} else if (w < 0 && errno != EINTR) {
			exited = true;
		}
	}
	close(pipefd[0]);
	read_log(&reader, log, d);
	if (reader.f != NULL) {
		fclose(reader.f);
	}
	show_done(d);
	for (int i = 0; i < 3; i++) {
		sigaction(sigs[i], &old[i], NULL);
	}
	if (interrupted) {
		/* Whatever the recipe left running in its group goes too. */
		kill(-pid, SIGKILL);
		return -1;
	}
	if (status != 0) {
		bh_cli_error("base build: the recipe failed while %s; its last lines:",
			bh_base_progress_what(&d->progress));
		print_log_tail(log, 12);
		bh_cli_error("the whole log is %s; nothing was registered", log);
	}
	return status;
}

/* The kernel command line the recipe chose for its base (one line). */
static bool read_cmdline(const char *dir, char *out, size_t size)
{
	char path[PATH_MAX];
	bh_path_fmt(path, sizeof(path), "%s/cmdline", dir);
	FILE *f = fopen(path, "re");
	bool ok = f != NULL && fgets(out, (int)size, f) != NULL;
	if (f != NULL) {
		fclose(f);
	}
	if (ok) {
		out[strcspn(out, "\n")] = '\0';
	}
	return ok;
}

/* The recipe's manifest (suite, packages, sizes) beside the library's own
 * manifest.json, with the id the base got; written whole or not at all. */
static void store_build_manifest(const char *dir, const char *id)
{
	char src[PATH_MAX], dst[PATH_MAX], tmp[PATH_MAX];
	bh_path_fmt(src, sizeof(src), "%s/manifest.json", dir);
	json_object *m = json_object_from_file(src);
	if (m == NULL || !bh_paths_base(id, "build.json", dst, sizeof(dst)) ||
		!bh_path_fmt(tmp, sizeof(tmp), "%s.tmp", dst)) {
		json_object_put(m);
		return;
	}
	json_object_object_add(m, "id", json_object_new_string(id));
	int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE;
	if (json_object_to_file_ext(tmp, m, flags) != 0 || rename(tmp, dst) != 0) {
		unlink(tmp);
		bh_cli_error("base build: could not store the build manifest of %s; the base is "
			     "registered without it",
			id);
	}
	json_object_put(m);
}

static int finish(const char *out, const struct options *o, struct display *d)
{
	if (o->output[0] != '\0') {
		if (rename(out, o->output) != 0) {
			bh_cli_error("base build: cannot move the base to %s: %s", o->output,
				strerror(errno));
			return 1;
		}
		unsigned secs = (unsigned)((bh_now_usec() - started_usec) / 1000000u);
		printf("base build: done in %u:%02u; the base is in %s (register it with "
		       "`bulkheadctl base add %s --cmdline \"$(cat %s/cmdline)\"`)\n",
			secs / 60, secs % 60, o->output, o->output, o->output);
		return 0;
	}
	bh_base_progress_stage(&d->progress, "register");
	show(d, true);
	show_done(d);
	char cmdline[1024], kernel[PATH_MAX], initrd[PATH_MAX], root[PATH_MAX];
	if (!read_cmdline(out, cmdline, sizeof(cmdline)) ||
		!bh_path_fmt(kernel, sizeof(kernel), "%s/vmlinuz", out) ||
		!bh_path_fmt(initrd, sizeof(initrd), "%s/initrd.img", out) ||
		!bh_path_fmt(root, sizeof(root), "%s/root.qcow2", out)) {
		bh_cli_error("base build: the recipe left no cmdline in %s", out);
		return 1;
	}
	char id[BH_BASE_ID_SIZE];
	if (!bh_base_add(kernel, initrd, root, cmdline, id)) {
		bh_cli_error("base build: registering the base failed (see above); nothing was "
			     "registered");
		return 1;
	}
	store_build_manifest(out, id);
	unsigned secs = (unsigned)((bh_now_usec() - started_usec) / 1000000u);
	char on_disk[PATH_MAX], size[32] = "?";
	struct stat st;
	if (bh_paths_base(id, "root.qcow2", on_disk, sizeof(on_disk)) && stat(on_disk, &st) == 0) {
		double mib = (double)st.st_blocks * 512 / (1 << 20);
		snprintf(size, sizeof(size), mib >= 1024 ? "%.1f GiB" : "%.0f MiB",
			mib >= 1024 ? mib / 1024 : mib);
	}
	printf("base build: 100%% done in %u:%02u: base %s (root.qcow2 %s on disk) is the "
	       "latest\n",
		secs / 60, secs % 60, id, size);
	if (o->no_rebase) {
		return 0;
	}
	return bh_cli_follow_new_base();
}

int bh_cli_base_build(int argc, char *argv[])
{
	struct options o;
	if (!parse_args(argc, argv, &o)) {
		return 2;
	}
	/* Whoever reads the progress may go away (the compositor that started
	 * it): a write fails then, and the clean-up still happens. */
	signal(SIGPIPE, SIG_IGN);
	char recipe[PATH_MAX], agent[PATH_MAX];
	if (!find_inputs(recipe, agent, sizeof(recipe))) {
		return 1;
	}
	/* Scratch space on the file system the base ends up on, so that
	 * registering copies within it; --output's sits beside DIR. */
	char parent[PATH_MAX], scratch[PATH_MAX], out[PATH_MAX], log[PATH_MAX], state[PATH_MAX];
	if (o.output[0] != '\0') {
		if (access(o.output, F_OK) == 0) {
			bh_cli_error("base build: %s exists; name a new directory", o.output);
			return 2;
		}
		const char *slash = strrchr(o.output, '/');
		if (slash == NULL) {
			snprintf(parent, sizeof(parent), ".");
		} else if (!bh_path_fmt(parent, sizeof(parent), "%.*s",
				   (int)(slash - o.output) + (slash == o.output), o.output)) {
			return 2;
		}
	} else {
		char bases[PATH_MAX];
		if (!bh_paths_bases_root(bases, sizeof(bases)) || !bh_mkdir_p(bases, 0700)) {
			bh_cli_error("base build: cannot make the bases directory");
			return 1;
		}
		snprintf(parent, sizeof(parent), "%s", bases);
		*strrchr(parent, '/') = '\0';
	}
	remove_stale_scratch(parent);
	if (!bh_path_fmt(
		    scratch, sizeof(scratch), "%s/.base-build-%d-XXXXXX", parent, (int)getpid()) ||
		mkdtemp(scratch) == NULL) {
		bh_cli_error("base build: cannot make a scratch directory in %s: %s", parent,
			strerror(errno));
		return 1;
	}
	/* The log outlives the scratch directory, for a failure's post-mortem. */
	if (!bh_paths_state_root(state, sizeof(state)) || !bh_mkdir_p(state, 0700) ||
		!bh_path_fmt(log, sizeof(log), "%s/base-build.log", state) ||
		!bh_path_fmt(out, sizeof(out), "%s/base", scratch)) {
		bh_cli_error("base build: cannot make the state directory for its log");
		bh_remove_tree(scratch);
		return 1;
	}
	char size[16];
	snprintf(size, sizeof(size), "%u", o.size_gib);
	const char *user = guest_user();
	const char *args[20] = {recipe, "--agent", agent, "--suite", o.suite, "--mirror", o.mirror,
		"--size", size, "--user", user, "--log", log};
	size_t n = 13;
	if (o.packages[0] != '\0') {
		args[n++] = "--packages";
		args[n++] = o.packages;
	}
	args[n++] = out;
	args[n] = NULL;
	started_usec = bh_now_usec();
	printf("base build: Debian %s for user %s (%u GiB root); log in %s\n", o.suite, user,
		o.size_gib, log);
	/* As root, mmdebstrap's chroot and the raw image live in the scratch
	 * directory too: not in a tmpfs, and gone with it. In unshare mode
	 * they stay in TMPDIR, where the recipe's subordinate root can reach. */
	char tmpdir[PATH_MAX];
	bool own_tmp = getuid() == 0 && bh_path_fmt(tmpdir, sizeof(tmpdir), "%s/tmp", scratch) &&
		       mkdir(tmpdir, 0700) == 0;
	struct display d = {.tty = isatty(STDOUT_FILENO) == 1, .stage_shown = BH_BASE_STAGE_NONE};
	bh_base_progress_init(&d.progress);
	int status = run_recipe(args, own_tmp ? tmpdir : NULL, log, &d);
	if (status == 0) {
		status = finish(out, &o, &d);
	} else {
		status = interrupted ? 128 + interrupted : 1;
	}
	bh_remove_tree(scratch);
	if (interrupted) {
		bh_cli_error("base build: stopped; nothing was registered");
	}
	return status;
}
