/* retas session close: ends the open session. */
#include <stdio.h>

#include "cli.h"
#include "varlink.h"

static int cmd_session_close_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_session_close_entry = {
    .name = "session close",
    .args = "[--json]",
    .summary = N_("Close the open session (needs a logged-in officer)."),
    .exec = cmd_session_close_exec,
};

static int cmd_session_close_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_reply reply = {0};
	char t[64];
	bool print;
	int r;

	if (argc > 1)
		return cli_usage_error(&cli_cmd_session_close_entry, _("unexpected argument '%s'"),
				       argv[1]);
	r = cli_call(ctx, "CloseSession", NULL, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	if (print)
		printf(_("Session %s closed at %s.\n"), cli_str(reply.params, "session.id"),
		       cli_time(cli_str(reply.params, "session.closed_at"), t));
	cli_reply_clear(&reply);
	return r;
}
