/*
 * Card issuance on a real retas-hq, from the token in a student's receipt
 * QR: scanned, verified, entered, printed and handed over, each by its role
 * and in order; a record-only student refused until the 17th birthday; a
 * forged token refused; the summary counting the standards kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "hq-harness.h"
#include "retas-json.h"
#include "retas-record.h"
#include "retas-time.h"
#include "retas-util.h"
#include "retas-uuid.h"
#include "sync-qr.h"

static const char *bin;
static struct hq_fx fx;
static struct staff_tokens tok;
static struct test_van van;
static char *adult_token, *young_token, *unsent_token;
static char adult_id[RETAS_UUID_STR_LEN], young_id[RETAS_UUID_STR_LEN];

#define NOMOR "800/041/DUKCAPIL/2026"

static char *make_token(const uint8_t *rec, size_t len, const uint8_t *pk, const uint8_t *sk,
			char *id_out)
{
	struct retas_record_header h;
	struct sync_qr q = {.npsn = "10504187"};
	char *tok_s = NULL;

	assert_int_equal(retas_record_read_header(rec, len, &h, NULL), 0);
	memcpy(q.record_id, h.id, 16);
	retas_record_hash(rec, len, q.record_hash);
	retas_date_from_ms(h.created_ms, RETAS_WIB_OFFSET_MIN, &q.date);
	assert_int_equal(sync_qr_make(&q, pk, sk, &tok_s), 0);
	if (id_out)
		retas_uuid_format(h.id, id_out);
	return tok_s;
}

static int setup(void **state)
{
	char demo[3][512], id[40];
	uint8_t *recs[3], *batch;
	size_t lens[3], len;

	hq_fx_init(&fx, bin, NULL);
	hq_fx_staff_all(&fx, &tok);
	test_van_new(&van, "MPK-01");
	test_van_register(&fx, &van);
	hq_fx_start(&fx);
	student_demografi(demo[0], sizeof(demo[0]), "Siti Aminah", 'P', 17, 30, 1, 0);
	student_demografi(demo[1], sizeof(demo[1]), "Rudi Hartono", 'L', 16, 0, 2, 0);
	student_demografi(demo[2], sizeof(demo[2]), "Belum Terkirim", 'L', 18, 0, 3, 0);
	for (int i = 0; i < 3; i++)
		test_van_record(&van, fx.seal_pk, NOMOR, "198703152010011002", retas_time_now_ms(),
				demo[i], 1000, NULL, &recs[i], &lens[i]);
	adult_token = make_token(recs[0], lens[0], van.pk, van.sk, adult_id);
	young_token = make_token(recs[1], lens[1], van.pk, van.sk, young_id);
	unsent_token = make_token(recs[2], lens[2], van.pk, van.sk, NULL);
	test_van_batch(&van, NOMOR, recs, lens, 2, NULL, &batch, &len, id);
	assert_int_equal(tus_upload(&fx, &van, batch, len, NULL), 204);
	free(batch);
	for (int i = 0; i < 3; i++)
		free(recs[i]);
	return 0;
}

static int teardown(void **state)
{
	free(adult_token);
	free(young_token);
	free(unsent_token);
	staff_tokens_free(&tok);
	hq_fx_cleanup(&fx);
	return 0;
}

static json_object *call(const char *method, const char *path, const char *token, const char *body,
			 long status, const char *reason)
{
	struct http_resp r;
	json_object *o = NULL;

	api_do(&fx, method, path, token, body, &r);
	if (reason) {
		http_assert_error(&r, status, reason);
	} else {
		if (r.status != status)
			fail_msg("%s %s: %ld, want %ld: %s", method, path, r.status, status,
				 r.body);
		o = http_json(&r);
	}
	http_resp_clear(&r);
	return o;
}

static const char *str(json_object *o, const char *key)
{
	return json_object_get_string(json_object_object_get(o, key));
}

static void scan_body(char *buf, size_t size, const char *token)
{
	snprintf(buf, size, "{\"token\":\"%s\"}", token);
}

static void issuance_four_steps_from_scanned_token(void **state)
{
	char body[512], path[128];
	json_object *o, *steps;

	scan_body(body, sizeof(body), adult_token);
	call("POST", "/api/v1/issuance/scan", tok.operator, body, 403, "auth.role");
	o = call("POST", "/api/v1/issuance/scan", tok.fo, body, 200, NULL);
	assert_string_equal(str(o, "record"), adult_id);
	assert_string_equal(str(o, "nama"), "Siti Aminah");
	assert_string_equal(str(o, "nik") + 6, "******0001");
	assert_string_equal(str(o, "status"), "scanned");
	assert_string_equal(str(o, "receipt_npsn"), "10504187");
	assert_false(json_object_get_boolean(json_object_object_get(o, "record_only")));
	json_object_put(o);

	/* out of order, wrong role, then each step by its role */
	snprintf(path, sizeof(path), "/api/v1/issuance/%s/enter", adult_id);
	call("POST", path, tok.operator, NULL, 409, "issuance.order");
	snprintf(path, sizeof(path), "/api/v1/issuance/%s/verify", adult_id);
	call("POST", path, tok.operator, NULL, 403, "auth.role");
	o = call("POST", path, tok.fo, NULL, 200, NULL);
	assert_string_equal(str(o, "status"), "verified");
	json_object_put(o);
	call("POST", path, tok.fo, NULL, 409, "issuance.done");
	snprintf(path, sizeof(path), "/api/v1/issuance/%s/enter", adult_id);
	call("POST", path, tok.fo, NULL, 403, "auth.role");
	o = call("POST", path, tok.operator, NULL, 200, NULL);
	assert_string_equal(str(o, "status"), "entered");
	json_object_put(o);
	snprintf(path, sizeof(path), "/api/v1/issuance/%s/handover", adult_id);
	call("POST", path, tok.fo, NULL, 409, "issuance.order");
	snprintf(path, sizeof(path), "/api/v1/issuance/%s/print", adult_id);
	o = call("POST", path, tok.operator, NULL, 200, NULL);
	assert_string_equal(str(o, "status"), "printed");
	json_object_put(o);
	snprintf(path, sizeof(path), "/api/v1/issuance/%s/handover", adult_id);
	call("POST", path, tok.operator, NULL, 403, "auth.role");
	o = call("POST", path, tok.fo, NULL, 200, NULL);
	assert_string_equal(str(o, "status"), "handed-over");
	/* each of the four steps timed and within its standard */
	steps = json_object_object_get(o, "steps");
	assert_int_equal(json_object_array_length(steps), 4);
	for (size_t i = 0; i < 4; i++) {
		json_object *s = json_object_array_get_idx(steps, i);

		assert_true(json_object_get_boolean(json_object_object_get(s, "within")));
		assert_int_equal(json_object_get_int64(json_object_object_get(s, "step")),
				 (int64_t)i + 2);
	}
	assert_string_equal(str(json_object_array_get_idx(steps, 0), "standard_min"), "15");
	assert_string_equal(str(json_object_array_get_idx(steps, 1), "standard_min"), "10");
	assert_string_equal(str(json_object_array_get_idx(steps, 2), "standard_min"), "5");
	assert_string_equal(str(json_object_array_get_idx(steps, 3), "standard_min"), "5");
	json_object_put(o);

	/* the summary */
	o = call("GET", "/api/v1/issuance", tok.kadis, NULL, 200, NULL);
	assert_int_equal(json_object_get_int64(json_object_object_get(o, "records")), 2);
	assert_int_equal(json_object_get_int64(json_object_object_get(
			     json_object_object_get(o, "status"), "handed-over")),
			 1);
	assert_int_equal(json_object_get_int64(json_object_object_get(
			     json_object_object_get(o, "status"), "record-only")),
			 1);
	steps = json_object_object_get(o, "steps");
	for (size_t i = 0; i < 4; i++) {
		json_object *s = json_object_array_get_idx(steps, i);

		assert_int_equal(json_object_get_int64(json_object_object_get(s, "done")), 1);
		assert_int_equal(json_object_get_int64(json_object_object_get(s, "within")), 1);
		assert_int_equal(json_object_get_int64(json_object_object_get(s, "missed")), 0);
	}
	json_object_put(o);
}

static void issuance_record_only_until_17th_birthday(void **state)
{
	struct retas_date today, from;
	char body[512], path[128], want[11];
	json_object *o, *list;

	retas_date_from_ms(retas_time_now_ms(), RETAS_WIB_OFFSET_MIN, &today);
	retas_date_add_years(&(struct retas_date){today.year - 16, today.month, today.day}, 17,
			     &from);
	retas_date_format(&from, want);
	scan_body(body, sizeof(body), young_token);
	o = call("POST", "/api/v1/issuance/scan", tok.fo, body, 200, NULL);
	assert_true(json_object_get_boolean(json_object_object_get(o, "record_only")));
	assert_false(json_object_get_boolean(json_object_object_get(o, "eligible")));
	assert_string_equal(str(o, "status"), "record-only");
	assert_string_equal(str(o, "eligible_from"), want);
	json_object_put(o);
	snprintf(path, sizeof(path), "/api/v1/issuance/%s/verify", young_id);
	call("POST", path, tok.fo, NULL, 409, "issuance.record-only");
	o = call("GET", "/api/v1/issuance", tok.fo, NULL, 200, NULL);
	list = json_object_object_get(o, "record_only");
	assert_int_equal(json_object_array_length(list), 1);
	assert_string_equal(str(json_object_array_get_idx(list, 0), "eligible_from"), want);
	json_object_put(o);
}

static void issuance_forged_and_unknown_tokens(void **state)
{
	uint8_t pk[32], sk[64];
	struct sync_qr q = {.npsn = "10504187", .date = {2026, 11, 24}};
	char body[512], *forged = NULL;

	crypto_sign_keypair(pk, sk);
	randombytes_buf(q.record_id, 16);
	/* an unregistered van's token */
	assert_int_equal(sync_qr_make(&q, pk, sk, &forged), 0);
	scan_body(body, sizeof(body), forged);
	call("POST", "/api/v1/issuance/scan", tok.fo, body, 401, "qr.unknown-van");
	free(forged);
	/* the van's key id, another key's signature */
	assert_int_equal(sync_qr_make(&q, van.pk, sk, &forged), 0);
	scan_body(body, sizeof(body), forged);
	call("POST", "/api/v1/issuance/scan", tok.fo, body, 401, "qr.signature");
	free(forged);
	call("POST", "/api/v1/issuance/scan", tok.fo, "{\"token\":\"RQ1.AAAA\"}", 400, "qr.format");
	call("POST", "/api/v1/issuance/scan", tok.fo, "{}", 400, "qr.format");
	/* genuine, but its record never reached head office */
	scan_body(body, sizeof(body), unsent_token);
	call("POST", "/api/v1/issuance/scan", tok.fo, body, 404, "issuance.unknown-record");
	call("POST", "/api/v1/issuance/00000000-0000-7000-8000-000000000000/verify", tok.fo, NULL,
	     404, "issuance.unknown-record");
	call("POST", "/api/v1/issuance/00000000-0000-7000-8000-000000000000/sing", tok.fo, NULL,
	     404, "http.not-found");
}

static void issuance_command_line(void **state)
{
	char *out = NULL;

	assert_int_equal(
	    hq_fx_run(&fx, &out, "issuance", "scan", young_token, "--token", tok.fo, NULL), 0);
	assert_non_null(strstr(out, "recorded only; the card can be issued from"));
	free(out);
	assert_int_equal(
	    hq_fx_run(&fx, NULL, "issuance", "scan", young_token, "--token", tok.operator, NULL),
	    1);
	assert_int_equal(
	    hq_fx_run(&fx, NULL, "issuance", "verify", young_id, "--token", tok.fo, NULL), 1);
	assert_int_equal(hq_fx_run(&fx, &out, "issuance", "summary", "--nomor", NOMOR, "--token",
				   tok.kadis, NULL),
			 0);
	assert_non_null(strstr(out, "\"handed-over\":1"));
	free(out);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(issuance_four_steps_from_scanned_token),
	    cmocka_unit_test(issuance_record_only_until_17th_birthday),
	    cmocka_unit_test(issuance_forged_and_unknown_tokens),
	    cmocka_unit_test(issuance_command_line),
	};

	bin = hq_fx_binary(argc, argv);
	return cmocka_run_group_tests(tests, setup, teardown);
}
