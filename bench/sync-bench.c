/* The sync benchmarks' shared parts (see sync-bench.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "retas-b64.h"
#include "retas-time.h"
#include "sync-auth.h"
#include "sync-bench.h"
#include "sync-receipt.h"

#define ST_NOMOR "800/041/DUKCAPIL/2026"
#define OFFICER "198703152010011002"
#define PHOTO_LEN (400 * 1024)

extern char **environ;

static struct hq_fx *live_hq[4];

size_t sb_batch_bytes(void)
{
	const char *s = getenv("RETAS_BENCH_SYNC_MB");
	long mb = s ? strtol(s, NULL, 10) : 20;

	if (mb < 1 || mb > 1024) {
		fprintf(stderr, "RETAS_BENCH_SYNC_MB must be 1..1024, not '%s'\n", s);
		exit(2);
	}
	return (size_t)mb * 1000 * 1000;
}

/* Outside /tmp, whose retas-* entries other runs on a shared machine may
 * sweep away while a long benchmark still uses them. */
static const char *bench_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t ? t : "/var/tmp";
}

static void read_pub(const char *dir, const char *name, uint8_t pk[32])
{
	char path[512], *text;

	snprintf(path, sizeof(path), "%s/keys/%s", dir, name);
	text = read_file(path, NULL);
	text[strcspn(text, "\r\n")] = 0;
	assert_int_equal(retas_b64url_decode_key(text, pk, 32), 0);
	free(text);
}

void sb_hq_init(struct hq_fx *fx, const char *bin, const char *config)
{
	char *argv[] = {(char *)bin, "init", fx->dir, NULL};
	pid_t pid;
	int status;

	memset(fx, 0, sizeof(*fx));
	fx->bin = bin;
	fx->pidfd = -1;
	snprintf(fx->tmp, sizeof(fx->tmp), "%s/retas-bench-sync-XXXXXX", bench_tmpdir());
	assert_non_null(mkdtemp(fx->tmp));
	snprintf(fx->dir, sizeof(fx->dir), "%s/hq", fx->tmp);
	argv[2] = fx->dir;
	assert_int_equal(posix_spawn(&pid, bin, NULL, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (config) {
		char path[512];
		FILE *f;

		/* retas-hq.conf takes the last value of a key */
		snprintf(path, sizeof(path), "%s/retas-hq.conf", fx->dir);
		f = fopen(path, "ae");
		assert_non_null(f);
		fprintf(f, "\n[server]\n%s\n", config);
		assert_int_equal(fclose(f), 0);
	}
	read_pub(fx->dir, "seal.pub", fx->seal_pk);
	read_pub(fx->dir, "sign.pub", fx->sign_pk);
}

void sb_batch_make(struct hq_fx *fx, struct test_van *v, size_t bytes, struct sb_batch *b)
{
	size_t n = (bytes + PHOTO_LEN - 1) / PHOTO_LEN, cap = n;
	uint8_t **recs = calloc(cap, sizeof(*recs)), *batch = NULL;
	size_t *lens = calloc(cap, sizeof(*lens));
	int fd;

	assert_true(recs && lens);
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < n; i++)
		test_van_record(v, fx->seal_pk, ST_NOMOR, OFFICER, retas_time_now_ms(),
				"{\"nik\":\"1571014808090001\",\"nama\":\"Siti Aminah\"}",
				PHOTO_LEN, NULL, &recs[i], &lens[i]);
	test_van_batch(v, ST_NOMOR, recs, lens, n, NULL, &batch, &b->len, b->batch_id);
	snprintf(b->path, sizeof(b->path), "%s/batch-XXXXXX", fx->tmp);
	fd = mkstemp(b->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, batch, b->len), (ssize_t)b->len);
	close(fd);
	b->n_records = n;
	for (size_t i = 0; i < n; i++)
		free(recs[i]);
	free(recs);
	free(lens);
	free(batch);
}

void sb_batch_remove(struct sb_batch *b)
{
	if (b->path[0])
		unlink(b->path);
	b->path[0] = 0;
}

/* The engine's client for one upload. */
struct up {
	const struct test_van *van;
	char *url;
	uint64_t offset;
	bool done;
	int result;
	struct retas_error err;
	unsigned waits, busy_waits;
};

static int u_headers(void *ud, const char *method, const char *url, const char *path,
		     struct curl_slist **list)
{
	struct up *u = ud;
	uint8_t nonce[SYNC_AUTH_NONCE_LEN];
	char *value = NULL, *line = NULL;
	struct curl_slist *n;
	int r;

	randombytes_buf(nonce, sizeof(nonce));
	r = sync_auth_sign(method, path, retas_time_now_ms(), nonce, u->van->pk, u->van->sk,
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

static int u_load(void *ud, char **url, uint64_t *offset)
{
	struct up *u = ud;

	*url = u->url ? strdup(u->url) : NULL;
	*offset = u->offset;
	return 0;
}

static int u_save(void *ud, const char *url, uint64_t offset)
{
	struct up *u = ud;

	free(u->url);
	u->url = url ? strdup(url) : NULL;
	u->offset = offset;
	return 0;
}

static void u_done(void *ud, enum sync_tus_end end, int r, const struct retas_error *err)
{
	struct up *u = ud;

	u->done = true;
	u->result = r;
	if (err)
		u->err = *err;
}

static void u_waiting(void *ud, uint64_t delay_ms, const struct retas_error *why)
{
	struct up *u = ud;

	u->waits++;
	if (strstr(why->message, "HTTP 423"))
		u->busy_waits++;
}

static uint32_t u_random(void *ud)
{
	return randombytes_random();
}

static int64_t u_now(void *ud)
{
	return retas_time_now_ms();
}

static const struct sync_tus_ops up_ops = {
    .headers = u_headers,
    .load = u_load,
    .save = u_save,
    .done = u_done,
    .waiting = u_waiting,
    .random = u_random,
    .now_ms = u_now,
};

void sb_engine_upload(const char *endpoint, const struct test_van *v, const struct sb_batch *b,
		      uint64_t chunk, int deadline_s, struct sb_result *out)
{
	struct sync_tus_config cfg = {
	    .http = {.allow_plain_http = true,
		     .connect_timeout_ms = 5000,
		     .low_speed_limit = 1024,
		     .low_speed_time_s = 30},
	    .endpoint = endpoint,
	    .chunk_size = chunk,
	    .retry = {.base_ms = 100, .cap_ms = 1000, .max_attempts = 60},
	};
	struct up u = {.van = v};
	struct sync_http *http = NULL;
	struct sync_tus *tus = NULL;
	sd_event *e = NULL;
	int64_t t0, end;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(sync_http_new(e, &http), 0);
	assert_int_equal(sync_tus_new(http, &cfg, &up_ops, &u, &tus), 0);
	t0 = retas_time_mono_ms();
	end = t0 + (int64_t)deadline_s * 1000;
	assert_int_equal(sync_tus_start(tus, b->path, NULL), 0);
	while (!u.done) {
		int64_t left = end - retas_time_mono_ms();

		if (left <= 0)
			fail_msg("the upload did not finish in %d s", deadline_s);
		assert_true(sd_event_run(e, (uint64_t)left * 1000) >= 0);
	}
	out->elapsed_ms = retas_time_mono_ms() - t0;
	if (u.result != 0)
		fail_msg("upload failed: %s (%s)", u.err.message, u.err.reason);
	assert_non_null(sync_tus_batch_id(tus));
	assert_string_equal(sync_tus_batch_id(tus), b->batch_id);
	sync_tus_get_stats(tus, &out->stats);
	out->waits = u.waits;
	out->busy_waits = u.busy_waits;
	sync_tus_free(tus);
	sync_http_free(http);
	sd_event_unref(e);
	free(u.url);
}

void sb_assert_receipt(struct hq_fx *fx, const struct test_van *v, const struct sb_batch *b)
{
	struct sync_receipt *rc = fetch_receipt(fx, v, b->batch_id);

	assert_string_equal(rc->batch_id, b->batch_id);
	assert_int_equal(rc->n_records, b->n_records);
	for (size_t i = 0; i < rc->n_records; i++)
		assert_int_equal(rc->records[i].outcome, SYNC_OUTCOME_STORED);
	assert_int_equal(rc->n_anomalies, 0);
	sync_receipt_free(rc);
}

static void stop_live_hq(void)
{
	for (size_t i = 0; i < sizeof(live_hq) / sizeof(live_hq[0]); i++) {
		struct hq_fx *fx = live_hq[i];
		int status;

		if (fx && fx->pid) {
			kill(fx->pid, SIGTERM);
			waitpid(fx->pid, &status, 0);
			fx->pid = 0;
		}
	}
}

void sb_hq_start_at(struct hq_fx *fx, const char *host)
{
	static bool registered;

	hq_fx_start_at(fx, host);
	for (size_t i = 0; i < sizeof(live_hq) / sizeof(live_hq[0]); i++)
		if (!live_hq[i] || live_hq[i] == fx) {
			live_hq[i] = fx;
			break;
		}
	/* Registered after the link's own handler, so it runs first: the
	 * servers stop before their namespace goes. */
	if (!registered)
		atexit(stop_live_hq);
	registered = true;
}

void sb_figures(const char *name, const char *json)
{
	const char *dir = getenv("RETAS_FIGURES_DIR");
	char path[512];
	FILE *f;

	if (!dir || !*dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	f = fopen(path, "we");
	if (!f || fprintf(f, "%s\n", json) < 0 || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}
