/*
 * The usulan -> surat tugas workflow. State lives in two tables (usulan,
 * surat_tugas) plus one row per tanda terima; every transition is one
 * UPDATE guarded by the state it starts from, so two staff members acting
 * at once cannot both succeed.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq-json.h"
#include "hq-store.h"
#include "hq-workflow.h"
#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-jws.h"
#include "retas-regions.h"
#include "retas-st.h"
#include "retas-time.h"

RETAS_DEFINE_CLEANUP(struct retas_st, retas_st_free)

#define PIN_MIN 4
#define PIN_MAX 16

static int bad_field(struct retas_error *err, const char *field, const char *msg)
{
	char reason[48];

	snprintf(reason, sizeof(reason), "workflow.%s", field);
	return retas_error_set(err, -EINVAL, reason, "%s", msg);
}

static int store_error(sqlite3 *db, int r, struct retas_error *err)
{
	return retas_error_set(err, r, "store.write", N_("cannot use the store: %s"),
			       sqlite3_errmsg(db));
}

static int digits(const char *s, size_t len)
{
	if (!s || strlen(s) != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int text_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static const char *const usulan_cols =
    "SELECT u.id, u.npsn, u.nama_sekolah, u.alamat, u.kecamatan, u.valid_from, "
    "u.valid_until, u.offset_min, u.state, u.started_ms, u.created_ms, u.created_by, "
    "u.decided_ms, u.decided_by, u.reason, s.nomor FROM usulan u "
    "LEFT JOIN surat_tugas s ON s.usulan_id = u.id ";

static int usulan_row_json(const struct retas_regions *regions, sqlite3_stmt *st, json_object **out)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	char buf[RETAS_RFC3339_MAX];
	int off = sqlite3_column_int(st, 7), r = 0;

	if (!o)
		return -ENOMEM;
	r |= hq_json_add_int(o, "id", sqlite3_column_int64(st, 0));
	r |= hq_json_add_col(o, "state", st, 8);
	r |= hq_json_add_col(o, "npsn", st, 1);
	r |= hq_json_add_col(o, "nama", st, 2);
	r |= hq_json_add_col(o, "alamat", st, 3);
	r |= hq_json_add_col(o, "kecamatan", st, 4);
	r |=
	    hq_json_add_str(o, "kecamatan_nama",
			    regions ? retas_regions_name(regions, hq_store_col_text(st, 4)) : NULL);
	retas_time_format_rfc3339(sqlite3_column_int64(st, 5), off, buf);
	r |= hq_json_add_str(o, "valid_from", buf);
	retas_time_format_rfc3339(sqlite3_column_int64(st, 6), off, buf);
	r |= hq_json_add_str(o, "valid_until", buf);
	r |= hq_json_add_time(o, "started", sqlite3_column_int64(st, 9));
	r |= hq_json_add_time(o, "created", sqlite3_column_int64(st, 10));
	r |= hq_json_add_col(o, "created_by", st, 11);
	r |= hq_json_add_time(o, "decided", sqlite3_column_int64(st, 12));
	r |= hq_json_add_col(o, "decided_by", st, 13);
	r |= hq_json_add_col(o, "reason", st, 14);
	r |= hq_json_add_col(o, "surat_tugas", st, 15);
	if (r)
		return -ENOMEM;
	*out = steal_ptr(o);
	return 0;
}

/* The regions are only for names in the answer; a caller without them
 * passes NULL. */
static int usulan_get(const struct retas_regions *regions, sqlite3 *db, int64_t id,
		      json_object **out, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	_cleanup_(freep) char *sql = NULL;
	int r, rc;

	if (asprintf(&sql, "%sWHERE u.id = ?", usulan_cols) < 0)
		return -ENOMEM;
	r = hq_store_prepare(db, sql, &st);
	if (r < 0)
		return store_error(db, r, err);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return retas_error_set(err, -ENOENT, "workflow.unknown",
				       N_("there is no usulan %lld"), (long long)id);
	if (rc != SQLITE_ROW)
		return store_error(db, hq_store_errno(rc) ?: -EIO, err);
	return usulan_row_json(regions, st, out);
}

int hq_usulan_get(sqlite3 *db, int64_t id, json_object **out, struct retas_error *err)
{
	return usulan_get(NULL, db, id, out, err);
}

static int get_time(json_object *in, const char *key, int64_t *ms, int *off)
{
	const char *s;

	if (retas_json_get_string(in, key, &s) < 0)
		return -EINVAL;
	return retas_time_parse_rfc3339(s, ms, off);
}

int hq_usulan_create(const struct hq_ctx *ctx, sqlite3 *db, const struct hq_staff *actor,
		     json_object *in, int64_t now_ms, json_object **out, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	const char *npsn = NULL, *nama = NULL, *alamat = NULL, *kec = NULL;
	int64_t from, until, started = 0;
	int off, off2, r;

	r = hq_staff_require(actor, HQ_ROLE_BIDANG, err);
	if (r < 0)
		return r;
	if (!json_object_is_type(in, json_type_object))
		return bad_field(err, "json", _("the request body is not a JSON object"));
	if (retas_json_get_string(in, "npsn", &npsn) < 0 || !digits(npsn, 8))
		return bad_field(err, "npsn", _("npsn is the school's 8-digit NPSN"));
	if (retas_json_get_string(in, "nama", &nama) < 0 || !text_ok(nama, 200))
		return bad_field(err, "nama", _("nama is the school's name (1 to 200 bytes)"));
	if (retas_json_get_string(in, "alamat", &alamat) < 0 || !text_ok(alamat, 500))
		return bad_field(err, "alamat",
				 _("alamat is the school's address (1 to 500 bytes)"));
	if (retas_json_get_string(in, "kecamatan", &kec) < 0 || !digits(kec, 6) ||
	    !retas_regions_is_kecamatan(ctx->regions, kec))
		return bad_field(err, "kecamatan",
				 _("kecamatan is a 6-digit district code of the region data"));
	if (get_time(in, "valid_from", &from, &off) < 0)
		return bad_field(err, "valid_from",
				 _("valid_from is an RFC 3339 time with an offset"));
	if (get_time(in, "valid_until", &until, &off2) < 0)
		return bad_field(err, "valid_until",
				 _("valid_until is an RFC 3339 time with an offset"));
	if (until <= from || until - from > 7 * 24 * 3600 * 1000LL)
		return bad_field(err, "window",
				 _("valid_until must follow valid_from, within seven days"));
	if (until <= now_ms)
		return bad_field(err, "window", _("the time window is already over"));
	if (json_object_object_get_ex(in, "started", NULL) &&
	    (get_time(in, "started", &started, &off2) < 0 || started > now_ms))
		return bad_field(err, "started",
				 _("started is an RFC 3339 time, not in the future"));

	r = hq_store_prepare(
	    db,
	    "INSERT INTO usulan (npsn, nama_sekolah, alamat, kecamatan, valid_from, "
	    "valid_until, offset_min, started_ms, created_ms, created_by) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    &st);
	if (r < 0)
		return store_error(db, r, err);
	hq_store_bind_text(st, 1, npsn);
	hq_store_bind_text(st, 2, nama);
	hq_store_bind_text(st, 3, alamat);
	hq_store_bind_text(st, 4, kec);
	sqlite3_bind_int64(st, 5, from);
	sqlite3_bind_int64(st, 6, until);
	sqlite3_bind_int(st, 7, off);
	if (started)
		sqlite3_bind_int64(st, 8, started);
	sqlite3_bind_int64(st, 9, now_ms);
	hq_store_bind_text(st, 10, actor->nip);
	r = hq_store_errno(sqlite3_step(st));
	if (r < 0)
		return store_error(db, r, err);
	return usulan_get(ctx->regions, db, sqlite3_last_insert_rowid(db), out, err);
}

int hq_usulan_list(sqlite3 *db, const char *state, json_object **out, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	_cleanup_(freep) char *sql = NULL;
	json_object *arr = json_object_new_array();
	int r, rc;

	if (!o || !arr) {
		json_object_put(arr);
		return -ENOMEM;
	}
	json_object_object_add(o, "usulan", arr);
	if (state && !streq(state, "proposed") && !streq(state, "approved") &&
	    !streq(state, "rejected"))
		return bad_field(err, "state", _("state is proposed, approved or rejected"));
	if (asprintf(&sql, "%sWHERE ?1 IS NULL OR u.state = ?1 ORDER BY u.id DESC LIMIT 1000",
		     usulan_cols) < 0)
		return -ENOMEM;
	r = hq_store_prepare(db, sql, &st);
	if (r < 0)
		return store_error(db, r, err);
	hq_store_bind_text(st, 1, state);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *u = NULL;

		r = usulan_row_json(NULL, st, &u);
		if (r < 0)
			return r;
		json_object_array_add(arr, u);
	}
	if (rc != SQLITE_DONE)
		return store_error(db, hq_store_errno(rc) ?: -EIO, err);
	*out = steal_ptr(o);
	return 0;
}

int hq_usulan_decide(sqlite3 *db, const struct hq_staff *actor, int64_t id, bool approve,
		     const char *reason, int64_t now_ms, json_object **out, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	json_object *cur = NULL;
	int r;

	r = hq_staff_require(actor, HQ_ROLE_KADIS, err);
	if (r < 0)
		return r;
	if (!approve && !text_ok(reason, 500))
		return bad_field(err, "reason", _("a rejection needs a reason (1 to 500 bytes)"));
	r = usulan_get(NULL, db, id, &cur, err);
	if (r < 0)
		return r;
	json_object_put(cur);
	r = hq_store_prepare(db,
			     "UPDATE usulan SET state = ?, decided_ms = ?, decided_by = ?, "
			     "reason = ? WHERE id = ? AND state = 'proposed'",
			     &st);
	if (r < 0)
		return store_error(db, r, err);
	hq_store_bind_text(st, 1, approve ? "approved" : "rejected");
	sqlite3_bind_int64(st, 2, now_ms);
	hq_store_bind_text(st, 3, actor->nip);
	hq_store_bind_text(st, 4, approve ? NULL : reason);
	sqlite3_bind_int64(st, 5, id);
	r = hq_store_errno(sqlite3_step(st));
	if (r < 0)
		return store_error(db, r, err);
	if (sqlite3_changes(db) != 1)
		return retas_error_set(err, -EALREADY, "workflow.state",
				       N_("usulan %lld has already been decided"), (long long)id);
	return usulan_get(NULL, db, id, out, err);
}

static int hash_pin(const char *pin, char out[crypto_pwhash_STRBYTES])
{
	if (crypto_pwhash_str_alg(out, pin, strlen(pin), crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -ENOMEM;
	return 0;
}

/* Validates the officers and replaces each PIN by its argon2id hash. */
static int petugas_prepare(json_object *list, json_object **out, struct retas_error *err)
{
	_cleanup_(json_object_putp) json_object *arr = json_object_new_array();
	size_t n;

	if (!arr)
		return -ENOMEM;
	if (!json_object_is_type(list, json_type_array) ||
	    (n = json_object_array_length(list)) < 1 || n > RETAS_ST_MAX_PETUGAS)
		return bad_field(err, "petugas", _("petugas lists 1 to 16 officers"));
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(list, i), *q;
		const char *nip = NULL, *nama = NULL, *pin = NULL;
		char hash[crypto_pwhash_STRBYTES];
		size_t plen;

		if (retas_json_get_string(p, "nip", &nip) < 0 || !digits(nip, 18))
			return bad_field(err, "nip", _("each officer has an 18-digit nip"));
		if (retas_json_get_string(p, "nama", &nama) < 0 || !text_ok(nama, 200))
			return bad_field(err, "nama", _("each officer has a nama"));
		if (retas_json_get_string(p, "pin", &pin) < 0 || (plen = strlen(pin)) < PIN_MIN ||
		    plen > PIN_MAX || !digits(pin, plen))
			return bad_field(err, "pin", _("each officer has a PIN of 4 to 16 digits"));
		for (size_t k = 0; k < i; k++) {
			const char *other = NULL;

			retas_json_get_string(json_object_array_get_idx(arr, k), "nip", &other);
			if (other && streq(other, nip))
				return bad_field(err, "nip", _("an officer is listed twice"));
		}
		if (hash_pin(pin, hash) < 0)
			return -ENOMEM;
		q = json_object_new_object();
		if (!q)
			return -ENOMEM;
		json_object_array_add(arr, q);
		if (hq_json_add_str(q, "nip", nip) < 0 || hq_json_add_str(q, "nama", nama) < 0 ||
		    hq_json_add_str(q, "pin", hash) < 0)
			return -ENOMEM;
		sodium_memzero(hash, sizeof(hash));
	}
	*out = steal_ptr(arr);
	return 0;
}

int hq_st_draft(const struct hq_ctx *ctx, sqlite3 *db, const struct hq_staff *actor,
		json_object *in, int64_t now_ms, json_object **out, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL, *uq = NULL;
	_cleanup_(json_object_putp) json_object *petugas = NULL;
	const char *nomor = NULL, *van_id = NULL, *state;
	json_object *list = NULL;
	struct hq_van van;
	int64_t usulan_id;
	char today[11];
	struct retas_date d;
	int r, rc;

	r = hq_staff_require(actor, HQ_ROLE_KABID, err);
	if (r < 0)
		return r;
	if (!json_object_is_type(in, json_type_object))
		return bad_field(err, "json", _("the request body is not a JSON object"));
	if (retas_json_get_int64(in, "usulan", &usulan_id) < 0)
		return bad_field(err, "usulan", _("usulan is the id of an approved usulan"));
	if (retas_json_get_string(in, "nomor", &nomor) < 0 || !text_ok(nomor, 63) ||
	    strchr(nomor, '?') || strchr(nomor, '#') || strchr(nomor, '%') || nomor[0] == '/' ||
	    nomor[strlen(nomor) - 1] == '/')
		return bad_field(
		    err, "nomor",
		    _("nomor is the letter's number (1 to 63 bytes, no ?, #, %, and no "
		      "leading or trailing /)"));
	if (retas_json_get_string(in, "van", &van_id) < 0 || hq_van_by_id(db, van_id, &van) < 0)
		return bad_field(err, "van", _("van names a registered van"));
	if (!json_object_object_get_ex(in, "petugas", &list))
		return bad_field(err, "petugas", _("petugas lists 1 to 16 officers"));

	r = hq_store_prepare(db, "SELECT state FROM usulan WHERE id = ?", &uq);
	if (r < 0)
		return store_error(db, r, err);
	sqlite3_bind_int64(uq, 1, usulan_id);
	rc = sqlite3_step(uq);
	if (rc == SQLITE_DONE)
		return retas_error_set(err, -ENOENT, "workflow.unknown",
				       N_("there is no usulan %lld"), (long long)usulan_id);
	if (rc != SQLITE_ROW)
		return store_error(db, hq_store_errno(rc) ?: -EIO, err);
	state = hq_store_col_text(uq, 0);
	if (!streq(state, "approved"))
		return retas_error_set(err, -EALREADY, "workflow.state",
				       N_("usulan %lld is %s, not approved"), (long long)usulan_id,
				       state);
	/* Hash the PINs before taking the write lock: argon2id is slow. */
	r = petugas_prepare(list, &petugas, err);
	if (r < 0)
		return r;
	retas_date_from_ms(now_ms, RETAS_WIB_OFFSET_MIN, &d);
	retas_date_format(&d, today);
	r = hq_store_prepare(db,
			     "INSERT INTO surat_tugas (nomor, usulan_id, van_id, tanggal, petugas, "
			     "drafted_ms, drafted_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
			     &st);
	if (r < 0)
		return store_error(db, r, err);
	hq_store_bind_text(st, 1, nomor);
	sqlite3_bind_int64(st, 2, usulan_id);
	hq_store_bind_text(st, 3, van.id);
	hq_store_bind_text(st, 4, today);
	hq_store_bind_text(st, 5, json_object_to_json_string_ext(petugas, JSON_C_TO_STRING_PLAIN));
	sqlite3_bind_int64(st, 6, now_ms);
	hq_store_bind_text(st, 7, actor->nip);
	r = hq_store_errno(sqlite3_step(st));
	if (r == -EEXIST)
		return retas_error_set(
		    err, -EALREADY, "workflow.state",
		    N_("the number is taken, or the usulan already has a letter"));
	if (r < 0)
		return store_error(db, r, err);
	return hq_st_get(db, nomor, out, err);
}

struct st_row {
	char nomor[64];
	int64_t usulan_id;
	char van_id[64];
	char *petugas;
	int64_t signed_ms;
	/* the usulan's */
	char npsn[9], kecamatan[7];
	char *nama, *alamat;
	int64_t valid_from, valid_until;
	int offset_min;
};

static void st_row_clear(struct st_row *s)
{
	free(s->petugas);
	free(s->nama);
	free(s->alamat);
	memset(s, 0, sizeof(*s));
}

static int st_load(sqlite3 *db, const char *nomor, struct st_row *s, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	int r, rc;

	memset(s, 0, sizeof(*s));
	r = hq_store_prepare(
	    db,
	    "SELECT s.nomor, s.usulan_id, s.van_id, s.petugas, s.signed_ms, u.npsn, "
	    "u.kecamatan, u.nama_sekolah, u.alamat, u.valid_from, u.valid_until, "
	    "u.offset_min FROM surat_tugas s JOIN usulan u ON u.id = s.usulan_id "
	    "WHERE s.nomor = ?",
	    &st);
	if (r < 0)
		return store_error(db, r, err);
	hq_store_bind_text(st, 1, nomor);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return retas_error_set(err, -ENOENT, "workflow.unknown",
				       N_("there is no surat tugas %s"), nomor);
	if (rc != SQLITE_ROW)
		return store_error(db, hq_store_errno(rc) ?: -EIO, err);
	snprintf(s->nomor, sizeof(s->nomor), "%s", hq_store_col_text(st, 0));
	s->usulan_id = sqlite3_column_int64(st, 1);
	snprintf(s->van_id, sizeof(s->van_id), "%s", hq_store_col_text(st, 2));
	s->petugas = strdup(hq_store_col_text(st, 3));
	s->signed_ms = sqlite3_column_int64(st, 4);
	snprintf(s->npsn, sizeof(s->npsn), "%s", hq_store_col_text(st, 5));
	snprintf(s->kecamatan, sizeof(s->kecamatan), "%s", hq_store_col_text(st, 6));
	s->nama = strdup(hq_store_col_text(st, 7));
	s->alamat = strdup(hq_store_col_text(st, 8));
	s->valid_from = sqlite3_column_int64(st, 9);
	s->valid_until = sqlite3_column_int64(st, 10);
	s->offset_min = sqlite3_column_int(st, 11);
	if (!s->petugas || !s->nama || !s->alamat) {
		st_row_clear(s);
		return -ENOMEM;
	}
	return 0;
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The letter's payload, every string owned by the struct. */
static int build_st(const struct hq_ctx *ctx, const struct hq_van *van,
		    const struct hq_staff *actor, const struct st_row *row, int64_t now_ms,
		    struct retas_st **out)
{
	_cleanup_(retas_st_freep) struct retas_st *st = calloc(1, sizeof(struct retas_st));
	_cleanup_(json_object_putp) json_object *list = NULL;
	size_t n;

	if (!st)
		return -ENOMEM;
	if (retas_json_parse(row->petugas, strlen(row->petugas), &list) < 0 ||
	    !json_object_is_type(list, json_type_array))
		return -EIO;
	n = json_object_array_length(list);
	st->petugas = calloc(n ? n : 1, sizeof(*st->petugas));
	if (!st->petugas)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(list, i);
		const char *nip = "", *nama = NULL, *pin = NULL;

		retas_json_get_string(p, "nip", &nip);
		retas_json_get_string(p, "nama", &nama);
		retas_json_get_string(p, "pin", &pin);
		snprintf(st->petugas[i].nip, sizeof(st->petugas[i].nip), "%s", nip);
		st->petugas[i].nama = xstrdup(nama);
		st->petugas[i].pin = xstrdup(pin);
		st->n_petugas++;
		if (!st->petugas[i].nama || !st->petugas[i].pin)
			return -ENOMEM;
	}
	st->nomor = strdup(row->nomor);
	retas_date_from_ms(now_ms, RETAS_WIB_OFFSET_MIN, &st->tanggal);
	st->valid_from = row->valid_from;
	st->valid_until = row->valid_until;
	st->valid_offset_min = row->offset_min;
	snprintf(st->sekolah.npsn, sizeof(st->sekolah.npsn), "%s", row->npsn);
	snprintf(st->sekolah.kecamatan, sizeof(st->sekolah.kecamatan), "%s", row->kecamatan);
	st->sekolah.nama = strdup(row->nama);
	st->sekolah.alamat = strdup(row->alamat);
	st->kendaraan.id = strdup(van->id);
	memcpy(st->kendaraan.device_key, van->pk, 32);
	st->hq.url = strdup(ctx->cfg.public_url);
	memcpy(st->hq.seal_key, ctx->seal.pk, 32);
	st->min_age = ctx->cfg.min_age;
	for (int i = 0; i < 10; i++)
		st->jari[i] = i + 1;
	st->n_jari = 10;
	snprintf(st->penandatangan.nip, sizeof(st->penandatangan.nip), "%s", actor->nip);
	st->penandatangan.nama = strdup(actor->name);
	st->penandatangan.jabatan = strdup(ctx->cfg.jabatan);
	if (!st->nomor || !st->sekolah.nama || !st->sekolah.alamat || !st->kendaraan.id ||
	    !st->hq.url || !st->penandatangan.nama || !st->penandatangan.jabatan)
		return -ENOMEM;
	*out = steal_ptr(st);
	return 0;
}

int hq_st_sign(const struct hq_ctx *ctx, sqlite3 *db, const struct hq_staff *actor,
	       const char *nomor, int64_t now_ms, json_object **out, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *up = NULL;
	_cleanup_(retas_st_freep) struct retas_st *st = NULL, *check = NULL;
	_cleanup_(freep) char *payload = NULL, *jws = NULL;
	struct st_row row = {0};
	struct hq_van van;
	int r;

	r = hq_staff_require(actor, HQ_ROLE_KADIS, err);
	if (r < 0)
		return r;
	r = st_load(db, nomor, &row, err);
	if (r < 0)
		return r;
	if (row.signed_ms) {
		r = retas_error_set(err, -EALREADY, "workflow.state",
				    N_("surat tugas %s is already signed"), nomor);
		goto out;
	}
	if (row.valid_until <= now_ms) {
		r = retas_error_set(err, -EALREADY, "workflow.window",
				    N_("the letter's time window is already over"));
		goto out;
	}
	r = hq_van_by_id(db, row.van_id, &van);
	if (r < 0) {
		r = store_error(db, r, err);
		goto out;
	}
	r = build_st(ctx, &van, actor, &row, now_ms, &st);
	if (r < 0)
		goto out;
	r = retas_st_to_json(st, &payload);
	if (r < 0)
		goto out;
	r = retas_jws_sign(payload, strlen(payload), RETAS_ST_JWS_TYP, ctx->sign_kid, ctx->sign.sk,
			   &jws, err);
	if (r < 0)
		goto out;
	/* What the van will check, checked here first: a letter that would be
	 * refused at the school is not issued. */
	r = retas_st_verify(jws, strlen(jws), ctx->sign.pk, ctx->regions, &check, err);
	if (r < 0) {
		r = -EKEYREJECTED;
		goto out;
	}
	r = hq_store_prepare(db,
			     "UPDATE surat_tugas SET signed_ms = ?, signed_by = ?, jws = ?, "
			     "tanggal = ? WHERE nomor = ? AND signed_ms IS NULL",
			     &up);
	if (r < 0) {
		r = store_error(db, r, err);
		goto out;
	}
	{
		char tanggal[11];

		retas_date_format(&st->tanggal, tanggal);
		sqlite3_bind_int64(up, 1, now_ms);
		hq_store_bind_text(up, 2, actor->nip);
		hq_store_bind_text(up, 3, jws);
		hq_store_bind_text(up, 4, tanggal);
		hq_store_bind_text(up, 5, nomor);
	}
	r = hq_store_errno(sqlite3_step(up));
	if (r < 0) {
		r = store_error(db, r, err);
		goto out;
	}
	if (sqlite3_changes(db) != 1) {
		r = retas_error_set(err, -EALREADY, "workflow.state",
				    N_("surat tugas %s is already signed"), nomor);
		goto out;
	}
	r = hq_st_get(db, nomor, out, err);
	if (r == 0)
		json_object_object_add(*out, "jws", json_object_new_string(jws));
out:
	st_row_clear(&row);
	return r;
}

int hq_st_export(sqlite3 *db, const char *nomor, char **jws, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	int r, rc;

	r = hq_store_prepare(db, "SELECT jws FROM surat_tugas WHERE nomor = ?", &st);
	if (r < 0)
		return store_error(db, r, err);
	hq_store_bind_text(st, 1, nomor);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return retas_error_set(err, -ENOENT, "workflow.unknown",
				       N_("there is no surat tugas %s"), nomor);
	if (rc != SQLITE_ROW)
		return store_error(db, hq_store_errno(rc) ?: -EIO, err);
	if (sqlite3_column_type(st, 0) == SQLITE_NULL)
		return retas_error_set(err, -EALREADY, "workflow.state",
				       N_("surat tugas %s is not signed yet"), nomor);
	*jws = strdup(hq_store_col_text(st, 0));
	return *jws ? 0 : -ENOMEM;
}

int hq_st_tanda_terima(sqlite3 *db, const struct hq_staff *actor, const char *nomor,
		       const char *nip, int64_t now_ms, json_object **out, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	_cleanup_(json_object_putp) json_object *list = NULL;
	struct st_row row = {0};
	bool listed = false;
	int r;

	r = hq_staff_require(actor, HQ_ROLE_BIDANG, err);
	if (r < 0)
		return r;
	r = st_load(db, nomor, &row, err);
	if (r < 0)
		return r;
	if (!row.signed_ms) {
		r = retas_error_set(err, -EALREADY, "workflow.state",
				    N_("surat tugas %s is not signed yet"), nomor);
		goto out;
	}
	if (retas_json_parse(row.petugas, strlen(row.petugas), &list) == 0)
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			const char *n = NULL;

			retas_json_get_string(json_object_array_get_idx(list, i), "nip", &n);
			listed |= n && nip && streq(n, nip);
		}
	if (!listed) {
		r = bad_field(err, "nip", _("this NIP is not an officer of the letter"));
		goto out;
	}
	r = hq_store_prepare(db,
			     "INSERT INTO tanda_terima (nomor, nip, recorded_ms, recorded_by) "
			     "VALUES (?, ?, ?, ?)",
			     &st);
	if (r < 0) {
		r = store_error(db, r, err);
		goto out;
	}
	hq_store_bind_text(st, 1, nomor);
	hq_store_bind_text(st, 2, nip);
	sqlite3_bind_int64(st, 3, now_ms);
	hq_store_bind_text(st, 4, actor->nip);
	r = hq_store_errno(sqlite3_step(st));
	if (r == -EEXIST) {
		r = retas_error_set(err, -EALREADY, "workflow.state",
				    N_("the tanda terima of %s is already recorded"), nip);
		goto out;
	}
	if (r < 0) {
		r = store_error(db, r, err);
		goto out;
	}
	r = hq_st_get(db, nomor, out, err);
out:
	st_row_clear(&row);
	return r;
}

int hq_st_get(sqlite3 *db, const char *nomor, json_object **out, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL, *tt = NULL;
	_cleanup_(json_object_putp) json_object *o = json_object_new_object(), *list = NULL;
	json_object *petugas, *timings = NULL;
	int r, rc;

	if (!o)
		return -ENOMEM;
	r = hq_store_prepare(db,
			     "SELECT nomor, usulan_id, van_id, tanggal, petugas, drafted_ms, "
			     "drafted_by, signed_ms, signed_by FROM surat_tugas WHERE nomor = ?",
			     &st);
	if (r < 0)
		return store_error(db, r, err);
	hq_store_bind_text(st, 1, nomor);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return retas_error_set(err, -ENOENT, "workflow.unknown",
				       N_("there is no surat tugas %s"), nomor);
	if (rc != SQLITE_ROW)
		return store_error(db, hq_store_errno(rc) ?: -EIO, err);
	r = 0;
	r |= hq_json_add_col(o, "nomor", st, 0);
	r |= hq_json_add_int(o, "usulan", sqlite3_column_int64(st, 1));
	r |= hq_json_add_col(o, "van", st, 2);
	r |= hq_json_add_col(o, "tanggal", st, 3);
	r |= hq_json_add_str(o, "state",
			     sqlite3_column_type(st, 7) == SQLITE_NULL ? "draft" : "signed");
	r |= hq_json_add_time(o, "drafted", sqlite3_column_int64(st, 5));
	r |= hq_json_add_col(o, "drafted_by", st, 6);
	r |= hq_json_add_time(o, "signed", sqlite3_column_int64(st, 7));
	r |= hq_json_add_col(o, "signed_by", st, 8);
	if (r)
		return -ENOMEM;
	petugas = json_object_new_array();
	if (!petugas)
		return -ENOMEM;
	json_object_object_add(o, "petugas", petugas);
	if (retas_json_parse(hq_store_col_text(st, 4), strlen(hq_store_col_text(st, 4)), &list) < 0)
		return -EIO;
	r = hq_store_prepare(db, "SELECT recorded_ms FROM tanda_terima WHERE nomor = ? AND nip = ?",
			     &tt);
	if (r < 0)
		return store_error(db, r, err);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *p = json_object_array_get_idx(list, i), *q = json_object_new_object();
		const char *nip = "", *nama = "";

		if (!q)
			return -ENOMEM;
		json_object_array_add(petugas, q);
		retas_json_get_string(p, "nip", &nip);
		retas_json_get_string(p, "nama", &nama);
		sqlite3_reset(tt);
		hq_store_bind_text(tt, 1, nomor);
		hq_store_bind_text(tt, 2, nip);
		r = hq_json_add_str(q, "nip", nip) | hq_json_add_str(q, "nama", nama) |
		    hq_json_add_time(q, "tanda_terima",
				     sqlite3_step(tt) == SQLITE_ROW ? sqlite3_column_int64(tt, 0)
								    : 0);
		if (r)
			return -ENOMEM;
	}
	r = hq_workflow_timings(db, 0, nomor, &timings);
	if (r < 0)
		return r;
	json_object_object_add(o, "timings", timings);
	*out = steal_ptr(o);
	return 0;
}

int hq_workflow_timings(sqlite3 *db, int64_t usulan_id, const char *nomor, json_object **out)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	_cleanup_(json_object_putp) json_object *arr = json_object_new_array();
	int64_t started = 0, created = 0, decided = 0, signed_ms = 0, last_tt = 0;
	bool approved = false;
	int r, rc;

	if (!arr)
		return -ENOMEM;
	/* Step 4 is done when every officer's tanda terima is in. */
	r = hq_store_prepare(
	    db,
	    "SELECT u.started_ms, u.created_ms, u.decided_ms, u.state, s.signed_ms, "
	    "(SELECT CASE WHEN count(*) = json_array_length(s.petugas) THEN max(t.recorded_ms) "
	    " END FROM tanda_terima t WHERE t.nomor = s.nomor) "
	    "FROM usulan u LEFT JOIN surat_tugas s ON s.usulan_id = u.id "
	    "WHERE (?1 IS NOT NULL AND s.nomor = ?1) OR (?1 IS NULL AND u.id = ?2)",
	    &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, nomor);
	sqlite3_bind_int64(st, 2, usulan_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		started = sqlite3_column_int64(st, 0);
		created = sqlite3_column_int64(st, 1);
		decided = sqlite3_column_int64(st, 2);
		approved = streq(hq_store_col_text(st, 3), "approved");
		signed_ms = sqlite3_column_int64(st, 4);
		last_tt = sqlite3_column_int64(st, 5);
	} else if (rc != SQLITE_DONE) {
		return hq_store_errno(rc) ?: -EIO;
	}
	/* SOP RETAS: 10, 10-15, 10-15 and 15 minutes. */
	r = hq_json_add_step(arr, 1, "usulan", "bidang", started, created, 10, 10);
	r |= hq_json_add_step(arr, 2, "persetujuan", "kadis", created, decided, 10, 15);
	r |= hq_json_add_step(arr, 3, "surat tugas", "kabid, kadis", approved ? decided : 0,
			      signed_ms, 10, 15);
	r |= hq_json_add_step(arr, 4, "tanda terima", "bidang", signed_ms, last_tt, 15, 15);
	if (r)
		return -ENOMEM;
	*out = steal_ptr(arr);
	return 0;
}
