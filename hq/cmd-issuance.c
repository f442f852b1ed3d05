/*
 * retas-hq issuance scan|show|verify|enter|print|handover|summary: the
 * KTP-el SOP at the counter, the same checks and roles as the HTTP API.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq-auth.h"
#include "hq-cli.h"
#include "hq-ctx.h"
#include "hq-issuance.h"
#include "retas-json.h"
#include "retas-time.h"

static int cmd_scan(struct hq_cli *cli, int argc, char **argv);
static int cmd_step(struct hq_cli *cli, int argc, char **argv);
static int cmd_summary(struct hq_cli *cli, int argc, char **argv);

const struct hq_cmd_entry hq_cmd_issuance_scan_entry = {
    .name = "issuance scan",
    .args = "TOKEN [--token T]",
    .summary = N_("Scan a student's receipt QR token: verify it, find the record (role fo)."),
    .exec = cmd_scan,
};

#define STEP_ENTRY(verb, text)                                                                     \
	const struct hq_cmd_entry hq_cmd_issuance_##verb##_entry = {                               \
	    .name = "issuance " #verb,                                                             \
	    .args = "RECORD-ID [--token T]",                                                       \
	    .summary = text,                                                                       \
	    .exec = cmd_step,                                                                      \
	}

STEP_ENTRY(verify, N_("Record that the front office verified the data (role fo)."));
STEP_ENTRY(enter, N_("Record that the operator entered the data (role operator)."));
STEP_ENTRY(print, N_("Record that the card is printed (role operator)."));
STEP_ENTRY(handover, N_("Record that the card was handed over (role fo)."));

const struct hq_cmd_entry hq_cmd_issuance_summary_entry = {
    .name = "issuance summary",
    .args = "[--nomor NOMOR] [--token T]",
    .summary = N_("The issuance queue and the time standards kept or missed."),
    .exec = cmd_summary,
};

static void print_record(const struct hq_cli *cli, json_object *o)
{
	const char *nama = "", *nik = "", *status = "", *from = NULL;

	if (cli->json) {
		hq_cli_print_json(o);
		return;
	}
	retas_json_get_string(o, "nama", &nama);
	retas_json_get_string(o, "nik", &nik);
	retas_json_get_string(o, "status", &status);
	retas_json_get_string(o, "eligible_from", &from);
	printf("%s  %s  %s\n", json_object_get_string(json_object_object_get(o, "record")), nik,
	       nama);
	if (streq(status, "record-only") && from)
		printf(_("  status: recorded only; the card can be issued from %s\n"), from);
	else
		printf(_("  status: %s\n"), status);
}

/* ARG [--token T] [--nomor N]: opens the store and authenticates. */
static int prepare(const struct hq_cli *cli, int argc, char **argv, const struct hq_cmd_entry *e,
		   bool want_arg, const char **arg, const char **nomor, struct hq_ctx **ctx,
		   sqlite3 **db, struct hq_staff *who)
{
	static const struct option opts[] = {
	    {"token", required_argument, NULL, 't'},
	    {"nomor", required_argument, NULL, 'n'},
	    {0},
	};
	const char *token = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 't')
			token = optarg;
		else if (c == 'n' && nomor)
			*nomor = optarg;
		else
			return hq_cli_usage(e);
	}
	if (optind + (want_arg ? 1 : 0) != argc)
		return hq_cli_usage(e);
	if (want_arg)
		*arg = argv[optind];
	r = hq_cli_open(cli, ctx, db);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_cli_staff(*db, token, who);
	if (r != HQ_EXIT_OK) {
		sqlite3_close(*db);
		*db = NULL;
	}
	return r;
}

static int cmd_scan(struct hq_cli *cli, int argc, char **argv)
{
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(json_object_putp) json_object *out = NULL;
	struct retas_error err = {0};
	const char *token = NULL;
	struct hq_staff who;
	sqlite3 *db = NULL;
	int r;

	r = prepare(cli, argc, argv, &hq_cmd_issuance_scan_entry, true, &token, NULL, &ctx, &db,
		    &who);
	if (r != HQ_EXIT_OK)
		return r;
	if (hq_issuance_scan(db, &who, token, retas_time_now_ms(), &out, &err) < 0)
		r = hq_cli_refused(&err);
	else
		print_record(cli, out);
	sqlite3_close(db);
	return r;
}

static int cmd_step(struct hq_cli *cli, int argc, char **argv)
{
	static const struct hq_cmd_entry *const entries[] = {
	    [HQ_ISSUE_VERIFY] = &hq_cmd_issuance_verify_entry,
	    [HQ_ISSUE_ENTER] = &hq_cmd_issuance_enter_entry,
	    [HQ_ISSUE_PRINT] = &hq_cmd_issuance_print_entry,
	    [HQ_ISSUE_HANDOVER] = &hq_cmd_issuance_handover_entry,
	};
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(json_object_putp) json_object *out = NULL;
	struct retas_error err = {0};
	enum hq_issue_step step;
	const char *record = NULL;
	struct hq_staff who;
	sqlite3 *db = NULL;
	int r;

	/* argv[0] is the verb: the step */
	if (hq_issue_step_parse(argv[0], &step) < 0)
		return HQ_EXIT_USAGE;
	r = prepare(cli, argc, argv, entries[step], true, &record, NULL, &ctx, &db, &who);
	if (r != HQ_EXIT_OK)
		return r;
	if (hq_issuance_step(db, &who, record, step, retas_time_now_ms(), &out, &err) < 0)
		r = hq_cli_refused(&err);
	else
		print_record(cli, out);
	sqlite3_close(db);
	return r;
}

static int cmd_summary(struct hq_cli *cli, int argc, char **argv)
{
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(json_object_putp) json_object *out = NULL;
	const char *nomor = NULL, *unused = NULL;
	struct hq_staff who;
	sqlite3 *db = NULL;
	int r;

	r = prepare(cli, argc, argv, &hq_cmd_issuance_summary_entry, false, &unused, &nomor, &ctx,
		    &db, &who);
	if (r != HQ_EXIT_OK)
		return r;
	if (hq_issuance_summary(db, nomor, retas_time_now_ms(), &out) < 0) {
		hq_cli_error(_("cannot read the store"));
		r = HQ_EXIT_REFUSED;
	} else {
		hq_cli_print_json(out);
	}
	sqlite3_close(db);
	return r;
}
