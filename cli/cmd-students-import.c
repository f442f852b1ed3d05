/*
 * retas students import FILE.csv [--dry-run]: hands the school's student
 * list to retasd, which checks every row; the refused rows are listed with
 * their line numbers and reasons. Exit 0 when every row was good, 1 when
 * some were refused (the good ones are imported all the same).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "retas-util.h"
#include "varlink.h"

#define IMPORT_MAX_BYTES (1000u * 1000u)

static int read_file(const char *path, char **out, size_t *len)
{
	_cleanup_(freep) char *buf = NULL;
	size_t n;
	int r = cli_read_file(path, IMPORT_MAX_BYTES + 1, &buf, &n);

	if (r < 0)
		return r;
	if (n > IMPORT_MAX_BYTES)
		return -EFBIG;
	if (strlen(buf) != n)
		return -EINVAL;
	*out = steal_ptr(buf);
	*len = n;
	return 0;
}

static int cmd_students_import_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_students_import_entry = {
    .name = "students import",
    .args = "FILE.csv [--dry-run] [--json]",
    .summary = N_("Import the school's student list (CSV) into retasd."),
    .help = N_("Columns: NIK, nama, jenis kelamin (L/P), tanggal lahir (YYYY-MM-DD), kelas;\n"
	       "a header row; comma or semicolon; UTF-8. Every row is checked (NIK rules,\n"
	       "gender and birth date against the NIK, age against the letter's minimum,\n"
	       "duplicates); refused rows are listed with their line numbers and are not\n"
	       "imported. --dry-run checks without importing.\n"),
    .exec = cmd_students_import_exec,
};

static int cmd_students_import_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_cmd_entry *e = &cli_cmd_students_import_entry;
	struct cli_reply reply = {0};
	_cleanup_(freep) char *csv = NULL;
	const char *file = NULL;
	bool dry_run = false, print;
	json_object *params, *issues;
	size_t len = 0, n;
	int r;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--dry-run"))
			dry_run = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error(e, _("unknown option '%s'"), argv[i]);
		else if (file)
			return cli_usage_error(e, _("unexpected argument '%s'"), argv[i]);
		else
			file = argv[i];
	}
	if (!file)
		return cli_usage_error(e, _("give the FILE.csv to import"));
	r = read_file(file, &csv, &len);
	if (r < 0) {
		cli_error(_("cannot read %s: %s"), file,
			  r == -EFBIG ? _("larger than 1 MB") : strerror(-r));
		return CLI_EXIT_REFUSED;
	}
	params = json_object_new_object();
	json_object_object_add(params, "csv", json_object_new_string_len(csv, (int)len));
	json_object_object_add(params, "dry_run", json_object_new_boolean(dry_run));
	r = cli_call(ctx, "ImportStudents", params, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	issues = json_object_object_get(reply.params, "issues");
	n = issues ? json_object_array_length(issues) : 0;
	if (print) {
		int rows = json_object_get_int(json_object_object_get(reply.params, "rows"));
		int imported = json_object_get_int(json_object_object_get(reply.params, "imported"));

		for (size_t i = 0; i < n; i++) {
			json_object *it = json_object_array_get_idx(issues, i);

			printf(_("line %d: %s\n"), json_object_get_int(json_object_object_get(it, "line")),
			       cli_str(it, "message"));
		}
		if (dry_run)
			printf(_("Dry run: %d of %d rows would be imported, %zu refused.\n"), imported,
			       rows, n);
		else
			printf(_("%d of %d rows imported, %zu refused.\n"), imported, rows, n);
	}
	if (r == CLI_EXIT_OK && n > 0)
		r = CLI_EXIT_REFUSED;
	cli_reply_clear(&reply);
	return r;
}
