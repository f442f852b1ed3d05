/*
 * Calendar dates and instants. Instants are Unix time in milliseconds
 * (int64_t); dates are proleptic Gregorian. Nothing here reads the TZ
 * environment: offsets are explicit, WIB (+07:00) being the kit's own.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RETAS_WIB_OFFSET_MIN (7 * 60)
#define RETAS_RFC3339_MAX 40

struct retas_date {
	int year;
	int month; /* 1..12 */
	int day;   /* 1..31 */
};

bool retas_date_is_valid(int year, int month, int day);
/* Strict YYYY-MM-DD; 0 or -EINVAL. */
int retas_date_parse(const char *s, struct retas_date *out);
/* Writes YYYY-MM-DD and a NUL into buf (at least 11 bytes). */
void retas_date_format(const struct retas_date *d, char *buf);
int retas_date_cmp(const struct retas_date *a, const struct retas_date *b);
/* Days since 1970-01-01 and back. */
int64_t retas_date_to_days(const struct retas_date *d);
void retas_date_from_days(int64_t days, struct retas_date *out);
/* Whole years from birth to on (a birthday counts on its day; a 29 February
 * birthday falls on 1 March in common years). Negative when on < birth. */
int retas_date_age(const struct retas_date *birth, const struct retas_date *on);
/* The date a person born on birth turns years old (29 Feb -> 1 Mar). */
void retas_date_add_years(const struct retas_date *birth, int years, struct retas_date *out);
/* The calendar date of instant ms at the given UTC offset. */
void retas_date_from_ms(int64_t ms, int offset_min, struct retas_date *out);

/*
 * RFC 3339 date-time with a mandatory offset ("Z" or +hh:mm/-hh:mm) and
 * optional fractional seconds. 0 or -EINVAL. out_offset_min may be NULL.
 */
int retas_time_parse_rfc3339(const char *s, int64_t *out_ms, int *out_offset_min);
/* Formats ms at offset_min as 2026-11-24T07:00:00+07:00 (milliseconds shown
 * only when not zero). buf must hold RETAS_RFC3339_MAX bytes. */
void retas_time_format_rfc3339(int64_t ms, int offset_min, char *buf);
/* CLOCK_REALTIME in milliseconds. Only programs call this; library functions
 * take the time from their caller. */
int64_t retas_time_now_ms(void);
/* CLOCK_MONOTONIC in milliseconds, for deadlines. */
int64_t retas_time_mono_ms(void);
