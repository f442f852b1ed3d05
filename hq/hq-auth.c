/*
 * Van and staff authentication against the store. Nonces are inserted in
 * their own statement: the primary key makes a replay fail atomically even
 * when two worker threads see the same header at once.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "hq-auth.h"
#include "hq-store.h"
#include "retas-b64.h"
#include "retas-i18n.h"
#include "retas-jws.h"
#include "retas-util.h"
#include "sync-auth.h"

#define TOKEN_PREFIX "rhq_"

static const char *const role_names[] = {
    [HQ_ROLE_BIDANG] = "bidang", [HQ_ROLE_KABID] = "kabid",	  [HQ_ROLE_KADIS] = "kadis",
    [HQ_ROLE_FO] = "fo",	 [HQ_ROLE_OPERATOR] = "operator",
};

const char *hq_role_name(enum hq_role role)
{
	return (size_t)role < ARRAY_SIZE(role_names) ? role_names[role] : "?";
}

int hq_role_parse(const char *s, enum hq_role *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(role_names); i++) {
		if (s && streq(s, role_names[i])) {
			*out = (enum hq_role)i;
			return 0;
		}
	}
	return -EINVAL;
}

int hq_nip_valid(const char *nip)
{
	if (!nip || strlen(nip) != 18)
		return 0;
	for (size_t i = 0; i < 18; i++)
		if (nip[i] < '0' || nip[i] > '9')
			return 0;
	return 1;
}

int hq_van_id_valid(const char *id)
{
	size_t len = id ? strlen(id) : 0;

	if (len == 0 || len > 63)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int hq_van_register(sqlite3 *db, const char *id, const uint8_t pk[32], int64_t now_ms,
		    struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	char kid[17];
	int r;

	if (!hq_van_id_valid(id))
		return retas_error_set(err, -EINVAL, "van.id",
				       N_("a van id is 1 to 63 letters, digits, '.', '_' or '-'"));
	retas_key_id(pk, kid);
	r = hq_store_prepare(
	    db, "INSERT INTO vans (id, pubkey, kid, registered_ms) VALUES (?, ?, ?, ?)", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, pk, 32, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, kid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now_ms);
	r = hq_store_errno(sqlite3_step(st));
	if (r == -EEXIST)
		return retas_error_set(err, r, "van.exists",
				       N_("a van with this id or this key is already registered"));
	if (r < 0)
		return retas_error_set(err, r, "store.write", N_("cannot write the store: %s"),
				       sqlite3_errmsg(db));
	return 0;
}

static int van_lookup(sqlite3 *db, const char *sql, const char *key, struct hq_van *out)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	struct hq_van v = {0};
	int r, rc;

	r = hq_store_prepare(db, sql, &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return hq_store_errno(rc) ?: -EIO;
	if (sqlite3_column_bytes(st, 1) != 32)
		return -EIO;
	snprintf(v.id, sizeof(v.id), "%s", hq_store_col_text(st, 0));
	memcpy(v.pk, sqlite3_column_blob(st, 1), 32);
	snprintf(v.kid, sizeof(v.kid), "%s", hq_store_col_text(st, 2));
	*out = v;
	return 0;
}

int hq_van_by_id(sqlite3 *db, const char *id, struct hq_van *out)
{
	return van_lookup(db, "SELECT id, pubkey, kid FROM vans WHERE id = ?", id, out);
}

int hq_van_by_kid(sqlite3 *db, const char *kid, struct hq_van *out)
{
	return van_lookup(db, "SELECT id, pubkey, kid FROM vans WHERE kid = ?", kid, out);
}

static int remember_nonce(sqlite3 *db, const struct sync_auth *a, int64_t now_ms, int64_t skew_ms)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *del = NULL, *ins = NULL;
	int r;

	/* One transaction, so one sync to disk: every signed request comes
	 * here, and under load the syncs are what HQ waits for. */
	r = hq_store_begin(db);
	if (r < 0)
		return r;
	/* A nonce older than twice the skew can only come with a stale time,
	 * which is refused anyway, so it need not be remembered. */
	r = hq_store_prepare(db, "DELETE FROM nonces WHERE ts_ms < ?", &del);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(del, 1, now_ms - 2 * skew_ms);
	r = hq_store_errno(sqlite3_step(del));
	if (r < 0)
		goto out;
	r = hq_store_prepare(db, "INSERT INTO nonces (kid, nonce, ts_ms) VALUES (?, ?, ?)", &ins);
	if (r < 0)
		goto out;
	sqlite3_bind_text(ins, 1, a->kid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(ins, 2, a->nonce, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(ins, 3, a->ts_ms);
	r = hq_store_errno(sqlite3_step(ins));
	if (r == 0)
		r = hq_store_commit(db);
out:
	hq_store_rollback(db);
	return r;
}

int hq_van_auth(sqlite3 *db, const char *header, const char *method, const char *path,
		int64_t now_ms, int64_t skew_ms, struct hq_van *out, struct retas_error *err)
{
	struct sync_auth a;
	struct hq_van v;
	int r;

	if (!header)
		return retas_error_set(err, -EPERM, "auth.missing",
				       N_("this endpoint needs a signed %s header"),
				       SYNC_AUTH_HEADER);
	r = sync_auth_parse(header, strlen(header), &a, err);
	if (r < 0)
		return -EPERM;
	r = hq_van_by_kid(db, a.kid, &v);
	if (r == -ENOENT)
		return retas_error_set(err, -EPERM, "auth.unknown-key",
				       N_("the device key %s is not registered"), a.kid);
	if (r < 0)
		return retas_error_set(err, r, "store.read", N_("cannot read the store"));
	r = sync_auth_verify(&a, method, path, v.pk, err);
	if (r < 0)
		return -EPERM;
	if (a.ts_ms < now_ms - skew_ms || a.ts_ms > now_ms + skew_ms)
		return retas_error_set(err, -EPERM, "auth.stale",
				       N_("the request time is more than %lld s away from ours"),
				       (long long)(skew_ms / 1000));
	r = remember_nonce(db, &a, now_ms, skew_ms);
	if (r == -EEXIST)
		return retas_error_set(err, -EPERM, "auth.replay",
				       N_("this request was already made (nonce reused)"));
	if (r < 0)
		return retas_error_set(err, r, "store.write", N_("cannot write the store"));
	*out = v;
	return 0;
}

static void token_hash(const char *token, uint8_t out[32])
{
	crypto_hash_sha256(out, (const uint8_t *)token, strlen(token));
}

int hq_staff_add(sqlite3 *db, const char *nip, const char *name, enum hq_role role, int64_t now_ms,
		 char **token, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	_cleanup_(freep) char *b64 = NULL;
	char *tok = NULL;
	uint8_t raw[32], hash[32];
	int r;

	if (!hq_nip_valid(nip))
		return retas_error_set(err, -EINVAL, "staff.nip", N_("a NIP is 18 digits"));
	if (!name || !*name || strlen(name) > 127)
		return retas_error_set(err, -EINVAL, "staff.name",
				       N_("a staff member needs a name of at most 127 bytes"));
	randombytes_buf(raw, sizeof(raw));
	r = retas_b64url_encode(raw, sizeof(raw), &b64);
	sodium_memzero(raw, sizeof(raw));
	if (r < 0)
		return r;
	if (asprintf(&tok, TOKEN_PREFIX "%s", b64) < 0)
		return -ENOMEM;
	token_hash(tok, hash);
	/* A revoked member comes back with a new token; an active one is
	 * refused so that nobody loses a token by accident. */
	r = hq_store_prepare(db,
			     "INSERT INTO staff (nip, name, role, token_hash, created_ms) "
			     "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(nip) DO UPDATE SET "
			     "name = ?2, role = ?3, token_hash = ?4, created_ms = ?5, "
			     "revoked_ms = NULL WHERE revoked_ms IS NOT NULL",
			     &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, nip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, hq_role_name(role), -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, hash, sizeof(hash), SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, now_ms);
	r = hq_store_errno(sqlite3_step(st));
	if (r == 0 && sqlite3_changes(db) == 0)
		r = -EEXIST;
	if (r == -EEXIST) {
		r = retas_error_set(err, r, "staff.exists",
				    N_("staff member %s is already active; revoke first"), nip);
		goto fail;
	}
	if (r < 0) {
		r = retas_error_set(err, r, "store.write", N_("cannot write the store: %s"),
				    sqlite3_errmsg(db));
		goto fail;
	}
	*token = tok;
	return 0;
fail:
	retas_free_secret(tok, strlen(tok));
	return r;
}

int hq_staff_revoke(sqlite3 *db, const char *nip, int64_t now_ms, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	int r;

	r = hq_store_prepare(
	    db, "UPDATE staff SET revoked_ms = ? WHERE nip = ? AND revoked_ms IS NULL", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_text(st, 2, nip, -1, SQLITE_TRANSIENT);
	r = hq_store_errno(sqlite3_step(st));
	if (r < 0)
		return retas_error_set(err, r, "store.write", N_("cannot write the store: %s"),
				       sqlite3_errmsg(db));
	if (sqlite3_changes(db) == 0)
		return retas_error_set(err, -ENOENT, "staff.unknown",
				       N_("no active staff member has NIP %s"), nip);
	return 0;
}

int hq_staff_auth(sqlite3 *db, const char *token, struct hq_staff *out, struct retas_error *err)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	struct hq_staff s = {0};
	uint8_t hash[32];
	int r, rc;

	if (!token || strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0 ||
	    strlen(token) > 128)
		return retas_error_set(err, -EPERM, "auth.token",
				       N_("a staff token is needed (Authorization: Bearer)"));
	token_hash(token, hash);
	r = hq_store_prepare(db,
			     "SELECT nip, name, role FROM staff WHERE token_hash = ? AND "
			     "revoked_ms IS NULL",
			     &st);
	if (r < 0)
		return r;
	sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return retas_error_set(err, -EPERM, "auth.token",
				       N_("the staff token is unknown or revoked"));
	if (rc != SQLITE_ROW)
		return retas_error_set(err, hq_store_errno(rc) ?: -EIO, "store.read",
				       N_("cannot read the store"));
	snprintf(s.nip, sizeof(s.nip), "%s", hq_store_col_text(st, 0));
	snprintf(s.name, sizeof(s.name), "%s", hq_store_col_text(st, 1));
	if (hq_role_parse(hq_store_col_text(st, 2), &s.role) < 0)
		return -EIO;
	*out = s;
	return 0;
}

int hq_staff_require(const struct hq_staff *s, enum hq_role role, struct retas_error *err)
{
	if (s->role == role)
		return 0;
	return retas_error_set(err, -EACCES, "auth.role",
			       N_("this action is for the role '%s'; the token holds '%s'"),
			       hq_role_name(role), hq_role_name(s->role));
}
