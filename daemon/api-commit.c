/*
 * EnrollCommit: the end of one student's enrolment. The captures become a
 * container (demografi.json as docs/sync-protocol.md §9 reads it, one ISO/IEC
 * 19794-4 record per captured finger, the photo, the signature as PNG and
 * as its time series), sealed to head office's key from the letter and
 * signed with the device key, chained to the van's previous record by
 * sequence number and hash. Building and sealing run on the worker (PNG
 * compression and encryption take a while); the loop then stores the
 * record, the student's index entry (for a student added on the spot),
 * the supersession of an earlier record on a redo and the audit row in
 * one transaction, and only after it committed answers with the record id
 * and the receipt token (docs/sync-protocol.md §8), and writes the receipt
 * PDF and PNG into the state directory (receipts/RECORD-ID.pdf/.png).
 * The receipt is rendered on the worker beside the sealing and written
 * there too, after the store committed: the loop never waits for a PDF
 * renderer or an fsync, so other connections are answered meanwhile.
 *
 * Receipt {nik} renders the receipt of a student's current record again,
 * on the document worker from a copy of what the store holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>
#include <unistd.h>

#include "api.h"
#include "sync.h"
#include "fp-iso.h"
#include "index.h"
#include "retas-b64.h"
#include "retas-log.h"
#include "retas-receipt.h"
#include "retas-record.h"
#include "retas-util.h"
#include "retas-uuid.h"
#include "sync-qr.h"

/* What a receipt shows, copied on the loop so the worker reads nothing the
 * loop owns. */
struct receipt_doc {
	char *nama, *nik, *sekolah, *npsn, *petugas_nama, *nip, *token;
	struct retas_date tanggal, eligible_on;
	bool record_only;
};

struct commit_job {
	struct rd_call *call;
	struct rd_daemon *d;
	struct rd_enrolment *e; /* borrowed: e->committing keeps it still */
	struct retas_record_header h;
	bool has_prev;
	struct retas_date date;
	char npsn[9];
	uint8_t hq_seal_pk[32];
	struct retas_sign_keypair device;
	bool record_only;
	struct retas_date eligible_on;

	/* from the worker */
	uint8_t *sealed;
	size_t sealed_len;
	uint8_t hash[32];
	char *token;
	struct retas_error err;
	/* the receipt, rendered after sealing; a failure is only logged */
	struct receipt_doc doc;
	uint8_t *pdf, *png;
	size_t pdf_len, png_len;
	int receipt_r;
	struct retas_error receipt_err;
	/* the answer, completed with the receipt's paths once written */
	json_object *answer;
	char record_id[37];
	char dir[4096];
	char pdf_path[4200], png_path[4200];
};

static const struct rd_param commit_params[] = {
    {"id", RD_PARAM_STRING, .max_len = 36},
    {NULL},
};

static const struct rd_param receipt_params[] = {
    {"nik", RD_PARAM_STRING, .max_len = 16},
    {"format", RD_PARAM_STRING, .optional = true, .max_len = 3},
    {NULL},
};

static json_object *demografi(const struct commit_job *j)
{
	const struct rd_enrolment *e = j->e;
	json_object *o = json_object_new_object(), *ex = json_object_new_array();
	char birth[11], jk[2] = {(char)e->gender, '\0'};

	retas_date_format(&e->birth, birth);
	json_object_object_add(o, "nik", json_object_new_string(e->nik));
	json_object_object_add(o, "nama", json_object_new_string(e->nama));
	json_object_object_add(o, "jenis_kelamin", json_object_new_string(jk));
	json_object_object_add(o, "tanggal_lahir", json_object_new_string(birth));
	json_object_object_add(o, "kelas", json_object_new_string(e->kelas));
	json_object_object_add(o, "npsn", json_object_new_string(j->npsn));
	for (int pos = 1; pos <= 10; pos++) {
		json_object *x;

		if (e->fingers[pos].state != RD_FINGER_EXCEPTION)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "jari", json_object_new_int(pos));
		json_object_object_add(x, "alasan", json_object_new_string(e->fingers[pos].reason));
		json_object_array_add(ex, x);
	}
	json_object_object_add(o, "pengecualian", ex);
	return o;
}

static int add_finger(struct retas_container *c, const struct rd_enrolment *e, int pos,
		      struct retas_error *err)
{
	const struct rd_finger *f = &e->fingers[pos];
	struct fp_capture_result res = {.image = f->image, .quality = f->quality,
					.attempts = f->attempts};
	struct fp_iso_view view;
	uint8_t *iso = NULL;
	size_t len = 0;
	char name[16];
	int r;

	fp_iso_view_init(&view, &e->reader, &res, (uint8_t)pos, f->captured_at_ms);
	r = fp_iso_write(&view, 1, &iso, &len, err);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "jari-%02d.iso", pos);
	r = retas_container_add(c, name, "application/x-iso19794-4", iso, len);
	free(iso);
	return r;
}

static const char *officer_name(const struct rd_daemon *d, const char *nip)
{
	int i = rd_state_petugas_index(d, nip);

	return i >= 0 ? d->st->petugas[i].nama : nip;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static void receipt_doc_clear(struct receipt_doc *doc)
{
	free(doc->nama);
	free(doc->nik);
	free(doc->sekolah);
	free(doc->npsn);
	free(doc->petugas_nama);
	free(doc->nip);
	free(doc->token);
	*doc = (struct receipt_doc){0};
}

/* Copies what the receipt of one record shows (token may be NULL, to be
 * set later). Runs on the loop: it reads the letter. */
static int receipt_doc_init(struct receipt_doc *doc, const struct rd_daemon *d, const char *nama,
			    const char *nik, const struct retas_date *date, const char *nip,
			    bool record_only, const struct retas_date *eligible_on,
			    const char *token)
{
	*doc = (struct receipt_doc){
	    .nama = dup_or_empty(nama),
	    .nik = dup_or_empty(nik),
	    .sekolah = dup_or_empty(d->st->sekolah.nama),
	    .npsn = dup_or_empty(d->st->sekolah.npsn),
	    .petugas_nama = dup_or_empty(officer_name(d, nip)),
	    .nip = dup_or_empty(nip),
	    .token = token ? strdup(token) : NULL,
	    .tanggal = *date,
	    .record_only = record_only,
	};
	if (record_only)
		doc->eligible_on = *eligible_on;
	if (!doc->nama || !doc->nik || !doc->sekolah || !doc->npsn || !doc->petugas_nama ||
	    !doc->nip || (token && !doc->token)) {
		receipt_doc_clear(doc);
		return -ENOMEM;
	}
	return 0;
}

/* Renders the receipt into new buffers (pdf or png may be NULL). Touches
 * nothing but doc: safe on the worker. */
static int receipt_render(const struct receipt_doc *doc, uint8_t **pdf, size_t *pdf_len,
			  uint8_t **png, size_t *png_len, struct retas_error *err)
{
	struct retas_receipt rc = {
	    .nama = doc->nama,
	    .nik = doc->nik,
	    .sekolah = doc->sekolah,
	    .npsn = doc->npsn,
	    .tanggal = doc->tanggal,
	    .petugas_nama = doc->petugas_nama,
	    .petugas_nip = doc->nip,
	    .record_only = doc->record_only,
	    .token = doc->token,
	};
	int r = 0;

	if (doc->record_only)
		rc.eligible_on = doc->eligible_on;
	if (pdf)
		r = retas_receipt_pdf(&rc, pdf, pdf_len, err);
	if (r == 0 && png)
		r = retas_receipt_png(&rc, png, png_len, err);
	return r;
}

static int commit_work(void *arg)
{
	struct commit_job *j = arg;
	const struct rd_enrolment *e = j->e;
	struct retas_container *c = NULL;
	struct sig_render_opts ro;
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *json;
	json_object *demo = NULL;
	struct sync_qr q = {0};
	int r;

	r = retas_container_new(&c);
	if (r < 0)
		goto out;
	demo = demografi(j);
	json = json_object_to_json_string_ext(demo, JSON_C_TO_STRING_PLAIN);
	r = retas_container_add(c, "demografi.json", "application/json", json, strlen(json));
	for (int pos = 1; r == 0 && pos <= 10; pos++)
		if (e->fingers[pos].state == RD_FINGER_CAPTURED)
			r = add_finger(c, e, pos, &j->err);
	if (r == 0)
		r = retas_container_add(c, "foto.jpg", "image/jpeg", e->photo.jpeg, e->photo.size);
	sig_render_opts_defaults(&ro);
	if (r == 0)
		r = sig_render_png(e->signature, &ro, &buf, &len, &j->err);
	if (r == 0)
		r = retas_container_add(c, "tanda-tangan.png", "image/png", buf, len);
	free(buf);
	buf = NULL;
	if (r == 0)
		r = sig_series_encode(e->signature, &buf, &len);
	if (r == 0)
		r = retas_container_add(c, "tanda-tangan.series", "application/x-retas-sig-series",
					buf, len);
	free(buf);
	if (r == 0)
		r = retas_record_seal(&j->h, c, j->hq_seal_pk, j->device.sk, &j->sealed,
				      &j->sealed_len, &j->err);
	if (r < 0)
		goto out;
	retas_record_hash(j->sealed, j->sealed_len, j->hash);
	memcpy(q.record_id, j->h.id, 16);
	memcpy(q.npsn, j->npsn, sizeof(q.npsn));
	q.date = j->date;
	memcpy(q.record_hash, j->hash, 32);
	r = sync_qr_make(&q, j->device.pk, j->device.sk, &j->token);
	if (r == 0) {
		j->doc.token = j->token;
		j->receipt_r = receipt_render(&j->doc, &j->pdf, &j->pdf_len, &j->png, &j->png_len,
					      &j->receipt_err);
		j->doc.token = NULL;
	}
out:
	json_object_put(demo);
	retas_container_free(c);
	return r;
}

/* The summary the store keeps beside the sealed record: what the report
 * needs, nothing that identifies the student. */
static json_object *summary_of(const struct commit_job *j)
{
	const struct rd_enrolment *e = j->e;
	json_object *o = json_object_new_object(), *ex = json_object_new_array(),
		    *q = json_object_new_array();
	char date[11];

	for (int pos = 1; pos <= 10; pos++) {
		const struct rd_finger *f = &e->fingers[pos];
		json_object *x = json_object_new_object();

		json_object_object_add(x, "jari", json_object_new_int(pos));
		if (f->state == RD_FINGER_EXCEPTION) {
			json_object_object_add(x, "alasan", json_object_new_string(f->reason));
			json_object_array_add(ex, x);
		} else if (f->state == RD_FINGER_CAPTURED) {
			json_object_object_add(x, "q", json_object_new_int((int)f->quality));
			json_object_object_add(x, "attempts", json_object_new_int((int)f->attempts));
			json_object_array_add(q, x);
		} else {
			json_object_put(x);
		}
	}
	retas_date_format(&j->date, date);
	json_object_object_add(o, "exceptions", ex);
	json_object_object_add(o, "quality", q);
	json_object_object_add(o, "record_only", json_object_new_boolean(j->record_only));
	json_object_object_add(o, "date", json_object_new_string(date));
	json_object_object_add(o, "petugas", json_object_new_string(j->h.officer_nip));
	json_object_object_add(o, "photo_takes", json_object_new_int((int)e->photo_takes));
	json_object_object_add(o, "signature_takes", json_object_new_int((int)e->signature_takes));
	if (e->redo)
		json_object_object_add(o, "redo_reason", json_object_new_string(e->reason));
	return o;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	char tmp[4200];
	int fd, r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len && r == 0;) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* Writes the rendered receipt on the worker; the paths written go into
 * pdf_path/png_path, empty when not written. */
static int receipts_write_work(void *arg)
{
	struct commit_job *j = arg;
	int r = j->receipt_r;

	if (r == 0 && mkdir(j->dir, 0750) < 0 && errno != EEXIST) {
		r = -errno;
		retas_error_set(&j->receipt_err, r, "receipt.write", "cannot create %s", j->dir);
	}
	if (r == 0) {
		snprintf(j->pdf_path, sizeof(j->pdf_path), "%s/%s.pdf", j->dir, j->record_id);
		r = write_file(j->pdf_path, j->pdf, j->pdf_len);
		if (r < 0)
			j->pdf_path[0] = '\0';
	}
	if (r == 0) {
		snprintf(j->png_path, sizeof(j->png_path), "%s/%s.png", j->dir, j->record_id);
		r = write_file(j->png_path, j->png, j->png_len);
		if (r < 0)
			j->png_path[0] = '\0';
	}
	return r;
}

static void commit_job_free(struct commit_job *j)
{
	free(j->sealed);
	free(j->token);
	free(j->pdf);
	free(j->png);
	receipt_doc_clear(&j->doc);
	json_object_put(j->answer);
	sodium_memzero(&j->device, sizeof(j->device));
	free(j);
}

/* Back on the loop with the receipt written (or not): the commit's answer. */
static void receipts_write_done(int result, void *arg)
{
	struct commit_job *j = arg;
	struct rd_daemon *d = j->d;

	if (j->pdf_path[0])
		json_object_object_add(j->answer, "receipt_pdf",
				       json_object_new_string(j->pdf_path));
	if (j->png_path[0])
		json_object_object_add(j->answer, "receipt_png",
				       json_object_new_string(j->png_path));
	if (result < 0)
		log_error("the receipt of record %s could not be written: %s", j->record_id,
			  j->receipt_err.message[0] ? j->receipt_err.message : strerror(-result));
	rd_call_reply(j->call, steal_ptr(j->answer));
	/* A new record is something to send: upload now if head office is
	 * reachable, rather than wait for the next probe. */
	if (d->sync)
		rd_sync_poke(d->sync);
	commit_job_free(j);
}

/* Stores the sealed record; 0 or a negative errno (rolled back). */
static int store_record(struct commit_job *j, const char *record_id, json_object *detail)
{
	struct rd_daemon *d = j->d;
	struct rd_enrolment *e = j->e;
	struct rd_store_record rec = {0};
	json_object *summary = summary_of(j);
	uint8_t nik_hash[32], *sealed_index = NULL;
	size_t sealed_index_len = 0;
	int64_t student_id = 0;
	int r;

	rd_index_nik_hash(d->local_key, e->nik, nik_hash);
	r = rd_store_txn_begin(d->store);
	if (r < 0)
		goto out;
	r = rd_store_student_find(d->store, d->assignment_id, nik_hash, &student_id);
	if (r == -ENOENT) {
		json_object *entry = rd_index_entry(e->nik, e->nama, e->kelas, e->gender, &e->birth);

		r = rd_index_seal(d->local_key, entry, &sealed_index, &sealed_index_len);
		json_object_put(entry);
		if (r == 0)
			r = rd_store_student_insert(d->store, d->assignment_id, nik_hash,
						    sealed_index, sealed_index_len, false,
						    rd_daemon_now(d), &student_id);
	}
	if (r == 0 && e->redo)
		r = rd_store_record_supersede(d->store, student_id, record_id);
	if (r == 0) {
		memcpy(rec.id, record_id, sizeof(rec.id));
		rec.session_id = d->session.id;
		rec.seq = (int64_t)j->h.seq;
		rec.has_prev = j->has_prev;
		memcpy(rec.prev_hash, j->h.prev_hash, 32);
		memcpy(rec.hash, j->hash, 32);
		rec.sealed = j->sealed;
		rec.sealed_len = j->sealed_len;
		rec.created_at_ms = j->h.created_ms;
		rec.student_id = student_id;
		rec.summary = json_object_to_json_string_ext(summary, JSON_C_TO_STRING_PLAIN);
		rec.token = j->token;
		r = rd_store_record_insert(d->store, &rec);
	}
	if (r == 0)
		r = rd_api_audit(j->call, "ok", "", detail);
	if (r == 0)
		r = rd_store_txn_commit(d->store);
	else
		rd_store_txn_rollback(d->store);
out:
	free(sealed_index);
	json_object_put(summary);
	return r;
}

static void commit_done(int result, void *arg)
{
	struct commit_job *j = arg;
	struct rd_daemon *d = j->d;
	char record_id[37], seq[24];
	json_object *detail, *answer;
	int r;

	j->e->committing = false;
	retas_uuid_format(j->h.id, record_id);
	if (j->e->orphaned) {
		/* abandoned (session closed, EnrollAbort) while sealing */
		rd_enrolment_free(j->e);
		rd_api_refuse(j->call, NULL, "enroll.cancelled", RD_ARGS("detail", "abandoned"));
		goto out;
	}
	if (result < 0 || d->enrol != j->e) {
		rd_api_refuse(j->call, NULL, "enroll.seal",
			      RD_ARGS("detail", j->err.message[0] ? j->err.message
								 : strerror(result < 0 ? -result
										       : ECANCELED)));
		goto out;
	}
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)j->h.seq);
	detail = json_object_new_object();
	json_object_object_add(detail, "enrolment", json_object_new_string(j->e->id));
	json_object_object_add(detail, "record", json_object_new_string(record_id));
	json_object_object_add(detail, "seq", json_object_new_int64((int64_t)j->h.seq));
	json_object_object_add(detail, "redo", json_object_new_boolean(j->e->redo));
	r = store_record(j, record_id, detail);
	json_object_put(detail);
	if (r < 0) {
		rd_api_store_failed(j->call, r);
		goto out;
	}
	log_info("enrolment %s committed as record %s (seq %s)", j->e->id, record_id, seq);
	answer = json_object_new_object();
	json_object_object_add(answer, "record_id", json_object_new_string(record_id));
	json_object_object_add(answer, "seq", json_object_new_int64((int64_t)j->h.seq));
	json_object_object_add(answer, "token", json_object_new_string(j->token));
	json_object_object_add(answer, "record_only", json_object_new_boolean(j->record_only));
	rd_enrolment_free(d->enrol);
	d->enrol = NULL;
	j->e = NULL;
	j->answer = answer;
	memcpy(j->record_id, record_id, sizeof(j->record_id));
	snprintf(j->dir, sizeof(j->dir), "%s/receipts", d->config->state_dir);
	/* The record is stored; its receipt is written on the worker, past
	 * the queue's limit (one per commit, and one commit at a time), and
	 * here only when even that fails, since the record must not lose it. */
	if (rd_worker_submit_always(d->worker, receipts_write_work, receipts_write_done, j) < 0)
		receipts_write_done(receipts_write_work(j), j);
	return;
out:
	commit_job_free(j);
}

/* The first finger of the letter's list that is neither captured nor an
 * exception, 0 when all are done. */
static int missing_finger(const struct rd_daemon *d, const struct rd_enrolment *e)
{
	for (size_t i = 0; i < d->st->n_jari; i++)
		if (e->fingers[d->st->jari[i]].state == RD_FINGER_NONE)
			return d->st->jari[i];
	return 0;
}

static int enroll_commit(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	json_object *idv = json_object_object_get(call->params, "id");
	const char *id = json_object_get_string(idv);
	struct rd_enrolment *e = d->enrol;
	struct commit_job *j;
	struct rd_student view;
	int64_t last_seq = 0;
	int pos, r;

	if (!e || !streq(e->id, id))
		return rd_api_refuse(call, NULL, "enroll.unknown", RD_ARGS("id", id));
	if (e->capture || e->committing)
		return rd_api_refuse(call, NULL, "enroll.capturing", RD_NO_ARGS);
	/* Outside the window no record is made; the captures stay, so a
	 * clock set right lets the same enrolment commit. */
	if (rd_api_refuse_outside_window(call, d) || rd_api_refuse_clock_behind(call, d))
		return 0;
	pos = missing_finger(d, e);
	if (pos)
		return rd_api_refuse(call, NULL, "enroll.incomplete",
				     RD_ARGS("missing", rd_finger_name(pos)));
	if (!e->photo.jpeg)
		return rd_api_refuse(call, NULL, "enroll.incomplete", RD_ARGS("missing", "foto"));
	if (!e->signature)
		return rd_api_refuse(call, NULL, "enroll.incomplete",
				     RD_ARGS("missing", "tanda tangan"));
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->call = call;
	j->d = d;
	j->e = e;
	r = rd_store_record_last(d->store, &last_seq, j->h.prev_hash);
	if (r == 0)
		j->has_prev = true;
	else if (r != -ENOENT) {
		free(j);
		return rd_api_store_failed(call, r);
	}
	j->h.seq = (uint64_t)last_seq + 1;
	j->h.created_ms = rd_daemon_now(d);
	{
		uint8_t uuid[16];

		retas_uuid7_new(j->h.created_ms, uuid);
		memcpy(j->h.id, uuid, 16);
	}
	snprintf(j->h.st_nomor, sizeof(j->h.st_nomor), "%s", d->st->nomor);
	snprintf(j->h.device_id, sizeof(j->h.device_id), "%s", d->st->kendaraan.id);
	memcpy(j->h.officer_nip, d->login.nip, sizeof(j->h.officer_nip));
	rd_session_date(d, &j->date);
	memcpy(j->npsn, d->st->sekolah.npsn, sizeof(j->npsn));
	memcpy(j->hq_seal_pk, d->st->hq.seal_key, 32);
	j->device = d->device;
	view = (struct rd_student){.gender = e->gender, .birth = e->birth};
	rd_student_age(&view, &j->date, &j->record_only, &j->eligible_on);
	r = receipt_doc_init(&j->doc, d, e->nama, e->nik, &j->date, j->h.officer_nip,
			     j->record_only, &j->eligible_on, NULL);
	if (r == 0)
		r = rd_worker_submit(d->worker, commit_work, commit_done, j);
	if (r < 0) {
		commit_job_free(j);
		return r == -EAGAIN ? rd_api_refuse(call, NULL, "enroll.busy", RD_NO_ARGS) : r;
	}
	e->committing = true;
	return RD_CALL_PENDING;
}

/* ---- Receipt -------------------------------------------------------------- */

struct receipt_job {
	struct rd_call *call;
	struct receipt_doc doc;
	bool png;
	char record_id[37];
	/* from the worker */
	char *b64;
	struct retas_error err;
};

static int receipt_work(void *arg)
{
	struct receipt_job *j = arg;
	uint8_t *doc = NULL;
	size_t len = 0;
	int r;

	r = receipt_render(&j->doc, j->png ? NULL : &doc, &len, j->png ? &doc : NULL, &len,
			   &j->err);
	if (r == 0)
		r = retas_b64url_encode(doc, len, &j->b64);
	free(doc);
	return r;
}

static void receipt_done(int result, void *arg)
{
	struct receipt_job *j = arg;

	if (result < 0) {
		rd_api_refuse(j->call, NULL, "receipt.render",
			      RD_ARGS("detail", j->err.message[0] ? j->err.message
								 : strerror(-result)));
	} else {
		json_object *answer = json_object_new_object();

		json_object_object_add(answer, "record_id", json_object_new_string(j->record_id));
		json_object_object_add(answer, "token", json_object_new_string(j->doc.token));
		json_object_object_add(answer, "format",
				       json_object_new_string(j->png ? "png" : "pdf"));
		json_object_object_add(answer, "data", json_object_new_string(j->b64));
		rd_call_reply(j->call, answer);
	}
	free(j->b64);
	receipt_doc_clear(&j->doc);
	free(j);
}

static int receipt(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	const char *nik = json_object_get_string(json_object_object_get(call->params, "nik"));
	json_object *fv = json_object_object_get(call->params, "format");
	const char *format = fv ? json_object_get_string(fv) : "pdf";
	struct rd_roster roster = {0};
	struct receipt_job *j = NULL;
	struct rd_student *s;
	struct retas_date date, elig;
	json_object *v;
	char masked[17];
	bool record_only = false;
	const char *nip;
	int r;

	retas_nik_mask(nik, masked);
	if (!d->st)
		return rd_api_refuse(call, NULL, "assignment.none", RD_NO_ARGS);
	if (!streq(format, "pdf") && !streq(format, "png"))
		return rd_api_refuse(call, NULL, "receipt.format", RD_ARGS("format", format));
	r = rd_roster_load(d, &roster);
	if (r < 0)
		return rd_api_store_failed(call, r);
	s = rd_roster_find(&roster, nik);
	if (!s || !s->record_id[0]) {
		rd_roster_clear(&roster);
		return rd_api_refuse(call, NULL, "receipt.none", RD_ARGS("nik", masked));
	}
	rd_session_date(d, &date);
	if (s->summary && json_object_object_get_ex(s->summary, "date", &v))
		retas_date_parse(json_object_get_string(v), &date);
	nip = s->summary && json_object_object_get_ex(s->summary, "petugas", &v)
		  ? json_object_get_string(v)
		  : d->login.nip;
	rd_student_age(s, &date, &record_only, &elig);
	/* The store is read here, on the loop; the rendering runs on the
	 * worker from a copy. */
	j = calloc(1, sizeof(*j));
	r = j ? receipt_doc_init(&j->doc, d, s->nama, s->nik, &date, nip, record_only, &elig,
				 s->token ? s->token : "")
	      : -ENOMEM;
	if (r == 0) {
		j->call = call;
		j->png = streq(format, "png");
		snprintf(j->record_id, sizeof(j->record_id), "%s", s->record_id);
	}
	rd_roster_clear(&roster);
	if (r < 0) {
		free(j);
		return r;
	}
	r = rd_worker_submit(d->doc_worker, receipt_work, receipt_done, j);
	if (r < 0) {
		receipt_doc_clear(&j->doc);
		free(j);
		/* Rendering here would stop the loop for as long as it takes. */
		if (r == -EAGAIN)
			return rd_api_refuse(call, NULL, "document.queue-full", RD_NO_ARGS);
		return r;
	}
	return RD_CALL_PENDING;
}

const struct rd_method rd_api_enroll_commit = {
    .interface = RD_INTERFACE,
    .name = "EnrollCommit",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .params = commit_params,
    .handler = enroll_commit,
};

const struct rd_method rd_api_receipt = {
    .interface = RD_INTERFACE,
    .name = "Receipt",
    .flags = RD_METHOD_NEEDS_LOGIN | RD_METHOD_READ_ONLY,
    .params = receipt_params,
    .handler = receipt,
};
