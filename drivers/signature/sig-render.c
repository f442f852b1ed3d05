/*
 * Signature to picture: cairo draws the strokes in millimetres onto an
 * 8-bit alpha surface scaled to the DPI, anti-aliased, each segment as wide
 * as the pen's pressure at its ends says; the picture covers the ink's
 * bounding box plus a margin, so its pixel size is the ink's physical
 * extent at that DPI. libpng writes it as 8-bit grey with the DPI in the
 * pHYs chunk (cairo's own PNG writer has no way to set pHYs), so a printer
 * or a viewer reproduces the signature at its true size.
 */
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "retas-i18n.h"
#include "sig.h"

void sig_render_opts_defaults(struct sig_render_opts *o)
{
	*o = (struct sig_render_opts){
	    .dpi = SIG_DEFAULT_DPI,
	    .margin_mm = 3.0,
	    .min_width_mm = 0.3,
	    .max_width_mm = 0.8,
	};
}

void sig_image_free(struct sig_image *img)
{
	if (!img)
		return;
	free(img->pixels);
	free(img);
}

static bool opts_valid(const struct sig_render_opts *o)
{
	return o->dpi >= SIG_MIN_DPI && o->dpi <= SIG_MAX_DPI && isfinite(o->min_width_mm) &&
	       isfinite(o->max_width_mm) && isfinite(o->margin_mm) && o->min_width_mm > 0 &&
	       o->max_width_mm >= o->min_width_mm && o->max_width_mm <= 10.0 &&
	       /* the margin holds the widest pen around the outermost samples */
	       o->margin_mm >= o->max_width_mm / 2 && o->margin_mm <= 100.0;
}

static double pen_width(const struct sig_signature *s, const struct sig_render_opts *o,
			const struct sig_point *p)
{
	double f;

	if (!s->pressure_max)
		return o->max_width_mm;
	f = (double)p->pressure / s->pressure_max;
	if (f > 1)
		f = 1;
	return o->min_width_mm + (o->max_width_mm - o->min_width_mm) * f;
}

/* Pixels covering extent_mm at dpi, rounded up; the tolerance keeps an
 * exact fit (e.g. 25.4 mm at 300 DPI) from gaining a column to rounding. */
static double px_for_mm(double extent_mm, unsigned dpi)
{
	return ceil(extent_mm * dpi / 25.4 - 1e-6);
}

/*
 * Consecutive segments whose widths agree to a quarter pixel share one
 * path, joined round; a new width starts a new path at the shared point.
 * Pressure changes slowly along a stroke, so most strokes need few paths.
 */
static void draw_stroke(cairo_t *cr, const struct sig_signature *s, const struct sig_render_opts *o,
			size_t from, size_t to, double quantum)
{
	const struct sig_point *pts = s->points;
	double cur = -1;

	if (to - from == 1) {
		/* a dot: a degenerate subpath gets a round cap, i.e. a disc */
		cairo_set_line_width(cr, pen_width(s, o, &pts[from]));
		cairo_move_to(cr, sig_x_mm(s, pts[from].x), sig_y_mm(s, pts[from].y));
		cairo_line_to(cr, sig_x_mm(s, pts[from].x), sig_y_mm(s, pts[from].y));
		cairo_stroke(cr);
		return;
	}
	for (size_t i = from + 1; i < to; i++) {
		double w = (pen_width(s, o, &pts[i - 1]) + pen_width(s, o, &pts[i])) / 2;

		w = fmax(quantum, round(w / quantum) * quantum);
		if (w != cur) {
			if (cur > 0)
				cairo_stroke(cr);
			cairo_set_line_width(cr, w);
			cairo_move_to(cr, sig_x_mm(s, pts[i - 1].x), sig_y_mm(s, pts[i - 1].y));
			cur = w;
		}
		cairo_line_to(cr, sig_x_mm(s, pts[i].x), sig_y_mm(s, pts[i].y));
	}
	cairo_stroke(cr);
}

int sig_render(const struct sig_signature *s, const struct sig_render_opts *o,
	       struct sig_image **out)
{
	double min_x = INFINITY, min_y = INFINITY, max_x = -INFINITY, max_y = -INFINITY;
	double w_px, h_px, scale;
	cairo_surface_t *surf = NULL;
	cairo_t *cr = NULL;
	struct sig_image *img = NULL;
	const uint8_t *data;
	int stride, r;

	if (!opts_valid(o) || !s->n_points || !s->x_units_per_m || !s->y_units_per_m)
		return -EINVAL;
	for (size_t i = 0; i < s->n_points; i++) {
		double x = sig_x_mm(s, s->points[i].x), y = sig_y_mm(s, s->points[i].y);

		min_x = fmin(min_x, x);
		max_x = fmax(max_x, x);
		min_y = fmin(min_y, y);
		max_y = fmax(max_y, y);
	}
	w_px = px_for_mm(max_x - min_x + 2 * o->margin_mm, o->dpi);
	h_px = px_for_mm(max_y - min_y + 2 * o->margin_mm, o->dpi);
	if (w_px > SIG_MAX_IMAGE_SIDE || h_px > SIG_MAX_IMAGE_SIDE)
		return -E2BIG;

	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	img->width = (unsigned)w_px;
	img->height = (unsigned)h_px;
	img->dpi = o->dpi;
	img->origin_x_mm = min_x - o->margin_mm;
	img->origin_y_mm = min_y - o->margin_mm;
	img->pixels = malloc((size_t)img->width * img->height);
	r = -ENOMEM;
	if (!img->pixels)
		goto out;

	surf = cairo_image_surface_create(CAIRO_FORMAT_A8, (int)img->width, (int)img->height);
	if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS)
		goto out;
	cr = cairo_create(surf);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
		goto out;
	scale = o->dpi / 25.4;
	cairo_scale(cr, scale, scale);
	cairo_translate(cr, -img->origin_x_mm, -img->origin_y_mm);
	cairo_set_antialias(cr, CAIRO_ANTIALIAS_GRAY);
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	cairo_set_source_rgba(cr, 0, 0, 0, 1);
	for (size_t from = 0, i = 1; i <= s->n_points; i++) {
		if (i == s->n_points || (s->points[i].flags & SIG_POINT_STROKE_START)) {
			draw_stroke(cr, s, o, from, i, 0.25 / scale);
			from = i;
		}
	}
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
		goto out;
	cairo_surface_flush(surf);
	data = cairo_image_surface_get_data(surf);
	stride = cairo_image_surface_get_stride(surf);
	for (unsigned y = 0; y < img->height; y++) {
		const uint8_t *src = data + (size_t)y * (size_t)stride;
		uint8_t *dst = img->pixels + (size_t)y * img->width;

		for (unsigned x = 0; x < img->width; x++)
			dst[x] = (uint8_t)(255 - src[x]);
	}
	*out = img;
	img = NULL;
	r = 0;
out:
	if (cr)
		cairo_destroy(cr);
	if (surf)
		cairo_surface_destroy(surf);
	sig_image_free(img);
	return r;
}

struct png_mem {
	uint8_t *data;
	size_t len, cap;
};

static void png_mem_write(png_structp png, png_bytep bytes, png_size_t n)
{
	struct png_mem *m = png_get_io_ptr(png);

	if (n > m->cap - m->len) {
		size_t cap = m->cap ? m->cap : 4096;
		uint8_t *d;

		while (cap - m->len < n)
			cap *= 2;
		d = realloc(m->data, cap);
		if (!d)
			png_error(png, "out of memory");
		m->data = d;
		m->cap = cap;
	}
	memcpy(m->data + m->len, bytes, n);
	m->len += n;
}

static void png_mem_flush(png_structp png)
{
}

/* Library code stays quiet: errors return through longjmp, warnings vanish. */
static void png_quiet_error(png_structp png, png_const_charp msg)
{
	png_longjmp(png, 1);
}

static void png_quiet_warning(png_structp png, png_const_charp msg)
{
}

static int png_encode(png_structp png, png_infop info, const struct sig_image *img,
		      struct png_mem *m)
{
	png_uint_32 ppm = (png_uint_32)lround(img->dpi / 0.0254);

	if (setjmp(png_jmpbuf(png)))
		return -ENOMEM;
	png_set_write_fn(png, m, png_mem_write, png_mem_flush);
	png_set_IHDR(png, info, img->width, img->height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
	png_write_info(png, info);
	for (unsigned y = 0; y < img->height; y++)
		png_write_row(png, img->pixels + (size_t)y * img->width);
	png_write_end(png, info);
	return 0;
}

int sig_image_to_png(const struct sig_image *img, uint8_t **out, size_t *out_len)
{
	struct png_mem m = {0};
	png_structp png;
	png_infop info;
	int r;

	if (!img->width || !img->height || !img->dpi)
		return -EINVAL;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_quiet_error,
				      png_quiet_warning);
	if (!png)
		return -ENOMEM;
	info = png_create_info_struct(png);
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return -ENOMEM;
	}
	r = png_encode(png, info, img, &m);
	png_destroy_write_struct(&png, &info);
	if (r < 0) {
		free(m.data);
		return r;
	}
	*out = m.data;
	*out_len = m.len;
	return 0;
}

int sig_render_png(const struct sig_signature *s, const struct sig_render_opts *o, uint8_t **out,
		   size_t *out_len, struct retas_error *err)
{
	_cleanup_(sig_image_freep) struct sig_image *img = NULL;
	int r;

	r = sig_render(s, o, &img);
	if (r == -EINVAL)
		return retas_error_set(err, r, "signature.render",
				       N_("The signature cannot be drawn: no samples, or the "
					  "DPI (%u), margin or pen widths are out of range."),
				       o->dpi);
	if (r == -E2BIG)
		return retas_error_set(err, r, "signature.too_big",
				       N_("The signature picture would exceed %d pixels a side "
					  "at %u DPI."),
				       SIG_MAX_IMAGE_SIDE, o->dpi);
	if (r < 0)
		return retas_error_set(err, r, "signature.render",
				       N_("Drawing the signature failed: %s."), strerror(-r));
	r = sig_image_to_png(img, out, out_len);
	if (r < 0)
		return retas_error_set(err, r, "signature.png",
				       N_("Encoding the signature as PNG failed: %s."),
				       strerror(-r));
	return 0;
}
