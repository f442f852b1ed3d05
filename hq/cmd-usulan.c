/*
 * retas-hq usulan create|list|approve|reject: SOP RETAS steps 1 and 2 from
 * the command line, with the same checks and roles as the HTTP API (the
 * staff token says who acts).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq-auth.h"
#include "hq-cli.h"
#include "hq-ctx.h"
#include "hq-workflow.h"
#include "retas-json.h"
#include "retas-time.h"

static int cmd_create(struct hq_cli *cli, int argc, char **argv);
static int cmd_list(struct hq_cli *cli, int argc, char **argv);
static int cmd_approve(struct hq_cli *cli, int argc, char **argv);
static int cmd_reject(struct hq_cli *cli, int argc, char **argv);

const struct hq_cmd_entry hq_cmd_usulan_create_entry = {
    .name = "usulan create",
    .args = "--npsn N --nama NAME --alamat ADDRESS --kecamatan CODE --from TIME --until TIME "
	    "[--started TIME] [--token T]",
    .summary = N_("Propose a school and a time window (role bidang)."),
    .help = N_("TIME is RFC 3339 with an offset, e.g. 2026-11-24T07:00:00+07:00. --started is\n"
	       "when the nota dinas draft was begun, which times SOP step 1.\n"),
    .exec = cmd_create,
};

const struct hq_cmd_entry hq_cmd_usulan_list_entry = {
    .name = "usulan list",
    .args = "[--state proposed|approved|rejected] [--token T]",
    .summary = N_("List usulan, newest first."),
    .exec = cmd_list,
};

const struct hq_cmd_entry hq_cmd_usulan_approve_entry = {
    .name = "usulan approve",
    .args = "ID [--token T]",
    .summary = N_("Approve an usulan (role kadis)."),
    .exec = cmd_approve,
};

const struct hq_cmd_entry hq_cmd_usulan_reject_entry = {
    .name = "usulan reject",
    .args = "ID --reason TEXT [--token T]",
    .summary = N_("Reject an usulan with a reason (role kadis)."),
    .exec = cmd_reject,
};

static void print_usulan(const struct hq_cli *cli, json_object *u)
{
	const char *state = "", *nama = "";
	int64_t id = 0;

	if (cli->json) {
		hq_cli_print_json(u);
		return;
	}
	retas_json_get_int64(u, "id", &id);
	retas_json_get_string(u, "state", &state);
	retas_json_get_string(u, "nama", &nama);
	printf(_("usulan %lld: %s (%s)\n"), (long long)id, nama, state);
}

static int cmd_create(struct hq_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"npsn", required_argument, NULL, 'n'},
	    {"nama", required_argument, NULL, 'N'},
	    {"alamat", required_argument, NULL, 'a'},
	    {"kecamatan", required_argument, NULL, 'k'},
	    {"from", required_argument, NULL, 'f'},
	    {"until", required_argument, NULL, 'u'},
	    {"started", required_argument, NULL, 's'},
	    {"token", required_argument, NULL, 't'},
	    {0},
	};
	static const char *const keys[] = {
	    ['n'] = "npsn",	  ['N'] = "nama",	 ['a'] = "alamat",  ['k'] = "kecamatan",
	    ['f'] = "valid_from", ['u'] = "valid_until", ['s'] = "started",
	};
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(json_object_putp) json_object *in = json_object_new_object(), *out = NULL;
	struct retas_error err = {0};
	struct hq_staff who;
	const char *token = NULL;
	sqlite3 *db = NULL;
	int c, r;

	if (!in)
		return HQ_EXIT_REFUSED;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 't')
			token = optarg;
		else if (c > 0 && (size_t)c < sizeof(keys) / sizeof(keys[0]) && keys[c])
			json_object_object_add(in, keys[c], json_object_new_string(optarg));
		else
			return hq_cli_usage(&hq_cmd_usulan_create_entry);
	}
	if (optind != argc)
		return hq_cli_usage(&hq_cmd_usulan_create_entry);
	r = hq_cli_open(cli, &ctx, &db);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_cli_staff(db, token, &who);
	if (r == HQ_EXIT_OK) {
		if (hq_usulan_create(ctx, db, &who, in, retas_time_now_ms(), &out, &err) < 0)
			r = hq_cli_refused(&err);
		else
			print_usulan(cli, out);
	}
	sqlite3_close(db);
	return r;
}

static int cmd_list(struct hq_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"state", required_argument, NULL, 's'},
	    {"token", required_argument, NULL, 't'},
	    {0},
	};
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(json_object_putp) json_object *out = NULL;
	struct retas_error err = {0};
	const char *token = NULL, *state = NULL;
	struct hq_staff who;
	sqlite3 *db = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 't')
			token = optarg;
		else if (c == 's')
			state = optarg;
		else
			return hq_cli_usage(&hq_cmd_usulan_list_entry);
	}
	if (optind != argc)
		return hq_cli_usage(&hq_cmd_usulan_list_entry);
	r = hq_cli_open(cli, &ctx, &db);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_cli_staff(db, token, &who);
	if (r == HQ_EXIT_OK) {
		if (hq_usulan_list(db, state, &out, &err) < 0) {
			r = hq_cli_refused(&err);
		} else if (cli->json) {
			hq_cli_print_json(out);
		} else {
			json_object *arr = json_object_object_get(out, "usulan");

			for (size_t i = 0; i < json_object_array_length(arr); i++)
				print_usulan(cli, json_object_array_get_idx(arr, i));
		}
	}
	sqlite3_close(db);
	return r;
}

static int decide(struct hq_cli *cli, int argc, char **argv, bool approve,
		  const struct hq_cmd_entry *e)
{
	static const struct option opts[] = {
	    {"reason", required_argument, NULL, 'r'},
	    {"token", required_argument, NULL, 't'},
	    {0},
	};
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(json_object_putp) json_object *out = NULL;
	struct retas_error err = {0};
	const char *token = NULL, *reason = NULL;
	struct hq_staff who;
	sqlite3 *db = NULL;
	char *end;
	long long id;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 't')
			token = optarg;
		else if (c == 'r' && !approve)
			reason = optarg;
		else
			return hq_cli_usage(e);
	}
	if (optind + 1 != argc)
		return hq_cli_usage(e);
	errno = 0;
	id = strtoll(argv[optind], &end, 10);
	if (errno || *end || id <= 0)
		return hq_cli_usage_error(e, _("'%s' is not an usulan id"), argv[optind]);
	r = hq_cli_open(cli, &ctx, &db);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_cli_staff(db, token, &who);
	if (r == HQ_EXIT_OK) {
		if (hq_usulan_decide(db, &who, id, approve, reason, retas_time_now_ms(), &out,
				     &err) < 0)
			r = hq_cli_refused(&err);
		else
			print_usulan(cli, out);
	}
	sqlite3_close(db);
	return r;
}

static int cmd_approve(struct hq_cli *cli, int argc, char **argv)
{
	return decide(cli, argc, argv, true, &hq_cmd_usulan_approve_entry);
}

static int cmd_reject(struct hq_cli *cli, int argc, char **argv)
{
	return decide(cli, argc, argv, false, &hq_cmd_usulan_reject_entry);
}
