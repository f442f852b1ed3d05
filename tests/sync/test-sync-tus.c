/*
 * The sync engine's tus client against a small tus 1.0.0 server written
 * here on libmicrohttpd, answering with the status codes head office uses
 * (201 + relative Location, 204 + Upload-Offset, 409 offset mismatch, 460
 * checksum mismatch, JSON error bodies), with knobs for the failures the
 * client must survive. Cuts and resets go through tests/tools/faultproxy.
 * The client runs exactly as in retasd: sd-event loop, libcurl multi.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "retas-time.h"
#include "sync-fixture.h"
#include "tus-server.h"
#include "sync-probe.h"
#include "sync-tus.h"

#define CHUNK (64 * 1024)
#define FILE_LEN (5 * CHUNK + 1234)
#define MAX_UPLOADS TUS_SERVER_MAX_UPLOADS

extern char **environ;

/* ---- the client side ---- */

struct client {
	sd_event *event;
	struct sync_http *http;
	struct sync_tus_config cfg;
	struct sync_tus *tus;
	char endpoint[64];
	char path[64];
	uint8_t *data;
	/* the caller's store */
	char *saved_url;
	uint64_t saved_offset;
	unsigned saves;
	/* what happened */
	bool done;
	enum sync_tus_end end;
	int result;
	struct retas_error err;
	unsigned waits;
	uint64_t last_delay;
	int64_t wait_started;
	unsigned progress_calls;
	uint64_t last_progress;
	uint32_t rng;
	/* optional hook after each save */
	void (*on_save)(struct client *c);
	unsigned restarts;
	uint16_t server_port;
};

static int c_load(void *ud, char **url, uint64_t *offset)
{
	struct client *c = ud;

	*url = c->saved_url ? strdup(c->saved_url) : NULL;
	*offset = c->saved_offset;
	return 0;
}

static int c_save(void *ud, const char *url, uint64_t offset)
{
	struct client *c = ud;

	free(c->saved_url);
	c->saved_url = url ? strdup(url) : NULL;
	c->saved_offset = offset;
	c->saves++;
	if (c->on_save)
		c->on_save(c);
	return 0;
}

static void c_progress(void *ud, const struct sync_tus_progress *p)
{
	struct client *c = ud;

	assert_true(p->sent <= p->total);
	assert_int_equal(p->total, FILE_LEN);
	c->progress_calls++;
	c->last_progress = p->sent;
}

static void c_waiting(void *ud, uint64_t delay_ms, const struct retas_error *why)
{
	struct client *c = ud;

	c->waits++;
	c->last_delay = delay_ms;
	c->wait_started = retas_time_mono_ms();
}

static void c_done(void *ud, enum sync_tus_end end, int r, const struct retas_error *err)
{
	struct client *c = ud;

	c->done = true;
	c->end = end;
	c->result = r;
	if (err)
		c->err = *err;
}

static uint32_t c_random(void *ud)
{
	struct client *c = ud;

	c->rng = c->rng * 1664525u + 1013904223u;
	return c->rng;
}

static int64_t c_now(void *ud)
{
	return retas_time_now_ms();
}

static const struct sync_tus_ops client_ops = {
    .load = c_load,
    .save = c_save,
    .progress = c_progress,
    .waiting = c_waiting,
    .done = c_done,
    .random = c_random,
    .now_ms = c_now,
};

static void client_init(struct client *c, uint16_t port)
{
	int fd;

	memset(c, 0, sizeof(*c));
	c->rng = 12345;
	snprintf(c->endpoint, sizeof(c->endpoint), "http://127.0.0.1:%u/files/", port);
	c->cfg = (struct sync_tus_config){
	    .http = {.allow_plain_http = true,
		     .connect_timeout_ms = 2000,
		     .low_speed_limit = 1024,
		     .low_speed_time_s = 5},
	    .endpoint = c->endpoint,
	    .chunk_size = CHUNK,
	    .retry = {.base_ms = 20, .cap_ms = 200, .max_attempts = 12},
	};
	snprintf(c->path, sizeof(c->path), "/tmp/test-sync-tus-XXXXXX");
	fd = mkstemp(c->path);
	assert_true(fd >= 0);
	c->data = malloc(FILE_LEN);
	for (size_t i = 0; i < FILE_LEN; i++)
		c->data[i] = (uint8_t)(i * 7 + i / 251);
	assert_int_equal(write(fd, c->data, FILE_LEN), FILE_LEN);
	close(fd);
	assert_int_equal(sd_event_new(&c->event), 0);
	assert_int_equal(sync_http_new(c->event, &c->http), 0);
	assert_int_equal(sync_tus_new(c->http, &c->cfg, &client_ops, c, &c->tus), 0);
}

static void client_free(struct client *c)
{
	sync_tus_free(c->tus);
	sync_http_free(c->http);
	sd_event_unref(c->event);
	unlink(c->path);
	free(c->data);
	free(c->saved_url);
}

/* Runs the loop until done, within a deadline. */
static void client_run(struct client *c, int timeout_ms)
{
	int64_t deadline = retas_time_mono_ms() + timeout_ms;

	while (!c->done) {
		int64_t left = deadline - retas_time_mono_ms();
		if (left <= 0)
			fail_msg("no result within %d ms", timeout_ms);
		assert_true(sd_event_run(c->event, (uint64_t)left * 1000) >= 0);
	}
}

static const char *const metadata[] = {"batch", "0193a1b2-batch", "filename", "b.retas", NULL};

static void assert_uploaded(struct client *c)
{
	struct upload *u = NULL;
	struct sync_tus_stats st;

	if (c->result != 0)
		fail_msg("upload failed: %s (%s)", c->err.message, c->err.reason);
	assert_int_equal(c->end, SYNC_TUS_UPLOADED);
	for (int i = 0; i < MAX_UPLOADS; i++)
		if (srv.uploads[i].used && srv.uploads[i].offset == FILE_LEN)
			u = &srv.uploads[i];
	assert_non_null(u);
	assert_true(u->ingested);
	assert_non_null(sync_tus_batch_id(c->tus));
	assert_string_equal(sync_tus_batch_id(c->tus) + 2, strrchr(c->saved_url, '/') + 1);
	assert_non_null(strstr(sync_tus_receipt_path(c->tus), "/api/v1/batches/b-"));
	assert_int_equal(u->length, FILE_LEN);
	assert_memory_equal(u->data, c->data, FILE_LEN);
	assert_non_null(c->saved_url);
	assert_int_equal(c->saved_offset, FILE_LEN);
	sync_tus_get_stats(c->tus, &st);
	assert_int_equal(st.offset, FILE_LEN);
	assert_int_equal(st.length, FILE_LEN);
}

static void tus_upload_completes(void **state)
{
	char url[64];
	struct client c;
	struct sync_tus_stats st;

	server_reset();
	server_start(0);
	client_init(&c, srv.port);
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	/* Nothing runs before the loop does. */
	assert_false(c.done);
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), -EBUSY);
	client_run(&c, 20000);
	assert_uploaded(&c);
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.creates, 1);
	assert_int_equal(st.heads, 0);
	assert_int_equal(st.patches, 6);
	assert_int_equal(st.body_bytes, FILE_LEN);
	assert_int_equal(st.failures, 0);
	assert_int_equal(srv.received, FILE_LEN);
	/* "batch 0193a1b2-batch,filename b.retas" in base64. */
	assert_string_equal(srv.uploads[0].metadata,
			    "batch MDE5M2ExYjItYmF0Y2g=,filename Yi5yZXRhcw==");
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/files/0", srv.port);
	assert_string_equal(c.saved_url, url);
	assert_int_equal(c.last_progress, FILE_LEN);
	/* Create + one save per chunk. */
	assert_int_equal(c.saves, 7);
	client_free(&c);
	server_stop();
}

static void tus_resume_after_cut(void **state)
{
	struct client c;
	struct proxy p;
	struct sync_tus_stats st;

	server_reset();
	server_start(0);
	/* The POST is a few hundred bytes: the cut lands inside the third
	 * chunk's body. */
	proxy_start(&p, srv.port, "cut 150000 1");
	client_init(&c, p.port);
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_uploaded(&c);
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.creates, 1);
	assert_true(st.heads >= 1);
	assert_true(st.failures >= 1);
	/* Resumed from the server's offset: at most one chunk travelled twice. */
	assert_true(st.body_bytes > FILE_LEN);
	assert_true(st.body_bytes - FILE_LEN <= CHUNK);
	assert_true(srv.received - FILE_LEN <= CHUNK);
	client_free(&c);
	proxy_stop(&p);
	server_stop();
}

static void tus_resume_after_reset(void **state)
{
	struct client c;
	struct proxy p;
	struct sync_tus_stats st;

	server_reset();
	server_start(0);
	proxy_start(&p, srv.port, "reset 250000 1");
	client_init(&c, p.port);
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_uploaded(&c);
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.creates, 1);
	assert_true(st.heads >= 1);
	assert_true(st.body_bytes - FILE_LEN <= CHUNK);
	client_free(&c);
	proxy_stop(&p);
	server_stop();
}

static void tus_checksum_mismatch_retries_chunk(void **state)
{
	struct client c;
	struct sync_tus_stats st;

	server_reset();
	server_start(0);
	srv.corrupt_patches = 1;
	client_init(&c, srv.port);
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_uploaded(&c);
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.patches, 7);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.heads, 1);
	assert_int_equal(st.body_bytes, FILE_LEN + CHUNK);
	assert_int_equal(c.waits, 1);
	client_free(&c);
	server_stop();
}

static void tus_client_error_stops(void **state)
{
	struct client c;
	struct sync_tus_stats st;

	server_reset();
	server_start(0);
	srv.knob = (struct fault_knob){
	    .method = "POST",
	    .status = 403,
	    .body = "{\"error\":\"auth.unknown-van\",\"message\":\"this van is not registered\"}",
	    .count = 1};
	client_init(&c, srv.port);
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_int_equal(c.result, -EPERM);
	assert_string_equal(c.err.reason, "sync.refused");
	assert_non_null(strstr(c.err.message, "HTTP 403"));
	assert_non_null(strstr(c.err.message, "auth.unknown-van"));
	assert_non_null(strstr(c.err.message, "this van is not registered"));
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.creates, 1);
	assert_int_equal(st.patches, 0);
	assert_int_equal(c.waits, 0);
	assert_null(c.saved_url);
	client_free(&c);
	server_stop();
}

static void tus_patch_client_error_stops(void **state)
{
	struct client c;
	struct sync_tus_stats st;

	server_reset();
	server_start(0);
	srv.knob = (struct fault_knob){.method = "PATCH", .status = 413, .count = 1};
	client_init(&c, srv.port);
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_int_equal(c.result, -EPERM);
	assert_string_equal(c.err.reason, "sync.refused");
	assert_non_null(strstr(c.err.message, "HTTP 413"));
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.patches, 1);
	assert_int_equal(c.waits, 0);
	/* The upload's state stays for the officer or a later retry. */
	assert_non_null(c.saved_url);
	assert_int_equal(c.saved_offset, 0);
	client_free(&c);
	server_stop();
}

static void tus_retry_after_honoured(void **state)
{
	struct client c;
	struct sync_tus_stats st;
	int64_t waited;

	server_reset();
	server_start(0);
	srv.knob =
	    (struct fault_knob){.method = "PATCH", .status = 503, .retry_after = "1", .count = 1};
	client_init(&c, srv.port);
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_uploaded(&c);
	assert_int_equal(c.waits, 1);
	/* The backoff alone would have waited at most 20 ms. */
	assert_int_equal(c.last_delay, 1000);
	waited = srv.first_after_fault - srv.last_fault_ms;
	assert_true(waited >= 990);
	assert_true(waited < 3000);
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.heads, 1);
	client_free(&c);
	server_stop();
}

static void tus_429_retries_create(void **state)
{
	struct client c;
	struct sync_tus_stats st;

	server_reset();
	server_start(0);
	srv.knob =
	    (struct fault_knob){.method = "POST", .status = 429, .retry_after = "0", .count = 1};
	client_init(&c, srv.port);
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_uploaded(&c);
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.creates, 2);
	assert_int_equal(st.heads, 0);
	assert_int_equal(st.failures, 1);
	assert_int_equal(c.last_delay, 0);
	client_free(&c);
	server_stop();
}

static int restart_server(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct client *c = userdata;

	server_start(c->server_port);
	return 0;
}

static void restart_server_at_offset(struct client *c)
{
	/* Once two chunks are in, head office goes away and comes back on
	 * the same port with what it had stored. */
	if (c->restarts == 0 && c->saved_offset >= 2 * CHUNK) {
		c->restarts++;
		c->server_port = srv.port;
		server_stop();
		assert_int_equal(sd_event_add_time_relative(c->event, NULL, CLOCK_MONOTONIC, 300000,
							    0, restart_server, c),
				 0);
	}
}

static void tus_server_restarted_resumes(void **state)
{
	struct client c;
	struct proxy p;
	struct sync_tus_stats st;

	server_reset();
	server_start(0);
	/* Through the proxy, so the restart also drops the van's kept-alive
	 * connection the way a real restart does. */
	proxy_start(&p, srv.port, NULL);
	client_init(&c, p.port);
	c.on_save = restart_server_at_offset;
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_int_equal(c.restarts, 1);
	assert_uploaded(&c);
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.creates, 1);
	assert_true(st.failures >= 1);
	assert_true(st.heads >= 1);
	assert_true(st.body_bytes - FILE_LEN <= CHUNK);
	client_free(&c);
	proxy_stop(&p);
	server_stop();
}

static void stop_after_two_chunks(struct client *c)
{
	if (c->saved_offset == 2 * CHUNK)
		c->done = true; /* ends client_run: the "daemon" dies here */
}

static void tus_restarted_client_resumes_persisted(void **state)
{
	struct client c;
	struct sync_tus_stats st;
	char *url;

	server_reset();
	server_start(0);
	client_init(&c, srv.port);
	c.on_save = stop_after_two_chunks;
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_int_equal(c.saved_offset, 2 * CHUNK);
	/* A new client on a new loop, with only the caller's store. */
	sync_tus_free(c.tus);
	sync_http_free(c.http);
	sd_event_unref(c.event);
	url = strdup(c.saved_url);
	c.done = false;
	c.on_save = NULL;
	assert_int_equal(sd_event_new(&c.event), 0);
	assert_int_equal(sync_http_new(c.event, &c.http), 0);
	assert_int_equal(sync_tus_new(c.http, &c.cfg, &client_ops, &c, &c.tus), 0);
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_uploaded(&c);
	assert_string_equal(c.saved_url, url);
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.creates, 0);
	assert_int_equal(st.heads, 1);
	assert_int_equal(st.body_bytes, FILE_LEN - 2 * CHUNK);
	assert_int_equal(srv.creates, 1);
	free(url);
	client_free(&c);
	server_stop();
}

static void tus_terminate_deletes(void **state)
{
	struct client c;

	server_reset();
	server_start(0);
	client_init(&c, srv.port);
	c.on_save = stop_after_two_chunks;
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	c.done = false;
	c.on_save = NULL;
	assert_int_equal(sync_tus_terminate(c.tus), 0);
	client_run(&c, 20000);
	assert_int_equal(c.result, 0);
	assert_int_equal(c.end, SYNC_TUS_TERMINATED);
	assert_null(c.saved_url);
	assert_int_equal(srv.deletes, 1);
	assert_false(srv.uploads[0].used);
	/* Nothing left to delete. */
	assert_int_equal(sync_tus_terminate(c.tus), 1);
	client_free(&c);
	server_stop();
}

static void tus_gone_upload_is_created_again(void **state)
{
	struct client c;
	struct sync_tus_stats st;

	server_reset();
	server_start(0);
	client_init(&c, srv.port);
	/* The store names an upload head office does not know. */
	assert_true(asprintf(&c.saved_url, "http://127.0.0.1:%u/files/7", srv.port) > 0);
	c.saved_offset = 3 * CHUNK;
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_uploaded(&c);
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.heads, 1);
	assert_int_equal(st.creates, 1);
	assert_int_equal(st.body_bytes, FILE_LEN);
	client_free(&c);
	server_stop();
}

static void tus_ingest_failure_sends_empty_patch(void **state)
{
	struct client c;
	struct sync_tus_stats st;

	server_reset();
	server_start(0);
	srv.fail_ingest = 1;
	client_init(&c, srv.port);
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_uploaded(&c);
	sync_tus_get_stats(c.tus, &st);
	/* Six chunks, the 500, a HEAD that finds every byte there, then one
	 * empty PATCH that gets the batch ingested: nothing sent twice. */
	assert_int_equal(st.patches, 7);
	assert_int_equal(st.heads, 1);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.body_bytes, FILE_LEN);
	client_free(&c);
	server_stop();
}

static void tus_rejected_batch_stops(void **state)
{
	struct client c;
	struct sync_tus_stats st;
	struct upload *u = &srv.uploads[3];

	server_reset();
	server_start(0);
	client_init(&c, srv.port);
	/* Every byte arrived earlier and head office refused the batch; the
	 * van learns it from HEAD after a restart. */
	u->used = true;
	u->length = u->offset = FILE_LEN;
	u->data = malloc(FILE_LEN);
	u->rejected = "manifest.signature";
	assert_true(asprintf(&c.saved_url, "http://127.0.0.1:%u/files/3", srv.port) > 0);
	c.saved_offset = FILE_LEN;
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_int_equal(c.result, -EPERM);
	assert_string_equal(c.err.reason, "sync.rejected");
	assert_non_null(strstr(c.err.message, "manifest.signature"));
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.heads, 1);
	assert_int_equal(st.patches, 0);
	client_free(&c);
	server_stop();
}

static void tus_stall_aborts_on_low_speed(void **state)
{
	struct client c;
	struct proxy p;
	struct sync_tus_stats st;
	int64_t t0;

	server_reset();
	server_start(0);
	/* Silent for 30 s in the middle of the third chunk: the low-speed
	 * limit (1 KiB/s for 1 s) gives up on it, not a total timeout. curl
	 * measures speed over its last five seconds, so that takes some six
	 * seconds after the stall began. */
	proxy_start(&p, srv.port, "stall 150000 30000 1");
	client_init(&c, p.port);
	c.cfg.http.low_speed_time_s = 1;
	t0 = retas_time_mono_ms();
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_uploaded(&c);
	assert_true(retas_time_mono_ms() - t0 < 15000);
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.heads, 1);
	assert_true(st.body_bytes - FILE_LEN <= CHUNK);
	client_free(&c);
	proxy_stop(&p);
	server_stop();
}

static void tus_gives_up_after_max_attempts(void **state)
{
	struct client c;
	struct sync_tus_stats st;
	uint16_t port;

	/* A port nobody listens on: connection refused every time. */
	server_reset();
	server_start(0);
	port = srv.port;
	server_stop();
	client_init(&c, port);
	c.cfg.retry.max_attempts = 3;
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 20000);
	assert_int_equal(c.result, -ETIMEDOUT);
	assert_string_equal(c.err.reason, "sync.attempts");
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.creates, 3);
	assert_int_equal(c.waits, 2);
	client_free(&c);
}

static void c_waiting_kick(void *ud, uint64_t delay_ms, const struct retas_error *why)
{
	struct client *c = ud;

	c_waiting(ud, delay_ms, why);
	/* Head office comes back and the network watcher says so: the long
	 * backoff is cut short. */
	server_start(c->server_port);
	assert_int_equal(sync_tus_kick(c->tus), 1);
}

static void tus_kick_cuts_backoff_short(void **state)
{
	struct sync_tus_ops ops = client_ops;
	struct client c;
	struct sync_tus_stats st;
	uint16_t port;
	int64_t t0;

	server_reset();
	server_start(0);
	port = srv.port;
	server_stop();
	client_init(&c, port);
	c.server_port = port;
	c.cfg.retry = (struct sync_retry_policy){.base_ms = 60000, .cap_ms = 60000};
	ops.waiting = c_waiting_kick;
	sync_tus_free(c.tus);
	assert_int_equal(sync_tus_new(c.http, &c.cfg, &ops, &c, &c.tus), 0);
	t0 = retas_time_mono_ms();
	assert_int_equal(sync_tus_start(c.tus, c.path, metadata), 0);
	client_run(&c, 10000);
	assert_uploaded(&c);
	assert_true(retas_time_mono_ms() - t0 < 5000);
	assert_int_equal(c.waits, 1);
	assert_true(c.last_delay > 1000);
	sync_tus_get_stats(c.tus, &st);
	assert_int_equal(st.creates, 2);
	/* Nothing to cut short when nothing waits. */
	assert_int_equal(sync_tus_kick(c.tus), 0);
	client_free(&c);
	server_stop();
}

struct probe_result {
	bool done;
	int r;
	enum sync_fail kind;
	long status;
	char retry_after[64];
};

static void on_probe(void *userdata, int r, enum sync_fail kind, long status,
		     const char *retry_after)
{
	struct probe_result *res = userdata;

	res->done = true;
	res->r = r;
	res->kind = kind;
	res->status = status;
	snprintf(res->retry_after, sizeof(res->retry_after), "%s", retry_after ? retry_after : "");
}

static void probe_run(uint16_t port, long timeout_ms, struct probe_result *res)
{
	const struct sync_http_config cfg = {.allow_plain_http = true, .connect_timeout_ms = 2000};
	struct sync_http *http = NULL;
	struct sync_probe *p = NULL;
	sd_event *e = NULL;
	char url[64];
	int64_t deadline = retas_time_mono_ms() + 10000;

	memset(res, 0, sizeof(*res));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/healthz", port);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(sync_http_new(e, &http), 0);
	assert_int_equal(sync_probe_start(http, &cfg, url, timeout_ms, on_probe, res, &p), 0);
	assert_false(res->done);
	while (!res->done) {
		int64_t left = deadline - retas_time_mono_ms();
		if (left <= 0)
			fail_msg("probe did not finish");
		assert_true(sd_event_run(e, (uint64_t)left * 1000) >= 0);
	}
	sync_probe_free(p);
	sync_http_free(http);
	sd_event_unref(e);
}

static void probe_healthy(void **state)
{
	struct probe_result res;

	server_reset();
	server_start(0);
	probe_run(srv.port, 0, &res);
	assert_int_equal(res.r, 0);
	assert_int_equal(res.kind, SYNC_FAIL_NONE);
	assert_int_equal(res.status, 200);
	server_stop();
}

static void probe_unreachable(void **state)
{
	struct probe_result res;
	uint16_t port;

	server_reset();
	server_start(0);
	port = srv.port;
	server_stop();
	probe_run(port, 0, &res);
	assert_int_equal(res.r, -EHOSTUNREACH);
	assert_int_equal(res.kind, SYNC_FAIL_CONNECT);
	assert_int_equal(res.status, 0);
}

static void probe_busy_with_retry_after(void **state)
{
	struct probe_result res;

	server_reset();
	server_start(0);
	srv.knob =
	    (struct fault_knob){.method = "GET", .status = 503, .retry_after = "7", .count = 1};
	probe_run(srv.port, 0, &res);
	assert_int_equal(res.r, -EPROTO);
	assert_int_equal(res.kind, SYNC_FAIL_HTTP);
	assert_int_equal(res.status, 503);
	assert_string_equal(res.retry_after, "7");
	assert_true(sync_retry_is_retryable(res.kind, res.status));
	server_stop();
}

static void probe_silent_server_times_out(void **state)
{
	struct probe_result res;
	struct proxy p;
	int64_t t0;

	server_reset();
	server_start(0);
	/* Accepts, then says nothing for 10 s. */
	proxy_start(&p, srv.port, "delay 10000");
	t0 = retas_time_mono_ms();
	probe_run(p.port, 300, &res);
	assert_true(retas_time_mono_ms() - t0 < 3000);
	assert_int_equal(res.r, -ETIMEDOUT);
	assert_int_equal(res.kind, SYNC_FAIL_TIMEOUT);
	proxy_stop(&p);
	server_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tus_upload_completes),
	    cmocka_unit_test(tus_resume_after_cut),
	    cmocka_unit_test(tus_resume_after_reset),
	    cmocka_unit_test(tus_checksum_mismatch_retries_chunk),
	    cmocka_unit_test(tus_client_error_stops),
	    cmocka_unit_test(tus_patch_client_error_stops),
	    cmocka_unit_test(tus_retry_after_honoured),
	    cmocka_unit_test(tus_429_retries_create),
	    cmocka_unit_test(tus_server_restarted_resumes),
	    cmocka_unit_test(tus_restarted_client_resumes_persisted),
	    cmocka_unit_test(tus_terminate_deletes),
	    cmocka_unit_test(tus_gone_upload_is_created_again),
	    cmocka_unit_test(tus_ingest_failure_sends_empty_patch),
	    cmocka_unit_test(tus_rejected_batch_stops),
	    cmocka_unit_test(tus_stall_aborts_on_low_speed),
	    cmocka_unit_test(tus_gives_up_after_max_attempts),
	    cmocka_unit_test(tus_kick_cuts_backoff_short),
	    cmocka_unit_test(probe_healthy),
	    cmocka_unit_test(probe_unreachable),
	    cmocka_unit_test(probe_busy_with_retry_after),
	    cmocka_unit_test(probe_silent_server_times_out),
	};

	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
