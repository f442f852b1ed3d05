/*
 * The batch manifest (DESIGN.md §4; schema in docs/record-format.md §5):
 * the list of sealed records a batch carries, each with its id, sequence,
 * SHA-256 and size, plus the audit log segment and, once the session is
 * closed, the draft report, signed as a JWS with the van's device key.
 * Head office decides from it what it has received, so parsing checks
 * every field and names the first one that is wrong.
 */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-jws.h"
#include "retas-manifest.h"
#include "retas-record.h"
#include "retas-time.h"
#include "retas-util.h"

RETAS_DEFINE_CLEANUP(struct retas_manifest, retas_manifest_free)

#define TEXT_MAX 63

static bool text_is_valid(const char *s)
{
	size_t len = strlen(s);

	if (len < 1 || len > TEXT_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static bool hex_is_lower(const char *s, size_t want)
{
	if (strlen(s) != want)
		return false;
	for (size_t i = 0; i < want; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int manifest_alloc(struct retas_manifest **out)
{
	struct retas_manifest *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->audit = json_object_new_array();
	if (!m->audit) {
		free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

int retas_manifest_new(const char *device_id, const char *st_nomor, int64_t now_ms,
		       struct retas_manifest **out)
{
	struct retas_manifest *m = NULL;
	uint8_t id[16];
	int r;

	if (!text_is_valid(device_id) || !text_is_valid(st_nomor) || now_ms < 0)
		return -EINVAL;
	r = manifest_alloc(&m);
	if (r < 0)
		return r;
	retas_uuid7_new(now_ms, id);
	retas_uuid_format(id, m->batch_id);
	strcpy(m->device_id, device_id);
	strcpy(m->st_nomor, st_nomor);
	m->created_ms = now_ms;
	*out = m;
	return 0;
}

void retas_manifest_free(struct retas_manifest *m)
{
	if (!m)
		return;
	free(m->records);
	json_object_put(m->audit);
	json_object_put(m->report);
	free(m);
}

const struct retas_manifest_entry *retas_manifest_find(const struct retas_manifest *m,
						       const uint8_t id[16])
{
	for (size_t i = 0; i < m->n_records; i++)
		if (memcmp(m->records[i].id, id, 16) == 0)
			return &m->records[i];
	return NULL;
}

static int push_entry(struct retas_manifest *m, const struct retas_manifest_entry *e)
{
	struct retas_manifest_entry *grown;

	grown = realloc(m->records, (m->n_records + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	m->records = grown;
	m->records[m->n_records++] = *e;
	return 0;
}

int retas_manifest_add_record(struct retas_manifest *m, const uint8_t *rec, size_t len,
			      struct retas_error *err)
{
	struct retas_record_header h;
	struct retas_manifest_entry e;
	char idtext[RETAS_UUID_STR_LEN];
	int r;

	r = retas_record_read_header(rec, len, &h, err);
	if (r < 0)
		return r;
	retas_uuid_format(h.id, idtext);
	if (m->n_records >= RETAS_MANIFEST_MAX_RECORDS)
		return retas_error_set(err, -E2BIG, "manifest.records",
				       N_("A batch holds at most %u records."),
				       RETAS_MANIFEST_MAX_RECORDS);
	if (!streq(h.device_id, m->device_id))
		return retas_error_set(err, -EINVAL, "manifest.record_device",
				       N_("Record %s comes from device %s, not %s."), idtext,
				       h.device_id, m->device_id);
	if (!streq(h.st_nomor, m->st_nomor))
		return retas_error_set(err, -EINVAL, "manifest.record_surat_tugas",
				       N_("Record %s belongs to surat tugas %s, not %s."), idtext,
				       h.st_nomor, m->st_nomor);
	if (retas_manifest_find(m, h.id))
		return retas_error_set(err, -EEXIST, "manifest.record_duplicate",
				       N_("Record %s is already in the batch."), idtext);
	if (m->n_records > 0 && h.seq <= m->records[m->n_records - 1].seq)
		return retas_error_set(err, -EINVAL, "manifest.record_order",
				       N_("Record %s has sequence %llu, not above the batch's last "
					  "%llu."),
				       idtext, (unsigned long long)h.seq,
				       (unsigned long long)m->records[m->n_records - 1].seq);
	memcpy(e.id, h.id, 16);
	e.seq = h.seq;
	e.size = len;
	retas_record_hash(rec, len, e.sha256);
	r = push_entry(m, &e);
	if (r < 0)
		return retas_error_set(err, r, "manifest.memory", N_("Out of memory."));
	return 0;
}

int retas_manifest_add_audit(struct retas_manifest *m, json_object *row)
{
	if (!json_object_is_type(row, json_type_object)) {
		json_object_put(row);
		return -EINVAL;
	}
	if (json_object_array_add(m->audit, row) < 0) {
		json_object_put(row);
		return -ENOMEM;
	}
	return 0;
}

void retas_manifest_set_report(struct retas_manifest *m, json_object *report)
{
	json_object_put(m->report);
	m->report = report;
}

/* Adds key: value to obj, taking value; false when either failed. */
static bool put(json_object *obj, const char *key, json_object *value)
{
	if (!value)
		return false;
	if (json_object_object_add(obj, key, value) < 0) {
		json_object_put(value);
		return false;
	}
	return true;
}

static json_object *entry_json(const struct retas_manifest_entry *e)
{
	char id[RETAS_UUID_STR_LEN], hex[65];
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	retas_uuid_format(e->id, id);
	retas_hex_encode(e->sha256, 32, hex);
	if (!put(o, "id", json_object_new_string(id)) ||
	    !put(o, "seq", json_object_new_int64((int64_t)e->seq)) ||
	    !put(o, "sha256", json_object_new_string(hex)) ||
	    !put(o, "size", json_object_new_int64((int64_t)e->size))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int retas_manifest_to_json(const struct retas_manifest *m, char **out)
{
	_cleanup_(json_object_putp) json_object *root = json_object_new_object();
	char created[RETAS_RFC3339_MAX];
	json_object *records;

	if (!root)
		return -ENOMEM;
	retas_time_format_rfc3339(m->created_ms, RETAS_WIB_OFFSET_MIN, created);
	records = json_object_new_array_ext((int)m->n_records);
	if (!put(root, "typ", json_object_new_string(RETAS_MANIFEST_PAYLOAD_TYP)) ||
	    !put(root, "batch_id", json_object_new_string(m->batch_id)) ||
	    !put(root, "device_id", json_object_new_string(m->device_id)) ||
	    !put(root, "surat_tugas", json_object_new_string(m->st_nomor)) ||
	    !put(root, "created", json_object_new_string(created)) ||
	    !put(root, "records", records))
		return -ENOMEM;
	for (size_t i = 0; i < m->n_records; i++) {
		json_object *e = entry_json(&m->records[i]);

		if (!e || json_object_array_add(records, e) < 0) {
			json_object_put(e);
			return -ENOMEM;
		}
	}
	/* The audit rows and report are shared, not copied: root holds a
	 * reference of its own and drops it when freed. */
	if (!put(root, "audit", json_object_get(m->audit)))
		return -ENOMEM;
	if (m->report && !put(root, "report", json_object_get(m->report)))
		return -ENOMEM;
	return retas_json_to_string(root, out);
}

int retas_manifest_sign(const struct retas_manifest *m, const uint8_t device_sk[64], char **jws,
			struct retas_error *err)
{
	_cleanup_(freep) char *payload = NULL;
	uint8_t pk[32];
	char kid[17];
	int r;

	r = retas_manifest_to_json(m, &payload);
	if (r < 0)
		return retas_error_set(err, r, "manifest.memory", N_("Out of memory."));
	crypto_sign_ed25519_sk_to_pk(pk, device_sk);
	retas_key_id(pk, kid);
	return retas_jws_sign(payload, strlen(payload), RETAS_MANIFEST_JWS_TYP, kid, device_sk, jws,
			      err);
}

static int parse_entry(json_object *o, size_t i, struct retas_manifest_entry *e,
		       struct retas_error *err)
{
	const char *s;
	int64_t v;

	if (!json_object_is_type(o, json_type_object))
		return retas_error_set(err, -EINVAL, "manifest.records",
				       N_("Record %zu of the manifest is not an object."), i + 1);
	if (retas_json_get_string(o, "id", &s) < 0 || retas_uuid_parse(s, e->id) < 0)
		return retas_error_set(err, -EINVAL, "manifest.record_id",
				       N_("Record %zu of the manifest has no valid UUID as id."),
				       i + 1);
	if (retas_json_get_int64(o, "seq", &v) < 0 || v < 1)
		return retas_error_set(err, -EINVAL, "manifest.record_seq",
				       N_("Record %zu of the manifest has no valid sequence number "
					  "(an integer from 1)."),
				       i + 1);
	e->seq = (uint64_t)v;
	if (retas_json_get_string(o, "sha256", &s) < 0 || !hex_is_lower(s, 64) ||
	    retas_hex_decode(s, e->sha256, 32) < 0)
		return retas_error_set(err, -EINVAL, "manifest.record_sha256",
				       N_("Record %zu of the manifest has no valid sha256 (64 "
					  "lowercase hex digits)."),
				       i + 1);
	if (retas_json_get_int64(o, "size", &v) < 0 || v < 1 || v > RETAS_RECORD_MAX_LEN)
		return retas_error_set(err, -EINVAL, "manifest.record_size",
				       N_("Record %zu of the manifest has no valid size (1 to %u "
					  "bytes)."),
				       i + 1, RETAS_RECORD_MAX_LEN);
	e->size = (uint64_t)v;
	return 0;
}

static int cmp_entry_index(const void *a, const void *b, void *arg)
{
	const struct retas_manifest_entry *recs = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	int c = memcmp(recs[ia].id, recs[ib].id, 16);

	if (c)
		return c;
	return ia < ib ? -1 : ia > ib;
}

/* Finds two entries with the same id in O(n log n); 0 or the error. */
static int check_duplicates(const struct retas_manifest *m, struct retas_error *err)
{
	size_t *idx;
	int r = 0;

	if (m->n_records < 2)
		return 0;
	idx = malloc(m->n_records * sizeof(*idx));
	if (!idx)
		return retas_error_set(err, -ENOMEM, "manifest.memory", N_("Out of memory."));
	for (size_t i = 0; i < m->n_records; i++)
		idx[i] = i;
	qsort_r(idx, m->n_records, sizeof(*idx), cmp_entry_index, m->records);
	for (size_t i = 1; i < m->n_records; i++)
		if (memcmp(m->records[idx[i - 1]].id, m->records[idx[i]].id, 16) == 0) {
			r = retas_error_set(err, -EINVAL, "manifest.record_duplicate",
					    N_("Records %zu and %zu of the manifest have the "
					       "same id."),
					    idx[i - 1] + 1, idx[i] + 1);
			break;
		}
	free(idx);
	return r;
}

static int parse_records(json_object *arr, struct retas_manifest *m, struct retas_error *err)
{
	size_t n = json_object_array_length(arr);
	int r;

	if (n > RETAS_MANIFEST_MAX_RECORDS)
		return retas_error_set(
		    err, -E2BIG, "manifest.records",
		    N_("The manifest lists %zu records; at most %u are allowed."), n,
		    RETAS_MANIFEST_MAX_RECORDS);
	m->records = calloc(n ? n : 1, sizeof(*m->records));
	if (!m->records)
		return retas_error_set(err, -ENOMEM, "manifest.memory", N_("Out of memory."));
	for (size_t i = 0; i < n; i++) {
		struct retas_manifest_entry *e = &m->records[i];

		r = parse_entry(json_object_array_get_idx(arr, i), i, e, err);
		if (r < 0)
			return r;
		m->n_records = i + 1;
		if (i > 0 && e->seq <= m->records[i - 1].seq)
			return retas_error_set(err, -EINVAL, "manifest.record_order",
					       N_("Record %zu of the manifest has sequence %llu, "
						  "not above the one before it."),
					       i + 1, (unsigned long long)e->seq);
	}
	return check_duplicates(m, err);
}

static int parse_text(json_object *root, const char *key, char *dst, size_t dstlen,
		      struct retas_error *err, const char *reason)
{
	const char *s;

	if (retas_json_get_string(root, key, &s) < 0 || !text_is_valid(s) || strlen(s) >= dstlen)
		return retas_error_set(err, -EINVAL, reason,
				       N_("The manifest's %s is missing or not 1 to 63 printable "
					  "characters."),
				       key);
	strcpy(dst, s);
	return 0;
}

int retas_manifest_parse(const char *payload, size_t len, struct retas_manifest **out,
			 struct retas_error *err)
{
	_cleanup_(retas_manifest_freep) struct retas_manifest *m = NULL;
	_cleanup_(json_object_putp) json_object *root = NULL;
	json_object *arr, *report;
	struct retas_date created;
	const char *s;
	uint8_t id[16];
	int r;

	if (retas_json_parse(payload, len, &root) < 0 ||
	    !json_object_is_type(root, json_type_object))
		return retas_error_set(err, -EINVAL, "manifest.json",
				       N_("The manifest is not a JSON object."));
	if (retas_json_get_string(root, "typ", &s) < 0 || !streq(s, RETAS_MANIFEST_PAYLOAD_TYP))
		return retas_error_set(err, -EINVAL, "manifest.typ",
				       N_("The manifest's typ is not %s."),
				       RETAS_MANIFEST_PAYLOAD_TYP);
	r = manifest_alloc(&m);
	if (r < 0)
		return retas_error_set(err, r, "manifest.memory", N_("Out of memory."));
	if (retas_json_get_string(root, "batch_id", &s) < 0 || retas_uuid_parse(s, id) < 0)
		return retas_error_set(err, -EINVAL, "manifest.batch_id",
				       N_("The manifest's batch_id is missing or not a UUID."));
	retas_uuid_format(id, m->batch_id);
	r = parse_text(root, "device_id", m->device_id, sizeof(m->device_id), err,
		       "manifest.device_id");
	if (r < 0)
		return r;
	r = parse_text(root, "surat_tugas", m->st_nomor, sizeof(m->st_nomor), err,
		       "manifest.surat_tugas");
	if (r < 0)
		return r;
	if (retas_json_get_string(root, "created", &s) < 0 ||
	    retas_time_parse_rfc3339(s, &m->created_ms, NULL) < 0)
		return retas_error_set(err, -EINVAL, "manifest.created",
				       N_("The manifest's created time is missing or not RFC 3339 "
					  "with an offset."));
	/* retas_manifest_to_json writes it in WIB: a date outside years
	 * 1-9999 there would be written as a time no parser takes back. */
	retas_date_from_ms(m->created_ms, RETAS_WIB_OFFSET_MIN, &created);
	if (created.year < 1 || created.year > 9999)
		return retas_error_set(err, -EINVAL, "manifest.created",
				       N_("The manifest's created time lies outside the years "
					  "0001-9999 in WIB (+07:00)."));
	if (retas_json_get_array(root, "records", &arr) < 0)
		return retas_error_set(err, -EINVAL, "manifest.records",
				       N_("The manifest has no records array."));
	r = parse_records(arr, m, err);
	if (r < 0)
		return r;
	if (retas_json_get_array(root, "audit", &arr) < 0)
		return retas_error_set(err, -EINVAL, "manifest.audit",
				       N_("The manifest has no audit array."));
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (!json_object_is_type(json_object_array_get_idx(arr, i), json_type_object))
			return retas_error_set(err, -EINVAL, "manifest.audit",
					       N_("Audit row %zu of the manifest is not an "
						  "object."),
					       i + 1);
	json_object_put(m->audit);
	m->audit = json_object_get(arr);
	/* Absent means no report yet; present, it must be an object (null is
	 * not "absent"). */
	if (json_object_object_get_ex(root, "report", &report)) {
		if (!json_object_is_type(report, json_type_object))
			return retas_error_set(err, -EINVAL, "manifest.report",
					       N_("The manifest's report is not an object."));
		m->report = json_object_get(report);
	}
	*out = steal_ptr(m);
	return 0;
}

int retas_manifest_verify(const char *jws, size_t len, const uint8_t device_pk[32],
			  struct retas_manifest **out, struct retas_error *err)
{
	struct retas_jws *tok = NULL;
	int r;

	r = retas_jws_verify(jws, len, device_pk, RETAS_MANIFEST_JWS_TYP, &tok, err);
	if (r < 0)
		return r;
	r = retas_manifest_parse((const char *)tok->payload, tok->payload_len, out, err);
	retas_jws_free(tok);
	return r;
}
