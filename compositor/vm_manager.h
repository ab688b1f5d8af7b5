/* Each tag's VM as the compositor drives it: its proxy, spoken to over
 * bulkhead_vm_manager_v1, and the tagged connections the proxy asks for. */
#ifndef BH_COMPOSITOR_VM_MANAGER_H
#define BH_COMPOSITOR_VM_MANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "compositor/server.h"

struct bh_tag;

/* The bulkhead_vm_manager_v1 global, and where the proxy binary is. */
bool bh_vm_manager_init(struct bh_server *server);
/* Ends every proxy (SIGTERM); the VMs stop on their own. */
void bh_vm_manager_finish(struct bh_server *server);
/* Starts the tag of that name if it does not run, and runs command in it
 * once it is ready (NULL: the tag's default app; "": nothing). false, with
 * a message for the user, when that cannot be. */
bool bh_vm_manager_launch(
	struct bh_server *server, const char *name, const char *command, char *error, size_t size);
/* Closes the tag's windows and asks its proxy to stop the VM. */
bool bh_vm_manager_stop(struct bh_server *server, struct bh_tag *tag, char *error, size_t size);
/* A window of tag was created or is gone: a tag without windows stops
 * after idle_shutdown seconds. */
void bh_vm_manager_window_opened(struct bh_tag *tag);
void bh_vm_manager_window_closed(struct bh_tag *tag);
/* A child exited: when it was a tag's proxy, that is noted (and logged
 * when it failed). */
void bh_vm_manager_child_exited(struct bh_server *server, pid_t pid, int status);

#endif
