/*
 * CSV and PDF renderings of the report model (hq-report.c). CSV is RFC 4180
 * (CRLF, fields quoted when they hold a comma, quote or line break); the
 * detail report is "long": one row per item with its section, so one file
 * carries counts, workflow, issuance, anomalies and students. PDF is A4
 * through cairo's PDF surface, text in DejaVu Sans (or what fontconfig
 * offers for sans-serif), labels through gettext.
 */
#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq-report.h"
#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-util.h"

struct buf {
	uint8_t *data;
	size_t len, cap;
	bool failed;
};

static void buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *nd;

		while (cap < b->len + n + 1)
			cap *= 2;
		nd = realloc(b->data, cap);
		if (!nd) {
			b->failed = true;
			return;
		}
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

static void buf_str(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

/* The member as text: strings as they are, numbers and booleans printed,
 * null and absent as "". */
static void text_of(json_object *o, const char *key, char *out, size_t size)
{
	json_object *v = o ? json_object_object_get(o, key) : NULL;

	out[0] = 0;
	if (!v)
		return;
	if (json_object_is_type(v, json_type_string))
		snprintf(out, size, "%s", json_object_get_string(v));
	else if (json_object_is_type(v, json_type_boolean))
		snprintf(out, size, "%s", json_object_get_boolean(v) ? "yes" : "no");
	else if (json_object_is_type(v, json_type_double))
		snprintf(out, size, "%.1f", json_object_get_double(v));
	else
		snprintf(out, size, "%s", json_object_to_json_string(v));
}

static void csv_field(struct buf *b, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		buf_str(b, "\"");
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				buf_str(b, "\"");
			buf_put(b, p, 1);
		}
		buf_str(b, "\"");
	} else {
		buf_str(b, s);
	}
	buf_str(b, last ? "\r\n" : ",");
}

static void csv_row(struct buf *b, int n, ...)
{
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		csv_field(b, va_arg(ap, const char *), i == n - 1);
	va_end(ap);
}

static void csv_detail(json_object *rep, struct buf *b)
{
	json_object *arr, *sek = json_object_object_get(rep, "sekolah"), *iss;
	char v1[256], v2[256], v3[256], v4[256];

	csv_row(b, 5, "section", "item", "hq", "van", "note");
	text_of(rep, "nomor", v1, sizeof(v1));
	csv_row(b, 5, "letter", "nomor", v1, "", "");
	text_of(sek, "npsn", v1, sizeof(v1));
	text_of(sek, "nama", v2, sizeof(v2));
	csv_row(b, 5, "letter", "sekolah", v1, "", v2);
	text_of(rep, "van", v1, sizeof(v1));
	csv_row(b, 5, "letter", "van", v1, "", "");
	arr = json_object_object_get(rep, "counts");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *c = json_object_array_get_idx(arr, i);
		bool differs = json_object_get_boolean(json_object_object_get(c, "differs"));

		text_of(c, "name", v1, sizeof(v1));
		text_of(c, "hq", v2, sizeof(v2));
		text_of(c, "van", v3, sizeof(v3));
		csv_row(b, 5, "count", v1, v2, v3,
			differs ? "DIFFERENT" : (v3[0] ? "same" : "not reported"));
	}
	text_of(rep, "quarantined", v1, sizeof(v1));
	csv_row(b, 5, "count", "quarantined", v1, "", "");
	arr = json_object_object_get(rep, "anomalies");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *a = json_object_array_get_idx(arr, i);

		text_of(a, "kind", v1, sizeof(v1));
		text_of(a, "from", v2, sizeof(v2));
		text_of(a, "to", v3, sizeof(v3));
		snprintf(v4, sizeof(v4), "%s-%s", v2, v3);
		text_of(a, "van", v2, sizeof(v2));
		csv_row(b, 5, "anomaly", v1, v4, v2,
			json_object_get_boolean(json_object_object_get(a, "resolved")) ? "resolved"
										       : "open");
	}
	arr = json_object_object_get(rep, "workflow");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *s = json_object_array_get_idx(arr, i), *w;

		text_of(s, "step", v1, sizeof(v1));
		text_of(s, "name", v2, sizeof(v2));
		snprintf(v4, sizeof(v4), "%s %s", v1, v2);
		text_of(s, "minutes", v1, sizeof(v1));
		text_of(s, "standard_min", v3, sizeof(v3));
		w = json_object_object_get(s, "within");
		csv_row(b, 5, "workflow", v4, v1, v3,
			!w			     ? "pending"
			: json_object_get_boolean(w) ? "within"
						     : "missed");
	}
	iss = json_object_object_get(rep, "issuance");
	json_object_object_foreach(json_object_object_get(iss, "status"), key, val)
	{
		snprintf(v1, sizeof(v1), "%lld", (long long)json_object_get_int64(val));
		csv_row(b, 5, "issuance", key, v1, "", "");
	}
	arr = json_object_object_get(iss, "steps");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *s = json_object_array_get_idx(arr, i);

		text_of(s, "name", v1, sizeof(v1));
		text_of(s, "within", v2, sizeof(v2));
		text_of(s, "missed", v3, sizeof(v3));
		snprintf(v4, sizeof(v4), "%s within, %s missed", v2, v3);
		text_of(s, "avg_minutes", v2, sizeof(v2));
		csv_row(b, 5, "issuance-step", v1, v2, "", v4);
	}
	arr = json_object_object_get(rep, "students");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *s = json_object_array_get_idx(arr, i);

		text_of(s, "nik", v1, sizeof(v1));
		text_of(s, "nama", v2, sizeof(v2));
		text_of(s, "kelas", v3, sizeof(v3));
		text_of(s, "issuance", v4, sizeof(v4));
		csv_row(b, 5, "student", v1, v2, v3, v4);
	}
}

static void csv_list(json_object *list, struct buf *b)
{
	json_object *arr = json_object_object_get(list, "reports");
	static const char *const keys[] = {"nomor",	  "valid_from",	  "van",
					   "recorded",	  "van_recorded", "differences",
					   "quarantined", "anomalies",	  "handed_over"};
	char v[12][256];

	csv_row(b, 12, "nomor", "date", "npsn", "sekolah", "kecamatan", "van", "recorded",
		"van_recorded", "differences", "quarantined", "anomalies", "handed_over");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *r = json_object_array_get_idx(arr, i),
			    *sek = json_object_object_get(r, "sekolah");

		text_of(r, keys[0], v[0], sizeof(v[0]));
		text_of(r, keys[1], v[1], sizeof(v[1]));
		v[1][10] = 0; /* the date of the window's start */
		text_of(sek, "npsn", v[2], sizeof(v[2]));
		text_of(sek, "nama", v[3], sizeof(v[3]));
		text_of(sek, "kecamatan", v[4], sizeof(v[4]));
		for (size_t k = 2; k < ARRAY_SIZE(keys); k++)
			text_of(r, keys[k], v[k + 3], sizeof(v[0]));
		csv_row(b, 12, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10],
			v[11]);
	}
}

/* PDF */

#define PAGE_W 595.28
#define PAGE_H 841.89
#define MARGIN 50.0
#define LINE 14.0

struct pdf {
	cairo_surface_t *surface;
	cairo_t *cr;
	double y;
	int page;
};

static cairo_status_t on_pdf_write(void *closure, const unsigned char *data, unsigned int len)
{
	struct buf *b = closure;

	buf_put(b, data, len);
	return b->failed ? CAIRO_STATUS_NO_MEMORY : CAIRO_STATUS_SUCCESS;
}

static void pdf_font(struct pdf *p, double size, bool bold)
{
	cairo_select_font_face(p->cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
			       bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(p->cr, size);
}

static void pdf_page_number(struct pdf *p)
{
	char n[32];

	pdf_font(p, 8, false);
	cairo_set_source_rgb(p->cr, 0.4, 0.4, 0.4);
	snprintf(n, sizeof(n), _("page %d"), p->page);
	cairo_move_to(p->cr, PAGE_W - MARGIN - 40, PAGE_H - 25);
	cairo_show_text(p->cr, n);
	cairo_set_source_rgb(p->cr, 0, 0, 0);
}

static void pdf_need(struct pdf *p, double h)
{
	if (p->y + h <= PAGE_H - MARGIN)
		return;
	pdf_page_number(p);
	cairo_show_page(p->cr);
	p->page++;
	p->y = MARGIN;
}

/* Draws text at x on the current line, cut to width points. */
static void pdf_text(struct pdf *p, double x, double width, const char *s)
{
	char buf[256];
	cairo_text_extents_t ext;
	size_t n;

	snprintf(buf, sizeof(buf), "%s", s);
	n = strlen(buf);
	cairo_text_extents(p->cr, buf, &ext);
	while (n > 0 && ext.x_advance > width) {
		/* drop whole UTF-8 characters */
		do
			n--;
		while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80);
		buf[n] = 0;
		cairo_text_extents(p->cr, buf, &ext);
	}
	cairo_move_to(p->cr, x, p->y);
	cairo_show_text(p->cr, buf);
}

static void pdf_heading(struct pdf *p, const char *s)
{
	pdf_need(p, 3 * LINE);
	p->y += LINE * 0.6;
	pdf_font(p, 11, true);
	pdf_text(p, MARGIN, PAGE_W - 2 * MARGIN, s);
	p->y += 4;
	cairo_set_line_width(p->cr, 0.5);
	cairo_move_to(p->cr, MARGIN, p->y);
	cairo_line_to(p->cr, PAGE_W - MARGIN, p->y);
	cairo_stroke(p->cr);
	p->y += LINE;
	pdf_font(p, 9, false);
}

/* One table row: n cells at the given x offsets (from the margin). */
static void pdf_row(struct pdf *p, int n, const double *xs, const char *const *cells, bool bold)
{
	pdf_need(p, LINE);
	pdf_font(p, 9, bold);
	for (int i = 0; i < n; i++) {
		double end = i + 1 < n ? xs[i + 1] : PAGE_W - 2 * MARGIN;

		pdf_text(p, MARGIN + xs[i], end - xs[i] - 4, cells[i]);
	}
	p->y += LINE;
}

static void pdf_kv(struct pdf *p, const char *k, const char *v)
{
	const double xs[] = {0, 120};
	const char *cells[] = {k, v};

	pdf_row(p, 2, xs, cells, false);
}

static const char *count_label(const char *name)
{
	if (streq(name, "recorded"))
		return _("Recorded");
	if (streq(name, "male"))
		return _("Male");
	if (streq(name, "female"))
		return _("Female");
	if (streq(name, "record_only"))
		return _("Record only (under 17)");
	if (streq(name, "print_eligible"))
		return _("Print eligible (17 or older)");
	if (streq(name, "finger_exceptions"))
		return _("Finger exceptions");
	return name;
}

/* The PDF shows the report's stable ids (issuance states, anomaly kinds)
 * in the reader's language; the JSON and CSV keep the ids. English msgids
 * are the ids themselves, so the English PDF reads as before. */
static const char *status_label(const char *id)
{
	static const char *const ids[] = {
	    /* TRANSLATORS: issuance states of a student's card in the head
	     * office report: no card (under 17), waiting for the receipt to be
	     * scanned, scanned, verified, entered, printed, handed over. */
	    N_("record-only"),
	    N_("waiting"),
	    N_("scanned"),
	    N_("verified"),
	    N_("entered"),
	    N_("printed"),
	    N_("handed-over"),
	    /* TRANSLATORS: kinds of sequence anomaly in a van's records: a
	     * missing range, two records with one sequence number, a record
	     * that does not chain to the one before. */
	    N_("gap"),
	    N_("fork"),
	    N_("chain"),
	};

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		if (streq(id, ids[i]))
			return _(ids[i]);
	return id;
}

static void pdf_header(struct pdf *p, const char *title)
{
	pdf_font(p, 9, true);
	pdf_text(p, MARGIN, PAGE_W - 2 * MARGIN, "PEMERINTAH KOTA JAMBI");
	p->y += LINE;
	pdf_text(p, MARGIN, PAGE_W - 2 * MARGIN,
		 "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL KOTA JAMBI");
	p->y += LINE;
	pdf_font(p, 9, false);
	pdf_text(p, MARGIN, PAGE_W - 2 * MARGIN, "Bidang Pelayanan Pendaftaran Penduduk");
	p->y += LINE * 1.8;
	pdf_font(p, 15, true);
	pdf_text(p, MARGIN, PAGE_W - 2 * MARGIN, title);
	p->y += LINE * 1.2;
	pdf_font(p, 9, false);
}

static void pdf_detail(json_object *rep, struct pdf *p)
{
	json_object *arr, *sek = json_object_object_get(rep, "sekolah"), *iss;
	char v1[256], v2[256], v3[256], line[512];

	pdf_header(p, _("RETAS report"));
	text_of(rep, "nomor", v1, sizeof(v1));
	pdf_kv(p, _("Surat tugas"), v1);
	text_of(sek, "nama", v1, sizeof(v1));
	text_of(sek, "npsn", v2, sizeof(v2));
	snprintf(line, sizeof(line), "%s (NPSN %s)", v1, v2);
	pdf_kv(p, _("School"), line);
	text_of(sek, "kecamatan_nama", v1, sizeof(v1));
	text_of(sek, "kecamatan", v2, sizeof(v2));
	snprintf(line, sizeof(line), "%s %s", v1, v2);
	pdf_kv(p, _("Kecamatan"), line);
	text_of(rep, "valid_from", v1, sizeof(v1));
	text_of(rep, "valid_until", v2, sizeof(v2));
	snprintf(line, sizeof(line), "%s - %s", v1, v2);
	pdf_kv(p, _("Window"), line);
	text_of(rep, "van", v1, sizeof(v1));
	pdf_kv(p, _("Van"), v1);
	text_of(rep, "generated", v1, sizeof(v1));
	pdf_kv(p, _("Generated"), v1);

	pdf_heading(p, _("Counts: head office against the van's draft report"));
	{
		const double xs[] = {0, 200, 270, 340};
		const char *head[] = {_("Item"), _("Head office"), _("Van"), ""};

		pdf_row(p, 4, xs, head, true);
		arr = json_object_object_get(rep, "counts");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *c = json_object_array_get_idx(arr, i);
			bool differs =
			    json_object_get_boolean(json_object_object_get(c, "differs"));
			const char *cells[4];

			text_of(c, "name", v1, sizeof(v1));
			text_of(c, "hq", v2, sizeof(v2));
			text_of(c, "van", v3, sizeof(v3));
			cells[0] = count_label(v1);
			cells[1] = v2;
			cells[2] = v3[0] ? v3 : "-";
			cells[3] = differs ? _("DIFFERENT") : v3[0] ? "" : _("not reported");
			if (differs)
				cairo_set_source_rgb(p->cr, 0.75, 0, 0);
			pdf_row(p, 4, xs, cells, differs);
			cairo_set_source_rgb(p->cr, 0, 0, 0);
		}
	}
	text_of(rep, "batches", v1, sizeof(v1));
	text_of(rep, "quarantined", v2, sizeof(v2));
	snprintf(line, sizeof(line), _("Batches received: %s; records quarantined: %s"), v1, v2);
	pdf_kv(p, "", line);

	arr = json_object_object_get(rep, "anomalies");
	pdf_heading(p, _("Sequence anomalies"));
	if (json_object_array_length(arr) == 0)
		pdf_kv(p, "", _("none"));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *a = json_object_array_get_idx(arr, i);

		text_of(a, "kind", v1, sizeof(v1));
		text_of(a, "from", v2, sizeof(v2));
		text_of(a, "to", v3, sizeof(v3));
		snprintf(
		    line, sizeof(line), _("%s at sequence %s to %s, %s"), status_label(v1), v2, v3,
		    json_object_get_boolean(json_object_object_get(a, "resolved")) ? _("resolved")
										   : _("open"));
		text_of(a, "van", v1, sizeof(v1));
		pdf_kv(p, v1, line);
	}

	pdf_heading(p, _("Workflow against the SOP RETAS time standards"));
	{
		const double xs[] = {0, 30, 160, 240, 320};
		const char *head[] = {_("Step"), _("Activity"), _("Minutes"), _("Standard"),
				      _("Result")};

		pdf_row(p, 5, xs, head, true);
		arr = json_object_object_get(rep, "workflow");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *s = json_object_array_get_idx(arr, i), *w;
			char step[16], name[64], mins[32], std[32];
			const char *cells[5];

			text_of(s, "step", step, sizeof(step));
			text_of(s, "name", name, sizeof(name));
			text_of(s, "minutes", mins, sizeof(mins));
			text_of(s, "standard_min", std, sizeof(std));
			w = json_object_object_get(s, "within");
			cells[0] = step;
			cells[1] = name;
			cells[2] = mins[0] ? mins : "-";
			cells[3] = std;
			cells[4] = !w				? _("pending")
				   : json_object_get_boolean(w) ? _("within")
								: _("missed");
			pdf_row(p, 5, xs, cells, false);
		}
	}

	iss = json_object_object_get(rep, "issuance");
	pdf_heading(p, _("Card issuance (SOP KTP-el)"));
	{
		json_object *status = json_object_object_get(iss, "status");
		int n = 0;

		/* two lines of at most four states each, to fit the page */
		line[0] = 0;
		json_object_object_foreach(status, key, val)
		{
			char part[64];

			snprintf(part, sizeof(part), "%s%s %lld", line[0] ? ", " : "",
				 status_label(key), (long long)json_object_get_int64(val));
			strncat(line, part, sizeof(line) - strlen(line) - 1);
			if (++n == 4) {
				pdf_kv(p, _("Status"), line);
				line[0] = 0;
			}
		}
		if (line[0])
			pdf_kv(p, n > 4 ? "" : _("Status"), line);
		arr = json_object_object_get(iss, "steps");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *s = json_object_array_get_idx(arr, i);
			char name[64], done[16], within[16], std[16], avg[16];

			text_of(s, "name", name, sizeof(name));
			text_of(s, "done", done, sizeof(done));
			text_of(s, "within", within, sizeof(within));
			text_of(s, "standard_min", std, sizeof(std));
			text_of(s, "avg_minutes", avg, sizeof(avg));
			snprintf(line, sizeof(line),
				 _("%s done, %s within %s min (average %s min)"), done, within, std,
				 avg[0] ? avg : "-");
			pdf_kv(p, status_label(name), line);
		}
	}

	pdf_heading(p, _("Students"));
	{
		const double xs[] = {0, 25, 120, 250, 310, 335};
		const char *head[] = {_("No"), "NIK", _("Name"), _("Class"), "L/P", _("Issuance")};

		pdf_row(p, 6, xs, head, true);
		arr = json_object_object_get(rep, "students");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *s = json_object_array_get_idx(arr, i);
			char no[16], nik[32], nama[128], kelas[64], lp[8], st[64], raw[32];
			const char *cells[6] = {no, nik, nama, kelas, lp, st};

			snprintf(no, sizeof(no), "%zu", i + 1);
			text_of(s, "nik", nik, sizeof(nik));
			text_of(s, "nama", nama, sizeof(nama));
			text_of(s, "kelas", kelas, sizeof(kelas));
			text_of(s, "jenis_kelamin", lp, sizeof(lp));
			text_of(s, "issuance", raw, sizeof(raw));
			snprintf(st, sizeof(st), "%s", status_label(raw));
			if (json_object_get_boolean(json_object_object_get(s, "record_only"))) {
				char from[16];

				text_of(s, "eligible_from", from, sizeof(from));
				snprintf(st + strlen(st), sizeof(st) - strlen(st), _(" (from %s)"),
					 from);
			}
			pdf_row(p, 6, xs, cells, false);
		}
	}
}

static void pdf_list(json_object *list, struct pdf *p)
{
	json_object *arr = json_object_object_get(list, "reports");
	const double xs[] = {0, 120, 180, 235, 365, 405, 445};
	const char *head[] = {_("Surat tugas"), _("Date"),	 "NPSN", _("School"), "HQ",
			      _("Van"),		_("Differences")};

	pdf_header(p, _("RETAS reports"));
	pdf_row(p, 7, xs, head, true);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *r = json_object_array_get_idx(arr, i),
			    *sek = json_object_object_get(r, "sekolah");
		char v[7][128];
		const char *cells[7] = {v[0], v[1], v[2], v[3], v[4], v[5], v[6]};

		text_of(r, "nomor", v[0], sizeof(v[0]));
		text_of(r, "valid_from", v[1], sizeof(v[1]));
		v[1][10] = 0;
		text_of(sek, "npsn", v[2], sizeof(v[2]));
		text_of(sek, "nama", v[3], sizeof(v[3]));
		text_of(r, "recorded", v[4], sizeof(v[4]));
		text_of(r, "van_recorded", v[5], sizeof(v[5]));
		text_of(r, "differences", v[6], sizeof(v[6]));
		pdf_row(p, 7, xs, cells, false);
	}
}

static int render_pdf(json_object *report, int is_list, struct buf *b)
{
	struct pdf p = {.y = MARGIN, .page = 1};
	cairo_status_t st;

	p.surface = cairo_pdf_surface_create_for_stream(on_pdf_write, b, PAGE_W, PAGE_H);
	if (cairo_surface_status(p.surface) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(p.surface);
		return -ENOMEM;
	}
	cairo_pdf_surface_set_metadata(p.surface, CAIRO_PDF_METADATA_TITLE, "Laporan RETAS");
	cairo_pdf_surface_set_metadata(p.surface, CAIRO_PDF_METADATA_CREATOR, "retas-hq");
	p.cr = cairo_create(p.surface);
	cairo_set_source_rgb(p.cr, 0, 0, 0);
	if (is_list)
		pdf_list(report, &p);
	else
		pdf_detail(report, &p);
	pdf_page_number(&p);
	cairo_show_page(p.cr);
	st = cairo_status(p.cr);
	cairo_destroy(p.cr);
	cairo_surface_finish(p.surface);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(p.surface);
	cairo_surface_destroy(p.surface);
	return st == CAIRO_STATUS_SUCCESS && !b->failed ? 0 : -ENOMEM;
}

int hq_report_render(json_object *report, int is_list, enum hq_report_format format, uint8_t **out,
		     size_t *len)
{
	struct buf b = {0};
	int r = 0;

	switch (format) {
	case HQ_REPORT_JSON:
		buf_str(&b, json_object_to_json_string_ext(
				report, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		break;
	case HQ_REPORT_CSV:
		if (is_list)
			csv_list(report, &b);
		else
			csv_detail(report, &b);
		break;
	case HQ_REPORT_PDF:
		r = render_pdf(report, is_list, &b);
		break;
	}
	if (r == 0 && (b.failed || !b.data))
		r = -ENOMEM;
	if (r < 0) {
		free(b.data);
		return r;
	}
	*out = b.data;
	*len = b.len;
	return 0;
}

void hq_render_cleanup(void)
{
	cairo_debug_reset_static_data();
	FcFini();
}
