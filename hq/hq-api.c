/*
 * /api/v1/ routing and the handlers that are thin: authentication, body
 * parsing and the mapping of module errors to HTTP statuses. The work is
 * in hq-ingest.c, hq-workflow.c, hq-report.c and hq-issuance.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq-api.h"
#include "hq-auth.h"
#include "hq-ingest.h"
#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-time.h"
#include "retas-uuid.h"
#include "sync-auth.h"

struct api_call {
	struct hq_req *r;
	sqlite3 *db;
	const char *path; /* after /api/v1/ */
};

static enum MHD_Result method_not_allowed(struct hq_req *r, const char *allow)
{
	static const char body[] =
	    "{\"error\":\"http.method\",\"message\":\"method not allowed here\"}";
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Allow", allow);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return hq_reply(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

static enum MHD_Result not_found(struct hq_req *r)
{
	return hq_reply_error(r, MHD_HTTP_NOT_FOUND, "http.not-found",
			      _("there is nothing at this address"));
}

/* GET batches/{id}/receipt */
static enum MHD_Result batch_receipt(struct api_call *c, const char *batch_id)
{
	struct retas_error err = {0};
	_cleanup_(freep) char *jws = NULL;
	struct hq_van van;
	uint8_t raw[16];
	int rc;

	if (!streq(c->r->method, "GET") && !streq(c->r->method, "HEAD"))
		return method_not_allowed(c->r, "GET, HEAD");
	rc = hq_van_auth(c->db, hq_req_header(c->r, SYNC_AUTH_HEADER), c->r->method, c->r->url,
			 retas_time_now_ms(), c->r->ctx->cfg.clock_skew_ms, &van, &err);
	if (rc < 0)
		return hq_reply_rerror(c->r, rc == -EPERM ? MHD_HTTP_UNAUTHORIZED : 0, &err);
	if (strlen(batch_id) != 36 || retas_uuid_parse(batch_id, raw) < 0)
		return hq_reply_error(c->r, MHD_HTTP_BAD_REQUEST, "batch.id",
				      _("a batch id is a UUID"));
	rc = hq_ingest_receipt(c->db, batch_id, van.id, &jws);
	if (rc == -ENOENT)
		return hq_reply_error(c->r, MHD_HTTP_NOT_FOUND, "batch.unknown",
				      _("there is no receipt for this batch"));
	if (rc < 0)
		return hq_reply_error(c->r, hq_http_status(rc), "store.read",
				      _("cannot read the store"));
	return hq_reply_buf(c->r, MHD_HTTP_OK, "application/jose", jws, strlen(jws));
}

static enum MHD_Result route(struct api_call *c)
{
	const char *p = c->path;

	if (strncmp(p, "batches/", 8) == 0) {
		const char *id = p + 8, *slash = strchr(id, '/');
		char buf[64];

		if (!slash || !streq(slash, "/receipt") || (size_t)(slash - id) >= sizeof(buf))
			return not_found(c->r);
		memcpy(buf, id, (size_t)(slash - id));
		buf[slash - id] = 0;
		return batch_receipt(c, buf);
	}
	return not_found(c->r);
}

enum MHD_Result hq_api_handle(struct hq_req *r)
{
	struct api_call c = {.r = r, .path = r->url + strlen("/api/v1/")};
	enum MHD_Result ret;
	int rc;

	rc = hq_req_db(r, &c.db);
	if (rc < 0)
		return hq_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "server.busy",
				      _("the server is busy; try again"));
	ret = route(&c);
	hq_req_db_put(r, c.db);
	return ret;
}
