/* The Draft Laporan RETAS model: counts derived from a class of five, the
 * JSON round trip, the import's refusals (each naming its field), exact CSV
 * bytes, and the checks rows go through on the way in. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "retas-json.h"
#include "retas-jws.h"
#include "retas-manifest.h"
#include "retas-report.h"
#include "retas-util.h"

#include "report-fixture.h"

static void report_counts_class_of_five(void **state)
{
	struct retas_report *r = fix_class_of_five();
	struct retas_report_counts c;

	assert_non_null(r);
	retas_report_counts(r, &c);
	assert_int_equal(c.total.target, 5);
	assert_int_equal(c.total.recorded, 3);
	assert_int_equal(c.male.target, 3);
	assert_int_equal(c.male.recorded, 1);
	assert_int_equal(c.female.target, 2);
	assert_int_equal(c.female.recorded, 2);
	assert_int_equal(c.record_only.target, 1);
	assert_int_equal(c.record_only.recorded, 1);
	assert_int_equal(c.print_eligible.target, 4);
	assert_int_equal(c.print_eligible.recorded, 2);
	assert_int_equal(c.added, 0);
	assert_int_equal(c.not_recorded, 2);
	assert_int_equal(c.by_status[RETAS_REPORT_PENDING], 0);
	assert_int_equal(c.by_status[RETAS_REPORT_RECORDED], 3);
	assert_int_equal(c.by_status[RETAS_REPORT_ABSENT], 1);
	assert_int_equal(c.by_status[RETAS_REPORT_INVALID_NIK], 0);
	assert_int_equal(c.by_status[RETAS_REPORT_ALREADY_RECORDED], 1);
	assert_int_equal(c.by_status[RETAS_REPORT_REFUSED], 0);
	assert_int_equal(c.by_status[RETAS_REPORT_DEVICE_FAILURE], 0);
	assert_int_equal(c.with_exception, 1);
	assert_int_equal(c.exceptions_total, 1);
	for (int f = 0; f < RETAS_FINGERS; f++)
		for (int k = 0; k < RETAS_FINGER_N_REASONS; k++)
			assert_int_equal(c.exceptions[f][k],
					 f == 1 && k == RETAS_FINGER_BANDAGED ? 1 : 0);
	/* Finger 1: scores 60, 70, 50. Finger 2: 61 and 51 (bandaged once). */
	assert_int_equal(c.quality[0].count, 3);
	assert_int_equal(c.quality[0].min, 50);
	assert_int_equal(c.quality[0].max, 70);
	assert_int_equal(c.quality[0].sum, 180);
	assert_int_equal(c.quality[1].count, 2);
	assert_int_equal(c.quality[1].min, 51);
	assert_int_equal(c.quality[1].max, 61);
	assert_int_equal(c.quality[9].sum, 69 + 79 + 59);
	assert_int_equal(c.duration_min, 135);
	assert_int_equal(c.standard_min, 15);
	assert_string_equal(retas_report_row_status(&r->students[0]), "recorded");
	assert_string_equal(retas_report_row_status(&r->students[1]), "exception");
	assert_string_equal(retas_report_row_status(&r->students[2]), "absent");
	assert_string_equal(retas_report_row_status(&r->students[3]), "record-only");
	assert_string_equal(retas_report_row_status(&r->students[4]), "already-recorded");
	retas_report_free(r);
}

static void report_nik_masked_on_add(void **state)
{
	struct retas_report *r = fix_class_of_five();
	char *json = NULL, *csv = NULL;
	size_t len;

	assert_non_null(r);
	assert_string_equal(r->students[0].nik, "157101******0001");
	assert_string_equal(r->students[3].nik, "157102******0004");
	assert_int_equal(retas_report_to_json(r, &json, &len, NULL), 0);
	assert_int_equal(strlen(json), len);
	assert_int_equal(retas_report_to_csv(r, &csv, &len, NULL), 0);
	for (size_t i = 0; i < ARRAY_SIZE(fix_niks); i++) {
		assert_null(strstr(json, fix_niks[i]));
		assert_null(strstr(csv, fix_niks[i]));
	}
	free(json);
	free(csv);
	retas_report_free(r);
}

static void report_json_round_trip(void **state)
{
	struct retas_report *r = fix_class_of_five(), *back = NULL;
	struct retas_report_student s;
	struct retas_error e = {0};
	char *json = NULL, *again = NULL;
	size_t len, len2;

	assert_non_null(r);
	/* Also a student added on the spot whose NIK could not be read. */
	fix_student(&s, "15710", "Tamu Tanpa NIK", 0, RETAS_REPORT_INVALID_NIK);
	s.on_list = false;
	s.kelas = (char *)"";
	assert_int_equal(retas_report_add_student(r, &s, &e), 0);
	assert_string_equal(r->students[5].nik, "****************");
	assert_int_equal(retas_report_to_json(r, &json, &len, &e), 0);
	assert_non_null(strstr(json, "\"typ\":\"retas.laporan.v1\""));
	assert_non_null(strstr(json, "\"dibuka\":\"2026-11-24T07:30:00+07:00\""));
	assert_non_null(strstr(json, "\"tidak_direkam\":{\"total\":3,\"absent\":1,"
				     "\"invalid-nik\":1,\"already-recorded\":1,"
				     "\"refused\":0,\"device-failure\":0}"));
	assert_non_null(strstr(json, "{\"jari\":1,\"n\":3,\"min\":50,\"rata\":60.0,\"maks\":70}"));
	assert_non_null(strstr(json, "{\"jari\":2,\"n\":2,\"min\":51,\"rata\":56.0,\"maks\":61}"));
	assert_int_equal(retas_report_from_json(json, len, &back, &e), 0);
	assert_true(retas_report_equal(r, back));
	assert_int_equal(retas_report_to_json(back, &again, &len2, &e), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(json, again, len);
	/* A change is seen. */
	back->students[1].exceptions[0].reason = RETAS_FINGER_SCARRED;
	assert_false(retas_report_equal(r, back));
	free(json);
	free(again);
	retas_report_free(back);
	retas_report_free(r);
}

/* Sets or removes (v == DELETE) the member at a '/'-separated path. */
static char delete_sentinel;
#define DELETE ((json_object *)&delete_sentinel)

static void jset(json_object *root, const char *path, json_object *v)
{
	char buf[128], *save = NULL, *tok, *next;
	json_object *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	tok = strtok_r(buf, "/", &save);
	while ((next = strtok_r(NULL, "/", &save))) {
		if (json_object_is_type(cur, json_type_array))
			cur = json_object_array_get_idx(cur, (size_t)atoi(tok));
		else
			assert_true(json_object_object_get_ex(cur, tok, &cur));
		assert_non_null(cur);
		tok = next;
	}
	if (json_object_is_type(cur, json_type_array)) {
		assert_true(v != DELETE);
		json_object_array_put_idx(cur, (size_t)atoi(tok), v);
	} else if (v == DELETE) {
		json_object_object_del(cur, tok);
	} else {
		json_object_object_add(cur, tok, v);
	}
}

static void report_json_import_refuses_named_field(void **state)
{
	static const struct {
		const char *path;
		enum { S_STR, S_INT, S_NULL, S_DEL } kind;
		const char *s;
		int i;
		const char *reason, *named;
	} cases[] = {
	    {"siswa/1/nama", S_DEL, NULL, 0, "report.json", "siswa[1].nama"},
	    {"siswa/2/nik", S_STR, "1571030101090003", 0, "report.nik", "siswa[2].nik"},
	    {"siswa/0/status", S_STR, "gone", 0, "report.json", "siswa[0].status"},
	    {"siswa/4/jenis_kelamin", S_STR, "X", 0, "report.json", "siswa[4].jenis_kelamin"},
	    {"sekolah/npsn", S_INT, NULL, 10504187, "report.json", "sekolah.npsn"},
	    {"sekolah/kecamatan/kode", S_DEL, NULL, 0, "report.json", "sekolah.kecamatan.kode"},
	    {"petugas/1/nip", S_STR, "12345", 0, "report.nip", "Officer 2"},
	    {"siswa/1/pengecualian/0/jari", S_INT, NULL, 11, "report.json",
	     "siswa[1].pengecualian[0].jari"},
	    {"siswa/1/pengecualian/0/alasan", S_STR, "burnt", 0, "report.json",
	     "siswa[1].pengecualian[0].alasan"},
	    {"siswa/0/record_id", S_NULL, NULL, 0, "report.record-id", "siswa[0]"},
	    {"siswa/0/kualitas/3", S_INT, NULL, 101, "report.json", "siswa[0].kualitas"},
	    {"siswa/1/kualitas/1", S_INT, NULL, 80, "report.quality", "siswa[1]"},
	    {"siswa/2/rekam_saja", S_INT, NULL, 1, "report.json", "siswa[2].rekam_saja"},
	    {"siswa/3/layak_cetak", S_STR, "2026-11-01", 0, "report.eligible", "siswa[3]"},
	    {"insiden/1/perangkat", S_STR, "Camera!", 0, "report.incident", "insiden[1]"},
	    {"sesi/ditutup", S_STR, "2026-11-24T06:00:00+07:00", 0, "report.session",
	     "closing time"},
	    {"ringkasan/tidak_direkam/absent", S_INT, NULL, 2, "report.summary",
	     "ringkasan.tidak_direkam.absent"},
	    {"ringkasan/kualitas/0/rata", S_INT, NULL, 60, "report.summary",
	     "ringkasan.kualitas[0].rata"},
	    {"ringkasan", S_DEL, NULL, 0, "report.json", "ringkasan"},
	    {"typ", S_STR, "retas.laporan.v2", 0, "report.typ", "retas.laporan.v1"},
	};
	struct retas_report *r = fix_class_of_five(), *back = NULL;
	char *json = NULL;
	size_t len;

	assert_non_null(r);
	assert_int_equal(retas_report_to_json(r, &json, &len, NULL), 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_object *o = NULL, *v;
		struct retas_error e = {0};
		char *bad = NULL;

		assert_int_equal(retas_json_parse(json, len, &o), 0);
		switch (cases[i].kind) {
		case S_STR:
			v = json_object_new_string(cases[i].s);
			break;
		case S_INT:
			v = json_object_new_int(cases[i].i);
			break;
		case S_NULL:
			v = NULL;
			break;
		default:
			v = DELETE;
		}
		jset(o, cases[i].path, v);
		assert_int_equal(retas_json_to_string(o, &bad), 0);
		assert_int_equal(retas_report_from_json(bad, strlen(bad), &back, &e), -EINVAL);
		if (!streq(e.reason, cases[i].reason) || !strstr(e.message, cases[i].named))
			fail_msg("case %s: got %s: %s", cases[i].path, e.reason, e.message);
		free(bad);
		json_object_put(o);
	}
	/* Not JSON, trailing bytes, not an object. */
	{
		static const char *const junk[] = {"{", "{}x", "[1]", ""};
		struct retas_error e = {0};

		for (size_t i = 0; i < ARRAY_SIZE(junk); i++) {
			assert_int_equal(
			    retas_report_from_json(junk[i], strlen(junk[i]), &back, &e), -EINVAL);
			assert_string_equal(e.reason, "report.json");
		}
		assert_int_equal(retas_report_from_json("{}", 2, &back, &e), -EINVAL);
		assert_non_null(strstr(e.message, "typ"));
	}
	assert_null(back);
	free(json);
	retas_report_free(r);
}

static void report_csv_exact_bytes(void **state)
{
	static const char want[] =
	    "no,nik,nama,kelas,jenis_kelamin,sasaran,status,rekam_saja,layak_cetak,"
	    "pengecualian,record_id\r\n"
	    "1,157101******0001,Ahmad Fauzi,XII IPA 1,L,ya,recorded,tidak,,,"
	    "01936f7a-8c00-7000-8000-000000000001\r\n"
	    "2,157102******0002,Siti Aminah,XII IPA 1,P,ya,exception,tidak,,2:bandaged,"
	    "01936f7a-8c00-7000-8000-000000000002\r\n"
	    "3,157103******0003,Budi Santoso,XII IPS 2,L,ya,absent,tidak,,,\r\n"
	    "4,157102******0004,Dewi Lestari,XI IPA 3,P,ya,record-only,ya,2027-03-05,,"
	    "01936f7a-8c00-7000-8000-000000000004\r\n"
	    "5,157104******0005,Rahmat Hidayat,XII IPA 1,L,ya,already-recorded,tidak,,,\r\n"
	    "6,157105******0006,\"Nur \"\"Ani\"\", Aminah\",'=1+1,P,tidak,refused,tidak,,,\r\n"
	    "7,157105******0007,\"Baris\nDua\",,L,tidak,device-failure,tidak,,,\r\n";
	struct retas_report *r = fix_class_of_five();
	struct retas_report_student s;
	struct retas_error e = {0};
	char *csv = NULL;
	size_t len;

	assert_non_null(r);
	fix_student(&s, "1571056603090006", "Nur \"Ani\", Aminah", 'P', RETAS_REPORT_REFUSED);
	s.kelas = (char *)"=1+1";
	s.on_list = false;
	assert_int_equal(retas_report_add_student(r, &s, &e), 0);
	/* A line break in a name is refused; the CSV never needs to quote one
	 * from a row, but quotes it when asked to (checked with a raw row). */
	fix_student(&s, "1571051203090007", "Baris\nDua", 'L', RETAS_REPORT_DEVICE_FAILURE);
	s.kelas = (char *)"";
	s.on_list = false;
	assert_int_equal(retas_report_add_student(r, &s, &e), -EINVAL);
	assert_string_equal(e.reason, "report.nama");
	s.nama = (char *)"Baris Dua";
	assert_int_equal(retas_report_add_student(r, &s, &e), 0);
	free(r->students[6].nama);
	r->students[6].nama = strdup("Baris\nDua");
	assert_int_equal(retas_report_to_csv(r, &csv, &len, &e), 0);
	assert_int_equal(len, sizeof(want) - 1);
	assert_string_equal(csv, want);
	free(csv);
	retas_report_free(r);
}

static void report_add_student_refuses_inconsistent_rows(void **state)
{
	struct retas_report *r = fix_class_of_five();
	struct retas_report_student s;
	struct retas_error e = {0};

	assert_non_null(r);
	/* Recorded without a record id. */
	fix_student(&s, fix_niks[0], "A", 'L', RETAS_REPORT_RECORDED);
	assert_int_equal(retas_report_add_student(r, &s, &e), -EINVAL);
	assert_string_equal(e.reason, "report.record-id");
	/* An exception on an absent student. */
	fix_student(&s, fix_niks[0], "A", 'L', RETAS_REPORT_ABSENT);
	s.n_exceptions = 1;
	s.exceptions[0] = (struct retas_report_exception){3, RETAS_FINGER_MISSING};
	assert_int_equal(retas_report_add_student(r, &s, &e), -EINVAL);
	assert_string_equal(e.reason, "report.exception");
	/* The same finger twice; a finger 0. */
	fix_student(&s, fix_niks[0], "A", 'L', RETAS_REPORT_RECORDED);
	fix_record(&s, 9, 40);
	s.quality[2] = s.quality[3] = -1;
	s.n_exceptions = 2;
	s.exceptions[0] = (struct retas_report_exception){3, RETAS_FINGER_MISSING};
	s.exceptions[1] = (struct retas_report_exception){3, RETAS_FINGER_SCARRED};
	assert_int_equal(retas_report_add_student(r, &s, &e), -EINVAL);
	assert_string_equal(e.reason, "report.exception");
	s.exceptions[1] = (struct retas_report_exception){0, RETAS_FINGER_SCARRED};
	assert_int_equal(retas_report_add_student(r, &s, &e), -EINVAL);
	assert_string_equal(e.reason, "report.exception");
	/* A score on an excepted finger; a score out of range. */
	s.exceptions[1] = (struct retas_report_exception){4, RETAS_FINGER_SCARRED};
	s.quality[2] = 50;
	assert_int_equal(retas_report_add_student(r, &s, &e), -EINVAL);
	assert_string_equal(e.reason, "report.quality");
	s.quality[2] = -1;
	s.quality[0] = 101;
	assert_int_equal(retas_report_add_student(r, &s, &e), -EINVAL);
	assert_string_equal(e.reason, "report.quality");
	s.quality[0] = 100;
	assert_int_equal(retas_report_add_student(r, &s, &e), 0);
	/* Record-only without a date after the session. */
	fix_student(&s, fix_niks[3], "D", 'P', RETAS_REPORT_ABSENT);
	s.record_only = true;
	s.eligible_on = (struct retas_date){2026, 11, 24};
	assert_int_equal(retas_report_add_student(r, &s, &e), -EINVAL);
	assert_string_equal(e.reason, "report.eligible");
	/* Unknown gender outside invalid-nik; bad UTF-8; long class. */
	fix_student(&s, fix_niks[3], "D", 0, RETAS_REPORT_ABSENT);
	assert_int_equal(retas_report_add_student(r, &s, &e), -EINVAL);
	assert_string_equal(e.reason, "report.gender");
	fix_student(&s, fix_niks[3], "D\xc3", 'P', RETAS_REPORT_ABSENT);
	assert_int_equal(retas_report_add_student(r, &s, &e), -EINVAL);
	assert_string_equal(e.reason, "report.nama");
	fix_student(&s, fix_niks[3], "D", 'P', RETAS_REPORT_ABSENT);
	s.kelas = (char *)"0123456789012345678901234567890123";
	assert_int_equal(retas_report_add_student(r, &s, &e), -EINVAL);
	assert_string_equal(e.reason, "report.kelas");
	s.status = RETAS_REPORT_N_STATUS;
	s.kelas = (char *)"X";
	assert_int_equal(retas_report_add_student(r, &s, &e), -EINVAL);
	assert_string_equal(e.reason, "report.status");
	/* Only the one good row went in. */
	assert_int_equal(r->n_students, 6);
	retas_report_free(r);
}

static void report_header_refusals(void **state)
{
	struct retas_report_header h;
	struct retas_report *r = NULL;
	struct retas_error e = {0};

	fix_header(&h);
	snprintf(h.npsn, sizeof(h.npsn), "1050418");
	assert_int_equal(retas_report_new(&h, &r, &e), -EINVAL);
	assert_string_equal(e.reason, "report.npsn");
	fix_header(&h);
	h.n_petugas = 0;
	assert_int_equal(retas_report_new(&h, &r, &e), -EINVAL);
	assert_string_equal(e.reason, "report.petugas");
	fix_header(&h);
	h.petugas[1].nip[17] = 'x';
	assert_int_equal(retas_report_new(&h, &r, &e), -EINVAL);
	assert_string_equal(e.reason, "report.nip");
	fix_header(&h);
	h.closed_ms = h.opened_ms - 1;
	assert_int_equal(retas_report_new(&h, &r, &e), -EINVAL);
	assert_string_equal(e.reason, "report.session");
	fix_header(&h);
	memset(h.sekolah, 'A', sizeof(h.sekolah));
	assert_int_equal(retas_report_new(&h, &r, &e), -EINVAL);
	assert_string_equal(e.reason, "report.sekolah");
	fix_header(&h);
	h.st_tanggal.day = 31;
	assert_int_equal(retas_report_new(&h, &r, &e), -EINVAL);
	assert_string_equal(e.reason, "report.st-tanggal");
	assert_null(r);
	/* Still open: no duration, null closing time. */
	fix_header(&h);
	h.closed_ms = 0;
	assert_int_equal(retas_report_new(&h, &r, &e), 0);
	{
		struct retas_report_counts c;
		char *json = NULL;
		size_t len;

		retas_report_counts(r, &c);
		assert_int_equal(c.duration_min, -1);
		assert_int_equal(retas_report_to_json(r, &json, &len, &e), 0);
		assert_non_null(strstr(json, "\"ditutup\":null"));
		assert_non_null(strstr(json, "\"durasi_menit\":null"));
		free(json);
	}
	retas_report_free(r);
}

static void report_sign_verify(void **state)
{
	struct retas_report *r = fix_class_of_five(), *back = NULL;
	uint8_t pk[32], sk[64], pk2[32], sk2[64];
	struct retas_jws *peek = NULL;
	struct retas_error e = {0};
	char kid[17], *token = NULL, *dot;

	assert_non_null(r);
	assert_int_equal(sodium_init() >= 0, 1);
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	retas_key_id(pk, kid);
	assert_int_equal(retas_report_sign(r, sk, kid, &token, &e), 0);
	assert_int_equal(retas_jws_peek(token, strlen(token), &peek, &e), 0);
	assert_string_equal(peek->typ, "retas-laporan+jws");
	assert_string_equal(peek->kid, kid);
	retas_jws_free(peek);
	assert_int_equal(retas_report_verify(token, strlen(token), pk, &back, &e), 0);
	assert_true(retas_report_equal(r, back));
	retas_report_free(back);
	back = NULL;
	/* Another van's key; a changed payload. */
	assert_true(retas_report_verify(token, strlen(token), pk2, &back, &e) < 0);
	assert_string_equal(e.reason, "jws.signature");
	dot = strchr(token, '.');
	dot[5] = dot[5] == 'A' ? 'B' : 'A';
	assert_true(retas_report_verify(token, strlen(token), pk, &back, &e) < 0);
	assert_null(back);
	free(token);
	/* A report signed as something else is not a report. */
	{
		char *json = NULL, *other = NULL;
		size_t len;

		assert_int_equal(retas_report_to_json(r, &json, &len, &e), 0);
		assert_int_equal(
		    retas_jws_sign(json, len, "retas-manifest+jws", NULL, sk, &other, &e), 0);
		assert_true(retas_report_verify(other, strlen(other), pk, &back, &e) < 0);
		assert_string_equal(e.reason, "jws.typ");
		free(json);
		free(other);
	}
	retas_report_free(r);
}

/* The draft report rides in the batch manifest as an object and comes out
 * at head office as the same report. */
static void report_in_manifest_round_trip(void **state)
{
	struct retas_report *r = fix_class_of_five(), *back = NULL;
	struct retas_manifest *m = NULL, *got = NULL;
	struct retas_error e = {0};
	uint8_t pk[32], sk[64];
	json_object *o = NULL;
	char *token = NULL;

	assert_non_null(r);
	assert_int_equal(sodium_init() >= 0, 1);
	crypto_sign_keypair(pk, sk);
	assert_int_equal(retas_manifest_new("MPK-01", r->h.st_nomor, FIX_CLOSED_MS, &m), 0);
	assert_int_equal(retas_report_json_object(r, &o, &e), 0);
	retas_manifest_set_report(m, o);
	assert_int_equal(retas_manifest_sign(m, sk, &token, &e), 0);
	assert_int_equal(retas_manifest_verify(token, strlen(token), pk, &got, &e), 0);
	assert_non_null(got->report);
	assert_int_equal(retas_report_from_object(got->report, &back, &e), 0);
	assert_true(retas_report_equal(r, back));
	free(token);
	retas_report_free(back);
	retas_manifest_free(got);
	retas_manifest_free(m);
	retas_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(report_counts_class_of_five),
	    cmocka_unit_test(report_nik_masked_on_add),
	    cmocka_unit_test(report_json_round_trip),
	    cmocka_unit_test(report_json_import_refuses_named_field),
	    cmocka_unit_test(report_csv_exact_bytes),
	    cmocka_unit_test(report_add_student_refuses_inconsistent_rows),
	    cmocka_unit_test(report_header_refusals),
	    cmocka_unit_test(report_sign_verify),
	    cmocka_unit_test(report_in_manifest_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
