/* bulkheadctl: global options, the command table and the messages to the
 * user; each command lives in the file of its concern (vm_cmds.c, base.c,
 * base_build.c, ipc.c, exec.c, files.c; settings.c reads the config). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/exec.h"
#include "common/log.h"
#include "common/util.h"

static const struct bh_cli_command commands[] = {
	{"tags", "[--json]", "list the tags that have disks or a running VM",
		"Shows each tag's state (running, stopped, paused), its base and disk use.",
		bh_cli_tags},
	{"start", "[--no-wait] [--timeout SECS] TAG",
		"start a tag (or attach to it) and wait until it is running",
		"In a session (BULKHEAD_SOCKET set) the compositor starts the tag's proxy,\n"
		"which boots its VM, and start waits up to --timeout seconds (default:\n"
		"boot_timeout from the config, else 120, and a minute) for the tag to run:\n"
		"exec, run and windows then work at once. Outside a session it boots the VM\n"
		"alone through libvirt and waits that long for its agent to answer on the\n"
		"channel; exec and run then need a session, which starts the proxy. The\n"
		"tag's disks are created on first use. --no-wait returns at once. A guest\n"
		"whose agent does not answer is left running for inspection; the error\n"
		"shows its last console lines.",
		bh_cli_start},
	{"stop", "[--force] [--timeout SECS] TAG", "shut a tag's VM down",
		"Asks the guest to power off (ACPI) and powers it off after --timeout\n"
		"seconds (default 30); --force powers it off at once. Disks are kept.",
		bh_cli_stop},
	{"status", "[--json] TAG", "show a tag's state, base, disks and channel", NULL,
		bh_cli_status},
	{"clean", "[--yes] TAG | --disposables",
		"delete a tag's disks and console log (asks first)",
		"Only that tag's own files are removed; a running tag is refused.\n"
		"--disposables removes every disposable tag whose owner is gone (a crash).",
		bh_cli_clean},
	{"rebase", "[TAG]", "move stopped persistent tags onto their newest base",
		"qemu-img rebase in safe mode: what the guest sees stays byte-identical.",
		bh_cli_rebase},
	{"console", "TAG", "print the serial console log of a tag's VM", NULL, bh_cli_console},
	{"base",
		"list [--json] | add DIR | add --kernel K [--initrd I] [--root R] "
		"[--cmdline C] [--host HOST] | push HOST|--tag TAG|--uri URI [BASE] | "
		"gc [HOST|--tag TAG|--uri URI] | build [--packages LIST] [--suite SUITE] [--mirror URL] "
		"[--size GIB] [--output DIR] [--no-rebase]",
		"manage base images",
		"add registers a base from DIR (vmlinuz, initrd.img, root.qcow2) or named\n"
		"files and makes it the latest; stopped persistent tags are rebased onto it.\n"
		"push sends a base (the latest unless named) once into the storage pool of a\n"
		"[host NAME] of the config, a tag's host or a libvirt URI, and checks it there\n"
		"by its SHA-256; add --host HOST does that after registering.\n"
		"gc removes bases that no tag uses and that are not the latest; with a host,\n"
		"a tag or a URI, those of that storage pool.\n"
		"build makes a Debian base (bookworm, 8 GiB root) with the agent, a user named\n"
		"after you and the extra packages, and registers it like add; --output DIR\n"
		"only writes its files to DIR.",
		bh_cli_base},
	{"windows", "[--json]", "list the compositor's windows", NULL, bh_cli_windows},
	{"spawn", "TAG", "open the tag's default app through the compositor", NULL, bh_cli_spawn},
	{"run", "TAG -- COMMAND [ARG...] | --disposable [--from TAG] -- COMMAND [ARG...]",
		"launch a command in a tag's VM (detached), or in a disposable tag",
		"Prints the guest pid of the command and returns at once; the command runs\n"
		"as the guest user with its output on the guest's console. A tag that is not\n"
		"running is started first, through the session's compositor, which launches\n"
		"the command once the tag is ready (no pid is printed then).\n"
		"--disposable makes a new tag disp-N from the base (--from TAG: from the\n"
		"stopped TAG's disks, through throwaway overlays), runs the command there with\n"
		"its I/O and status, and destroys the tag with all its files once the command\n"
		"ended and its last window closed. Needs the session (BULKHEAD_SOCKET).",
		bh_cli_run},
	{"open", "--disposable [--from TAG] FILE", "open a host file in a disposable tag",
		"Pushes FILE into a new disposable tag's /tmp and opens it there with\n"
		"xdg-open; nothing comes back to the host. The tag goes like run\n"
		"--disposable's.",
		bh_cli_open},
	{"exec", "TAG -- COMMAND [ARG...]", "run a command in a tag's VM, with its I/O and status",
		"stdin, stdout and stderr pass through (pipelines work); the exit status is\n"
		"the command's, 128 + N when it was killed by signal N, 255 when the session\n"
		"broke. SIGINT, SIGTERM and SIGHUP are passed on to the command; a second one\n"
		"gives up on it. A tag that is not running is started first, through the\n"
		"session's compositor (as `start`); outside a session that cannot be, and\n"
		"exec says so.",
		bh_cli_exec},
	{"shell", "TAG", "open a login shell in a tag's VM",
		"An interactive shell on a terminal in the guest: keys go to it as typed,\n"
		"the window size follows this terminal's, and its exit status is returned.",
		bh_cli_shell},
	{"push", "TAG HOST-PATH GUEST-PATH", "copy files into a tag's VM", NULL, bh_cli_push},
	{"pull", "TAG GUEST-PATH HOST-PATH", "copy files out of a tag's VM", NULL, bh_cli_pull},
	{"boot-trace", "[--json] TAG", "show where a tag's last boot went, step by step",
		"From the spawn to the first window: the compositor's and the proxy's\n"
		"steps on the host and the guest's own (kernel, init to agent), with the\n"
		"largest marked. Needs the session (BULKHEAD_SOCKET).",
		bh_cli_boot_trace},
	{"doctor", "[--json]", "check what a first window needs, and say how to fix it",
		"Checks /dev/kvm and group kvm, XDG_RUNTIME_DIR, qemu and qemu-img, the\n"
		"libvirt session, a registered base, free disk space, vsock, /dev/shm and the\n"
		"compositor's socket; one line each, with the fix. Exit status: 0 ready,\n"
		"1 when a check that blocks a first window failed, 3 with warnings only\n"
		"(for example TCG instead of KVM).",
		bh_cli_doctor},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: bulkheadctl [-c CONFIG] COMMAND [ARGS...]\n"
		     "       bulkheadctl COMMAND --help | --help | --version\n\nCommands:\n");
	for (size_t i = 0; i < BH_ARRAY_LEN(commands); i++) {
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	}
}

static const struct bh_cli_command *current;

bool bh_cli_wants_help(int argc, char *argv[])
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			if (current != NULL) {
				printf("Usage: bulkheadctl %s %s\n%s.\n", current->name,
					current->args, current->summary);
				if (current->help != NULL) {
					printf("\n%s\n", current->help);
				}
			}
			return true;
		}
	}
	return false;
}

static void say(const char *tag, const char *fmt, va_list args)
{
	fputs("bulkheadctl: ", stderr);
	if (tag != NULL) {
		fprintf(stderr, "tag %s: ", tag);
	}
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
}

void bh_cli_error(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	say(NULL, fmt, args);
	va_end(args);
}

void bh_cli_tag_error(const char *tag, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	say(tag, fmt, args);
	va_end(args);
}

void bh_cli_note(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	say(NULL, fmt, args);
	va_end(args);
}

int bh_cli_usage(const char *args)
{
	if (current != NULL) {
		fprintf(stderr, "Usage: bulkheadctl %s %s\n", current->name,
			args != NULL ? args : current->args);
	} else {
		usage(stderr);
	}
	return 2;
}

int main(int argc, char *argv[])
{
	/* Warnings and errors only: the commands print their own results. */
	bh_log_init("bulkheadctl", BH_LOG_WARN);
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return EXIT_SUCCESS;
		} else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			bh_print_version("bulkheadctl");
			return EXIT_SUCCESS;
		} else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
			   i + 1 < argc) {
			bh_cli_set_config_path(argv[++i]);
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	/* `help CMD` is `CMD --help`. */
	static char help_flag[] = "--help";
	char *help_argv[] = {argc > i + 1 ? argv[i + 1] : NULL, help_flag, NULL};
	if (strcmp(argv[i], "help") == 0 && i + 1 < argc) {
		argv = help_argv;
		argc = 2;
		i = 0;
	}
	for (size_t k = 0; k < BH_ARRAY_LEN(commands); k++) {
		if (strcmp(argv[i], commands[k].name) == 0) {
			current = &commands[k];
			if (bh_cli_wants_help(argc - i, argv + i)) {
				return EXIT_SUCCESS;
			}
			return commands[k].run(argc - i, argv + i);
		}
	}
	bh_cli_error("unknown command \"%s\" (see `bulkheadctl --help`)", argv[i]);
	return 2;
}
