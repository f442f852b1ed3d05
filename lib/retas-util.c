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

/* The length of the sequence a lead byte starts (0: not a lead byte) and
 * the value bits it carries. */
static size_t utf8_lead(unsigned char c, uint32_t *cp)
{
	if ((c & 0xe0) == 0xc0) {
		*cp = c & 0x1f;
		return 2;
	}
	if ((c & 0xf0) == 0xe0) {
		*cp = c & 0x0f;
		return 3;
	}
	if ((c & 0xf8) == 0xf0) {
		*cp = c & 0x07;
		return 4;
	}
	return 0;
}

bool retas_utf8_valid(const void *s, size_t len, bool controls)
{
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	const unsigned char *p = s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp = p[i];
		size_t n = 1;

		if (cp >= 0x80) {
			n = utf8_lead(p[i], &cp);
			if (n == 0 || i + n > len)
				return false;
			for (size_t k = 1; k < n; k++) {
				if ((p[i + k] & 0xc0) != 0x80)
					return false;
				cp = (cp << 6) | (p[i + k] & 0x3f);
			}
			if (cp < min[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
				return false;
		}
		if (!controls && (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)))
			return false;
		i += n;
	}
	return true;
}

size_t retas_words_match(const char *name, int argc, char *const *argv)
{
	size_t words = 0;
	const char *p = name;

	while (*p) {
		size_t len = strcspn(p, " ");

		if ((int)words >= argc || strlen(argv[words]) != len ||
		    strncmp(argv[words], p, len) != 0)
			return 0;
		words++;
		p += len;
		if (*p == ' ')
			p++;
	}
	return words;
}
