/*
 * /api/v1/ routing and the handlers that are thin: authentication, body
 * parsing and the mapping of module errors to HTTP statuses. The work is
 * in hq-ingest.c, hq-workflow.c, hq-report.c and hq-issuance.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq-api.h"
#include "hq-auth.h"
#include "hq-ingest.h"
#include "hq-issuance.h"
#include "hq-report.h"
#include "hq-workflow.h"
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

/* The staff member behind "Authorization: Bearer TOKEN"; on failure the
 * 401 is queued and *ret says what to return. */
static int staff_auth(struct api_call *c, struct hq_staff *out, enum MHD_Result *ret)
{
	const char *h = hq_req_header(c->r, MHD_HTTP_HEADER_AUTHORIZATION);
	struct retas_error err = {0};
	int rc;

	rc = hq_staff_auth(c->db, h && strncmp(h, "Bearer ", 7) == 0 ? h + 7 : NULL, out, &err);
	if (rc < 0) {
		_cleanup_(json_object_putp) json_object *o = json_object_new_object();
		struct MHD_Response *resp;
		const char *body;

		*ret = MHD_NO;
		if (!o)
			return rc;
		json_object_object_add(
		    o, "error", json_object_new_string(err.reason[0] ? err.reason : "internal"));
		json_object_object_add(o, "message", json_object_new_string(err.message));
		body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		resp = MHD_create_response_from_buffer(strlen(body), (void *)body,
						       MHD_RESPMEM_MUST_COPY);
		if (!resp)
			return rc;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
		*ret =
		    hq_reply(c->r, rc == -EPERM ? MHD_HTTP_UNAUTHORIZED : hq_http_status(rc), resp);
	}
	return rc;
}

/* The request body as a JSON object; an empty body is {}. */
static int body_json(struct api_call *c, json_object **out, enum MHD_Result *ret)
{
	json_object *o = NULL;

	if (c->r->body_len == 0) {
		*out = json_object_new_object();
		return *out ? 0 : -ENOMEM;
	}
	if (retas_json_parse(c->r->body, c->r->body_len, &o) < 0 ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*ret = hq_reply_error(c->r, MHD_HTTP_BAD_REQUEST, "http.json",
				      _("the request body is not a JSON object"));
		return -EINVAL;
	}
	*out = o;
	return 0;
}

/* Answers a module's result: the object with ok, or its error. Takes o. */
static enum MHD_Result answer(struct api_call *c, int rc, json_object *o, unsigned ok,
			      const struct retas_error *err)
{
	enum MHD_Result ret;

	if (rc < 0)
		ret = hq_reply_rerror(c->r, 0, err);
	else
		ret = hq_reply_json(c->r, ok, o);
	json_object_put(o);
	return ret;
}

static int parse_id(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;

	if (len == 0 || len > 15 || (s[0] == '0' && len > 1))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static bool is_method(struct api_call *c, const char *m)
{
	return streq(c->r->method, m);
}

/* usulan, usulan/{id}, usulan/{id}/approve, usulan/{id}/reject */
static enum MHD_Result route_usulan(struct api_call *c, const char *rest)
{
	struct retas_error err = {0};
	_cleanup_(json_object_putp) json_object *in = NULL;
	json_object *out = NULL;
	enum MHD_Result ret = MHD_NO;
	struct hq_staff who;
	const char *slash;
	int64_t id;
	int rc;

	if (staff_auth(c, &who, &ret) < 0)
		return ret;
	if (!*rest) {
		if (is_method(c, "GET")) {
			rc = hq_usulan_list(c->db, hq_req_arg(c->r, "state"), &out, &err);
			return answer(c, rc, out, MHD_HTTP_OK, &err);
		}
		if (!is_method(c, "POST"))
			return method_not_allowed(c->r, "GET, POST");
		if (body_json(c, &in, &ret) < 0)
			return ret;
		rc = hq_usulan_create(c->r->ctx, c->db, &who, in, retas_time_now_ms(), &out, &err);
		return answer(c, rc, out, MHD_HTTP_CREATED, &err);
	}
	if (*rest != '/')
		return not_found(c->r);
	rest++;
	slash = strchr(rest, '/');
	if (parse_id(rest, slash ? (size_t)(slash - rest) : strlen(rest), &id) < 0)
		return not_found(c->r);
	if (!slash) {
		if (!is_method(c, "GET"))
			return method_not_allowed(c->r, "GET");
		rc = hq_usulan_get(c->db, id, &out, &err);
		return answer(c, rc, out, MHD_HTTP_OK, &err);
	}
	if (!streq(slash, "/approve") && !streq(slash, "/reject"))
		return not_found(c->r);
	if (!is_method(c, "POST"))
		return method_not_allowed(c->r, "POST");
	if (body_json(c, &in, &ret) < 0)
		return ret;
	{
		const char *reason = NULL;

		retas_json_get_string(in, "reason", &reason);
		rc = hq_usulan_decide(c->db, &who, id, streq(slash, "/approve"), reason,
				      retas_time_now_ms(), &out, &err);
	}
	return answer(c, rc, out, MHD_HTTP_OK, &err);
}

/* True when path ends with suffix; *len is then the length before it. */
static bool ends_with(const char *path, const char *suffix, size_t *len)
{
	size_t n = strlen(path), s = strlen(suffix);

	if (n <= s || !streq(path + n - s, suffix))
		return false;
	*len = n - s;
	return true;
}

/*
 * surat-tugas, surat-tugas/{nomor}[/sign|/jws|/tanda-terima]. A nomor
 * holds slashes ("800/041/DUKCAPIL/2026"), sent as they are or as %2F: the
 * action is the last segment, the nomor everything between.
 */
static enum MHD_Result route_st(struct api_call *c, const char *rest)
{
	struct retas_error err = {0};
	_cleanup_(json_object_putp) json_object *in = NULL;
	_cleanup_(freep) char *nomor = NULL;
	json_object *out = NULL;
	enum MHD_Result ret = MHD_NO;
	struct hq_staff who;
	const char *action = "";
	size_t len;
	int rc;

	if (staff_auth(c, &who, &ret) < 0)
		return ret;
	if (!*rest) {
		if (!is_method(c, "POST"))
			return method_not_allowed(c->r, "POST");
		if (body_json(c, &in, &ret) < 0)
			return ret;
		rc = hq_st_draft(c->r->ctx, c->db, &who, in, retas_time_now_ms(), &out, &err);
		return answer(c, rc, out, MHD_HTTP_CREATED, &err);
	}
	if (*rest != '/' || !rest[1])
		return not_found(c->r);
	rest++;
	if (ends_with(rest, "/sign", &len))
		action = "sign";
	else if (ends_with(rest, "/jws", &len))
		action = "jws";
	else if (ends_with(rest, "/tanda-terima", &len))
		action = "tanda-terima";
	else
		len = strlen(rest);
	nomor = strndup(rest, len);
	if (!nomor)
		return MHD_NO;
	if (!*action) {
		if (!is_method(c, "GET"))
			return method_not_allowed(c->r, "GET");
		rc = hq_st_get(c->db, nomor, &out, &err);
		return answer(c, rc, out, MHD_HTTP_OK, &err);
	}
	if (streq(action, "jws")) {
		_cleanup_(freep) char *jws = NULL;

		if (!is_method(c, "GET"))
			return method_not_allowed(c->r, "GET");
		rc = hq_st_export(c->db, nomor, &jws, &err);
		if (rc < 0)
			return hq_reply_rerror(c->r, 0, &err);
		return hq_reply_buf(c->r, MHD_HTTP_OK, "application/jose", jws, strlen(jws));
	}
	if (!is_method(c, "POST"))
		return method_not_allowed(c->r, "POST");
	if (body_json(c, &in, &ret) < 0)
		return ret;
	if (streq(action, "sign")) {
		rc = hq_st_sign(c->r->ctx, c->db, &who, nomor, retas_time_now_ms(), &out, &err);
	} else {
		const char *nip = NULL;

		retas_json_get_string(in, "nip", &nip);
		rc = hq_st_tanda_terima(c->db, &who, nomor, nip, retas_time_now_ms(), &out, &err);
	}
	return answer(c, rc, out, MHD_HTTP_OK, &err);
}

/* ?format= first, then the Accept header; JSON by default. */
static int report_format(struct api_call *c, enum hq_report_format *out)
{
	const char *f = hq_req_arg(c->r, "format"), *accept;

	if (f)
		return hq_report_format_parse(f, out);
	accept = hq_req_header(c->r, MHD_HTTP_HEADER_ACCEPT);
	*out = HQ_REPORT_JSON;
	if (accept && strstr(accept, "application/pdf"))
		*out = HQ_REPORT_PDF;
	else if (accept && strstr(accept, "text/csv"))
		*out = HQ_REPORT_CSV;
	return 0;
}

/* reports, reports/{nomor} */
static enum MHD_Result route_reports(struct api_call *c, const char *rest)
{
	_cleanup_(json_object_putp) json_object *rep = NULL;
	_cleanup_(freep) uint8_t *body = NULL;
	struct retas_error err = {0};
	enum hq_report_format fmt;
	enum MHD_Result ret = MHD_NO;
	struct hq_staff who;
	size_t len = 0;
	int rc;

	if (staff_auth(c, &who, &ret) < 0)
		return ret;
	if (!is_method(c, "GET") && !is_method(c, "HEAD"))
		return method_not_allowed(c->r, "GET, HEAD");
	if (report_format(c, &fmt) < 0)
		return hq_reply_error(c->r, MHD_HTTP_BAD_REQUEST, "report.format",
				      _("format is json, csv or pdf"));
	if (!*rest || streq(rest, "/")) {
		struct hq_report_filter f = {
		    .from = hq_req_arg(c->r, "from"),
		    .to = hq_req_arg(c->r, "to"),
		    .npsn = hq_req_arg(c->r, "npsn"),
		    .kecamatan = hq_req_arg(c->r, "kecamatan"),
		};

		rc = hq_report_list(c->r->ctx, c->db, &f, retas_time_now_ms(), &rep, &err);
	} else if (*rest == '/') {
		rc = hq_report_get(c->r->ctx, c->db, rest + 1, retas_time_now_ms(), &rep, &err);
	} else {
		return not_found(c->r);
	}
	if (rc < 0)
		return hq_reply_rerror(c->r, 0, &err);
	rc = hq_report_render(rep, !*rest || streq(rest, "/"), fmt, &body, &len);
	if (rc < 0)
		return hq_reply_error(c->r, MHD_HTTP_INTERNAL_SERVER_ERROR, "report.render",
				      _("cannot render the report"));
	return hq_reply_buf(c->r, MHD_HTTP_OK, hq_report_content_type(fmt), body, len);
}

/* issuance, issuance/scan, issuance/{record}, issuance/{record}/{step} */
static enum MHD_Result route_issuance(struct api_call *c, const char *rest)
{
	_cleanup_(json_object_putp) json_object *in = NULL;
	struct retas_error err = {0};
	json_object *out = NULL;
	enum MHD_Result ret = MHD_NO;
	struct hq_staff who;
	const char *slash;
	char id[40];
	int rc;

	if (staff_auth(c, &who, &ret) < 0)
		return ret;
	if (!*rest) {
		if (!is_method(c, "GET"))
			return method_not_allowed(c->r, "GET");
		rc = hq_issuance_summary(c->db, hq_req_arg(c->r, "nomor"), retas_time_now_ms(),
					 &out);
		if (rc < 0)
			retas_error_set(&err, rc, "store.read", N_("cannot read the store"));
		return answer(c, rc, out, MHD_HTTP_OK, &err);
	}
	if (*rest != '/')
		return not_found(c->r);
	rest++;
	if (streq(rest, "scan")) {
		const char *token = NULL;

		if (!is_method(c, "POST"))
			return method_not_allowed(c->r, "POST");
		if (body_json(c, &in, &ret) < 0)
			return ret;
		if (retas_json_get_string(in, "token", &token) < 0)
			return hq_reply_error(c->r, MHD_HTTP_BAD_REQUEST, "qr.format",
					      _("the body carries the receipt's token"));
		rc = hq_issuance_scan(c->db, &who, token, retas_time_now_ms(), &out, &err);
		return answer(c, rc, out, MHD_HTTP_OK, &err);
	}
	slash = strchr(rest, '/');
	if ((slash ? (size_t)(slash - rest) : strlen(rest)) != 36)
		return not_found(c->r);
	memcpy(id, rest, 36);
	id[36] = 0;
	if (!slash) {
		if (!is_method(c, "GET"))
			return method_not_allowed(c->r, "GET");
		rc = hq_issuance_get(c->db, id, retas_time_now_ms(), &out, &err);
		return answer(c, rc, out, MHD_HTTP_OK, &err);
	}
	{
		enum hq_issue_step step;

		if (hq_issue_step_parse(slash + 1, &step) < 0)
			return not_found(c->r);
		if (!is_method(c, "POST"))
			return method_not_allowed(c->r, "POST");
		rc = hq_issuance_step(c->db, &who, id, step, retas_time_now_ms(), &out, &err);
	}
	return answer(c, rc, out, MHD_HTTP_OK, &err);
}

static enum MHD_Result route(struct api_call *c)
{
	const char *p = c->path;

	if (strncmp(p, "reports", 7) == 0 && (p[7] == 0 || p[7] == '/'))
		return route_reports(c, p + 7);
	if (strncmp(p, "issuance", 8) == 0 && (p[8] == 0 || p[8] == '/'))
		return route_issuance(c, p + 8);

	if (strncmp(p, "usulan", 6) == 0 && (p[6] == 0 || p[6] == '/'))
		return route_usulan(c, p + 6);
	if (strncmp(p, "surat-tugas", 11) == 0 && (p[11] == 0 || p[11] == '/'))
		return route_st(c, p + 11);

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
