/*
 * The Draft Laporan RETAS as PDF. The fixed text is Indonesian by design:
 * the report is an Indonesian government document filed at the Dinas, so
 * it is not translated through gettext.
 *
 * Layout runs twice over the same cairo context: a first pass that only
 * measures (nothing is drawn, no page is emitted) to learn the page count
 * for "Halaman i dari n", then the drawing pass. Both passes take the same
 * decisions because they measure the same text with the same fonts on the
 * same surface. Tables break between rows, never inside one, and repeat
 * their header row at the top of each new page.
 */
#include <cairo-pdf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retas-i18n.h"
#include "retas-render.h"
#include "retas-report-pdf.h"
#include "retas-util.h"

/* A4 portrait in points. */
#define PAGE_W 595.276
#define PAGE_H 841.890
#define MARGIN_X 42.5
#define CONTENT_W (PAGE_W - 2 * MARGIN_X)
#define CONTENT_TOP 96.0
#define CONTENT_BOTTOM (PAGE_H - 46.0)

#define BODY_SIZE 9.0
#define BODY_LH 12.0
#define TABLE_SIZE 8.0
#define TABLE_LH 10.0
#define CELL_PAD 3.0
#define MAX_LINES 16

struct col {
	const char *title;
	double w;
	int align; /* 0 left, 1 centre, 2 right */
};

struct pdf {
	cairo_t *cr;
	const struct retas_report *r;
	struct retas_report_counts c;
	bool draw;
	int page, pages;
	double y;
	const struct col *cols; /* the open table, repeated on a new page */
	size_t ncols;
};

static void letterhead(struct pdf *p)
{
	cairo_t *cr = p->cr;
	char buf[256];

	cairo_set_source_rgb(cr, 0, 0, 0);
	retas_render_font(cr, true, 10.5);
	retas_render_text(cr, PAGE_W / 2, 40, 1, RETAS_RENDER_PEMERINTAH,
			  strlen(RETAS_RENDER_PEMERINTAH));
	/* The office names are data: shrink a long one onto its line. */
	retas_render_upper(p->r->h.dinas, buf, sizeof(buf));
	retas_render_fit(cr, true, buf, CONTENT_W, 12, 6);
	retas_render_text(cr, PAGE_W / 2, 55, 1, buf, strlen(buf));
	retas_render_upper(p->r->h.bidang, buf, sizeof(buf));
	retas_render_fit(cr, true, buf, CONTENT_W, 9.5, 6);
	retas_render_text(cr, PAGE_W / 2, 68, 1, buf, strlen(buf));
	cairo_set_line_width(cr, 1.6);
	cairo_move_to(cr, MARGIN_X, 75);
	cairo_line_to(cr, PAGE_W - MARGIN_X, 75);
	cairo_stroke(cr);
	cairo_set_line_width(cr, 0.5);
	cairo_move_to(cr, MARGIN_X, 77.5);
	cairo_line_to(cr, PAGE_W - MARGIN_X, 77.5);
	cairo_stroke(cr);
	if (p->page > 1) {
		snprintf(buf, sizeof(buf), "Draft Laporan RETAS — %s (lanjutan)", p->r->h.sekolah);
		retas_render_font(cr, false, 7.5);
		retas_render_text(cr, MARGIN_X, 87, 0, buf, strlen(buf));
	}
}

static void footer(struct pdf *p)
{
	cairo_t *cr = p->cr;
	char date[48], buf[256];

	retas_render_date(&p->r->h.tanggal, false, date, sizeof(date));
	cairo_set_line_width(cr, 0.5);
	cairo_move_to(cr, MARGIN_X, PAGE_H - 36);
	cairo_line_to(cr, PAGE_W - MARGIN_X, PAGE_H - 36);
	cairo_stroke(cr);
	retas_render_font(cr, false, 7.5);
	snprintf(buf, sizeof(buf), "Draft Laporan RETAS · NPSN %s · %s · Surat Tugas %s",
		 p->r->h.npsn, date, p->r->h.st_nomor);
	retas_render_text(cr, MARGIN_X, PAGE_H - 26, 0, buf, strlen(buf));
	snprintf(buf, sizeof(buf), "Halaman %d dari %d", p->page, p->pages);
	retas_render_text(cr, PAGE_W - MARGIN_X, PAGE_H - 26, 2, buf, strlen(buf));
}

static void page_begin(struct pdf *p)
{
	if (p->page > 0 && p->draw)
		cairo_show_page(p->cr);
	p->page++;
	if (p->draw) {
		letterhead(p);
		footer(p);
	}
	p->y = CONTENT_TOP;
}

static void table_head(struct pdf *p);

/* Starts a new page unless h more points fit on this one. */
static void ensure(struct pdf *p, double h)
{
	if (p->y + h <= CONTENT_BOTTOM)
		return;
	page_begin(p);
	if (p->cols)
		table_head(p);
}

/* Wrapped text across x .. x + w, each line kept on a page. */
static void para(struct pdf *p, double x, double w, bool bold, double size, double lh, int align,
		 const char *text)
{
	struct retas_render_span lines[MAX_LINES];
	size_t n;

	retas_render_font(p->cr, bold, size);
	n = retas_render_wrap(p->cr, text, w, lines, MAX_LINES);
	for (size_t i = 0; i < n; i++) {
		ensure(p, lh);
		if (p->draw) {
			double ax = align == 1 ? x + w / 2 : align == 2 ? x + w : x;

			retas_render_font(p->cr, bold, size);
			retas_render_text(p->cr, ax, p->y + size, align, lines[i].start,
					  lines[i].len);
		}
		p->y += lh;
	}
}

static void heading(struct pdf *p, const char *text)
{
	/* Keep a heading with at least a few lines of what follows. */
	ensure(p, 18 + 4 * TABLE_LH + 2 * CELL_PAD);
	p->y += 6;
	para(p, MARGIN_X, CONTENT_W, true, 10, 14, 0, text);
	p->y += 2;
}

/* "Label : value", the value wrapped in its column. */
static void kv(struct pdf *p, const char *label, const char *value)
{
	const double lw = 165;
	double y0;

	ensure(p, BODY_LH);
	y0 = p->y;
	if (p->draw) {
		retas_render_font(p->cr, false, BODY_SIZE);
		retas_render_text(p->cr, MARGIN_X + 8, y0 + BODY_SIZE, 0, label, strlen(label));
		retas_render_text(p->cr, MARGIN_X + lw, y0 + BODY_SIZE, 0, ":", 1);
	}
	para(p, MARGIN_X + lw + 8, CONTENT_W - lw - 8, false, BODY_SIZE, BODY_LH, 0, value);
}

/* Draws (or in the measuring pass only sizes) one row of cells. */
static void row(struct pdf *p, const char *const *cells, bool bold, bool head)
{
	struct retas_render_span lines[8][MAX_LINES];
	size_t n[8] = {0}, most = 1;
	double h, x = MARGIN_X;

	retas_render_font(p->cr, bold || head, TABLE_SIZE);
	for (size_t i = 0; i < p->ncols; i++) {
		n[i] = retas_render_wrap(p->cr, cells[i], p->cols[i].w - 2 * CELL_PAD, lines[i],
					 MAX_LINES);
		if (n[i] > most)
			most = n[i];
	}
	h = (double)most * TABLE_LH + 2 * CELL_PAD;
	if (!head)
		ensure(p, h);
	if (p->draw) {
		cairo_t *cr = p->cr;

		retas_render_font(cr, bold || head, TABLE_SIZE);
		/* The row's cell borders as one path, one stroke. */
		for (size_t i = 0; i < p->ncols; i++) {
			cairo_rectangle(cr, x, p->y, p->cols[i].w, h);
			x += p->cols[i].w;
		}
		if (head) {
			cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
			cairo_fill_preserve(cr);
			cairo_set_source_rgb(cr, 0, 0, 0);
		}
		cairo_set_line_width(cr, 0.5);
		cairo_stroke(cr);
		x = MARGIN_X;
		for (size_t i = 0; i < p->ncols; i++) {
			const struct col *c = &p->cols[i];
			double ax = c->align == 1   ? x + c->w / 2
				    : c->align == 2 ? x + c->w - CELL_PAD
						    : x + CELL_PAD;

			for (size_t k = 0; k < n[i]; k++)
				retas_render_text(
				    cr, head ? x + c->w / 2 : ax,
				    p->y + CELL_PAD + TABLE_SIZE + (double)k * TABLE_LH,
				    head ? 1 : c->align, lines[i][k].start, lines[i][k].len);
			x += c->w;
		}
	}
	p->y += h;
}

static void table_head(struct pdf *p)
{
	const char *titles[8];

	for (size_t i = 0; i < p->ncols; i++)
		titles[i] = p->cols[i].title;
	row(p, titles, true, true);
}

static void table_begin(struct pdf *p, const struct col *cols, size_t n)
{
	p->cols = NULL;
	p->ncols = n;
	/* The header and a first row together, or a new page. */
	ensure(p, 4 * TABLE_LH + 4 * CELL_PAD);
	p->cols = cols;
	table_head(p);
}

static void table_end(struct pdf *p)
{
	p->cols = NULL;
	p->y += 6;
}

/* --- sections ------------------------------------------------------------ */

static void title(struct pdf *p)
{
	para(p, MARGIN_X, CONTENT_W, true, 14, 18, 1, "DRAFT LAPORAN RETAS");
	para(p, MARGIN_X, CONTENT_W, false, 9.5, 13, 1,
	     "Rekam Identitas KTP Elektronik di Sekolah");
	if (!p->r->h.closed_ms)
		para(p, MARGIN_X, CONTENT_W, false, 8.5, 12, 1,
		     "(sesi belum ditutup: angka dalam laporan ini masih sementara)");
	p->y += 4;
}

static void section_activity(struct pdf *p)
{
	const struct retas_report_header *h = &p->r->h;
	char buf[256], d[48];

	heading(p, "A. Data Kegiatan");
	kv(p, "Nomor Surat Tugas", h->st_nomor);
	retas_render_date(&h->st_tanggal, false, d, sizeof(d));
	kv(p, "Tanggal Surat Tugas", d);
	kv(p, "Sekolah", h->sekolah);
	kv(p, "NPSN", h->npsn);
	snprintf(buf, sizeof(buf), "%s (%s)", h->kecamatan_nama, h->kecamatan);
	kv(p, "Kecamatan", buf);
	retas_render_date(&h->tanggal, true, d, sizeof(d));
	kv(p, "Hari, Tanggal Pelaksanaan", d);
	if (h->opened_ms)
		retas_render_time(h->opened_ms, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "belum dibuka");
	kv(p, "Sesi dibuka", buf);
	if (h->closed_ms)
		retas_render_time(h->closed_ms, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "belum ditutup");
	kv(p, "Sesi ditutup", buf);
	kv(p, "Kendaraan", h->van);
	for (size_t i = 0; i < h->n_petugas; i++) {
		char nip[32];

		retas_render_nip(h->petugas[i].nip, nip, sizeof(nip));
		snprintf(buf, sizeof(buf), "%zu. %s (NIP %s)", i + 1, h->petugas[i].nama, nip);
		kv(p, i == 0 ? "Petugas" : "", buf);
	}
}

static void count_row(struct pdf *p, const char *label, unsigned a, unsigned b, bool bold)
{
	char x[16], y[16];
	const char *cells[3] = {label, x, y};

	snprintf(x, sizeof(x), "%u", a);
	snprintf(y, sizeof(y), "%u", b);
	row(p, cells, bold, false);
}

static void section_targets(struct pdf *p)
{
	static const struct col cols[] = {
	    {"Uraian", CONTENT_W - 160, 0},
	    {"Sasaran", 80, 2},
	    {"Direkam", 80, 2},
	};
	const struct retas_report_counts *c = &p->c;
	char buf[160];

	heading(p, "B. Sasaran dan Hasil Perekaman");
	table_begin(p, cols, ARRAY_SIZE(cols));
	count_row(p, "Laki-laki (L)", c->male.target, c->male.recorded, false);
	count_row(p, "Perempuan (P)", c->female.target, c->female.recorded, false);
	count_row(p, "Di bawah 17 tahun (rekam saja)", c->record_only.target,
		  c->record_only.recorded, false);
	count_row(p, "17 tahun ke atas (layak cetak)", c->print_eligible.target,
		  c->print_eligible.recorded, false);
	count_row(p, "Jumlah", c->total.target, c->total.recorded, true);
	table_end(p);
	if (c->added) {
		snprintf(buf, sizeof(buf),
			 "Termasuk %u siswa di luar daftar sasaran yang direkam di tempat.",
			 c->added);
		para(p, MARGIN_X, CONTENT_W, false, 8.5, 11, 0, buf);
	}
}

static void section_not_recorded(struct pdf *p)
{
	static const struct col cols[] = {
	    {"Alasan", CONTENT_W - 80, 0},
	    {"Jumlah", 80, 2},
	};
	static const struct {
		enum retas_report_status st;
		const char *label;
	} rows[] = {
	    {RETAS_REPORT_ABSENT, "Tidak hadir"},
	    {RETAS_REPORT_INVALID_NIK, "NIK tidak valid"},
	    {RETAS_REPORT_ALREADY_RECORDED, "Sudah direkam"},
	    {RETAS_REPORT_REFUSED, "Menolak direkam"},
	    {RETAS_REPORT_DEVICE_FAILURE, "Gangguan perangkat"},
	};
	char n[16], buf[128];
	const char *cells[2] = {NULL, n};

	heading(p, "C. Tidak Direkam menurut Alasan");
	table_begin(p, cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		cells[0] = rows[i].label;
		snprintf(n, sizeof(n), "%u", p->c.by_status[rows[i].st]);
		row(p, cells, false, false);
	}
	cells[0] = "Jumlah";
	snprintf(n, sizeof(n), "%u", p->c.not_recorded);
	row(p, cells, true, false);
	table_end(p);
	if (p->c.by_status[RETAS_REPORT_PENDING]) {
		snprintf(buf, sizeof(buf), "Belum ditangani: %u siswa.",
			 p->c.by_status[RETAS_REPORT_PENDING]);
		para(p, MARGIN_X, CONTENT_W, false, 8.5, 11, 0, buf);
	}
}

static void capitalised(const char *s, char *buf, size_t size)
{
	snprintf(buf, size, "%s", s);
	if (buf[0] >= 'a' && buf[0] <= 'z')
		buf[0] = (char)(buf[0] - 'a' + 'A');
}

static void section_exceptions(struct pdf *p)
{
	static const struct col cols[] = {
	    {"Jari", CONTENT_W - 5 * 62, 0}, {"Tidak ada", 62, 2},     {"Diperban", 62, 2},
	    {"Bekas luka", 62, 2},	     {"Tidak terbaca", 62, 2}, {"Jumlah", 62, 2},
	};
	char v[6][32];
	const char *cells[6] = {v[0], v[1], v[2], v[3], v[4], v[5]};
	unsigned col_total[RETAS_FINGER_N_REASONS] = {0};

	heading(p, "D. Pengecualian Biometrik menurut Jari dan Alasan");
	table_begin(p, cols, ARRAY_SIZE(cols));
	for (int f = 0; f < RETAS_FINGERS; f++) {
		unsigned sum = 0;
		char name[32];

		capitalised(retas_finger_label(f + 1), name, sizeof(name));
		snprintf(v[0], sizeof(v[0]), "%d. %s", f + 1, name);
		for (int k = 0; k < RETAS_FINGER_N_REASONS; k++) {
			snprintf(v[k + 1], sizeof(v[k + 1]), "%u", p->c.exceptions[f][k]);
			sum += p->c.exceptions[f][k];
			col_total[k] += p->c.exceptions[f][k];
		}
		snprintf(v[5], sizeof(v[5]), "%u", sum);
		row(p, cells, false, false);
	}
	snprintf(v[0], sizeof(v[0]), "Jumlah");
	for (int k = 0; k < RETAS_FINGER_N_REASONS; k++)
		snprintf(v[k + 1], sizeof(v[k + 1]), "%u", col_total[k]);
	snprintf(v[5], sizeof(v[5]), "%u", p->c.exceptions_total);
	row(p, cells, true, false);
	table_end(p);
	snprintf(v[0], sizeof(v[0]), "Siswa dengan pengecualian: %u", p->c.with_exception);
	para(p, MARGIN_X, CONTENT_W, false, 8.5, 11, 0, v[0]);
}

/* 605 tenths -> "60,5" (Indonesian decimal comma). */
static void tenths_text(unsigned long long tenths, char *buf, size_t size)
{
	snprintf(buf, size, "%llu,%llu", tenths / 10, tenths % 10);
}

static void section_quality(struct pdf *p)
{
	static const struct col cols[] = {
	    {"Jari", CONTENT_W - 4 * 70, 0},
	    {"Jumlah", 70, 2},
	    {"Minimum", 70, 2},
	    {"Rata-rata", 70, 2},
	    {"Maksimum", 70, 2},
	};
	char v[5][32];
	const char *cells[5] = {v[0], v[1], v[2], v[3], v[4]};

	heading(p, "E. Ringkasan Kualitas Sidik Jari (skor 0-100)");
	table_begin(p, cols, ARRAY_SIZE(cols));
	for (int f = 0; f < RETAS_FINGERS; f++) {
		const struct retas_report_quality *q = &p->c.quality[f];
		char name[32];

		capitalised(retas_finger_label(f + 1), name, sizeof(name));
		snprintf(v[0], sizeof(v[0]), "%d. %s", f + 1, name);
		snprintf(v[1], sizeof(v[1]), "%u", q->count);
		if (q->count) {
			snprintf(v[2], sizeof(v[2]), "%d", q->min);
			tenths_text(((unsigned long long)q->sum * 10 + q->count / 2) / q->count,
				    v[3], sizeof(v[3]));
			snprintf(v[4], sizeof(v[4]), "%d", q->max);
		} else {
			snprintf(v[2], sizeof(v[2]), "-");
			snprintf(v[3], sizeof(v[3]), "-");
			snprintf(v[4], sizeof(v[4]), "-");
		}
		row(p, cells, false, false);
	}
	table_end(p);
}

static void section_incidents(struct pdf *p)
{
	static const struct col cols[] = {
	    {"No", 28, 2},
	    {"Waktu", 100, 0},
	    {"Perangkat", 100, 0},
	    {"Keterangan", CONTENT_W - 228, 0},
	};
	const struct retas_report *r = p->r;
	char no[16], when[64];
	const char *cells[4] = {no, when, NULL, NULL};

	heading(p, "F. Gangguan Perangkat");
	if (!r->n_incidents) {
		para(p, MARGIN_X + 8, CONTENT_W - 8, false, BODY_SIZE, BODY_LH, 0,
		     "Tidak ada gangguan perangkat yang tercatat.");
		return;
	}
	table_begin(p, cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < r->n_incidents; i++) {
		const struct retas_report_incident *n = &r->incidents[i];
		struct retas_date d;

		snprintf(no, sizeof(no), "%zu", i + 1);
		retas_date_from_ms(n->at_ms, RETAS_WIB_OFFSET_MIN, &d);
		retas_render_time(n->at_ms, when, sizeof(when));
		if (retas_date_cmp(&d, &r->h.tanggal)) {
			char t[32];

			snprintf(t, sizeof(t), "%s", when);
			snprintf(when, sizeof(when), "%02d-%02d-%04d %s", d.day, d.month, d.year,
				 t);
		}
		cells[2] = retas_device_label(n->device);
		cells[3] = n->what;
		row(p, cells, false, false);
	}
	table_end(p);
}

static void minutes_text(int64_t min, char *buf, size_t size)
{
	if (min >= 60)
		snprintf(buf, size, "%lld jam %lld menit (%lld menit)", (long long)(min / 60),
			 (long long)(min % 60), (long long)min);
	else
		snprintf(buf, size, "%lld menit", (long long)min);
}

static void section_time(struct pdf *p)
{
	const struct retas_report_counts *c = &p->c;
	char buf[160], avg[32];

	heading(p, "G. Waktu Pelaksanaan");
	if (c->duration_min >= 0)
		minutes_text(c->duration_min, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "sesi belum ditutup");
	kv(p, "Durasi sesi", buf);
	snprintf(buf, sizeof(buf), "%d menit per siswa × %u siswa direkam = %lld menit",
		 p->r->h.sop_minutes, c->total.recorded, (long long)c->standard_min);
	kv(p, "Standar waktu SOP (langkah 5)", buf);
	if (c->duration_min >= 0 && c->total.recorded) {
		tenths_text(((unsigned long long)c->duration_min * 10 + c->total.recorded / 2) /
				c->total.recorded,
			    avg, sizeof(avg));
		snprintf(buf, sizeof(buf), "%s menit", avg);
		kv(p, "Rata-rata per siswa direkam", buf);
	}
	if (c->duration_min >= 0)
		kv(p, "Keterangan",
		   c->duration_min <= c->standard_min ? "Sesuai standar waktu SOP"
						      : "Melebihi standar waktu SOP");
}

static void status_text(const struct retas_report_student *s, char *buf, size_t size)
{
	size_t n = 0;

#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (n < size)                                                                      \
			n += (size_t)snprintf(buf + n, size - n, __VA_ARGS__);                     \
	} while (0)
	if (s->status != RETAS_REPORT_RECORDED) {
		ADD("%s", retas_report_status_label(s));
	} else {
		ADD("Direkam");
		if (s->record_only) {
			char d[48];

			retas_render_date(&s->eligible_on, false, d, sizeof(d));
			ADD(" (rekam saja; layak cetak %s)", d);
		}
		for (size_t k = 0; k < s->n_exceptions; k++)
			ADD("%s%s %s", k ? ", " : "; pengecualian: ",
			    retas_finger_label(s->exceptions[k].finger),
			    retas_finger_reason_label(s->exceptions[k].reason));
	}
	if (!s->on_list)
		ADD("; di luar daftar sasaran");
#undef ADD
}

static void section_students(struct pdf *p)
{
	static const struct col cols[] = {
	    {"No", 28, 2},    {"NIK", 90, 0}, {"Nama", 150, 0},
	    {"Kelas", 60, 0}, {"L/P", 26, 1}, {"Status", CONTENT_W - 354, 0},
	};
	const struct retas_report *r = p->r;
	char no[16], g[2] = {0}, status[400];
	const char *cells[6] = {no, NULL, NULL, NULL, g, status};

	heading(p, "H. Daftar Siswa");
	if (!r->n_students) {
		para(p, MARGIN_X + 8, CONTENT_W - 8, false, BODY_SIZE, BODY_LH, 0,
		     "Belum ada siswa dalam laporan.");
		return;
	}
	table_begin(p, cols, ARRAY_SIZE(cols));
	for (size_t i = 0; i < r->n_students; i++) {
		const struct retas_report_student *s = &r->students[i];

		snprintf(no, sizeof(no), "%zu", i + 1);
		cells[1] = s->nik;
		cells[2] = s->nama;
		cells[3] = s->kelas;
		g[0] = s->gender ? (char)s->gender : '-';
		status_text(s, status, sizeof(status));
		row(p, cells, false, false);
	}
	table_end(p);
}

static void signatures(struct pdf *p)
{
	const struct retas_report_header *h = &p->r->h;
	const double box_w = CONTENT_W / 2, box_h = 84;
	size_t rows = (h->n_petugas + 1) / 2;
	char buf[160], d[48];

	ensure(p, 50 + (double)rows * box_h);
	p->y += 14;
	retas_render_date(&h->tanggal, false, d, sizeof(d));
	snprintf(buf, sizeof(buf), "Jambi, %s", d);
	para(p, MARGIN_X + box_w, box_w, false, BODY_SIZE, BODY_LH, 1, buf);
	para(p, MARGIN_X + box_w, box_w, false, BODY_SIZE, BODY_LH, 1, "Petugas RETAS,");
	p->y += 4;
	for (size_t i = 0; i < h->n_petugas; i++) {
		double x = MARGIN_X + (double)(i % 2) * box_w, y = p->y + (double)(i / 2) * box_h;
		char nip[32];

		if (!p->draw)
			continue;
		retas_render_font(p->cr, false, BODY_SIZE);
		snprintf(buf, sizeof(buf), "Petugas %zu", i + 1);
		retas_render_text(p->cr, x + box_w / 2, y + 10, 1, buf, strlen(buf));
		retas_render_fit(p->cr, true, h->petugas[i].nama, box_w - 20, BODY_SIZE, 5);
		retas_render_text(p->cr, x + box_w / 2, y + 62, 1, h->petugas[i].nama,
				  strlen(h->petugas[i].nama));
		cairo_set_line_width(p->cr, 0.6);
		cairo_move_to(p->cr, x + 30, y + 65);
		cairo_line_to(p->cr, x + box_w - 30, y + 65);
		cairo_stroke(p->cr);
		retas_render_nip(h->petugas[i].nip, nip, sizeof(nip));
		snprintf(buf, sizeof(buf), "NIP. %s", nip);
		retas_render_font(p->cr, false, BODY_SIZE);
		retas_render_text(p->cr, x + box_w / 2, y + 76, 1, buf, strlen(buf));
	}
	p->y += (double)rows * box_h;
}

static void render(struct pdf *p)
{
	p->page = 0;
	p->cols = NULL;
	page_begin(p);
	title(p);
	section_activity(p);
	section_targets(p);
	section_not_recorded(p);
	section_exceptions(p);
	section_quality(p);
	section_incidents(p);
	section_time(p);
	section_students(p);
	signatures(p);
}

int retas_report_pdf(const struct retas_report *r, uint8_t **out, size_t *len, int *pages,
		     struct retas_error *err)
{
	struct retas_render_buf b = {0};
	struct pdf p = {.r = r};
	cairo_surface_t *s;
	cairo_status_t st;
	char meta[RETAS_RFC3339_MAX + 64];
	int64_t when = r->h.closed_ms ? r->h.closed_ms : r->h.opened_ms;
	int res = 0;

	retas_report_counts(r, &p.c);
	s = cairo_pdf_surface_create_for_stream(retas_render_write, &b, PAGE_W, PAGE_H);
	/* The document's date is the session's, so the same model always
	 * gives the same file (cairo would write the current time). */
	if (when) {
		retas_time_format_rfc3339(when - when % 1000, RETAS_WIB_OFFSET_MIN, meta);
	} else {
		char d[16];

		retas_date_format(&r->h.tanggal, d);
		snprintf(meta, sizeof(meta), "%sT00:00:00+07:00", d);
	}
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, meta);
	snprintf(meta, sizeof(meta), "Draft Laporan RETAS %s", r->h.npsn);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, meta);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "RETAS " RETAS_VERSION);
	p.cr = cairo_create(s);
	p.draw = false;
	render(&p);
	p.pages = p.page;
	p.draw = true;
	render(&p);
	cairo_show_page(p.cr);
	st = cairo_status(p.cr);
	cairo_destroy(p.cr);
	cairo_surface_finish(s);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(s);
	cairo_surface_destroy(s);
	if (st == CAIRO_STATUS_NO_MEMORY || st == CAIRO_STATUS_WRITE_ERROR) {
		res = retas_error_set(err, -ENOMEM, "report.memory", N_("Out of memory."));
		goto out;
	}
	if (st != CAIRO_STATUS_SUCCESS) {
		res = retas_error_set(err, -EIO, "report.render",
				      N_("The report could not be drawn: %s."),
				      cairo_status_to_string(st));
		goto out;
	}
	*out = steal_ptr(b.p);
	*len = b.len;
	if (pages)
		*pages = p.pages;
out:
	free(b.p);
	return res;
}
