/* base64url without padding (RFC 4648 §5), the form JWS and the kit's keys
 * use. Thin wrappers over libsodium that allocate and validate. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Encodes len bytes into a new NUL-terminated string (caller frees). 0 or -ENOMEM. */
int retas_b64url_encode(const void *in, size_t len, char **out);
/* Decodes exactly inlen characters (no padding, no whitespace) into a new
 * buffer (caller frees; one extra NUL byte after the data for convenience).
 * 0, -EINVAL on a bad character or length, -ENOMEM. */
int retas_b64url_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen);
/* Decodes a key that must be exactly keylen bytes. 0 or -EINVAL. */
int retas_b64url_decode_key(const char *in, uint8_t *key, size_t keylen);
