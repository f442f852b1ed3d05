/*
 * Sync {now}: starts a run at once when asked (cutting a backoff short) and,
 * called with more, streams the run's progress (bytes, rate, time left)
 * until it ends acknowledged, waiting or with nothing to send. SyncExport
 * writes the pending batch to a directory (removable media) for head
 * office's `retas-hq import`; SyncImportReceipt applies the receipt file
 * that import wrote, after the same verification as an uploaded one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "retas-log.h"
#include "retas-util.h"
#include "sync-batch.h"
#include "sync.h"

json_object *rd_api_sync_progress(const struct rd_sync_progress *p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "phase", json_object_new_string(rd_sync_phase_name(p->phase)));
	if (p->batch_id)
		json_object_object_add(o, "batch_id", json_object_new_string(p->batch_id));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)p->sent));
	json_object_object_add(o, "total", json_object_new_int64((int64_t)p->total));
	json_object_object_add(o, "rate", json_object_new_int64((int64_t)p->rate_bps));
	if (p->eta_s >= 0)
		json_object_object_add(o, "eta", json_object_new_int64(p->eta_s));
	if (p->finished) {
		json_object_object_add(o, "outcome",
				       json_object_new_string(p->outcome ? p->outcome : ""));
		json_object_object_add(o, "acknowledged", json_object_new_int64(p->acknowledged));
		json_object_object_add(o, "quarantined", json_object_new_int64(p->quarantined));
	}
	return o;
}

struct sync_stream {
	struct rd_call *call;
	struct rd_sync *sync;
	struct rd_sync_watcher *w;
};

static void on_progress(void *userdata, const struct rd_sync_progress *p)
{
	struct sync_stream *st = userdata;

	if (p->finished) {
		rd_call_reply(st->call, rd_api_sync_progress(p));
		free(st);
		return;
	}
	if (rd_call_continue(st->call, rd_api_sync_progress(p)) < 0) {
		rd_sync_unwatch(st->sync, st->w);
		rd_call_reply(st->call, NULL);
		free(st);
	}
}

static int sync_method(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	json_object *v;
	struct rd_sync_progress p;
	struct sync_stream *st;
	const char *outcome;
	int64_t last;
	int r;

	if (json_object_object_get_ex(call->params, "now", &v) && json_object_get_boolean(v))
		rd_sync_now(d->sync);
	rd_sync_status(d->sync, &p, &last, &outcome);
	if (!call->more || p.phase == RD_SYNC_IDLE || p.phase == RD_SYNC_WAITING ||
	    p.phase == RD_SYNC_OFF) {
		p.finished = true;
		p.outcome = outcome;
		return rd_call_reply(call, rd_api_sync_progress(&p));
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->call = call;
	st->sync = d->sync;
	r = rd_sync_watch(d->sync, on_progress, st, &st->w);
	if (r < 0) {
		free(st);
		return r;
	}
	if (rd_call_continue(call, rd_api_sync_progress(&p)) < 0) {
		rd_sync_unwatch(d->sync, st->w);
		free(st);
		return rd_call_reply(call, NULL);
	}
	return RD_CALL_PENDING;
}

static const struct rd_param sync_params[] = {
    {"now", RD_PARAM_BOOL, true, 0},
    {NULL},
};

const struct rd_method rd_api_sync = {
    .interface = RD_INTERFACE,
    .name = "Sync",
    .flags = 0,
    .params = sync_params,
    .handler = sync_method,
};

static int copy_file(const char *from, const char *to)
{
	char tmp[1100], buf[65536];
	int in = -1, out = -1, r = 0;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s.part", to);
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		r = -errno;
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0) {
				if (errno == EINTR)
					continue;
				r = -errno;
				goto out;
			}
			off += w;
		}
	}
	if (fsync(out) < 0 || rename(tmp, to) < 0)
		r = -errno;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (r < 0)
		unlink(tmp);
	return r;
}

static int sync_export(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	const char *dir = json_object_get_string(json_object_object_get(call->params, "dir"));
	struct rd_outbox_batch b = {0};
	struct retas_error err = {0};
	json_object *p, *list, *e;
	char path[1024];
	struct stat sb;
	int r;

	if (dir[0] != '/' || stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return rd_api_refuse(call, NULL, "sync.export-dir", RD_ARGS("dir", dir));
	list = json_object_new_array();
	r = rd_outbox_stage(d, &b, &err);
	if (r < 0 && r != -ENOENT) {
		json_object_put(list);
		return rd_api_refuse(call, NULL, "sync.stage", RD_ARGS("detail", err.message));
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/%s" SYNC_BATCH_EXT, dir, b.batch_id);
		r = copy_file(b.path, path);
		if (r < 0) {
			json_object_put(list);
			return rd_api_refuse(call, NULL, "sync.export",
					     RD_ARGS("dir", dir, "detail", strerror(-r)));
		}
		e = json_object_new_object();
		json_object_object_add(e, "batch_id", json_object_new_string(b.batch_id));
		json_object_object_add(e, "records", json_object_new_int64(b.n_records));
		json_object_object_add(e, "bytes", json_object_new_int64(b.size));
		json_object_object_add(e, "path", json_object_new_string(path));
		json_object_array_add(list, e);
		log_info("sync: exported batch %s to %s", b.batch_id, path);
	}
	p = json_object_new_object();
	json_object_object_add(p, "batches", list);
	e = json_object_new_object();
	json_object_object_add(e, "batch_id", json_object_new_string(r == 0 ? b.batch_id : ""));
	r = rd_api_audit(call, "ok", "", e);
	json_object_put(e);
	if (r < 0) {
		json_object_put(p);
		return r;
	}
	return rd_call_reply(call, p);
}

static const struct rd_param export_params[] = {
    {"dir", RD_PARAM_STRING, false, 900},
    {NULL},
};

const struct rd_method rd_api_sync_export = {
    .interface = RD_INTERFACE,
    .name = "SyncExport",
    .flags = 0,
    .params = export_params,
    .handler = sync_export,
};

static int import_receipt(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	json_object *rv = json_object_object_get(call->params, "receipt");
	const char *jws = json_object_get_string(rv);
	size_t len = (size_t)json_object_get_string_len(rv);
	struct rd_outbox_result res = {0};
	struct retas_error err = {0};
	char batch_id[RETAS_UUID_STR_LEN] = "";
	json_object *p, *detail;
	int r;

	while (len > 0 && (jws[len - 1] == '\n' || jws[len - 1] == '\r'))
		len--;
	r = rd_outbox_apply_receipt(d, jws, len, &res, batch_id, &err);
	if (r < 0) {
		log_warning("sync: receipt refused: %s (%s)", err.message, err.reason);
		detail = json_object_new_object();
		json_object_object_add(detail, "reason", json_object_new_string(err.reason));
		return rd_api_refuse(call, detail, "sync.receipt",
				     RD_ARGS("detail", err.reason));
	}
	rd_sync_settled(d->sync, batch_id);
	p = json_object_new_object();
	json_object_object_add(p, "batch_id", json_object_new_string(batch_id));
	json_object_object_add(p, "acknowledged", json_object_new_int64(res.acknowledged));
	json_object_object_add(p, "quarantined", json_object_new_int64(res.quarantined));
	json_object_object_add(p, "unmatched", json_object_new_int64(res.unmatched));
	r = rd_api_audit(call, "ok", "", p);
	if (r < 0) {
		json_object_put(p);
		return r;
	}
	return rd_call_reply(call, p);
}

static const struct rd_param import_params[] = {
    {"receipt", RD_PARAM_STRING, false, 1000000},
    {NULL},
};

const struct rd_method rd_api_sync_import_receipt = {
    .interface = RD_INTERFACE,
    .name = "SyncImportReceipt",
    .flags = 0,
    .params = import_params,
    .handler = import_receipt,
};
