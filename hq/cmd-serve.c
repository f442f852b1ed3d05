/*
 * retas-hq serve: runs the HTTP server until SIGINT or SIGTERM. The
 * readiness line on stdout names the bound port, so a supervisor or a test
 * can ask for port 0 and learn which one it got.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "hq-cli.h"
#include "hq-ctx.h"
#include "hq-server.h"
#include "hq-store.h"
#include "hq-tus.h"
#include "retas-log.h"
#include "retas-util.h"

static int cmd_serve_exec(struct hq_cli *cli, int argc, char **argv);

const struct hq_cmd_entry hq_cmd_serve_entry = {
    .name = "serve",
    .args = "[--listen HOST:PORT]",
    .summary = N_("Run the head-office HTTP server."),
    .help = N_("Serves /healthz, the tus upload endpoint /tus/ and the API /api/v1/ on\n"
	       "HOST:PORT (server.listen of the configuration by default; port 0 picks a\n"
	       "free port). Prints 'retas-hq: listening on HOST:PORT' once ready. TLS is on\n"
	       "when server.tls_cert and server.tls_key are set. Stops on SIGINT or SIGTERM.\n"),
    .exec = cmd_serve_exec,
};

static int cmd_serve_exec(struct hq_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {0},
	};
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	struct hq_server *srv = NULL;
	struct retas_error err = {0};
	const char *listen = NULL;
	sqlite3 *db = NULL;
	sigset_t set;
	int c, sig = 0, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l')
			listen = optarg;
		else
			return hq_cli_usage(&hq_cmd_serve_entry);
	}
	if (optind != argc)
		return hq_cli_usage_error(&hq_cmd_serve_entry, _("unexpected argument '%s'"),
					  argv[optind]);
	r = hq_cli_open(cli, &ctx, &db);
	if (r != HQ_EXIT_OK)
		return r;
	r = hq_tus_recover(ctx, db);
	sqlite3_close(db);
	if (r > 0)
		log_info("recovered %d completed uploads", r);

	/* Workers inherit this mask, so the signals reach sigwait only. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	r = hq_server_start(ctx, listen, &srv, &err);
	if (r < 0) {
		hq_cli_error("%s", err.message);
		return HQ_EXIT_REFUSED;
	}
	{
		const char *l = listen ? listen : ctx->cfg.listen;
		const char *colon = strrchr(l, ':');

		printf("retas-hq: listening on %.*s:%u (%s)\n", (int)(colon - l), l,
		       hq_server_port(srv), hq_server_tls(srv) ? "https" : "http");
		fflush(stdout);
	}
	while (sigwait(&set, &sig) != 0)
		;
	log_info("signal %d: stopping", sig);
	hq_server_stop(srv);
	return HQ_EXIT_OK;
}
