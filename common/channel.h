/* The channel's frame codec (protocols/CHANNEL.md "Frames"): the header
 * layout, frame types and limits, an encoder, and an incremental decoder
 * that accepts the byte stream split anywhere (one byte at a time
 * included) and checks every frame's shape before anyone sees it. Stream
 * state (which ids are open, credit) is the endpoint's (common/endpoint.h);
 * this file knows no event loop and no socket, so tests and fuzzers drive it
 * directly. */
#ifndef COMMON_CHANNEL_H
#define COMMON_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/le.h"

/* u32 length of the payload, u32 stream id, u32 type; little-endian. */
#define BH_CHANNEL_HEADER 12
/* Largest payload of one frame; a longer length is a channel error. */
#define BH_CHANNEL_MAX_PAYLOAD (64u * 1024u)
/* Largest reason text of a CLOSE frame. */
#define BH_CHANNEL_MAX_REASON 1024u
/* Control messages: frame type BH_FRAME_CONTROL_BASE + message type, on
 * stream 0, message types 1..BH_CHANNEL_MAX_CONTROL_TYPE. */
#define BH_CHANNEL_MAX_CONTROL_TYPE 255u

enum bh_frame_type {
	BH_FRAME_OPEN = 1,          /* u32 stream kind */
	BH_FRAME_DATA = 2,          /* one message of the stream, 0..MAX_PAYLOAD bytes */
	BH_FRAME_CLOSE = 3,         /* u32 error (0 = normal end), reason text (no NUL) */
	BH_FRAME_CREDIT = 4,        /* u32 bytes the receiver consumed */
	BH_FRAME_CONTROL_BASE = 16, /* stream 0 only: control message type + this */
};

struct bh_frame {
	uint32_t type;
	uint32_t stream;
	uint32_t len;
	const uint8_t *payload; /* valid during the callback only */
	/* The payload was placed (see bh_frame_place_fn): payload holds its
	 * first BH_CHANNEL_PLACE_PREFIX bytes, the rest went where the placer
	 * said. */
	bool placed;
};

/* Placement: a large DATA frame that arrives in pieces can be read
 * straight into its final home (a buffer's memory) instead of being
 * gathered first. Once its header and first BH_CHANNEL_PLACE_PREFIX payload
 * bytes are in, the placer sees them (head->payload, head->len the whole
 * length) and returns where payload bytes PREFIX..len-1 go, or NULL to
 * gather it as usual. Only frames of at least BH_CHANNEL_PLACE_MIN bytes
 * that are not already whole in the bytes fed are offered. */
#define BH_CHANNEL_PLACE_PREFIX 16u
#define BH_CHANNEL_PLACE_MIN 4096u
typedef uint8_t *(*bh_frame_place_fn)(const struct bh_frame *head, void *user);

/* Writes the header of a frame into out. */
void bh_frame_header(uint8_t out[BH_CHANNEL_HEADER], uint32_t type, uint32_t stream, uint32_t len);

/* Checks a frame's shape from its header fields alone: a known type on the
 * right kind of stream (control types on stream 0, stream frames never on
 * it), a length within the limit and right for the type. Returns NULL when
 * fine, else a sentence saying what is wrong (static storage, one per
 * thread is not needed: the codec is single-threaded). */
const char *bh_frame_check(uint32_t type, uint32_t stream, uint32_t len);

/* Incremental decoder. Bytes go in as they come; each complete frame that
 * passes bh_frame_check goes to the callback, whose payload points either
 * into the caller's bytes (no copy) or into the decoder's buffer when the
 * frame arrived in pieces. */
struct bh_channel_decoder {
	uint8_t header[BH_CHANNEL_HEADER];
	size_t header_len;
	uint32_t type, stream, len; /* of the frame being collected */
	uint8_t *payload;           /* BH_CHANNEL_MAX_PAYLOAD bytes, allocated on demand */
	size_t payload_len;
	bh_frame_place_fn place; /* optional */
	void *place_user;
	bool place_asked;        /* the placer has seen this frame */
	uint8_t *dest;           /* non-NULL: this frame is being placed here */
	bool failed;
	char error[160];
};

/* Returns false to stop decoding (the decoder keeps its place: the rest of
 * the bytes given to that feed call are not consumed, see feed). */
typedef bool (*bh_frame_fn)(const struct bh_frame *frame, void *user);

void bh_channel_decoder_init(struct bh_channel_decoder *dec);
void bh_channel_decoder_finish(struct bh_channel_decoder *dec);

enum bh_decode_status {
	BH_DECODE_OK,      /* all bytes consumed */
	BH_DECODE_STOPPED, /* the callback returned false; *used says how far */
	BH_DECODE_ERROR,   /* a malformed frame or no memory: error says which;
			    * the decoder stays failed */
};
/* Feeds len bytes. *used (may be NULL) is set to the bytes consumed: all of
 * them unless the callback stopped decoding. */
enum bh_decode_status bh_channel_decoder_feed(struct bh_channel_decoder *dec, const uint8_t *data,
	size_t len, bh_frame_fn fn, void *user, size_t *used);
/* Bytes of an incomplete frame held: non-zero when the channel ends means
 * it was cut mid-frame. */
size_t bh_channel_decoder_partial(const struct bh_channel_decoder *dec);

void bh_channel_decoder_set_placer(
	struct bh_channel_decoder *dec, bh_frame_place_fn place, void *user);
/* While a frame is being placed: the bytes still missing (returned) and
 * where the next of them goes, so the caller can read them there itself;
 * 0 otherwise. */
size_t bh_channel_decoder_direct(const struct bh_channel_decoder *dec, uint8_t **dest);
/* n of those bytes were written at *dest by the caller; as feed. */
enum bh_decode_status bh_channel_decoder_direct_done(
	struct bh_channel_decoder *dec, size_t n, bh_frame_fn fn, void *user);
/* The frame being placed must not touch its destination any more (its
 * owner is going): the rest of it is read and dropped into the decoder's
 * own buffer, and it is still reported as placed when complete. */
void bh_channel_decoder_unplace(struct bh_channel_decoder *dec);
const char *bh_channel_decoder_error(const struct bh_channel_decoder *dec);

#endif
