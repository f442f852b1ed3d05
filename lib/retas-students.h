/*
 * The school's student list (target list) as officers import it from a
 * CSV file: columns NIK, nama, jenis kelamin (L/P), tanggal lahir, kelas,
 * a header row, comma or semicolon, UTF-8. Every row is validated against
 * the NIK rules and the surat tugas; a bad row is reported with its line
 * number and reason and is never imported silently.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "retas-error.h"
#include "retas-nik.h"
#include "retas-regions.h"
#include "retas-time.h"

#define RETAS_STUDENTS_MAX_BYTES (8u * 1024 * 1024)
#define RETAS_STUDENTS_MAX_ROWS 20000
#define RETAS_STUDENT_NAME_MAX 100
#define RETAS_STUDENT_KELAS_MAX 32
#define RETAS_PRINT_AGE 17

struct retas_student {
	unsigned line; /* 1-based line of the row in the file */
	char nik[17];
	char *nama;
	enum retas_gender gender;
	struct retas_date birth;
	char *kelas;
	int age;                       /* whole years on the session date */
	bool record_only;              /* under RETAS_PRINT_AGE on the session date */
	struct retas_date eligible_on; /* the 17th birthday */
};

struct retas_students_issue {
	unsigned line;
	char reason[48];   /* stable id, e.g. "nik.date", "students.duplicate" */
	char message[320]; /* translated sentence */
};

struct retas_student_list {
	struct retas_student *students; /* rows that passed every check, in file order */
	size_t n_students;
	struct retas_students_issue *issues; /* rows refused, in file order */
	size_t n_issues;
	unsigned rows; /* data rows read (blank lines not counted) */
	char delimiter;
};

/*
 * Parses and validates len bytes of CSV. session_date is the date ages are
 * taken on; min_age the letter's minimum age; regions may be NULL.
 * Returns 0 with *out set (caller frees) even when rows were refused: those
 * are in (*out)->issues. Returns a negative errno only when the file as a
 * whole cannot be read, with err->reason one of students.size
 * students.utf8 students.empty students.header students.columns
 * students.rows students.quote.
 */
int retas_students_parse(const char *data, size_t len, const struct retas_date *session_date,
			 int min_age, const struct retas_regions *regions,
			 struct retas_student_list **out, struct retas_error *err);

void retas_student_list_free(struct retas_student_list *list);
