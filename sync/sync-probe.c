/*
 * The /healthz probe. The body is read and dropped (at most a few KiB are
 * accepted: a captive portal's page is no health answer, and its status
 * is what counts).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sync-probe.h"

struct sync_probe {
	struct sync_http *http;
	CURL *easy;
	sync_probe_fn fn;
	void *userdata;
	char retry_after[64];
	size_t body;
	const char *reason;
};

static size_t on_body(char *buf, size_t size, size_t nmemb, void *userdata)
{
	struct sync_probe *p = userdata;
	size_t n = size * nmemb;

	p->body += n;
	/* Returning less than n aborts the transfer (CURLE_WRITE_ERROR). */
	return p->body > 65536 ? 0 : n;
}

static size_t on_header(char *buf, size_t size, size_t nmemb, void *userdata)
{
	struct sync_probe *p = userdata;
	size_t n = size * nmemb, k = strlen("Retry-After:");

	if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0)
		p->retry_after[0] = '\0';
	else if (n > k && strncasecmp(buf, "Retry-After:", k) == 0) {
		const char *v = buf + k;
		size_t len = n - k;
		while (len && (*v == ' ' || *v == '\t'))
			v++, len--;
		while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
			len--;
		if (len < sizeof(p->retry_after)) {
			memcpy(p->retry_after, v, len);
			p->retry_after[len] = '\0';
		}
	}
	return n;
}

static void on_done(CURL *easy, CURLcode result, void *userdata)
{
	struct sync_probe *p = userdata;
	enum sync_fail kind = sync_http_classify(result);
	long status = 0;
	int r = 0;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(easy);
	p->easy = NULL;
	/* Too big a body is someone else's page, not an error of ours. */
	if (result == CURLE_WRITE_ERROR)
		kind = SYNC_FAIL_HTTP;
	p->reason = sync_http_reason(result);
	if (result != CURLE_OK && kind != SYNC_FAIL_HTTP)
		r = kind == SYNC_FAIL_TIMEOUT ? -ETIMEDOUT : -EHOSTUNREACH;
	else if (status < 200 || status > 299 || result != CURLE_OK)
		r = -EPROTO, kind = SYNC_FAIL_HTTP, p->reason = "http";
	else
		kind = SYNC_FAIL_NONE;
	p->fn(p->userdata, r, kind, status, p->retry_after[0] ? p->retry_after : NULL);
}

int sync_probe_start(struct sync_http *http, const struct sync_http_config *cfg, const char *url,
		     long timeout_ms, sync_probe_fn fn, void *userdata, struct sync_probe **out)
{
	struct sync_probe *p;
	int r;

	if (!http || !cfg || !url || !fn)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->http = http;
	p->fn = fn;
	p->userdata = userdata;
	r = sync_http_easy_new(cfg, &p->easy);
	if (r < 0)
		goto fail;
	if (curl_easy_setopt(p->easy, CURLOPT_URL, url) ||
	    curl_easy_setopt(p->easy, CURLOPT_HTTPGET, 1L) ||
	    curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, timeout_ms ? timeout_ms : 20000L) ||
	    curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p) ||
	    curl_easy_setopt(p->easy, CURLOPT_HEADERFUNCTION, on_header) ||
	    curl_easy_setopt(p->easy, CURLOPT_HEADERDATA, p)) {
		r = -EINVAL;
		goto fail;
	}
	r = sync_http_start(http, p->easy, on_done, p);
	if (r < 0)
		goto fail;
	*out = p;
	return 0;
fail:
	sync_probe_free(p);
	return r;
}

const char *sync_probe_reason(const struct sync_probe *p)
{
	return p && p->reason ? p->reason : "unreachable";
}

void sync_probe_free(struct sync_probe *p)
{
	if (!p)
		return;
	if (p->easy) {
		sync_http_cancel(p->http, p->easy);
		curl_easy_cleanup(p->easy);
	}
	free(p);
}
