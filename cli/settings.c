/* Tag settings for the vm library. The values come from the shared config
 * reader (common/config.h) through bh_vm_settings_set (vm/config.h); until
 * that reader is part of the build every tag runs on the defaults. */
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"

static const char *config_path;

void bh_cli_set_config_path(const char *path)
{
	config_path = path;
}

void bh_cli_tag_settings(const char *tag, struct bh_vm_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->boot_timeout = bh_cli_boot_timeout(tag);
}

const char *bh_cli_uri(void)
{
	/* NULL: LIBVIRT_DEFAULT_URI, else qemu:///session. */
	return NULL;
}

unsigned bh_cli_boot_timeout(const char *tag)
{
	return 0;
}

struct bh_vm *bh_cli_connect(void)
{
	char error[BH_VM_ERROR_SIZE];
	struct bh_vm *vm = bh_vm_connect(bh_cli_uri(), error);
	if (vm == NULL) {
		bh_cli_error("%s", error);
	}
	return vm;
}
