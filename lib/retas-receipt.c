/*
 * The student's receipt (resi) as PDF and PNG from one drawing routine.
 * The fixed text is Indonesian by design (a document handed to a student
 * by the Dinas), not translated through gettext.
 *
 * The QR code is drawn as filled rectangles, one per horizontal run of dark
 * modules, with antialiasing off: in the PNG each module is a whole number
 * of device pixels on the pixel grid, so the code is crisp for scanners;
 * in the PDF the rectangles are vector and crisp at any printer resolution.
 */
#include <cairo-pdf.h>
#include <errno.h>
#include <math.h>
#include <png.h>
#include <qrencode.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retas-i18n.h"
#include "retas-nik.h"
#include "retas-receipt.h"
#include "retas-render.h"
#include "retas-report.h"
#include "retas-util.h"

#define PAGE_W RETAS_RECEIPT_WIDTH_PT
#define PAGE_H RETAS_RECEIPT_HEIGHT_PT
#define MARGIN 20.0
#define QUIET 4			     /* modules of quiet zone each side */
#define QR_SIZE (55.0 * 72.0 / 25.4) /* 55 mm, quiet zone included */
#define QR_MIN (30.0 * 72.0 / 25.4)
#define LABEL_W 58.0
#define LINE 11.0
#define MAX_LINES 8

RETAS_DEFINE_CLEANUP(QRcode, QRcode_free)

static bool digits(const char *s, size_t n)
{
	if (!s || strnlen(s, n + 1) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int check(const struct retas_receipt *rc, struct retas_error *err)
{
	size_t tlen;

	if (!retas_report_text_ok(rc->nama, RETAS_REPORT_NAME_MAX, false))
		return retas_error_set(err, -EINVAL, "receipt.nama",
				       N_("The student's name is empty, longer than %d bytes or "
					  "not valid text."),
				       RETAS_REPORT_NAME_MAX);
	if (!rc->nik || (!digits(rc->nik, 16) && !retas_nik_is_masked(rc->nik)))
		return retas_error_set(err, -EINVAL, "receipt.nik",
				       N_("The receipt's NIK is neither 16 digits nor a masked "
					  "NIK."));
	if (!retas_report_text_ok(rc->sekolah, RETAS_REPORT_TEXT_MAX, false))
		return retas_error_set(err, -EINVAL, "receipt.sekolah",
				       N_("The school's name is empty or not valid text."));
	if (!digits(rc->npsn, 8))
		return retas_error_set(err, -EINVAL, "receipt.npsn",
				       N_("The school's NPSN is not 8 digits."));
	if (!retas_date_is_valid(rc->tanggal.year, rc->tanggal.month, rc->tanggal.day))
		return retas_error_set(err, -EINVAL, "receipt.tanggal",
				       N_("The receipt's date is not a real date."));
	if (!retas_report_text_ok(rc->petugas_nama, RETAS_REPORT_NAME_MAX, false))
		return retas_error_set(err, -EINVAL, "receipt.petugas",
				       N_("The officer's name is empty or not valid text."));
	if (!digits(rc->petugas_nip, 18))
		return retas_error_set(err, -EINVAL, "receipt.nip",
				       N_("The officer's NIP is not 18 digits."));
	if (rc->record_only && (!retas_date_is_valid(rc->eligible_on.year, rc->eligible_on.month,
						     rc->eligible_on.day) ||
				retas_date_cmp(&rc->eligible_on, &rc->tanggal) <= 0))
		return retas_error_set(err, -EINVAL, "receipt.eligible",
				       N_("A record-only receipt needs the date the student turns "
					  "17, after the recording date."));
	tlen = rc->token ? strnlen(rc->token, RETAS_RECEIPT_TOKEN_MAX + 1) : 0;
	if (tlen == 0 || tlen > RETAS_RECEIPT_TOKEN_MAX)
		return retas_error_set(err, -EINVAL, "receipt.token",
				       N_("The receipt token must be 1 to %d bytes long."),
				       RETAS_RECEIPT_TOKEN_MAX);
	for (size_t i = 0; i < tlen; i++)
		if (rc->token[i] < 0x20 || rc->token[i] > 0x7e)
			return retas_error_set(err, -EINVAL, "receipt.token",
					       N_("The receipt token holds a byte that is not "
						  "printable ASCII at offset %zu."),
					       i);
	return 0;
}

static int encode(const char *token, QRcode **out, struct retas_error *err)
{
	QRcode *qr;

	/* 8-bit mode as the base, with digit and upper-case runs packed
	 * tighter where libqrencode finds them; case is kept. */
	errno = 0;
	qr = QRcode_encodeString(token, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!qr)
		return retas_error_set(err, errno == ENOMEM ? -ENOMEM : -EINVAL, "receipt.qr",
				       N_("The receipt token cannot be put in a QR code."));
	*out = qr;
	return 0;
}

/* Wrapped text from x over w, moving *y down one line per line. */
static void lines(cairo_t *cr, double x, double w, double *y, bool bold, double size, double lh,
		  int align, const char *text)
{
	struct retas_render_span sp[MAX_LINES];
	size_t n;

	retas_render_font(cr, bold, size);
	n = retas_render_wrap(cr, text, w, sp, MAX_LINES);
	for (size_t i = 0; i < n; i++) {
		double ax = align == 1 ? x + w / 2 : x;

		retas_render_text(cr, ax, *y + size, align, sp[i].start, sp[i].len);
		*y += lh;
	}
}

static void field(cairo_t *cr, double *y, const char *label, const char *value, bool bold)
{
	retas_render_font(cr, false, 8);
	retas_render_text(cr, MARGIN, *y + 8, 0, label, strlen(label));
	retas_render_text(cr, MARGIN + LABEL_W - 6, *y + 8, 0, ":", 1);
	lines(cr, MARGIN + LABEL_W, PAGE_W - 2 * MARGIN - LABEL_W, y, bold, 8, LINE, 0, value);
}

/*
 * The QR code with its top-left corner (quiet zone included) at x, y and
 * at most size wide, in user units. scale is device pixels per user unit:
 * for a raster target the module size and origin are rounded to whole
 * pixels, drawn in device space.
 */
static double draw_qr(cairo_t *cr, const QRcode *qr, double x, double y, double size, double scale,
		      bool raster)
{
	int n = qr->width + 2 * QUIET;
	double m, ox, oy;

	cairo_save(cr);
	if (raster) {
		double px = floor(size * scale / n);

		if (px < 1)
			px = 1;
		cairo_identity_matrix(cr);
		m = px;
		ox = round(x * scale);
		oy = round(y * scale);
	} else {
		m = size / n;
		ox = x;
		oy = y;
	}
	cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, ox, oy, m * n, m * n);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (int r = 0; r < qr->width; r++) {
		const unsigned char *row = qr->data + (size_t)r * (size_t)qr->width;

		for (int c = 0; c < qr->width;) {
			int start;

			if (!(row[c] & 1)) {
				c++;
				continue;
			}
			start = c;
			while (c < qr->width && (row[c] & 1))
				c++;
			cairo_rectangle(cr, ox + (start + QUIET) * m, oy + (r + QUIET) * m,
					(c - start) * m, m);
		}
	}
	cairo_fill(cr);
	cairo_restore(cr);
	return raster ? m * n / scale : size;
}

static void draw(cairo_t *cr, const struct retas_receipt *rc, const QRcode *qr, double scale,
		 bool raster)
{
	char buf[320], masked[17], d[48], nip[32];
	double y = 16, qr_size, left;
	const double w = PAGE_W - 2 * MARGIN;

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	lines(cr, MARGIN, w, &y, true, 7.5, 9.5, 1, RETAS_RENDER_PEMERINTAH);
	retas_render_upper(RETAS_REPORT_DINAS, buf, sizeof(buf));
	lines(cr, MARGIN, w, &y, true, retas_render_fit(cr, true, buf, w, 8, 5), 10, 1, buf);
	retas_render_upper(RETAS_REPORT_BIDANG, buf, sizeof(buf));
	lines(cr, MARGIN, w, &y, true, 6.5, 8.5, 1, buf);
	y += 3;
	cairo_set_line_width(cr, 1.2);
	cairo_move_to(cr, MARGIN, y);
	cairo_line_to(cr, PAGE_W - MARGIN, y);
	cairo_stroke(cr);
	cairo_set_line_width(cr, 0.4);
	cairo_move_to(cr, MARGIN, y + 2);
	cairo_line_to(cr, PAGE_W - MARGIN, y + 2);
	cairo_stroke(cr);
	y += 9;
	lines(cr, MARGIN, w, &y, true, 10, 13, 1, "TANDA TERIMA PEREKAMAN KTP-el");
	lines(cr, MARGIN, w, &y, false, 7, 9, 1,
	      "Rekam Identitas KTP Elektronik di Sekolah (RETAS)");
	y += 8;

	if (retas_nik_is_masked(rc->nik))
		memcpy(masked, rc->nik, sizeof(masked));
	else
		retas_nik_mask(rc->nik, masked);
	field(cr, &y, "Nama", rc->nama, true);
	field(cr, &y, "NIK", masked, false);
	snprintf(buf, sizeof(buf), "%s (NPSN %s)", rc->sekolah, rc->npsn);
	field(cr, &y, "Sekolah", buf, false);
	retas_render_date(&rc->tanggal, true, d, sizeof(d));
	field(cr, &y, "Tanggal", d, false);
	retas_render_nip(rc->petugas_nip, nip, sizeof(nip));
	snprintf(buf, sizeof(buf), "%s (NIP %s)", rc->petugas_nama, nip);
	field(cr, &y, "Petugas", buf, false);

	if (rc->record_only) {
		double top = y + 4;

		retas_render_date(&rc->eligible_on, false, d, sizeof(d));
		snprintf(buf, sizeof(buf),
			 "REKAM SAJA: data telah direkam, tetapi siswa belum berusia 17 tahun. "
			 "KTP-el dapat dicetak mulai %s.",
			 d);
		y = top + 4;
		lines(cr, MARGIN + 5, w - 10, &y, false, 7.5, 9.5, 0, buf);
		y += 3;
		cairo_set_line_width(cr, 0.8);
		cairo_rectangle(cr, MARGIN, top, w, y - top);
		cairo_stroke(cr);
	}
	y += 6;

	/* The QR code takes what is left above the two caption lines. */
	left = PAGE_H - 16 - 2 * 9.5 - 4 - y;
	qr_size = left < QR_SIZE ? left : QR_SIZE;
	if (qr_size < QR_MIN)
		qr_size = QR_MIN;
	qr_size = draw_qr(cr, qr, (PAGE_W - qr_size) / 2, y, qr_size, scale, raster);
	y += qr_size + 2;
	lines(cr, MARGIN, w, &y, false, 7, 9.5, 1,
	      "Tunjukkan kode QR ini saat pengambilan KTP-el.");
	lines(cr, MARGIN, w, &y, false, 7, 9.5, 1,
	      "Simpan tanda terima ini. Tanda terima ini bukan KTP-el.");
}

/* Text metrics independent of the target, so PDF and PNG lay out alike. */
static void font_options(cairo_t *cr)
{
	cairo_font_options_t *fo = cairo_font_options_create();

	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
	cairo_set_font_options(cr, fo);
	cairo_font_options_destroy(fo);
}

static int cairo_result(cairo_status_t st, struct retas_error *err)
{
	if (st == CAIRO_STATUS_SUCCESS)
		return 0;
	if (st == CAIRO_STATUS_NO_MEMORY || st == CAIRO_STATUS_WRITE_ERROR)
		return retas_error_set(err, -ENOMEM, "receipt.memory", N_("Out of memory."));
	return retas_error_set(err, -EIO, "receipt.render",
			       N_("The receipt could not be drawn: %s."),
			       cairo_status_to_string(st));
}

int retas_receipt_pdf(const struct retas_receipt *rc, uint8_t **out, size_t *len,
		      struct retas_error *err)
{
	_cleanup_(QRcode_freep) QRcode *qr = NULL;
	struct retas_render_buf b = {0};
	cairo_surface_t *s;
	cairo_t *cr;
	cairo_status_t st;
	char date[16], meta[48];
	int r;

	r = check(rc, err);
	if (r < 0)
		return r;
	r = encode(rc->token, &qr, err);
	if (r < 0)
		return r;
	s = cairo_pdf_surface_create_for_stream(retas_render_write, &b, PAGE_W, PAGE_H);
	/* The receipt's own date, not the time of printing: a reprint is the
	 * same document. */
	retas_date_format(&rc->tanggal, date);
	snprintf(meta, sizeof(meta), "%sT00:00:00+07:00", date);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, meta);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE,
				       "Tanda Terima Perekaman KTP-el");
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "RETAS " RETAS_VERSION);
	cr = cairo_create(s);
	font_options(cr);
	draw(cr, rc, qr, 1.0, false);
	cairo_show_page(cr);
	st = cairo_status(cr);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(s);
	cairo_surface_destroy(s);
	r = cairo_result(st, err);
	if (r < 0) {
		free(b.p);
		return r;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* --- PNG ------------------------------------------------------------------ */

struct png_out {
	struct retas_render_buf buf;
	bool failed;
};

static void png_write(png_structp png, png_bytep data, png_size_t length)
{
	struct png_out *o = png_get_io_ptr(png);

	if (length > UINT32_MAX ||
	    retas_render_write(&o->buf, data, (unsigned)length) != CAIRO_STATUS_SUCCESS) {
		o->failed = true;
		png_error(png, "out of memory");
	}
}

static void png_flush(png_structp png)
{
}

/*
 * Writes the RGB24 surface as 8-bit grey with its resolution. The rows are
 * converted before libpng runs so that nothing to free is live across its
 * longjmp.
 */
static int png_encode(cairo_surface_t *s, struct png_out *o)
{
	int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
	int stride = cairo_image_surface_get_stride(s);
	const unsigned char *px = cairo_image_surface_get_data(s);
	png_uint_32 ppm = (png_uint_32)lround(RETAS_RECEIPT_PNG_DPI / 0.0254);
	unsigned char *grey = malloc((size_t)w * (size_t)h);
	png_bytep *rows = malloc((size_t)h * sizeof(*rows));
	png_structp png = NULL;
	png_infop info = NULL;
	volatile int r = -ENOMEM;

	if (!grey || !rows)
		goto out;
	for (int y = 0; y < h; y++) {
		const uint32_t *src = (const uint32_t *)(px + (size_t)y * (size_t)stride);

		for (int x = 0; x < w; x++) {
			uint32_t v = src[x];
			unsigned rr = (v >> 16) & 0xff, gg = (v >> 8) & 0xff, bb = v & 0xff;

			grey[(size_t)y * (size_t)w + (size_t)x] =
			    (unsigned char)((rr * 77 + gg * 150 + bb * 29 + 128) >> 8);
		}
		rows[y] = grey + (size_t)y * (size_t)w;
	}
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (!png)
		goto out;
	info = png_create_info_struct(png);
	if (!info)
		goto out;
	if (setjmp(png_jmpbuf(png))) {
		r = o->failed ? -ENOMEM : -EIO;
		goto out;
	}
	png_set_write_fn(png, o, png_write, png_flush);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_GRAY,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
	png_write_info(png, info);
	png_write_image(png, rows);
	png_write_end(png, info);
	r = 0;
out:
	png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
	free(rows);
	free(grey);
	return r;
}

int retas_receipt_png(const struct retas_receipt *rc, uint8_t **out, size_t *len,
		      struct retas_error *err)
{
	_cleanup_(QRcode_freep) QRcode *qr = NULL;
	const double scale = RETAS_RECEIPT_PNG_DPI / 72.0;
	struct png_out o = {0};
	cairo_surface_t *s;
	cairo_t *cr;
	cairo_status_t st;
	int r;

	r = check(rc, err);
	if (r < 0)
		return r;
	r = encode(rc->token, &qr, err);
	if (r < 0)
		return r;
	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)lround(PAGE_W * scale),
				       (int)lround(PAGE_H * scale));
	cr = cairo_create(s);
	cairo_scale(cr, scale, scale);
	font_options(cr);
	draw(cr, rc, qr, scale, true);
	st = cairo_status(cr);
	cairo_destroy(cr);
	cairo_surface_flush(s);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(s);
	r = cairo_result(st, err);
	if (r == 0) {
		r = png_encode(s, &o);
		if (r < 0)
			r = retas_error_set(err, r,
					    r == -ENOMEM ? "receipt.memory" : "receipt.render",
					    N_("The receipt image could not be written."));
	}
	cairo_surface_destroy(s);
	if (r < 0) {
		free(o.buf.p);
		return r;
	}
	*out = o.buf.p;
	*len = o.buf.len;
	return 0;
}
