/*
 * Checks on a rendered signature PNG shared by the unit and device tests:
 * decoding it with libpng (independently of the renderer's own buffers),
 * and measuring where its ink lies against the polyline of the samples.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sig.h"

struct test_png {
	unsigned width, height;
	int color_type, bit_depth;
	bool has_phys;
	uint32_t ppm_x, ppm_y;
	int phys_unit;
	uint8_t *pixels; /* width * height grey bytes */
};

/* 0 or -EBADMSG; frees nothing on failure. */
int test_png_decode(const uint8_t *png, size_t len, struct test_png *out);
void test_png_release(struct test_png *p);

/* Expected picture size for s at o (the rule of docs/signature-series.md),
 * computed from the samples alone, and the pad position of pixel (0,0). */
void test_png_expected_geometry(const struct sig_signature *s, const struct sig_render_opts *o,
				unsigned *width, unsigned *height, double *origin_x_mm,
				double *origin_y_mm);

/* Pixels carrying any ink whose centre lies farther from every segment (and
 * every dot) than half the local pen width plus one pixel. */
size_t test_png_ink_off_path(const struct test_png *p, const struct sig_signature *s,
			     const struct sig_render_opts *o, double origin_x_mm,
			     double origin_y_mm);

/* Positions every 0.1 mm along the path whose pixel is less than half ink. */
size_t test_png_path_gaps(const struct test_png *p, const struct sig_signature *s,
			  double origin_x_mm, double origin_y_mm);

/* Pixels at least half ink in the column through pad position x_mm. */
unsigned test_png_column_ink(const struct test_png *p, double x_mm, double origin_x_mm);
