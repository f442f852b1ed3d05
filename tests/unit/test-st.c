/*
 * The surat tugas contract (DESIGN.md §6): a valid letter parses, every
 * invalid field is refused with its own reason (one table row per case),
 * the validity window's edges, the van binding, PIN checks, the JWS layer
 * around it, and `retas assignment verify` run as a user would (binary in
 * $RETAS_CLI) for its exit codes and key output lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <sodium.h>

#include "retas-b64.h"
#include "retas-jws.h"
#include "retas-regions.h"
#include "retas-st.h"

#define FROM "2026-11-24T07:00:00+07:00"
#define UNTIL "2026-11-24T16:00:00+07:00"
#define FROM_MS 1795478400000LL
#define UNTIL_MS (FROM_MS + 9 * 3600 * 1000LL)

struct fixture {
	uint8_t hq_pk[32], hq_sk[64];
	uint8_t other_pk[32], other_sk[64];
	uint8_t van_pk[32], van_sk[64];
	uint8_t van2_pk[32];
	uint8_t seal_pk[32];
	char pin1[crypto_pwhash_STRBYTES];
	char pin2[crypto_pwhash_STRBYTES];
	char *van_b64, *van2_b64, *seal_b64, *hq_b64, *other_b64;
	char dir[64];
};

static struct fixture *fx;

static void keypair(uint8_t pk[32], uint8_t sk[64], uint8_t fill)
{
	uint8_t seed[32], skbuf[64];

	memset(seed, fill, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk ? sk : skbuf, seed);
}

static char *b64(const uint8_t *k, size_t n)
{
	char *s = NULL;

	assert_int_equal(retas_b64url_encode(k, n, &s), 0);
	return s;
}

static int setup(void **state)
{
	fx = calloc(1, sizeof(*fx));
	if (sodium_init() < 0)
		return -1;
	keypair(fx->hq_pk, fx->hq_sk, 1);
	keypair(fx->other_pk, fx->other_sk, 2);
	keypair(fx->van_pk, fx->van_sk, 3);
	keypair(fx->van2_pk, NULL, 4);
	memset(fx->seal_pk, 5, 32);
	/* The cheapest argon2id parameters keep the suite fast; the parser
	 * accepts any cost up to its bound. */
	if (crypto_pwhash_str(fx->pin1, "123456", 6, crypto_pwhash_OPSLIMIT_MIN,
			      crypto_pwhash_MEMLIMIT_MIN) != 0 ||
	    crypto_pwhash_str(fx->pin2, "654321", 6, crypto_pwhash_OPSLIMIT_MIN,
			      crypto_pwhash_MEMLIMIT_MIN) != 0)
		return -1;
	fx->van_b64 = b64(fx->van_pk, 32);
	fx->van2_b64 = b64(fx->van2_pk, 32);
	fx->seal_b64 = b64(fx->seal_pk, 32);
	fx->hq_b64 = b64(fx->hq_pk, 32);
	fx->other_b64 = b64(fx->other_pk, 32);
	strcpy(fx->dir, "/tmp/retas-test-st-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx->van_b64);
	free(fx->van2_b64);
	free(fx->seal_b64);
	free(fx->hq_b64);
	free(fx->other_b64);
	free(fx);
	return 0;
}

/* A valid letter as a json-c object (the caller puts it). */
static json_object *valid_letter(void)
{
	char *text = NULL;
	json_object *o;

	assert_int_equal(
	    asprintf(&text,
		     "{\"typ\":\"retas.surat-tugas.v1\",\"nomor\":\"800/041/DUKCAPIL/2026\","
		     "\"tanggal\":\"2026-11-20\",\"valid_from\":\"" FROM "\","
		     "\"valid_until\":\"" UNTIL "\","
		     "\"sekolah\":{\"npsn\":\"10504187\",\"nama\":\"SMA Negeri 1 Kota Jambi\","
		     "\"alamat\":\"Jl. Urip Sumoharjo\",\"kecamatan\":\"157101\"},"
		     "\"petugas\":[{\"nip\":\"198703152010011002\",\"nama\":\"Rina Marlina\","
		     "\"pin\":\"%s\"},{\"nip\":\"199001012015032001\",\"nama\":\"Dewi "
		     "Sartika\",\"pin\":\"%s\"}],"
		     "\"kendaraan\":{\"id\":\"MPK-01\",\"device_key\":\"%s\"},"
		     "\"hq\":{\"url\":\"https://retas.dukcapil.example/\",\"seal_key\":\"%s\"},"
		     "\"min_age\":16,\"jari\":[1,2,3,4,5,6,7,8,9,10],"
		     "\"penandatangan\":{\"nip\":\"196702221985121001\",\"nama\":\"Drs. NIRWAN, "
		     "ME\",\"jabatan\":\"Kepala Dinas Kependudukan dan Pencatatan Sipil Kota "
		     "Jambi\"}}",
		     fx->pin1, fx->pin2, fx->van_b64, fx->seal_b64) > 0,
	    1);
	o = json_tokener_parse(text);
	assert_non_null(o);
	free(text);
	return o;
}

static char *to_text(json_object *o)
{
	return strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
}

/*
 * Sets (value != NULL, a JSON text) or deletes the member at path, a
 * dot-separated list of member names and array indexes.
 */
static void mutate(json_object *root, const char *path, const char *value)
{
	char *copy = strdup(path), *save = NULL, *part, *next;
	json_object *cur = root;

	part = strtok_r(copy, ".", &save);
	while (part) {
		next = strtok_r(NULL, ".", &save);
		if (json_object_is_type(cur, json_type_array)) {
			size_t i = strtoul(part, NULL, 10);

			assert_true(i < json_object_array_length(cur));
			if (!next) {
				assert_non_null(value);
				json_object_array_put_idx(cur, i, json_tokener_parse(value));
				break;
			}
			cur = json_object_array_get_idx(cur, i);
		} else {
			if (!next) {
				if (value) {
					json_object *v = json_tokener_parse(value);

					assert_non_null(v);
					json_object_object_add(cur, part, v);
				} else {
					json_object_object_del(cur, part);
				}
				break;
			}
			assert_true(json_object_object_get_ex(cur, part, &cur));
		}
		part = next;
	}
	free(copy);
}

static void st_valid_letter_parses(void **state)
{
	json_object *o = valid_letter();
	char *text = to_text(o);
	struct retas_st *st = NULL;
	struct retas_error err = {0};

	assert_int_equal(retas_st_parse(text, strlen(text), NULL, &st, &err), 0);
	assert_string_equal(st->nomor, "800/041/DUKCAPIL/2026");
	assert_int_equal(st->tanggal.year, 2026);
	assert_int_equal(st->tanggal.month, 11);
	assert_int_equal(st->tanggal.day, 20);
	assert_int_equal(st->valid_from, FROM_MS);
	assert_int_equal(st->valid_until, UNTIL_MS);
	assert_int_equal(st->valid_offset_min, 420);
	assert_string_equal(st->sekolah.npsn, "10504187");
	assert_string_equal(st->sekolah.nama, "SMA Negeri 1 Kota Jambi");
	assert_string_equal(st->sekolah.alamat, "Jl. Urip Sumoharjo");
	assert_string_equal(st->sekolah.kecamatan, "157101");
	assert_int_equal(st->n_petugas, 2);
	assert_string_equal(st->petugas[0].nip, "198703152010011002");
	assert_string_equal(st->petugas[0].nama, "Rina Marlina");
	assert_string_equal(st->petugas[0].pin, fx->pin1);
	assert_string_equal(st->petugas[1].nip, "199001012015032001");
	assert_string_equal(st->kendaraan.id, "MPK-01");
	assert_memory_equal(st->kendaraan.device_key, fx->van_pk, 32);
	assert_string_equal(st->hq.url, "https://retas.dukcapil.example/");
	assert_memory_equal(st->hq.seal_key, fx->seal_pk, 32);
	assert_int_equal(st->min_age, 16);
	assert_int_equal(st->n_jari, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(st->jari[i], i + 1);
	assert_string_equal(st->penandatangan.nip, "196702221985121001");
	assert_string_equal(st->penandatangan.nama, "Drs. NIRWAN, ME");
	assert_null(st->kid);
	assert_null(st->token);
	retas_st_free(st);
	free(text);
	json_object_put(o);
}

static void st_defaults_and_unknown_members(void **state)
{
	json_object *o = valid_letter();
	struct retas_st *st = NULL;
	struct retas_error err = {0};
	char *text;

	mutate(o, "min_age", NULL);
	mutate(o, "jari", NULL);
	mutate(o, "sekolah.alamat", NULL);
	mutate(o, "catatan", "{\"any\":[1,2]}");
	mutate(o, "petugas.0.jabatan", "\"Operator\"");
	mutate(o, "valid_until", "\"2026-11-24T09:00:00Z\"");
	text = to_text(o);
	assert_int_equal(retas_st_parse(text, strlen(text), NULL, &st, &err), 0);
	assert_int_equal(st->min_age, 16);
	assert_int_equal(st->n_jari, 10);
	assert_int_equal(st->jari[9], 10);
	assert_null(st->sekolah.alamat);
	assert_int_equal(st->valid_until, UNTIL_MS);
	retas_st_free(st);
	free(text);
	json_object_put(o);

	/* A subset of fingers in any order, an edge min_age. */
	o = valid_letter();
	mutate(o, "jari", "[6,1]");
	mutate(o, "min_age", "10");
	text = to_text(o);
	assert_int_equal(retas_st_parse(text, strlen(text), NULL, &st, &err), 0);
	assert_int_equal(st->n_jari, 2);
	assert_int_equal(st->jari[0], 6);
	assert_int_equal(st->jari[1], 1);
	assert_int_equal(st->min_age, 10);
	retas_st_free(st);
	free(text);
	json_object_put(o);
}

struct bad_case {
	const char *path;
	const char *value; /* NULL deletes the member */
	const char *reason;
};

#define PIN_SALT_HASH "$c29tZXNhbHRzb21lc2FsdA$MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI"

static const struct bad_case bad_cases[] = {
    {"typ", NULL, "st.typ"},
    {"typ", "\"retas.surat-tugas.v2\"", "st.typ"},
    {"typ", "1", "st.typ"},
    {"nomor", NULL, "st.nomor"},
    {"nomor", "\"\"", "st.nomor"},
    {"nomor", "\"800/041\\nX\"", "st.nomor"},
    {"nomor", "\"800\\u0000X\"", "st.nomor"},
    {"nomor", "\"\\u001b[31m\"", "st.nomor"},
    {"nomor", "800", "st.nomor"},
    {"nomor",
     "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
     "st.nomor"},
    {"tanggal", NULL, "st.tanggal"},
    {"tanggal", "\"2026-02-30\"", "st.tanggal"},
    {"tanggal", "\"20-11-2026\"", "st.tanggal"},
    {"tanggal", "\"2026-11-20T00:00:00+07:00\"", "st.tanggal"},
    {"valid_from", NULL, "st.valid_from"},
    {"valid_from", "\"2026-11-24T07:00:00\"", "st.valid_from"},
    {"valid_from", "\"2026-11-24 07:00:00+07:00\"", "st.valid_from"},
    {"valid_from", "\"2026-11-24\"", "st.valid_from"},
    {"valid_from", "1795478400", "st.valid_from"},
    {"valid_until", NULL, "st.valid_until"},
    {"valid_until", "\"2026-11-24T16:00:00+0700\"", "st.valid_until"},
    {"valid_until", "\"2026-11-24T25:00:00+07:00\"", "st.valid_until"},
    /* Found by the round-trip check of tests/fuzz/fuzz-st: 10000-01-01 at
     * valid_from's +07:00, so retas_st_to_json wrote "0000-01-01T16:00:00+07:00". */
    {"valid_until", "\"9999-12-31T23:00:00-10:00\"", "st.valid_until"},
    {"valid_until", "\"9999-12-31T17:00:00Z\"", "st.valid_until"},
    {"valid_until", "\"" FROM "\"", "st.window"},
    {"valid_until", "\"2026-11-24T00:00:00Z\"", "st.window"},
    {"sekolah", NULL, "st.sekolah"},
    {"sekolah", "\"SMA 1\"", "st.sekolah"},
    {"sekolah.nama", NULL, "st.sekolah"},
    {"sekolah.nama", "\"\"", "st.sekolah"},
    {"sekolah.alamat", "5", "st.sekolah"},
    {"sekolah.npsn", NULL, "st.npsn"},
    {"sekolah.npsn", "\"1050418\"", "st.npsn"},
    {"sekolah.npsn", "\"105041870\"", "st.npsn"},
    {"sekolah.npsn", "\"1050418a\"", "st.npsn"},
    {"sekolah.npsn", "10504187", "st.npsn"},
    {"sekolah.kecamatan", NULL, "st.kecamatan"},
    {"sekolah.kecamatan", "\"15710\"", "st.kecamatan"},
    {"sekolah.kecamatan", "\"15710a\"", "st.kecamatan"},
    {"sekolah.kecamatan", "157101", "st.kecamatan"},
    {"petugas", NULL, "st.petugas"},
    {"petugas", "[]", "st.petugas"},
    {"petugas", "{}", "st.petugas"},
    {"petugas.1", "\"Dewi\"", "st.petugas"},
    {"petugas.0.nama", NULL, "st.petugas"},
    {"petugas.0.nama", "\"\"", "st.petugas"},
    {"petugas.0.nip", NULL, "st.nip"},
    {"petugas.0.nip", "\"19870315201001100\"", "st.nip"},
    {"petugas.0.nip", "\"1987031520100110023\"", "st.nip"},
    {"petugas.0.nip", "\"19870315201001100x\"", "st.nip"},
    {"petugas.0.nip", "198703152010011002", "st.nip"},
    {"petugas.1.nip", "\"198703152010011002\"", "st.nip"},
    {"petugas.0.pin", NULL, "st.pin"},
    {"petugas.0.pin", "\"123456\"", "st.pin"},
    {"petugas.0.pin", "\"$argon2i$v=19$m=65536,t=2,p=1" PIN_SALT_HASH "\"", "st.pin"},
    {"petugas.0.pin", "\"$argon2id$v=19$m=65536,t=2,p=1$\"", "st.pin"},
    {"petugas.0.pin", "\"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$!!\"", "st.pin"},
    {"petugas.0.pin", "\"$argon2id$v=19$m=4194304,t=2,p=1" PIN_SALT_HASH "\"", "st.pin"},
    {"petugas.0.pin", "\"$argon2id$v=19$m=65536,t=0,p=1" PIN_SALT_HASH "\"", "st.pin"},
    {"petugas.0.pin", "\"$argon2id$v=16$m=65536,t=2,p=1" PIN_SALT_HASH "\"", "st.pin"},
    {"petugas.0.pin", "\"$2b$10$abcdefghijklmnopqrstuv\"", "st.pin"},
    {"kendaraan", NULL, "st.kendaraan"},
    {"kendaraan.id", NULL, "st.kendaraan"},
    {"kendaraan.id", "\"\"", "st.kendaraan"},
    {"kendaraan.device_key", NULL, "st.device_key"},
    {"kendaraan.device_key", "\"AAAA\"", "st.device_key"},
    {"kendaraan.device_key", "\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\"", "st.device_key"},
    {"kendaraan.device_key", "\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\"", "st.device_key"},
    {"kendaraan.device_key", "\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ+/\"", "st.device_key"},
    {"hq", NULL, "st.hq"},
    {"hq.url", NULL, "st.hq"},
    {"hq.url", "\"ftp://retas.example/\"", "st.hq"},
    {"hq.url", "\"retas.example\"", "st.hq"},
    {"hq.url", "\"https://\"", "st.hq"},
    {"hq.url", "\"https://retas .example/\"", "st.hq"},
    {"hq.seal_key", NULL, "st.seal_key"},
    {"hq.seal_key", "\"BQUF\"", "st.seal_key"},
    {"min_age", "9", "st.min_age"},
    {"min_age", "31", "st.min_age"},
    {"min_age", "\"16\"", "st.min_age"},
    {"min_age", "16.5", "st.min_age"},
    {"jari", "[]", "st.jari"},
    {"jari", "[0]", "st.jari"},
    {"jari", "[11]", "st.jari"},
    {"jari", "[1,2,1]", "st.jari"},
    {"jari", "[1,2,3,4,5,6,7,8,9,10,1]", "st.jari"},
    {"jari", "[\"1\"]", "st.jari"},
    {"jari", "\"1,2\"", "st.jari"},
    {"penandatangan", NULL, "st.penandatangan"},
    {"penandatangan.nip", "\"1967022219851210\"", "st.penandatangan"},
    {"penandatangan.nama", NULL, "st.penandatangan"},
    {"penandatangan.jabatan", "\"\"", "st.penandatangan"},
};

static void st_each_invalid_field_has_its_reason(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		json_object *o = valid_letter();
		struct retas_st *st = NULL;
		struct retas_error err = {0};
		char *text;
		int r;

		mutate(o, c->path, c->value);
		text = to_text(o);
		r = retas_st_parse(text, strlen(text), NULL, &st, &err);
		if (r != -EINVAL || strcmp(err.reason, c->reason) != 0)
			fail_msg("%s=%s: expected %s, got %d %s (%s)", c->path,
				 c->value ? c->value : "(deleted)", c->reason, r, err.reason,
				 err.message);
		assert_null(st);
		/* The sentence names the field (its last path component). */
		if (!strstr(err.message, strrchr(c->reason, '.') + 1) &&
		    !strstr(err.message, c->path))
			fail_msg("%s: message does not name the field: %s", c->path, err.message);
		free(text);
		json_object_put(o);
	}
}

static void st_kecamatan_checked_against_regions(void **state)
{
	static const struct {
		const char *code;
		int ok;
	} cases[] = {
		{"157101", 1}, {"157111", 1}, {"157112", 0}, {"157100", 0}, {"150101", 0},
	};
	struct retas_regions *regions = NULL;
	struct retas_error err = {0};

	assert_int_equal(retas_regions_load_default(&regions, &err), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *o = valid_letter();
		struct retas_st *st = NULL;
		char value[16], *text;
		int r;

		snprintf(value, sizeof(value), "\"%s\"", cases[i].code);
		mutate(o, "sekolah.kecamatan", value);
		text = to_text(o);
		r = retas_st_parse(text, strlen(text), regions, &st, &err);
		if (cases[i].ok) {
			assert_int_equal(r, 0);
			assert_string_equal(st->sekolah.kecamatan, cases[i].code);
		} else {
			assert_int_equal(r, -EINVAL);
			assert_string_equal(err.reason, "st.kecamatan");
		}
		/* Without region data only the form is checked. */
		retas_st_free(st);
		st = NULL;
		assert_int_equal(retas_st_parse(text, strlen(text), NULL, &st, &err), 0);
		retas_st_free(st);
		free(text);
		json_object_put(o);
	}
	retas_regions_free(regions);
}

static void st_not_json_refused(void **state)
{
	static const char *const texts[] = {"", "[]", "\"x\"", "{", "{} x", "not json", "null"};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct retas_st *st = NULL;
		struct retas_error err = {0};

		assert_int_equal(retas_st_parse(texts[i], strlen(texts[i]), NULL, &st, &err),
				 -EINVAL);
		assert_string_equal(err.reason, "st.json");
		assert_null(st);
	}
}

static void st_petugas_count_bounds(void **state)
{
	json_object *o = valid_letter(), *arr = json_object_new_array();
	struct retas_st *st = NULL;
	struct retas_error err = {0};
	char *text;

	for (int i = 0; i < RETAS_ST_MAX_PETUGAS; i++) {
		json_object *p = json_object_new_object();
		char nip[19];

		snprintf(nip, sizeof(nip), "1987031520100110%02d", i);
		json_object_object_add(p, "nip", json_object_new_string(nip));
		json_object_object_add(p, "nama", json_object_new_string("Petugas"));
		json_object_object_add(p, "pin", json_object_new_string(fx->pin1));
		json_object_array_add(arr, p);
	}
	json_object_object_add(o, "petugas", json_object_get(arr));
	text = to_text(o);
	assert_int_equal(retas_st_parse(text, strlen(text), NULL, &st, &err), 0);
	assert_int_equal(st->n_petugas, RETAS_ST_MAX_PETUGAS);
	retas_st_free(st);
	st = NULL;
	free(text);
	json_object_array_add(arr, json_object_get(json_object_array_get_idx(arr, 0)));
	text = to_text(o);
	assert_int_equal(retas_st_parse(text, strlen(text), NULL, &st, &err), -EINVAL);
	assert_string_equal(err.reason, "st.petugas");
	free(text);
	json_object_put(arr);
	json_object_put(o);
}

static void st_round_trip(void **state)
{
	json_object *o = valid_letter();
	char *text = to_text(o), *again = NULL, *third = NULL;
	struct retas_st *st = NULL, *st2 = NULL;
	struct retas_error err = {0};

	mutate(o, "sekolah.alamat", NULL);
	assert_int_equal(retas_st_parse(text, strlen(text), NULL, &st, &err), 0);
	assert_int_equal(retas_st_to_json(st, &again), 0);
	/* The same letter with the same member order comes back byte for byte. */
	assert_string_equal(again, text);
	assert_int_equal(retas_st_parse(again, strlen(again), NULL, &st2, &err), 0);
	assert_int_equal(retas_st_to_json(st2, &third), 0);
	assert_string_equal(third, again);
	assert_int_equal(st2->valid_from, st->valid_from);
	assert_int_equal(st2->valid_until, st->valid_until);
	assert_int_equal(st2->n_petugas, st->n_petugas);
	assert_string_equal(st2->petugas[1].pin, st->petugas[1].pin);
	assert_memory_equal(st2->hq.seal_key, st->hq.seal_key, 32);
	retas_st_free(st);
	retas_st_free(st2);
	free(text);
	free(again);
	free(third);

	/* The last instant valid_from's offset can write still comes back. */
	mutate(o, "valid_until", "\"9999-12-31T16:59:59.999Z\"");
	text = to_text(o);
	assert_int_equal(retas_st_parse(text, strlen(text), NULL, &st, &err), 0);
	assert_int_equal(retas_st_to_json(st, &again), 0);
	assert_non_null(strstr(again, "\"valid_until\":\"9999-12-31T23:59:59.999+07:00\""));
	assert_int_equal(retas_st_parse(again, strlen(again), NULL, &st2, &err), 0);
	assert_int_equal(st2->valid_until, st->valid_until);
	retas_st_free(st);
	retas_st_free(st2);
	free(text);
	free(again);
	mutate(o, "valid_until", "\"" UNTIL "\"");

	/* Without alamat, min_age and jari the output has the defaults. */
	mutate(o, "jari", NULL);
	text = to_text(o);
	assert_int_equal(retas_st_parse(text, strlen(text), NULL, &st, &err), 0);
	assert_int_equal(retas_st_to_json(st, &again), 0);
	assert_null(strstr(again, "alamat"));
	assert_non_null(strstr(again, "\"jari\":[1,2,3,4,5,6,7,8,9,10]"));
	retas_st_free(st);
	free(text);
	free(again);
	json_object_put(o);
}

static struct retas_st *parse_valid(void)
{
	json_object *o = valid_letter();
	char *text = to_text(o);
	struct retas_st *st = NULL;
	struct retas_error err = {0};

	assert_int_equal(retas_st_parse(text, strlen(text), NULL, &st, &err), 0);
	free(text);
	json_object_put(o);
	return st;
}

static void st_window_edges(void **state)
{
	struct retas_st *st = parse_valid();
	struct retas_error err = {0};

	assert_int_equal(retas_st_check_time(st, FROM_MS, &err), 0);
	assert_int_equal(retas_st_check_time(st, UNTIL_MS - 1, &err), 0);
	assert_int_equal(retas_st_check_time(st, FROM_MS - 1, &err), -EKEYREJECTED);
	assert_string_equal(err.reason, "st.not-yet-valid");
	assert_non_null(strstr(err.message, FROM));
	assert_int_equal(retas_st_check_time(st, UNTIL_MS, &err), -EKEYEXPIRED);
	assert_string_equal(err.reason, "st.expired");
	assert_non_null(strstr(err.message, UNTIL));
	retas_st_free(st);
}

static void st_other_van_refused(void **state)
{
	struct retas_st *st = parse_valid();
	struct retas_error err = {0};

	assert_int_equal(retas_st_check_van(st, fx->van_pk, &err), 0);
	assert_int_equal(retas_st_check_van(st, fx->van2_pk, &err), -EPERM);
	assert_string_equal(err.reason, "st.other-van");
	assert_non_null(strstr(err.message, "MPK-01"));
	retas_st_free(st);
}

static void st_petugas_and_pin(void **state)
{
	struct retas_st *st = parse_valid();
	const struct retas_st_petugas *p;

	p = retas_st_find_petugas(st, "199001012015032001");
	assert_non_null(p);
	assert_string_equal(p->nama, "Dewi Sartika");
	assert_null(retas_st_find_petugas(st, "199001012015032002"));
	assert_null(retas_st_find_petugas(st, ""));
	assert_null(retas_st_find_petugas(st, NULL));
	assert_int_equal(retas_st_check_pin(p, "654321"), 0);
	assert_int_equal(retas_st_check_pin(p, "123456"), -EACCES);
	assert_int_equal(retas_st_check_pin(p, ""), -EACCES);
	assert_int_equal(retas_st_check_pin(p, NULL), -EACCES);
	assert_int_equal(retas_st_check_pin(NULL, "654321"), -EACCES);
	p = retas_st_find_petugas(st, "198703152010011002");
	assert_int_equal(retas_st_check_pin(p, "123456"), 0);
	assert_int_equal(retas_st_check_pin(p, "1234567"), -EACCES);
	retas_st_free(st);
}

/* Signs the payload text as head office does. */
static char *sign(const char *payload, const char *typ, const uint8_t sk[64], const uint8_t pk[32])
{
	struct retas_error err = {0};
	char kid[17], *token = NULL;

	retas_key_id(pk, kid);
	assert_int_equal(retas_jws_sign(payload, strlen(payload), typ, kid, sk, &token, &err), 0);
	return token;
}

static void st_verify_signed_letter(void **state)
{
	json_object *o = valid_letter();
	char *text = to_text(o), *token, kid[17];
	struct retas_st *st = NULL;
	struct retas_error err = {0};

	token = sign(text, RETAS_ST_JWS_TYP, fx->hq_sk, fx->hq_pk);
	assert_int_equal(retas_st_verify(token, strlen(token), fx->hq_pk, NULL, &st, &err), 0);
	retas_key_id(fx->hq_pk, kid);
	assert_string_equal(st->kid, kid);
	assert_string_equal(st->token, token);
	assert_string_equal(st->nomor, "800/041/DUKCAPIL/2026");
	retas_st_free(st);
	st = NULL;
	/* Forged: signed by another key. */
	assert_int_equal(retas_st_verify(token, strlen(token), fx->other_pk, NULL, &st, &err),
			 -EBADMSG);
	assert_string_equal(err.reason, "jws.signature");
	assert_null(st);
	free(token);
	/* Another document type signed by the right key. */
	token = sign(text, "retas-manifest+jws", fx->hq_sk, fx->hq_pk);
	assert_int_equal(retas_st_verify(token, strlen(token), fx->hq_pk, NULL, &st, &err),
			 -EINVAL);
	assert_string_equal(err.reason, "jws.typ");
	free(token);
	free(text);
	/* A properly signed letter with an invalid field. */
	mutate(o, "sekolah.npsn", "\"123\"");
	text = to_text(o);
	token = sign(text, RETAS_ST_JWS_TYP, fx->hq_sk, fx->hq_pk);
	assert_int_equal(retas_st_verify(token, strlen(token), fx->hq_pk, NULL, &st, &err),
			 -EINVAL);
	assert_string_equal(err.reason, "st.npsn");
	assert_null(st);
	free(token);
	free(text);
	json_object_put(o);
}

/* ---- retas assignment verify, run as a user would ---- */

struct run {
	int status;
	char out[8192];
	char err[4096];
};

static void slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Runs $RETAS_CLI with argv (NULL-terminated) in the C locale. */
static void run_cli(struct run *res, const char *const *args)
{
	const char *cli = getenv("RETAS_CLI");
	char outp[128], errp[128];
	const char *argv[32];
	size_t n = 0;
	pid_t pid;
	int st;

	if (!cli || !*cli)
		fail_msg("RETAS_CLI is not set: run the test through meson");
	argv[n++] = cli;
	for (; *args; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	snprintf(outp, sizeof(outp), "%s/out", fx->dir);
	snprintf(errp, sizeof(errp), "%s/err", fx->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		setenv("LC_ALL", "C.UTF-8", 1);
		execv(cli, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	res->status = WEXITSTATUS(st);
	slurp(outp, res->out, sizeof(res->out));
	slurp(errp, res->err, sizeof(res->err));
}

static char *write_letter(const char *name, const char *token)
{
	char *path = NULL;
	FILE *f;

	assert_int_equal(asprintf(&path, "%s/%s", fx->dir, name) > 0, 1);
	f = fopen(path, "w");
	assert_non_null(f);
	/* Files end with a newline; the command must accept that one. */
	fprintf(f, "%s\n", token);
	fclose(f);
	return path;
}

static void expect_line(const struct run *res, const char *line)
{
	const char *p = res->out;
	size_t n = strlen(line);

	while ((p = strstr(p, line))) {
		if ((p == res->out || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return;
		p += n;
	}
	fail_msg("no line \"%s\" in output:\n%s\nstderr:\n%s", line, res->out, res->err);
}

static void cli_assignment_verify(void **state)
{
	json_object *o = valid_letter();
	char *text = to_text(o), *token = sign(text, RETAS_ST_JWS_TYP, fx->hq_sk, fx->hq_pk);
	char *good = write_letter("good.jws", token), *conf = NULL;
	struct run res;
	FILE *f;

	free(token);
	/* Valid inside the window, for this van. */
	run_cli(&res, (const char *const[]){"assignment", "verify", good, "--key", fx->hq_b64,
					    "--on", "2026-11-24T08:00:00+07:00", "--device-key",
					    fx->van_b64, NULL});
	if (res.status != 0)
		fail_msg("exit %d: %s", res.status, res.err);
	expect_line(&res, "Number: 800/041/DUKCAPIL/2026");
	expect_line(&res, "Date: 2026-11-20");
	expect_line(&res, "Valid: 2026-11-24 07:00 to 2026-11-24 16:00 WIB");
	expect_line(&res, "School: SMA Negeri 1 Kota Jambi (NPSN 10504187)");
	expect_line(&res, "Officer: 198703152010011002 Rina Marlina");
	expect_line(&res, "Officer: 199001012015032001 Dewi Sartika");
	expect_line(&res, "Kecamatan: 157101 Kota Baru");
	expect_line(&res, "Van: MPK-01");
	expect_line(&res, "Signed by: Drs. NIRWAN, ME (196702221985121001)");
	expect_line(&res, "Status: valid");
	/* Never the PIN hashes. */
	assert_null(strstr(res.out, "argon2"));

	/* The same through the config file's [hq] sign_key. */
	assert_int_equal(asprintf(&conf, "%s/retasd.conf", fx->dir) > 0, 1);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "[store]\npath = /var/lib/retas\n\n[hq]\nurl = https://x/\nsign_key = %s\n",
		fx->hq_b64);
	fclose(f);
	run_cli(&res, (const char *const[]){"assignment", "verify", good, "--config", conf, "--on",
					    "2026-11-24T08:00:00+07:00", NULL});
	assert_int_equal(res.status, 0);
	expect_line(&res, "Status: valid");

	/* JSON. */
	run_cli(&res, (const char *const[]){"assignment", "verify", good, "--key", fx->hq_b64,
					    "--on", "2026-11-24T08:00:00+07:00", "--json", NULL});
	assert_int_equal(res.status, 0);
	{
		json_object *j = json_tokener_parse(res.out), *v;

		assert_non_null(j);
		assert_true(json_object_object_get_ex(j, "valid", &v));
		assert_true(json_object_get_boolean(v));
		assert_true(json_object_object_get_ex(j, "nomor", &v));
		assert_string_equal(json_object_get_string(v), "800/041/DUKCAPIL/2026");
		assert_true(json_object_object_get_ex(j, "valid_from", &v));
		assert_string_equal(json_object_get_string(v), FROM);
		assert_null(strstr(res.out, "argon2"));
		json_object_put(j);
	}

	/* Expired, not yet valid. */
	run_cli(&res, (const char *const[]){"assignment", "verify", good, "--key", fx->hq_b64,
					    "--on", UNTIL, NULL});
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.err, "st.expired"));
	expect_line(&res, "Status: refused (st.expired)");
	run_cli(&res, (const char *const[]){"assignment", "verify", good, "--key", fx->hq_b64,
					    "--on", "2026-11-24T06:59:59+07:00", NULL});
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.err, "st.not-yet-valid"));

	/* Another van. */
	run_cli(&res, (const char *const[]){"assignment", "verify", good, "--key", fx->hq_b64,
					    "--on", FROM, "--device-key", fx->van2_b64, NULL});
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.err, "st.other-van"));

	/* Forged: the letter does not verify under the configured key, and
	 * none of its content is shown. */
	run_cli(&res, (const char *const[]){"assignment", "verify", good, "--key", fx->other_b64,
					    "--on", FROM, NULL});
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.err, "jws.signature"));
	assert_null(strstr(res.out, "DUKCAPIL"));

	/* Malformed: not a JWS at all, and a file with two trailing lines. */
	{
		char *bad = write_letter("bad.jws", "hello");
		char *twice = write_letter("twice.jws", "x.y.z\n");

		run_cli(&res, (const char *const[]){"assignment", "verify", bad, "--key",
						    fx->hq_b64, NULL});
		assert_int_equal(res.status, 1);
		assert_non_null(strstr(res.err, "jws.format"));
		run_cli(&res, (const char *const[]){"assignment", "verify", twice, "--key",
						    fx->hq_b64, NULL});
		assert_int_equal(res.status, 1);
		assert_non_null(strstr(res.err, "jws.trailing"));
		free(bad);
		free(twice);
	}

	/* Usage errors. */
	run_cli(&res, (const char *const[]){"assignment", "verify", NULL});
	assert_int_equal(res.status, 2);
	run_cli(&res, (const char *const[]){"assignment", "verify", good, "--key", "short", NULL});
	assert_int_equal(res.status, 2);
	run_cli(&res, (const char *const[]){"assignment", "verify", good, "--key", fx->hq_b64,
					    "--on", "2026-11-24 08:00", NULL});
	assert_int_equal(res.status, 2);
	run_cli(&res, (const char *const[]){"assignment", "verify", good, "--key", fx->hq_b64,
					    "--config", conf, NULL});
	assert_int_equal(res.status, 2);
	run_cli(&res, (const char *const[]){"assignment", "verify", good, "--config",
					    "/nonexistent/retasd.conf", NULL});
	assert_int_equal(res.status, 2);
	run_cli(&res, (const char *const[]){"assignment", "verify", good, "--key", fx->hq_b64,
					    "--device-key", "AAAA", NULL});
	assert_int_equal(res.status, 2);
	run_cli(&res, (const char *const[]){"assignment", "verify", good, "extra", "--key",
					    fx->hq_b64, NULL});
	assert_int_equal(res.status, 2);

	free(good);
	free(conf);
	free(text);
	json_object_put(o);
}

/* Runs $RETAS_MKLETTER with args; returns its exit status, stdout in out. */
static int run_tool(char *out, size_t cap, const char *const *args)
{
	const char *tool = getenv("RETAS_MKLETTER");
	const char *argv[40];
	char outp[128];
	size_t n = 0;
	pid_t pid;
	int st;

	if (!tool || !*tool)
		fail_msg("RETAS_MKLETTER is not set: run the test through meson");
	argv[n++] = tool;
	for (; *args; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	snprintf(outp, sizeof(outp), "%s/tool-out", fx->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (o < 0 || dup2(o, 1) < 0)
			_exit(127);
		execv(tool, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	slurp(outp, out, cap);
	return WEXITSTATUS(st);
}

static char *path_in_dir(const char *name)
{
	char *p = NULL;

	assert_int_equal(asprintf(&p, "%s/%s", fx->dir, name) > 0, 1);
	return p;
}

/* The test tool that plays head office, end to end with the command. */
static void cli_assignment_verify_mkletter(void **state)
{
	char *hq = path_in_dir("mk-hq.key"), *van = path_in_dir("mk-van.key"),
	     *van2 = path_in_dir("mk-van2.key"), *letter = path_in_dir("mk-letter.jws"),
	     *payload = path_in_dir("mk-payload.json"), *vanpub = NULL, *seal = NULL;
	char hqpk[64], vanpk[64], van2pk[64], buf[256];
	struct run res;
	FILE *f;

	assert_int_equal(
	    run_tool(hqpk, sizeof(hqpk), (const char *const[]){"--sign-key", hq, NULL}), 0);
	hqpk[strcspn(hqpk, "\n")] = '\0';
	assert_int_equal(strlen(hqpk), 43);
	/* Loading the existing key gives the same public key. */
	assert_int_equal(run_tool(buf, sizeof(buf), (const char *const[]){"--sign-key", hq, NULL}),
			 0);
	assert_int_equal(strncmp(buf, hqpk, 43), 0);
	assert_int_equal(
	    run_tool(vanpk, sizeof(vanpk), (const char *const[]){"--sign-key", van, NULL}), 0);
	vanpk[strcspn(vanpk, "\n")] = '\0';
	assert_int_equal(
	    run_tool(van2pk, sizeof(van2pk), (const char *const[]){"--sign-key", van2, NULL}), 0);
	van2pk[strcspn(van2pk, "\n")] = '\0';
	assert_int_equal(asprintf(&vanpub, "@%s.pub", van) > 0, 1);
	assert_int_equal(
	    run_tool(buf, sizeof(buf),
		     (const char *const[]){
			 "--sign-key", hq,	     "--device-key",
			 vanpub,       "--seal-key", fx->seal_b64,
			 "--from",     FROM,	     "--until",
			 UNTIL,	       "--nomor",    "800/077/DUKCAPIL/2026",
			 "--npsn",     "10504999",   "--kecamatan",
			 "157105",     "--petugas",  "198703152010011002:Rina Marlina:123456",
			 "--jari",     "1,6",	     "--min-age",
			 "17",	       "-o",	     letter,
			 NULL}),
	    0);
	run_cli(&res,
		(const char *const[]){"assignment", "verify", letter, "--key", hqpk, "--on",
				      "2026-11-24T12:00:00+07:00", "--device-key", vanpk, NULL});
	if (res.status != 0)
		fail_msg("exit %d: %s", res.status, res.err);
	expect_line(&res, "Number: 800/077/DUKCAPIL/2026");
	expect_line(&res, "Valid: 2026-11-24 07:00 to 2026-11-24 16:00 WIB");
	expect_line(&res, "School: SMA Negeri 1 Kota Jambi (NPSN 10504999)");
	expect_line(&res, "Officer: 198703152010011002 Rina Marlina");
	expect_line(&res, "Minimum age: 17");
	expect_line(&res, "Fingers: 1 6");
	expect_line(&res, "Kecamatan: 157105 Telanaipura");
	expect_line(&res, "Status: valid");
	run_cli(&res,
		(const char *const[]){"assignment", "verify", letter, "--key", hqpk, "--on",
				      "2026-11-24T12:00:00+07:00", "--device-key", van2pk, NULL});
	assert_int_equal(res.status, 1);
	expect_line(&res, "Status: refused (st.other-van)");

	/* The tool refuses to sign a letter a van would refuse. */
	assert_int_equal(run_tool(buf, sizeof(buf),
				  (const char *const[]){
				      "--sign-key", hq, "--device-key", vanpk, "--seal-key",
				      fx->seal_b64, "--from", UNTIL, "--until", FROM, "--petugas",
				      "198703152010011002:Rina:1", "-o", letter, NULL}),
			 1);
	assert_int_equal(run_tool(buf, sizeof(buf),
				  (const char *const[]){"--sign-key", hq, "--petugas", "1:x:2",
							"-o", letter, NULL}),
			 2);
	/* --payload signs anything, so a signed but malformed letter can be
	 * tested: the command names the field. */
	f = fopen(payload, "w");
	assert_non_null(f);
	fputs("{\"typ\":\"retas.surat-tugas.v1\",\"nomor\":\"\"}", f);
	fclose(f);
	assert_int_equal(run_tool(buf, sizeof(buf),
				  (const char *const[]){"--sign-key", hq, "--payload", payload,
							"-o", letter, NULL}),
			 0);
	run_cli(&res, (const char *const[]){"assignment", "verify", letter, "--key", hqpk, NULL});
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.err, "st.nomor"));
	assert_non_null(strstr(res.err, "nomor"));
	free(hq);
	free(van);
	free(van2);
	free(letter);
	free(payload);
	free(vanpub);
	free(seal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(st_valid_letter_parses),
		cmocka_unit_test(st_defaults_and_unknown_members),
		cmocka_unit_test(st_each_invalid_field_has_its_reason),
		cmocka_unit_test(st_kecamatan_checked_against_regions),
		cmocka_unit_test(st_not_json_refused),
		cmocka_unit_test(st_petugas_count_bounds),
		cmocka_unit_test(st_round_trip),
		cmocka_unit_test(st_window_edges),
		cmocka_unit_test(st_other_van_refused),
		cmocka_unit_test(st_petugas_and_pin),
		cmocka_unit_test(st_verify_signed_letter),
		cmocka_unit_test(cli_assignment_verify),
		cmocka_unit_test(cli_assignment_verify_mkletter),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
