/*
 * Command lookup, global options, usage and help for retas. The list of
 * commands is cli_commands[] in cmd-table.c.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "retas-util.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("retas: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage(const struct cli_cmd_entry *e)
{
	fprintf(stderr, _("usage: retas %s %s\n"), e->name, e->args ? e->args : "");
	return CLI_EXIT_USAGE;
}

int cli_usage_error(const struct cli_cmd_entry *e, const char *fmt, ...)
{
	va_list ap;

	fputs("retas: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return cli_usage(e);
}

void cli_print_help(const struct cli_cmd_entry *e)
{
	printf(_("usage: retas %s %s\n"), e->name, e->args ? e->args : "");
	printf("\n%s\n", _(e->summary));
	if (e->help)
		printf("\n%s", _(e->help));
}

bool cli_wants_help(const struct cli_cmd_entry *e, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			cli_print_help(e);
			return true;
		}
	}
	return false;
}

static const struct cli_cmd_entry *lookup(int argc, char **argv, int *used)
{
	const struct cli_cmd_entry *best = NULL;
	size_t best_words = 0;

	for (size_t i = 0; cli_commands[i]; i++) {
		size_t words = retas_words_match(cli_commands[i]->name, argc, argv);

		if (words > best_words) {
			best = cli_commands[i];
			best_words = words;
		}
	}
	*used = (int)best_words;
	return best;
}

/* Commands whose first word is word, for "retas assignment" alone. */
static bool print_group(const char *word)
{
	size_t len = strlen(word);
	bool any = false;

	for (size_t i = 0; cli_commands[i]; i++) {
		const struct cli_cmd_entry *e = cli_commands[i];

		if (strncmp(e->name, word, len) == 0 && e->name[len] == ' ') {
			if (!any)
				fprintf(stderr, _("retas %s: choose one of:\n"), word);
			fprintf(stderr, "  retas %s %s\n", e->name, e->args ? e->args : "");
			any = true;
		}
	}
	return any;
}

static void print_global_usage(FILE *f)
{
	fprintf(f, _("usage: retas [--socket PATH] [--json] COMMAND [ARGS]\n"));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	struct cli_ctx ctx = {.argv0 = argv[0]};
	const struct cli_cmd_entry *e;
	const char *env;
	int c, used = 0;

	retas_i18n_init();
	env = getenv("RETAS_SOCKET");
	ctx.socket_path = env && *env ? env : CLI_DEFAULT_SOCKET;

	/* Global options stop at the first non-option: the command. */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			ctx.socket_path = optarg;
			break;
		case 'j':
			ctx.json = true;
			break;
		case 'h':
			argv[optind - 1] = "help";
			optind--;
			goto dispatch;
		case 'V':
			printf("retas %s\n", RETAS_VERSION);
			return CLI_EXIT_OK;
		default:
			print_global_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
dispatch:
	if (optind >= argc) {
		print_global_usage(stderr);
		fprintf(stderr, _("Run 'retas help' for the list of commands.\n"));
		return CLI_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	e = lookup(argc, argv, &used);
	if (!e) {
		if (!print_group(argv[0]))
			cli_error(_("unknown command '%s'; run 'retas help'"), argv[0]);
		return CLI_EXIT_USAGE;
	}
	/* Command options may also carry --json after the command name. */
	for (int i = used; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--json") == 0) {
			ctx.json = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i - 1) * sizeof(*argv));
			argc--;
			i--;
		}
	}
	if (cli_wants_help(e, argc - used + 1, argv + used - 1))
		return CLI_EXIT_OK;
	optind = 0;
	return e->exec(&ctx, argc - used + 1, argv + used - 1);
}
