/*
 * retas-hq surat-tugas draft|sign|export|tanda-terima: SOP RETAS steps 3
 * and 4 from the command line. Officers' PINs are read from stdin, one line
 * per officer in the order of --petugas (without echo on a terminal), never
 * from the command line where other users could see them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "hq-auth.h"
#include "hq-cli.h"
#include "hq-ctx.h"
#include "hq-workflow.h"
#include "retas-json.h"
#include "retas-time.h"

static int cmd_draft(struct hq_cli *cli, int argc, char **argv);
static int cmd_sign(struct hq_cli *cli, int argc, char **argv);
static int cmd_export(struct hq_cli *cli, int argc, char **argv);
static int cmd_tanda_terima(struct hq_cli *cli, int argc, char **argv);

const struct hq_cmd_entry hq_cmd_st_draft_entry = {
    .name = "surat-tugas draft",
    .args = "--usulan ID --nomor NOMOR --van VAN --petugas NIP:NAMA... [--token T]",
    .summary = N_("Draft the surat tugas of an approved usulan (role kabid)."),
    .help = N_("--petugas may be given up to 16 times. Each officer's PIN (4 to 16 digits)\n"
	       "is read from stdin, one line per officer in the same order.\n"),
    .exec = cmd_draft,
};

const struct hq_cmd_entry hq_cmd_st_sign_entry = {
    .name = "surat-tugas sign",
    .args = "NOMOR [-o FILE] [--token T]",
    .summary = N_("Sign a drafted surat tugas with the head-office key (role kadis)."),
    .help = N_("Writes the signed letter (JWS) to FILE, or to stdout.\n"),
    .exec = cmd_sign,
};

const struct hq_cmd_entry hq_cmd_st_export_entry = {
    .name = "surat-tugas export",
    .args = "NOMOR [-o FILE] [--token T]",
    .summary = N_("Write a signed surat tugas (JWS) for the van."),
    .exec = cmd_export,
};

const struct hq_cmd_entry hq_cmd_st_tanda_terima_entry = {
    .name = "surat-tugas tanda-terima",
    .args = "NOMOR --nip NIP [--token T]",
    .summary = N_("Record an officer's receipt of the letter's copy (role bidang)."),
    .exec = cmd_tanda_terima,
};

static int read_pin(const char *nip, char *buf, size_t size)
{
	struct termios old, quiet;
	bool tty = isatty(0) && tcgetattr(0, &old) == 0;
	int r = 0;

	if (tty) {
		fprintf(stderr, _("PIN for %s: "), nip);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	if (!fgets(buf, (int)size, stdin))
		r = -ENODATA;
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	buf[strcspn(buf, "\r\n")] = 0;
	return r;
}

static int write_out(const char *path, const char *text)
{
	FILE *f;
	int r = 0;

	if (!path) {
		puts(text);
		return 0;
	}
	f = fopen(path, "we");
	if (!f)
		return -errno;
	if (fprintf(f, "%s\n", text) < 0)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

static int cmd_draft(struct hq_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"usulan", required_argument, NULL, 'u'}, {"nomor", required_argument, NULL, 'n'},
	    {"van", required_argument, NULL, 'v'},    {"petugas", required_argument, NULL, 'p'},
	    {"token", required_argument, NULL, 't'},  {0},
	};
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(json_object_putp) json_object *in = json_object_new_object(), *out = NULL;
	json_object *petugas = json_object_new_array();
	struct retas_error err = {0};
	const char *token = NULL;
	struct hq_staff who;
	sqlite3 *db = NULL;
	char *end;
	int c, r;

	if (!in || !petugas) {
		json_object_put(petugas);
		return HQ_EXIT_REFUSED;
	}
	json_object_object_add(in, "petugas", petugas);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': {
			long long id;

			errno = 0;
			id = strtoll(optarg, &end, 10);
			if (errno || *end || id <= 0)
				return hq_cli_usage_error(&hq_cmd_st_draft_entry,
							  _("'%s' is not an usulan id"), optarg);
			json_object_object_add(in, "usulan", json_object_new_int64(id));
			break;
		}
		case 'n':
			json_object_object_add(in, "nomor", json_object_new_string(optarg));
			break;
		case 'v':
			json_object_object_add(in, "van", json_object_new_string(optarg));
			break;
		case 'p': {
			const char *colon = strchr(optarg, ':');
			json_object *p;

			if (!colon || colon == optarg || !colon[1])
				return hq_cli_usage_error(&hq_cmd_st_draft_entry,
							  _("--petugas takes NIP:NAMA"));
			p = json_object_new_object();
			json_object_object_add(
			    p, "nip", json_object_new_string_len(optarg, (int)(colon - optarg)));
			json_object_object_add(p, "nama", json_object_new_string(colon + 1));
			json_object_array_add(petugas, p);
			break;
		}
		case 't':
			token = optarg;
			break;
		default:
			return hq_cli_usage(&hq_cmd_st_draft_entry);
		}
	}
	if (optind != argc || json_object_array_length(petugas) == 0)
		return hq_cli_usage(&hq_cmd_st_draft_entry);
	r = hq_cli_open(cli, &ctx, &db);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_cli_staff(db, token, &who);
	for (size_t i = 0; r == HQ_EXIT_OK && i < json_object_array_length(petugas); i++) {
		json_object *p = json_object_array_get_idx(petugas, i);
		const char *nip = "";
		char pin[64];

		retas_json_get_string(p, "nip", &nip);
		if (read_pin(nip, pin, sizeof(pin)) < 0) {
			hq_cli_error(_("no PIN for officer %s on stdin"), nip);
			r = HQ_EXIT_USAGE;
			break;
		}
		json_object_object_add(p, "pin", json_object_new_string(pin));
		memset(pin, 0, sizeof(pin));
	}
	if (r == HQ_EXIT_OK) {
		if (hq_st_draft(ctx, db, &who, in, retas_time_now_ms(), &out, &err) < 0)
			r = hq_cli_refused(&err);
		else if (cli->json)
			hq_cli_print_json(out);
		else
			printf(_("surat tugas %s drafted\n"),
			       json_object_get_string(json_object_object_get(out, "nomor")));
	}
	sqlite3_close(db);
	return r;
}

/* NOMOR [-o FILE] [--token T] [--nip NIP] */
static int parse_nomor_args(int argc, char **argv, const struct hq_cmd_entry *e, bool want_nip,
			    const char **nomor, const char **file, const char **token,
			    const char **nip)
{
	static const struct option opts[] = {
	    {"token", required_argument, NULL, 't'},
	    {"output", required_argument, NULL, 'o'},
	    {"nip", required_argument, NULL, 'n'},
	    {0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 't')
			*token = optarg;
		else if (c == 'o' && !want_nip)
			*file = optarg;
		else if (c == 'n' && want_nip)
			*nip = optarg;
		else
			return hq_cli_usage(e);
	}
	if (optind + 1 != argc || (want_nip && !*nip))
		return hq_cli_usage(e);
	*nomor = argv[optind];
	return HQ_EXIT_OK;
}

static int cmd_sign(struct hq_cli *cli, int argc, char **argv)
{
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(json_object_putp) json_object *out = NULL;
	const char *nomor = NULL, *file = NULL, *token = NULL, *nip = NULL;
	struct retas_error err = {0};
	struct hq_staff who;
	sqlite3 *db = NULL;
	int r;

	r = parse_nomor_args(argc, argv, &hq_cmd_st_sign_entry, false, &nomor, &file, &token, &nip);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_cli_open(cli, &ctx, &db);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_cli_staff(db, token, &who);
	if (r == HQ_EXIT_OK) {
		if (hq_st_sign(ctx, db, &who, nomor, retas_time_now_ms(), &out, &err) < 0) {
			r = hq_cli_refused(&err);
		} else if (cli->json) {
			hq_cli_print_json(out);
		} else if (write_out(file, json_object_get_string(
					       json_object_object_get(out, "jws"))) < 0) {
			hq_cli_error(_("cannot write %s"), file);
			r = HQ_EXIT_REFUSED;
		} else if (file) {
			printf(_("surat tugas %s signed, written to %s\n"), nomor, file);
		}
	}
	sqlite3_close(db);
	return r;
}

static int cmd_export(struct hq_cli *cli, int argc, char **argv)
{
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(freep) char *jws = NULL;
	const char *nomor = NULL, *file = NULL, *token = NULL, *nip = NULL;
	struct retas_error err = {0};
	struct hq_staff who;
	sqlite3 *db = NULL;
	int r;

	r = parse_nomor_args(argc, argv, &hq_cmd_st_export_entry, false, &nomor, &file, &token,
			     &nip);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_cli_open(cli, &ctx, &db);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_cli_staff(db, token, &who);
	if (r == HQ_EXIT_OK) {
		if (hq_st_export(db, nomor, &jws, &err) < 0) {
			r = hq_cli_refused(&err);
		} else if (write_out(file, jws) < 0) {
			hq_cli_error(_("cannot write %s"), file);
			r = HQ_EXIT_REFUSED;
		}
	}
	sqlite3_close(db);
	return r;
}

static int cmd_tanda_terima(struct hq_cli *cli, int argc, char **argv)
{
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(json_object_putp) json_object *out = NULL;
	const char *nomor = NULL, *file = NULL, *token = NULL, *nip = NULL;
	struct retas_error err = {0};
	struct hq_staff who;
	sqlite3 *db = NULL;
	int r;

	r = parse_nomor_args(argc, argv, &hq_cmd_st_tanda_terima_entry, true, &nomor, &file, &token,
			     &nip);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_cli_open(cli, &ctx, &db);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_cli_staff(db, token, &who);
	if (r == HQ_EXIT_OK) {
		if (hq_st_tanda_terima(db, &who, nomor, nip, retas_time_now_ms(), &out, &err) < 0)
			r = hq_cli_refused(&err);
		else if (cli->json)
			hq_cli_print_json(out);
		else
			printf(_("tanda terima of %s for %s recorded\n"), nip, nomor);
	}
	sqlite3_close(db);
	return r;
}
