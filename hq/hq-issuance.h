/*
 * Card issuance at head office, the KTP-el SOP for each received record:
 * the student's receipt QR token is scanned at the counter, then the record
 * is verified (front office), entered (operator SIAK), printed (operator)
 * and handed over (front office), each step timestamped and measured
 * against the SOP's 15, 10, 5 and 5 minutes. A student under 17 on the
 * recording day was recorded only; the card is issued from the 17th
 * birthday, and the steps refuse until then.
 */
#pragma once

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "hq-auth.h"
#include "hq-ctx.h"
#include "retas-error.h"
#include "retas-time.h"

#define HQ_CARD_AGE 17

enum hq_issue_step {
	HQ_ISSUE_VERIFY,
	HQ_ISSUE_ENTER,
	HQ_ISSUE_PRINT,
	HQ_ISSUE_HANDOVER,
};

struct hq_eligibility {
	bool birth_known;
	bool record_only;	/* under 17 on the recording date */
	bool eligible;		/* 17 or older on the given day (true when unknown) */
	struct retas_date from; /* the 17th birthday, when birth_known */
};

/* From the stored birth date (YYYY-MM-DD or NULL), the recording instant
 * and today. */
void hq_eligibility(const char *birth, int64_t created_ms, int64_t now_ms,
		    struct hq_eligibility *out);

/* "record-only", "waiting", "scanned", "verified", "entered", "printed",
 * "handed-over" for a record's issuance row (ms 0 when absent). */
const char *hq_issue_status(bool eligible, int64_t scanned, int64_t verified, int64_t entered,
			    int64_t printed, int64_t handed);

/* A step name (verify, enter, print, handover) into its enum. */
int hq_issue_step_parse(const char *s, enum hq_issue_step *out);

/*
 * Scans a receipt QR token: decodes it, finds the van by its key id,
 * verifies the signature with the van's registered key, finds the record
 * (same id and hash) and starts its issuance clock when not started. Roles
 * fo (the counter). *out: the record as issuance sees it. Errors: qr.*
 * (400), -EPERM qr.unknown-van / qr.signature / qr.key (401),
 * -ENOENT issuance.unknown-record (404), -EEXIST issuance.hash (409).
 */
int hq_issuance_scan(sqlite3 *db, const struct hq_staff *actor, const char *token, int64_t now_ms,
		     json_object **out, struct retas_error *err);
/* One step on record id (UUID text) by its role (-EACCES auth.role).
 * -EALREADY with issuance.order when the step before is not done,
 * issuance.done when this one is, issuance.record-only before the 17th
 * birthday; -ENOENT issuance.unknown-record. */
int hq_issuance_step(sqlite3 *db, const struct hq_staff *actor, const char *record_id,
		     enum hq_issue_step step, int64_t now_ms, json_object **out,
		     struct retas_error *err);
/* The record's issuance state. */
int hq_issuance_get(sqlite3 *db, const char *record_id, int64_t now_ms, json_object **out,
		    struct retas_error *err);
/* The queue: counts per status and per step the standards kept or missed;
 * nomor restricts it to one surat tugas (NULL: all). */
int hq_issuance_summary(sqlite3 *db, const char *nomor, int64_t now_ms, json_object **out);
