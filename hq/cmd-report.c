/*
 * retas-hq report pull [NOMOR]: a report as JSON, CSV or PDF, built from the
 * local store, or fetched from a running server with --server URL --token T
 * (libcurl). Without NOMOR, the list of reports under the filters.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq-cli.h"
#include "hq-ctx.h"
#include "hq-report.h"
#include "retas-json.h"
#include "retas-time.h"

static int cmd_pull(struct hq_cli *cli, int argc, char **argv);

const struct hq_cmd_entry hq_cmd_report_pull_entry = {
    .name = "report pull",
    .args = "[NOMOR] [--format json|csv|pdf] [-o FILE] [--from DATE] [--to DATE] [--npsn N] "
	    "[--kecamatan K] [--server URL --token T] [--cacert FILE]",
    .summary = N_("Write a report (or, without NOMOR, the list of reports)."),
    .help = N_("Builds the report from this directory's store, or with --server fetches it\n"
	       "from a running retas-hq with a staff token. Writes to FILE or stdout.\n"
	       "Exit 3 when the server cannot be reached.\n"),
    .exec = cmd_pull,
};

struct body {
	uint8_t *data;
	size_t len;
	int failed;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
	struct body *b = user;
	size_t n = size * nmemb;
	uint8_t *nd;

	if (b->len + n > 512u * 1024 * 1024)
		return 0;
	nd = realloc(b->data, b->len + n + 1);
	if (!nd) {
		b->failed = 1;
		return 0;
	}
	b->data = nd;
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = 0;
	return n;
}

static void add_query(CURL *c, char *url, size_t size, const char *key, const char *value)
{
	char *esc;

	if (!value)
		return;
	esc = curl_easy_escape(c, value, 0);
	if (!esc)
		return;
	snprintf(url + strlen(url), size - strlen(url), "&%s=%s", key, esc);
	curl_free(esc);
}

static int fetch(const char *server, const char *token, const char *cacert, const char *nomor,
		 const char *format, const struct hq_report_filter *f, struct body *b)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[2048], auth[256];
	long status = 0;
	CURLcode rc;
	int r = HQ_EXIT_OK;

	if (!c)
		return HQ_EXIT_REFUSED;
	snprintf(url, sizeof(url), "%s%sapi/v1/reports", server,
		 server[strlen(server) - 1] == '/' ? "" : "/");
	if (nomor) {
		char *esc = curl_easy_escape(c, nomor, 0);

		snprintf(url + strlen(url), sizeof(url) - strlen(url), "/%s", esc ? esc : "");
		curl_free(esc);
	}
	snprintf(url + strlen(url), sizeof(url) - strlen(url), "?format=%s", format);
	add_query(c, url, sizeof(url), "from", f->from);
	add_query(c, url, sizeof(url), "to", f->to);
	add_query(c, url, sizeof(url), "npsn", f->npsn);
	add_query(c, url, sizeof(url), "kecamatan", f->kecamatan);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	h = curl_slist_append(h, auth);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 100L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		hq_cli_error(_("cannot reach %s: %s"), server, curl_easy_strerror(rc));
		r = HQ_EXIT_UNREACHABLE;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		json_object *o = NULL;
		const char *msg = NULL;

		if (b->data && retas_json_parse((const char *)b->data, b->len, &o) == 0)
			retas_json_get_string(o, "message", &msg);
		hq_cli_error(_("the server answered %ld: %s"), status, msg ? msg : "");
		json_object_put(o);
		r = HQ_EXIT_REFUSED;
	}
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return r;
}

static int build_local(const struct hq_cli *cli, const char *nomor, enum hq_report_format fmt,
		       const struct hq_report_filter *f, struct body *b)
{
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(json_object_putp) json_object *rep = NULL;
	struct retas_error err = {0};
	sqlite3 *db = NULL;
	int r;

	r = hq_cli_open(cli, &ctx, &db);
	if (r != HQ_EXIT_OK)
		return r;
	if (nomor)
		r = hq_report_get(ctx, db, nomor, retas_time_now_ms(), &rep, &err);
	else
		r = hq_report_list(ctx, db, f, retas_time_now_ms(), &rep, &err);
	sqlite3_close(db);
	if (r < 0)
		return hq_cli_refused(&err);
	if (hq_report_render(rep, !nomor, fmt, &b->data, &b->len) < 0) {
		hq_cli_error(_("cannot render the report"));
		return HQ_EXIT_REFUSED;
	}
	return HQ_EXIT_OK;
}

static int cmd_pull(struct hq_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},	 {"output", required_argument, NULL, 'o'},
	    {"server", required_argument, NULL, 's'},	 {"token", required_argument, NULL, 't'},
	    {"cacert", required_argument, NULL, 'c'},	 {"from", required_argument, NULL, 'F'},
	    {"to", required_argument, NULL, 'T'},	 {"npsn", required_argument, NULL, 'n'},
	    {"kecamatan", required_argument, NULL, 'k'}, {0},
	};
	struct hq_report_filter f = {0};
	const char *format = "json", *file = NULL, *server = NULL, *token = NULL, *cacert = NULL;
	const char *nomor = NULL;
	enum hq_report_format fmt;
	struct body b = {0};
	int c, r;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'o':
			file = optarg;
			break;
		case 's':
			server = optarg;
			break;
		case 't':
			token = optarg;
			break;
		case 'c':
			cacert = optarg;
			break;
		case 'F':
			f.from = optarg;
			break;
		case 'T':
			f.to = optarg;
			break;
		case 'n':
			f.npsn = optarg;
			break;
		case 'k':
			f.kecamatan = optarg;
			break;
		default:
			return hq_cli_usage(&hq_cmd_report_pull_entry);
		}
	}
	if (optind + 1 < argc)
		return hq_cli_usage(&hq_cmd_report_pull_entry);
	if (optind < argc)
		nomor = argv[optind];
	if (hq_report_format_parse(format, &fmt) < 0)
		return hq_cli_usage_error(&hq_cmd_report_pull_entry, _("unknown format '%s'"),
					  format);
	if (server) {
		if (!token)
			token = getenv("RETAS_HQ_TOKEN");
		if (!token || !*token)
			return hq_cli_usage_error(&hq_cmd_report_pull_entry,
						  _("--server needs --token (or $RETAS_HQ_TOKEN)"));
		curl_global_init(CURL_GLOBAL_DEFAULT);
		r = fetch(server, token, cacert, nomor, format, &f, &b);
		curl_global_cleanup();
	} else {
		r = build_local(cli, nomor, fmt, &f, &b);
	}
	if (r == HQ_EXIT_OK) {
		FILE *out = file ? fopen(file, "we") : stdout;

		if (!out || fwrite(b.data, 1, b.len, out) != b.len) {
			hq_cli_error(_("cannot write %s"), file ? file : "stdout");
			r = HQ_EXIT_REFUSED;
		}
		if (out && out != stdout && fclose(out) != 0) {
			hq_cli_error(_("cannot write %s"), file);
			r = HQ_EXIT_REFUSED;
		}
	}
	free(b.data);
	return r;
}
