/* retas logout: ends the officer's login. */
#include <stdio.h>

#include "cli.h"
#include "varlink.h"

static int cmd_logout_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_logout_entry = {
    .name = "logout",
    .args = "[--json]",
    .summary = N_("Log the officer out."),
    .exec = cmd_logout_exec,
};

static int cmd_logout_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_reply reply = {0};
	bool print;
	int r;

	if (argc > 1)
		return cli_usage_error(&cli_cmd_logout_entry, _("unexpected argument '%s'"),
				       argv[1]);
	r = cli_call(ctx, "Logout", NULL, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	if (print)
		printf(_("Logged out.\n"));
	cli_reply_clear(&reply);
	return r;
}
