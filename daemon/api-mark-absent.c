/*
 * MarkAbsent: a student on the list is not at school today (or, with undo,
 * came after all). A recorded student cannot be absent. The report counts
 * absent students among those not recorded.
 */
#include <string.h>

#include "api.h"
#include "index.h"
#include "retas-log.h"

static const struct rd_param params[] = {
    {"nik", RD_PARAM_STRING, .max_len = 16},
    {"undo", RD_PARAM_BOOL, .optional = true},
    {NULL},
};

static int mark_absent(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	const char *nik = json_object_get_string(json_object_object_get(call->params, "nik"));
	json_object *uv = json_object_object_get(call->params, "undo");
	const bool undo = uv && json_object_get_boolean(uv);
	struct rd_roster roster = {0};
	struct rd_student *s;
	int64_t now = rd_daemon_now(d);
	json_object *detail, *p;
	char masked[17];
	int r;

	retas_nik_mask(nik, masked);
	r = rd_roster_load(d, &roster);
	if (r < 0)
		return rd_api_store_failed(call, r);
	s = rd_roster_find(&roster, nik);
	if (!s) {
		rd_roster_clear(&roster);
		return rd_api_refuse(call, NULL, "students.unknown", RD_ARGS("nik", masked));
	}
	if (rd_student_status(s) == RD_STUDENT_RECORDED) {
		rd_roster_clear(&roster);
		return rd_api_refuse(call, NULL, "students.recorded", RD_ARGS("nik", masked));
	}
	detail = json_object_new_object();
	json_object_object_add(detail, "student", json_object_new_int64(s->id));
	json_object_object_add(detail, "absent", json_object_new_boolean(!undo));
	r = rd_store_txn_begin(d->store);
	if (r == 0) {
		r = rd_store_student_set_absent(d->store, s->id, !undo);
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
	if (r < 0) {
		rd_roster_clear(&roster);
		return rd_api_store_failed(call, r);
	}
	d->login.last_active_ms = now;
	rd_state_arm_idle(d);
	p = json_object_new_object();
	json_object_object_add(p, "nik", json_object_new_string(masked));
	json_object_object_add(p, "nama", json_object_new_string(s->nama));
	json_object_object_add(p, "absent", json_object_new_boolean(!undo));
	rd_roster_clear(&roster);
	return rd_call_reply(call, p);
}

const struct rd_method rd_api_mark_absent = {
    .interface = RD_INTERFACE,
    .name = "MarkAbsent",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .params = params,
    .handler = mark_absent,
};
