/*
 * The sealed record envelope (DESIGN.md §3.2; byte layout in
 * docs/record-format.md). A record is a cleartext, authenticated header and
 * a body: a container of named parts, compressed part by part where it
 * pays, encrypted with XChaCha20-Poly1305 under a fresh key that is sealed
 * to head office's X25519 key, the header being the associated data. The
 * whole is signed with the van's Ed25519 device key. After sealing, only
 * head office can read the body.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "retas-error.h"

#define RETAS_RECORD_MAX_LEN (64u * 1024 * 1024)
#define RETAS_PART_NAME_MAX 63
#define RETAS_PART_TYPE_MAX 63
#define RETAS_CONTAINER_MAX_PARTS 64
/* Bound on the sum of the parts' original (inflated) lengths. */
#define RETAS_CONTAINER_MAX_SIZE RETAS_RECORD_MAX_LEN

struct retas_record_header {
	uint8_t id[16];       /* UUIDv7 */
	char st_nomor[64];    /* surat tugas number */
	char device_id[64];   /* the van's id (kendaraan.id) */
	char officer_nip[19];
	uint64_t seq;         /* per-van sequence, from 1 */
	uint8_t prev_hash[32]; /* retas_record_hash of the van's previous record; zeros for the first */
	int64_t created_ms;
};

struct retas_part {
	char *name; /* e.g. "demografi.json", "jari-01.iso", "foto.jpg" */
	char *type; /* media type, e.g. "application/json", "image/jpeg" */
	uint8_t *data;
	size_t len;
};

struct retas_container {
	struct retas_part *parts;
	size_t n_parts;
};

int retas_container_new(struct retas_container **out);
void retas_container_free(struct retas_container *c);
/* Copies data in. Names are unique within a container (-EEXIST). */
int retas_container_add(struct retas_container *c, const char *name, const char *type,
			const void *data, size_t len);
/* Borrowed, NULL when absent. */
const struct retas_part *retas_container_get(const struct retas_container *c, const char *name);
/* The container's documented byte form, compressed per part where the media
 * type is compressible (not image/jpeg, image/png, image/jp2). */
int retas_container_encode(const struct retas_container *c, uint8_t **out, size_t *len,
			   struct retas_error *err);
int retas_container_decode(const uint8_t *in, size_t len, struct retas_container **out,
			   struct retas_error *err);

/* Seals body under header h to hq_seal_pk and signs with device_sk.
 * *out (caller frees) is the record's bytes. */
int retas_record_seal(const struct retas_record_header *h, const struct retas_container *body,
		      const uint8_t hq_seal_pk[32], const uint8_t device_sk[64], uint8_t **out,
		      size_t *outlen, struct retas_error *err);
/* Parses the cleartext header without checking anything else. */
int retas_record_read_header(const uint8_t *rec, size_t len, struct retas_record_header *h,
			     struct retas_error *err);
/* Checks structure and the device signature; fills *h. No secret needed. */
int retas_record_verify(const uint8_t *rec, size_t len, const uint8_t device_pk[32],
			struct retas_record_header *h, struct retas_error *err);
/* Verifies, unseals with head office's key pair and decrypts the body.
 * Errors (err->reason): record.format record.signature record.seal
 * record.decrypt record.container. */
int retas_record_open(const uint8_t *rec, size_t len, const uint8_t device_pk[32],
		      const uint8_t hq_seal_pk[32], const uint8_t hq_seal_sk[32],
		      struct retas_record_header *h, struct retas_container **body,
		      struct retas_error *err);
/* SHA-256 of the record's bytes: what the manifest lists and the next
 * record's prev_hash holds. */
void retas_record_hash(const uint8_t *rec, size_t len, uint8_t out[32]);
