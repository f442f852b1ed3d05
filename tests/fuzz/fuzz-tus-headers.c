/*
 * libFuzzer target: the request headers head office parses from vans.
 * The input is split at NUL bytes into Upload-Offset, Upload-Checksum,
 * Upload-Metadata and Retas-Auth values; a Retas-Auth that parses is
 * checked against the fixed device key. Besides the sanitizers it asserts
 * that a refused Retas-Auth names its reason.
 */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "hq-tus-headers.h"
#include "sync-auth.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_keys();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct retas_error err = {0};
	char *copy, *parts[4] = {"", "", "", ""};
	struct sync_auth a;
	json_object *meta = NULL;
	uint8_t sha[32];
	uint64_t n;
	size_t i = 0;
	int r;

	if (size > 16384)
		return 0;
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = 0;
	/* NUL-separated fields; the last runs to the end */
	for (char *p = copy; i < 4; i++) {
		parts[i] = p;
		p += strlen(p);
		if (p == copy + size)
			break;
		p++;
	}
	(void)hq_tus_parse_u64(parts[0], &n);
	(void)hq_tus_parse_checksum(parts[1], sha);
	if (hq_tus_parse_metadata(parts[2], &meta) == 0)
		json_object_put(meta);
	r = sync_auth_parse(parts[3], strlen(parts[3]), &a, &err);
	if (r < 0) {
		FUZZ_CHECK_REFUSAL(r, err);
	} else {
		r = sync_auth_verify(&a, "PATCH", "/tus/0123", k->device_pk, &err);
		if (r < 0)
			FUZZ_CHECK_REFUSAL(r, err);
	}
	free(copy);
	return 0;
}
