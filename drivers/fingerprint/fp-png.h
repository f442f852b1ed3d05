/*
 * 8-bit grey PNG in memory, through libpng: what ISO/IEC 19794-4 records
 * (compression code 6) and `retas devices test fingerprint --save` carry.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fp.h"

/*
 * Encodes img as an 8-bit greyscale, non-interlaced PNG with libpng's
 * default compression; with ppi > 0 a pHYs chunk states it. *out is
 * malloc'd, owned by the caller; written only on success.
 */
int fp_png_encode(const struct fp_image *img, unsigned ppi, uint8_t **out, size_t *out_len,
		  struct retas_error *err);

/*
 * Decodes an 8-bit greyscale PNG (any other colour type or depth is
 * -ENOTSUP "fp.png.format"; a damaged one -EINVAL "fp.png.corrupt").
 * Sides above FP_IMAGE_MAX_SIDE are refused before any pixel memory is
 * taken. ppi (may be NULL) receives the pHYs resolution, 0 without one.
 */
int fp_png_decode(const uint8_t *buf, size_t len, struct fp_image **out, unsigned *ppi,
		  struct retas_error *err);
