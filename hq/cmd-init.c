/* retas-hq init DIR: a new head-office directory with its keys and store. */
#include <stdio.h>

#include "hq-cli.h"
#include "hq-ctx.h"
#include "retas-b64.h"
#include "retas-jws.h"
#include "retas-util.h"

static int cmd_init_exec(struct hq_cli *cli, int argc, char **argv);

const struct hq_cmd_entry hq_cmd_init_entry = {
    .name = "init",
    .args = "DIR",
    .summary = N_("Create a head-office directory: keys, configuration and store."),
    .help = N_("Creates DIR (mode 0700) with keys/seal.key (X25519, records are sealed to it),\n"
	       "keys/sign.key (Ed25519, signs surat tugas and receipts), retas-hq.conf and\n"
	       "the store hq.db. Prints the public keys vans are configured with.\n"),
    .exec = cmd_init_exec,
};

static int cmd_init_exec(struct hq_cli *cli, int argc, char **argv)
{
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(freep) char *seal = NULL, *sign = NULL;
	struct retas_error err = {0};
	const char *dir;
	int r;

	if (argc != 2)
		return hq_cli_usage(&hq_cmd_init_entry);
	dir = argv[1];
	r = hq_ctx_init_dir(dir, &err);
	if (r < 0) {
		hq_cli_error("%s", err.message);
		return HQ_EXIT_REFUSED;
	}
	r = hq_ctx_open(dir, &ctx, &err);
	if (r < 0) {
		hq_cli_error("%s", err.message);
		return HQ_EXIT_REFUSED;
	}
	if (retas_b64url_encode(ctx->seal.pk, 32, &seal) < 0 ||
	    retas_b64url_encode(ctx->sign.pk, 32, &sign) < 0)
		return HQ_EXIT_REFUSED;
	if (cli->json) {
		printf("{\"dir\":\"%s\",\"seal_key\":\"%s\",\"sign_key\":\"%s\",\"sign_kid\":\"%"
		       "s\"}\n",
		       dir, seal, sign, ctx->sign_kid);
	} else {
		printf(_("Head office initialised in %s\n"), dir);
		printf(_("  seal key (hq.seal_key):  %s\n"), seal);
		printf(_("  signing key (hq.sign_key): %s  (kid %s)\n"), sign, ctx->sign_kid);
	}
	return HQ_EXIT_OK;
}
