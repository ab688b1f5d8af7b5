/* Per-tag flock in the tag's runtime directory (see lock.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "vm/lock.h"
#include "vm/paths.h"

int bh_tag_lock(const char *tag, char *error, size_t error_size)
{
	char dir[PATH_MAX], path[PATH_MAX];
	const char *why = NULL;
	if (!bh_paths_tag_runtime(tag, NULL, dir, sizeof(dir), &why) ||
		!bh_paths_tag_runtime(tag, "lock", path, sizeof(path), &why)) {
		snprintf(error, error_size, "tag %s: %s", tag, why);
		return -1;
	}
	if (!bh_mkdir_p(dir, 0700)) {
		snprintf(error, error_size, "tag %s: cannot create %s: %s", tag, dir,
			strerror(errno));
		return -1;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(error, error_size, "tag %s: cannot open %s: %s", tag, path,
			strerror(errno));
		return -1;
	}
	return bh_lock_wait(fd, tag, path, error, error_size);
}

int bh_lock_wait(int fd, const char *tag, const char *path, char *error, size_t error_size)
{
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			snprintf(error, error_size, "tag %s: cannot lock %s: %s", tag, path,
				strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

void bh_tag_unlock(int fd)
{
	if (fd >= 0) {
		/* Closing the only descriptor of the open file drops the lock. */
		close(fd);
	}
}
