/*
 * libFuzzer target: the surat tugas payload parser (retas_st_parse), with
 * the kecamatan checked against the real region data. Besides the
 * sanitizers it asserts that a refusal names its field, that an accepted
 * letter keeps the documented bounds, and that serialising it and parsing
 * the result again gives the same letter (retas_st_to_json is the inverse
 * of retas_st_parse).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "retas-st.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_regions();
	return 0;
}

static void check_bounds(const struct retas_st *st)
{
	FUZZ_CHECK(st->valid_from < st->valid_until);
	FUZZ_CHECK(st->n_petugas >= 1 && st->n_petugas <= RETAS_ST_MAX_PETUGAS);
	FUZZ_CHECK(st->n_jari >= 1 && st->n_jari <= 10);
	FUZZ_CHECK(st->min_age >= 10 && st->min_age <= 30);
	for (size_t i = 0; i < st->n_jari; i++)
		FUZZ_CHECK(st->jari[i] >= 1 && st->jari[i] <= 10);
	for (size_t i = 0; i < st->n_petugas; i++) {
		FUZZ_CHECK(strlen(st->petugas[i].nip) == 18);
		FUZZ_CHECK(retas_st_find_petugas(st, st->petugas[i].nip) == &st->petugas[i]);
	}
	FUZZ_CHECK(strlen(st->sekolah.npsn) == 8 && strlen(st->sekolah.kecamatan) == 6);
	FUZZ_CHECK(st->kid == NULL && st->token == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct retas_regions *regions = fuzz_regions();
	struct retas_st *st = NULL, *again = NULL;
	struct retas_error err = {0};
	char *json = NULL, *json2 = NULL;
	int r;

	r = retas_st_parse((const char *)data, size, regions, &st, &err);
	if (r < 0) {
		FUZZ_CHECK_REFUSAL(r, err);
		FUZZ_CHECK(strncmp(err.reason, "st.", 3) == 0);
		return 0;
	}
	FUZZ_CHECK(r == 0);
	check_bounds(st);
	FUZZ_CHECK(retas_st_to_json(st, &json) == 0);
	r = retas_st_parse(json, strlen(json), regions, &again, &err);
	if (r < 0)
		fprintf(stderr, "re-parse refused (%s): %s\n%s\n", err.reason, err.message, json);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(retas_st_to_json(again, &json2) == 0);
	FUZZ_CHECK(strcmp(json, json2) == 0);
	FUZZ_CHECK(again->valid_from == st->valid_from && again->valid_until == st->valid_until);
	free(json);
	free(json2);
	retas_st_free(st);
	retas_st_free(again);
	return 0;
}
