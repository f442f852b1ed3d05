/*
 * JWS compact serialization with EdDSA/Ed25519 (RFC 7515, RFC 8037).
 *
 * The verifier is deliberately narrow: exactly three non-empty base64url
 * segments, nothing after the signature, a protected header that is a JSON
 * object naming alg "EdDSA" and no critical extension, and a 64-byte
 * signature that libsodium accepts over the ASCII of the first two segments
 * as received. Structure is checked before any cryptography so that a
 * malformed token is named as such, and the algorithm is checked before the
 * signature so that "none" or HS256 can never reach a verification path.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "retas-b64.h"
#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-jws.h"
#include "retas-util.h"

#define SIG_B64_LEN 86 /* base64url without padding of 64 bytes */

RETAS_DEFINE_CLEANUP(struct retas_jws, retas_jws_free)

static bool is_b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

void retas_jws_free(struct retas_jws *jws)
{
	if (!jws)
		return;
	free(jws->header);
	free(jws->typ);
	free(jws->kid);
	free(jws->payload);
	free(jws);
}

void retas_key_id(const uint8_t pk[32], char *buf)
{
	uint8_t digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, pk, 32);
	/* 12 bytes encode to exactly 16 characters, no padding needed. */
	sodium_bin2base64(buf, 17, digest, 12, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int build_header(const char *typ, const char *kid, char **out)
{
	_cleanup_(json_object_putp) json_object *h = json_object_new_object();

	if (!h)
		return -ENOMEM;
	if (json_object_object_add(h, "alg", json_object_new_string("EdDSA")) < 0)
		return -ENOMEM;
	if (typ && json_object_object_add(h, "typ", json_object_new_string(typ)) < 0)
		return -ENOMEM;
	if (kid && json_object_object_add(h, "kid", json_object_new_string(kid)) < 0)
		return -ENOMEM;
	return retas_json_to_string(h, out);
}

int retas_jws_sign(const void *payload, size_t len, const char *typ, const char *kid,
		   const uint8_t sk[64], char **out, struct retas_error *err)
{
	_cleanup_(freep) char *header = NULL, *h64 = NULL, *p64 = NULL, *s64 = NULL;
	uint8_t sig[crypto_sign_BYTES];
	size_t hlen, plen, total;
	char *token = NULL;
	int r;

	if (!payload || len == 0) {
		r = retas_error_set(err, -EINVAL, "jws.format",
				    N_("The payload to sign is empty."));
		goto out;
	}
	r = build_header(typ, kid, &header);
	if (r < 0)
		goto oom;
	r = retas_b64url_encode(header, strlen(header), &h64);
	if (r < 0)
		goto oom;
	r = retas_b64url_encode(payload, len, &p64);
	if (r < 0)
		goto oom;
	hlen = strlen(h64);
	plen = strlen(p64);
	total = hlen + 1 + plen + 1 + SIG_B64_LEN;
	if (total > RETAS_JWS_MAX_LEN) {
		r = retas_error_set(
		    err, -E2BIG, "jws.size",
		    N_("The signed token would be %zu bytes, more than the limit of "
		       "%d."),
		    total, RETAS_JWS_MAX_LEN);
		goto out;
	}
	token = malloc(total + 1);
	if (!token) {
		r = -ENOMEM;
		goto oom;
	}
	memcpy(token, h64, hlen);
	token[hlen] = '.';
	memcpy(token + hlen + 1, p64, plen);
	crypto_sign_detached(sig, NULL, (const uint8_t *)token, hlen + 1 + plen, sk);
	r = retas_b64url_encode(sig, sizeof(sig), &s64);
	if (r < 0) {
		free(token);
		goto oom;
	}
	token[hlen + 1 + plen] = '.';
	memcpy(token + hlen + 1 + plen + 1, s64, SIG_B64_LEN + 1);
	*out = token;
	r = 0;
	goto out;
oom:
	r = retas_error_set(err, r, "jws.memory", N_("Out of memory while signing."));
out:
	return r;
}

/* Positions of the three segments within token. */
struct segments {
	const char *part[3];
	size_t len[3];
};

static const char *const segment_names[3] = {N_("header"), N_("payload"), N_("signature")};

static int split(const char *token, size_t len, struct segments *seg, struct retas_error *err)
{
	size_t dots = 0, start = 0, end;

	if (!token || len == 0)
		return retas_error_set(err, -EINVAL, "jws.format", N_("The token is empty."));
	if (len > RETAS_JWS_MAX_LEN)
		return retas_error_set(err, -E2BIG, "jws.size",
				       N_("The token is %zu bytes, more than the limit of %d."),
				       len, RETAS_JWS_MAX_LEN);
	end = len;
	for (size_t i = 0; i < len; i++) {
		if (token[i] == '.')
			dots++;
	}
	if (dots != 2)
		return retas_error_set(err, -EINVAL, "jws.format",
				       N_("The token has %zu segments; a compact JWS has exactly "
					  "3."),
				       dots + 1);
	/*
	 * Whitespace, a control byte or a NUL after the signature's base64url
	 * run (a newline from a file, a second token after a space) is named
	 * trailing data rather than a bad signature, so the person reading the
	 * error knows to look at the end of the file.
	 */
	{
		const char *last = memrchr(token, '.', len);
		size_t i = (size_t)(last - token) + 1;
		unsigned char c;

		while (i < len && is_b64url_char(token[i]))
			i++;
		c = i < len ? (unsigned char)token[i] : 'A';
		if (c <= ' ' || c == 0x7f)
			return retas_error_set(err, -EINVAL, "jws.trailing",
					       N_("The token has %zu unexpected bytes after its "
						  "signature."),
					       len - i);
	}
	for (int k = 0; k < 3; k++) {
		const char *dot = k < 2 ? memchr(token + start, '.', end - start) : NULL;
		size_t stop = dot ? (size_t)(dot - token) : end;

		seg->part[k] = token + start;
		seg->len[k] = stop - start;
		if (seg->len[k] == 0)
			return retas_error_set(err, -EINVAL, "jws.format",
					       N_("The token's %s segment is empty."),
					       _(segment_names[k]));
		start = stop + 1;
	}
	return 0;
}

static int decode_segment(const struct segments *seg, int k, uint8_t **out, size_t *outlen,
			  struct retas_error *err)
{
	int r = retas_b64url_decode(seg->part[k], seg->len[k], out, outlen);

	if (r == -ENOMEM)
		return retas_error_set(err, r, "jws.memory", N_("Out of memory while decoding."));
	if (r < 0)
		return retas_error_set(err, -EINVAL, "jws.base64",
				       N_("The token's %s segment is not valid base64url."),
				       _(segment_names[k]));
	return 0;
}

static int dup_member(json_object *h, const char *name, char **out, struct retas_error *err)
{
	const char *s = NULL;
	int r;

	/* Present as null is not absent: only a string is a typ or kid. */
	if (!json_object_object_get_ex(h, name, NULL))
		return 0;
	r = retas_json_get_string(h, name, &s);
	if (r < 0)
		return retas_error_set(err, -EINVAL, "jws.header",
				       N_("The token's header member \"%s\" is not a string."),
				       name);
	*out = strdup(s);
	if (!*out)
		return retas_error_set(err, -ENOMEM, "jws.memory",
				       N_("Out of memory while decoding."));
	return 0;
}

/*
 * Splits and decodes token into a new struct; checks alg and crit when
 * strict. The signature segment is decoded into sig (64 bytes) when strict.
 */
static int decode(const char *token, size_t len, bool strict, uint8_t sig[64],
		  struct retas_jws **out, struct retas_error *err)
{
	_cleanup_(retas_jws_freep) struct retas_jws *jws = NULL;
	_cleanup_(json_object_putp) json_object *h = NULL;
	_cleanup_(freep) uint8_t *sigbuf = NULL;
	struct segments seg;
	uint8_t *buf = NULL;
	const char *alg = NULL;
	json_object *crit = NULL;
	size_t n = 0, hlen;
	int r;

	r = split(token, len, &seg, err);
	if (r < 0)
		goto out;
	jws = calloc(1, sizeof(*jws));
	if (!jws) {
		r = retas_error_set(err, -ENOMEM, "jws.memory",
				    N_("Out of memory while decoding."));
		goto out;
	}
	r = decode_segment(&seg, 0, &buf, &n, err);
	if (r < 0)
		goto out;
	jws->header = (char *)buf;
	hlen = n;
	r = decode_segment(&seg, 1, &jws->payload, &jws->payload_len, err);
	if (r < 0)
		goto out;
	r = decode_segment(&seg, 2, &sigbuf, &n, err);
	if (r < 0)
		goto out;
	/* A NUL inside the header would hide bytes from readers that stop at
	 * it, so the JSON must be all of the decoded bytes. */
	if (memchr(jws->header, 0, hlen) || retas_json_parse(jws->header, hlen, &h) < 0 ||
	    !json_object_is_type(h, json_type_object)) {
		r = retas_error_set(err, -EINVAL, "jws.header",
				    N_("The token's header is not a JSON object."));
		goto out;
	}
	r = dup_member(h, "typ", &jws->typ, err);
	if (r < 0)
		goto out;
	r = dup_member(h, "kid", &jws->kid, err);
	if (r < 0)
		goto out;
	if (strict) {
		r = retas_json_get_string(h, "alg", &alg);
		if (r < 0 || !streq(alg, "EdDSA")) {
			r = retas_error_set(err, -EINVAL, "jws.alg",
					    N_("The token's algorithm is \"%.32s\"; only EdDSA is "
					       "accepted."),
					    r < 0 ? "" : alg);
			goto out;
		}
		/* RFC 7515 §4.1.11: a recipient that does not understand
		 * every listed extension must refuse; this one understands
		 * none. */
		if (json_object_object_get_ex(h, "crit", &crit)) {
			r = retas_error_set(err, -EINVAL, "jws.crit",
					    N_("The token's header lists critical extensions "
					       "(\"crit\"), which are not supported."));
			goto out;
		}
		if (n != crypto_sign_BYTES) {
			r = retas_error_set(err, -EINVAL, "jws.signature",
					    N_("The token's signature is %zu bytes; Ed25519 "
					       "signatures are 64."),
					    n);
			goto out;
		}
		memcpy(sig, sigbuf, crypto_sign_BYTES);
	}
	*out = steal_ptr(jws);
	r = 0;
out:
	return r;
}

int retas_jws_verify(const char *token, size_t len, const uint8_t pk[32], const char *expect_typ,
		     struct retas_jws **out, struct retas_error *err)
{
	_cleanup_(retas_jws_freep) struct retas_jws *jws = NULL;
	uint8_t sig[crypto_sign_BYTES];
	size_t signed_len;
	int r;

	r = decode(token, len, true, sig, &jws, err);
	if (r < 0)
		goto out;
	signed_len = (size_t)((const char *)memrchr(token, '.', len) - token);
	if (crypto_sign_verify_detached(sig, (const uint8_t *)token, signed_len, pk) != 0) {
		r = retas_error_set(err, -EBADMSG, "jws.signature",
				    N_("The token's signature does not match its content and the "
				       "signing key."));
		goto out;
	}
	if (expect_typ && (!jws->typ || !streq(jws->typ, expect_typ))) {
		r = retas_error_set(err, -EINVAL, "jws.typ",
				    N_("The token's type is \"%.48s\"; expected \"%s\"."),
				    jws->typ ? jws->typ : "", expect_typ);
		goto out;
	}
	*out = steal_ptr(jws);
	r = 0;
out:
	return r;
}

int retas_jws_peek(const char *token, size_t len, struct retas_jws **out, struct retas_error *err)
{
	return decode(token, len, false, NULL, out, err);
}
