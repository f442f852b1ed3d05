/* The tus server of the sync tests (tus-server.h). */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "retas-time.h"
#include "tus-server.h"

struct tus_server srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct sreq {
	uint8_t *buf;
	size_t len, cap;
	bool too_big;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
			     const char *const *headers)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(body ? strlen(body) : 0, (void *)(body ? body : ""),
					    MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Tus-Resumable", "1.0.0");
	if (body)
		MHD_add_response_header(r, "Content-Type", "application/json");
	for (size_t i = 0; headers && headers[i]; i += 2)
		MHD_add_response_header(r, headers[i], headers[i + 1]);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static int parse_id(const char *url)
{
	char *end;
	long id;

	if (strncmp(url, "/files/", 7) != 0)
		return -1;
	id = strtol(url + 7, &end, 10);
	if (*end || id < 0 || id >= TUS_SERVER_MAX_UPLOADS || !srv.uploads[id].used)
		return -1;
	return (int)id;
}

static enum MHD_Result handle(struct MHD_Connection *c, const char *url, const char *method,
			      struct sreq *q)
{
	const char *tr = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Tus-Resumable");
	char off[32], len[32], loc[32];
	int id;

	if (strcmp(url, "/healthz") == 0 && strcmp(method, "GET") == 0 &&
	    !(srv.knob.method && srv.knob.count > 0 && strcmp(srv.knob.method, "GET") == 0))
		return reply(c, 200, "{\"status\":\"ok\"}", NULL);
	if (strcmp(url, "/healthz") == 0)
		tr = "1.0.0";
	if (!tr || strcmp(tr, "1.0.0") != 0)
		return reply(c, 412, "{\"error\":\"tus.version\",\"message\":\"version\"}", NULL);
	if (srv.last_fault_ms && !srv.first_after_fault)
		srv.first_after_fault = retas_time_mono_ms();
	if (srv.knob.method && srv.knob.count > 0 && strcmp(srv.knob.method, method) == 0) {
		const char *h[] = {"Retry-After", srv.knob.retry_after, NULL};
		srv.knob.count--;
		srv.last_fault_ms = retas_time_mono_ms();
		srv.first_after_fault = 0;
		return reply(c, srv.knob.status, srv.knob.body, srv.knob.retry_after ? h : NULL);
	}
	if (strcmp(method, "POST") == 0 && strcmp(url, "/files/") == 0) {
		const char *ul = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upload-Length");
		const char *md = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upload-Metadata");
		struct upload *u = NULL;

		srv.creates++;
		for (id = 0; id < TUS_SERVER_MAX_UPLOADS && !u; id++)
			if (!srv.uploads[id].used)
				u = &srv.uploads[id];
		if (!u || !ul)
			return reply(c, 400, "{\"error\":\"tus.length\",\"message\":\"no\"}", NULL);
		memset(u, 0, sizeof(*u));
		u->used = true;
		u->length = strtoull(ul, NULL, 10);
		u->data = calloc(1, u->length + 1);
		snprintf(u->metadata, sizeof(u->metadata), "%s", md ? md : "");
		snprintf(loc, sizeof(loc), "/files/%d", id - 1);
		const char *h[] = {"Location", loc, "Upload-Offset", "0", NULL};
		return reply(c, 201, NULL, h);
	}
	id = parse_id(url);
	if (id < 0)
		return reply(c, 404, "{\"error\":\"tus.unknown\",\"message\":\"no such upload\"}",
			     NULL);
	struct upload *u = &srv.uploads[id];
	snprintf(off, sizeof(off), "%" PRIu64, u->offset);
	snprintf(len, sizeof(len), "%" PRIu64, u->length);
	if (strcmp(method, "HEAD") == 0) {
		char batch[16];
		const char *h[] = {"Upload-Offset",
				   off,
				   "Upload-Length",
				   len,
				   "Cache-Control",
				   "no-store",
				   NULL,
				   NULL,
				   NULL};
		srv.heads++;
		snprintf(batch, sizeof(batch), "b-%d", id);
		if (u->ingested)
			h[6] = "Retas-Batch", h[7] = batch;
		else if (u->rejected)
			h[6] = "Retas-Rejected", h[7] = u->rejected;
		return reply(c, 200, NULL, h);
	}
	if (strcmp(method, "DELETE") == 0) {
		srv.deletes++;
		free(u->data);
		memset(u, 0, sizeof(*u));
		return reply(c, 204, NULL, NULL);
	}
	if (strcmp(method, "PATCH") == 0) {
		const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
		const char *uo = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upload-Offset");
		const char *ck = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upload-Checksum");
		uint8_t sum[32];
		char b64[64];

		srv.patches++;
		if (!ct || strcmp(ct, "application/offset+octet-stream") != 0)
			return reply(c, 415, "{\"error\":\"tus.content-type\",\"message\":\"ct\"}",
				     NULL);
		if (!uo || strtoull(uo, NULL, 10) != u->offset)
			return reply(c, 409,
				     "{\"error\":\"tus.offset-mismatch\",\"message\":\"offset\"}",
				     NULL);
		if (q->len > u->length - u->offset)
			return reply(c, 413, "{\"error\":\"tus.too-long\",\"message\":\"long\"}",
				     NULL);
		crypto_hash_sha256(sum, q->buf, q->len);
		sodium_bin2base64(b64, sizeof(b64), sum, 32, sodium_base64_VARIANT_ORIGINAL);
		if (!ck || strncmp(ck, "sha256 ", 7) != 0 || strcmp(ck + 7, b64) != 0 ||
		    srv.corrupt_patches > 0) {
			if (srv.corrupt_patches > 0)
				srv.corrupt_patches--;
			return reply(
			    c, 460,
			    "{\"error\":\"tus.checksum\",\"message\":\"checksum mismatch\"}", NULL);
		}
		if (q->len)
			memcpy(u->data + u->offset, q->buf, q->len);
		u->offset += q->len;
		snprintf(off, sizeof(off), "%" PRIu64, u->offset);
		if (u->offset < u->length) {
			const char *h[] = {"Upload-Offset", off, NULL};
			return reply(c, 204, NULL, h);
		}
		/* The last byte (or an empty PATCH at the end): ingest, as head
		 * office does before it answers. */
		if (srv.fail_ingest > 0) {
			srv.fail_ingest--;
			return reply(c, 500, "{\"error\":\"store.write\",\"message\":\"disk\"}",
				     NULL);
		}
		char batch[16], receipt[64];
		snprintf(batch, sizeof(batch), "b-%d", id);
		snprintf(receipt, sizeof(receipt), "/api/v1/batches/%s/receipt", batch);
		u->ingested = true;
		const char *h[] = {"Upload-Offset", off,     "Retas-Batch", batch,
				   "Retas-Receipt", receipt, NULL};
		return reply(c, 204, NULL, h);
	}
	return reply(c, 405, "{\"error\":\"http.method\",\"message\":\"method\"}", NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct sreq *q = *con_cls;
	enum MHD_Result ret;

	if (!q) {
		*con_cls = calloc(1, sizeof(struct sreq));
		return *con_cls ? MHD_YES : MHD_NO;
	}
	if (*data_size) {
		pthread_mutex_lock(&srv.lock);
		srv.received += *data_size;
		pthread_mutex_unlock(&srv.lock);
		if (q->len + *data_size > TUS_SERVER_MAX_BODY) {
			q->too_big = true;
		} else {
			if (q->len + *data_size > q->cap) {
				q->cap = TUS_SERVER_MAX_BODY;
				q->buf = realloc(q->buf, q->cap);
			}
			memcpy(q->buf + q->len, data, *data_size);
			q->len += *data_size;
		}
		*data_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&srv.lock);
	ret = q->too_big ? reply(c, 413, NULL, NULL) : handle(c, url, method, q);
	pthread_mutex_unlock(&srv.lock);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct sreq *q = *con_cls;

	if (q) {
		free(q->buf);
		free(q);
	}
	*con_cls = NULL;
}

void server_start(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	const union MHD_DaemonInfo *info;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.mhd =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, port, NULL, NULL,
			     on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa,
			     MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_CONNECTION_TIMEOUT,
			     10u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
	assert_non_null(srv.mhd);
	info = MHD_get_daemon_info(srv.mhd, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	srv.port = info->port;
}

void server_start_fd(int listen_fd)
{
	srv.mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
				   on_request, NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd,
				   MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_NOTIFY_COMPLETED,
				   on_completed, NULL, MHD_OPTION_END);
	assert_non_null(srv.mhd);
	srv.port = 0;
}

void server_stop(void)
{
	if (srv.mhd)
		MHD_stop_daemon(srv.mhd);
	srv.mhd = NULL;
}

void server_reset(void)
{
	for (int i = 0; i < TUS_SERVER_MAX_UPLOADS; i++)
		free(srv.uploads[i].data);
	memset(srv.uploads, 0, sizeof(srv.uploads));
	memset(&srv.knob, 0, sizeof(srv.knob));
	srv.corrupt_patches = 0;
	srv.fail_ingest = 0;
	srv.creates = srv.heads = srv.patches = srv.deletes = 0;
	srv.received = 0;
	srv.last_fault_ms = srv.first_after_fault = 0;
}
