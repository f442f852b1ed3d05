/*
 * The libcurl multi handle on sd-event. curl tells us which sockets to
 * watch and when to call it back; we tell it which socket became ready or
 * that its timeout expired (curl_multi_socket_action), then collect the
 * finished transfers. Nothing here waits: a slow or silent server only
 * costs an idle fd in epoll.
 */
#include <errno.h>
#include <stdlib.h>

#include "retas-util.h"
#include "sync-http.h"

struct xfer {
	CURL *easy;
	sync_http_done_fn done;
	void *userdata;
	struct xfer *prev, *next;
};

/* One socket curl asked us to watch; kept on a list so that sources
 * curl never told us to remove (it may close cached connections silently
 * at cleanup) are still released. */
struct sock {
	sd_event_source *src;
	struct sock *prev, *next;
};

struct sync_http {
	sd_event *event;
	CURLM *multi;
	sd_event_source *timer;
	struct xfer *xfers;
	struct sock *socks;
	unsigned running;
};

static void sock_free(struct sync_http *h, struct sock *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		h->socks = k->next;
	if (k->next)
		k->next->prev = k->prev;
	sd_event_source_disable_unref(k->src);
	free(k);
}

static void check_done(struct sync_http *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left))) {
		struct xfer *x;
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		for (x = h->xfers; x && x->easy != easy; x = x->next)
			;
		/* Only ours are in the multi handle; a miss would be a
		 * transfer cancelled while its message was queued. */
		if (!x)
			continue;
		curl_multi_remove_handle(h->multi, easy);
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		if (x->prev)
			x->prev->next = x->next;
		else
			h->xfers = x->next;
		if (x->next)
			x->next->prev = x->prev;
		h->running--;
		/* The owner may start or cancel transfers from done: x is off
		 * the list already, and the loop reads the queue afresh. */
		x->done(easy, result, x->userdata);
		free(x);
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct sync_http *h = userdata;
	int flags = 0, still;

	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(h->multi, fd, flags, &still);
	check_done(h);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct sync_http *h = userdata;
	int still;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &still);
	check_done(h);
	return 0;
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct sync_http *h = userp;
	struct sock *k = socketp;
	uint32_t events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (k) {
			curl_multi_assign(h->multi, fd, NULL);
			sock_free(h, k);
		}
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= EPOLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= EPOLLOUT;
	if (k)
		return sd_event_source_set_io_events(k->src, events) < 0 ? -1 : 0;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -1;
	if (sd_event_add_io(h->event, &k->src, fd, events, on_io, h) < 0) {
		free(k);
		return -1;
	}
	sd_event_source_set_description(k->src, "sync-http-io");
	k->next = h->socks;
	if (h->socks)
		h->socks->prev = k;
	h->socks = k;
	curl_multi_assign(h->multi, fd, k);
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct sync_http *h = userp;

	if (timeout_ms < 0)
		return sd_event_source_set_enabled(h->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
	/* Zero means "as soon as possible": the timer fires on the next
	 * iteration, never from inside the curl call that asked. */
	if (sd_event_source_set_time_relative(h->timer, (uint64_t)timeout_ms * 1000) < 0 ||
	    sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT) < 0)
		return -1;
	return 0;
}

int sync_http_new(sd_event *event, struct sync_http **out)
{
	struct sync_http *h;
	int r;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->event = sd_event_ref(event);
	h->multi = curl_multi_init();
	if (!h->multi) {
		r = -ENOMEM;
		goto fail;
	}
	r = sd_event_add_time(event, &h->timer, CLOCK_MONOTONIC, 0, 1000, on_timer, h);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
	sd_event_source_set_description(h->timer, "sync-http-timer");
	if (curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h) != CURLM_OK) {
		r = -EIO;
		goto fail;
	}
	*out = h;
	return 0;
fail:
	sync_http_free(h);
	return r;
}

void sync_http_free(struct sync_http *h)
{
	if (!h)
		return;
	while (h->xfers)
		sync_http_cancel(h, h->xfers->easy);
	/* Closes the cached connections; their sockets leave through
	 * socket_cb, which drops the io sources. */
	if (h->multi)
		curl_multi_cleanup(h->multi);
	while (h->socks)
		sock_free(h, h->socks);
	sd_event_source_disable_unref(h->timer);
	sd_event_unref(h->event);
	free(h);
	curl_global_cleanup();
}

sd_event *sync_http_event(struct sync_http *h)
{
	return h->event;
}

int sync_http_easy_new(const struct sync_http_config *cfg, CURL **out)
{
	CURL *e = curl_easy_init();
	int r = -EINVAL;

	if (!e)
		return -ENOMEM;
	if (curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
			     cfg->allow_plain_http ? "http,https" : "https") ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			     cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 15000L) ||
	    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT,
			     cfg->low_speed_limit ? cfg->low_speed_limit : 512L) ||
	    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
			     cfg->low_speed_time_s ? cfg->low_speed_time_s : 30L) ||
	    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) ||
	    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L) ||
	    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L) ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) ||
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L))
		goto fail;
	if (cfg->ca_file && curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_file))
		goto fail;
	if (cfg->pinned_pubkey && curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, cfg->pinned_pubkey))
		goto fail;
	*out = e;
	return 0;
fail:
	curl_easy_cleanup(e);
	return r;
}

int sync_http_start(struct sync_http *h, CURL *easy, sync_http_done_fn done, void *userdata)
{
	struct xfer *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->easy = easy;
	x->done = done;
	x->userdata = userdata;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(h->multi, easy) != CURLM_OK) {
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(x);
		return -EIO;
	}
	x->next = h->xfers;
	if (h->xfers)
		h->xfers->prev = x;
	h->xfers = x;
	h->running++;
	return 0;
}

void sync_http_cancel(struct sync_http *h, CURL *easy)
{
	struct xfer *x;

	for (x = h->xfers; x && x->easy != easy; x = x->next)
		;
	if (!x)
		return;
	curl_multi_remove_handle(h->multi, easy);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	if (x->prev)
		x->prev->next = x->next;
	else
		h->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	h->running--;
	free(x);
}

unsigned sync_http_running(struct sync_http *h)
{
	return h->running;
}

const char *sync_http_reason(CURLcode code)
{
	switch (code) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return "tls.certificate";
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return "tls.pinned-key";
	case CURLE_SSL_CACERT_BADFILE:
		return "tls.ca-file";
	case CURLE_SSL_CONNECT_ERROR:
		return "tls.handshake";
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	default:
		return "unreachable";
	}
}

enum sync_fail sync_http_classify(CURLcode code)
{
	switch (code) {
	case CURLE_OK:
		return SYNC_FAIL_NONE;
	case CURLE_OPERATION_TIMEDOUT:
		return SYNC_FAIL_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return SYNC_FAIL_TLS;
	/* Our side: a bad option, our read callback, memory. Trying again
	 * changes nothing. */
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_READ_ERROR:
	case CURLE_WRITE_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_FAILED_INIT:
		return SYNC_FAIL_LOCAL;
	/* Name lookup, refused, reset, cut short, garbage from a middlebox,
	 * and anything unforeseen: the network, most likely. */
	default:
		return SYNC_FAIL_CONNECT;
	}
}
