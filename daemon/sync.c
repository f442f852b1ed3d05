/*
 * The sync engine on retasd's loop. One sync_http shares the loop with the
 * API, so uploading never blocks a call. A run goes
 *   probe /healthz -> stage (or resume) the batch -> tus upload -> receipt
 * and ends acknowledged, or waiting: while head office cannot be reached
 * the next probe comes from the backoff timer (equal jitter: at least half
 * the ceiling, so nothing probes faster than the schedule) or from a
 * network change rtnetlink reports. The records change state only in
 * rd_outbox_apply_receipt, after the receipt verified.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "retas-log.h"
#include "retas-time.h"
#include "retas-util.h"
#include "sync-auth.h"
#include "sync-http.h"
#include "sync-netwatch.h"
#include "sync-probe.h"
#include "sync-retry.h"
#include "sync-tus.h"
#include "sync.h"

#define RECEIPT_MAX (4 * 1024 * 1024)
#define MAX_WATCHERS 32

struct rd_sync_watcher {
	rd_sync_watch_fn fn;
	void *userdata;
	bool used;
};

struct rd_sync {
	struct rd_daemon *d;
	struct sync_http *http;
	struct sync_netwatch *netwatch;
	struct sync_probe *probe;
	struct sync_tus *tus;
	CURL *receipt;
	struct curl_slist *receipt_headers;
	char *receipt_body;
	size_t receipt_len;
	sd_event_source *timer;
	struct sync_retry retry;
	enum rd_sync_phase phase;
	struct rd_outbox_batch batch;
	bool have_batch;

	char base[272];	    /* head office's base URL, ending in '/' */
	char endpoint[300]; /* base + "tus/" */
	char healthz[300];
	struct sync_http_config http_cfg;
	struct sync_tus_config tus_cfg;

	struct sync_tus_progress progress;
	int64_t next_attempt; /* monotonic ms, while waiting */
	uint64_t wakeups, probes;
	int64_t last_contact;
	char last_outcome[64];
	struct rd_sync_watcher watchers[MAX_WATCHERS];
};

static void kick(struct rd_sync *s);

const char *rd_sync_phase_name(enum rd_sync_phase p)
{
	static const char *const names[] = {
	    [RD_SYNC_OFF] = "off",	   [RD_SYNC_IDLE] = "idle",
	    [RD_SYNC_WAITING] = "waiting", [RD_SYNC_PROBING] = "probing",
	    [RD_SYNC_UPLOADING] = "uploading", [RD_SYNC_RECEIPT] = "receipt",
	};
	return (size_t)p < ARRAY_SIZE(names) ? names[p] : "?";
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void notify(struct rd_sync *s, bool finished, const char *outcome,
		   const struct rd_outbox_result *res)
{
	struct rd_sync_progress p = {
	    .phase = s->phase,
	    .sent = s->progress.sent,
	    .total = s->progress.total,
	    .rate_bps = s->progress.rate_bps,
	    .eta_s = -1,
	    .batch_id = s->have_batch ? s->batch.batch_id : NULL,
	    .finished = finished,
	    .outcome = outcome,
	    .acknowledged = res ? res->acknowledged : 0,
	    .quarantined = res ? res->quarantined : 0,
	};

	if (p.rate_bps > 0 && p.total >= p.sent)
		p.eta_s = (int64_t)((p.total - p.sent) / p.rate_bps);
	for (size_t i = 0; i < MAX_WATCHERS; i++) {
		struct rd_sync_watcher *w = &s->watchers[i];

		if (!w->used)
			continue;
		if (finished)
			w->used = false;
		w->fn(w->userdata, &p);
	}
}

static void contact(struct rd_sync *s, const char *outcome)
{
	int r = rd_outbox_contact(s->d, rd_daemon_now(s->d), outcome);

	s->last_contact = rd_daemon_now(s->d);
	snprintf(s->last_outcome, sizeof(s->last_outcome), "%s", outcome);

	if (r < 0)
		log_warning("sync: cannot record the contact with head office: %s", strerror(-r));
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct rd_sync *s = userdata;

	s->wakeups++;
	if (s->phase == RD_SYNC_WAITING || s->phase == RD_SYNC_IDLE)
		s->phase = RD_SYNC_IDLE;
	kick(s);
	return 0;
}

static void arm(struct rd_sync *s, uint64_t delay_ms)
{
	uint64_t now;
	int r;

	sd_event_now(s->d->event, CLOCK_MONOTONIC, &now);
	if (!s->timer)
		r = sd_event_add_time(s->d->event, &s->timer, CLOCK_MONOTONIC,
				      now + delay_ms * 1000, 1000, on_timer, s);
	else
		r = sd_event_source_set_time(s->timer, now + delay_ms * 1000);
	if (r >= 0)
		r = sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
	if (r < 0)
		log_error("sync: cannot arm the timer: %s", strerror(-r));
	s->next_attempt = mono_ms() + (int64_t)delay_ms;
}

/* The run failed in a way worth another try: wait out the backoff. */
static void wait_backoff(struct rd_sync *s, enum sync_fail kind, long status,
			 const char *retry_after, const char *outcome)
{
	uint64_t delay = 0, ceiling;
	int r;

	r = sync_retry_next(&s->retry, kind, status, retry_after, rd_daemon_now(s->d),
			    randombytes_random(), &delay);
	ceiling = sync_retry_ceiling_ms(&s->retry.policy, s->retry.failures);
	if (r < 0)
		delay = ceiling;
	else if (!retry_after && delay < ceiling / 2)
		delay = ceiling / 2 + delay / 2; /* equal jitter: never below half the ceiling */
	s->phase = RD_SYNC_WAITING;
	log_info("sync: %s; next attempt in %" PRIu64 " ms", outcome, delay);
	arm(s, delay);
	notify(s, true, outcome, NULL);
}

static void go_idle(struct rd_sync *s, const char *outcome, const struct rd_outbox_result *res)
{
	s->phase = RD_SYNC_IDLE;
	s->next_attempt = 0;
	notify(s, true, outcome, res);
}

/* --- the receipt --- */

static size_t on_receipt_data(char *ptr, size_t size, size_t n, void *userdata)
{
	struct rd_sync *s = userdata;
	size_t len = size * n;
	char *grown;

	if (s->receipt_len + len > RECEIPT_MAX)
		return 0;
	grown = realloc(s->receipt_body, s->receipt_len + len + 1);
	if (!grown)
		return 0;
	memcpy(grown + s->receipt_len, ptr, len);
	s->receipt_body = grown;
	s->receipt_len += len;
	s->receipt_body[s->receipt_len] = '\0';
	return len;
}

static void receipt_clear(struct rd_sync *s)
{
	if (s->receipt) {
		sync_http_cancel(s->http, s->receipt);
		curl_easy_cleanup(s->receipt);
		s->receipt = NULL;
	}
	curl_slist_free_all(s->receipt_headers);
	s->receipt_headers = NULL;
	free(s->receipt_body);
	s->receipt_body = NULL;
	s->receipt_len = 0;
}

static int signed_header(struct rd_sync *s, const char *method, const char *path,
			 struct curl_slist **list)
{
	uint8_t nonce[SYNC_AUTH_NONCE_LEN];
	char *value = NULL, *line = NULL;
	struct curl_slist *n;
	int r;

	randombytes_buf(nonce, sizeof(nonce));
	r = sync_auth_sign(method, path, rd_daemon_now(s->d), nonce, s->d->device.pk,
			   s->d->device.sk, &value);
	if (r < 0)
		return r;
	if (asprintf(&line, "%s: %s", SYNC_AUTH_HEADER, value) < 0) {
		free(value);
		return -ENOMEM;
	}
	free(value);
	n = curl_slist_append(*list, line);
	free(line);
	if (!n)
		return -ENOMEM;
	*list = n;
	return 0;
}

static void settled(struct rd_sync *s, const struct rd_outbox_result *res)
{
	int64_t purged = 0;

	contact(s, "acknowledged");
	log_info("sync: batch %s acknowledged: %" PRId64 " records, %" PRId64
		 " quarantined, %" PRId64 " not settled",
		 s->batch.batch_id, res->acknowledged, res->quarantined, res->unmatched);
	sync_retry_reset(&s->retry);
	if (rd_outbox_purge(s->d, rd_daemon_now(s->d), s->d->config->sync_retention_s, &purged) ==
		0 &&
	    purged)
		log_info("sync: purged the ciphertext of %" PRId64 " records", purged);
	sync_tus_free(s->tus);
	s->tus = NULL;
	go_idle(s, "acknowledged", res);
	s->have_batch = false;
	/* More may wait: the next batch goes at once. */
	arm(s, 0);
}

static void on_receipt_done(CURL *easy, CURLcode code, void *userdata)
{
	struct rd_sync *s = userdata;
	struct rd_outbox_result res = {0};
	struct retas_error err = {0};
	long status = 0;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (code != CURLE_OK || status != 200) {
		char what[64];

		snprintf(what, sizeof(what), "receipt: HTTP %ld (%s)", status,
			 curl_easy_strerror(code));
		receipt_clear(s);
		contact(s, code == CURLE_OK ? "sync.receipt-http" : "unreachable");
		wait_backoff(s, code == CURLE_OK ? SYNC_FAIL_HTTP : sync_http_classify(code),
			     code == CURLE_OK ? (status == 404 ? 503 : status) : 0, NULL, what);
		return;
	}
	if (rd_outbox_apply_receipt(s->d, s->receipt_body ? s->receipt_body : "",
				    s->receipt_len, &res, NULL, &err) < 0) {
		log_error("sync: receipt for batch %s refused: %s (%s); its records stay pending",
			  s->batch.batch_id, err.message, err.reason);
		receipt_clear(s);
		contact(s, err.reason);
		/* A receipt that does not verify will not verify the next
		 * minute either: wait the longest. */
		wait_backoff(s, SYNC_FAIL_HTTP, 400, NULL, err.reason);
		return;
	}
	receipt_clear(s);
	settled(s, &res);
}

static int fetch_receipt(struct rd_sync *s)
{
	const char *rp = sync_tus_receipt_path(s->tus);
	char path[160], url[512];
	int r;

	if (rp)
		snprintf(path, sizeof(path), "%s", rp);
	else
		snprintf(path, sizeof(path), "/api/v1/batches/%s/receipt", s->batch.batch_id);
	if (path[0] != '/' || strstr(path, ".."))
		return -EBADMSG;
	/* The base may carry a path prefix; the receipt path is absolute. */
	{
		const char *p = strstr(s->base, "://");
		const char *slash = p ? strchr(p + 3, '/') : NULL;
		int hostlen = slash ? (int)(slash - s->base) : (int)strlen(s->base);

		snprintf(url, sizeof(url), "%.*s%s", hostlen, s->base, path);
	}
	receipt_clear(s);
	r = sync_http_easy_new(&s->http_cfg, &s->receipt);
	if (r < 0)
		return r;
	r = signed_header(s, "GET", path, &s->receipt_headers);
	if (r < 0)
		return r;
	curl_easy_setopt(s->receipt, CURLOPT_URL, url);
	curl_easy_setopt(s->receipt, CURLOPT_HTTPHEADER, s->receipt_headers);
	curl_easy_setopt(s->receipt, CURLOPT_WRITEFUNCTION, on_receipt_data);
	curl_easy_setopt(s->receipt, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->receipt, CURLOPT_TIMEOUT_MS, 60000L);
	r = sync_http_start(s->http, s->receipt, on_receipt_done, s);
	if (r < 0)
		return r;
	s->phase = RD_SYNC_RECEIPT;
	notify(s, false, NULL, NULL);
	return 0;
}

/* --- the upload --- */

static int t_headers(void *ud, const char *method, const char *url, const char *path,
		     struct curl_slist **list)
{
	return signed_header(ud, method, path, list);
}

static int t_load(void *ud, char **url, uint64_t *offset)
{
	struct rd_sync *s = ud;

	return rd_outbox_load_upload(s->d, s->batch.row, url, offset);
}

static int t_save(void *ud, const char *url, uint64_t offset)
{
	struct rd_sync *s = ud;

	return rd_outbox_save_upload(s->d, s->batch.row, url, offset);
}

static void t_progress(void *ud, const struct sync_tus_progress *p)
{
	struct rd_sync *s = ud;

	s->progress = *p;
	notify(s, false, NULL, NULL);
}

static void t_waiting(void *ud, uint64_t delay_ms, const struct retas_error *why)
{
	struct rd_sync *s = ud;

	log_info("sync: upload of batch %s interrupted (%s); again in %" PRIu64 " ms",
		 s->batch.batch_id, why && why->message[0] ? why->message : "?", delay_ms);
	s->next_attempt = mono_ms() + (int64_t)delay_ms;
	contact(s, why && why->reason[0] ? why->reason : "unreachable");
}

static void t_done(void *ud, enum sync_tus_end end, int r, const struct retas_error *err)
{
	struct rd_sync *s = ud;
	int q;

	s->next_attempt = 0;
	if (r == 0 && end == SYNC_TUS_UPLOADED) {
		struct sync_tus_stats st;

		sync_tus_get_stats(s->tus, &st);
		s->progress.sent = s->progress.total = st.length;
		q = fetch_receipt(s);
		if (q < 0)
			wait_backoff(s, SYNC_FAIL_LOCAL, 0, NULL, "sync.local");
		return;
	}
	log_error("sync: upload of batch %s failed: %s (%s)", s->batch.batch_id,
		  err ? err->message : strerror(-r), err ? err->reason : "");
	contact(s, err && err->reason[0] ? err->reason : "sync.failed");
	if (err && streq(err->reason, "sync.rejected")) {
		/* Head office refused the batch as a whole: sending it again
		 * cannot help; the officer sees the reason in `retas queue`. */
		rd_outbox_reject(s->d, s->batch.row, err->message);
		sync_tus_free(s->tus);
		s->tus = NULL;
		s->have_batch = false;
		go_idle(s, err->reason, NULL);
		return;
	}
	if (err && (streq(err->reason, "sync.gone") || streq(err->reason, "sync.state")))
		rd_outbox_save_upload(s->d, s->batch.row, NULL, 0);
	wait_backoff(s, SYNC_FAIL_HTTP, 503, NULL, err && err->reason[0] ? err->reason : "sync.failed");
}

static uint32_t t_random(void *ud)
{
	return randombytes_random();
}

static int64_t t_now(void *ud)
{
	struct rd_sync *s = ud;

	return rd_daemon_now(s->d);
}

static const struct sync_tus_ops tus_ops = {
    .headers = t_headers,
    .load = t_load,
    .save = t_save,
    .progress = t_progress,
    .waiting = t_waiting,
    .done = t_done,
    .random = t_random,
    .now_ms = t_now,
};

static void upload(struct rd_sync *s)
{
	struct retas_error err = {0};
	int r;

	r = rd_outbox_stage(s->d, &s->batch, &err);
	if (r == -ENOENT) {
		/* Head office answered and nothing waits. After a receipt the
		 * officer should still read that everything was acknowledged,
		 * not that head office merely answered. */
		contact(s, streq(s->last_outcome, "acknowledged") ? "acknowledged" : "reachable");
		s->have_batch = false;
		go_idle(s, "nothing", NULL);
		return;
	}
	contact(s, "reachable");
	if (r < 0) {
		log_error("sync: cannot stage a batch: %s (%s)", err.message, err.reason);
		wait_backoff(s, SYNC_FAIL_LOCAL, 0, NULL, err.reason);
		return;
	}
	s->have_batch = true;
	s->progress = (struct sync_tus_progress){.total = (uint64_t)s->batch.size};
	if (!s->tus) {
		r = sync_tus_new(s->http, &s->tus_cfg, &tus_ops, s, &s->tus);
		if (r < 0)
			goto fail;
	}
	r = sync_tus_start(s->tus, s->batch.path, NULL);
	if (r < 0)
		goto fail;
	s->phase = RD_SYNC_UPLOADING;
	notify(s, false, NULL, NULL);
	return;
fail:
	log_error("sync: cannot start the upload of %s: %s", s->batch.path, strerror(-r));
	wait_backoff(s, SYNC_FAIL_LOCAL, 0, NULL, "sync.local");
}

static void on_probe(void *userdata, int r, enum sync_fail kind, long status,
		     const char *retry_after)
{
	struct rd_sync *s = userdata;
	const char *why = sync_probe_reason(s->probe);

	sync_probe_free(s->probe);
	s->probe = NULL;
	if (r < 0) {
		/* A TLS refusal is worth telling apart from a dead network: the
		 * officer (or head office on the phone) can act on it. A reply
		 * of another status still means head office is not there. */
		if (!strncmp(why, "tls.", 4))
			log_error("sync: head office at %s refused by TLS: %s", s->healthz, why);
		else
			why = "unreachable";
		contact(s, why);
		wait_backoff(s, kind, status, retry_after,
			     streq(why, "unreachable") ? "head office unreachable" : why);
		return;
	}
	sync_retry_reset(&s->retry);
	upload(s); /* records the contact */
}

static void kick(struct rd_sync *s)
{
	int r;

	if (s->phase != RD_SYNC_IDLE && s->phase != RD_SYNC_WAITING)
		return;
	if (!s->base[0]) {
		s->phase = RD_SYNC_OFF;
		notify(s, true, "sync.no-url", NULL);
		return;
	}
	if (s->timer)
		sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
	s->probes++;
	r = sync_probe_start(s->http, &s->http_cfg, s->healthz, 20000, on_probe, s, &s->probe);
	if (r < 0) {
		log_error("sync: cannot probe %s: %s", s->healthz, strerror(-r));
		wait_backoff(s, SYNC_FAIL_LOCAL, 0, NULL, "sync.local");
		return;
	}
	s->phase = RD_SYNC_PROBING;
	notify(s, false, NULL, NULL);
}

static void on_net(void *userdata, unsigned events)
{
	struct rd_sync *s = userdata;

	log_debug("sync: network change 0x%x", events);
	if (!s->d->config->sync_auto)
		return;
	if (s->phase == RD_SYNC_UPLOADING && s->tus) {
		sync_tus_kick(s->tus);
		return;
	}
	if (s->phase == RD_SYNC_WAITING)
		kick(s);
}

/* Head office's base URL: sync.url, hq.url, or the letter's. */
static void configure(struct rd_sync *s)
{
	const struct rd_config *c = s->d->config;
	const char *url = c->sync_url ? c->sync_url
			  : c->hq_url ? c->hq_url
			  : s->d->st && s->d->st->hq.url ? s->d->st->hq.url
							  : NULL;
	size_t n;

	s->base[0] = '\0';
	if (url && strlen(url) < sizeof(s->base) - 2 &&
	    (strncmp(url, "https://", 8) == 0 ||
	     (c->sync_allow_http && strncmp(url, "http://", 7) == 0))) {
		n = strlen(url);
		snprintf(s->base, sizeof(s->base), "%s%s", url, url[n - 1] == '/' ? "" : "/");
	} else if (url) {
		log_warning("sync: %s is not an https:// URL; not syncing", url);
	}
	snprintf(s->endpoint, sizeof(s->endpoint), "%stus/", s->base);
	snprintf(s->healthz, sizeof(s->healthz), "%shealthz", s->base);
	s->http_cfg = (struct sync_http_config){
	    .ca_file = c->sync_ca_file,
	    .pinned_pubkey = c->sync_pinned_key,
	    .allow_plain_http = c->sync_allow_http,
	};
	s->tus_cfg = (struct sync_tus_config){
	    .http = s->http_cfg,
	    .endpoint = s->endpoint,
	    .chunk_size = (uint64_t)c->sync_chunk_kib * 1024,
	    .retry = {.base_ms = (uint64_t)c->sync_backoff_base_ms,
		      .cap_ms = (uint64_t)c->sync_backoff_cap_ms},
	};
	sync_retry_init(&s->retry, &s->tus_cfg.retry);
}

int rd_sync_new(struct rd_daemon *d, struct rd_sync **out)
{
	struct rd_sync *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->d = d;
	s->phase = RD_SYNC_IDLE;
	r = sync_http_new(d->event, &s->http);
	if (r < 0) {
		free(s);
		return r;
	}
	configure(s);
	{
		struct rd_sync_queue q;

		/* The last outcome survives a restart (see upload()). */
		if (rd_outbox_queue(d, &q) == 0) {
			s->last_contact = q.last_contact_ms;
			snprintf(s->last_outcome, sizeof(s->last_outcome), "%s", q.last_outcome);
		}
	}
	r = sync_netwatch_new(d->event, 0, on_net, s, &s->netwatch);
	if (r < 0)
		log_warning("sync: cannot watch the network (%s); probing on the timer only",
			    strerror(-r));
	rd_outbox_tidy(d);
	*out = s;
	if (d->config->sync_auto)
		arm(s, 0);
	return 0;
}

void rd_sync_free(struct rd_sync *s)
{
	if (!s)
		return;
	notify(s, true, "stopping", NULL);
	sync_tus_free(s->tus);
	sync_probe_free(s->probe);
	receipt_clear(s);
	sync_netwatch_free(s->netwatch);
	sd_event_source_disable_unref(s->timer);
	sync_http_free(s->http);
	free(s);
}

void rd_sync_reconfigure(struct rd_sync *s)
{
	if (s->tus) {
		sync_tus_free(s->tus);
		s->tus = NULL;
	}
	sync_probe_free(s->probe);
	s->probe = NULL;
	receipt_clear(s);
	if (s->phase != RD_SYNC_IDLE && s->phase != RD_SYNC_OFF)
		notify(s, true, "reconfigured", NULL);
	s->phase = RD_SYNC_IDLE;
	configure(s);
	if (s->d->config->sync_auto)
		arm(s, 0);
}

void rd_sync_now(struct rd_sync *s)
{
	if (s->phase == RD_SYNC_OFF)
		s->phase = RD_SYNC_IDLE;
	if (s->phase == RD_SYNC_UPLOADING && s->tus) {
		sync_tus_kick(s->tus);
		return;
	}
	kick(s);
}

void rd_sync_poke(struct rd_sync *s)
{
	if (s->d->config->sync_auto && s->phase == RD_SYNC_IDLE)
		arm(s, 0);
}

enum rd_sync_phase rd_sync_phase(const struct rd_sync *s)
{
	return s->phase;
}

int64_t rd_sync_next_attempt_ms(const struct rd_sync *s)
{
	int64_t left;

	if (!s->next_attempt)
		return -1;
	left = s->next_attempt - mono_ms();
	return left < 0 ? 0 : left;
}

void rd_sync_counters(const struct rd_sync *s, uint64_t *wakeups, uint64_t *probes)
{
	*wakeups = s->wakeups;
	*probes = s->probes;
}

int rd_sync_watch(struct rd_sync *s, rd_sync_watch_fn fn, void *userdata,
		  struct rd_sync_watcher **out)
{
	for (size_t i = 0; i < MAX_WATCHERS; i++) {
		if (!s->watchers[i].used) {
			s->watchers[i] = (struct rd_sync_watcher){fn, userdata, true};
			*out = &s->watchers[i];
			return 0;
		}
	}
	return -EBUSY;
}

void rd_sync_unwatch(struct rd_sync *s, struct rd_sync_watcher *w)
{
	if (w)
		w->used = false;
}

void rd_sync_settled(struct rd_sync *s, const char *batch_id)
{
	if (!s->have_batch || !streq(s->batch.batch_id, batch_id))
		return;
	sync_tus_free(s->tus);
	s->tus = NULL;
	receipt_clear(s);
	sync_probe_free(s->probe);
	s->probe = NULL;
	s->have_batch = false;
	go_idle(s, "acknowledged", NULL);
	arm(s, 0);
}

void rd_sync_status(const struct rd_sync *s, struct rd_sync_progress *p, int64_t *last_contact,
		    const char **last_outcome)
{
	*p = (struct rd_sync_progress){
	    .phase = s->phase,
	    .sent = s->progress.sent,
	    .total = s->have_batch ? s->progress.total : 0,
	    .rate_bps = s->progress.rate_bps,
	    .eta_s = -1,
	    .batch_id = s->have_batch ? s->batch.batch_id : NULL,
	};
	*last_contact = s->last_contact;
	*last_outcome = s->last_outcome;
}
