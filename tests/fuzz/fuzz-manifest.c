/*
 * libFuzzer target: what head office parses before it trusts a batch. The
 * first byte picks the entry: 0 a batch file (framing, then the manifest
 * JWS), 1 a manifest payload signed with the fixed van key (so every field
 * check runs), 2 a receipt payload signed likewise, 3 a JWS as text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz-keys.h"
#include "retas-jws.h"
#include "retas-manifest.h"
#include "sync-batch.h"
#include "sync-receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_keys k;
	static int ready;
	struct retas_manifest *m = NULL;
	struct sync_receipt *rc = NULL;
	struct sync_batch *b = NULL;
	struct retas_jws *j = NULL;
	char *jws = NULL;

	if (!ready) {
		fuzz_keys(&k);
		ready = 1;
	}
	if (size < 1 || size > 1024 * 1024)
		return 0;
	switch (data[0] & 3) {
	case 0:
		if (sync_batch_parse(data + 1, size - 1, &b, NULL) == 0) {
			if (retas_manifest_verify(b->manifest, b->manifest_len, k.dev_pk, &m,
						  NULL) == 0)
				(void)retas_manifest_find(m, data);
			sync_batch_free(b);
		}
		break;
	case 1:
		if (retas_jws_sign(data + 1, size - 1, RETAS_MANIFEST_JWS_TYP, NULL, k.dev_sk, &jws,
				   NULL) == 0 &&
		    retas_manifest_verify(jws, strlen(jws), k.dev_pk, &m, NULL) == 0)
			(void)retas_manifest_find(m, data);
		break;
	case 2:
		if (retas_jws_sign(data + 1, size - 1, SYNC_RECEIPT_JWS_TYP, NULL, k.dev_sk, &jws,
				   NULL) == 0 &&
		    sync_receipt_verify(jws, strlen(jws), k.dev_pk, &rc, NULL) == 0)
			(void)sync_receipt_find(rc, data);
		break;
	default:
		(void)retas_manifest_verify((const char *)data + 1, size - 1, k.dev_pk, &m, NULL);
		if (retas_jws_peek((const char *)data + 1, size - 1, &j, NULL) == 0)
			retas_jws_free(j);
		break;
	}
	retas_manifest_free(m);
	sync_receipt_free(rc);
	free(jws);
	return 0;
}
