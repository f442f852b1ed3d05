/* Decoding and measuring rendered signatures for the tests (see the header). */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sig-png-check.h"

struct png_src {
	const uint8_t *data;
	size_t len, pos;
};

static void png_src_read(png_structp png, png_bytep out, png_size_t n)
{
	struct png_src *s = png_get_io_ptr(png);

	if (n > s->len - s->pos)
		png_error(png, "truncated");
	memcpy(out, s->data + s->pos, n);
	s->pos += n;
}

static int decode(png_structp png, png_infop info, struct png_src *src, struct test_png *out)
{
	png_uint_32 w, h, rx, ry;
	int depth, color, unit;

	if (setjmp(png_jmpbuf(png)))
		return -EBADMSG;
	png_set_read_fn(png, src, png_src_read);
	png_read_info(png, info);
	png_get_IHDR(png, info, &w, &h, &depth, &color, NULL, NULL, NULL);
	out->width = w;
	out->height = h;
	out->bit_depth = depth;
	out->color_type = color;
	out->has_phys = png_get_pHYs(png, info, &rx, &ry, &unit) != 0;
	if (out->has_phys) {
		out->ppm_x = rx;
		out->ppm_y = ry;
		out->phys_unit = unit;
	}
	if (depth != 8 || color != PNG_COLOR_TYPE_GRAY)
		return -EBADMSG;
	out->pixels = malloc((size_t)w * h);
	if (!out->pixels)
		return -ENOMEM;
	for (png_uint_32 y = 0; y < h; y++)
		png_read_row(png, out->pixels + (size_t)y * w, NULL);
	png_read_end(png, NULL);
	return 0;
}

int test_png_decode(const uint8_t *png_data, size_t len, struct test_png *out)
{
	struct png_src src = {.data = png_data, .len = len};
	png_structp png;
	png_infop info;
	int r;

	memset(out, 0, sizeof(*out));
	if (len < 8 || png_sig_cmp(png_data, 0, 8) != 0)
		return -EBADMSG;
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		png_destroy_read_struct(&png, NULL, NULL);
		return -ENOMEM;
	}
	r = decode(png, info, &src, out);
	png_destroy_read_struct(&png, &info, NULL);
	if (r < 0) {
		free(out->pixels);
		out->pixels = NULL;
	}
	return r;
}

void test_png_release(struct test_png *p)
{
	free(p->pixels);
	p->pixels = NULL;
}

void test_png_expected_geometry(const struct sig_signature *s, const struct sig_render_opts *o,
				unsigned *width, unsigned *height, double *origin_x_mm,
				double *origin_y_mm)
{
	double min_x = INFINITY, min_y = INFINITY, max_x = -INFINITY, max_y = -INFINITY;

	for (size_t i = 0; i < s->n_points; i++) {
		min_x = fmin(min_x, sig_x_mm(s, s->points[i].x));
		max_x = fmax(max_x, sig_x_mm(s, s->points[i].x));
		min_y = fmin(min_y, sig_y_mm(s, s->points[i].y));
		max_y = fmax(max_y, sig_y_mm(s, s->points[i].y));
	}
	*width = (unsigned)ceil((max_x - min_x + 2 * o->margin_mm) * o->dpi / 25.4 - 1e-6);
	*height = (unsigned)ceil((max_y - min_y + 2 * o->margin_mm) * o->dpi / 25.4 - 1e-6);
	*origin_x_mm = min_x - o->margin_mm;
	*origin_y_mm = min_y - o->margin_mm;
}

static double width_at(const struct sig_signature *s, const struct sig_render_opts *o,
		       const struct sig_point *p)
{
	if (!s->pressure_max)
		return o->max_width_mm;
	return o->min_width_mm +
	       (o->max_width_mm - o->min_width_mm) * p->pressure / (double)s->pressure_max;
}

static double seg_dist(double px, double py, double ax, double ay, double bx, double by)
{
	double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy, t = 0;

	if (l2 > 0)
		t = fmax(0, fmin(1, ((px - ax) * dx + (py - ay) * dy) / l2));
	return hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/* Is pad position (x, y) within reach of the ink of sample i (its dot, or
 * its segment from the previous sample of the same stroke)? */
static bool near_sample(const struct sig_signature *s, const struct sig_render_opts *o, size_t i,
			double x, double y, double px_mm)
{
	const struct sig_point *b = &s->points[i];
	double bx = sig_x_mm(s, b->x), by = sig_y_mm(s, b->y);
	double wb = width_at(s, o, b);

	if (hypot(x - bx, y - by) <= wb / 2 + px_mm)
		return true;
	if (i > 0 && !(b->flags & SIG_POINT_STROKE_START)) {
		const struct sig_point *a = &s->points[i - 1];
		double w = fmax(width_at(s, o, a), wb);

		return seg_dist(x, y, sig_x_mm(s, a->x), sig_y_mm(s, a->y), bx, by) <=
		       w / 2 + px_mm;
	}
	return false;
}

size_t test_png_ink_off_path(const struct test_png *p, const struct sig_signature *s,
			     const struct sig_render_opts *o, double origin_x_mm,
			     double origin_y_mm)
{
	double px_mm = 25.4 / o->dpi;
	size_t off = 0;

	for (unsigned y = 0; y < p->height; y++) {
		for (unsigned x = 0; x < p->width; x++) {
			double cx = origin_x_mm + (x + 0.5) * px_mm;
			double cy = origin_y_mm + (y + 0.5) * px_mm;
			bool near = false;

			if (p->pixels[(size_t)y * p->width + x] == 255)
				continue;
			for (size_t i = 0; i < s->n_points && !near; i++)
				near = near_sample(s, o, i, cx, cy, px_mm);
			if (!near) {
				if (off < 5)
					fprintf(
					    stderr,
					    "ink off the path at pixel %u,%u (%.2f mm, %.2f mm)\n",
					    x, y, cx, cy);
				off++;
			}
		}
	}
	return off;
}

static bool dark_at(const struct test_png *p, double x_mm, double y_mm, double origin_x_mm,
		    double origin_y_mm, double px_mm)
{
	long x = lround(floor((x_mm - origin_x_mm) / px_mm));
	long y = lround(floor((y_mm - origin_y_mm) / px_mm));

	if (x < 0 || y < 0 || x >= (long)p->width || y >= (long)p->height)
		return false;
	return p->pixels[(size_t)y * p->width + (size_t)x] < 128;
}

size_t test_png_path_gaps(const struct test_png *p, const struct sig_signature *s,
			  double origin_x_mm, double origin_y_mm)
{
	double px_mm = 0;
	size_t gaps = 0;

	/* the picture's own scale: its pHYs says the DPI */
	px_mm = 1000.0 / p->ppm_x;
	for (size_t i = 0; i < s->n_points; i++) {
		const struct sig_point *b = &s->points[i];
		double bx = sig_x_mm(s, b->x), by = sig_y_mm(s, b->y);

		if (i == 0 || (b->flags & SIG_POINT_STROKE_START)) {
			gaps += !dark_at(p, bx, by, origin_x_mm, origin_y_mm, px_mm);
			continue;
		}
		{
			const struct sig_point *a = &s->points[i - 1];
			double ax = sig_x_mm(s, a->x), ay = sig_y_mm(s, a->y);
			double len = hypot(bx - ax, by - ay);
			int steps = (int)ceil(len / 0.1);

			for (int k = 0; k <= steps; k++) {
				double t = steps ? (double)k / steps : 0;

				if (!dark_at(p, ax + t * (bx - ax), ay + t * (by - ay), origin_x_mm,
					     origin_y_mm, px_mm)) {
					if (gaps < 5)
						fprintf(stderr,
							"path not inked at %.2f mm, %.2f mm\n",
							ax + t * (bx - ax), ay + t * (by - ay));
					gaps++;
				}
			}
		}
	}
	return gaps;
}

unsigned test_png_column_ink(const struct test_png *p, double x_mm, double origin_x_mm)
{
	double px_mm = 1000.0 / p->ppm_x;
	long x = lround(floor((x_mm - origin_x_mm) / px_mm));
	unsigned n = 0;

	if (x < 0 || x >= (long)p->width)
		return 0;
	for (unsigned y = 0; y < p->height; y++)
		n += p->pixels[(size_t)y * p->width + (size_t)x] < 128;
	return n;
}
