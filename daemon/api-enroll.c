/*
 * EnrollBegin and EnrollAbort: the start and the abandonment of one
 * student's enrolment. EnrollBegin checks, in this order, each refusal
 * naming itself: an open session, no other enrolment in progress, the
 * clock inside the letter's window (a session opened in it may outlive
 * it, or the clock may be set a day on), the NIK
 * (valid; on the list, or a student added on the spot whose name, gender
 * and birth date agree with it and whose age reaches the letter's
 * min_age), no current record for the NIK unless redo with a reason, then
 * the pre-flight checks: free disk above preflight.min_free_mb, the clock
 * not behind the last time known from head office (the letter's date) nor
 * behind the van's latest record, and
 * the devices present (fingerprint reader and signature pad as udev lists
 * them, on the worker thread because enumeration touches sysfs and USB;
 * the camera as configured in camera.port). It answers with the enrolment
 * id and the fingers to capture, named in Indonesian.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "api.h"
#include "fp.h"
#include "index.h"
#include "retas-log.h"
#include "retas-util.h"
#include "retas-uuid.h"
#include "sig.h"

static const char *const finger_names[] = {
    NULL,	       "ibu jari kanan", "telunjuk kanan",   "jari tengah kanan",
    "jari manis kanan", "kelingking kanan", "ibu jari kiri",    "telunjuk kiri",
    "jari tengah kiri", "jari manis kiri",  "kelingking kiri",
};

const char *rd_finger_name(int position)
{
	return position >= 1 && position <= 10 ? finger_names[position] : NULL;
}

void rd_enrolment_free(struct rd_enrolment *e)
{
	if (!e)
		return;
	/* The worker is reading it: the commit's end frees it, and stores
	 * nothing. */
	if (e->committing) {
		e->orphaned = true;
		return;
	}
	rd_capture_cancel(e);
	for (size_t i = 0; i < ARRAY_SIZE(e->fingers); i++)
		fp_image_free(e->fingers[i].image);
	cam_photo_clear(&e->photo);
	sig_signature_free(e->signature);
	free(e->nama);
	free(e->kelas);
	free(e->reason);
	memset(e->nik, 0, sizeof(e->nik));
	free(e);
}

static const struct rd_param begin_params[] = {
    {"nik", RD_PARAM_STRING, .max_len = 16},
    {"redo", RD_PARAM_BOOL, .optional = true},
    {"reason", RD_PARAM_STRING, .optional = true, .max_len = 200},
    {"nama", RD_PARAM_STRING, .optional = true, .max_len = 100},
    {"jenis_kelamin", RD_PARAM_STRING, .optional = true, .max_len = 1},
    {"tanggal_lahir", RD_PARAM_STRING, .optional = true, .max_len = 10},
    {"kelas", RD_PARAM_STRING, .optional = true, .max_len = 32},
    {NULL},
};

static const char *param_str(struct rd_call *call, const char *name)
{
	json_object *v = json_object_object_get(call->params, name);

	return v ? json_object_get_string(v) : NULL;
}

/* The device check's job on the worker: which device is missing, if any. */
struct device_job {
	struct rd_call *call;
	struct rd_daemon *d;
	struct rd_enrolment *e;
	const char *missing; /* "fingerprint" or "signature", NULL when all there */
	json_object *answer;
};

static int count_devices(drv_list_fn list, size_t *n)
{
	struct drv_peripheral *p = NULL;
	struct retas_error err = {0};
	int r = list(&p, n, &err);

	free(p);
	return r;
}

static int device_work(void *arg)
{
	struct device_job *j = arg;
	size_t n = 0;

	if (count_devices(fp_list_peripherals, &n) < 0 || n == 0)
		j->missing = "fingerprint";
	else if (count_devices(sig_list_peripherals, &n) < 0 || n == 0)
		j->missing = "signature";
	return 0;
}

static json_object *begin_detail(const struct rd_enrolment *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "enrolment", json_object_new_string(e->id));
	json_object_object_add(o, "on_list", json_object_new_boolean(e->on_list));
	json_object_object_add(o, "redo", json_object_new_boolean(e->redo));
	return o;
}

static void device_done(int result, void *arg)
{
	struct device_job *j = arg;
	struct rd_daemon *d = j->d;

	d->enrol_checking = false;
	if (result == -ECANCELED || !d->have_session || d->session.closed_at_ms) {
		rd_api_refuse(j->call, NULL, "session.not-open", RD_NO_ARGS);
	} else if (j->missing) {
		rd_api_refuse(j->call, begin_detail(j->e), "preflight.device",
			      RD_ARGS("device", j->missing));
	} else {
		int r = rd_store_txn_begin(d->store);

		if (r == 0) {
			json_object *detail = begin_detail(j->e);

			r = rd_api_audit(j->call, "ok", "", detail);
			json_object_put(detail);
			if (r == 0)
				r = rd_store_txn_commit(d->store);
			else
				rd_store_txn_rollback(d->store);
		}
		if (r < 0) {
			rd_api_store_failed(j->call, r);
		} else {
			d->enrol = steal_ptr(j->e);
			log_info("enrolment %s begun", d->enrol->id);
			rd_call_reply(j->call, steal_ptr(j->answer));
		}
	}
	rd_enrolment_free(j->e);
	json_object_put(j->answer);
	free(j);
}

static int check_disk(struct rd_daemon *d, char *free_mb, char *min_mb)
{
	struct statvfs sv;
	uint64_t avail;

	if (statvfs(d->config->state_dir, &sv) < 0)
		return 0;
	avail = (uint64_t)sv.f_bavail * sv.f_frsize / (1024 * 1024);
	if (avail >= (uint64_t)d->config->preflight_min_free_mb)
		return 0;
	snprintf(free_mb, 24, "%" PRIu64, avail);
	snprintf(min_mb, 24, "%" PRId64, d->config->preflight_min_free_mb);
	return 1;
}

int rd_api_refuse_clock_behind(struct rd_call *call, struct rd_daemon *d)
{
	char now_s[RETAS_RFC3339_MAX], last_s[RETAS_RFC3339_MAX];
	int64_t now = rd_daemon_now(d), last = 0;
	int r;

	r = rd_store_record_last_created(d->store, &last);
	if (r == -ENOENT || (r == 0 && now >= last))
		return 0;
	if (r < 0) {
		rd_api_store_failed(call, r);
		return 1;
	}
	rd_format_time(now, now_s);
	rd_format_time(last, last_s);
	rd_api_refuse(call, NULL, "preflight.clock-behind", RD_ARGS("now", now_s, "known", last_s));
	return 1;
}

static json_object *answer_for(const struct rd_daemon *d, const struct rd_enrolment *e)
{
	json_object *p = json_object_new_object(), *s = json_object_new_object(), *a;
	struct rd_student view = {.gender = e->gender, .birth = e->birth};
	struct retas_date date, elig;
	char masked[17], buf[11];
	bool record_only;

	rd_session_date(d, &date);
	rd_student_age(&view, &date, &record_only, &elig);
	retas_nik_mask(e->nik, masked);
	json_object_object_add(p, "id", json_object_new_string(e->id));
	json_object_object_add(s, "nik", json_object_new_string(masked));
	json_object_object_add(s, "nama", json_object_new_string(e->nama));
	json_object_object_add(s, "record_only", json_object_new_boolean(record_only));
	if (record_only) {
		retas_date_format(&elig, buf);
		json_object_object_add(s, "eligible_on", json_object_new_string(buf));
	}
	json_object_object_add(p, "student", s);
	json_object_object_add(p, "redo", json_object_new_boolean(e->redo));
	a = json_object_new_array();
	for (size_t i = 0; i < d->st->n_jari; i++) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "position", json_object_new_int(d->st->jari[i]));
		json_object_object_add(f, "name",
				       json_object_new_string(rd_finger_name(d->st->jari[i])));
		json_object_array_add(a, f);
	}
	json_object_object_add(p, "jari", a);
	return p;
}

/* The student: from the list, or added on the spot from the call's fields
 * checked against the NIK. Returns 1 when it has refused the call. */
static int find_student(struct rd_call *call, struct rd_daemon *d, const char *nik,
			const struct retas_nik *parsed, struct rd_enrolment *e)
{
	struct rd_roster roster = {0};
	struct rd_student *s;
	char masked[17], age_s[8], min_s[8];
	struct retas_date date, birth;
	const char *nama, *jk, *lahir;
	int r;

	retas_nik_mask(nik, masked);
	r = rd_roster_load(d, &roster);
	if (r < 0) {
		rd_api_store_failed(call, r);
		return 1;
	}
	s = rd_roster_find(&roster, nik);
	if (s && s->record_id[0] && !e->redo) {
		rd_roster_clear(&roster);
		rd_api_refuse(call, NULL, "enroll.duplicate", RD_ARGS("nik", masked));
		return 1;
	}
	if (e->redo && (!s || !s->record_id[0])) {
		rd_roster_clear(&roster);
		rd_api_refuse(call, NULL, "enroll.nothing-to-redo", RD_ARGS("nik", masked));
		return 1;
	}
	if (s) {
		e->nama = strdup(s->nama);
		e->kelas = strdup(s->kelas);
		e->gender = s->gender;
		e->birth = s->birth;
		e->on_list = true;
		rd_roster_clear(&roster);
		return e->nama && e->kelas ? 0 : (rd_api_store_failed(call, -ENOMEM), 1);
	}
	rd_roster_clear(&roster);
	nama = param_str(call, "nama");
	jk = param_str(call, "jenis_kelamin");
	lahir = param_str(call, "tanggal_lahir");
	if (!nama || !nama[0] || !jk || !lahir) {
		rd_api_refuse(call, NULL, "enroll.not-listed", RD_ARGS("nik", masked));
		return 1;
	}
	if ((jk[0] != 'L' && jk[0] != 'P') || retas_date_parse(lahir, &birth) < 0 ||
	    retas_date_cmp(&birth, &parsed->birth) != 0 || jk[0] != (char)parsed->gender) {
		rd_api_refuse(call, NULL, "enroll.mismatch", RD_ARGS("nik", masked));
		return 1;
	}
	rd_session_date(d, &date);
	if (retas_date_age(&birth, &date) < d->st->min_age) {
		snprintf(age_s, sizeof(age_s), "%d", retas_date_age(&birth, &date));
		snprintf(min_s, sizeof(min_s), "%d", d->st->min_age);
		rd_api_refuse(call, NULL, "enroll.too-young",
			      RD_ARGS("nik", masked, "age", age_s, "min_age", min_s));
		return 1;
	}
	e->nama = strdup(nama);
	e->kelas = strdup(param_str(call, "kelas") ? param_str(call, "kelas") : "");
	e->gender = parsed->gender;
	e->birth = birth;
	e->on_list = false;
	return e->nama && e->kelas ? 0 : (rd_api_store_failed(call, -ENOMEM), 1);
}

static int enroll_begin(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	const char *nik = param_str(call, "nik");
	const char *reason = param_str(call, "reason");
	json_object *rv = json_object_object_get(call->params, "redo");
	struct retas_error err = {0};
	struct rd_enrolment *e = NULL;
	struct device_job *j = NULL;
	struct retas_nik parsed;
	struct retas_date date;
	char masked[17], free_mb[24], min_mb[24], now_s[RETAS_RFC3339_MAX], known[11];
	int64_t now = rd_daemon_now(d), tanggal_ms;
	int r;

	if (rd_state_phase(d) != RD_PHASE_SESSION_OPEN)
		return rd_api_refuse(call, NULL, "session.not-open", RD_NO_ARGS);
	if (d->enrol || d->enrol_checking)
		return rd_api_refuse(call, NULL, "enroll.busy", RD_NO_ARGS);
	if (rd_api_refuse_outside_window(call, d))
		return 0;
	rd_session_date(d, &date);
	retas_nik_mask(nik, masked);
	if (retas_nik_parse(nik, &date, RETAS_GENDER_UNKNOWN, d->regions, &parsed, &err) < 0)
		return rd_api_refuse(call, NULL, "enroll.nik",
				     RD_ARGS("nik", masked, "detail", err.message));
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	memcpy(e->nik, parsed.nik, sizeof(e->nik));
	e->redo = rv && json_object_get_boolean(rv);
	if (e->redo && (!reason || !reason[0])) {
		rd_enrolment_free(e);
		return rd_api_refuse(call, NULL, "enroll.redo-reason", RD_NO_ARGS);
	}
	if (e->redo && !(e->reason = strdup(reason))) {
		rd_enrolment_free(e);
		return -ENOMEM;
	}
	if (find_student(call, d, parsed.nik, &parsed, e)) {
		rd_enrolment_free(e);
		return 0;
	}
	if (check_disk(d, free_mb, min_mb)) {
		rd_enrolment_free(e);
		return rd_api_refuse(call, NULL, "preflight.disk",
				     RD_ARGS("free", free_mb, "min", min_mb));
	}
	/* The letter's date is the latest time head office vouched for; a
	 * clock before it is wrong, and every record would carry its error. */
	tanggal_ms = retas_date_to_days(&d->st->tanggal) * 86400000 -
		     (int64_t)RETAS_WIB_OFFSET_MIN * 60000;
	if (now < tanggal_ms) {
		rd_format_time(now, now_s);
		retas_date_format(&d->st->tanggal, known);
		rd_enrolment_free(e);
		return rd_api_refuse(call, NULL, "preflight.clock",
				     RD_ARGS("now", now_s, "known", known));
	}
	if (rd_api_refuse_clock_behind(call, d)) {
		rd_enrolment_free(e);
		return 0;
	}
	if (!d->config->camera_port || !d->config->camera_port[0]) {
		rd_enrolment_free(e);
		return rd_api_refuse(call, NULL, "preflight.device", RD_ARGS("device", "camera"));
	}
	{
		uint8_t uuid[16];

		retas_uuid7_new(now, uuid);
		retas_uuid_format(uuid, e->id);
	}
	e->started_at_ms = now;
	e->started_by_uid = call->peer.uid;
	j = calloc(1, sizeof(*j));
	if (!j) {
		rd_enrolment_free(e);
		return -ENOMEM;
	}
	j->call = call;
	j->d = d;
	j->e = e;
	j->answer = answer_for(d, e);
	r = rd_worker_submit(d->worker, device_work, device_done, j);
	if (r < 0) {
		json_object_put(j->answer);
		free(j);
		rd_enrolment_free(e);
		return r == -EAGAIN ? rd_api_refuse(call, NULL, "enroll.busy", RD_NO_ARGS) : r;
	}
	d->enrol_checking = true;
	return RD_CALL_PENDING;
}

static const struct rd_param abort_params[] = {
    {"id", RD_PARAM_STRING, .max_len = 36},
    {"why", RD_PARAM_STRING, .optional = true, .max_len = 32},
    {NULL},
};

static int enroll_abort(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	const char *id = param_str(call, "id");
	json_object *detail;
	int r;

	if (!d->enrol || !streq(d->enrol->id, id))
		return rd_api_refuse(call, NULL, "enroll.unknown", RD_ARGS("id", id));
	detail = json_object_new_object();
	json_object_object_add(detail, "enrolment", json_object_new_string(id));
	/* Why it was abandoned (the client's word: interrupted, failed, ...),
	 * so the audit log says it. */
	if (json_object_object_get(call->params, "why"))
		json_object_object_add(detail, "why",
				       json_object_get(json_object_object_get(call->params, "why")));
	r = rd_store_txn_begin(d->store);
	if (r == 0) {
		r = rd_api_audit(call, "ok", "", detail);
		if (r == 0)
			r = rd_store_txn_commit(d->store);
		else
			rd_store_txn_rollback(d->store);
	}
	json_object_put(detail);
	if (r < 0)
		return rd_api_store_failed(call, r);
	log_info("enrolment %s abandoned; nothing of it was stored", id);
	rd_enrolment_free(d->enrol);
	d->enrol = NULL;
	return rd_call_reply(call, NULL);
}

const struct rd_method rd_api_enroll_begin = {
    .interface = RD_INTERFACE,
    .name = "EnrollBegin",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .params = begin_params,
    .handler = enroll_begin,
};

const struct rd_method rd_api_enroll_abort = {
    .interface = RD_INTERFACE,
    .name = "EnrollAbort",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .params = abort_params,
    .handler = enroll_abort,
};
