/*
 * tus header parsing. The protocol (tus.io/protocols/resumable-upload,
 * 1.0.0) writes Upload-Checksum and Upload-Metadata values in standard
 * base64 with padding, unlike the rest of the kit's base64url.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "hq-tus-headers.h"
#include "retas-json.h"
#include "retas-util.h"

int hq_tus_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t len;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	if (len == 0 || len > 19 || (s[0] == '0' && len > 1))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (UINT64_C(1) << 62))
		return -EINVAL;
	*out = v;
	return 0;
}

static int b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outmax, size_t *outlen)
{
	const char *end = NULL;

	if (sodium_base642bin(out, outmax, in, inlen, NULL, outlen, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != in + inlen)
		return -EINVAL;
	return 0;
}

int hq_tus_parse_checksum(const char *s, uint8_t sha256[32])
{
	const char *sp;
	size_t got = 0;

	if (!s)
		return -EINVAL;
	sp = strchr(s, ' ');
	if (!sp || sp == s)
		return -EINVAL;
	if ((size_t)(sp - s) != 6 || memcmp(s, "sha256", 6) != 0) {
		/* Name the algorithm problem only for a well-formed name. */
		for (const char *p = s; p < sp; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
				return -EINVAL;
		return -ENOTSUP;
	}
	if (strlen(sp + 1) != 44)
		return -EINVAL;
	if (b64_decode(sp + 1, 44, sha256, 32, &got) < 0 || got != 32)
		return -EINVAL;
	return 0;
}

static int utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		if (i + n >= len)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += n + 1;
	}
	return 1;
}

static int valid_key(const char *k, size_t len)
{
	if (len == 0 || len > 64)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (k[i] <= ' ' || k[i] > '~' || k[i] == ',')
			return 0;
	return 1;
}

int hq_tus_parse_metadata(const char *s, json_object **out)
{
	_cleanup_(json_object_putp) json_object *obj = NULL;
	uint8_t value[HQ_TUS_METADATA_MAX];
	const char *p = s, *end;

	if (!s)
		return -EINVAL;
	if (strlen(s) > HQ_TUS_METADATA_MAX)
		return -E2BIG;
	obj = json_object_new_object();
	if (!obj)
		return -ENOMEM;
	end = s + strlen(s);
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *pair_end = comma ? comma : end;
		const char *sp = memchr(p, ' ', (size_t)(pair_end - p));
		const char *kend = sp ? sp : pair_end;
		char key[65];
		size_t vlen = 0;
		json_object *v;

		/* tus allows spaces after the comma between pairs. */
		while (p < kend && *p == ' ')
			p++;
		if (!valid_key(p, (size_t)(kend - p)))
			return -EINVAL;
		memcpy(key, p, (size_t)(kend - p));
		key[kend - p] = 0;
		if (json_object_object_get_ex(obj, key, NULL))
			return -EINVAL;
		if (sp) {
			if (b64_decode(sp + 1, (size_t)(pair_end - sp - 1), value,
				       sizeof(value) - 1, &vlen) < 0)
				return -EINVAL;
			if (memchr(value, 0, vlen))
				return -EINVAL;
		}
		/* json-c keeps bytes as given; refuse what is not UTF-8 so
		 * the stored metadata stays valid JSON. */
		if (!utf8_valid(value, vlen))
			return -EINVAL;
		value[vlen] = 0;
		v = json_object_new_string_len((const char *)value, (int)vlen);
		if (!v)
			return -ENOMEM;
		json_object_object_add(obj, key, v);
		if (!comma)
			break;
		p = comma + 1;
		if (p == end)
			return -EINVAL;
	}
	*out = steal_ptr(obj);
	return 0;
}
