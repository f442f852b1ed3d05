/*
 * The HTTP server: libmicrohttpd with an internal thread pool, optional TLS,
 * one log line per request, JSON error bodies. A request's body arrives in
 * pieces; handlers see it whole (JSON API, capped at server.max_body) or as
 * a stream (tus PATCH). Every handler answers through hq_reply_* so the
 * status is remembered for the log line.
 */
#pragma once

#include <json-c/json.h>
#include <microhttpd.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "hq-ctx.h"
#include "hq-store.h"
#include "retas-error.h"

/* The largest body read and dropped after an early answer; a larger one
 * has its connection closed instead. */
#define HQ_DRAIN_MAX (32u * 1024 * 1024)
/* Connections served at once (one thread each); more are refused at accept. */
#define HQ_MAX_CONNECTIONS 512u

struct hq_server;
struct hq_tus_req;

struct hq_req {
	struct hq_server *srv;
	struct hq_ctx *ctx;
	struct hq_pool *pool;
	struct MHD_Connection *conn;
	char method[16];
	char *url;
	int64_t start_us;
	unsigned status; /* 0 until a response is queued */
	uint64_t bytes_in;
	int route;
	/* JSON API body */
	char *body;
	size_t body_len, body_cap;
	/* tus state, owned by hq-tus.c */
	struct hq_tus_req *tus;
	bool queued;
	/* an answer given before the body was read: kept until the body is
	 * drained, so the client reads it instead of a reset connection */
	bool first_call;
	struct MHD_Response *held;
	unsigned held_status;
};

/* Starts serving ctx on listen (HOST:PORT, port 0 for any free port). */
int hq_server_start(struct hq_ctx *ctx, const char *listen, struct hq_server **out,
		    struct retas_error *err);
uint16_t hq_server_port(const struct hq_server *s);
bool hq_server_tls(const struct hq_server *s);
/* Stops accepting, finishes running requests, frees. NULL is a no-op. */
void hq_server_stop(struct hq_server *s);

/* Maps a negative errno of a handler to the HTTP status it answers. */
unsigned hq_http_status(int code);

/* Header value of the request, or NULL. */
const char *hq_req_header(struct hq_req *r, const char *name);
/* Query argument, or NULL. */
const char *hq_req_arg(struct hq_req *r, const char *name);

/* Queues resp with status and the headers every answer carries; takes
 * ownership of resp. Returns an MHD_Result for the access handler. */
enum MHD_Result hq_reply(struct hq_req *r, unsigned status, struct MHD_Response *resp);
/* A copy of buf as the body. */
enum MHD_Result hq_reply_buf(struct hq_req *r, unsigned status, const char *content_type,
			     const void *buf, size_t len);
/* obj serialised (borrowed). */
enum MHD_Result hq_reply_json(struct hq_req *r, unsigned status, json_object *obj);
/* {"error": reason, "message": text}. */
enum MHD_Result hq_reply_error(struct hq_req *r, unsigned status, const char *reason,
			       const char *message);
/* The same from a retas_error; the status from its code when status is 0. */
enum MHD_Result hq_reply_rerror(struct hq_req *r, unsigned status, const struct retas_error *err);

/* A pooled database connection for the duration of one step; give it back
 * with hq_req_db_put. -ETIMEDOUT when the pool stays busy. */
int hq_req_db(struct hq_req *r, sqlite3 **db);
void hq_req_db_put(struct hq_req *r, sqlite3 *db);

/*
 * Marks an upload id as being written by this request, which gets a
 * generation *gen; false when another request holds it. With supersede, a
 * holder that is not working right now (waiting for more of its body) is
 * pushed aside: its generation is no longer the owner's, so it touches
 * neither the staging file nor the store again (hq_server_hold fails) and
 * leaves the claim alone. Released with hq_server_release by its owner.
 */
bool hq_server_claim(struct hq_server *s, const char *id, bool supersede, uint64_t *gen);
/* While the claim's owner is gen: locks it for one piece of work (a write,
 * a commit) and returns the handle for hq_server_unhold; NULL when gen was
 * superseded or released. */
struct hq_claim;
struct hq_claim *hq_server_hold(struct hq_server *s, const char *id, uint64_t gen);
void hq_server_unhold(struct hq_claim *c);
void hq_server_release(struct hq_server *s, const char *id, uint64_t gen);
