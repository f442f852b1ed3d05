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

/* --- students (the local index) and their records --- */
/* The student with this keyed NIK hash in the assignment; -ENOENT. */
int rd_store_student_find(struct rd_store *s, int64_t assignment_id, const uint8_t hash[32],
			  int64_t *id);
/* sealed is the index entry encrypted under the local key (daemon/index.h). */
int rd_store_student_insert(struct rd_store *s, int64_t assignment_id, const uint8_t hash[32],
			    const uint8_t *sealed, size_t len, bool on_list, int64_t now_ms,
			    int64_t *id);
int rd_store_student_set_absent(struct rd_store *s, int64_t id, bool absent);

/* One student as rd_store_students_each sees it; pointers valid only
 * during the callback. record_id etc. are NULL without a current record. */
struct rd_store_student {
	int64_t id;
	const void *sealed;
	size_t sealed_len;
	bool on_list;
	bool absent;
	const char *record_id; /* the current (not superseded) record */
	const char *summary;   /* its JSON summary */
	const char *token;     /* its receipt token */
	int64_t recorded_at_ms;
	int n_records; /* superseded ones included */
};
typedef int (*rd_store_student_fn)(const struct rd_store_student *row, void *userdata);
/* Calls fn for every student of the assignment in insertion order; a
 * negative return from fn stops and is returned. */
int rd_store_students_each(struct rd_store *s, int64_t assignment_id, rd_store_student_fn fn,
			   void *userdata);

struct rd_store_record {
	char id[37];
	int64_t session_id;
	int64_t seq;
	bool has_prev;
	uint8_t prev_hash[32];
	uint8_t hash[32];
	const uint8_t *sealed;
	size_t sealed_len;
	int64_t created_at_ms;
	int64_t student_id;
	const char *summary;
	const char *token;
};
/* The sequence number and hash of the van's latest record; -ENOENT. */
int rd_store_record_last(struct rd_store *s, int64_t *seq, uint8_t hash[32]);
/* The latest created_at (Unix ms) of any record; -ENOENT when none. */
int rd_store_record_last_created(struct rd_store *s, int64_t *ms);
int rd_store_record_insert(struct rd_store *s, const struct rd_store_record *rec);
/* Marks the student's current record as superseded by new_id. */
int rd_store_record_supersede(struct rd_store *s, int64_t student_id, const char *new_id);
