/*
 * Retry classification, backoff with full jitter and Retry-After parsing
 * for the sync engine. No clock and no random source of its own: the
 * caller passes both, so tests state exact schedules.
 */
#include <errno.h>
#include <string.h>

#include "retas-time.h"
#include "sync-retry.h"

#define DEFAULT_BASE_MS 1000u
#define DEFAULT_CAP_MS 300000u
#define DEFAULT_RETRY_AFTER_MAX_MS 3600000u

bool sync_retry_is_retryable(enum sync_fail kind, long http_status)
{
	switch (kind) {
	case SYNC_FAIL_CONNECT:
	case SYNC_FAIL_TIMEOUT:
	case SYNC_FAIL_TLS:
	case SYNC_FAIL_RESYNC:
		return true;
	case SYNC_FAIL_HTTP:
		return http_status == 408 || http_status == 429 ||
		       (http_status >= 500 && http_status <= 599);
	case SYNC_FAIL_NONE:
	case SYNC_FAIL_LOCAL:
	default:
		return false;
	}
}

static uint64_t policy_base(const struct sync_retry_policy *p)
{
	return p->base_ms ? p->base_ms : DEFAULT_BASE_MS;
}

static uint64_t policy_cap(const struct sync_retry_policy *p)
{
	return p->cap_ms ? p->cap_ms : DEFAULT_CAP_MS;
}

uint64_t sync_retry_ceiling_ms(const struct sync_retry_policy *p, unsigned failures)
{
	uint64_t ceiling = policy_base(p), cap = policy_cap(p);

	for (unsigned i = 1; i < failures && ceiling < cap; i++)
		ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
	return ceiling < cap ? ceiling : cap;
}

uint64_t sync_retry_jitter_ms(uint64_t ceiling_ms, uint32_t random)
{
	/* ceiling+1 buckets over 2^32: unsigned __int128 keeps the product of
	 * a 64-bit ceiling and a 32-bit value exact. */
	return (uint64_t)(((unsigned __int128)(ceiling_ms + 1) * random) >> 32);
}

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const day_short[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const day_long[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
					"Friday", "Saturday", "Sunday"};

/* Reads exactly n digits. */
static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int month_index(const char *s)
{
	for (int i = 0; i < 12; i++)
		if (strncmp(s, month_names[i], 3) == 0)
			return i + 1;
	return -EINVAL;
}

/* "HH:MM:SS" */
static int parse_clock(const char *s, int *sec_of_day)
{
	int h, m, sec;

	if (digits(s, 2, &h) < 0 || s[2] != ':' || digits(s + 3, 2, &m) < 0 || s[5] != ':' ||
	    digits(s + 6, 2, &sec) < 0)
		return -EINVAL;
	/* 60 is a leap second; the delay it makes is off by at most one. */
	if (h > 23 || m > 59 || sec > 60)
		return -EINVAL;
	*sec_of_day = h * 3600 + m * 60 + sec;
	return 0;
}

static int to_ms(int year, int month, int day, int sec_of_day, int64_t *out)
{
	struct retas_date d = {year, month, day};

	if (!retas_date_is_valid(year, month, day))
		return -EINVAL;
	*out = (retas_date_to_days(&d) * 86400 + sec_of_day) * 1000;
	return 0;
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
static int parse_imf(const char *s, int64_t *out)
{
	int day, month, year, sec;
	bool known = false;

	if (strlen(s) != 29)
		return -EINVAL;
	for (int i = 0; i < 7; i++)
		known = known || strncmp(s, day_short[i], 3) == 0;
	if (!known || s[3] != ',' || s[4] != ' ' || digits(s + 5, 2, &day) < 0 || s[7] != ' ' ||
	    (month = month_index(s + 8)) < 0 || s[11] != ' ' || digits(s + 12, 4, &year) < 0 ||
	    s[16] != ' ' || parse_clock(s + 17, &sec) < 0 || strcmp(s + 25, " GMT") != 0)
		return -EINVAL;
	return to_ms(year, month, day, sec, out);
}

/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
static int parse_rfc850(const char *s, int64_t now_ms, int64_t *out)
{
	const char *p = NULL;
	int day, month, yy, year, sec;
	struct retas_date today;

	for (int i = 0; i < 7 && !p; i++) {
		size_t n = strlen(day_long[i]);
		if (strncmp(s, day_long[i], n) == 0)
			p = s + n;
	}
	if (!p || strlen(p) != 24 || p[0] != ',' || p[1] != ' ' || digits(p + 2, 2, &day) < 0 ||
	    p[4] != '-' || (month = month_index(p + 5)) < 0 || p[8] != '-' ||
	    digits(p + 9, 2, &yy) < 0 || p[11] != ' ' || parse_clock(p + 12, &sec) < 0 ||
	    strcmp(p + 20, " GMT") != 0)
		return -EINVAL;
	/* RFC 9110: a two-digit year more than 50 years ahead is the most
	 * recent past year with those digits. */
	retas_date_from_ms(now_ms, 0, &today);
	year = today.year - today.year % 100 + yy;
	if (year > today.year + 50)
		year -= 100;
	return to_ms(year, month, day, sec, out);
}

/* asctime: "Sun Nov  6 08:49:37 1994" */
static int parse_asctime(const char *s, int64_t *out)
{
	int day, month, year, sec;
	bool known = false;

	if (strlen(s) != 24)
		return -EINVAL;
	for (int i = 0; i < 7; i++)
		known = known || strncmp(s, day_short[i], 3) == 0;
	if (!known || s[3] != ' ' || (month = month_index(s + 4)) < 0 || s[7] != ' ')
		return -EINVAL;
	if (s[8] == ' ') {
		if (digits(s + 9, 1, &day) < 0)
			return -EINVAL;
	} else if (digits(s + 8, 2, &day) < 0) {
		return -EINVAL;
	}
	if (s[10] != ' ' || parse_clock(s + 11, &sec) < 0 || s[19] != ' ' ||
	    digits(s + 20, 4, &year) < 0)
		return -EINVAL;
	return to_ms(year, month, day, sec, out);
}

int sync_retry_parse_retry_after(const char *value, int64_t now_ms, uint64_t *out_ms)
{
	int64_t when;
	uint64_t secs = 0;
	size_t n;

	if (!value || !*value)
		return -EINVAL;
	n = strspn(value, "0123456789");
	if (n == strlen(value)) {
		/* Any longer is beyond every cap and would overflow below. */
		if (n > 12)
			return -EINVAL;
		for (size_t i = 0; i < n; i++)
			secs = secs * 10 + (uint64_t)(value[i] - '0');
		*out_ms = secs * 1000;
		return 0;
	}
	if (parse_imf(value, &when) < 0 && parse_rfc850(value, now_ms, &when) < 0 &&
	    parse_asctime(value, &when) < 0)
		return -EINVAL;
	*out_ms = when > now_ms ? (uint64_t)(when - now_ms) : 0;
	return 0;
}

void sync_retry_init(struct sync_retry *r, const struct sync_retry_policy *policy)
{
	memset(r, 0, sizeof(*r));
	if (policy)
		r->policy = *policy;
}

void sync_retry_reset(struct sync_retry *r)
{
	r->failures = 0;
}

int sync_retry_next(struct sync_retry *r, enum sync_fail kind, long http_status,
		    const char *retry_after, int64_t now_ms, uint32_t random,
		    uint64_t *out_delay_ms)
{
	uint64_t delay, max_after;

	if (r->failures < UINT32_MAX)
		r->failures++;
	if (!sync_retry_is_retryable(kind, http_status))
		return -EPERM;
	if (r->policy.max_attempts && r->failures >= r->policy.max_attempts)
		return -ETIMEDOUT;
	if (retry_after && sync_retry_parse_retry_after(retry_after, now_ms, &delay) == 0) {
		max_after = r->policy.retry_after_max_ms ? r->policy.retry_after_max_ms
							 : DEFAULT_RETRY_AFTER_MAX_MS;
		if (delay > max_after)
			delay = max_after;
	} else {
		delay =
		    sync_retry_jitter_ms(sync_retry_ceiling_ms(&r->policy, r->failures), random);
	}
	*out_delay_ms = delay;
	return 0;
}
