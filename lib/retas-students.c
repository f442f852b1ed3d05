/*
 * Student list import: an RFC 4180 reader (quotes, doubled quotes, CRLF)
 * with the delimiter taken from the header row, column names matched
 * loosely as schools write them, and every row checked against the NIK
 * rules, the declared gender and birth date, the letter's minimum age and
 * the rows before it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "retas-i18n.h"
#include "retas-students.h"
#include "retas-util.h"

/* Fields a row may have: the five columns and whatever else a school's
 * export carries, but not without end. */
#define MAX_FIELDS 256

enum column { COL_NIK, COL_NAMA, COL_GENDER, COL_BIRTH, COL_KELAS, N_COLUMNS };

static const char *const column_names[N_COLUMNS][6] = {
	[COL_NIK] = {"nik", "no nik", "nomor induk kependudukan"},
	[COL_NAMA] = {"nama", "nama lengkap", "nama siswa"},
	[COL_GENDER] = {"jenis kelamin", "jk", "l/p", "kelamin", "gender"},
	[COL_BIRTH] = {"tanggal lahir", "tgl lahir", "tanggal_lahir", "tgl_lahir", "lahir"},
	[COL_KELAS] = {"kelas", "rombel"},
};

/* One record of fields, reused row after row. */
struct row {
	char **fields;
	size_t n, cap;
	unsigned line; /* line the row starts on */
};

struct reader {
	const char *p, *end;
	unsigned line;
	char delim;
};

static void row_clear(struct row *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->fields[i]);
	r->n = 0;
}

static void row_free(struct row *r)
{
	row_clear(r);
	free(r->fields);
}

static int row_push(struct row *r, const char *s, size_t len)
{
	char *f;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		char **nf;

		if (cap > MAX_FIELDS)
			return -E2BIG;
		nf = realloc(r->fields, cap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		r->fields = nf;
		r->cap = cap;
	}
	f = strndup(s, len);
	if (!f)
		return -ENOMEM;
	r->fields[r->n++] = f;
	return 0;
}

/*
 * Reads one record into r. Returns 1 when a record was read, 0 at the end
 * of input, -EBADMSG on an unterminated or stray quote, -E2BIG on a row of
 * more than MAX_FIELDS fields.
 */
static int read_row(struct reader *rd, struct row *r)
{
	char *buf = NULL;
	size_t blen = 0, bcap = 0;
	int res;

	row_clear(r);
	if (rd->p >= rd->end)
		return 0;
	r->line = rd->line;
	for (;;) {
		bool quoted = false;

		blen = 0;
		if (rd->p < rd->end && *rd->p == '"') {
			quoted = true;
			rd->p++;
		}
		for (;;) {
			char c;

			if (rd->p >= rd->end) {
				if (quoted) {
					res = -EBADMSG;
					goto out;
				}
				break;
			}
			c = *rd->p;
			if (quoted) {
				if (c == '"') {
					if (rd->p + 1 < rd->end && rd->p[1] == '"') {
						rd->p++;
					} else {
						rd->p++;
						quoted = false;
						if (rd->p < rd->end && *rd->p != rd->delim &&
						    *rd->p != '\n' && *rd->p != '\r') {
							res = -EBADMSG;
							goto out;
						}
						continue;
					}
				} else if (c == '\n') {
					rd->line++;
				}
			} else if (c == rd->delim || c == '\n' || c == '\r') {
				break;
			} else if (c == '"') {
				res = -EBADMSG;
				goto out;
			}
			if (blen + 1 >= bcap) {
				size_t cap = bcap ? bcap * 2 : 64;
				char *nb = realloc(buf, cap);

				if (!nb) {
					res = -ENOMEM;
					goto out;
				}
				buf = nb;
				bcap = cap;
			}
			buf[blen++] = c;
			rd->p++;
		}
		res = row_push(r, buf ? buf : "", blen);
		if (res < 0)
			goto out;
		if (rd->p < rd->end && *rd->p == rd->delim) {
			rd->p++;
			continue;
		}
		if (rd->p < rd->end && *rd->p == '\r')
			rd->p++;
		if (rd->p < rd->end && *rd->p == '\n')
			rd->p++;
		rd->line++;
		break;
	}
	res = 1;
out:
	free(buf);
	return res;
}

/* The whole-file error for a row read_row could not read (r < 0). */
static int row_error(int r, const struct row *row, struct retas_error *err)
{
	if (r == -EBADMSG)
		return retas_error_set(
		    err, -EBADMSG, "students.quote",
		    N_("line %u: a quote is not closed or stands inside a field"), row->line);
	if (r == -E2BIG)
		return retas_error_set(err, -E2BIG, "students.columns",
				       N_("line %u: the row has more than %d fields"), row->line,
				       MAX_FIELDS);
	return r;
}

/* Trims ASCII white space in place. */
static char *trim(char *s)
{
	char *e;

	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static bool row_blank(const struct row *r)
{
	for (size_t i = 0; i < r->n; i++)
		for (const char *p = r->fields[i]; *p; p++)
			if (!isspace((unsigned char)*p))
				return false;
	return true;
}

/* Lowercases and turns '_' into ' ' so "Tanggal_Lahir" matches "tanggal lahir". */
static void normalise_name(const char *in, char *out, size_t len)
{
	size_t i = 0;

	for (; in[i] && i + 1 < len; i++)
		out[i] = in[i] == '_' ? ' ' : (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static int match_column(const char *header)
{
	char norm[64];

	normalise_name(header, norm, sizeof(norm));
	for (int c = 0; c < N_COLUMNS; c++)
		for (size_t k = 0; k < ARRAY_SIZE(column_names[c]) && column_names[c][k]; k++) {
			char want[64];

			normalise_name(column_names[c][k], want, sizeof(want));
			if (strcmp(norm, want) == 0)
				return c;
		}
	return -1;
}

static char detect_delimiter(const char *p, const char *end)
{
	size_t commas = 0, semis = 0;
	bool quoted = false;

	for (; p < end && (quoted || (*p != '\n' && *p != '\r')); p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == ',')
			commas++;
		else if (!quoted && *p == ';')
			semis++;
	}
	return semis > commas ? ';' : ',';
}

static int parse_gender(const char *s, enum retas_gender *out)
{
	if (!strcasecmp(s, "L") || !strcasecmp(s, "laki-laki") || !strcasecmp(s, "laki laki"))
		*out = RETAS_GENDER_MALE;
	else if (!strcasecmp(s, "P") || !strcasecmp(s, "perempuan"))
		*out = RETAS_GENDER_FEMALE;
	else
		return -EINVAL;
	return 0;
}

/* YYYY-MM-DD, or DD-MM-YYYY / DD/MM/YYYY as school records often write it. */
static int parse_birth(const char *s, struct retas_date *out)
{
	int d, m, y, n = 0;
	char sep1, sep2;

	if (retas_date_parse(s, out) == 0)
		return 0;
	if (strlen(s) != 10 || sscanf(s, "%2d%c%2d%c%4d%n", &d, &sep1, &m, &sep2, &y, &n) != 5 ||
	    n != 10 || sep1 != sep2 || (sep1 != '-' && sep1 != '/'))
		return -EINVAL;
	for (int i = 0; i < 10; i++)
		if (i != 2 && i != 5 && !isdigit((unsigned char)s[i]))
			return -EINVAL;
	if (!retas_date_is_valid(y, m, d))
		return -EINVAL;
	*out = (struct retas_date){y, m, d};
	return 0;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int add_issue(struct retas_student_list *l, unsigned line, const struct retas_error *e)
{
	struct retas_students_issue *n = realloc(l->issues, (l->n_issues + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	l->issues = n;
	n = &l->issues[l->n_issues++];
	n->line = line;
	snprintf(n->reason, sizeof(n->reason), "%s", e->reason);
	snprintf(n->message, sizeof(n->message), "%s", e->message);
	return 0;
}

static const struct retas_student *find_nik(const struct retas_student_list *l, const char *nik)
{
	for (size_t i = 0; i < l->n_students; i++)
		if (strcmp(l->students[i].nik, nik) == 0)
			return &l->students[i];
	return NULL;
}

/* Checks one row; 0 and *s filled, or a negative errno with e set. */
static int max_col(const int *col)
{
	int m = 0;

	for (int c = 0; c < N_COLUMNS; c++)
		if (col[c] > m)
			m = col[c];
	return m;
}

static int check_row(const struct row *row, const int *col, const struct retas_date *on,
		     int min_age, const struct retas_regions *regions,
		     const struct retas_student_list *l, struct retas_student *s,
		     struct retas_error *e)
{
	char *f[N_COLUMNS];
	const struct retas_student *dup;
	struct retas_nik nik;
	int r;

	if ((size_t)max_col(col) >= row->n)
		return retas_error_set(e, -EINVAL, "students.columns",
				       N_("the row has %zu fields, fewer than the header names"),
				       row->n);
	for (int c = 0; c < N_COLUMNS; c++)
		f[c] = trim(row->fields[col[c]]);
	if (!*f[COL_NAMA])
		return retas_error_set(e, -EINVAL, "students.nama", N_("the name is empty"));
	if (strlen(f[COL_NAMA]) > RETAS_STUDENT_NAME_MAX || has_control(f[COL_NAMA]))
		return retas_error_set(e, -EINVAL, "students.nama",
				       N_("the name is longer than %d bytes or has control "
					  "characters"),
				       RETAS_STUDENT_NAME_MAX);
	if (strlen(f[COL_KELAS]) > RETAS_STUDENT_KELAS_MAX || has_control(f[COL_KELAS]))
		return retas_error_set(e, -EINVAL, "students.kelas",
				       N_("the class is longer than %d bytes or has control "
					  "characters"),
				       RETAS_STUDENT_KELAS_MAX);
	if (parse_gender(f[COL_GENDER], &s->gender) < 0)
		return retas_error_set(e, -EINVAL, "students.gender",
				       N_("jenis kelamin '%.16s' is neither L nor P"), f[COL_GENDER]);
	if (parse_birth(f[COL_BIRTH], &s->birth) < 0)
		return retas_error_set(e, -EINVAL, "students.birth",
				       N_("tanggal lahir '%.16s' is not a date (YYYY-MM-DD or "
					  "DD-MM-YYYY)"),
				       f[COL_BIRTH]);
	r = retas_nik_parse(f[COL_NIK], on, s->gender, regions, &nik, e);
	if (r < 0)
		return r;
	if (retas_date_cmp(&nik.birth, &s->birth) != 0) {
		char a[11], b[11];

		retas_date_format(&s->birth, a);
		retas_date_format(&nik.birth, b);
		return retas_error_set(e, -EINVAL, "students.birth-mismatch",
				       N_("tanggal lahir %s does not match the NIK's birth date %s"),
				       a, b);
	}
	dup = find_nik(l, nik.nik);
	if (dup)
		return retas_error_set(e, -EEXIST, "students.duplicate",
				       N_("the NIK is already on line %u"), dup->line);
	s->age = retas_date_age(&s->birth, on);
	if (s->age < min_age)
		return retas_error_set(e, -ERANGE, "students.too-young",
				       N_("the student is %d on the session date, under the minimum "
					  "age of %d"),
				       s->age, min_age);
	memcpy(s->nik, nik.nik, sizeof(s->nik));
	s->line = row->line;
	s->record_only = s->age < RETAS_PRINT_AGE;
	retas_date_add_years(&s->birth, RETAS_PRINT_AGE, &s->eligible_on);
	s->nama = strdup(f[COL_NAMA]);
	s->kelas = strdup(f[COL_KELAS]);
	if (!s->nama || !s->kelas) {
		free(s->nama);
		free(s->kelas);
		return -ENOMEM;
	}
	return 0;
}

static int read_header(struct reader *rd, struct row *row, int *col, struct retas_error *err)
{
	int r = read_row(rd, row);

	if (r < 0)
		return row_error(r, row, err);
	if (r == 0)
		return retas_error_set(err, -ENODATA, "students.empty", N_("the file is empty"));
	for (int c = 0; c < N_COLUMNS; c++)
		col[c] = -1;
	for (size_t i = 0; i < row->n; i++) {
		int c = match_column(trim(row->fields[i]));

		if (c < 0)
			continue;
		if (col[c] >= 0)
			return retas_error_set(err, -EINVAL, "students.header",
					       N_("line 1: the column '%s' appears twice"),
					       column_names[c][0]);
		col[c] = (int)i;
	}
	for (int c = 0; c < N_COLUMNS; c++)
		if (col[c] < 0)
			return retas_error_set(err, -EINVAL, "students.header",
					       N_("line 1: the header has no '%s' column (expected NIK, "
						  "nama, jenis kelamin, tanggal lahir, kelas)"),
					       column_names[c][0]);
	return 0;
}

static int add_student(struct retas_student_list *l, struct retas_student *s)
{
	struct retas_student *n = realloc(l->students, (l->n_students + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	l->students = n;
	l->students[l->n_students++] = *s;
	return 0;
}

int retas_students_parse(const char *data, size_t len, const struct retas_date *session_date,
			 int min_age, const struct retas_regions *regions,
			 struct retas_student_list **out, struct retas_error *err)
{
	struct retas_student_list *l = NULL;
	struct row row = {0};
	struct reader rd;
	int col[N_COLUMNS], r;

	if (len > RETAS_STUDENTS_MAX_BYTES) {
		r = retas_error_set(err, -EFBIG, "students.size",
				    N_("the file is %zu bytes, more than the limit of %u"), len,
				    RETAS_STUDENTS_MAX_BYTES);
		goto out;
	}
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		len -= 3;
	}
	if (!retas_utf8_valid(data, len, true) || memchr(data, '\0', len)) {
		r = retas_error_set(err, -EILSEQ, "students.utf8",
				    N_("the file is not UTF-8 text; save it as CSV UTF-8"));
		goto out;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		r = -ENOMEM;
		goto out;
	}
	rd = (struct reader){.p = data, .end = data + len, .line = 1,
			     .delim = detect_delimiter(data, data + len)};
	l->delimiter = rd.delim;
	r = read_header(&rd, &row, col, err);
	if (r < 0)
		goto out;
	for (;;) {
		struct retas_student s = {0};
		struct retas_error e = {0};

		r = read_row(&rd, &row);
		if (r < 0) {
			r = row_error(r, &row, err);
			goto out;
		}
		if (r == 0)
			break;
		if (row_blank(&row))
			continue;
		if (++l->rows > RETAS_STUDENTS_MAX_ROWS) {
			r = retas_error_set(err, -E2BIG, "students.rows",
					    N_("the file has more than %d rows"),
					    RETAS_STUDENTS_MAX_ROWS);
			goto out;
		}
		r = check_row(&row, col, session_date, min_age, regions, l, &s, &e);
		if (r == -ENOMEM)
			goto out;
		if (r < 0) {
			r = add_issue(l, row.line, &e);
		} else {
			r = add_student(l, &s);
			if (r < 0) {
				free(s.nama);
				free(s.kelas);
			}
		}
		if (r < 0)
			goto out;
	}
	*out = l;
	l = NULL;
	r = 0;
out:
	row_free(&row);
	retas_student_list_free(l);
	return r;
}

void retas_student_list_free(struct retas_student_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n_students; i++) {
		free(list->students[i].nama);
		free(list->students[i].kelas);
	}
	free(list->students);
	free(list->issues);
	free(list);
}
