/* retas receipt NIK [-o FILE] [--png]: the receipt (resi) of a student's
 * current record, rendered again by retasd, written to FILE (default
 * resi-RECORD_ID.pdf or .png in the current directory). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "retas-b64.h"
#include "retas-util.h"
#include "varlink.h"

static int cmd_receipt_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_receipt_entry = {
    .name = "receipt",
    .args = "NIK [-o FILE] [--png]",
    .summary = N_("Print a recorded student's receipt again (PDF, or PNG with --png)."),
    .exec = cmd_receipt_exec,
};

static int cmd_receipt_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_cmd_entry *e = &cli_cmd_receipt_entry;
	struct cli_reply reply = {0};
	const char *nik = NULL, *out = NULL, *data;
	bool png = false, print;
	json_object *params;
	uint8_t *doc = NULL;
	size_t len = 0;
	char path[128];
	FILE *f;
	int r;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--png"))
			png = true;
		else if (streq(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (argv[i][0] == '-' || nik)
			return cli_usage_error(e, _("unexpected argument '%s'"), argv[i]);
		else
			nik = argv[i];
	}
	if (!nik)
		return cli_usage_error(e, _("give the student's NIK"));
	if (strlen(nik) != 16)
		return cli_usage_error(e, _("a NIK has 16 digits"));
	params = json_object_new_object();
	json_object_object_add(params, "nik", json_object_new_string(nik));
	json_object_object_add(params, "format", json_object_new_string(png ? "png" : "pdf"));
	r = cli_call(ctx, "Receipt", params, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	if (reply.error) {
		r = cli_report_error(&reply);
		cli_reply_clear(&reply);
		return r;
	}
	data = cli_str(reply.params, "data");
	if (retas_b64url_decode(data, strlen(data), &doc, &len) < 0) {
		cli_error(_("retasd sent a receipt that cannot be decoded"));
		cli_reply_clear(&reply);
		return CLI_EXIT_REFUSED;
	}
	if (!out) {
		snprintf(path, sizeof(path), "resi-%s.%s", cli_str(reply.params, "record_id"),
			 png ? "png" : "pdf");
		out = path;
	}
	f = fopen(out, "wb");
	if (!f || fwrite(doc, 1, len, f) != len || fclose(f) != 0) {
		cli_error(_("cannot write %s: %s"), out, strerror(errno));
		r = CLI_EXIT_REFUSED;
	} else {
		r = cli_finish(ctx, &reply, &print);
		if (print)
			printf(_("Receipt written to %s.\n"), out);
	}
	free(doc);
	cli_reply_clear(&reply);
	return r;
}
