/* Channel addresses and the sockets behind them, shared by the agent (which
 * listens or opens its end in the guest) and the proxy (which connects on
 * the host). Addresses (protocols/CHANNEL.md "Transports"):
 *   unix:PATH        a stream socket (libvirt's channel socket, or an agent
 *                    listening directly for tests and VMs managed elsewhere)
 *   serial:PATH      a character device (a virtio-serial port in the guest,
 *                    a pty on the host)
 *   serial:auto      the guest's virtio port named org.bulkhead.channel.0
 *   vsock:CID:PORT   AF_VSOCK (CID ignored when listening)
 *   libvirt:NAME     the VM's channel NAME opened through its libvirt
 *                    connection as a stream (a VM on another machine);
 *                    only the vm library can open it (bh_vm_open_channel) */
#ifndef COMMON_TRANSPORT_H
#define COMMON_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BH_CHANNEL_PORT_NAME "org.bulkhead.channel.0"

enum bh_address_kind {
	BH_ADDRESS_UNIX,
	BH_ADDRESS_SERIAL,
	BH_ADDRESS_VSOCK,
	BH_ADDRESS_LIBVIRT,
};

struct bh_address {
	enum bh_address_kind kind;
	/* unix socket path or device path; "auto" for serial:auto; the
	 * channel's name for libvirt: */
	char path[108];
	uint32_t cid, port;
};

/* Parses text; false with a sentence in err when it is not a valid address. */
bool bh_address_parse(const char *text, struct bh_address *addr, char *err, size_t err_size);

/* Connects (unix, vsock) or opens (serial) the address; the fd is
 * non-blocking and close-on-exec. -1 with errno kept and a sentence in err
 * that says what to do. */
int bh_transport_connect(const struct bh_address *addr, char *err, size_t err_size);

/* A listening socket (unix: an old socket file is replaced; vsock: any
 * CID). Serial addresses cannot listen. -1 with a sentence in err. */
int bh_transport_listen(const struct bh_address *addr, char *err, size_t err_size);

/* The device of the virtio port called name under dir (normally
 * /sys/class/virtio-ports): "/dev/vportNpM" in out. False when absent. */
bool bh_transport_find_port(const char *dir, const char *name, char *out, size_t size);

#endif
