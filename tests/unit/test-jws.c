/*
 * JWS compact with EdDSA: round trip, every refusal with its own reason,
 * and RFC 8037 Appendix A.4 checked both ways (our signature must be the
 * RFC's bytes, since Ed25519 is deterministic, and the RFC's token must
 * verify), which ties this implementation to every other conforming one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "retas-b64.h"
#include "retas-jws.h"

/* RFC 8037 Appendix A.1 (key) and A.4 (signature of the payload below). */
#define RFC_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define RFC_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC_PAYLOAD "Example of Ed25519 signing"
#define RFC_TOKEN                                                                                  \
	"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."                                \
	"hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

struct keys {
	uint8_t pk[32], sk[64];
	uint8_t pk2[32], sk2[64];
};

static int setup(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));
	uint8_t seed[32];

	assert_int_equal(sodium_init() >= 0, 1);
	memset(seed, 7, sizeof(seed));
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	memset(seed, 9, sizeof(seed));
	crypto_sign_seed_keypair(k->pk2, k->sk2, seed);
	*state = k;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static char *b64(const void *p, size_t n)
{
	char *s = NULL;

	assert_int_equal(retas_b64url_encode(p, n, &s), 0);
	return s;
}

/* Builds a token from a header and payload text, signing with sk when not
 * NULL, else appending sig (a raw signature of siglen bytes). */
static char *make_token(const char *header, const char *payload, const uint8_t *sk,
			const uint8_t *sig, size_t siglen)
{
	char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload)), *s, *out;
	size_t n = strlen(h) + strlen(p) + 2;
	uint8_t mysig[64];
	char *input = malloc(n);

	snprintf(input, n, "%s.%s", h, p);
	if (sk) {
		crypto_sign_detached(mysig, NULL, (uint8_t *)input, strlen(input), sk);
		sig = mysig;
		siglen = 64;
	}
	s = siglen ? b64(sig, siglen) : strdup("");
	out = malloc(n + strlen(s) + 1);
	sprintf(out, "%s.%s", input, s);
	free(input);
	free(h);
	free(p);
	free(s);
	return out;
}

static void expect_refused(const char *token, size_t len, const uint8_t *pk, const char *typ,
			   const char *reason)
{
	struct retas_jws *jws = NULL;
	struct retas_error err = {0};
	int r = retas_jws_verify(token, len, pk, typ, &jws, &err);

	if (r >= 0 || strcmp(err.reason, reason) != 0)
		fail_msg("expected %s, got %d %s (%s)", reason, r, err.reason, err.message);
	assert_int_equal(err.code, r);
	assert_true(err.message[0] != '\0');
	assert_null(jws);
}

static void jws_round_trip(void **state)
{
	struct keys *k = *state;
	struct retas_error err = {0};
	struct retas_jws *jws = NULL;
	const char payload[] = "{\"a\":1}";
	char *token = NULL;

	assert_int_equal(
	    retas_jws_sign(payload, strlen(payload), "retas-st+jws", "kid-1", k->sk, &token, &err),
	    0);
	assert_int_equal(retas_jws_verify(token, strlen(token), k->pk, "retas-st+jws", &jws, &err),
			 0);
	assert_string_equal(jws->header,
			    "{\"alg\":\"EdDSA\",\"typ\":\"retas-st+jws\",\"kid\":\"kid-1\"}");
	assert_string_equal(jws->typ, "retas-st+jws");
	assert_string_equal(jws->kid, "kid-1");
	assert_int_equal(jws->payload_len, strlen(payload));
	assert_memory_equal(jws->payload, payload, strlen(payload) + 1);
	retas_jws_free(jws);
	jws = NULL;
	/* No expected typ: any typ is fine. */
	assert_int_equal(retas_jws_verify(token, strlen(token), k->pk, NULL, &jws, &err), 0);
	retas_jws_free(jws);
	free(token);

	/* Without typ and kid the header is alg alone. */
	assert_int_equal(retas_jws_sign("x", 1, NULL, NULL, k->sk, &token, &err), 0);
	assert_int_equal(retas_jws_verify(token, strlen(token), k->pk, NULL, &jws, &err), 0);
	assert_string_equal(jws->header, "{\"alg\":\"EdDSA\"}");
	assert_null(jws->typ);
	assert_null(jws->kid);
	retas_jws_free(jws);
	free(token);
}

static void jws_sign_refuses_empty_payload(void **state)
{
	struct keys *k = *state;
	struct retas_error err = {0};
	char *token = NULL;

	assert_int_equal(retas_jws_sign("", 0, NULL, NULL, k->sk, &token, &err), -EINVAL);
	assert_string_equal(err.reason, "jws.format");
	assert_null(token);
}

static void jws_tampered_header_refused(void **state)
{
	struct keys *k = *state;
	char *good = make_token("{\"alg\":\"EdDSA\",\"kid\":\"a\"}", "{}", k->sk, NULL, 0);
	char *other = make_token("{\"alg\":\"EdDSA\",\"kid\":\"b\"}", "{}", k->sk, NULL, 0);
	char *mixed = malloc(strlen(good) + strlen(other) + 1);
	const char *good_rest = strchr(good, '.');

	/* The other header (a valid one) with the good payload and signature. */
	memcpy(mixed, other, (size_t)(strchr(other, '.') - other));
	strcpy(mixed + (strchr(other, '.') - other), good_rest);
	expect_refused(mixed, strlen(mixed), k->pk, NULL, "jws.signature");
	/* A header that no longer decodes to JSON. */
	strcpy(mixed, good);
	mixed[1] = 'X';
	expect_refused(mixed, strlen(mixed), k->pk, NULL, "jws.header");
	free(good);
	free(other);
	free(mixed);
}

static void jws_tampered_payload_refused(void **state)
{
	struct keys *k = *state;
	char *good = make_token("{\"alg\":\"EdDSA\"}", "{\"nomor\":\"1\"}", k->sk, NULL, 0);
	char *other = make_token("{\"alg\":\"EdDSA\"}", "{\"nomor\":\"2\"}", k->sk, NULL, 0);
	char *p1 = strchr(good, '.') + 1, *p2 = strchr(other, '.') + 1;

	/* Same length payload segments: swap the payload only. */
	assert_int_equal(strchr(p1, '.') - p1, strchr(p2, '.') - p2);
	memcpy(p1, p2, (size_t)(strchr(p2, '.') - p2));
	expect_refused(good, strlen(good), k->pk, NULL, "jws.signature");
	free(good);
	free(other);
}

static void jws_tampered_signature_refused(void **state)
{
	struct keys *k = *state;
	char *t = make_token("{\"alg\":\"EdDSA\"}", "{}", k->sk, NULL, 0);
	char *sig = strrchr(t, '.') + 1;

	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	expect_refused(t, strlen(t), k->pk, NULL, "jws.signature");
	free(t);
	/* A signature of the wrong length. */
	t = make_token("{\"alg\":\"EdDSA\"}", "{}", NULL, (const uint8_t *)"0123456789abcdef", 16);
	expect_refused(t, strlen(t), k->pk, NULL, "jws.signature");
	free(t);
}

static void jws_wrong_key_refused(void **state)
{
	struct keys *k = *state;
	struct retas_error err = {0};
	char *token = NULL;

	assert_int_equal(retas_jws_sign("{}", 2, NULL, NULL, k->sk, &token, &err), 0);
	expect_refused(token, strlen(token), k->pk2, NULL, "jws.signature");
	free(token);
}

static void jws_alg_none_refused(void **state)
{
	struct keys *k = *state;
	char *t = make_token("{\"alg\":\"none\"}", "{}", NULL, NULL, 0);

	/* The unsecured form "h.p." has an empty signature segment. */
	expect_refused(t, strlen(t), k->pk, NULL, "jws.format");
	free(t);
	/* Even with a valid Ed25519 signature over it, alg none is refused. */
	t = make_token("{\"alg\":\"none\"}", "{}", k->sk, NULL, 0);
	expect_refused(t, strlen(t), k->pk, NULL, "jws.alg");
	free(t);
	t = make_token("{\"alg\":\"NONE\"}", "{}", k->sk, NULL, 0);
	expect_refused(t, strlen(t), k->pk, NULL, "jws.alg");
	free(t);
}

static void jws_alg_hs256_refused(void **state)
{
	struct keys *k = *state;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	char *h = b64("{\"alg\":\"HS256\"}", 15), *p = b64("{}", 2), *input, *s, *t;

	/* The classic confusion: an HMAC keyed with the public key. */
	assert_int_equal(asprintf(&input, "%s.%s", h, p) > 0, 1);
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, k->pk, 32);
	crypto_auth_hmacsha256_update(&st, (uint8_t *)input, strlen(input));
	crypto_auth_hmacsha256_final(&st, mac);
	s = b64(mac, sizeof(mac));
	assert_int_equal(asprintf(&t, "%s.%s", input, s) > 0, 1);
	expect_refused(t, strlen(t), k->pk, NULL, "jws.alg");
	free(h);
	free(p);
	free(input);
	free(s);
	free(t);
}

static void jws_alg_missing_or_odd_refused(void **state)
{
	struct keys *k = *state;
	static const char *const headers[] = {
	    "{\"typ\":\"x\"}",	   "{\"alg\":1}",	    "{\"alg\":\"EdDSA \"}",
	    "{\"alg\":\"ES256\"}", "{\"alg\":\"Ed25519\"}",
	};

	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		char *t = make_token(headers[i], "{}", k->sk, NULL, 0);

		expect_refused(t, strlen(t), k->pk, NULL, "jws.alg");
		free(t);
	}
}

static void jws_crit_refused(void **state)
{
	struct keys *k = *state;
	char *t =
	    make_token("{\"alg\":\"EdDSA\",\"crit\":[\"exp\"],\"exp\":1}", "{}", k->sk, NULL, 0);

	expect_refused(t, strlen(t), k->pk, NULL, "jws.crit");
	free(t);
}

static void jws_unknown_header_members_ignored(void **state)
{
	struct keys *k = *state;
	struct retas_jws *jws = NULL;
	struct retas_error err = {0};
	char *t = make_token("{\"alg\":\"EdDSA\",\"x5u\":\"https://x\",\"foo\":{\"bar\":[1]},"
			     "\"typ\":\"retas-st+jws\"}",
			     "{}", k->sk, NULL, 0);

	assert_int_equal(retas_jws_verify(t, strlen(t), k->pk, "retas-st+jws", &jws, &err), 0);
	assert_string_equal(jws->typ, "retas-st+jws");
	retas_jws_free(jws);
	free(t);
}

static void jws_header_not_object_refused(void **state)
{
	struct keys *k = *state;
	static const char *const headers[] = {
	    "[\"alg\",\"EdDSA\"]",
	    "\"EdDSA\"",
	    "null",
	    "{\"alg\":\"EdDSA\"",
	    "{\"alg\":\"EdDSA\"} x",
	    "{\"alg\":\"EdDSA\",\"kid\":5}",
	    "{\"alg\":\"EdDSA\",\"typ\":null}",
	};

	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		char *t = make_token(headers[i], "{}", k->sk, NULL, 0);

		expect_refused(t, strlen(t), k->pk, NULL, "jws.header");
		free(t);
	}
}

static void jws_header_with_nul_refused(void **state)
{
	struct keys *k = *state;
	static const char hdr[] = "{\"alg\":\"EdDSA\"}\0{\"alg\":\"none\"}";
	char *h = b64(hdr, sizeof(hdr) - 1), *p = b64("{}", 2), *input, *s, *t;
	uint8_t sig[64];

	assert_int_equal(asprintf(&input, "%s.%s", h, p) > 0, 1);
	crypto_sign_detached(sig, NULL, (uint8_t *)input, strlen(input), k->sk);
	s = b64(sig, 64);
	assert_int_equal(asprintf(&t, "%s.%s", input, s) > 0, 1);
	expect_refused(t, strlen(t), k->pk, NULL, "jws.header");
	free(h);
	free(p);
	free(input);
	free(s);
	free(t);
}

static void jws_typ_checked(void **state)
{
	struct keys *k = *state;
	struct retas_error err = {0};
	char *token = NULL;

	assert_int_equal(retas_jws_sign("{}", 2, "retas-manifest+jws", NULL, k->sk, &token, &err),
			 0);
	expect_refused(token, strlen(token), k->pk, "retas-st+jws", "jws.typ");
	free(token);
	assert_int_equal(retas_jws_sign("{}", 2, NULL, NULL, k->sk, &token, &err), 0);
	expect_refused(token, strlen(token), k->pk, "retas-st+jws", "jws.typ");
	free(token);
}

static void jws_segment_count_refused(void **state)
{
	struct keys *k = *state;
	struct retas_error err = {0};
	char *token = NULL, *t;

	assert_int_equal(retas_jws_sign("{}", 2, NULL, NULL, k->sk, &token, &err), 0);
	/* Two segments: drop the signature. */
	t = strndup(token, (size_t)(strrchr(token, '.') - token));
	expect_refused(t, strlen(t), k->pk, NULL, "jws.format");
	free(t);
	/* Four segments: the JWE-like or doubled form. */
	assert_int_equal(asprintf(&t, "%s.AAAA", token) > 0, 1);
	expect_refused(t, strlen(t), k->pk, NULL, "jws.format");
	free(t);
	/* One segment, and nothing at all. */
	expect_refused("eyJhbGciOiJFZERTQSJ9", 20, k->pk, NULL, "jws.format");
	expect_refused("", 0, k->pk, NULL, "jws.format");
	expect_refused("..", 2, k->pk, NULL, "jws.format");
	/* Empty header or payload segment. */
	t = strdup(token);
	expect_refused(strchr(t, '.'), strlen(strchr(t, '.')), k->pk, NULL, "jws.format");
	free(t);
	assert_int_equal(asprintf(&t, "eyJhbGciOiJFZERTQSJ9..%s", strrchr(token, '.') + 1) > 0, 1);
	expect_refused(t, strlen(t), k->pk, NULL, "jws.format");
	free(t);
	free(token);
}

static void jws_bad_base64_refused(void **state)
{
	struct keys *k = *state;
	struct retas_error err = {0};
	char *token = NULL, *t;
	size_t hlen;

	assert_int_equal(retas_jws_sign("{\"a\":12}", 8, NULL, NULL, k->sk, &token, &err), 0);
	hlen = (size_t)(strchr(token, '.') - token);
	/* A character outside the url-safe alphabet in each segment. */
	t = strdup(token);
	t[3] = '+';
	expect_refused(t, strlen(t), k->pk, NULL, "jws.base64");
	strcpy(t, token);
	t[hlen + 2] = '/';
	expect_refused(t, strlen(t), k->pk, NULL, "jws.base64");
	strcpy(t, token);
	t[strlen(t) - 20] = '=';
	expect_refused(t, strlen(t), k->pk, NULL, "jws.base64");
	/* Padding is not allowed either. */
	free(t);
	assert_int_equal(asprintf(&t, "eyJhbGciOiJFZERTQSJ9.e30=.%s", strrchr(token, '.') + 1) > 0,
			 1);
	expect_refused(t, strlen(t), k->pk, NULL, "jws.base64");
	free(t);
	/* A length no byte string encodes to (1 mod 4). */
	assert_int_equal(asprintf(&t, "eyJhbGciOiJFZERTQSJ9A.e30.%s", strrchr(token, '.') + 1) > 0,
			 1);
	expect_refused(t, strlen(t), k->pk, NULL, "jws.base64");
	free(t);
	/* Non-zero unused bits in the last character ("e31" is not canonical). */
	assert_int_equal(asprintf(&t, "eyJhbGciOiJFZERTQSJ9.e31.%s", strrchr(token, '.') + 1) > 0,
			 1);
	expect_refused(t, strlen(t), k->pk, NULL, "jws.base64");
	free(t);
	free(token);
}

static void jws_trailing_bytes_refused(void **state)
{
	struct keys *k = *state;
	struct retas_error err = {0};
	static const char *const tails[] = {"\n", "\r\n", " ", "\t", " garbage", "\nxyz"};
	char *token = NULL, *t;
	size_t n;

	assert_int_equal(retas_jws_sign("{}", 2, NULL, NULL, k->sk, &token, &err), 0);
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		assert_int_equal(asprintf(&t, "%s%s", token, tails[i]) > 0, 1);
		expect_refused(t, strlen(t), k->pk, NULL, "jws.trailing");
		free(t);
	}
	/* A NUL inside len. */
	n = strlen(token);
	t = malloc(n + 2);
	memcpy(t, token, n + 1);
	t[n + 1] = 'A';
	expect_refused(t, n + 2, k->pk, NULL, "jws.trailing");
	free(t);
	/* Extra base64url characters after the signature make it the wrong
	 * size; extra other characters make it bad base64url. */
	assert_int_equal(asprintf(&t, "%sAAAA", token) > 0, 1);
	expect_refused(t, strlen(t), k->pk, NULL, "jws.signature");
	free(t);
	assert_int_equal(asprintf(&t, "%s!x", token) > 0, 1);
	expect_refused(t, strlen(t), k->pk, NULL, "jws.base64");
	free(t);
	free(token);
}

static void jws_oversize_refused(void **state)
{
	struct keys *k = *state;
	struct retas_error err = {0};
	struct retas_jws *jws = NULL;
	size_t n = RETAS_JWS_MAX_LEN + 1, plen;
	char *big = malloc(n), *token = NULL;
	uint8_t *payload;

	memset(big, 'A', n);
	big[100] = '.';
	big[200] = '.';
	expect_refused(big, n, k->pk, NULL, "jws.size");
	free(big);

	/* The largest payload whose token fits is accepted both ways; one
	 * byte more is refused when signing. The header is 20 characters, the
	 * signature 86, so the payload's base64url may take MAX - 108. */
	plen = (RETAS_JWS_MAX_LEN - 108) / 4 * 3;
	while ((plen + 1) * 4 / 3 + ((plen + 1) % 3 ? 1 : 0) + 108 <= RETAS_JWS_MAX_LEN)
		plen++;
	payload = calloc(1, plen + 1);
	memset(payload, 'x', plen);
	assert_int_equal(retas_jws_sign(payload, plen, NULL, NULL, k->sk, &token, &err), 0);
	assert_true(strlen(token) <= RETAS_JWS_MAX_LEN);
	assert_true(strlen(token) >= RETAS_JWS_MAX_LEN - 2);
	assert_int_equal(retas_jws_verify(token, strlen(token), k->pk, NULL, &jws, &err), 0);
	assert_int_equal(jws->payload_len, plen);
	retas_jws_free(jws);
	free(token);
	token = NULL;
	assert_int_equal(retas_jws_sign(payload, plen + 1, NULL, NULL, k->sk, &token, &err),
			 -E2BIG);
	assert_string_equal(err.reason, "jws.size");
	assert_null(token);
	free(payload);
}

static void jws_peek_reads_unverified(void **state)
{
	struct keys *k = *state;
	struct retas_error err = {0};
	struct retas_jws *jws = NULL;
	char *t = make_token("{\"alg\":\"none\",\"kid\":\"k7\"}", "{\"x\":1}", NULL,
			     (const uint8_t *)"sig", 3);

	assert_int_equal(retas_jws_peek(t, strlen(t), &jws, &err), 0);
	assert_string_equal(jws->kid, "k7");
	assert_string_equal((char *)jws->payload, "{\"x\":1}");
	retas_jws_free(jws);
	jws = NULL;
	/* Structure is still checked. */
	assert_int_equal(retas_jws_peek("a.b", 3, &jws, &err), -EINVAL);
	assert_string_equal(err.reason, "jws.format");
	assert_null(jws);
	free(t);
	(void)k;
}

static void jws_key_id_format(void **state)
{
	uint8_t pk[32];
	char kid[17];

	assert_int_equal(retas_b64url_decode_key(RFC_X, pk, 32), 0);
	retas_key_id(pk, kid);
	/* base64url(SHA-256(x)[0..12]) for the RFC 8037 A.1 public key. */
	assert_string_equal(kid, "If4x36FUomFia_hU");
	assert_int_equal(strlen(kid), 16);
}

static void jws_rfc8037_a4_sign(void **state)
{
	struct retas_error err = {0};
	uint8_t seed[32], pk[32], sk[64], x[32];
	char *token = NULL;

	assert_int_equal(retas_b64url_decode_key(RFC_D, seed, 32), 0);
	assert_int_equal(retas_b64url_decode_key(RFC_X, x, 32), 0);
	crypto_sign_seed_keypair(pk, sk, seed);
	assert_memory_equal(pk, x, 32);
	assert_int_equal(
	    retas_jws_sign(RFC_PAYLOAD, strlen(RFC_PAYLOAD), NULL, NULL, sk, &token, &err), 0);
	assert_string_equal(token, RFC_TOKEN);
	free(token);
}

static void jws_rfc8037_a4_verify(void **state)
{
	struct retas_error err = {0};
	struct retas_jws *jws = NULL;
	uint8_t x[32];

	assert_int_equal(retas_b64url_decode_key(RFC_X, x, 32), 0);
	assert_int_equal(retas_jws_verify(RFC_TOKEN, strlen(RFC_TOKEN), x, NULL, &jws, &err), 0);
	assert_int_equal(jws->payload_len, strlen(RFC_PAYLOAD));
	assert_memory_equal(jws->payload, RFC_PAYLOAD, strlen(RFC_PAYLOAD));
	assert_string_equal(jws->header, "{\"alg\":\"EdDSA\"}");
	retas_jws_free(jws);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jws_round_trip),
		cmocka_unit_test(jws_sign_refuses_empty_payload),
		cmocka_unit_test(jws_tampered_header_refused),
		cmocka_unit_test(jws_tampered_payload_refused),
		cmocka_unit_test(jws_tampered_signature_refused),
		cmocka_unit_test(jws_wrong_key_refused),
		cmocka_unit_test(jws_alg_none_refused),
		cmocka_unit_test(jws_alg_hs256_refused),
		cmocka_unit_test(jws_alg_missing_or_odd_refused),
		cmocka_unit_test(jws_crit_refused),
		cmocka_unit_test(jws_unknown_header_members_ignored),
		cmocka_unit_test(jws_header_not_object_refused),
		cmocka_unit_test(jws_header_with_nul_refused),
		cmocka_unit_test(jws_typ_checked),
		cmocka_unit_test(jws_segment_count_refused),
		cmocka_unit_test(jws_bad_base64_refused),
		cmocka_unit_test(jws_trailing_bytes_refused),
		cmocka_unit_test(jws_oversize_refused),
		cmocka_unit_test(jws_peek_reads_unverified),
		cmocka_unit_test(jws_key_id_format),
		cmocka_unit_test(jws_rfc8037_a4_sign),
		cmocka_unit_test(jws_rfc8037_a4_verify),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
