/*
 * The outbox: the one batch at a time that waits for head office. A batch
 * is built from the records no receipt has settled, in sequence order, with
 * the audit rows no batch has shipped and, once the session is closed, the
 * draft report; its manifest is signed with the device key. The file is
 * written and synced under state_dir/outbox before its row commits, so
 * after a crash either both exist or the file is an orphan that
 * rd_outbox_tidy removes; a restart finds the pending row and uploads the
 * very same bytes again from where head office stands. Only a receipt that
 * verifies against hq.sign_key settles records.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "retas-json.h"
#include "retas-log.h"
#include "retas-manifest.h"
#include "retas-record.h"
#include "retas-util.h"
#include "report.h"
#include "sync-batch.h"
#include "sync-receipt.h"
#include "sync.h"

#define OUTBOX_DIR "outbox"

static int prep(struct rd_daemon *d, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(rd_store_db(d->store), sql, -1, st, NULL);

	if (rc != SQLITE_OK) {
		log_debug("sync: %s: %s", sql, sqlite3_errmsg(rd_store_db(d->store)));
		return rd_store_errno(rc);
	}
	return 0;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : rd_store_errno(rc);
}

static int outbox_dir(struct rd_daemon *d, char *buf, size_t size, bool create)
{
	int n = snprintf(buf, size, "%s/" OUTBOX_DIR, d->config->state_dir);

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	/* Made with the first batch only: an idle van's state directory holds
	 * nothing of sync. */
	if (create && mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int batch_path(struct rd_daemon *d, const char *batch_id, char *buf, size_t size)
{
	char dir[400];
	int r = outbox_dir(d, dir, sizeof(dir), false), n;

	if (r < 0)
		return r;
	n = snprintf(buf, size, "%s/%s" SYNC_BATCH_EXT, dir, batch_id);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

int rd_outbox_pending(struct rd_daemon *d, struct rd_outbox_batch *out)
{
	sqlite3_stmt *st = NULL;
	struct rd_outbox_batch b = {0};
	int r, rc;

	r = prep(d, "SELECT id, batch_id, device_id, size, n_records FROM sync_batch "
		    "WHERE state = 'pending'", &st);
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		b.row = sqlite3_column_int64(st, 0);
		copy_col(b.batch_id, sizeof(b.batch_id), st, 1);
		copy_col(b.device_id, sizeof(b.device_id), st, 2);
		b.size = sqlite3_column_int64(st, 3);
		b.n_records = sqlite3_column_int64(st, 4);
		r = batch_path(d, b.batch_id, b.path, sizeof(b.path));
		if (r == 0)
			*out = b;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : rd_store_errno(rc);
	}
	sqlite3_finalize(st);
	return r;
}

/* The draft report when the session is closed and no batch carried it
 * since the close; NULL otherwise. Built from the store, as CloseSession and
 * Report build it, so the batch carries the same report the officer saw. */
static json_object *draft_report(struct rd_daemon *d)
{
	struct retas_error err = {0};
	struct retas_report *rep = NULL;
	json_object *o = NULL;
	sqlite3_stmt *st = NULL;
	bool carried = true;

	if (!d->have_session || !d->session.closed_at_ms)
		return NULL;
	if (prep(d, "SELECT count(*) FROM sync_batch WHERE has_report = 1 AND "
		    "state != 'rejected' AND created_at >= ?", &st) < 0)
		return NULL;
	sqlite3_bind_int64(st, 1, d->session.closed_at_ms);
	if (sqlite3_step(st) == SQLITE_ROW)
		carried = sqlite3_column_int64(st, 0) > 0;
	sqlite3_finalize(st);
	if (carried)
		return NULL;
	if (rd_report_build(d, &rep, &err) < 0 || retas_report_json_object(rep, &o, &err) < 0) {
		log_warning("sync: the draft report cannot be built (%s); the batch goes without it",
			    err.message);
		o = NULL;
	}
	retas_report_free(rep);
	return o;
}

/* Appends the audit rows after `after` to m; *last is the last one added. */
static int add_audit(struct rd_daemon *d, struct retas_manifest *m, int64_t after, int64_t *last)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*last = after;
	r = prep(d, "SELECT id, at, event, outcome, reason, uid, pid, detail, hex(prev), hex(hash) "
		    "FROM audit WHERE id > ? ORDER BY id", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *row = json_object_new_object(), *detail = NULL;
		const char *dt = (const char *)sqlite3_column_text(st, 7);
		char prev[65], hash[65];

		if (!row) {
			r = -ENOMEM;
			break;
		}
		copy_col(prev, sizeof(prev), st, 8);
		copy_col(hash, sizeof(hash), st, 9);
		for (char *p = prev; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
		for (char *p = hash; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
		json_object_object_add(row, "id", json_object_new_int64(sqlite3_column_int64(st, 0)));
		json_object_object_add(row, "at", json_object_new_int64(sqlite3_column_int64(st, 1)));
		json_object_object_add(row, "event", json_object_new_string(
							 (const char *)sqlite3_column_text(st, 2)));
		json_object_object_add(row, "outcome", json_object_new_string(
							   (const char *)sqlite3_column_text(st, 3)));
		json_object_object_add(row, "reason", json_object_new_string(
							  (const char *)sqlite3_column_text(st, 4)));
		json_object_object_add(row, "uid", json_object_new_int64(sqlite3_column_int64(st, 5)));
		json_object_object_add(row, "pid", json_object_new_int64(sqlite3_column_int64(st, 6)));
		if (dt && retas_json_parse(dt, strlen(dt), &detail) == 0)
			json_object_object_add(row, "detail", detail);
		json_object_object_add(row, "prev", json_object_new_string(prev));
		json_object_object_add(row, "hash", json_object_new_string(hash));
		r = retas_manifest_add_audit(m, row);
		if (r < 0)
			break;
		*last = sqlite3_column_int64(st, 0);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = rd_store_errno(rc);
	sqlite3_finalize(st);
	return r;
}

static int write_durably(const char *dir, const char *path, const uint8_t *buf, size_t len)
{
	char tmp[600];
	int fd = -1, dfd = -1, r = 0;
	size_t off = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || rename(tmp, path) < 0) {
		r = -errno;
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (r < 0)
		unlink(tmp);
	return r;
}

struct staged {
	uint8_t **recs;
	size_t *lens;
	char (*ids)[37];
	size_t n, cap;
};

static void staged_clear(struct staged *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->recs[i]);
	free(s->recs);
	free(s->lens);
	free(s->ids);
	*s = (struct staged){0};
}

static int staged_push(struct staged *s, const void *rec, size_t len, const char *id)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint8_t **r = realloc(s->recs, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		s->recs = r;
		size_t *l = realloc(s->lens, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		s->lens = l;
		char(*i)[37] = realloc(s->ids, cap * sizeof(*i));
		if (!i)
			return -ENOMEM;
		s->ids = i;
		s->cap = cap;
	}
	s->recs[s->n] = malloc(len);
	if (!s->recs[s->n])
		return -ENOMEM;
	memcpy(s->recs[s->n], rec, len);
	s->lens[s->n] = len;
	snprintf(s->ids[s->n], 37, "%s", id);
	s->n++;
	return 0;
}

/* Reads the unsettled records into the manifest, in sequence order. */
static int gather(struct rd_daemon *d, struct retas_manifest **mp, struct staged *sg,
		  struct retas_error *err)
{
	sqlite3_stmt *st = NULL;
	uint64_t limit = (uint64_t)d->config->sync_batch_mib * 1024 * 1024, total = 0;
	int r, rc;

	r = prep(d, "SELECT id, sealed FROM record WHERE acked_at IS NULL AND quarantine IS NULL "
		    "AND purged_at IS NULL AND id NOT IN (SELECT record_id FROM sync_batch_record "
		    "JOIN sync_batch ON sync_batch.id = batch WHERE state IN ('pending', 'rejected')) "
		    "ORDER BY seq",
		 &st);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const uint8_t *rec = sqlite3_column_blob(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		struct retas_error e = {0};

		if (sg->n > 0 && total + len > limit)
			break;
		if (!*mp) {
			struct retas_record_header h;

			if (retas_record_read_header(rec, len, &h, &e) < 0) {
				r = retas_error_set(err, e.code, e.reason, "record %s: %s", id,
						    e.message);
				break;
			}
			r = retas_manifest_new(h.device_id, h.st_nomor, rd_daemon_now(d), mp);
			if (r < 0) {
				retas_error_set(err, r, "sync.local", "cannot start a manifest");
				break;
			}
		}
		r = retas_manifest_add_record(*mp, rec, len, &e);
		if (r < 0) {
			/* Another letter's records go in the next batch. */
			if (sg->n > 0 && (streq(e.reason, "manifest.record_surat_tugas") ||
					  streq(e.reason, "manifest.record_device"))) {
				r = 0;
				break;
			}
			retas_error_set(err, r, e.reason, "record %s: %s", id, e.message);
			break;
		}
		r = staged_push(sg, rec, len, id);
		if (r < 0)
			break;
		total += len;
	}
	if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = rd_store_errno(rc);
	sqlite3_finalize(st);
	return r;
}

static int insert_batch(struct rd_daemon *d, const struct retas_manifest *m, size_t size,
			const struct staged *sg, int64_t audit_to, bool has_report, int64_t *row)
{
	sqlite3_stmt *st = NULL;
	int r;

	r = rd_store_txn_begin(d->store);
	if (r < 0)
		return r;
	r = prep(d, "INSERT INTO sync_batch (batch_id, device_id, size, n_records, audit_to, "
		    "has_report, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", &st);
	if (r < 0)
		goto out;
	sqlite3_bind_text(st, 1, m->batch_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->device_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)size);
	sqlite3_bind_int64(st, 4, (int64_t)sg->n);
	sqlite3_bind_int64(st, 5, audit_to);
	sqlite3_bind_int(st, 6, has_report);
	sqlite3_bind_int64(st, 7, rd_daemon_now(d));
	r = step_done(st);
	sqlite3_finalize(st);
	st = NULL;
	if (r < 0)
		goto out;
	*row = sqlite3_last_insert_rowid(rd_store_db(d->store));
	r = prep(d, "INSERT INTO sync_batch_record (batch, record_id, position) VALUES (?, ?, ?)",
		 &st);
	for (size_t i = 0; r == 0 && i < sg->n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, *row);
		sqlite3_bind_text(st, 2, sg->ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (int64_t)i);
		r = step_done(st);
	}
	sqlite3_finalize(st);
	if (r == 0)
		r = rd_store_txn_commit(d->store);
out:
	if (r < 0)
		rd_store_txn_rollback(d->store);
	return r;
}

static int64_t audit_shipped(struct rd_daemon *d)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;

	if (prep(d, "SELECT coalesce(max(audit_to), 0) FROM sync_batch WHERE state != 'rejected'",
		 &st) < 0)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int rd_outbox_stage(struct rd_daemon *d, struct rd_outbox_batch *out, struct retas_error *err)
{
	struct retas_manifest *m = NULL;
	struct staged sg = {0};
	json_object *report = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	char *jws = NULL, dir[400];
	int64_t audit_to = 0, row = 0;
	struct rd_outbox_batch b = {0};
	int r;

	r = rd_outbox_pending(d, out);
	if (r != -ENOENT) {
		if (r < 0)
			retas_error_set(err, r, "sync.store", "cannot read the outbox: %s",
					strerror(-r));
		return r;
	}
	r = gather(d, &m, &sg, err);
	if (r < 0)
		goto out;
	report = draft_report(d);
	if (!m && report && d->st) {
		r = retas_manifest_new(d->st->kendaraan.id, d->st->nomor, rd_daemon_now(d), &m);
		if (r < 0) {
			retas_error_set(err, r, "sync.local", "cannot start a manifest");
			goto out;
		}
	}
	if (!m) {
		r = -ENOENT;
		retas_error_set(err, r, "sync.nothing", "nothing waits for head office");
		goto out;
	}
	if (report) {
		retas_manifest_set_report(m, report);
		report = NULL;
	}
	r = add_audit(d, m, audit_shipped(d), &audit_to);
	if (r < 0) {
		retas_error_set(err, r, "sync.store", "cannot read the audit log");
		goto out;
	}
	r = retas_manifest_sign(m, d->device.sk, &jws, err);
	if (r < 0)
		goto out;
	r = sync_batch_encode(jws, strlen(jws), (const uint8_t *const *)sg.recs, sg.lens, sg.n,
			      &buf, &len);
	if (r < 0) {
		retas_error_set(err, r, "sync.local", "cannot encode the batch");
		goto out;
	}
	snprintf(b.batch_id, sizeof(b.batch_id), "%s", m->batch_id);
	snprintf(b.device_id, sizeof(b.device_id), "%s", m->device_id);
	b.size = (int64_t)len;
	b.n_records = (int64_t)sg.n;
	r = outbox_dir(d, dir, sizeof(dir), true);
	if (r == 0)
		r = batch_path(d, b.batch_id, b.path, sizeof(b.path));
	if (r == 0)
		r = write_durably(dir, b.path, buf, len);
	if (r < 0) {
		retas_error_set(err, r, "sync.file", "cannot stage the batch in %s: %s", dir,
				strerror(-r));
		goto out;
	}
	r = insert_batch(d, m, len, &sg, audit_to, m->report != NULL, &row);
	if (r < 0) {
		unlink(b.path);
		retas_error_set(err, r, "sync.store", "cannot record the batch: %s", strerror(-r));
		goto out;
	}
	b.row = row;
	log_info("sync: staged batch %s: %zu records, %zu bytes%s", b.batch_id, sg.n, len,
		 m->report ? ", with the draft report" : "");
	*out = b;
out:
	json_object_put(report);
	retas_manifest_free(m);
	staged_clear(&sg);
	free(buf);
	free(jws);
	return r;
}

int rd_outbox_load_upload(struct rd_daemon *d, int64_t row, char **url, uint64_t *offset)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	r = prep(d, "SELECT upload_url, upload_offset FROM sync_batch WHERE id = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, row);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *u = (const char *)sqlite3_column_text(st, 0);

		*url = u ? strdup(u) : NULL;
		*offset = (uint64_t)sqlite3_column_int64(st, 1);
		if (u && !*url)
			r = -ENOMEM;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : rd_store_errno(rc);
	}
	sqlite3_finalize(st);
	return r;
}

int rd_outbox_save_upload(struct rd_daemon *d, int64_t row, const char *url, uint64_t offset)
{
	sqlite3_stmt *st = NULL;
	int r;

	r = prep(d, "UPDATE sync_batch SET upload_url = ?, upload_offset = ? WHERE id = ?", &st);
	if (r < 0)
		return r;
	if (url)
		sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_int64(st, 2, url ? (int64_t)offset : 0);
	sqlite3_bind_int64(st, 3, row);
	r = step_done(st);
	sqlite3_finalize(st);
	return r;
}

static void remove_file(struct rd_daemon *d, const char *batch_id)
{
	char path[512];

	if (batch_path(d, batch_id, path, sizeof(path)) == 0 && unlink(path) < 0 &&
	    errno != ENOENT)
		log_warning("sync: cannot remove %s: %s", path, strerror(errno));
}

int rd_outbox_reject(struct rd_daemon *d, int64_t row, const char *reason)
{
	sqlite3_stmt *st = NULL;
	int r;

	r = prep(d, "UPDATE sync_batch SET state = 'rejected', reason = ?, settled_at = ? "
		    "WHERE id = ? AND state = 'pending'", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, rd_daemon_now(d));
	sqlite3_bind_int64(st, 3, row);
	r = step_done(st);
	sqlite3_finalize(st);
	return r;
}

static int settle(struct rd_daemon *d, int64_t row, const struct sync_receipt *rc,
		  const char *jws, size_t jws_len, struct rd_outbox_result *res)
{
	sqlite3_stmt *sel = NULL, *ack = NULL, *quar = NULL, *upd = NULL;
	int64_t now = rd_daemon_now(d);
	int r, step;

	r = rd_store_txn_begin(d->store);
	if (r < 0)
		return r;
	r = prep(d, "SELECT r.id, r.hash FROM sync_batch_record b JOIN record r ON r.id = "
		    "b.record_id WHERE b.batch = ? ORDER BY b.position", &sel);
	if (r == 0)
		r = prep(d, "UPDATE record SET acked_at = ? WHERE id = ? AND acked_at IS NULL", &ack);
	if (r == 0)
		r = prep(d, "UPDATE record SET quarantine = ?1 WHERE id = ?2 AND acked_at IS NULL"
			 " AND quarantine IS NOT ?1",
			 &quar);
	if (r < 0)
		goto out;
	sqlite3_bind_int64(sel, 1, row);
	while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(sel, 0);
		const void *hash = sqlite3_column_blob(sel, 1);
		const struct sync_receipt_record *e;
		uint8_t uid[16];

		if (retas_uuid_parse(id, uid) < 0 || !(e = sync_receipt_find(rc, uid)) ||
		    sqlite3_column_bytes(sel, 1) != 32 || memcmp(hash, e->sha256, 32) != 0) {
			res->unmatched++;
			continue;
		}
		if (e->outcome == SYNC_OUTCOME_QUARANTINED) {
			sqlite3_reset(quar);
			sqlite3_bind_text(quar, 1, e->reason, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(quar, 2, id, -1, SQLITE_TRANSIENT);
			r = step_done(quar);
			res->quarantined += sqlite3_changes(rd_store_db(d->store));
		} else {
			sqlite3_reset(ack);
			sqlite3_bind_int64(ack, 1, now);
			sqlite3_bind_text(ack, 2, id, -1, SQLITE_TRANSIENT);
			r = step_done(ack);
			res->acknowledged += sqlite3_changes(rd_store_db(d->store));
		}
		if (r < 0)
			goto out;
	}
	if (step != SQLITE_DONE) {
		r = rd_store_errno(step);
		goto out;
	}
	r = prep(d, "UPDATE sync_batch SET state = 'acknowledged', receipt = ?, settled_at = ?, "
		    "reason = NULL WHERE id = ?", &upd);
	if (r < 0)
		goto out;
	sqlite3_bind_text(upd, 1, jws, (int)jws_len, SQLITE_STATIC);
	sqlite3_bind_int64(upd, 2, now);
	sqlite3_bind_int64(upd, 3, row);
	r = step_done(upd);
	if (r == 0)
		r = rd_store_txn_commit(d->store);
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(ack);
	sqlite3_finalize(quar);
	sqlite3_finalize(upd);
	if (r < 0)
		rd_store_txn_rollback(d->store);
	return r;
}

int rd_outbox_apply_receipt(struct rd_daemon *d, const char *jws, size_t len,
			    struct rd_outbox_result *res, char *batch_id, struct retas_error *err)
{
	struct sync_receipt *rc = NULL;
	struct rd_outbox_result out = {0};
	sqlite3_stmt *st = NULL;
	char device[64] = "";
	int64_t row = 0;
	int r, step;

	if (!d->config->have_hq_sign_key)
		return retas_error_set(err, -ENOKEY, "sync.no-hq-key",
				       "no head office key (hq.sign_key) to verify the receipt");
	r = sync_receipt_verify(jws, len, d->config->hq_sign_key, &rc, err);
	if (r < 0)
		return r;
	r = prep(d, "SELECT id, device_id FROM sync_batch WHERE batch_id = ? AND state != 'rejected'",
		 &st);
	if (r < 0)
		goto out;
	sqlite3_bind_text(st, 1, rc->batch_id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		row = sqlite3_column_int64(st, 0);
		copy_col(device, sizeof(device), st, 1);
	}
	sqlite3_finalize(st);
	if (!row) {
		r = retas_error_set(err, -ENOENT, "sync.unknown-batch",
				    "the receipt is for batch %s, which this van did not send",
				    rc->batch_id);
		goto out;
	}
	if (!streq(device, rc->device_id)) {
		r = retas_error_set(err, -EPERM, "sync.receipt-device",
				    "the receipt names van %s, not %s", rc->device_id, device);
		goto out;
	}
	r = settle(d, row, rc, jws, len, &out);
	if (r < 0) {
		retas_error_set(err, r, "sync.store", "cannot record the receipt: %s",
				strerror(-r));
		goto out;
	}
	remove_file(d, rc->batch_id);
	if (batch_id)
		snprintf(batch_id, RETAS_UUID_STR_LEN, "%s", rc->batch_id);
	*res = out;
out:
	sync_receipt_free(rc);
	return r;
}

int rd_outbox_purge(struct rd_daemon *d, int64_t now_ms, int64_t retention_s, int64_t *n)
{
	sqlite3_stmt *st = NULL;
	int r;

	r = prep(d, "UPDATE record SET sealed = X'', purged_at = ?1 WHERE acked_at IS NOT NULL "
		    "AND purged_at IS NULL AND acked_at <= ?1 - ?2", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, retention_s * 1000);
	r = step_done(st);
	sqlite3_finalize(st);
	if (r == 0 && n)
		*n = sqlite3_changes(rd_store_db(d->store));
	return r;
}

int rd_outbox_contact(struct rd_daemon *d, int64_t now_ms, const char *outcome)
{
	sqlite3_stmt *st = NULL;
	int r;

	r = prep(d, "INSERT OR REPLACE INTO sync_contact (id, at, outcome) VALUES (1, ?, ?)", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_text(st, 2, outcome, -1, SQLITE_STATIC);
	r = step_done(st);
	sqlite3_finalize(st);
	return r;
}

int rd_outbox_queue(struct rd_daemon *d, struct rd_sync_queue *q)
{
	sqlite3_stmt *st = NULL;
	struct rd_sync_queue v = {0};
	int r;

	r = prep(d,
		 "SELECT "
		 " sum(acked_at IS NULL AND quarantine IS NULL AND p.record_id IS NULL),"
		 " sum(acked_at IS NULL AND quarantine IS NULL AND p.record_id IS NOT NULL),"
		 " sum(acked_at IS NOT NULL), sum(quarantine IS NOT NULL AND acked_at IS NULL),"
		 " sum(purged_at IS NOT NULL),"
		 " coalesce(sum(CASE WHEN acked_at IS NULL THEN length(sealed) END), 0)"
		 " FROM record LEFT JOIN (SELECT record_id FROM sync_batch_record JOIN sync_batch"
		 " ON sync_batch.id = batch WHERE state = 'pending') p ON p.record_id = record.id",
		 &st);
	if (r < 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW) {
		v.waiting = sqlite3_column_int64(st, 0);
		v.uploading = sqlite3_column_int64(st, 1);
		v.acknowledged = sqlite3_column_int64(st, 2);
		v.quarantined = sqlite3_column_int64(st, 3);
		v.purged = sqlite3_column_int64(st, 4);
		v.bytes_waiting = sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	r = prep(d, "SELECT size, upload_offset FROM sync_batch WHERE state = 'pending'", &st);
	if (r < 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW) {
		v.batch_bytes = sqlite3_column_int64(st, 0);
		v.batch_offset = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	r = prep(d, "SELECT at, outcome FROM sync_contact WHERE id = 1", &st);
	if (r < 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW) {
		v.last_contact_ms = sqlite3_column_int64(st, 0);
		copy_col(v.last_outcome, sizeof(v.last_outcome), st, 1);
	}
	sqlite3_finalize(st);
	*q = v;
	return 0;
}

int rd_outbox_quarantined(struct rd_daemon *d, struct rd_quarantined **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct rd_quarantined *v = NULL;
	size_t len = 0, cap = 0;
	int r, step;

	/* The batch that carried it last is the one whose receipt said so:
	 * a quarantined record is never staged again. */
	r = prep(d,
		 "SELECT r.id, r.seq, r.quarantine, b.batch_id, b.settled_at FROM record r"
		 " LEFT JOIN sync_batch b ON b.id = (SELECT max(sb.batch) FROM sync_batch_record sb"
		 " WHERE sb.record_id = r.id)"
		 " WHERE r.quarantine IS NOT NULL AND r.acked_at IS NULL ORDER BY r.seq LIMIT ?",
		 &st);
	if (r < 0)
		return r;
	sqlite3_bind_int(st, 1, RD_QUARANTINE_LIST_MAX);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct rd_quarantined *q;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct rd_quarantined *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				r = -ENOMEM;
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		q = &v[len++];
		*q = (struct rd_quarantined){.seq = sqlite3_column_int64(st, 1),
					     .settled_ms = sqlite3_column_int64(st, 4)};
		copy_col(q->id, sizeof(q->id), st, 0);
		copy_col(q->reason, sizeof(q->reason), st, 2);
		copy_col(q->batch_id, sizeof(q->batch_id), st, 3);
	}
	if (step != SQLITE_DONE) {
		r = rd_store_errno(step);
		goto out;
	}
	*out = v;
	*n = len;
	v = NULL;
	r = 0;
out:
	sqlite3_finalize(st);
	free(v);
	return r;
}

void rd_outbox_tidy(struct rd_daemon *d)
{
	struct rd_outbox_batch b = {0};
	char dir[400];
	DIR *dh;
	struct dirent *e;
	bool have = rd_outbox_pending(d, &b) == 0;

	if (outbox_dir(d, dir, sizeof(dir), false) < 0 || !(dh = opendir(dir)))
		return;
	while ((e = readdir(dh))) {
		char want[64];

		if (e->d_name[0] == '.')
			continue;
		snprintf(want, sizeof(want), "%s" SYNC_BATCH_EXT, b.batch_id);
		if (have && streq(e->d_name, want))
			continue;
		if (unlinkat(dirfd(dh), e->d_name, 0) == 0)
			log_info("sync: removed %s/%s, which no pending batch names", dir, e->d_name);
	}
	closedir(dh);
}
