/*
 * Batches sealed with the core library travel into a real retas-hq over
 * tus (and from removable media) and come back as verified receipts:
 * stored, already received on the second time, tampered records and
 * conflicts quarantined, sequence gaps reported, forged manifests refused
 * with nothing stored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sodium.h>

#include "hq-harness.h"
#include "retas-record.h"
#include "retas-time.h"
#include "retas-util.h"
#include "retas-uuid.h"
#include "sync-batch.h"
#include "sync-receipt.h"

static const char *bin;
static struct hq_fx fx;

#define ST "800/041/DUKCAPIL/2026"
#define NIP "198703152010011002"
#define DEMO                                                                                       \
	"{\"nik\":\"1571014507090001\",\"nama\":\"Siti Aminah\",\"jenis_kelamin\":\"P\","          \
	"\"tanggal_lahir\":\"2009-07-05\",\"kelas\":\"XII IPA 1\",\"npsn\":\"10504187\"}"

static int setup(void **state)
{
	hq_fx_init(&fx, bin, NULL);
	hq_fx_start(&fx);
	return 0;
}

static int teardown(void **state)
{
	hq_fx_cleanup(&fx);
	return 0;
}

struct recs {
	uint8_t *rec[8];
	size_t len[8];
	size_t n;
};

static void seal_n(struct test_van *v, struct recs *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		test_van_record(v, fx.seal_pk, ST, NIP, retas_time_now_ms(), DEMO, 2000 + i, NULL,
				&r->rec[r->n], &r->len[r->n]);
		r->n++;
	}
}

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->rec[i]);
	memset(r, 0, sizeof(*r));
}

static void assert_outcome(const struct sync_receipt *rc, const uint8_t *rec, size_t len,
			   enum sync_outcome want, const char *reason)
{
	struct retas_record_header h;
	const struct sync_receipt_record *e;
	uint8_t sha[32];

	assert_int_equal(retas_record_read_header(rec, len, &h, NULL), 0);
	e = sync_receipt_find(rc, h.id);
	assert_non_null(e);
	retas_record_hash(rec, len, sha);
	assert_memory_equal(e->sha256, sha, 32);
	assert_int_equal(e->seq, h.seq);
	if (e->outcome != want)
		fail_msg("outcome %s, want %s (%s)", sync_outcome_name(e->outcome),
			 sync_outcome_name(want), e->reason);
	if (reason)
		assert_string_equal(e->reason, reason);
}

static void ingest_batch_stored_then_already_received(void **state)
{
	struct test_van v;
	struct recs r = {0};
	struct sync_receipt *rc;
	uint8_t *batch;
	size_t len;
	char id[RETAS_UUID_STR_LEN];

	test_van_new(&v, "MPK-01");
	test_van_register(&fx, &v);
	seal_n(&v, &r, 3);
	test_van_batch(&v, ST, r.rec, r.len, r.n, NULL, &batch, &len, id);
	assert_int_equal(tus_upload(&fx, &v, batch, len, NULL), 204);
	rc = fetch_receipt(&fx, &v, id);
	assert_string_equal(rc->batch_id, id);
	assert_string_equal(rc->device_id, "MPK-01");
	assert_string_equal(rc->st_nomor, ST);
	assert_int_equal(rc->n_records, 3);
	assert_int_equal(rc->n_anomalies, 0);
	for (size_t i = 0; i < r.n; i++)
		assert_outcome(rc, r.rec[i], r.len[i], SYNC_OUTCOME_STORED, NULL);
	sync_receipt_free(rc);

	/* The same batch again: every record already received. */
	assert_int_equal(tus_upload(&fx, &v, batch, len, NULL), 204);
	rc = fetch_receipt(&fx, &v, id);
	assert_int_equal(rc->n_records, 3);
	for (size_t i = 0; i < r.n; i++)
		assert_outcome(rc, r.rec[i], r.len[i], SYNC_OUTCOME_ALREADY_RECEIVED, NULL);
	assert_int_equal(rc->n_anomalies, 0);
	sync_receipt_free(rc);
	free(batch);
	recs_free(&r);
}

static void ingest_tampered_records_quarantined(void **state)
{
	struct test_van v;
	struct recs r = {0};
	struct sync_receipt *rc;
	uint8_t *batch;
	size_t len;
	char id[RETAS_UUID_STR_LEN];

	test_van_new(&v, "MPK-02");
	test_van_register(&fx, &v);
	seal_n(&v, &r, 3);
	/* Record 2 altered before the manifest was made: the manifest's hash
	 * matches, the van's signature does not. */
	r.rec[1][r.len[1] - 100] ^= 0x01;
	test_van_batch(&v, ST, r.rec, r.len, r.n, NULL, &batch, &len, id);
	/* Record 3 altered in transit, after the manifest: its hash differs. */
	batch[len - 10] ^= 0x80;
	assert_int_equal(tus_upload(&fx, &v, batch, len, NULL), 204);
	rc = fetch_receipt(&fx, &v, id);
	assert_int_equal(rc->n_records, 3);
	assert_outcome(rc, r.rec[0], r.len[0], SYNC_OUTCOME_STORED, NULL);
	assert_outcome(rc, r.rec[1], r.len[1], SYNC_OUTCOME_QUARANTINED, "record.signature");
	{
		/* the altered third record: find it by the manifest's id */
		struct retas_record_header h;

		assert_int_equal(retas_record_read_header(r.rec[2], r.len[2], &h, NULL), 0);
		assert_int_equal(sync_receipt_find(rc, h.id)->outcome, SYNC_OUTCOME_QUARANTINED);
		assert_string_equal(sync_receipt_find(rc, h.id)->reason, "record.hash");
	}
	sync_receipt_free(rc);
	free(batch);
	recs_free(&r);
}

static void ingest_sequence_gap_reported(void **state)
{
	struct test_van v;
	struct recs a = {0}, skipped = {0}, b = {0};
	struct sync_receipt *rc;
	struct retas_record_header h;
	uint8_t *batch;
	size_t len;
	char id[RETAS_UUID_STR_LEN];

	test_van_new(&v, "MPK-03");
	test_van_register(&fx, &v);
	seal_n(&v, &a, 2);
	test_van_batch(&v, ST, a.rec, a.len, a.n, NULL, &batch, &len, id);
	assert_int_equal(tus_upload(&fx, &v, batch, len, NULL), 204);
	free(batch);
	seal_n(&v, &skipped, 2); /* seq 3 and 4 never sent */
	seal_n(&v, &b, 1);	 /* seq 5 */
	test_van_batch(&v, ST, b.rec, b.len, b.n, NULL, &batch, &len, id);
	assert_int_equal(tus_upload(&fx, &v, batch, len, NULL), 204);
	rc = fetch_receipt(&fx, &v, id);
	assert_outcome(rc, b.rec[0], b.len[0], SYNC_OUTCOME_STORED, NULL);
	assert_int_equal(rc->n_anomalies, 1);
	assert_string_equal(rc->anomalies[0].kind, "gap");
	assert_int_equal(rc->anomalies[0].seq_from, 3);
	assert_int_equal(rc->anomalies[0].seq_to, 4);
	assert_int_equal(retas_record_read_header(b.rec[0], b.len[0], &h, NULL), 0);
	assert_memory_equal(rc->anomalies[0].record, h.id, 16);
	sync_receipt_free(rc);
	free(batch);
	recs_free(&a);
	recs_free(&skipped);
	recs_free(&b);
}

static void ingest_conflict_quarantined(void **state)
{
	struct test_van v;
	struct recs a = {0};
	struct sync_receipt *rc;
	struct retas_record_header h;
	uint8_t *batch, *again;
	size_t len, again_len;
	char id[RETAS_UUID_STR_LEN];

	test_van_new(&v, "MPK-04");
	test_van_register(&fx, &v);
	seal_n(&v, &a, 1);
	test_van_batch(&v, ST, a.rec, a.len, a.n, NULL, &batch, &len, id);
	assert_int_equal(tus_upload(&fx, &v, batch, len, NULL), 204);
	free(batch);
	/* The same record id sealed again with other content. */
	assert_int_equal(retas_record_read_header(a.rec[0], a.len[0], &h, NULL), 0);
	v.seq = 0;
	memset(v.last_hash, 0, 32);
	test_van_record(&v, fx.seal_pk, ST, NIP, retas_time_now_ms(), DEMO, 999, h.id, &again,
			&again_len);
	test_van_batch(&v, ST, &again, &again_len, 1, NULL, &batch, &len, id);
	assert_int_equal(tus_upload(&fx, &v, batch, len, NULL), 204);
	rc = fetch_receipt(&fx, &v, id);
	assert_outcome(rc, again, again_len, SYNC_OUTCOME_QUARANTINED, "record.conflict");
	sync_receipt_free(rc);
	free(batch);
	free(again);
	recs_free(&a);
}

static void ingest_forged_manifest_refused(void **state)
{
	struct test_van v, forger;
	struct recs a = {0};
	struct http_resp r;
	uint8_t *batch;
	size_t len;
	char id[RETAS_UUID_STR_LEN], path[128], *auth;

	test_van_new(&v, "MPK-05");
	test_van_register(&fx, &v);
	/* Another key claims to be MPK-05. */
	test_van_new(&forger, "MPK-05");
	seal_n(&forger, &a, 2);
	test_van_batch(&forger, ST, a.rec, a.len, a.n, NULL, &batch, &len, id);
	assert_int_equal(tus_upload(&fx, &v, batch, len, NULL), 422);
	snprintf(path, sizeof(path), "/api/v1/batches/%s/receipt", id);
	auth = test_van_auth(&v, "GET", path, 0);
	http_do(&fx, "GET", path, (const char *const[]){auth, NULL}, NULL, 0, &r);
	free(auth);
	http_assert_error(&r, 404, "batch.unknown");
	http_resp_clear(&r);
	/* Truncated: the framing says more than arrived. */
	free(batch);
	test_van_batch(&v, ST, a.rec, a.len, a.n, NULL, &batch, &len, id);
	assert_int_equal(tus_upload(&fx, &v, batch, len - 7, NULL), 422);
	free(batch);
	recs_free(&a);
}

static void ingest_receipt_only_for_its_van(void **state)
{
	struct test_van v, w;
	struct recs a = {0};
	struct http_resp r;
	uint8_t *batch;
	size_t len;
	char id[RETAS_UUID_STR_LEN], path[128], *auth;

	test_van_new(&v, "MPK-06");
	test_van_new(&w, "MPK-07");
	test_van_register(&fx, &v);
	test_van_register(&fx, &w);
	seal_n(&v, &a, 1);
	test_van_batch(&v, ST, a.rec, a.len, a.n, NULL, &batch, &len, id);
	assert_int_equal(tus_upload(&fx, &v, batch, len, NULL), 204);
	snprintf(path, sizeof(path), "/api/v1/batches/%s/receipt", id);
	auth = test_van_auth(&w, "GET", path, 0);
	http_do(&fx, "GET", path, (const char *const[]){auth, NULL}, NULL, 0, &r);
	free(auth);
	http_assert_error(&r, 404, "batch.unknown");
	http_resp_clear(&r);
	http_do(&fx, "GET", path, NULL, NULL, 0, &r);
	http_assert_error(&r, 401, "auth.missing");
	http_resp_clear(&r);
	free(batch);
	recs_free(&a);
}

static void ingest_import_from_media(void **state)
{
	struct test_van v;
	struct recs a = {0};
	struct sync_receipt *rc = NULL;
	struct retas_error err = {0};
	uint8_t *batch;
	size_t len, jlen;
	char id[RETAS_UUID_STR_LEN], media[512], path[700], *jws, *out = NULL;
	FILE *f;

	test_van_new(&v, "MPK-08");
	test_van_register(&fx, &v);
	seal_n(&v, &a, 2);
	test_van_batch(&v, ST, a.rec, a.len, a.n, NULL, &batch, &len, id);
	snprintf(media, sizeof(media), "%s/media", fx.tmp);
	assert_int_equal(mkdir(media, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s" SYNC_BATCH_EXT, media, id);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(batch, 1, len, f), len);
	fclose(f);
	/* and a file that is no batch */
	snprintf(path, sizeof(path), "%s/junk" SYNC_BATCH_EXT, media);
	f = fopen(path, "we");
	fputs("junk", f);
	fclose(f);

	assert_int_equal(hq_fx_run(&fx, &out, "import", media, NULL), 1);
	assert_non_null(strstr(out, "2 stored, 0 already received, 0 quarantined"));
	free(out);
	snprintf(path, sizeof(path), "%s/%s.receipt.jws", media, id);
	jws = read_file(path, &jlen);
	assert_true(jlen > 1 && jws[jlen - 1] == '\n');
	if (sync_receipt_verify(jws, jlen - 1, fx.sign_pk, &rc, &err) < 0)
		fail_msg("receipt file: %s", err.message);
	for (size_t i = 0; i < a.n; i++)
		assert_outcome(rc, a.rec[i], a.len[i], SYNC_OUTCOME_STORED, NULL);
	sync_receipt_free(rc);
	free(jws);
	/* The same batch over tus afterwards: already there. */
	assert_int_equal(tus_upload(&fx, &v, batch, len, NULL), 204);
	rc = fetch_receipt(&fx, &v, id);
	for (size_t i = 0; i < a.n; i++)
		assert_outcome(rc, a.rec[i], a.len[i], SYNC_OUTCOME_ALREADY_RECEIVED, NULL);
	sync_receipt_free(rc);
	free(batch);
	recs_free(&a);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ingest_batch_stored_then_already_received),
	    cmocka_unit_test(ingest_tampered_records_quarantined),
	    cmocka_unit_test(ingest_sequence_gap_reported),
	    cmocka_unit_test(ingest_conflict_quarantined),
	    cmocka_unit_test(ingest_forged_manifest_refused),
	    cmocka_unit_test(ingest_receipt_only_for_its_van),
	    cmocka_unit_test(ingest_import_from_media),
	};

	bin = hq_fx_binary(argc, argv);
	return cmocka_run_group_tests(tests, setup, teardown);
}
