/* Tags: the free-form project names users pick, and their safe, reversible
 * mapping to directory names and libvirt domain names. */
#ifndef VM_TAG_H
#define VM_TAG_H

#include <stdbool.h>
#include <stddef.h>

/* Longest tag in bytes. Every escaped byte takes three characters, so a
 * directory name is at most 3 * BH_TAG_MAX characters, well under NAME_MAX. */
#define BH_TAG_MAX 64
/* Room for the longest directory name and its NUL. */
#define BH_TAG_DIRNAME_SIZE (3 * BH_TAG_MAX + 1)
/* Every bulkhead domain is named BH_DOMAIN_PREFIX + directory name. */
#define BH_DOMAIN_PREFIX "bulkhead-"
#define BH_TAG_DOMAIN_SIZE (sizeof(BH_DOMAIN_PREFIX) - 1 + BH_TAG_DIRNAME_SIZE)

/* Checks that tag can be used: not empty, at most BH_TAG_MAX bytes, no
 * control characters. On failure *error (if not NULL) gets a static
 * sentence saying why. */
bool bh_tag_check(const char *tag, const char **error);

/* The directory name of tag: [A-Za-z0-9_-] are kept, every other byte is
 * written %XX (upper-case hex), so "/", "." and ".." can never appear and
 * the mapping is one-to-one. out needs BH_TAG_DIRNAME_SIZE bytes. Returns
 * false (and *error) when bh_tag_check refuses the tag. */
bool bh_tag_dirname(const char *tag, char out[BH_TAG_DIRNAME_SIZE], const char **error);
/* The reverse: only canonical directory names (what bh_tag_dirname writes)
 * decode; anything else returns false. out needs BH_TAG_MAX + 1 bytes. */
bool bh_tag_from_dirname(const char *dirname, char out[BH_TAG_MAX + 1]);

/* "bulkhead-" + the directory name. out needs BH_TAG_DOMAIN_SIZE bytes. */
bool bh_tag_domain_name(const char *tag, char out[BH_TAG_DOMAIN_SIZE], const char **error);
/* The tag of a bulkhead domain name; false for any other domain. */
bool bh_tag_from_domain_name(const char *name, char out[BH_TAG_MAX + 1]);

#endif
