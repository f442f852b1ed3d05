/* retas queue: where the van's records stand with head office, the bytes
 * still to go, and the last contact with head office. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "retas-util.h"
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

/* What head office's quarantine reasons (docs/sync-protocol.md §4) mean for
 * the officer. */
static const struct {
	const char *reason, *text;
} reasons[] = {
    {"record.size", N_("the record arrived with another length than listed")},
    {"record.hash", N_("the record arrived damaged (its hash differs)")},
    {"record.format", N_("the record is not in a form head office reads")},
    {"record.signature", N_("the record's signature does not match this van's key")},
    {"record.seal", N_("head office cannot open the record: it was sealed to a key "
		       "head office does not hold (check the surat tugas)")},
    {"record.decrypt", N_("head office cannot decrypt the record: it is damaged")},
    {"record.container", N_("the record's contents are damaged")},
    {"record.manifest", N_("the record does not match the batch that listed it")},
    {"record.device", N_("the record names another van")},
    {"record.conflict", N_("head office already holds another record with this id")},
};

static const char *reason_text(const char *reason)
{
	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++)
		if (streq(reasons[i].reason, reason))
			return _(reasons[i].text);
	return _("see head office");
}

static void print_quarantine(json_object *p)
{
	json_object *a = json_object_object_get(p, "quarantine");
	size_t n = a ? json_object_array_length(a) : 0;
	char t[64];

	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		const char *settled = cli_str(e, "settled");

		/* TRANSLATORS: a quarantined record: its sequence number, id,
		 * head office's reason id and what it means. */
		printf(_("  #%" PRId64 " %s: %s (%s)\n"), num(e, "seq"), cli_str(e, "id"),
		       reason_text(cli_str(e, "reason")), cli_str(e, "reason"));
		if (*settled)
			printf(_("    kept aside by head office's receipt of %s\n"),
			       cli_time(settled, t));
	}
}

/* The last outcomes that need more than their id. */
static const struct {
	const char *outcome, *text;
} outcomes[] = {
    {"unreachable", N_("head office did not answer; the van tries again by itself")},
    {"tls.certificate", N_("head office's certificate is not signed by the configured CA "
			   "(sync.ca_file); nothing was sent")},
    {"tls.pinned-key", N_("head office's public key is not the pinned one (sync.pinned_key); "
			  "nothing was sent")},
    {"tls.ca-file", N_("the CA file of sync.ca_file cannot be read")},
    {"tls.handshake", N_("the secure connection to head office failed")},
};

static void print_outcome(const char *outcome)
{
	for (size_t i = 0; i < ARRAY_SIZE(outcomes); i++)
		if (streq(outcomes[i].outcome, outcome))
			printf("  %s\n", _(outcomes[i].text));
}

static void print_queue(json_object *p)
{
	char t[64];

	printf(_("Waiting: %" PRId64 "\n"), num(p, "waiting"));
	printf(_("Uploading: %" PRId64 " (%" PRId64 " of %" PRId64 " bytes confirmed)\n"),
	       num(p, "uploading"), num(p, "batch_offset"), num(p, "batch_bytes"));
	printf(_("Acknowledged: %" PRId64 "\n"), num(p, "acknowledged"));
	printf(_("Quarantined by head office: %" PRId64 "\n"), num(p, "quarantined"));
	print_quarantine(p);
	printf(_("Bytes not yet acknowledged: %" PRId64 "\n"), num(p, "bytes_waiting"));
	if (*cli_str(p, "last_contact")) {
		printf(_("Last contact with head office: %s (%s)\n"),
		       cli_time(cli_str(p, "last_contact"), t), cli_str(p, "last_outcome"));
		print_outcome(cli_str(p, "last_outcome"));
	} else {
		printf(_("Last contact with head office: never\n"));
	}
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
