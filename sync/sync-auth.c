/*
 * Signed van requests. The signed string repeats every field of the header
 * except the signature, so nothing in the header can be swapped without
 * breaking it; method and path bind it to one request.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retas-b64.h"
#include "retas-i18n.h"
#include "retas-jws.h"
#include "retas-util.h"
#include "sync-auth.h"

static int signed_string(const char *method, const char *path, int64_t ts_ms, const char *nonce,
			 const char *kid, char **out)
{
	if (!method || !*method || !path || path[0] != '/' || strlen(path) > SYNC_AUTH_MAX_PATH ||
	    strpbrk(method, "\n\r ") || strpbrk(path, "\n\r"))
		return -EINVAL;
	if (asprintf(out, "retas-auth-v1\n%s\n%s\n%" PRId64 "\n%s\n%s", method, path, ts_ms, nonce,
		     kid) < 0)
		return -ENOMEM;
	return 0;
}

int sync_auth_sign(const char *method, const char *path, int64_t now_ms,
		   const uint8_t nonce[SYNC_AUTH_NONCE_LEN], const uint8_t device_pk[32],
		   const uint8_t device_sk[64], char **out)
{
	_cleanup_(freep) char *nonce_b64 = NULL, *msg = NULL, *sig_b64 = NULL;
	uint8_t sig[64];
	char kid[17];
	int r;

	if (now_ms < 0)
		return -EINVAL;
	retas_key_id(device_pk, kid);
	r = retas_b64url_encode(nonce, SYNC_AUTH_NONCE_LEN, &nonce_b64);
	if (r < 0)
		return r;
	r = signed_string(method, path, now_ms, nonce_b64, kid, &msg);
	if (r < 0)
		return r;
	crypto_sign_detached(sig, NULL, (const uint8_t *)msg, strlen(msg), device_sk);
	r = retas_b64url_encode(sig, sizeof(sig), &sig_b64);
	if (r < 0)
		return r;
	if (asprintf(out, "v1 kid=%s,ts=%" PRId64 ",nonce=%s,sig=%s", kid, now_ms, nonce_b64,
		     sig_b64) < 0)
		return -ENOMEM;
	return 0;
}

/* Copies the field "name=" at *p up to the next ',' (or the end when last)
 * into buf; advances *p past the separator. */
static int take_field(const char **p, const char *end, const char *name, int last, char *buf,
		      size_t bufsize)
{
	size_t nlen = strlen(name), vlen;
	const char *v, *stop;

	if ((size_t)(end - *p) < nlen || memcmp(*p, name, nlen) != 0)
		return -EINVAL;
	v = *p + nlen;
	stop = last ? end : memchr(v, ',', (size_t)(end - v));
	if (!stop)
		return -EINVAL;
	vlen = (size_t)(stop - v);
	if (vlen == 0 || vlen >= bufsize)
		return -EINVAL;
	memcpy(buf, v, vlen);
	buf[vlen] = 0;
	*p = last ? stop : stop + 1;
	return 0;
}

static int is_b64url(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

int sync_auth_parse(const char *value, size_t len, struct sync_auth *out, struct retas_error *err)
{
	struct sync_auth a = {0};
	const char *p = value, *end = value + len;
	char ts[24], sig[100];
	uint8_t nonce[SYNC_AUTH_NONCE_LEN];
	char *tend;
	long long t;

	if (!value || len > SYNC_AUTH_MAX_LEN || memchr(value, 0, len))
		goto bad;
	if (len < 3 || memcmp(p, "v1 ", 3) != 0)
		goto bad;
	p += 3;
	if (take_field(&p, end, "kid=", 0, a.kid, sizeof(a.kid)) < 0 || strlen(a.kid) != 16 ||
	    !is_b64url(a.kid))
		goto bad;
	if (take_field(&p, end, "ts=", 0, ts, sizeof(ts)) < 0)
		goto bad;
	if (take_field(&p, end, "nonce=", 0, a.nonce, sizeof(a.nonce)) < 0 ||
	    strlen(a.nonce) != 22 || retas_b64url_decode_key(a.nonce, nonce, sizeof(nonce)) < 0)
		goto bad;
	if (take_field(&p, end, "sig=", 1, sig, sizeof(sig)) < 0 || strlen(sig) != 86 ||
	    retas_b64url_decode_key(sig, a.sig, sizeof(a.sig)) < 0)
		goto bad;
	if (ts[0] < '0' || ts[0] > '9' || (ts[0] == '0' && ts[1]))
		goto bad;
	errno = 0;
	t = strtoll(ts, &tend, 10);
	if (errno || *tend || t < 0)
		goto bad;
	a.ts_ms = t;
	*out = a;
	return 0;
bad:
	return retas_error_set(err, -EINVAL, "auth.format", N_("the %s header is malformed"),
			       SYNC_AUTH_HEADER);
}

int sync_auth_verify(const struct sync_auth *a, const char *method, const char *path,
		     const uint8_t device_pk[32], struct retas_error *err)
{
	_cleanup_(freep) char *msg = NULL;
	char kid[17];
	int r;

	retas_key_id(device_pk, kid);
	if (!streq(kid, a->kid))
		return retas_error_set(err, -EPERM, "auth.signature",
				       N_("the request is signed for another key"));
	r = signed_string(method, path, a->ts_ms, a->nonce, a->kid, &msg);
	if (r < 0)
		return retas_error_set(err, r, "auth.format", N_("the request path is malformed"));
	if (crypto_sign_verify_detached(a->sig, (const uint8_t *)msg, strlen(msg), device_pk) != 0)
		return retas_error_set(err, -EPERM, "auth.signature",
				       N_("the request signature does not verify"));
	return 0;
}
