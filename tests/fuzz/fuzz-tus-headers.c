/*
 * libFuzzer target: the request headers head office parses from vans.
 * The input is split at NUL bytes into Upload-Offset, Upload-Checksum,
 * Upload-Metadata and Retas-Auth values.
 */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-keys.h"
#include "hq-tus-headers.h"
#include "sync-auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_keys k;
	static int ready;
	char *copy, *parts[4] = {"", "", "", ""};
	struct sync_auth a;
	json_object *meta = NULL;
	uint8_t sha[32];
	uint64_t n;
	size_t i = 0;

	if (!ready) {
		fuzz_keys(&k);
		ready = 1;
	}
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
	if (sync_auth_parse(parts[3], strlen(parts[3]), &a, NULL) == 0)
		(void)sync_auth_verify(&a, "PATCH", "/tus/0123", k.dev_pk, NULL);
	free(copy);
	return 0;
}
