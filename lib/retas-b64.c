/* base64url on libsodium's codec. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "retas-b64.h"

#define VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

int retas_b64url_encode(const void *in, size_t len, char **out)
{
	size_t n = sodium_base64_encoded_len(len, VARIANT);
	char *s = malloc(n);

	if (!s)
		return -ENOMEM;
	sodium_bin2base64(s, n, in, len, VARIANT);
	*out = s;
	return 0;
}

int retas_b64url_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	size_t cap = inlen / 4 * 3 + 3, got = 0;
	const char *end = NULL;
	uint8_t *buf;

	/* A length of 1 mod 4 cannot come from any byte string. */
	if (inlen % 4 == 1)
		return -EINVAL;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	if (sodium_base642bin(buf, cap, in, inlen, NULL, &got, &end, VARIANT) != 0 ||
	    end != in + inlen) {
		free(buf);
		return -EINVAL;
	}
	buf[got] = 0;
	*out = buf;
	*outlen = got;
	return 0;
}

int retas_b64url_decode_key(const char *in, uint8_t *key, size_t keylen)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	int r;

	if (!in)
		return -EINVAL;
	r = retas_b64url_decode(in, strlen(in), &buf, &n);
	if (r < 0)
		return r;
	if (n != keylen) {
		r = -EINVAL;
	} else {
		memcpy(key, buf, keylen);
		r = 0;
	}
	sodium_memzero(buf, n);
	free(buf);
	return r;
}
