/* Hex coding and secret wiping shared by every part. */
#include <errno.h>
#include <sodium.h>

#include "retas-util.h"

void retas_hex_encode(const uint8_t *in, size_t len, char *out)
{
	sodium_bin2hex(out, len * 2 + 1, in, len);
}

int retas_hex_decode(const char *in, uint8_t *out, size_t len)
{
	size_t got = 0;
	const char *end = NULL;

	if (strlen(in) != len * 2)
		return -EINVAL;
	if (sodium_hex2bin(out, len, in, len * 2, NULL, &got, &end) != 0 || got != len)
		return -EINVAL;
	return 0;
}

void retas_free_secret(void *p, size_t len)
{
	if (!p)
		return;
	sodium_memzero(p, len);
	free(p);
}
