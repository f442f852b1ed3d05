/*
 * Face photo normalisation (see cam-photo.h).
 *
 * A 24-megapixel original is far larger than the 600x800 portrait a record
 * needs, so the decoder does most of the shrinking: libjpeg-turbo's DCT
 * scaling decodes at n/8 of the size for little more than the entropy
 * decoding, jpeg_crop_scanline() and jpeg_skip_scanlines() leave out what
 * the centre crop drops, and only the rows of the crop are decoded. The rest
 * (orientation, the last bit of scaling with a triangle filter, the hints) is
 * done on a picture of about a megapixel.
 *
 * libjpeg reports fatal errors through error_exit, which must not return:
 * it longjmps back here. Everything that must be freed after such a jump
 * lives in a heap-allocated struct decode, so no local changes between
 * setjmp and longjmp. Warnings (corrupt data, premature end) are collected
 * and turn the photo down: a damaged photo must be taken again.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "cam-photo.h"
#include "retas-i18n.h"

/* Larger originals are refused rather than allocated for: 100 megapixels is
 * above any camera the kit meets, and a forged header cannot claim more. */
#define MAX_SOURCE_PIXELS (100ull * 1000 * 1000)

void cam_photo_opts_default(struct cam_photo_opts *o)
{
	o->width = 600;
	o->height = 800;
	o->quality = 90;
	o->dark_below = 70;
	o->bright_above = 190;
	o->blur_below = 40;
}

/* --- EXIF ------------------------------------------------------------------ */

static unsigned rd16(const uint8_t *p, int be)
{
	return be ? (unsigned)(p[0] << 8 | p[1]) : (unsigned)(p[1] << 8 | p[0]);
}

static uint32_t rd32(const uint8_t *p, int be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int cam_exif_orientation(const uint8_t *app1, size_t len)
{
	const uint8_t *t;
	size_t tlen, n;
	uint32_t ifd;
	int be;

	if (!app1 || len < 6 + 8 || memcmp(app1, "Exif\0\0", 6) != 0)
		return 1;
	t = app1 + 6;
	tlen = len - 6;
	if (t[0] == 'I' && t[1] == 'I')
		be = 0;
	else if (t[0] == 'M' && t[1] == 'M')
		be = 1;
	else
		return 1;
	if (rd16(t + 2, be) != 42)
		return 1;
	ifd = rd32(t + 4, be);
	if (ifd > tlen || tlen - ifd < 2)
		return 1;
	n = rd16(t + ifd, be);
	for (size_t i = 0; i < n; i++) {
		size_t e = ifd + 2 + 12 * i;
		unsigned v;

		if (e > tlen || tlen - e < 12)
			break;
		if (rd16(t + e, be) != 0x0112)
			continue;
		if (rd16(t + e + 2, be) != 3 || rd32(t + e + 4, be) != 1)
			return 1;
		v = rd16(t + e + 8, be);
		return v >= 1 && v <= 8 ? (int)v : 1;
	}
	return 1;
}

/* Stored pixel for displayed pixel (dx, dy) of a stored sw x sh picture. */
static void from_display(int o, int dx, int dy, int sw, int sh, int *x, int *y)
{
	switch (o) {
	case 2:
		*x = sw - 1 - dx;
		*y = dy;
		break;
	case 3:
		*x = sw - 1 - dx;
		*y = sh - 1 - dy;
		break;
	case 4:
		*x = dx;
		*y = sh - 1 - dy;
		break;
	case 5:
		*x = dy;
		*y = dx;
		break;
	case 6:
		*x = dy;
		*y = sh - 1 - dx;
		break;
	case 7:
		*x = sw - 1 - dy;
		*y = sh - 1 - dx;
		break;
	case 8:
		*x = sw - 1 - dy;
		*y = dx;
		break;
	default:
		*x = dx;
		*y = dy;
		break;
	}
}

/* --- decoding -------------------------------------------------------------- */

struct decode {
	struct jpeg_decompress_struct cinfo;
	struct jpeg_error_mgr jerr;
	jmp_buf jump;
	bool created;
	char fatal[JMSG_LENGTH_MAX];
	char warning[JMSG_LENGTH_MAX];
	unsigned warnings;
	uint8_t *row;  /* one decoded (cropped) row */
	uint8_t *crop; /* the crop as stored, scaled */
	uint8_t *up;   /* the crop upright */
	uint8_t *tmp;  /* after the horizontal pass */
	uint8_t *out;  /* final RGB */
	unsigned char *jpeg_out;
	struct jpeg_compress_struct enc;
	bool enc_created;
	const uint8_t *in;
	size_t in_len;
	struct cam_photo_opts opts;
	struct cam_photo res;
};

static void on_error_exit(j_common_ptr cinfo)
{
	struct decode *st = (struct decode *)cinfo->client_data;

	cinfo->err->format_message(cinfo, st->fatal);
	longjmp(st->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level)
{
	struct decode *st = (struct decode *)cinfo->client_data;

	if (level >= 0)
		return; /* trace messages */
	if (st->warnings++ == 0)
		cinfo->err->format_message(cinfo, st->warning);
}

static void decode_free(struct decode *st)
{
	if (st->created)
		jpeg_destroy_decompress(&st->cinfo);
	if (st->enc_created)
		jpeg_destroy_compress(&st->enc);
	free(st->row);
	free(st->crop);
	free(st->up);
	free(st->tmp);
	free(st->out);
	free(st->jpeg_out);
	free(st);
}

/* --- resampling ------------------------------------------------------------ */

struct taps {
	int first;
	int count;
	float w[64];
};

/*
 * Triangle-filter weights for scaling n source samples to m: bilinear when
 * enlarging, an averaging tent as wide as the scale when shrinking. The DCT
 * scaling leaves at most a factor of 2 here, so a few taps suffice; the 64
 * cap only bounds a degenerate request.
 */
static int make_taps(int n, int m, struct taps **out)
{
	struct taps *t = calloc((size_t)m, sizeof(*t));
	double scale = (double)n / m, support = scale > 1 ? scale : 1;

	if (!t)
		return -ENOMEM;
	if (support > 31)
		support = 31;
	for (int i = 0; i < m; i++) {
		double centre = (i + 0.5) * scale - 0.5, sum = 0;
		int lo = (int)ceil(centre - support), hi = (int)floor(centre + support);

		if (lo < 0)
			lo = 0;
		if (hi > n - 1)
			hi = n - 1;
		if (hi < lo)
			hi = lo = centre < 0 ? 0 : n - 1;
		if (hi - lo + 1 > 64)
			hi = lo + 63;
		t[i].first = lo;
		t[i].count = hi - lo + 1;
		for (int j = lo; j <= hi; j++) {
			double w = 1 - fabs(j - centre) / support;

			t[i].w[j - lo] = (float)(w > 0 ? w : 0);
			sum += t[i].w[j - lo];
		}
		for (int j = 0; j < t[i].count; j++)
			t[i].w[j] = sum > 0 ? (float)(t[i].w[j] / sum) : 1.0f / (float)t[i].count;
	}
	*out = t;
	return 0;
}

static uint8_t to8(float v)
{
	return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5f);
}

/* Scales an RGB picture sw x sh to dw x dh. */
static int resample(const uint8_t *src, int sw, int sh, uint8_t *tmp, uint8_t *dst, int dw, int dh)
{
	struct taps *tx = NULL, *ty = NULL;
	int r;

	r = make_taps(sw, dw, &tx);
	if (r >= 0)
		r = make_taps(sh, dh, &ty);
	if (r < 0)
		goto out;
	for (int y = 0; y < sh; y++) {
		const uint8_t *s = src + (size_t)y * sw * 3;
		uint8_t *d = tmp + (size_t)y * dw * 3;

		for (int x = 0; x < dw; x++) {
			float a = 0, b = 0, c = 0;
			const uint8_t *p = s + 3 * tx[x].first;

			for (int k = 0; k < tx[x].count; k++, p += 3) {
				a += tx[x].w[k] * p[0];
				b += tx[x].w[k] * p[1];
				c += tx[x].w[k] * p[2];
			}
			d[3 * x] = to8(a);
			d[3 * x + 1] = to8(b);
			d[3 * x + 2] = to8(c);
		}
	}
	for (int y = 0; y < dh; y++) {
		uint8_t *d = dst + (size_t)y * dw * 3;

		for (int x = 0; x < dw * 3; x++) {
			float a = 0;

			for (int k = 0; k < ty[y].count; k++)
				a += ty[y].w[k] * tmp[(size_t)(ty[y].first + k) * dw * 3 + x];
			d[x] = to8(a);
		}
	}
out:
	free(tx);
	free(ty);
	return r;
}

/* --- hints ----------------------------------------------------------------- */

static void measure(const uint8_t *rgb, int w, int h, double *mean, double *lap_var)
{
	uint8_t *g = malloc((size_t)w * h);
	double sum = 0, s1 = 0, s2 = 0;
	size_t n = 0;

	if (!g) {
		*mean = *lap_var = 0;
		return;
	}
	for (size_t i = 0; i < (size_t)w * h; i++) {
		const uint8_t *p = rgb + 3 * i;

		g[i] = (uint8_t)((299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000);
		sum += g[i];
	}
	for (int y = 1; y < h - 1; y++) {
		for (int x = 1; x < w - 1; x++) {
			const uint8_t *p = g + (size_t)y * w + x;
			double l = p[-1] + p[1] + p[-w] + p[w] - 4.0 * p[0];

			s1 += l;
			s2 += l * l;
			n++;
		}
	}
	*mean = sum / ((double)w * h);
	*lap_var = n ? s2 / (double)n - (s1 / (double)n) * (s1 / (double)n) : 0;
	free(g);
}

static void add_hints(struct cam_photo *p, const struct cam_photo_opts *o)
{
	double exposure = 1, sharp = 1;

	p->n_hints = 0;
	if (p->mean_luma < o->dark_below) {
		p->hints[p->n_hints++] =
		    (struct cam_hint){CAM_HINT_DARK, "photo.dark", p->mean_luma, o->dark_below};
		exposure = p->mean_luma / o->dark_below;
	} else if (p->mean_luma > o->bright_above) {
		p->hints[p->n_hints++] = (struct cam_hint){CAM_HINT_BRIGHT, "photo.bright",
							   p->mean_luma, o->bright_above};
		exposure = (255 - p->mean_luma) / (255 - o->bright_above);
	}
	if (p->sharpness < o->blur_below) {
		p->hints[p->n_hints++] = (struct cam_hint){CAM_HINT_BLURRED, "photo.blurred",
							   p->sharpness, o->blur_below};
		sharp = p->sharpness / o->blur_below;
	}
	if (exposure < 0)
		exposure = 0;
	p->quality_score = p->n_hints ? (int)floor(99 * exposure * sharp) : 100;
}

void cam_hint_describe(const struct cam_hint *h, char *buf, size_t size)
{
	switch (h->kind) {
	case CAM_HINT_DARK:
		snprintf(buf, size,
			 _("Too dark: mean brightness %.0f is below %.0f. Add light or face the "
			   "student towards it."),
			 h->value, h->threshold);
		break;
	case CAM_HINT_BRIGHT:
		snprintf(buf, size,
			 _("Too bright: mean brightness %.0f is above %.0f. Reduce the light or "
			   "the flash."),
			 h->value, h->threshold);
		break;
	case CAM_HINT_BLURRED:
		snprintf(buf, size,
			 _("Blurred: sharpness %.1f is below %.1f. Refocus and keep the camera "
			   "and the student still."),
			 h->value, h->threshold);
		break;
	}
}

/* --- the pipeline ------------------------------------------------------------ */

static int check_opts(const struct cam_photo_opts *o, struct retas_error *err)
{
	if (o->width < 16 || o->height < 16 || o->width > 4000 || o->height > 4000 ||
	    o->quality < 1 || o->quality > 100)
		return retas_error_set(err, -EINVAL, "photo.config",
				       N_("The photo size %dx%d or quality %d is out of range."),
				       o->width, o->height, o->quality);
	return 0;
}

static int damaged(struct decode *st, struct retas_error *err)
{
	return retas_error_set(err, -EBADMSG, "photo.damaged",
			       N_("The photo is damaged (%s). Take it again."),
			       st->fatal[0] ? st->fatal : st->warning);
}

/* Encodes the final RGB into st->jpeg_out. */
static void encode(struct decode *st, int w, int h, int quality, unsigned long *len)
{
	st->enc.err = &st->jerr;
	st->enc.client_data = st;
	jpeg_create_compress(&st->enc);
	st->enc_created = true;
	jpeg_mem_dest(&st->enc, &st->jpeg_out, len);
	st->enc.image_width = (JDIMENSION)w;
	st->enc.image_height = (JDIMENSION)h;
	st->enc.input_components = 3;
	st->enc.in_color_space = JCS_RGB;
	jpeg_set_defaults(&st->enc);
	jpeg_set_quality(&st->enc, quality, TRUE);
	jpeg_start_compress(&st->enc, TRUE);
	while (st->enc.next_scanline < st->enc.image_height) {
		JSAMPROW row = st->out + (size_t)st->enc.next_scanline * w * 3;

		jpeg_write_scanlines(&st->enc, &row, 1);
	}
	jpeg_finish_compress(&st->enc);
}

/*
 * The decode proper. Only st and err are used after setjmp, and neither
 * changes, so nothing is clobbered by a longjmp from libjpeg.
 */
static int run(struct decode *st, struct retas_error *err)
{
	struct jpeg_decompress_struct *ci = &st->cinfo;
	const struct cam_photo_opts *opts = &st->opts;
	struct cam_photo *res = &st->res;
	int sw, sh, tw = opts->width, th = opts->height;
	int o, ow, oh, cw, ch, cx, cy, x0, y0, x1, y1, m, r;
	int sx0, sy0, sx1, sy1, scw, sch, ocw, och;
	JDIMENSION xoff, xwidth;
	unsigned long olen;

	if (setjmp(st->jump))
		return damaged(st, err);
	o = 1;
	olen = 0;
	jpeg_create_decompress(ci);
	st->created = true;
	jpeg_mem_src(ci, st->in, (unsigned long)st->in_len);
	jpeg_save_markers(ci, JPEG_APP0 + 1, 0xFFFF);
	jpeg_read_header(ci, TRUE);
	sw = (int)ci->image_width;
	sh = (int)ci->image_height;

	for (jpeg_saved_marker_ptr mk = ci->marker_list; mk; mk = mk->next) {
		if (mk->marker == JPEG_APP0 + 1 &&
		    (o = cam_exif_orientation(mk->data, mk->data_length)) != 1)
			break;
	}
	if ((uint64_t)sw * (uint64_t)sh > MAX_SOURCE_PIXELS)
		return retas_error_set(err, -EFBIG, "photo.too_large",
				       N_("The photo is %dx%d pixels, more than the kit accepts."),
				       sw, sh);
	if (ci->num_components != 1 && ci->num_components != 3)
		return retas_error_set(
		    err, -EBADMSG, "photo.unsupported",
		    N_("The photo has %d colour components; only grey and colour "
		       "photos are supported."),
		    ci->num_components);

	/* The centre crop, in displayed coordinates. */
	ow = o >= 5 ? sh : sw;
	oh = o >= 5 ? sw : sh;
	if ((int64_t)ow * th > (int64_t)oh * tw) {
		ch = oh;
		cw = (int)((int64_t)oh * tw / th);
	} else {
		cw = ow;
		ch = (int)((int64_t)ow * th / tw);
	}
	if (cw < 1)
		cw = 1;
	if (ch < 1)
		ch = 1;
	cx = (ow - cw) / 2;
	cy = (oh - ch) / 2;

	/* The same rectangle as stored. */
	from_display(o, cx, cy, sw, sh, &x0, &y0);
	from_display(o, cx + cw - 1, cy + ch - 1, sw, sh, &x1, &y1);
	sx0 = x0 < x1 ? x0 : x1;
	sx1 = (x0 < x1 ? x1 : x0) + 1;
	sy0 = y0 < y1 ? y0 : y1;
	sy1 = (y0 < y1 ? y1 : y0) + 1;

	/* The least DCT scaling n/8 that keeps the crop at least the output
	 * size; 8/8 when it is smaller already. */
	for (m = 1; m < 8; m++)
		if ((int64_t)cw * m >= (int64_t)tw * 8 && (int64_t)ch * m >= (int64_t)th * 8)
			break;
	ci->scale_num = (unsigned)m;
	ci->scale_denom = 8;
	ci->out_color_space = JCS_RGB;
	jpeg_start_decompress(ci);

	/* Crop bounds at that scale. */
	sx0 = (int)((int64_t)sx0 * (int)ci->output_width / sw);
	sx1 = (int)(((int64_t)sx1 * (int)ci->output_width + sw - 1) / sw);
	sy0 = (int)((int64_t)sy0 * (int)ci->output_height / sh);
	sy1 = (int)(((int64_t)sy1 * (int)ci->output_height + sh - 1) / sh);
	if (sx1 > (int)ci->output_width)
		sx1 = (int)ci->output_width;
	if (sy1 > (int)ci->output_height)
		sy1 = (int)ci->output_height;
	scw = sx1 - sx0;
	sch = sy1 - sy0;
	if (scw < 1 || sch < 1)
		return retas_error_set(err, -EBADMSG, "photo.damaged",
				       N_("The photo is too small to crop."));

	xoff = (JDIMENSION)sx0;
	xwidth = (JDIMENSION)scw;
	if (xwidth < ci->output_width)
		jpeg_crop_scanline(ci, &xoff, &xwidth);
	st->row = malloc((size_t)xwidth * 3);
	st->crop = malloc((size_t)scw * sch * 3);
	if (!st->row || !st->crop)
		return -ENOMEM;
	if (sy0 > 0)
		jpeg_skip_scanlines(ci, (JDIMENSION)sy0);
	for (int y = 0; y < sch; y++) {
		JSAMPROW rp = st->row;

		if (jpeg_read_scanlines(ci, &rp, 1) != 1) {
			snprintf(st->warning, sizeof(st->warning), "no more rows");
			st->warnings++;
			break;
		}
		memcpy(st->crop + (size_t)y * scw * 3, st->row + (size_t)(sx0 - (int)xoff) * 3,
		       (size_t)scw * 3);
	}
	if (st->warnings)
		return damaged(st, err);
	jpeg_abort_decompress(ci);
	res->source_width = sw;
	res->source_height = sh;
	res->orientation = o;
	res->scale_eighths = m;

	/* Upright. */
	ocw = o >= 5 ? sch : scw;
	och = o >= 5 ? scw : sch;
	st->up = malloc((size_t)ocw * och * 3);
	st->tmp = malloc((size_t)och * tw * 3);
	st->out = malloc((size_t)tw * th * 3);
	if (!st->up || !st->tmp || !st->out)
		return -ENOMEM;
	for (int dy = 0; dy < och; dy++) {
		for (int dx = 0; dx < ocw; dx++) {
			int x, y;

			from_display(o, dx, dy, scw, sch, &x, &y);
			memcpy(st->up + ((size_t)dy * ocw + dx) * 3,
			       st->crop + ((size_t)y * scw + x) * 3, 3);
		}
	}
	r = resample(st->up, ocw, och, st->tmp, st->out, tw, th);
	if (r < 0)
		return r;

	measure(st->out, tw, th, &res->mean_luma, &res->sharpness);
	add_hints(res, opts);
	encode(st, tw, th, opts->quality, &olen);
	res->jpeg = st->jpeg_out;
	res->size = olen;
	st->jpeg_out = NULL;
	res->width = tw;
	res->height = th;
	return 0;
}

int cam_photo_normalise(const uint8_t *jpeg, size_t len, const struct cam_photo_opts *opts,
			struct cam_photo *out, struct retas_error *err)
{
	struct decode *st;
	int r;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	if (opts)
		st->opts = *opts;
	else
		cam_photo_opts_default(&st->opts);
	r = check_opts(&st->opts, err);
	if (r < 0)
		goto out;
	if (!jpeg || len < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 || jpeg[2] != 0xFF) {
		r = retas_error_set(err, -EBADMSG, "photo.not_jpeg",
				    N_("The file is not a JPEG photo."));
		goto out;
	}
	if (len > (size_t)(unsigned long)-1) {
		r = retas_error_set(err, -EFBIG, "photo.too_large", N_("The photo is too large."));
		goto out;
	}
	st->in = jpeg;
	st->in_len = len;
	st->cinfo.err = jpeg_std_error(&st->jerr);
	st->jerr.error_exit = on_error_exit;
	st->jerr.emit_message = on_message;
	st->cinfo.client_data = st;
	r = run(st, err);
	if (r >= 0) {
		*out = st->res;
		st->res.jpeg = NULL;
	}
out:
	free(st->res.jpeg);
	decode_free(st);
	return r;
}

void cam_photo_clear(struct cam_photo *p)
{
	if (!p)
		return;
	free(p->jpeg);
	memset(p, 0, sizeof(*p));
}
