/*
 * The van's signed request header (docs/sync-protocol.md, "Signed
 * requests"). Every request a van makes to head office's upload and receipt
 * endpoints carries
 *
 *   Retas-Auth: v1 kid=<key id>,ts=<unix ms>,nonce=<22 base64url>,sig=<86 base64url>
 *
 * where sig is the device key's Ed25519 signature over
 * "retas-auth-v1\n" METHOD "\n" PATH "\n" ts "\n" nonce "\n" kid. Head
 * office finds the van by kid, checks the signature, the time against its
 * clock and that the nonce was never used. Shared by the van (signing) and
 * head office (checking); no server code here.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "retas-error.h"

#define SYNC_AUTH_HEADER "Retas-Auth"
#define SYNC_AUTH_NONCE_LEN 16
#define SYNC_AUTH_MAX_LEN 256
#define SYNC_AUTH_MAX_PATH 1024

struct sync_auth {
	char kid[17];	/* retas_key_id of the device key */
	int64_t ts_ms;	/* the van's clock when it signed */
	char nonce[23]; /* base64url of 16 random bytes */
	uint8_t sig[64];
};

/*
 * Writes the header value for one request into *out (new string, caller
 * frees). method is the HTTP method, path the request path without query
 * (as the server sees it, percent-decoded), nonce 16 random bytes from the
 * caller.
 */
int sync_auth_sign(const char *method, const char *path, int64_t now_ms,
		   const uint8_t nonce[SYNC_AUTH_NONCE_LEN], const uint8_t device_pk[32],
		   const uint8_t device_sk[64], char **out);

/* Parses a header value strictly (the order and form above, nothing else).
 * -EINVAL with reason auth.format. */
int sync_auth_parse(const char *value, size_t len, struct sync_auth *out, struct retas_error *err);

/* Checks the signature for this method and path against device_pk; also
 * that kid belongs to device_pk. -EPERM with reason auth.signature. The
 * caller checks the time and the nonce. */
int sync_auth_verify(const struct sync_auth *a, const char *method, const char *path,
		     const uint8_t device_pk[32], struct retas_error *err);
