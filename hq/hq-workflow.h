/*
 * The RETAS workflow at head office, SOP steps 1-4: a usulan (proposal) by
 * the bidang, approved or rejected by the kadis, a surat tugas drafted by
 * the kabid and signed by the kadis (the JWS of DESIGN.md §6), and the
 * tanda terima (receipt of copies) per officer recorded by the bidang.
 * Each transition needs its role, is timestamped and is measured against
 * the SOP's time standard.
 *
 * Inputs and outputs are JSON objects, the same for the HTTP API and the
 * command line. Errors: -EACCES auth.role, -EINVAL workflow.<field>,
 * -ENOENT workflow.unknown, -EALREADY workflow.state, -EKEYREJECTED when
 * the letter would not verify (st.*).
 */
#pragma once

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "hq-auth.h"
#include "hq-ctx.h"
#include "retas-error.h"

/*
 * in: {"npsn", "nama", "alamat", "kecamatan", "valid_from", "valid_until"
 * (RFC 3339), optional "started" (when the draft was begun, for the step's
 * timing)}. Role bidang. *out: the usulan.
 */
int hq_usulan_create(const struct hq_ctx *ctx, sqlite3 *db, const struct hq_staff *actor,
		     json_object *in, int64_t now_ms, json_object **out, struct retas_error *err);
/* {"usulan": [...]} newest first; state NULL or proposed|approved|rejected. */
int hq_usulan_list(sqlite3 *db, const char *state, json_object **out, struct retas_error *err);
int hq_usulan_get(sqlite3 *db, int64_t id, json_object **out, struct retas_error *err);
/* Role kadis; reason required when rejecting. */
int hq_usulan_decide(sqlite3 *db, const struct hq_staff *actor, int64_t id, bool approve,
		     const char *reason, int64_t now_ms, json_object **out,
		     struct retas_error *err);

/*
 * in: {"usulan": id, "nomor", "van", "petugas": [{"nip", "nama", "pin"}]}.
 * Role kabid; the usulan approved and without a letter yet. PINs are kept
 * only as argon2id hashes. *out: the surat tugas (never the PIN hashes).
 */
int hq_st_draft(const struct hq_ctx *ctx, sqlite3 *db, const struct hq_staff *actor,
		json_object *in, int64_t now_ms, json_object **out, struct retas_error *err);
/* Role kadis: builds the payload with retas_st_to_json, signs it with the
 * HQ signing key (typ retas-st+jws, kid its key id), checks it verifies,
 * stores it. *out: the surat tugas with member "jws". */
int hq_st_sign(const struct hq_ctx *ctx, sqlite3 *db, const struct hq_staff *actor,
	       const char *nomor, int64_t now_ms, json_object **out, struct retas_error *err);
/* The signed JWS (new string). -EALREADY workflow.state before signing. */
int hq_st_export(sqlite3 *db, const char *nomor, char **jws, struct retas_error *err);
/* Role bidang; nip one of the letter's officers, once each. */
int hq_st_tanda_terima(sqlite3 *db, const struct hq_staff *actor, const char *nomor,
		       const char *nip, int64_t now_ms, json_object **out, struct retas_error *err);
int hq_st_get(sqlite3 *db, const char *nomor, json_object **out, struct retas_error *err);

/* The four SOP steps of the usulan behind letter nomor (or of usulan id
 * when nomor is NULL), as hq_json_add_step objects. */
int hq_workflow_timings(sqlite3 *db, int64_t usulan_id, const char *nomor, json_object **out);
