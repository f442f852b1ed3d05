/* The Draft Laporan RETAS as PDF, read back with poppler: the school and
 * the class of five's counts in the text, masked NIKs only, a 1000-student
 * report spread over pages that pdftoppm renders, and the same bytes for
 * the same model. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "retas-report-pdf.h"
#include "retas-report.h"
#include "retas-util.h"

#include "render-tools.h"
#include "report-fixture.h"

static char *dir;

/* pdftotext -layout of a PDF buffer, blanks squeezed. */
static char *pdf_text(const uint8_t *pdf, size_t len, const char *name, int first, int last)
{
	char path[600], f[16], l[16], *text = NULL;
	char *argv[] = {(char *)"pdftotext",
			(char *)"-layout",
			(char *)"-f",
			f,
			(char *)"-l",
			l,
			path,
			(char *)"-",
			NULL};

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(f, sizeof(f), "%d", first);
	snprintf(l, sizeof(l), "%d", last);
	assert_int_equal(write_file(path, pdf, len), 0);
	assert_int_equal(run_capture(argv, &text, NULL), 0);
	squeeze(text);
	return text;
}

static void expect(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("\"%s\" not in the PDF's text:\n%s", want, text);
}

static void report_pdf_text_class_of_five(void **state)
{
	static const char *const want[] = {
	    "PEMERINTAH KOTA JAMBI",
	    "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL KOTA JAMBI",
	    "BIDANG PELAYANAN PENDAFTARAN PENDUDUK",
	    "DRAFT LAPORAN RETAS",
	    "Sekolah : " FIX_SEKOLAH,
	    "NPSN : 10504187",
	    "Nomor Surat Tugas : 800/041/DUKCAPIL/2026",
	    "Tanggal Surat Tugas : 20 November 2026",
	    "Kecamatan : Telanaipura (157101)",
	    "Hari, Tanggal Pelaksanaan : Selasa, 24 November 2026",
	    "Sesi dibuka : 07:30 WIB",
	    "Sesi ditutup : 09:45 WIB",
	    "Kendaraan : MPK-01",
	    "1. Rina Marlina (NIP 19870315 201001 1 002)",
	    "2. Andi Saputra (NIP 19900101 201503 1 004)",
	    "\nLaki-laki (L) 3 1\n",
	    "\nPerempuan (P) 2 2\n",
	    "\nDi bawah 17 tahun (rekam saja) 1 1\n",
	    "\n17 tahun ke atas (layak cetak) 4 2\n",
	    "\nJumlah 5 3\n",
	    "\nTidak hadir 1\n",
	    "\nNIK tidak valid 0\n",
	    "\nSudah direkam 1\n",
	    "\nMenolak direkam 0\n",
	    "\nGangguan perangkat 0\n",
	    "\nJumlah 2\n",
	    "\n2. Telunjuk kanan 0 1 0 0 1\n",
	    "\n1. Ibu jari kanan 0 0 0 0 0\n",
	    "\nJumlah 0 1 0 0 1\n",
	    "Siswa dengan pengecualian: 1",
	    "\n1. Ibu jari kanan 3 50 60,0 70\n",
	    "\n2. Telunjuk kanan 2 51 56,0 61\n",
	    "Pemindai sidik jari reader did not answer; reconnected",
	    "Kamera capture timed out, retaken",
	    "Durasi sesi : 2 jam 15 menit (135 menit)",
	    "Standar waktu SOP (langkah 5) : 5 menit per siswa × 3 siswa direkam = 15 menit",
	    "Rata-rata per siswa direkam : 45,0 menit",
	    "Melebihi standar waktu SOP",
	    "1 157101******0001 Ahmad Fauzi XII IPA 1 L Direkam",
	    "3 157103******0003 Budi Santoso XII IPS 2 L Tidak hadir",
	    "5 157104******0005 Rahmat Hidayat XII IPA 1 L Sudah direkam",
	    "157102******0002",
	    "157102******0004",
	    "pengecualian: telunjuk",
	    "rekam saja; layak cetak 5",
	    "Jambi, 24 November 2026",
	    "Petugas RETAS,",
	    "NIP. 19870315 201001 1 002",
	};
	struct retas_report *r = fix_class_of_five();
	uint8_t *pdf = NULL, *again = NULL;
	size_t len, len2;
	int pages = 0;
	char *text, last[32];

	assert_non_null(r);
	assert_int_equal(retas_report_pdf(r, &pdf, &len, &pages, NULL), 0);
	assert_in_range(pages, 1, 3);
	assert_memory_equal(pdf, "%PDF-", 5);
	text = pdf_text(pdf, len, "five.pdf", 1, pages);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		expect(text, want[i]);
	snprintf(last, sizeof(last), "Halaman %d dari %d", pages, pages);
	expect(text, last);
	for (size_t i = 0; i < ARRAY_SIZE(fix_niks); i++)
		assert_null(strstr(text, fix_niks[i]));
	/* The same model gives the same bytes. */
	assert_int_equal(retas_report_pdf(r, &again, &len2, NULL, NULL), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(pdf, again, len);
	free(text);
	free(pdf);
	free(again);
	retas_report_free(r);
}

static struct retas_report *big_report(unsigned n)
{
	struct retas_report_header h;
	struct retas_report *r = NULL;
	struct retas_error e = {0};

	fix_header(&h);
	assert_int_equal(retas_report_new(&h, &r, &e), 0);
	for (unsigned i = 0; i < n; i++) {
		struct retas_report_student s;
		char nik[17], nama[64];

		snprintf(nik, sizeof(nik), "1571%02u1208%02u%04u", 1 + i % 11, 8 + i % 2, i + 1);
		snprintf(nama, sizeof(nama), "Siswa Nomor %u Binti Abdullah Rahman", i + 1);
		fix_student(&s, nik, nama, i % 2 ? 'P' : 'L',
			    i % 7 == 3 ? RETAS_REPORT_ABSENT : RETAS_REPORT_RECORDED);
		if (s.status == RETAS_REPORT_RECORDED)
			fix_record(&s, (int)i + 1, 40 + (int)(i % 50));
		assert_int_equal(retas_report_add_student(r, &s, &e), 0);
	}
	return r;
}

static void report_pdf_1000_students_pages(void **state)
{
	struct retas_report *r = big_report(1000);
	uint8_t *pdf = NULL;
	size_t len;
	int pages = 0, found = 0;
	char path[600], prefix[600], *out = NULL, *text, want[64];
	char *argv[] = {
	    (char *)"pdftoppm", (char *)"-r", (char *)"12", (char *)"-png", path, prefix, NULL};

	assert_int_equal(retas_report_pdf(r, &pdf, &len, &pages, NULL), 0);
	assert_true(pages > 1);
	snprintf(path, sizeof(path), "%s/big.pdf", dir);
	snprintf(prefix, sizeof(prefix), "%s/page", dir);
	assert_int_equal(write_file(path, pdf, len), 0);
	assert_int_equal(run_capture(argv, &out, NULL), 0);
	free(out);
	/* One image per page, and no more. */
	for (int i = 1; i <= pages + 1; i++) {
		char png[700];

		snprintf(png, sizeof(png), "%s-%0*d.png", prefix, pages >= 10 ? 2 : 1, i);
		found += access(png, R_OK) == 0;
	}
	assert_int_equal(found, pages);
	/* The table goes on with its header on the next page; the last row
	 * and the page count are on the last. */
	text = pdf_text(pdf, len, "big.pdf", 2, 2);
	expect(text, "(lanjutan)");
	expect(text, "\nNo NIK Nama Kelas L/P Status\n");
	snprintf(want, sizeof(want), "Halaman 2 dari %d", pages);
	expect(text, want);
	free(text);
	text = pdf_text(pdf, len, "big.pdf", pages - 1, pages);
	expect(text, "1000 157110******1000 Siswa Nomor 1000");
	snprintf(want, sizeof(want), "Halaman %d dari %d", pages, pages);
	expect(text, want);
	expect(text, "Petugas RETAS,");
	free(text);
	free(pdf);
	retas_report_free(r);
}

static void report_pdf_open_session_draft(void **state)
{
	struct retas_report *r = big_report(3);
	uint8_t *pdf = NULL;
	size_t len;
	int pages = 0;
	char *text;

	r->h.closed_ms = 0;
	r->students[1].status = RETAS_REPORT_PENDING;
	r->students[1].record_id[0] = '\0';
	assert_int_equal(retas_report_pdf(r, &pdf, &len, &pages, NULL), 0);
	text = pdf_text(pdf, len, "open.pdf", 1, pages);
	expect(text, "sesi belum ditutup: angka dalam laporan ini masih sementara");
	expect(text, "Sesi ditutup : belum ditutup");
	expect(text, "Belum ditangani: 1 siswa.");
	expect(text, "Tidak ada gangguan perangkat yang tercatat.");
	free(text);
	free(pdf);
	retas_report_free(r);
}

/* Fields at their limits: the longest names without a space to break at
 * (two-byte characters), eight officers, the longest incident text, and a
 * report with no rows at all. */
static void report_pdf_limits(void **state)
{
	struct retas_report_header h;
	struct retas_report *r = NULL;
	struct retas_report_student s;
	struct retas_report_incident inc = {.at_ms = FIX_OPENED_MS + 86400000LL};
	struct retas_error e = {0};
	char nama[RETAS_REPORT_NAME_MAX + 1] = "", what[RETAS_REPORT_WHAT_MAX + 1];
	uint8_t *pdf = NULL;
	size_t len;
	int pages = 0;
	char *text;

	for (int i = 0; i < RETAS_REPORT_NAME_MAX / 2; i++)
		strcat(nama, "\xc3\x91"); /* Ñ */
	memset(what, 'w', sizeof(what) - 1);
	what[sizeof(what) - 1] = '\0';
	fix_header(&h);
	h.n_petugas = RETAS_REPORT_MAX_OFFICERS;
	for (size_t i = 0; i < h.n_petugas; i++) {
		snprintf(h.petugas[i].nip, sizeof(h.petugas[i].nip), "19870315201001100%zu", i);
		snprintf(h.petugas[i].nama, sizeof(h.petugas[i].nama), "%s", nama);
	}
	assert_int_equal(retas_report_new(&h, &r, &e), 0);
	assert_int_equal(retas_report_pdf(r, &pdf, &len, &pages, &e), 0);
	text = pdf_text(pdf, len, "empty.pdf", 1, pages);
	expect(text, "Belum ada siswa dalam laporan.");
	expect(text, "NIP. 19870315 201001 1 007");
	free(text);
	free(pdf);
	fix_student(&s, fix_niks[0], nama, 'L', RETAS_REPORT_REFUSED);
	s.kelas = (char *)"XII-IPA-1-XII-IPA-1-XII-IPA-1-XI";
	assert_int_equal(retas_report_add_student(r, &s, &e), 0);
	inc.what = what;
	snprintf(inc.device, sizeof(inc.device), "storage");
	assert_int_equal(retas_report_add_incident(r, &inc, &e), 0);
	assert_int_equal(retas_report_pdf(r, &pdf, &len, &pages, &e), 0);
	text = pdf_text(pdf, len, "limits.pdf", 1, pages);
	/* Broken inside the name, never inside a character. */
	expect(text, "\xc3\x91\xc3\x91\xc3\x91\xc3\x91");
	assert_null(strstr(text, "\xef\xbf\xbd"));
	expect(text, "25-11-2026 07:30 WIB Penyimpanan wwww");
	expect(text, "Menolak");
	free(text);
	free(pdf);
	retas_report_free(r);
}

static int setup(void **state)
{
	dir = scratch_dir();
	return dir ? 0 : -1;
}

static int teardown(void **state)
{
	remove_tree(dir);
	free(dir);
	/* cairo and fontconfig keep the fonts they looked up for the life
	 * of the process; let them go so the leak checker sees only what
	 * the renderers themselves leave behind. */
	cairo_debug_reset_static_data();
	FcFini();
	return 0;
}

int main(void)
{
	static const char *const tools[] = {"pdftotext", "pdftoppm", NULL};
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(report_pdf_text_class_of_five),
	    cmocka_unit_test(report_pdf_1000_students_pages),
	    cmocka_unit_test(report_pdf_open_session_draft),
	    cmocka_unit_test(report_pdf_limits),
	};

	tools_or_skip(tools);
	return cmocka_run_group_tests(tests, setup, teardown);
}
