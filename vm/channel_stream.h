/* A VM's channel opened through libvirt (virDomainOpenChannel) on the
 * tag's own connection, whatever its transport (a local socket, ssh, TLS),
 * and pumped to one end of a socket pair: the other end is a channel like
 * a unix socket's, so the relay on it does not know the difference. */
#ifndef VM_CHANNEL_STREAM_H
#define VM_CHANNEL_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <libvirt/libvirt.h>

/* libvirt's event loop, which the streams of every connection opened
 * after this call use; once per process, before the first connection that
 * may carry a stream. False (with a sentence in err) when it cannot run. */
bool bh_channel_stream_init(char *err, size_t err_size);

/* Opens the channel called name (its target name or alias) of the running
 * domain, takes it over from any earlier holder, and returns the socket
 * (non-blocking, close-on-exec) that carries its bytes; tag and uri are
 * for the log line that says why the stream ended. -1 with a sentence in
 * err. */
int bh_channel_stream_open(virDomainPtr dom, const char *name, const char *tag, const char *uri,
	char *err, size_t err_size);

#endif
