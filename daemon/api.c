/*
 * What every method shares: the method table, the check of flags against
 * the caller's credentials before a handler runs, audit rows and refusals,
 * and the JSON shapes of the interface's types.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "audit.h"
#include "retas-jws.h"
#include "retas-log.h"
#include "retas-reason.h"
#include "retas-time.h"

const struct rd_method *const rd_api_methods[] = {
    &rd_api_get_info,
    &rd_api_get_interface_description,
    &rd_api_status,
    &rd_api_load_assignment,
    &rd_api_show_assignment,
    &rd_api_login,
    &rd_api_logout,
    &rd_api_open_session,
    &rd_api_close_session,
    &rd_api_verify_audit,
    &rd_api_import_students,
    &rd_api_list_students,
    &rd_api_mark_absent,
    &rd_api_enroll_begin,
    &rd_api_enroll_abort,
    &rd_api_capture_finger,
    &rd_api_mark_finger_exception,
    &rd_api_capture_photo,
    &rd_api_capture_signature,
    &rd_api_confirm_signature,
    &rd_api_clear_signature,
    &rd_api_enroll_commit,
    &rd_api_receipt,
    &rd_api_report,
    &rd_api_sync,
    &rd_api_sync_export,
    &rd_api_sync_import_receipt,
    &rd_api_queue,
    NULL,
};

static bool may_change_state(const struct rd_daemon *d, const struct rd_peer *peer)
{
	return peer->uid == 0 || peer->uid == (int64_t)getuid() || peer->in_group;
}

int rd_api_check(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	unsigned flags = call->method->flags;
	char uid[24], minutes[24];

	snprintf(uid, sizeof(uid), "%" PRId64, call->peer.uid);
	if (!(flags & RD_METHOD_READ_ONLY) && !may_change_state(d, &call->peer)) {
		rd_api_refuse(call, NULL, "api.permission",
			      RD_ARGS("uid", uid, "group", d->config->api_group));
		return 1;
	}
	if (!(flags & RD_METHOD_NEEDS_LOGIN))
		return 0;
	if (d->logged_in && rd_daemon_now(d) >= rd_state_idle_deadline(d) &&
	    rd_state_idle_deadline(d) != 0) {
		rd_state_idle_logout(d);
		snprintf(minutes, sizeof(minutes), "%" PRId64, d->config->login_idle_s / 60);
		rd_api_refuse(call, NULL, "login.idle", RD_ARGS("minutes", minutes));
		return 1;
	}
	if (!d->logged_in) {
		rd_api_refuse(call, NULL, "login.required", RD_NO_ARGS);
		return 1;
	}
	if (call->peer.uid != d->login.uid) {
		snprintf(uid, sizeof(uid), "%" PRId64, d->login.uid);
		rd_api_refuse(call, NULL, "login.other-user", RD_ARGS("uid", uid));
		return 1;
	}
	return 0;
}

int rd_api_audit(struct rd_call *call, const char *outcome, const char *reason, json_object *detail)
{
	struct rd_daemon *d = rd_call_daemon(call);
	struct rd_audit_entry e = {
	    .at_ms = rd_daemon_now(d),
	    .event = call->method->name,
	    .outcome = outcome,
	    .reason = reason ? reason : "",
	    .uid = call->peer.uid,
	    .pid = call->peer.pid,
	    .detail =
		detail ? json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN) : "{}",
	};
	int r;

	if (call->method->flags & RD_METHOD_READ_ONLY)
		return 0;
	r = rd_audit_append(d->store, &e, NULL);
	if (r < 0)
		log_error("audit: cannot append %s %s: %s", e.event, e.outcome, strerror(-r));
	return r;
}

int rd_api_refusal_audit(struct rd_call *call, json_object *detail, const char *reason)
{
	int r = rd_api_audit(call, "refused", reason, detail);

	json_object_put(detail);
	return r;
}

int rd_api_refusal_send(struct rd_call *call, const char *reason, const char *const *args)
{
	json_object *p = json_object_new_object(), *a = json_object_new_object();
	char *message = NULL;

	for (size_t i = 0; args[i] && args[i + 1]; i += 2)
		json_object_object_add(a, args[i], json_object_new_string(args[i + 1]));
	if (retas_reason_render(reason, a, false, &message) < 0)
		message = NULL;
	/* The reason id only: the sentence may name an officer's NIP, and the
	 * journal is kept as free of personal data as the audit log. */
	log_info("%s refused: %s", call->method->name, reason);
	json_object_object_add(p, "reason", json_object_new_string(reason));
	json_object_object_add(p, "args", a);
	json_object_object_add(p, "message", json_object_new_string(message ? message : reason));
	free(message);
	return rd_call_error(call, RD_INTERFACE ".Refused", p);
}

int rd_api_refuse(struct rd_call *call, json_object *detail, const char *reason,
		  const char *const *args)
{
	rd_api_refusal_audit(call, detail, reason);
	return rd_api_refusal_send(call, reason, args);
}

int rd_api_store_failed(struct rd_call *call, int r)
{
	log_error("%s: store failed: %s", call->method->name, strerror(-r));
	return rd_api_refuse(call, NULL, "internal.store", RD_ARGS("error", strerror(-r)));
}

json_object *rd_api_time(int64_t ms)
{
	char buf[RETAS_RFC3339_MAX];

	rd_format_time(ms, buf);
	return json_object_new_string(buf);
}

json_object *rd_api_officer(const struct retas_st_petugas *p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "nip", json_object_new_string(p->nip));
	json_object_object_add(o, "nama", json_object_new_string(p->nama ? p->nama : ""));
	return o;
}

static json_object *school(const struct retas_st *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "npsn", json_object_new_string(st->sekolah.npsn));
	json_object_object_add(o, "nama", json_object_new_string(st->sekolah.nama));
	json_object_object_add(
	    o, "alamat", json_object_new_string(st->sekolah.alamat ? st->sekolah.alamat : ""));
	json_object_object_add(o, "kecamatan", json_object_new_string(st->sekolah.kecamatan));
	return o;
}

json_object *rd_api_assignment_summary(const struct rd_daemon *d)
{
	json_object *o;

	if (!d->st)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "nomor", json_object_new_string(d->st->nomor));
	json_object_object_add(o, "valid_from", rd_api_time(d->st->valid_from));
	json_object_object_add(o, "valid_until", rd_api_time(d->st->valid_until));
	json_object_object_add(o, "sekolah", school(d->st));
	return o;
}

json_object *rd_api_assignment(const struct rd_daemon *d)
{
	const struct retas_st *st = d->st;
	json_object *o, *list, *k, *sig;
	char date[11], kid[17];

	if (!st)
		return NULL;
	o = rd_api_assignment_summary(d);
	retas_date_format(&st->tanggal, date);
	json_object_object_add(o, "tanggal", json_object_new_string(date));
	list = json_object_new_array();
	for (size_t i = 0; i < st->n_petugas; i++)
		json_object_array_add(list, rd_api_officer(&st->petugas[i]));
	json_object_object_add(o, "petugas", list);
	k = json_object_new_object();
	retas_key_id(st->kendaraan.device_key, kid);
	json_object_object_add(k, "id", json_object_new_string(st->kendaraan.id));
	json_object_object_add(k, "device_key_id", json_object_new_string(kid));
	json_object_object_add(o, "kendaraan", k);
	json_object_object_add(o, "hq_url", json_object_new_string(st->hq.url ? st->hq.url : ""));
	json_object_object_add(o, "min_age", json_object_new_int(st->min_age));
	list = json_object_new_array();
	for (size_t i = 0; i < st->n_jari; i++)
		json_object_array_add(list, json_object_new_int(st->jari[i]));
	json_object_object_add(o, "jari", list);
	sig = json_object_new_object();
	json_object_object_add(sig, "nip", json_object_new_string(st->penandatangan.nip));
	json_object_object_add(sig, "nama", json_object_new_string(st->penandatangan.nama));
	json_object_object_add(sig, "jabatan", json_object_new_string(st->penandatangan.jabatan));
	json_object_object_add(o, "penandatangan", sig);
	if (st->kid)
		json_object_object_add(o, "kid", json_object_new_string(st->kid));
	json_object_object_add(o, "sha256", json_object_new_string(d->assignment_sha256));
	json_object_object_add(o, "loaded_at", rd_api_time(d->assignment_loaded_at));
	return o;
}

static json_object *officer_by_nip(const struct rd_daemon *d, const char *nip)
{
	int i = rd_state_petugas_index(d, nip);
	json_object *o;

	if (i >= 0)
		return rd_api_officer(&d->st->petugas[i]);
	o = json_object_new_object();
	json_object_object_add(o, "nip", json_object_new_string(nip));
	json_object_object_add(o, "nama", json_object_new_string(""));
	return o;
}

json_object *rd_api_login_info(const struct rd_daemon *d)
{
	json_object *o;
	int64_t deadline = rd_state_idle_deadline(d);

	if (!d->logged_in)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "officer", officer_by_nip(d, d->login.nip));
	json_object_object_add(o, "since", rd_api_time(d->login.since_ms));
	if (deadline)
		json_object_object_add(o, "idle_logout_at", rd_api_time(deadline));
	return o;
}

json_object *rd_api_session(const struct rd_daemon *d)
{
	const struct rd_store_session *s = &d->session;
	json_object *o;

	if (!d->have_session)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(s->uuid));
	json_object_object_add(o, "opened_at", rd_api_time(s->opened_at_ms));
	json_object_object_add(o, "opened_by", officer_by_nip(d, s->opened_by));
	if (s->closed_at_ms) {
		json_object_object_add(o, "closed_at", rd_api_time(s->closed_at_ms));
		json_object_object_add(o, "closed_by", officer_by_nip(d, s->closed_by));
	}
	return o;
}
