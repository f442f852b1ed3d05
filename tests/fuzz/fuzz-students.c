/*
 * libFuzzer target: the student list CSV import (retas_students_parse) on
 * a fixed session date with the default minimum age and the real region
 * data. Besides the sanitizers it asserts the contract of the result: a
 * whole-file refusal names its reason, every data row ends up either as a
 * student or as an issue with a line and a reason, and every student
 * passed the checks the import promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "retas-students.h"

static const struct retas_date session = {2026, 11, 24};
#define MIN_AGE 16

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_regions();
	return 0;
}

static void check_student(const struct retas_student *s, const struct retas_student_list *l,
			  size_t idx)
{
	FUZZ_CHECK(strlen(s->nik) == 16 && strspn(s->nik, "0123456789") == 16);
	FUZZ_CHECK(s->nama && *s->nama && strlen(s->nama) <= RETAS_STUDENT_NAME_MAX);
	FUZZ_CHECK(s->kelas && strlen(s->kelas) <= RETAS_STUDENT_KELAS_MAX);
	FUZZ_CHECK(s->age >= MIN_AGE);
	FUZZ_CHECK(s->record_only == (s->age < RETAS_PRINT_AGE));
	FUZZ_CHECK(retas_date_is_valid(s->birth.year, s->birth.month, s->birth.day));
	FUZZ_CHECK(s->line >= 2);
	for (size_t j = 0; j < idx; j++) {
		FUZZ_CHECK(strcmp(l->students[j].nik, s->nik) != 0);
		FUZZ_CHECK(l->students[j].line < s->line);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retas_student_list *l = NULL;
	struct retas_error err = {0};
	int r;

	r = retas_students_parse((const char *)data, size, &session, MIN_AGE, fuzz_regions(), &l,
				 &err);
	if (r < 0) {
		FUZZ_CHECK_REFUSAL(r, err);
		FUZZ_CHECK(l == NULL);
		return 0;
	}
	FUZZ_CHECK(r == 0 && l);
	FUZZ_CHECK(l->delimiter == ',' || l->delimiter == ';');
	FUZZ_CHECK(l->n_students + l->n_issues == l->rows);
	FUZZ_CHECK(l->rows <= RETAS_STUDENTS_MAX_ROWS);
	for (size_t i = 0; i < l->n_students; i++)
		check_student(&l->students[i], l, i);
	for (size_t i = 0; i < l->n_issues; i++) {
		FUZZ_CHECK(l->issues[i].reason[0] != '\0' && l->issues[i].message[0] != '\0');
		FUZZ_CHECK(l->issues[i].line >= 2);
	}
	retas_student_list_free(l);
	return 0;
}
