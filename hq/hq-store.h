/*
 * The head-office store: one SQLite database in WAL mode with
 * synchronous=FULL and foreign keys on, its schema built by numbered
 * migrations (PRAGMA user_version) applied in one transaction when the
 * store is opened. The server shares connections between its worker
 * threads through a small pool; a connection is used by one thread at a
 * time.
 */
#pragma once

#include <sqlite3.h>
#include <stddef.h>

#include "retas-error.h"
#include "retas-util.h"

RETAS_DEFINE_CLEANUP(sqlite3_stmt, sqlite3_finalize)

/* The schema version this program writes. */
int hq_store_schema_version(void);

/* Opens (creating) the database at path, sets the pragmas and applies
 * pending migrations. A store newer than this program is refused
 * (-EPROTO, reason store.version). */
int hq_store_open(const char *path, sqlite3 **out, struct retas_error *err);

/* Maps an SQLite result code to a negative errno: constraint -> -EEXIST,
 * busy/locked -> -EBUSY, full -> -ENOSPC, everything else -> -EIO. */
int hq_store_errno(int rc);

/* Prepares sql; -EIO (logged at debug) on failure. */
int hq_store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out);
int hq_store_exec(sqlite3 *db, const char *sql);
/* BEGIN IMMEDIATE, COMMIT, ROLLBACK. */
int hq_store_begin(sqlite3 *db);
int hq_store_commit(sqlite3 *db);
void hq_store_rollback(sqlite3 *db);

/* Binds text, or NULL when s is NULL. */
int hq_store_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* The column as a string, "" for NULL: borrowed until the next step. */
const char *hq_store_col_text(sqlite3_stmt *st, int col);

struct hq_pool;

/* n connections to path. */
int hq_pool_new(const char *path, size_t n, struct hq_pool **out, struct retas_error *err);
void hq_pool_free(struct hq_pool *p);
/* Borrows a connection, waiting at most timeout_ms; -ETIMEDOUT after that.
 * Give it back with hq_pool_put. */
int hq_pool_get(struct hq_pool *p, int timeout_ms, sqlite3 **out);
void hq_pool_put(struct hq_pool *p, sqlite3 *db);
