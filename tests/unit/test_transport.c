/* Channel addresses: parsing (good and hostile), a unix listener and a
 * connection to it, a serial device (a pty stands in for the port), the
 * guest's search for its named virtio port, and vsock's clear error where
 * the machine has no vsock transport. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/transport.h"
#include "tests/test.h"

static void test_parse(void)
{
	struct bh_address a;
	char err[256];
	CHECK(bh_address_parse("unix:/run/x.sock", &a, err, sizeof(err)));
	CHECK_EQ_INT(a.kind, BH_ADDRESS_UNIX);
	CHECK(strcmp(a.path, "/run/x.sock") == 0);
	CHECK(bh_address_parse("serial:auto", &a, err, sizeof(err)));
	CHECK_EQ_INT(a.kind, BH_ADDRESS_SERIAL);
	CHECK(bh_address_parse("serial:/dev/vport1p1", &a, err, sizeof(err)));
	CHECK(bh_address_parse("vsock:3:7235", &a, err, sizeof(err)));
	CHECK_EQ_INT(a.kind, BH_ADDRESS_VSOCK);
	CHECK_EQ_INT(a.cid, 3);
	CHECK_EQ_INT(a.port, 7235);
	CHECK(bh_address_parse("vsock:4294967295:1", &a, err, sizeof(err)));
	/* A VM elsewhere: its channel's name, opened only through libvirt. */
	CHECK(bh_address_parse("libvirt:org.bulkhead.channel.0", &a, err, sizeof(err)));
	CHECK_EQ_INT(a.kind, BH_ADDRESS_LIBVIRT);
	CHECK(strcmp(a.path, "org.bulkhead.channel.0") == 0);
	CHECK_EQ_INT(bh_transport_connect(&a, err, sizeof(err)), -1);
	CHECK(strstr(err, "through the VM's libvirt connection") != NULL);

	static const char *bad[] = {"", "unix:", "serial:", "serial:relative", "tcp:host:1",
		"vsock:", "vsock:3", "vsock:3:", "vsock:x:1", "vsock:3:1x", "vsock:-1:5",
		"vsock:4294967296:1", "unix", "UNIX:/x", "libvirt:", "libvirt:a/b", "libvirt:a b",
		"libvirt:x'y", NULL};
	for (int i = 0; bad[i] != NULL; i++) {
		err[0] = '\0';
		bool ok = bh_address_parse(bad[i], &a, err, sizeof(err));
		CHECK(!ok && err[0] != '\0');
		if (ok) {
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
		}
	}
	/* A path longer than a socket address can hold is refused, not cut. */
	char longer[300] = "unix:/";
	memset(longer + 6, 'a', 200);
	longer[206] = '\0';
	CHECK(!bh_address_parse(longer, &a, err, sizeof(err)));
	CHECK(strstr(err, "longer") != NULL);
}

static void test_unix(const char *dir)
{
	char text[256], err[256];
	snprintf(text, sizeof(text), "unix:%s/chan.sock", dir);
	struct bh_address a;
	CHECK(bh_address_parse(text, &a, err, sizeof(err)));
	/* Nobody listening: a sentence naming the socket. */
	CHECK_EQ_INT(bh_transport_connect(&a, err, sizeof(err)), -1);
	CHECK(strstr(err, "chan.sock") != NULL);
	int l = bh_transport_listen(&a, err, sizeof(err));
	CHECK(l >= 0);
	/* A stale socket file is replaced. */
	close(l);
	l = bh_transport_listen(&a, err, sizeof(err));
	CHECK(l >= 0);
	int c = bh_transport_connect(&a, err, sizeof(err));
	CHECK(c >= 0);
	CHECK(fcntl(c, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(c, F_GETFD) & FD_CLOEXEC);
	int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	CHECK(s >= 0);
	CHECK_EQ_INT(write(c, "ping", 4), 4);
	char buf[8] = "";
	CHECK_EQ_INT(read(s, buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	close(s);
	close(c);
	close(l);
}

static void test_serial(const char *dir)
{
	char err[256], text[300];
	struct bh_address a;
	/* A pty stands in for a port device. */
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
	snprintf(text, sizeof(text), "serial:%s", ptsname(master));
	CHECK(bh_address_parse(text, &a, err, sizeof(err)));
	int fd = bh_transport_connect(&a, err, sizeof(err));
	CHECK(fd >= 0);
	if (fd >= 0) {
		close(fd);
	}
	close(master);
	/* serial:auto finds the port by its name in a sysfs-like tree. */
	char ports[256], path[400];
	snprintf(ports, sizeof(ports), "%s/virtio-ports", dir);
	mkdir(ports, 0700);
	const char *names[][2] = {{"vport0p1", "org.qemu.guest_agent.0\n"},
		{"vport0p2", BH_CHANNEL_PORT_NAME "\n"}};
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", ports, names[i][0]);
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/%s/name", ports, names[i][0]);
		FILE *f = fopen(path, "w");
		fputs(names[i][1], f);
		fclose(f);
	}
	char dev[64];
	CHECK(bh_transport_find_port(ports, BH_CHANNEL_PORT_NAME, dev, sizeof(dev)));
	CHECK(strcmp(dev, "/dev/vport0p2") == 0);
	CHECK(!bh_transport_find_port(ports, "org.other.0", dev, sizeof(dev)));
	/* No such port: the error says which name was looked for. */
	setenv("BULKHEAD_VIRTIO_PORTS", dir, 1);
	CHECK(bh_address_parse("serial:auto", &a, err, sizeof(err)));
	CHECK_EQ_INT(bh_transport_connect(&a, err, sizeof(err)), -1);
	CHECK(strstr(err, BH_CHANNEL_PORT_NAME) != NULL);
	/* A serial address cannot listen. */
	CHECK_EQ_INT(bh_transport_listen(&a, err, sizeof(err)), -1);
	CHECK(strstr(err, "serial") != NULL);
}

static void test_vsock(void)
{
	char err[256];
	struct bh_address a;
	CHECK(bh_address_parse("vsock:2:7235", &a, err, sizeof(err)));
	int fd = bh_transport_connect(&a, err, sizeof(err));
	if (fd >= 0) {
		/* A host with a vsock listener on the port (unlikely in tests). */
		close(fd);
		return;
	}
	/* Either no vsock here at all or nothing on that port: one sentence
	 * that names vsock, never a bare errno. */
	CHECK(strstr(err, "vsock") != NULL);
	fprintf(stderr, "vsock here: %s\n", err);
}

int main(void)
{
	bh_log_init("test_transport", BH_LOG_ERROR);
	char dir[] = "/tmp/bh-transport-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	test_parse();
	test_unix(dir);
	test_serial(dir);
	test_vsock();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
	return bh_test_finish("test_transport");
}
