/* qemu-img operations and base image registration (see image.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vm/image.h"
#include "vm/paths.h"

/* Runs qemu-img; on failure logs what it said. */
static bool qemu_img(const char *const argv[], char **out)
{
	char *err = NULL;
	int status = bh_run_tool(argv, out, &err);
	if (status != 0) {
		size_t n = err != NULL ? strlen(err) : 0;
		while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' ')) {
			err[--n] = '\0';
		}
		bh_log(BH_LOG_ERROR, "qemu-img %s failed (status %d): %s", argv[1], status,
			n > 0 ? err : "no message");
	}
	free(err);
	return status == 0;
}

static bool tmp_name(const char *path, char *out, size_t size)
{
	int n = snprintf(out, size, "%s.tmp-%d", path, (int)getpid());
	return n > 0 && (size_t)n < size;
}

/* qemu-img writes into path.tmp-PID; only a finished image is renamed. */
static bool create_then_rename(const char *path, const char *backing, unsigned size_mib)
{
	char tmp[PATH_MAX], size[32];
	if (!tmp_name(path, tmp, sizeof(tmp))) {
		return false;
	}
	snprintf(size, sizeof(size), "%uM", size_mib);
	const char *with_backing[] = {
		"qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", backing, tmp, NULL};
	const char *blank[] = {"qemu-img", "create", "-q", "-f", "qcow2", tmp, size, NULL};
	if (!qemu_img(backing != NULL ? with_backing : blank, NULL)) {
		unlink(tmp);
		return false;
	}
	if (rename(tmp, path) != 0) {
		bh_log_errno(BH_LOG_ERROR, "cannot rename %s to %s", tmp, path);
		unlink(tmp);
		return false;
	}
	return true;
}

bool bh_image_create_overlay(const char *path, const char *backing)
{
	return create_then_rename(path, backing, 0);
}

bool bh_image_create_disk(const char *path, unsigned size_mib)
{
	return create_then_rename(path, NULL, size_mib);
}

bool bh_image_rebase(const char *path, const char *new_backing)
{
	/* Safe mode (no -u) compares old and new backing and copies the
	 * differences, so the guest sees the same bytes. It works in place;
	 * qcow2 updates the header last, so an interruption leaves the old
	 * backing in effect with some clusters already copied: still the same
	 * contents. */
	const char *argv[] = {"qemu-img", "rebase", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
		new_backing, path, NULL};
	return qemu_img(argv, NULL);
}

bool bh_image_set_backing(const char *path, const char *backing)
{
	const char *argv[] = {"qemu-img", "rebase", "-q", "-u", "-f", "qcow2", "-F", "qcow2", "-b",
		backing, path, NULL};
	return qemu_img(argv, NULL);
}

bool bh_image_check(const char *path)
{
	const char *argv[] = {"qemu-img", "check", "-f", "qcow2", path, NULL};
	char *out = NULL;
	int status = bh_run_tool(argv, &out, NULL);
	/* 3: leaked clusters only, which waste space but lose nothing. */
	if (status != 0 && status != 3) {
		bh_log(BH_LOG_ERROR, "%s is damaged (qemu-img check status %d): %s", path, status,
			out != NULL ? out : "");
	}
	free(out);
	return status == 0 || status == 3;
}

char *bh_image_backing(const char *path, bool *failed)
{
	/* -U: the image may be open by a running VM; the header is all we read. */
	const char *argv[] = {"qemu-img", "info", "-U", "--output=json", "-f", "qcow2", path, NULL};
	char *out = NULL;
	if (failed != NULL) {
		*failed = false;
	}
	if (!qemu_img(argv, &out)) {
		free(out);
		if (failed != NULL) {
			*failed = true;
		}
		return NULL;
	}
	json_object *info = json_tokener_parse(out);
	free(out);
	json_object *backing = NULL;
	char *result = NULL;
	if (info != NULL &&
		(json_object_object_get_ex(info, "full-backing-filename", &backing) ||
			json_object_object_get_ex(info, "backing-filename", &backing))) {
		result = strdup(json_object_get_string(backing));
	}
	if (info == NULL && failed != NULL) {
		*failed = true;
	}
	json_object_put(info);
	return result;
}

/* Copies src to dst (created exclusively) and flushes it to disk. */
static bool copy_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		bh_log_errno(BH_LOG_ERROR, "cannot open %s", src);
		return false;
	}
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		bh_log_errno(BH_LOG_ERROR, "cannot create %s", dst);
		close(in);
		return false;
	}
	bool ok = true;
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0) {
			break;
		}
		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
			char buf[65536];
			while ((n = read(in, buf, sizeof(buf))) > 0) {
				if (!bh_write_all(out, buf, (size_t)n)) {
					n = -1;
					break;
				}
			}
			if (n < 0) {
				ok = false;
			}
			break;
		}
		if (n < 0) {
			ok = false;
			break;
		}
	}
	if (!ok) {
		bh_log_errno(BH_LOG_ERROR, "cannot copy %s to %s", src, dst);
	}
	if (fsync(out) != 0) {
		ok = false;
	}
	close(out);
	close(in);
	return ok;
}

static bool write_manifest(
	const char *dir, const char *id, bool has_initrd, bool own_root, const char *cmdline)
{
	char path[PATH_MAX], created[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object *m = json_object_new_object();
	json_object_object_add(m, "id", json_object_new_string(id));
	json_object_object_add(m, "created", json_object_new_string(created));
	json_object_object_add(m, "kernel", json_object_new_string("vmlinuz"));
	if (has_initrd) {
		json_object_object_add(m, "initrd", json_object_new_string("initrd.img"));
	}
	json_object_object_add(m, "root", json_object_new_string("root.qcow2"));
	json_object_object_add(m, "blank_root", json_object_new_boolean(!own_root));
	json_object_object_add(m, "cmdline", json_object_new_string(cmdline ? cmdline : ""));
	bh_path_fmt(path, sizeof(path), "%s/manifest.json", dir);
	bool ok = json_object_to_file_ext(path, m, JSON_C_TO_STRING_PRETTY) == 0;
	json_object_put(m);
	if (!ok) {
		bh_log(BH_LOG_ERROR, "cannot write %s", path);
	}
	return ok;
}

/* Points "latest" at id: a new symlink renamed over the old one. */
static bool set_latest(const char *id)
{
	char root[PATH_MAX], link[PATH_MAX], tmp[PATH_MAX];
	if (!bh_paths_bases_root(root, sizeof(root))) {
		return false;
	}
	bh_path_fmt(link, sizeof(link), "%s/latest", root);
	bh_path_fmt(tmp, sizeof(tmp), "%s/.latest-%d", root, (int)getpid());
	unlink(tmp);
	if (symlink(id, tmp) != 0 || rename(tmp, link) != 0) {
		bh_log_errno(BH_LOG_ERROR, "cannot point %s at %s", link, id);
		unlink(tmp);
		return false;
	}
	return true;
}

static bool make_id(char id[BH_BASE_ID_SIZE])
{
	/* Time first, so ids sort by age; the suffix keeps two adds in the
	 * same second apart. */
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	unsigned suffix = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !bh_read_exact(fd, &suffix, sizeof(suffix))) {
		suffix = (unsigned)getpid() ^ (unsigned)bh_now_usec();
	}
	if (fd >= 0) {
		close(fd);
	}
	snprintf(id, BH_BASE_ID_SIZE, "%s-%04x", stamp, suffix & 0xffff);
	return true;
}

bool bh_base_add(const char *kernel, const char *initrd, const char *root, const char *cmdline,
	char id[BH_BASE_ID_SIZE])
{
	char bases[PATH_MAX], tmp[PATH_MAX], final[PATH_MAX], file[PATH_MAX];
	if (!bh_paths_bases_root(bases, sizeof(bases)) || !bh_mkdir_p(bases, 0700)) {
		return false;
	}
	make_id(id);
	bh_path_fmt(tmp, sizeof(tmp), "%s/.partial-%s", bases, id);
	bh_path_fmt(final, sizeof(final), "%s/%s", bases, id);
	if (mkdir(tmp, 0700) != 0) {
		bh_log_errno(BH_LOG_ERROR, "cannot create %s", tmp);
		return false;
	}
	bool ok = true;
	bh_path_fmt(file, sizeof(file), "%s/vmlinuz", tmp);
	ok = ok && copy_file(kernel, file);
	if (ok && initrd != NULL) {
		bh_path_fmt(file, sizeof(file), "%s/initrd.img", tmp);
		ok = copy_file(initrd, file);
	}
	bh_path_fmt(file, sizeof(file), "%s/root.qcow2", tmp);
	if (ok && root != NULL) {
		ok = copy_file(root, file) && bh_image_check(file);
		if (!ok) {
			bh_log(BH_LOG_ERROR, "%s is not a sound qcow2 image", root);
		}
	} else if (ok) {
		ok = bh_image_create_disk(file, BH_BLANK_ROOT_MIB);
	}
	ok = ok && write_manifest(tmp, id, initrd != NULL, root != NULL, cmdline);
	if (ok && rename(tmp, final) != 0) {
		bh_log_errno(BH_LOG_ERROR, "cannot rename %s to %s", tmp, final);
		ok = false;
	}
	if (!ok) {
		bh_remove_tree(tmp);
		return false;
	}
	/* Overlays name the final path of their backing file, so the root
	 * is only ever referenced once it sits there. */
	int dfd = open(bases, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return set_latest(id);
}

static bool latest_id(char id[BH_BASE_ID_SIZE])
{
	char root[PATH_MAX], link[PATH_MAX];
	if (!bh_paths_bases_root(root, sizeof(root))) {
		return false;
	}
	bh_path_fmt(link, sizeof(link), "%s/latest", root);
	ssize_t n = readlink(link, id, BH_BASE_ID_SIZE - 1);
	if (n <= 0) {
		return false;
	}
	id[n] = '\0';
	return strchr(id, '/') == NULL && id[0] != '.';
}

bool bh_base_resolve(const char *name, char id[BH_BASE_ID_SIZE])
{
	if (name == NULL || name[0] == '\0' || strcmp(name, "latest") == 0) {
		if (!latest_id(id)) {
			bh_log(BH_LOG_ERROR,
				"no base image is registered yet: run `bulkheadctl base "
				"build` (or `bulkheadctl base add`)");
			return false;
		}
	} else if (snprintf(id, BH_BASE_ID_SIZE, "%s", name) >= BH_BASE_ID_SIZE) {
		bh_log(BH_LOG_ERROR, "there is no base \"%s\": see `bulkheadctl base list`", name);
		return false;
	}
	char manifest[PATH_MAX];
	if (!bh_paths_base(id, "manifest.json", manifest, sizeof(manifest)) ||
		access(manifest, R_OK) != 0) {
		bh_log(BH_LOG_ERROR, "there is no base \"%s\": see `bulkheadctl base list`", id);
		return false;
	}
	return true;
}

static uint64_t dir_bytes(const char *path)
{
	uint64_t total = 0;
	DIR *dir = opendir(path);
	if (dir == NULL) {
		return 0;
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		char child[PATH_MAX];
		struct stat st;
		bh_path_fmt(child, sizeof(child), "%s/%s", path, e->d_name);
		if (e->d_name[0] != '.' && stat(child, &st) == 0 && S_ISREG(st.st_mode)) {
			total += (uint64_t)st.st_blocks * 512;
		}
	}
	closedir(dir);
	return total;
}

static int compare_bases(const void *a, const void *b)
{
	return strcmp(((const struct bh_base *)a)->id, ((const struct bh_base *)b)->id);
}

static const char *manifest_string(json_object *m, const char *key)
{
	json_object *v;
	if (m == NULL || !json_object_object_get_ex(m, key, &v) ||
		!json_object_is_type(v, json_type_string)) {
		return "";
	}
	return json_object_get_string(v);
}

int bh_base_list(struct bh_base **bases)
{
	char root[PATH_MAX], latest[BH_BASE_ID_SIZE] = "";
	*bases = NULL;
	if (!bh_paths_bases_root(root, sizeof(root))) {
		return -1;
	}
	latest_id(latest);
	DIR *dir = opendir(root);
	if (dir == NULL) {
		return errno == ENOENT ? 0 : -1;
	}
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		char manifest_path[PATH_MAX], dir_path[PATH_MAX];
		if (e->d_name[0] == '.' || strcmp(e->d_name, "latest") == 0 ||
			strlen(e->d_name) >= BH_BASE_ID_SIZE ||
			!bh_paths_base(
				e->d_name, "manifest.json", manifest_path, sizeof(manifest_path))) {
			continue;
		}
		json_object *m = json_object_from_file(manifest_path);
		if (m == NULL) {
			continue;
		}
		struct bh_base *grown = realloc(*bases, (size_t)(n + 1) * sizeof(**bases));
		if (grown == NULL) {
			json_object_put(m);
			break;
		}
		*bases = grown;
		struct bh_base *b = &grown[n++];
		memset(b, 0, sizeof(*b));
		/* The length was checked above; the copy only says so to the compiler. */
		size_t id_len = strnlen(e->d_name, sizeof(b->id) - 1);
		memcpy(b->id, e->d_name, id_len);
		b->id[id_len] = '\0';
		b->created = strdup(manifest_string(m, "created"));
		b->cmdline = strdup(manifest_string(m, "cmdline"));
		b->has_initrd = manifest_string(m, "initrd")[0] != '\0';
		b->latest = strcmp(b->id, latest) == 0;
		bh_paths_base(b->id, NULL, dir_path, sizeof(dir_path));
		b->bytes = dir_bytes(dir_path);
		json_object_put(m);
	}
	closedir(dir);
	if (n > 1) {
		qsort(*bases, (size_t)n, sizeof(**bases), compare_bases);
	}
	return n;
}

void bh_base_list_free(struct bh_base *bases, int n)
{
	for (int i = 0; i < n; i++) {
		free(bases[i].created);
		free(bases[i].cmdline);
	}
	free(bases);
}

bool bh_base_of_root(const char *path, char id[BH_BASE_ID_SIZE])
{
	char root[PATH_MAX];
	if (path == NULL || !bh_paths_bases_root(root, sizeof(root))) {
		return false;
	}
	size_t n = strlen(root);
	if (strncmp(path, root, n) != 0 || path[n] != '/') {
		return false;
	}
	const char *rest = path + n + 1;
	const char *slash = strchr(rest, '/');
	if (slash == NULL || strcmp(slash, "/root.qcow2") != 0 ||
		(size_t)(slash - rest) >= BH_BASE_ID_SIZE || slash == rest) {
		return false;
	}
	memcpy(id, rest, (size_t)(slash - rest));
	id[slash - rest] = '\0';
	return id[0] != '.';
}

bool bh_base_remove(const char *id)
{
	char dir[PATH_MAX], root[PATH_MAX], doomed[PATH_MAX];
	if (!bh_paths_base(id, NULL, dir, sizeof(dir)) ||
		!bh_paths_bases_root(root, sizeof(root))) {
		return false;
	}
	/* Unregister first (rename out of sight), then delete: a crash in
	 * between leaves a partial directory, never a half-deleted base. */
	bh_path_fmt(doomed, sizeof(doomed), "%s/.partial-gc-%s", root, id);
	if (rename(dir, doomed) != 0) {
		bh_log_errno(BH_LOG_ERROR, "cannot remove base %s", id);
		return false;
	}
	return bh_remove_tree(doomed);
}

void bh_base_remove_partial(void)
{
	char root[PATH_MAX];
	if (!bh_paths_bases_root(root, sizeof(root))) {
		return;
	}
	DIR *dir = opendir(root);
	if (dir == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (strncmp(e->d_name, ".partial-", 9) == 0) {
			char path[PATH_MAX];
			bh_path_fmt(path, sizeof(path), "%s/%s", root, e->d_name);
			bh_remove_tree(path);
		}
	}
	closedir(dir);
}
