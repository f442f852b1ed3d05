/*
 * The receipt (docs/sync-protocol.md, "Receipt"): head office's answer to a
 * complete batch, a JWS (typ "retas-receipt+jws", kid the HQ signing key's
 * id) signed with the HQ signing key, listing every record of the batch
 * with its SHA-256 and outcome, plus the sequence anomalies the batch
 * revealed. The van marks records acknowledged only on a receipt that
 * verifies against the HQ key of its own configuration.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "retas-error.h"
#include "retas-uuid.h"

#define SYNC_RECEIPT_JWS_TYP "retas-receipt+jws"
#define SYNC_RECEIPT_PAYLOAD_TYP "retas.receipt.v1"
#define SYNC_RECEIPT_MAX_ANOMALIES 1000

enum sync_outcome {
	SYNC_OUTCOME_STORED,	       /* "stored": new, kept */
	SYNC_OUTCOME_ALREADY_RECEIVED, /* "already-received": same id and hash held before */
	SYNC_OUTCOME_QUARANTINED,      /* "quarantined": kept aside, reason says why */
};

struct sync_receipt_record {
	uint8_t id[16];
	uint64_t seq; /* from the manifest */
	uint8_t sha256[32];
	enum sync_outcome outcome;
	char reason[48]; /* quarantined: a stable reason id, e.g. record.hash; else "" */
};

struct sync_receipt_anomaly {
	char kind[8];	    /* "gap", "fork" or "chain" */
	uint64_t seq_from;  /* gap: the first missing sequence number; else the record's */
	uint64_t seq_to;    /* gap: the last missing one; else = seq_from */
	uint8_t record[16]; /* the record that revealed it */
};

struct sync_receipt {
	char batch_id[RETAS_UUID_STR_LEN];
	char device_id[64];
	char st_nomor[64];
	int64_t received_ms;
	struct sync_receipt_record *records;
	size_t n_records;
	struct sync_receipt_anomaly *anomalies;
	size_t n_anomalies;
};

const char *sync_outcome_name(enum sync_outcome o);
int sync_outcome_parse(const char *s, enum sync_outcome *out);

/* Serialises and signs r; *jws is a new string. */
int sync_receipt_sign(const struct sync_receipt *r, const uint8_t hq_sign_pk[32],
		      const uint8_t hq_sign_sk[64], char **jws, struct retas_error *err);
/* Verifies against the HQ signing key and parses. Errors: the JWS ones,
 * then receipt.json receipt.typ receipt.<field>. */
int sync_receipt_verify(const char *jws, size_t len, const uint8_t hq_sign_pk[32],
			struct sync_receipt **out, struct retas_error *err);
/* The entry for a record id, or NULL. Borrowed. */
const struct sync_receipt_record *sync_receipt_find(const struct sync_receipt *r,
						    const uint8_t id[16]);
void sync_receipt_free(struct sync_receipt *r);
