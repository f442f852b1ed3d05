/* The quality score: blank frames low, synthetic ridges high, noise in
 * between, and the parts it is made of. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fp-quality.h"
#include "synth.h"

#define W 256
#define H 180

static struct fp_image *finger(uint32_t seed)
{
	struct fp_image *img = fp_image_new(W, H);

	assert_non_null(img);
	synth_finger(img->pixels, W, H, seed);
	return img;
}

static void quality_blank_scores_zero(void **state)
{
	struct fp_image *img = fp_image_new(W, H);
	struct fp_quality_detail d;

	assert_non_null(img);
	synth_blank(img->pixels, W * H, 236);
	assert_int_equal(fp_quality_score(img, &d), 0);
	assert_int_equal(d.blocks, 16 * 11);
	assert_int_equal(d.foreground, 0);
	synth_blank(img->pixels, W * H, 0);
	assert_int_equal(fp_quality_score(img, NULL), 0);
	/* an empty sensor's own grain is not a finger */
	synth_blank(img->pixels, W * H, 236);
	synth_add_noise(img->pixels, W * H, 3, 7);
	assert_int_equal(fp_quality_score(img, NULL), 0);
	fp_image_free(img);
}

static void quality_smooth_shade_is_not_ridges(void **state)
{
	struct fp_image *img = fp_image_new(W, H);

	assert_non_null(img);
	for (unsigned y = 0; y < H; y++)
		for (unsigned x = 0; x < W; x++)
			img->pixels[y * W + x] = (uint8_t)x;
	assert_int_equal(fp_quality_score(img, NULL), 0);
	fp_image_free(img);
}

static void quality_synthetic_ridges_score_high(void **state)
{
	for (uint32_t seed = 1; seed <= 10; seed++) {
		struct fp_image *img = finger(seed);
		struct fp_quality_detail d;
		unsigned q = fp_quality_score(img, &d);

		printf("seed %u: quality %u (foreground %u/%u, coherence %.2f, contrast %.2f)\n",
		       seed, q, d.foreground, d.blocks, d.mean_coherence, d.mean_contrast);
		assert_true(q >= 70);
		assert_true(q <= 100);
		assert_true(d.foreground > d.blocks / 2);
		fp_image_free(img);
	}
}

static void quality_noisy_frame_in_between(void **state)
{
	for (uint32_t seed = 1; seed <= 10; seed++) {
		struct fp_image *clean = finger(seed), *noisy = finger(seed);
		unsigned qc, qn;

		synth_add_noise(noisy->pixels, W * H, 60, seed + 100);
		qc = fp_quality_score(clean, NULL);
		qn = fp_quality_score(noisy, NULL);
		printf("seed %u: clean %u, noisy %u\n", seed, qc, qn);
		assert_true(qn >= 15);
		assert_true(qn + 15 <= qc);
		fp_image_free(clean);
		fp_image_free(noisy);
	}
}

static void quality_pure_noise_scores_low(void **state)
{
	struct fp_image *img = fp_image_new(W, H);
	unsigned q;

	assert_non_null(img);
	synth_blank(img->pixels, W * H, 128);
	synth_add_noise(img->pixels, W * H, 50, 3);
	q = fp_quality_score(img, NULL);
	printf("noise: %u\n", q);
	assert_true(q <= 15);
	fp_image_free(img);
}

static void quality_half_finger_loses_area(void **state)
{
	struct fp_image *full = finger(4), *half = finger(4);
	unsigned qf, qh;

	/* the right half of the sensor left uncovered */
	for (unsigned y = 0; y < H; y++)
		for (unsigned x = W / 4; x < W; x++)
			half->pixels[y * W + x] = 236;
	qf = fp_quality_score(full, NULL);
	qh = fp_quality_score(half, NULL);
	printf("full %u, quarter %u\n", qf, qh);
	assert_true(qh * 2 < qf);
	fp_image_free(full);
	fp_image_free(half);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(quality_blank_scores_zero),
	    cmocka_unit_test(quality_smooth_shade_is_not_ridges),
	    cmocka_unit_test(quality_synthetic_ridges_score_high),
	    cmocka_unit_test(quality_noisy_frame_in_between),
	    cmocka_unit_test(quality_pure_noise_scores_low),
	    cmocka_unit_test(quality_half_finger_loses_area),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
