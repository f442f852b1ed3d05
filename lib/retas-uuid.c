/* UUIDv7 generation and text form. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "retas-uuid.h"
#include "retas-util.h"

void retas_uuid7_new(int64_t unix_ms, uint8_t out[16])
{
	uint64_t t = (uint64_t)unix_ms;

	randombytes_buf(out + 6, 10);
	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)(t >> (40 - 8 * i));
	out[6] = (uint8_t)(0x70 | (out[6] & 0x0f));
	out[8] = (uint8_t)(0x80 | (out[8] & 0x3f));
}

void retas_uuid_format(const uint8_t id[16], char *buf)
{
	char hex[33];

	retas_hex_encode(id, 16, hex);
	snprintf(buf, RETAS_UUID_STR_LEN, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
		 hex + 16, hex + 20);
}

int retas_uuid_parse(const char *s, uint8_t out[16])
{
	char hex[33];
	size_t j = 0;

	if (!s || strlen(s) != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		hex[j++] = s[i];
	}
	hex[32] = '\0';
	return retas_hex_decode(hex, out, 16);
}
