/* Student list import: delimiters, quoting, every per-row refusal with its
 * line, and the whole-file errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "retas-students.h"
#include "retas-util.h"

static const struct retas_date session = {2026, 11, 24};

static struct retas_student_list *parse_ok(const char *csv)
{
	struct retas_student_list *l = NULL;
	struct retas_error e = {0};

	assert_int_equal(retas_students_parse(csv, strlen(csv), &session, 16, NULL, &l, &e), 0);
	assert_non_null(l);
	return l;
}

static void students_semicolon_bom_crlf_quotes(void **state)
{
	const char *csv = "\xef\xbb\xbfNIK;Nama;Jenis Kelamin;Tanggal_Lahir;Kelas\r\n"
			  "1571011208090001;\"Rahman; Budi\";L;2009-08-12;XII IPA 1\r\n"
			  "\r\n"
			  "1571024503100002;\"Siti \"\"Ani\"\" Aminah\";P;05/03/2010;XI IPS 2\r\n";
	struct retas_student_list *l = parse_ok(csv);

	assert_int_equal(l->delimiter, ';');
	assert_int_equal(l->rows, 2);
	assert_int_equal(l->n_issues, 0);
	assert_int_equal(l->n_students, 2);
	assert_string_equal(l->students[0].nama, "Rahman; Budi");
	assert_string_equal(l->students[0].kelas, "XII IPA 1");
	assert_int_equal(l->students[0].line, 2);
	assert_int_equal(l->students[0].age, 17);
	assert_false(l->students[0].record_only);
	assert_string_equal(l->students[1].nama, "Siti \"Ani\" Aminah");
	assert_int_equal(l->students[1].line, 4);
	assert_int_equal(l->students[1].gender, RETAS_GENDER_FEMALE);
	assert_int_equal(l->students[1].age, 16);
	assert_true(l->students[1].record_only);
	assert_int_equal(l->students[1].eligible_on.year, 2027);
	assert_int_equal(l->students[1].eligible_on.month, 3);
	assert_int_equal(l->students[1].eligible_on.day, 5);
	retas_student_list_free(l);
}

static void students_row_refusals_name_their_line(void **state)
{
	static const struct {
		unsigned line;
		const char *reason;
	} want[] = {
		{3, "students.too-young"},   {4, "nik.gender"},      {5, "students.birth-mismatch"},
		{6, "students.duplicate"},   {7, "nik.length"},      {8, "students.gender"},
		{9, "students.birth"},       {10, "students.nama"},  {11, "students.columns"},
	};
	const char *csv = "nik,nama,jk,tgl lahir,kelas\n"
			  "1571011208090001,Budi,L,2009-08-12,XII\n"
			  "1571030101110003,Adik,L,2011-01-01,IX\n"
			  "1571024503100002,Siti,L,2010-03-05,XI\n"
			  "1571011208090004,Joko,L,2009-08-13,XII\n"
			  "1571011208090001,Budi Lagi,L,2009-08-12,XII\n"
			  "157101120809001,Pendek,L,2009-08-12,XII\n"
			  "1571011208090005,Andi,X,2009-08-12,XII\n"
			  "1571011208090006,Andi,L,12 Agustus 2009,XII\n"
			  "1571011208090007,,L,2009-08-12,XII\n"
			  "1571011208090008,Andi\n";
	struct retas_student_list *l = parse_ok(csv);

	assert_int_equal(l->delimiter, ',');
	assert_int_equal(l->rows, 10);
	assert_int_equal(l->n_students, 1);
	assert_int_equal(l->n_issues, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(l->issues[i].line, want[i].line);
		assert_string_equal(l->issues[i].reason, want[i].reason);
		assert_true(l->issues[i].message[0] != '\0');
	}
	assert_non_null(strstr(l->issues[3].message, "line 2"));
	retas_student_list_free(l);
}

static void students_quoted_newline_counts_lines(void **state)
{
	const char *csv = "NIK,Nama,Jenis Kelamin,Tanggal Lahir,Kelas\n"
			  "1571011208090001,\"Budi\nSantoso\",L,2009-08-12,XII\n"
			  "1571011208090002,Andi,X,2009-08-12,XII\n";
	struct retas_student_list *l = parse_ok(csv);

	/* A newline inside quotes is part of the name (and refused as a control
	 * character), and the next row is still reported on its real line. */
	assert_int_equal(l->n_issues, 2);
	assert_int_equal(l->issues[0].line, 2);
	assert_string_equal(l->issues[0].reason, "students.nama");
	assert_int_equal(l->issues[1].line, 4);
	retas_student_list_free(l);
}

static void students_whole_file_errors(void **state)
{
	static const struct {
		const char *csv;
		int code;
		const char *reason;
	} cases[] = {
		{"", -ENODATA, "students.empty"},
		{"NIK,Nama,Kelas\n", -EINVAL, "students.header"},
		{"NIK,Nama,JK,Tanggal Lahir,Kelas,NIK\n", -EINVAL, "students.header"},
		{"NIK,Nama,JK,Tanggal Lahir,Kelas\n1571011208090001,\"Budi,L,2009-08-12,XII\n",
		 -EBADMSG, "students.quote"},
		{"NIK,Nama,JK,Tanggal Lahir,Kelas\n1571011208090001,Bu\"di,L,2009-08-12,XII\n",
		 -EBADMSG, "students.quote"},
		{"NIK,Nama,JK,Tanggal Lahir,Kelas\n1571011208090001,B\xe9la,L,2009-08-12,XII\n",
		 -EILSEQ, "students.utf8"},
		{"NIK,Nama,JK,Tanggal Lahir,Kelas\n1571011208090001,B\xc0\xafla,L,2009-08-12,XII\n",
		 -EILSEQ, "students.utf8"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct retas_student_list *l = NULL;
		struct retas_error e = {0};

		assert_int_equal(retas_students_parse(cases[i].csv, strlen(cases[i].csv), &session,
						      16, NULL, &l, &e),
				 cases[i].code);
		assert_null(l);
		assert_string_equal(e.reason, cases[i].reason);
	}
}

static void students_limits(void **state)
{
	struct retas_student_list *l = NULL;
	struct retas_error e = {0};

	assert_int_equal(retas_students_parse("x", RETAS_STUDENTS_MAX_BYTES + 1, &session, 16, NULL,
					      &l, &e),
			 -EFBIG);
	assert_string_equal(e.reason, "students.size");
}

/*
 * Found by tests/fuzz/fuzz-students: a row of more than 256 fields was
 * refused with -E2BIG but no reason or message, so the officer was told
 * nothing. The first input is the fuzzer's, byte for byte (a header row of
 * 257 fields); then the same past the header, and the largest row taken.
 */
static void students_too_many_fields_named(void **state)
{
	static const char fuzz_input[] =
	    ",,,,,,,,,,,,,,$,,,,,,,,$,,,,,,,,,,,,,,,,,,,,,,,,.,,,,,,,,,8,,,,,,,,8,,,,"
	    "8,,,.,,,,,,,,,,,8,,,,,,,,,,,,,.,,,,.,,,,,,,,8,,,.,,,,.,,,,,,,,,8,,,,,,,,"
	    "8,,,.,8,,,.,,,,,,,,,,,8,,,.,,,,,,,,,8,,,.,,,,,,,8,,,.,,,,,,8,,,.,,,,,,,8"
	    ",,,.,,,,.,,,,,,,,,8,,,,,,,,8,,,.,8,,,.,,,,,,,,,,,8,,,.,,,,,,,,,8,,,.,,,,"
	    ",,,8,,,.";
	char csv[2048];
	struct retas_student_list *l = NULL;
	struct retas_error e = {0};
	size_t n;

	assert_int_equal(
	    retas_students_parse(fuzz_input, strlen(fuzz_input), &session, 16, NULL, &l, &e),
	    -E2BIG);
	assert_null(l);
	assert_string_equal(e.reason, "students.columns");
	assert_string_equal(e.message, "line 1: the row has more than 256 fields");

	n = (size_t)snprintf(csv, sizeof(csv),
			     "nik,nama,jk,tgl lahir,kelas\n"
			     "1571011208090001,Budi,L,2009-08-12,XII");
	for (int i = 5; i < 257; i++)
		csv[n++] = ',';
	csv[n] = '\0';
	memset(&e, 0, sizeof(e));
	assert_int_equal(retas_students_parse(csv, n, &session, 16, NULL, &l, &e), -E2BIG);
	assert_null(l);
	assert_string_equal(e.reason, "students.columns");
	assert_string_equal(e.message, "line 2: the row has more than 256 fields");

	/* 256 fields is the limit, not past it. */
	csv[--n] = '\0';
	assert_int_equal(retas_students_parse(csv, n, &session, 16, NULL, &l, &e), 0);
	assert_int_equal(l->n_students, 1);
	retas_student_list_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(students_semicolon_bom_crlf_quotes),
	    cmocka_unit_test(students_row_refusals_name_their_line),
	    cmocka_unit_test(students_quoted_newline_counts_lines),
	    cmocka_unit_test(students_whole_file_errors),
	    cmocka_unit_test(students_limits),
	    cmocka_unit_test(students_too_many_fields_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
