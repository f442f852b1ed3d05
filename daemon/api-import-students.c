/*
 * ImportStudents: the school's student list (CSV text, lib/retas-students.h)
 * into the local index of the current surat tugas. Every row is checked
 * against the NIK rules and the letter (ages on the session date against
 * min_age), and against the index: a NIK already listed or recorded is a
 * refused row too. Refused rows come back with their line numbers and
 * reasons; the good rows are stored in one transaction, or nothing when
 * dry_run is set.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "index.h"
#include "retas-i18n.h"
#include "retas-log.h"
#include "retas-students.h"
#include "retas-util.h"

#define IMPORT_MAX_CSV (RD_VARLINK_MAX_MESSAGE - 4096)

static const struct rd_param params[] = {
    {"csv", RD_PARAM_STRING, .max_len = IMPORT_MAX_CSV},
    {"dry_run", RD_PARAM_BOOL, .optional = true},
    {NULL},
};

static json_object *issue(unsigned line, const char *reason, const char *message)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "line", json_object_new_int((int)line));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "message", json_object_new_string(message));
	return o;
}

static json_object *issues_of(const struct retas_student_list *list)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < list->n_issues; i++)
		json_object_array_add(a, issue(list->issues[i].line, list->issues[i].reason,
					       list->issues[i].message));
	return a;
}

/* Stores the good rows that the index does not know yet; the others join
 * the issues. *imported counts the rows stored (or that would be). */
static int store_rows(struct rd_daemon *d, const struct retas_student_list *list, bool dry_run,
		      int64_t now, json_object *issues, int *imported)
{
	struct rd_roster roster = {0};
	int n = 0, r;

	r = rd_roster_load(d, &roster);
	if (r < 0)
		return r;
	for (size_t i = 0; i < list->n_students && r == 0; i++) {
		const struct retas_student *st = &list->students[i];
		struct rd_student *known = rd_roster_find(&roster, st->nik);
		_cleanup_(freep) uint8_t *sealed = NULL;
		uint8_t hash[32];
		size_t len = 0;
		json_object *e;
		int64_t id;

		if (known) {
			const bool rec = rd_student_status(known) == RD_STUDENT_RECORDED;

			json_object_array_add(
			    issues,
			    issue(st->line, rec ? "students.recorded" : "students.listed",
				  rec ? _("this NIK is already recorded in this surat tugas")
				      : _("this NIK is already on the student list")));
			continue;
		}
		n++;
		if (dry_run)
			continue;
		rd_index_nik_hash(d->local_key, st->nik, hash);
		e = rd_index_entry(st->nik, st->nama, st->kelas, st->gender, &st->birth);
		r = rd_index_seal(d->local_key, e, &sealed, &len);
		json_object_put(e);
		if (r == 0)
			r = rd_store_student_insert(d->store, d->assignment_id, hash, sealed, len,
						    true, now, &id);
	}
	rd_roster_clear(&roster);
	if (r == 0)
		*imported = n;
	return r;
}

static int import_students(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	json_object *csv = json_object_object_get(call->params, "csv");
	json_object *dr = json_object_object_get(call->params, "dry_run");
	const bool dry_run = dr && json_object_get_boolean(dr);
	struct retas_student_list *list = NULL;
	struct retas_error err = {0};
	struct retas_date date;
	json_object *issues = NULL, *detail, *p;
	int64_t now = rd_daemon_now(d);
	int imported = 0, r;

	rd_session_date(d, &date);
	r = retas_students_parse(json_object_get_string(csv),
				 (size_t)json_object_get_string_len(csv), &date, d->st->min_age,
				 d->regions, &list, &err);
	if (r < 0)
		return rd_api_refuse(call, NULL, "students.file",
				     RD_ARGS("error", err.reason, "detail", err.message));
	issues = issues_of(list);
	r = rd_store_txn_begin(d->store);
	if (r == 0) {
		r = store_rows(d, list, dry_run, now, issues, &imported);
		detail = json_object_new_object();
		json_object_object_add(detail, "rows", json_object_new_int((int)list->rows));
		json_object_object_add(detail, "imported", json_object_new_int(imported));
		json_object_object_add(detail, "refused",
				       json_object_new_int((int)json_object_array_length(issues)));
		json_object_object_add(detail, "dry_run", json_object_new_boolean(dry_run));
		if (r == 0)
			r = rd_store_login_touch(d->store, now);
		if (r == 0)
			r = rd_api_audit(call, "ok", "", detail);
		json_object_put(detail);
		if (r == 0)
			r = rd_store_txn_commit(d->store);
		else
			rd_store_txn_rollback(d->store);
	}
	if (r < 0) {
		json_object_put(issues);
		retas_student_list_free(list);
		return rd_api_store_failed(call, r);
	}
	d->login.last_active_ms = now;
	rd_state_arm_idle(d);
	log_info("student list: %u rows, %d %s, %zu refused", list->rows, imported,
		 dry_run ? "would be imported" : "imported", json_object_array_length(issues));
	p = json_object_new_object();
	json_object_object_add(p, "rows", json_object_new_int((int)list->rows));
	json_object_object_add(p, "imported", json_object_new_int(imported));
	json_object_object_add(p, "dry_run", json_object_new_boolean(dry_run));
	json_object_object_add(p, "issues", issues);
	retas_student_list_free(list);
	return rd_call_reply(call, p);
}

const struct rd_method rd_api_import_students = {
    .interface = RD_INTERFACE,
    .name = "ImportStudents",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .params = params,
    .handler = import_students,
};
