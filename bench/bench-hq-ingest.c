/*
 * Head office ingest rate for records of about 400 KB (a 397 KB photo that
 * does not compress, 100 KB of grey finger image that does, demographics):
 * the whole of hq_ingest_batch per record (manifest and signature checks,
 * unsealing, decryption, inflation, the ledger and chain checks, storing
 * record and parts, the signed receipt) against the floor of the same
 * bytes through bare XChaCha20-Poly1305 decryption and one SQLite insert
 * each, with the same store settings and one transaction per batch, in the
 * same run.
 */
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hq-auth.h"
#include "hq-ctx.h"
#include "hq-ingest.h"
#include "hq-store.h"
#include "retas-manifest.h"
#include "retas-record.h"
#include "retas-time.h"
#include "retas-uuid.h"
#include "sync-batch.h"

#define PHOTO_LEN (397 * 1024)
#define GREY_LEN (100 * 1024)
#define PER_BATCH 30
#define ROUNDS 3

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct retas_error *err)
{
	fprintf(stderr, "bench-hq-ingest: %s failed%s%s\n", what, err ? ": " : "",
		err ? err->message : "");
	exit(1);
}

struct van {
	uint8_t pk[32], sk[64];
	uint64_t seq;
	uint8_t last[32];
};

static uint8_t *make_record(struct van *v, const uint8_t seal_pk[32], size_t *len)
{
	static const char demo[] = "{\"nik\":\"1571014507090001\",\"nama\":\"Siti Aminah\","
				   "\"jenis_kelamin\":\"P\",\"tanggal_lahir\":\"2009-07-05\","
				   "\"kelas\":\"XII IPA 1\",\"npsn\":\"10504187\"}";
	struct retas_record_header h = {0};
	struct retas_container *c = NULL;
	struct retas_error err = {0};
	uint8_t *photo = malloc(PHOTO_LEN), *grey = malloc(GREY_LEN), *rec = NULL;

	if (!photo || !grey)
		die("malloc", NULL);
	randombytes_buf(photo, PHOTO_LEN);
	/* ridges: a smooth grey pattern that deflates */
	for (size_t i = 0; i < GREY_LEN; i++)
		grey[i] =
		    (uint8_t)(128 + 100 * sin((double)(i % 256) / 6.0 + (double)(i / 256) / 9.0));
	retas_uuid7_new(retas_time_now_ms(), h.id);
	strcpy(h.st_nomor, "800/041/DUKCAPIL/2026");
	strcpy(h.device_id, "MPK-01");
	strcpy(h.officer_nip, "198703152010011002");
	h.seq = ++v->seq;
	memcpy(h.prev_hash, v->last, 32);
	h.created_ms = retas_time_now_ms();
	if (retas_container_new(&c) < 0 ||
	    retas_container_add(c, "demografi.json", "application/json", demo, strlen(demo)) < 0 ||
	    retas_container_add(c, "foto.jpg", "image/jpeg", photo, PHOTO_LEN) < 0 ||
	    retas_container_add(c, "jari-01.raw", "application/octet-stream", grey, GREY_LEN) < 0 ||
	    retas_record_seal(&h, c, seal_pk, v->sk, &rec, len, &err) < 0)
		die("seal", &err);
	retas_record_hash(rec, *len, v->last);
	retas_container_free(c);
	free(photo);
	free(grey);
	return rec;
}

static uint8_t *make_batch(struct van *v, const uint8_t seal_pk[32], uint8_t **recs, size_t *lens,
			   size_t *blen)
{
	struct retas_manifest *m = NULL;
	struct retas_error err = {0};
	uint8_t *batch = NULL;
	char *jws = NULL;

	if (retas_manifest_new("MPK-01", "800/041/DUKCAPIL/2026", retas_time_now_ms(), &m) < 0)
		die("manifest", NULL);
	for (size_t i = 0; i < PER_BATCH; i++) {
		recs[i] = make_record(v, seal_pk, &lens[i]);
		if (retas_manifest_add_record(m, recs[i], lens[i], &err) < 0)
			die("manifest add", &err);
	}
	if (retas_manifest_sign(m, v->sk, &jws, &err) < 0 ||
	    sync_batch_encode(jws, strlen(jws), (const uint8_t *const *)recs, lens, PER_BATCH,
			      &batch, blen) < 0)
		die("batch", &err);
	free(jws);
	retas_manifest_free(m);
	return batch;
}

/* The floor: the same bytes decrypted with a bare AEAD and inserted. */
static double floor_round(sqlite3 *db, uint8_t **recs, const size_t *lens)
{
	uint8_t key[32], nonce[24];
	sqlite3_stmt *st = NULL;
	double t0, t;

	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	randombytes_buf(nonce, sizeof(nonce));
	/* encrypt outside the timing, as the van did */
	uint8_t *ct[PER_BATCH], *pt = malloc(64 * 1024 * 1024);
	unsigned long long ctl[PER_BATCH], ptl;

	if (!pt)
		die("malloc", NULL);
	for (size_t i = 0; i < PER_BATCH; i++) {
		ct[i] = malloc(lens[i] + crypto_aead_xchacha20poly1305_ietf_ABYTES);
		crypto_aead_xchacha20poly1305_ietf_encrypt(ct[i], &ctl[i], recs[i], lens[i], NULL,
							   0, NULL, nonce, key);
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO floor (id, data) VALUES (?, ?)", -1, &st, NULL))
		die("prepare", NULL);
	t0 = now_s();
	hq_store_begin(db);
	for (size_t i = 0; i < PER_BATCH; i++) {
		uint8_t id[16];
		char ids[RETAS_UUID_STR_LEN];

		if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptl, NULL, ct[i], ctl[i], NULL,
							       0, nonce, key) != 0)
			die("decrypt", NULL);
		retas_uuid7_new(retas_time_now_ms(), id);
		retas_uuid_format(id, ids);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, ids, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob64(st, 2, pt, ptl, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			die("insert", NULL);
	}
	if (hq_store_commit(db) < 0)
		die("commit", NULL);
	t = now_s() - t0;
	sqlite3_finalize(st);
	for (size_t i = 0; i < PER_BATCH; i++)
		free(ct[i]);
	free(pt);
	return t;
}

int main(void)
{
	char dir[] = "/tmp/retas-bench-ingest-XXXXXX", path[128], cmd[160];
	struct hq_ctx *ctx = NULL;
	struct retas_error err = {0};
	struct van v = {0};
	struct hq_van hv = {0};
	sqlite3 *db = NULL, *fdb = NULL;
	double ours = 0, base = 0, bytes = 0;

	if (sodium_init() < 0 || !mkdtemp(dir))
		die("setup", NULL);
	snprintf(path, sizeof(path), "%s/hq", dir);
	if (hq_ctx_init_dir(path, &err) < 0 || hq_ctx_open(path, &ctx, &err) < 0 ||
	    hq_store_open(ctx->db_path, &db, &err) < 0)
		die("init", &err);
	crypto_sign_keypair(v.pk, v.sk);
	if (hq_van_register(db, "MPK-01", v.pk, retas_time_now_ms(), &err) < 0 ||
	    hq_van_by_id(db, "MPK-01", &hv) < 0)
		die("register", &err);
	snprintf(path, sizeof(path), "%s/floor.db", dir);
	if (hq_store_open(path, &fdb, &err) < 0 ||
	    hq_store_exec(fdb, "CREATE TABLE floor (id TEXT PRIMARY KEY, data BLOB NOT NULL)") < 0)
		die("floor store", &err);

	for (int round = 0; round < ROUNDS; round++) {
		uint8_t *recs[PER_BATCH], *batch;
		size_t lens[PER_BATCH], blen;
		struct hq_ingest_result res = {0};
		double t0, t;

		batch = make_batch(&v, ctx->seal.pk, recs, lens, &blen);
		t0 = now_s();
		if (hq_ingest_batch(ctx, db, batch, blen, &hv, "bench", retas_time_now_ms(), &res,
				    &err) < 0)
			die("ingest", &err);
		t = now_s() - t0;
		if (res.stored != PER_BATCH)
			die("ingest stored them all", NULL);
		hq_ingest_result_clear(&res);
		ours += t;
		base += floor_round(fdb, recs, lens);
		bytes += (double)blen;
		for (size_t i = 0; i < PER_BATCH; i++)
			free(recs[i]);
		free(batch);
	}
	{
		double n = (double)(ROUNDS * PER_BATCH);

		printf("records of %.0f KB, %d batches of %d\n", bytes / n / 1024, ROUNDS,
		       PER_BATCH);
		printf(
		    "ingest (verify, open, inflate, store, receipt): %7.1f records/s  %6.1f MB/s\n",
		    n / ours, bytes / ours / 1e6);
		printf("floor (bare XChaCha20-Poly1305 decrypt + insert): %7.1f records/s  %6.1f "
		       "MB/s\n",
		       n / base, bytes / base / 1e6);
		printf("ratio ingest/floor: %.2f (ingest takes %.1fx the floor's time)\n",
		       (n / ours) / (n / base), ours / base);
	}
	sqlite3_close(db);
	sqlite3_close(fdb);
	hq_ctx_free(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench-hq-ingest: cannot remove %s\n", dir);
	return 0;
}
