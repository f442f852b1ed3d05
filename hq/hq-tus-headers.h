/*
 * Parsers for the tus 1.0.0 request headers head office reads:
 * Upload-Length / Upload-Offset, Upload-Checksum and Upload-Metadata. Pure
 * functions over untrusted text (a fuzz target drives them), kept apart
 * from the handlers.
 */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#define HQ_TUS_METADATA_MAX 4096

/* A non-negative decimal without sign or leading zeros, at most 2^62.
 * 0 or -EINVAL. */
int hq_tus_parse_u64(const char *s, uint64_t *out);

/* "sha256 <base64 of 32 bytes>". -ENOTSUP for another algorithm,
 * -EINVAL when malformed. */
int hq_tus_parse_checksum(const char *s, uint8_t sha256[32]);

/* "key value,key value,key": keys 1..64 printable ASCII without space or
 * comma, unique; values standard base64 (decoded, must be UTF-8 without
 * NUL), optional. *out is a JSON object of key -> string ("" for no value),
 * caller owns it. -EINVAL when malformed, -E2BIG above
 * HQ_TUS_METADATA_MAX. */
int hq_tus_parse_metadata(const char *s, json_object **out);
