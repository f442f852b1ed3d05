/*
 * Retry policy of the van's sync engine (DESIGN.md §4): which failures are
 * worth another attempt, and how long to wait before it. Exponential
 * backoff with full jitter (a uniform delay between 0 and min(cap, base *
 * 2^attempt)), so a fleet of vans that lost the same network does not come
 * back in step; a server's Retry-After (delta-seconds or HTTP-date) wins over
 * the backoff. Pure code: the random numbers and the wall clock come from
 * the caller, so a schedule is exactly reproducible in tests.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* How a request ended, as far as retrying is concerned. */
enum sync_fail {
	SYNC_FAIL_NONE = 0, /* it did not fail */
	SYNC_FAIL_CONNECT,  /* name lookup, refused, unreachable, reset, cut short */
	SYNC_FAIL_TIMEOUT,  /* connect timeout, low-speed abort */
	SYNC_FAIL_TLS,	    /* handshake, certificate or pinned key */
	SYNC_FAIL_HTTP,	    /* the server answered with a status */
	SYNC_FAIL_LOCAL,    /* our own side: memory, the file being uploaded */
	SYNC_FAIL_RESYNC,   /* the server and we disagree on the upload's state (tus 409
			       offset mismatch, 460 checksum mismatch, 423 locked, a
			       malformed answer): learn the offset again, then retry */
};

struct sync_retry_policy {
	uint64_t base_ms;	     /* ceiling of the first delay; 0 means 1000 */
	uint64_t cap_ms;	     /* largest delay; 0 means 300000 (5 min) */
	uint64_t retry_after_max_ms; /* a longer Retry-After is cut to this; 0 means 3600000 */
	unsigned max_attempts;	     /* attempts in a row before giving up; 0 never gives up */
};

struct sync_retry {
	struct sync_retry_policy policy;
	unsigned failures; /* in a row, since the last success */
};

/* True for the failures worth another attempt: connection errors,
 * timeouts, TLS failures (a captive portal answers with its own
 * certificate until the officer's network changes), HTTP 408, 429 and 5xx,
 * and SYNC_FAIL_RESYNC.
 * False for other statuses (the request itself is wrong: trying it again
 * gives the same answer) and for local failures. */
bool sync_retry_is_retryable(enum sync_fail kind, long http_status);

/* The ceiling of the delay after `failures` failures in a row (1 for the
 * first): min(cap, base * 2^(failures-1)). */
uint64_t sync_retry_ceiling_ms(const struct sync_retry_policy *p, unsigned failures);

/* A delay in [0, ceiling] from a 32-bit uniform random value: ceiling+1
 * buckets scaled over 2^32, so random 0 gives 0 and, for any ceiling below
 * 2^32 ms (49 days), UINT32_MAX gives the ceiling. */
uint64_t sync_retry_jitter_ms(uint64_t ceiling_ms, uint32_t random);

/*
 * Parses a Retry-After value: delta-seconds, or an HTTP-date in any of the
 * three forms RFC 9110 §5.6.7 requires recipients to accept (IMF-fixdate,
 * RFC 850, asctime). Returns the delay from now_ms (Unix ms) in *out_ms: 0
 * for a date in the past. 0 or -EINVAL for anything else (no whitespace
 * around, no sign, no fractions).
 */
int sync_retry_parse_retry_after(const char *value, int64_t now_ms, uint64_t *out_ms);

void sync_retry_init(struct sync_retry *r, const struct sync_retry_policy *policy);
/* A request succeeded: the next failure starts the schedule again. */
void sync_retry_reset(struct sync_retry *r);

/*
 * A request failed. retry_after is the response's Retry-After header or
 * NULL; now_ms the wall clock (only for an HTTP-date); random a fresh
 * 32-bit uniform value. Returns 0 with the delay before the next attempt in
 * *out_delay_ms (Retry-After when it parses, cut to retry_after_max_ms;
 * the jittered backoff otherwise); -EPERM when the failure is not
 * retryable; -ETIMEDOUT when this was the max_attempts-th failure in a row.
 * Counts the failure in every case.
 */
int sync_retry_next(struct sync_retry *r, enum sync_fail kind, long http_status,
		    const char *retry_after, int64_t now_ms, uint32_t random,
		    uint64_t *out_delay_ms);
