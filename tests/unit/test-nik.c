/*
 * NIK parsing: a table of valid numbers with what they decode to, and one
 * case per invalid reason with its exact sentence. Each row runs as its own
 * cmocka test, named after the row, so a failure names the number at fault.
 * The region data is the installed file from the source tree (RETAS_DATADIR).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "retas-nik.h"
#include "retas-regions.h"
#include "retas-util.h"

/* One row per case reads better than one field per line. */
/* clang-format off */
#define REF_2026 {2026, 11, 24}

struct valid_case {
	const char *name;
	const char *nik;
	struct retas_date ref;
	enum retas_gender declared;
	struct retas_date birth;
	enum retas_gender gender;
	unsigned serial;
};

struct invalid_case {
	const char *name;
	const char *nik;
	struct retas_date ref;
	enum retas_gender declared;
	const char *reason;
	const char *message;
};

static const struct valid_case valid_cases[] = {
	{"nik_valid_male", "1571010703080001", REF_2026, RETAS_GENDER_UNKNOWN, {2008, 3, 7},
	 RETAS_GENDER_MALE, 1},
	{"nik_valid_female_day_plus_40", "1571034703080002", REF_2026, RETAS_GENDER_FEMALE,
	 {2008, 3, 7}, RETAS_GENDER_FEMALE, 2},
	{"nik_valid_male_declared", "1571010703080001", REF_2026, RETAS_GENDER_MALE, {2008, 3, 7},
	 RETAS_GENDER_MALE, 1},
	{"nik_valid_female_day_71_serial_9999", "1571117101999999", REF_2026, RETAS_GENDER_UNKNOWN,
	 {1999, 1, 31}, RETAS_GENDER_FEMALE, 9999},
	{"nik_valid_29feb_leap_year", "1571052902080001", REF_2026, RETAS_GENDER_UNKNOWN,
	 {2008, 2, 29}, RETAS_GENDER_MALE, 1},
	{"nik_valid_29feb_leap_year_female", "1571056902040001", REF_2026, RETAS_GENDER_FEMALE,
	 {2004, 2, 29}, RETAS_GENDER_FEMALE, 1},
	{"nik_valid_29feb_2000", "1571056902000001", REF_2026, RETAS_GENDER_UNKNOWN, {2000, 2, 29},
	 RETAS_GENDER_FEMALE, 1},
	{"nik_valid_century_16_year_old", "1571010101100001", REF_2026, RETAS_GENDER_UNKNOWN,
	 {2010, 1, 1}, RETAS_GENDER_MALE, 1},
	{"nik_valid_century_born_on_ref_day", "1571012411260001", REF_2026, RETAS_GENDER_UNKNOWN,
	 {2026, 11, 24}, RETAS_GENDER_MALE, 1},
	{"nik_valid_century_day_after_ref_is_previous", "1571012511260001", REF_2026,
	 RETAS_GENDER_UNKNOWN, {1926, 11, 25}, RETAS_GENDER_MALE, 1},
	{"nik_valid_century_ref_2000_same", "1571010101000001", {2000, 3, 1}, RETAS_GENDER_UNKNOWN,
	 {2000, 1, 1}, RETAS_GENDER_MALE, 1},
	{"nik_valid_century_ref_2000_previous", "1571010101010001", {2000, 3, 1},
	 RETAS_GENDER_UNKNOWN, {1901, 1, 1}, RETAS_GENDER_MALE, 1},
	{"nik_valid_other_province_district", "3171010101100001", REF_2026, RETAS_GENDER_MALE,
	 {2010, 1, 1}, RETAS_GENDER_MALE, 1},
	{"nik_valid_regency_not_in_data", "1505014112090003", REF_2026, RETAS_GENDER_UNKNOWN,
	 {2009, 12, 1}, RETAS_GENDER_FEMALE, 3},
	{"nik_valid_newest_province", "9601013112990001", REF_2026, RETAS_GENDER_UNKNOWN,
	 {1999, 12, 31}, RETAS_GENDER_MALE, 1},
};

static const struct invalid_case invalid_cases[] = {
	{"nik_invalid_15_digits", "157101070308001", REF_2026, 0, "nik.length",
	 "The NIK has 15 digits; it must have exactly 16."},
	{"nik_invalid_17_digits", "15710107030800011", REF_2026, 0, "nik.length",
	 "The NIK has more than 16 digits; it must have exactly 16."},
	{"nik_invalid_empty", "", REF_2026, 0, "nik.length",
	 "The NIK is empty; it must have 16 digits."},
	{"nik_invalid_null", NULL, REF_2026, 0, "nik.length",
	 "The NIK is empty; it must have 16 digits."},
	{"nik_invalid_letter", "15710107O3080001", REF_2026, 0, "nik.digits",
	 "Character 9 of the NIK is not a digit; a NIK has only digits."},
	{"nik_invalid_spaces", "1571 0107 0308 0001", REF_2026, 0, "nik.digits",
	 "Character 5 of the NIK is not a digit; a NIK has only digits."},
	{"nik_invalid_non_ascii_digit", "15710107030800\xd9\xa1", REF_2026, 0, "nik.digits",
	 "Character 15 of the NIK is not a digit; a NIK has only digits."},
	{"nik_invalid_short_with_letter", "12a", REF_2026, 0, "nik.digits",
	 "Character 3 of the NIK is not a digit; a NIK has only digits."},
	{"nik_invalid_province_unknown", "9901010703080001", REF_2026, 0, "nik.province",
	 "Digits 1-2 of the NIK, 99, are not the code of a province."},
	{"nik_invalid_province_gap", "2001010703080001", REF_2026, 0, "nik.province",
	 "Digits 1-2 of the NIK, 20, are not the code of a province."},
	{"nik_invalid_province_00", "0001010703080001", REF_2026, 0, "nik.province",
	 "Digits 1-2 of the NIK, 00, are not the code of a province."},
	{"nik_invalid_regency_00", "1500010703080001", REF_2026, 0, "nik.regency",
	 "Digits 3-4 of the NIK, 00, are not the code of a regency or city."},
	{"nik_invalid_district_00", "1571000703080001", REF_2026, 0, "nik.district",
	 "Digits 5-6 of the NIK, 00, are not the code of a district (kecamatan)."},
	{"nik_invalid_day_00", "1571010003080001", REF_2026, 0, "nik.day",
	 "Digits 7-8 of the NIK, 00, are not a birth day: it must be 01-31, or 41-71 for a woman."},
	{"nik_invalid_day_32", "1571013203080001", REF_2026, 0, "nik.day",
	 "Digits 7-8 of the NIK, 32, are not a birth day: it must be 01-31, or 41-71 for a woman."},
	{"nik_invalid_day_40", "1571014003080001", REF_2026, 0, "nik.day",
	 "Digits 7-8 of the NIK, 40, are not a birth day: it must be 01-31, or 41-71 for a woman."},
	{"nik_invalid_day_72", "1571017203080001", REF_2026, 0, "nik.day",
	 "Digits 7-8 of the NIK, 72, are not a birth day: it must be 01-31, or 41-71 for a woman."},
	{"nik_invalid_month_00", "1571010700080001", REF_2026, 0, "nik.month",
	 "Digits 9-10 of the NIK, 00, are not a month (01-12)."},
	{"nik_invalid_month_13", "1571010713080001", REF_2026, 0, "nik.month",
	 "Digits 9-10 of the NIK, 13, are not a month (01-12)."},
	{"nik_invalid_date_31_april", "1571013104080001", REF_2026, 0, "nik.date",
	 "Digits 7-12 of the NIK give the birth date 2008-04-31, which does not exist."},
	{"nik_invalid_date_31_april_female", "1571017104080001", REF_2026, 0, "nik.date",
	 "Digits 7-12 of the NIK give the birth date 2008-04-31, which does not exist."},
	{"nik_invalid_date_29feb_non_leap_year", "1571012902070001", REF_2026, 0, "nik.date",
	 "Digits 7-12 of the NIK give the birth date 2007-02-29, which does not exist."},
	{"nik_invalid_date_29feb_non_leap_year_female", "1571016902070001", REF_2026, 0,
	 "nik.date", "Digits 7-12 of the NIK give the birth date 2007-02-29, which does not exist."},
	{"nik_invalid_date_29feb_1900", "1571012902000001", {1999, 12, 31}, 0, "nik.date",
	 "Digits 7-12 of the NIK give the birth date 1900-02-29, which does not exist."},
	{"nik_invalid_serial_0000", "1571010703080000", REF_2026, 0, "nik.serial",
	 "Digits 13-16 of the NIK, 0000, are not a serial number: it starts at 0001."},
	{"nik_invalid_gender_female_declared_male", "1571014703080001", REF_2026,
	 RETAS_GENDER_MALE, "nik.gender",
	 "The NIK is a woman's (birth day 47 is 41-71), but the gender given is male."},
	{"nik_invalid_gender_male_declared_female", "1571010703080001", REF_2026,
	 RETAS_GENDER_FEMALE, "nik.gender",
	 "The NIK is a man's (birth day 07 is 01-31), but the gender given is female."},
};

/* clang-format on */

static struct retas_regions *regions;

static int load_regions(void **state)
{
	struct retas_error err = {0};
	int r = retas_regions_load_default(&regions, &err);

	if (r < 0)
		fprintf(stderr, "region data: %s\n", err.message);
	return r < 0 ? -1 : 0;
}

static int free_regions(void **state)
{
	retas_regions_free(regions);
	regions = NULL;
	return 0;
}

static void run_valid(void **state)
{
	const struct valid_case *c = *state;
	struct retas_error err = {0};
	struct retas_nik n;

	assert_int_equal(retas_nik_parse(c->nik, &c->ref, c->declared, regions, &n, &err), 0);
	assert_string_equal(err.reason, "");
	assert_string_equal(n.nik, c->nik);
	assert_memory_equal(n.province, c->nik, 2);
	assert_int_equal(n.province[2], '\0');
	assert_memory_equal(n.regency, c->nik, 4);
	assert_int_equal(n.regency[4], '\0');
	assert_memory_equal(n.district, c->nik, 6);
	assert_int_equal(n.district[6], '\0');
	assert_int_equal(n.birth.year, c->birth.year);
	assert_int_equal(n.birth.month, c->birth.month);
	assert_int_equal(n.birth.day, c->birth.day);
	assert_int_equal(n.gender, c->gender);
	assert_int_equal(n.serial, c->serial);
	/* Never after the reference date, and within a century of it. */
	assert_true(retas_date_cmp(&n.birth, &c->ref) <= 0);
	assert_true(retas_date_age(&n.birth, &c->ref) < 100);
}

static void run_invalid(void **state)
{
	const struct invalid_case *c = *state;
	struct retas_error err = {0};
	struct retas_nik n, before;

	memset(&n, 0x5a, sizeof(n));
	before = n;
	assert_int_equal(retas_nik_parse(c->nik, &c->ref, c->declared, regions, &n, &err), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	assert_string_equal(err.reason, c->reason);
	assert_string_equal(err.message, c->message);
	/* Out-parameters are written only on success. */
	assert_memory_equal(&n, &before, sizeof(n));
	/* The same answer without a struct retas_error to fill. */
	assert_int_equal(retas_nik_parse(c->nik, &c->ref, c->declared, regions, &n, NULL), -EINVAL);
}

static void nik_province_unchecked_without_regions(void **state)
{
	struct retas_date ref = REF_2026;
	struct retas_error err = {0};
	struct retas_nik n;

	assert_int_equal(retas_nik_parse("9901010703080001", &ref, 0, NULL, &n, &err), 0);
	assert_string_equal(n.province, "99");
	assert_int_equal(retas_nik_parse("0001010703080001", &ref, 0, NULL, &n, &err), -EINVAL);
	assert_string_equal(err.reason, "nik.province");
}

/* The first fault from the left is the one reported. */
static void nik_first_fault_wins(void **state)
{
	struct retas_date ref = REF_2026;
	struct retas_error err = {0};
	struct retas_nik n;

	assert_int_equal(
	    retas_nik_parse("9900003213000000", &ref, RETAS_GENDER_FEMALE, regions, &n, &err),
	    -EINVAL);
	assert_string_equal(err.reason, "nik.province");
	assert_int_equal(
	    retas_nik_parse("1571013213000000", &ref, RETAS_GENDER_FEMALE, regions, &n, &err),
	    -EINVAL);
	assert_string_equal(err.reason, "nik.day");
	assert_int_equal(
	    retas_nik_parse("1571012902070000", &ref, RETAS_GENDER_FEMALE, regions, &n, &err),
	    -EINVAL);
	assert_string_equal(err.reason, "nik.date");
}

static void nik_every_reason_distinct(void **state)
{
	static const char *const reasons[] = {
	    "nik.length", "nik.digits", "nik.province", "nik.regency", "nik.district",
	    "nik.day",	  "nik.month",	"nik.date",	"nik.serial",  "nik.gender"};

	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
		bool seen = false;

		for (size_t j = 0; j < ARRAY_SIZE(invalid_cases); j++)
			seen |= streq(invalid_cases[j].reason, reasons[i]);
		if (!seen)
			fail_msg("no case for %s", reasons[i]);
	}
}

static void nik_mask(void **state)
{
	char buf[17];

	retas_nik_mask("1571010703080001", buf);
	assert_string_equal(buf, "157101******0001");
	retas_nik_mask("157101070308001", buf);
	assert_string_equal(buf, "****************");
	retas_nik_mask("15710107030800011", buf);
	assert_string_equal(buf, "****************");
	retas_nik_mask(NULL, buf);
	assert_string_equal(buf, "****************");
}

int main(void)
{
	const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(nik_province_unchecked_without_regions),
	    cmocka_unit_test(nik_first_fault_wins),
	    cmocka_unit_test(nik_every_reason_distinct),
	    cmocka_unit_test(nik_mask),
	};
	size_t nv = ARRAY_SIZE(valid_cases), ni = ARRAY_SIZE(invalid_cases), n = 0;
	struct CMUnitTest *tests = calloc(nv + ni + ARRAY_SIZE(fixed), sizeof(*tests));
	int failed;

	if (!tests)
		return 1;
	for (size_t i = 0; i < nv; i++)
		tests[n++] = (struct CMUnitTest){.name = valid_cases[i].name,
						 .test_func = run_valid,
						 .initial_state = (void *)&valid_cases[i]};
	for (size_t i = 0; i < ni; i++)
		tests[n++] = (struct CMUnitTest){.name = invalid_cases[i].name,
						 .test_func = run_invalid,
						 .initial_state = (void *)&invalid_cases[i]};
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		tests[n++] = fixed[i];
	failed = _cmocka_run_group_tests("nik", tests, n, load_regions, free_regions);
	free(tests);
	return failed;
}
