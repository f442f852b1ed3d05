/*
 * tus request handling. A PATCH streams into the staging file at the
 * committed offset; the offset moves only after the bytes are on disk
 * (fdatasync, then the store), so after a crash the store never claims more
 * than the file holds. Bytes past the committed offset are garbage to be
 * overwritten and are cut off when the next PATCH starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hq-auth.h"
#include "hq-ingest.h"
#include "hq-store.h"
#include "hq-tus-headers.h"
#include "hq-tus.h"
#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-log.h"
#include "retas-time.h"
#include "sync-auth.h"

struct hq_tus_req {
	struct hq_van van;
	char id[33]; /* resource requests */
	/* POST */
	uint64_t create_length;
	char *metadata;
	/* PATCH */
	int fd;
	uint64_t offset, length, written;
	bool has_checksum, overflow, finished, claimed;
	bool superseded; /* a newer PATCH of the same van took the upload over */
	uint64_t gen;	 /* our claim's generation */
	int io_error;
	uint8_t want[32];
	crypto_hash_sha256_state sha;
};

static void tus_req_free(struct hq_tus_req *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	free(t->metadata);
	free(t);
}

static int is_upload_id(const char *s)
{
	if (strlen(s) != 32)
		return 0;
	for (size_t i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static char *staging_path(const struct hq_ctx *ctx, const char *id)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s.part", ctx->staging_dir, id) < 0)
		return NULL;
	return p;
}

static enum MHD_Result reply_tus_error(struct hq_req *r, unsigned status, const char *reason,
				       const char *message)
{
	return hq_reply_error(r, status, reason, message);
}

struct upload_row {
	char van_id[64];
	uint64_t length, offset;
	char state[16];
	char *metadata;
	char batch_id[40];
	char reason[200];
};

static int load_upload(sqlite3 *db, const char *id, struct upload_row *u)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	int r, rc;

	memset(u, 0, sizeof(*u));
	r = hq_store_prepare(db,
			     "SELECT van_id, length, upload_offset, state, metadata, batch_id, "
			     "reason FROM uploads WHERE id = ?",
			     &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return hq_store_errno(rc) ?: -EIO;
	snprintf(u->van_id, sizeof(u->van_id), "%s", hq_store_col_text(st, 0));
	u->length = (uint64_t)sqlite3_column_int64(st, 1);
	u->offset = (uint64_t)sqlite3_column_int64(st, 2);
	snprintf(u->state, sizeof(u->state), "%s", hq_store_col_text(st, 3));
	if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
		u->metadata = strdup(hq_store_col_text(st, 4));
		if (!u->metadata)
			return -ENOMEM;
	}
	snprintf(u->batch_id, sizeof(u->batch_id), "%s", hq_store_col_text(st, 5));
	snprintf(u->reason, sizeof(u->reason), "%s", hq_store_col_text(st, 6));
	return 0;
}

static enum MHD_Result begin_resource(struct hq_req *r, sqlite3 *db)
{
	struct hq_tus_req *t = r->tus;
	struct upload_row u;
	const char *ct, *off, *sum;
	uint64_t offset;
	enum MHD_Result ret;
	int rc;

	if (streq(r->method, "PATCH")) {
		ct = hq_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
		if (!ct || !streq(ct, "application/offset+octet-stream"))
			return reply_tus_error(
			    r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "tus.content-type",
			    _("a PATCH carries application/offset+octet-stream"));
		off = hq_req_header(r, "Upload-Offset");
		if (hq_tus_parse_u64(off, &offset) < 0)
			return reply_tus_error(r, MHD_HTTP_BAD_REQUEST, "tus.offset",
					       _("Upload-Offset is missing or not a number"));
	}
	rc = load_upload(db, t->id, &u);
	if (rc == 0 && !streq(u.van_id, t->van.id))
		rc = -ENOENT; /* another van's upload is none of this one's business */
	if (rc == -ENOENT)
		return reply_tus_error(r, MHD_HTTP_NOT_FOUND, "tus.unknown",
				       _("there is no such upload"));
	if (rc < 0)
		return reply_tus_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store.read",
				       _("cannot read the store"));
	free(u.metadata);
	if (!streq(r->method, "PATCH"))
		return MHD_YES;

	if (offset != u.offset) {
		char msg[128];

		snprintf(msg, sizeof(msg), _("the upload is at offset %" PRIu64 ", not %" PRIu64),
			 u.offset, offset);
		return reply_tus_error(r, MHD_HTTP_CONFLICT, "tus.offset-mismatch", msg);
	}
	if (!streq(u.state, "open"))
		return reply_tus_error(r, MHD_HTTP_CONFLICT, "tus.finished",
				       _("this upload is already complete"));
	sum = hq_req_header(r, "Upload-Checksum");
	if (sum) {
		rc = hq_tus_parse_checksum(sum, t->want);
		if (rc == -ENOTSUP)
			return reply_tus_error(r, MHD_HTTP_BAD_REQUEST, "tus.checksum-algorithm",
					       _("the only checksum algorithm is sha256"));
		if (rc < 0)
			return reply_tus_error(r, MHD_HTTP_BAD_REQUEST, "tus.checksum",
					       _("Upload-Checksum is malformed"));
		t->has_checksum = true;
	}
	const char *cl = hq_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t clen;

	if (cl && hq_tus_parse_u64(cl, &clen) == 0 && clen > u.length - u.offset)
		return reply_tus_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "tus.too-long",
				       _("the chunk goes past the upload's length"));
	/* A PATCH that starts where the store stands supersedes one that
	 * stopped sending (its van was cut off and came back): otherwise the
	 * van waits out the request timeout. Not for the empty PATCH at the
	 * end, which may meet an ingest still running. */
	if (!hq_server_claim(r->srv, t->id, offset < u.length, &t->gen))
		return reply_tus_error(r, 423, "tus.busy",
				       _("another request is writing this upload"));
	t->claimed = true;
	/* The request we pushed aside may have committed between our read
	 * and the claim; from now on it cannot. */
	rc = load_upload(db, t->id, &u);
	if (rc == 0)
		free(u.metadata);
	if (rc < 0 || u.offset != offset || !streq(u.state, "open"))
		return reply_tus_error(r, MHD_HTTP_CONFLICT, "tus.offset-mismatch",
				       _("the upload moved on; ask for its offset again"));
	{
		_cleanup_(freep) char *path = staging_path(r->ctx, t->id);

		if (!path)
			return MHD_NO;
		t->fd = open(path, O_WRONLY | O_CLOEXEC);
		if (t->fd < 0 || ftruncate(t->fd, (off_t)u.offset) < 0) {
			log_error("tus: staging file %s: %s", path, strerror(errno));
			return reply_tus_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "tus.staging",
					       _("the staged upload is missing"));
		}
	}
	t->offset = u.offset;
	t->length = u.length;
	crypto_hash_sha256_init(&t->sha);
	ret = MHD_YES;
	return ret;
}

static enum MHD_Result begin_create(struct hq_req *r)
{
	struct hq_tus_req *t = r->tus;
	const char *len = hq_req_header(r, "Upload-Length");
	const char *meta = hq_req_header(r, "Upload-Metadata");
	_cleanup_(json_object_putp) json_object *parsed = NULL;
	int rc;

	if (hq_req_header(r, "Upload-Defer-Length"))
		return reply_tus_error(r, MHD_HTTP_BAD_REQUEST, "tus.defer-length",
				       _("uploads of unknown length are not supported"));
	if (hq_tus_parse_u64(len, &t->create_length) < 0)
		return reply_tus_error(r, MHD_HTTP_BAD_REQUEST, "tus.length",
				       _("Upload-Length is missing or not a number"));
	if (t->create_length > r->ctx->cfg.max_upload)
		return reply_tus_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "tus.too-large",
				       _("the upload is larger than Tus-Max-Size"));
	if (t->create_length == 0)
		return reply_tus_error(r, MHD_HTTP_BAD_REQUEST, "tus.length",
				       _("an empty upload cannot be a batch"));
	if (meta) {
		rc = hq_tus_parse_metadata(meta, &parsed);
		if (rc < 0)
			return reply_tus_error(r, MHD_HTTP_BAD_REQUEST, "tus.metadata",
					       _("Upload-Metadata is malformed"));
		t->metadata = strdup(meta);
		if (!t->metadata)
			return MHD_NO;
	}
	return MHD_YES;
}

enum MHD_Result hq_tus_begin(struct hq_req *r)
{
	const char *ver, *rest;
	struct retas_error err = {0};
	struct hq_tus_req *t;
	sqlite3 *db = NULL;
	bool collection;
	enum MHD_Result ret;
	int rc;

	rest = r->url + 4; /* after "/tus" */
	collection = streq(rest, "") || streq(rest, "/");
	if (streq(r->method, "OPTIONS"))
		return MHD_YES;
	if (!streq(r->method, "POST") && !streq(r->method, "HEAD") && !streq(r->method, "PATCH") &&
	    !streq(r->method, "DELETE"))
		goto not_allowed;
	if (collection != streq(r->method, "POST"))
		goto not_allowed;
	if (!collection && !is_upload_id(rest + 1))
		return reply_tus_error(r, MHD_HTTP_NOT_FOUND, "tus.unknown",
				       _("there is no such upload"));
	ver = hq_req_header(r, "Tus-Resumable");
	if (!ver || !streq(ver, HQ_TUS_VERSION)) {
		struct MHD_Response *resp;
		static const char body[] =
		    "{\"error\":\"tus.version\",\"message\":\"this server speaks tus 1.0.0\"}";

		resp = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
						       MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, "Tus-Version", HQ_TUS_VERSION);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		return hq_reply(r, MHD_HTTP_PRECONDITION_FAILED, resp);
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return MHD_NO;
	t->fd = -1;
	r->tus = t;
	if (!collection)
		snprintf(t->id, sizeof(t->id), "%s", rest + 1);

	rc = hq_req_db(r, &db);
	if (rc < 0)
		return reply_tus_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "server.busy",
				       _("the server is busy; try again"));
	rc = hq_van_auth(db, hq_req_header(r, SYNC_AUTH_HEADER), r->method, r->url,
			 retas_time_now_ms(), r->ctx->cfg.clock_skew_ms, &t->van, &err);
	if (rc < 0) {
		ret = hq_reply_rerror(r, rc == -EPERM ? MHD_HTTP_UNAUTHORIZED : 0, &err);
		goto out;
	}
	ret = collection ? begin_create(r) : begin_resource(r, db);
out:
	hq_req_db_put(r, db);
	return ret;

not_allowed : {
	struct MHD_Response *resp;
	static const char body[] =
	    "{\"error\":\"http.method\",\"message\":\"method not allowed here\"}";

	resp =
	    MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Allow",
				collection ? "OPTIONS, POST" : "OPTIONS, HEAD, PATCH, DELETE");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return hq_reply(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}
}

enum MHD_Result hq_tus_data(struct hq_req *r, const char *data, size_t len)
{
	struct hq_tus_req *t = r->tus;
	size_t done = 0;

	struct hq_claim *c;

	if (!t || t->fd < 0 || t->overflow || t->io_error)
		return MHD_YES;
	if (len > t->length - t->offset - t->written) {
		t->overflow = true;
		return MHD_YES;
	}
	c = hq_server_hold(r->srv, t->id, t->gen);
	if (!c) {
		/* Superseded: the staging file is the new request's now. */
		t->superseded = true;
		log_info("tus: a newer PATCH took over upload %s; dropping this one", t->id);
		return MHD_NO;
	}
	while (done < len) {
		ssize_t n =
		    pwrite(t->fd, data + done, len - done, (off_t)(t->offset + t->written + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			t->io_error = -errno;
			hq_server_unhold(c);
			return MHD_YES;
		}
		done += (size_t)n;
	}
	hq_server_unhold(c);
	crypto_hash_sha256_update(&t->sha, (const uint8_t *)data, len);
	t->written += len;
	return MHD_YES;
}

static int set_upload_state(sqlite3 *db, const char *id, const char *state, const char *batch_id,
			    const char *reason)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	int r;

	r = hq_store_prepare(db,
			     "UPDATE uploads SET state = ?, batch_id = ?, reason = ?, "
			     "completed_ms = ? WHERE id = ?",
			     &st);
	if (r < 0)
		return r;
	hq_store_bind_text(st, 1, state);
	hq_store_bind_text(st, 2, batch_id);
	hq_store_bind_text(st, 3, reason);
	sqlite3_bind_int64(st, 4, retas_time_now_ms());
	hq_store_bind_text(st, 5, id);
	return hq_store_errno(sqlite3_step(st));
}

/*
 * Ingests a complete upload. Returns 0 when the batch was taken (res
 * filled), the ingest's error when it was refused (the upload is then
 * marked rejected: sending the same bytes again cannot help), or a store
 * error (the upload stays open, to be retried).
 */
static int ingest_upload(const struct hq_ctx *ctx, sqlite3 *db, const char *id,
			 const struct hq_van *van, uint64_t length, struct hq_ingest_result *res,
			 struct retas_error *err)
{
	_cleanup_(freep) char *path = staging_path(ctx, id);
	_cleanup_(closep) int fd = -1;
	void *map = MAP_FAILED;
	struct stat st;
	int r;

	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size < length)
		return retas_error_set(err, -EIO, "tus.staging",
				       N_("the staged upload is missing"));
	map = mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return retas_error_set(err, -errno, "tus.staging",
				       N_("cannot read the staged upload"));
	r = hq_ingest_upload(ctx, db, map, length, van, "tus", id, retas_time_now_ms(), res, err);
	munmap(map, length);
	if (r == 0) {
		unlink(path);
		log_info("tus: upload %s: batch %s from %s: %zu stored, %zu already received, "
			 "%zu quarantined, %zu anomalies",
			 id, res->batch_id, van->id, res->stored, res->already, res->quarantined,
			 res->anomalies);
		return 0;
	}
	if (r == -EBADMSG || r == -EPERM) {
		if (set_upload_state(db, id, "rejected", NULL, err->reason) < 0)
			log_warning("tus: upload %s rejected but its state not saved", id);
		unlink(path);
		log_notice("tus: upload %s from %s refused: %s (%s)", id, van->id, err->message,
			   err->reason);
	} else {
		log_error("tus: upload %s from %s: ingest failed: %s", id, van->id, err->message);
	}
	return r;
}

/* Moves the committed offset past the bytes written, after they are on
 * disk. Returns the new offset or a negative errno. */
static int64_t commit(struct hq_req *r, sqlite3 *db)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	struct hq_tus_req *t = r->tus;
	uint64_t off = t->offset + t->written;
	int rc;

	if (t->written == 0)
		return (int64_t)off;
	if (fdatasync(t->fd) < 0)
		return -errno;
	rc = hq_store_prepare(db,
			      "UPDATE uploads SET upload_offset = ? WHERE id = ? AND "
			      "upload_offset = ?",
			      &st);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (int64_t)off);
	sqlite3_bind_text(st, 2, t->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (int64_t)t->offset);
	rc = hq_store_errno(sqlite3_step(st));
	if (rc < 0)
		return rc;
	if (sqlite3_changes(db) != 1)
		return -ESTALE;
	return (int64_t)off;
}

static void discard_chunk(struct hq_tus_req *t)
{
	if (t->fd >= 0 && ftruncate(t->fd, (off_t)t->offset) < 0)
		log_warning("tus: cannot cut back upload %s: %s", t->id, strerror(errno));
	t->written = 0;
}

static enum MHD_Result finish_patch_held(struct hq_req *r)
{
	struct hq_tus_req *t = r->tus;
	struct hq_ingest_result res = {0};
	struct retas_error err = {0};
	struct MHD_Response *resp;
	sqlite3 *db = NULL;
	char offbuf[24];
	int64_t off;
	enum MHD_Result ret;
	int rc;

	t->finished = true;
	if (t->overflow) {
		discard_chunk(t);
		return reply_tus_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "tus.too-long",
				       _("the chunk goes past the upload's length"));
	}
	if (t->io_error) {
		discard_chunk(t);
		log_error("tus: writing upload %s: %s", t->id, strerror(-t->io_error));
		return reply_tus_error(r, hq_http_status(t->io_error), "tus.write",
				       _("cannot store the chunk"));
	}
	if (t->has_checksum) {
		uint8_t got[32];

		crypto_hash_sha256_final(&t->sha, got);
		if (sodium_memcmp(got, t->want, 32) != 0) {
			discard_chunk(t);
			return reply_tus_error(r, HQ_TUS_CHECKSUM_MISMATCH, "tus.checksum-mismatch",
					       _("the chunk does not match its Upload-Checksum; "
						 "it was discarded"));
		}
	}
	rc = hq_req_db(r, &db);
	if (rc < 0) {
		discard_chunk(t);
		return reply_tus_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "server.busy",
				       _("the server is busy; try again"));
	}
	off = commit(r, db);
	if (off < 0) {
		discard_chunk(t);
		ret = reply_tus_error(r, hq_http_status((int)off), "tus.commit",
				      _("cannot store the chunk"));
		goto out;
	}
	snprintf(offbuf, sizeof(offbuf), "%" PRId64, off);
	if ((uint64_t)off < t->length) {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (!resp) {
			ret = MHD_NO;
			goto out;
		}
		MHD_add_response_header(resp, "Upload-Offset", offbuf);
		ret = hq_reply(r, MHD_HTTP_NO_CONTENT, resp);
		goto out;
	}
	close(t->fd);
	t->fd = -1;
	rc = ingest_upload(r->ctx, db, t->id, &t->van, t->length, &res, &err);
	if (rc < 0) {
		_cleanup_(json_object_putp) json_object *o = json_object_new_object();
		const char *s;

		if (!o) {
			ret = MHD_NO;
			goto out;
		}
		json_object_object_add(o, "error", json_object_new_string(err.reason));
		json_object_object_add(o, "message", json_object_new_string(err.message));
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		resp = MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_MUST_COPY);
		if (!resp) {
			ret = MHD_NO;
			goto out;
		}
		MHD_add_response_header(resp, "Upload-Offset", offbuf);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		ret = hq_reply(r, hq_http_status(rc), resp);
		goto out;
	}
	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		ret = MHD_NO;
		goto out;
	}
	{
		char receipt[96];

		snprintf(receipt, sizeof(receipt), "/api/v1/batches/%s/receipt", res.batch_id);
		MHD_add_response_header(resp, "Upload-Offset", offbuf);
		MHD_add_response_header(resp, "Retas-Batch", res.batch_id);
		MHD_add_response_header(resp, "Retas-Receipt", receipt);
	}
	ret = hq_reply(r, MHD_HTTP_NO_CONTENT, resp);
out:
	hq_ingest_result_clear(&res);
	hq_req_db_put(r, db);
	return ret;
}

static enum MHD_Result finish_options(struct hq_req *r)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	char max[24];

	if (!resp)
		return MHD_NO;
	snprintf(max, sizeof(max), "%" PRIu64, r->ctx->cfg.max_upload);
	MHD_add_response_header(resp, "Tus-Version", HQ_TUS_VERSION);
	MHD_add_response_header(resp, "Tus-Extension", HQ_TUS_EXTENSIONS);
	MHD_add_response_header(resp, "Tus-Max-Size", max);
	MHD_add_response_header(resp, "Tus-Checksum-Algorithm", "sha256");
	return hq_reply(r, MHD_HTTP_NO_CONTENT, resp);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static enum MHD_Result finish_create(struct hq_req *r)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	_cleanup_(freep) char *path = NULL;
	struct hq_tus_req *t = r->tus;
	struct MHD_Response *resp;
	uint8_t raw[16];
	char id[33], location[64];
	sqlite3 *db = NULL;
	enum MHD_Result ret;
	int fd, rc;

	randombytes_buf(raw, sizeof(raw));
	retas_hex_encode(raw, sizeof(raw), id);
	path = staging_path(r->ctx, id);
	if (!path)
		return MHD_NO;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fsync(fd) < 0 || fsync_dir(r->ctx->staging_dir) < 0) {
		log_error("tus: cannot create %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return reply_tus_error(r, MHD_HTTP_INSUFFICIENT_STORAGE, "tus.staging",
				       _("cannot create the upload"));
	}
	close(fd);
	rc = hq_req_db(r, &db);
	if (rc < 0) {
		unlink(path);
		return reply_tus_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "server.busy",
				       _("the server is busy; try again"));
	}
	rc = hq_store_prepare(db,
			      "INSERT INTO uploads (id, van_id, length, upload_offset, metadata, "
			      "created_ms) VALUES (?, ?, ?, 0, ?, ?)",
			      &st);
	if (rc == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, t->van.id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, (int64_t)t->create_length);
		hq_store_bind_text(st, 4, t->metadata);
		sqlite3_bind_int64(st, 5, retas_time_now_ms());
		rc = hq_store_errno(sqlite3_step(st));
	}
	hq_req_db_put(r, db);
	if (rc < 0) {
		unlink(path);
		return reply_tus_error(r, hq_http_status(rc), "store.write",
				       _("cannot record the upload"));
	}
	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	snprintf(location, sizeof(location), "/tus/%s", id);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	MHD_add_response_header(resp, "Upload-Offset", "0");
	ret = hq_reply(r, MHD_HTTP_CREATED, resp);
	log_info("tus: upload %s created by %s, %" PRIu64 " bytes", id, t->van.id,
		 t->create_length);
	return ret;
}

static enum MHD_Result finish_head(struct hq_req *r)
{
	struct hq_tus_req *t = r->tus;
	struct MHD_Response *resp;
	struct upload_row u;
	sqlite3 *db = NULL;
	char off[24], len[24];
	int rc;

	rc = hq_req_db(r, &db);
	if (rc < 0)
		return reply_tus_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "server.busy",
				       _("the server is busy; try again"));
	rc = load_upload(db, t->id, &u);
	hq_req_db_put(r, db);
	if (rc < 0)
		return reply_tus_error(r, hq_http_status(rc), "tus.unknown",
				       _("there is no such upload"));
	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(u.metadata);
		return MHD_NO;
	}
	snprintf(off, sizeof(off), "%" PRIu64, u.offset);
	snprintf(len, sizeof(len), "%" PRIu64, u.length);
	MHD_add_response_header(resp, "Upload-Offset", off);
	MHD_add_response_header(resp, "Upload-Length", len);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (u.metadata)
		MHD_add_response_header(resp, "Upload-Metadata", u.metadata);
	if (u.batch_id[0])
		MHD_add_response_header(resp, "Retas-Batch", u.batch_id);
	if (streq(u.state, "rejected"))
		MHD_add_response_header(resp, "Retas-Rejected", u.reason);
	free(u.metadata);
	return hq_reply(r, MHD_HTTP_OK, resp);
}

static enum MHD_Result finish_delete(struct hq_req *r)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	_cleanup_(freep) char *path = staging_path(r->ctx, r->tus->id);
	struct hq_tus_req *t = r->tus;
	struct MHD_Response *resp;
	sqlite3 *db = NULL;
	int rc;

	if (!path)
		return MHD_NO;
	if (!hq_server_claim(r->srv, t->id, false, &t->gen))
		return reply_tus_error(r, 423, "tus.busy",
				       _("another request is writing this upload"));
	t->claimed = true;
	rc = hq_req_db(r, &db);
	if (rc < 0)
		return reply_tus_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "server.busy",
				       _("the server is busy; try again"));
	rc = hq_store_prepare(db, "DELETE FROM uploads WHERE id = ? AND van_id = ?", &st);
	if (rc == 0) {
		sqlite3_bind_text(st, 1, t->id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, t->van.id, -1, SQLITE_TRANSIENT);
		rc = hq_store_errno(sqlite3_step(st));
		if (rc == 0 && sqlite3_changes(db) == 0)
			rc = -ENOENT;
	}
	hq_req_db_put(r, db);
	if (rc < 0)
		return reply_tus_error(
		    r, hq_http_status(rc), rc == -ENOENT ? "tus.unknown" : "store.write",
		    rc == -ENOENT ? _("there is no such upload") : _("cannot delete the upload"));
	if (unlink(path) < 0 && errno != ENOENT)
		log_warning("tus: cannot remove %s: %s", path, strerror(errno));
	log_info("tus: upload %s deleted by %s", t->id, t->van.id);
	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	return hq_reply(r, MHD_HTTP_NO_CONTENT, resp);
}

static enum MHD_Result finish_patch(struct hq_req *r)
{
	struct hq_tus_req *t = r->tus;
	struct hq_claim *c = hq_server_hold(r->srv, t->id, t->gen);
	enum MHD_Result ret;

	if (!c) {
		t->finished = true;
		t->superseded = true;
		return MHD_NO;
	}
	ret = finish_patch_held(r);
	hq_server_unhold(c);
	return ret;
}

enum MHD_Result hq_tus_finish(struct hq_req *r)
{
	if (streq(r->method, "OPTIONS"))
		return finish_options(r);
	if (!r->tus)
		return MHD_NO;
	if (streq(r->method, "POST"))
		return finish_create(r);
	if (streq(r->method, "HEAD"))
		return finish_head(r);
	if (streq(r->method, "DELETE"))
		return finish_delete(r);
	return finish_patch(r);
}

void hq_tus_done(struct hq_req *r, bool completed_ok)
{
	struct hq_tus_req *t = r->tus;

	if (!t)
		return;
	/* A PATCH cut off before its end keeps what arrived, so the van
	 * resumes from there; a checksummed chunk is all or nothing. One
	 * that was superseded leaves the file and the store alone. */
	struct hq_claim *c = NULL;

	if (t->fd >= 0 && !t->finished && t->claimed &&
	    !(c = hq_server_hold(r->srv, t->id, t->gen)))
		t->superseded = true;
	if (c) {
		sqlite3 *db = NULL;

		if (t->has_checksum || t->overflow || t->io_error || t->written == 0 ||
		    hq_req_db(r, &db) < 0) {
			discard_chunk(t);
		} else {
			int64_t off = commit(r, db);

			if (off < 0) {
				discard_chunk(t);
			} else if ((uint64_t)off == t->length) {
				struct hq_ingest_result res = {0};
				struct retas_error err = {0};

				close(t->fd);
				t->fd = -1;
				(void)ingest_upload(r->ctx, db, t->id, &t->van, t->length, &res,
						    &err);
				hq_ingest_result_clear(&res);
			}
			log_info("tus: upload %s interrupted at offset %" PRId64, t->id, off);
			hq_req_db_put(r, db);
		}
		hq_server_unhold(c);
	}
	if (t->claimed)
		hq_server_release(r->srv, t->id, t->gen);
	(void)completed_ok;
	tus_req_free(t);
	r->tus = NULL;
}

int hq_tus_recover(struct hq_ctx *ctx, sqlite3 *db)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;
	struct pending {
		char id[40];
		char van[64];
		uint64_t length;
	} *list = NULL;
	size_t n_list = 0;
	int n = 0, rc;

	rc = hq_store_prepare(db,
			      "SELECT id, van_id, length FROM uploads WHERE state = 'open' AND "
			      "upload_offset = length",
			      &st);
	if (rc < 0)
		return rc;
	/* Collect first: ingesting writes the table being read. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct pending *nl = realloc(list, (n_list + 1) * sizeof(*list));

		if (!nl) {
			free(list);
			return -ENOMEM;
		}
		list = nl;
		snprintf(list[n_list].id, sizeof(list[0].id), "%s", hq_store_col_text(st, 0));
		snprintf(list[n_list].van, sizeof(list[0].van), "%s", hq_store_col_text(st, 1));
		list[n_list].length = (uint64_t)sqlite3_column_int64(st, 2);
		n_list++;
	}
	sqlite3_finalize(st);
	st = NULL;
	for (size_t i = 0; i < n_list; i++) {
		struct hq_ingest_result res = {0};
		struct retas_error err = {0};
		struct hq_van van;

		if (hq_van_by_id(db, list[i].van, &van) < 0)
			continue;
		log_info("tus: upload %s was complete but not ingested; ingesting now", list[i].id);
		if (ingest_upload(ctx, db, list[i].id, &van, list[i].length, &res, &err) == 0)
			n++;
		hq_ingest_result_clear(&res);
	}
	free(list);
	return n;
}
