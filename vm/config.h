/* The vm library's part of the config: parsing and checking the values of
 * the VM keys of a [tag NAME] section into bh_vm_settings. The file itself
 * is read by the shared config reader; this only knows the VM keys. */
#ifndef VM_CONFIG_H
#define VM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"
#include "vm/vm.h"

/* Sets the setting named key (memory, cpus, virtio_mem, base, network,
 * root, accel, transport, boot_timeout, uri, host, pool, pool_path, disks)
 * from its text value; share and link
 * add one more each time. Returns false
 * with a sentence in error for an unknown key or a bad value; *known tells
 * (when not NULL) whether key is a VM key at all. base is stored as given:
 * value must outlive settings. */
bool bh_vm_settings_set(struct bh_vm_settings *settings, const char *key, const char *value,
	bool *known, char *error, size_t error_size);

/* The tag's settings from its [tag NAME] section (defaults when it has
 * none), and with host = NAME those of [host NAME] under the tag's own;
 * each bad value is logged with FILE:LINE and keeps its default. A host =
 * naming no section sets settings->invalid. Values point into config,
 * which must outlive settings. */
bool bh_vm_settings_from_config(const struct bh_config *config, const char *tag,
	struct bh_vm_settings *settings);

/* The settings of [host NAME] alone (what `base push NAME` uses); a
 * missing section or uri sets settings->invalid. */
bool bh_vm_host_settings(
	const struct bh_config *config, const char *host, struct bh_vm_settings *settings);

/* Checks a libvirt URI of the config: a scheme and "://", printable, and
 * no password in it (credentials stay with ssh, TLS or libvirt's own
 * auth, never in bulkhead's files). False with a sentence in error. */
bool bh_vm_uri_check(const char *uri, char *error, size_t error_size);

/* Every member's end of the tag's link number i (bh_link_plan over the
 * members settings_from_config found): their names into tags, *self the
 * tag's own index. Returns the member count, or 0 with one line naming
 * tag and link in error when the link has fewer than two members or more
 * than BH_LINK_MEMBERS_MAX. */
unsigned bh_vm_link_plan(const char *tag, const struct bh_vm_settings *settings, unsigned i,
	struct bh_link_member plan[BH_LINK_MEMBERS_MAX], const char *tags[BH_LINK_MEMBERS_MAX],
	unsigned *self, char *error, size_t error_size);

#endif
