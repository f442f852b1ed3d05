/*
 * Per-record seal-and-commit time for a standard record (ten 256x180 grey
 * finger images, a 600x800 JPEG-sized photo, a signature PNG and its time
 * series, the demographics) through the real path: the part container,
 * retas_record_seal, and retasd's store (student row and record in one
 * transaction, WAL, synchronous=FULL). Baseline in the same run: a bare
 * SQLite insert of the same number of bytes per transaction with the same
 * journal and synchronous settings. Prints both and the ratio.
 *
 *   bench-commit [RECORDS]   (default 200)
 */
#include <errno.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "retas-record.h"
#include "retas-time.h"
#include "retas-uuid.h"
#include "store.h"

#define FINGER_W 256
#define FINGER_H 180

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what, int r)
{
	fprintf(stderr, "bench-commit: %s: %s\n", what, strerror(-r));
	exit(1);
}

/* Ridge-like grey rows: compressible as real raw finger images are. */
static void synth_finger(uint8_t *img, unsigned seed)
{
	for (unsigned y = 0; y < FINGER_H; y++)
		for (unsigned x = 0; x < FINGER_W; x++)
			img[y * FINGER_W + x] =
			    (uint8_t)(((x + y * 2 + seed * 7) / 5) % 2 ? 40 + (x ^ y) % 16
								       : 200 + (x * y) % 32);
}

static struct retas_container *standard_body(void)
{
	static uint8_t finger[FINGER_W * FINGER_H], photo[62 * 1024], sig[9 * 1024],
	    series[6 * 1024];
	const char *demo = "{\"nik\":\"1571014703080001\",\"nama\":\"Siti Aminah\","
			   "\"jenis_kelamin\":\"P\",\"tanggal_lahir\":\"2008-03-07\"}";
	struct retas_container *c = NULL;
	char name[32];
	int r = retas_container_new(&c);

	if (r < 0)
		fail("container", r);
	randombytes_buf(photo, sizeof(photo));
	randombytes_buf(sig, sizeof(sig));
	randombytes_buf(series, sizeof(series));
	retas_container_add(c, "demografi.json", "application/json", demo, strlen(demo));
	for (int i = 1; i <= 10; i++) {
		synth_finger(finger, (unsigned)i);
		snprintf(name, sizeof(name), "jari-%02d.gray", i);
		retas_container_add(c, name, "image/x-gray", finger, sizeof(finger));
	}
	retas_container_add(c, "foto.jpg", "image/jpeg", photo, sizeof(photo));
	retas_container_add(c, "tanda-tangan.png", "image/png", sig, sizeof(sig));
	retas_container_add(c, "tanda-tangan.series", "application/x-retas-series", series,
			    sizeof(series));
	return c;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200, r;
	uint8_t seal_pk[32], seal_sk[32], dev_pk[32], dev_sk[64], prev[32] = {0};
	char dir[] = "/tmp/bench-commit-XXXXXX", path[64];
	struct retas_container *body;
	struct rd_store *store = NULL;
	struct retas_error err = {0};
	struct rd_store_session sess = {0};
	int64_t assignment, bytes = 0;
	double t0, t_real, t_base;
	sqlite3 *db;

	if (n <= 0 || sodium_init() < 0 || !mkdtemp(dir))
		return 2;
	crypto_box_keypair(seal_pk, seal_sk);
	crypto_sign_keypair(dev_pk, dev_sk);
	body = standard_body();

	snprintf(path, sizeof(path), "%s/retasd.db", dir);
	r = rd_store_open(path, 5000, &store, &err);
	if (r < 0)
		fail(err.message, r);
	r = rd_store_assignment_insert(
	    store, "token", "800/001/DUKCAPIL/2026",
	    "0000000000000000000000000000000000000000000000000000000000000000", 0, INT64_MAX / 2,
	    retas_time_now_ms(), &assignment);
	if (r < 0)
		fail("assignment", r);
	sess.assignment_id = assignment;
	snprintf(sess.uuid, sizeof(sess.uuid), "01a20e00-0000-7000-8000-000000000000");
	snprintf(sess.opened_by, sizeof(sess.opened_by), "198703152010011002");
	sess.opened_at_ms = retas_time_now_ms();
	r = rd_store_session_open(store, &sess);
	if (r < 0)
		fail("session", r);

	t0 = now_s();
	for (int i = 0; i < n; i++) {
		struct retas_record_header h = {.seq = (uint64_t)i + 1};
		struct rd_store_record rec = {0};
		uint8_t *sealed = NULL, hash[32], student_key[32];
		size_t len = 0;
		int64_t student;

		h.created_ms = retas_time_now_ms();
		retas_uuid7_new(h.created_ms, h.id);
		snprintf(h.st_nomor, sizeof(h.st_nomor), "800/001/DUKCAPIL/2026");
		snprintf(h.device_id, sizeof(h.device_id), "MPK-01");
		snprintf(h.officer_nip, sizeof(h.officer_nip), "198703152010011002");
		memcpy(h.prev_hash, prev, 32);
		r = retas_record_seal(&h, body, seal_pk, dev_sk, &sealed, &len, &err);
		if (r < 0)
			fail(err.message, r);
		retas_record_hash(sealed, len, hash);
		randombytes_buf(student_key, sizeof(student_key));
		r = rd_store_txn_begin(store);
		if (r == 0)
			r = rd_store_student_insert(store, assignment, student_key, student_key, 32,
						    true, h.created_ms, &student);
		retas_uuid_format(h.id, rec.id);
		rec.session_id = sess.id;
		rec.seq = (int64_t)h.seq;
		rec.has_prev = i > 0;
		memcpy(rec.prev_hash, prev, 32);
		memcpy(rec.hash, hash, 32);
		rec.sealed = sealed;
		rec.sealed_len = len;
		rec.created_at_ms = h.created_ms;
		rec.student_id = student;
		rec.summary = "{}";
		rec.token = "RQ1.x";
		if (r == 0)
			r = rd_store_record_insert(store, &rec);
		if (r == 0)
			r = rd_store_txn_commit(store);
		if (r < 0)
			fail("commit", r);
		memcpy(prev, hash, 32);
		bytes += (int64_t)len;
		free(sealed);
	}
	t_real = (now_s() - t0) / n;
	rd_store_free(store);

	/* Baseline: the same bytes, one bare insert per durable transaction. */
	snprintf(path, sizeof(path), "%s/bare.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)",
			 NULL, NULL, NULL) != SQLITE_OK)
		return 1;
	{
		size_t per = (size_t)(bytes / n);
		uint8_t *blob = malloc(per);
		sqlite3_stmt *st;

		randombytes_buf(blob, per);
		sqlite3_prepare_v2(db, "INSERT INTO t (b) VALUES (?)", -1, &st, NULL);
		t0 = now_s();
		for (int i = 0; i < n; i++) {
			sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
			sqlite3_bind_blob(st, 1, blob, (int)per, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_reset(st);
			sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		}
		t_base = (now_s() - t0) / n;
		sqlite3_finalize(st);
		free(blob);
	}
	sqlite3_close(db);
	retas_container_free(body);
	printf("records: %d, sealed record %.0f KB\n", n, (double)bytes / n / 1024);
	printf("seal + commit (retasd store): %.2f ms per record\n", t_real * 1e3);
	printf("bare SQLite insert, same bytes, synchronous=FULL: %.2f ms per record\n",
	       t_base * 1e3);
	printf("ratio: %.2f\n", t_real / t_base);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	return system(path) == 0 ? 0 : 1;
}
