/* retas students list [--pending|--recorded|--absent|--exception]: the
 * student list with each student's status. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "retas-util.h"
#include "varlink.h"

static int cmd_students_list_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_students_list_entry = {
    .name = "students list",
    .args = "[--pending|--recorded|--absent|--exception] [--json]",
    .summary = N_("List the students and their status."),
    .exec = cmd_students_list_exec,
};

static const char *status_words(json_object *s)
{
	const char *st = cli_str(s, "status");

	if (streq(st, "recorded"))
		return json_object_get_boolean(json_object_object_get(s, "exception"))
			   ? _("recorded, with exception")
			   : _("recorded");
	if (streq(st, "absent"))
		return _("absent");
	return _("pending");
}

static int cmd_students_list_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_cmd_entry *e = &cli_cmd_students_list_entry;
	static const char *const filters[] = {"pending", "recorded", "absent", "exception"};
	struct cli_reply reply = {0};
	const char *filter = NULL;
	json_object *params, *a;
	bool print;
	int r;

	for (int i = 1; i < argc; i++) {
		const char *f = NULL;

		for (size_t k = 0; k < ARRAY_SIZE(filters); k++)
			if (strncmp(argv[i], "--", 2) == 0 && streq(argv[i] + 2, filters[k]))
				f = filters[k];
		if (!f)
			return cli_usage_error(e, _("unexpected argument '%s'"), argv[i]);
		if (filter)
			return cli_usage_error(e, _("give at most one filter"));
		filter = f;
	}
	params = json_object_new_object();
	if (filter)
		json_object_object_add(params, "filter", json_object_new_string(filter));
	r = cli_call(ctx, "ListStudents", params, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	if (print) {
		a = json_object_object_get(reply.params, "students");
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *s = json_object_array_get_idx(a, i);

			printf("%s  %-30s %-8s %s", cli_str(s, "nik"), cli_str(s, "nama"),
			       cli_str(s, "kelas"), status_words(s));
			if (json_object_get_boolean(json_object_object_get(s, "record_only")))
				printf(_(" (record-only until %s)"), cli_str(s, "eligible_on"));
			printf("\n");
		}
		printf(_("%zu students.\n"), json_object_array_length(a));
	}
	cli_reply_clear(&reply);
	return r;
}
