/* retas students absent NIK [--undo]: marks a listed student absent today,
 * or present again. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "retas-util.h"
#include "varlink.h"

static int cmd_students_absent_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_students_absent_entry = {
    .name = "students absent",
    .args = "NIK [--undo] [--json]",
    .summary = N_("Mark a student absent (--undo: present again)."),
    .exec = cmd_students_absent_exec,
};

static int cmd_students_absent_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_cmd_entry *e = &cli_cmd_students_absent_entry;
	struct cli_reply reply = {0};
	const char *nik = NULL;
	bool undo = false, print;
	json_object *params;
	int r;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--undo"))
			undo = true;
		else if (argv[i][0] == '-' || nik)
			return cli_usage_error(e, _("unexpected argument '%s'"), argv[i]);
		else
			nik = argv[i];
	}
	if (!nik)
		return cli_usage_error(e, _("give the student's NIK"));
	if (strlen(nik) != 16)
		return cli_usage_error(e, _("a NIK has 16 digits"));
	params = json_object_new_object();
	json_object_object_add(params, "nik", json_object_new_string(nik));
	json_object_object_add(params, "undo", json_object_new_boolean(undo));
	r = cli_call(ctx, "MarkAbsent", params, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	if (print)
		printf(undo ? _("%s (%s) is no longer marked absent.\n")
			    : _("%s (%s) marked absent.\n"),
		       cli_str(reply.params, "nama"), cli_str(reply.params, "nik"));
	cli_reply_clear(&reply);
	return r;
}
