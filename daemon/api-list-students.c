/*
 * ListStudents: the student list of the current surat tugas with each
 * student's status (pending, absent, recorded) and, for the recorded, the
 * finger exceptions and record-only mark; filter narrows it to one status
 * or to those recorded with an exception. Needs a login: it shows names
 * and NIKs to the officer who will type them.
 */
#include <string.h>

#include "api.h"
#include "index.h"
#include "retas-util.h"

static const struct rd_param params[] = {
    {"filter", RD_PARAM_STRING, .optional = true, .max_len = 16},
    {NULL},
};

static bool wanted(const struct rd_student *s, const char *filter)
{
	if (!filter || streq(filter, "all"))
		return true;
	if (streq(filter, "exception"))
		return rd_student_has_exception(s);
	return streq(filter, rd_student_status_name(rd_student_status(s)));
}

json_object *rd_api_student(const struct rd_student *s, const struct retas_date *date)
{
	json_object *o = json_object_new_object();
	struct retas_date elig;
	char buf[11], jk[2] = {(char)s->gender, 0};
	bool record_only;
	int age = rd_student_age(s, date, &record_only, &elig);

	json_object_object_add(o, "nik", json_object_new_string(s->nik));
	json_object_object_add(o, "nama", json_object_new_string(s->nama));
	json_object_object_add(o, "kelas", json_object_new_string(s->kelas));
	json_object_object_add(o, "jenis_kelamin", json_object_new_string(jk));
	retas_date_format(&s->birth, buf);
	json_object_object_add(o, "tanggal_lahir", json_object_new_string(buf));
	json_object_object_add(o, "age", json_object_new_int(age));
	json_object_object_add(o, "status",
			       json_object_new_string(rd_student_status_name(rd_student_status(s))));
	json_object_object_add(o, "on_list", json_object_new_boolean(s->on_list));
	json_object_object_add(o, "record_only", json_object_new_boolean(record_only));
	if (record_only) {
		retas_date_format(&elig, buf);
		json_object_object_add(o, "eligible_on", json_object_new_string(buf));
	}
	json_object_object_add(o, "exception", json_object_new_boolean(rd_student_has_exception(s)));
	if (s->record_id[0])
		json_object_object_add(o, "record_id", json_object_new_string(s->record_id));
	return o;
}

static int list_students(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	json_object *fv = json_object_object_get(call->params, "filter");
	const char *filter = fv ? json_object_get_string(fv) : NULL;
	struct rd_roster roster = {0};
	struct retas_date date;
	json_object *a, *p;
	int r;

	if (filter && !streq(filter, "all") && !streq(filter, "pending") &&
	    !streq(filter, "recorded") && !streq(filter, "absent") && !streq(filter, "exception")) {
		p = json_object_new_object();
		json_object_object_add(p, "parameter", json_object_new_string("filter"));
		return rd_call_error(call, RD_VARLINK_SERVICE ".InvalidParameter", p);
	}
	r = rd_roster_load(d, &roster);
	if (r < 0)
		return rd_api_store_failed(call, r);
	rd_session_date(d, &date);
	a = json_object_new_array();
	for (size_t i = 0; i < roster.n; i++)
		if (wanted(&roster.s[i], filter))
			json_object_array_add(a, rd_api_student(&roster.s[i], &date));
	rd_roster_clear(&roster);
	p = json_object_new_object();
	json_object_object_add(p, "students", a);
	return rd_call_reply(call, p);
}

const struct rd_method rd_api_list_students = {
    .interface = RD_INTERFACE,
    .name = "ListStudents",
    .flags = RD_METHOD_READ_ONLY | RD_METHOD_NEEDS_LOGIN,
    .params = params,
    .handler = list_students,
};
