/* UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, 74 random bits.
 * Time-ordered, so record ids sort by creation. */
#pragma once

#include <stdint.h>

#define RETAS_UUID_STR_LEN 37 /* 36 characters and a NUL */

/* unix_ms comes from the caller; randomness from libsodium. */
void retas_uuid7_new(int64_t unix_ms, uint8_t out[16]);
/* Lowercase 8-4-4-4-12 form into buf[RETAS_UUID_STR_LEN]. */
void retas_uuid_format(const uint8_t id[16], char *buf);
/* Parses the 8-4-4-4-12 form (either case); 0 or -EINVAL. */
int retas_uuid_parse(const char *s, uint8_t out[16]);
