/* The proxy's sandbox (proxy/sandbox.c) and its keeper outside it
 * (proxy/keeper.c); protocols/SANDBOX.md says what each allows and why. */
#ifndef PROXY_SANDBOX_H
#define PROXY_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "vm/vm.h"

/* Exit status of a proxy stopped by a forbidden system call. */
#define BH_SANDBOX_EXIT_FORBIDDEN 70

/*
 * Drops everything the started proxy does not need: no new privileges and a
 * seccomp allowlist on every thread; a refused call prints one line naming
 * the tag and the call and ends the process. BULKHEAD_PROXY_SANDBOX=0 skips
 * it with a warning. Returns false (logged) when the sandbox is wanted but
 * cannot be applied: the proxy must not go on without it.
 */
bool bh_sandbox_enter(const char *tag);
/* bulkhead-proxy --sandbox-check: applies the same sandbox in children that
 * try what it must refuse and what it must allow, prints one line each, and
 * returns the exit status (0 when every answer was right). */
int bh_sandbox_check(void);

/*
 * The keeper: a process forked at start-up, before anything is connected,
 * that does for this tag only what the sandboxed proxy may not: reach the
 * channel by its address, ask libvirt about and stop the tag's VM, and
 * remove the control socket when the proxy ends, however it ends. What it
 * acts on is set before bh_keeper_seal; after it, the proxy can only ask.
 */
struct bh_keeper;

struct bh_keeper *bh_keeper_start(const char *tag);
/* Closing the keeper's socket is what makes it clean up and exit. */
void bh_keeper_destroy(struct bh_keeper *keeper);
/* Set-up, before bh_keeper_seal. */
bool bh_keeper_set_channel(struct bh_keeper *keeper, const char *address);
/* The tag's VM was started (or attached to) through libvirt at uri. */
bool bh_keeper_set_vm(struct bh_keeper *keeper, const char *uri);
/* The control socket file at path is this proxy's: removed when it ends. */
bool bh_keeper_set_control_socket(struct bh_keeper *keeper, const char *path);
bool bh_keeper_seal(struct bh_keeper *keeper);
/* Requests. A connected, non-blocking, close-on-exec channel fd, or -1
 * with the reason in err. */
int bh_keeper_connect(struct bh_keeper *keeper, char *err, size_t err_size);
/* False when the keeper could not tell (then *state is left alone), with
 * the reason in error (libvirt does not answer: the keeper connects afresh
 * at the next call). */
bool bh_keeper_vm_state(struct bh_keeper *keeper, enum bh_vm_state *state,
	char error[BH_VM_ERROR_SIZE]);
bool bh_keeper_vm_stop(struct bh_keeper *keeper, char error[BH_VM_ERROR_SIZE]);

#endif
