/* What the parts of bulkheadctl share: the command table entry, the tag
 * settings from the config, and the libvirt connection. */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdbool.h>

#include "vm/vm.h"

/* argv[0] is the command's name; returns the process exit status. */
typedef int (*bh_cli_fn)(int argc, char *argv[]);

struct bh_cli_command {
	const char *name;
	const char *args;    /* usage after the name */
	const char *summary; /* one line for the command list */
	const char *help;    /* the rest of `bulkheadctl CMD --help`, may be NULL */
	bh_cli_fn run;
};

/* -c FILE from the command line (NULL: the default config path). */
void bh_cli_set_config_path(const char *path);
/* The settings of tag from the config; strings stay valid until exit. */
void bh_cli_tag_settings(const char *tag, struct bh_vm_settings *settings);
/* The libvirt URI from the config's [general] uri, or NULL. */
const char *bh_cli_uri(void);
/* The boot timeout in seconds from the config (0: the library's default). */
unsigned bh_cli_boot_timeout(const char *tag);
/* How long a start through the session waits for the tag: its boot
 * timeout and a minute for the VM's creation, so that the proxy's own
 * reason for giving up is what the user sees. */
unsigned bh_cli_session_timeout(const char *tag);
/* Connects to libvirt or prints why not (NULL). */
struct bh_vm *bh_cli_connect(void);
/* The libvirt URI of tag (its uri =, its [host]'s, else [general]'s, else
 * NULL). */
const char *bh_cli_tag_uri(const char *tag);
/* The connection of tag's commands: its own uri (or its [host]'s) and its
 * disks' storage pool when it has one; prints why not (NULL). */
struct bh_vm *bh_cli_connect_tag(const char *tag);
/* Whether the tag's window contents cross the channel compressed (its
 * compress =, by default lz4 for a tag on another machine). */
bool bh_cli_tag_compressed(const char *tag);
/* The config, read once (never NULL unless out of memory). */
struct bh_config;
const struct bh_config *bh_cli_config(void);

/* Every message for the user on stderr is one line from these, errors
 * written as what failed, then "; " and what to do. */
/* "bulkheadctl: message" */
void bh_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "bulkheadctl: tag TAG: message" */
void bh_cli_tag_error(const char *tag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same shape as bh_cli_error for what is not an error: progress, a
 * summary, a skipped file. */
void bh_cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "Usage: bulkheadctl COMMAND ARGS" on stderr for the running command,
 * args NULL for those of its table entry; returns 2, the status of a
 * command line that is wrong. */
int bh_cli_usage(const char *args);
/* True when argv[i] is --help/-h: prints the command's help first. */
bool bh_cli_wants_help(int argc, char *argv[]);

/* Sends one request to the compositor (consumed) and returns its reply
 * when it says "ok": true, else NULL after printing why (unless quiet:
 * then only the compositor's own error is printed, not a missing one). */
struct json_object;
struct json_object *bh_cli_ipc_call(struct json_object *request, bool quiet);

/* True inside a bulkhead session (BULKHEAD_SOCKET set). */
bool bh_cli_in_session(void);
/* Starts tag through the compositor, which owns the proxies (the proxy
 * boots the tag's VM), and with wait, waits up to timeout seconds for it
 * to be running. was_running (may be NULL) says it already was. Returns
 * 0, or 1 after printing one line on why not. */
int bh_cli_session_start(const char *tag, unsigned timeout, bool wait, bool *was_running);

/* Commands, one file per concern. */
int bh_cli_tags(int argc, char *argv[]);
int bh_cli_start(int argc, char *argv[]);
int bh_cli_stop(int argc, char *argv[]);
int bh_cli_status(int argc, char *argv[]);
int bh_cli_clean(int argc, char *argv[]);
int bh_cli_rebase(int argc, char *argv[]);
int bh_cli_console(int argc, char *argv[]);
int bh_cli_base(int argc, char *argv[]);
/* `base build`, in base_build.c; argv[0] is "build". */
int bh_cli_base_build(int argc, char *argv[]);
int bh_cli_windows(int argc, char *argv[]);
int bh_cli_spawn(int argc, char *argv[]);
int bh_cli_boot_trace(int argc, char *argv[]);
int bh_cli_doctor(int argc, char *argv[]);
/* Rebases every stopped persistent tag (after a new base is registered). */
int bh_cli_rebase_all(struct bh_vm *vm);
/* A new base is the latest: bh_cli_rebase_all on a connection of its own;
 * returns the exit status (base add, base build). */
int bh_cli_follow_new_base(void);

#endif
