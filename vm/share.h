/* Host folders handed to one tag: `share = HOST-PATH:GUEST-PATH[:rw]`,
 * parsed and checked here; the domain exports each through 9p and the agent
 * mounts it at GUEST-PATH. Pure but for bh_share_resolve's realpath. */
#ifndef VM_SHARE_H
#define VM_SHARE_H

#include <stdbool.h>
#include <stddef.h>

#define BH_SHARES_MAX 8
#define BH_SHARE_HOST_MAX 1024
#define BH_SHARE_GUEST_MAX 256

struct bh_share {
	char host[BH_SHARE_HOST_MAX];   /* as written; "~/" is the user's home */
	char guest[BH_SHARE_GUEST_MAX]; /* absolute, [A-Za-z0-9._/+@-] only */
	bool rw;                        /* read-only unless ":rw" */
};

/* Parses "HOST:GUEST", "HOST:GUEST:ro" or "HOST:GUEST:rw". The guest path
 * must be absolute, not "/", without "." or ".." parts, and made of
 * [A-Za-z0-9._/+@-] (it travels on the guest's kernel command line). False
 * with a sentence in error otherwise. */
bool bh_share_parse(const char *value, struct bh_share *out, char *error, size_t error_size);

/* The host directory of share, "~/" expanded and every symlink resolved,
 * into out (PATH_MAX bytes): what the domain exports, so that no path
 * component is a symlink. False with a sentence in error when it is not an
 * existing directory. */
bool bh_share_resolve(
	const struct bh_share *share, char *out, size_t out_size, char *error, size_t error_size);

/* False with a sentence in error when the resolved host folder dir is one
 * of the protected folders (NULL-ended list, resolved here; those that are
 * not absolute paths are skipped) or holds one
 * or lies inside one: bulkhead's own state, bases, runtime files and
 * config, whose disks and settings no guest may see or change. */
bool bh_share_check_protected(
	const char *dir, const char *const protected_dirs[], char *error, size_t error_size);

/* The 9p mount tag of the share at index i: "bh0", "bh1", ... (8 bytes). */
void bh_share_mount_tag(unsigned i, char out[8]);

#endif
