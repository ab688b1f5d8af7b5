/* Tag settings for the vm library, from the shared config reader: the
 * config is read once per run and kept until exit (settings point into it). */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "vm/config.h"

static const char *config_path;
static struct bh_config *config;

void bh_cli_set_config_path(const char *path)
{
	config_path = path;
}

static const struct bh_config *get_config(void)
{
	if (config == NULL) {
		config = bh_config_load(config_path);
	}
	return config;
}

void bh_cli_tag_settings(const char *tag, struct bh_vm_settings *s)
{
	const struct bh_config *c = get_config();
	if (c == NULL) {
		memset(s, 0, sizeof(*s));
		return;
	}
	bh_vm_settings_from_config(c, tag, s);
}

const char *bh_cli_uri(void)
{
	/* NULL: LIBVIRT_DEFAULT_URI, else qemu:///session. */
	const struct bh_config *c = get_config();
	return c != NULL ? c->uri : NULL;
}

unsigned bh_cli_boot_timeout(const char *tag)
{
	struct bh_vm_settings s;
	bh_cli_tag_settings(tag, &s);
	return s.boot_timeout;
}

unsigned bh_cli_session_timeout(const char *tag)
{
	unsigned boot = bh_cli_boot_timeout(tag);
	return (boot > 0 ? boot : 120) + 60;
}

const char *bh_cli_tag_uri(const char *tag)
{
	return bh_config_tag_uri(get_config(), tag);
}

bool bh_cli_tag_compressed(const char *tag)
{
	return bh_config_tag_compressed(get_config(), tag);
}

const struct bh_config *bh_cli_config(void)
{
	return get_config();
}

struct bh_vm *bh_cli_connect_tag(const char *tag)
{
	struct bh_vm_settings s;
	char error[BH_VM_ERROR_SIZE];
	bh_cli_tag_settings(tag, &s);
	struct bh_vm *vm = bh_vm_connect_tag(tag, &s, bh_cli_uri(), error);
	if (vm == NULL) {
		bh_cli_error("%s", error);
	}
	return vm;
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
