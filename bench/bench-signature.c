/*
 * Rendering a 2000-sample signature at 300 and 600 DPI with sig_render()
 * (pressure-dependent widths, cropping, grey conversion), against the
 * baseline of cairo stroking the same polyline once, at one width, onto a
 * surface of the same size with no processing at all. Both run here, in
 * the same process, and the ratio is what to watch: it is the price of
 * drawing the pen's pressure. The PNG encoding is timed on its own.
 */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sig.h"

#define N_POINTS 2000
#define N_STROKES 5

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* Five strokes of cursive loops across 110 x 35 mm of a 100 units/mm pad,
 * 5 ms apart, with a hand's wavering pressure. */
static struct sig_signature *make_signature(void)
{
	struct sig_signature *s = sig_signature_new(100000, 100000, 15200, 9500, 2047);
	int per = N_POINTS / N_STROKES;

	if (!s)
		exit(1);
	for (int i = 0; i < N_POINTS; i++) {
		int k = i / per, j = i % per;
		double u = (double)j / (per - 1), a = u * 6 * M_PI;
		struct sig_point p = {
		    .t_ms = (uint32_t)i * 5,
		    .x = (int32_t)(2000 + k * 2200 + 1900 * u + 500 * cos(a)),
		    .y = (int32_t)(4000 + 1300 * sin(a) * (0.6 + 0.4 * sin(k + u * 3))),
		    .pressure =
			(uint16_t)(300 + 1500 * fabs(sin(u * M_PI)) * (0.8 + 0.2 * sin(i * 0.37))),
		    .flags = j == 0 ? SIG_POINT_STROKE_START : 0,
		};

		if (sig_signature_append(s, &p) < 0)
			exit(1);
	}
	return s;
}

/* The baseline: one path, one width, one stroke, nothing else. */
static void cairo_polyline(const struct sig_signature *s, const struct sig_image *geom,
			   double width_mm)
{
	cairo_surface_t *surf =
	    cairo_image_surface_create(CAIRO_FORMAT_A8, (int)geom->width, (int)geom->height);
	cairo_t *cr = cairo_create(surf);
	double scale = geom->dpi / 25.4;

	cairo_scale(cr, scale, scale);
	cairo_translate(cr, -geom->origin_x_mm, -geom->origin_y_mm);
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	cairo_set_line_width(cr, width_mm);
	for (size_t i = 0; i < s->n_points; i++) {
		double x = sig_x_mm(s, s->points[i].x), y = sig_y_mm(s, s->points[i].y);

		if (s->points[i].flags & SIG_POINT_STROKE_START)
			cairo_move_to(cr, x, y);
		else
			cairo_line_to(cr, x, y);
	}
	cairo_stroke(cr);
	cairo_surface_flush(surf);
	cairo_destroy(cr);
	cairo_surface_destroy(surf);
}

static int bench_dpi(const struct sig_signature *s, unsigned dpi, int runs)
{
	struct sig_render_opts o;
	struct sig_image *img = NULL;
	double *ours = calloc((size_t)runs, sizeof(double));
	double *base = calloc((size_t)runs, sizeof(double));
	double *enc = calloc((size_t)runs, sizeof(double));
	double m_ours, m_base, m_enc;
	unsigned w = 0, h = 0;
	size_t png_len = 0;

	if (!ours || !base || !enc)
		return 1;
	sig_render_opts_defaults(&o);
	o.dpi = dpi;
	for (int r = 0; r < runs; r++) {
		uint8_t *png = NULL;
		double t0, t1, t2, t3;

		/* interleaved, so drift in the machine's load hits both alike */
		t0 = now_s();
		if (sig_render(s, &o, &img) < 0)
			return 1;
		t1 = now_s();
		cairo_polyline(s, img, o.max_width_mm);
		t2 = now_s();
		if (sig_image_to_png(img, &png, &png_len) < 0)
			return 1;
		t3 = now_s();
		ours[r] = t1 - t0;
		base[r] = t2 - t1;
		enc[r] = t3 - t2;
		w = img->width;
		h = img->height;
		free(png);
		sig_image_free(img);
		img = NULL;
	}
	m_ours = median(ours, runs);
	m_base = median(base, runs);
	m_enc = median(enc, runs);
	printf("%u DPI, %d samples, %ux%u px (median of %d runs)\n", dpi, N_POINTS, w, h, runs);
	printf("  sig_render (pressure widths, crop, grey): %8.2f ms\n", m_ours * 1e3);
	printf("  baseline: cairo polyline, one width:      %8.2f ms\n", m_base * 1e3);
	printf("  ratio sig_render / baseline:              %8.2f\n", m_ours / m_base);
	printf("  PNG encoding (libpng, pHYs), %zu bytes:   %8.2f ms\n", png_len, m_enc * 1e3);
	free(ours);
	free(base);
	free(enc);
	return 0;
}

int main(void)
{
	struct sig_signature *s = make_signature();
	int r;

	printf("Signature rendering: %d samples in %d strokes, %.0f mm of ink\n", N_POINTS,
	       N_STROKES, sig_signature_ink_mm(s));
	r = bench_dpi(s, 300, 31);
	if (r == 0)
		r = bench_dpi(s, 600, 15);
	sig_signature_free(s);
	return r;
}
