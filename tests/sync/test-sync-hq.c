/*
 * The van's tus client against a real `retas-hq serve` on loopback: a van
 * registered through the CLI seals records with the core library, builds a
 * batch, and the sync engine uploads it with the signed Retas-Auth header
 * on every request, through faultproxy where the network must fail. Head
 * office's receipt is fetched and verified; every record arrives once.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "hq-harness.h"
#include "retas-time.h"
#include "sync-auth.h"
#include "sync-fixture.h"
#include "sync-receipt.h"
#include "sync-tus.h"

#define CHUNK (64 * 1024)
#define N_RECORDS 3
#define PHOTO_LEN (150 * 1024)
#define ST_NOMOR "800/041/DUKCAPIL/2026"
#define OFFICER "198703152010011002"

static const char *hq_bin;

struct van_up {
	struct hq_fx fx;
	struct test_van van;
	struct test_van *signer; /* whose key signs the requests */
	uint8_t *recs[N_RECORDS];
	size_t lens[N_RECORDS];
	char batch_id[40];
	char path[64];
	size_t batch_len;
	/* the client */
	sd_event *event;
	struct sync_http *http;
	struct sync_tus_config cfg;
	struct sync_tus *tus;
	char endpoint[96];
	char *saved_url;
	uint64_t saved_offset;
	bool done;
	int result;
	struct retas_error err;
	unsigned waits, busy_waits; /* busy: head office still held the upload (423) */
	/* restart hook */
	struct proxy *proxy;
	unsigned restarts;
};

static int v_headers(void *ud, const char *method, const char *url, const char *path,
		     struct curl_slist **list)
{
	struct van_up *u = ud;
	uint8_t nonce[SYNC_AUTH_NONCE_LEN];
	char *value = NULL, *line = NULL;
	struct curl_slist *n;
	int r;

	randombytes_buf(nonce, sizeof(nonce));
	r = sync_auth_sign(method, path, retas_time_now_ms(), nonce, u->signer->pk, u->signer->sk,
			   &value);
	if (r < 0)
		return r;
	if (asprintf(&line, "%s: %s", SYNC_AUTH_HEADER, value) < 0) {
		free(value);
		return -ENOMEM;
	}
	n = curl_slist_append(*list, line);
	free(value);
	free(line);
	if (!n)
		return -ENOMEM;
	*list = n;
	return 0;
}

static int v_load(void *ud, char **url, uint64_t *offset)
{
	struct van_up *u = ud;

	*url = u->saved_url ? strdup(u->saved_url) : NULL;
	*offset = u->saved_offset;
	return 0;
}

static int restart_hq(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct van_up *u = userdata;
	char cmd[32];

	hq_fx_start(&u->fx);
	snprintf(cmd, sizeof(cmd), "target %u", u->fx.port);
	proxy_cmd(u->proxy, cmd);
	return 0;
}

static int v_save(void *ud, const char *url, uint64_t offset)
{
	struct van_up *u = ud;

	free(u->saved_url);
	u->saved_url = url ? strdup(url) : NULL;
	u->saved_offset = offset;
	/* Head office goes down with a third of the batch in, and comes
	 * back on another port a little later. */
	if (u->proxy && u->restarts == 0 && offset >= 3 * CHUNK) {
		u->restarts++;
		hq_fx_stop(&u->fx);
		assert_int_equal(sd_event_add_time_relative(u->event, NULL, CLOCK_MONOTONIC, 300000,
							    0, restart_hq, u),
				 0);
	}
	return 0;
}

static void v_done(void *ud, enum sync_tus_end end, int r, const struct retas_error *err)
{
	struct van_up *u = ud;

	u->done = true;
	u->result = r;
	if (err)
		u->err = *err;
}

static void v_waiting(void *ud, uint64_t delay_ms, const struct retas_error *why)
{
	struct van_up *u = ud;

	u->waits++;
	if (strstr(why->message, "HTTP 423"))
		u->busy_waits++;
}

static uint32_t v_random(void *ud)
{
	return randombytes_random();
}

static int64_t v_now(void *ud)
{
	return retas_time_now_ms();
}

static const struct sync_tus_ops van_ops = {
    .headers = v_headers,
    .load = v_load,
    .save = v_save,
    .done = v_done,
    .waiting = v_waiting,
    .random = v_random,
    .now_ms = v_now,
};

/* Head office up, the van registered, its batch on disk. */
static void setup(struct van_up *u, const char *hq_config)
{
	uint8_t *batch = NULL;
	int fd;

	memset(u, 0, sizeof(*u));
	hq_fx_init(&u->fx, hq_bin, hq_config);
	hq_fx_start(&u->fx);
	test_van_new(&u->van, "MPK-01");
	test_van_register(&u->fx, &u->van);
	u->signer = &u->van;
	for (int i = 0; i < N_RECORDS; i++)
		test_van_record(&u->van, u->fx.seal_pk, ST_NOMOR, OFFICER, retas_time_now_ms(),
				"{\"nik\":\"1571014808090001\",\"nama\":\"Siti\"}", PHOTO_LEN, NULL,
				&u->recs[i], &u->lens[i]);
	test_van_batch(&u->van, ST_NOMOR, u->recs, u->lens, N_RECORDS, NULL, &batch, &u->batch_len,
		       u->batch_id);
	snprintf(u->path, sizeof(u->path), "/tmp/test-sync-hq-XXXXXX");
	fd = mkstemp(u->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, batch, u->batch_len), (ssize_t)u->batch_len);
	close(fd);
	free(batch);
	assert_true(u->batch_len > 6 * CHUNK);
}

static void client_new(struct van_up *u, unsigned port)
{
	snprintf(u->endpoint, sizeof(u->endpoint), "http://127.0.0.1:%u/tus/", port);
	u->cfg = (struct sync_tus_config){
	    .http = {.allow_plain_http = true,
		     .connect_timeout_ms = 2000,
		     .low_speed_limit = 1024,
		     .low_speed_time_s = 5},
	    .endpoint = u->endpoint,
	    .chunk_size = CHUNK,
	    .retry = {.base_ms = 50, .cap_ms = 400, .max_attempts = 20},
	};
	assert_int_equal(sd_event_new(&u->event), 0);
	assert_int_equal(sync_http_new(u->event, &u->http), 0);
	assert_int_equal(sync_tus_new(u->http, &u->cfg, &van_ops, u, &u->tus), 0);
}

static void upload(struct van_up *u)
{
	int64_t deadline = retas_time_mono_ms() + 60000;

	u->done = false;
	assert_int_equal(sync_tus_start(u->tus, u->path, NULL), 0);
	while (!u->done) {
		int64_t left = deadline - retas_time_mono_ms();
		if (left <= 0)
			fail_msg("the upload did not finish in 60 s");
		assert_true(sd_event_run(u->event, (uint64_t)left * 1000) >= 0);
	}
}

static void teardown(struct van_up *u)
{
	sync_tus_free(u->tus);
	sync_http_free(u->http);
	sd_event_unref(u->event);
	for (int i = 0; i < N_RECORDS; i++)
		free(u->recs[i]);
	free(u->saved_url);
	unlink(u->path);
	hq_fx_cleanup(&u->fx);
}

/* The receipt names every record of the batch once, with our hashes and
 * the outcome expected. */
static void assert_receipt(struct van_up *u, enum sync_outcome outcome)
{
	struct sync_receipt *rc;
	char expect[96];

	if (u->result != 0)
		fail_msg("upload failed: %s (%s)", u->err.message, u->err.reason);
	assert_string_equal(sync_tus_batch_id(u->tus), u->batch_id);
	snprintf(expect, sizeof(expect), "/api/v1/batches/%s/receipt", u->batch_id);
	assert_string_equal(sync_tus_receipt_path(u->tus), expect);
	rc = fetch_receipt(&u->fx, &u->van, u->batch_id);
	assert_string_equal(rc->batch_id, u->batch_id);
	assert_string_equal(rc->device_id, "MPK-01");
	assert_int_equal(rc->n_records, N_RECORDS);
	for (int i = 0; i < N_RECORDS; i++) {
		uint8_t sum[32];
		crypto_hash_sha256(sum, u->recs[i], u->lens[i]);
		assert_memory_equal(rc->records[i].sha256, sum, 32);
		assert_int_equal(rc->records[i].outcome, outcome);
		assert_int_equal(rc->records[i].seq, i + 1);
	}
	assert_int_equal(rc->n_anomalies, 0);
	sync_receipt_free(rc);
}

static void sync_hq_upload_and_receipt(void **state)
{
	struct sync_tus_stats st;
	struct van_up u;

	setup(&u, NULL);
	client_new(&u, u.fx.port);
	upload(&u);
	assert_receipt(&u, SYNC_OUTCOME_STORED);
	sync_tus_get_stats(u.tus, &st);
	assert_int_equal(st.creates, 1);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.body_bytes, u.batch_len);

	/* The same batch again, as a van that lost its state would send it:
	 * a new upload, and head office already has every record. */
	free(u.saved_url);
	u.saved_url = NULL;
	u.saved_offset = 0;
	upload(&u);
	assert_receipt(&u, SYNC_OUTCOME_ALREADY_RECEIVED);
	teardown(&u);
}

static void sync_hq_reset_resumes_from_offset(void **state)
{
	struct sync_tus_stats st;
	struct van_up u;
	struct proxy p;

	setup(&u, NULL);
	/* RST inside the fourth chunk. */
	proxy_start(&p, (uint16_t)u.fx.port, "reset 230000 1");
	client_new(&u, p.port);
	upload(&u);
	assert_receipt(&u, SYNC_OUTCOME_STORED);
	sync_tus_get_stats(u.tus, &st);
	assert_int_equal(st.creates, 1);
	assert_true(st.failures >= 1);
	assert_true(st.heads >= 1);
	assert_true(st.body_bytes > u.batch_len);
	assert_true(st.body_bytes - u.batch_len <= CHUNK);
	proxy_stop(&p);
	teardown(&u);
}

static void sync_hq_cut_waits_out_busy_upload(void **state)
{
	struct sync_tus_stats st;
	struct van_up u;
	struct proxy p;

	/* A connection cut inside the fourth chunk. Head office sees the FIN
	 * and lets the upload go at once; had it missed the end of the
	 * connection (on the road nobody sends a FIN) it would hold the
	 * upload, answering 423, until its request timeout, and the van keeps
	 * asking within its backoff and resumes afterwards. Either way one
	 * upload completes. */
	setup(&u, "request_timeout = 2");
	proxy_start(&p, (uint16_t)u.fx.port, "cut 230000 1");
	client_new(&u, p.port);
	u.cfg.retry = (struct sync_retry_policy){.base_ms = 100, .cap_ms = 800, .max_attempts = 40};
	upload(&u);
	assert_receipt(&u, SYNC_OUTCOME_STORED);
	sync_tus_get_stats(u.tus, &st);
	assert_int_equal(st.creates, 1);
	assert_true(st.failures >= 1);
	/* The PATCHes after a failure ask first (Expect: 100-continue), but
	 * head office reads a refused chunk before it answers, so each 423
	 * costs one chunk; nothing else is sent twice. */
	assert_true(st.body_bytes - u.batch_len <= CHUNK * (1 + (uint64_t)u.busy_waits));
	proxy_stop(&p);
	teardown(&u);
}

static void sync_hq_restarted_server_resumes(void **state)
{
	struct sync_tus_stats st;
	struct van_up u;
	struct proxy p;

	setup(&u, NULL);
	proxy_start(&p, (uint16_t)u.fx.port, NULL);
	u.proxy = &p;
	client_new(&u, p.port);
	upload(&u);
	assert_int_equal(u.restarts, 1);
	assert_receipt(&u, SYNC_OUTCOME_STORED);
	sync_tus_get_stats(u.tus, &st);
	assert_int_equal(st.creates, 1);
	assert_true(st.failures >= 1);
	assert_true(st.body_bytes - u.batch_len <= CHUNK);
	proxy_stop(&p);
	teardown(&u);
}

static void sync_hq_unregistered_van_stops(void **state)
{
	struct sync_tus_stats st;
	struct test_van stranger;
	struct van_up u;

	setup(&u, NULL);
	test_van_new(&stranger, "MPK-99");
	u.signer = &stranger;
	client_new(&u, u.fx.port);
	upload(&u);
	assert_int_equal(u.result, -EPERM);
	assert_string_equal(u.err.reason, "sync.refused");
	assert_non_null(strstr(u.err.message, "HTTP 401"));
	assert_non_null(strstr(u.err.message, "auth.unknown-key"));
	sync_tus_get_stats(u.tus, &st);
	assert_int_equal(st.creates, 1);
	assert_int_equal(st.failures, 0);
	assert_null(u.saved_url);
	teardown(&u);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sync_hq_upload_and_receipt),
	    cmocka_unit_test(sync_hq_reset_resumes_from_offset),
	    cmocka_unit_test(sync_hq_cut_waits_out_busy_upload),
	    cmocka_unit_test(sync_hq_restarted_server_resumes),
	    cmocka_unit_test(sync_hq_unregistered_van_stops),
	};

	hq_bin = hq_fx_binary(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
