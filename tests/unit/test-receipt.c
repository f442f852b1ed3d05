/* The student's receipt: the QR code read back with zbarimg from the PNG
 * and from the PDF rendered by pdftoppm gives the token exactly (up to the
 * 512-byte limit); the PDF's text has the masked NIK and never the full
 * one; the PNG's size and resolution are those of A6 at the set DPI; bad
 * fields are refused by name. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "retas-receipt.h"
#include "retas-util.h"

#include "render-tools.h"

#define NIK "1571024503100004"

static char *dir;

static const char token_jws[] =
    "eyJhbGciOiJFZERTQSIsInR5cCI6InJldGFzLXJlc2krandzIn0."
    "eyJyIjoiMDE5MzZmN2EtOGMwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDA0IiwibiI6IjEwNTA0MTg3Ii"
    "wiZCI6IjIwMjYtMTEtMjQiLCJoIjoiOWYyYzRhIn0."
    "Q2hKb3dOZ2hWd1l3b0VQa0x6cGJ2ZmZPWnVPbFd3R0N5Y0x3bE8xX0dYQ2l4c2Z2eE1fZm5VRQ";

static struct retas_receipt receipt(const char *token)
{
	return (struct retas_receipt){
	    .nama = "Dewi Lestari",
	    .nik = NIK,
	    .sekolah = "SMA Negeri 1 Kota Jambi",
	    .npsn = "10504187",
	    .tanggal = {2026, 11, 24},
	    .petugas_nama = "Rina Marlina",
	    .petugas_nip = "198703152010011002",
	    .record_only = true,
	    .eligible_on = {2027, 3, 5},
	    .token = token,
	};
}

/* zbarimg --raw on an image file: the decoded text without its newline. */
static char *scan(const char *path)
{
	char *argv[] = {
	    (char *)"zbarimg",	       (char *)"--raw", (char *)"-q", (char *)"-Sdisable",
	    (char *)"-Sqrcode.enable", (char *)path,	NULL};
	char *out = NULL;
	size_t len;

	assert_int_equal(run_capture(argv, &out, &len), 0);
	if (len && out[len - 1] == '\n')
		out[len - 1] = '\0';
	return out;
}

static void scan_png(const struct retas_receipt *rc, const char *name)
{
	uint8_t *png = NULL;
	size_t len;
	char path[600], *got;

	assert_int_equal(retas_receipt_png(rc, &png, &len, NULL), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(write_file(path, png, len), 0);
	got = scan(path);
	assert_string_equal(got, rc->token);
	free(got);
	free(png);
}

/* Renders the PDF, rasterises it with pdftoppm and scans that. */
static void scan_pdf(const struct retas_receipt *rc, const char *name)
{
	uint8_t *pdf = NULL;
	size_t len;
	char path[600], prefix[600], png[700], *out = NULL, *got;
	char *argv[] = {(char *)"pdftoppm",    (char *)"-r", (char *)"200", (char *)"-png",
			(char *)"-singlefile", path,	     prefix,	    NULL};

	assert_int_equal(retas_receipt_pdf(rc, &pdf, &len, NULL), 0);
	assert_memory_equal(pdf, "%PDF-", 5);
	snprintf(path, sizeof(path), "%s/%s.pdf", dir, name);
	snprintf(prefix, sizeof(prefix), "%s/%s", dir, name);
	snprintf(png, sizeof(png), "%s.png", prefix);
	assert_int_equal(write_file(path, pdf, len), 0);
	assert_int_equal(run_capture(argv, &out, NULL), 0);
	free(out);
	got = scan(png);
	assert_string_equal(got, rc->token);
	free(got);
	free(pdf);
}

static void receipt_png_qr_gives_token(void **state)
{
	struct retas_receipt rc = receipt(token_jws);

	scan_png(&rc, "jws.png");
	rc.record_only = false;
	rc.eligible_on = (struct retas_date){0};
	scan_png(&rc, "plain.png");
}

static void receipt_pdf_qr_gives_token(void **state)
{
	struct retas_receipt rc = receipt(token_jws);

	scan_pdf(&rc, "jws");
}

static void receipt_qr_token_at_limit(void **state)
{
	char token[RETAS_RECEIPT_TOKEN_MAX + 1];
	struct retas_receipt rc;

	/* Every printable ASCII byte, repeated to the limit. */
	for (size_t i = 0; i < RETAS_RECEIPT_TOKEN_MAX; i++)
		token[i] = (char)(0x21 + (i * 7) % 94);
	token[RETAS_RECEIPT_TOKEN_MAX] = '\0';
	rc = receipt(token);
	scan_png(&rc, "max.png");
	scan_pdf(&rc, "max");
}

static void receipt_pdf_text_masks_nik(void **state)
{
	static const char *const want[] = {
	    "PEMERINTAH KOTA JAMBI",
	    "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL KOTA JAMBI",
	    "TANDA TERIMA PEREKAMAN KTP-el",
	    "Nama : Dewi Lestari",
	    "NIK : 157102******0004",
	    "Sekolah : SMA Negeri 1 Kota Jambi (NPSN 10504187)",
	    "Tanggal : Selasa, 24 November 2026",
	    "Petugas : Rina Marlina (NIP 19870315 201001 1 002)",
	    "REKAM SAJA",
	    "5 Maret 2027",
	};
	struct retas_receipt rc = receipt(token_jws);
	uint8_t *pdf = NULL;
	size_t len;
	char path[600], *text = NULL;
	char *argv[] = {(char *)"pdftotext", (char *)"-layout", path, (char *)"-", NULL};

	assert_int_equal(retas_receipt_pdf(&rc, &pdf, &len, NULL), 0);
	snprintf(path, sizeof(path), "%s/text.pdf", dir);
	assert_int_equal(write_file(path, pdf, len), 0);
	assert_int_equal(run_capture(argv, &text, NULL), 0);
	squeeze(text);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (!strstr(text, want[i]))
			fail_msg("\"%s\" not in the receipt's text:\n%s", want[i], text);
	assert_null(strstr(text, NIK));
	free(text);
	free(pdf);
	/* Without the record-only note. */
	rc.record_only = false;
	rc.eligible_on = (struct retas_date){0};
	assert_int_equal(retas_receipt_pdf(&rc, &pdf, &len, NULL), 0);
	assert_int_equal(write_file(path, pdf, len), 0);
	assert_int_equal(run_capture(argv, &text, NULL), 0);
	assert_null(strstr(text, "REKAM SAJA"));
	assert_non_null(strstr(text, "157102******0004"));
	free(text);
	free(pdf);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void receipt_png_is_a6_at_dpi(void **state)
{
	struct retas_receipt rc = receipt(token_jws);
	uint8_t *png = NULL;
	size_t len;
	const uint8_t *phys = NULL;

	assert_int_equal(retas_receipt_png(&rc, &png, &len, NULL), 0);
	assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
	assert_memory_equal(png + 12, "IHDR", 4);
	/* 105 x 148 mm at 200 dpi. */
	assert_int_equal(be32(png + 16), 827);
	assert_int_equal(be32(png + 20), 1165);
	assert_int_equal(png[24], 8); /* bit depth */
	assert_int_equal(png[25], 0); /* grey */
	for (size_t i = 8; i + 8 <= len; i += 12 + be32(png + i))
		if (memcmp(png + i + 4, "pHYs", 4) == 0)
			phys = png + i + 8;
	assert_non_null(phys);
	assert_int_equal(be32(phys), 7874); /* pixels per metre */
	assert_int_equal(be32(phys + 4), 7874);
	assert_int_equal(phys[8], 1);
	free(png);
}

static void receipt_refuses_bad_fields(void **state)
{
	char big[RETAS_RECEIPT_TOKEN_MAX + 2];
	struct {
		struct retas_receipt rc;
		const char *reason;
	} cases[8];
	uint8_t *out = NULL;
	size_t len, n = 0;

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cases[n] = (__typeof__(cases[0])){receipt(big), "receipt.token"};
	n++;
	cases[n] = (__typeof__(cases[0])){receipt(""), "receipt.token"};
	n++;
	cases[n] = (__typeof__(cases[0])){receipt("abc\ndef"), "receipt.token"};
	n++;
	cases[n] = (__typeof__(cases[0])){receipt("abc\xc3\xa9"), "receipt.token"};
	n++;
	cases[n] = (__typeof__(cases[0])){receipt("t"), "receipt.nik"};
	cases[n].rc.nik = "157102450310000";
	n++;
	cases[n] = (__typeof__(cases[0])){receipt("t"), "receipt.nip"};
	cases[n].rc.petugas_nip = "19870315201001100";
	n++;
	cases[n] = (__typeof__(cases[0])){receipt("t"), "receipt.eligible"};
	cases[n].rc.eligible_on = (struct retas_date){2026, 11, 24};
	n++;
	cases[n] = (__typeof__(cases[0])){receipt("t"), "receipt.nama"};
	cases[n].rc.nama = "";
	n++;
	for (size_t i = 0; i < n; i++) {
		struct retas_error e = {0};

		assert_int_equal(retas_receipt_png(&cases[i].rc, &out, &len, &e), -EINVAL);
		assert_string_equal(e.reason, cases[i].reason);
		memset(&e, 0, sizeof(e));
		assert_int_equal(retas_receipt_pdf(&cases[i].rc, &out, &len, &e), -EINVAL);
		assert_string_equal(e.reason, cases[i].reason);
	}
	assert_null(out);
	/* A masked NIK is accepted as it is. */
	{
		struct retas_receipt rc = receipt("t");

		rc.nik = "157102******0004";
		assert_int_equal(retas_receipt_pdf(&rc, &out, &len, NULL), 0);
		free(out);
	}
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
	static const char *const tools[] = {"pdftotext", "pdftoppm", "zbarimg", NULL};
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(receipt_png_qr_gives_token),
	    cmocka_unit_test(receipt_pdf_qr_gives_token),
	    cmocka_unit_test(receipt_qr_token_at_limit),
	    cmocka_unit_test(receipt_pdf_text_masks_nik),
	    cmocka_unit_test(receipt_png_is_a6_at_dpi),
	    cmocka_unit_test(receipt_refuses_bad_fields),
	};

	tools_or_skip(tools);
	return cmocka_run_group_tests(tests, setup, teardown);
}
