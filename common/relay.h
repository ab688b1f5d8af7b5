/* What both ends of the Wayland relay share: the relay frames carried on a
 * BH_STREAM_WAYLAND stream (protocols/CHANNEL.md "Wayland relay frames"),
 * the relay's limits, and the one table of the messages that need more
 * than being passed on as bytes. The guest end is guest-agent/relay_guest.c,
 * the host end proxy/relay_host.c; each has one handler per entry of
 * enum bh_relay_op that concerns it. */
#ifndef COMMON_RELAY_H
#define COMMON_RELAY_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wl_conn.h"
#include "common/wl_wire.h"

/*
 * Every DATA payload on a Wayland stream starts with one of these type
 * bytes. Integers are little-endian (common/le.h). File descriptors never
 * cross the channel: each fd a Wayland message carries is replaced by a
 * frame sent just before the message that says what the receiver must put
 * in its place (in order: the n-th fd frame is the n-th fd of the messages
 * that follow).
 */
enum bh_relay_frame {
	/* Either way: one or more whole Wayland messages, fds removed. */
	BH_RELAY_WL = 1,
	/* guest -> host: u32 pool, u64 size. The next fd is a new shm pool of
	 * that size; pool is the agent's number for it (never reused on the
	 * stream), used by BH_RELAY_SHM_DATA. */
	BH_RELAY_FD_SHM = 2,
	/* guest -> host: u32 pool, u64 offset, bytes: new contents of that
	 * range of the pool, sent before the commit that shows them. */
	BH_RELAY_SHM_DATA = 3,
	/* host -> guest: u32 size. The next fd is a sealed memfd holding size
	 * bytes, which follow in BH_RELAY_FD_FILE_DATA frames (keymaps). */
	BH_RELAY_FD_FILE = 4,
	/* host -> guest: bytes of the file announced by BH_RELAY_FD_FILE. */
	BH_RELAY_FD_FILE_DATA = 5,
	/* Either way: u32 stream. The next fd is the write end of a pipe; the
	 * sender opened BH_STREAM_PIPE stream `stream` and writes what arrives
	 * on it into the real fd; the receiver makes a pipe, passes its write
	 * end on, and sends what it reads from the read end on that stream. */
	BH_RELAY_FD_PIPE = 6,
	/* guest -> host: u32 pool number, u64 offset, u32 length, then that
	 * many bytes of the pool compressed with LZ4 (block format). Sent
	 * instead of BH_RELAY_SHM_DATA only when the host asked for it at
	 * hello; length is at most the channel's payload limit. */
	BH_RELAY_SHM_LZ4 = 7,
	/* guest -> host: u32 pool. The next fd is the tag's shared region
	 * (common/region.h), once the agent said it maps it: the pool is all
	 * of the region, its buffers' offsets are slots of it, and their bytes
	 * are written there by the agent, never sent. */
	BH_RELAY_FD_REGION = 8,
	/* guest -> host, once BH_CTL_GUEST_RAM_ON was sent: u64 dest, then
	 * pieces of u64 guest-physical address, u32 length: the host copies
	 * each piece of the guest's memory to the shared region at dest (dest
	 * advancing by each length), all inside one of the client's buffers,
	 * before the commit that shows them. */
	BH_RELAY_SHM_GPA = 9,
};

/* Frame heads: the type byte and the fixed fields before any bytes. */
#define BH_RELAY_FD_SHM_LEN 13   /* type, u32 pool, u64 size */
#define BH_RELAY_SHM_HEAD 13     /* type, u32 pool, u64 offset */
#define BH_RELAY_SHM_LZ4_HEAD 17 /* type, u32 pool, u64 offset, u32 length */
#define BH_RELAY_FD_FILE_LEN 5   /* type, u32 size */
#define BH_RELAY_FD_PIPE_LEN 5   /* type, u32 stream */
#define BH_RELAY_FD_REGION_LEN 5 /* type, u32 pool */
#define BH_RELAY_SHM_GPA_HEAD 9  /* type, u64 dest */
#define BH_RELAY_SHM_GPA_PIECE 12 /* u64 address, u32 length */

/* Limits (protocols/ALLOWLIST.md "Limits"). */
#define BH_RELAY_MAX_POOL_SIZE (1024u << 20)    /* one wl_shm pool (foot maps 512 MiB) */
#define BH_RELAY_MAX_POOL_TOTAL (2048ull << 20) /* all pools of one client */
#define BH_RELAY_MAX_POOLS 256                  /* live pools of one client */
#define BH_RELAY_MAX_FILE_SIZE (1u << 20)       /* a keymap */
#define BH_RELAY_MAX_PENDING_PIPES 16           /* pipe streams not yet claimed */
#define BH_RELAY_MAX_FDS BH_WL_CONN_MAX_FDS     /* fds announced ahead of their message */
/* Bytes queued towards one Wayland socket or pipe: over HIGH the relay
 * stops reading the other side (channel credit), over MAX the client is
 * ended. */
#define BH_RELAY_OUT_HIGH (1u << 20)
#define BH_RELAY_OUT_MAX BH_WL_CONN_OUT_MAX

/*
 * The messages either end does something with beyond passing them on. A
 * message not in the table passes through as bytes, unless it carries an
 * fd: then it ends the client, since only the fds the table names are
 * relayed.
 */
enum bh_relay_op {
	/* requests */
	BH_RELAY_OP_BIND,           /* wl_registry.bind: only of a global shown */
	BH_RELAY_OP_CREATE_POOL,    /* wl_shm.create_pool: fd as FD_SHM, a pool each side */
	BH_RELAY_OP_CREATE_BUFFER,  /* wl_shm_pool.create_buffer */
	BH_RELAY_OP_POOL_DESTROY,   /* wl_shm_pool.destroy */
	BH_RELAY_OP_POOL_RESIZE,    /* wl_shm_pool.resize */
	BH_RELAY_OP_BUFFER_DESTROY, /* wl_buffer.destroy */
	BH_RELAY_OP_CREATE_SURFACE, /* wl_compositor.create_surface */
	BH_RELAY_OP_GET_VIEWPORT,   /* wp_viewporter.get_viewport: buffer rows move */
	BH_RELAY_OP_SURFACE_DESTROY,
	BH_RELAY_OP_ATTACH,
	BH_RELAY_OP_DAMAGE,
	BH_RELAY_OP_DAMAGE_BUFFER,
	BH_RELAY_OP_SET_TRANSFORM,
	BH_RELAY_OP_SET_SCALE,
	BH_RELAY_OP_COMMIT,  /* the attached buffer's changed bytes go first */
	BH_RELAY_OP_RECEIVE, /* data/primary-selection offer.receive: fd as FD_PIPE */
	/* events */
	BH_RELAY_OP_GLOBAL,        /* wl_registry.global: allowlist, version cap */
	BH_RELAY_OP_GLOBAL_REMOVE, /* only of a global shown */
	BH_RELAY_OP_KEYMAP,        /* wl_keyboard.keymap: fd as FD_FILE */
	BH_RELAY_OP_SEND,          /* data/primary-selection source.send: fd as FD_PIPE */
	BH_RELAY_OP_COUNT,
};

struct bh_relay_rule {
	const struct wl_interface *interface;
	uint16_t opcode; /* the scanner's constant */
	uint8_t dir;     /* enum bh_wl_dir */
	uint8_t op;      /* enum bh_relay_op */
	uint8_t fd;      /* the frame that stands for its fd, 0 if it has none */
};

/* The rule for msg, NULL when it only passes through. */
const struct bh_relay_rule *bh_relay_rule_find(enum bh_wl_dir dir, const struct bh_wl_msg *msg);
/* Entry i of the table, NULL past the end (for tests). */
const struct bh_relay_rule *bh_relay_rule_at(size_t i);

/* After bh_stream_send returned false: true if the frame was refused
 * (errno EMSGSIZE, ENOBUFS or EPIPE), false if it was queued over the
 * stream's high-water mark. */
static inline bool bh_relay_send_refused(int err)
{
	return err == EMSGSIZE || err == ENOBUFS || err == EPIPE;
}

/* A memfd of size bytes (zeros; the caller writes the contents and may add
 * seals), or -1 with errno. */
int bh_relay_memfd(const char *name, size_t size);

#endif
