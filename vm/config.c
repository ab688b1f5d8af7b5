/* VM keys of the config: text values into bh_vm_settings (see config.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/region.h"
#include "vm/config.h"

static bool number(const char *value, unsigned long min, unsigned long max, unsigned *out)
{
	char *end;
	if (value[0] < '0' || value[0] > '9') {
		return false;
	}
	unsigned long v = strtoul(value, &end, 10);
	if (*end != '\0' || v < min || v > max) {
		return false;
	}
	*out = (unsigned)v;
	return true;
}

/* Picks value among names (NULL-ended); the index is the enum value. */
static bool choice(const char *value, const char *const names[], int *out)
{
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(value, names[i]) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

/* share and link may be given more than once: each adds one. */
static bool add_share(struct bh_vm_settings *s, const char *value, char *error, size_t error_size)
{
	if (s->share_count >= BH_SHARES_MAX) {
		snprintf(error, error_size, "share = %s: at most %d shares per tag", value,
			BH_SHARES_MAX);
		return false;
	}
	struct bh_share share;
	if (!bh_share_parse(value, &share, error, error_size)) {
		return false;
	}
	for (unsigned i = 0; i < s->share_count; i++) {
		if (strcmp(s->shares[i].guest, share.guest) == 0) {
			snprintf(error, error_size, "share = %s: %s is already shared", value,
				share.guest);
			return false;
		}
	}
	s->shares[s->share_count++] = share;
	return true;
}

static bool add_link(struct bh_vm_settings *s, const char *value, char *error, size_t error_size)
{
	const char *why = NULL;
	if (!bh_link_name_check(value, &why)) {
		snprintf(error, error_size, "link = %s: %s", value, why);
		return false;
	}
	for (unsigned i = 0; i < s->link_count; i++) {
		if (strcmp(s->links[i], value) == 0) {
			return true;
		}
	}
	if (s->link_count >= BH_LINKS_MAX) {
		snprintf(error, error_size, "link = %s: at most %d links per tag", value,
			BH_LINKS_MAX);
		return false;
	}
	strcpy(s->links[s->link_count++], value);
	return true;
}

bool bh_vm_settings_set(struct bh_vm_settings *s, const char *key, const char *value, bool *known,
	char *error, size_t error_size)
{
	static const char *const accels[] = {"auto", "kvm", "tcg", NULL};
	static const char *const transports[] = {"serial", "vsock", NULL};
	static const char *const networks[] = {"none", "user", NULL};
	static const char *const roots[] = {"persistent", "fresh", NULL};
	static const char *const disks[] = {"auto", "files", "pool", NULL};
	const char *want = NULL;
	int pick;
	if (known != NULL) {
		*known = true;
	}
	if (strcmp(key, "memory") == 0) {
		want = number(value, 64, 1024 * 1024, &s->memory_mib) ? NULL
								      : "a size in MiB from 64";
	} else if (strcmp(key, "cpus") == 0) {
		want = number(value, 1, 256, &s->cpus) ? NULL : "a count from 1 to 256";
	} else if (strcmp(key, "virtio_mem") == 0) {
		want = number(value, 0, 1024 * 1024, &s->virtio_mem_mib)
			       ? NULL
			       : "a size in MiB (0 for none)";
	} else if (strcmp(key, "shm_size") == 0) {
		/* MiB of shared region, a power of two (ivshmem's), or off */
		unsigned mib = 0;
		if (strcmp(value, "off") == 0) {
			s->shm_off = true;
		} else if (number(value, BH_REGION_MIN_MIB, BH_REGION_MAX_MIB, &mib) &&
			   (mib & (mib - 1)) == 0) {
			s->shm_mib = mib;
			s->shm_off = false;
		} else {
			want = "MiB, a power of two from 4 to 1024, or off";
		}
	} else if (strcmp(key, "guest_memory") == 0) {
		/* shared: the proxy reads window contents from the VM's
		 * memory; private: the agent copies them into the region */
		static const char *const memories[] = {"shared", "private", NULL};
		want = choice(value, memories, &pick) ? NULL : "shared or private";
		if (want == NULL) {
			s->memory_private = pick == 1;
		}
	} else if (strcmp(key, "boot_timeout") == 0) {
		want = number(value, 1, 3600, &s->boot_timeout) ? NULL : "seconds from 1 to 3600";
	} else if (strcmp(key, "base") == 0) {
		/* A base id or "latest"; bases live in one flat directory. */
		if (value[0] == '\0' || value[0] == '.' || strchr(value, '/') != NULL) {
			want = "a base id (see `bulkheadctl base list`) or latest";
		} else {
			s->base = value;
		}
	} else if (strcmp(key, "accel") == 0) {
		want = choice(value, accels, &pick) ? NULL : "auto, kvm or tcg";
		if (want == NULL) {
			s->accel = (enum bh_accel)pick;
		}
	} else if (strcmp(key, "transport") == 0) {
		want = choice(value, transports, &pick) ? NULL : "serial or vsock";
		if (want == NULL) {
			s->transport = (enum bh_transport)pick;
		}
	} else if (strcmp(key, "network") == 0) {
		want = choice(value, networks, &pick) ? NULL : "none or user";
		if (want == NULL) {
			s->network = (enum bh_network)pick;
		}
	} else if (strcmp(key, "root") == 0) {
		want = choice(value, roots, &pick) ? NULL : "persistent or fresh";
		if (want == NULL) {
			s->root = (enum bh_root_policy)pick;
		}
	} else if (strcmp(key, "uri") == 0) {
		if (!bh_vm_uri_check(value, error, error_size)) {
			return false;
		}
		s->uri = value;
	} else if (strcmp(key, "host") == 0) {
		/* Resolved by bh_vm_settings_from_config, which has the config. */
		s->host = value;
	} else if (strcmp(key, "pool") == 0) {
		/* A libvirt pool name; it is also a file name on the host. */
		bool ok = value[0] != '\0' && strlen(value) <= 64 && value[0] != '.';
		for (const char *c = value; ok && *c; c++) {
			ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			     (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.';
		}
		if (ok) {
			s->pool = value;
		} else {
			want = "a pool name of letters, digits, '-', '_' and '.'";
		}
	} else if (strcmp(key, "pool_path") == 0) {
		if (value[0] != '/' || strchr(value, '\'') != NULL) {
			want = "an absolute directory on the tag's host";
		} else {
			s->pool_path = value;
		}
	} else if (strcmp(key, "disks") == 0) {
		want = choice(value, disks, &pick) ? NULL : "auto, files or pool";
		if (want == NULL) {
			s->disks = (enum bh_disks)pick;
		}
	} else if (strcmp(key, "share") == 0) {
		return add_share(s, value, error, error_size);
	} else if (strcmp(key, "link") == 0) {
		return add_link(s, value, error, error_size);
	} else {
		if (known != NULL) {
			*known = false;
		}
		snprintf(error, error_size, "unknown VM setting \"%s\"", key);
		return false;
	}
	if (want != NULL) {
		snprintf(error, error_size, "%s = %s: want %s", key, value, want);
		return false;
	}
	return true;
}

/* The tags of the config that name link (tag itself included), the first
 * BH_LINK_MEMBERS_MAX of them into tags. */
static unsigned link_members(const struct bh_config *config, const char *link,
	char tags[BH_LINK_MEMBERS_MAX][BH_TAG_MAX + 1])
{
	unsigned n = 0;
	for (size_t i = 0; i < config->tag_count; i++) {
		const struct bh_config_tag *t = &config->tags[i];
		for (size_t k = 0; k < t->vm_count; k++) {
			if (strcmp(t->vm[k].key, "link") == 0 &&
				strcmp(t->vm[k].value, link) == 0) {
				if (n < BH_LINK_MEMBERS_MAX) {
					snprintf(tags[n], BH_TAG_MAX + 1, "%s", t->name);
				}
				n++;
				break;
			}
		}
	}
	return n;
}

bool bh_vm_uri_check(const char *uri, char *error, size_t error_size)
{
	const char *sep = strstr(uri, "://");
	const char *why = NULL;
	for (const char *c = uri; why == NULL && *c; c++) {
		if ((unsigned char)*c <= 0x20 || *c == 0x7f) {
			why = "it has spaces or control characters";
		}
	}
	if (why == NULL && (sep == NULL || sep == uri)) {
		why = "want a libvirt URI such as qemu:///session or qemu+ssh://user@host/session";
	}
	if (why == NULL) {
		/* user:password@host: the authority ends at the first '/'. */
		const char *auth = sep + 3;
		size_t len = strcspn(auth, "/?");
		const char *at = memchr(auth, '@', len);
		if (at != NULL && memchr(auth, ':', (size_t)(at - auth)) != NULL) {
			why = "it holds a password: leave credentials to ssh keys or libvirt's own "
			      "auth";
		}
	}
	if (why == NULL && (strstr(uri, "password=") != NULL || strstr(uri, "passwd=") != NULL)) {
		why = "it holds a password: leave credentials to ssh keys or libvirt's own auth";
	}
	if (why != NULL) {
		/* A password is not repeated into logs and messages. */
		snprintf(error, error_size, "uri = %s: %s",
			strstr(why, "password") != NULL ? "(not shown)" : uri, why);
		return false;
	}
	return true;
}

/* The keys of the tag's [host NAME] section, under its own (tag NULL:
 * the host's alone). */
static bool apply_host(const struct bh_config *config, const char *tag, const char *name,
	struct bh_vm_settings *s)
{
	const struct bh_config_host *h = bh_config_host(config, name);
	char who[BH_TAG_MAX + 16];
	snprintf(who, sizeof(who), "%s%s", tag != NULL ? "tag " : "host ", tag != NULL ? tag : name);
	if (h == NULL) {
		snprintf(s->invalid, sizeof(s->invalid),
			"%s: %s names no [host %s] section in %s: add one with its uri = (e.g. "
			"qemu+ssh://user@%s/session)",
			who, tag != NULL ? "its host =" : "the host", name,
			config->path != NULL ? config->path : "the config", name);
		return false;
	}
	bool ok = true, has_uri = false;
	for (size_t i = 0; i < h->key_count; i++) {
		char error[256];
		has_uri = has_uri || strcmp(h->keys[i].key, "uri") == 0;
		if (!bh_vm_settings_set(s, h->keys[i].key, h->keys[i].value, NULL, error,
			    sizeof(error))) {
			bh_log(BH_LOG_ERROR, "%s:%d: %s; using the default",
				config->path != NULL ? config->path : "config", h->keys[i].line,
				error);
			ok = false;
		}
	}
	if (!has_uri || s->uri == NULL) {
		snprintf(s->invalid, sizeof(s->invalid),
			"%s: [host %s] has no usable uri = (e.g. qemu+ssh://user@host/session): "
			"add one to %s",
			who, name, config->path != NULL ? config->path : "the config");
		return false;
	}
	return ok;
}

bool bh_vm_host_settings(
	const struct bh_config *config, const char *host, struct bh_vm_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->host = host;
	return apply_host(config, NULL, host, s);
}

bool bh_vm_settings_from_config(const struct bh_config *config, const char *tag,
	struct bh_vm_settings *s)
{
	memset(s, 0, sizeof(*s));
	const struct bh_config_tag *t = bh_config_tag(config, tag);
	bool ok = true;
	/* host = first, so that the tag's own keys win over its host's. */
	for (size_t i = 0; t != NULL && i < t->vm_count; i++) {
		if (strcmp(t->vm[i].key, "host") == 0) {
			s->host = t->vm[i].value;
		}
	}
	if (s->host != NULL && !apply_host(config, tag, s->host, s)) {
		ok = false;
	}
	/* The tag's own uri = (read by the shared reader: the proxy and the
	 * compositor need it too) wins over its host's. A tag meant for
	 * another machine must not quietly run here on new disks: a bad one
	 * keeps it from starting, saying why. */
	char uri_error[256];
	if (t != NULL && t->uri != NULL) {
		if (bh_vm_uri_check(t->uri, uri_error, sizeof(uri_error))) {
			s->uri = t->uri;
		} else if (s->invalid[0] == '\0') {
			snprintf(s->invalid, sizeof(s->invalid), "tag %s: %s: %s", tag,
				config->path != NULL ? config->path : "the config", uri_error);
			ok = false;
		}
	}
	for (size_t i = 0; t != NULL && i < t->vm_count; i++) {
		char error[256];
		if (!bh_vm_settings_set(s, t->vm[i].key, t->vm[i].value, NULL, error, sizeof(error))) {
			ok = false;
			bh_log(BH_LOG_ERROR, "%s:%d: %s; using the default",
				config->path != NULL ? config->path : "config", t->vm[i].line, error);
		}
	}
	for (unsigned i = 0; i < s->link_count; i++) {
		s->link_members[i] = link_members(config, s->links[i], s->link_tags[i]);
	}
	return ok;
}

unsigned bh_vm_link_plan(const char *tag, const struct bh_vm_settings *s, unsigned i,
	struct bh_link_member plan[BH_LINK_MEMBERS_MAX], const char *tags[BH_LINK_MEMBERS_MAX],
	unsigned *self, char *error, size_t error_size)
{
	unsigned n = s->link_members[i];
	if (n < 2) {
		snprintf(error, error_size,
			"tag %s: link %s is named by no other tag of the config: add `link = %s` "
			"to "
			"the [tag] section of each tag it is to reach",
			tag, s->links[i], s->links[i]);
		return 0;
	}
	if (n > BH_LINK_MEMBERS_MAX) {
		snprintf(error, error_size,
			"tag %s: link %s is named by %u tags of the config, more than the %d a "
			"link "
			"joins: split them over two links",
			tag, s->links[i], n, BH_LINK_MEMBERS_MAX);
		return 0;
	}
	*self = n;
	for (unsigned k = 0; k < n; k++) {
		tags[k] = s->link_tags[i][k];
		if (strcmp(tags[k], tag) == 0) {
			*self = k;
		}
	}
	if (*self == n) {
		snprintf(error, error_size, "tag %s: link %s: the tag is not among its members",
			tag, s->links[i]);
		return 0;
	}
	bh_link_plan((unsigned)getuid(), s->links[i], tags, n, plan);
	return n;
}
