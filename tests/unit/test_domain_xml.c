/* Domain XML: the devices a tag VM must (and must not) have, hostile
 * strings escaped, and libvirt's own schema check (virt-xml-validate). */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "tests/test.h"
#include "vm/config.h"
#include "vm/domain.h"

static int count(const char *haystack, const char *needle)
{
	int n = 0;
	for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p++) {
		n++;
	}
	return n;
}

static bool have_tool(const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Runs libvirt's RelaxNG schema over xml. */
static void validate(const char *xml, const char *what)
{
	if (!have_tool("virt-xml-validate")) {
		/* A CI run must not pass without the schema check. */
		CHECK(getenv("CI") == NULL);
		fprintf(stderr,
			"SKIP schema check of %s: virt-xml-validate is missing "
			"(apt-get install libvirt-clients)\n",
			what);
		return;
	}
	char path[] = "/tmp/bh-domain-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0) {
		return;
	}
	CHECK(bh_write_all(fd, xml, strlen(xml)));
	close(fd);
	const char *argv[] = {"virt-xml-validate", path, "domain", NULL};
	pid_t pid = bh_spawn(argv, NULL, NULL, true);
	int status = -1;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		fprintf(stderr, "FAIL schema check of %s:\n%s\n", what, xml);
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(path);
}

static struct bh_domain_spec base_spec(void)
{
	return (struct bh_domain_spec){
		.name = "bulkhead-work",
		.tag = "work",
		.kvm = false,
		.memory_mib = 768,
		.cpus = 2,
		.kernel = "/bases/1/vmlinuz",
		.initrd = "/bases/1/initrd.img",
		.cmdline = "console=ttyS0 quiet",
		.root_disk = "/state/tags/work/root.qcow2",
		.home_disk = "/state/tags/work/home.qcow2",
		.console_log = "/state/tags/work/console.log",
		.channel_path = "/run/bulkhead/tags/work/channel.sock",
	};
}

int main(void)
{
	/* The default: serial channel, no network, balloon with free page
	 * reporting, TCG. */
	struct bh_domain_spec spec = base_spec();
	char *xml = bh_domain_xml(&spec);
	CHECK(xml != NULL);
	CHECK(strstr(xml, "<domain type='qemu'>") != NULL);
	CHECK(strstr(xml, "<name>bulkhead-work</name>") != NULL);
	CHECK(strstr(xml, "<memory unit='MiB'>768</memory>") != NULL);
	CHECK(strstr(xml, "<vcpu placement='static'>2</vcpu>") != NULL);
	CHECK(strstr(xml, "<kernel>/bases/1/vmlinuz</kernel>") != NULL);
	CHECK(strstr(xml, "<initrd>/bases/1/initrd.img</initrd>") != NULL);
	CHECK(strstr(xml, "<cmdline>console=ttyS0 quiet</cmdline>") != NULL);
	CHECK(strstr(xml, "freePageReporting='on'") != NULL);
	CHECK(strstr(xml, "autodeflate='on'") != NULL);
	CHECK(strstr(xml, "<memballoon model='virtio'") != NULL);
	CHECK(strstr(xml, "<channel type='unix'>") != NULL);
	CHECK(strstr(xml, "<source mode='bind' path='/run/bulkhead/tags/work/channel.sock'/>") !=
		NULL);
	CHECK(strstr(xml, "<target type='virtio' name='org.bulkhead.channel.0'/>") != NULL);
	CHECK(strstr(xml, "<source path='/state/tags/work/console.log'") != NULL);
	CHECK(count(xml, "bus='virtio'") == 2);
	CHECK(strstr(xml, "<source file='/state/tags/work/root.qcow2'/>") != NULL);
	CHECK(strstr(xml, "<target dev='vda' bus='virtio'/>") != NULL);
	CHECK(strstr(xml, "<source file='/state/tags/work/home.qcow2'/>") != NULL);
	CHECK(strstr(xml, "<target dev='vdb' bus='virtio'/>") != NULL);
	CHECK(strstr(xml, "<interface") == NULL);
	CHECK(strstr(xml, "<vsock") == NULL);
	CHECK(strstr(xml, "virtio-mem") == NULL);
	CHECK(strstr(xml, "<graphics") == NULL);
	CHECK(strstr(xml, "<filesystem") == NULL);
	validate(xml, "the default domain");
	free(xml);

	/* KVM, user networking. */
	spec.kvm = true;
	spec.network = BH_NETWORK_USER;
	xml = bh_domain_xml(&spec);
	CHECK(strstr(xml, "<domain type='kvm'>") != NULL);
	CHECK(count(xml, "<interface type='user'>") == 1);
	validate(xml, "the kvm domain with user networking");
	free(xml);

	/* vsock instead of the serial channel. */
	spec = base_spec();
	spec.transport = BH_TRANSPORT_VSOCK;
	xml = bh_domain_xml(&spec);
	CHECK(strstr(xml, "<vsock model='virtio'>") != NULL);
	CHECK(strstr(xml, "<cid auto='yes'/>") != NULL);
	CHECK(strstr(xml, "<channel") == NULL);
	validate(xml, "the vsock domain");
	free(xml);
	char *cmdline = bh_domain_cmdline("root=/dev/vda rw", BH_TRANSPORT_VSOCK);
	CHECK(strstr(cmdline, "console=ttyS0") != NULL);
	CHECK(strstr(cmdline, "quiet") != NULL);
	CHECK(strstr(cmdline, "bulkhead.transport=vsock") != NULL);
	CHECK(strstr(cmdline, "root=/dev/vda rw") != NULL);
	free(cmdline);
	cmdline = bh_domain_cmdline(NULL, BH_TRANSPORT_SERIAL);
	CHECK(strstr(cmdline, "bulkhead.transport") == NULL);
	free(cmdline);

	/* virtio-mem on request. */
	spec = base_spec();
	spec.virtio_mem_mib = 2048;
	xml = bh_domain_xml(&spec);
	CHECK(strstr(xml, "<memory model='virtio-mem'>") != NULL);
	CHECK(strstr(xml, "<size unit='MiB'>2048</size>") != NULL);
	CHECK(strstr(xml, "<maxMemory slots='1' unit='MiB'>2816</maxMemory>") != NULL);
	CHECK(strstr(xml, "<cell id='0' cpus='0-1' memory='768' unit='MiB'/>") != NULL);
	validate(xml, "the virtio-mem domain");
	free(xml);

	/* A hostile tag and paths cannot break out of their element. */
	spec = base_spec();
	spec.tag = "x</title><devices><interface type='user'/></devices>&\"'";
	spec.channel_path = "/run/a'/><channel type='pty'/><x y='";
	spec.kernel = "/k</kernel><cmdline>init=/bin/sh</cmdline>";
	xml = bh_domain_xml(&spec);
	CHECK(strstr(xml, "<interface") == NULL);
	CHECK(strstr(xml, "type='pty'") == NULL);
	CHECK(count(xml, "<cmdline>") == 1);
	CHECK(strstr(xml, "x&lt;/title&gt;&lt;devices&gt;") != NULL);
	CHECK(strstr(xml, "&amp;&quot;&apos;</title>") != NULL);
	CHECK(strstr(xml, "/run/a&apos;/&gt;") != NULL);
	validate(xml, "the domain of a hostile tag");
	free(xml);

	/* BULKHEAD_ACCEL overrides the tag's accel setting. */
	setenv("BULKHEAD_ACCEL", "tcg", 1);
	CHECK(!bh_domain_use_kvm(BH_ACCEL_KVM));
	setenv("BULKHEAD_ACCEL", "kvm", 1);
	CHECK(bh_domain_use_kvm(BH_ACCEL_TCG));
	unsetenv("BULKHEAD_ACCEL");
	CHECK(!bh_domain_use_kvm(BH_ACCEL_TCG));
	CHECK(bh_domain_use_kvm(BH_ACCEL_KVM));
	/* Config values of the VM keys. */
	struct bh_vm_settings set = {0};
	char err[256];
	bool known;
	CHECK(bh_vm_settings_set(&set, "memory", "2048", &known, err, sizeof(err)));
	CHECK_EQ_INT(set.memory_mib, 2048);
	CHECK(bh_vm_settings_set(&set, "cpus", "4", &known, err, sizeof(err)));
	CHECK_EQ_INT(set.cpus, 4);
	CHECK(bh_vm_settings_set(&set, "root", "fresh", &known, err, sizeof(err)));
	CHECK_EQ_INT(set.root, BH_ROOT_FRESH);
	CHECK(bh_vm_settings_set(&set, "accel", "tcg", &known, err, sizeof(err)));
	CHECK_EQ_INT(set.accel, BH_ACCEL_TCG);
	CHECK(bh_vm_settings_set(&set, "transport", "vsock", &known, err, sizeof(err)));
	CHECK_EQ_INT(set.transport, BH_TRANSPORT_VSOCK);
	CHECK(bh_vm_settings_set(&set, "network", "user", &known, err, sizeof(err)));
	CHECK_EQ_INT(set.network, BH_NETWORK_USER);
	CHECK(bh_vm_settings_set(&set, "base", "latest", &known, err, sizeof(err)));
	CHECK(!bh_vm_settings_set(&set, "base", "../etc", &known, err, sizeof(err)));
	CHECK(!bh_vm_settings_set(&set, "memory", "12x", &known, err, sizeof(err)));
	CHECK(strstr(err, "memory = 12x") != NULL);
	CHECK(!bh_vm_settings_set(&set, "memory", "-5", &known, err, sizeof(err)));
	CHECK(!bh_vm_settings_set(&set, "cpus", "0", &known, err, sizeof(err)));
	CHECK(!bh_vm_settings_set(&set, "root", "sometimes", &known, err, sizeof(err)));
	CHECK(known);
	CHECK(!bh_vm_settings_set(&set, "colour", "#ff0000", &known, err, sizeof(err)));
	CHECK(!known);
	CHECK_EQ_INT(set.memory_mib, 2048);
	return bh_test_finish("test_domain_xml");
}
