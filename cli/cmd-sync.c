/* retas sync [--now]: follows an upload to head office with a progress bar
 * (bytes, rate, time left) on a terminal, one JSON line per report with
 * --json. Exits 0 when the run ended acknowledged or with nothing to send,
 * 1 otherwise (head office unreachable, a refused receipt...). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "varlink.h"

static int cmd_sync_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_sync_entry = {
    .name = "sync",
    .args = "[--now] [--json]",
    .summary = N_("Upload the waiting records to head office and follow the upload."),
    .help = N_("Without --now, follows the run under way (retasd syncs by itself when head "
	       "office can be reached); --now starts one at once."),
    .exec = cmd_sync_exec,
};

struct follow {
	struct cli_ctx *ctx;
	bool tty;
	bool drew;
};

static int64_t num(json_object *p, const char *k)
{
	return json_object_get_int64(json_object_object_get(p, k));
}

static void on_progress(json_object *p, void *userdata)
{
	struct follow *f = userdata;
	int64_t bytes = num(p, "bytes"), total = num(p, "total");
	char bar[41];
	int fill;

	if (f->ctx->json) {
		printf("%s\n", json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
		fflush(stdout);
		return;
	}
	if (!f->tty)
		return;
	fill = total > 0 ? (int)(bytes * 40 / total) : 0;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '.', (size_t)(40 - fill));
	bar[40] = '\0';
	fprintf(stderr, "\r%-9s [%s] %" PRId64 "/%" PRId64 " KiB %" PRId64 " KiB/s", cli_str(p, "phase"),
		bar, bytes / 1024, total / 1024, num(p, "rate") / 1024);
	if (json_object_object_get_ex(p, "eta", NULL))
		fprintf(stderr, _(" %" PRId64 " s left"), num(p, "eta"));
	fprintf(stderr, "   ");
	f->drew = true;
}

static int cmd_sync_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct follow f = {.ctx = ctx, .tty = isatty(STDERR_FILENO)};
	struct cli_reply reply = {0};
	json_object *params = json_object_new_object();
	const char *outcome;
	bool now = false, print;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--now") == 0) {
			now = true;
		} else {
			json_object_put(params);
			return cli_usage_error(&cli_cmd_sync_entry, _("unexpected argument '%s'"),
					       argv[i]);
		}
	}
	json_object_object_add(params, "now", json_object_new_boolean(now));
	r = cli_call_stream(ctx, "Sync", params, CLI_CALL_TIMEOUT_MS, on_progress, &f, NULL, &reply);
	if (f.drew)
		fprintf(stderr, "\n");
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	if (r != CLI_EXIT_OK) {
		cli_reply_clear(&reply);
		return r;
	}
	outcome = cli_str(reply.params, "outcome");
	if (print) {
		if (strcmp(outcome, "acknowledged") == 0)
			printf(_("Head office acknowledged %" PRId64 " records (%" PRId64
				 " quarantined).\n"),
			       num(reply.params, "acknowledged"), num(reply.params, "quarantined"));
		else if (strcmp(outcome, "nothing") == 0 || !*outcome)
			printf(_("Nothing waits for head office.\n"));
		else
			printf(_("Not synced: %s (see 'retas queue').\n"), outcome);
	}
	if (*outcome && strcmp(outcome, "acknowledged") != 0 && strcmp(outcome, "nothing") != 0)
		r = CLI_EXIT_REFUSED;
	cli_reply_clear(&reply);
	return r;
}
