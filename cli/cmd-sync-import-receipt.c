/* retas sync import-receipt FILE: applies the receipt `retas-hq import`
 * wrote for an exported batch. retasd verifies it against hq.sign_key
 * first; a receipt that does not verify changes nothing. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "varlink.h"

#define RECEIPT_FILE_MAX (900 * 1024)

static int cmd_sync_import_receipt_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_sync_import_receipt_entry = {
    .name = "sync import-receipt",
    .args = "FILE [--json]",
    .summary = N_("Apply a receipt file from head office for an exported batch."),
    .exec = cmd_sync_import_receipt_exec,
};

static int cmd_sync_import_receipt_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_reply reply = {0};
	json_object *params;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	bool print;
	int r;

	if (argc != 2)
		return cli_usage(&cli_cmd_sync_import_receipt_entry);
	f = fopen(argv[1], "re");
	if (!f) {
		cli_error("%s: %s", argv[1], strerror(errno));
		return CLI_EXIT_REFUSED;
	}
	text = malloc(RECEIPT_FILE_MAX + 1);
	if (text)
		len = fread(text, 1, RECEIPT_FILE_MAX + 1, f);
	fclose(f);
	if (!text || len == 0 || len > RECEIPT_FILE_MAX || memchr(text, '\0', len)) {
		free(text);
		cli_error(_("%s: not a receipt file"), argv[1]);
		return CLI_EXIT_REFUSED;
	}
	text[len] = '\0';
	params = json_object_new_object();
	json_object_object_add(params, "receipt", json_object_new_string(text));
	free(text);
	r = cli_call(ctx, "SyncImportReceipt", params, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	if (print)
		printf(_("Batch %s: %" PRId64 " records acknowledged, %" PRId64
			 " quarantined by head office.\n"),
		       cli_str(reply.params, "batch_id"),
		       json_object_get_int64(json_object_object_get(reply.params, "acknowledged")),
		       json_object_get_int64(json_object_object_get(reply.params, "quarantined")));
	cli_reply_clear(&reply);
	return r;
}
