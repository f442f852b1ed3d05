/*
 * libcurl's multi interface on an sd-event loop (DESIGN.md §3.1: the loop
 * never blocks, HTTP included). Each socket curl opens gets an
 * sd_event_add_io source through CURLMOPT_SOCKETFUNCTION, and curl's one
 * timeout an sd-event timer through CURLMOPT_TIMERFUNCTION; finished
 * transfers are handed back to their owners from the loop. Also the one
 * place that sets the transport options every request of the sync engine
 * shares: connect timeout and low-speed limit instead of a total timeout,
 * TCP keepalive, HTTP/1.1, TLS verified against the configured CA with an
 * optional pinned public key.
 */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "sync-retry.h"

struct sync_http;

struct sync_http_config {
	const char *ca_file;	   /* PEM bundle to verify HQ against; NULL: system store */
	const char *pinned_pubkey; /* NULL, or CURLOPT_PINNEDPUBLICKEY ("sha256//<b64>;...") */
	long connect_timeout_ms;   /* 0 means 15000 */
	long low_speed_limit;	   /* bytes/s below which ...; 0 means 512 */
	long low_speed_time_s;	   /* ... for this long aborts; 0 means 30 */
	bool allow_plain_http;	   /* http:// as well as https:// (loopback tests) */
};

/* Called from the loop when a transfer ended; easy is no longer in the
 * multi handle and belongs to the caller again. */
typedef void (*sync_http_done_fn)(CURL *easy, CURLcode result, void *userdata);

/* Creates the multi handle on event (referenced). 0, -ENOMEM or -EIO. */
int sync_http_new(sd_event *event, struct sync_http **out);
/* Removes every running transfer without calling its done function (their
 * owners must have been freed first or clean their easy handles up
 * themselves) and frees. NULL is a no-op. */
void sync_http_free(struct sync_http *h);
sd_event *sync_http_event(struct sync_http *h);

/* A new easy handle with the shared transport options of cfg (borrowed:
 * the strings must outlive the handle). 0, -ENOMEM, -EINVAL (an option
 * libcurl refuses, such as a pinned key it cannot use). */
int sync_http_easy_new(const struct sync_http_config *cfg, CURL **out);

/*
 * Starts a transfer on the loop. easy must not use CURLOPT_PRIVATE (this
 * module does). done runs exactly once, from the loop, never from inside
 * this call, unless sync_http_cancel() comes first. 0, -ENOMEM, -EIO.
 */
int sync_http_start(struct sync_http *h, CURL *easy, sync_http_done_fn done, void *userdata);
/* Stops a running transfer; its done function is not called. No-op when
 * easy is not running. */
void sync_http_cancel(struct sync_http *h, CURL *easy);
/* How many transfers run. */
unsigned sync_http_running(struct sync_http *h);

/* What a CURLcode means for the retry policy. */
enum sync_fail sync_http_classify(CURLcode code);
/* A stable reason id for a transfer that ended without an answer, for the
 * officer's "last outcome": tls.certificate (head office's certificate
 * does not verify against the CA), tls.pinned-key (its public key is not
 * sync.pinned_key), tls.ca-file (the CA file cannot be read),
 * tls.handshake, timeout, unreachable. */
const char *sync_http_reason(CURLcode code);
