/*
 * libFuzzer target: the batch manifest. The input is a payload: it goes
 * to retas_manifest_parse as it is, and is signed with the fixed device
 * key and read back through retas_manifest_verify, which must come to
 * exactly the same verdict and reason (verification adds the JWS layer
 * and nothing else). Besides the sanitizers it asserts the documented
 * bounds of an accepted manifest and that writing it out and parsing the
 * result gives the same JSON again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "retas-jws.h"
#include "retas-manifest.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_keys();
	return 0;
}

static void check_bounds(const struct retas_manifest *m)
{
	FUZZ_CHECK(strlen(m->batch_id) == 36);
	FUZZ_CHECK(strlen(m->device_id) >= 1 && strlen(m->device_id) <= 63);
	FUZZ_CHECK(strlen(m->st_nomor) >= 1 && strlen(m->st_nomor) <= 63);
	FUZZ_CHECK(m->n_records <= RETAS_MANIFEST_MAX_RECORDS);
	FUZZ_CHECK(m->audit && json_object_is_type(m->audit, json_type_array));
	FUZZ_CHECK(!m->report || json_object_is_type(m->report, json_type_object));
	for (size_t i = 0; i < m->n_records; i++) {
		const struct retas_manifest_entry *e = &m->records[i];

		FUZZ_CHECK(e->seq >= 1 && e->size >= 1);
		FUZZ_CHECK(i == 0 || e->seq > m->records[i - 1].seq);
		FUZZ_CHECK(retas_manifest_find(m, e->id) == e);
	}
}

static void check_roundtrip(const struct retas_manifest *m)
{
	struct retas_manifest *again = NULL;
	struct retas_error err = {0};
	char *json = NULL, *json2 = NULL;
	int r;

	FUZZ_CHECK(retas_manifest_to_json(m, &json) == 0);
	r = retas_manifest_parse(json, strlen(json), &again, &err);
	if (r < 0)
		fprintf(stderr, "re-parse refused (%s): %s\n%s\n", err.reason, err.message, json);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(retas_manifest_to_json(again, &json2) == 0);
	FUZZ_CHECK(strcmp(json, json2) == 0);
	FUZZ_CHECK(again->created_ms == m->created_ms && again->n_records == m->n_records);
	retas_manifest_free(again);
	free(json);
	free(json2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct retas_manifest *m = NULL, *v = NULL;
	struct retas_error perr = {0}, verr = {0};
	char *token = NULL;
	int rp, rv;

	rp = retas_manifest_parse((const char *)data, size, &m, &perr);
	if (rp < 0) {
		FUZZ_CHECK_REFUSAL(rp, perr);
		FUZZ_CHECK(m == NULL);
	} else {
		FUZZ_CHECK(rp == 0 && m);
		check_bounds(m);
		check_roundtrip(m);
	}
	if (size > 0) {
		FUZZ_CHECK(retas_jws_sign(data, size, RETAS_MANIFEST_JWS_TYP, NULL, k->device_sk,
					  &token, &verr) == 0);
		rv = retas_manifest_verify(token, strlen(token), k->device_pk, &v, &verr);
		FUZZ_CHECK(rv == rp);
		if (rv < 0)
			FUZZ_CHECK(strcmp(verr.reason, perr.reason) == 0);
		else
			FUZZ_CHECK(v->n_records == m->n_records && v->created_ms == m->created_ms);
	}
	retas_manifest_free(m);
	retas_manifest_free(v);
	free(token);
	return 0;
}
