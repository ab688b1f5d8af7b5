/* The channel's frame codec; see common/channel.h and protocols/CHANNEL.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/channel.h"

void bh_frame_header(uint8_t out[BH_CHANNEL_HEADER], uint32_t type, uint32_t stream, uint32_t len)
{
	bh_le32_put(out, len);
	bh_le32_put(out + 4, stream);
	bh_le32_put(out + 8, type);
}

const char *bh_frame_check(uint32_t type, uint32_t stream, uint32_t len)
{
	static char why[128];
	if (len > BH_CHANNEL_MAX_PAYLOAD) {
		snprintf(why, sizeof(why), "frame of %u bytes is over the limit of %u", len,
			BH_CHANNEL_MAX_PAYLOAD);
		return why;
	}
	if (stream == 0) {
		if (type <= BH_FRAME_CONTROL_BASE ||
			type > BH_FRAME_CONTROL_BASE + BH_CHANNEL_MAX_CONTROL_TYPE) {
			snprintf(why, sizeof(why), "frame type %u is not a control message", type);
			return why;
		}
		return NULL;
	}
	switch (type) {
	case BH_FRAME_OPEN:
	case BH_FRAME_CREDIT:
		if (len != 4) {
			snprintf(why, sizeof(why), "%s frame of stream %u has %u bytes, not 4",
				type == BH_FRAME_OPEN ? "OPEN" : "CREDIT", stream, len);
			return why;
		}
		return NULL;
	case BH_FRAME_CLOSE:
		if (len < 4 || len > 4 + BH_CHANNEL_MAX_REASON) {
			snprintf(why, sizeof(why), "CLOSE frame of stream %u has %u bytes", stream,
				len);
			return why;
		}
		return NULL;
	case BH_FRAME_DATA:
		return NULL;
	default:
		snprintf(why, sizeof(why), "unknown frame type %u on stream %u", type, stream);
		return why;
	}
}

void bh_channel_decoder_init(struct bh_channel_decoder *dec)
{
	memset(dec, 0, sizeof(*dec));
}

void bh_channel_decoder_finish(struct bh_channel_decoder *dec)
{
	free(dec->payload);
	dec->payload = NULL;
}

static enum bh_decode_status decoder_fail(struct bh_channel_decoder *dec, const char *why)
{
	dec->failed = true;
	snprintf(dec->error, sizeof(dec->error), "%s", why);
	return BH_DECODE_ERROR;
}

enum bh_decode_status bh_channel_decoder_feed(struct bh_channel_decoder *dec, const uint8_t *data,
	size_t len, bh_frame_fn fn, void *user, size_t *used)
{
	size_t off = 0;
	enum bh_decode_status status = BH_DECODE_OK;
	while (!dec->failed) {
		/* Header: complete it from the new bytes. */
		if (dec->header_len < BH_CHANNEL_HEADER) {
			size_t n = BH_CHANNEL_HEADER - dec->header_len;
			if (n > len - off) {
				n = len - off;
			}
			memcpy(dec->header + dec->header_len, data + off, n);
			dec->header_len += n;
			off += n;
			if (dec->header_len < BH_CHANNEL_HEADER) {
				break;
			}
			dec->len = bh_le32_get(dec->header);
			dec->stream = bh_le32_get(dec->header + 4);
			dec->type = bh_le32_get(dec->header + 8);
			const char *why = bh_frame_check(dec->type, dec->stream, dec->len);
			if (why != NULL) {
				status = decoder_fail(dec, why);
				break;
			}
			dec->payload_len = 0;
		}
		struct bh_frame frame = {.type = dec->type, .stream = dec->stream, .len = dec->len};
		if (dec->payload_len == 0 && len - off >= dec->len) {
			/* The whole payload is in the caller's bytes: no copy. */
			frame.payload = data + off;
			off += dec->len;
		} else {
			if (dec->payload == NULL) {
				dec->payload = malloc(BH_CHANNEL_MAX_PAYLOAD);
				if (dec->payload == NULL) {
					status = decoder_fail(dec, "out of memory");
					break;
				}
			}
			bool may_place = dec->place != NULL && !dec->place_asked &&
				dec->type == BH_FRAME_DATA && dec->len >= BH_CHANNEL_PLACE_MIN;
			size_t n = dec->len - dec->payload_len;
			if (may_place && n > BH_CHANNEL_PLACE_PREFIX - dec->payload_len) {
				n = BH_CHANNEL_PLACE_PREFIX - dec->payload_len;
			}
			if (n > len - off) {
				n = len - off;
			}
			if (dec->dest != NULL) {
				memcpy(dec->dest + (dec->payload_len - BH_CHANNEL_PLACE_PREFIX),
					data + off, n);
			} else {
				memcpy(dec->payload + dec->payload_len, data + off, n);
			}
			dec->payload_len += n;
			off += n;
			if (may_place && dec->payload_len == BH_CHANNEL_PLACE_PREFIX) {
				dec->place_asked = true;
				struct bh_frame head = frame;
				head.payload = dec->payload;
				dec->dest = dec->place(&head, dec->place_user);
				continue;
			}
			if (dec->payload_len < dec->len) {
				break;
			}
			frame.payload = dec->payload;
			frame.placed = dec->dest != NULL;
		}
		dec->dest = NULL;
		dec->place_asked = false;
		dec->header_len = 0;
		dec->payload_len = 0;
		if (!fn(&frame, user)) {
			status = BH_DECODE_STOPPED;
			break;
		}
		if (off == len) {
			break;
		}
	}
	if (dec->failed && status == BH_DECODE_OK) {
		status = BH_DECODE_ERROR;
	}
	if (used != NULL) {
		*used = off;
	}
	return status;
}

size_t bh_channel_decoder_partial(const struct bh_channel_decoder *dec)
{
	return dec->header_len + dec->payload_len;
}

void bh_channel_decoder_set_placer(
	struct bh_channel_decoder *dec, bh_frame_place_fn place, void *user)
{
	dec->place = place;
	dec->place_user = user;
}

size_t bh_channel_decoder_direct(const struct bh_channel_decoder *dec, uint8_t **dest)
{
	if (dec->dest == NULL || dec->failed) {
		return 0;
	}
	*dest = dec->dest + (dec->payload_len - BH_CHANNEL_PLACE_PREFIX);
	return dec->len - dec->payload_len;
}

enum bh_decode_status bh_channel_decoder_direct_done(
	struct bh_channel_decoder *dec, size_t n, bh_frame_fn fn, void *user)
{
	if (dec->dest == NULL || n > dec->len - dec->payload_len) {
		return decoder_fail(dec, "bytes placed beyond the frame");
	}
	dec->payload_len += n;
	if (dec->payload_len < dec->len) {
		return BH_DECODE_OK;
	}
	struct bh_frame frame = {.type = dec->type, .stream = dec->stream, .len = dec->len,
		.payload = dec->payload, .placed = true};
	dec->header_len = 0;
	dec->payload_len = 0;
	dec->dest = NULL;
	dec->place_asked = false;
	return fn(&frame, user) ? BH_DECODE_OK : BH_DECODE_STOPPED;
}

void bh_channel_decoder_unplace(struct bh_channel_decoder *dec)
{
	if (dec->dest != NULL) {
		/* The decoder's buffer holds a whole payload. */
		dec->dest = dec->payload + BH_CHANNEL_PLACE_PREFIX;
	}
}

const char *bh_channel_decoder_error(const struct bh_channel_decoder *dec)
{
	return dec->failed ? dec->error : NULL;
}
