/* retas sync export DIR: writes the pending batch to removable media for
 * head office's `retas-hq import`; the records stay pending until the
 * receipt comes back (`retas sync import-receipt`). */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "varlink.h"

static int cmd_sync_export_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_sync_export_entry = {
    .name = "sync export",
    .args = "DIR [--json]",
    .summary = N_("Write the batch waiting for head office to a directory (removable media)."),
    .exec = cmd_sync_export_exec,
};

static int cmd_sync_export_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_reply reply = {0};
	json_object *params, *list;
	char dir[PATH_MAX];
	bool print;
	int r;

	if (argc != 2)
		return cli_usage(&cli_cmd_sync_export_entry);
	if (!realpath(argv[1], dir)) {
		cli_error(_("%s: no such directory"), argv[1]);
		return CLI_EXIT_REFUSED;
	}
	params = json_object_new_object();
	json_object_object_add(params, "dir", json_object_new_string(dir));
	r = cli_call(ctx, "SyncExport", params, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	list = json_object_object_get(reply.params, "batches");
	if (print) {
		size_t n = json_object_array_length(list);

		if (n == 0)
			printf(_("Nothing waits for head office.\n"));
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(list, i);

			printf(_("Wrote %s: %" PRId64 " records, %" PRId64 " bytes.\n"),
			       cli_str(e, "path"),
			       json_object_get_int64(json_object_object_get(e, "records")),
			       json_object_get_int64(json_object_object_get(e, "bytes")));
		}
	}
	cli_reply_clear(&reply);
	return r;
}
