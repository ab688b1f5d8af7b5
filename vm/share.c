/* Host folders of a tag: parsing and resolving `share =` (see share.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "vm/share.h"

bool bh_share_parse(const char *value, struct bh_share *out, char *error, size_t error_size)
{
	memset(out, 0, sizeof(*out));
	size_t len = strlen(value);
	if (len >= 3 && strcmp(value + len - 3, ":rw") == 0) {
		out->rw = true;
		len -= 3;
	} else if (len >= 3 && strcmp(value + len - 3, ":ro") == 0) {
		len -= 3;
	}
	/* The guest path has no ':', so the last one splits. */
	const char *colon = NULL;
	for (size_t i = 0; i < len; i++) {
		if (value[i] == ':') {
			colon = value + i;
		}
	}
	if (colon == NULL || colon == value) {
		snprintf(error, error_size,
			"share = %s: want HOST-PATH:GUEST-PATH, with :rw to allow writes", value);
		return false;
	}
	size_t host_len = (size_t)(colon - value);
	size_t guest_len = len - host_len - 1;
	if (host_len >= sizeof(out->host) || guest_len >= sizeof(out->guest)) {
		snprintf(error, error_size, "share = %s: a path is too long", value);
		return false;
	}
	memcpy(out->host, value, host_len);
	memcpy(out->guest, colon + 1, guest_len);
	if (!(out->host[0] == '/' || strncmp(out->host, "~/", 2) == 0)) {
		snprintf(error, error_size,
			"share = %s: the host path must be absolute or start with ~/", value);
		return false;
	}
	if (!bh_path_is_plain(out->guest, sizeof(out->guest))) {
		snprintf(error, error_size,
			"share = %s: the guest path must be absolute, not /, without . or .. "
			"parts, and of letters, digits and ._/+@- only",
			value);
		return false;
	}
	return true;
}

bool bh_share_resolve(
	const struct bh_share *share, char *out, size_t out_size, char *error, size_t error_size)
{
	char path[PATH_MAX];
	const char *home = getenv("HOME");
	int n;
	if (strncmp(share->host, "~/", 2) == 0) {
		if (home == NULL || home[0] != '/') {
			snprintf(error, error_size,
				"share %s: HOME is not set to an absolute path, so ~/ means "
				"nothing; write the host path in full",
				share->host);
			return false;
		}
		n = snprintf(path, sizeof(path), "%s/%s", home, share->host + 2);
	} else {
		n = snprintf(path, sizeof(path), "%s", share->host);
	}
	char real[PATH_MAX];
	struct stat st;
	if (n < 0 || (size_t)n >= sizeof(path) || realpath(path, real) == NULL) {
		snprintf(error, error_size,
			"share %s: the host folder cannot be found (%s); create it or fix "
			"`share =` in the config",
			share->host,
			n < 0 || (size_t)n >= sizeof(path) ? "too long" : strerror(errno));
		return false;
	}
	if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(error, error_size,
			"share %s: %s is not a folder; a share is a whole folder", share->host,
			real);
		return false;
	}
	if (strlen(real) >= out_size) {
		snprintf(error, error_size, "share %s: the path is too long", share->host);
		return false;
	}
	strcpy(out, real);
	return true;
}

/* Whether path is dir or lies below it. */
static bool within(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/') {
		return true;
	}
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool bh_share_check_protected(
	const char *dir, const char *const protected_dirs[], char *error, size_t error_size)
{
	for (int i = 0; protected_dirs[i] != NULL; i++) {
		if (protected_dirs[i][0] != '/') {
			continue; /* unknown: nothing to compare */
		}
		char real[PATH_MAX];
		/* One that does not exist yet is compared as written. */
		const char *p =
			realpath(protected_dirs[i], real) != NULL ? real : protected_dirs[i];
		if (within(dir, p) || within(p, dir)) {
			snprintf(error, error_size,
				"share %s: it %s %s, where bulkhead keeps tags' disks, bases or "
				"settings; share a folder beside it",
				dir, within(dir, p) ? "lies inside" : "holds", p);
			return false;
		}
	}
	return true;
}

void bh_share_mount_tag(unsigned i, char out[8])
{
	snprintf(out, 8, "bh%u", i % 100000);
}
