/*
 * retas-hq: command lookup, global options, usage and help. The list of
 * commands is hq_commands[] in cmd-table.c. --dir and --json may stand
 * anywhere after the command too, since every command works on one
 * head-office directory.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "retas-util.h"
#include "hq-cli.h"
#include "hq-auth.h"
#include "hq-ctx.h"
#include "hq-report.h"
#include "hq-store.h"
#include "retas-log.h"

void hq_cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("retas-hq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int hq_cli_usage(const struct hq_cmd_entry *e)
{
	fprintf(stderr, _("usage: retas-hq %s %s\n"), e->name, e->args ? e->args : "");
	return HQ_EXIT_USAGE;
}

int hq_cli_usage_error(const struct hq_cmd_entry *e, const char *fmt, ...)
{
	va_list ap;

	fputs("retas-hq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return hq_cli_usage(e);
}

int hq_cli_open(const struct hq_cli *cli, struct hq_ctx **ctx, struct sqlite3 **db)
{
	struct retas_error err = {0};
	int r;

	r = hq_ctx_open(cli->dir, ctx, &err);
	if (r < 0) {
		hq_cli_error("%s", err.message[0] ? err.message : strerror(-r));
		return HQ_EXIT_REFUSED;
	}
	r = hq_store_open((*ctx)->db_path, db, &err);
	if (r < 0) {
		hq_cli_error("%s", err.message);
		hq_ctx_free(*ctx);
		*ctx = NULL;
		return HQ_EXIT_REFUSED;
	}
	return HQ_EXIT_OK;
}

int hq_cli_staff(struct sqlite3 *db, const char *token, struct hq_staff *out)
{
	struct retas_error err = {0};

	if (!token)
		token = getenv("RETAS_HQ_TOKEN");
	if (!token || !*token) {
		hq_cli_error(
		    _("this command needs a staff token: --token TOKEN or $RETAS_HQ_TOKEN"));
		return HQ_EXIT_USAGE;
	}
	if (hq_staff_auth(db, token, out, &err) < 0) {
		hq_cli_error("%s", err.message);
		return HQ_EXIT_REFUSED;
	}
	return HQ_EXIT_OK;
}

void hq_cli_print_json(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
}

int hq_cli_refused(const struct retas_error *err)
{
	hq_cli_error("%s", err->message[0] ? err->message : _("internal error"));
	return HQ_EXIT_REFUSED;
}

static void print_help(const struct hq_cmd_entry *e)
{
	printf(_("usage: retas-hq %s %s\n"), e->name, e->args ? e->args : "");
	printf("\n%s\n", _(e->summary));
	if (e->help)
		printf("\n%s", _(e->help));
}

static const struct hq_cmd_entry *lookup(int argc, char **argv, int *used)
{
	const struct hq_cmd_entry *best = NULL;
	size_t best_words = 0;

	for (size_t i = 0; hq_commands[i]; i++) {
		size_t words = retas_words_match(hq_commands[i]->name, argc, argv);

		if (words > best_words) {
			best = hq_commands[i];
			best_words = words;
		}
	}
	*used = (int)best_words;
	return best;
}

static void print_list(FILE *f)
{
	fprintf(f, _("usage: retas-hq [--dir DIR] [--json] COMMAND [ARGS]\n\n"));
	fprintf(f, _("The RETAS head-office server and its administration.\n\nCommands:\n"));
	for (size_t i = 0; hq_commands[i]; i++)
		fprintf(f, "  %-24s %s\n", hq_commands[i]->name, _(hq_commands[i]->summary));
	fprintf(f, _("\nOptions:\n"
		     "  --dir DIR   the head-office directory (default $RETAS_HQ_DIR, or .)\n"
		     "  --json      print answers as JSON\n"
		     "\nExit status: 0 done, 1 refused, 2 usage error, 3 server unreachable.\n"));
}

static bool print_group(const char *word)
{
	size_t len = strlen(word);
	bool any = false;

	for (size_t i = 0; hq_commands[i]; i++) {
		const struct hq_cmd_entry *e = hq_commands[i];

		if (strncmp(e->name, word, len) == 0 && e->name[len] == ' ') {
			if (!any)
				fprintf(stderr, _("retas-hq %s: choose one of:\n"), word);
			fprintf(stderr, "  retas-hq %s %s\n", e->name, e->args ? e->args : "");
			any = true;
		}
	}
	return any;
}

/* Removes argv[i] (and n-1 following) from the vector. */
static void drop_args(int *argc, char **argv, int i, int n)
{
	memmove(&argv[i], &argv[i + n], (size_t)(*argc - i - n + 1) * sizeof(*argv));
	*argc -= n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	struct hq_cli cli = {0};
	const struct hq_cmd_entry *e;
	const char *env;
	int c, used = 0, r;

	retas_i18n_init();
	env = getenv("RETAS_HQ_DIR");
	cli.dir = env && *env ? env : ".";

	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			cli.dir = optarg;
			break;
		case 'j':
			cli.json = true;
			break;
		case 'h':
			print_list(stdout);
			return HQ_EXIT_OK;
		case 'V':
			printf("retas-hq %s\n", RETAS_VERSION);
			return HQ_EXIT_OK;
		default:
			print_list(stderr);
			return HQ_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		print_list(stderr);
		return HQ_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "help") == 0 && argc == 1) {
		print_list(stdout);
		return HQ_EXIT_OK;
	}
	e = lookup(argc, argv, &used);
	if (!e) {
		if (!print_group(argv[0]))
			hq_cli_error(_("unknown command '%s'; run 'retas-hq help'"), argv[0]);
		return HQ_EXIT_USAGE;
	}
	for (int i = used; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--json") == 0) {
			cli.json = true;
			drop_args(&argc, argv, i--, 1);
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			cli.dir = argv[i + 1];
			drop_args(&argc, argv, i--, 2);
		} else if (strncmp(argv[i], "--dir=", 6) == 0) {
			cli.dir = argv[i] + 6;
			drop_args(&argc, argv, i--, 1);
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			print_help(e);
			return HQ_EXIT_OK;
		}
	}
	optind = 0;
	r = e->exec(&cli, argc - used + 1, argv + used - 1);
	hq_render_cleanup();
	return r;
}
