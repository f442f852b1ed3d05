/*
 * Requests per second on retas-hq's GET /healthz under a bounded local load
 * (a fixed number of keep-alive client threads, a fixed number of
 * requests), against a bare libmicrohttpd daemon with the same threading (a
 * thread per connection) answering a constant 200 in the same run: the
 * ratio is what routing, the per-request state and the log line cost.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hq-ctx.h"
#include "hq-server.h"
#include "retas-log.h"

#define CLIENTS 4
#define REQUESTS 6000 /* per client */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	return s * n;
}

struct client {
	char url[64];
	int failures;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	CURL *h = curl_easy_init();

	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	for (int i = 0; i < REQUESTS; i++) {
		long code = 0;

		if (curl_easy_perform(h) != CURLE_OK)
			c->failures++;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200)
			c->failures++;
	}
	curl_easy_cleanup(h);
	return NULL;
}

static double load(unsigned port)
{
	pthread_t th[CLIENTS];
	struct client cl[CLIENTS];
	double t0 = now_s(), t;
	int failures = 0;

	for (int i = 0; i < CLIENTS; i++) {
		memset(&cl[i], 0, sizeof(cl[i]));
		snprintf(cl[i].url, sizeof(cl[i].url), "http://127.0.0.1:%u/healthz", port);
		pthread_create(&th[i], NULL, client_main, &cl[i]);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(th[i], NULL);
		failures += cl[i].failures;
	}
	t = now_s() - t0;
	if (failures) {
		fprintf(stderr, "bench-hq-healthz: %d failed requests\n", failures);
		exit(1);
	}
	return CLIENTS * REQUESTS / t;
}

static enum MHD_Result bare(void *cls, struct MHD_Connection *conn, const char *url,
			    const char *method, const char *version, const char *data, size_t *size,
			    void **req)
{
	static const char body[] = "{\"status\":\"ok\"}";
	static int marker;
	struct MHD_Response *r;
	enum MHD_Result ret;

	/* Answer on the second call, as retas-hq does: answering before
	 * MHD knows there is no body makes it close the connection. */
	if (!*req) {
		*req = &marker;
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int main(void)
{
	char dir[] = "/tmp/retas-bench-healthz-XXXXXX", path[128], cmd[160];
	struct retas_error err = {0};
	struct hq_ctx *ctx = NULL;
	struct hq_server *srv = NULL;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	double ours, base;
	int null_fd, saved;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/hq", dir);
	if (hq_ctx_init_dir(path, &err) < 0 || hq_ctx_open(path, &ctx, &err) < 0 ||
	    hq_server_start(ctx, "127.0.0.1:0", &srv, &err) < 0) {
		fprintf(stderr, "bench-hq-healthz: %s\n", err.message);
		return 1;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
				 MHD_USE_POLL | MHD_USE_ERROR_LOG,
			     0, NULL, NULL, bare, NULL, MHD_OPTION_END);
	info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	if (!info)
		return 1;
	/* The server logs a line per request, as in production; keep the
	 * cost, drop the text. */
	fflush(stderr);
	saved = dup(2);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	dup2(null_fd, 2);
	/* alternate, so neither side gets the warm or the cold half */
	ours = base = 0;
	for (int i = 0; i < 2; i++) {
		base += load(info->port) / 2;
		ours += load(hq_server_port(srv)) / 2;
	}
	dup2(saved, 2);
	printf("%d keep-alive clients x %d requests, %u server threads\n", CLIENTS, REQUESTS,
	       ctx->cfg.threads);
	printf("retas-hq GET /healthz: %8.0f requests/s\n", ours);
	printf("bare libmicrohttpd:    %8.0f requests/s\n", base);
	printf("ratio retas-hq/bare: %.2f\n", ours / base);
	MHD_stop_daemon(d);
	hq_server_stop(srv);
	hq_ctx_free(ctx);
	curl_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench-hq-healthz: cannot remove %s\n", dir);
	close(null_fd);
	close(saved);
	return 0;
}
