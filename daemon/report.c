/*
 * The Draft Laporan RETAS from the store: the header from the letter and
 * the session, a row per student of the local index (its status, and for
 * a recorded student the exceptions and quality scores its record's
 * summary holds), and the device incidents from the audit log. The model
 * (lib/retas-report.h) derives every count and masks every NIK.
 *
 * CloseSession writes the draft into the state directory (laporan/
 * SESSION.jws signed by the device key, .pdf and .csv); Report {format}
 * answers the current draft at any time. The model is built on the loop,
 * which owns the store; signing, rendering and the file writes run on the
 * document worker, so a session of a thousand students stalls neither
 * another connection nor a PIN check or a commit while its PDF is drawn.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "audit.h"
#include "index.h"
#include "report.h"
#include "retas-b64.h"
#include "retas-log.h"
#include "retas-report-pdf.h"
#include "retas-util.h"

#include <sodium.h>

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static int student_row(struct retas_report *rep, const struct rd_student *s,
		       const struct retas_date *date, struct retas_error *err)
{
	struct retas_report_student row = {0};
	json_object *v;

	copy(row.nik, sizeof(row.nik), s->nik);
	row.nama = s->nama;
	row.kelas = s->kelas;
	row.gender = s->gender;
	row.on_list = s->on_list;
	for (int i = 0; i < RETAS_FINGERS; i++)
		row.quality[i] = -1;
	if (s->record_id[0]) {
		row.status = RETAS_REPORT_RECORDED;
		copy(row.record_id, sizeof(row.record_id), s->record_id);
		rd_student_age(s, date, &row.record_only, &row.eligible_on);
		if (!row.record_only)
			row.eligible_on = (struct retas_date){0};
		if (json_object_object_get_ex(s->summary, "exceptions", &v))
			for (size_t i = 0; i < json_object_array_length(v) && i < RETAS_FINGERS;
			     i++) {
				json_object *x = json_object_array_get_idx(v, i), *a, *j;
				int reason;

				if (!json_object_object_get_ex(x, "jari", &j) ||
				    !json_object_object_get_ex(x, "alasan", &a))
					continue;
				reason = retas_finger_reason_from_id(json_object_get_string(a));
				if (reason < 0)
					continue;
				row.exceptions[row.n_exceptions].finger = json_object_get_int(j);
				row.exceptions[row.n_exceptions++].reason =
				    (enum retas_finger_reason)reason;
			}
		if (json_object_object_get_ex(s->summary, "quality", &v))
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				json_object *x = json_object_array_get_idx(v, i), *q, *j;
				int pos;

				if (!json_object_object_get_ex(x, "jari", &j) ||
				    !json_object_object_get_ex(x, "q", &q))
					continue;
				pos = json_object_get_int(j);
				if (pos >= 1 && pos <= RETAS_FINGERS)
					row.quality[pos - 1] = json_object_get_int(q);
			}
	} else {
		row.status = s->absent ? RETAS_REPORT_ABSENT : RETAS_REPORT_PENDING;
	}
	return retas_report_add_student(rep, &row, err);
}

struct incident_ctx {
	struct retas_report *rep;
	struct retas_error *err;
};

static int incident_row(int64_t at_ms, const char *reason, const char *detail, void *userdata)
{
	struct incident_ctx *c = userdata;
	struct retas_report_incident inc = {.at_ms = at_ms};
	json_object *o = json_tokener_parse(detail ? detail : "{}"), *e;
	char what[RETAS_REPORT_WHAT_MAX + 1];
	int r;

	copy(inc.device, sizeof(inc.device),
	     streq(reason, "capture.finger")  ? "fingerprint"
	     : streq(reason, "capture.photo") ? "camera"
					      : "signature");
	snprintf(what, sizeof(what), "%s: %s", reason,
		 o && json_object_object_get_ex(o, "error", &e) ? json_object_get_string(e) : "");
	inc.what = what;
	r = retas_report_add_incident(c->rep, &inc, c->err);
	json_object_put(o);
	return r;
}

int rd_report_build(struct rd_daemon *d, struct retas_report **out, struct retas_error *err)
{
	struct retas_report_header h;
	struct retas_report *rep = NULL;
	struct rd_roster roster = {0};
	struct retas_date date;
	const char *kname;
	int r;

	if (!d->st)
		return retas_error_set(err, -ENOENT, "assignment.none", "no surat tugas is loaded");
	retas_report_header_init(&h);
	rd_session_date(d, &date);
	copy(h.st_nomor, sizeof(h.st_nomor), d->st->nomor);
	h.st_tanggal = d->st->tanggal;
	copy(h.npsn, sizeof(h.npsn), d->st->sekolah.npsn);
	copy(h.sekolah, sizeof(h.sekolah), d->st->sekolah.nama);
	copy(h.kecamatan, sizeof(h.kecamatan), d->st->sekolah.kecamatan);
	kname = d->regions ? retas_regions_name(d->regions, d->st->sekolah.kecamatan) : NULL;
	copy(h.kecamatan_nama, sizeof(h.kecamatan_nama), kname ? kname : d->st->sekolah.kecamatan);
	for (size_t i = 0; i < d->st->n_petugas && i < RETAS_REPORT_MAX_OFFICERS; i++) {
		copy(h.petugas[i].nip, sizeof(h.petugas[i].nip), d->st->petugas[i].nip);
		copy(h.petugas[i].nama, sizeof(h.petugas[i].nama), d->st->petugas[i].nama);
		h.n_petugas++;
	}
	copy(h.van, sizeof(h.van), d->st->kendaraan.id);
	h.tanggal = date;
	if (d->have_session) {
		h.opened_ms = d->session.opened_at_ms;
		h.closed_ms = d->session.closed_at_ms;
	}
	r = retas_report_new(&h, &rep, err);
	if (r < 0)
		return r;
	r = rd_roster_load(d, &roster);
	if (r < 0) {
		retas_error_set(err, r, "internal.store", "the student list cannot be read");
		goto out;
	}
	for (size_t i = 0; r == 0 && i < roster.n; i++)
		r = student_row(rep, &roster.s[i], &date, err);
	if (r == 0 && d->have_session) {
		struct incident_ctx c = {rep, err};

		r = rd_audit_incidents(d->store, d->session.opened_at_ms, incident_row, &c);
	}
	if (r == 0)
		*out = steal_ptr(rep);
out:
	rd_roster_clear(&roster);
	retas_report_free(rep);
	return r;
}

static int write_file(const char *path, const void *data, size_t len)
{
	char tmp[4200];
	FILE *f;
	int r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wbe");
	if (!f)
		return -errno;
	if (fwrite(data, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) < 0)
		r = errno ? -errno : -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

struct rd_report_job {
	struct retas_report *rep;
	struct retas_sign_keypair device;
	char device_key_id[17];
	char dir[4096];
	char name[64];
	rd_report_done_fn done;
	void *userdata;
	struct retas_error err;
};

static void report_job_free(struct rd_report_job *j)
{
	retas_report_free(j->rep);
	sodium_memzero(&j->device, sizeof(j->device));
	free(j);
}

/* On the worker: touches only the job. */
static int report_write_work(void *arg)
{
	struct rd_report_job *j = arg;
	struct retas_error *err = &j->err;
	char path[4200], *jws = NULL, *csv = NULL;
	uint8_t *pdf = NULL;
	size_t csv_len = 0, pdf_len = 0;
	int pages = 0, r;

	r = retas_report_sign(j->rep, j->device.sk, j->device_key_id, &jws, err);
	if (r == 0)
		r = retas_report_to_csv(j->rep, &csv, &csv_len, err);
	if (r == 0)
		r = retas_report_pdf(j->rep, &pdf, &pdf_len, &pages, err);
	if (r < 0)
		goto out;
	if (mkdir(j->dir, 0750) < 0 && errno != EEXIST) {
		r = retas_error_set(err, -errno, "report.write", "cannot create %s", j->dir);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s.jws", j->dir, j->name);
	r = write_file(path, jws, strlen(jws));
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/%s.csv", j->dir, j->name);
		r = write_file(path, csv, csv_len);
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/%s.pdf", j->dir, j->name);
		r = write_file(path, pdf, pdf_len);
	}
	if (r < 0)
		retas_error_set(err, r, "report.write", "cannot write %s", path);
out:
	free(jws);
	free(csv);
	free(pdf);
	return r;
}

static void report_write_done(int result, void *arg)
{
	struct rd_report_job *j = arg;

	j->done(result, &j->err, j->userdata);
	report_job_free(j);
}

int rd_report_write(struct rd_daemon *d, const char *name, rd_report_done_fn done, void *userdata,
		    struct retas_error *err)
{
	struct rd_report_job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return retas_error_set(err, -ENOMEM, "report.write", "out of memory");
	r = rd_report_build(d, &j->rep, err);
	if (r < 0) {
		report_job_free(j);
		return r;
	}
	j->device = d->device;
	memcpy(j->device_key_id, d->device_key_id, sizeof(j->device_key_id));
	snprintf(j->dir, sizeof(j->dir), "%s/laporan", d->config->state_dir);
	snprintf(j->name, sizeof(j->name), "%s", name);
	j->done = done;
	j->userdata = userdata;
	/* Past the queue's limit: the draft must not be lost, and there is
	 * one per closed session. */
	r = rd_worker_submit_always(d->doc_worker, report_write_work, report_write_done, j);
	if (r < 0) {
		report_job_free(j);
		return retas_error_set(err, r, "report.write", "the document worker cannot take the report");
	}
	return 0;
}

/* ---- Report ---------------------------------------------------------------- */

static const struct rd_param report_params[] = {
    {"format", RD_PARAM_STRING, .optional = true, .max_len = 4},
    {NULL},
};

struct report_job {
	struct rd_call *call;
	struct retas_report *rep;
	char format[5];
	/* from the worker */
	char *data;
	struct retas_error err;
};

static int report_work(void *arg)
{
	struct report_job *j = arg;
	uint8_t *pdf = NULL;
	size_t len = 0;
	int pages = 0, r;

	if (streq(j->format, "json"))
		r = retas_report_to_json(j->rep, &j->data, &len, &j->err);
	else if (streq(j->format, "csv"))
		r = retas_report_to_csv(j->rep, &j->data, &len, &j->err);
	else {
		r = retas_report_pdf(j->rep, &pdf, &len, &pages, &j->err);
		if (r == 0)
			r = retas_b64url_encode(pdf, len, &j->data);
	}
	free(pdf);
	return r;
}

static void report_done(int result, void *arg)
{
	struct report_job *j = arg;

	if (result < 0) {
		rd_api_refuse(
		    j->call, NULL, "report.build",
		    RD_ARGS("detail", j->err.message[0] ? j->err.message : strerror(-result)));
	} else {
		json_object *answer = json_object_new_object();

		json_object_object_add(answer, "format", json_object_new_string(j->format));
		json_object_object_add(answer, "data", json_object_new_string(j->data));
		rd_call_reply(j->call, answer);
	}
	free(j->data);
	retas_report_free(j->rep);
	free(j);
}

static int report(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	json_object *fv = json_object_object_get(call->params, "format");
	const char *format = fv ? json_object_get_string(fv) : "json";
	struct report_job *j;
	int r;

	if (!streq(format, "json") && !streq(format, "csv") && !streq(format, "pdf"))
		return rd_api_refuse(call, NULL, "report.format", RD_ARGS("format", format));
	if (!d->st)
		return rd_api_refuse(call, NULL, "assignment.none", RD_NO_ARGS);
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->call = call;
	snprintf(j->format, sizeof(j->format), "%s", format);
	/* The model from the store here; its text or PDF on the worker. */
	r = rd_report_build(d, &j->rep, &j->err);
	if (r < 0) {
		report_done(r, j);
		return 0;
	}
	r = rd_worker_submit(d->doc_worker, report_work, report_done, j);
	if (r < 0) {
		retas_report_free(j->rep);
		free(j);
		/* Rendering here would stop the loop for as long as the PDF takes. */
		if (r == -EAGAIN)
			return rd_api_refuse(call, NULL, "document.queue-full", RD_NO_ARGS);
		return r;
	}
	return RD_CALL_PENDING;
}

const struct rd_method rd_api_report = {
    .interface = RD_INTERFACE,
    .name = "Report",
    .flags = RD_METHOD_NEEDS_LOGIN | RD_METHOD_READ_ONLY,
    .params = report_params,
    .handler = report,
};
