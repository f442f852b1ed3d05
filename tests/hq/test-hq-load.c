/*
 * A bounded load test of a real `retas-hq serve` on loopback: many
 * registered vans upload sealed batches over tus at once while staff pull
 * reports (JSON, CSV, PDF, the list) and a monitor asks /healthz. Every
 * count is fixed and every request has a deadline. At the end: each record
 * is in the store exactly once, each receipt verifies and lists its records
 * as stored, no request got a 5xx other than the server's deliberate
 * back-pressure (503 server.busy, 423 tus.busy, counted and retried), report
 * pulls answered within their deadline while ingest ran, and the server's
 * peak RSS stayed under a bound. A second test holds more connections than
 * the server's limit and checks that it still answers once they go.
 *
 * Short form in `make check`; the long form for the figures:
 *   RETAS_HQ_LOAD_VANS=64 RETAS_HQ_LOAD_BATCHES=10 RETAS_HQ_LOAD_RECORDS=10
 *   RETAS_HQ_LOAD_PULLERS=8 RETAS_HQ_LOAD_PHOTO=40000
 * (RETAS_HQ_LOAD_RSS_KB raises the RSS bound for a sanitizer build.)
 * With RETAS_FIGURES_DIR set the figures go to $RETAS_FIGURES_DIR/hq-load.json.
 *
 * Worker threads never call cmocka (its failures jump within one thread):
 * they count what happened and keep the first error's text; the main
 * thread asserts.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>
#include <sqlite3.h>

#include "hq-harness.h"
#include "retas-record.h"
#include "retas-time.h"
#include "retas-util.h"
#include "retas-uuid.h"
#include "sync-auth.h"
#include "sync-receipt.h"

/* Each van works at its own school under its own surat tugas. */
#define ST_FMT "800/%03u/DUKCAPIL/2026"
#define ST_ESC_FMT "800%%2F%03u%%2FDUKCAPIL%%2F2026"
#define NIP "198703152010011002"

/* Deadlines. A report pull slower than this while ingest runs is a failure. */
#define REQUEST_TIMEOUT_S 60L
#define REPORT_DEADLINE_MS 10000
#define RSS_BOUND_KB (512 * 1024)
/* The server's connection limit (HQ_MAX_CONNECTIONS) and the flood past it. */
#define HQ_LIMIT 512
#define HQ_FLOOD 640

static const char *bin;

struct load_cfg {
	unsigned vans, batches, records, pullers;
	size_t photo;
	int64_t deadline_ms; /* for the whole ingest phase */
};

struct batch {
	uint8_t *data;
	size_t len;
	char id[RETAS_UUID_STR_LEN];
	uint8_t (*rec_ids)[16];
	uint8_t (*rec_sha)[32];
};

struct van_load {
	struct test_van van;
	struct batch *batches;
};

/* What every thread adds to; atomics, and one lock for the first error. */
struct shared {
	struct hq_fx *fx;
	const struct load_cfg *cfg;
	int64_t end_ms; /* monotonic */
	atomic_uint errors, backpressure, uploads_done, receipts_ok;
	atomic_bool ingest_done;
	pthread_mutex_t lock;
	char first_error[512];
	/* report pull latencies */
	int64_t *pull_ms;
	size_t n_pulls, cap_pulls;
	unsigned pulls_during_ingest;
	int64_t healthz_max_ms;
};

static void note_error(struct shared *sh, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&sh->errors, 1);
	pthread_mutex_lock(&sh->lock);
	if (!sh->first_error[0]) {
		va_start(ap, fmt);
		vsnprintf(sh->first_error, sizeof(sh->first_error), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&sh->lock);
}

static char *auth_line(const struct test_van *v, const char *method, const char *path)
{
	uint8_t nonce[SYNC_AUTH_NONCE_LEN];
	char *value = NULL, *line = NULL;

	randombytes_buf(nonce, sizeof(nonce));
	if (sync_auth_sign(method, path, retas_time_now_ms(), nonce, v->pk, v->sk, &value) < 0)
		return NULL;
	if (asprintf(&line, "%s: %s", SYNC_AUTH_HEADER, value) < 0)
		line = NULL;
	free(value);
	return line;
}

/* Deliberate back-pressure the van is meant to retry. */
static bool is_backpressure(long status)
{
	return status == 503 || status == 429 || status == 423;
}

/*
 * One batch over tus: POST then one checksummed PATCH. 1: stored (204
 * with Retas-Batch); 0: back-pressure, try again; -1: an error (noted).
 */
static int upload_once(CURL *c, struct shared *sh, const struct test_van *v, const struct batch *b)
{
	char lenh[64], sumh[128], b64[64], *auth, *loc = NULL, *got = NULL;
	uint8_t sha[32];
	struct http_resp r;
	int ret = -1;

	snprintf(lenh, sizeof(lenh), "Upload-Length: %zu", b->len);
	auth = auth_line(v, "POST", "/tus/");
	if (http_do_on(c, sh->fx->base, "POST", "/tus/",
		       (const char *const[]){"Tus-Resumable: 1.0.0", lenh, auth, NULL}, NULL, 0,
		       REQUEST_TIMEOUT_S, &r) < 0) {
		note_error(sh, "%s: POST /tus/: curl error %ld", v->id, -r.status);
		goto out;
	}
	free(auth);
	auth = NULL;
	if (is_backpressure(r.status)) {
		ret = 0;
		goto out;
	}
	loc = r.status == 201 ? http_header(&r, "Location") : NULL;
	if (!loc) {
		note_error(sh, "%s: POST /tus/: %ld %s", v->id, r.status, r.body ? r.body : "");
		goto out;
	}
	http_resp_clear(&r);
	crypto_hash_sha256(sha, b->data, b->len);
	sodium_bin2base64(b64, sizeof(b64), sha, 32, sodium_base64_VARIANT_ORIGINAL);
	snprintf(sumh, sizeof(sumh), "Upload-Checksum: sha256 %s", b64);
	auth = auth_line(v, "PATCH", loc);
	if (http_do_on(c, sh->fx->base, "PATCH", loc,
		       (const char *const[]){"Tus-Resumable: 1.0.0", "Upload-Offset: 0", sumh,
					     "Content-Type: application/offset+octet-stream", auth,
					     NULL},
		       b->data, b->len, REQUEST_TIMEOUT_S, &r) < 0) {
		note_error(sh, "%s: PATCH %s: curl error %ld", v->id, loc, -r.status);
		goto out;
	}
	if (is_backpressure(r.status)) {
		ret = 0;
		goto out;
	}
	got = http_header(&r, "Retas-Batch");
	if (r.status != 204 || !got || !streq(got, b->id)) {
		note_error(sh, "%s: PATCH %s: %ld batch %s %s", v->id, loc, r.status,
			   got ? got : "-", r.body ? r.body : "");
		goto out;
	}
	ret = 1;
out:
	http_resp_clear(&r);
	free(auth);
	free(loc);
	free(got);
	return ret;
}

/* Fetches and verifies the receipt: every record of b stored. */
static int check_receipt(CURL *c, struct shared *sh, const struct test_van *v,
			 const struct batch *b, size_t n_records)
{
	struct sync_receipt *rc = NULL;
	struct retas_error err = {0};
	char path[128], *auth;
	struct http_resp r;
	int ret = -1;

	snprintf(path, sizeof(path), "/api/v1/batches/%s/receipt", b->id);
	for (;;) {
		auth = auth_line(v, "GET", path);
		http_do_on(c, sh->fx->base, "GET", path, (const char *const[]){auth, NULL}, NULL, 0,
			   REQUEST_TIMEOUT_S, &r);
		free(auth);
		if (!is_backpressure(r.status) || retas_time_mono_ms() > sh->end_ms)
			break;
		atomic_fetch_add(&sh->backpressure, 1);
		http_resp_clear(&r);
	}
	if (r.status != 200) {
		note_error(sh, "%s: GET %s: %ld", v->id, path, r.status);
		goto out;
	}
	if (sync_receipt_verify(r.body, r.len, sh->fx->sign_pk, &rc, &err) < 0) {
		note_error(sh, "%s: receipt %s does not verify: %s", v->id, b->id, err.message);
		goto out;
	}
	if (!streq(rc->batch_id, b->id) || !streq(rc->device_id, v->id) ||
	    rc->n_records != n_records || rc->n_anomalies != 0) {
		note_error(sh, "%s: receipt %s: batch %s van %s, %zu records, %zu anomalies", v->id,
			   b->id, rc->batch_id, rc->device_id, rc->n_records, rc->n_anomalies);
		goto out;
	}
	for (size_t i = 0; i < n_records; i++) {
		const struct sync_receipt_record *e = sync_receipt_find(rc, b->rec_ids[i]);

		if (!e || e->outcome != SYNC_OUTCOME_STORED ||
		    memcmp(e->sha256, b->rec_sha[i], 32)) {
			note_error(sh, "%s: receipt %s: record %zu %s", v->id, b->id, i,
				   e ? sync_outcome_name(e->outcome) : "missing");
			goto out;
		}
	}
	ret = 0;
out:
	sync_receipt_free(rc);
	http_resp_clear(&r);
	return ret;
}

struct van_arg {
	struct shared *sh;
	struct van_load *vl;
};

static void *van_thread(void *p)
{
	struct van_arg *a = p;
	struct shared *sh = a->sh;
	CURL *c = curl_easy_init();
	unsigned backoff_ms = 10;

	if (!c) {
		note_error(sh, "curl_easy_init");
		return NULL;
	}
	for (unsigned i = 0; i < sh->cfg->batches; i++) {
		const struct batch *b = &a->vl->batches[i];
		int r;

		/* Batches of one van go in order, as the sync engine sends them. */
		while ((r = upload_once(c, sh, &a->vl->van, b)) == 0) {
			struct pollfd none = {.fd = -1};

			atomic_fetch_add(&sh->backpressure, 1);
			if (retas_time_mono_ms() > sh->end_ms) {
				note_error(sh, "%s: still refused at the deadline", a->vl->van.id);
				r = -1;
				break;
			}
			/* the van's own retry pause, bounded */
			poll(&none, 0, (int)backoff_ms);
			backoff_ms = backoff_ms < 500 ? backoff_ms * 2 : 500;
		}
		if (r < 0)
			break;
		atomic_fetch_add(&sh->uploads_done, 1);
		if (check_receipt(c, sh, &a->vl->van, b, sh->cfg->records) == 0)
			atomic_fetch_add(&sh->receipts_ok, 1);
	}
	curl_easy_cleanup(c);
	return NULL;
}

struct puller_arg {
	struct shared *sh;
	const char *token;
	unsigned index;
};

static void add_pull(struct shared *sh, int64_t ms, bool during)
{
	pthread_mutex_lock(&sh->lock);
	if (sh->n_pulls == sh->cap_pulls) {
		size_t cap = sh->cap_pulls ? sh->cap_pulls * 2 : 256;
		int64_t *np = realloc(sh->pull_ms, cap * sizeof(*np));

		if (np) {
			sh->pull_ms = np;
			sh->cap_pulls = cap;
		}
	}
	if (sh->n_pulls < sh->cap_pulls)
		sh->pull_ms[sh->n_pulls++] = ms;
	sh->pulls_during_ingest += during;
	pthread_mutex_unlock(&sh->lock);
}

static void *puller_thread(void *p)
{
	static const struct {
		const char *path, *type;
	} pulls[] = {
	    {"?format=json", "application/json"},
	    {"?format=csv", "text/csv"},
	    {"?format=pdf", "application/pdf"},
	    {NULL, "application/json"}, /* the list of all letters */
	};
	struct puller_arg *a = p;
	struct shared *sh = a->sh;
	CURL *c = curl_easy_init();
	char authz[256];
	unsigned k = a->index;

	if (!c) {
		note_error(sh, "curl_easy_init");
		return NULL;
	}
	snprintf(authz, sizeof(authz), "Authorization: Bearer %s", a->token);
	/* Pull while ingest runs, and at least one round of each kind. */
	for (unsigned n = 0; !atomic_load(&sh->ingest_done) || n < ARRAY_SIZE(pulls); n++, k++) {
		const char *query = pulls[k % ARRAY_SIZE(pulls)].path;
		char path[128], nomor[64];
		int64_t t0, ms;
		bool during = !atomic_load(&sh->ingest_done);
		char *ct = NULL;
		struct http_resp r;

		snprintf(nomor, sizeof(nomor), ST_ESC_FMT, (k / 4) % sh->cfg->vans);
		if (query)
			snprintf(path, sizeof(path), "/api/v1/reports/%s%s", nomor, query);
		else
			snprintf(path, sizeof(path), "/api/v1/reports");
		t0 = retas_time_mono_ms();
		if (t0 > sh->end_ms)
			break;
		http_do_on(c, sh->fx->base, "GET", path, (const char *const[]){authz, NULL}, NULL,
			   0, REQUEST_TIMEOUT_S, &r);
		ms = retas_time_mono_ms() - t0;
		if (is_backpressure(r.status)) {
			atomic_fetch_add(&sh->backpressure, 1);
		} else {
			ct = http_header(&r, "Content-Type");
			if (r.status != 200 || !ct ||
			    strncmp(ct, pulls[k % ARRAY_SIZE(pulls)].type,
				    strlen(pulls[k % ARRAY_SIZE(pulls)].type)) != 0 ||
			    r.len == 0)
				note_error(sh, "GET %s: %ld (%s)", path, r.status, ct ? ct : "-");
			else if (ms > REPORT_DEADLINE_MS)
				note_error(sh, "GET %s took %lld ms", path, (long long)ms);
			else
				add_pull(sh, ms, during);
		}
		free(ct);
		http_resp_clear(&r);
	}
	curl_easy_cleanup(c);
	return NULL;
}

static void *healthz_thread(void *p)
{
	struct shared *sh = p;
	CURL *c = curl_easy_init();

	if (!c) {
		note_error(sh, "curl_easy_init");
		return NULL;
	}
	while (!atomic_load(&sh->ingest_done) && retas_time_mono_ms() < sh->end_ms) {
		int64_t t0 = retas_time_mono_ms(), ms;
		struct http_resp r;

		http_do_on(c, sh->fx->base, "GET", "/healthz", NULL, NULL, 0, REQUEST_TIMEOUT_S,
			   &r);
		ms = retas_time_mono_ms() - t0;
		if (r.status != 200)
			note_error(sh, "GET /healthz: %ld", r.status);
		pthread_mutex_lock(&sh->lock);
		if (ms > sh->healthz_max_ms)
			sh->healthz_max_ms = ms;
		pthread_mutex_unlock(&sh->lock);
		http_resp_clear(&r);
		{
			struct pollfd none = {.fd = -1};

			poll(&none, 0, 50); /* a monitor's pace, not a flood */
		}
	}
	curl_easy_cleanup(c);
	return NULL;
}

static unsigned env_uint(const char *name, unsigned def, unsigned min, unsigned max)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return def;
	v = strtoul(s, &end, 10);
	if (*end || v < min || v > max)
		fail_msg("%s must be %u..%u", name, min, max);
	return (unsigned)v;
}

/* The server's peak resident set (VmHWM), in KiB. */
static long peak_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	assert_true(kb > 0);
	return kb;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int64_t db_count(sqlite3 *db, const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void write_figures(const struct load_cfg *cfg, double uploads_per_s, size_t pulls,
			  int64_t p95, unsigned errors, unsigned backpressure, long rss,
			  int64_t healthz_max)
{
	const char *dir = getenv("RETAS_FIGURES_DIR");
	char path[512];
	FILE *f;

	fprintf(stderr,
		"hq-load: %u vans x %u batches x %u records: %.1f uploads/s, %zu report pulls "
		"(p95 %lld ms), healthz max %lld ms, %u back-pressure replies, %u errors, peak "
		"RSS %ld KiB\n",
		cfg->vans, cfg->batches, cfg->records, uploads_per_s, pulls, (long long)p95,
		(long long)healthz_max, backpressure, errors, rss);
	if (!dir || !*dir)
		return;
	snprintf(path, sizeof(path), "%s/hq-load.json", dir);
	f = fopen(path, "we");
	assert_non_null(f);
	fprintf(f,
		"{\"vans\": %u, \"batches\": %u, \"records\": %u, \"uploads_per_s\": %.1f, "
		"\"report_pulls\": %zu, \"report_p95_ms\": %lld, \"healthz_max_ms\": %lld, "
		"\"backpressure\": %u, \"errors\": %u, \"peak_rss_kb\": %ld}\n",
		cfg->vans, cfg->vans * cfg->batches, cfg->vans * cfg->batches * cfg->records,
		uploads_per_s, pulls, (long long)p95, (long long)healthz_max, backpressure, errors,
		rss);
	assert_int_equal(fclose(f), 0);
}

static void hq_load_concurrent_uploads_and_reports(void **state)
{
	struct load_cfg cfg = {
	    .vans = env_uint("RETAS_HQ_LOAD_VANS", 16, 1, 256),
	    .batches = env_uint("RETAS_HQ_LOAD_BATCHES", 3, 1, 1000),
	    .records = env_uint("RETAS_HQ_LOAD_RECORDS", 4, 1, 500),
	    .pullers = env_uint("RETAS_HQ_LOAD_PULLERS", 3, 0, 64),
	    .photo = env_uint("RETAS_HQ_LOAD_PHOTO", 12000, 1, 1 << 20),
	};
	struct hq_fx fx;
	struct staff_tokens tok;
	struct shared sh = {0};
	struct van_load *vans;
	pthread_t *vt, *pt, ht;
	struct van_arg *va;
	struct puller_arg *pa;
	char demo[512], *jws, dbpath[600];
	int64_t t0, t1, p95 = 0;
	double per_s;
	long rss;
	sqlite3 *db;

	(void)state;
	hq_fx_init(&fx, bin, NULL);
	hq_fx_start(&fx);
	hq_fx_staff_all(&fx, &tok);

	/* Everything sealed beforehand: the load is HQ's, not the sealer's. */
	vans = calloc(cfg.vans, sizeof(*vans));
	assert_non_null(vans);
	for (unsigned v = 0; v < cfg.vans; v++) {
		char id[32], st[64], npsn[16];

		snprintf(id, sizeof(id), "LOAD-%03u", v);
		snprintf(st, sizeof(st), ST_FMT, v);
		snprintf(npsn, sizeof(npsn), "105%05u", v);
		test_van_new(&vans[v].van, id);
		test_van_register(&fx, &vans[v].van);
		jws = hq_fx_make_st(&fx, &tok, st, id, npsn, "SMA Negeri Kota Jambi", "157101");
		free(jws);
		vans[v].batches = calloc(cfg.batches, sizeof(struct batch));
		assert_non_null(vans[v].batches);
		for (unsigned b = 0; b < cfg.batches; b++) {
			struct batch *bt = &vans[v].batches[b];
			uint8_t **recs = calloc(cfg.records, sizeof(*recs));
			size_t *lens = calloc(cfg.records, sizeof(*lens));

			bt->rec_ids = calloc(cfg.records, sizeof(*bt->rec_ids));
			bt->rec_sha = calloc(cfg.records, sizeof(*bt->rec_sha));
			assert_true(recs && lens && bt->rec_ids && bt->rec_sha);
			for (unsigned i = 0; i < cfg.records; i++) {
				struct retas_record_header h;

				student_demografi(
				    demo, sizeof(demo), "Siswa Beban", i % 2 ? 'L' : 'P', 17, 0,
				    (int)((v * cfg.batches + b) * cfg.records + i) % 10000, 0);
				test_van_record(&vans[v].van, fx.seal_pk, st, NIP,
						retas_time_now_ms(), demo, cfg.photo, NULL,
						&recs[i], &lens[i]);
				assert_int_equal(
				    retas_record_read_header(recs[i], lens[i], &h, NULL), 0);
				memcpy(bt->rec_ids[i], h.id, 16);
				retas_record_hash(recs[i], lens[i], bt->rec_sha[i]);
			}
			test_van_batch(&vans[v].van, st, recs, lens, cfg.records, NULL, &bt->data,
				       &bt->len, bt->id);
			for (unsigned i = 0; i < cfg.records; i++)
				free(recs[i]);
			free(recs);
			free(lens);
		}
	}

	sh.fx = &fx;
	sh.cfg = &cfg;
	pthread_mutex_init(&sh.lock, NULL);
	/* The whole ingest phase is bounded: 20 s plus 250 ms a batch. */
	sh.end_ms = retas_time_mono_ms() + 20000 + 250 * (int64_t)cfg.vans * cfg.batches;
	vt = calloc(cfg.vans, sizeof(*vt));
	va = calloc(cfg.vans, sizeof(*va));
	pt = calloc(cfg.pullers, sizeof(*pt));
	pa = calloc(cfg.pullers, sizeof(*pa));
	assert_true(vt && va && pt && pa);
	t0 = retas_time_mono_ms();
	for (unsigned p = 0; p < cfg.pullers; p++) {
		pa[p] = (struct puller_arg){.sh = &sh, .token = tok.kabid, .index = p};
		assert_int_equal(pthread_create(&pt[p], NULL, puller_thread, &pa[p]), 0);
	}
	assert_int_equal(pthread_create(&ht, NULL, healthz_thread, &sh), 0);
	for (unsigned v = 0; v < cfg.vans; v++) {
		va[v] = (struct van_arg){.sh = &sh, .vl = &vans[v]};
		assert_int_equal(pthread_create(&vt[v], NULL, van_thread, &va[v]), 0);
	}
	for (unsigned v = 0; v < cfg.vans; v++)
		pthread_join(vt[v], NULL);
	t1 = retas_time_mono_ms();
	atomic_store(&sh.ingest_done, true);
	for (unsigned p = 0; p < cfg.pullers; p++)
		pthread_join(pt[p], NULL);
	pthread_join(ht, NULL);

	rss = peak_rss_kb(fx.pid);
	per_s = (double)(cfg.vans * cfg.batches) * 1000.0 / (double)(t1 - t0 ? t1 - t0 : 1);
	if (sh.n_pulls) {
		qsort(sh.pull_ms, sh.n_pulls, sizeof(int64_t), cmp_i64);
		p95 = sh.pull_ms[(sh.n_pulls * 95 + 99) / 100 - 1];
	}
	write_figures(&cfg, per_s, sh.n_pulls, p95, atomic_load(&sh.errors),
		      atomic_load(&sh.backpressure), rss, sh.healthz_max_ms);
	if (atomic_load(&sh.errors))
		fail_msg("%u errors; the first: %s", atomic_load(&sh.errors), sh.first_error);
	assert_int_equal(atomic_load(&sh.uploads_done), cfg.vans * cfg.batches);
	assert_int_equal(atomic_load(&sh.receipts_ok), cfg.vans * cfg.batches);
	assert_true(cfg.pullers == 0 || sh.pulls_during_ingest > 0);
	/* a sanitizer build needs a larger bound */
	if (rss > (long)env_uint("RETAS_HQ_LOAD_RSS_KB", RSS_BOUND_KB, 1024, 1u << 30))
		fail_msg("retas-hq peak RSS %ld KiB, bound %u KiB", rss,
			 env_uint("RETAS_HQ_LOAD_RSS_KB", RSS_BOUND_KB, 1024, 1u << 30));

	/* The store, read after a clean stop: each record exactly once. */
	hq_fx_stop(&fx);
	snprintf(dbpath, sizeof(dbpath), "%s/hq.db", fx.dir);
	assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(db_count(db, "SELECT count(*) FROM records", NULL),
			 (int64_t)cfg.vans * cfg.batches * cfg.records);
	assert_int_equal(db_count(db, "SELECT count(*) FROM batches", NULL),
			 (int64_t)cfg.vans * cfg.batches);
	assert_int_equal(db_count(db, "SELECT count(*) FROM receipts", NULL),
			 (int64_t)cfg.vans * cfg.batches);
	assert_int_equal(db_count(db, "SELECT count(*) FROM quarantine", NULL), 0);
	assert_int_equal(db_count(db, "SELECT count(*) FROM anomalies", NULL), 0);
	for (unsigned v = 0; v < cfg.vans; v++) {
		assert_int_equal(
		    db_count(db, "SELECT count(DISTINCT seq) FROM records WHERE van_id = ?",
			     vans[v].van.id),
		    (int64_t)cfg.batches * cfg.records);
		for (unsigned b = 0; b < cfg.batches; b++)
			for (unsigned i = 0; i < cfg.records; i++) {
				char hex[RETAS_UUID_STR_LEN];

				retas_uuid_format(vans[v].batches[b].rec_ids[i], hex);
				assert_int_equal(
				    db_count(db, "SELECT count(*) FROM records WHERE id = ?", hex),
				    1);
			}
	}
	sqlite3_close(db);

	for (unsigned v = 0; v < cfg.vans; v++) {
		for (unsigned b = 0; b < cfg.batches; b++) {
			free(vans[v].batches[b].data);
			free(vans[v].batches[b].rec_ids);
			free(vans[v].batches[b].rec_sha);
		}
		free(vans[v].batches);
	}
	free(vans);
	free(vt);
	free(va);
	free(pt);
	free(pa);
	free(sh.pull_ms);
	pthread_mutex_destroy(&sh.lock);
	staff_tokens_free(&tok);
	hq_fx_cleanup(&fx);
}

/* Open sockets of the server process. */
static int server_sockets(pid_t pid)
{
	char dir[64], path[400], target[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		ssize_t len;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = 0;
			n += strncmp(target, "socket:", 7) == 0;
		}
	}
	closedir(d);
	return n;
}

static long healthz_status(struct hq_fx *fx)
{
	CURL *c = curl_easy_init();
	struct http_resp r;
	long status;

	assert_non_null(c);
	http_do_on(c, fx->base, "GET", "/healthz", NULL, NULL, 0, REQUEST_TIMEOUT_S, &r);
	status = r.status;
	http_resp_clear(&r);
	curl_easy_cleanup(c);
	return status;
}

/*
 * More idle connections than the server's limit: those past it are closed
 * at once, the server holds no more sockets than its limit allows, and
 * once the flood goes the next request is answered.
 */
static void hq_load_connection_flood_limit_holds(void **state)
{
	enum { FLOOD = HQ_FLOOD };
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct pollfd *p = calloc(FLOOD, sizeof(*p));
	struct hq_fx fx;
	int64_t end;
	int closed = 0, sockets;

	(void)state;
	assert_non_null(p);
	hq_fx_init(&fx, bin, NULL);
	hq_fx_start(&fx);
	sa.sin_port = htons((uint16_t)fx.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < FLOOD; i++) {
		p[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(p[i].fd >= 0);
		assert_int_equal(connect(p[i].fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		p[i].events = POLLIN;
	}
	/* Wait (10 s at most) until the server has closed those past its
	 * limit: they read end-of-file. */
	end = retas_time_mono_ms() + 10000;
	while (closed < FLOOD - HQ_LIMIT && retas_time_mono_ms() < end) {
		int n = poll(p, FLOOD, (int)(end - retas_time_mono_ms()));

		assert_true(n >= 0 || errno == EINTR);
		for (int i = 0; n > 0 && i < FLOOD; i++) {
			char c;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (read(p[i].fd, &c, 1) <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				closed++;
			}
		}
	}
	assert_true(closed >= FLOOD - HQ_LIMIT);
	sockets = server_sockets(fx.pid);
	/* its connections, the listening socket and a few of its own */
	if (sockets > HQ_LIMIT + 8)
		fail_msg("retas-hq holds %d sockets with a limit of %d", sockets, HQ_LIMIT);
	fprintf(stderr, "hq-load: flood of %d connections: %d refused, server holds %d sockets\n",
		FLOOD, closed, sockets);
	for (int i = 0; i < FLOOD; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	/* Recovery: the flood gone, a request is answered within 10 s. */
	end = retas_time_mono_ms() + 10000;
	while (healthz_status(&fx) != 200) {
		struct pollfd none = {.fd = -1};

		assert_true(retas_time_mono_ms() < end);
		poll(&none, 0, 50);
	}
	free(p);
	hq_fx_cleanup(&fx);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hq_load_concurrent_uploads_and_reports),
	    cmocka_unit_test(hq_load_connection_flood_limit_holds),
	};

	bin = hq_fx_binary(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
