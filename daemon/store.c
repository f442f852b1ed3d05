/*
 * SQLite plumbing for retasd: opening with the pragmas the design asks for,
 * numbered migrations, nestable transactions, and the typed accessors of
 * the state tables. Migrations are append-only: a released step is never
 * edited, a change is a new step.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retas-log.h"
#include "retas-util.h"
#include "store.h"

struct rd_store {
	sqlite3 *db;
	int depth; /* open savepoints */
};

/* Step N brings the schema from version N to N + 1. */
static const char *const migrations[] = {
    /* 1: the state of the van up to an open session, and the audit log */
    "CREATE TABLE assignment ("
    "  id INTEGER PRIMARY KEY,"
    "  nomor TEXT NOT NULL,"
    "  token TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),"
    "  valid_from INTEGER NOT NULL,"
    "  valid_until INTEGER NOT NULL CHECK (valid_until > valid_from),"
    "  loaded_at INTEGER NOT NULL,"
    "  current INTEGER NOT NULL DEFAULT 0 CHECK (current IN (0, 1)));"
    "CREATE UNIQUE INDEX assignment_one_current ON assignment (current) WHERE current = 1;"
    "CREATE TABLE officer ("
    "  nip TEXT PRIMARY KEY CHECK (length(nip) = 18),"
    "  failed INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),"
    "  locked_until INTEGER NOT NULL DEFAULT 0,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE login ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  assignment_id INTEGER NOT NULL REFERENCES assignment (id),"
    "  nip TEXT NOT NULL CHECK (length(nip) = 18),"
    "  uid INTEGER NOT NULL,"
    "  since INTEGER NOT NULL,"
    "  last_active INTEGER NOT NULL);"
    "CREATE TABLE session ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE CHECK (length(uuid) = 36),"
    "  assignment_id INTEGER NOT NULL REFERENCES assignment (id),"
    "  opened_by TEXT NOT NULL CHECK (length(opened_by) = 18),"
    "  opened_at INTEGER NOT NULL,"
    "  closed_by TEXT CHECK (closed_by IS NULL OR length(closed_by) = 18),"
    "  closed_at INTEGER);"
    "CREATE UNIQUE INDEX session_one_open ON session ((closed_at IS NULL))"
    "  WHERE closed_at IS NULL;"
    "CREATE TABLE student ("
    "  id INTEGER PRIMARY KEY,"
    "  assignment_id INTEGER NOT NULL REFERENCES assignment (id),"
    "  nik_hash BLOB NOT NULL CHECK (length(nik_hash) = 32),"
    "  sealed_index BLOB NOT NULL,"
    "  UNIQUE (assignment_id, nik_hash));"
    "CREATE TABLE record ("
    "  id TEXT PRIMARY KEY CHECK (length(id) = 36),"
    "  session_id INTEGER NOT NULL REFERENCES session (id),"
    "  seq INTEGER NOT NULL UNIQUE CHECK (seq > 0),"
    "  prev_hash BLOB CHECK (prev_hash IS NULL OR length(prev_hash) = 32),"
    "  hash BLOB NOT NULL CHECK (length(hash) = 32),"
    "  sealed BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  acked_at INTEGER);"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  event TEXT NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  uid INTEGER NOT NULL,"
    "  pid INTEGER NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  prev BLOB NOT NULL CHECK (length(prev) = 32),"
    "  hash BLOB NOT NULL CHECK (length(hash) = 32));"
    /* Append-only against mistakes in code; the hash chain is what catches
     * someone who drops these triggers. */
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    /* 2: the student list and the enrolments. What identifies a student
     * stays in student.sealed_index (encrypted under the local key); the
     * cleartext columns say only where a row stands. record.summary holds
     * what the report needs and no personal data: finger exceptions and
     * quality by position, record-only, the redo reason. A redo points the
     * earlier record at the new one; no record is ever deleted. */
    "ALTER TABLE student ADD COLUMN on_list INTEGER NOT NULL DEFAULT 1"
    "  CHECK (on_list IN (0, 1));"
    "ALTER TABLE student ADD COLUMN absent INTEGER NOT NULL DEFAULT 0"
    "  CHECK (absent IN (0, 1));"
    "ALTER TABLE student ADD COLUMN added_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE record ADD COLUMN student_id INTEGER REFERENCES student (id);"
    "ALTER TABLE record ADD COLUMN superseded_by TEXT;"
    "ALTER TABLE record ADD COLUMN summary TEXT NOT NULL DEFAULT '{}';"
    "ALTER TABLE record ADD COLUMN token TEXT NOT NULL DEFAULT '';"
    "CREATE UNIQUE INDEX record_one_current ON record (student_id)"
    "  WHERE superseded_by IS NULL AND student_id IS NOT NULL;",
    /* 3: sync:
     * the batches staged for head office, which records each carries, the
     * tus upload's URL and confirmed offset (so a restart resumes the same
     * upload), the verified receipt, and the last contact with head
     * office. record.quarantine holds head office's reason for a record it
     * kept aside; record.purged_at when its ciphertext was dropped after
     * the retention. */
    "CREATE TABLE sync_batch ("
    "  id INTEGER PRIMARY KEY,"
    "  batch_id TEXT NOT NULL UNIQUE CHECK (length(batch_id) = 36),"
    "  device_id TEXT NOT NULL,"
    "  size INTEGER NOT NULL CHECK (size > 0),"
    "  n_records INTEGER NOT NULL CHECK (n_records >= 0),"
    "  audit_to INTEGER NOT NULL DEFAULT 0,"
    "  has_report INTEGER NOT NULL DEFAULT 0 CHECK (has_report IN (0, 1)),"
    "  created_at INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state IN ('pending', 'acknowledged', 'rejected')),"
    "  upload_url TEXT,"
    "  upload_offset INTEGER NOT NULL DEFAULT 0 CHECK (upload_offset >= 0),"
    "  reason TEXT,"
    "  receipt TEXT,"
    "  settled_at INTEGER);"
    "CREATE UNIQUE INDEX sync_batch_one_pending ON sync_batch (state) WHERE state = 'pending';"
    "CREATE TABLE sync_batch_record ("
    "  batch INTEGER NOT NULL REFERENCES sync_batch (id),"
    "  record_id TEXT NOT NULL REFERENCES record (id),"
    "  position INTEGER NOT NULL,"
    "  PRIMARY KEY (batch, record_id));"
    "CREATE INDEX sync_batch_record_by_record ON sync_batch_record (record_id);"
    "ALTER TABLE record ADD COLUMN quarantine TEXT;"
    "ALTER TABLE record ADD COLUMN purged_at INTEGER;"
    "CREATE TABLE sync_contact ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  at INTEGER NOT NULL,"
    "  outcome TEXT NOT NULL);",
    /* 4: every record by its student, superseded ones too: the roster
     * counts a student's records, which without it scanned the whole
     * record table (and each record's sealed bytes) once per student,
     * minutes for a 10 000-student day. */
    "CREATE INDEX record_by_student ON record (student_id);",
};

int rd_store_latest_version(void)
{
	return (int)ARRAY_SIZE(migrations);
}

int rd_store_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_NOTFOUND:
		return -ENOENT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	default:
		return -EIO;
	}
}

static int exec(struct rd_store *s, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		log_debug("store: %s: %s", sql, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return rd_store_errno(rc);
	}
	return 0;
}

static int pragma_int(struct rd_store *s, const char *sql, int *out)
{
	sqlite3_stmt *st = NULL;
	int r = -EIO;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	*out = sqlite3_column_int(st, 0);
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

int rd_store_version(struct rd_store *s)
{
	int v = -1;

	if (pragma_int(s, "PRAGMA user_version", &v) < 0)
		return -EIO;
	return v;
}

int rd_store_set_busy_timeout(struct rd_store *s, int64_t ms)
{
	return rd_store_errno(sqlite3_busy_timeout(s->db, (int)ms));
}

static int migrate(struct rd_store *s, struct retas_error *err)
{
	int version, latest = rd_store_latest_version(), r;
	char sql[64];

	r = exec(s, "BEGIN IMMEDIATE");
	if (r < 0)
		return retas_error_set(err, r, "store.lock", "store is locked by another process");
	version = rd_store_version(s);
	if (version < 0) {
		r = retas_error_set(err, -EIO, "store.version", "cannot read the schema version");
		goto out;
	}
	if (version > latest) {
		r = retas_error_set(err, -EPROTO, "store.version",
				    "store has schema version %d, newer than this retasd (%d)",
				    version, latest);
		goto out;
	}
	for (int v = version; v < latest; v++) {
		r = exec(s, migrations[v]);
		if (r < 0) {
			retas_error_set(err, r, "store.migration", "migration %d failed: %s", v + 1,
					sqlite3_errmsg(s->db));
			goto out;
		}
		log_info("store: migrated to schema version %d", v + 1);
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", latest);
	r = exec(s, sql);
	if (r < 0) {
		retas_error_set(err, r, "store.migration", "cannot record the schema version");
		goto out;
	}
	r = exec(s, "COMMIT");
	if (r < 0)
		retas_error_set(err, r, "store.commit", "cannot commit the migration");
out:
	if (r < 0)
		exec(s, "ROLLBACK");
	return r;
}

int rd_store_open(const char *path, int64_t busy_timeout_ms, struct rd_store **out,
		  struct retas_error *err)
{
	struct rd_store *s = calloc(1, sizeof(*s));
	char *journal = NULL;
	int rc, r, fk = 0;

	if (!s)
		return retas_error_set(err, -ENOMEM, "store.memory", "out of memory");
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
				 SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		r = retas_error_set(err, rd_store_errno(rc), "store.open", "%s: %s", path,
				    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(s->db, (int)busy_timeout_ms);
	/* journal_mode answers with a row; checking it catches a file system
	 * that cannot do WAL instead of silently running in another mode. */
	{
		sqlite3_stmt *st = NULL;

		rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
		if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			journal = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (!journal || strcmp(journal, "wal") != 0) {
		r = retas_error_set(err, -EIO, "store.wal", "%s: cannot switch to WAL mode: %s",
				    path, sqlite3_errmsg(s->db));
		goto out;
	}
	r = exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
	if (r < 0 || pragma_int(s, "PRAGMA foreign_keys", &fk) < 0 || fk != 1) {
		r = retas_error_set(err, r < 0 ? r : -EIO, "store.pragma",
				    "%s: cannot set synchronous and foreign_keys", path);
		goto out;
	}
	r = migrate(s, err);
	if (r < 0)
		goto out;
	*out = s;
	s = NULL;
out:
	free(journal);
	rd_store_free(s);
	return r;
}

void rd_store_free(struct rd_store *s)
{
	if (!s)
		return;
	/* Closing the last connection checkpoints the WAL into the database. */
	sqlite3_close_v2(s->db);
	free(s);
}

sqlite3 *rd_store_db(struct rd_store *s)
{
	return s->db;
}

int rd_store_txn_begin(struct rd_store *s)
{
	/* The outermost level takes the write lock at once so a busy store
	 * fails here, before any work, rather than at the first write. */
	int r = exec(s, s->depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT rd");

	if (r == 0)
		s->depth++;
	return r;
}

int rd_store_txn_commit(struct rd_store *s)
{
	int r;

	if (s->depth <= 0)
		return -EINVAL;
	r = exec(s, s->depth == 1 ? "COMMIT" : "RELEASE rd");
	if (r < 0) {
		rd_store_txn_rollback(s);
		return r;
	}
	s->depth--;
	return 0;
}

void rd_store_txn_rollback(struct rd_store *s)
{
	if (s->depth <= 0)
		return;
	if (s->depth == 1)
		exec(s, "ROLLBACK");
	else
		exec(s, "ROLLBACK TO rd; RELEASE rd");
	s->depth--;
}

int rd_store_integrity_check(struct rd_store *s, char **out)
{
	sqlite3_stmt *st = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rd_store_errno(rc);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(st, 0);
		size_t add = line ? strlen(line) : 0;
		char *grown = realloc(text, len + add + 2);

		if (!grown) {
			r = -ENOMEM;
			goto out;
		}
		text = grown;
		if (len)
			text[len++] = '\n';
		memcpy(text + len, line ? line : "", add);
		len += add;
		text[len] = '\0';
	}
	if (rc != SQLITE_DONE) {
		r = rd_store_errno(rc);
		goto out;
	}
	*out = text ? text : strdup("");
	text = NULL;
	if (!*out)
		r = -ENOMEM;
out:
	free(text);
	sqlite3_finalize(st);
	return r;
}

/* Prepares sql, binds the arguments described by types ('i' int64, 't'
 * text, 'b' a blob given as pointer and int length, 'n' NULL), and returns
 * the statement ready to step. */
static int prepare(struct rd_store *s, const char *sql, sqlite3_stmt **out, const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		log_debug("store: prepare %s: %s", sql, sqlite3_errmsg(s->db));
		return rd_store_errno(rc);
	}
	va_start(ap, types);
	for (int i = 0; types[i] && r == 0; i++) {
		if (types[i] == 'i')
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		else if (types[i] == 't')
			rc = sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1,
					       SQLITE_TRANSIENT);
		else if (types[i] == 'b') {
			const void *blob = va_arg(ap, const void *);
			int len = va_arg(ap, int);

			rc = sqlite3_bind_blob(st, i + 1, blob, len, SQLITE_TRANSIENT);
		} else
			rc = sqlite3_bind_null(st, i + 1);
		r = rd_store_errno(rc);
	}
	va_end(ap);
	if (r < 0) {
		sqlite3_finalize(st);
		return r;
	}
	*out = st;
	return 0;
}

/* Runs a statement that returns no rows. */
static int run(struct rd_store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : rd_store_errno(rc);

	if (r < 0)
		log_debug("store: %s: %s", sqlite3_sql(st), sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return r;
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);

	snprintf(dst, size, "%s", t ? t : "");
}

void rd_store_assignment_clear(struct rd_store_assignment *a)
{
	free(a->token);
	memset(a, 0, sizeof(*a));
}

int rd_store_assignment_current(struct rd_store *s, struct rd_store_assignment *out)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	r = prepare(s, "SELECT id, token, sha256, loaded_at FROM assignment WHERE current = 1", &st,
		    "");
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else if (rc != SQLITE_ROW) {
		r = rd_store_errno(rc);
	} else {
		char *token = strdup((const char *)sqlite3_column_text(st, 1));

		if (!token) {
			r = -ENOMEM;
		} else {
			out->id = sqlite3_column_int64(st, 0);
			out->token = token;
			copy_text(out->sha256, sizeof(out->sha256), st, 2);
			out->loaded_at_ms = sqlite3_column_int64(st, 3);
		}
	}
	sqlite3_finalize(st);
	return r;
}

int rd_store_assignment_retire(struct rd_store *s)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "UPDATE assignment SET current = 0 WHERE current = 1", &st, "");

	return r < 0 ? r : run(s, st);
}

int rd_store_assignment_insert(struct rd_store *s, const char *token, const char *nomor,
			       const char *sha256, int64_t valid_from, int64_t valid_until,
			       int64_t now_ms, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int r;

	r = rd_store_assignment_retire(s);
	if (r < 0)
		return r;
	r = prepare(s,
		    "INSERT INTO assignment (nomor, token, sha256, valid_from, valid_until, "
		    "loaded_at, current) VALUES (?, ?, ?, ?, ?, ?, 1)",
		    &st, "tttiii", nomor, token, sha256, valid_from, valid_until, now_ms);
	if (r < 0)
		return r;
	r = run(s, st);
	if (r == 0)
		*id = sqlite3_last_insert_rowid(s->db);
	return r;
}

int rd_store_officer_get(struct rd_store *s, const char *nip, struct rd_store_officer *out)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	r = prepare(s, "SELECT failed, locked_until FROM officer WHERE nip = ?", &st, "t", nip);
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->failed = sqlite3_column_int64(st, 0);
		out->locked_until = sqlite3_column_int64(st, 1);
	} else if (rc == SQLITE_DONE) {
		*out = (struct rd_store_officer){0};
	} else {
		r = rd_store_errno(rc);
	}
	sqlite3_finalize(st);
	return r;
}

int rd_store_officer_put(struct rd_store *s, const char *nip, const struct rd_store_officer *o,
			 int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int r;

	r = prepare(
	    s,
	    "INSERT INTO officer (nip, failed, locked_until, updated_at) VALUES (?, ?, ?, ?) "
	    "ON CONFLICT (nip) DO UPDATE SET failed = excluded.failed, "
	    "locked_until = excluded.locked_until, updated_at = excluded.updated_at",
	    &st, "tiii", nip, o->failed, o->locked_until, now_ms);
	return r < 0 ? r : run(s, st);
}

int rd_store_login_get(struct rd_store *s, struct rd_store_login *out)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	r = prepare(s, "SELECT assignment_id, nip, uid, since, last_active FROM login", &st, "");
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->assignment_id = sqlite3_column_int64(st, 0);
		copy_text(out->nip, sizeof(out->nip), st, 1);
		out->uid = sqlite3_column_int64(st, 2);
		out->since_ms = sqlite3_column_int64(st, 3);
		out->last_active_ms = sqlite3_column_int64(st, 4);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : rd_store_errno(rc);
	}
	sqlite3_finalize(st);
	return r;
}

int rd_store_login_set(struct rd_store *s, const struct rd_store_login *l)
{
	sqlite3_stmt *st = NULL;
	int r;

	r = prepare(
	    s,
	    "INSERT OR REPLACE INTO login (id, assignment_id, nip, uid, since, last_active) "
	    "VALUES (1, ?, ?, ?, ?, ?)",
	    &st, "itiii", l->assignment_id, l->nip, l->uid, l->since_ms, l->last_active_ms);
	return r < 0 ? r : run(s, st);
}

int rd_store_login_touch(struct rd_store *s, int64_t last_active_ms)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "UPDATE login SET last_active = ?", &st, "i", last_active_ms);

	return r < 0 ? r : run(s, st);
}

int rd_store_login_clear(struct rd_store *s)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "DELETE FROM login", &st, "");

	return r < 0 ? r : run(s, st);
}

int rd_store_session_latest(struct rd_store *s, int64_t assignment_id, struct rd_store_session *out)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	r = prepare(s,
		    "SELECT id, uuid, opened_by, opened_at, closed_by, closed_at FROM session "
		    "WHERE assignment_id = ? ORDER BY id DESC LIMIT 1",
		    &st, "i", assignment_id);
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = sqlite3_column_int64(st, 0);
		copy_text(out->uuid, sizeof(out->uuid), st, 1);
		out->assignment_id = assignment_id;
		copy_text(out->opened_by, sizeof(out->opened_by), st, 2);
		out->opened_at_ms = sqlite3_column_int64(st, 3);
		copy_text(out->closed_by, sizeof(out->closed_by), st, 4);
		out->closed_at_ms = sqlite3_column_int64(st, 5);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : rd_store_errno(rc);
	}
	sqlite3_finalize(st);
	return r;
}

int rd_store_session_open(struct rd_store *s, struct rd_store_session *sess)
{
	sqlite3_stmt *st = NULL;
	int r;

	r = prepare(s,
		    "INSERT INTO session (uuid, assignment_id, opened_by, opened_at) "
		    "VALUES (?, ?, ?, ?)",
		    &st, "titi", sess->uuid, sess->assignment_id, sess->opened_by,
		    sess->opened_at_ms);
	if (r < 0)
		return r;
	r = run(s, st);
	if (r == 0)
		sess->id = sqlite3_last_insert_rowid(s->db);
	return r;
}

int rd_store_session_close(struct rd_store *s, int64_t id, const char *nip, int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int r;

	r = prepare(s,
		    "UPDATE session SET closed_by = ?, closed_at = ? "
		    "WHERE id = ? AND closed_at IS NULL",
		    &st, "tii", nip, now_ms, id);
	if (r < 0)
		return r;
	r = run(s, st);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = -ENOENT;
	return r;
}

int rd_store_student_find(struct rd_store *s, int64_t assignment_id, const uint8_t hash[32],
			  int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	r = prepare(s, "SELECT id FROM student WHERE assignment_id = ? AND nik_hash = ?", &st,
		    "ib", assignment_id, (const void *)hash, 32);
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	else
		r = rc == SQLITE_DONE ? -ENOENT : rd_store_errno(rc);
	sqlite3_finalize(st);
	return r;
}

int rd_store_student_insert(struct rd_store *s, int64_t assignment_id, const uint8_t hash[32],
			    const uint8_t *sealed, size_t len, bool on_list, int64_t now_ms,
			    int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (len > INT32_MAX)
		return -EFBIG;
	r = prepare(s,
		    "INSERT INTO student (assignment_id, nik_hash, sealed_index, on_list, added_at)"
		    " VALUES (?, ?, ?, ?, ?)",
		    &st, "ibbii", assignment_id, (const void *)hash, 32, (const void *)sealed,
		    (int)len, (int64_t)on_list, now_ms);
	if (r < 0)
		return r;
	r = run(s, st);
	if (r == 0)
		*id = sqlite3_last_insert_rowid(s->db);
	return r;
}

int rd_store_student_set_absent(struct rd_store *s, int64_t id, bool absent)
{
	sqlite3_stmt *st = NULL;
	int r;

	r = prepare(s, "UPDATE student SET absent = ? WHERE id = ?", &st, "ii", (int64_t)absent,
		    id);
	if (r < 0)
		return r;
	r = run(s, st);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = -ENOENT;
	return r;
}

int rd_store_students_each(struct rd_store *s, int64_t assignment_id, rd_store_student_fn fn,
			   void *userdata)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	r = prepare(s,
		    "SELECT s.id, s.sealed_index, s.on_list, s.absent, r.id, r.summary, r.token,"
		    "  r.created_at, (SELECT count(*) FROM record o WHERE o.student_id = s.id)"
		    " FROM student s LEFT JOIN record r"
		    "  ON r.student_id = s.id AND r.superseded_by IS NULL"
		    " WHERE s.assignment_id = ? ORDER BY s.id",
		    &st, "i", assignment_id);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rd_store_student row = {
		    .id = sqlite3_column_int64(st, 0),
		    .sealed = sqlite3_column_blob(st, 1),
		    .sealed_len = (size_t)sqlite3_column_bytes(st, 1),
		    .on_list = sqlite3_column_int(st, 2) != 0,
		    .absent = sqlite3_column_int(st, 3) != 0,
		    .record_id = (const char *)sqlite3_column_text(st, 4),
		    .summary = (const char *)sqlite3_column_text(st, 5),
		    .token = (const char *)sqlite3_column_text(st, 6),
		    .recorded_at_ms = sqlite3_column_int64(st, 7),
		    .n_records = sqlite3_column_int(st, 8),
		};

		r = fn(&row, userdata);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = rd_store_errno(rc);
	sqlite3_finalize(st);
	return r;
}

int rd_store_record_last(struct rd_store *s, int64_t *seq, uint8_t hash[32])
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	r = prepare(s, "SELECT seq, hash FROM record ORDER BY seq DESC LIMIT 1", &st, "");
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == 32) {
		*seq = sqlite3_column_int64(st, 0);
		memcpy(hash, sqlite3_column_blob(st, 1), 32);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : rd_store_errno(rc);
	}
	sqlite3_finalize(st);
	return r;
}

int rd_store_record_last_created(struct rd_store *s, int64_t *ms)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	r = prepare(s, "SELECT max(created_at) FROM record", &st, "");
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*ms = sqlite3_column_int64(st, 0);
	else
		r = rc == SQLITE_ROW ? -ENOENT : rd_store_errno(rc);
	sqlite3_finalize(st);
	return r;
}

int rd_store_record_insert(struct rd_store *s, const struct rd_store_record *rec)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (rec->sealed_len > INT32_MAX)
		return -EFBIG;
	/* Bound by hand: prev_hash is NULL for the van's first record. */
	r = rd_store_errno(sqlite3_prepare_v2(
	    s->db,
	    "INSERT INTO record (id, session_id, seq, prev_hash, hash, sealed, created_at,"
	    " student_id, summary, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    -1, &st, NULL));
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, rec->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, rec->session_id);
	sqlite3_bind_int64(st, 3, rec->seq);
	if (rec->has_prev)
		sqlite3_bind_blob(st, 4, rec->prev_hash, 32, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_blob(st, 5, rec->hash, 32, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 6, rec->sealed, (int)rec->sealed_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, rec->created_at_ms);
	sqlite3_bind_int64(st, 8, rec->student_id);
	sqlite3_bind_text(st, 9, rec->summary, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, rec->token, -1, SQLITE_TRANSIENT);
	return run(s, st);
}

int rd_store_record_supersede(struct rd_store *s, int64_t student_id, const char *new_id)
{
	sqlite3_stmt *st = NULL;
	int r;

	r = prepare(s,
		    "UPDATE record SET superseded_by = ? WHERE student_id = ? AND"
		    " superseded_by IS NULL",
		    &st, "ti", new_id, student_id);
	if (r < 0)
		return r;
	return run(s, st);
}
