/*
 * retas assignment load FILE: hands a surat tugas to retasd, which verifies
 * it (head office's signature, this van, its window) and makes it the
 * current letter. The CLI only reads the file: every check is the
 * daemon's, so the officer sees the same rule whichever way a letter
 * arrives.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "retas-jws.h"
#include "retas-util.h"
#include "varlink.h"

/* The whole file, up to a little more than the JWS limit so that an
 * oversize letter reaches the daemon and is refused with its reason. */
static int read_file(const char *path, char **out)
{
	_cleanup_(freep) char *buf = NULL;
	size_t n;
	int r = cli_read_file(path, RETAS_JWS_MAX_LEN + 3, &buf, &n);

	if (r < 0)
		return r;
	if (strlen(buf) != n)
		return -EINVAL; /* a NUL inside: not a letter, and not sendable */
	*out = steal_ptr(buf);
	return 0;
}

static int cmd_assignment_load_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_assignment_load_entry = {
    .name = "assignment load",
    .args = "FILE [--json]",
    .summary = N_("Load a surat tugas into retasd (- reads standard input)."),
    .help = N_("retasd checks the letter's signature against head office's key, that it\n"
	       "names this van's device key, and that it has not expired. A letter whose\n"
	       "window has not begun loads; sessions open only inside the window. A new\n"
	       "letter replaces the current one only while no session is open, and logs\n"
	       "the officer of the old letter out.\n"),
    .exec = cmd_assignment_load_exec,
};

static int cmd_assignment_load_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_cmd_entry *e = &cli_cmd_assignment_load_entry;
	struct cli_reply reply = {0};
	_cleanup_(freep) char *token = NULL;
	json_object *params, *a;
	char t1[64], t2[64];
	bool print;
	int r;

	if (argc != 2)
		return cli_usage_error(e, _("give exactly one FILE"));
	r = read_file(argv[1], &token);
	if (r < 0) {
		cli_error(_("cannot read %s: %s"), argv[1], strerror(-r));
		return CLI_EXIT_REFUSED;
	}
	params = json_object_new_object();
	json_object_object_add(params, "token", json_object_new_string(token));
	r = cli_call(ctx, "LoadAssignment", params, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	if (print) {
		a = json_object_object_get(reply.params, "assignment");
		printf(_("Surat tugas %s loaded: %s, valid %s to %s.\n"), cli_str(a, "nomor"),
		       cli_str(a, "sekolah.nama"), cli_time(cli_str(a, "valid_from"), t1),
		       cli_time(cli_str(a, "valid_until"), t2));
		if (json_object_get_boolean(json_object_object_get(reply.params, "replaced")))
			printf(_("It replaces the previous surat tugas.\n"));
	}
	cli_reply_clear(&reply);
	return r;
}
