/* The block-wise quality score documented in fp-quality.h. */
#include <math.h>
#include <stdint.h>

#include "fp-quality.h"

struct block_stats {
	double mean;
	double stddev;
	unsigned crossings; /* the larger of middle row and middle column */
};

static uint8_t px(const struct fp_image *img, unsigned x, unsigned y)
{
	return img->pixels[(size_t)y * img->width + x];
}

static unsigned mean_crossings(const struct fp_image *img, unsigned x0, unsigned y0, bool row,
			       double mean)
{
	unsigned n = 0;
	int prev = 0;

	for (unsigned i = 0; i < FP_QUALITY_BLOCK; i++) {
		unsigned x = row ? x0 + i : x0 + FP_QUALITY_BLOCK / 2;
		unsigned y = row ? y0 + FP_QUALITY_BLOCK / 2 : y0 + i;
		double d = px(img, x, y) - mean;
		int sign = d > 0 ? 1 : d < 0 ? -1 : 0;

		if (sign && prev && sign != prev)
			n++;
		if (sign)
			prev = sign;
	}
	return n;
}

static void block_stats(const struct fp_image *img, unsigned x0, unsigned y0,
			struct block_stats *out)
{
	double sum = 0, sq = 0, n = FP_QUALITY_BLOCK * FP_QUALITY_BLOCK;
	unsigned r, c;

	for (unsigned y = y0; y < y0 + FP_QUALITY_BLOCK; y++)
		for (unsigned x = x0; x < x0 + FP_QUALITY_BLOCK; x++) {
			double v = px(img, x, y);

			sum += v;
			sq += v * v;
		}
	out->mean = sum / n;
	out->stddev = sqrt(fmax(0, sq / n - out->mean * out->mean));
	r = mean_crossings(img, x0, y0, true, out->mean);
	c = mean_crossings(img, x0, y0, false, out->mean);
	out->crossings = r > c ? r : c;
}

/* Orientation coherence of the block's Sobel gradients; pixels on the
 * image border have no full neighbourhood and are skipped. */
static double block_coherence(const struct fp_image *img, unsigned x0, unsigned y0)
{
	double gxx = 0, gyy = 0, gxy = 0, norm;

	for (unsigned y = y0; y < y0 + FP_QUALITY_BLOCK; y++) {
		if (y == 0 || y + 1 >= img->height)
			continue;
		for (unsigned x = x0; x < x0 + FP_QUALITY_BLOCK; x++) {
			int gx, gy;

			if (x == 0 || x + 1 >= img->width)
				continue;
			gx =
			    (px(img, x + 1, y - 1) + 2 * px(img, x + 1, y) +
			     px(img, x + 1, y + 1)) -
			    (px(img, x - 1, y - 1) + 2 * px(img, x - 1, y) + px(img, x - 1, y + 1));
			gy =
			    (px(img, x - 1, y + 1) + 2 * px(img, x, y + 1) +
			     px(img, x + 1, y + 1)) -
			    (px(img, x - 1, y - 1) + 2 * px(img, x, y - 1) + px(img, x + 1, y - 1));
			gxx += (double)gx * gx;
			gyy += (double)gy * gy;
			gxy += (double)gx * gy;
		}
	}
	norm = gxx + gyy;
	if (norm <= 0)
		return 0;
	return sqrt((gxx - gyy) * (gxx - gyy) + 4 * gxy * gxy) / norm;
}

unsigned fp_quality_score(const struct fp_image *img, struct fp_quality_detail *detail)
{
	unsigned bw = img->width / FP_QUALITY_BLOCK, bh = img->height / FP_QUALITY_BLOCK;
	unsigned blocks = bw * bh, fg = 0;
	double sum_q = 0, sum_k = 0, sum_c = 0, area, score;

	for (unsigned by = 0; by < bh; by++)
		for (unsigned bx = 0; bx < bw; bx++) {
			unsigned x0 = bx * FP_QUALITY_BLOCK, y0 = by * FP_QUALITY_BLOCK;
			struct block_stats s;
			double c, k;

			block_stats(img, x0, y0, &s);
			if (s.stddev < FP_QUALITY_MIN_STDDEV || s.crossings < 2)
				continue;
			c = fmin(1.0, s.stddev / 40.0);
			k = block_coherence(img, x0, y0);
			fg++;
			sum_q += c * k;
			sum_k += k;
			sum_c += c;
		}
	if (detail) {
		detail->blocks = blocks;
		detail->foreground = fg;
		detail->mean_coherence = fg ? sum_k / fg : 0;
		detail->mean_contrast = fg ? sum_c / fg : 0;
	}
	if (!fg)
		return 0;
	area = fmin(1.0, fg / (0.6 * blocks));
	score = 100.0 * area * (sum_q / fg);
	if (score > 100)
		score = 100;
	return (unsigned)lround(score);
}
