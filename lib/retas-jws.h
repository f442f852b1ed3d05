/*
 * JWS compact serialization (RFC 7515) with EdDSA over Ed25519 (RFC 8037),
 * on libsodium. A verifier accepts only alg EdDSA, ignores unknown header
 * members, and refuses malformed segments, oversize tokens and trailing
 * bytes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "retas-error.h"

/* The largest signed document is a batch manifest: up to
 * RETAS_MANIFEST_MAX_RECORDS record entries and a day's draft report (3.8 MB
 * signed for 10 000 students; RETAS_REPORT_MAX_JSON at most). Letters and
 * receipts are far smaller and reach the parser through transports with
 * their own, smaller bounds (the varlink message, the upload size). */
#define RETAS_JWS_MAX_LEN (64 * 1024 * 1024)

struct retas_jws {
	char *header;     /* the decoded protected header JSON, NUL-terminated */
	char *typ;        /* header "typ", NULL when absent */
	char *kid;        /* header "kid", NULL when absent */
	uint8_t *payload; /* decoded payload, with a NUL after payload_len bytes */
	size_t payload_len;
};

/*
 * Signs payload with the Ed25519 secret key sk (libsodium's 64-byte form).
 * typ and kid go into the protected header when not NULL. *out is a new
 * NUL-terminated token the caller frees.
 */
int retas_jws_sign(const void *payload, size_t len, const char *typ, const char *kid,
		   const uint8_t sk[64], char **out, struct retas_error *err);

/*
 * Verifies token (len bytes, no trailing newline) against the Ed25519 public
 * key pk. When expect_typ is not NULL the header's typ must equal it.
 * On success *out is a new struct the caller frees with retas_jws_free.
 * Errors (err->reason): jws.size jws.format jws.base64 jws.header jws.alg
 * jws.typ jws.signature, and jws.trailing (whitespace, a NUL or other bytes
 * after the signature), jws.crit (a "crit" header member: no extension is
 * understood), jws.memory.
 */
int retas_jws_verify(const char *token, size_t len, const uint8_t pk[32], const char *expect_typ,
		     struct retas_jws **out, struct retas_error *err);

/* Decodes without checking the signature, e.g. to read kid before choosing a
 * key. Never trust what it returns. */
int retas_jws_peek(const char *token, size_t len, struct retas_jws **out, struct retas_error *err);

void retas_jws_free(struct retas_jws *jws);

/* The key id the kit uses for a public key: base64url of the first 12 bytes
 * of SHA-256(pk), 16 characters. buf holds at least 17 bytes. */
void retas_key_id(const uint8_t pk[32], char *buf);
