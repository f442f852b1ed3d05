/*
 * OpenSession: starts recording at the school. Needs a logged-in officer
 * and the surat tugas's window around now (EnrollBegin and EnrollCommit
 * check it again: a clock set a day on refuses, never records outside
 * it); one session is open at a time,
 * and the pre-flight checks that can be made before any device is touched
 * (free disk) pass first.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "api.h"
#include "retas-log.h"
#include "retas-uuid.h"

static int check_disk(struct rd_call *call, struct rd_daemon *d)
{
	struct statvfs sv;
	char free_mb[24], min_mb[24];
	uint64_t avail;

	if (statvfs(d->config->state_dir, &sv) < 0)
		return 0; /* the store will fail loudly if the disk is really gone */
	avail = (uint64_t)sv.f_bavail * sv.f_frsize / (1024 * 1024);
	if (avail >= (uint64_t)d->config->preflight_min_free_mb)
		return 0;
	snprintf(free_mb, sizeof(free_mb), "%" PRIu64, avail);
	snprintf(min_mb, sizeof(min_mb), "%" PRId64, d->config->preflight_min_free_mb);
	rd_api_refuse(call, NULL, "preflight.disk", RD_ARGS("free", free_mb, "min", min_mb));
	return 1;
}

int rd_api_refuse_outside_window(struct rd_call *call, struct rd_daemon *d)
{
	struct retas_error err = {0};
	char when[RETAS_RFC3339_MAX];
	bool expired;

	if (retas_st_check_time(d->st, rd_daemon_now(d), &err) == 0)
		return 0;
	expired = strcmp(err.reason, "st.expired") == 0;
	rd_format_time(expired ? d->st->valid_until : d->st->valid_from, when);
	rd_api_refuse(call, NULL, expired ? "st.expired" : "st.not-yet-valid",
		      RD_ARGS("nomor", d->st->nomor, expired ? "valid_until" : "valid_from", when));
	return 1;
}

static int open_session(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	struct rd_store_session s = {0};
	char when[RETAS_RFC3339_MAX];
	int64_t now = rd_daemon_now(d);
	uint8_t uuid[16];
	json_object *detail, *p;
	int r;

	if (rd_state_phase(d) == RD_PHASE_SESSION_OPEN) {
		rd_format_time(d->session.opened_at_ms, when);
		return rd_api_refuse(call, NULL, "session.already-open",
				     RD_ARGS("opened_at", when));
	}
	if (rd_api_refuse_outside_window(call, d))
		return 0;
	if (check_disk(call, d))
		return 0;

	retas_uuid7_new(now, uuid);
	retas_uuid_format(uuid, s.uuid);
	s.assignment_id = d->assignment_id;
	memcpy(s.opened_by, d->login.nip, sizeof(s.opened_by));
	s.opened_at_ms = now;
	detail = json_object_new_object();
	json_object_object_add(detail, "session", json_object_new_string(s.uuid));
	json_object_object_add(detail, "nomor", json_object_new_string(d->st->nomor));
	json_object_object_add(detail, "petugas",
			       json_object_new_int(rd_state_petugas_index(d, d->login.nip)));
	r = rd_store_txn_begin(d->store);
	if (r == 0) {
		r = rd_store_session_open(d->store, &s);
		if (r == 0)
			r = rd_store_login_touch(d->store, now);
		if (r == 0)
			r = rd_api_audit(call, "ok", "", detail);
		if (r == 0)
			r = rd_store_txn_commit(d->store);
		else
			rd_store_txn_rollback(d->store);
	}
	json_object_put(detail);
	if (r < 0)
		return rd_api_store_failed(call, r);
	d->session = s;
	d->have_session = true;
	d->login.last_active_ms = now;
	rd_state_arm_idle(d);
	log_info("session %s opened", s.uuid);
	p = json_object_new_object();
	json_object_object_add(p, "session", rd_api_session(d));
	return rd_call_reply(call, p);
}

const struct rd_method rd_api_open_session = {
    .interface = RD_INTERFACE,
    .name = "OpenSession",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .handler = open_session,
};
