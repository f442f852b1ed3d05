/*
 * NIK (Nomor Induk Kependudukan): 16 digits PPKKCC DDMMYY SSSS. Province,
 * regency/city and district of first registration, birth date with the day
 * +40 for women, and a serial 0001..9999 (DESIGN.md §1).
 */
#pragma once

#include "retas-error.h"
#include "retas-regions.h"
#include "retas-time.h"

enum retas_gender {
	RETAS_GENDER_UNKNOWN = 0,
	RETAS_GENDER_MALE = 'L',   /* laki-laki */
	RETAS_GENDER_FEMALE = 'P', /* perempuan */
};

struct retas_nik {
	char nik[17];
	char province[3]; /* "15" */
	char regency[5];  /* "1571" */
	char district[7]; /* "157101" */
	struct retas_date birth;
	enum retas_gender gender;
	unsigned serial;
};

/*
 * Parses and validates text. The birth year's century is the latest one
 * that does not put the birth date after ref (the caller's reference date,
 * usually today or the session date). declared is the gender the person
 * states, RETAS_GENDER_UNKNOWN to skip that check. regions, when not NULL,
 * is used to check the province code. A district other than the school's is
 * never a reason to refuse.
 *
 * Returns 0 and fills *out, or -EINVAL with err->reason one of:
 *   nik.length nik.digits nik.province nik.regency nik.district nik.day
 *   nik.month nik.date nik.serial nik.gender
 */
int retas_nik_parse(const char *text, const struct retas_date *ref, enum retas_gender declared,
		    const struct retas_regions *regions, struct retas_nik *out,
		    struct retas_error *err);

/* "157101******0001": the first six and last four digits, the rest masked.
 * buf holds at least 17 bytes. */
void retas_nik_mask(const char *nik, char *buf);
