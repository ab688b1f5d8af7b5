/* Where bulkhead keeps things on the host: per-tag state and runtime
 * directories, and the registered base images. */
#ifndef VM_PATHS_H
#define VM_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* $XDG_STATE_HOME/bulkhead (default ~/.local/state/bulkhead). */
bool bh_paths_state_root(char *out, size_t size);
/* $XDG_DATA_HOME/bulkhead/bases (default ~/.local/share/bulkhead/bases). */
bool bh_paths_bases_root(char *out, size_t size);

/* $XDG_DATA_HOME/bulkhead/pool: the directory of the storage pool a
 * libvirt on this machine keeps tag volumes in (vm/storage.h). */
bool bh_paths_pool_root(char *out, size_t size);

/* <state root>/tags/<dirname>[/file]: root.qcow2, home.qcow2, console.log.
 * file may be NULL for the directory itself. False (with *error) for a tag
 * that bh_tag_check refuses or a path that does not fit. */
bool bh_paths_tag_state(
	const char *tag, const char *file, char *out, size_t size, const char **error);
/* $XDG_RUNTIME_DIR/bulkhead/tags/<dirname>[/file]: channel.sock, lock. */
bool bh_paths_tag_runtime(
	const char *tag, const char *file, char *out, size_t size, const char **error);
/* $XDG_RUNTIME_DIR/bulkhead/tags/<dirname>/control.sock: where the tag's proxy serves
 * bulkheadctl (protocols/CONTROL.md). */
bool bh_paths_control_socket(const char *tag, char *out, size_t size, const char **error);
/* <bases root>/<id>[/file]: root.qcow2, vmlinuz, initrd.img, manifest.json. */
/* A VM's shared region (an ivshmem file of libvirt's <shmem>): its name,
 * and its path in /dev/shm. */
bool bh_paths_region_name(const char *tag, char *out, size_t size, const char **error);
bool bh_paths_region(const char *tag, char *out, size_t size, const char **error);
bool bh_paths_base(const char *id, const char *file, char *out, size_t size);
/* Private links: $XDG_RUNTIME_DIR/bulkhead/links/<file> (the hubs' locks)
 * and <state root>/links/<file> (their logs); file NULL for the directory. */
bool bh_paths_link_runtime(const char *file, char *out, size_t size);
bool bh_paths_link_state(const char *file, char *out, size_t size);
/* A helper program of ours: $env when set, else beside this executable in
 * the build tree (../subdir/name) or installed (name), else name (PATH). */
void bh_paths_program(
	const char *name, const char *subdir, const char *env, char *out, size_t size);

/* snprintf for paths: false, and out set to "", when the result does not
 * fit, so a truncated path is never used. */
bool bh_path_fmt(char *out, size_t size, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* mkdir -p with mode for the directories it creates. */
bool bh_mkdir_p(const char *path, mode_t mode);
/* rm -r that never follows a symlink out of path. */
bool bh_remove_tree(const char *path);

#endif
