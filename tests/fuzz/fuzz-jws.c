/*
 * libFuzzer target: the JWS compact serialization verifier and peek
 * (lib/retas-jws.h). The input is a token as it would arrive in a file or
 * a request, checked against head office's fixed signing key. Besides the
 * sanitizers it asserts that every refusal names a reason, that a token
 * the verifier accepts reads the same through peek, and that the input
 * taken as a payload survives signing and verifying unchanged.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "retas-jws.h"
#include "retas-st.h"

static int same_string(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_keys();
	return 0;
}

static void check_token(const uint8_t *data, size_t size)
{
	const struct fuzz_keys *k = fuzz_keys();
	const char *token = (const char *)data;
	struct retas_jws *v = NULL, *p = NULL, *t = NULL;
	struct retas_error verr = {0}, perr = {0}, terr = {0};
	int rv, rp, rt;

	rv = retas_jws_verify(token, size, k->hq_sign_pk, NULL, &v, &verr);
	rp = retas_jws_peek(token, size, &p, &perr);
	rt = retas_jws_verify(token, size, k->hq_sign_pk, RETAS_ST_JWS_TYP, &t, &terr);
	if (rv < 0)
		FUZZ_CHECK_REFUSAL(rv, verr);
	if (rp < 0)
		FUZZ_CHECK_REFUSAL(rp, perr);
	if (rt < 0)
		FUZZ_CHECK_REFUSAL(rt, terr);
	if (rv == 0) {
		/* What verifies also decodes, to the same thing. */
		FUZZ_CHECK(rp == 0);
		FUZZ_CHECK(v->payload_len == p->payload_len);
		FUZZ_CHECK(memcmp(v->payload, p->payload, v->payload_len) == 0);
		FUZZ_CHECK(v->payload[v->payload_len] == 0);
		FUZZ_CHECK(strcmp(v->header, p->header) == 0);
		FUZZ_CHECK(same_string(v->typ, p->typ) && same_string(v->kid, p->kid));
		FUZZ_CHECK(rt == 0 || strcmp(terr.reason, "jws.typ") == 0);
	} else {
		FUZZ_CHECK(rt < 0);
	}
	retas_jws_free(v);
	retas_jws_free(p);
	retas_jws_free(t);
}

static void check_sign_roundtrip(const uint8_t *data, size_t size)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct retas_jws *v = NULL;
	struct retas_error err = {0};
	char *token = NULL;
	int r;

	r = retas_jws_sign(data, size, "fuzz+jws", "fuzz-kid", k->hq_sign_sk, &token, &err);
	if (size == 0) {
		FUZZ_CHECK_REFUSAL(r, err);
		return;
	}
	FUZZ_CHECK(r == 0);
	r = retas_jws_verify(token, strlen(token), k->hq_sign_pk, "fuzz+jws", &v, &err);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(v->payload_len == size && memcmp(v->payload, data, size) == 0);
	FUZZ_CHECK(same_string(v->kid, "fuzz-kid"));
	retas_jws_free(v);
	free(token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_token(data, size);
	check_sign_roundtrip(data, size);
	return 0;
}
