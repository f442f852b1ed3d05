/*
 * Issuance tracking. One row per record once its receipt is scanned; each
 * step is an UPDATE that needs the step before it done and itself not, so
 * the order holds even with two counters at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq-issuance.h"
#include "hq-json.h"
#include "hq-store.h"
#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-nik.h"
#include "retas-uuid.h"
#include "retas-util.h"
#include "sync-qr.h"

static const struct {
	const char *name;   /* the API's verb */
	const char *done;   /* the status once done */
	const char *column; /* <column>_ms, <column>_by */
	const char *prev;   /* the column that must be set first */
	enum hq_role role;
	int sop_step, standard_min;
} steps[] = {
    [HQ_ISSUE_VERIFY] = {"verify", "verified", "verified", "scanned", HQ_ROLE_FO, 2, 15},
    [HQ_ISSUE_ENTER] = {"enter", "entered", "entered", "verified", HQ_ROLE_OPERATOR, 3, 10},
    [HQ_ISSUE_PRINT] = {"print", "printed", "printed", "entered", HQ_ROLE_OPERATOR, 4, 5},
    [HQ_ISSUE_HANDOVER] = {"handover", "handed-over", "handed", "printed", HQ_ROLE_FO, 5, 5},
};

void hq_eligibility(const char *birth, int64_t created_ms, int64_t now_ms,
		    struct hq_eligibility *out)
{
	struct retas_date b, rec, today;

	memset(out, 0, sizeof(*out));
	out->eligible = true;
	if (!birth || retas_date_parse(birth, &b) < 0)
		return;
	out->birth_known = true;
	retas_date_from_ms(created_ms, RETAS_WIB_OFFSET_MIN, &rec);
	retas_date_from_ms(now_ms, RETAS_WIB_OFFSET_MIN, &today);
	retas_date_add_years(&b, HQ_CARD_AGE, &out->from);
	out->record_only = retas_date_age(&b, &rec) < HQ_CARD_AGE;
	out->eligible = retas_date_age(&b, &today) >= HQ_CARD_AGE;
}

const char *hq_issue_status(bool eligible, int64_t scanned, int64_t verified, int64_t entered,
			    int64_t printed, int64_t handed)
{
	if (handed)
		return "handed-over";
	if (printed)
		return "printed";
	if (entered)
		return "entered";
	if (verified)
		return "verified";
	if (!eligible)
		return "record-only";
	return scanned ? "scanned" : "waiting";
}

int hq_issue_step_parse(const char *s, enum hq_issue_step *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		if (s && streq(s, steps[i].name)) {
			*out = (enum hq_issue_step)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int store_error(sqlite3 *db, int r, struct retas_error *err)
{
	return retas_error_set(err, r, "store.read", N_("cannot use the store: %s"),
			       sqlite3_errmsg(db));
}

int hq_issuance_get(sqlite3 *db, const char *record_id, int64_t now_ms, json_object **out,
		    struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	struct hq_eligibility el;
	json_object *arr;
	int64_t at[5];
	char masked[17], from[11];
	int r, rc;

	if (!o)
		return -ENOMEM;
	r = hq_store_prepare(
	    db,
	    "SELECT r.id, r.nama, r.nik, r.kelas, r.birth, r.created_ms, r.st_nomor, "
	    "r.npsn, r.van_id, i.scanned_ms, i.verified_ms, i.entered_ms, "
	    "i.printed_ms, i.handed_ms FROM records r LEFT JOIN issuance i ON "
	    "i.record_id = r.id WHERE r.id = ?",
	    &st);
	if (r < 0)
		return store_error(db, r, err);
	hq_store_bind_text(st, 1, record_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return retas_error_set(err, -ENOENT, "issuance.unknown-record",
				       N_("head office holds no record %s"), record_id);
	if (rc != SQLITE_ROW)
		return store_error(db, hq_store_errno(rc) ?: -EIO, err);
	for (int i = 0; i < 5; i++)
		at[i] = sqlite3_column_int64(st, 9 + i);
	hq_eligibility(sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : hq_store_col_text(st, 4),
		       sqlite3_column_int64(st, 5), now_ms, &el);
	r = hq_json_add_col(o, "record", st, 0);
	r |= hq_json_add_col(o, "nama", st, 1);
	if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
		retas_nik_mask(hq_store_col_text(st, 2), masked);
		r |= hq_json_add_str(o, "nik", masked);
	} else {
		r |= hq_json_add_str(o, "nik", NULL);
	}
	r |= hq_json_add_col(o, "kelas", st, 3);
	r |= hq_json_add_col(o, "tanggal_lahir", st, 4);
	r |= hq_json_add_col(o, "st_nomor", st, 6);
	r |= hq_json_add_col(o, "npsn", st, 7);
	r |= hq_json_add_col(o, "van", st, 8);
	r |= hq_json_add_time(o, "recorded", sqlite3_column_int64(st, 5));
	r |= hq_json_add_bool(o, "record_only", el.record_only);
	r |= hq_json_add_bool(o, "eligible", el.eligible);
	if (el.birth_known) {
		retas_date_format(&el.from, from);
		r |= hq_json_add_str(o, "eligible_from", from);
	} else {
		r |= hq_json_add_str(o, "eligible_from", NULL);
	}
	r |= hq_json_add_str(o, "status",
			     hq_issue_status(el.eligible, at[0], at[1], at[2], at[3], at[4]));
	r |= hq_json_add_time(o, "scanned", at[0]);
	arr = json_object_new_array();
	if (r || !arr) {
		json_object_put(arr);
		return -ENOMEM;
	}
	json_object_object_add(o, "steps", arr);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		r = hq_json_add_step(arr, steps[i].sop_step, steps[i].done,
				     hq_role_name(steps[i].role), at[i], at[i + 1],
				     steps[i].standard_min, steps[i].standard_min);
		if (r < 0)
			return r;
	}
	*out = steal_ptr(o);
	return 0;
}

int hq_issuance_scan(sqlite3 *db, const struct hq_staff *actor, const char *token, int64_t now_ms,
		     json_object **out, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL, *ins = NULL;
	struct sync_qr q;
	struct hq_van van;
	char id[RETAS_UUID_STR_LEN], date[11];
	json_object *o = NULL;
	int r, rc;

	r = hq_staff_require(actor, HQ_ROLE_FO, err);
	if (r < 0)
		return r;
	r = sync_qr_peek(token, token ? strlen(token) : 0, &q, err);
	if (r < 0)
		return r;
	r = hq_van_by_kid(db, q.kid, &van);
	if (r == -ENOENT)
		return retas_error_set(
		    err, -EPERM, "qr.unknown-van",
		    N_("the receipt was made by a van head office does not know"));
	if (r < 0)
		return store_error(db, r, err);
	r = sync_qr_verify(token, strlen(token), van.pk, &q, err);
	if (r < 0)
		return r;
	retas_uuid_format(q.record_id, id);
	r = hq_store_prepare(db, "SELECT sha256, van_id FROM records WHERE id = ?", &st);
	if (r < 0)
		return store_error(db, r, err);
	hq_store_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return retas_error_set(err, -ENOENT, "issuance.unknown-record",
				       N_("the receipt is genuine but its record has not reached "
					  "head office yet"));
	if (rc != SQLITE_ROW)
		return store_error(db, hq_store_errno(rc) ?: -EIO, err);
	if (sqlite3_column_bytes(st, 0) != 32 ||
	    memcmp(sqlite3_column_blob(st, 0), q.record_hash, 32) != 0 ||
	    !streq(hq_store_col_text(st, 1), van.id))
		return retas_error_set(err, -EEXIST, "issuance.hash",
				       N_("the receipt names a record head office holds in another "
					  "form"));
	r = hq_store_prepare(db,
			     "INSERT OR IGNORE INTO issuance (record_id, scanned_ms, scanned_by) "
			     "VALUES (?, ?, ?)",
			     &ins);
	if (r < 0)
		return store_error(db, r, err);
	hq_store_bind_text(ins, 1, id);
	sqlite3_bind_int64(ins, 2, now_ms);
	hq_store_bind_text(ins, 3, actor->nip);
	r = hq_store_errno(sqlite3_step(ins));
	if (r < 0)
		return store_error(db, r, err);
	r = hq_issuance_get(db, id, now_ms, &o, err);
	if (r < 0)
		return r;
	retas_date_format(&q.date, date);
	hq_json_add_str(o, "receipt_npsn", q.npsn);
	hq_json_add_str(o, "receipt_date", date);
	*out = o;
	return 0;
}

int hq_issuance_step(sqlite3 *db, const struct hq_staff *actor, const char *record_id,
		     enum hq_issue_step step, int64_t now_ms, json_object **out,
		     struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	_cleanup_(json_object_putp) json_object *cur = NULL;
	_cleanup_(freep) char *sql = NULL;
	const char *status;
	bool eligible = true;
	int r;

	if ((size_t)step >= ARRAY_SIZE(steps))
		return -EINVAL;
	r = hq_staff_require(actor, steps[step].role, err);
	if (r < 0)
		return r;
	r = hq_issuance_get(db, record_id, now_ms, &cur, err);
	if (r < 0)
		return r;
	eligible = json_object_get_boolean(json_object_object_get(cur, "eligible"));
	status = json_object_get_string(json_object_object_get(cur, "status"));
	if (!eligible)
		return retas_error_set(
		    err, -EALREADY, "issuance.record-only",
		    N_("this student was recorded only; the card is issued from "
		       "%s"),
		    json_object_get_string(json_object_object_get(cur, "eligible_from")));
	if (asprintf(&sql,
		     "UPDATE issuance SET %s_ms = ?, %s_by = ? WHERE record_id = ? AND %s_ms IS "
		     "NULL AND %s_ms IS NOT NULL",
		     steps[step].column, steps[step].column, steps[step].column,
		     steps[step].prev) < 0)
		return -ENOMEM;
	r = hq_store_prepare(db, sql, &st);
	if (r < 0)
		return store_error(db, r, err);
	sqlite3_bind_int64(st, 1, now_ms);
	hq_store_bind_text(st, 2, actor->nip);
	hq_store_bind_text(st, 3, record_id);
	r = hq_store_errno(sqlite3_step(st));
	if (r < 0)
		return store_error(db, r, err);
	if (sqlite3_changes(db) != 1) {
		json_object *done =
		    json_object_array_get_idx(json_object_object_get(cur, "steps"), (size_t)step);

		if (json_object_object_get(done, "done"))
			return retas_error_set(err, -EALREADY, "issuance.done",
					       N_("this record is already %s"), steps[step].done);
		return retas_error_set(err, -EALREADY, "issuance.order",
				       N_("this record is %s; it cannot be %s yet"), status,
				       steps[step].done);
	}
	return hq_issuance_get(db, record_id, now_ms, out, err);
}

int hq_issuance_summary(sqlite3 *db, const char *nomor, int64_t now_ms, json_object **out)
{
	static const char *const statuses[] = {"record-only", "waiting", "scanned",    "verified",
					       "entered",     "printed", "handed-over"};
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	json_object *counts, *arr, *pending;
	size_t n_status[ARRAY_SIZE(statuses)] = {0}, total = 0;
	struct {
		size_t done, within;
		int64_t sum_ms;
	} acc[ARRAY_SIZE(steps)] = {0};
	int r, rc;

	if (!o)
		return -ENOMEM;
	r = hq_store_prepare(
	    db,
	    "SELECT r.id, r.nama, r.birth, r.created_ms, i.scanned_ms, "
	    "i.verified_ms, i.entered_ms, i.printed_ms, i.handed_ms FROM records r "
	    "LEFT JOIN issuance i ON i.record_id = r.id WHERE ?1 IS NULL OR "
	    "r.st_nomor = ?1 ORDER BY r.birth DESC",
	    &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, nomor);
	pending = json_object_new_array();
	if (!pending)
		return -ENOMEM;
	json_object_object_add(o, "record_only", pending);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hq_eligibility el;
		int64_t at[5];
		const char *status;

		for (int i = 0; i < 5; i++)
			at[i] = sqlite3_column_int64(st, 4 + i);
		hq_eligibility(sqlite3_column_type(st, 2) == SQLITE_NULL ? NULL
									 : hq_store_col_text(st, 2),
			       sqlite3_column_int64(st, 3), now_ms, &el);
		status = hq_issue_status(el.eligible, at[0], at[1], at[2], at[3], at[4]);
		total++;
		for (size_t k = 0; k < ARRAY_SIZE(statuses); k++)
			n_status[k] += streq(status, statuses[k]);
		for (size_t k = 0; k < ARRAY_SIZE(steps); k++) {
			if (!at[k] || !at[k + 1])
				continue;
			acc[k].done++;
			acc[k].sum_ms += at[k + 1] - at[k];
			acc[k].within += at[k + 1] - at[k] <= steps[k].standard_min * 60000LL;
		}
		/* Those still too young: when each becomes eligible. */
		if (!el.eligible && json_object_array_length(pending) < 1000) {
			json_object *p = json_object_new_object();
			char from[11];

			if (!p)
				return -ENOMEM;
			retas_date_format(&el.from, from);
			json_object_array_add(pending, p);
			if (hq_json_add_col(p, "record", st, 0) ||
			    hq_json_add_col(p, "nama", st, 1) ||
			    hq_json_add_str(p, "eligible_from", from))
				return -ENOMEM;
		}
	}
	if (rc != SQLITE_DONE)
		return hq_store_errno(rc) ?: -EIO;
	r = hq_json_add_int(o, "records", (int64_t)total);
	counts = json_object_new_object();
	arr = json_object_new_array();
	if (r || !counts || !arr) {
		json_object_put(counts);
		json_object_put(arr);
		return -ENOMEM;
	}
	json_object_object_add(o, "status", counts);
	json_object_object_add(o, "steps", arr);
	for (size_t k = 0; k < ARRAY_SIZE(statuses); k++)
		if (hq_json_add_int(counts, statuses[k], (int64_t)n_status[k]))
			return -ENOMEM;
	for (size_t k = 0; k < ARRAY_SIZE(steps); k++) {
		json_object *s = json_object_new_object();

		if (!s)
			return -ENOMEM;
		json_object_array_add(arr, s);
		r = hq_json_add_int(s, "step", steps[k].sop_step);
		r |= hq_json_add_str(s, "name", steps[k].done);
		r |= hq_json_add_str(s, "role", hq_role_name(steps[k].role));
		r |= hq_json_add_int(s, "standard_min", steps[k].standard_min);
		r |= hq_json_add_int(s, "done", (int64_t)acc[k].done);
		r |= hq_json_add_int(s, "within", (int64_t)acc[k].within);
		r |= hq_json_add_int(s, "missed", (int64_t)(acc[k].done - acc[k].within));
		if (acc[k].done)
			json_object_object_add(
			    s, "avg_minutes",
			    json_object_new_double(
				(double)((acc[k].sum_ms / (int64_t)acc[k].done) / 6000) / 10.0));
		else
			json_object_object_add(s, "avg_minutes", NULL);
		if (r)
			return -ENOMEM;
	}
	*out = steal_ptr(o);
	return 0;
}
