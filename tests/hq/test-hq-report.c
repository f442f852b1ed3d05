/*
 * Reports on a real retas-hq: counts recomputed from the records held,
 * set beside the van's draft report with each difference flagged, the
 * sequence gap, workflow timings and issuance progress; the same report as
 * JSON, CSV and PDF (its text read back with pdftotext), through the API
 * and through `retas-hq report pull`, locally and from the server.
 */
#include <fcntl.h>
#include <locale.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hq-harness.h"
#include "retas-json.h"
#include "retas-time.h"
#include "retas-util.h"
#include "sync-receipt.h"

extern char **environ;

static const char *bin;
static struct hq_fx fx;
static struct staff_tokens tok;
static struct test_van van;
static uint8_t *held_back; /* the van's record 3, sent late */
static size_t held_back_len;

#define NOMOR "800/041/DUKCAPIL/2026"
#define NIP "198703152010011002"
/* The van recorded four students (the draft report says so) but record 3
 * has not reached head office: head office counts three. */
#define REPORT                                                                                     \
	"{\"typ\":\"retas.laporan.v1\",\"ringkasan\":{\"direkam\":{\"total\":4,\"L\":3,\"P\":1,"   \
	"\"rekam_saja\":1,\"layak_cetak\":3,\"tambahan\":0},\"pengecualian\":{\"total\":1}}}"

static int setup(void **state)
{
	char demo[4][512];
	uint8_t *recs[4], *batch;
	size_t lens[4], len;
	char id[40];
	char *jws;

	hq_fx_init(&fx, bin, NULL);
	hq_fx_staff_all(&fx, &tok);
	test_van_new(&van, "MPK-01");
	test_van_register(&fx, &van);
	hq_fx_start(&fx);
	jws = hq_fx_make_st(&fx, &tok, NOMOR, "MPK-01", "10504187", "SMA Negeri 1 Kota Jambi",
			    "157101");
	free(jws);
	student_demografi(demo[0], sizeof(demo[0]), "Siti Aminah", 'P', 17, 30, 1, 0);
	student_demografi(demo[1], sizeof(demo[1]), "Budi Santoso", 'L', 18, 3, 2, 1);
	student_demografi(demo[2], sizeof(demo[2]), "Andi Wijaya", 'L', 17, 100, 3, 0);
	student_demografi(demo[3], sizeof(demo[3]), "Rudi Hartono", 'L', 16, 0, 4, 0);
	for (int i = 0; i < 4; i++)
		test_van_record(&van, fx.seal_pk, NOMOR, NIP, retas_time_now_ms(), demo[i], 3000,
				NULL, &recs[i], &lens[i]);
	held_back = recs[2];
	held_back_len = lens[2];
	recs[2] = recs[3];
	lens[2] = lens[3];
	test_van_batch(&van, NOMOR, recs, lens, 3, REPORT, &batch, &len, id);
	assert_int_equal(tus_upload(&fx, &van, batch, len, NULL), 204);
	free(batch);
	free(recs[0]);
	free(recs[1]);
	free(recs[2]);
	return 0;
}

static int teardown(void **state)
{
	free(held_back);
	staff_tokens_free(&tok);
	hq_fx_cleanup(&fx);
	return 0;
}

static json_object *count_entry(json_object *rep, const char *name)
{
	json_object *arr = json_object_object_get(rep, "counts");

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *c = json_object_array_get_idx(arr, i);

		if (streq(json_object_get_string(json_object_object_get(c, "name")), name))
			return c;
	}
	fail_msg("no count %s", name);
	return NULL;
}

static void assert_count(json_object *rep, const char *name, int64_t hq, int64_t van_n,
			 bool differs)
{
	json_object *c = count_entry(rep, name);

	assert_int_equal(json_object_get_int64(json_object_object_get(c, "hq")), hq);
	assert_int_equal(json_object_get_int64(json_object_object_get(c, "van")), van_n);
	assert_int_equal(json_object_get_boolean(json_object_object_get(c, "differs")), differs);
}

static json_object *get_report(const char *query)
{
	char path[256], *esc = url_escape_slashes(NOMOR);
	struct http_resp r;
	json_object *o;

	snprintf(path, sizeof(path), "/api/v1/reports/%s%s", esc, query);
	free(esc);
	api_do(&fx, "GET", path, tok.kabid, NULL, &r);
	if (r.status != 200)
		fail_msg("%s: %ld %s", path, r.status, r.body);
	o = http_json(&r);
	http_resp_clear(&r);
	return o;
}

static void report_json_counts_beside_van(void **state)
{
	json_object *rep = get_report(""), *arr, *a, *s;
	const char *str;

	assert_int_equal(retas_json_get_object(rep, "sekolah", &s), 0);
	assert_int_equal(retas_json_get_string(s, "nama", &str), 0);
	assert_string_equal(str, "SMA Negeri 1 Kota Jambi");
	assert_int_equal(retas_json_get_string(rep, "van", &str), 0);
	assert_string_equal(str, "MPK-01");
	assert_count(rep, "recorded", 3, 4, true);
	assert_count(rep, "male", 2, 3, true);
	assert_count(rep, "female", 1, 1, false);
	assert_count(rep, "record_only", 1, 1, false);
	assert_count(rep, "print_eligible", 2, 3, true);
	assert_count(rep, "finger_exceptions", 1, 1, false);
	assert_int_equal(json_object_get_int64(json_object_object_get(rep, "differences")), 3);
	/* the gap left by record 3 */
	assert_int_equal(retas_json_get_array(rep, "anomalies", &arr), 0);
	assert_int_equal(json_object_array_length(arr), 1);
	a = json_object_array_get_idx(arr, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "kind")), "gap");
	assert_int_equal(json_object_get_int64(json_object_object_get(a, "from")), 3);
	assert_int_equal(json_object_get_int64(json_object_object_get(a, "to")), 3);
	assert_false(json_object_get_boolean(json_object_object_get(a, "resolved")));
	/* workflow: the four SOP steps, three done (no tanda terima yet) */
	assert_int_equal(retas_json_get_array(rep, "workflow", &arr), 0);
	assert_int_equal(json_object_array_length(arr), 4);
	assert_non_null(json_object_object_get(json_object_array_get_idx(arr, 2), "done"));
	assert_null(json_object_object_get(json_object_array_get_idx(arr, 3), "done"));
	/* issuance and students */
	assert_int_equal(retas_json_get_object(rep, "issuance", &s), 0);
	assert_int_equal(json_object_get_int64(json_object_object_get(s, "records")), 3);
	assert_int_equal(json_object_get_int64(json_object_object_get(
			     json_object_object_get(s, "status"), "record-only")),
			 1);
	assert_int_equal(retas_json_get_array(rep, "students", &arr), 0);
	assert_int_equal(json_object_array_length(arr), 3);
	s = json_object_array_get_idx(arr, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(s, "nama")),
			    "Siti Aminah");
	str = json_object_get_string(json_object_object_get(s, "nik"));
	assert_int_equal(strncmp(str, "157101******0001", 16), 0);
	json_object_put(rep);
}

static void report_csv_flags_differences(void **state)
{
	char path[256], *esc = url_escape_slashes(NOMOR), *ct;
	struct http_resp r;

	snprintf(path, sizeof(path), "/api/v1/reports/%s?format=csv", esc);
	free(esc);
	api_do(&fx, "GET", path, tok.fo, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(ct = http_header(&r, "Content-Type"), "text/csv; charset=utf-8");
	free(ct);
	assert_int_equal(strncmp(r.body, "section,item,hq,van,note\r\n", 26), 0);
	assert_non_null(strstr(r.body, "\r\ncount,recorded,3,4,DIFFERENT\r\n"));
	assert_non_null(strstr(r.body, "\r\ncount,female,1,1,same\r\n"));
	assert_non_null(strstr(r.body, "\r\nanomaly,gap,3-3,MPK-01,open\r\n"));
	assert_non_null(strstr(r.body, "\r\nletter,sekolah,10504187,,SMA Negeri 1 Kota Jambi\r\n"));
	assert_non_null(
	    strstr(r.body, "\r\nstudent,157101******0002,Budi Santoso,XII IPA 1,waiting"));
	http_resp_clear(&r);
}

static char *pdftotext(const char *pdf)
{
	char txt[512];
	char *argv[] = {"pdftotext", "-layout", (char *)pdf, txt, NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;

	snprintf(txt, sizeof(txt), "%s.txt", pdf);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "pdftotext", &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return NULL;
	}
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return read_file(txt, NULL);
}

static void assert_pdf_text(const char *pdf)
{
	char *text = pdftotext(pdf);

	if (!text)
		skip();
	assert_non_null(strstr(text, "SMA Negeri 1 Kota Jambi"));
	assert_non_null(strstr(text, NOMOR));
	assert_non_null(strstr(text, "RETAS report"));
	assert_non_null(strstr(text, "DIFFERENT"));
	assert_non_null(strstr(text, "Siti Aminah"));
	assert_non_null(strstr(text, "157101******0004"));
	/* the recorded row: head office 3, the van 4 */
	{
		const char *line = strstr(text, "Recorded");

		assert_non_null(line);
		assert_non_null(strstr(line, "3"));
		assert_true(strstr(line, "4") < strchr(line, '\n'));
	}
	free(text);
}

static void report_pdf_through_api(void **state)
{
	char path[256], file[512], *esc = url_escape_slashes(NOMOR);
	struct http_resp r;
	FILE *f;

	snprintf(path, sizeof(path), "/api/v1/reports/%s", esc);
	free(esc);
	http_do(&fx, "GET", path, (const char *const[]){"Accept: application/pdf", NULL}, NULL, 0,
		&r);
	http_assert_error(&r, 401, "auth.token");
	http_resp_clear(&r);
	{
		char auth[128];

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok.kadis);
		http_do(&fx, "GET", path,
			(const char *const[]){"Accept: application/pdf", auth, NULL}, NULL, 0, &r);
	}
	assert_int_equal(r.status, 200);
	assert_true(r.len > 1000);
	assert_memory_equal(r.body, "%PDF-", 5);
	snprintf(file, sizeof(file), "%s/api.pdf", fx.tmp);
	f = fopen(file, "we");
	assert_int_equal(fwrite(r.body, 1, r.len, f), r.len);
	fclose(f);
	http_resp_clear(&r);
	assert_pdf_text(file);
}

static void report_pull_local_and_remote(void **state)
{
	char file[512], server[80], *out = NULL;
	size_t len;
	char *data;

	snprintf(file, sizeof(file), "%s/local.pdf", fx.tmp);
	assert_int_equal(
	    hq_fx_run(&fx, NULL, "report", "pull", NOMOR, "--format", "pdf", "-o", file, NULL), 0);
	data = read_file(file, &len);
	assert_memory_equal(data, "%PDF-", 5);
	free(data);
	assert_pdf_text(file);

	snprintf(server, sizeof(server), "http://127.0.0.1:%u", fx.port);
	snprintf(file, sizeof(file), "%s/remote.csv", fx.tmp);
	assert_int_equal(hq_fx_run(&fx, NULL, "report", "pull", NOMOR, "--format", "csv", "-o",
				   file, "--server", server, "--token", tok.operator, NULL),
			 0);
	data = read_file(file, NULL);
	assert_non_null(strstr(data, "count,recorded,3,4,DIFFERENT"));
	free(data);
	assert_int_equal(hq_fx_run(&fx, NULL, "report", "pull", NOMOR, "--server", server,
				   "--token", "rhq_nobody", NULL),
			 1);
	assert_int_equal(hq_fx_run(&fx, NULL, "report", "pull", NOMOR, "--server",
				   "http://127.0.0.1:1", "--token", tok.operator, NULL),
			 3);
	assert_int_equal(hq_fx_run(&fx, NULL, "report", "pull", NOMOR, "--format", "doc", NULL), 2);
	assert_int_equal(hq_fx_run(&fx, &out, "report", "pull", "800/999/NONE", NULL), 1);
	free(out);
}

/* Head office staff read Indonesian: under LANGUAGE=id and id_ID.UTF-8 the
 * PDF's labels, the issuance states and the anomaly kinds come from
 * po/id.po; the ids in JSON and CSV stay as they are. */
static void report_pdf_in_indonesian(void **state)
{
	char file[512], *text;
	const char *old_all = getenv("LC_ALL"), *old_lang = getenv("LANGUAGE");
	char *save_all = old_all ? strdup(old_all) : NULL;
	char *save_lang = old_lang ? strdup(old_lang) : NULL;
	int r;

	(void)state;
	locale_t id = newlocale(LC_ALL_MASK, "id_ID.UTF-8", (locale_t)0);

	if (!id) {
		free(save_all);
		free(save_lang);
		skip(); /* the id_ID.UTF-8 locale is not installed here */
	}
	freelocale(id);
	snprintf(file, sizeof(file), "%s/id.pdf", fx.tmp);
	setenv("LC_ALL", "id_ID.UTF-8", 1);
	setenv("LANGUAGE", "id", 1);
	r = hq_fx_run(&fx, NULL, "report", "pull", NOMOR, "--format", "pdf", "-o", file, NULL);
	if (save_all)
		setenv("LC_ALL", save_all, 1);
	else
		unsetenv("LC_ALL");
	if (save_lang)
		setenv("LANGUAGE", save_lang, 1);
	else
		unsetenv("LANGUAGE");
	free(save_all);
	free(save_lang);
	assert_int_equal(r, 0);
	text = pdftotext(file);
	if (!text)
		skip();
	assert_non_null(strstr(text, "Laporan RETAS"));
	assert_non_null(strstr(text, "Jumlah: kantor pusat dibandingkan dengan konsep laporan"));
	assert_non_null(strstr(text, "BERBEDA"));
	assert_non_null(strstr(text, "Penerbitan kartu (SOP KTP-el)"));
	assert_non_null(strstr(text, "Anomali nomor urut"));
	assert_non_null(strstr(text, "celah pada nomor urut 3 sampai 3"));
	/* Budi Santoso's card waits for his receipt to be scanned */
	{
		const char *row = strstr(text, "Budi Santoso"), *state_word;

		assert_non_null(row);
		state_word = strstr(row, "menunggu");
		assert_non_null(state_word);
		assert_null(memchr(row, '\n', (size_t)(state_word - row)));
	}
	/* and no English label is left */
	assert_null(strstr(text, "RETAS report"));
	assert_null(strstr(text, "DIFFERENT"));
	assert_null(strstr(text, "Head office"));
	assert_null(strstr(text, "waiting"));
	assert_null(strstr(text, " gap "));
	free(text);
}

static void report_list_filters_and_errors(void **state)
{
	struct http_resp r;
	json_object *o, *arr;

	api_do(&fx, "GET", "/api/v1/reports", tok.bidang, NULL, &r);
	assert_int_equal(r.status, 200);
	o = http_json(&r);
	assert_int_equal(retas_json_get_array(o, "reports", &arr), 0);
	assert_int_equal(json_object_array_length(arr), 1);
	assert_int_equal(json_object_get_int64(
			     json_object_object_get(json_object_array_get_idx(arr, 0), "recorded")),
			 3);
	json_object_put(o);
	http_resp_clear(&r);

	static const struct {
		const char *query;
		size_t n;
	} cases[] = {
	    {"?npsn=10504187", 1},
	    {"?npsn=99999999", 0},
	    {"?kecamatan=157101", 1},
	    {"?kecamatan=157102", 0},
	    {"?from=2000-01-01&to=2000-01-31", 0},
	    {"?from=2000-01-01", 1},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char path[128];

		snprintf(path, sizeof(path), "/api/v1/reports%s", cases[i].query);
		api_do(&fx, "GET", path, tok.bidang, NULL, &r);
		assert_int_equal(r.status, 200);
		o = http_json(&r);
		assert_int_equal(retas_json_get_array(o, "reports", &arr), 0);
		if (json_object_array_length(arr) != cases[i].n)
			fail_msg("%s: %zu reports", cases[i].query, json_object_array_length(arr));
		json_object_put(o);
		http_resp_clear(&r);
	}
	api_do(&fx, "GET", "/api/v1/reports?format=csv", tok.bidang, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(strncmp(r.body, "nomor,date,npsn,sekolah,", 24), 0);
	assert_non_null(strstr(r.body, "\r\n" NOMOR ","));
	http_resp_clear(&r);
	api_do(&fx, "GET", "/api/v1/reports?format=pdf", tok.bidang, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "%PDF-", 5);
	http_resp_clear(&r);
	api_do(&fx, "GET", "/api/v1/reports?from=24-11-2026", tok.bidang, NULL, &r);
	http_assert_error(&r, 400, "report.filter");
	http_resp_clear(&r);
	api_do(&fx, "GET", "/api/v1/reports?format=docx", tok.bidang, NULL, &r);
	http_assert_error(&r, 400, "report.format");
	http_resp_clear(&r);
	api_do(&fx, "GET", "/api/v1/reports/800%2F999%2FNONE", tok.bidang, NULL, &r);
	http_assert_error(&r, 404, "report.unknown");
	http_resp_clear(&r);
}

static void report_gap_resolved_when_record_arrives(void **state)
{
	uint8_t *batch;
	size_t len;
	char id[40];
	json_object *rep, *a;

	test_van_batch(&van, NOMOR, &held_back, &held_back_len, 1, NULL, &batch, &len, id);
	assert_int_equal(tus_upload(&fx, &van, batch, len, NULL), 204);
	free(batch);
	rep = get_report("?format=json");
	assert_count(rep, "recorded", 4, 4, false);
	assert_count(rep, "male", 3, 3, false);
	assert_count(rep, "print_eligible", 3, 3, false);
	assert_int_equal(json_object_get_int64(json_object_object_get(rep, "differences")), 0);
	a = json_object_array_get_idx(json_object_object_get(rep, "anomalies"), 0);
	assert_true(json_object_get_boolean(json_object_object_get(a, "resolved")));
	json_object_put(rep);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(report_json_counts_beside_van),
	    cmocka_unit_test(report_csv_flags_differences),
	    cmocka_unit_test(report_pdf_through_api),
	    cmocka_unit_test(report_pull_local_and_remote),
	    cmocka_unit_test(report_pdf_in_indonesian),
	    cmocka_unit_test(report_list_filters_and_errors),
	    cmocka_unit_test(report_gap_resolved_when_record_arrives),
	};

	bin = hq_fx_binary(argc, argv);
	return cmocka_run_group_tests(tests, setup, teardown);
}
