/* retas report [--format pdf|json|csv] [-o FILE]: the current Draft Laporan
 * RETAS from retasd. JSON (the default) and CSV go to standard output
 * unless -o names a file; the PDF goes to FILE, laporan.pdf by default. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "retas-b64.h"
#include "retas-util.h"
#include "varlink.h"

static int cmd_report_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_report_entry = {
    .name = "report",
    .args = "[--format pdf|json|csv] [-o FILE]",
    .summary = N_("Show the current draft report (Draft Laporan RETAS)."),
    .exec = cmd_report_exec,
};

static int cmd_report_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_cmd_entry *e = &cli_cmd_report_entry;
	struct cli_reply reply = {0};
	const char *format = "json", *out = NULL, *data;
	json_object *params;
	uint8_t *doc = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--format") && i + 1 < argc)
			format = argv[++i];
		else if (streq(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else
			return cli_usage_error(e, _("unexpected argument '%s'"), argv[i]);
	}
	if (!streq(format, "pdf") && !streq(format, "json") && !streq(format, "csv"))
		return cli_usage_error(e, _("--format is pdf, json or csv"));
	if (streq(format, "pdf") && !out)
		out = "laporan.pdf";
	params = json_object_new_object();
	json_object_object_add(params, "format", json_object_new_string(format));
	r = cli_call(ctx, "Report", params, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	if (reply.error) {
		r = cli_report_error(&reply);
		cli_reply_clear(&reply);
		return r;
	}
	data = cli_str(reply.params, "data");
	if (streq(format, "pdf")) {
		if (retas_b64url_decode(data, strlen(data), &doc, &len) < 0) {
			cli_error(_("retasd sent a report that cannot be decoded"));
			cli_reply_clear(&reply);
			return CLI_EXIT_REFUSED;
		}
	} else {
		len = strlen(data);
	}
	f = out ? fopen(out, "wb") : stdout;
	if (!f || fwrite(doc ? (const void *)doc : data, 1, len, f) != len ||
	    (!out && !streq(format, "csv") && fputc('\n', f) == EOF) ||
	    (out ? fclose(f) : fflush(f)) != 0) {
		cli_error(_("cannot write %s: %s"), out ? out : "stdout", strerror(errno));
		r = CLI_EXIT_REFUSED;
	} else if (out && !ctx->json) {
		printf(_("Draft report written to %s.\n"), out);
	}
	free(doc);
	cli_reply_clear(&reply);
	return r;
}
