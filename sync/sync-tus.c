/*
 * The tus client's state machine. One request at a time:
 *
 *   start -> HEAD (state loaded) or POST (none) -> PATCH ... PATCH -> done
 *   any failure -> retry policy -> wait -> HEAD (or POST again when the
 *   creation failed) -> PATCH from the server's offset
 *
 * Offsets only ever come from the server (a 201, a 204's Upload-Offset, a
 * HEAD) and are saved before the next request, so what the caller's store
 * holds is never ahead of what head office has.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-util.h"
#include "sync-tus.h"

#define DEFAULT_CHUNK (1024 * 1024)
#define PROGRESS_INTERVAL_US 250000
#define BODY_KEEP 1024

enum step {
	STEP_IDLE,
	STEP_CREATE,
	STEP_HEAD,
	STEP_PATCH,
	STEP_DELETE,
	STEP_WAIT,
};

/* The request in flight and what its response said. */
struct req {
	CURL *easy;
	struct curl_slist *headers;
	enum step step;
	char errbuf[CURL_ERROR_SIZE];
	/* response */
	bool has_offset, has_length;
	uint64_t offset, length;
	char location[1024];
	char retry_after[64];
	char batch[64];	   /* Retas-Batch: head office ingested the upload */
	char receipt[256]; /* Retas-Receipt: where its receipt is */
	char rejected[64]; /* Retas-Rejected: head office refused it as a whole */
	char body[BODY_KEEP + 1];
	size_t body_len;
	/* PATCH body */
	size_t chunk_pos;
};

struct sync_tus {
	struct sync_http *http;
	const struct sync_tus_config *cfg;
	const struct sync_tus_ops *ops;
	void *userdata;
	struct sync_retry retry;

	int fd;
	uint64_t length;
	char *metadata; /* Upload-Metadata value, or NULL */
	char *url;
	uint64_t offset;
	bool created_here; /* url came from our POST and no PATCH succeeded since */
	bool terminating;
	bool cautious; /* the last request failed: the next PATCH asks before sending */
	char batch[64];
	char receipt[256];

	uint8_t *chunk;
	size_t chunk_len;

	struct req req;
	enum step after_wait;
	sd_event_source *timer;
	uint64_t last_progress_us;
	struct sync_tus_stats stats;
};

static uint64_t chunk_size(const struct sync_tus *t)
{
	return t->cfg->chunk_size ? t->cfg->chunk_size : DEFAULT_CHUNK;
}

static void req_reset(struct sync_tus *t)
{
	struct req *q = &t->req;

	if (q->easy) {
		sync_http_cancel(t->http, q->easy);
		curl_easy_cleanup(q->easy);
	}
	curl_slist_free_all(q->headers);
	memset(q, 0, sizeof(*q));
}

static void stop_all(struct sync_tus *t)
{
	req_reset(t);
	if (t->timer)
		sd_event_source_set_enabled(t->timer, SD_EVENT_OFF);
	t->after_wait = STEP_IDLE;
}

static void close_file(struct sync_tus *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->metadata);
	t->metadata = NULL;
	free(t->chunk);
	t->chunk = NULL;
	t->chunk_len = 0;
}

/* The end of this upload: the client is idle afterwards, and done may
 * free it, so nothing touches t after the call. */
static void finish(struct sync_tus *t, enum sync_tus_end end, int r, const struct retas_error *err)
{
	stop_all(t);
	close_file(t);
	t->terminating = false;
	t->ops->done(t->userdata, end, r, err);
}

static void fail(struct sync_tus *t, int r, const struct retas_error *err)
{
	finish(t, t->terminating ? SYNC_TUS_TERMINATED : SYNC_TUS_UPLOADED, r, err);
}

static int save_state(struct sync_tus *t, const char *url, uint64_t offset)
{
	int r = t->ops->save(t->userdata, url, offset);

	if (r < 0) {
		struct retas_error err = {0};
		retas_error_set(&err, r, "sync.state", N_("cannot store the upload's state: %s"),
				strerror(-r));
		fail(t, r, &err);
	}
	return r;
}

/* ---- response parsing ---- */

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static bool header_is(const char *line, size_t n, const char *name, const char **value,
		      size_t *vlen)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return false;
	line += k + 1;
	n -= k + 1;
	while (n && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' ' ||
		     line[n - 1] == '\t'))
		n--;
	*value = line;
	*vlen = n;
	return true;
}

static size_t on_header(char *buf, size_t size, size_t nmemb, void *userdata)
{
	struct req *q = userdata;
	size_t n = size * nmemb, vlen;
	const char *v;

	/* A new status line (after a 100 Continue, say): forget the last. */
	if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		q->has_offset = q->has_length = false;
		q->location[0] = q->retry_after[0] = '\0';
		q->batch[0] = q->receipt[0] = q->rejected[0] = '\0';
		q->body_len = 0;
		return n;
	}
	if (header_is(buf, n, "Upload-Offset", &v, &vlen))
		q->has_offset = parse_u64(v, vlen, &q->offset) == 0;
	else if (header_is(buf, n, "Upload-Length", &v, &vlen))
		q->has_length = parse_u64(v, vlen, &q->length) == 0;
	else if (header_is(buf, n, "Location", &v, &vlen) && vlen < sizeof(q->location))
		memcpy(q->location, v, vlen), q->location[vlen] = '\0';
	else if (header_is(buf, n, "Retry-After", &v, &vlen) && vlen < sizeof(q->retry_after))
		memcpy(q->retry_after, v, vlen), q->retry_after[vlen] = '\0';
	else if (header_is(buf, n, "Retas-Batch", &v, &vlen) && vlen < sizeof(q->batch))
		memcpy(q->batch, v, vlen), q->batch[vlen] = '\0';
	else if (header_is(buf, n, "Retas-Receipt", &v, &vlen) && vlen < sizeof(q->receipt))
		memcpy(q->receipt, v, vlen), q->receipt[vlen] = '\0';
	else if (header_is(buf, n, "Retas-Rejected", &v, &vlen) && vlen < sizeof(q->rejected))
		memcpy(q->rejected, v, vlen), q->rejected[vlen] = '\0';
	return n;
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *userdata)
{
	struct req *q = userdata;
	size_t n = size * nmemb, room = BODY_KEEP - q->body_len;

	memcpy(q->body + q->body_len, buf, n < room ? n : room);
	q->body_len += n < room ? n : room;
	q->body[q->body_len] = '\0';
	return n;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *userdata)
{
	struct sync_tus *t = userdata;
	struct req *q = &t->req;
	size_t n = size * nmemb, left = t->chunk_len - q->chunk_pos;

	if (n > left)
		n = left;
	memcpy(buf, t->chunk + q->chunk_pos, n);
	q->chunk_pos += n;
	t->stats.body_bytes += n;
	return n;
}

static int on_xferinfo(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct sync_tus *t = userdata;
	struct sync_tus_progress p;
	curl_off_t speed = 0;
	uint64_t now;

	if (!t->ops->progress || t->req.step != STEP_PATCH)
		return 0;
	if (sd_event_now(sync_http_event(t->http), CLOCK_MONOTONIC, &now) < 0 ||
	    now - t->last_progress_us < PROGRESS_INTERVAL_US)
		return 0;
	t->last_progress_us = now;
	curl_easy_getinfo(t->req.easy, CURLINFO_SPEED_UPLOAD_T, &speed);
	p.sent = t->offset + (uint64_t)(ulnow > 0 ? ulnow : 0);
	p.total = t->length;
	p.rate_bps = speed > 0 ? (uint64_t)speed : 0;
	t->ops->progress(t->userdata, &p);
	return 0;
}

/* ---- requests ---- */

static void on_done(CURL *easy, CURLcode result, void *userdata);

static int url_path(const char *url, char **out)
{
	CURLU *u = curl_url();
	char *path = NULL;
	int r = -EINVAL;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) == CURLUE_OK) {
		*out = strdup(path);
		r = *out ? 0 : -ENOMEM;
	}
	curl_free(path);
	curl_url_cleanup(u);
	return r;
}

static int add_header(struct curl_slist **list, const char *h)
{
	struct curl_slist *n = curl_slist_append(*list, h);

	if (!n)
		return -ENOMEM;
	*list = n;
	return 0;
}

/* Builds and starts one request. A failure here is ours (memory, an
 * option, the caller's headers), never the network's. */
static int send_req(struct sync_tus *t, enum step step, const char *method, const char *url)
{
	_cleanup_(freep) char *path = NULL;
	struct req *q = &t->req;
	char line[128];
	int r;

	req_reset(t);
	q->step = step;
	r = sync_http_easy_new(&t->cfg->http, &q->easy);
	if (r < 0)
		return r;
	r = add_header(&q->headers, "Tus-Resumable: " SYNC_TUS_VERSION);
	/* No "Expect: 100-continue" round trip before each chunk, except
	 * for the first one after a failure: then head office may still hold
	 * the upload for the broken connection (423) or be elsewhere (409),
	 * and asking first saves sending a chunk only to have it refused. */
	if (r == 0)
		r = add_header(&q->headers, step == STEP_PATCH && t->cautious && t->chunk_len
						? "Expect: 100-continue"
						: "Expect:");
	if (r == 0 && step == STEP_CREATE) {
		snprintf(line, sizeof(line), "Upload-Length: %" PRIu64, t->length);
		r = add_header(&q->headers, line);
		if (r == 0)
			r = add_header(&q->headers, "Content-Type:");
		if (r == 0 && t->metadata) {
			_cleanup_(freep) char *m = NULL;
			if (asprintf(&m, "Upload-Metadata: %s", t->metadata) < 0)
				r = -ENOMEM;
			else
				r = add_header(&q->headers, m);
		}
	}
	if (r == 0 && step == STEP_PATCH) {
		char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
						   sodium_base64_VARIANT_ORIGINAL)];
		uint8_t sum[crypto_hash_sha256_BYTES];

		crypto_hash_sha256(sum, t->chunk, t->chunk_len);
		sodium_bin2base64(b64, sizeof(b64), sum, sizeof(sum),
				  sodium_base64_VARIANT_ORIGINAL);
		snprintf(line, sizeof(line), "Upload-Offset: %" PRIu64, t->offset);
		r = add_header(&q->headers, line);
		if (r == 0) {
			snprintf(line, sizeof(line), "Upload-Checksum: sha256 %s", b64);
			r = add_header(&q->headers, line);
		}
		if (r == 0)
			r = add_header(&q->headers,
				       "Content-Type: application/offset+octet-stream");
	}
	if (r == 0 && t->ops->headers) {
		r = url_path(url, &path);
		if (r == 0)
			r = t->ops->headers(t->userdata, method, url, path, &q->headers);
	}
	if (r < 0)
		return r;

	if (curl_easy_setopt(q->easy, CURLOPT_URL, url) ||
	    curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, q->headers) ||
	    curl_easy_setopt(q->easy, CURLOPT_ERRORBUFFER, q->errbuf) ||
	    curl_easy_setopt(q->easy, CURLOPT_HEADERFUNCTION, on_header) ||
	    curl_easy_setopt(q->easy, CURLOPT_HEADERDATA, q) ||
	    curl_easy_setopt(q->easy, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(q->easy, CURLOPT_WRITEDATA, q))
		return -EINVAL;
	switch (step) {
	case STEP_CREATE:
		if (curl_easy_setopt(q->easy, CURLOPT_POST, 1L) ||
		    curl_easy_setopt(q->easy, CURLOPT_POSTFIELDS, "") ||
		    curl_easy_setopt(q->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0))
			return -EINVAL;
		break;
	case STEP_HEAD:
		if (curl_easy_setopt(q->easy, CURLOPT_NOBODY, 1L))
			return -EINVAL;
		break;
	case STEP_PATCH:
		if (curl_easy_setopt(q->easy, CURLOPT_UPLOAD, 1L) ||
		    curl_easy_setopt(q->easy, CURLOPT_CUSTOMREQUEST, "PATCH") ||
		    curl_easy_setopt(q->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)t->chunk_len) ||
		    curl_easy_setopt(q->easy, CURLOPT_READFUNCTION, on_read) ||
		    curl_easy_setopt(q->easy, CURLOPT_READDATA, t) ||
		    /* A server that ignores Expect gets the body after this. */
		    curl_easy_setopt(q->easy, CURLOPT_EXPECT_100_TIMEOUT_MS, 3000L) ||
		    curl_easy_setopt(q->easy, CURLOPT_NOPROGRESS, 0L) ||
		    curl_easy_setopt(q->easy, CURLOPT_XFERINFOFUNCTION, on_xferinfo) ||
		    curl_easy_setopt(q->easy, CURLOPT_XFERINFODATA, t))
			return -EINVAL;
		break;
	case STEP_DELETE:
		if (curl_easy_setopt(q->easy, CURLOPT_CUSTOMREQUEST, "DELETE"))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	r = sync_http_start(t->http, q->easy, on_done, t);
	if (r < 0)
		return r;
	switch (step) {
	case STEP_CREATE:
		t->stats.creates++;
		break;
	case STEP_HEAD:
		t->stats.heads++;
		break;
	case STEP_PATCH:
		t->stats.patches++;
		break;
	default:
		t->stats.deletes++;
		break;
	}
	return 0;
}

static void fail_local(struct sync_tus *t, int r)
{
	struct retas_error err = {0};

	retas_error_set(&err, r, "sync.local", N_("cannot prepare the request: %s"), strerror(-r));
	fail(t, r, &err);
}

static void do_step(struct sync_tus *t, enum step step);

static void step_create(struct sync_tus *t)
{
	int r = send_req(t, STEP_CREATE, "POST", t->cfg->endpoint);

	if (r < 0)
		fail_local(t, r);
}

static void step_head(struct sync_tus *t)
{
	int r = send_req(t, STEP_HEAD, "HEAD", t->url);

	if (r < 0)
		fail_local(t, r);
}

static void step_delete(struct sync_tus *t)
{
	int r = send_req(t, STEP_DELETE, "DELETE", t->url);

	if (r < 0)
		fail_local(t, r);
}

static void step_patch(struct sync_tus *t)
{
	uint64_t want = t->length - t->offset;
	struct retas_error err = {0};
	ssize_t n;
	size_t got = 0;
	int r;

	if (want > chunk_size(t))
		want = chunk_size(t);
	while (got < want) {
		n = pread(t->fd, t->chunk + got, want - got, (off_t)(t->offset + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			retas_error_set(&err, r, "sync.file",
					N_("cannot read the batch file at byte %" PRIu64 ": %s"),
					t->offset + got, strerror(-r));
			fail(t, r, &err);
			return;
		}
		got += (size_t)n;
	}
	t->chunk_len = got;
	r = send_req(t, STEP_PATCH, "PATCH", t->url);
	if (r < 0)
		fail_local(t, r);
}

static void do_step(struct sync_tus *t, enum step step)
{
	switch (step) {
	case STEP_CREATE:
		step_create(t);
		break;
	case STEP_HEAD:
		step_head(t);
		break;
	case STEP_PATCH:
		step_patch(t);
		break;
	case STEP_DELETE:
		step_delete(t);
		break;
	default:
		break;
	}
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct sync_tus *t = userdata;
	enum step next = t->after_wait;

	t->after_wait = STEP_IDLE;
	do_step(t, next);
	return 0;
}

/* What head office said, for the officer: its own message when the body
 * is its JSON error, the status otherwise. */
static void describe_refusal(const struct req *q, long status, struct retas_error *err, int code)
{
	_cleanup_(json_object_putp) json_object *o = NULL;
	json_object *msg = NULL, *reason = NULL;

	if (q->body_len)
		o = json_tokener_parse(q->body);
	if (o && json_object_is_type(o, json_type_object)) {
		json_object_object_get_ex(o, "message", &msg);
		json_object_object_get_ex(o, "error", &reason);
	}
	if (msg && json_object_is_type(msg, json_type_string))
		retas_error_set(err, code, "sync.refused",
				N_("head office refused the request (HTTP %ld, %s): %s"), status,
				reason && json_object_is_type(reason, json_type_string)
				    ? json_object_get_string(reason)
				    : "-",
				json_object_get_string(msg));
	else
		retas_error_set(err, code, "sync.refused",
				N_("head office refused the request (HTTP %ld)"), status);
}

/*
 * A request failed: ask the retry policy, then wait and go on with next
 * (HEAD, to learn the offset, unless nothing was created yet), or give up.
 */
static void retry_or_fail(struct sync_tus *t, enum sync_fail kind, long status,
			  const char *retry_after, const struct retas_error *why, enum step next)
{
	struct retas_error err = *why;
	uint64_t delay = 0;
	int r;

	r = sync_retry_next(&t->retry, kind, status, retry_after, t->ops->now_ms(t->userdata),
			    t->ops->random(t->userdata), &delay);
	if (r == -ETIMEDOUT) {
		retas_error_prefix(&err, "%s", _("giving up after repeated failures"));
		snprintf(err.reason, sizeof(err.reason), "sync.attempts");
		err.code = r;
	}
	if (r < 0) {
		fail(t, err.code ? err.code : r, &err);
		return;
	}
	t->stats.failures++;
	t->cautious = true;
	req_reset(t);
	t->after_wait = next;
	if (sd_event_source_set_time_relative(t->timer, delay * 1000) < 0 ||
	    sd_event_source_set_enabled(t->timer, SD_EVENT_ONESHOT) < 0) {
		fail_local(t, -EIO);
		return;
	}
	if (t->ops->waiting)
		t->ops->waiting(t->userdata, delay, why);
}

static void transport_failed(struct sync_tus *t, CURLcode result, enum step next)
{
	enum sync_fail kind = sync_http_classify(result);
	struct retas_error err = {0};

	if (kind == SYNC_FAIL_LOCAL)
		retas_error_set(&err, -EIO, "sync.local", N_("the upload failed on this side: %s"),
				t->req.errbuf[0] ? t->req.errbuf : curl_easy_strerror(result));
	else
		retas_error_set(&err, kind == SYNC_FAIL_TIMEOUT ? -ETIMEDOUT : -ECONNABORTED,
				"sync.network", N_("cannot reach head office: %s"),
				t->req.errbuf[0] ? t->req.errbuf : curl_easy_strerror(result));
	retry_or_fail(t, kind, 0, NULL, &err, next);
}

/* A status the step did not expect. */
static void status_failed(struct sync_tus *t, long status, enum step next)
{
	struct retas_error err = {0};
	enum sync_fail kind = SYNC_FAIL_HTTP;
	const char *after = t->req.retry_after[0] ? t->req.retry_after : NULL;

	describe_refusal(&t->req, status, &err, status >= 500 ? -EAGAIN : -EPERM);
	if (status == 409 || status == 423 || status == SYNC_TUS_CHECKSUM_MISMATCH)
		kind = SYNC_FAIL_RESYNC;
	retry_or_fail(t, kind, status, after, &err, next);
}

static void malformed(struct sync_tus *t, const char *what, enum step next)
{
	struct retas_error err = {0};

	retas_error_set(&err, -EBADMSG, "sync.protocol",
			N_("head office's answer makes no sense: %s"), what);
	retry_or_fail(t, SYNC_FAIL_RESYNC, 0, NULL, &err, next);
}

static void report_progress(struct sync_tus *t)
{
	struct sync_tus_progress p = {.sent = t->offset, .total = t->length};

	if (t->ops->progress)
		t->ops->progress(t->userdata, &p);
}

/* Continues from t->offset: more to send, or the end. */
static void advance(struct sync_tus *t)
{
	if (t->offset == t->length) {
		finish(t, SYNC_TUS_UPLOADED, 0, NULL);
		return;
	}
	step_patch(t);
}

/* Keeps what head office said about the batch the upload carried. */
static void note_batch(struct sync_tus *t)
{
	if (t->req.batch[0])
		snprintf(t->batch, sizeof(t->batch), "%s", t->req.batch);
	if (t->req.receipt[0])
		snprintf(t->receipt, sizeof(t->receipt), "%s", t->req.receipt);
}

/* The upload is gone from the server (404/410). */
static void upload_gone(struct sync_tus *t)
{
	struct retas_error err = {0};

	/* Just made and already gone: something else deletes uploads, and
	 * creating more would not help. */
	if (t->created_here) {
		retas_error_set(&err, -ENOENT, "sync.gone",
				N_("head office lost the upload right after creating it"));
		fail(t, -ENOENT, &err);
		return;
	}
	/* Head office has nothing of it (expired, or its staging area
	 * cleared): only now does starting from zero lose nothing. */
	free(t->url);
	t->url = NULL;
	t->offset = 0;
	if (save_state(t, NULL, 0) < 0)
		return;
	step_create(t);
}

static void handle_create(struct sync_tus *t, long status)
{
	struct req *q = &t->req;
	CURLU *u = NULL;
	char *abs = NULL;

	if (status != 201) {
		status_failed(t, status, STEP_CREATE);
		return;
	}
	if (!q->location[0]) {
		malformed(t, "201 without Location", STEP_CREATE);
		return;
	}
	/* Location may be relative to the creation URL (head office sends
	 * "/tus/<id>"). */
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, t->cfg->endpoint, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, q->location, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &abs, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		malformed(t, "a Location that is not a URL", STEP_CREATE);
		return;
	}
	curl_url_cleanup(u);
	free(t->url);
	t->url = strdup(abs);
	curl_free(abs);
	if (!t->url) {
		fail_local(t, -ENOMEM);
		return;
	}
	t->offset = 0;
	t->created_here = true;
	sync_retry_reset(&t->retry);
	if (save_state(t, t->url, 0) < 0)
		return;
	advance(t);
}

static void handle_head(struct sync_tus *t, long status)
{
	struct req *q = &t->req;
	struct retas_error err = {0};

	if (status == 404 || status == 410) {
		upload_gone(t);
		return;
	}
	if (status != 200) {
		status_failed(t, status, STEP_HEAD);
		return;
	}
	if (!q->has_offset) {
		malformed(t, "HEAD without Upload-Offset", STEP_HEAD);
		return;
	}
	if ((q->has_length && q->length != t->length) || q->offset > t->length) {
		retas_error_set(&err, -EBADMSG, "sync.length",
				N_("head office holds an upload of another size (%" PRIu64
				   " bytes, offset %" PRIu64 ") than the batch (%" PRIu64
				   " bytes)"),
				q->has_length ? q->length : 0, q->offset, t->length);
		fail(t, -EBADMSG, &err);
		return;
	}
	if (q->offset == t->length && q->rejected[0]) {
		retas_error_set(&err, -EPERM, "sync.rejected",
				N_("head office refused the batch: %s"), q->rejected);
		fail(t, -EPERM, &err);
		return;
	}
	note_batch(t);
	t->offset = q->offset;
	if (save_state(t, t->url, t->offset) < 0)
		return;
	/* Every byte is there but head office did not say it took the batch
	 * (its ingest failed after the last byte, say): an empty PATCH at
	 * the end asks it to ingest again (docs/sync-protocol.md §3). A
	 * plain tus server answers it with 204 too. */
	if (t->offset == t->length && !t->batch[0] && t->length > 0) {
		step_patch(t);
		return;
	}
	advance(t);
}

static void handle_patch(struct sync_tus *t, long status)
{
	struct req *q = &t->req;
	uint64_t sent_end = t->offset + t->chunk_len;

	if (status == 404 || status == 410) {
		upload_gone(t);
		return;
	}
	if (status != 204 && status != 200) {
		status_failed(t, status, STEP_HEAD);
		return;
	}
	if (!q->has_offset || q->offset > sent_end ||
	    (t->chunk_len ? q->offset <= t->offset : q->offset != t->offset)) {
		malformed(t, "PATCH answered with an Upload-Offset outside the chunk", STEP_HEAD);
		return;
	}
	note_batch(t);
	t->offset = q->offset;
	t->created_here = false;
	t->cautious = false;
	sync_retry_reset(&t->retry);
	if (save_state(t, t->url, t->offset) < 0)
		return;
	report_progress(t);
	advance(t);
}

static void handle_delete(struct sync_tus *t, long status)
{
	if (status != 204 && status != 200 && status != 404 && status != 410) {
		status_failed(t, status, STEP_DELETE);
		return;
	}
	free(t->url);
	t->url = NULL;
	t->offset = 0;
	if (save_state(t, NULL, 0) < 0)
		return;
	finish(t, SYNC_TUS_TERMINATED, 0, NULL);
}

static void on_done(CURL *easy, CURLcode result, void *userdata)
{
	struct sync_tus *t = userdata;
	enum step step = t->req.step;
	long status = 0;

	/* The transfer is out of the multi handle: forget it there. */
	t->req.easy = NULL;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(easy);
	if (result != CURLE_OK) {
		transport_failed(t, result,
				 step == STEP_CREATE   ? STEP_CREATE
				 : step == STEP_DELETE ? STEP_DELETE
						       : STEP_HEAD);
		return;
	}
	switch (step) {
	case STEP_CREATE:
		handle_create(t, status);
		break;
	case STEP_HEAD:
		handle_head(t, status);
		break;
	case STEP_PATCH:
		handle_patch(t, status);
		break;
	case STEP_DELETE:
		handle_delete(t, status);
		break;
	default:
		break;
	}
}

/* ---- public ---- */

int sync_tus_new(struct sync_http *http, const struct sync_tus_config *cfg,
		 const struct sync_tus_ops *ops, void *userdata, struct sync_tus **out)
{
	struct sync_tus *t;
	int r;

	if (!http || !cfg || !cfg->endpoint || !ops || !ops->load || !ops->save || !ops->done ||
	    !ops->random || !ops->now_ms)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->http = http;
	t->cfg = cfg;
	t->ops = ops;
	t->userdata = userdata;
	t->fd = -1;
	sync_retry_init(&t->retry, &cfg->retry);
	r = sd_event_add_time(sync_http_event(http), &t->timer, CLOCK_MONOTONIC, 0, 1000, on_timer,
			      t);
	if (r < 0) {
		free(t);
		return r;
	}
	sd_event_source_set_enabled(t->timer, SD_EVENT_OFF);
	sd_event_source_set_description(t->timer, "sync-tus-retry");
	*out = t;
	return 0;
}

void sync_tus_free(struct sync_tus *t)
{
	if (!t)
		return;
	stop_all(t);
	close_file(t);
	sd_event_source_disable_unref(t->timer);
	free(t->url);
	free(t);
}

/* "key b64,key b64" (tus creation). */
static int encode_metadata(const char *const *md, char **out)
{
	_cleanup_(freep) char *s = NULL;
	size_t len = 0;

	for (size_t i = 0; md && md[i]; i += 2) {
		const char *k = md[i], *v = md[i + 1];
		size_t kl = strlen(k), vl, bl;
		char *n;

		if (!v || kl == 0)
			return -EINVAL;
		for (size_t j = 0; j < kl; j++)
			if (k[j] <= ' ' || k[j] > '~' || k[j] == ',')
				return -EINVAL;
		vl = strlen(v);
		bl = sodium_base64_ENCODED_LEN(vl, sodium_base64_VARIANT_ORIGINAL);
		n = realloc(s, len + 1 + kl + 1 + bl);
		if (!n)
			return -ENOMEM;
		s = n;
		if (len)
			s[len++] = ',';
		memcpy(s + len, k, kl);
		len += kl;
		s[len++] = ' ';
		sodium_bin2base64(s + len, bl, (const unsigned char *)v, vl,
				  sodium_base64_VARIANT_ORIGINAL);
		len += strlen(s + len);
	}
	*out = steal_ptr(s);
	return 0;
}

int sync_tus_start(struct sync_tus *t, const char *path, const char *const *metadata)
{
	_cleanup_(closep) int fd = -1;
	_cleanup_(freep) char *md = NULL, *url = NULL;
	_cleanup_(freep) uint8_t *chunk = NULL;
	uint64_t offset = 0;
	struct stat st;
	int r;

	if (t->fd >= 0 || t->req.easy || t->after_wait != STEP_IDLE)
		return -EBUSY;
	r = encode_metadata(metadata, &md);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	chunk = malloc(chunk_size(t));
	if (!chunk)
		return -ENOMEM;
	r = t->ops->load(t->userdata, &url, &offset);
	if (r < 0)
		return r;

	t->fd = steal_fd(fd);
	t->length = (uint64_t)st.st_size;
	t->metadata = md && *md ? steal_ptr(md) : NULL;
	t->chunk = steal_ptr(chunk);
	free(t->url);
	t->url = steal_ptr(url);
	t->offset = offset;
	t->created_here = false;
	t->terminating = false;
	/* A resumed upload may still be held for the connection that broke. */
	t->cautious = t->url != NULL;
	t->batch[0] = t->receipt[0] = '\0';
	/* The policy is read at each start, like the rest of the borrowed
	 * configuration. */
	sync_retry_init(&t->retry, &t->cfg->retry);
	memset(&t->stats, 0, sizeof(t->stats));
	t->stats.length = t->length;
	/* The first request goes out from the loop, like every later one, so
	 * done can never run inside this call. */
	t->after_wait = t->url ? STEP_HEAD : STEP_CREATE;
	r = sd_event_source_set_time_relative(t->timer, 0);
	if (r >= 0)
		r = sd_event_source_set_enabled(t->timer, SD_EVENT_ONESHOT);
	if (r < 0) {
		t->after_wait = STEP_IDLE;
		close_file(t);
	}
	return r < 0 ? r : 0;
}

void sync_tus_stop(struct sync_tus *t)
{
	stop_all(t);
	close_file(t);
	t->terminating = false;
}

int sync_tus_kick(struct sync_tus *t)
{
	if (t->after_wait == STEP_IDLE || t->req.easy)
		return 0;
	if (sd_event_source_set_time_relative(t->timer, 0) < 0)
		return 0;
	return 1;
}

int sync_tus_terminate(struct sync_tus *t)
{
	_cleanup_(freep) char *url = NULL;
	uint64_t offset;
	int r;

	sync_tus_stop(t);
	if (!t->url) {
		r = t->ops->load(t->userdata, &url, &offset);
		if (r < 0)
			return r;
		t->url = steal_ptr(url);
	}
	if (!t->url)
		return 1;
	t->terminating = true;
	sync_retry_reset(&t->retry);
	t->after_wait = STEP_DELETE;
	r = sd_event_source_set_time_relative(t->timer, 0);
	if (r >= 0)
		r = sd_event_source_set_enabled(t->timer, SD_EVENT_ONESHOT);
	if (r < 0) {
		t->after_wait = STEP_IDLE;
		t->terminating = false;
		return r;
	}
	return 0;
}

const char *sync_tus_url(const struct sync_tus *t)
{
	return t->url;
}

const char *sync_tus_batch_id(const struct sync_tus *t)
{
	return t->batch[0] ? t->batch : NULL;
}

const char *sync_tus_receipt_path(const struct sync_tus *t)
{
	return t->receipt[0] ? t->receipt : NULL;
}

void sync_tus_get_stats(const struct sync_tus *t, struct sync_tus_stats *out)
{
	*out = t->stats;
	out->offset = t->offset;
}
