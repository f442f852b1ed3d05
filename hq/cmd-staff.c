/* retas-hq staff add / staff revoke: staff tokens and their roles. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "hq-auth.h"
#include "hq-cli.h"
#include "hq-ctx.h"
#include "retas-time.h"
#include "retas-util.h"

static int cmd_staff_add_exec(struct hq_cli *cli, int argc, char **argv);
static int cmd_staff_revoke_exec(struct hq_cli *cli, int argc, char **argv);

const struct hq_cmd_entry hq_cmd_staff_add_entry = {
    .name = "staff add",
    .args = "NIP --name NAME --role bidang|kabid|kadis|fo|operator",
    .summary = N_("Add a staff member; prints their token once."),
    .help = N_("The token goes on stdout, alone on its line, and is not shown again: the\n"
	       "store keeps only its hash. A revoked member may be added again and gets a\n"
	       "new token.\n"),
    .exec = cmd_staff_add_exec,
};

const struct hq_cmd_entry hq_cmd_staff_revoke_entry = {
    .name = "staff revoke",
    .args = "NIP",
    .summary = N_("Revoke a staff member's token."),
    .exec = cmd_staff_revoke_exec,
};

static int cmd_staff_add_exec(struct hq_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"role", required_argument, NULL, 'r'},
	    {0},
	};
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	struct retas_error err = {0};
	const char *name = NULL, *role_s = NULL;
	enum hq_role role;
	char *token = NULL;
	sqlite3 *db = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			name = optarg;
		else if (c == 'r')
			role_s = optarg;
		else
			return hq_cli_usage(&hq_cmd_staff_add_entry);
	}
	if (optind + 1 != argc || !name || !role_s)
		return hq_cli_usage(&hq_cmd_staff_add_entry);
	if (hq_role_parse(role_s, &role) < 0)
		return hq_cli_usage_error(&hq_cmd_staff_add_entry, _("unknown role '%s'"), role_s);
	r = hq_cli_open(cli, &ctx, &db);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_staff_add(db, argv[optind], name, role, retas_time_now_ms(), &token, &err);
	sqlite3_close(db);
	if (r < 0) {
		hq_cli_error("%s", err.message);
		return HQ_EXIT_REFUSED;
	}
	if (cli->json)
		printf("{\"nip\":\"%s\",\"role\":\"%s\",\"token\":\"%s\"}\n", argv[optind],
		       hq_role_name(role), token);
	else
		printf("%s\n", token);
	fflush(stdout);
	fprintf(stderr, _("staff member %s added as %s; the token above is shown only once\n"),
		argv[optind], hq_role_name(role));
	retas_free_secret(token, strlen(token));
	return HQ_EXIT_OK;
}

static int cmd_staff_revoke_exec(struct hq_cli *cli, int argc, char **argv)
{
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	struct retas_error err = {0};
	sqlite3 *db = NULL;
	int r;

	if (argc != 2)
		return hq_cli_usage(&hq_cmd_staff_revoke_entry);
	r = hq_cli_open(cli, &ctx, &db);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_staff_revoke(db, argv[1], retas_time_now_ms(), &err);
	sqlite3_close(db);
	if (r < 0) {
		hq_cli_error("%s", err.message);
		return HQ_EXIT_REFUSED;
	}
	printf(_("staff member %s revoked\n"), argv[1]);
	return HQ_EXIT_OK;
}
