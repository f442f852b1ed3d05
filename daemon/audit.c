/*
 * Hash-chained audit rows. The hash input is a length-prefixed encoding of
 * every column, so no two different rows hash alike by shifting bytes from
 * one field into the next; the row id is part of it, so rows cannot be
 * reordered either.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "audit.h"
#include "retas-log.h"

#define AUDIT_DOMAIN "retas-audit-v1"

static void put_u64(crypto_hash_sha256_state *h, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	crypto_hash_sha256_update(h, b, sizeof(b));
}

static void put_str(crypto_hash_sha256_state *h, const char *s, size_t len)
{
	put_u64(h, len);
	crypto_hash_sha256_update(h, (const uint8_t *)s, len);
}

static void row_hash(const uint8_t prev[RD_AUDIT_HASH_LEN], int64_t id,
		     const struct rd_audit_entry *e, size_t detail_len,
		     uint8_t out[RD_AUDIT_HASH_LEN])
{
	crypto_hash_sha256_state h;

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const uint8_t *)AUDIT_DOMAIN, sizeof(AUDIT_DOMAIN));
	crypto_hash_sha256_update(&h, prev, RD_AUDIT_HASH_LEN);
	put_u64(&h, (uint64_t)id);
	put_u64(&h, (uint64_t)e->at_ms);
	put_str(&h, e->event, strlen(e->event));
	put_str(&h, e->outcome, strlen(e->outcome));
	put_str(&h, e->reason, strlen(e->reason));
	put_u64(&h, (uint64_t)e->uid);
	put_u64(&h, (uint64_t)e->pid);
	put_str(&h, e->detail, detail_len);
	crypto_hash_sha256_final(&h, out);
}

/* The last row's id and hash; id 0 and zeros when the table is empty. */
static int last_row(sqlite3 *db, int64_t *id, uint8_t hash[RD_AUDIT_HASH_LEN])
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", -1, &st,
				NULL);
	if (rc != SQLITE_OK)
		return rd_store_errno(rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		*id = 0;
		memset(hash, 0, RD_AUDIT_HASH_LEN);
	} else if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == RD_AUDIT_HASH_LEN) {
		*id = sqlite3_column_int64(st, 0);
		memcpy(hash, sqlite3_column_blob(st, 1), RD_AUDIT_HASH_LEN);
	} else {
		r = rc == SQLITE_ROW ? -EBADMSG : rd_store_errno(rc);
	}
	sqlite3_finalize(st);
	return r;
}

int rd_audit_append(struct rd_store *s, const struct rd_audit_entry *e, int64_t *id)
{
	sqlite3 *db = rd_store_db(s);
	uint8_t prev[RD_AUDIT_HASH_LEN], hash[RD_AUDIT_HASH_LEN];
	size_t detail_len = strlen(e->detail);
	sqlite3_stmt *st = NULL;
	int64_t last = 0;
	int rc, r;

	r = rd_store_txn_begin(s);
	if (r < 0)
		return r;
	r = last_row(db, &last, prev);
	if (r < 0)
		goto out;
	row_hash(prev, last + 1, e, detail_len, hash);
	rc = sqlite3_prepare_v2(
	    db,
	    "INSERT INTO audit (id, at, event, outcome, reason, uid, pid, detail, "
	    "prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = rd_store_errno(rc);
		goto out;
	}
	sqlite3_bind_int64(st, 1, last + 1);
	sqlite3_bind_int64(st, 2, e->at_ms);
	sqlite3_bind_text(st, 3, e->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, e->uid);
	sqlite3_bind_int64(st, 7, e->pid);
	sqlite3_bind_text(st, 8, e->detail, (int)detail_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 9, prev, sizeof(prev), SQLITE_STATIC);
	sqlite3_bind_blob(st, 10, hash, sizeof(hash), SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		r = rd_store_errno(rc);
		log_debug("audit: insert: %s", sqlite3_errmsg(db));
		goto out;
	}
	r = rd_store_txn_commit(s);
	if (r == 0 && id)
		*id = last + 1;
	sqlite3_finalize(st);
	return r;
out:
	sqlite3_finalize(st);
	rd_store_txn_rollback(s);
	return r;
}

static const char *col_text(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);

	return t ? t : "";
}

int rd_audit_verify(struct rd_store *s, struct rd_audit_check *out)
{
	sqlite3 *db = rd_store_db(s);
	struct rd_audit_check c = {0};
	uint8_t hash[RD_AUDIT_HASH_LEN];
	sqlite3_stmt *st = NULL;
	int64_t expect_id = 1;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(
	    db,
	    "SELECT id, at, event, outcome, reason, uid, pid, detail, prev, hash "
	    "FROM audit ORDER BY id",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rd_store_errno(rc);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		struct rd_audit_entry e = {
		    .at_ms = sqlite3_column_int64(st, 1),
		    .event = col_text(st, 2),
		    .outcome = col_text(st, 3),
		    .reason = col_text(st, 4),
		    .uid = sqlite3_column_int64(st, 5),
		    .pid = sqlite3_column_int64(st, 6),
		    .detail = col_text(st, 7),
		};
		size_t detail_len = (size_t)sqlite3_column_bytes(st, 7);
		const void *prev = sqlite3_column_blob(st, 8);
		int prev_len = sqlite3_column_bytes(st, 8);
		const void *stored = sqlite3_column_blob(st, 9);
		int stored_len = sqlite3_column_bytes(st, 9);

		c.rows++;
		if (c.first_bad)
			continue;
		if (id != expect_id) {
			c.first_bad = id;
			c.problem = "sequence";
		} else if (prev_len != RD_AUDIT_HASH_LEN ||
			   memcmp(prev, c.head, RD_AUDIT_HASH_LEN) != 0) {
			c.first_bad = id;
			c.problem = "link";
		} else {
			row_hash(c.head, id, &e, detail_len, hash);
			if (stored_len != RD_AUDIT_HASH_LEN ||
			    memcmp(stored, hash, RD_AUDIT_HASH_LEN) != 0) {
				c.first_bad = id;
				c.problem = "hash";
			} else {
				memcpy(c.head, hash, RD_AUDIT_HASH_LEN);
			}
		}
		expect_id = id + 1;
	}
	if (rc != SQLITE_DONE)
		r = rd_store_errno(rc);
	sqlite3_finalize(st);
	if (r == 0)
		*out = c;
	return r;
}
