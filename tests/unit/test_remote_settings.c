/* Settings of tags on another machine: [host NAME] sections, host = and
 * uri = on a tag, what wins, what refuses to start; and the names of the
 * volumes a storage pool holds (vm/storage.h). */
#include <string.h>

#include "common/config.h"
#include "tests/test.h"
#include "vm/config.h"
#include "vm/storage.h"

static void test_host_section(void)
{
	struct bh_config *c = bh_config_load_string("[general]\n"
						    "uri = qemu:///session\n"
						    "[host big]\n"
						    "uri = qemu+ssh://ann@big/session\n"
						    "pool = tags\n"
						    "pool_path = /srv/bh\n"
						    "[tag render]\n"
						    "host = big\n"
						    "memory = 4096\n"
						    "[tag own]\n"
						    "host = big\n"
						    "uri = qemu+ssh://ann@other/session\n"
						    "disks = files\n"
						    "[tag here]\n"
						    "memory = 512\n"
						    "guest_memory = private\n",
		"test");
	CHECK(c != NULL && c->errors == 0 && c->host_count == 1);
	struct bh_vm_settings s;
	CHECK(bh_vm_settings_from_config(c, "render", &s));
	CHECK(s.invalid[0] == '\0');
	CHECK(s.uri != NULL && strcmp(s.uri, "qemu+ssh://ann@big/session") == 0);
	CHECK(s.pool != NULL && strcmp(s.pool, "tags") == 0);
	CHECK(s.pool_path != NULL && strcmp(s.pool_path, "/srv/bh") == 0);
	CHECK_EQ_INT(s.disks, BH_DISKS_AUTO);
	CHECK_EQ_INT(s.memory_mib, 4096);
	CHECK(strcmp(bh_config_tag_uri(c, "render"), "qemu+ssh://ann@big/session") == 0);
	/* The tag's own keys win over its host's. */
	CHECK(bh_vm_settings_from_config(c, "own", &s));
	CHECK(strcmp(s.uri, "qemu+ssh://ann@other/session") == 0);
	CHECK_EQ_INT(s.disks, BH_DISKS_FILES);
	CHECK(strcmp(s.pool, "tags") == 0);
	CHECK(strcmp(bh_config_tag_uri(c, "own"), "qemu+ssh://ann@other/session") == 0);
	/* A tag without either: the general URI (through the caller). */
	CHECK(bh_vm_settings_from_config(c, "here", &s));
	CHECK(s.uri == NULL && s.host == NULL && s.invalid[0] == '\0');
	CHECK(s.memory_private); /* guest_memory = private */
	CHECK(bh_vm_settings_from_config(c, "render", &s) && !s.memory_private);
	CHECK(strcmp(bh_config_tag_uri(c, "here"), "qemu:///session") == 0);
	/* A host's settings alone, for base push. */
	CHECK(bh_vm_host_settings(c, "big", &s));
	CHECK(strcmp(s.uri, "qemu+ssh://ann@big/session") == 0 && strcmp(s.pool, "tags") == 0);
	CHECK(!bh_vm_host_settings(c, "small", &s));
	CHECK(strstr(s.invalid, "host small") != NULL && strstr(s.invalid, "[host small]") != NULL);
	bh_config_free(c);
}

static void test_refusals(void)
{
	struct bh_config *c =
		bh_config_load_string("[tag lost]\n"
				      "host = nowhere\n"
				      "[tag secret]\n"
				      "uri = qemu+ssh://ann:hunter2@big/session\n"
				      "[tag query]\n"
				      "uri = qemu+ssh://ann@big/session?password=hunter2\n"
				      "[tag bare]\n"
				      "uri = not a uri\n"
				      "[host nouri]\n"
				      "pool = x\n"
				      "[tag nouri]\n"
				      "host = nouri\n"
				      "[host odd]\n"
				      "uri = qemu+ssh://h/session\n"
				      "colour = #ffffff\n"
				      "pool = ../up\n"
				      "pool_path = relative\n"
				      "[tag odd]\n"
				      "host = odd\n",
			"test");
	CHECK(c != NULL);
	/* colour is no host key: one error of the reader. */
	CHECK_EQ_INT(c->errors, 1);
	struct bh_vm_settings s;
	bh_vm_settings_from_config(c, "lost", &s);
	CHECK(strstr(s.invalid, "tag lost:") == s.invalid);
	CHECK(strstr(s.invalid, "[host nowhere]") != NULL);
	/* A password keeps the tag from starting, and is not repeated. */
	bh_vm_settings_from_config(c, "secret", &s);
	CHECK(strstr(s.invalid, "tag secret:") == s.invalid &&
		strstr(s.invalid, "password") != NULL);
	CHECK(strstr(s.invalid, "hunter2") == NULL);
	CHECK(s.uri == NULL);
	bh_vm_settings_from_config(c, "query", &s);
	CHECK(s.invalid[0] != '\0' && strstr(s.invalid, "hunter2") == NULL);
	bh_vm_settings_from_config(c, "bare", &s);
	CHECK(strstr(s.invalid, "tag bare:") == s.invalid);
	bh_vm_settings_from_config(c, "nouri", &s);
	CHECK(strstr(s.invalid, "has no usable uri") != NULL);
	/* Bad pool values keep their defaults; the tag still has its uri. */
	bh_vm_settings_from_config(c, "odd", &s);
	CHECK(s.invalid[0] == '\0' && s.pool == NULL && s.pool_path == NULL);
	CHECK(s.uri != NULL);
	bh_config_free(c);

	char error[256];
	CHECK(bh_vm_uri_check(
		"qemu+ssh://ann@big:2222/session?keyfile=/k&no_verify=1", error, sizeof(error)));
	CHECK(bh_vm_uri_check("qemu:///session", error, sizeof(error)));
	CHECK(!bh_vm_uri_check("qemu+tls://a:b@big/session", error, sizeof(error)));
}

static void test_volume_names(void)
{
	char name[BH_VOLUME_NAME_SIZE], tag[BH_TAG_MAX + 1], id[BH_BASE_ID_SIZE];
	CHECK(bh_storage_tag_volume("beta two", "root.qcow2", name, sizeof(name)));
	CHECK(strcmp(name, "tag-beta%20two-root.qcow2") == 0);
	CHECK(bh_storage_tag_of_volume(name, tag) && strcmp(tag, "beta two") == 0);
	CHECK(bh_storage_tag_of_volume("tag-x-home.qcow2", tag) && strcmp(tag, "x") == 0);
	/* Consoles and other files are not what makes a tag. */
	CHECK(!bh_storage_tag_of_volume("tag-x-console.log", tag));
	CHECK(!bh_storage_tag_of_volume("tag--root.qcow2", tag));
	CHECK(!bh_storage_tag_of_volume("tag-a/b-root.qcow2", tag));
	CHECK(!bh_storage_tag_of_volume("base-1-root.qcow2", tag));
	CHECK(bh_storage_base_volume("20260101-000000-abcd", "root.qcow2", name, sizeof(name)));
	CHECK(bh_storage_base_of_root("/pool/base-20260101-000000-abcd-root.qcow2", id));
	CHECK(strcmp(id, "20260101-000000-abcd") == 0);
	CHECK(!bh_storage_base_of_root("/pool/tag-x-root.qcow2", id));
	CHECK(!bh_storage_base_of_root("/pool/base--root.qcow2", id));
	CHECK(!bh_storage_base_of_root(NULL, id));
	CHECK(!bh_storage_tag_volume("", "root.qcow2", name, sizeof(name)));
}

int main(void)
{
	test_host_section();
	test_refusals();
	test_volume_names();
	return bh_test_finish("test_remote_settings");
}
