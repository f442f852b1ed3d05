/*
 * Region master data: the installed file holds all 38 provinces and Kota
 * Jambi's eleven kecamatan by name, and the loader refuses each kind of bad
 * line with FILE:LINE and its own reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "retas-regions.h"
#include "retas-util.h"

RETAS_DEFINE_CLEANUP(struct retas_regions, retas_regions_free)

static char tmpdir[] = "/tmp/test-regions-XXXXXX";

static int make_tmpdir(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char path[sizeof(tmpdir) + 32];

	snprintf(path, sizeof(path), "%s/wilayah.tsv", tmpdir);
	unlink(path);
	return rmdir(tmpdir);
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void regions_installed_file_provinces(void **state)
{
	/* clang-format off */
	static const char *const provinces[][2] = {
		{"11", "Aceh"},
		{"12", "Sumatera Utara"},
		{"13", "Sumatera Barat"},
		{"14", "Riau"},
		{"15", "Jambi"},
		{"16", "Sumatera Selatan"},
		{"17", "Bengkulu"},
		{"18", "Lampung"},
		{"19", "Kepulauan Bangka Belitung"},
		{"21", "Kepulauan Riau"},
		{"31", "DKI Jakarta"},
		{"32", "Jawa Barat"},
		{"33", "Jawa Tengah"},
		{"34", "DI Yogyakarta"},
		{"35", "Jawa Timur"},
		{"36", "Banten"},
		{"51", "Bali"},
		{"52", "Nusa Tenggara Barat"},
		{"53", "Nusa Tenggara Timur"},
		{"61", "Kalimantan Barat"},
		{"62", "Kalimantan Tengah"},
		{"63", "Kalimantan Selatan"},
		{"64", "Kalimantan Timur"},
		{"65", "Kalimantan Utara"},
		{"71", "Sulawesi Utara"},
		{"72", "Sulawesi Tengah"},
		{"73", "Sulawesi Selatan"},
		{"74", "Sulawesi Tenggara"},
		{"75", "Gorontalo"},
		{"76", "Sulawesi Barat"},
		{"81", "Maluku"},
		{"82", "Maluku Utara"},
		{"91", "Papua"},
		{"92", "Papua Barat"},
		{"93", "Papua Selatan"},
		{"94", "Papua Tengah"},
		{"95", "Papua Pegunungan"},
		{"96", "Papua Barat Daya"},
	};
	/* clang-format on */
	_cleanup_(retas_regions_freep) struct retas_regions *r = NULL;
	struct retas_error err = {0};
	int count = 0;

	assert_int_equal(retas_regions_load_default(&r, &err), 0);
	assert_int_equal(ARRAY_SIZE(provinces), 38);
	for (size_t i = 0; i < ARRAY_SIZE(provinces); i++) {
		assert_true(retas_regions_is_province(r, provinces[i][0]));
		assert_string_equal(retas_regions_name(r, provinces[i][0]), provinces[i][1]);
	}
	for (int p = 0; p < 100; p++) {
		char code[3];

		snprintf(code, sizeof(code), "%02d", p);
		count += retas_regions_is_province(r, code) ? 1 : 0;
	}
	assert_int_equal(count, 38);
}

static void regions_installed_file_kota_jambi(void **state)
{
	static const char *const kecamatan[] = {
	    "Kota Baru",   "Jambi Selatan", "Jelutung",	  "Pasar Jambi",
	    "Telanaipura", "Danau Teluk",   "Pelayangan", "Jambi Timur",
	    "Alam Barajo", "Danau Sipin",   "Paal Merah",
	};
	_cleanup_(retas_regions_freep) struct retas_regions *r = NULL;
	struct retas_error err = {0};

	assert_int_equal(retas_regions_load_default(&r, &err), 0);
	assert_string_equal(retas_regions_name(r, "1571"), "Kota Jambi");
	assert_false(retas_regions_is_province(r, "1571"));
	assert_false(retas_regions_is_kecamatan(r, "1571"));
	for (size_t i = 0; i < ARRAY_SIZE(kecamatan); i++) {
		char code[7];

		snprintf(code, sizeof(code), "1571%02zu", i + 1);
		assert_true(retas_regions_is_kecamatan(r, code));
		assert_false(retas_regions_is_province(r, code));
		assert_string_equal(retas_regions_name(r, code), kecamatan[i]);
	}
	assert_false(retas_regions_is_kecamatan(r, "157100"));
	assert_false(retas_regions_is_kecamatan(r, "157112"));
	assert_false(retas_regions_is_kecamatan(r, "15710"));
	assert_false(retas_regions_is_kecamatan(r, NULL));
	assert_false(retas_regions_is_province(r, NULL));
	assert_null(retas_regions_name(r, "1505"));
	assert_null(retas_regions_name(r, "99"));
	assert_null(retas_regions_name(r, "1"));
	assert_null(retas_regions_name(r, "1571011"));
	assert_null(retas_regions_name(r, ""));
	assert_null(retas_regions_name(r, NULL));
	assert_null(retas_regions_name(NULL, "15"));
}

/* Comments, empty lines, a last line without its newline and a non-ASCII
 * name are all fine; RETAS_DATADIR chooses the file. */
static void regions_datadir_override(void **state)
{
	static const char data[] =
	    "# test data\n\n15\tJambi\n1571\tKota Jambi\n"
	    "157101\tKota Baru\n# end\n16\tSumatera Selatan \xe2\x80\x93 test";
	_cleanup_(retas_regions_freep) struct retas_regions *r = NULL;
	_cleanup_(freep) char *old =
	    getenv("RETAS_DATADIR") ? strdup(getenv("RETAS_DATADIR")) : NULL;
	struct retas_error err = {0};
	char path[sizeof(tmpdir) + 32];

	snprintf(path, sizeof(path), "%s/wilayah.tsv", tmpdir);
	write_file(path, data, sizeof(data) - 1);
	assert_int_equal(setenv("RETAS_DATADIR", tmpdir, 1), 0);
	assert_int_equal(retas_regions_load_default(&r, &err), 0);
	if (old)
		setenv("RETAS_DATADIR", old, 1);
	else
		unsetenv("RETAS_DATADIR");
	assert_string_equal(retas_regions_name(r, "157101"), "Kota Baru");
	assert_string_equal(retas_regions_name(r, "16"), "Sumatera Selatan \xe2\x80\x93 test");
	assert_false(retas_regions_is_province(r, "11"));
}

struct bad_case {
	const char *what;
	const char *data;
	size_t len; /* 0: strlen(data) */
	const char *reason;
	const char *message; /* after "PATH:" */
};

static void regions_bad_line_reported(void **state)
{
	/* clang-format off */
	static const struct bad_case cases[] = {
		{"code of 3 digits", "11\tAceh\n# comment\n123\tX\n", 0, "regions.code",
		 "3: the code must have 2, 4 or 6 digits"},
		{"no tab", "11\tAceh\n12 Sumatera Utara\n", 0, "regions.format",
		 "2: expected a code, one TAB and a name"},
		{"letter in code", "1a\tAceh\n", 0, "regions.code",
		 "1: the code must contain only digits"},
		{"empty name", "11\tAceh\n\n12\t\n", 0, "regions.name", "3: the name is empty"},
		{"leading space", "11\t Aceh\n", 0, "regions.name",
		 "1: the name starts or ends with a space"},
		{"second tab", "11\tAc\teh\n", 0, "regions.name",
		 "1: the name contains a TAB or another control character"},
		{"carriage return", "11\tAceh\r\n", 0, "regions.name",
		 "1: the name contains a TAB or another control character"},
		{"bad UTF-8", "11\tAceh\n12\tSumatera \xc3\x28\n", 0, "regions.name",
		 "2: the name is not valid UTF-8"},
		{"overlong UTF-8", "11\t\xc0\xaf\n", 0, "regions.name",
		 "1: the name is not valid UTF-8"},
		{"NUL byte", "11\tAc\0eh\n", 9, "regions.format", "1: the line contains a NUL byte"},
		{"duplicate", "11\tAceh\n12\tB\n11\tC\n", 0, "regions.duplicate",
		 "3: code 11 is already listed on line 1"},
		{"regency without province", "11\tAceh\n1571\tKota Jambi\n", 0, "regions.parent",
		 "2: code 1571 belongs to 15, which is not listed"},
		{"kecamatan without regency", "15\tJambi\n157101\tKota Baru\n", 0, "regions.parent",
		 "2: code 157101 belongs to 1571, which is not listed"},
		{"only comments", "# nothing\n\n", 0, "regions.empty", NULL},
	};
	/* clang-format on */
	char path[sizeof(tmpdir) + 32];

	snprintf(path, sizeof(path), "%s/wilayah.tsv", tmpdir);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct bad_case *c = &cases[i];
		struct retas_regions *r = NULL;
		struct retas_error err = {0};
		char want[sizeof(err.message)];

		write_file(path, c->data, c->len ? c->len : strlen(c->data));
		if (retas_regions_load(path, &r, &err) != -EINVAL)
			fail_msg("%s: not refused", c->what);
		assert_null(r);
		if (!streq(err.reason, c->reason))
			fail_msg("%s: reason %s, want %s", c->what, err.reason, c->reason);
		if (c->message)
			snprintf(want, sizeof(want), "%s:%s", path, c->message);
		else
			snprintf(want, sizeof(want), "the region data %s lists no region", path);
		if (!streq(err.message, want))
			fail_msg("%s: message '%s', want '%s'", c->what, err.message, want);
	}
}

static void regions_long_line_refused(void **state)
{
	_cleanup_(freep) char *data = malloc(400);
	struct retas_regions *r = NULL;
	struct retas_error err = {0};
	char path[sizeof(tmpdir) + 32], want[sizeof(err.message)];

	assert_non_null(data);
	memcpy(data, "11\tAceh\n12\t", 11);
	memset(data + 11, 'A', 300);
	data[311] = '\n';
	snprintf(path, sizeof(path), "%s/wilayah.tsv", tmpdir);
	write_file(path, data, 312);
	assert_int_equal(retas_regions_load(path, &r, &err), -EINVAL);
	assert_string_equal(err.reason, "regions.format");
	snprintf(want, sizeof(want), "%s:2: the line is longer than 256 bytes", path);
	assert_string_equal(err.message, want);
	/* A name of 101 bytes fits the line but not the name limit. */
	memset(data + 11, 'A', 101);
	data[112] = '\n';
	write_file(path, data, 113);
	assert_int_equal(retas_regions_load(path, &r, &err), -EINVAL);
	assert_string_equal(err.reason, "regions.name");
	snprintf(want, sizeof(want), "%s:2: the name is longer than 100 bytes", path);
	assert_string_equal(err.message, want);
	data[111] = '\n';
	write_file(path, data, 112);
	assert_int_equal(retas_regions_load(path, &r, &err), 0);
	retas_regions_free(r);
}

static void regions_missing_file(void **state)
{
	struct retas_regions *r = NULL;
	struct retas_error err = {0};
	char path[sizeof(tmpdir) + 32], want[sizeof(err.message)];

	snprintf(path, sizeof(path), "%s/none.tsv", tmpdir);
	assert_int_equal(retas_regions_load(path, &r, &err), -ENOENT);
	assert_null(r);
	assert_string_equal(err.reason, "regions.open");
	snprintf(want, sizeof(want), "cannot open the region data %s: %s", path, strerror(ENOENT));
	assert_string_equal(err.message, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(regions_installed_file_provinces),
	    cmocka_unit_test(regions_installed_file_kota_jambi),
	    cmocka_unit_test(regions_datadir_override),
	    cmocka_unit_test(regions_bad_line_reported),
	    cmocka_unit_test(regions_long_line_refused),
	    cmocka_unit_test(regions_missing_file),
	};

	return cmocka_run_group_tests_name("regions", tests, make_tmpdir, remove_tmpdir);
}
