/* retas audit verify: asks retasd to walk its audit log's hash chain and
 * check its store; exit 1 when either is broken. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "varlink.h"

static int cmd_audit_verify_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_audit_verify_entry = {
    .name = "audit verify",
    .args = "[--json]",
    .summary = N_("Check retasd's audit log chain and store integrity."),
    .exec = cmd_audit_verify_exec,
};

static int cmd_audit_verify_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_reply reply = {0};
	json_object *p;
	bool print, ok;
	int r;

	if (argc > 1)
		return cli_usage_error(&cli_cmd_audit_verify_entry, _("unexpected argument '%s'"),
				       argv[1]);
	r = cli_call(ctx, "VerifyAudit", NULL, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	p = reply.params;
	ok = json_object_get_boolean(json_object_object_get(p, "ok")) &&
	     strcmp(cli_str(p, "integrity"), "ok") == 0;
	if (print) {
		long long rows =
		    (long long)json_object_get_int64(json_object_object_get(p, "rows"));

		printf(_("Audit log rows: %lld\n"), rows);
		if (json_object_get_boolean(json_object_object_get(p, "ok")))
			printf(_("Audit chain: intact (head %s)\n"), cli_str(p, "head"));
		else
			printf(_("Audit chain: BROKEN at row %lld (%s)\n"),
			       (long long)json_object_get_int64(
				   json_object_object_get(p, "first_bad")),
			       cli_str(p, "problem"));
		printf(_("Store integrity: %s\n"), cli_str(p, "integrity"));
	}
	if (r == CLI_EXIT_OK && !ok)
		r = CLI_EXIT_REFUSED;
	cli_reply_clear(&reply);
	return r;
}
