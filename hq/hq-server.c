/*
 * libmicrohttpd glue: listening, TLS, the access handler's three phases
 * (headers, body pieces, end of body), the per-request log line and the
 * reply helpers. Routing is by path prefix: /healthz, /tus/ (hq-tus.c),
 * /api/v1/ (hq-api.c); anything else is a JSON 404.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "hq-api.h"
#include "hq-server.h"
#include "hq-tus.h"
#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-log.h"
#include "retas-util.h"

enum {
	ROUTE_NOT_FOUND,
	ROUTE_HEALTHZ,
	ROUTE_TUS,
	ROUTE_API,
};

struct hq_server {
	struct hq_ctx *ctx;
	struct hq_pool *pool;
	struct MHD_Daemon *mhd;
	char *tls_cert, *tls_key;
	uint16_t port;
	/* upload ids a PATCH or DELETE is working on (see hq_server_claim) */
	pthread_mutex_t claims_lock;
	struct hq_claim **claims;
	size_t n_claims, cap_claims;
	uint64_t next_gen;
};

/* One upload being written. gen names the request that owns it; work
 * holds while that request touches the staging file or the store. Lock
 * order: claims_lock, then work. */
struct hq_claim {
	char id[40];
	uint64_t gen;
	pthread_mutex_t work;
};

static struct hq_claim *find_claim(struct hq_server *s, const char *id, size_t *index)
{
	for (size_t i = 0; i < s->n_claims; i++) {
		if (streq(s->claims[i]->id, id)) {
			if (index)
				*index = i;
			return s->claims[i];
		}
	}
	return NULL;
}

bool hq_server_claim(struct hq_server *s, const char *id, bool supersede, uint64_t *gen)
{
	struct hq_claim *c;
	bool ok = false;

	pthread_mutex_lock(&s->claims_lock);
	c = find_claim(s, id, NULL);
	if (c) {
		/* The holder is between two reads of its body (work is free):
		 * a PATCH stuck on a connection that died without a FIN looks
		 * exactly like that, and its van has come back. */
		if (supersede && pthread_mutex_trylock(&c->work) == 0) {
			c->gen = ++s->next_gen;
			*gen = c->gen;
			pthread_mutex_unlock(&c->work);
			ok = true;
		}
		goto out;
	}
	if (s->n_claims == s->cap_claims) {
		size_t cap = s->cap_claims ? s->cap_claims * 2 : 16;
		struct hq_claim **nc = realloc(s->claims, cap * sizeof(*nc));

		if (!nc)
			goto out;
		s->claims = nc;
		s->cap_claims = cap;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto out;
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->gen = ++s->next_gen;
	pthread_mutex_init(&c->work, NULL);
	s->claims[s->n_claims++] = c;
	*gen = c->gen;
	ok = true;
out:
	pthread_mutex_unlock(&s->claims_lock);
	return ok;
}

struct hq_claim *hq_server_hold(struct hq_server *s, const char *id, uint64_t gen)
{
	struct hq_claim *c;

	pthread_mutex_lock(&s->claims_lock);
	c = find_claim(s, id, NULL);
	if (c && c->gen == gen)
		pthread_mutex_lock(&c->work);
	else
		c = NULL;
	pthread_mutex_unlock(&s->claims_lock);
	return c;
}

void hq_server_unhold(struct hq_claim *c)
{
	if (c)
		pthread_mutex_unlock(&c->work);
}

void hq_server_release(struct hq_server *s, const char *id, uint64_t gen)
{
	struct hq_claim *c;
	size_t i;

	pthread_mutex_lock(&s->claims_lock);
	c = find_claim(s, id, &i);
	if (c && c->gen == gen) {
		/* Nobody holds work without claims_lock first, but a request
		 * just superseded may be between the two. */
		pthread_mutex_lock(&c->work);
		pthread_mutex_unlock(&c->work);
		pthread_mutex_destroy(&c->work);
		free(c);
		s->claims[i] = s->claims[--s->n_claims];
	}
	pthread_mutex_unlock(&s->claims_lock);
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

unsigned hq_http_status(int code)
{
	switch (code) {
	case -EINVAL:
		return MHD_HTTP_BAD_REQUEST;
	case -EPERM:
		return MHD_HTTP_UNAUTHORIZED;
	case -EACCES:
		return MHD_HTTP_FORBIDDEN;
	case -ENOENT:
		return MHD_HTTP_NOT_FOUND;
	case -EEXIST:
	case -EALREADY:
		return MHD_HTTP_CONFLICT;
	case -E2BIG:
	case -EFBIG:
		return MHD_HTTP_CONTENT_TOO_LARGE;
	case -EBADMSG:
	case -EPROTO:
	case -EKEYREJECTED:
		return MHD_HTTP_UNPROCESSABLE_CONTENT;
	case -ETIMEDOUT:
	case -EBUSY:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	case -ENOSPC:
		return MHD_HTTP_INSUFFICIENT_STORAGE;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

const char *hq_req_header(struct hq_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *hq_req_arg(struct hq_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* A body that may follow the headers, and is small enough to read and drop
 * rather than cut the connection on. A client that sent "Expect:
 * 100-continue" sends no body until told to: answered at once, it learns
 * the status without spending the body (a refused 1 MiB chunk on a slow
 * link is seconds of airtime). */
static bool drainable_body(struct hq_req *r)
{
	const char *cl =
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);
	const char *expect =
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);

	if (expect && strcasecmp(expect, "100-continue") == 0)
		return false;
	if (te && strstr(te, "chunked"))
		return true;
	if (!cl)
		return false;
	return strtoull(cl, NULL, 10) > 0 && strtoull(cl, NULL, 10) <= HQ_DRAIN_MAX;
}

enum MHD_Result hq_reply(struct hq_req *r, unsigned status, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	if (r->route == ROUTE_TUS)
		MHD_add_response_header(resp, "Tus-Resumable", "1.0.0");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->first_call && !r->held && drainable_body(r)) {
		r->held = resp;
		r->held_status = status;
		r->status = status;
		return MHD_YES;
	}
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES) {
		r->status = status;
		r->queued = true;
	}
	return ret;
}

enum MHD_Result hq_reply_buf(struct hq_req *r, unsigned status, const char *content_type,
			     const void *buf, size_t len)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, (void *)buf, MHD_RESPMEM_MUST_COPY);

	if (!resp)
		return MHD_NO;
	if (content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	return hq_reply(r, status, resp);
}

enum MHD_Result hq_reply_json(struct hq_req *r, unsigned status, json_object *obj)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
								JSON_C_TO_STRING_NOSLASHESCAPE);
	struct MHD_Response *resp;

	if (!s)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return hq_reply(r, status, resp);
}

enum MHD_Result hq_reply_error(struct hq_req *r, unsigned status, const char *reason,
			       const char *message)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();

	if (!o)
		return MHD_NO;
	json_object_object_add(o, "error", json_object_new_string(reason));
	json_object_object_add(o, "message", json_object_new_string(message));
	return hq_reply_json(r, status, o);
}

enum MHD_Result hq_reply_rerror(struct hq_req *r, unsigned status, const struct retas_error *err)
{
	if (!status)
		status = hq_http_status(err->code);
	if (!err->reason[0])
		return hq_reply_error(r, status, "internal", _("internal error"));
	return hq_reply_error(r, status, err->reason, err->message);
}

int hq_req_db(struct hq_req *r, sqlite3 **db)
{
	return hq_pool_get(r->pool, 10000, db);
}

void hq_req_db_put(struct hq_req *r, sqlite3 *db)
{
	hq_pool_put(r->pool, db);
}

static int route_of(const char *url)
{
	if (streq(url, "/healthz"))
		return ROUTE_HEALTHZ;
	if (streq(url, "/tus") || strncmp(url, "/tus/", 5) == 0)
		return ROUTE_TUS;
	if (strncmp(url, "/api/v1/", 8) == 0)
		return ROUTE_API;
	return ROUTE_NOT_FOUND;
}

static enum MHD_Result healthz(struct hq_req *r)
{
	static const char body[] = "{\"status\":\"ok\"}";

	if (!streq(r->method, "GET") && !streq(r->method, "HEAD"))
		return hq_reply_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "http.method",
				      _("only GET and HEAD are allowed here"));
	return hq_reply_buf(r, MHD_HTTP_OK, "application/json", body, sizeof(body) - 1);
}

static enum MHD_Result body_append(struct hq_req *r, const char *data, size_t len)
{
	if (r->body_len + len > r->ctx->cfg.max_json) {
		free(r->body);
		r->body = NULL;
		r->body_len = r->body_cap = 0;
		return hq_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "http.too-large",
				      _("the request body is too large"));
	}
	if (r->body_len + len + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 1024;
		char *nb;

		while (cap < r->body_len + len + 1)
			cap *= 2;
		nb = realloc(r->body, cap);
		if (!nb)
			return MHD_NO;
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = 0;
	return MHD_YES;
}

static enum MHD_Result first_call(struct hq_req *r)
{
	const char *cl;

	switch (r->route) {
	case ROUTE_TUS:
		return hq_tus_begin(r);
	case ROUTE_API:
		/* Refuse an announced oversize body before reading it. */
		cl = hq_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > r->ctx->cfg.max_json)
			return hq_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "http.too-large",
					      _("the request body is too large"));
		return MHD_YES;
	default:
		return MHD_YES;
	}
}

static enum MHD_Result last_call(struct hq_req *r)
{
	switch (r->route) {
	case ROUTE_HEALTHZ:
		return healthz(r);
	case ROUTE_TUS:
		return hq_tus_finish(r);
	case ROUTE_API:
		return hq_api_handle(r);
	default:
		return hq_reply_error(r, MHD_HTTP_NOT_FOUND, "http.not-found",
				      _("there is nothing at this address"));
	}
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **req_cls)
{
	struct hq_server *s = cls;
	struct hq_req *r = *req_cls;
	enum MHD_Result ret;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->srv = s;
		r->ctx = s->ctx;
		r->pool = s->pool;
		r->conn = conn;
		r->start_us = mono_us();
		snprintf(r->method, sizeof(r->method), "%s", method);
		r->url = strdup(url);
		if (!r->url) {
			free(r);
			return MHD_NO;
		}
		r->route = route_of(url);
		*req_cls = r;
		r->first_call = true;
		ret = first_call(r);
		r->first_call = false;
		return ret;
	}
	if (r->held) {
		struct MHD_Response *resp = r->held;

		/* Answered before the body: drop the body, then answer. */
		r->bytes_in += *upload_data_size;
		if (*upload_data_size > 0 && r->bytes_in <= HQ_DRAIN_MAX) {
			*upload_data_size = 0;
			return MHD_YES;
		}
		*upload_data_size = 0;
		r->held = NULL;
		ret = MHD_queue_response(conn, r->held_status, resp);
		MHD_destroy_response(resp);
		if (ret == MHD_YES)
			r->queued = true;
		return ret;
	}
	if (r->queued) {
		/* Answered early (an error before the body): drop the rest. */
		r->bytes_in += *upload_data_size;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t len = *upload_data_size;

		r->bytes_in += len;
		*upload_data_size = 0;
		if (r->route == ROUTE_TUS)
			ret = hq_tus_data(r, upload_data, len);
		else if (r->route == ROUTE_API)
			ret = body_append(r, upload_data, len);
		else
			ret = MHD_YES; /* not-found and healthz ignore bodies */
		return ret;
	}
	return last_call(r);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			      enum MHD_RequestTerminationCode toe)
{
	struct hq_req *r = *req_cls;
	const union MHD_ConnectionInfo *ci;
	char peer[INET6_ADDRSTRLEN] = "?";

	if (!r)
		return;
	if (r->route == ROUTE_TUS)
		hq_tus_done(r, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, peer,
				  sizeof(peer));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, peer,
				  sizeof(peer));
	}
	log_info("%s %s %u in=%llu %.1fms %s%s", r->method, r->url, r->status,
		 (unsigned long long)r->bytes_in, (double)(mono_us() - r->start_us) / 1000.0, peer,
		 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (interrupted)");
	if (r->held)
		MHD_destroy_response(r->held);
	free(r->body);
	free(r->url);
	free(r);
	*req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = 0;
	log_debug("microhttpd: %s", line);
}

static int read_pem(const char *path, char **out, struct retas_error *err)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long len;
	int r = 0;

	if (!f)
		return retas_error_set(err, -errno, "hq.tls", N_("cannot read %s: %s"), path,
				       strerror(errno));
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || len > 1024 * 1024 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		r = retas_error_set(err, -EINVAL, "hq.tls", N_("cannot read %s"), path);
		goto out;
	}
	buf = calloc(1, (size_t)len + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		r = retas_error_set(err, -EIO, "hq.tls", N_("cannot read %s"), path);
		goto out;
	}
	*out = buf;
out:
	fclose(f);
	return r;
}

/* HOST:PORT or [V6]:PORT into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen)
{
	_cleanup_(freep) char *copy = strdup(listen ? listen : "");
	struct addrinfo hints = {.ai_flags = AI_NUMERICSERV | AI_PASSIVE,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char *host, *port, *colon;

	if (!copy)
		return -ENOMEM;
	colon = strrchr(copy, ':');
	if (!colon || !colon[1])
		return -EINVAL;
	*colon = 0;
	port = colon + 1;
	host = copy;
	if (host[0] == '[') {
		size_t hl = strlen(host);

		if (hl < 3 || host[hl - 1] != ']')
			return -EINVAL;
		host[hl - 1] = 0;
		host++;
	}
	for (const char *p = port; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	if (strtoul(port, NULL, 10) > 65535)
		return -EINVAL;
	if (getaddrinfo(*host ? host : NULL, port, &hints, &res) != 0 || !res)
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int hq_server_start(struct hq_ctx *ctx, const char *listen, struct hq_server **out,
		    struct retas_error *err)
{
	struct hq_server *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss = {0};
	socklen_t sslen = 0;
	const union MHD_DaemonInfo *info;
	/* A thread per connection: a slow request (a large PDF report) never
	 * holds up the bytes of other connections, as it would behind a
	 * shared worker thread. The store pool bounds the work done at once;
	 * the connection limit bounds the threads. */
	unsigned flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	int r;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->claims_lock, NULL);
	s->ctx = ctx;
	if (!listen)
		listen = ctx->cfg.listen;
	r = parse_listen(listen, &ss, &sslen);
	if (r < 0) {
		r = retas_error_set(err, r, "hq.listen",
				    N_("cannot use '%s' as HOST:PORT to listen on"), listen);
		goto fail;
	}
	/* Requests wait up to 10 s for one of these, then get 503. */
	r = hq_pool_new(ctx->db_path, ctx->cfg.threads, &s->pool, err);
	if (r < 0)
		goto fail;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES)
		flags |= MHD_USE_POLL;
	if (ctx->cfg.tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			r = retas_error_set(err, -ENOTSUP, "hq.tls",
					    N_("this libmicrohttpd has no TLS support"));
			goto fail;
		}
		r = read_pem(ctx->cfg.tls_cert, &s->tls_cert, err);
		if (r == 0)
			r = read_pem(ctx->cfg.tls_key, &s->tls_key, err);
		if (r < 0)
			goto fail;
		flags |= MHD_USE_TLS;
	}
	s->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, access_handler, s, MHD_OPTION_SOCK_ADDR, &ss,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ctx->cfg.request_timeout_s,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HQ_MAX_CONNECTIONS, MHD_OPTION_NOTIFY_COMPLETED,
	    request_completed, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
	    s->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->tls_cert,
	    MHD_OPTION_HTTPS_MEM_KEY, s->tls_key, MHD_OPTION_END);
	if (!s->mhd) {
		r = retas_error_set(err, -EADDRNOTAVAIL, "hq.listen",
				    N_("cannot serve on %s (address in use, or TLS files invalid)"),
				    listen);
		goto fail;
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	(void)sslen;
	*out = s;
	return 0;
fail:
	hq_server_stop(s);
	return r;
}

uint16_t hq_server_port(const struct hq_server *s)
{
	return s->port;
}

bool hq_server_tls(const struct hq_server *s)
{
	return s->tls_cert != NULL;
}

void hq_server_stop(struct hq_server *s)
{
	if (!s)
		return;
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	hq_pool_free(s->pool);
	free(s->tls_cert);
	free(s->tls_key);
	for (size_t i = 0; i < s->n_claims; i++) {
		pthread_mutex_destroy(&s->claims[i]->work);
		free(s->claims[i]);
	}
	free(s->claims);
	pthread_mutex_destroy(&s->claims_lock);
	free(s);
}
