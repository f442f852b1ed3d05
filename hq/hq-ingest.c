/*
 * Batch ingest. Checking and opening the records (the costly part:
 * signatures, unsealing, decryption, inflation) happens before the write
 * transaction, so the store is locked only for the inserts. Inside it, the
 * ledger decides each record's outcome (new, already received, conflict),
 * the sequence and hash chain are checked against what the store holds, and
 * the receipt is signed and stored with everything else: the batch is in
 * the store with its receipt, or nothing of it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq-ingest.h"
#include "hq-store.h"
#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-jws.h"
#include "retas-log.h"
#include "retas-manifest.h"
#include "retas-nik.h"
#include "retas-record.h"
#include "retas-uuid.h"
#include "sync-batch.h"
#include "sync-receipt.h"

RETAS_DEFINE_CLEANUP(struct sync_batch, sync_batch_free)
RETAS_DEFINE_CLEANUP(struct retas_manifest, retas_manifest_free)

#define DEMOGRAFI_PART "demografi.json"

struct item {
	const uint8_t *rec;
	size_t len;
	uint8_t sha[32];
	uint8_t id[16];
	uint64_t seq;
	bool failed; /* quarantined by its own checks */
	char reason[48];
	struct retas_record_header h;
	struct retas_container *body;
	enum sync_outcome outcome;
};

struct demografi {
	char *nik, *nama, *gender, *birth, *kelas, *npsn;
	int exceptions;
};

void hq_ingest_result_clear(struct hq_ingest_result *res)
{
	free(res->receipt);
	memset(res, 0, sizeof(*res));
}

static void demografi_clear(struct demografi *d)
{
	free(d->nik);
	free(d->nama);
	free(d->gender);
	free(d->birth);
	free(d->kelas);
	free(d->npsn);
	memset(d, 0, sizeof(*d));
}

static char *dup_member(json_object *o, const char *key, size_t max)
{
	const char *s;

	if (retas_json_get_string(o, key, &s) < 0 || !*s || strlen(s) > max)
		return NULL;
	return strdup(s);
}

/*
 * What head office reads from the record's demografi.json part
 * (docs/sync-protocol.md, "What head office reads from a record"). A
 * missing or odd member is left empty rather than refusing a record the
 * van signed: the report shows it as unknown.
 */
static void read_demografi(const struct retas_container *body, int64_t created_ms,
			   struct demografi *d)
{
	_cleanup_(json_object_putp) json_object *o = NULL;
	const struct retas_part *p = retas_container_get(body, DEMOGRAFI_PART);
	json_object *exc;
	struct retas_date date;

	memset(d, 0, sizeof(*d));
	if (!p || retas_json_parse((const char *)p->data, p->len, &o) < 0 ||
	    !json_object_is_type(o, json_type_object))
		return;
	d->nik = dup_member(o, "nik", 16);
	d->nama = dup_member(o, "nama", 200);
	d->gender = dup_member(o, "jenis_kelamin", 1);
	d->birth = dup_member(o, "tanggal_lahir", 10);
	d->kelas = dup_member(o, "kelas", 32);
	d->npsn = dup_member(o, "npsn", 8);
	if (d->gender && !streq(d->gender, "L") && !streq(d->gender, "P")) {
		free(d->gender);
		d->gender = NULL;
	}
	if (d->birth && retas_date_parse(d->birth, &date) < 0) {
		free(d->birth);
		d->birth = NULL;
	}
	if (retas_json_get_array(o, "pengecualian", &exc) == 0)
		d->exceptions = (int)json_object_array_length(exc);
	/* The NIK carries birth date and gender: fill what the part left out. */
	if (d->nik && (!d->birth || !d->gender)) {
		struct retas_date ref;
		struct retas_nik nik;

		retas_date_from_ms(created_ms, RETAS_WIB_OFFSET_MIN, &ref);
		if (retas_nik_parse(d->nik, &ref, RETAS_GENDER_UNKNOWN, NULL, &nik, NULL) == 0) {
			char buf[11];

			if (!d->birth) {
				retas_date_format(&nik.birth, buf);
				d->birth = strdup(buf);
			}
			if (!d->gender)
				d->gender = strdup(nik.gender == RETAS_GENDER_FEMALE ? "P" : "L");
		}
	}
}

static void check_item(const struct hq_ctx *ctx, const struct hq_van *van,
		       const struct retas_manifest_entry *e, struct item *it)
{
	struct retas_error err = {0};

	memcpy(it->id, e->id, 16);
	it->seq = e->seq;
	retas_record_hash(it->rec, it->len, it->sha);
	if (it->len != e->size) {
		snprintf(it->reason, sizeof(it->reason), "record.size");
		goto failed;
	}
	if (memcmp(it->sha, e->sha256, 32) != 0) {
		snprintf(it->reason, sizeof(it->reason), "record.hash");
		goto failed;
	}
	if (retas_record_open(it->rec, it->len, van->pk, ctx->seal.pk, ctx->seal.sk, &it->h,
			      &it->body, &err) < 0) {
		snprintf(it->reason, sizeof(it->reason), "%s",
			 err.reason[0] ? err.reason : "record.format");
		goto failed;
	}
	if (memcmp(it->h.id, e->id, 16) != 0 || it->h.seq != e->seq) {
		snprintf(it->reason, sizeof(it->reason), "record.manifest");
		goto failed;
	}
	if (!streq(it->h.device_id, van->id)) {
		snprintf(it->reason, sizeof(it->reason), "record.device");
		goto failed;
	}
	return;
failed:
	it->failed = true;
	it->outcome = SYNC_OUTCOME_QUARANTINED;
	retas_container_free(it->body);
	it->body = NULL;
}

static int find_van_for_import(sqlite3 *db, const struct sync_batch *b, struct hq_van *out,
			       struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	struct retas_jws *peek = NULL;
	int r, rc;

	/* The kid, when the van's signer put one in, picks the key at once. */
	if (retas_jws_peek(b->manifest, b->manifest_len, &peek, NULL) == 0) {
		r = peek->kid ? hq_van_by_kid(db, peek->kid, out) : -ENOENT;
		retas_jws_free(peek);
		if (r == 0)
			return 0;
	}
	/* Otherwise the registered vans are few: try each key. */
	r = hq_store_prepare(db, "SELECT id FROM vans ORDER BY id", &st);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct retas_manifest *m = NULL;
		struct hq_van v;

		if (hq_van_by_id(db, hq_store_col_text(st, 0), &v) < 0)
			continue;
		if (retas_manifest_verify(b->manifest, b->manifest_len, v.pk, &m, NULL) == 0) {
			retas_manifest_free(m);
			*out = v;
			return 0;
		}
	}
	return retas_error_set(err, -EPERM, "batch.unknown-van",
			       N_("no registered van's key verifies this batch's manifest"));
}

static int cmp_seq(const void *a, const void *b)
{
	const struct item *x = *(const struct item *const *)a, *y = *(const struct item *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct tx {
	sqlite3 *db;
	const struct hq_van *van;
	const struct retas_manifest *m;
	int64_t now_ms;
	struct sync_receipt_anomaly *anomalies;
	size_t n_anomalies;
};

static int add_anomaly(struct tx *tx, const struct item *it, const char *kind, uint64_t from,
		       uint64_t to)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	char id[RETAS_UUID_STR_LEN];
	int r;

	retas_uuid_format(it->id, id);
	r = hq_store_prepare(tx->db,
			     "INSERT INTO anomalies (van_id, batch_id, st_nomor, record_id, kind, "
			     "seq_from, seq_to, detected_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			     &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, tx->van->id);
	hq_store_bind_text(st, 2, tx->m->batch_id);
	hq_store_bind_text(st, 3, it->h.st_nomor);
	hq_store_bind_text(st, 4, id);
	hq_store_bind_text(st, 5, kind);
	sqlite3_bind_int64(st, 6, (int64_t)from);
	sqlite3_bind_int64(st, 7, (int64_t)to);
	sqlite3_bind_int64(st, 8, tx->now_ms);
	r = hq_store_errno(sqlite3_step(st));
	if (r < 0)
		return r;
	if (tx->n_anomalies < SYNC_RECEIPT_MAX_ANOMALIES) {
		struct sync_receipt_anomaly *na =
		    realloc(tx->anomalies, (tx->n_anomalies + 1) * sizeof(*na));

		if (!na)
			return -ENOMEM;
		tx->anomalies = na;
		memset(&na[tx->n_anomalies], 0, sizeof(*na));
		snprintf(na[tx->n_anomalies].kind, sizeof(na->kind), "%s", kind);
		na[tx->n_anomalies].seq_from = from;
		na[tx->n_anomalies].seq_to = to;
		memcpy(na[tx->n_anomalies].record, it->id, 16);
		tx->n_anomalies++;
	}
	log_notice("ingest: van %s: %s at sequence %llu..%llu (batch %s)", tx->van->id, kind,
		   (unsigned long long)from, (unsigned long long)to, tx->m->batch_id);
	return 0;
}

/*
 * The van's sequence and hash chain around a new record: another record at
 * the same sequence number is a fork; a predecessor whose hash is not the
 * record's prev_hash breaks the chain; a missing predecessor is a gap,
 * reported as the whole run of missing numbers below the record.
 */
static int check_chain(struct tx *tx, const struct item *it)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *same = NULL, *prev = NULL, *below = NULL;
	static const uint8_t zeros[32];
	char id[RETAS_UUID_STR_LEN];
	int r, rc;

	retas_uuid_format(it->id, id);
	r = hq_store_prepare(
	    tx->db, "SELECT 1 FROM records WHERE van_id = ? AND seq = ? AND id != ? LIMIT 1",
	    &same);
	if (r < 0)
		return r;
	hq_store_bind_text(same, 1, tx->van->id);
	sqlite3_bind_int64(same, 2, (int64_t)it->seq);
	hq_store_bind_text(same, 3, id);
	rc = sqlite3_step(same);
	if (rc == SQLITE_ROW) {
		r = add_anomaly(tx, it, "fork", it->seq, it->seq);
		if (r < 0)
			return r;
	} else if (rc != SQLITE_DONE) {
		return hq_store_errno(rc) ?: -EIO;
	}
	if (it->seq == 1) {
		if (memcmp(it->h.prev_hash, zeros, 32) != 0)
			return add_anomaly(tx, it, "chain", 1, 1);
		return 0;
	}
	r = hq_store_prepare(tx->db, "SELECT sha256 FROM records WHERE van_id = ? AND seq = ?",
			     &prev);
	if (r < 0)
		return r;
	hq_store_bind_text(prev, 1, tx->van->id);
	sqlite3_bind_int64(prev, 2, (int64_t)(it->seq - 1));
	rc = sqlite3_step(prev);
	if (rc == SQLITE_ROW) {
		bool linked = false;

		/* With a fork below there are several candidates: any one
		 * that links is enough. */
		do {
			if (sqlite3_column_bytes(prev, 0) == 32 &&
			    memcmp(sqlite3_column_blob(prev, 0), it->h.prev_hash, 32) == 0)
				linked = true;
		} while (!linked && (rc = sqlite3_step(prev)) == SQLITE_ROW);
		if (!linked)
			return add_anomaly(tx, it, "chain", it->seq, it->seq);
		return 0;
	}
	if (rc != SQLITE_DONE)
		return hq_store_errno(rc) ?: -EIO;
	r = hq_store_prepare(
	    tx->db, "SELECT coalesce(max(seq), 0) FROM records WHERE van_id = ? AND seq < ?",
	    &below);
	if (r < 0)
		return r;
	hq_store_bind_text(below, 1, tx->van->id);
	sqlite3_bind_int64(below, 2, (int64_t)it->seq);
	if (sqlite3_step(below) != SQLITE_ROW)
		return -EIO;
	return add_anomaly(tx, it, "gap", (uint64_t)sqlite3_column_int64(below, 0) + 1,
			   it->seq - 1);
}

static int quarantine(struct tx *tx, const struct item *it, const char *batch_id)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	char id[RETAS_UUID_STR_LEN];
	int r;

	retas_uuid_format(it->id, id);
	r = hq_store_prepare(tx->db,
			     "INSERT OR IGNORE INTO quarantine (record_id, batch_id, van_id, "
			     "st_nomor, sha256, reason, received_ms, sealed) VALUES "
			     "(?, ?, ?, ?, ?, ?, ?, ?)",
			     &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, id);
	hq_store_bind_text(st, 2, batch_id);
	hq_store_bind_text(st, 3, tx->van->id);
	hq_store_bind_text(st, 4, tx->m->st_nomor);
	sqlite3_bind_blob(st, 5, it->sha, 32, SQLITE_STATIC);
	hq_store_bind_text(st, 6, it->reason);
	sqlite3_bind_int64(st, 7, tx->now_ms);
	sqlite3_bind_blob64(st, 8, it->rec, it->len, SQLITE_STATIC);
	return hq_store_errno(sqlite3_step(st));
}

static int insert_record(struct tx *tx, const struct item *it)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL, *pt = NULL;
	struct demografi d;
	char id[RETAS_UUID_STR_LEN];
	int r;

	retas_uuid_format(it->id, id);
	read_demografi(it->body, it->h.created_ms, &d);
	r = hq_store_prepare(
	    tx->db,
	    "INSERT INTO records (id, sha256, van_id, st_nomor, seq, prev_hash, officer_nip, "
	    "created_ms, batch_id, received_ms, sealed, nik, nama, gender, birth, kelas, npsn, "
	    "exceptions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    &st);
	if (r < 0)
		goto out;
	hq_store_bind_text(st, 1, id);
	sqlite3_bind_blob(st, 2, it->sha, 32, SQLITE_STATIC);
	hq_store_bind_text(st, 3, tx->van->id);
	hq_store_bind_text(st, 4, it->h.st_nomor);
	sqlite3_bind_int64(st, 5, (int64_t)it->seq);
	sqlite3_bind_blob(st, 6, it->h.prev_hash, 32, SQLITE_STATIC);
	hq_store_bind_text(st, 7, it->h.officer_nip);
	sqlite3_bind_int64(st, 8, it->h.created_ms);
	hq_store_bind_text(st, 9, tx->m->batch_id);
	sqlite3_bind_int64(st, 10, tx->now_ms);
	sqlite3_bind_blob64(st, 11, it->rec, it->len, SQLITE_STATIC);
	hq_store_bind_text(st, 12, d.nik);
	hq_store_bind_text(st, 13, d.nama);
	hq_store_bind_text(st, 14, d.gender);
	hq_store_bind_text(st, 15, d.birth);
	hq_store_bind_text(st, 16, d.kelas);
	hq_store_bind_text(st, 17, d.npsn);
	sqlite3_bind_int(st, 18, d.exceptions);
	r = hq_store_errno(sqlite3_step(st));
	if (r < 0)
		goto out;
	r = hq_store_prepare(
	    tx->db, "INSERT INTO parts (record_id, name, type, data) VALUES (?, ?, ?, ?)", &pt);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < it->body->n_parts; i++) {
		const struct retas_part *p = &it->body->parts[i];

		sqlite3_reset(pt);
		hq_store_bind_text(pt, 1, id);
		hq_store_bind_text(pt, 2, p->name);
		hq_store_bind_text(pt, 3, p->type);
		sqlite3_bind_blob64(pt, 4, p->data ? (const void *)p->data : (const void *)"",
				    p->len, SQLITE_STATIC);
		r = hq_store_errno(sqlite3_step(pt));
		if (r < 0)
			goto out;
	}
out:
	demografi_clear(&d);
	return r;
}

/* The ledger: what the store already holds under this id decides. */
static int settle(struct tx *tx, struct item *it, const char *batch_id)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	char id[RETAS_UUID_STR_LEN];
	int r, rc;

	if (it->failed)
		return quarantine(tx, it, batch_id);
	retas_uuid_format(it->id, id);
	r = hq_store_prepare(tx->db, "SELECT sha256 FROM records WHERE id = ?", &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) == 32 &&
		    memcmp(sqlite3_column_blob(st, 0), it->sha, 32) == 0) {
			it->outcome = SYNC_OUTCOME_ALREADY_RECEIVED;
			return 0;
		}
		it->outcome = SYNC_OUTCOME_QUARANTINED;
		snprintf(it->reason, sizeof(it->reason), "record.conflict");
		return quarantine(tx, it, batch_id);
	}
	if (rc != SQLITE_DONE)
		return hq_store_errno(rc) ?: -EIO;
	r = check_chain(tx, it);
	if (r < 0)
		return r;
	it->outcome = SYNC_OUTCOME_STORED;
	return insert_record(tx, it);
}

static int insert_batch(struct tx *tx, const struct sync_batch *b, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL, *own = NULL, *au = NULL;
	_cleanup_(freep) char *report = NULL;
	int r, rc;

	r = hq_store_prepare(tx->db, "SELECT van_id FROM batches WHERE id = ?", &own);
	if (r < 0)
		return r;
	hq_store_bind_text(own, 1, tx->m->batch_id);
	rc = sqlite3_step(own);
	if (rc == SQLITE_ROW && !streq(hq_store_col_text(own, 0), tx->van->id))
		return retas_error_set(err, -EBADMSG, "batch.id-taken",
				       N_("another van already sent a batch with this id"));
	if (tx->m->report) {
		r = retas_json_to_string(tx->m->report, &report);
		if (r < 0)
			return r;
	}
	/* A batch sent again keeps its first manifest; a draft report it now
	 * carries (the session closed meanwhile) replaces the old one. */
	r = hq_store_prepare(tx->db,
			     "INSERT INTO batches (id, van_id, st_nomor, created_ms, received_ms, "
			     "manifest, report) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
			     "ON CONFLICT(id) DO UPDATE SET report = coalesce(?7, report)",
			     &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, tx->m->batch_id);
	hq_store_bind_text(st, 2, tx->van->id);
	hq_store_bind_text(st, 3, tx->m->st_nomor);
	sqlite3_bind_int64(st, 4, tx->m->created_ms);
	sqlite3_bind_int64(st, 5, tx->now_ms);
	sqlite3_bind_text(st, 6, b->manifest, (int)b->manifest_len, SQLITE_STATIC);
	hq_store_bind_text(st, 7, report);
	r = hq_store_errno(sqlite3_step(st));
	if (r < 0)
		return r;
	r = hq_store_prepare(
	    tx->db, "INSERT OR IGNORE INTO audit (batch_id, idx, row) VALUES (?, ?, ?)", &au);
	if (r < 0)
		return r;
	for (size_t i = 0; tx->m->audit && i < json_object_array_length(tx->m->audit); i++) {
		const char *row = json_object_to_json_string_ext(
		    json_object_array_get_idx(tx->m->audit, i), JSON_C_TO_STRING_PLAIN);

		sqlite3_reset(au);
		hq_store_bind_text(au, 1, tx->m->batch_id);
		sqlite3_bind_int64(au, 2, (int64_t)i);
		hq_store_bind_text(au, 3, row ? row : "null");
		r = hq_store_errno(sqlite3_step(au));
		if (r < 0)
			return r;
	}
	return 0;
}

/* The tus upload that carried the batch is marked ingested in the same
 * transaction, so a crash can never leave a stored batch behind an upload
 * that still looks unfinished (which the next start would ingest again). */
static int mark_upload(struct tx *tx, const char *upload_id)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	int r;

	r = hq_store_prepare(tx->db,
			     "UPDATE uploads SET state = 'ingested', batch_id = ?, reason = NULL, "
			     "completed_ms = ? WHERE id = ?",
			     &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, tx->m->batch_id);
	sqlite3_bind_int64(st, 2, tx->now_ms);
	hq_store_bind_text(st, 3, upload_id);
	r = hq_store_errno(sqlite3_step(st));
	if (r == 0 && sqlite3_changes(tx->db) != 1)
		r = -ENOENT;
	return r;
}

static int store_receipt(struct tx *tx, const char *source, const char *jws)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	int r;

	r = hq_store_prepare(tx->db,
			     "INSERT INTO receipts (batch_id, received_ms, source, jws) VALUES "
			     "(?, ?, ?, ?)",
			     &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, tx->m->batch_id);
	sqlite3_bind_int64(st, 2, tx->now_ms);
	hq_store_bind_text(st, 3, source);
	hq_store_bind_text(st, 4, jws);
	return hq_store_errno(sqlite3_step(st));
}

int hq_ingest_batch(const struct hq_ctx *ctx, sqlite3 *db, const uint8_t *buf, size_t len,
		    const struct hq_van *van, const char *source, int64_t now_ms,
		    struct hq_ingest_result *res, struct retas_error *err)
{
	return hq_ingest_upload(ctx, db, buf, len, van, source, NULL, now_ms, res, err);
}

int hq_ingest_upload(const struct hq_ctx *ctx, sqlite3 *db, const uint8_t *buf, size_t len,
		     const struct hq_van *van, const char *source, const char *upload_id,
		     int64_t now_ms, struct hq_ingest_result *res, struct retas_error *err)
{
	_cleanup_(sync_batch_freep) struct sync_batch *b = NULL;
	_cleanup_(retas_manifest_freep) struct retas_manifest *m = NULL;
	struct sync_receipt receipt = {0};
	struct item *items = NULL, **order = NULL;
	struct hq_van found;
	struct tx tx = {.db = db, .now_ms = now_ms};
	char *jws = NULL;
	size_t n = 0;
	int r;

	r = sync_batch_parse(buf, len, &b, err);
	if (r < 0)
		return r;
	if (!van) {
		r = find_van_for_import(db, b, &found, err);
		if (r < 0)
			return r;
		van = &found;
	}
	r = retas_manifest_verify(b->manifest, b->manifest_len, van->pk, &m, err);
	if (r < 0) {
		retas_error_prefix(err, "%s", _("manifest"));
		return r == -ENOMEM ? r : -EBADMSG;
	}
	if (!streq(m->device_id, van->id))
		return retas_error_set(err, -EBADMSG, "batch.device",
				       N_("the manifest names van %s, not %s"), m->device_id,
				       van->id);
	if (m->n_records != b->n_records)
		return retas_error_set(err, -EBADMSG, "batch.count",
				       N_("the manifest lists %zu records; the batch holds %zu"),
				       m->n_records, b->n_records);
	n = b->n_records;
	if (n) {
		items = calloc(n, sizeof(*items));
		order = calloc(n, sizeof(*order));
		if (!items || !order) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		items[i].rec = b->records[i].data;
		items[i].len = b->records[i].len;
		check_item(ctx, van, &m->records[i], &items[i]);
		order[i] = &items[i];
	}
	/* Settle in sequence order so that a batch's own records link up. */
	qsort(order, n, sizeof(*order), cmp_seq);

	tx.van = van;
	tx.m = m;
	r = hq_store_begin(db);
	if (r < 0)
		goto store_failed;
	r = insert_batch(&tx, b, err);
	if (r == -EBADMSG)
		goto out;
	if (r < 0)
		goto store_failed;
	for (size_t i = 0; i < n; i++) {
		r = settle(&tx, order[i], m->batch_id);
		if (r < 0)
			goto store_failed;
	}

	memcpy(receipt.batch_id, m->batch_id, sizeof(receipt.batch_id));
	snprintf(receipt.device_id, sizeof(receipt.device_id), "%s", van->id);
	snprintf(receipt.st_nomor, sizeof(receipt.st_nomor), "%s", m->st_nomor);
	receipt.received_ms = now_ms;
	receipt.n_records = n;
	if (n) {
		receipt.records = calloc(n, sizeof(*receipt.records));
		if (!receipt.records) {
			r = -ENOMEM;
			goto out;
		}
	}
	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < n; i++) {
		struct sync_receipt_record *e = &receipt.records[i];

		memcpy(e->id, items[i].id, 16);
		e->seq = items[i].seq;
		memcpy(e->sha256, items[i].sha, 32);
		e->outcome = items[i].outcome;
		if (e->outcome == SYNC_OUTCOME_QUARANTINED)
			snprintf(e->reason, sizeof(e->reason), "%s", items[i].reason);
		res->stored += e->outcome == SYNC_OUTCOME_STORED;
		res->already += e->outcome == SYNC_OUTCOME_ALREADY_RECEIVED;
		res->quarantined += e->outcome == SYNC_OUTCOME_QUARANTINED;
	}
	receipt.anomalies = tx.anomalies;
	receipt.n_anomalies = tx.n_anomalies;
	r = sync_receipt_sign(&receipt, ctx->sign.pk, ctx->sign.sk, &jws, err);
	if (r < 0)
		goto out;
	r = store_receipt(&tx, source, jws);
	if (r < 0)
		goto store_failed;
	if (upload_id) {
		r = mark_upload(&tx, upload_id);
		if (r < 0)
			goto store_failed;
	}
	r = hq_store_commit(db);
	if (r < 0)
		goto store_failed;
	memcpy(res->batch_id, m->batch_id, sizeof(res->batch_id));
	snprintf(res->van_id, sizeof(res->van_id), "%s", van->id);
	res->anomalies = tx.n_anomalies;
	res->receipt = steal_ptr(jws);
	r = 0;
	goto out;
store_failed:
	retas_error_set(err, r, "store.write", N_("cannot store the batch: %s"),
			sqlite3_errmsg(db));
out:
	if (r < 0)
		hq_store_rollback(db);
	for (size_t i = 0; i < n; i++)
		retas_container_free(items[i].body);
	free(items);
	free(order);
	free(receipt.records);
	free(tx.anomalies);
	free(jws);
	return r;
}

int hq_ingest_receipt(sqlite3 *db, const char *batch_id, const char *van_id, char **out)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	char *s;
	int r, rc;

	r = hq_store_prepare(db,
			     "SELECT r.jws FROM receipts r JOIN batches b ON b.id = r.batch_id "
			     "WHERE r.batch_id = ?1 AND (?2 IS NULL OR b.van_id = ?2) "
			     "ORDER BY r.seq DESC LIMIT 1",
			     &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, batch_id);
	hq_store_bind_text(st, 2, van_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return hq_store_errno(rc) ?: -EIO;
	s = strdup(hq_store_col_text(st, 0));
	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}
