/* retas help [COMMAND]: the list of commands, exit codes, or one command's help. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cmd_help_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_help_entry = {
	.name = "help",
	.args = "[COMMAND]",
	.summary = N_("Show the commands, or the help of one command."),
	.exec = cmd_help_exec,
};

static int cmd_help_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	char want[128] = "";

	for (int i = 1; i < argc; i++) {
		if (i > 1)
			strncat(want, " ", sizeof(want) - strlen(want) - 1);
		strncat(want, argv[i], sizeof(want) - strlen(want) - 1);
	}
	if (*want) {
		for (size_t i = 0; cli_commands[i]; i++) {
			if (strcmp(cli_commands[i]->name, want) == 0) {
				cli_print_help(cli_commands[i]);
				return CLI_EXIT_OK;
			}
		}
		cli_error(_("unknown command '%s'"), want);
		return CLI_EXIT_USAGE;
	}
	printf(_("usage: retas [--socket PATH] [--json] COMMAND [ARGS]\n\n"));
	printf(_("The RETAS field officer's command line.\n\nCommands:\n"));
	for (size_t i = 0; cli_commands[i]; i++) {
		const struct cli_cmd_entry *e = cli_commands[i];

		printf("  %-26s %s\n", e->name, _(e->summary));
	}
	printf(_("\nOptions:\n"
		 "  --socket PATH   the daemon's socket (default %s, or $RETAS_SOCKET)\n"
		 "  --json          print answers as JSON\n"
		 "  --help          this help; 'retas COMMAND --help' for one command\n"),
	       CLI_DEFAULT_SOCKET);
	printf(_("\nExit status:\n"
		 "  0  done\n"
		 "  1  refused (the reason is printed)\n"
		 "  2  usage error\n"
		 "  3  daemon unreachable (the socket path tried is printed)\n"));
	return CLI_EXIT_OK;
}
