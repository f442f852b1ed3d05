/*
 * NIK parsing and validation (DESIGN.md §1). The checks run in the order a
 * person reads the number, left to right after its length and characters,
 * and the first failure is the answer: each has its own reason id and a
 * sentence that names the digits at fault, because the officer has to tell
 * the student which part of the number on their Kartu Keluarga is wrong.
 */
#include <errno.h>
#include <string.h>

#include "retas-i18n.h"
#include "retas-nik.h"
#include "retas-util.h"

#define NIK_LEN 16
#define FEMALE_DAY_OFFSET 40

static int two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* The latest century that does not put the birth date after ref. The date
 * may not exist yet (29 February): only its position in the year counts. */
static int birth_year(int yy, int month, int day, const struct retas_date *ref)
{
	struct retas_date guess = {ref->year - ref->year % 100 + yy, month, day};

	if (retas_date_cmp(&guess, ref) > 0)
		guess.year -= 100;
	return guess.year;
}

static int check_chars(const char *text, struct retas_error *err)
{
	size_t len;

	if (!text)
		return retas_error_set(err, -EINVAL, "nik.length",
				       N_("The NIK is empty; it must have 16 digits."));
	len = strnlen(text, NIK_LEN + 1);
	for (size_t i = 0; i < len; i++)
		if (text[i] < '0' || text[i] > '9')
			return retas_error_set(
			    err, -EINVAL, "nik.digits",
			    N_("Character %zu of the NIK is not a digit; a NIK has only digits."),
			    i + 1);
	if (len == 0)
		return retas_error_set(err, -EINVAL, "nik.length",
				       N_("The NIK is empty; it must have 16 digits."));
	if (len > NIK_LEN)
		return retas_error_set(
		    err, -EINVAL, "nik.length",
		    N_("The NIK has more than 16 digits; it must have exactly 16."));
	if (len < NIK_LEN)
		return retas_error_set(err, -EINVAL, "nik.length",
				       N_("The NIK has %zu digits; it must have exactly 16."), len);
	return 0;
}

static int check_region(const char *nik, const struct retas_regions *regions,
			struct retas_error *err)
{
	char province[3] = {nik[0], nik[1], 0};

	if (streq(province, "00") || (regions && !retas_regions_is_province(regions, province)))
		return retas_error_set(
		    err, -EINVAL, "nik.province",
		    N_("Digits 1-2 of the NIK, %s, are not the code of a province."), province);
	if (nik[2] == '0' && nik[3] == '0')
		return retas_error_set(
		    err, -EINVAL, "nik.regency",
		    N_("Digits 3-4 of the NIK, 00, are not the code of a regency or city."));
	if (nik[4] == '0' && nik[5] == '0')
		return retas_error_set(
		    err, -EINVAL, "nik.district",
		    N_("Digits 5-6 of the NIK, 00, are not the code of a district (kecamatan)."));
	return 0;
}

int retas_nik_parse(const char *text, const struct retas_date *ref, enum retas_gender declared,
		    const struct retas_regions *regions, struct retas_nik *out,
		    struct retas_error *err)
{
	struct retas_nik n = {0};
	int dd, mm, yy, day, r;

	r = check_chars(text, err);
	if (r < 0)
		goto out;
	r = check_region(text, regions, err);
	if (r < 0)
		goto out;
	dd = two_digits(text + 6);
	mm = two_digits(text + 8);
	yy = two_digits(text + 10);
	day = dd > FEMALE_DAY_OFFSET ? dd - FEMALE_DAY_OFFSET : dd;
	if (dd == 0 || (dd > 31 && dd <= FEMALE_DAY_OFFSET) || dd > FEMALE_DAY_OFFSET + 31) {
		r = retas_error_set(err, -EINVAL, "nik.day",
				    N_("Digits 7-8 of the NIK, %02d, are not a birth day: it must "
				       "be 01-31, or 41-71 for a woman."),
				    dd);
		goto out;
	}
	if (mm < 1 || mm > 12) {
		r = retas_error_set(err, -EINVAL, "nik.month",
				    N_("Digits 9-10 of the NIK, %02d, are not a month (01-12)."),
				    mm);
		goto out;
	}
	if (!ref) {
		r = retas_error_set(
		    err, -EINVAL, "nik.date",
		    N_("No reference date was given to read the NIK's birth year."));
		goto out;
	}
	n.birth = (struct retas_date){birth_year(yy, mm, day, ref), mm, day};
	if (!retas_date_is_valid(n.birth.year, n.birth.month, n.birth.day)) {
		r = retas_error_set(err, -EINVAL, "nik.date",
				    N_("Digits 7-12 of the NIK give the birth date %04d-%02d-%02d, "
				       "which does not exist."),
				    n.birth.year, mm, day);
		goto out;
	}
	n.serial = (unsigned)(two_digits(text + 12) * 100 + two_digits(text + 14));
	if (n.serial == 0) {
		r = retas_error_set(err, -EINVAL, "nik.serial",
				    N_("Digits 13-16 of the NIK, 0000, are not a serial number: it "
				       "starts at 0001."));
		goto out;
	}
	n.gender = dd > FEMALE_DAY_OFFSET ? RETAS_GENDER_FEMALE : RETAS_GENDER_MALE;
	if (declared == RETAS_GENDER_MALE && n.gender == RETAS_GENDER_FEMALE) {
		r = retas_error_set(err, -EINVAL, "nik.gender",
				    N_("The NIK is a woman's (birth day %02d is 41-71), but the "
				       "gender given is male."),
				    dd);
		goto out;
	}
	if (declared == RETAS_GENDER_FEMALE && n.gender == RETAS_GENDER_MALE) {
		r = retas_error_set(err, -EINVAL, "nik.gender",
				    N_("The NIK is a man's (birth day %02d is 01-31), but the "
				       "gender given is female."),
				    dd);
		goto out;
	}
	memcpy(n.nik, text, NIK_LEN);
	memcpy(n.province, text, 2);
	memcpy(n.regency, text, 4);
	memcpy(n.district, text, 6);
	*out = n;
	r = 0;
out:
	return r;
}

void retas_nik_mask(const char *nik, char *buf)
{
	size_t len = nik ? strnlen(nik, NIK_LEN + 1) : 0;

	memset(buf, '*', NIK_LEN);
	buf[NIK_LEN] = '\0';
	/* Anything but a 16-character string is masked whole: a malformed
	 * number must not leak more digits than a good one. */
	if (len != NIK_LEN)
		return;
	memcpy(buf, nik, 6);
	memcpy(buf + 12, nik + 12, 4);
}
