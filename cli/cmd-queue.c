/* retas queue: where the van's records stand with head office, the bytes
 * still to go, and the last contact with head office. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "varlink.h"

static int cmd_queue_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_queue_entry = {
    .name = "queue",
    .args = "[--json]",
    .summary = N_("Show the records waiting for head office and the last contact with it."),
    .exec = cmd_queue_exec,
};

static int64_t num(json_object *p, const char *k)
{
	return json_object_get_int64(json_object_object_get(p, k));
}

static void print_queue(json_object *p)
{
	char t[64];

	printf(_("Waiting: %" PRId64 "\n"), num(p, "waiting"));
	printf(_("Uploading: %" PRId64 " (%" PRId64 " of %" PRId64 " bytes confirmed)\n"),
	       num(p, "uploading"), num(p, "batch_offset"), num(p, "batch_bytes"));
	printf(_("Acknowledged: %" PRId64 "\n"), num(p, "acknowledged"));
	printf(_("Quarantined by head office: %" PRId64 "\n"), num(p, "quarantined"));
	printf(_("Bytes not yet acknowledged: %" PRId64 "\n"), num(p, "bytes_waiting"));
	if (*cli_str(p, "last_contact"))
		printf(_("Last contact with head office: %s (%s)\n"),
		       cli_time(cli_str(p, "last_contact"), t), cli_str(p, "last_outcome"));
	else
		printf(_("Last contact with head office: never\n"));
	if (json_object_object_get_ex(p, "next_attempt_ms", NULL))
		printf(_("Next attempt in %" PRId64 " s\n"), (num(p, "next_attempt_ms") + 999) / 1000);
}

static int cmd_queue_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_reply reply = {0};
	bool print;
	int r;

	if (argc > 1)
		return cli_usage_error(&cli_cmd_queue_entry, _("unexpected argument '%s'"), argv[1]);
	r = cli_call(ctx, "Queue", NULL, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	if (print)
		print_queue(reply.params);
	cli_reply_clear(&reply);
	return r;
}
