/*
 * Receipt JWS. The payload repeats the batch id and device id so that a
 * receipt for one batch can never be taken for another's; hashes are
 * lowercase hex, ids the UUID text form, the time RFC 3339 in WIB.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-jws.h"
#include "retas-manifest.h"
#include "retas-time.h"
#include "retas-util.h"
#include "sync-receipt.h"

static const char *const outcome_names[] = {
    [SYNC_OUTCOME_STORED] = "stored",
    [SYNC_OUTCOME_ALREADY_RECEIVED] = "already-received",
    [SYNC_OUTCOME_QUARANTINED] = "quarantined",
};

const char *sync_outcome_name(enum sync_outcome o)
{
	return (size_t)o < ARRAY_SIZE(outcome_names) ? outcome_names[o] : "?";
}

int sync_outcome_parse(const char *s, enum sync_outcome *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(outcome_names); i++) {
		if (streq(s, outcome_names[i])) {
			*out = (enum sync_outcome)i;
			return 0;
		}
	}
	return -EINVAL;
}

void sync_receipt_free(struct sync_receipt *r)
{
	if (!r)
		return;
	free(r->records);
	free(r->anomalies);
	free(r);
}

RETAS_DEFINE_CLEANUP(struct sync_receipt, sync_receipt_free)

static int add_str(json_object *o, const char *key, const char *v)
{
	json_object *s = json_object_new_string(v);

	if (!s)
		return -ENOMEM;
	json_object_object_add(o, key, s);
	return 0;
}

static int build_payload(const struct sync_receipt *r, json_object **out)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	json_object *recs, *anoms;
	char when[RETAS_RFC3339_MAX];

	if (!o)
		return -ENOMEM;
	retas_time_format_rfc3339(r->received_ms, RETAS_WIB_OFFSET_MIN, when);
	if (add_str(o, "typ", SYNC_RECEIPT_PAYLOAD_TYP) < 0 ||
	    add_str(o, "batch_id", r->batch_id) < 0 || add_str(o, "device_id", r->device_id) < 0 ||
	    add_str(o, "st_nomor", r->st_nomor) < 0 || add_str(o, "received", when) < 0)
		return -ENOMEM;
	recs = json_object_new_array();
	if (!recs)
		return -ENOMEM;
	json_object_object_add(o, "records", recs);
	for (size_t i = 0; i < r->n_records; i++) {
		const struct sync_receipt_record *e = &r->records[i];
		json_object *je = json_object_new_object();
		char id[RETAS_UUID_STR_LEN], hex[65];

		if (!je)
			return -ENOMEM;
		json_object_array_add(recs, je);
		retas_uuid_format(e->id, id);
		retas_hex_encode(e->sha256, 32, hex);
		if (add_str(je, "id", id) < 0)
			return -ENOMEM;
		json_object_object_add(je, "seq", json_object_new_int64((int64_t)e->seq));
		if (add_str(je, "sha256", hex) < 0 ||
		    add_str(je, "outcome", sync_outcome_name(e->outcome)) < 0)
			return -ENOMEM;
		if (e->outcome == SYNC_OUTCOME_QUARANTINED && add_str(je, "reason", e->reason) < 0)
			return -ENOMEM;
	}
	anoms = json_object_new_array();
	if (!anoms)
		return -ENOMEM;
	json_object_object_add(o, "anomalies", anoms);
	for (size_t i = 0; i < r->n_anomalies; i++) {
		const struct sync_receipt_anomaly *a = &r->anomalies[i];
		json_object *ja = json_object_new_object();
		char id[RETAS_UUID_STR_LEN];

		if (!ja)
			return -ENOMEM;
		json_object_array_add(anoms, ja);
		retas_uuid_format(a->record, id);
		if (add_str(ja, "kind", a->kind) < 0)
			return -ENOMEM;
		json_object_object_add(ja, "from", json_object_new_int64((int64_t)a->seq_from));
		json_object_object_add(ja, "to", json_object_new_int64((int64_t)a->seq_to));
		if (add_str(ja, "record", id) < 0)
			return -ENOMEM;
	}
	*out = steal_ptr(o);
	return 0;
}

int sync_receipt_sign(const struct sync_receipt *r, const uint8_t hq_sign_pk[32],
		      const uint8_t hq_sign_sk[64], char **jws, struct retas_error *err)
{
	_cleanup_(json_object_putp) json_object *o = NULL;
	_cleanup_(freep) char *payload = NULL;
	char kid[17];
	int rc;

	rc = build_payload(r, &o);
	if (rc < 0)
		return rc;
	rc = retas_json_to_string(o, &payload);
	if (rc < 0)
		return rc;
	retas_key_id(hq_sign_pk, kid);
	return retas_jws_sign(payload, strlen(payload), SYNC_RECEIPT_JWS_TYP, kid, hq_sign_sk, jws,
			      err);
}

static int bad(struct retas_error *err, const char *field)
{
	char reason[48];

	snprintf(reason, sizeof(reason), "receipt.%s", field);
	return retas_error_set(err, -EBADMSG, reason, N_("the receipt's %s is missing or invalid"),
			       field);
}

static int copy_str(json_object *o, const char *key, char *buf, size_t size, int allow_empty)
{
	const char *s;

	if (retas_json_get_string(o, key, &s) < 0)
		return -EINVAL;
	if ((!allow_empty && !*s) || strlen(s) >= size)
		return -EINVAL;
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

static int parse_record(json_object *je, struct sync_receipt_record *e)
{
	const char *s;
	int64_t seq;

	if (!json_object_is_type(je, json_type_object))
		return -EINVAL;
	if (retas_json_get_string(je, "id", &s) < 0 || retas_uuid_parse(s, e->id) < 0)
		return -EINVAL;
	if (retas_json_get_int64(je, "seq", &seq) < 0 || seq < 1)
		return -EINVAL;
	e->seq = (uint64_t)seq;
	if (retas_json_get_string(je, "sha256", &s) < 0 || retas_hex_decode(s, e->sha256, 32) < 0)
		return -EINVAL;
	if (retas_json_get_string(je, "outcome", &s) < 0 || sync_outcome_parse(s, &e->outcome) < 0)
		return -EINVAL;
	if (e->outcome == SYNC_OUTCOME_QUARANTINED &&
	    copy_str(je, "reason", e->reason, sizeof(e->reason), 0) < 0)
		return -EINVAL;
	return 0;
}

static int parse_anomaly(json_object *ja, struct sync_receipt_anomaly *a)
{
	const char *s;
	int64_t from, to;

	if (!json_object_is_type(ja, json_type_object))
		return -EINVAL;
	if (copy_str(ja, "kind", a->kind, sizeof(a->kind), 0) < 0 ||
	    (!streq(a->kind, "gap") && !streq(a->kind, "fork") && !streq(a->kind, "chain")))
		return -EINVAL;
	if (retas_json_get_int64(ja, "from", &from) < 0 ||
	    retas_json_get_int64(ja, "to", &to) < 0 || from < 1 || to < from)
		return -EINVAL;
	a->seq_from = (uint64_t)from;
	a->seq_to = (uint64_t)to;
	if (retas_json_get_string(ja, "record", &s) < 0 || retas_uuid_parse(s, a->record) < 0)
		return -EINVAL;
	return 0;
}

int sync_receipt_verify(const char *jws, size_t len, const uint8_t hq_sign_pk[32],
			struct sync_receipt **out, struct retas_error *err)
{
	_cleanup_(sync_receipt_freep) struct sync_receipt *r = NULL;
	_cleanup_(json_object_putp) json_object *o = NULL;
	struct retas_jws *j = NULL;
	json_object *arr;
	const char *s;
	int rc;

	rc = retas_jws_verify(jws, len, hq_sign_pk, SYNC_RECEIPT_JWS_TYP, &j, err);
	if (rc < 0)
		return rc;
	rc = retas_json_parse((const char *)j->payload, j->payload_len, &o);
	retas_jws_free(j);
	if (rc < 0 || !json_object_is_type(o, json_type_object))
		return bad(err, "json");
	if (retas_json_get_string(o, "typ", &s) < 0 || !streq(s, SYNC_RECEIPT_PAYLOAD_TYP))
		return bad(err, "typ");
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (retas_json_get_string(o, "batch_id", &s) < 0 || strlen(s) != 36 ||
	    retas_uuid_parse(s, (uint8_t[16]){0}) < 0)
		return bad(err, "batch_id");
	memcpy(r->batch_id, s, 37);
	if (copy_str(o, "device_id", r->device_id, sizeof(r->device_id), 0) < 0)
		return bad(err, "device_id");
	if (copy_str(o, "st_nomor", r->st_nomor, sizeof(r->st_nomor), 1) < 0)
		return bad(err, "st_nomor");
	if (retas_json_get_string(o, "received", &s) < 0 ||
	    retas_time_parse_rfc3339(s, &r->received_ms, NULL) < 0)
		return bad(err, "received");
	if (retas_json_get_array(o, "records", &arr) < 0 ||
	    json_object_array_length(arr) > RETAS_MANIFEST_MAX_RECORDS)
		return bad(err, "records");
	r->n_records = json_object_array_length(arr);
	if (r->n_records) {
		r->records = calloc(r->n_records, sizeof(*r->records));
		if (!r->records)
			return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_records; i++)
		if (parse_record(json_object_array_get_idx(arr, i), &r->records[i]) < 0)
			return bad(err, "records");
	if (retas_json_get_array(o, "anomalies", &arr) < 0 ||
	    json_object_array_length(arr) > SYNC_RECEIPT_MAX_ANOMALIES)
		return bad(err, "anomalies");
	r->n_anomalies = json_object_array_length(arr);
	if (r->n_anomalies) {
		r->anomalies = calloc(r->n_anomalies, sizeof(*r->anomalies));
		if (!r->anomalies)
			return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_anomalies; i++)
		if (parse_anomaly(json_object_array_get_idx(arr, i), &r->anomalies[i]) < 0)
			return bad(err, "anomalies");
	*out = steal_ptr(r);
	return 0;
}

const struct sync_receipt_record *sync_receipt_find(const struct sync_receipt *r,
						    const uint8_t id[16])
{
	for (size_t i = 0; i < r->n_records; i++)
		if (memcmp(r->records[i].id, id, 16) == 0)
			return &r->records[i];
	return NULL;
}
