/* Tag disks and base images as volumes of a libvirt storage pool on the
 * tag's host: everything goes through the tag's libvirt connection, so the
 * host may be another machine (qemu+ssh://...). Volume names:
 *   base-ID-vmlinuz, base-ID-initrd.img, base-ID-root.qcow2  a pushed base
 *   base-ID-manifest.json   written last: the base is whole on the host
 *   tag-DIRNAME-root.qcow2  the tag's overlay, backed by base-ID-root.qcow2
 *   tag-DIRNAME-home.qcow2, tag-DIRNAME-console.log
 * (DIRNAME: bh_tag_dirname). */
#ifndef VM_STORAGE_H
#define VM_STORAGE_H

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/image.h"
#include "vm/tag.h"

#define BH_VOLUME_NAME_SIZE (BH_TAG_DIRNAME_SIZE + 64)

/* The pool name on conn (at uri, for messages), started if inactive and
 * refreshed. A missing pool is defined as a dir pool at path, built,
 * started and set to autostart; with path NULL, a libvirt on this machine
 * gets $XDG_DATA_HOME/bulkhead/pool, another host an error saying to set
 * pool_path = (bulkhead cannot know that machine's home directory). */
virStoragePoolPtr bh_storage_pool(virConnectPtr conn, const char *uri, const char *name,
	const char *path, char *error, size_t error_size);

/* Volume names (see above); false when they do not fit. */
bool bh_storage_base_volume(const char *id, const char *part, char *out, size_t size);
bool bh_storage_tag_volume(const char *tag, const char *part, char *out, size_t size);
/* The tag whose volume name is name (a tag-DIRNAME-part of ours). */
bool bh_storage_tag_of_volume(const char *name, char tag[BH_TAG_MAX + 1]);
/* The base id of a base-ID-root.qcow2 volume path (an overlay's backing). */
bool bh_storage_base_of_root(const char *path, char id[BH_BASE_ID_SIZE]);

/* The host path of volume name: false when there is none. */
bool bh_storage_volume_path(virStoragePoolPtr pool, const char *name, char *out, size_t size);
/* The pool's directory on its host. */
bool bh_storage_pool_path(virStoragePoolPtr pool, char *out, size_t size);
/* A qcow2 volume backed by the qcow2 file backing (a path on the host). */
bool bh_storage_create_overlay(virStoragePoolPtr pool, const char *name, const char *backing,
	char *error, size_t error_size);
/* An empty qcow2 volume of size_mib (allocated on write). */
bool bh_storage_create_disk(virStoragePoolPtr pool, const char *name, unsigned size_mib,
	char *error, size_t error_size);
/* Deletes volume name; a missing one is no error. */
bool bh_storage_delete(virStoragePoolPtr pool, const char *name, char *error, size_t error_size);
/* Bytes volume name takes on its host (0 when missing). */
uint64_t bh_storage_allocation(virStoragePoolPtr pool, const char *name);
/* The backing file of volume name as libvirt reports it (malloc'd), or
 * NULL (none or missing). */
char *bh_storage_backing(virStoragePoolPtr pool, const char *name);
/* Up to max bytes of volume name from offset (from the end when offset
 * is negative: the tail). malloc'd and NUL-terminated; *len its length.
 * NULL when it is missing or unreadable. */
char *bh_storage_read(virConnectPtr conn, virStoragePoolPtr pool, const char *name, int64_t offset,
	size_t max, size_t *len);

/* A base as its host has it: read from base-ID-manifest.json, every
 * field checked (the host's data is not trusted more than a file). */
struct bh_pool_base {
	char id[BH_BASE_ID_SIZE];
	char *cmdline; /* malloc'd */
	bool has_initrd;
};
/* Whether base id is whole in the pool (its manifest present and sound). */
bool bh_storage_base_get(
	virConnectPtr conn, virStoragePoolPtr pool, const char *id, struct bh_pool_base *base);
void bh_storage_base_finish(struct bh_pool_base *base);

/* What a push reports while it sends and checks: the file, the bytes
 * done of total. */
typedef void (*bh_storage_progress_fn)(
	void *user, const char *what, const char *file, uint64_t done, uint64_t total);
/* Sends the registered base id (its kernel, initrd and root) into the
 * pool with virStorageVolUpload, reads every volume back to compare its
 * SHA-256 with the local file's, then writes the manifest. A base already
 * whole there is left alone (*sent false); volumes of an interrupted push
 * are replaced. */
bool bh_storage_push_base(virConnectPtr conn, virStoragePoolPtr pool, const char *id,
	bh_storage_progress_fn progress, void *user, bool *sent, char *error, size_t error_size);

/* Writes volume name whole into the file open as fd (from its start). */
bool bh_storage_download(virConnectPtr conn, virStoragePoolPtr pool, const char *name, int fd,
	char *error, size_t error_size);
/* Sends the local file into a new volume name (which must not exist),
 * reads it back to compare SHA-256 digests and refreshes the pool, so
 * that libvirt probes its format and backing store. On failure the new
 * volume is deleted. */
bool bh_storage_upload_checked(virConnectPtr conn, virStoragePoolPtr pool, const char *name,
	const char *file, char *error, size_t error_size);

/* Deletes base id's volumes, its manifest first (so that what is left
 * of a failed delete counts as not pushed). */
void bh_storage_delete_base(virStoragePoolPtr pool, const char *id);

#endif
