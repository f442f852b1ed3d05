/* Dates, RFC 3339 instants, UUIDv7, base64url and JSON helpers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "retas-b64.h"
#include "retas-json.h"
#include "retas-time.h"
#include "retas-util.h"
#include "retas-uuid.h"

static void time_date_validity(void **state)
{
	assert_true(retas_date_is_valid(2024, 2, 29));
	assert_false(retas_date_is_valid(2023, 2, 29));
	assert_false(retas_date_is_valid(1900, 2, 29));
	assert_true(retas_date_is_valid(2000, 2, 29));
	assert_false(retas_date_is_valid(2026, 4, 31));
	assert_false(retas_date_is_valid(2026, 13, 1));
	assert_false(retas_date_is_valid(2026, 1, 0));
}

static void time_date_parse_strict(void **state)
{
	struct retas_date d;

	assert_int_equal(retas_date_parse("2026-11-20", &d), 0);
	assert_int_equal(d.year, 2026);
	assert_int_equal(d.month, 11);
	assert_int_equal(d.day, 20);
	assert_int_equal(retas_date_parse("2026-11-20 ", &d), -EINVAL);
	assert_int_equal(retas_date_parse("2026-2-20", &d), -EINVAL);
	assert_int_equal(retas_date_parse("2026-02-30", &d), -EINVAL);
	assert_int_equal(retas_date_parse("", &d), -EINVAL);
}

static void time_days_round_trip(void **state)
{
	struct retas_date d = {1970, 1, 1}, back;

	assert_int_equal(retas_date_to_days(&d), 0);
	d = (struct retas_date){2000, 3, 1};
	assert_int_equal(retas_date_to_days(&d), 11017);
	for (int64_t days = -800000; days < 800000; days += 997) {
		retas_date_from_days(days, &back);
		assert_int_equal(retas_date_to_days(&back), days);
	}
}

static void time_age_birthday_edges(void **state)
{
	struct retas_date birth = {2009, 11, 24}, on = {2026, 11, 23}, leap = {2008, 2, 29}, when;

	assert_int_equal(retas_date_age(&birth, &on), 16);
	on.day = 24;
	assert_int_equal(retas_date_age(&birth, &on), 17);
	on = (struct retas_date){2025, 2, 28};
	assert_int_equal(retas_date_age(&leap, &on), 16);
	on = (struct retas_date){2025, 3, 1};
	assert_int_equal(retas_date_age(&leap, &on), 17);
	retas_date_add_years(&leap, 17, &when);
	assert_int_equal(when.month, 3);
	assert_int_equal(when.day, 1);
}

static void time_rfc3339_parse(void **state)
{
	int64_t ms;
	int off;

	assert_int_equal(retas_time_parse_rfc3339("2026-11-24T07:00:00+07:00", &ms, &off), 0);
	assert_int_equal(off, 420);
	assert_int_equal(ms, 1795478400000LL);
	assert_int_equal(retas_time_parse_rfc3339("2026-11-24T00:00:00Z", &ms, &off), 0);
	assert_int_equal(ms, 1795478400000LL);
	assert_int_equal(off, 0);
	assert_int_equal(retas_time_parse_rfc3339("2026-11-24T00:00:00.250-01:30", &ms, &off), 0);
	assert_int_equal(ms, 1795478400000LL + 5400000 + 250);
	assert_int_equal(off, -90);
	/* No offset, no seconds, wrong separators, trailing bytes. */
	assert_int_equal(retas_time_parse_rfc3339("2026-11-24T07:00:00", &ms, &off), -EINVAL);
	assert_int_equal(retas_time_parse_rfc3339("2026-11-24T07:00+07:00", &ms, &off), -EINVAL);
	assert_int_equal(retas_time_parse_rfc3339("2026-11-24 07:00:00Z", &ms, &off), -EINVAL);
	assert_int_equal(retas_time_parse_rfc3339("2026-11-24T07:00:00Zx", &ms, &off), -EINVAL);
	assert_int_equal(retas_time_parse_rfc3339("2026-11-24T24:00:00Z", &ms, &off), -EINVAL);
}

static void time_rfc3339_format(void **state)
{
	char buf[RETAS_RFC3339_MAX];
	struct retas_date d;

	retas_time_format_rfc3339(1795478400000LL, 420, buf);
	assert_string_equal(buf, "2026-11-24T07:00:00+07:00");
	retas_time_format_rfc3339(1795478400123LL, 0, buf);
	assert_string_equal(buf, "2026-11-24T00:00:00.123Z");
	retas_time_format_rfc3339(-1000, 0, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	/* 23:30 UTC on the 23rd is already the 24th in WIB. */
	retas_date_from_ms(1795478400000LL - 1800000, RETAS_WIB_OFFSET_MIN, &d);
	assert_int_equal(d.day, 24);
	retas_date_from_ms(1795478400000LL - 1800000, 0, &d);
	assert_int_equal(d.day, 23);
}

static void uuid_v7_layout(void **state)
{
	uint8_t a[16], b[16], parsed[16];
	char s[RETAS_UUID_STR_LEN];

	retas_uuid7_new(0x0123456789abLL, a);
	retas_uuid7_new(0x0123456789abLL, b);
	assert_memory_equal(a, "\x01\x23\x45\x67\x89\xab", 6);
	assert_int_equal(a[6] >> 4, 7);
	assert_int_equal(a[8] >> 6, 2);
	assert_memory_not_equal(a + 6, b + 6, 10);
	retas_uuid_format(a, s);
	assert_int_equal(strlen(s), 36);
	assert_memory_equal(s, "01234567-89ab-7", 15);
	assert_int_equal(retas_uuid_parse(s, parsed), 0);
	assert_memory_equal(parsed, a, 16);
	assert_int_equal(retas_uuid_parse("01234567-89ab-7xxx-8000-000000000000", parsed), -EINVAL);
	assert_int_equal(retas_uuid_parse("0123456789ab-7000-8000-000000000000", parsed), -EINVAL);
}

static void b64url_round_trip_and_errors(void **state)
{
	char *s = NULL;
	uint8_t *out = NULL, key[4];
	size_t n = 0;

	assert_int_equal(retas_b64url_encode("\xfb\xff", 2, &s), 0);
	assert_string_equal(s, "-_8");
	assert_int_equal(retas_b64url_decode(s, strlen(s), &out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\xfb\xff", 2);
	free(out);
	free(s);
	assert_int_equal(retas_b64url_decode("-_8=", 4, &out, &n), -EINVAL);
	assert_int_equal(retas_b64url_decode("+/8", 3, &out, &n), -EINVAL);
	assert_int_equal(retas_b64url_decode("A", 1, &out, &n), -EINVAL);
	assert_int_equal(retas_b64url_decode_key("AAECAw", key, 4), 0);
	assert_memory_equal(key, "\x00\x01\x02\x03", 4);
	assert_int_equal(retas_b64url_decode_key("AAECAw", key, 3), -EINVAL);
}

static void json_parse_strict(void **state)
{
	_cleanup_(json_object_putp) json_object *o = NULL;
	const char *s;
	int64_t i;

	assert_int_equal(retas_json_parse("{\"a\":\"x\",\"n\":5} \n", 17, &o), 0);
	assert_int_equal(retas_json_get_string(o, "a", &s), 0);
	assert_string_equal(s, "x");
	assert_int_equal(retas_json_get_int64(o, "n", &i), 0);
	assert_int_equal(i, 5);
	assert_int_equal(retas_json_get_string(o, "n", &s), -EINVAL);
	assert_int_equal(retas_json_get_string(o, "missing", &s), -ENOENT);
	json_object_put(o);
	o = NULL;
	assert_int_equal(retas_json_parse("true", 4, &o), 0);
	assert_true(json_object_get_boolean(o));
	json_object_put(o);
	assert_int_equal(retas_json_parse("-12 ", 4, &o), 0);
	assert_int_equal(json_object_get_int(o), -12);
	json_object_put(o);
	o = NULL;
	assert_int_equal(retas_json_parse("12x", 3, &o), -EINVAL);
	assert_int_equal(retas_json_parse("{\"a\":1} x", 9, &o), -EINVAL);
	assert_int_equal(retas_json_parse("{\"a\":1", 6, &o), -EINVAL);
	assert_int_equal(retas_json_parse("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"
					  "]]]]]]]]]]]]]]]]]]]]",
					  80, &o),
			 -EINVAL);
}

static void utf8_valid_forms(void **state)
{
	static const struct {
		const char *s;
		bool controls, want;
	} cases[] = {
		{"Siti Aminah", false, true},
		{"Bel\xc3\xa9n \xe2\x82\xac \xf0\x9f\x98\x80", false, true},
		{"\xc0\xaf", true, false},         /* overlong '/' */
		{"\xed\xa0\x80", true, false},     /* surrogate */
		{"\xf4\x90\x80\x80", true, false}, /* past U+10FFFF */
		{"\xe2\x82", true, false},         /* cut short */
		{"\x80", true, false},              /* lone continuation */
		{"a\nb", false, false},
		{"a\nb", true, true},
		{"\xc2\x85", false, false},        /* C1 control NEL */
		{"\x7f", false, false},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_int_equal(retas_utf8_valid(cases[i].s, strlen(cases[i].s), cases[i].controls),
				 cases[i].want);
}

static void words_match_commands(void **state)
{
	char *argv[] = {"surat-tugas", "sign", "800/1", NULL};

	assert_int_equal(retas_words_match("surat-tugas sign", 3, argv), 2);
	assert_int_equal(retas_words_match("surat-tugas", 3, argv), 1);
	assert_int_equal(retas_words_match("surat-tugas draft", 3, argv), 0);
	assert_int_equal(retas_words_match("surat", 3, argv), 0);
	assert_int_equal(retas_words_match("surat-tugas sign 800/1 x", 3, argv), 0);
	assert_int_equal(retas_words_match("surat-tugas sign", 1, argv), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(time_date_validity),
		cmocka_unit_test(time_date_parse_strict),
		cmocka_unit_test(time_days_round_trip),
		cmocka_unit_test(time_age_birthday_edges),
		cmocka_unit_test(time_rfc3339_parse),
		cmocka_unit_test(time_rfc3339_format),
		cmocka_unit_test(uuid_v7_layout),
		cmocka_unit_test(b64url_round_trip_and_errors),
		cmocka_unit_test(json_parse_strict),
		cmocka_unit_test(utf8_valid_forms),
		cmocka_unit_test(words_match_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
