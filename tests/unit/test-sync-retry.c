/* The sync retry policy: classification, exact backoff schedules for a
 * fixed random source, Retry-After in all its forms. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sync-retry.h"

/* 1994-11-06T08:49:37Z, the date of RFC 9110's examples. */
#define RFC_DATE_MS 784111777000LL

static void retry_classify_statuses(void **state)
{
	assert_true(sync_retry_is_retryable(SYNC_FAIL_CONNECT, 0));
	assert_true(sync_retry_is_retryable(SYNC_FAIL_TIMEOUT, 0));
	assert_true(sync_retry_is_retryable(SYNC_FAIL_TLS, 0));
	assert_true(sync_retry_is_retryable(SYNC_FAIL_RESYNC, 460));
	assert_true(sync_retry_is_retryable(SYNC_FAIL_HTTP, 408));
	assert_true(sync_retry_is_retryable(SYNC_FAIL_HTTP, 429));
	assert_true(sync_retry_is_retryable(SYNC_FAIL_HTTP, 500));
	assert_true(sync_retry_is_retryable(SYNC_FAIL_HTTP, 503));
	assert_true(sync_retry_is_retryable(SYNC_FAIL_HTTP, 599));
	assert_false(sync_retry_is_retryable(SYNC_FAIL_HTTP, 400));
	assert_false(sync_retry_is_retryable(SYNC_FAIL_HTTP, 401));
	assert_false(sync_retry_is_retryable(SYNC_FAIL_HTTP, 404));
	assert_false(sync_retry_is_retryable(SYNC_FAIL_HTTP, 409));
	assert_false(sync_retry_is_retryable(SYNC_FAIL_HTTP, 413));
	assert_false(sync_retry_is_retryable(SYNC_FAIL_HTTP, 460));
	assert_false(sync_retry_is_retryable(SYNC_FAIL_HTTP, 600));
	assert_false(sync_retry_is_retryable(SYNC_FAIL_HTTP, 200));
	assert_false(sync_retry_is_retryable(SYNC_FAIL_LOCAL, 0));
	assert_false(sync_retry_is_retryable(SYNC_FAIL_NONE, 0));
}

static void retry_ceiling_doubles_to_cap(void **state)
{
	struct sync_retry_policy p = {.base_ms = 1000, .cap_ms = 8000};
	struct sync_retry_policy defaults = {0};

	assert_int_equal(sync_retry_ceiling_ms(&p, 1), 1000);
	assert_int_equal(sync_retry_ceiling_ms(&p, 2), 2000);
	assert_int_equal(sync_retry_ceiling_ms(&p, 3), 4000);
	assert_int_equal(sync_retry_ceiling_ms(&p, 4), 8000);
	assert_int_equal(sync_retry_ceiling_ms(&p, 5), 8000);
	assert_int_equal(sync_retry_ceiling_ms(&p, 4000000000u), 8000);
	/* A cap that is not a power-of-two multiple of the base. */
	p.cap_ms = 5000;
	assert_int_equal(sync_retry_ceiling_ms(&p, 3), 4000);
	assert_int_equal(sync_retry_ceiling_ms(&p, 4), 5000);
	assert_int_equal(sync_retry_ceiling_ms(&defaults, 1), 1000);
	assert_int_equal(sync_retry_ceiling_ms(&defaults, 9), 256000);
	assert_int_equal(sync_retry_ceiling_ms(&defaults, 10), 300000);
}

static void retry_jitter_spans_zero_to_ceiling(void **state)
{
	assert_int_equal(sync_retry_jitter_ms(1000, 0), 0);
	assert_int_equal(sync_retry_jitter_ms(1000, UINT32_MAX), 1000);
	/* 1001 buckets: half of 2^32 lands in bucket 500 (1001/2 = 500.5). */
	assert_int_equal(sync_retry_jitter_ms(1000, 1u << 31), 500);
	assert_int_equal(sync_retry_jitter_ms(4000, 3u << 30), 3000);
	assert_int_equal(sync_retry_jitter_ms(0, UINT32_MAX), 0);
	assert_int_equal(sync_retry_jitter_ms(3600000, UINT32_MAX), 3600000);
	assert_int_equal(sync_retry_jitter_ms(UINT32_MAX - 1, UINT32_MAX), UINT32_MAX - 1);
}

static void retry_schedule_fixed_random(void **state)
{
	const struct sync_retry_policy p = {.base_ms = 1000, .cap_ms = 8000};
	const uint32_t randoms[] = {UINT32_MAX, 1u << 31, 3u << 30, 0, 1u << 31, UINT32_MAX};
	const uint64_t expect[] = {1000, 1000, 3000, 0, 4000, 8000};
	struct sync_retry r;
	uint64_t delay;

	sync_retry_init(&r, &p);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(
		    sync_retry_next(&r, SYNC_FAIL_CONNECT, 0, NULL, 0, randoms[i], &delay), 0);
		assert_int_equal(delay, expect[i]);
	}
	assert_int_equal(r.failures, 6);
	/* A success starts the schedule again. */
	sync_retry_reset(&r);
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_HTTP, 503, NULL, 0, UINT32_MAX, &delay), 0);
	assert_int_equal(delay, 1000);
}

static void retry_stops_on_client_errors(void **state)
{
	const struct sync_retry_policy p = {.base_ms = 100, .cap_ms = 800};
	struct sync_retry r;
	uint64_t delay = 12345;

	sync_retry_init(&r, &p);
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_HTTP, 404, NULL, 0, 0, &delay), -EPERM);
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_HTTP, 400, "5", 0, 0, &delay), -EPERM);
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_LOCAL, 0, NULL, 0, 0, &delay), -EPERM);
	assert_int_equal(delay, 12345);
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_HTTP, 429, NULL, 0, 0, &delay), 0);
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_HTTP, 408, NULL, 0, 0, &delay), 0);
}

static void retry_gives_up_after_max_attempts(void **state)
{
	const struct sync_retry_policy p = {.base_ms = 100, .cap_ms = 800, .max_attempts = 3};
	struct sync_retry r;
	uint64_t delay;

	sync_retry_init(&r, &p);
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_TIMEOUT, 0, NULL, 0, 0, &delay), 0);
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_TIMEOUT, 0, NULL, 0, 0, &delay), 0);
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_TIMEOUT, 0, NULL, 0, 0, &delay), -ETIMEDOUT);
	sync_retry_reset(&r);
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_TIMEOUT, 0, NULL, 0, 0, &delay), 0);
}

static void retry_after_overrides_backoff(void **state)
{
	const struct sync_retry_policy p = {
	    .base_ms = 1000, .cap_ms = 8000, .retry_after_max_ms = 60000};
	struct sync_retry r;
	uint64_t delay;

	sync_retry_init(&r, &p);
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_HTTP, 503, "2", 0, UINT32_MAX, &delay), 0);
	assert_int_equal(delay, 2000);
	/* Longer than the cap of the backoff is still honoured... */
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_HTTP, 429, "30", 0, 0, &delay), 0);
	assert_int_equal(delay, 30000);
	/* ...up to retry_after_max_ms. */
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_HTTP, 503, "86400", 0, 0, &delay), 0);
	assert_int_equal(delay, 60000);
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_HTTP, 503, "Sun, 06 Nov 1994 08:50:07 GMT",
					 RFC_DATE_MS, 0, &delay),
			 0);
	assert_int_equal(delay, 30000);
	/* A value that does not parse falls back to the backoff (5th failure:
	 * ceiling 8000). */
	assert_int_equal(sync_retry_next(&r, SYNC_FAIL_HTTP, 503, "soon", 0, UINT32_MAX, &delay),
			 0);
	assert_int_equal(delay, 8000);
}

static void retry_after_parse_forms(void **state)
{
	uint64_t ms = 7;

	assert_int_equal(sync_retry_parse_retry_after("120", 0, &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(sync_retry_parse_retry_after("0", 0, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(
	    sync_retry_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", RFC_DATE_MS - 30000, &ms),
	    0);
	assert_int_equal(ms, 30000);
	assert_int_equal(
	    sync_retry_parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", RFC_DATE_MS - 1500, &ms),
	    0);
	assert_int_equal(ms, 1500);
	/* Read in 2026, "94" is still 1994: 2094 is more than 50 years ahead. */
	assert_int_equal(
	    sync_retry_parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", 1795000000000LL, &ms),
	    0);
	assert_int_equal(ms, 0);
	assert_int_equal(
	    sync_retry_parse_retry_after("Sun Nov  6 08:49:37 1994", RFC_DATE_MS - 60000, &ms), 0);
	assert_int_equal(ms, 60000);
	assert_int_equal(sync_retry_parse_retry_after("Thu Nov 24 07:00:00 1994", RFC_DATE_MS, &ms),
			 0);
	assert_int_equal(ms, (int64_t)(18 * 86400 + 7 * 3600 - 8 * 3600 - 49 * 60 - 37) * 1000);
	/* In the past: come back at once. */
	assert_int_equal(
	    sync_retry_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", RFC_DATE_MS + 5000, &ms),
	    0);
	assert_int_equal(ms, 0);
}

static void retry_after_rejects_malformed(void **state)
{
	const char *bad[] = {
	    "",
	    " 120",
	    "120 ",
	    "-1",
	    "+5",
	    "1.5",
	    "0x10",
	    "9999999999999",
	    "Sun, 06 Nov 1994 08:49:37 UTC",
	    "Sun, 6 Nov 1994 08:49:37 GMT",
	    "Sun, 31 Feb 1994 08:49:37 GMT",
	    "Sun, 06 Nov 1994 24:49:37 GMT",
	    "Sun, 06 Nox 1994 08:49:37 GMT",
	    "Xyz, 06 Nov 1994 08:49:37 GMT",
	    "Sunday, 06-Nov-1994 08:49:37 GMT",
	    "Sun Nov 6 08:49:37 1994",
	    "Sun Nov  6 08:49:37 94",
	};
	uint64_t ms = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sync_retry_parse_retry_after(bad[i], RFC_DATE_MS, &ms) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_int_equal(sync_retry_parse_retry_after(NULL, 0, &ms), -EINVAL);
	assert_int_equal(ms, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(retry_classify_statuses),
	    cmocka_unit_test(retry_ceiling_doubles_to_cap),
	    cmocka_unit_test(retry_jitter_spans_zero_to_ceiling),
	    cmocka_unit_test(retry_schedule_fixed_random),
	    cmocka_unit_test(retry_stops_on_client_errors),
	    cmocka_unit_test(retry_gives_up_after_max_attempts),
	    cmocka_unit_test(retry_after_overrides_backoff),
	    cmocka_unit_test(retry_after_parse_forms),
	    cmocka_unit_test(retry_after_rejects_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
