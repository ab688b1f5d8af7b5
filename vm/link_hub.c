/* Starting a link's hub (see link_hub.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vm/link_hub.h"
#include "vm/lock.h"
#include "vm/paths.h"
#include "vm/tag.h"

/* bulkhead-link-hub's exit status when another hub holds the lock. */
#define HUB_EXIT_RUNS 3

static int open_lock(const char *file, char *path, size_t path_size)
{
	char dir[PATH_MAX];
	if (!bh_paths_link_runtime(NULL, dir, sizeof(dir)) ||
		!bh_paths_link_runtime(file, path, path_size)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!bh_mkdir_p(dir, 0700)) {
		return -1;
	}
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

int bh_link_start_lock(const char *tag, char *error, size_t error_size)
{
	char path[PATH_MAX] = "";
	int fd = open_lock("start.lock", path, sizeof(path));
	if (fd < 0) {
		snprintf(error, error_size,
			"tag %s: cannot open the links' lock %s: %s (is XDG_RUNTIME_DIR set?)", tag,
			path[0] ? path : "in $XDG_RUNTIME_DIR/bulkhead/links", strerror(errno));
		return -1;
	}
	return bh_lock_wait(fd, tag, path, error, error_size);
}

void bh_link_start_unlock(int fd)
{
	if (fd >= 0) {
		close(fd);
	}
}

/* The hub's members on its command line, and an id of them: a running
 * hub with another id serves another membership. */
struct hub_args {
	char members[BH_LINK_MEMBERS_MAX][18 + 2 * 6 + BH_TAG_MAX + 8];
	char id[20];
};

static bool hub_args(const char *const tags[], const struct bh_link_member members[], unsigned n,
	struct hub_args *a)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (unsigned i = 0; i < n; i++) {
		if (!bh_link_member_arg(
			    &members[i], tags[i], a->members[i], sizeof(a->members[i]))) {
			return false;
		}
	}
	/* The id must not depend on the order the config lists the tags in:
	 * combine the members' own hashes by addition. */
	uint64_t sum = 0;
	for (unsigned i = 0; i < n; i++) {
		h = 0xcbf29ce484222325ull;
		for (const char *p = a->members[i]; *p != '\0'; p++) {
			h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
		}
		sum += h;
	}
	snprintf(a->id, sizeof(a->id), "%016llx", (unsigned long long)sum);
	return true;
}

/* The running hub's pid and id, from its lock file. */
static bool read_owner(int fd, pid_t *pid, char id[20])
{
	char line[128];
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	if (n <= 0) {
		return false;
	}
	line[n] = '\0';
	long p;
	char got[20];
	if (sscanf(line, "%ld %19s", &p, got) != 2 || p <= 1) {
		return false;
	}
	*pid = (pid_t)p;
	memcpy(id, got, sizeof(got));
	return true;
}

/* True when nobody holds the hub's lock (no hub runs). */
static bool lock_free(int fd)
{
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
		return true;
	}
	return false;
}

bool bh_link_hub_ensure(const char *tag, const char *link, const char *const tags[],
	const struct bh_link_member members[], unsigned n, char *error, size_t error_size)
{
	struct hub_args *a = calloc(1, sizeof(*a));
	char lock_name[BH_LINK_NAME_MAX + 8], log_name[BH_LINK_NAME_MAX + 8];
	char lock_path[PATH_MAX] = "", start_path[PATH_MAX], log_path[PATH_MAX], log_dir[PATH_MAX];
	snprintf(lock_name, sizeof(lock_name), "%s.hub", link);
	snprintf(log_name, sizeof(log_name), "%s.log", link);
	if (a == NULL || !hub_args(tags, members, n, a) ||
		!bh_paths_link_runtime("start.lock", start_path, sizeof(start_path)) ||
		!bh_paths_link_state(NULL, log_dir, sizeof(log_dir)) ||
		!bh_paths_link_state(log_name, log_path, sizeof(log_path))) {
		snprintf(error, error_size, "tag %s: link %s: its hub's arguments do not fit", tag,
			link);
		free(a);
		return false;
	}
	int fd = open_lock(lock_name, lock_path, sizeof(lock_path));
	if (fd < 0) {
		snprintf(error, error_size, "tag %s: link %s: cannot open %s: %s", tag, link,
			lock_path, strerror(errno));
		free(a);
		return false;
	}
	bool ok = false;
	pid_t pid;
	char id[20];
	if (!lock_free(fd)) {
		if (read_owner(fd, &pid, id) && strcmp(id, a->id) == 0) {
			ok = true; /* it serves these members */
			goto out;
		}
		/* Another membership (the config changed): the new hub takes
		 * over; frames in between are lost, as on a replugged cable. */
		if (read_owner(fd, &pid, id)) {
			bh_log(BH_LOG_INFO,
				"link %s: its members changed; replacing its hub (pid %ld)", link,
				(long)pid);
			kill(pid, SIGTERM);
		}
		for (int i = 0; i < 60 && !lock_free(fd); i++) {
			usleep(50000);
		}
	}
	if (!bh_mkdir_p(log_dir, 0700)) {
		snprintf(error, error_size, "tag %s: link %s: cannot create %s: %s", tag, link,
			log_dir, strerror(errno));
		goto out;
	}
	char program[PATH_MAX];
	bh_paths_program(
		"bulkhead-link-hub", "link-hub", "BULKHEAD_LINK_HUB", program, sizeof(program));
	const char *argv[11 + BH_LINK_MEMBERS_MAX] = {program, "--lock", lock_path, "--start-lock",
		start_path, "--log", log_path, "--id"};
	unsigned k = 8;
	argv[k++] = a->id;
	argv[k++] = link;
	for (unsigned i = 0; i < n && k + 1 < BH_ARRAY_LEN(argv); i++) {
		argv[k++] = a->members[i];
	}
	argv[k] = NULL;
	char *err = NULL;
	int status = bh_run_tool(argv, NULL, &err);
	if (status == 0 || status == HUB_EXIT_RUNS) {
		ok = true;
	} else {
		/* The hub's last line says what failed. */
		char *line = err;
		while (line != NULL && strlen(line) > 0 && line[strlen(line) - 1] == '\n') {
			line[strlen(line) - 1] = '\0';
		}
		char *last = line != NULL ? strrchr(line, '\n') : NULL;
		snprintf(error, error_size,
			"tag %s: link %s: its hub (%s) did not start (status %d): %s", tag, link,
			program, status,
			last != NULL              ? last + 1
			: line != NULL && line[0] ? line
						  : "no message");
	}
	free(err);
out:
	close(fd);
	free(a);
	return ok;
}
