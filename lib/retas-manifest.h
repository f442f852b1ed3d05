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
 * audit array. */
int retas_manifest_new(const char *device_id, const char *st_nomor, int64_t now_ms,
		       struct retas_manifest **out);
/* Adds a sealed record: reads its id and seq from the header, hashes it. */
int retas_manifest_add_record(struct retas_manifest *m, const uint8_t *rec, size_t len,
			      struct retas_error *err);
/* Takes ownership of report (may be NULL to clear). */
void retas_manifest_set_report(struct retas_manifest *m, json_object *report);
int retas_manifest_sign(const struct retas_manifest *m, const uint8_t device_sk[64], char **jws,
			struct retas_error *err);
/* Verifies against the device key and validates every field.
 * Errors: the JWS ones, then manifest.json manifest.typ manifest.<field>. */
int retas_manifest_verify(const char *jws, size_t len, const uint8_t device_pk[32],
			  struct retas_manifest **out, struct retas_error *err);
/* The entry for a record id, or NULL. */
const struct retas_manifest_entry *retas_manifest_find(const struct retas_manifest *m,
							const uint8_t id[16]);
void retas_manifest_free(struct retas_manifest *m);
