/*
 * The token in the QR code of a student's receipt (resi), made by the van
 * and scanned at head office when the card is issued (docs/sync-protocol.md,
 * "Receipt QR token"). Compact and signed by the device key; it names the
 * record, never the person:
 *
 *   "RQ1." base64url( body[69] || Ed25519 signature[64] )
 *   body: 0x01 | key id[12] | record id[16] | NPSN u32 | date u32 YYYYMMDD |
 *         record SHA-256[32]        (integers little-endian)
 *
 * The signature covers "retas-qr-v1" followed by the body. The key id is the
 * raw form of retas_key_id (first 12 bytes of SHA-256 of the device public
 * key), so head office can pick the van's key before it has the record.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "retas-error.h"
#include "retas-time.h"

#define SYNC_QR_PREFIX "RQ1."
#define SYNC_QR_BODY_LEN 69
/* "RQ1." + base64url of 133 bytes */
#define SYNC_QR_TOKEN_LEN (4 + 178)

struct sync_qr {
	char kid[17]; /* retas_key_id text of the device key */
	uint8_t record_id[16];
	char npsn[9];		 /* 8 digits */
	struct retas_date date;	 /* the recording date (WIB) */
	uint8_t record_hash[32]; /* retas_record_hash of the sealed record */
};

/* Makes a token for q (its kid is ignored: taken from device_pk). *out is a
 * new string of SYNC_QR_TOKEN_LEN characters. -EINVAL for a bad NPSN or
 * date. */
int sync_qr_make(const struct sync_qr *q, const uint8_t device_pk[32], const uint8_t device_sk[64],
		 char **out);
/* Decodes a token without checking its signature (to find the van's key by
 * kid). -EINVAL with reason qr.format. Never trust the result alone. */
int sync_qr_peek(const char *token, size_t len, struct sync_qr *out, struct retas_error *err);
/* Decodes and verifies against device_pk (whose key id must match).
 * -EINVAL qr.format, -EPERM qr.key or qr.signature. */
int sync_qr_verify(const char *token, size_t len, const uint8_t device_pk[32], struct sync_qr *out,
		   struct retas_error *err);
