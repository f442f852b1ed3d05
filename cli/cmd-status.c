/* retas status: what state the van is in, which letter, who is logged in,
 * which session. Anyone who may reach the daemon may ask. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "varlink.h"

static int cmd_status_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_status_entry = {
    .name = "status",
    .args = "[--json]",
    .summary = N_("Show the state of the van: surat tugas, officer, session."),
    .exec = cmd_status_exec,
};

static const char *state_words(const char *state)
{
	if (strcmp(state, "no-assignment") == 0)
		return _("no surat tugas loaded");
	if (strcmp(state, "assignment-loaded") == 0)
		return _("surat tugas loaded, no session yet");
	if (strcmp(state, "session-open") == 0)
		return _("session open");
	if (strcmp(state, "session-closed") == 0)
		return _("session closed");
	return state;
}

static void print_status(json_object *p)
{
	json_object *a = NULL, *l = NULL, *s = NULL;
	char t1[64], t2[64];

	printf(_("State: %s\n"), state_words(cli_str(p, "state")));
	if (json_object_object_get_ex(p, "assignment", &a)) {
		printf(_("Surat tugas: %s\n"), cli_str(a, "nomor"));
		printf(_("Valid: %s to %s\n"), cli_time(cli_str(a, "valid_from"), t1),
		       cli_time(cli_str(a, "valid_until"), t2));
		printf(_("School: %s (NPSN %s)\n"), cli_str(a, "sekolah.nama"),
		       cli_str(a, "sekolah.npsn"));
	}
	if (json_object_object_get_ex(p, "login", &l)) {
		printf(_("Officer: %s (NIP %s), logged in since %s\n"), cli_str(l, "officer.nama"),
		       cli_str(l, "officer.nip"), cli_time(cli_str(l, "since"), t1));
		if (*cli_str(l, "idle_logout_at"))
			printf(_("Idle logout: %s\n"), cli_time(cli_str(l, "idle_logout_at"), t1));
	} else {
		printf(_("Officer: nobody logged in\n"));
	}
	if (json_object_object_get_ex(p, "session", &s)) {
		if (*cli_str(s, "closed_at"))
			printf(_("Session: %s, %s to %s\n"), cli_str(s, "id"),
			       cli_time(cli_str(s, "opened_at"), t1),
			       cli_time(cli_str(s, "closed_at"), t2));
		else
			printf(_("Session: %s, open since %s\n"), cli_str(s, "id"),
			       cli_time(cli_str(s, "opened_at"), t1));
	}
	if (!json_object_get_boolean(json_object_object_get(p, "hq_key")))
		printf(_("Warning: retasd has no head office key (hq.sign_key); it cannot load a "
			 "surat tugas.\n"));
	if (json_object_object_get_ex(p, "sync", &s)) {
		const char *phase = cli_str(s, "phase");

		if (*cli_str(s, "last_contact"))
			printf(_("Sync: %s; last contact with head office %s: %s\n"), phase,
			       cli_time(cli_str(s, "last_contact"), t1), cli_str(s, "last_outcome"));
		else
			printf(_("Sync: %s; no contact with head office yet\n"), phase);
	}
	printf(_("Device key: %s\n"), cli_str(p, "device_key_id"));
	printf(_("Clock: %s\n"), cli_time(cli_str(p, "now"), t1));
}

static int cmd_status_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_reply reply = {0};
	bool print;
	int r;

	if (argc > 1)
		return cli_usage_error(&cli_cmd_status_entry, _("unexpected argument '%s'"),
				       argv[1]);
	r = cli_call(ctx, "Status", NULL, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	if (print)
		print_status(reply.params);
	cli_reply_clear(&reply);
	return r;
}
