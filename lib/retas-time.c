/*
 * Calendar arithmetic (Howard Hinnant's days-from-civil) and RFC 3339
 * parsing and formatting without the C library's time zone machinery, so
 * results never depend on TZ.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "retas-time.h"

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && is_leap(y))
		return 29;
	return mdays[m - 1];
}

bool retas_date_is_valid(int year, int month, int day)
{
	if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1)
		return false;
	return day <= days_in_month(year, month);
}

int64_t retas_date_to_days(const struct retas_date *d)
{
	int64_t y = d->year - (d->month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (d->month + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + d->day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void retas_date_from_days(int64_t z, struct retas_date *out)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;

	out->year = (int)(y + (m <= 2));
	out->month = (int)m;
	out->day = (int)d;
}

static int parse_digits(const char *s, int n, int *out)
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

int retas_date_parse(const char *s, struct retas_date *out)
{
	int y, m, d;

	if (!s || parse_digits(s, 4, &y) < 0 || s[4] != '-' || parse_digits(s + 5, 2, &m) < 0 ||
	    s[7] != '-' || parse_digits(s + 8, 2, &d) < 0 || s[10] != '\0')
		return -EINVAL;
	if (!retas_date_is_valid(y, m, d))
		return -EINVAL;
	*out = (struct retas_date){y, m, d};
	return 0;
}

void retas_date_format(const struct retas_date *d, char *buf)
{
	snprintf(buf, 11, "%04d-%02d-%02d", d->year % 10000, d->month % 100, d->day % 100);
}

int retas_date_cmp(const struct retas_date *a, const struct retas_date *b)
{
	if (a->year != b->year)
		return a->year < b->year ? -1 : 1;
	if (a->month != b->month)
		return a->month < b->month ? -1 : 1;
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	return 0;
}

void retas_date_add_years(const struct retas_date *birth, int years, struct retas_date *out)
{
	struct retas_date r = {birth->year + years, birth->month, birth->day};

	if (r.month == 2 && r.day == 29 && !is_leap(r.year)) {
		r.month = 3;
		r.day = 1;
	}
	*out = r;
}

int retas_date_age(const struct retas_date *birth, const struct retas_date *on)
{
	int age = on->year - birth->year;
	struct retas_date bday;

	retas_date_add_years(birth, age, &bday);
	if (retas_date_cmp(on, &bday) < 0)
		age--;
	return age;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void retas_date_from_ms(int64_t ms, int offset_min, struct retas_date *out)
{
	int64_t local = ms + (int64_t)offset_min * 60000;

	retas_date_from_days(floor_div(local, 86400000), out);
}

int retas_time_parse_rfc3339(const char *s, int64_t *out_ms, int *out_offset_min)
{
	struct retas_date d;
	int hh, mm, ss, oh, om, frac_ms = 0, off;
	char date[11];
	const char *p;

	if (!s || strnlen(s, 11) < 10)
		return -EINVAL;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (retas_date_parse(date, &d) < 0)
		return -EINVAL;
	p = s + 10;
	if ((*p != 'T' && *p != 't') || parse_digits(p + 1, 2, &hh) < 0 || p[3] != ':' ||
	    parse_digits(p + 4, 2, &mm) < 0 || p[6] != ':' || parse_digits(p + 7, 2, &ss) < 0)
		return -EINVAL;
	if (hh > 23 || mm > 59 || ss > 60)
		return -EINVAL;
	p += 9;
	if (*p == '.') {
		int n = 0, scale = 100;

		p++;
		while (*p >= '0' && *p <= '9') {
			if (n < 3)
				frac_ms += (*p - '0') * scale;
			scale /= 10;
			n++;
			p++;
		}
		if (n == 0 || n > 9)
			return -EINVAL;
	}
	if (*p == 'Z' || *p == 'z') {
		off = 0;
		p++;
	} else if (*p == '+' || *p == '-') {
		if (parse_digits(p + 1, 2, &oh) < 0 || p[3] != ':' || parse_digits(p + 4, 2, &om) < 0 ||
		    oh > 23 || om > 59)
			return -EINVAL;
		off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
	if (ss == 60)
		ss = 59; /* leap second: clamp rather than refuse */
	*out_ms = ((retas_date_to_days(&d) * 86400 + hh * 3600 + mm * 60 + ss) - (int64_t)off * 60) *
			  1000 +
		  frac_ms;
	if (out_offset_min)
		*out_offset_min = off;
	return 0;
}

void retas_time_format_rfc3339(int64_t ms, int offset_min, char *buf)
{
	int64_t local = ms + (int64_t)offset_min * 60000;
	int64_t days = floor_div(local, 86400000);
	int64_t rem = local - days * 86400000;
	int msec = (int)(rem % 1000), secs = (int)(rem / 1000);
	struct retas_date d;
	char date[11], zone[8];
	int a = offset_min < 0 ? -offset_min : offset_min;

	retas_date_from_days(days, &d);
	retas_date_format(&d, date);
	if (offset_min == 0)
		snprintf(zone, sizeof(zone), "Z");
	else
		snprintf(zone, sizeof(zone), "%c%02d:%02d", offset_min < 0 ? '-' : '+', a / 60 % 100,
			 a % 60);
	if (msec)
		snprintf(buf, RETAS_RFC3339_MAX, "%sT%02d:%02d:%02d.%03d%s", date, secs / 3600,
			 secs / 60 % 60, secs % 60, msec, zone);
	else
		snprintf(buf, RETAS_RFC3339_MAX, "%sT%02d:%02d:%02d%s", date, secs / 3600,
			 secs / 60 % 60, secs % 60, zone);
}

int64_t retas_time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t retas_time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
