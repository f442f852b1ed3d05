/*
 * libFuzzer target: the receipt QR token (sync/sync-qr.h) as head office
 * scans it when a card is issued, read without and with the fixed device
 * key. Besides the sanitizers it asserts that every refusal names its
 * reason and that a token that verifies decodes the same through peek.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz-common.h"
#include "sync-qr.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_keys();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct sync_qr p, v;
	struct retas_error perr = {0}, verr = {0};
	int rp, rv;

	rp = sync_qr_peek((const char *)data, size, &p, &perr);
	rv = sync_qr_verify((const char *)data, size, k->device_pk, &v, &verr);
	if (rp < 0)
		FUZZ_CHECK_REFUSAL(rp, perr);
	if (rv < 0)
		FUZZ_CHECK_REFUSAL(rv, verr);
	if (rv == 0) {
		FUZZ_CHECK(rp == 0);
		FUZZ_CHECK(strcmp(p.kid, v.kid) == 0 && strcmp(p.npsn, v.npsn) == 0);
		FUZZ_CHECK(memcmp(p.record_id, v.record_id, 16) == 0);
		FUZZ_CHECK(memcmp(p.record_hash, v.record_hash, 32) == 0);
		FUZZ_CHECK(retas_date_cmp(&p.date, &v.date) == 0);
	}
	return 0;
}
