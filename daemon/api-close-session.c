/* CloseSession: ends the open session. Allowed after the letter's window
 * has passed, so a session that ran late can still be closed. The draft
 * report (Draft Laporan RETAS) is written then, off the loop (report.c),
 * and the call answers once it is on disk. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "sync.h"
#include "report.h"
#include "retas-log.h"

struct close_job {
	struct rd_call *call;
	struct rd_daemon *d;
	char uuid[37];
	json_object *answer;
};

/* result 1: the failure is logged already. */
static void report_written(int result, const struct retas_error *err, void *userdata)
{
	struct close_job *j = userdata;

	if (result < 0)
		log_error("the draft report could not be written: %s",
			  err && err->message[0] ? err->message : strerror(-result));
	else if (result == 0)
		log_info("draft report laporan/%s written", j->uuid);
	/* The draft report travels with the next batch. */
	if (j->d->sync)
		rd_sync_poke(j->d->sync);
	rd_call_reply(j->call, j->answer);
	free(j);
}

static int close_session(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	int64_t now = rd_daemon_now(d);
	struct retas_error err = {0};
	struct close_job *j;
	json_object *detail;
	int r;

	if (rd_state_phase(d) != RD_PHASE_SESSION_OPEN)
		return rd_api_refuse(call, NULL, "session.not-open", RD_NO_ARGS);
	detail = json_object_new_object();
	json_object_object_add(detail, "session", json_object_new_string(d->session.uuid));
	json_object_object_add(detail, "petugas",
			       json_object_new_int(rd_state_petugas_index(d, d->login.nip)));
	r = rd_store_txn_begin(d->store);
	if (r == 0) {
		r = rd_store_session_close(d->store, d->session.id, d->login.nip, now);
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
	/* An enrolment left open is abandoned with the session: nothing of it
	 * was stored. */
	rd_enrolment_free(d->enrol);
	d->enrol = NULL;
	memcpy(d->session.closed_by, d->login.nip, sizeof(d->session.closed_by));
	d->session.closed_at_ms = now;
	d->login.last_active_ms = now;
	rd_state_arm_idle(d);
	log_info("session %s closed", d->session.uuid);
	/* SOP step 5: the draft report is written as the session closes, on
	 * the worker; the call is answered when it is. A failure is logged;
	 * the report can be made again with Report. */
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->call = call;
	j->d = d;
	snprintf(j->uuid, sizeof(j->uuid), "%s", d->session.uuid);
	j->answer = json_object_new_object();
	json_object_object_add(j->answer, "session", rd_api_session(d));
	if (rd_report_write(d, d->session.uuid, report_written, j, &err) < 0) {
		log_error("the draft report could not be written: %s", err.message);
		report_written(1, NULL, j);
	}
	return RD_CALL_PENDING;
}

const struct rd_method rd_api_close_session = {
    .interface = RD_INTERFACE,
    .name = "CloseSession",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .handler = close_session,
};
