/* Host paths of tags and bases, from the XDG base directories (see paths.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "vm/paths.h"
#include "vm/tag.h"

bool bh_path_fmt(char *out, size_t size, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	int n = vsnprintf(out, size, format, args);
	va_end(args);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0) {
			out[0] = '\0';
		}
		return false;
	}
	return true;
}

/* An XDG directory variable, or $HOME/fallback; only absolute paths count,
 * as the spec says. */
static bool xdg_dir(const char *var, const char *fallback, const char *sub, char *out, size_t size)
{
	const char *dir = getenv(var);
	if (dir != NULL && dir[0] == '/') {
		return bh_path_fmt(out, size, "%s/%s", dir, sub);
	}
	const char *home = getenv("HOME");
	if (home == NULL || home[0] != '/') {
		bh_log(BH_LOG_ERROR, "neither %s nor HOME is set to an absolute path", var);
		return false;
	}
	return bh_path_fmt(out, size, "%s/%s/%s", home, fallback, sub);
}

bool bh_paths_state_root(char *out, size_t size)
{
	return xdg_dir("XDG_STATE_HOME", ".local/state", "bulkhead", out, size);
}

/* $XDG_RUNTIME_DIR/bulkhead; the callers say why not in *error. */
static bool runtime_root(char *out, size_t size)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	return dir != NULL && dir[0] == '/' && bh_path_fmt(out, size, "%s/bulkhead", dir);
}

bool bh_paths_bases_root(char *out, size_t size)
{
	return xdg_dir("XDG_DATA_HOME", ".local/share", "bulkhead/bases", out, size);
}

bool bh_paths_pool_root(char *out, size_t size)
{
	return xdg_dir("XDG_DATA_HOME", ".local/share", "bulkhead/pool", out, size);
}

static bool tag_path(
	bool runtime, const char *tag, const char *file, char *out, size_t size, const char **error)
{
	char dir[BH_TAG_DIRNAME_SIZE], root[4096];
	if (!bh_tag_dirname(tag, dir, error)) {
		return false;
	}
	if (!(runtime ? runtime_root : bh_paths_state_root)(root, sizeof(root))) {
		if (error != NULL) {
			*error = runtime ? "XDG_RUNTIME_DIR is not set"
					 : "neither XDG_STATE_HOME nor HOME is set";
		}
		return false;
	}
	bool ok = file != NULL ? bh_path_fmt(out, size, "%s/tags/%s/%s", root, dir, file)
			       : bh_path_fmt(out, size, "%s/tags/%s", root, dir);
	if (!ok && error != NULL) {
		*error = "the path is too long";
	}
	return ok;
}

bool bh_paths_tag_state(
	const char *tag, const char *file, char *out, size_t size, const char **error)
{
	return tag_path(false, tag, file, out, size, error);
}

bool bh_paths_tag_runtime(
	const char *tag, const char *file, char *out, size_t size, const char **error)
{
	return tag_path(true, tag, file, out, size, error);
}

bool bh_paths_control_socket(const char *tag, char *out, size_t size, const char **error)
{
	return tag_path(true, tag, "control.sock", out, size, error);
}

bool bh_paths_region_name(const char *tag, char *out, size_t size, const char **error)
{
	char dir[BH_TAG_DIRNAME_SIZE];
	if (!bh_tag_dirname(tag, dir, error)) {
		return false;
	}
	/* Unique per user and tag: /dev/shm is shared by everyone. */
	if (!bh_path_fmt(out, size, "bulkhead-%u-%s", (unsigned)getuid(), dir)) {
		if (error != NULL) {
			*error = "the region's name is too long";
		}
		return false;
	}
	return true;
}

bool bh_paths_region(const char *tag, char *out, size_t size, const char **error)
{
	char name[BH_TAG_DIRNAME_SIZE + 32];
	if (!bh_paths_region_name(tag, name, sizeof(name), error)) {
		return false;
	}
	return bh_path_fmt(out, size, "/dev/shm/%s", name);
}

bool bh_paths_base(const char *id, const char *file, char *out, size_t size)
{
	char root[4096];
	/* Base ids are ours ([0-9a-z-]), but one read from a command line
	 * must not walk out of the bases directory either. */
	if (id[0] == '\0' || strchr(id, '/') != NULL || id[0] == '.') {
		bh_log(BH_LOG_ERROR, "invalid base id \"%s\"", id);
		return false;
	}
	if (!bh_paths_bases_root(root, sizeof(root))) {
		return false;
	}
	return file != NULL ? bh_path_fmt(out, size, "%s/%s/%s", root, id, file)
			    : bh_path_fmt(out, size, "%s/%s", root, id);
}

bool bh_mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	if (!bh_path_fmt(buf, sizeof(buf), "%s", path)) {
		errno = ENAMETOOLONG;
		return false;
	}
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(buf, mode) != 0 && errno != EEXIST) {
				bh_log_errno(BH_LOG_ERROR, "cannot create %s", buf);
				return false;
			}
			*p = saved;
			if (saved == '\0') {
				break;
			}
		}
	}
	return true;
}

bool bh_remove_tree(const char *path)
{
	DIR *dir = opendir(path);
	if (dir == NULL) {
		return errno == ENOENT;
	}
	bool ok = true;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
			continue;
		}
		char child[PATH_MAX];
		bh_path_fmt(child, sizeof(child), "%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
			ok = bh_remove_tree(child) && ok;
		} else if (unlink(child) != 0) {
			ok = false;
		}
	}
	closedir(dir);
	return rmdir(path) == 0 && ok;
}

bool bh_paths_link_runtime(const char *file, char *out, size_t size)
{
	char root[4096];
	return runtime_root(root, sizeof(root)) &&
	       (file != NULL ? bh_path_fmt(out, size, "%s/links/%s", root, file)
			     : bh_path_fmt(out, size, "%s/links", root));
}

bool bh_paths_link_state(const char *file, char *out, size_t size)
{
	char root[4096];
	return bh_paths_state_root(root, sizeof(root)) &&
	       (file != NULL ? bh_path_fmt(out, size, "%s/links/%s", root, file)
			     : bh_path_fmt(out, size, "%s/links", root));
}

void bh_paths_program(const char *name, const char *subdir, const char *env, char *out, size_t size)
{
	const char *set = env != NULL ? getenv(env) : NULL;
	if (set != NULL && set[0] != '\0') {
		snprintf(out, size, "%s", set);
		return;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash = n > 0 ? (self[n] = '\0', strrchr(self, '/')) : NULL;
	if (slash != NULL) {
		*slash = '\0';
		if (bh_path_fmt(out, size, "%s/../%s/%s", self, subdir, name) &&
			access(out, X_OK) == 0) {
			return;
		}
		if (bh_path_fmt(out, size, "%s/%s", self, name) && access(out, X_OK) == 0) {
			return;
		}
	}
	snprintf(out, size, "%s", name);
}
