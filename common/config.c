/* The shared config reader (see config.h). inih splits the lines; a line
 * counting reader gives every message its FILE:LINE. */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/transport.h"
#include "common/log.h"

#define MAX_TAGS 256
#define MAX_KEYS 256
#define MAX_VM_KEYS 32
#define MAX_HOSTS 64
#define MAX_HOST_KEYS 16

struct reader {
	FILE *file;        /* or NULL for text */
	const char *text;  /* remaining text */
	const char *name;  /* for messages */
	int line;
	struct bh_config *config;
	struct bh_config_tag *tag; /* the [tag NAME] section being read */
	struct bh_config_host *host; /* or the [host NAME] section */
	char section[256];
	bool in_section;
	bool bad_section;
};

static void config_error(struct reader *r, const char *fmt, const char *a, const char *b)
{
	char what[512];
	snprintf(what, sizeof(what), fmt, a, b);
	bh_log(BH_LOG_ERROR, "%s:%d: %s; using the default", r->name, r->line, what);
	r->config->errors++;
}

static void begin_section(struct reader *r, const char *section);

/* A "[name]" line starts its section here, so even an empty section is
 * checked (inih reports sections only with their keys). */
static void section_line(struct reader *r, const char *line)
{
	while (*line == ' ' || *line == '\t') {
		line++;
	}
	if (*line != '[') {
		return;
	}
	const char *end = strchr(line, ']');
	if (end == NULL || (size_t)(end - line - 1) >= sizeof(r->section)) {
		return;
	}
	char name[sizeof(r->section)];
	const char *start = line + 1;
	while (start < end && (*start == ' ' || *start == '\t')) {
		start++; /* trimmed as inih trims it */
	}
	size_t len = (size_t)(end - start);
	while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t')) {
		len--;
	}
	memcpy(name, start, len);
	name[len] = '\0';
	snprintf(r->section, sizeof(r->section), "%s", name);
	r->in_section = true;
	r->tag = NULL;
	r->bad_section = false;
	begin_section(r, name);
}

static char *reader_line(char *buf, int size, void *stream)
{
	struct reader *r = stream;
	char *got;
	if (r->file != NULL) {
		got = fgets(buf, size, r->file);
	} else {
		if (*r->text == '\0') {
			return NULL;
		}
		const char *end = strchr(r->text, '\n');
		size_t len = end != NULL ? (size_t)(end - r->text) + 1 : strlen(r->text);
		if (len > (size_t)size - 1) {
			len = (size_t)size - 1;
		}
		memcpy(buf, r->text, len);
		buf[len] = '\0';
		r->text += len;
		got = buf;
	}
	if (got != NULL) {
		r->line++;
		section_line(r, got);
	}
	return got;
}

static bool set_string(char **slot, const char *value)
{
	char *copy = strdup(value);
	if (copy == NULL) {
		return false;
	}
	free(*slot);
	*slot = copy;
	return true;
}

static bool parse_int(const char *value, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < min || v > max) {
		return false;
	}
	*out = v;
	return true;
}

bool bh_config_parse_colour(const char *text, uint32_t *colour)
{
	if (text[0] == '#') {
		text++;
	}
	size_t len = strlen(text);
	if (len != 6 && len != 3) {
		return false;
	}
	uint32_t v = 0;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		uint32_t d;
		if (c >= '0' && c <= '9') {
			d = (uint32_t)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			d = (uint32_t)(c - 'a' + 10);
		} else if (c >= 'A' && c <= 'F') {
			d = (uint32_t)(c - 'A' + 10);
		} else {
			return false;
		}
		v = len == 6 ? v << 4 | d : v << 8 | d << 4 | d;
	}
	*colour = v;
	return true;
}

static bool add_entry(struct bh_config_entry **list, size_t *count, size_t max, const char *key,
	const char *value, int line)
{
	if (*count >= max) {
		return false;
	}
	struct bh_config_entry *grown = realloc(*list, (*count + 1) * sizeof(**list));
	if (grown == NULL) {
		return false;
	}
	*list = grown;
	struct bh_config_entry *e = &grown[*count];
	e->key = strdup(key);
	e->value = strdup(value);
	e->line = line;
	if (e->key == NULL || e->value == NULL) {
		free(e->key);
		free(e->value);
		return false;
	}
	(*count)++;
	return true;
}

static const char *const vm_keys[] = {"memory", "cpus", "base", "network", "root", "accel",
	"transport", "virtio_mem", "boot_timeout", "shm_size", "guest_memory", "share", "link",
	"host", "pool", "pool_path", "disks", NULL};
/* What a [host NAME] section may set: where its tags' VMs and disks are. */
static const char *const host_keys[] = {"uri", "pool", "pool_path", "disks", NULL};

static bool general_key(struct reader *r, const char *name, const char *value)
{
	struct bh_config *c = r->config;
	long v;
	if (strcmp(name, "terminal") == 0) {
		return set_string(&c->terminal, value);
	} else if (strcmp(name, "tag_app") == 0) {
		return set_string(&c->tag_app, value);
	} else if (strcmp(name, "default_tag") == 0) {
		if (value[0] == '\0') {
			config_error(r, "default_tag is empty", NULL, NULL);
			return true;
		}
		return set_string(&c->default_tag, value);
	} else if (strcmp(name, "xkb_layout") == 0) {
		return set_string(&c->xkb_layout, value);
	} else if (strcmp(name, "xkb_variant") == 0) {
		return set_string(&c->xkb_variant, value);
	} else if (strcmp(name, "xkb_options") == 0) {
		return set_string(&c->xkb_options, value);
	} else if (strcmp(name, "uri") == 0) {
		return set_string(&c->uri, value);
	} else if (strcmp(name, "fullscreen_edge") == 0) {
		if (!parse_int(value, 0, 64, &v)) {
			config_error(r, "fullscreen_edge must be 0 to 64 pixels, not \"%s\"", value,
				NULL);
		} else {
			c->fullscreen_edge = (int)v;
		}
	} else if (strcmp(name, "idle_shutdown") == 0) {
		if (!parse_int(value, 0, 7 * 24 * 3600, &v)) {
			config_error(r, "idle_shutdown must be seconds (0 = never), not \"%s\"", value,
				NULL);
		} else {
			c->idle_shutdown = (int)v;
		}
	} else if (strcmp(name, "clipboard_limit") == 0) {
		if (!parse_int(value, 1, 1L << 30, &v)) {
			config_error(r, "clipboard_limit must be 1 to 1073741824 bytes, not \"%s\"",
				value, NULL);
		} else {
			c->clipboard_limit = (size_t)v;
		}
	} else if (strcmp(name, "max_windows_per_tag") == 0) {
		if (!parse_int(value, 1, 100000, &v)) {
			config_error(r, "max_windows_per_tag must be 1 to 100000, not \"%s\"", value,
				NULL);
		} else {
			c->max_windows_per_tag = (int)v;
		}
	} else {
		config_error(r, "unknown key \"%s\" in [general]", name, NULL);
	}
	return true;
}

static bool tag_key(struct reader *r, const char *name, const char *value)
{
	struct bh_config_tag *t = r->tag;
	if (strcmp(name, "colour") == 0 || strcmp(name, "color") == 0) {
		if (!bh_config_parse_colour(value, &t->colour)) {
			config_error(r, "colour must be #RRGGBB, not \"%s\"", value, NULL);
		} else {
			t->has_colour = true;
		}
		return true;
	} else if (strcmp(name, "app") == 0) {
		return set_string(&t->app, value);
	} else if (strcmp(name, "uri") == 0) {
		if (value[0] == '\0') {
			config_error(r, "uri is empty (leave it out for the [general] one)", NULL,
				NULL);
			return true;
		}
		return set_string(&t->uri, value);
	} else if (strcmp(name, "channel") == 0) {
		struct bh_address addr;
		char err[256];
		if (!bh_address_parse(value, &addr, err, sizeof(err))) {
			config_error(r, "%s", err, NULL);
			return true;
		}
		return set_string(&t->channel, value);
	} else if (strcmp(name, "xwayland") == 0) {
		if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0) {
			t->xwayland_off = strcmp(value, "off") == 0;
		} else {
			config_error(r, "xwayland must be on or off, not \"%s\"", value, NULL);
		}
		return true;
	} else if (strcmp(name, "compress") == 0) {
		if (strcmp(value, "lz4") == 0 || strcmp(value, "none") == 0) {
			t->compress_lz4 = strcmp(value, "lz4") == 0;
			t->compress_set = true;
		} else {
			config_error(r, "compress must be lz4 or none, not \"%s\"", value, NULL);
		}
		return true;
	}
	for (int i = 0; vm_keys[i] != NULL; i++) {
		if (strcmp(name, vm_keys[i]) == 0) {
			if (!add_entry(&t->vm, &t->vm_count, MAX_VM_KEYS, name, value, r->line)) {
				config_error(r, "too many keys in [tag %s]", t->name, NULL);
			}
			return true;
		}
	}
	config_error(r, "unknown key \"%s\" in [tag %s]", name, t->name);
	return true;
}

static bool host_key(struct reader *r, const char *name, const char *value)
{
	struct bh_config_host *h = r->host;
	for (int i = 0; host_keys[i] != NULL; i++) {
		if (strcmp(name, host_keys[i]) == 0) {
			if (!add_entry(&h->keys, &h->key_count, MAX_HOST_KEYS, name, value, r->line)) {
				config_error(r, "too many keys in [host %s]", h->name, NULL);
			}
			return true;
		}
	}
	config_error(r, "unknown key \"%s\" in [host %s] (uri, pool, pool_path or disks)", name,
		h->name);
	return true;
}

/* [host NAME]: NAME is what tags name with host = NAME. */
static void begin_host(struct reader *r, const char *name)
{
	struct bh_config *c = r->config;
	while (*name == ' ') {
		name++;
	}
	size_t len = strlen(name);
	bool ok = len > 0 && len <= 64;
	for (size_t i = 0; ok && i < len; i++) {
		ok = (unsigned char)name[i] > 0x20 && name[i] != 0x7f;
	}
	if (!ok) {
		config_error(r, "a host name must be 1 to 64 printable characters without spaces: "
				"[host %s]",
			name, NULL);
		r->bad_section = true;
		return;
	}
	for (size_t i = 0; i < c->host_count; i++) {
		if (strcmp(c->hosts[i].name, name) == 0) {
			r->host = &c->hosts[i];
			return;
		}
	}
	struct bh_config_host *grown =
		c->host_count < MAX_HOSTS ? realloc(c->hosts, (c->host_count + 1) * sizeof(*c->hosts))
					  : NULL;
	if (grown == NULL) {
		config_error(r, "too many [host] sections", NULL, NULL);
		r->bad_section = true;
		return;
	}
	c->hosts = grown;
	struct bh_config_host *h = &c->hosts[c->host_count];
	memset(h, 0, sizeof(*h));
	h->line = r->line;
	if ((h->name = strdup(name)) == NULL) {
		r->bad_section = true;
		return;
	}
	c->host_count++;
	r->host = h;
}

static struct bh_config_tag *find_tag(struct bh_config *c, const char *name)
{
	for (size_t i = 0; i < c->tag_count; i++) {
		if (strcmp(c->tags[i].name, name) == 0) {
			return &c->tags[i];
		}
	}
	return NULL;
}

/* Starts [tag NAME]: tags are kept in one array, so pointers into it are
 * only taken after the whole file was read (r->tag is an index). */
static void begin_section(struct reader *r, const char *section)
{
	struct bh_config *c = r->config;
	r->tag = NULL;
	r->host = NULL;
	r->bad_section = false;
	if (strcmp(section, "general") == 0 || strcmp(section, "keys") == 0) {
		return;
	}
	if (strncmp(section, "host ", 5) == 0) {
		begin_host(r, section + 5);
		return;
	}
	if (strncmp(section, "tag ", 4) == 0) {
		const char *name = section + 4;
		while (*name == ' ') {
			name++;
		}
		size_t len = strlen(name);
		bool ok = len > 0 && len <= 64;
		for (size_t i = 0; ok && i < len; i++) {
			ok = (unsigned char)name[i] >= 0x20 && name[i] != 0x7f;
		}
		if (!ok) {
			config_error(r, "a tag name must be 1 to 64 printable characters: [%s]", section,
				NULL);
			r->bad_section = true;
			return;
		}
		struct bh_config_tag *t = find_tag(c, name);
		if (t == NULL) {
			if (c->tag_count >= MAX_TAGS) {
				config_error(r, "too many [tag] sections", NULL, NULL);
				r->bad_section = true;
				return;
			}
			struct bh_config_tag *grown =
				realloc(c->tags, (c->tag_count + 1) * sizeof(*c->tags));
			if (grown == NULL) {
				r->bad_section = true;
				return;
			}
			c->tags = grown;
			t = &c->tags[c->tag_count++];
			memset(t, 0, sizeof(*t));
			t->name = strdup(name);
			t->line = r->line;
			if (t->name == NULL) {
				c->tag_count--;
				r->bad_section = true;
				return;
			}
		}
		r->tag = t;
		return;
	}
	config_error(r, "unknown section [%s] (expected general, keys, tag NAME or host NAME)", section, NULL);
	r->bad_section = true;
}

static int handle_line(void *user, const char *section, const char *name, const char *value)
{
	struct reader *r = user;
	struct bh_config *c = r->config;
	const char *want = section != NULL ? section : "";
	/* inih reports the section with every key: a change starts a new one. */
	if (!r->in_section || strcmp(r->section, want) != 0) {
		snprintf(r->section, sizeof(r->section), "%s", want);
		r->in_section = true;
		r->tag = NULL;
		r->host = NULL;
		r->bad_section = false;
		if (want[0] != '\0') {
			begin_section(r, want);
		}
	}
	if (name == NULL || r->bad_section) {
		return 1;
	}
	if (want[0] == '\0') {
		config_error(r, "\"%s\" is outside any section (put it under [general])", name, NULL);
		return 1;
	}
	bool ok = true;
	if (strcmp(want, "general") == 0) {
		ok = general_key(r, name, value);
	} else if (strcmp(want, "keys") == 0) {
		if (!add_entry(&c->keys, &c->key_count, MAX_KEYS, name, value, r->line)) {
			config_error(r, "too many key bindings", NULL, NULL);
		}
	} else if (r->tag != NULL) {
		ok = tag_key(r, name, value);
	} else if (r->host != NULL) {
		ok = host_key(r, name, value);
	}
	return ok ? 1 : 0;
}

static struct bh_config *config_new(void)
{
	struct bh_config *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->terminal = strdup("foot");
	c->tag_app = strdup("foot");
	c->default_tag = strdup("work");
	c->fullscreen_edge = 4;
	c->clipboard_limit = 8u << 20;
	c->max_windows_per_tag = 256;
	if (c->terminal == NULL || c->tag_app == NULL || c->default_tag == NULL) {
		bh_config_free(c);
		return NULL;
	}
	return c;
}

static void config_parse(struct reader *r)
{
	int status = ini_parse_stream(reader_line, r, handle_line, r);
	if (status > 0) {
		/* inih's own syntax errors (a line without '=' or ']'). */
		bh_log(BH_LOG_ERROR, "%s:%d: not a section, a key = value line or a comment; "
				     "ignored",
			r->name, status);
		r->config->errors++;
	}
}

struct bh_config *bh_config_load_string(const char *text, const char *name)
{
	struct bh_config *c = config_new();
	if (c == NULL) {
		return NULL;
	}
	struct reader r = {.text = text, .name = name, .config = c};
	config_parse(&r);
	return c;
}

bool bh_config_default_path(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;
	if (xdg != NULL && xdg[0] == '/') {
		n = snprintf(buf, size, "%s/bulkhead/config", xdg);
	} else if (home != NULL && home[0] == '/') {
		n = snprintf(buf, size, "%s/.config/bulkhead/config", home);
	} else {
		return false;
	}
	return n > 0 && (size_t)n < size;
}

struct bh_config *bh_config_load(const char *path)
{
	struct bh_config *c = config_new();
	if (c == NULL) {
		return NULL;
	}
	char def[PATH_MAX];
	bool explicit_path = path != NULL;
	if (path == NULL) {
		if (!bh_config_default_path(def, sizeof(def))) {
			return c;
		}
		path = def;
	}
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		if (explicit_path || errno != ENOENT) {
			bh_log(BH_LOG_ERROR, "cannot read the config %s: %s; using the defaults", path,
				strerror(errno));
			c->errors++;
		}
		return c;
	}
	c->path = strdup(path);
	struct reader r = {.file = f, .name = path, .config = c};
	config_parse(&r);
	fclose(f);
	return c;
}

bool bh_config_uri_remote(const char *uri)
{
	return uri != NULL && uri[0] != '\0' && strncmp(uri, "qemu:///", 8) != 0;
}

bool bh_config_tag_compressed(const struct bh_config *config, const char *name)
{
	const struct bh_config_tag *t = bh_config_tag(config, name);
	if (t != NULL && t->compress_set) {
		return t->compress_lz4;
	}
	return bh_config_uri_remote(bh_config_tag_uri(config, name));
}

const char *bh_config_tag_uri(const struct bh_config *config, const char *name)
{
	const struct bh_config_tag *t = bh_config_tag(config, name);
	if (t != NULL && t->uri != NULL) {
		return t->uri;
	}
	/* host = NAME: the uri of [host NAME] (the vm library checks both). */
	for (size_t i = 0; t != NULL && i < t->vm_count; i++) {
		const struct bh_config_host *h =
			strcmp(t->vm[i].key, "host") == 0 ? bh_config_host(config, t->vm[i].value)
							  : NULL;
		for (size_t k = 0; h != NULL && k < h->key_count; k++) {
			if (strcmp(h->keys[k].key, "uri") == 0) {
				return h->keys[k].value;
			}
		}
	}
	return config != NULL ? config->uri : NULL;
}

const struct bh_config_tag *bh_config_tag(const struct bh_config *config, const char *name)
{
	for (size_t i = 0; config != NULL && i < config->tag_count; i++) {
		if (strcmp(config->tags[i].name, name) == 0) {
			return &config->tags[i];
		}
	}
	return NULL;
}

const struct bh_config_host *bh_config_host(const struct bh_config *config, const char *name)
{
	for (size_t i = 0; config != NULL && i < config->host_count; i++) {
		if (strcmp(config->hosts[i].name, name) == 0) {
			return &config->hosts[i];
		}
	}
	return NULL;
}

static void free_entries(struct bh_config_entry *list, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(list[i].key);
		free(list[i].value);
	}
	free(list);
}

void bh_config_free(struct bh_config *c)
{
	if (c == NULL) {
		return;
	}
	free(c->path);
	free(c->terminal);
	free(c->tag_app);
	free(c->default_tag);
	free(c->xkb_layout);
	free(c->xkb_variant);
	free(c->xkb_options);
	free(c->uri);
	free_entries(c->keys, c->key_count);
	for (size_t i = 0; i < c->tag_count; i++) {
		free(c->tags[i].name);
		free(c->tags[i].app);
		free(c->tags[i].channel);
		free(c->tags[i].uri);
		free_entries(c->tags[i].vm, c->tags[i].vm_count);
	}
	free(c->tags);
	for (size_t i = 0; i < c->host_count; i++) {
		free(c->hosts[i].name);
		free_entries(c->hosts[i].keys, c->hosts[i].key_count);
	}
	free(c->hosts);
	free(c);
}
