/*
 * The RETAS workflow (SOP steps 1-4) on a real retas-hq, over the HTTP API
 * and the command line: each step by its role, every other role refused
 * with 403, states that cannot move refused with 409, and the signed surat
 * tugas verified with the core library exactly as the van will.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hq-harness.h"
#include "retas-json.h"
#include "retas-jws.h"
#include "retas-st.h"
#include "retas-time.h"
#include "retas-util.h"

static const char *bin;
static struct hq_fx fx;
static struct staff_tokens tok;
static struct test_van van;

#define NOMOR "800/041/DUKCAPIL/2026"
#define PETUGAS1 "198703152010011002"
#define PETUGAS2 "199205052018012005"

static int setup(void **state)
{
	hq_fx_init(&fx, bin, NULL);
	hq_fx_staff_all(&fx, &tok);
	test_van_new(&van, "MPK-01");
	test_van_register(&fx, &van);
	hq_fx_start(&fx);
	return 0;
}

static int teardown(void **state)
{
	staff_tokens_free(&tok);
	hq_fx_cleanup(&fx);
	return 0;
}

static void usulan_body(char *buf, size_t size, const char *npsn, const char *kec,
			int64_t from_offset_ms, bool started)
{
	char from[RETAS_RFC3339_MAX], until[RETAS_RFC3339_MAX], st[RETAS_RFC3339_MAX];
	int64_t now = retas_time_now_ms();

	retas_time_format_rfc3339(now + from_offset_ms, RETAS_WIB_OFFSET_MIN, from);
	retas_time_format_rfc3339(now + from_offset_ms + 9 * 3600000, RETAS_WIB_OFFSET_MIN, until);
	retas_time_format_rfc3339(now - 4 * 60000, RETAS_WIB_OFFSET_MIN, st);
	snprintf(
	    buf, size,
	    "{\"npsn\":\"%s\",\"nama\":\"SMA Negeri 1 Kota Jambi\",\"alamat\":\"Jl. Urip "
	    "Sumoharjo\",\"kecamatan\":\"%s\",\"valid_from\":\"%s\",\"valid_until\":\"%s\"%s%s%s}",
	    npsn, kec, from, until, started ? ",\"started\":\"" : "", started ? st : "",
	    started ? "\"" : "");
}

static int64_t get_id(const struct http_resp *r)
{
	json_object *o = http_json(r);
	int64_t id = 0;

	assert_int_equal(retas_json_get_int64(o, "id", &id), 0);
	json_object_put(o);
	return id;
}

static void expect(const char *method, const char *path, const char *token, const char *body,
		   long status, const char *reason)
{
	struct http_resp r;

	api_do(&fx, method, path, token, body, &r);
	if (reason)
		http_assert_error(&r, status, reason);
	else if (r.status != status)
		fail_msg("%s %s: %ld, want %ld: %s", method, path, r.status, status, r.body);
	http_resp_clear(&r);
}

static void workflow_whole_flow_by_roles(void **state)
{
	char body[1024], path[256], *esc = url_escape_slashes(NOMOR);
	struct http_resp r;
	int64_t id;

	/* Step 1: usulan, by the bidang only. */
	usulan_body(body, sizeof(body), "10504187", "157101", 3600000, true);
	expect("POST", "/api/v1/usulan", NULL, body, 401, "auth.token");
	expect("POST", "/api/v1/usulan", "rhq_forged", body, 401, "auth.token");
	expect("POST", "/api/v1/usulan", tok.kabid, body, 403, "auth.role");
	expect("POST", "/api/v1/usulan", tok.kadis, body, 403, "auth.role");
	api_do(&fx, "POST", "/api/v1/usulan", tok.bidang, body, &r);
	assert_int_equal(r.status, 201);
	id = get_id(&r);
	{
		json_object *o = http_json(&r);
		const char *s;

		assert_int_equal(retas_json_get_string(o, "state", &s), 0);
		assert_string_equal(s, "proposed");
		assert_int_equal(retas_json_get_string(o, "kecamatan_nama", &s), 0);
		assert_true(strlen(s) > 0);
		json_object_put(o);
	}
	http_resp_clear(&r);

	/* Step 2: approval, by the kadis only, once. */
	snprintf(path, sizeof(path), "/api/v1/usulan/%lld/approve", (long long)id);
	expect("POST", path, tok.bidang, NULL, 403, "auth.role");
	expect("POST", path, tok.kabid, NULL, 403, "auth.role");
	expect("POST", path, tok.kadis, NULL, 200, NULL);
	expect("POST", path, tok.kadis, NULL, 409, "workflow.state");
	expect("POST", "/api/v1/usulan/999999/approve", tok.kadis, NULL, 404, "workflow.unknown");

	/* Step 3: draft by the kabid, signature by the kadis. */
	snprintf(body, sizeof(body),
		 "{\"usulan\":%lld,\"nomor\":\"" NOMOR "\",\"van\":\"MPK-01\",\"petugas\":["
		 "{\"nip\":\"" PETUGAS1 "\",\"nama\":\"Rina Marlina\",\"pin\":\"123456\"},"
		 "{\"nip\":\"" PETUGAS2 "\",\"nama\":\"Dewi Lestari\",\"pin\":\"654321\"}]}",
		 (long long)id);
	expect("POST", "/api/v1/surat-tugas", tok.bidang, body, 403, "auth.role");
	expect("POST", "/api/v1/surat-tugas", tok.kadis, body, 403, "auth.role");
	api_do(&fx, "POST", "/api/v1/surat-tugas", tok.kabid, body, &r);
	assert_int_equal(r.status, 201);
	/* the PINs never come back, not even hashed */
	assert_null(strstr(r.body, "123456"));
	assert_null(strstr(r.body, "argon2"));
	assert_null(strstr(r.body, "\"pin\""));
	http_resp_clear(&r);
	expect("POST", "/api/v1/surat-tugas", tok.kabid, body, 409, "workflow.state");

	snprintf(path, sizeof(path), "/api/v1/surat-tugas/%s/tanda-terima", esc);
	expect("POST", path, tok.bidang, "{\"nip\":\"" PETUGAS1 "\"}", 409, "workflow.state");
	snprintf(path, sizeof(path), "/api/v1/surat-tugas/%s/jws", esc);
	expect("GET", path, tok.bidang, NULL, 409, "workflow.state");

	snprintf(path, sizeof(path), "/api/v1/surat-tugas/%s/sign", esc);
	expect("POST", path, tok.kabid, NULL, 403, "auth.role");
	expect("POST", path, tok.bidang, NULL, 403, "auth.role");
	api_do(&fx, "POST", path, tok.kadis, NULL, &r);
	assert_int_equal(r.status, 200);
	{
		json_object *o = http_json(&r);
		struct retas_st *st = NULL;
		struct retas_jws *jws = NULL;
		struct retas_error err = {0};
		const char *token;
		char kid[17];

		assert_int_equal(retas_json_get_string(o, "jws", &token), 0);
		/* exactly what the van does with the letter */
		if (retas_st_verify(token, strlen(token), fx.sign_pk, NULL, &st, &err) < 0)
			fail_msg("the signed letter does not verify: %s", err.message);
		assert_string_equal(st->nomor, NOMOR);
		assert_string_equal(st->sekolah.npsn, "10504187");
		assert_string_equal(st->sekolah.kecamatan, "157101");
		assert_int_equal(st->n_petugas, 2);
		assert_int_equal(retas_st_check_van(st, van.pk, NULL), 0);
		assert_memory_equal(st->hq.seal_key, fx.seal_pk, 32);
		assert_string_equal(st->kendaraan.id, "MPK-01");
		assert_string_equal(st->penandatangan.nip, NIP_KADIS);
		assert_int_equal(st->min_age, 16);
		assert_int_equal(st->n_jari, 10);
		assert_int_equal(retas_st_check_pin(retas_st_find_petugas(st, PETUGAS1), "123456"),
				 0);
		assert_int_not_equal(
		    retas_st_check_pin(retas_st_find_petugas(st, PETUGAS2), "123456"), 0);
		assert_int_equal(retas_st_check_time(st, st->valid_from, NULL), 0);
		retas_st_free(st);
		assert_int_equal(retas_jws_peek(token, strlen(token), &jws, NULL), 0);
		assert_string_equal(jws->typ, "retas-st+jws");
		retas_key_id(fx.sign_pk, kid);
		assert_string_equal(jws->kid, kid);
		retas_jws_free(jws);

		/* export gives the same letter, with the nomor escaped or not */
		snprintf(path, sizeof(path), "/api/v1/surat-tugas/%s/jws", esc);
		http_resp_clear(&r);
		api_do(&fx, "GET", path, tok.fo, NULL, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, token);
		http_resp_clear(&r);
		api_do(&fx, "GET", "/api/v1/surat-tugas/" NOMOR "/jws", tok.operator, NULL, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, token);
		json_object_put(o);
	}
	http_resp_clear(&r);
	snprintf(path, sizeof(path), "/api/v1/surat-tugas/%s/sign", esc);
	expect("POST", path, tok.kadis, NULL, 409, "workflow.state");

	/* Step 4: tanda terima per officer, by the bidang. */
	snprintf(path, sizeof(path), "/api/v1/surat-tugas/%s/tanda-terima", esc);
	expect("POST", path, tok.kabid, "{\"nip\":\"" PETUGAS1 "\"}", 403, "auth.role");
	expect("POST", path, tok.bidang, "{\"nip\":\"199999999999999999\"}", 400, "workflow.nip");
	expect("POST", path, tok.bidang, "{\"nip\":\"" PETUGAS1 "\"}", 200, NULL);
	expect("POST", path, tok.bidang, "{\"nip\":\"" PETUGAS1 "\"}", 409, "workflow.state");
	expect("POST", path, tok.bidang, "{\"nip\":\"" PETUGAS2 "\"}", 200, NULL);

	/* The timings: four steps, all done, each within its standard. */
	snprintf(path, sizeof(path), "/api/v1/surat-tugas/%s", esc);
	api_do(&fx, "GET", path, tok.kabid, NULL, &r);
	assert_int_equal(r.status, 200);
	{
		json_object *o = http_json(&r), *t, *s;
		bool within;

		assert_int_equal(retas_json_get_array(o, "timings", &t), 0);
		assert_int_equal(json_object_array_length(t), 4);
		for (size_t i = 0; i < 4; i++) {
			s = json_object_array_get_idx(t, i);
			assert_int_equal(retas_json_get_bool(s, "within", &within), 0);
			assert_true(within);
			assert_non_null(json_object_object_get(s, "minutes"));
		}
		/* step 1 took the four minutes since "started" */
		s = json_object_array_get_idx(t, 0);
		assert_true(json_object_get_double(json_object_object_get(s, "minutes")) >= 3.9);
		json_object_put(o);
	}
	http_resp_clear(&r);
	free(esc);
}

static void workflow_rejection_and_bad_input(void **state)
{
	char body[1024], path[256];
	struct http_resp r;
	int64_t id;

	usulan_body(body, sizeof(body), "1050418", "157101", 3600000, false);
	expect("POST", "/api/v1/usulan", tok.bidang, body, 400, "workflow.npsn");
	usulan_body(body, sizeof(body), "10504187", "157199", 3600000, false);
	expect("POST", "/api/v1/usulan", tok.bidang, body, 400, "workflow.kecamatan");
	usulan_body(body, sizeof(body), "10504187", "157102", -48 * 3600000LL, false);
	expect("POST", "/api/v1/usulan", tok.bidang, body, 400, "workflow.window");
	expect("POST", "/api/v1/usulan", tok.bidang, "{\"npsn\":", 400, "http.json");
	expect("POST", "/api/v1/usulan", tok.bidang, "[1,2]", 400, "http.json");
	expect("DELETE", "/api/v1/usulan", tok.bidang, NULL, 405, "http.method");

	usulan_body(body, sizeof(body), "10504188", "157102", 3600000, false);
	api_do(&fx, "POST", "/api/v1/usulan", tok.bidang, body, &r);
	assert_int_equal(r.status, 201);
	id = get_id(&r);
	http_resp_clear(&r);
	snprintf(path, sizeof(path), "/api/v1/usulan/%lld/reject", (long long)id);
	expect("POST", path, tok.kadis, NULL, 400, "workflow.reason");
	expect("POST", path, tok.kadis, "{\"reason\":\"jadwal bentrok dengan ujian\"}", 200, NULL);
	snprintf(body, sizeof(body),
		 "{\"usulan\":%lld,\"nomor\":\"800/099/DUKCAPIL/2026\",\"van\":\"MPK-01\","
		 "\"petugas\":[{\"nip\":\"" PETUGAS1 "\",\"nama\":\"Rina\",\"pin\":\"123456\"}]}",
		 (long long)id);
	expect("POST", "/api/v1/surat-tugas", tok.kabid, body, 409, "workflow.state");
	api_do(&fx, "GET", "/api/v1/usulan?state=rejected", tok.fo, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "jadwal bentrok"));
	http_resp_clear(&r);
	expect("GET", "/api/v1/usulan?state=lost", tok.fo, NULL, 400, "workflow.state");
}

static void workflow_command_line_by_roles(void **state)
{
	char from[RETAS_RFC3339_MAX], until[RETAS_RFC3339_MAX], path[512], *out = NULL;
	int64_t now = retas_time_now_ms();
	struct retas_st *st = NULL;
	struct retas_error err = {0};
	size_t len;
	char *jws;

	retas_time_format_rfc3339(now + 3600000, RETAS_WIB_OFFSET_MIN, from);
	retas_time_format_rfc3339(now + 7200000, RETAS_WIB_OFFSET_MIN, until);
	assert_int_equal(hq_fx_run(&fx, NULL, "usulan", "create", "--npsn", "10504190", "--nama",
				   "SMA Negeri 5", "--alamat", "Jl. Jend. Sudirman", "--kecamatan",
				   "157105", "--from", from, "--until", until, "--token", tok.kadis,
				   NULL),
			 1);
	assert_int_equal(hq_fx_run(&fx, NULL, "usulan", "create", "--npsn", "10504190", NULL), 2);
	assert_int_equal(hq_fx_run(&fx, &out, "--json", "usulan", "create", "--npsn", "10504190",
				   "--nama", "SMA Negeri 5", "--alamat", "Jl. Jend. Sudirman",
				   "--kecamatan", "157105", "--from", from, "--until", until,
				   "--token", tok.bidang, NULL),
			 0);
	{
		json_object *o = NULL;
		int64_t id;
		char ids[24];

		assert_int_equal(retas_json_parse(out, strlen(out), &o), 0);
		assert_int_equal(retas_json_get_int64(o, "id", &id), 0);
		json_object_put(o);
		free(out);
		snprintf(ids, sizeof(ids), "%lld", (long long)id);
		assert_int_equal(
		    hq_fx_run(&fx, NULL, "usulan", "approve", ids, "--token", tok.kabid, NULL), 1);
		assert_int_equal(
		    hq_fx_run(&fx, NULL, "usulan", "approve", ids, "--token", tok.kadis, NULL), 0);
		/* the PIN comes on stdin, one line per officer */
		assert_int_equal(hq_fx_run_in(&fx, "2468\n", NULL, "surat-tugas", "draft",
					      "--usulan", ids, "--nomor", "800/050/DUKCAPIL/2026",
					      "--van", "MPK-01", "--petugas",
					      PETUGAS1 ":Rina Marlina", "--token", tok.kabid, NULL),
				 0);
	}
	snprintf(path, sizeof(path), "%s/st.jws", fx.tmp);
	assert_int_equal(hq_fx_run(&fx, NULL, "surat-tugas", "sign", "800/050/DUKCAPIL/2026", "-o",
				   path, "--token", tok.bidang, NULL),
			 1);
	assert_int_equal(hq_fx_run(&fx, NULL, "surat-tugas", "sign", "800/050/DUKCAPIL/2026", "-o",
				   path, "--token", tok.kadis, NULL),
			 0);
	jws = read_file(path, &len);
	jws[strcspn(jws, "\n")] = 0;
	if (retas_st_verify(jws, strlen(jws), fx.sign_pk, NULL, &st, &err) < 0)
		fail_msg("%s", err.message);
	assert_int_equal(retas_st_check_pin(retas_st_find_petugas(st, PETUGAS1), "2468"), 0);
	retas_st_free(st);
	assert_int_equal(hq_fx_run(&fx, &out, "surat-tugas", "export", "800/050/DUKCAPIL/2026",
				   "--token", tok.fo, NULL),
			 0);
	out[strcspn(out, "\n")] = 0;
	assert_string_equal(out, jws);
	free(out);
	free(jws);
	assert_int_equal(hq_fx_run(&fx, NULL, "surat-tugas", "tanda-terima",
				   "800/050/DUKCAPIL/2026", "--nip", PETUGAS1, "--token", tok.fo,
				   NULL),
			 1);
	assert_int_equal(hq_fx_run(&fx, NULL, "surat-tugas", "tanda-terima",
				   "800/050/DUKCAPIL/2026", "--nip", PETUGAS1, "--token",
				   tok.bidang, NULL),
			 0);
	assert_int_equal(hq_fx_run(&fx, &out, "usulan", "list", "--token", tok.operator, NULL), 0);
	assert_non_null(strstr(out, "SMA Negeri 5 (approved)"));
	free(out);
}

static void workflow_revoked_token_refused(void **state)
{
	char *t = hq_fx_staff(&fx, "198505052010011009", "Sementara", "bidang");
	struct http_resp r;

	api_do(&fx, "GET", "/api/v1/usulan", t, NULL, &r);
	assert_int_equal(r.status, 200);
	http_resp_clear(&r);
	assert_int_equal(hq_fx_run(&fx, NULL, "staff", "revoke", "198505052010011009", NULL), 0);
	api_do(&fx, "GET", "/api/v1/usulan", t, NULL, &r);
	http_assert_error(&r, 401, "auth.token");
	http_resp_clear(&r);
	free(t);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(workflow_whole_flow_by_roles),
	    cmocka_unit_test(workflow_rejection_and_bad_input),
	    cmocka_unit_test(workflow_command_line_by_roles),
	    cmocka_unit_test(workflow_revoked_token_refused),
	};

	bin = hq_fx_binary(argc, argv);
	return cmocka_run_group_tests(tests, setup, teardown);
}
