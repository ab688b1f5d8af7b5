/* Domain XML generation for tag VMs (see domain.h). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "vm/domain.h"

void bh_xml_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* Prints format, where every %s argument is XML-escaped; only %s and %u
 * are understood, which is all the template below needs. */
static void emit(FILE *f, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	for (const char *p = format; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			bh_xml_escape(f, va_arg(args, const char *));
			p++;
		} else if (p[0] == '%' && p[1] == 'u') {
			fprintf(f, "%u", va_arg(args, unsigned));
			p++;
		} else {
			fputc(*p, f);
		}
	}
	va_end(args);
}

char *bh_domain_cmdline(const char *base_cmdline, enum bh_transport transport)
{
	char *out = NULL;
	/* panic=-1 reboots on a panic, and on_reboot=destroy then ends the
	 * domain: a crashed guest shows as stopped, not as a hung VM. */
	if (asprintf(&out, "console=ttyS0 quiet loglevel=3 panic=-1%s%s%s",
		    transport == BH_TRANSPORT_VSOCK ? " bulkhead.transport=vsock" : "",
		    base_cmdline != NULL && base_cmdline[0] ? " " : "",
		    base_cmdline != NULL ? base_cmdline : "") < 0) {
		return NULL;
	}
	return out;
}

static void emit_disk(FILE *f, const char *path, const char *dev, const char *serial)
{
	emit(f,
		"    <disk type='file' device='disk'>\n"
		"      <driver name='qemu' type='qcow2' discard='unmap'/>\n"
		"      <source file='%s'/>\n"
		"      <target dev='%s' bus='virtio'/>\n"
		"      <serial>%s</serial>\n"
		"    </disk>\n",
		path, dev, serial);
}

/* ivshmem-plain: a PCI BAR the agent maps, backed by /dev/shm/NAME, which
 * the host made (mode 0600) before the domain starts. */
static void emit_shmem(FILE *f, const char *name, unsigned mib)
{
	emit(f,
		"    <shmem name='%s'>\n"
		"      <model type='ivshmem-plain'/>\n"
		"      <size unit='M'>%u</size>\n"
		"    </shmem>\n",
		name, mib);
}

/* Host folders: 9p in mapped mode, so that the guest's owners, modes and
 * symlinks are kept in xattrs and never become host symlinks or setuid
 * files, and qemu opens every path component without following host
 * symlinks. A read-only share is read-only in qemu, whatever the guest
 * mounts. */
static void emit_shares(FILE *f, const struct bh_domain_spec *spec)
{
	for (unsigned i = 0; i < spec->share_count; i++) {
		const struct bh_domain_share *s = &spec->shares[i];
		emit(f,
			"    <filesystem type='mount' accessmode='mapped'>\n"
			"      <source dir='%s'/>\n"
			"      <target dir='%s'/>\n",
			s->source, s->mount_tag);
		if (s->readonly) {
			emit(f, "      <readonly/>\n");
		}
		emit(f, "    </filesystem>\n");
	}
}

/* Private links: each frame a datagram between the tag's port and its
 * port on the link's hub, on the host's loopback, so the segment never
 * leaves the machine and the host has no address on it. */
static void emit_links(FILE *f, const struct bh_domain_spec *spec)
{
	for (unsigned i = 0; i < spec->link_count; i++) {
		const struct bh_domain_link *l = &spec->links[i];
		emit(f,
			"    <interface type='udp'>\n"
			"      <mac address='%s'/>\n"
			"      <source address='127.0.0.1' port='%u'>\n"
			"        <local address='127.0.0.1' port='%u'/>\n"
			"      </source>\n"
			"      <model type='virtio'/>\n"
			"    </interface>\n",
			l->mac, l->hub_port, l->guest_port);
	}
}

char *bh_domain_guest_args(const struct bh_domain_spec *spec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL) {
		return NULL;
	}
	for (unsigned i = 0; i < spec->share_count; i++) {
		const struct bh_domain_share *s = &spec->shares[i];
		fprintf(f, " bulkhead.share=%s,%s,%s", s->mount_tag, s->readonly ? "ro" : "rw",
			s->guest_path);
	}
	for (unsigned i = 0; i < spec->link_count; i++) {
		const struct bh_domain_link *l = &spec->links[i];
		fprintf(f, " bulkhead.link=%s,%s/%u", l->mac, l->address, l->prefix);
	}
	if (spec->network == BH_NETWORK_USER) {
		fputs(" bulkhead.net=user", f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *bh_domain_xml(const struct bh_domain_spec *spec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL) {
		return NULL;
	}
	unsigned cpus = spec->cpus ? spec->cpus : 1;
	emit(f, "<domain type='%s'>\n", spec->kvm ? "kvm" : "qemu");
	emit(f, "  <name>%s</name>\n", spec->name);
	emit(f, "  <title>bulkhead tag %s</title>\n", spec->tag);
	if (spec->virtio_mem_mib > 0) {
		/* virtio-mem hot-plugs memory in blocks on top of the boot
		 * memory; libvirt needs the ceiling and a NUMA node for it. */
		emit(f, "  <maxMemory slots='1' unit='MiB'>%u</maxMemory>\n",
			spec->memory_mib + spec->virtio_mem_mib);
	}
	emit(f, "  <memory unit='MiB'>%u</memory>\n", spec->memory_mib);
	emit(f, "  <currentMemory unit='MiB'>%u</currentMemory>\n", spec->memory_mib);
	if (spec->shared_memory) {
		emit(f, "  <memoryBacking>\n"
			"    <source type='memfd'/>\n"
			"    <access mode='shared'/>\n"
			"  </memoryBacking>\n");
	}
	emit(f, "  <vcpu placement='static'>%u</vcpu>\n", cpus);
	emit(f,
		"  <os>\n"
		"    <type arch='x86_64'>hvm</type>\n"
		"    <kernel>%s</kernel>\n",
		spec->kernel);
	if (spec->initrd != NULL) {
		emit(f, "    <initrd>%s</initrd>\n", spec->initrd);
	}
	emit(f,
		"    <cmdline>%s</cmdline>\n"
		"  </os>\n",
		spec->cmdline);
	emit(f, "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n");
	if (spec->kvm || spec->virtio_mem_mib > 0) {
		emit(f, spec->kvm ? "  <cpu mode='host-passthrough'>\n" : "  <cpu>\n");
		if (spec->virtio_mem_mib > 0) {
			emit(f,
				"    <numa>\n"
				"      <cell id='0' cpus='0-%u' memory='%u' unit='MiB'/>\n"
				"    </numa>\n",
				cpus - 1, spec->memory_mib);
		}
		emit(f, "  </cpu>\n");
	}
	emit(f, "  <clock offset='utc'/>\n");
	/* Every way out of the guest ends the domain; the next start builds it
	 * again from the tag's settings. */
	emit(f, "  <on_poweroff>destroy</on_poweroff>\n"
		"  <on_reboot>destroy</on_reboot>\n"
		"  <on_crash>destroy</on_crash>\n");
	emit(f, "  <devices>\n");
	emit_disk(f, spec->root_disk, "vda", "bulkhead-root");
	emit_disk(f, spec->home_disk, "vdb", "bulkhead-home");
	emit(f, "    <controller type='usb' model='none'/>\n");
	emit(f,
		"    <serial type='file'>\n"
		"      <source path='%s' append='off'/>\n"
		"      <target port='0'/>\n"
		"    </serial>\n",
		spec->console_log);
	if (spec->transport == BH_TRANSPORT_VSOCK) {
		emit(f, "    <vsock model='virtio'>\n"
			"      <cid auto='yes'/>\n"
			"    </vsock>\n");
	} else if (spec->channel_path != NULL) {
		emit(f,
			"    <channel type='unix'>\n"
			"      <source mode='bind' path='%s'/>\n"
			"      <target type='virtio' name='org.bulkhead.channel.0'/>\n"
			"    </channel>\n",
			spec->channel_path);
	} else {
		/* A VM elsewhere: libvirt picks the socket on its machine and
		 * the channel is opened through it (virDomainOpenChannel). */
		emit(f, "    <channel type='unix'>\n"
			"      <source mode='bind'/>\n"
			"      <target type='virtio' name='org.bulkhead.channel.0'/>\n"
			"    </channel>\n");
	}
	if (spec->network == BH_NETWORK_USER) {
		emit(f, "    <interface type='user'>\n"
			"      <model type='virtio'/>\n"
			"    </interface>\n");
	}
	if (spec->shmem_name != NULL) {
		emit_shmem(f, spec->shmem_name, spec->shmem_mib);
	}
	emit_shares(f, spec);
	emit_links(f, spec);
	emit(f, "    <rng model='virtio'>\n"
		"      <backend model='random'>/dev/urandom</backend>\n"
		"    </rng>\n");
	/* Idle guests hand freed pages back to the host, and the balloon
	 * deflates by itself before the guest would run out of memory. */
	emit(f, "    <memballoon model='virtio' autodeflate='on' freePageReporting='on'/>\n");
	if (spec->virtio_mem_mib > 0) {
		emit(f,
			"    <memory model='virtio-mem'>\n"
			"      <target>\n"
			"        <size unit='MiB'>%u</size>\n"
			"        <node>0</node>\n"
			"        <block unit='MiB'>2</block>\n"
			"        <requested unit='MiB'>0</requested>\n"
			"      </target>\n"
			"    </memory>\n",
			spec->virtio_mem_mib);
	}
	emit(f, "  </devices>\n</domain>\n");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

bool bh_domain_use_kvm(enum bh_accel accel)
{
	const char *env = getenv("BULKHEAD_ACCEL");
	if (env != NULL && strcmp(env, "tcg") == 0) {
		return false;
	}
	if (env != NULL && strcmp(env, "kvm") == 0) {
		return true;
	}
	if (env != NULL && env[0] != '\0' && strcmp(env, "auto") != 0) {
		bh_log(BH_LOG_WARN, "BULKHEAD_ACCEL=%s is not kvm, tcg or auto; ignored", env);
	}
	if (accel != BH_ACCEL_AUTO) {
		return accel == BH_ACCEL_KVM;
	}
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		return false;
	}
	close(fd);
	return true;
}
