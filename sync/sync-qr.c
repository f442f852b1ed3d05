/* Receipt QR tokens: fixed-size binary body, so parsing is a few bounds. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retas-b64.h"
#include "retas-i18n.h"
#include "retas-jws.h"
#include "retas-util.h"
#include "sync-qr.h"

#define QR_CONTEXT "retas-qr-v1"
#define QR_RAW_LEN (SYNC_QR_BODY_LEN + 64)

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void raw_kid(const uint8_t pk[32], uint8_t out[12])
{
	uint8_t h[32];

	crypto_hash_sha256(h, pk, 32);
	memcpy(out, h, 12);
}

static int npsn_valid(const char *s)
{
	if (strlen(s) != 8)
		return 0;
	for (int i = 0; i < 8; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static void signed_message(const uint8_t body[SYNC_QR_BODY_LEN], uint8_t *msg)
{
	memcpy(msg, QR_CONTEXT, strlen(QR_CONTEXT));
	memcpy(msg + strlen(QR_CONTEXT), body, SYNC_QR_BODY_LEN);
}

int sync_qr_make(const struct sync_qr *q, const uint8_t device_pk[32], const uint8_t device_sk[64],
		 char **out)
{
	_cleanup_(freep) char *b64 = NULL;
	uint8_t raw[QR_RAW_LEN], msg[sizeof(QR_CONTEXT) - 1 + SYNC_QR_BODY_LEN];
	char *tok;
	int r;

	if (!npsn_valid(q->npsn) ||
	    !retas_date_is_valid(q->date.year, q->date.month, q->date.day) || q->date.year < 1900 ||
	    q->date.year > 9999)
		return -EINVAL;
	raw[0] = 1;
	raw_kid(device_pk, raw + 1);
	memcpy(raw + 13, q->record_id, 16);
	put_u32(raw + 29, (uint32_t)strtoul(q->npsn, NULL, 10));
	put_u32(raw + 33, (uint32_t)(q->date.year * 10000 + q->date.month * 100 + q->date.day));
	memcpy(raw + 37, q->record_hash, 32);
	signed_message(raw, msg);
	crypto_sign_detached(raw + SYNC_QR_BODY_LEN, NULL, msg, sizeof(msg), device_sk);
	r = retas_b64url_encode(raw, sizeof(raw), &b64);
	if (r < 0)
		return r;
	if (asprintf(&tok, SYNC_QR_PREFIX "%s", b64) < 0)
		return -ENOMEM;
	*out = tok;
	return 0;
}

static int decode(const char *token, size_t len, uint8_t raw[QR_RAW_LEN], struct sync_qr *q,
		  struct retas_error *err)
{
	_cleanup_(freep) uint8_t *bytes = NULL;
	size_t n = 0;
	uint32_t npsn, ymd;

	if (!token || len != SYNC_QR_TOKEN_LEN || memcmp(token, SYNC_QR_PREFIX, 4) != 0)
		goto bad;
	if (retas_b64url_decode(token + 4, len - 4, &bytes, &n) < 0 || n != QR_RAW_LEN)
		goto bad;
	memcpy(raw, bytes, QR_RAW_LEN);
	if (raw[0] != 1)
		goto bad;
	memset(q, 0, sizeof(*q));
	{
		_cleanup_(freep) char *kid = NULL;

		if (retas_b64url_encode(raw + 1, 12, &kid) < 0 || strlen(kid) != 16)
			goto bad;
		memcpy(q->kid, kid, 17);
	}
	memcpy(q->record_id, raw + 13, 16);
	npsn = get_u32(raw + 29);
	if (npsn > 99999999)
		goto bad;
	snprintf(q->npsn, sizeof(q->npsn), "%08u", npsn);
	ymd = get_u32(raw + 33);
	q->date.year = (int)(ymd / 10000);
	q->date.month = (int)(ymd / 100 % 100);
	q->date.day = (int)(ymd % 100);
	if (q->date.year < 1900 || !retas_date_is_valid(q->date.year, q->date.month, q->date.day))
		goto bad;
	memcpy(q->record_hash, raw + 37, 32);
	return 0;
bad:
	return retas_error_set(err, -EINVAL, "qr.format", N_("this is not a RETAS receipt token"));
}

int sync_qr_peek(const char *token, size_t len, struct sync_qr *out, struct retas_error *err)
{
	uint8_t raw[QR_RAW_LEN];

	return decode(token, len, raw, out, err);
}

int sync_qr_verify(const char *token, size_t len, const uint8_t device_pk[32], struct sync_qr *out,
		   struct retas_error *err)
{
	uint8_t raw[QR_RAW_LEN], kid[12], msg[sizeof(QR_CONTEXT) - 1 + SYNC_QR_BODY_LEN];
	struct sync_qr q;
	int r;

	r = decode(token, len, raw, &q, err);
	if (r < 0)
		return r;
	raw_kid(device_pk, kid);
	if (memcmp(kid, raw + 1, 12) != 0)
		return retas_error_set(err, -EPERM, "qr.key",
				       N_("the receipt token was made by another van"));
	signed_message(raw, msg);
	if (crypto_sign_verify_detached(raw + SYNC_QR_BODY_LEN, msg, sizeof(msg), device_pk) != 0)
		return retas_error_set(err, -EPERM, "qr.signature",
				       N_("the receipt token's signature does not verify"));
	*out = q;
	return 0;
}
