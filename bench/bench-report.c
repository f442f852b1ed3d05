/*
 * Draft report generation for a 1000-student session: building the model
 * (every row checked on the way in), its JSON and its PDF, against two
 * baselines in the same run:
 *  - the same text drawn with cairo onto the same number of A4 PDF pages
 *    at fixed positions, without measuring, wrapping, tables or the
 *    counting pass: what the PDF costs before any layout logic;
 *  - json-c serialisation of the same rows without checks or summary:
 *    what the JSON export costs before validation.
 * The ratios say what the layout and the checks add.
 */
#include <cairo-pdf.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "retas-report-pdf.h"
#include "retas-report.h"

#define STUDENTS 1000
#define ROUNDS 5
#define ROUND_SECONDS 1.0

struct row {
	char nik[17], nama[64], kelas[16];
	char g;
	bool recorded;
	char record_id[37];
};

static struct row rows[STUDENTS];
static int pages;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "bench-report: %s failed\n", what);
	exit(1);
}

static void make_rows(void)
{
	for (unsigned i = 0; i < STUDENTS; i++) {
		struct row *r = &rows[i];

		snprintf(r->nik, sizeof(r->nik), "1571%02u1208%02u%04u", 1 + i % 11, 8 + i % 2,
			 i + 1);
		snprintf(r->nama, sizeof(r->nama), "Siswa %u Binti Abdullah Rahman", i + 1);
		snprintf(r->kelas, sizeof(r->kelas), "XII IPA %u", 1 + i % 6);
		r->g = i % 2 ? 'P' : 'L';
		r->recorded = i % 9 != 4;
		snprintf(r->record_id, sizeof(r->record_id), "01936f7a-8c00-7000-8000-%012u", i);
	}
}

static struct retas_report *build(void)
{
	struct retas_report_header h;
	struct retas_report *r = NULL;

	retas_report_header_init(&h);
	snprintf(h.st_nomor, sizeof(h.st_nomor), "800/041/DUKCAPIL/2026");
	h.st_tanggal = (struct retas_date){2026, 11, 20};
	snprintf(h.npsn, sizeof(h.npsn), "10504187");
	snprintf(h.sekolah, sizeof(h.sekolah), "SMA Negeri 1 Kota Jambi");
	snprintf(h.kecamatan, sizeof(h.kecamatan), "157101");
	snprintf(h.kecamatan_nama, sizeof(h.kecamatan_nama), "Telanaipura");
	h.n_petugas = 1;
	snprintf(h.petugas[0].nip, sizeof(h.petugas[0].nip), "198703152010011002");
	snprintf(h.petugas[0].nama, sizeof(h.petugas[0].nama), "Rina Marlina");
	snprintf(h.van, sizeof(h.van), "MPK-01");
	h.tanggal = (struct retas_date){2026, 11, 24};
	h.opened_ms = 1795480200000LL;
	h.closed_ms = h.opened_ms + 6 * 3600 * 1000LL;
	if (retas_report_new(&h, &r, NULL) < 0)
		fail("retas_report_new");
	for (unsigned i = 0; i < STUDENTS; i++) {
		struct retas_report_student s;

		memset(&s, 0, sizeof(s));
		memcpy(s.nik, rows[i].nik, sizeof(s.nik));
		s.nama = rows[i].nama;
		s.kelas = rows[i].kelas;
		s.gender = (enum retas_gender)rows[i].g;
		s.on_list = true;
		s.status = rows[i].recorded ? RETAS_REPORT_RECORDED : RETAS_REPORT_ABSENT;
		for (int f = 0; f < RETAS_FINGERS; f++)
			s.quality[f] = rows[i].recorded ? 40 + (int)((i + (unsigned)f) % 60) : -1;
		if (rows[i].recorded)
			memcpy(s.record_id, rows[i].record_id, sizeof(s.record_id));
		if (retas_report_add_student(r, &s, NULL) < 0)
			fail("retas_report_add_student");
	}
	return r;
}

static size_t sink;

static void ours_full(void)
{
	struct retas_report *r = build();
	uint8_t *pdf = NULL;
	char *json = NULL;
	size_t len, plen;

	if (retas_report_to_json(r, &json, &len, NULL) < 0 ||
	    retas_report_pdf(r, &pdf, &plen, &pages, NULL) < 0)
		fail("report");
	sink += len + plen;
	free(json);
	free(pdf);
	retas_report_free(r);
}

static void ours_json(void)
{
	struct retas_report *r = build();
	char *json = NULL;
	size_t len;

	if (retas_report_to_json(r, &json, &len, NULL) < 0)
		fail("retas_report_to_json");
	sink += len;
	free(json);
	retas_report_free(r);
}

static cairo_status_t discard(void *closure, const unsigned char *data, unsigned int length)
{
	sink += length;
	return CAIRO_STATUS_SUCCESS;
}

/* The rows' text at fixed places on as many pages as the report has. */
static void base_cairo(void)
{
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(discard, NULL, 595.276, 841.89);
	cairo_t *cr = cairo_create(s);
	unsigned per_page = (STUDENTS + (unsigned)pages - 1) / (unsigned)pages;

	for (unsigned i = 0; i < STUDENTS; i++) {
		double y = 100 + (double)(i % per_page) * 14;
		char no[16];

		if (i % per_page == 0) {
			if (i)
				cairo_show_page(cr);
			cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
					       CAIRO_FONT_WEIGHT_BOLD);
			cairo_set_font_size(cr, 12);
			cairo_move_to(cr, 60, 50);
			cairo_show_text(cr, "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL KOTA JAMBI");
			cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
					       CAIRO_FONT_WEIGHT_NORMAL);
			cairo_set_font_size(cr, 8);
		}
		snprintf(no, sizeof(no), "%u", i + 1);
		cairo_move_to(cr, 45, y);
		cairo_show_text(cr, no);
		cairo_move_to(cr, 75, y);
		cairo_show_text(cr, rows[i].nik);
		cairo_move_to(cr, 165, y);
		cairo_show_text(cr, rows[i].nama);
		cairo_move_to(cr, 315, y);
		cairo_show_text(cr, rows[i].kelas);
		cairo_move_to(cr, 380, y);
		cairo_show_text(cr, rows[i].recorded ? "Direkam" : "Tidak hadir");
	}
	cairo_show_page(cr);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
		fail("cairo");
	cairo_surface_destroy(s);
}

/* The same rows through json-c, no checks, no summary. */
static void base_json(void)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; i < STUDENTS; i++) {
		json_object *o = json_object_new_object(), *q = json_object_new_array();
		char g[2] = {rows[i].g, 0};

		json_object_object_add(o, "nik", json_object_new_string(rows[i].nik));
		json_object_object_add(o, "nama", json_object_new_string(rows[i].nama));
		json_object_object_add(o, "kelas", json_object_new_string(rows[i].kelas));
		json_object_object_add(o, "jenis_kelamin", json_object_new_string(g));
		json_object_object_add(
		    o, "status", json_object_new_string(rows[i].recorded ? "recorded" : "absent"));
		json_object_object_add(o, "record_id", json_object_new_string(rows[i].record_id));
		for (int f = 0; f < 10; f++)
			json_object_array_add(q, json_object_new_int(40 + (int)((i + f) % 60)));
		json_object_object_add(o, "kualitas", q);
		json_object_array_add(a, o);
	}
	sink += strlen(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	json_object_put(a);
}

/* Best of several timed rounds, in seconds per run. */
static double best(void (*op)(void))
{
	double b = 1e9;

	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_s(), t;
		long n = 0;

		do {
			op();
			n++;
			t = now_s() - t0;
		} while (t < ROUND_SECONDS);
		if (t / n < b)
			b = t / n;
	}
	return b;
}

int main(void)
{
	double full, cairo_base, json, json_base;

	make_rows();
	ours_full(); /* learns the page count and warms the font caches */
	full = best(ours_full);
	cairo_base = best(base_cairo);
	json = best(ours_json);
	json_base = best(base_json);
	printf("report for %d students: %d pages\n", STUDENTS, pages);
	printf("model + JSON + PDF: %.1f ms; baseline cairo text on %d pages: %.1f ms; "
	       "ratio %.2f\n",
	       full * 1e3, pages, cairo_base * 1e3, full / cairo_base);
	printf("model + JSON: %.2f ms; baseline json-c rows: %.2f ms; ratio %.2f\n", json * 1e3,
	       json_base * 1e3, json / json_base);
	return sink == 0;
}
