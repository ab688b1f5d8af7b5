/* Little-endian integers, as everything on the channel is: the one codec
 * the channel, its control messages and the relay frames use. (Wayland
 * messages themselves are in the host's byte order and never go through
 * these.) */
#ifndef COMMON_LE_H
#define COMMON_LE_H

#include <stdint.h>

static inline uint16_t bh_le16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t bh_le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t bh_le64_get(const uint8_t *p)
{
	return (uint64_t)bh_le32_get(p) | (uint64_t)bh_le32_get(p + 4) << 32;
}

static inline void bh_le16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void bh_le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void bh_le64_put(uint8_t *p, uint64_t v)
{
	bh_le32_put(p, (uint32_t)v);
	bh_le32_put(p + 4, (uint32_t)(v >> 32));
}

#endif
