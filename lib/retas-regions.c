/*
 * Region master data: reads data/wilayah.tsv (its header documents the
 * format) into a sorted array that answers code -> name. The file is small
 * and read once at start, so the loader is strict: every line is checked and
 * the first bad one is reported as FILE:LINE with what is wrong, rather than
 * carrying on with half the data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "retas-i18n.h"
#include "retas-regions.h"
#include "retas-util.h"

#define NAME_MAX_BYTES 100
/* Longer than any valid line. */
#define LINE_MAX_BYTES 256
#define ENTRIES_MAX 100000

struct region {
	char code[7];
	char *name;
	unsigned line;
};

struct retas_regions {
	struct region *v;
	size_t n;
};

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

void retas_regions_free(struct retas_regions *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].name);
	free(r->v);
	free(r);
}

RETAS_DEFINE_CLEANUP(struct retas_regions, retas_regions_free)

static int cmp_region(const void *a, const void *b)
{
	return strcmp(((const struct region *)a)->code, ((const struct region *)b)->code);
}

/* Length of the well-formed UTF-8 sequence at s, 0 when it is not one
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* Checks one "CODE<TAB>NAME" line (without its newline) and fills *out. */
static int parse_line(const char *path, unsigned lineno, char *line, struct region *out,
		      struct retas_error *err)
{
	char *tab = strchr(line, '\t'), *name;
	size_t clen, nlen;

	if (!tab)
		return retas_error_set(err, -EINVAL, "regions.format",
				       N_("%s:%u: expected a code, one TAB and a name"), path,
				       lineno);
	clen = (size_t)(tab - line);
	if (clen != 2 && clen != 4 && clen != 6)
		return retas_error_set(err, -EINVAL, "regions.code",
				       N_("%s:%u: the code must have 2, 4 or 6 digits"), path,
				       lineno);
	for (size_t i = 0; i < clen; i++)
		if (line[i] < '0' || line[i] > '9')
			return retas_error_set(err, -EINVAL, "regions.code",
					       N_("%s:%u: the code must contain only digits"), path,
					       lineno);
	name = tab + 1;
	nlen = strlen(name);
	if (nlen == 0)
		return retas_error_set(err, -EINVAL, "regions.name", N_("%s:%u: the name is empty"),
				       path, lineno);
	if (nlen > NAME_MAX_BYTES)
		return retas_error_set(err, -EINVAL, "regions.name",
				       N_("%s:%u: the name is longer than %d bytes"), path, lineno,
				       NAME_MAX_BYTES);
	if (name[0] == ' ' || name[nlen - 1] == ' ')
		return retas_error_set(err, -EINVAL, "regions.name",
				       N_("%s:%u: the name starts or ends with a space"), path,
				       lineno);
	for (size_t i = 0; i < nlen;) {
		unsigned char c = (unsigned char)name[i];
		size_t n;

		if (c < 0x20 || c == 0x7f)
			return retas_error_set(
			    err, -EINVAL, "regions.name",
			    N_("%s:%u: the name contains a TAB or another control character"), path,
			    lineno);
		n = utf8_seq_len((const unsigned char *)name + i);
		if (n == 0)
			return retas_error_set(err, -EINVAL, "regions.name",
					       N_("%s:%u: the name is not valid UTF-8"), path,
					       lineno);
		i += n;
	}
	memcpy(out->code, line, clen);
	out->code[clen] = '\0';
	out->name = strdup(name);
	if (!out->name)
		return -ENOMEM;
	out->line = lineno;
	return 0;
}

/* After sorting: no code twice, and every regency and kecamatan has its
 * parent, so a name lookup never answers for a code whose province the data
 * does not know. */
static int check_table(const char *path, const struct retas_regions *r, struct retas_error *err)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct region *e = &r->v[i];
		size_t clen = strlen(e->code);
		char parent[7];

		if (i > 0 && streq(r->v[i - 1].code, e->code)) {
			unsigned first = r->v[i - 1].line < e->line ? r->v[i - 1].line : e->line;
			unsigned second = r->v[i - 1].line < e->line ? e->line : r->v[i - 1].line;

			return retas_error_set(err, -EINVAL, "regions.duplicate",
					       N_("%s:%u: code %s is already listed on line %u"),
					       path, second, e->code, first);
		}
		if (clen == 2)
			continue;
		memcpy(parent, e->code, clen - 2);
		parent[clen - 2] = '\0';
		if (!retas_regions_name(r, parent))
			return retas_error_set(
			    err, -EINVAL, "regions.parent",
			    N_("%s:%u: code %s belongs to %s, which is not listed"), path, e->line,
			    e->code, parent);
	}
	return 0;
}

int retas_regions_load(const char *path, struct retas_regions **out, struct retas_error *err)
{
	_cleanup_(retas_regions_freep) struct retas_regions *reg = NULL;
	_cleanup_(fclosep) FILE *f = NULL;
	_cleanup_(freep) char *line = NULL;
	size_t cap = 0, linecap = 0;
	ssize_t got;
	unsigned lineno = 0;
	int r = 0;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		retas_error_set(err, r, "regions.open", N_("cannot open the region data %s: %s"),
				path, strerror(-r));
		goto out;
	}
	reg = calloc(1, sizeof(*reg));
	if (!reg) {
		r = -ENOMEM;
		goto out;
	}
	while ((got = getline(&line, &linecap, f)) >= 0) {
		size_t len = (size_t)got;
		struct region e;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > LINE_MAX_BYTES) {
			r = retas_error_set(err, -EINVAL, "regions.format",
					    N_("%s:%u: the line is longer than %d bytes"), path,
					    lineno, LINE_MAX_BYTES);
			goto out;
		}
		if (strlen(line) != len) {
			r = retas_error_set(err, -EINVAL, "regions.format",
					    N_("%s:%u: the line contains a NUL byte"), path,
					    lineno);
			goto out;
		}
		if (len == 0 || line[0] == '#')
			continue;
		if (reg->n == ENTRIES_MAX) {
			r = retas_error_set(err, -EINVAL, "regions.format",
					    N_("%s:%u: more than %d entries"), path, lineno,
					    ENTRIES_MAX);
			goto out;
		}
		r = parse_line(path, lineno, line, &e, err);
		if (r < 0)
			goto out;
		if (reg->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct region *nv = realloc(reg->v, ncap * sizeof(*nv));

			if (!nv) {
				free(e.name);
				r = -ENOMEM;
				goto out;
			}
			reg->v = nv;
			cap = ncap;
		}
		reg->v[reg->n++] = e;
	}
	if (ferror(f)) {
		r = retas_error_set(err, -EIO, "regions.open", N_("cannot read the region data %s"),
				    path);
		goto out;
	}
	if (reg->n == 0) {
		r = retas_error_set(err, -EINVAL, "regions.empty",
				    N_("the region data %s lists no region"), path);
		goto out;
	}
	qsort(reg->v, reg->n, sizeof(*reg->v), cmp_region);
	r = check_table(path, reg, err);
	if (r < 0)
		goto out;
	*out = steal_ptr(reg);
out:
	return r;
}

int retas_regions_load_default(struct retas_regions **out, struct retas_error *err)
{
	const char *dir = getenv("RETAS_DATADIR");
	_cleanup_(freep) char *path = NULL;

	if (asprintf(&path, "%s/wilayah.tsv", dir && *dir ? dir : RETAS_DATADIR) < 0) {
		path = NULL;
		return -ENOMEM;
	}
	return retas_regions_load(path, out, err);
}

static const struct region *lookup(const struct retas_regions *r, const char *code)
{
	struct region key;
	size_t len;

	if (!r || !code)
		return NULL;
	len = strnlen(code, 7);
	if (len != 2 && len != 4 && len != 6)
		return NULL;
	memcpy(key.code, code, len + 1);
	return bsearch(&key, r->v, r->n, sizeof(*r->v), cmp_region);
}

const char *retas_regions_name(const struct retas_regions *r, const char *code)
{
	const struct region *e = lookup(r, code);

	return e ? e->name : NULL;
}

int retas_regions_is_province(const struct retas_regions *r, const char *code)
{
	return code && strnlen(code, 3) == 2 && lookup(r, code) != NULL;
}

int retas_regions_is_kecamatan(const struct retas_regions *r, const char *code)
{
	return code && strnlen(code, 7) == 6 && lookup(r, code) != NULL;
}
