/*
 * PNG through libpng with memory callbacks. libpng reports errors by
 * longjmp: every local the error path uses is set before setjmp and not
 * changed after it (the decoder's state pointer is volatile only to tell
 * the compiler so); what is allocated after setjmp hangs off that state.
 */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "fp-png.h"
#include "retas-i18n.h"

#define INCH_M 0.0254

struct sink {
	uint8_t *data;
	size_t len;
	size_t cap;
};

struct source {
	const uint8_t *data;
	size_t len;
	size_t pos;
};

static void png_fail(png_structp png, png_const_charp msg)
{
	png_longjmp(png, 1);
}

static void png_quiet(png_structp png, png_const_charp msg)
{
}

static void sink_write(png_structp png, png_bytep data, size_t len)
{
	struct sink *s = png_get_io_ptr(png);

	if (len > s->cap - s->len) {
		size_t cap = s->cap ? s->cap : 8192;
		uint8_t *p;

		while (cap - s->len < len)
			cap *= 2;
		p = realloc(s->data, cap);
		if (!p)
			png_error(png, "out of memory");
		s->data = p;
		s->cap = cap;
	}
	memcpy(s->data + s->len, data, len);
	s->len += len;
}

static void sink_flush(png_structp png)
{
}

static void source_read(png_structp png, png_bytep data, size_t len)
{
	struct source *s = png_get_io_ptr(png);

	if (len > s->len - s->pos)
		png_error(png, "truncated");
	memcpy(data, s->data + s->pos, len);
	s->pos += len;
}

int fp_png_encode(const struct fp_image *img, unsigned ppi, uint8_t **out, size_t *out_len,
		  struct retas_error *err)
{
	png_structp png = NULL;
	png_infop info = NULL;
	png_bytep *rows = NULL;
	struct sink sink = {0};
	int r;

	rows = malloc(img->height * sizeof(*rows));
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail, png_quiet);
	if (png)
		info = png_create_info_struct(png);
	if (!rows || !png || !info) {
		r = retas_error_set(err, -ENOMEM, "fp.nomem", N_("Out of memory."));
		goto out;
	}
	for (unsigned y = 0; y < img->height; y++)
		rows[y] = img->pixels + (size_t)y * img->width;
	if (setjmp(png_jmpbuf(png))) {
		r = retas_error_set(err, -ENOMEM, "fp.png.encode",
				    N_("Could not encode the fingerprint image as PNG."));
		goto out;
	}
	png_set_write_fn(png, &sink, sink_write, sink_flush);
	png_set_IHDR(png, info, img->width, img->height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (ppi) {
		png_uint_32 ppm = (png_uint_32)lround(ppi / INCH_M);

		png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
	}
	png_write_info(png, info);
	png_write_image(png, rows);
	png_write_end(png, NULL);
	*out = sink.data;
	*out_len = sink.len;
	sink.data = NULL;
	r = 0;
out:
	png_destroy_write_struct(&png, &info);
	free(sink.data);
	free(rows);
	return r;
}

struct decode_state {
	struct fp_image *img;
	png_bytep *rows;
};

int fp_png_decode(const uint8_t *buf, size_t len, struct fp_image **out, unsigned *ppi,
		  struct retas_error *err)
{
	struct source src = {.data = buf, .len = len};
	struct decode_state *volatile st = NULL;
	png_structp png = NULL;
	png_infop info = NULL;
	png_uint_32 w, h, xres = 0, yres = 0;
	int depth, color, interlace, unit = 0, r;

	if (len < 8 || png_sig_cmp(buf, 0, 8) != 0) {
		r = retas_error_set(err, -EINVAL, "fp.png.corrupt",
				    N_("The fingerprint image is not a PNG."));
		goto out;
	}
	/* What the decode allocates lives on the heap, reached through a
	 * pointer set before setjmp, so the error path sees it after a jump. */
	st = calloc(1, sizeof(*st));
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail, png_quiet);
	if (png)
		info = png_create_info_struct(png);
	if (!st || !png || !info) {
		r = retas_error_set(err, -ENOMEM, "fp.nomem", N_("Out of memory."));
		goto out;
	}
	if (setjmp(png_jmpbuf(png))) {
		r = retas_error_set(err, -EINVAL, "fp.png.corrupt",
				    N_("The fingerprint image PNG is damaged."));
		goto out;
	}
	png_set_user_limits(png, FP_IMAGE_MAX_SIDE, FP_IMAGE_MAX_SIDE);
	png_set_read_fn(png, &src, source_read);
	png_read_info(png, info);
	png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
	if (color != PNG_COLOR_TYPE_GRAY || depth != 8) {
		r = retas_error_set(err, -ENOTSUP, "fp.png.format",
				    N_("The fingerprint image PNG is not 8-bit greyscale."));
		goto out;
	}
	if (png_get_valid(png, info, PNG_INFO_pHYs))
		png_get_pHYs(png, info, &xres, &yres, &unit);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	st->img = fp_image_new(w, h);
	st->rows = st->img ? malloc(h * sizeof(png_bytep)) : NULL;
	if (!st->img || !st->rows) {
		r = retas_error_set(err, -ENOMEM, "fp.nomem", N_("Out of memory."));
		goto out;
	}
	for (png_uint_32 y = 0; y < h; y++)
		st->rows[y] = st->img->pixels + (size_t)y * w;
	png_read_image(png, st->rows);
	png_read_end(png, NULL);
	if (ppi)
		*ppi = unit == PNG_RESOLUTION_METER ? (unsigned)lround(xres * INCH_M) : 0;
	*out = st->img;
	st->img = NULL;
	r = 0;
out:
	png_destroy_read_struct(&png, &info, NULL);
	if (st) {
		fp_image_free(st->img);
		free(st->rows);
		free(st);
	}
	return r;
}
