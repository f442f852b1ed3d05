/*
 * The audit log: an append-only table in the store whose rows are chained
 * by SHA-256 (each row's hash covers the previous row's hash and all its own
 * columns), so a changed, removed or reordered row breaks the chain at that
 * row. Rows name the event, its outcome, a stable reason id, the peer's uid
 * and pid (SO_PEERCRED) and a JSON detail that never holds personal data in
 * clear: officers are named by their index in the surat tugas, never by NIP
 * or name. Removing rows from the end is not detectable from the table
 * alone; shipping segments to head office with each batch is what anchors
 * the chain.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "store.h"

#define RD_AUDIT_HASH_LEN 32

struct rd_audit_entry {
	int64_t at_ms;
	const char *event;   /* "Login", "OpenSession", "idle-logout", ... */
	const char *outcome; /* "ok" or "refused" */
	const char *reason;  /* stable reason id, "" for success */
	int64_t uid;	     /* the peer's, -1 for the daemon itself */
	int64_t pid;	     /* the peer's, 0 for the daemon itself */
	const char *detail;  /* compact JSON object, "{}" when nothing to add */
};

/* Appends one row after the current last one, inside a transaction of its
 * own (nested in the caller's when one is open). *id, when not NULL, gets
 * the new row id. */
int rd_audit_append(struct rd_store *s, const struct rd_audit_entry *e, int64_t *id);

struct rd_audit_check {
	int64_t rows;			 /* rows read */
	int64_t first_bad;		 /* id of the first row that breaks the chain, 0 if none */
	const char *problem;		 /* "hash", "link" or "sequence" for first_bad, else NULL */
	uint8_t head[RD_AUDIT_HASH_LEN]; /* hash of the last row (zeros when empty) */
};

/* Recomputes the chain from the first row. Returns 0 when the walk could be
 * done (look at out->first_bad for the verdict), a negative errno when the
 * table could not be read. */
int rd_audit_verify(struct rd_store *s, struct rd_audit_check *out);
