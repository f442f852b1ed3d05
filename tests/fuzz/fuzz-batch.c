/*
 * libFuzzer target: what head office parses before it trusts a batch. The
 * first byte picks the entry: 0 a batch file (framing, then the manifest
 * JWS), 1 a manifest payload signed with the fixed van key (so every field
 * check runs), 2 a receipt payload signed likewise, 3 a JWS as text.
 * Besides the sanitizers it asserts that every refusal names its reason
 * and that a parsed batch's parts lie inside the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "retas-jws.h"
#include "retas-manifest.h"
#include "sync-batch.h"
#include "sync-receipt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_keys();
	return 0;
}

static int inside(const void *p, size_t len, const uint8_t *buf, size_t size)
{
	const uint8_t *q = p;

	return q >= buf && len <= size && q - buf <= (ptrdiff_t)(size - len);
}

static void batch_file(const uint8_t *buf, size_t size)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct retas_manifest *m = NULL;
	struct sync_batch *b = NULL;
	struct retas_error err = {0};
	int r;

	r = sync_batch_parse(buf, size, &b, &err);
	if (r < 0) {
		FUZZ_CHECK_REFUSAL(r, err);
		return;
	}
	FUZZ_CHECK(inside(b->manifest, b->manifest_len, buf, size));
	for (size_t i = 0; i < b->n_records; i++)
		FUZZ_CHECK(inside(b->records[i].data, b->records[i].len, buf, size));
	r = retas_manifest_verify(b->manifest, b->manifest_len, k->device_pk, &m, &err);
	if (r < 0)
		FUZZ_CHECK_REFUSAL(r, err);
	else
		(void)retas_manifest_find(m, buf);
	retas_manifest_free(m);
	sync_batch_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct retas_manifest *m = NULL;
	struct sync_receipt *rc = NULL;
	struct retas_jws *j = NULL;
	struct retas_error err = {0};
	char *jws = NULL;
	int r;

	if (size < 1 || size > 1024 * 1024)
		return 0;
	switch (data[0] & 3) {
	case 0:
		batch_file(data + 1, size - 1);
		break;
	case 1:
		if (retas_jws_sign(data + 1, size - 1, RETAS_MANIFEST_JWS_TYP, NULL, k->device_sk,
				   &jws, NULL) < 0)
			break;
		r = retas_manifest_verify(jws, strlen(jws), k->device_pk, &m, &err);
		if (r < 0)
			FUZZ_CHECK_REFUSAL(r, err);
		else
			(void)retas_manifest_find(m, data);
		break;
	case 2:
		if (retas_jws_sign(data + 1, size - 1, SYNC_RECEIPT_JWS_TYP, NULL, k->device_sk,
				   &jws, NULL) < 0)
			break;
		r = sync_receipt_verify(jws, strlen(jws), k->device_pk, &rc, &err);
		if (r < 0)
			FUZZ_CHECK_REFUSAL(r, err);
		else
			(void)sync_receipt_find(rc, data);
		break;
	default:
		r = retas_manifest_verify((const char *)data + 1, size - 1, k->device_pk, &m, &err);
		if (r < 0)
			FUZZ_CHECK_REFUSAL(r, err);
		if (retas_jws_peek((const char *)data + 1, size - 1, &j, NULL) == 0)
			retas_jws_free(j);
		break;
	}
	retas_manifest_free(m);
	sync_receipt_free(rc);
	free(jws);
	return 0;
}
