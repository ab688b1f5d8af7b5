/* Disk images: qemu-img operations on overlays, and the registered base
 * images (kernel, initrd, qcow2 root) that tags boot from. */
#ifndef VM_IMAGE_H
#define VM_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BH_BASE_ID_SIZE 64
/* Virtual sizes of the disks bulkhead creates (qcow2 allocates on write). */
#define BH_HOME_DISK_MIB (8 * 1024)
#define BH_BLANK_ROOT_MIB (8 * 1024)

/* qcow2 overlay at path backed by the qcow2 backing (written as an
 * absolute path with -F qcow2, so no format probing ever happens). Creates
 * under a temporary name and renames, so path is whole or absent. */
bool bh_image_create_overlay(const char *path, const char *backing);
/* An empty qcow2 disk of size_mib at path, the same way. */
bool bh_image_create_disk(const char *path, unsigned size_mib);
/* Safe rebase (qemu-img rebase without -u): the guest-visible contents of
 * path stay byte-identical, data that differs between the old and the new
 * backing file is copied into the overlay. */
bool bh_image_rebase(const char *path, const char *new_backing);
/* Unsafe rebase (qemu-img rebase -u): only the header's backing file
 * changes, to backing (a qcow2 with the same contents as the old one, or
 * a path on another machine that need not exist here). */
bool bh_image_set_backing(const char *path, const char *backing);
/* qemu-img check; false with a logged error when the image is damaged. */
bool bh_image_check(const char *path);
/* The backing file of path as recorded in its header (malloc'd), or NULL
 * (none, or an error: then *failed is set when failed is not NULL). */
char *bh_image_backing(const char *path, bool *failed);

struct bh_base {
	char id[BH_BASE_ID_SIZE];
	char *created; /* ISO 8601, from the manifest */
	char *cmdline; /* extra kernel command line, may be "" */
	bool has_initrd;
	bool latest;
	uint64_t bytes; /* space its files take on disk */
};

/* Registers a new base from a kernel, an optional initrd and an optional
 * qcow2 root (a blank one is made without it), appending cmdline (may be
 * NULL) to the kernel command line of its VMs. The files are copied into
 * a hidden directory that is renamed into place only when complete, then
 * the base becomes "latest": an interrupted add registers nothing. */
bool bh_base_add(const char *kernel, const char *initrd, const char *root, const char *cmdline,
	char id[BH_BASE_ID_SIZE]);
/* name: a base id, "latest" or NULL (= latest). False with a logged error
 * saying what to do when there is no such base. */
bool bh_base_resolve(const char *name, char id[BH_BASE_ID_SIZE]);
/* All registered bases, oldest first; returns the count or -1. */
int bh_base_list(struct bh_base **bases);
void bh_base_list_free(struct bh_base *bases, int n);
/* The id of the base whose root.qcow2 is path (an overlay's backing file),
 * or false when path is not a registered base's root. */
bool bh_base_of_root(const char *path, char id[BH_BASE_ID_SIZE]);
/* Deletes a base directory (the caller has checked nobody uses it). */
bool bh_base_remove(const char *id);
/* Removes what interrupted adds left behind. */
void bh_base_remove_partial(void);

#endif
