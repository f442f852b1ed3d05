/*
 * libFuzzer target: the sealed record as head office meets it. The first
 * byte picks the entry: 0 a record (header, verification, opening with the
 * fixed keys), 1 a part container as it comes out of decryption, 2 a
 * receipt QR token.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz-keys.h"
#include "retas-record.h"
#include "sync-qr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_keys k;
	static int ready;
	struct retas_record_header h;
	struct retas_container *c = NULL;
	struct sync_qr q;

	if (!ready) {
		fuzz_keys(&k);
		ready = 1;
	}
	if (size < 1 || size > 4 * 1024 * 1024)
		return 0;
	switch (data[0] % 3) {
	case 0:
		(void)retas_record_read_header(data + 1, size - 1, &h, NULL);
		(void)retas_record_verify(data + 1, size - 1, k.dev_pk, &h, NULL);
		if (retas_record_open(data + 1, size - 1, k.dev_pk, k.hq_pk, k.hq_sk, &h, &c,
				      NULL) == 0)
			(void)retas_container_get(c, "demografi.json");
		break;
	case 1:
		if (retas_container_decode(data + 1, size - 1, &c, NULL) == 0)
			(void)retas_container_get(c, "foto.jpg");
		break;
	default:
		(void)sync_qr_peek((const char *)data + 1, size - 1, &q, NULL);
		(void)sync_qr_verify((const char *)data + 1, size - 1, k.dev_pk, &q, NULL);
		break;
	}
	retas_container_free(c);
	return 0;
}
