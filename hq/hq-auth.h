/*
 * Who is calling: vans (registered device keys, signed request headers of
 * sync/sync-auth.h) and staff (bearer tokens carrying one role). Tokens are
 * 32 random bytes shown once; the store keeps only their SHA-256, which is
 * enough for a secret of that strength.
 */
#pragma once

#include <sqlite3.h>
#include <stdint.h>

#include "retas-error.h"

enum hq_role {
	HQ_ROLE_BIDANG,
	HQ_ROLE_KABID,
	HQ_ROLE_KADIS,
	HQ_ROLE_FO,
	HQ_ROLE_OPERATOR,
};

struct hq_staff {
	char nip[19];
	char name[128];
	enum hq_role role;
};

struct hq_van {
	char id[64];
	uint8_t pk[32];
	char kid[17];
};

const char *hq_role_name(enum hq_role role);
int hq_role_parse(const char *s, enum hq_role *out);
/* 18 digits. */
int hq_nip_valid(const char *nip);
/* 1..63 of [A-Za-z0-9._-]. */
int hq_van_id_valid(const char *id);

/* Registers a van. -EEXIST (reason van.exists) when the id or key is taken. */
int hq_van_register(sqlite3 *db, const char *id, const uint8_t pk[32], int64_t now_ms,
		    struct retas_error *err);
/* -ENOENT when unknown. */
int hq_van_by_id(sqlite3 *db, const char *id, struct hq_van *out);
int hq_van_by_kid(sqlite3 *db, const char *kid, struct hq_van *out);

/*
 * Checks a Retas-Auth header value for a request (method, path) at now_ms:
 * a registered van's key, a good signature, a time within skew_ms of ours,
 * a nonce never seen (remembered for twice the skew). Every failure is
 * -EPERM with reason auth.missing, auth.format, auth.unknown-key,
 * auth.stale, auth.replay or auth.signature.
 */
int hq_van_auth(sqlite3 *db, const char *header, const char *method, const char *path,
		int64_t now_ms, int64_t skew_ms, struct hq_van *out, struct retas_error *err);

/* Adds a staff member (or re-admits a revoked one) with a fresh token,
 * returned once in *token (caller frees). -EEXIST (staff.exists) for an
 * active NIP. */
int hq_staff_add(sqlite3 *db, const char *nip, const char *name, enum hq_role role, int64_t now_ms,
		 char **token, struct retas_error *err);
/* -ENOENT (staff.unknown) when no active member has this NIP. */
int hq_staff_revoke(sqlite3 *db, const char *nip, int64_t now_ms, struct retas_error *err);
/* The active staff member holding token; -EPERM (auth.token) otherwise. */
int hq_staff_auth(sqlite3 *db, const char *token, struct hq_staff *out, struct retas_error *err);
/* 0 when s holds role; -EACCES (auth.role) naming the role needed. */
int hq_staff_require(const struct hq_staff *s, enum hq_role role, struct retas_error *err);
