/*
 * Hostile uploads against a real retas-hq: forged (a request signed by an
 * unregistered key, or by another key under a registered van's key id; a
 * batch whose manifest another key signed), replayed (a signed request
 * header sent again, also after a restart and from outside the time
 * window; a whole batch sent again) and cross-van (van A's signed requests
 * on van B's upload; van B's batch, a manifest naming B, or records sealed
 * by B's key uploaded by A). Each is refused with a status and a stable
 * reason, and the store, read directly, shows nothing new kept where it
 * must not be: no record, batch or receipt from a refused batch, and a
 * batch sent twice holds its records once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "hq-harness.h"
#include "retas-record.h"
#include "retas-time.h"
#include "retas-util.h"
#include "retas-uuid.h"
#include "sync-auth.h"
#include "sync-receipt.h"

static const char *bin;
static struct hq_fx fx;

#define ST "800/077/DUKCAPIL/2026"
#define NIP "198703152010011002"
#define TUS "Tus-Resumable: 1.0.0"
#define DEMO                                                                                       \
	"{\"nik\":\"1571014507090001\",\"nama\":\"Siti Aminah\",\"jenis_kelamin\":\"P\","          \
	"\"tanggal_lahir\":\"2009-07-05\",\"kelas\":\"XII IPA 1\",\"npsn\":\"10504187\"}"

static int setup(void **state)
{
	(void)state;
	hq_fx_init(&fx, bin, NULL);
	hq_fx_start(&fx);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hq_fx_cleanup(&fx);
	return 0;
}

/* Rows of a table (with an optional WHERE on van_id), read beside the
 * running server. */
static int64_t rows(const char *table, const char *van)
{
	char path[600], sql[160];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n;

	snprintf(path, sizeof(path), "%s/hq.db", fx.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s%s", table,
		 van ? " WHERE van_id = ?" : "");
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (van)
		sqlite3_bind_text(st, 1, van, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

struct counts {
	int64_t records, batches, receipts, quarantine, uploads;
};

static void snapshot(struct counts *c)
{
	c->records = rows("records", NULL);
	c->batches = rows("batches", NULL);
	c->receipts = rows("receipts", NULL);
	c->quarantine = rows("quarantine", NULL);
	c->uploads = rows("uploads", NULL);
}

static void assert_nothing_kept(const struct counts *before)
{
	struct counts now;

	snapshot(&now);
	assert_int_equal(now.records, before->records);
	assert_int_equal(now.batches, before->batches);
	assert_int_equal(now.receipts, before->receipts);
	assert_int_equal(now.quarantine, before->quarantine);
}

/* A Retas-Auth line signed with sk under pk's key id. */
static char *auth_as(const uint8_t pk[32], const uint8_t sk[64], const char *method,
		     const char *path, int64_t now_ms)
{
	uint8_t nonce[SYNC_AUTH_NONCE_LEN];
	char *value = NULL, *line = NULL;

	randombytes_buf(nonce, sizeof(nonce));
	assert_int_equal(sync_auth_sign(method, path, now_ms, nonce, pk, sk, &value), 0);
	assert_true(asprintf(&line, "%s: %s", SYNC_AUTH_HEADER, value) > 0);
	free(value);
	return line;
}

static void patch_with(const char *auth, const char *loc, uint64_t offset, const void *data,
		       size_t len, struct http_resp *r)
{
	char offh[64];

	snprintf(offh, sizeof(offh), "Upload-Offset: %llu", (unsigned long long)offset);
	http_do(&fx, "PATCH", loc,
		(const char *const[]){TUS, offh, "Content-Type: application/offset+octet-stream",
				      auth, NULL},
		data, len, r);
}

/* One batch of n records of v (sealed with v's key under v's id). */
static void make_batch(struct test_van *v, size_t n, uint8_t **batch, size_t *len, char *id,
		       uint8_t rec_ids[][16])
{
	uint8_t *recs[8];
	size_t lens[8];

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		struct retas_record_header h;

		test_van_record(v, fx.seal_pk, ST, NIP, retas_time_now_ms(), DEMO, 1500 + i, NULL,
				&recs[i], &lens[i]);
		assert_int_equal(retas_record_read_header(recs[i], lens[i], &h, NULL), 0);
		if (rec_ids)
			memcpy(rec_ids[i], h.id, 16);
	}
	test_van_batch(v, ST, recs, lens, n, NULL, batch, len, id);
	for (size_t i = 0; i < n; i++)
		free(recs[i]);
}

/* The body of the last PATCH of a whole-batch upload by uploader. */
static void upload_expect(const struct test_van *uploader, const uint8_t *batch, size_t len,
			  long status, const char *reason)
{
	struct http_resp r;
	char *loc = tus_create(&fx, uploader, len),
	     *auth = test_van_auth(uploader, "PATCH", loc, 0);
	char *rejected;

	patch_with(auth, loc, 0, batch, len, &r);
	free(auth);
	if (reason)
		http_assert_error(&r, status, reason);
	else
		assert_int_equal(r.status, status);
	http_resp_clear(&r);
	if (reason) {
		/* The refusal stays on the upload for the van to read. */
		auth = test_van_auth(uploader, "HEAD", loc, 0);
		http_do(&fx, "HEAD", loc, (const char *const[]){TUS, auth, NULL}, NULL, 0, &r);
		free(auth);
		assert_int_equal(r.status, 200);
		rejected = http_header(&r, "Retas-Rejected");
		assert_non_null(rejected);
		assert_string_equal(rejected, reason);
		free(rejected);
		http_resp_clear(&r);
	}
	free(loc);
}

static void hostile_forged_request_401_nothing_kept(void **state)
{
	struct test_van van, stranger;
	struct counts before;
	struct http_resp r;
	char *loc, *auth;

	(void)state;
	test_van_new(&van, "HOS-01");
	test_van_register(&fx, &van);
	test_van_new(&stranger, "HOS-01");
	loc = tus_create(&fx, &van, 10);
	snapshot(&before);

	/* An unregistered key creating an upload and writing into one. */
	auth = auth_as(stranger.pk, stranger.sk, "POST", "/tus/", retas_time_now_ms());
	http_do(&fx, "POST", "/tus/", (const char *const[]){TUS, "Upload-Length: 10", auth, NULL},
		NULL, 0, &r);
	free(auth);
	http_assert_error(&r, 401, "auth.unknown-key");
	http_resp_clear(&r);
	auth = auth_as(stranger.pk, stranger.sk, "PATCH", loc, retas_time_now_ms());
	patch_with(auth, loc, 0, "0123456789", 10, &r);
	free(auth);
	http_assert_error(&r, 401, "auth.unknown-key");
	http_resp_clear(&r);

	/* Another key signing under the registered van's key id. */
	auth = auth_as(van.pk, stranger.sk, "PATCH", loc, retas_time_now_ms());
	patch_with(auth, loc, 0, "0123456789", 10, &r);
	free(auth);
	http_assert_error(&r, 401, "auth.signature");
	http_resp_clear(&r);

	assert_nothing_kept(&before);
	assert_int_equal(rows("uploads", NULL), before.uploads);
	{
		/* the van's own upload is untouched, still at offset 0 */
		char *off;

		auth = test_van_auth(&van, "HEAD", loc, 0);
		http_do(&fx, "HEAD", loc, (const char *const[]){TUS, auth, NULL}, NULL, 0, &r);
		free(auth);
		off = http_header(&r, "Upload-Offset");
		assert_string_equal(off, "0");
		free(off);
		http_resp_clear(&r);
	}
	free(loc);
}

static void hostile_forged_manifest_422_nothing_kept(void **state)
{
	struct test_van van, forger;
	struct counts before;
	uint8_t *batch;
	size_t len;
	char id[RETAS_UUID_STR_LEN];

	(void)state;
	test_van_new(&van, "HOS-02");
	test_van_register(&fx, &van);
	/* Records and manifest by another key that claims to be HOS-02. */
	test_van_new(&forger, "HOS-02");
	make_batch(&forger, 2, &batch, &len, id, NULL);
	snapshot(&before);
	upload_expect(&van, batch, len, 422, "jws.signature");
	assert_nothing_kept(&before);
	free(batch);
}

static void hostile_replayed_request_401(void **state)
{
	struct test_van van;
	struct http_resp r;
	char *loc, *auth, *off;

	(void)state;
	test_van_new(&van, "HOS-03");
	test_van_register(&fx, &van);
	loc = tus_create(&fx, &van, 20);
	auth = test_van_auth(&van, "PATCH", loc, 0);
	patch_with(auth, loc, 0, "0123456789", 10, &r);
	assert_int_equal(r.status, 204);
	http_resp_clear(&r);
	/* The same signed header again, with the next chunk: refused before
	 * a byte is written. */
	patch_with(auth, loc, 10, "abcdefghij", 10, &r);
	http_assert_error(&r, 401, "auth.replay");
	http_resp_clear(&r);
	/* Head office remembers it across a restart. */
	hq_fx_stop(&fx);
	hq_fx_start(&fx);
	patch_with(auth, loc, 10, "abcdefghij", 10, &r);
	http_assert_error(&r, 401, "auth.replay");
	http_resp_clear(&r);
	free(auth);
	/* Outside the time window, either side. */
	auth = test_van_auth(&van, "PATCH", loc, retas_time_now_ms() - 301000);
	patch_with(auth, loc, 10, "abcdefghij", 10, &r);
	free(auth);
	http_assert_error(&r, 401, "auth.stale");
	http_resp_clear(&r);
	auth = test_van_auth(&van, "PATCH", loc, retas_time_now_ms() + 301000);
	patch_with(auth, loc, 10, "abcdefghij", 10, &r);
	free(auth);
	http_assert_error(&r, 401, "auth.stale");
	http_resp_clear(&r);

	auth = test_van_auth(&van, "HEAD", loc, 0);
	http_do(&fx, "HEAD", loc, (const char *const[]){TUS, auth, NULL}, NULL, 0, &r);
	free(auth);
	off = http_header(&r, "Upload-Offset");
	assert_string_equal(off, "10");
	free(off);
	http_resp_clear(&r);
	free(loc);
}

static void hostile_replayed_batch_stored_once(void **state)
{
	struct test_van van;
	struct sync_receipt *first, *second;
	uint8_t *batch, ids[3][16];
	size_t len;
	char id[RETAS_UUID_STR_LEN];

	(void)state;
	test_van_new(&van, "HOS-04");
	test_van_register(&fx, &van);
	make_batch(&van, 3, &batch, &len, id, ids);
	assert_int_equal(tus_upload(&fx, &van, batch, len, NULL), 204);
	first = fetch_receipt(&fx, &van, id);
	assert_int_equal(tus_upload(&fx, &van, batch, len, NULL), 204);
	assert_int_equal(tus_upload(&fx, &van, batch, len, NULL), 204);
	second = fetch_receipt(&fx, &van, id);
	assert_string_equal(second->batch_id, first->batch_id);
	assert_int_equal(second->n_records, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(sync_receipt_find(first, ids[i])->outcome, SYNC_OUTCOME_STORED);
		assert_int_equal(sync_receipt_find(second, ids[i])->outcome,
				 SYNC_OUTCOME_ALREADY_RECEIVED);
		assert_memory_equal(sync_receipt_find(second, ids[i])->sha256,
				    sync_receipt_find(first, ids[i])->sha256, 32);
	}
	/* Three uploads, three receipts; one batch and its records once. */
	assert_int_equal(rows("records", "HOS-04"), 3);
	assert_int_equal(rows("batches", "HOS-04"), 1);
	assert_int_equal(rows("quarantine", "HOS-04"), 0);
	assert_int_equal(rows("anomalies", "HOS-04"), 0);
	sync_receipt_free(first);
	sync_receipt_free(second);
	free(batch);
}

static void hostile_cross_van_upload_404(void **state)
{
	struct test_van a, b;
	struct http_resp r;
	char *loc, *auth, *off;

	(void)state;
	test_van_new(&a, "HOS-05");
	test_van_new(&b, "HOS-06");
	test_van_register(&fx, &a);
	test_van_register(&fx, &b);
	loc = tus_create(&fx, &b, 10);
	/* A's own, valid signatures on B's upload: no such upload for A. */
	auth = test_van_auth(&a, "PATCH", loc, 0);
	patch_with(auth, loc, 0, "0123456789", 10, &r);
	free(auth);
	http_assert_error(&r, 404, "tus.unknown");
	http_resp_clear(&r);
	auth = test_van_auth(&a, "DELETE", loc, 0);
	http_do(&fx, "DELETE", loc, (const char *const[]){TUS, auth, NULL}, NULL, 0, &r);
	free(auth);
	http_assert_error(&r, 404, "tus.unknown");
	http_resp_clear(&r);
	/* B's signature for its own upload, sent by anyone, is for that
	 * request only: used on another path it fails. */
	auth = test_van_auth(&b, "PATCH", loc, 0);
	http_do(&fx, "DELETE", loc, (const char *const[]){TUS, auth, NULL}, NULL, 0, &r);
	http_assert_error(&r, 401, "auth.signature");
	http_resp_clear(&r);
	free(auth);
	auth = test_van_auth(&b, "HEAD", loc, 0);
	http_do(&fx, "HEAD", loc, (const char *const[]){TUS, auth, NULL}, NULL, 0, &r);
	free(auth);
	assert_int_equal(r.status, 200);
	off = http_header(&r, "Upload-Offset");
	assert_string_equal(off, "0");
	free(off);
	http_resp_clear(&r);
	free(loc);
}

static void hostile_cross_van_batch_refused(void **state)
{
	struct test_van a, b, b_as_a, a_naming_b;
	struct counts before;
	struct sync_receipt *rc;
	uint8_t *batch, ids[2][16];
	size_t len;
	char id[RETAS_UUID_STR_LEN];

	(void)state;
	test_van_new(&a, "HOS-07");
	test_van_new(&b, "HOS-08");
	test_van_register(&fx, &a);
	test_van_register(&fx, &b);

	/* B's own batch, uploaded by A: its manifest is not A's. */
	make_batch(&b, 2, &batch, &len, id, NULL);
	snapshot(&before);
	upload_expect(&a, batch, len, 422, "jws.signature");
	assert_nothing_kept(&before);
	free(batch);

	/* A manifest A signed that names B. */
	a_naming_b = a;
	snprintf(a_naming_b.id, sizeof(a_naming_b.id), "%s", b.id);
	make_batch(&a_naming_b, 2, &batch, &len, id, NULL);
	snapshot(&before);
	upload_expect(&a, batch, len, 422, "batch.device");
	assert_nothing_kept(&before);
	free(batch);

	/* Records sealed with B's key under A's name, in a manifest A signs
	 * (A holding B's records): the batch is A's, but no record is kept as
	 * a record; each comes back quarantined. */
	b_as_a = b;
	snprintf(b_as_a.id, sizeof(b_as_a.id), "%s", a.id);
	{
		uint8_t *recs[2];
		size_t lens[2];

		for (size_t i = 0; i < 2; i++) {
			struct retas_record_header h;

			test_van_record(&b_as_a, fx.seal_pk, ST, NIP, retas_time_now_ms(), DEMO,
					1200, NULL, &recs[i], &lens[i]);
			assert_int_equal(retas_record_read_header(recs[i], lens[i], &h, NULL), 0);
			memcpy(ids[i], h.id, 16);
		}
		test_van_batch(&a, ST, recs, lens, 2, NULL, &batch, &len, id);
		free(recs[0]);
		free(recs[1]);
	}
	snapshot(&before);
	assert_int_equal(tus_upload(&fx, &a, batch, len, NULL), 204);
	rc = fetch_receipt(&fx, &a, id);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(sync_receipt_find(rc, ids[i])->outcome, SYNC_OUTCOME_QUARANTINED);
		assert_string_equal(sync_receipt_find(rc, ids[i])->reason, "record.signature");
	}
	sync_receipt_free(rc);
	assert_int_equal(rows("records", NULL), before.records);
	assert_int_equal(rows("records", "HOS-07"), 0);
	assert_int_equal(rows("records", "HOS-08"), 0);
	assert_int_equal(rows("quarantine", "HOS-07"), 2);
	free(batch);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hostile_forged_request_401_nothing_kept),
	    cmocka_unit_test(hostile_forged_manifest_422_nothing_kept),
	    cmocka_unit_test(hostile_replayed_request_401),
	    cmocka_unit_test(hostile_replayed_batch_stored_once),
	    cmocka_unit_test(hostile_cross_van_upload_404),
	    cmocka_unit_test(hostile_cross_van_batch_refused),
	};

	bin = hq_fx_binary(argc, argv);
	return cmocka_run_group_tests(tests, setup, teardown);
}
