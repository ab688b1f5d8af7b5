/* Channel addresses and their sockets; see common/transport.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "common/transport.h"

static bool parse_u32(const char *s, const char **end, uint32_t *out)
{
	if (*s < '0' || *s > '9') {
		return false;
	}
	char *e;
	errno = 0;
	unsigned long long v = strtoull(s, &e, 10);
	if (errno != 0 || v > UINT32_MAX) {
		return false;
	}
	*end = e;
	*out = (uint32_t)v;
	return true;
}

bool bh_address_parse(const char *text, struct bh_address *addr, char *err, size_t err_size)
{
	memset(addr, 0, sizeof(*addr));
	const char *rest;
	if (strncmp(text, "unix:", 5) == 0 || strncmp(text, "serial:", 7) == 0 ||
		strncmp(text, "libvirt:", 8) == 0) {
		addr->kind = text[0] == 'u'   ? BH_ADDRESS_UNIX
			     : text[0] == 's' ? BH_ADDRESS_SERIAL
					      : BH_ADDRESS_LIBVIRT;
		rest = strchr(text, ':') + 1;
		if (*rest == '\0') {
			snprintf(err, err_size, "channel address \"%.40s\" has no %s", text,
				addr->kind == BH_ADDRESS_LIBVIRT ? "channel name" : "path");
			return false;
		}
		if (strlen(rest) >= sizeof(addr->path)) {
			snprintf(err, err_size, "channel path is longer than %zu bytes: %.60s...",
				sizeof(addr->path) - 1, rest);
			return false;
		}
		if (addr->kind == BH_ADDRESS_SERIAL && strcmp(rest, "auto") != 0 &&
			rest[0] != '/') {
			snprintf(err, err_size, "serial channel wants an absolute device path or "
						"auto, not \"%.60s\"", rest);
			return false;
		}
		if (addr->kind == BH_ADDRESS_LIBVIRT && strspn(rest, "abcdefghijklmnopqrstuvwxyz"
									 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
									 "0123456789._-") != strlen(rest)) {
			snprintf(err, err_size, "libvirt channel name \"%.60s\" has characters "
						"other than letters, digits, '.', '_' and '-'", rest);
			return false;
		}
		strcpy(addr->path, rest);
		return true;
	}
	if (strncmp(text, "vsock:", 6) == 0) {
		addr->kind = BH_ADDRESS_VSOCK;
		const char *p = text + 6;
		if (!parse_u32(p, &p, &addr->cid) || *p++ != ':' || !parse_u32(p, &p, &addr->port) ||
			*p != '\0') {
			snprintf(err, err_size, "bad vsock address \"%.60s\" (want vsock:CID:PORT)",
				text);
			return false;
		}
		return true;
	}
	snprintf(err, err_size, "unknown channel address \"%.60s\" (want unix:PATH, serial:PATH, "
				"serial:auto, vsock:CID:PORT or libvirt:NAME)", text);
	return false;
}

bool bh_transport_find_port(const char *dir, const char *name, char *out, size_t size)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		return false;
	}
	struct dirent *ent;
	bool found = false;
	while (!found && (ent = readdir(d)) != NULL) {
		if (ent->d_name[0] == '.') {
			continue;
		}
		char path[512], line[128] = "";
		snprintf(path, sizeof(path), "%s/%s/name", dir, ent->d_name);
		FILE *f = fopen(path, "re");
		if (f == NULL) {
			continue;
		}
		if (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (strcmp(line, name) == 0) {
				snprintf(out, size, "/dev/%s", ent->d_name);
				found = true;
			}
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

static int fail(int fd, char *err, size_t err_size, const char *fmt, const char *what)
{
	int e = errno;
	snprintf(err, err_size, fmt, what, strerror(e));
	if (fd >= 0) {
		close(fd);
	}
	errno = e;
	return -1;
}

static void unix_sockaddr(const struct bh_address *addr, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* bh_address_parse keeps path shorter than sun_path. */
	memcpy(sa->sun_path, addr->path, strlen(addr->path) + 1);
}

int bh_transport_connect(const struct bh_address *addr, char *err, size_t err_size)
{
	int fd;
	switch (addr->kind) {
	case BH_ADDRESS_UNIX: {
		struct sockaddr_un sa;
		unix_sockaddr(addr, &sa);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			return fail(fd, err, err_size, "cannot connect to the channel socket %s: %s",
				addr->path);
		}
		break;
	}
	case BH_ADDRESS_SERIAL: {
		char dev[512];
		const char *path = addr->path;
		if (strcmp(path, "auto") == 0) {
			const char *dir = getenv("BULKHEAD_VIRTIO_PORTS");
			if (!bh_transport_find_port(dir ? dir : "/sys/class/virtio-ports",
				    BH_CHANNEL_PORT_NAME, dev, sizeof(dev))) {
				errno = ENOENT;
				return fail(-1, err, err_size,
					"no virtio port named %s yet (is the VM's channel "
					"configured?): %s",
					BH_CHANNEL_PORT_NAME);
			}
			path = dev;
		}
		fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			return fail(fd, err, err_size, "cannot open the channel device %s: %s", path);
		}
		break;
	}
	case BH_ADDRESS_VSOCK: {
		struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = addr->cid,
			.svm_port = addr->port};
		fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			return fail(fd, err, err_size,
				"vsock is not available on this machine%s (%s); load vhost_vsock or "
				"use a unix or serial channel",
				"");
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			char what[48];
			snprintf(what, sizeof(what), "vsock %u:%u", addr->cid, addr->port);
			return fail(fd, err, err_size, "cannot connect to the channel on %s: %s",
				what);
		}
		break;
	}
	case BH_ADDRESS_LIBVIRT:
		errno = EAFNOSUPPORT;
		return fail(-1, err, err_size,
			"the libvirt channel %s is opened through the VM's libvirt connection, "
			"not directly: %s",
			addr->path);
	default:
		errno = EAFNOSUPPORT;
		return fail(-1, err, err_size, "unknown channel kind%s: %s", "");
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
		return fail(fd, err, err_size, "cannot set up the channel %s: %s", addr->path);
	}
	return fd;
}

int bh_transport_listen(const struct bh_address *addr, char *err, size_t err_size)
{
	int fd;
	if (addr->kind == BH_ADDRESS_UNIX) {
		struct sockaddr_un sa;
		unix_sockaddr(addr, &sa);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd >= 0) {
			unlink(addr->path);
		}
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
			listen(fd, 4) != 0) {
			return fail(fd, err, err_size, "cannot listen on %s: %s", addr->path);
		}
		return fd;
	}
	if (addr->kind == BH_ADDRESS_VSOCK) {
		struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
			.svm_port = addr->port};
		fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
			listen(fd, 4) != 0) {
			char what[32];
			snprintf(what, sizeof(what), "vsock port %u", addr->port);
			return fail(fd, err, err_size, "cannot listen on %s: %s", what);
		}
		return fd;
	}
	errno = EINVAL;
	return fail(-1, err, err_size, "%s: %s", "a serial channel cannot listen (use it directly)");
}
