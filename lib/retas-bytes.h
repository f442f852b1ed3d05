/*
 * Little-endian fixed-width integers and a bounds-checked read cursor for
 * the kit's binary formats (the part container and the sealed record).
 * Header only and internal to libretas: every read says whether the bytes
 * were there, so a decoder never reads past its input.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct retas_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static inline void retas_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void retas_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void retas_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline size_t retas_reader_left(const struct retas_reader *r)
{
	return r->len - r->off;
}

/* Borrows n bytes at the cursor and moves past them; false when fewer are left. */
static inline bool retas_read_bytes(struct retas_reader *r, size_t n, const uint8_t **out)
{
	if (retas_reader_left(r) < n)
		return false;
	*out = r->p + r->off;
	r->off += n;
	return true;
}

static inline bool retas_read_u8(struct retas_reader *r, uint8_t *out)
{
	const uint8_t *p;

	if (!retas_read_bytes(r, 1, &p))
		return false;
	*out = p[0];
	return true;
}

static inline bool retas_read_u16(struct retas_reader *r, uint16_t *out)
{
	const uint8_t *p;

	if (!retas_read_bytes(r, 2, &p))
		return false;
	*out = (uint16_t)(p[0] | (p[1] << 8));
	return true;
}

static inline bool retas_read_u32(struct retas_reader *r, uint32_t *out)
{
	const uint8_t *p;
	uint32_t v = 0;

	if (!retas_read_bytes(r, 4, &p))
		return false;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	*out = v;
	return true;
}

static inline bool retas_read_u64(struct retas_reader *r, uint64_t *out)
{
	const uint8_t *p;
	uint64_t v = 0;

	if (!retas_read_bytes(r, 8, &p))
		return false;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	*out = v;
	return true;
}
