/* retas assignment show: the current surat tugas as retasd verified it
 * (never the PIN hashes). */
#include <stdio.h>

#include "cli.h"
#include "varlink.h"

static int cmd_assignment_show_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_assignment_show_entry = {
    .name = "assignment show",
    .args = "[--json]",
    .summary = N_("Show the surat tugas loaded in retasd."),
    .exec = cmd_assignment_show_exec,
};

static void print_assignment(json_object *a)
{
	json_object *list;
	char t1[64], t2[64];

	printf(_("Number: %s\n"), cli_str(a, "nomor"));
	printf(_("Date: %s\n"), cli_str(a, "tanggal"));
	printf(_("Valid: %s to %s\n"), cli_time(cli_str(a, "valid_from"), t1),
	       cli_time(cli_str(a, "valid_until"), t2));
	printf(_("School: %s (NPSN %s)\n"), cli_str(a, "sekolah.nama"), cli_str(a, "sekolah.npsn"));
	printf(_("Address: %s\n"), cli_str(a, "sekolah.alamat"));
	printf(_("Kecamatan: %s\n"), cli_str(a, "sekolah.kecamatan"));
	list = json_object_object_get(a, "petugas");
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *p = json_object_array_get_idx(list, i);

		printf(_("Officer: %s %s\n"), cli_str(p, "nip"), cli_str(p, "nama"));
	}
	printf(_("Van: %s\n"), cli_str(a, "kendaraan.id"));
	printf(_("Head office: %s\n"), cli_str(a, "hq_url"));
	printf(_("Minimum age: %d\n"), json_object_get_int(json_object_object_get(a, "min_age")));
	printf(_("Fingers:"));
	list = json_object_object_get(a, "jari");
	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		printf(" %d", json_object_get_int(json_object_array_get_idx(list, i)));
	printf("\n");
	printf(_("Signed by: %s (%s)\n"), cli_str(a, "penandatangan.nama"),
	       cli_str(a, "penandatangan.nip"));
	printf(_("Position: %s\n"), cli_str(a, "penandatangan.jabatan"));
	printf(_("Key id: %s\n"), cli_str(a, "kid"));
	printf(_("Loaded: %s\n"), cli_time(cli_str(a, "loaded_at"), t1));
	printf(_("SHA-256: %s\n"), cli_str(a, "sha256"));
}

static int cmd_assignment_show_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_reply reply = {0};
	bool print;
	int r;

	if (argc > 1)
		return cli_usage_error(&cli_cmd_assignment_show_entry,
				       _("unexpected argument '%s'"), argv[1]);
	r = cli_call(ctx, "ShowAssignment", NULL, &reply);
	if (r != CLI_EXIT_OK)
		return r;
	r = cli_finish(ctx, &reply, &print);
	if (print)
		print_assignment(json_object_object_get(reply.params, "assignment"));
	cli_reply_clear(&reply);
	return r;
}
