/*
 * retasd's command line: run the daemon, or one of the one-shot modes an
 * administrator needs (--check-config, --print-device-key, --verify-audit).
 * Every mode reads the configuration the same way, so what --check-config
 * accepts is what the daemon runs with.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "daemon.h"
#include "retas-b64.h"
#include "retas-i18n.h"
#include "retas-jws.h"
#include "retas-log.h"
#include "retas-util.h"

enum mode { MODE_RUN, MODE_CHECK_CONFIG, MODE_PRINT_KEY, MODE_VERIFY_AUDIT };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: retasd [--config FILE] [--state-dir DIR] [--socket PATH]\n"
		"              [--set SECTION.KEY=VALUE]... [MODE]\n"
		"\n"
		"The RETAS van daemon. Without a mode it runs until SIGTERM; SIGHUP reloads\n"
		"the configuration.\n"
		"\n"
		"Modes:\n"
		"  --check-config      validate the configuration, print it and exit\n"
		"  --print-device-key  print the van's public device key (base64url), creating\n"
		"                      the key on first use, and exit\n"
		"  --verify-audit      check the audit log's hash chain and the store, and exit\n"
		"\n"
		"Options:\n"
		"  --config FILE       configuration file (default %s/retasd.conf)\n"
		"  --state-dir DIR     state directory (daemon.state_dir)\n"
		"  --socket PATH       API socket (daemon.socket)\n"
		"  --set S.K=V         set any configuration key, after the file\n"
		"  --help, --version\n",
		RETAS_SYSCONFDIR);
}

/* Relative paths on the command line mean relative to where retasd was
 * started; the configuration only takes absolute ones. */
static char *absolute(const char *path)
{
	char cwd[4096], *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

static int print_device_key(const struct rd_config *c)
{
	struct retas_sign_keypair kp;
	struct retas_error err = {0};
	char *b64 = NULL;

	if (rd_daemon_device_key(c, &kp, &err) < 0) {
		fprintf(stderr, "retasd: %s\n", err.message);
		return EXIT_FAILURE;
	}
	if (retas_b64url_encode(kp.pk, sizeof(kp.pk), &b64) < 0) {
		fprintf(stderr, "retasd: out of memory\n");
		return EXIT_FAILURE;
	}
	printf("%s\n", b64);
	free(b64);
	memset(&kp, 0, sizeof(kp));
	return EXIT_SUCCESS;
}

static int verify_audit(const struct rd_config *c)
{
	struct retas_error err = {0};
	struct rd_store *s = NULL;
	struct rd_audit_check chk;
	char path[512], head[RD_AUDIT_HASH_LEN * 2 + 1];
	char *integrity = NULL;
	int r, status = EXIT_FAILURE;

	snprintf(path, sizeof(path), "%s/retasd.db", c->state_dir);
	if (access(path, F_OK) < 0) {
		fprintf(stderr, "retasd: %s: no store there\n", path);
		return EXIT_FAILURE;
	}
	r = rd_store_open(path, c->store_busy_timeout_ms, &s, &err);
	if (r < 0) {
		fprintf(stderr, "retasd: %s\n", err.message);
		return EXIT_FAILURE;
	}
	r = rd_audit_verify(s, &chk);
	if (r == 0)
		r = rd_store_integrity_check(s, &integrity);
	if (r < 0) {
		fprintf(stderr, "retasd: cannot read the store: %s\n", strerror(-r));
		goto out;
	}
	retas_hex_encode(chk.head, sizeof(chk.head), head);
	printf("audit rows: %" PRId64 "\n", chk.rows);
	if (chk.first_bad)
		printf("audit chain: BROKEN at row %" PRId64 " (%s)\n", chk.first_bad, chk.problem);
	else
		printf("audit chain: ok, head %s\n", head);
	printf("integrity: %s\n", integrity);
	status = chk.first_bad == 0 && streq(integrity, "ok") ? EXIT_SUCCESS : EXIT_FAILURE;
out:
	free(integrity);
	rd_store_free(s);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"state-dir", required_argument, NULL, 'd'},
	    {"socket", required_argument, NULL, 's'}, {"set", required_argument, NULL, 'S'},
	    {"check-config", no_argument, NULL, 'C'}, {"print-device-key", no_argument, NULL, 'P'},
	    {"verify-audit", no_argument, NULL, 'A'}, {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {0},
	};
	struct rd_options o = {.config_path = RETAS_SYSCONFDIR "/retasd.conf"};
	_cleanup_(freep) char *state_dir = NULL;
	_cleanup_(freep) char *socket_path = NULL;
	_cleanup_(freep) const char **sets = NULL;
	struct retas_error err = {0};
	struct rd_config *c = NULL;
	enum mode mode = MODE_RUN;

	/* glibc gives each thread that allocates its own arena and keeps the
	 * arena's high-water pages: reports and receipts built on the worker
	 * thread grew retasd's RSS by a large session's report size per day
	 * (big-session test). The daemon's threads rarely allocate at once, so
	 * one arena costs no contention worth having and keeps memory flat. */
	mallopt(M_ARENA_MAX, 1);
	int opt, status;

	retas_i18n_init();
	sets = calloc((size_t)argc, sizeof(*sets));
	if (!sets)
		return EXIT_FAILURE;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o.config_path = optarg;
			o.config_explicit = true;
			break;
		case 'd':
			free(state_dir);
			state_dir = absolute(optarg);
			o.state_dir = state_dir;
			break;
		case 's':
			free(socket_path);
			socket_path = absolute(optarg);
			o.socket_path = socket_path;
			break;
		case 'S':
			sets[o.n_sets++] = optarg;
			break;
		case 'C':
			mode = MODE_CHECK_CONFIG;
			break;
		case 'P':
			mode = MODE_PRINT_KEY;
			break;
		case 'A':
			mode = MODE_VERIFY_AUDIT;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("retasd %s\n", RETAS_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "retasd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	o.sets = sets;
	if (rd_config_load_all(&o, &c, &err) < 0) {
		fprintf(stderr, "retasd: configuration: %s\n", err.message);
		return EXIT_FAILURE;
	}
	switch (mode) {
	case MODE_CHECK_CONFIG:
		rd_config_dump(c, stdout);
		if (!c->have_hq_sign_key)
			fprintf(stderr, "retasd: warning: hq.sign_key is not set; no surat tugas "
					"can be loaded until it is\n");
		rd_config_free(c);
		return EXIT_SUCCESS;
	case MODE_PRINT_KEY:
		status = print_device_key(c);
		rd_config_free(c);
		return status;
	case MODE_VERIFY_AUDIT:
		status = verify_audit(c);
		rd_config_free(c);
		return status;
	case MODE_RUN:
		break;
	}
	return rd_daemon_run(&o, c);
}
