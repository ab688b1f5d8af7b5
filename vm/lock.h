/* The per-tag lock: one process at a time starts, stops, rebases or cleans
 * a tag. */
#ifndef VM_LOCK_H
#define VM_LOCK_H

#include <stdbool.h>
#include <stddef.h>

/* Takes the tag's lock (flock on its runtime "lock" file), waiting for
 * another holder. Returns the fd to pass to bh_tag_unlock, or -1 with a
 * sentence in error. The kernel drops the lock if the process dies. */
int bh_tag_lock(const char *tag, char *error, size_t error_size);
void bh_tag_unlock(int fd);
/* Waits for an exclusive flock on the open fd of path: the fd, or -1
 * (the fd closed) with a sentence naming tag in error. */
int bh_lock_wait(int fd, const char *tag, const char *path, char *error, size_t error_size);

#endif
