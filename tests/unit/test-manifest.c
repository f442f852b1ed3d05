/*
 * The batch manifest: building it from sealed records, its exact payload,
 * signing and verifying, tampering, and one refusal per invalid field with
 * its reason, driven by a table of edits to a valid payload.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "retas-json.h"
#include "retas-jws.h"
#include "retas-manifest.h"
#include "retas-record.h"
#include "retas-util.h"

RETAS_DEFINE_CLEANUP(struct retas_container, retas_container_free)
RETAS_DEFINE_CLEANUP(struct retas_manifest, retas_manifest_free)

#define T0 1795478400000LL /* 2026-11-24T07:00:00+07:00 */

struct keys {
	uint8_t dev_pk[32], dev_sk[64];
	uint8_t hq_pk[32], hq_sk[32];
};

static void make_keys(struct keys *k)
{
	crypto_sign_keypair(k->dev_pk, k->dev_sk);
	crypto_box_keypair(k->hq_pk, k->hq_sk);
}

/* A sealed record of the given device, surat tugas and sequence; its id
 * fixed by seq so tests can name it. */
static uint8_t *seal(const struct keys *k, const char *dev, const char *st, uint64_t seq,
		     size_t *len)
{
	_cleanup_(retas_container_freep) struct retas_container *c = NULL;
	struct retas_record_header h = {0};
	uint8_t *rec = NULL;

	retas_uuid7_new(T0 + (int64_t)seq, h.id);
	h.id[15] = (uint8_t)seq;
	strcpy(h.st_nomor, st);
	strcpy(h.device_id, dev);
	strcpy(h.officer_nip, "198703152010011002");
	h.seq = seq;
	h.created_ms = T0 + (int64_t)seq * 60000;
	assert_int_equal(retas_container_new(&c), 0);
	assert_int_equal(
	    retas_container_add(c, "demografi.json", "application/json", "{\"nama\":\"Siti\"}", 15),
	    0);
	assert_int_equal(retas_record_seal(&h, c, k->hq_pk, k->dev_sk, &rec, len, NULL), 0);
	return rec;
}

struct batch {
	uint8_t *recs[3];
	size_t lens[3];
	struct retas_manifest *m;
};

static void build_batch(const struct keys *k, struct batch *b)
{
	json_object *row;

	assert_int_equal(retas_manifest_new("MPK-01", "800/041/DUKCAPIL/2026", T0, &b->m), 0);
	for (int i = 0; i < 3; i++) {
		b->recs[i] =
		    seal(k, "MPK-01", "800/041/DUKCAPIL/2026", (uint64_t)(i * 2 + 1), &b->lens[i]);
		assert_int_equal(retas_manifest_add_record(b->m, b->recs[i], b->lens[i], NULL), 0);
	}
	row = json_object_new_object();
	json_object_object_add(row, "seq", json_object_new_int(1));
	json_object_object_add(row, "event", json_object_new_string("login"));
	assert_int_equal(retas_manifest_add_audit(b->m, row), 0);
	assert_int_equal(retas_manifest_add_audit(b->m, json_object_new_string("x")), -EINVAL);
}

static void free_batch(struct batch *b)
{
	for (int i = 0; i < 3; i++)
		free(b->recs[i]);
	retas_manifest_free(b->m);
}

static void manifest_build_lists_records(void **state)
{
	struct batch b;
	struct keys k;
	uint8_t hash[32];

	make_keys(&k);
	build_batch(&k, &b);
	assert_int_equal(b.m->n_records, 3);
	for (int i = 0; i < 3; i++) {
		struct retas_record_header h;
		const struct retas_manifest_entry *e;

		assert_int_equal(retas_record_read_header(b.recs[i], b.lens[i], &h, NULL), 0);
		e = retas_manifest_find(b.m, h.id);
		assert_ptr_equal(e, &b.m->records[i]);
		assert_int_equal(e->seq, i * 2 + 1);
		assert_int_equal(e->size, b.lens[i]);
		retas_record_hash(b.recs[i], b.lens[i], hash);
		assert_memory_equal(e->sha256, hash, 32);
	}
	hash[0] ^= 1;
	assert_null(retas_manifest_find(b.m, hash));
	assert_int_equal(json_object_array_length(b.m->audit), 1);
	free_batch(&b);
}

static void manifest_new_refuses_bad_names(void **state)
{
	struct retas_manifest *m = NULL;
	char longer[70];

	memset(longer, 'x', 64);
	longer[64] = '\0';
	assert_int_equal(retas_manifest_new("", "800/041", T0, &m), -EINVAL);
	assert_int_equal(retas_manifest_new("MPK-01", "", T0, &m), -EINVAL);
	assert_int_equal(retas_manifest_new(longer, "800/041", T0, &m), -EINVAL);
	assert_int_equal(retas_manifest_new("MPK\n01", "800/041", T0, &m), -EINVAL);
	assert_int_equal(retas_manifest_new("MPK-01", "800/041", -1, &m), -EINVAL);
	assert_null(m);
	longer[63] = '\0';
	assert_int_equal(retas_manifest_new(longer, "800/041", T0, &m), 0);
	/* The batch id is a UUIDv7 of the creation time. */
	assert_memory_equal(m->batch_id, "01a20ada-2c00-7", 15);
	retas_manifest_free(m);
}

static void manifest_add_record_refusals(void **state)
{
	_cleanup_(retas_manifest_freep) struct retas_manifest *m = NULL;
	_cleanup_(freep) uint8_t *r1 = NULL, *r3 = NULL, *r2 = NULL, *other_dev = NULL;
	_cleanup_(freep) uint8_t *other_st = NULL;
	size_t l1, l2, l3, lo, ls;
	struct retas_error err = {0};
	struct keys k;

	make_keys(&k);
	r1 = seal(&k, "MPK-01", "800/041/DUKCAPIL/2026", 1, &l1);
	r3 = seal(&k, "MPK-01", "800/041/DUKCAPIL/2026", 3, &l3);
	r2 = seal(&k, "MPK-01", "800/041/DUKCAPIL/2026", 2, &l2);
	other_dev = seal(&k, "MPK-02", "800/041/DUKCAPIL/2026", 4, &lo);
	other_st = seal(&k, "MPK-01", "800/042/DUKCAPIL/2026", 4, &ls);
	assert_int_equal(retas_manifest_new("MPK-01", "800/041/DUKCAPIL/2026", T0, &m), 0);
	assert_int_equal(retas_manifest_add_record(m, r1, l1, &err), 0);
	assert_int_equal(retas_manifest_add_record(m, r3, l3, &err), 0);
	assert_int_equal(retas_manifest_add_record(m, r3, l3, &err), -EEXIST);
	assert_string_equal(err.reason, "manifest.record_duplicate");
	assert_int_equal(retas_manifest_add_record(m, r2, l2, &err), -EINVAL);
	assert_string_equal(err.reason, "manifest.record_order");
	assert_int_equal(retas_manifest_add_record(m, other_dev, lo, &err), -EINVAL);
	assert_string_equal(err.reason, "manifest.record_device");
	assert_int_equal(retas_manifest_add_record(m, other_st, ls, &err), -EINVAL);
	assert_string_equal(err.reason, "manifest.record_surat_tugas");
	assert_int_equal(retas_manifest_add_record(m, r1, l1 - 1, &err), -EBADMSG);
	assert_string_equal(err.reason, "record.format");
	assert_int_equal(retas_manifest_add_record(m, (const uint8_t *)"nonsense", 8, &err),
			 -EBADMSG);
	assert_string_equal(err.reason, "record.magic");
	assert_int_equal(m->n_records, 2);
}

static void manifest_payload_pinned(void **state)
{
	_cleanup_(retas_manifest_freep) struct retas_manifest *m = NULL;
	_cleanup_(freep) char *json = NULL;
	struct retas_manifest_entry e = {.seq = 7, .size = 1234};
	json_object *report = json_object_new_object();

	assert_int_equal(retas_manifest_new("MPK-01", "800/041/DUKCAPIL/2026", T0 + 5, &m), 0);
	strcpy(m->batch_id, "01a20ada-2c05-7abc-8def-0123456789ab");
	for (int i = 0; i < 16; i++)
		e.id[i] = (uint8_t)(0x10 + i);
	e.id[6] = 0x70;
	e.id[8] = 0x80;
	memset(e.sha256, 0xab, 32);
	m->records = malloc(sizeof(e));
	m->records[0] = e;
	m->n_records = 1;
	json_object_object_add(report, "jumlah", json_object_new_int(1));
	retas_manifest_set_report(m, report);
	assert_int_equal(retas_manifest_to_json(m, &json), 0);
	assert_string_equal(
	    json, "{\"typ\":\"retas.manifest.v1\","
		  "\"batch_id\":\"01a20ada-2c05-7abc-8def-0123456789ab\","
		  "\"device_id\":\"MPK-01\",\"surat_tugas\":\"800/041/DUKCAPIL/2026\","
		  "\"created\":\"2026-11-24T07:00:00.005+07:00\","
		  "\"records\":[{\"id\":\"10111213-1415-7017-8019-1a1b1c1d1e1f\",\"seq\":7,"
		  "\"sha256\":\"abababababababababababababababababababababababababababababab"
		  "abab\",\"size\":1234}],"
		  "\"audit\":[],\"report\":{\"jumlah\":1}}");
	/* Clearing the report drops the member. */
	retas_manifest_set_report(m, NULL);
	free(json);
	json = NULL;
	assert_int_equal(retas_manifest_to_json(m, &json), 0);
	assert_null(strstr(json, "report"));
}

static void manifest_json_round_trip(void **state)
{
	_cleanup_(retas_manifest_freep) struct retas_manifest *back = NULL;
	_cleanup_(freep) char *json = NULL, *again = NULL;
	struct batch b;
	struct keys k;

	make_keys(&k);
	build_batch(&k, &b);
	retas_manifest_set_report(b.m, json_object_new_object());
	assert_int_equal(retas_manifest_to_json(b.m, &json), 0);
	assert_int_equal(retas_manifest_parse(json, strlen(json), &back, NULL), 0);
	assert_string_equal(back->batch_id, b.m->batch_id);
	assert_string_equal(back->device_id, "MPK-01");
	assert_string_equal(back->st_nomor, "800/041/DUKCAPIL/2026");
	assert_int_equal(back->created_ms, T0);
	assert_int_equal(back->n_records, 3);
	assert_memory_equal(back->records, b.m->records, 3 * sizeof(*back->records));
	assert_int_equal(json_object_array_length(back->audit), 1);
	assert_non_null(back->report);
	assert_int_equal(retas_manifest_to_json(back, &again), 0);
	assert_string_equal(again, json);
	free_batch(&b);
}

/* Replaces (or with value NULL deletes) the member at a dotted path such
 * as "records.1.seq"; numeric segments index arrays. */
static void edit(json_object *root, const char *path, const char *value)
{
	char buf[128], *seg, *next, *save = NULL;
	json_object *cur = root, *v = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	seg = strtok_r(buf, ".", &save);
	while ((next = strtok_r(NULL, ".", &save))) {
		if (json_object_is_type(cur, json_type_array))
			cur = json_object_array_get_idx(cur, (size_t)atoi(seg));
		else
			assert_true(json_object_object_get_ex(cur, seg, &cur));
		assert_non_null(cur);
		seg = next;
	}
	if (value) {
		/* Wrapped in an array: a bare number has no end a parser can see. */
		char wrapped[256];
		json_object *arr = NULL;

		snprintf(wrapped, sizeof(wrapped), "[%s]", value);
		assert_int_equal(retas_json_parse(wrapped, strlen(wrapped), &arr), 0);
		v = json_object_get(json_object_array_get_idx(arr, 0));
		json_object_put(arr);
	}
	if (json_object_is_type(cur, json_type_array)) {
		assert_non_null(value);
		assert_int_equal(json_object_array_put_idx(cur, (size_t)atoi(seg), v), 0);
	} else if (value) {
		json_object_object_add(cur, seg, v);
	} else {
		json_object_object_del(cur, seg);
	}
}

static const char valid_payload[] =
    "{\"typ\":\"retas.manifest.v1\",\"batch_id\":\"01a20ada-2c05-7abc-8def-0123456789ab\","
    "\"device_id\":\"MPK-01\",\"surat_tugas\":\"800/041/DUKCAPIL/2026\","
    "\"created\":\"2026-11-24T07:00:00+07:00\",\"records\":["
    "{\"id\":\"01a20ada-2c05-7abc-8def-000000000001\",\"seq\":1,\"sha256\":"
    "\"0000000000000000000000000000000000000000000000000000000000000001\",\"size\":900},"
    "{\"id\":\"01a20ada-2c05-7abc-8def-000000000002\",\"seq\":2,\"sha256\":"
    "\"0000000000000000000000000000000000000000000000000000000000000002\",\"size\":901},"
    "{\"id\":\"01a20ada-2c05-7abc-8def-000000000003\",\"seq\":5,\"sha256\":"
    "\"0000000000000000000000000000000000000000000000000000000000000003\",\"size\":902}],"
    "\"audit\":[{\"seq\":1}],\"report\":{\"jumlah\":3}}";

static void manifest_parse_each_invalid_field(void **state)
{
	static const struct {
		const char *path, *value, *reason;
	} cases[] = {
	    {"typ", NULL, "manifest.typ"},
	    {"typ", "\"retas.manifest.v2\"", "manifest.typ"},
	    {"typ", "1", "manifest.typ"},
	    {"batch_id", NULL, "manifest.batch_id"},
	    {"batch_id", "\"01a20ada-2c05-7abc-8def-0123456789a\"", "manifest.batch_id"},
	    {"batch_id", "\"01a20ada2c057abc8def0123456789abcd\"", "manifest.batch_id"},
	    {"batch_id", "\"01a20ada-2c05-7abc-8def-0123456789ag\"", "manifest.batch_id"},
	    {"device_id", NULL, "manifest.device_id"},
	    {"device_id", "\"\"", "manifest.device_id"},
	    {"device_id", "\"MPK\\u000a01\"", "manifest.device_id"},
	    {"device_id", "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
	     "manifest.device_id"},
	    {"surat_tugas", NULL, "manifest.surat_tugas"},
	    {"surat_tugas", "[]", "manifest.surat_tugas"},
	    {"created", NULL, "manifest.created"},
	    {"created", "\"2026-11-24T07:00:00\"", "manifest.created"},
	    {"created", "\"2026-11-24\"", "manifest.created"},
	    {"created", "1795478400000", "manifest.created"},
	    /* Found by the round-trip check of tests/fuzz/fuzz-manifest: 10000-01-01
	     * in WIB, which retas_manifest_to_json wrote as "0000-01-01T...". */
	    {"created", "\"9999-12-31T23:00:00-10:00\"", "manifest.created"},
	    {"created", "\"0001-01-01T00:00:00+07:01\"", "manifest.created"},
	    {"records", NULL, "manifest.records"},
	    {"records", "{}", "manifest.records"},
	    {"records.1", "7", "manifest.records"},
	    {"records.1.id", NULL, "manifest.record_id"},
	    {"records.1.id", "\"not-a-uuid\"", "manifest.record_id"},
	    {"records.1.id", "\"01a20ada-2c05-7abc-8def_000000000002\"", "manifest.record_id"},
	    {"records.1.seq", NULL, "manifest.record_seq"},
	    {"records.1.seq", "0", "manifest.record_seq"},
	    {"records.1.seq", "-2", "manifest.record_seq"},
	    {"records.1.seq", "2.0", "manifest.record_seq"},
	    {"records.1.seq", "\"2\"", "manifest.record_seq"},
	    {"records.1.seq", "1", "manifest.record_order"},
	    {"records.2.seq", "2", "manifest.record_order"},
	    {"records.0.seq", "3", "manifest.record_order"},
	    {"records.2.id", "\"01a20ada-2c05-7abc-8def-000000000001\"",
	     "manifest.record_duplicate"},
	    {"records.1.id", "\"01A20ADA-2C05-7ABC-8DEF-000000000003\"",
	     "manifest.record_duplicate"},
	    {"records.1.sha256", NULL, "manifest.record_sha256"},
	    {"records.1.sha256",
	     "\"000000000000000000000000000000000000000000000000000000000000002\"",
	     "manifest.record_sha256"},
	    {"records.1.sha256",
	     "\"00000000000000000000000000000000000000000000000000000000000000002\"",
	     "manifest.record_sha256"},
	    {"records.1.sha256",
	     "\"000000000000000000000000000000000000000000000000000000000000000A\"",
	     "manifest.record_sha256"},
	    {"records.1.sha256",
	     "\"000000000000000000000000000000000000000000000000000000000000000g\"",
	     "manifest.record_sha256"},
	    {"records.1.size", NULL, "manifest.record_size"},
	    {"records.1.size", "0", "manifest.record_size"},
	    {"records.1.size", "-1", "manifest.record_size"},
	    {"records.1.size", "67108865", "manifest.record_size"},
	    {"records.1.size", "18446744073709551615", "manifest.record_size"},
	    {"records.1.size", "901.5", "manifest.record_size"},
	    {"audit", NULL, "manifest.audit"},
	    {"audit", "{}", "manifest.audit"},
	    {"audit", "[{},3]", "manifest.audit"},
	    {"report", "null", "manifest.report"},
	    {"report", "[]", "manifest.report"},
	    {"report", "\"draft\"", "manifest.report"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(json_object_putp) json_object *root = NULL;
		_cleanup_(freep) char *text = NULL;
		struct retas_manifest *m = NULL;
		struct retas_error err = {0};
		int r;

		assert_int_equal(retas_json_parse(valid_payload, strlen(valid_payload), &root), 0);
		edit(root, cases[i].path, cases[i].value);
		assert_int_equal(retas_json_to_string(root, &text), 0);
		r = retas_manifest_parse(text, strlen(text), &m, &err);
		if (r >= 0 || !streq(err.reason, cases[i].reason))
			fail_msg("case %zu (%s = %s): got %d %s", i, cases[i].path,
				 cases[i].value ? cases[i].value : "(deleted)", r, err.reason);
		assert_true(err.message[0] != '\0');
		assert_null(m);
	}
}

static void manifest_parse_accepts_the_edges(void **state)
{
	static const struct {
		const char *path, *value;
	} cases[] = {
	    {"report", NULL},
	    {"records.1.size", "67108864"},
	    {"records.1.size", "1"},
	    {"records", "[]"},
	    {"audit", "[]"},
	    {"created", "\"2026-11-24T00:00:00.123Z\""},
	    {"created", "\"9999-12-31T16:59:59.999Z\""},
	    {"created", "\"0001-01-01T00:00:00+07:00\""},
	    {"unknown_member", "{\"ignored\":true}"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases) + 1; i++) {
		_cleanup_(json_object_putp) json_object *root = NULL;
		_cleanup_(freep) char *text = NULL;
		_cleanup_(retas_manifest_freep) struct retas_manifest *m = NULL;
		struct retas_error err = {0};

		assert_int_equal(retas_json_parse(valid_payload, strlen(valid_payload), &root), 0);
		if (i < ARRAY_SIZE(cases))
			edit(root, cases[i].path, cases[i].value);
		assert_int_equal(retas_json_to_string(root, &text), 0);
		if (retas_manifest_parse(text, strlen(text), &m, &err) < 0)
			fail_msg("case %zu refused: %s", i, err.reason);
	}
}

static void manifest_parse_refuses_non_json_and_too_many(void **state)
{
	struct retas_manifest *m = NULL;
	struct retas_error err = {0};
	json_object *root = NULL, *recs;
	char *text = NULL;

	assert_int_equal(retas_manifest_parse("[]", 2, &m, &err), -EINVAL);
	assert_string_equal(err.reason, "manifest.json");
	assert_int_equal(retas_manifest_parse(valid_payload, strlen(valid_payload) - 1, &m, &err),
			 -EINVAL);
	assert_string_equal(err.reason, "manifest.json");
	assert_int_equal(retas_manifest_parse("{} x", 4, &m, &err), -EINVAL);
	assert_string_equal(err.reason, "manifest.json");

	assert_int_equal(retas_json_parse(valid_payload, strlen(valid_payload), &root), 0);
	recs = json_object_new_array();
	for (int i = 0; i <= RETAS_MANIFEST_MAX_RECORDS; i++)
		json_object_array_add(recs, json_object_new_object());
	json_object_object_add(root, "records", recs);
	assert_int_equal(retas_json_to_string(root, &text), 0);
	assert_int_equal(retas_manifest_parse(text, strlen(text), &m, &err), -E2BIG);
	assert_string_equal(err.reason, "manifest.records");
	assert_null(m);
	free(text);
	json_object_put(root);
}

static void manifest_sign_verify_round_trip(void **state)
{
	_cleanup_(retas_manifest_freep) struct retas_manifest *back = NULL;
	_cleanup_(freep) char *jws = NULL;
	struct retas_jws *peek = NULL;
	char kid[17];
	struct batch b;
	struct keys k;

	make_keys(&k);
	build_batch(&k, &b);
	assert_int_equal(retas_manifest_sign(b.m, k.dev_sk, &jws, NULL), 0);
	assert_int_equal(retas_jws_peek(jws, strlen(jws), &peek, NULL), 0);
	assert_string_equal(peek->typ, RETAS_MANIFEST_JWS_TYP);
	retas_key_id(k.dev_pk, kid);
	assert_string_equal(peek->kid, kid);
	retas_jws_free(peek);
	assert_int_equal(retas_manifest_verify(jws, strlen(jws), k.dev_pk, &back, NULL), 0);
	assert_string_equal(back->batch_id, b.m->batch_id);
	assert_int_equal(back->n_records, 3);
	assert_memory_equal(back->records, b.m->records, 3 * sizeof(*back->records));
	assert_null(back->report);
	free_batch(&b);
}

static void manifest_verify_refuses_tampering(void **state)
{
	_cleanup_(freep) char *jws = NULL, *other_typ = NULL, *bad_payload = NULL;
	_cleanup_(freep) char *payload = NULL;
	struct retas_manifest *m = NULL;
	struct retas_error err = {0};
	struct keys k, other;
	struct batch b;
	size_t len, dot1, dot2;

	make_keys(&k);
	make_keys(&other);
	build_batch(&k, &b);
	assert_int_equal(retas_manifest_sign(b.m, k.dev_sk, &jws, NULL), 0);
	len = strlen(jws);
	dot1 = (size_t)(strchr(jws, '.') - jws);
	dot2 = (size_t)(strrchr(jws, '.') - jws);

	assert_int_equal(retas_manifest_verify(jws, len, other.dev_pk, &m, &err), -EBADMSG);
	assert_string_equal(err.reason, "jws.signature");
	/* One character changed in the payload, then in the signature. */
	jws[dot1 + 10] = jws[dot1 + 10] == 'A' ? 'B' : 'A';
	assert_true(retas_manifest_verify(jws, len, k.dev_pk, &m, &err) < 0);
	assert_string_equal(err.reason, "jws.signature");
	jws[dot1 + 10] = jws[dot1 + 10] == 'A' ? 'B' : 'A';
	jws[dot2 + 5] = jws[dot2 + 5] == 'A' ? 'B' : 'A';
	assert_true(retas_manifest_verify(jws, len, k.dev_pk, &m, &err) < 0);
	assert_string_equal(err.reason, "jws.signature");
	jws[dot2 + 5] = jws[dot2 + 5] == 'A' ? 'B' : 'A';
	assert_true(retas_manifest_verify(jws, len - 1, k.dev_pk, &m, &err) < 0);
	assert_null(m);

	/* A valid signature over the right payload under another typ. */
	assert_int_equal(retas_manifest_to_json(b.m, &payload), 0);
	assert_int_equal(retas_jws_sign(payload, strlen(payload), "retas-st+jws", NULL, k.dev_sk,
					&other_typ, NULL),
			 0);
	assert_true(retas_manifest_verify(other_typ, strlen(other_typ), k.dev_pk, &m, &err) < 0);
	assert_string_equal(err.reason, "jws.typ");
	/* Signed correctly but invalid inside: the field checks still run. */
	b.m->records[1].seq = b.m->records[0].seq;
	free(payload);
	payload = NULL;
	assert_int_equal(retas_manifest_to_json(b.m, &payload), 0);
	assert_int_equal(retas_jws_sign(payload, strlen(payload), RETAS_MANIFEST_JWS_TYP, NULL,
					k.dev_sk, &bad_payload, NULL),
			 0);
	assert_int_equal(
	    retas_manifest_verify(bad_payload, strlen(bad_payload), k.dev_pk, &m, &err), -EINVAL);
	assert_string_equal(err.reason, "manifest.record_order");
	assert_null(m);
	free_batch(&b);
}

static int setup(void **state)
{
	return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(manifest_build_lists_records),
	    cmocka_unit_test(manifest_new_refuses_bad_names),
	    cmocka_unit_test(manifest_add_record_refusals),
	    cmocka_unit_test(manifest_payload_pinned),
	    cmocka_unit_test(manifest_json_round_trip),
	    cmocka_unit_test(manifest_parse_each_invalid_field),
	    cmocka_unit_test(manifest_parse_accepts_the_edges),
	    cmocka_unit_test(manifest_parse_refuses_non_json_and_too_many),
	    cmocka_unit_test(manifest_sign_verify_round_trip),
	    cmocka_unit_test(manifest_verify_refuses_tampering),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
