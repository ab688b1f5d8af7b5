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

/* Host folders and private links: the parsers refuse what cannot be
 * mounted or named safely, the XML is libvirt's, and the guest's words
 * carry exactly what the agent needs. */
static void check_shares_and_links(void)
{
	struct bh_vm_settings set = {0};
	char err[512];
	CHECK(bh_vm_settings_set(&set, "share", "/srv/a b:/mnt/a", NULL, err, sizeof(err)));
	CHECK(bh_vm_settings_set(
		&set, "share", "~/src:/home/guest/src:rw", NULL, err, sizeof(err)));
	CHECK(bh_vm_settings_set(&set, "share", "/x:y:/mnt/c:ro", NULL, err, sizeof(err)));
	CHECK(set.share_count == 3 && !set.shares[0].rw && set.shares[1].rw && !set.shares[2].rw);
	CHECK(strcmp(set.shares[0].host, "/srv/a b") == 0);
	CHECK(strcmp(set.shares[2].host, "/x:y") == 0 &&
		strcmp(set.shares[2].guest, "/mnt/c") == 0);
	const char *bad[] = {"/srv", "/srv:", ":/mnt", "rel:/mnt", "/srv:mnt", "/srv:/",
		"/srv:/mnt/../etc", "/srv:/mnt/./x", "/srv:/mnt//x", "/srv:/mnt x", "/srv:/mnt,x",
		"/srv:/mnt/a", NULL};
	for (int i = 0; bad[i] != NULL; i++) {
		CHECK(!bh_vm_settings_set(&set, "share", bad[i], NULL, err, sizeof(err)));
	}
	CHECK(set.share_count == 3);
	CHECK(bh_vm_settings_set(&set, "link", "lan", NULL, err, sizeof(err)));
	CHECK(bh_vm_settings_set(&set, "link", "lan", NULL, err, sizeof(err)));
	CHECK(!bh_vm_settings_set(&set, "link", "LAN", NULL, err, sizeof(err)));
	CHECK(!bh_vm_settings_set(&set, "link", "a/b", NULL, err, sizeof(err)));
	CHECK(!bh_vm_settings_set(&set, "link", "", NULL, err, sizeof(err)));
	CHECK(set.link_count == 1);

	/* The members of one link share its /16, not a port, a MAC or an
	 * address; the plan does not depend on the order of the members;
	 * another link or user gets other ports. */
	const char *three[] = {"alpha", "beta", "gamma"};
	const char *shuffled[] = {"gamma", "alpha", "beta"};
	struct bh_link_member plan[3], again[3], other[2], user2[2];
	bh_link_plan(1000, "lan", three, 3, plan);
	bh_link_plan(1000, "lan", shuffled, 3, again);
	bh_link_plan(1000, "dmz", three, 2, other);
	bh_link_plan(1001, "lan", three, 2, user2);
	struct bh_link_member a = plan[0];
	for (int i = 0; i < 3; i++) {
		const struct bh_link_member *m = &plan[i], *o = &plan[(i + 1) % 3];
		CHECK(m->hub_port == m->guest_port + 1 && m->guest_port % 2 == 0);
		CHECK(m->guest_port >= 20000 && m->hub_port < 60000);
		CHECK(m->guest_port != o->guest_port && strcmp(m->mac, o->mac) != 0 &&
			strcmp(m->address, o->address) != 0);
		CHECK(strncmp(m->address, o->address, strchr(m->address + 3, '.') - m->address) ==
			0);
		CHECK(strncmp(m->mac, "0e:", 3) == 0 && strlen(m->mac) == 17 && m->prefix == 16);
		const struct bh_link_member *same = &again[(i + 1) % 3];
		CHECK(same->guest_port == m->guest_port && strcmp(same->mac, m->mac) == 0 &&
			strcmp(same->address, m->address) == 0);
	}
	CHECK(a.guest_port != other[0].guest_port && a.guest_port != user2[0].guest_port);
	/* Members that hash to one port pair, MAC or address still get their
	 * own: sixteen members of many links. */
	bool split = true;
	for (int l = 0; l < 300; l++) {
		char link[16], names[BH_LINK_MEMBERS_MAX][8];
		const char *tags[BH_LINK_MEMBERS_MAX];
		snprintf(link, sizeof(link), "l%d", l);
		for (int i = 0; i < BH_LINK_MEMBERS_MAX; i++) {
			snprintf(names[i], sizeof(names[i]), "t%d", i);
			tags[i] = names[i];
		}
		struct bh_link_member m[BH_LINK_MEMBERS_MAX];
		bh_link_plan(1000, link, tags, BH_LINK_MEMBERS_MAX, m);
		for (int i = 0; i < BH_LINK_MEMBERS_MAX; i++) {
			for (int j = 0; j < i; j++) {
				split = split && m[i].guest_port != m[j].guest_port &&
					m[i].guest_port != m[j].hub_port &&
					strcmp(m[i].mac, m[j].mac) != 0 &&
					strcmp(m[i].address, m[j].address) != 0;
			}
		}
	}
	CHECK(split);
	char arg[128];
	CHECK(bh_link_member_arg(&a, "alpha", arg, sizeof(arg)));
	char want_arg[128];
	snprintf(want_arg, sizeof(want_arg), "%s,%u,%u,alpha", a.mac, a.guest_port, a.hub_port);
	CHECK(strcmp(arg, want_arg) == 0);

	struct bh_domain_spec spec = base_spec();
	struct bh_domain_share shares[] = {
		{.source = "/srv/a'b",
			.mount_tag = "bh0",
			.guest_path = "/mnt/a",
			.readonly = true},
		{.source = "/home/u/src",
			.mount_tag = "bh1",
			.guest_path = "/src",
			.readonly = false},
	};
	struct bh_domain_link links[] = {{.guest_port = a.guest_port,
		.hub_port = a.hub_port,
		.mac = a.mac,
		.address = a.address,
		.prefix = a.prefix}};
	spec.shares = shares;
	spec.share_count = 2;
	spec.links = links;
	spec.link_count = 1;
	char *xml = bh_domain_xml(&spec);
	CHECK(count(xml, "<filesystem type='mount' accessmode='mapped'>") == 2);
	CHECK(count(xml, "<readonly/>") == 1);
	CHECK(strstr(xml, "<source dir='/srv/a&apos;b'/>") != NULL);
	CHECK(strstr(xml, "<target dir='bh1'/>") != NULL);
	CHECK(count(xml, "<interface type='udp'>") == 1);
	char local[64], hub[64];
	snprintf(local, sizeof(local), "<local address='127.0.0.1' port='%u'/>", a.guest_port);
	snprintf(hub, sizeof(hub), "<source address='127.0.0.1' port='%u'>", a.hub_port);
	CHECK(strstr(xml, local) != NULL && strstr(xml, hub) != NULL);
	CHECK(strstr(xml, "<interface type='user'>") == NULL);
	validate(xml, "the domain with shares and a link");
	free(xml);
	char *args = bh_domain_guest_args(&spec);
	char want[256];
	snprintf(want, sizeof(want),
		" bulkhead.share=bh0,ro,/mnt/a bulkhead.share=bh1,rw,/src bulkhead.link=%s,%s/16",
		a.mac, a.address);
	CHECK(args != NULL && strcmp(args, want) == 0);
	free(args);
}

int main(void)
{
	check_shares_and_links();
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
	CHECK(strstr(xml, "<memoryBacking>") == NULL);
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

	/* A VM elsewhere: libvirt picks the channel's socket on its machine. */
	spec = base_spec();
	spec.channel_path = NULL;
	xml = bh_domain_xml(&spec);
	CHECK(strstr(xml, "<source mode='bind'/>") != NULL);
	CHECK(strstr(xml, "channel.sock") == NULL);
	CHECK(strstr(xml, "name='org.bulkhead.channel.0'") != NULL);
	validate(xml, "the domain of a VM elsewhere");
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

	/* Memory the proxy can read (a local VM with a shared region). */
	spec = base_spec();
	spec.shared_memory = true;
	xml = bh_domain_xml(&spec);
	CHECK(strstr(xml,
		      "<memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n"
		      "  </memoryBacking>") != NULL);
	validate(xml, "the domain with shared memory");
	free(xml);

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
