/* retas-hq van register PUBKEY --id ID: admit a van's device key. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hq-auth.h"
#include "hq-cli.h"
#include "hq-ctx.h"
#include "retas-b64.h"
#include "retas-jws.h"
#include "retas-time.h"
#include "retas-util.h"

static int cmd_van_register_exec(struct hq_cli *cli, int argc, char **argv);

const struct hq_cmd_entry hq_cmd_van_register_entry = {
    .name = "van register",
    .args = "PUBKEY --id ID",
    .summary = N_("Register a van's device key (base64url, or a file holding it)."),
    .help = N_("PUBKEY is the van's Ed25519 public key as 'retasd --print-device-key'\n"
	       "prints it (43 base64url characters), or the path of a file holding it.\n"
	       "ID names the van in surat tugas (kendaraan.id), e.g. MPK-01.\n"),
    .exec = cmd_van_register_exec,
};

static int read_key_arg(const char *arg, uint8_t pk[32])
{
	char line[128] = "";
	FILE *f;

	if (retas_b64url_decode_key(arg, pk, 32) == 0)
		return 0;
	f = fopen(arg, "re");
	if (!f)
		return -EINVAL;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	line[strcspn(line, "\r\n")] = 0;
	return retas_b64url_decode_key(line, pk, 32);
}

static int cmd_van_register_exec(struct hq_cli *cli, int argc, char **argv)
{
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	struct retas_error err = {0};
	const char *id = NULL, *key = NULL;
	uint8_t pk[32];
	char kid[17];
	sqlite3 *db = NULL;
	int r;

	/* By hand rather than getopt: a base64url key may start with '-'. */
	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--id") && i + 1 < argc)
			id = argv[++i];
		else if (strncmp(argv[i], "--id=", 5) == 0)
			id = argv[i] + 5;
		else if (!key)
			key = argv[i];
		else
			return hq_cli_usage(&hq_cmd_van_register_entry);
	}
	if (!key || !id)
		return hq_cli_usage(&hq_cmd_van_register_entry);
	if (read_key_arg(key, pk) < 0)
		return hq_cli_usage_error(&hq_cmd_van_register_entry,
					  _("'%s' is not a base64url Ed25519 public key or a file "
					    "holding one"),
					  key);
	r = hq_cli_open(cli, &ctx, &db);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_van_register(db, id, pk, retas_time_now_ms(), &err);
	sqlite3_close(db);
	if (r < 0) {
		hq_cli_error("%s", err.message);
		return HQ_EXIT_REFUSED;
	}
	retas_key_id(pk, kid);
	if (cli->json)
		printf("{\"id\":\"%s\",\"kid\":\"%s\"}\n", id, kid);
	else
		printf(_("van %s registered (key id %s)\n"), id, kid);
	return HQ_EXIT_OK;
}
