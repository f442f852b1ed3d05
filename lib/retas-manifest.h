/*
 * The batch manifest (DESIGN.md §4): which records a batch carries, with
 * their SHA-256 and size, the audit log segment and, once the session is
 * closed, the draft report. Signed as a JWS (typ "retas-manifest+jws") with
 * the van's device key.
 */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "retas-error.h"
#include "retas-uuid.h"

#define RETAS_MANIFEST_JWS_TYP "retas-manifest+jws"
#define RETAS_MANIFEST_PAYLOAD_TYP "retas.manifest.v1"
#define RETAS_MANIFEST_MAX_RECORDS 100000

struct retas_manifest_entry {
	uint8_t id[16];
	uint64_t seq;
	uint8_t sha256[32];
	uint64_t size;
};

struct retas_manifest {
	char batch_id[RETAS_UUID_STR_LEN];
	char device_id[64];
	char st_nomor[64];
	int64_t created_ms;
	struct retas_manifest_entry *records;
	size_t n_records;
	json_object *audit;  /* array of audit rows, owned; never NULL once built */
	json_object *report; /* draft report object or NULL, owned */
};

/* A new manifest with a fresh batch id (UUIDv7 of now_ms) and an empty
 * audit array. device_id and st_nomor are 1 to 63 printable ASCII
 * characters (-EINVAL otherwise). */
int retas_manifest_new(const char *device_id, const char *st_nomor, int64_t now_ms,
		       struct retas_manifest **out);
/* Adds a sealed record: reads its id and seq from the header, hashes it.
 * The record must belong to the manifest's device and surat tugas, carry a
 * sequence above the last one added and an id not yet listed. Errors: the
 * record.* ones of retas_record_read_header, manifest.records (full),
 * manifest.record_device, manifest.record_surat_tugas, manifest.record_order,
 * manifest.record_duplicate. */
int retas_manifest_add_record(struct retas_manifest *m, const uint8_t *rec, size_t len,
			      struct retas_error *err);
/* Appends one audit row (a JSON object), taking ownership of it; on
 * failure row is released. 0, -EINVAL (not an object) or -ENOMEM. */
int retas_manifest_add_audit(struct retas_manifest *m, json_object *row);
/* Takes ownership of report (may be NULL to clear). */
void retas_manifest_set_report(struct retas_manifest *m, json_object *report);
int retas_manifest_sign(const struct retas_manifest *m, const uint8_t device_sk[64], char **jws,
			struct retas_error *err);
/* Verifies against the device key and validates every field.
 * Errors: the JWS ones, then manifest.json manifest.typ manifest.<field>:
 * batch_id device_id surat_tugas created records record_id record_seq
 * record_order record_duplicate record_sha256 record_size audit report. */
int retas_manifest_verify(const char *jws, size_t len, const uint8_t device_pk[32],
			  struct retas_manifest **out, struct retas_error *err);
/* The payload JSON that retas_manifest_sign signs (a new string the
 * caller frees). */
int retas_manifest_to_json(const struct retas_manifest *m, char **out);
/* Parses and validates a payload (no signature involved): what
 * retas_manifest_verify does after the JWS checks. Same errors. */
int retas_manifest_parse(const char *payload, size_t len, struct retas_manifest **out,
			 struct retas_error *err);
/* The entry for a record id, or NULL. */
const struct retas_manifest_entry *retas_manifest_find(const struct retas_manifest *m,
							const uint8_t id[16]);
void retas_manifest_free(struct retas_manifest *m);
