/*
 * LoadAssignment: verifies a surat tugas (the JWS against the trusted head
 * office key, the van's own device key, the validity window) and makes it
 * the current one. A letter whose window has not begun yet is accepted
 * (vans are prepared the day before, SOP step 4) and OpenSession waits for
 * its window; an expired one is refused. A new letter replaces the old one
 * only while no session is open, and ends the old letter's login.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "retas-jws.h"
#include "retas-log.h"
#include "retas-util.h"

static const struct rd_param params[] = {
    {"token", RD_PARAM_STRING, .max_len = RETAS_JWS_MAX_LEN},
    {NULL},
};

static json_object *detail_for(const char *sha256)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "sha256", json_object_new_string(sha256));
	return o;
}

static int refuse_letter(struct rd_call *call, const char *sha256, const struct retas_st *st,
			 const struct retas_error *err)
{
	char valid[RETAS_RFC3339_MAX];

	if (streq(err->reason, "st.expired")) {
		rd_format_time(st->valid_until, valid);
		return rd_api_refuse(call, detail_for(sha256), err->reason,
				     RD_ARGS("nomor", st->nomor, "valid_until", valid));
	}
	if (streq(err->reason, "st.other-van"))
		return rd_api_refuse(call, detail_for(sha256), err->reason,
				     RD_ARGS("nomor", st->nomor, "kendaraan", st->kendaraan.id));
	/* The library's own reasons: st.FIELD and jws.*; its sentence goes
	 * along as the detail for st.FIELD. */
	return rd_api_refuse(
	    call, detail_for(sha256), err->reason[0] ? err->reason : "st.json",
	    RD_ARGS("field", strncmp(err->reason, "st.", 3) == 0 ? err->reason + 3 : err->reason,
		    "detail", err->message));
}

static int load_assignment(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	json_object *tv = json_object_object_get(call->params, "token");
	const char *given = json_object_get_string(tv);
	size_t len = (size_t)json_object_get_string_len(tv);
	_cleanup_(freep) char *token = NULL;
	struct retas_error err = {0};
	struct retas_st *st = NULL;
	uint8_t digest[crypto_hash_sha256_BYTES];
	char sha256[65];
	json_object *detail = NULL, *p;
	int64_t now = rd_daemon_now(d), id = 0;
	bool was_logged_in = d->logged_in, replaced = d->st != NULL;
	int r;

	/* A file's final newline is not part of the token. */
	while (len > 0 && strchr(" \t\r\n", given[len - 1]))
		len--;
	token = strndup(given, len);
	if (!token)
		return -ENOMEM;
	crypto_hash_sha256(digest, (const uint8_t *)token, len);
	retas_hex_encode(digest, sizeof(digest), sha256);

	if (d->st && streq(sha256, d->assignment_sha256)) {
		/* The same letter again changes nothing, even during a session. */
		p = json_object_new_object();
		json_object_object_add(p, "assignment", rd_api_assignment(d));
		json_object_object_add(p, "replaced", json_object_new_boolean(false));
		return rd_call_reply(call, p);
	}
	if (rd_state_phase(d) == RD_PHASE_SESSION_OPEN)
		return rd_api_refuse(call, detail_for(sha256), "assignment.session-open",
				     RD_ARGS("nomor", d->st->nomor));
	if (!d->config->have_hq_sign_key)
		return rd_api_refuse(call, detail_for(sha256), "assignment.no-hq-key", RD_NO_ARGS);
	if (retas_st_verify(token, len, d->config->hq_sign_key, d->regions, &st, &err) < 0)
		return refuse_letter(call, sha256, NULL, &err);
	if (retas_st_check_van(st, d->device.pk, &err) < 0 ||
	    (retas_st_check_time(st, now, &err) < 0 && !streq(err.reason, "st.not-yet-valid"))) {
		refuse_letter(call, sha256, st, &err);
		retas_st_free(st);
		return 0;
	}

	detail = json_object_new_object();
	json_object_object_add(detail, "nomor", json_object_new_string(st->nomor));
	json_object_object_add(detail, "sha256", json_object_new_string(sha256));
	json_object_object_add(detail, "replaced", json_object_new_boolean(replaced));
	json_object_object_add(detail, "logged_out", json_object_new_boolean(was_logged_in));
	r = rd_store_txn_begin(d->store);
	if (r < 0)
		goto fail;
	if (was_logged_in)
		r = rd_store_login_clear(d->store);
	if (r == 0)
		r = rd_store_assignment_insert(d->store, token, st->nomor, sha256, st->valid_from,
					       st->valid_until, now, &id);
	if (r == 0)
		r = rd_api_audit(call, "ok", "", detail);
	if (r == 0)
		r = rd_store_txn_commit(d->store);
	else
		rd_store_txn_rollback(d->store);
	if (r < 0)
		goto fail;
	json_object_put(detail);

	rd_state_clear(d);
	d->st = st;
	d->assignment_id = id;
	snprintf(d->assignment_sha256, sizeof(d->assignment_sha256), "%s", sha256);
	d->assignment_loaded_at = now;
	rd_state_arm_idle(d);
	log_info("surat tugas %s loaded", st->nomor);

	p = json_object_new_object();
	json_object_object_add(p, "assignment", rd_api_assignment(d));
	json_object_object_add(p, "replaced", json_object_new_boolean(replaced));
	return rd_call_reply(call, p);
fail:
	json_object_put(detail);
	retas_st_free(st);
	return rd_api_store_failed(call, r);
}

const struct rd_method rd_api_load_assignment = {
    .interface = RD_INTERFACE,
    .name = "LoadAssignment",
    .params = params,
    .handler = load_assignment,
};
