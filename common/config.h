/* The shared config reader: $XDG_CONFIG_HOME/bulkhead/config, INI.
 *
 *   [general]   terminal, tag_app, default_tag, xkb_layout, xkb_variant,
 *               xkb_options, fullscreen_edge, idle_shutdown, uri,
 *               clipboard_limit
 *   [keys]      COMBO = ACTION  (e.g. Super+Shift+q = close)
 *   [tag NAME]  colour, app, uri, channel, compress, xwayland, and the VM keys (memory,
 *               cpus, base, network, root, accel, transport, virtio_mem,
 *               boot_timeout, shm_size, guest_memory, host, pool, pool_path, disks,
 *               and share and link, which may repeat)
 *   [host NAME] where tags that say host = NAME run: uri, pool, pool_path,
 *               disks (checked by the vm library like a tag's)
 *
 * Reading never fails as a whole: every error is logged as "FILE:LINE:
 * reason" and the setting keeps its default, so a session always starts. */
#ifndef BH_COMMON_CONFIG_H
#define BH_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One "key = value" kept as written, with where it came from. */
struct bh_config_entry {
	char *key;
	char *value;
	int line;
};

struct bh_config_tag {
	char *name;
	bool has_colour;
	uint32_t colour; /* 0xRRGGBB */
	char *app;       /* the tag's default app (a shell command line) or NULL */
	char *channel;   /* an agent reached directly (unix:PATH ...) or NULL */
	char *uri;       /* the tag's libvirt (perhaps on another machine), or NULL */
	bool compress_lz4; /* compress = lz4: buffer data crosses the channel compressed */
	bool compress_set; /* compress = given; else lz4 for a tag elsewhere, none here */
	bool xwayland_off; /* xwayland = off: no X11 apps (Xwayland) in this tag's guest */
	/* The VM keys, checked by the vm library (vm/config.h) where it is linked. */
	struct bh_config_entry *vm;
	size_t vm_count;
	int line;
};

/* A [host NAME] section: its keys as written (vm/config.h checks them). */
struct bh_config_host {
	char *name;
	struct bh_config_entry *keys;
	size_t key_count;
	int line;
};

struct bh_config {
	char *path; /* the file read, or NULL when none was found */
	char *terminal;    /* host terminal command */
	char *tag_app;     /* default app of tags without app = */
	char *default_tag; /* tag of Super+Return when no window is focused */
	char *xkb_layout, *xkb_variant, *xkb_options;
	char *uri; /* libvirt URI or NULL for the default */
	int fullscreen_edge;     /* px of tag colour kept around fullscreen VM windows */
	int idle_shutdown;       /* seconds after a tag's last window closed; 0 = never */
	size_t clipboard_limit;  /* bytes the copy chord takes at most */
	int max_windows_per_tag; /* anti-flood limit */
	struct bh_config_entry *keys;
	size_t key_count;
	struct bh_config_tag *tags;
	size_t tag_count;
	struct bh_config_host *hosts;
	size_t host_count;
	int errors; /* how many lines were rejected */
};

/* The default path: $XDG_CONFIG_HOME/bulkhead/config or
 * ~/.config/bulkhead/config; writes into buf. */
bool bh_config_default_path(char *buf, size_t size);

/* Reads path (NULL = the default path; a missing default file is no error,
 * a missing explicit one is). Always returns a config (defaults at least),
 * NULL only when out of memory. */
struct bh_config *bh_config_load(const char *path);
void bh_config_free(struct bh_config *config);

/* Reads a config from a string (for tests); name is used in messages. */
struct bh_config *bh_config_load_string(const char *text, const char *name);

const struct bh_config_tag *bh_config_tag(const struct bh_config *config, const char *name);
const struct bh_config_host *bh_config_host(const struct bh_config *config, const char *name);
/* The libvirt URI of tag name: its own uri =, else that of the [host] its
 * host = names, else [general]'s, else NULL (the default). */
const char *bh_config_tag_uri(const struct bh_config *config, const char *name);
/* Whether uri names a libvirt that may be on another machine: anything
 * but qemu:///... (NULL, the default, is local). */
bool bh_config_uri_remote(const char *uri);
/* Whether tag name's window contents cross the channel lz4-compressed:
 * its compress =, by default on for a tag on another machine. */
bool bh_config_tag_compressed(const struct bh_config *config, const char *name);

/* Parses "#RRGGBB", "RRGGBB" or "#RGB"; false when it is none of those. */
bool bh_config_parse_colour(const char *text, uint32_t *colour);

#endif
