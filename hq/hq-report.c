/*
 * The report model. Counts are recomputed from the records table at every
 * request, never copied from the van: a report is what head office holds.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq-issuance.h"
#include "hq-json.h"
#include "hq-report.h"
#include "hq-store.h"
#include "hq-workflow.h"
#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-nik.h"
#include "retas-regions.h"
#include "retas-time.h"

/* The counts compared with the van's draft report (docs/sync-protocol.md
 * §9), in the order reports show them. */
static const char *const count_names[] = {
    "recorded", "male", "female", "record_only", "print_eligible", "finger_exceptions",
};
enum { C_RECORDED, C_MALE, C_FEMALE, C_RECORD_ONLY, C_PRINT_ELIGIBLE, C_EXCEPTIONS, C_N };

int hq_report_format_parse(const char *s, enum hq_report_format *out)
{
	if (!s)
		return -EINVAL;
	if (streq(s, "json") || streq(s, "application/json"))
		*out = HQ_REPORT_JSON;
	else if (streq(s, "csv") || streq(s, "text/csv"))
		*out = HQ_REPORT_CSV;
	else if (streq(s, "pdf") || streq(s, "application/pdf"))
		*out = HQ_REPORT_PDF;
	else
		return -EINVAL;
	return 0;
}

const char *hq_report_content_type(enum hq_report_format f)
{
	switch (f) {
	case HQ_REPORT_CSV:
		return "text/csv; charset=utf-8";
	case HQ_REPORT_PDF:
		return "application/pdf";
	default:
		return "application/json";
	}
}

static int store_error(sqlite3 *db, int r, struct retas_error *err)
{
	return retas_error_set(err, r, "store.read", N_("cannot read the store: %s"),
			       sqlite3_errmsg(db));
}

/* The school, window and van: from the workflow when it knows the letter,
 * from the records otherwise. */
static int add_header(const struct hq_ctx *ctx, sqlite3 *db, const char *nomor, json_object *o,
		      bool *known)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL, *rec = NULL;
	json_object *sek = json_object_new_object();
	int r, rc;

	if (!sek)
		return -ENOMEM;
	json_object_object_add(o, "sekolah", sek);
	r = hq_store_prepare(
	    db,
	    "SELECT s.tanggal, u.npsn, u.nama_sekolah, u.alamat, u.kecamatan, "
	    "u.valid_from, u.valid_until, u.offset_min, s.van_id, s.signed_ms FROM "
	    "surat_tugas s JOIN usulan u ON u.id = s.usulan_id WHERE s.nomor = ?",
	    &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, nomor);
	rc = sqlite3_step(st);
	*known = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		char buf[RETAS_RFC3339_MAX];
		int off = sqlite3_column_int(st, 7);

		r = hq_json_add_col(o, "tanggal", st, 0);
		r |= hq_json_add_col(sek, "npsn", st, 1);
		r |= hq_json_add_col(sek, "nama", st, 2);
		r |= hq_json_add_col(sek, "alamat", st, 3);
		r |= hq_json_add_col(sek, "kecamatan", st, 4);
		r |= hq_json_add_str(sek, "kecamatan_nama",
				     retas_regions_name(ctx->regions, hq_store_col_text(st, 4)));
		retas_time_format_rfc3339(sqlite3_column_int64(st, 5), off, buf);
		r |= hq_json_add_str(o, "valid_from", buf);
		retas_time_format_rfc3339(sqlite3_column_int64(st, 6), off, buf);
		r |= hq_json_add_str(o, "valid_until", buf);
		r |= hq_json_add_col(o, "van", st, 8);
		r |= hq_json_add_str(
		    o, "state", sqlite3_column_type(st, 9) == SQLITE_NULL ? "draft" : "signed");
		return r ? -ENOMEM : 0;
	}
	if (rc != SQLITE_DONE)
		return hq_store_errno(rc) ?: -EIO;
	/* Only records know this letter (signed elsewhere, or before this
	 * store): take what they say. */
	r = hq_store_prepare(db,
			     "SELECT npsn, van_id FROM records WHERE st_nomor = ? GROUP BY npsn, "
			     "van_id ORDER BY count(*) DESC LIMIT 1",
			     &rec);
	if (r < 0)
		return r;
	hq_store_bind_text(rec, 1, nomor);
	rc = sqlite3_step(rec);
	r = hq_json_add_str(o, "tanggal", NULL);
	r |= hq_json_add_str(o, "valid_from", NULL);
	r |= hq_json_add_str(o, "valid_until", NULL);
	r |= hq_json_add_str(o, "state", "unknown");
	r |= hq_json_add_str(sek, "nama", NULL);
	r |= hq_json_add_str(sek, "alamat", NULL);
	r |= hq_json_add_str(sek, "kecamatan", NULL);
	r |= hq_json_add_str(sek, "kecamatan_nama", NULL);
	if (rc == SQLITE_ROW) {
		r |= hq_json_add_col(sek, "npsn", rec, 0);
		r |= hq_json_add_col(o, "van", rec, 1);
	} else {
		r |= hq_json_add_str(sek, "npsn", NULL);
		r |= hq_json_add_str(o, "van", NULL);
	}
	return r ? -ENOMEM : 0;
}

/*
 * The van's counts from its latest draft report for nomor (the manifest's
 * report, docs/report-schema.md: ringkasan.direkam and
 * ringkasan.pengecualian.total), -1 where it reports none.
 */
static int van_counts(sqlite3 *db, const char *nomor, int64_t van[C_N], bool *have)
{
	static const struct {
		const char *group, *key;
	} from[C_N] = {
	    [C_RECORDED] = {"direkam", "total"},
	    [C_MALE] = {"direkam", "L"},
	    [C_FEMALE] = {"direkam", "P"},
	    [C_RECORD_ONLY] = {"direkam", "rekam_saja"},
	    [C_PRINT_ELIGIBLE] = {"direkam", "layak_cetak"},
	    [C_EXCEPTIONS] = {"pengecualian", "total"},
	};
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	_cleanup_(json_object_putp) json_object *rep = NULL;
	json_object *sum, *group;
	int r, rc;

	for (int i = 0; i < C_N; i++)
		van[i] = -1;
	*have = false;
	r = hq_store_prepare(db,
			     "SELECT report FROM batches WHERE st_nomor = ? AND report IS NOT NULL "
			     "ORDER BY received_ms DESC, created_ms DESC LIMIT 1",
			     &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, nomor);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return hq_store_errno(rc) ?: -EIO;
	*have = true;
	if (retas_json_parse(hq_store_col_text(st, 0), strlen(hq_store_col_text(st, 0)), &rep) <
		0 ||
	    retas_json_get_object(rep, "ringkasan", &sum) < 0)
		return 0;
	for (int i = 0; i < C_N; i++) {
		int64_t v;

		if (retas_json_get_object(sum, from[i].group, &group) == 0 &&
		    retas_json_get_int64(group, from[i].key, &v) == 0 && v >= 0)
			van[i] = v;
	}
	return 0;
}

static int add_records(sqlite3 *db, const char *nomor, int64_t now_ms, json_object *o,
		       int64_t hq[C_N])
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	json_object *students = json_object_new_array();
	int r, rc;

	if (!students)
		return -ENOMEM;
	json_object_object_add(o, "students", students);
	r = hq_store_prepare(
	    db,
	    "SELECT r.id, r.nama, r.nik, r.gender, r.birth, r.kelas, r.created_ms, "
	    "r.exceptions, i.scanned_ms, i.verified_ms, i.entered_ms, i.printed_ms, "
	    "i.handed_ms, r.seq FROM records r LEFT JOIN issuance i ON "
	    "i.record_id = r.id WHERE r.st_nomor = ? ORDER BY r.van_id, r.seq",
	    &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, nomor);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *s = json_object_new_object();
		const char *gender = hq_store_col_text(st, 3);
		struct hq_eligibility el;
		int64_t at[5];
		char masked[17], from[11];

		if (!s)
			return -ENOMEM;
		json_object_array_add(students, s);
		for (int i = 0; i < 5; i++)
			at[i] = sqlite3_column_int64(st, 8 + i);
		hq_eligibility(sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL
									 : hq_store_col_text(st, 4),
			       sqlite3_column_int64(st, 6), now_ms, &el);
		hq[C_RECORDED]++;
		hq[C_MALE] += streq(gender, "L");
		hq[C_FEMALE] += streq(gender, "P");
		hq[C_RECORD_ONLY] += el.birth_known && el.record_only;
		hq[C_PRINT_ELIGIBLE] += el.birth_known && !el.record_only;
		hq[C_EXCEPTIONS] += sqlite3_column_int64(st, 7);
		r = hq_json_add_col(s, "record", st, 0);
		r |= hq_json_add_int(s, "seq", sqlite3_column_int64(st, 13));
		r |= hq_json_add_col(s, "nama", st, 1);
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			retas_nik_mask(hq_store_col_text(st, 2), masked);
			r |= hq_json_add_str(s, "nik", masked);
		} else {
			r |= hq_json_add_str(s, "nik", NULL);
		}
		r |= hq_json_add_col(s, "jenis_kelamin", st, 3);
		r |= hq_json_add_col(s, "kelas", st, 5);
		r |= hq_json_add_time(s, "recorded", sqlite3_column_int64(st, 6));
		r |= hq_json_add_bool(s, "record_only", el.record_only);
		if (el.birth_known) {
			retas_date_format(&el.from, from);
			r |= hq_json_add_str(s, "eligible_from", from);
		} else {
			r |= hq_json_add_str(s, "eligible_from", NULL);
		}
		r |= hq_json_add_str(
		    s, "issuance", hq_issue_status(el.eligible, at[0], at[1], at[2], at[3], at[4]));
		if (r)
			return -ENOMEM;
	}
	return rc == SQLITE_DONE ? 0 : (hq_store_errno(rc) ?: -EIO);
}

static int add_counts(json_object *o, const int64_t hq[C_N], const int64_t van[C_N],
		      bool van_report)
{
	json_object *arr = json_object_new_array();
	int differences = 0, r = 0;

	if (!arr)
		return -ENOMEM;
	json_object_object_add(o, "counts", arr);
	for (int i = 0; i < C_N; i++) {
		json_object *c = json_object_new_object();
		bool differs = van[i] >= 0 && van[i] != hq[i];

		if (!c)
			return -ENOMEM;
		json_object_array_add(arr, c);
		r |= hq_json_add_str(c, "name", count_names[i]);
		r |= hq_json_add_int(c, "hq", hq[i]);
		if (van[i] >= 0)
			r |= hq_json_add_int(c, "van", van[i]);
		else
			json_object_object_add(c, "van", NULL);
		r |= hq_json_add_bool(c, "differs", differs);
		differences += differs;
	}
	r |= hq_json_add_bool(o, "van_report", van_report);
	r |= hq_json_add_int(o, "differences", differences);
	return r ? -ENOMEM : 0;
}

/*
 * The anomalies of the vans that recorded for this letter: those logged at
 * ingest, each marked resolved once every sequence number it names is
 * stored (a gap filled by a later batch).
 */
static int add_anomalies(sqlite3 *db, const char *nomor, json_object *o)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	json_object *arr = json_object_new_array();
	int r, rc;

	if (!arr)
		return -ENOMEM;
	json_object_object_add(o, "anomalies", arr);
	r = hq_store_prepare(
	    db,
	    "SELECT a.kind, a.van_id, a.seq_from, a.seq_to, a.record_id, a.detected_ms, "
	    "(SELECT count(DISTINCT r.seq) FROM records r WHERE r.van_id = a.van_id AND "
	    " r.seq BETWEEN a.seq_from AND a.seq_to) FROM anomalies a WHERE a.st_nomor = ?1 "
	    "OR a.batch_id IN (SELECT id FROM batches WHERE st_nomor = ?1) ORDER BY a.seq",
	    &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, nomor);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *a = json_object_new_object();
		int64_t from = sqlite3_column_int64(st, 2), to = sqlite3_column_int64(st, 3);
		bool gap = streq(hq_store_col_text(st, 0), "gap");

		if (!a)
			return -ENOMEM;
		json_object_array_add(arr, a);
		r = hq_json_add_col(a, "kind", st, 0);
		r |= hq_json_add_col(a, "van", st, 1);
		r |= hq_json_add_int(a, "from", from);
		r |= hq_json_add_int(a, "to", to);
		r |= hq_json_add_col(a, "record", st, 4);
		r |= hq_json_add_time(a, "detected", sqlite3_column_int64(st, 5));
		/* a fork or a broken chain stays for a person to look at */
		r |= hq_json_add_bool(a, "resolved",
				      gap && sqlite3_column_int64(st, 6) == to - from + 1);
		if (r)
			return -ENOMEM;
	}
	return rc == SQLITE_DONE ? 0 : (hq_store_errno(rc) ?: -EIO);
}

static int count_of(sqlite3 *db, const char *sql, const char *nomor, int64_t *out)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	int r = hq_store_prepare(db, sql, &st);

	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, nomor);
	if (sqlite3_step(st) != SQLITE_ROW)
		return -EIO;
	*out = sqlite3_column_int64(st, 0);
	return 0;
}

int hq_report_get(const struct hq_ctx *ctx, sqlite3 *db, const char *nomor, int64_t now_ms,
		  json_object **out, struct retas_error *err)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	json_object *timings = NULL, *issuance = NULL;
	int64_t hq[C_N] = {0}, van[C_N], quarantined = 0, batches = 0;
	bool known = false, van_report = false;
	int r;

	if (!o)
		return -ENOMEM;
	r = hq_json_add_str(o, "nomor", nomor);
	r |= hq_json_add_time(o, "generated", now_ms);
	if (r)
		return -ENOMEM;
	r = add_header(ctx, db, nomor, o, &known);
	if (r == 0)
		r = add_records(db, nomor, now_ms, o, hq);
	if (r == 0)
		r = count_of(db,
			     "SELECT count(*) FROM quarantine WHERE st_nomor = ?1 OR batch_id IN "
			     "(SELECT id FROM batches WHERE st_nomor = ?1)",
			     nomor, &quarantined);
	if (r == 0)
		r = count_of(db, "SELECT count(*) FROM batches WHERE st_nomor = ?", nomor,
			     &batches);
	if (r < 0)
		return store_error(db, r, err);
	if (!known && hq[C_RECORDED] == 0 && batches == 0)
		return retas_error_set(err, -ENOENT, "report.unknown",
				       N_("head office knows no surat tugas %s"), nomor);
	r = van_counts(db, nomor, van, &van_report);
	if (r == 0)
		r = add_counts(o, hq, van, van_report);
	if (r == 0)
		r = hq_json_add_int(o, "batches", batches);
	if (r == 0)
		r = hq_json_add_int(o, "quarantined", quarantined);
	if (r == 0)
		r = add_anomalies(db, nomor, o);
	if (r == 0 && known)
		r = hq_workflow_timings(db, 0, nomor, &timings);
	else if (r == 0)
		timings = json_object_new_array();
	if (r < 0)
		return store_error(db, r, err);
	json_object_object_add(o, "workflow", timings);
	r = hq_issuance_summary(db, nomor, now_ms, &issuance);
	if (r < 0)
		return store_error(db, r, err);
	json_object_object_add(o, "issuance", issuance);
	*out = steal_ptr(o);
	return 0;
}

static int digits_ok(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int hq_report_list(const struct hq_ctx *ctx, sqlite3 *db, const struct hq_report_filter *f,
		   int64_t now_ms, json_object **out, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	struct retas_date d;
	int64_t from_ms = INT64_MIN, to_ms = INT64_MAX;
	int r, rc;

	if (!o || !arr) {
		json_object_put(arr);
		return -ENOMEM;
	}
	json_object_object_add(o, "reports", arr);
	if (f->from) {
		if (retas_date_parse(f->from, &d) < 0)
			goto bad;
		/* dates are WIB days */
		from_ms = retas_date_to_days(&d) * 86400000LL - RETAS_WIB_OFFSET_MIN * 60000LL;
	}
	if (f->to) {
		if (retas_date_parse(f->to, &d) < 0)
			goto bad;
		to_ms = (retas_date_to_days(&d) + 1) * 86400000LL - RETAS_WIB_OFFSET_MIN * 60000LL;
	}
	if ((f->npsn && !digits_ok(f->npsn, 8)) || (f->kecamatan && !digits_ok(f->kecamatan, 6)))
		goto bad;
	/* Every letter the workflow knows or a record names, dated by its
	 * window or by its first record. */
	r = hq_store_prepare(
	    db,
	    "WITH l(nomor, day, npsn, kec) AS ("
	    " SELECT s.nomor, u.valid_from, u.npsn, u.kecamatan FROM surat_tugas s "
	    " JOIN usulan u ON u.id = s.usulan_id "
	    " UNION ALL SELECT r.st_nomor, min(r.created_ms), max(r.npsn), NULL FROM records r "
	    " WHERE r.st_nomor NOT IN (SELECT nomor FROM surat_tugas) GROUP BY r.st_nomor) "
	    "SELECT nomor FROM l WHERE day >= ?1 AND day < ?2 AND (?3 IS NULL OR npsn = ?3) "
	    "AND (?4 IS NULL OR kec = ?4) ORDER BY day DESC, nomor LIMIT 500",
	    &st);
	if (r < 0)
		return store_error(db, r, err);
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	hq_store_bind_text(st, 3, f->npsn);
	hq_store_bind_text(st, 4, f->kecamatan);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		_cleanup_(json_object_putp) json_object *full = NULL;
		json_object *s = json_object_new_object(), *v;
		const char *keys[] = {"nomor", "tanggal",     "valid_from",  "van",
				      "state", "differences", "quarantined", "batches"};

		if (!s)
			return -ENOMEM;
		json_object_array_add(arr, s);
		r = hq_report_get(ctx, db, hq_store_col_text(st, 0), now_ms, &full, err);
		if (r < 0)
			return r;
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			json_object_object_add(
			    s, keys[i], json_object_get(json_object_object_get(full, keys[i])));
		json_object_object_add(s, "sekolah",
				       json_object_get(json_object_object_get(full, "sekolah")));
		v = json_object_array_get_idx(json_object_object_get(full, "counts"), C_RECORDED);
		json_object_object_add(s, "recorded",
				       json_object_get(json_object_object_get(v, "hq")));
		json_object_object_add(s, "van_recorded",
				       json_object_get(json_object_object_get(v, "van")));
		json_object_object_add(s, "anomalies",
				       json_object_new_int64((int64_t)json_object_array_length(
					   json_object_object_get(full, "anomalies"))));
		v = json_object_object_get(json_object_object_get(full, "issuance"), "status");
		json_object_object_add(s, "handed_over",
				       json_object_get(json_object_object_get(v, "handed-over")));
	}
	if (rc != SQLITE_DONE)
		return store_error(db, hq_store_errno(rc) ?: -EIO, err);
	*out = steal_ptr(o);
	return 0;
bad:
	return retas_error_set(
	    err, -EINVAL, "report.filter",
	    N_("filters: from and to are YYYY-MM-DD, npsn 8 digits, kecamatan 6"));
}
