/*
 * Login: an officer named in the current surat tugas, with the PIN whose
 * argon2id hash the letter carries. The hash check is slow by design, so it
 * runs on the worker thread and the call answers when it comes back; the
 * loop serves everyone else meanwhile. Wrong PINs count per NIP in the
 * store; the configured number of them locks the NIP for the configured
 * time, across restarts, measured in elapsed time so a clock set
 * forwards or backwards neither lifts nor stretches it (state.c). Checks run one after another on the worker and
 * every rule is decided again on the loop when a check ends, from the
 * store: a guess that was queued before the lockout fell is refused as
 * locked whatever its PIN, so parallel guesses cannot outrun the count.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "retas-log.h"
#include "retas-util.h"

#define PIN_MAX 64

static const struct rd_param params[] = {
    {"nip", RD_PARAM_STRING, .max_len = 18},
    {"pin", RD_PARAM_STRING, .max_len = PIN_MAX},
    {NULL},
};

struct pin_job {
	struct rd_call *call;
	struct rd_daemon *d;
	int64_t assignment_id;
	int petugas;
	char nip[19];
	char *hash; /* the letter's PHC string, copied: the letter may change meanwhile */
	char pin[PIN_MAX + 1];
};

static void pin_job_free(struct pin_job *j)
{
	if (!j)
		return;
	free(j->hash);
	sodium_memzero(j->pin, sizeof(j->pin));
	free(j);
}

static int pin_work(void *arg)
{
	struct pin_job *j = arg;
	struct retas_st_petugas p = {.pin = j->hash};

	memcpy(p.nip, j->nip, sizeof(p.nip));
	return retas_st_check_pin(&p, j->pin);
}

static json_object *petugas_detail(int index)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "petugas", json_object_new_int(index));
	return o;
}

static int good_pin(struct pin_job *j, struct rd_store_officer *o, int64_t now)
{
	struct rd_daemon *d = j->d;
	struct rd_store_login l = {
	    .assignment_id = j->assignment_id,
	    .uid = j->call->peer.uid,
	    .since_ms = now,
	    .last_active_ms = now,
	};
	json_object *detail = petugas_detail(j->petugas), *p;
	int r;

	memcpy(l.nip, j->nip, sizeof(l.nip));
	if (d->logged_in && !streq(d->login.nip, j->nip))
		json_object_object_add(
		    detail, "replaced_petugas",
		    json_object_new_int(rd_state_petugas_index(d, d->login.nip)));
	o->failed = 0;
	o->locked_until = 0; /* over in elapsed time, whatever the wall clock says */
	r = rd_store_txn_begin(d->store);
	if (r == 0) {
		r = rd_store_officer_put(d->store, j->nip, o, now);
		if (r == 0)
			r = rd_store_login_set(d->store, &l);
		if (r == 0)
			r = rd_api_audit(j->call, "ok", "", detail);
		if (r == 0)
			r = rd_store_txn_commit(d->store);
		else
			rd_store_txn_rollback(d->store);
	}
	json_object_put(detail);
	if (r < 0)
		return rd_api_store_failed(j->call, r);
	d->logged_in = true;
	d->login = l;
	rd_state_arm_idle(d);
	log_info("officer %d of surat tugas %s logged in", j->petugas, d->st->nomor);
	p = json_object_new_object();
	json_object_object_add(p, "login", rd_api_login_info(d));
	return rd_call_reply(j->call, p);
}

static int wrong_pin(struct pin_job *j, struct rd_store_officer *o, int64_t now)
{
	struct rd_daemon *d = j->d;
	const char *reason = "login.wrong-pin";
	char remaining[24], until[RETAS_RFC3339_MAX];
	json_object *detail = petugas_detail(j->petugas);
	int r;

	o->failed++;
	if (o->failed >= d->config->login_max_failures) {
		reason = "login.wrong-pin-locked";
		o->failed = 0;
		o->locked_until = now + d->config->login_lockout_s * 1000;
	}
	json_object_object_add(detail, "failed", json_object_new_int64(o->failed));
	r = rd_store_txn_begin(d->store);
	if (r == 0) {
		r = rd_store_officer_put(d->store, j->nip, o, now);
		if (r == 0)
			r = rd_api_refusal_audit(j->call, detail, reason);
		else
			json_object_put(detail);
		if (r == 0)
			r = rd_store_txn_commit(d->store);
		else
			rd_store_txn_rollback(d->store);
	} else {
		json_object_put(detail);
	}
	if (r < 0)
		return rd_api_store_failed(j->call, r);
	if (o->failed == 0)
		rd_state_lockout_start(d, j->nip, o->locked_until);
	snprintf(remaining, sizeof(remaining), "%" PRId64,
		 d->config->login_max_failures - o->failed);
	rd_format_time(o->locked_until, until);
	if (o->failed == 0)
		return rd_api_refusal_send(j->call, reason, RD_ARGS("nip", j->nip, "until", until));
	return rd_api_refusal_send(j->call, reason, RD_ARGS("nip", j->nip, "remaining", remaining));
}

static void pin_done(int result, void *arg)
{
	struct pin_job *j = arg;
	struct rd_daemon *d = j->d;
	struct rd_store_officer o;
	int64_t now = rd_daemon_now(d), locked_until;
	int r;

	if (result != 0 && result != -EACCES) {
		rd_api_refuse(j->call, petugas_detail(j->petugas), "internal.pin-check",
			      RD_ARGS("error", strerror(-result)));
		goto out;
	}
	if (!d->st || d->assignment_id != j->assignment_id) {
		rd_api_refuse(j->call, NULL, "assignment.changed", RD_NO_ARGS);
		goto out;
	}
	r = rd_store_officer_get(d->store, j->nip, &o);
	if (r < 0) {
		rd_api_store_failed(j->call, r);
		goto out;
	}
	locked_until = rd_state_lockout_until(d, j->nip, o.locked_until);
	if (locked_until) {
		char until[RETAS_RFC3339_MAX];

		rd_format_time(locked_until, until);
		rd_api_refuse(j->call, petugas_detail(j->petugas), "login.locked",
			      RD_ARGS("nip", j->nip, "until", until));
		goto out;
	}
	if (result == 0)
		good_pin(j, &o, now);
	else
		wrong_pin(j, &o, now);
out:
	pin_job_free(j);
}

static bool nip_well_formed(const char *nip)
{
	if (strlen(nip) != 18)
		return false;
	for (const char *p = nip; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static int login(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	const char *nip = json_object_get_string(json_object_object_get(call->params, "nip"));
	json_object *pv = json_object_object_get(call->params, "pin");
	struct rd_store_officer o;
	struct pin_job *j = NULL;
	int64_t locked_until;
	int idx, r;

	if (!nip_well_formed(nip) || json_object_get_string_len(pv) == 0) {
		json_object *p = json_object_new_object();

		json_object_object_add(
		    p, "parameter", json_object_new_string(nip_well_formed(nip) ? "pin" : "nip"));
		return rd_call_error(call, RD_VARLINK_SERVICE ".InvalidParameter", p);
	}
	if (!d->st)
		return rd_api_refuse(call, NULL, "assignment.none", RD_NO_ARGS);
	idx = rd_state_petugas_index(d, nip);
	if (idx < 0)
		return rd_api_refuse(call, NULL, "login.unknown-nip",
				     RD_ARGS("nip", nip, "nomor", d->st->nomor));
	r = rd_store_officer_get(d->store, nip, &o);
	if (r < 0)
		return rd_api_store_failed(call, r);
	locked_until = rd_state_lockout_until(d, nip, o.locked_until);
	if (locked_until) {
		char until[RETAS_RFC3339_MAX];

		rd_format_time(locked_until, until);
		return rd_api_refuse(call, petugas_detail(idx), "login.locked",
				     RD_ARGS("nip", nip, "until", until));
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->hash = strdup(d->st->petugas[idx].pin);
	if (!j->hash) {
		pin_job_free(j);
		return -ENOMEM;
	}
	j->call = call;
	j->d = d;
	j->assignment_id = d->assignment_id;
	j->petugas = idx;
	memcpy(j->nip, nip, sizeof(j->nip));
	memcpy(j->pin, json_object_get_string(pv), (size_t)json_object_get_string_len(pv) + 1);
	/* The request's copy of the PIN is not needed any more. */
	sodium_memzero((char *)json_object_get_string(pv), (size_t)json_object_get_string_len(pv));
	r = rd_worker_submit(d->worker, pin_work, pin_done, j);
	if (r < 0) {
		pin_job_free(j);
		if (r == -EAGAIN)
			return rd_api_refuse(call, petugas_detail(idx), "login.queue-full",
					     RD_NO_ARGS);
		return r;
	}
	return RD_CALL_PENDING;
}

const struct rd_method rd_api_login = {
    .interface = RD_INTERFACE,
    .name = "Login",
    .params = params,
    .handler = login,
};
