/*
 * SQLite store: pragmas, numbered migrations and a connection pool. Each
 * migration is applied once, in order, inside one IMMEDIATE transaction
 * together with the user_version bump, so a crash leaves the store at the
 * old or the new version and never between.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hq-store.h"
#include "retas-i18n.h"
#include "retas-log.h"

/* Never edit a migration that has shipped; add the next one. */
static const char *const migrations[] = {
    /* 1: vans, staff, and the nonces of signed van requests */
    "CREATE TABLE vans ("
    "  id TEXT PRIMARY KEY,"
    "  pubkey BLOB NOT NULL UNIQUE CHECK (length(pubkey) = 32),"
    "  kid TEXT NOT NULL UNIQUE,"
    "  registered_ms INTEGER NOT NULL);"
    "CREATE TABLE staff ("
    "  nip TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('bidang','kabid','kadis','fo','operator')),"
    "  token_hash BLOB NOT NULL UNIQUE,"
    "  created_ms INTEGER NOT NULL,"
    "  revoked_ms INTEGER);"
    "CREATE TABLE nonces ("
    "  kid TEXT NOT NULL,"
    "  nonce TEXT NOT NULL,"
    "  ts_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (kid, nonce)) WITHOUT ROWID;"
    "CREATE INDEX nonces_ts ON nonces(ts_ms);",
    /* 2: tus uploads; the bytes are in the staging directory */
    "CREATE TABLE uploads ("
    "  id TEXT PRIMARY KEY,"
    "  van_id TEXT NOT NULL REFERENCES vans(id),"
    "  length INTEGER NOT NULL CHECK (length > 0),"
    "  upload_offset INTEGER NOT NULL DEFAULT 0 CHECK (upload_offset <= length),"
    "  metadata TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  completed_ms INTEGER,"
    "  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','ingested','rejected')),"
    "  batch_id TEXT,"
    "  reason TEXT);",
    /* 3: the ingest ledger: batches, records and their parts, audit
     * segments, quarantine, sequence anomalies and receipts */
    "CREATE TABLE batches ("
    "  id TEXT PRIMARY KEY,"
    "  van_id TEXT NOT NULL REFERENCES vans(id),"
    "  st_nomor TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  received_ms INTEGER NOT NULL,"
    "  manifest TEXT NOT NULL,"
    "  report TEXT);"
    "CREATE INDEX batches_st ON batches(st_nomor);"
    "CREATE TABLE receipts ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  batch_id TEXT NOT NULL REFERENCES batches(id),"
    "  received_ms INTEGER NOT NULL,"
    "  source TEXT NOT NULL,"
    "  jws TEXT NOT NULL);"
    "CREATE INDEX receipts_batch ON receipts(batch_id);"
    "CREATE TABLE records ("
    "  id TEXT PRIMARY KEY,"
    "  sha256 BLOB NOT NULL,"
    "  van_id TEXT NOT NULL REFERENCES vans(id),"
    "  st_nomor TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  prev_hash BLOB NOT NULL,"
    "  officer_nip TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  batch_id TEXT NOT NULL REFERENCES batches(id),"
    "  received_ms INTEGER NOT NULL,"
    "  sealed BLOB NOT NULL,"
    "  nik TEXT,"
    "  nama TEXT,"
    "  gender TEXT,"
    "  birth TEXT,"
    "  kelas TEXT,"
    "  npsn TEXT,"
    "  exceptions INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX records_van_seq ON records(van_id, seq);"
    "CREATE INDEX records_st ON records(st_nomor);"
    "CREATE TABLE parts ("
    "  record_id TEXT NOT NULL REFERENCES records(id),"
    "  name TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  data BLOB NOT NULL,"
    "  PRIMARY KEY (record_id, name)) WITHOUT ROWID;"
    "CREATE TABLE audit ("
    "  batch_id TEXT NOT NULL REFERENCES batches(id),"
    "  idx INTEGER NOT NULL,"
    "  row TEXT NOT NULL,"
    "  PRIMARY KEY (batch_id, idx)) WITHOUT ROWID;"
    "CREATE TABLE quarantine ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  record_id TEXT,"
    "  batch_id TEXT NOT NULL REFERENCES batches(id),"
    "  van_id TEXT NOT NULL,"
    "  st_nomor TEXT,"
    "  sha256 BLOB NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  received_ms INTEGER NOT NULL,"
    "  sealed BLOB NOT NULL,"
    "  UNIQUE (batch_id, sha256));"
    "CREATE TABLE anomalies ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  van_id TEXT NOT NULL,"
    "  batch_id TEXT NOT NULL REFERENCES batches(id),"
    "  st_nomor TEXT,"
    "  record_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('gap','fork','chain')),"
    "  seq_from INTEGER NOT NULL,"
    "  seq_to INTEGER NOT NULL,"
    "  detected_ms INTEGER NOT NULL);",
    /* 4: the RETAS workflow: usulan, surat tugas, tanda terima */
    "CREATE TABLE usulan ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  npsn TEXT NOT NULL,"
    "  nama_sekolah TEXT NOT NULL,"
    "  alamat TEXT NOT NULL,"
    "  kecamatan TEXT NOT NULL,"
    "  valid_from INTEGER NOT NULL,"
    "  valid_until INTEGER NOT NULL,"
    "  offset_min INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'proposed' "
    "    CHECK (state IN ('proposed','approved','rejected')),"
    "  started_ms INTEGER,"
    "  created_ms INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  decided_ms INTEGER,"
    "  decided_by TEXT,"
    "  reason TEXT);"
    "CREATE TABLE surat_tugas ("
    "  nomor TEXT PRIMARY KEY,"
    "  usulan_id INTEGER NOT NULL UNIQUE REFERENCES usulan(id),"
    "  van_id TEXT NOT NULL REFERENCES vans(id),"
    "  tanggal TEXT NOT NULL,"
    "  petugas TEXT NOT NULL,"
    "  drafted_ms INTEGER NOT NULL,"
    "  drafted_by TEXT NOT NULL,"
    "  signed_ms INTEGER,"
    "  signed_by TEXT,"
    "  jws TEXT);"
    "CREATE TABLE tanda_terima ("
    "  nomor TEXT NOT NULL REFERENCES surat_tugas(nomor),"
    "  nip TEXT NOT NULL,"
    "  recorded_ms INTEGER NOT NULL,"
    "  recorded_by TEXT NOT NULL,"
    "  PRIMARY KEY (nomor, nip)) WITHOUT ROWID;",
    /* 5: card issuance (SOP KTP-el steps 2-5) per received record */
    "CREATE TABLE issuance ("
    "  record_id TEXT PRIMARY KEY REFERENCES records(id),"
    "  scanned_ms INTEGER NOT NULL,"
    "  scanned_by TEXT NOT NULL,"
    "  verified_ms INTEGER,"
    "  verified_by TEXT,"
    "  entered_ms INTEGER,"
    "  entered_by TEXT,"
    "  printed_ms INTEGER,"
    "  printed_by TEXT,"
    "  handed_ms INTEGER,"
    "  handed_by TEXT) WITHOUT ROWID;",
    /* 6: what reports read of a record, in one covering index. A record's
     * row holds the sealed record (tens of kB) before these columns, and
     * reading past it walks its overflow pages: the list of letters read
     * the whole store (1.2 s for 6400 records, 0.1 s with the index). */
    "CREATE INDEX records_report ON records(st_nomor, van_id, seq, id, npsn, nik, nama, "
    "gender, birth, kelas, created_ms, exceptions);",
};

int hq_store_schema_version(void)
{
	return (int)ARRAY_SIZE(migrations);
}

int hq_store_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

int hq_store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, out, NULL);

	if (rc != SQLITE_OK) {
		log_debug("sqlite prepare: %s: %s", sqlite3_errmsg(db), sql);
		return hq_store_errno(rc) ?: -EIO;
	}
	return 0;
}

int hq_store_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		log_debug("sqlite exec: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return hq_store_errno(rc) ?: -EIO;
	}
	return 0;
}

int hq_store_begin(sqlite3 *db)
{
	return hq_store_exec(db, "BEGIN IMMEDIATE");
}

int hq_store_commit(sqlite3 *db)
{
	return hq_store_exec(db, "COMMIT");
}

void hq_store_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		(void)hq_store_exec(db, "ROLLBACK");
}

int hq_store_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	int rc =
	    s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, idx);

	return hq_store_errno(rc);
}

const char *hq_store_col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

static int user_version(sqlite3 *db, int *out)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	int r = hq_store_prepare(db, "PRAGMA user_version", &st);

	if (r < 0)
		return r;
	if (sqlite3_step(st) != SQLITE_ROW)
		return -EIO;
	*out = sqlite3_column_int(st, 0);
	return 0;
}

static int migrate(sqlite3 *db, struct retas_error *err)
{
	int version = 0, r;

	r = hq_store_begin(db);
	if (r < 0)
		goto fail;
	r = user_version(db, &version);
	if (r < 0)
		goto fail;
	if (version > hq_store_schema_version()) {
		hq_store_rollback(db);
		return retas_error_set(
		    err, -EPROTO, "store.version",
		    N_("the store has schema version %d; this program knows up to %d"), version,
		    hq_store_schema_version());
	}
	for (int v = version; v < hq_store_schema_version(); v++) {
		char pragma[48];

		r = hq_store_exec(db, migrations[v]);
		if (r < 0)
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		r = hq_store_exec(db, pragma);
		if (r < 0)
			goto fail;
	}
	r = hq_store_commit(db);
	if (r == 0)
		return 0;
fail:
	hq_store_rollback(db);
	return retas_error_set(err, r, "store.migrate", N_("cannot bring the store up to date: %s"),
			       sqlite3_errmsg(db));
}

int hq_store_open(const char *path, sqlite3 **out, struct retas_error *err)
{
	sqlite3 *db = NULL;
	int rc, r;

	rc = sqlite3_open_v2(path, &db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
				 SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		r = retas_error_set(err, hq_store_errno(rc) ?: -EIO, "store.open",
				    N_("cannot open the store %s: %s"), path,
				    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(db, 10000);
	r = hq_store_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			      "PRAGMA foreign_keys=ON;");
	if (r < 0) {
		r = retas_error_set(err, r, "store.open", N_("cannot set up the store %s: %s"),
				    path, sqlite3_errmsg(db));
		goto fail;
	}
	r = migrate(db, err);
	if (r < 0)
		goto fail;
	*out = db;
	return 0;
fail:
	sqlite3_close(db);
	return r;
}

struct hq_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	sqlite3 **conns;
	bool *busy;
	size_t n;
};

int hq_pool_new(const char *path, size_t n, struct hq_pool **out, struct retas_error *err)
{
	struct hq_pool *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;
	int r = -ENOMEM;

	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	p->conns = calloc(n, sizeof(*p->conns));
	p->busy = calloc(n, sizeof(*p->busy));
	if (!p->conns || !p->busy)
		goto fail;
	for (p->n = 0; p->n < n; p->n++) {
		r = hq_store_open(path, &p->conns[p->n], err);
		if (r < 0)
			goto fail;
	}
	*out = p;
	return 0;
fail:
	hq_pool_free(p);
	return r;
}

void hq_pool_free(struct hq_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		sqlite3_close(p->conns[i]);
	free(p->conns);
	free(p->busy);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int hq_pool_get(struct hq_pool *p, int timeout_ms, sqlite3 **out)
{
	struct timespec deadline;
	int r = -ETIMEDOUT;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	for (;;) {
		for (size_t i = 0; i < p->n; i++) {
			if (!p->busy[i]) {
				p->busy[i] = true;
				*out = p->conns[i];
				r = 0;
				goto out;
			}
		}
		if (pthread_cond_timedwait(&p->cond, &p->lock, &deadline) == ETIMEDOUT)
			goto out;
	}
out:
	pthread_mutex_unlock(&p->lock);
	return r;
}

void hq_pool_put(struct hq_pool *p, sqlite3 *db)
{
	if (!db)
		return;
	/* A handler that failed half-way must not leave a transaction open for
	 * the next borrower. */
	hq_store_rollback(db);
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n; i++)
		if (p->conns[i] == db)
			p->busy[i] = false;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}
