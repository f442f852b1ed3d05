/*
 * A fingerprint image quality score 0-100, computed the same way for every
 * reader so the configured threshold means the same thing everywhere.
 *
 * Method (block-wise, after the usual orientation-field approach):
 *  1. The image is cut into 16 x 16 pixel blocks (a partial edge block is
 *     left out).
 *  2. A block is foreground when its grey-level standard deviation is at
 *     least FP_QUALITY_MIN_STDDEV and its pixels cross their mean at least
 *     twice along its middle row or its middle column, i.e. it shows a
 *     ridge/valley alternation rather than a flat area or a smooth shade.
 *  3. For a foreground block: contrast c = min(1, stddev / 40) and
 *     orientation coherence k = |sum (gx^2 - gy^2, 2 gx gy)| / sum (gx^2 +
 *     gy^2) over its Sobel gradients, 1 for parallel ridges, near 0 for
 *     noise. Block quality = c * k.
 *  4. Area factor a = min(1, foreground blocks / (0.6 * all blocks)): a
 *     finger covering 60% of the sensor gets full credit.
 *  5. Score = round(100 * a * mean block quality over foreground blocks);
 *     0 when there is no foreground.
 * A blank or uniform frame scores 0, clean synthetic ridges above 70, and
 * noise pulls the score down through coherence.
 *
 * In ISO/IEC 19794-4 quality blocks the score carries vendor id
 * FP_QUALITY_VENDOR_ID and algorithm id FP_QUALITY_ALGORITHM_ID. It is not
 * NFIQ 2; head office can compute that from the stored image.
 */
#pragma once

#include "fp.h"

#define FP_QUALITY_BLOCK 16
#define FP_QUALITY_MIN_STDDEV 10
/* 0 is "unreported" in the IBIA vendor registry: this algorithm is ours and
 * not registered, and its id below is versioned by us. */
#define FP_QUALITY_VENDOR_ID 0x0000
#define FP_QUALITY_ALGORITHM_ID 0x0001

struct fp_quality_detail {
	unsigned blocks;       /* blocks looked at */
	unsigned foreground;   /* of which foreground */
	double mean_coherence; /* over foreground blocks, 0-1 */
	double mean_contrast;  /* over foreground blocks, 0-1 */
};

/* The score 0-100 of img; detail (may be NULL) receives the parts. Pure:
 * no allocation, no error. */
unsigned fp_quality_score(const struct fp_image *img, struct fp_quality_detail *detail);
