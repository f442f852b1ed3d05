/*
 * retasd's local store: one SQLite database in the state directory, WAL
 * mode, synchronous=FULL, foreign keys on, a busy timeout, and numbered
 * migrations applied at open inside one transaction. The typed accessors
 * below are the only SQL outside audit.c; the state machine calls them
 * inside rd_store_txn_begin/commit so a change and its audit row are
 * durable together or not at all.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "retas-error.h"

struct rd_store;

/* Opens (creating) the database at path and migrates it to the current
 * schema. Refuses a database written by a newer retasd (store.version). */
int rd_store_open(const char *path, int64_t busy_timeout_ms, struct rd_store **out,
		  struct retas_error *err);
void rd_store_free(struct rd_store *s);
sqlite3 *rd_store_db(struct rd_store *s);
/* The schema version the store is at, and the one this build writes. */
int rd_store_version(struct rd_store *s);
int rd_store_latest_version(void);
int rd_store_set_busy_timeout(struct rd_store *s, int64_t ms);

/* Nestable transactions (savepoints). commit and rollback return 0 or a
 * negative errno; rollback is safe to call after a failed step. */
int rd_store_txn_begin(struct rd_store *s);
int rd_store_txn_commit(struct rd_store *s);
void rd_store_txn_rollback(struct rd_store *s);

/* PRAGMA integrity_check: *out is a new string, "ok" when sound. */
int rd_store_integrity_check(struct rd_store *s, char **out);

/* Maps an SQLite result code to a negative errno. */
int rd_store_errno(int sqlite_rc);

/* --- assignment (surat tugas) --- */
struct rd_store_assignment {
	int64_t id;
	char *token; /* the JWS as loaded */
	char sha256[65];
	int64_t loaded_at_ms;
};
void rd_store_assignment_clear(struct rd_store_assignment *a);
/* The current assignment, -ENOENT when none. */
int rd_store_assignment_current(struct rd_store *s, struct rd_store_assignment *out);
/* Inserts a letter and makes it the current one; *id is its row id. */
int rd_store_assignment_insert(struct rd_store *s, const char *token, const char *nomor,
			       const char *sha256, int64_t valid_from, int64_t valid_until,
			       int64_t now_ms, int64_t *id);
/* No assignment is current any more (its rows stay). */
int rd_store_assignment_retire(struct rd_store *s);

/* --- officer login state, keyed by NIP --- */
struct rd_store_officer {
	int64_t failed;	      /* wrong PINs since the last good one or lockout */
	int64_t locked_until; /* Unix ms; 0 when never locked */
};
/* Zeros when the NIP has no row yet. */
int rd_store_officer_get(struct rd_store *s, const char *nip, struct rd_store_officer *out);
int rd_store_officer_put(struct rd_store *s, const char *nip, const struct rd_store_officer *o,
			 int64_t now_ms);

/* --- the logged-in officer (at most one) --- */
struct rd_store_login {
	int64_t assignment_id;
	char nip[19];
	int64_t uid;
	int64_t since_ms;
	int64_t last_active_ms;
};
int rd_store_login_get(struct rd_store *s, struct rd_store_login *out); /* -ENOENT: none */
int rd_store_login_set(struct rd_store *s, const struct rd_store_login *l);
int rd_store_login_touch(struct rd_store *s, int64_t last_active_ms);
int rd_store_login_clear(struct rd_store *s);

/* --- sessions --- */
struct rd_store_session {
	int64_t id;
	char uuid[37];
	int64_t assignment_id;
	char opened_by[19];
	int64_t opened_at_ms;
	char closed_by[19];   /* "" while open */
	int64_t closed_at_ms; /* 0 while open */
};
/* The latest session of an assignment, -ENOENT when it has none. */
int rd_store_session_latest(struct rd_store *s, int64_t assignment_id,
			    struct rd_store_session *out);
/* Inserts an open session (the schema allows one open session at a time). */
int rd_store_session_open(struct rd_store *s, struct rd_store_session *sess);
int rd_store_session_close(struct rd_store *s, int64_t id, const char *nip, int64_t now_ms);
