/*
 * retas devices: the peripherals attached to this laptop and the driver
 * that serves each, so an officer can see before leaving for a school that
 * the kit finds its reader, camera and pad. It asks the driver libraries
 * directly (no daemon needed). Each device class is one line of classes[]:
 * its stable name, its label and its drv_list_fn (drivers/drv-peripheral.h).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "drv-peripheral.h"
#include "fp.h"
#include "sig.h"

static int cmd_devices_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_devices_entry = {
    .name = "devices",
    .args = "",
    .summary = N_("List the attached peripherals and the driver serving each."),
    .help = N_("Looks for every kind of peripheral the kit drives and prints one line per\n"
	       "device found: its class, model, driver, USB location and serial number.\n"
	       "Run 'retas devices test fingerprint' to try a fingerprint reader.\n"),
    .exec = cmd_devices_exec,
};

static const struct devices_class {
	const char *id;	   /* stable, for --json */
	const char *label; /* msgid, for people */
	drv_list_fn list;
} classes[] = {
    {"fingerprint", N_("fingerprint"), fp_list_peripherals},
    {"signature", N_("signature pad"), sig_list_peripherals},
};

static void print_json(const struct devices_class *cls, const struct drv_peripheral *p,
		       json_object *arr)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "class", json_object_new_string(cls->id));
	json_object_object_add(o, "model", json_object_new_string(p->model));
	json_object_object_add(o, "driver", json_object_new_string(p->driver));
	json_object_object_add(o, "location", json_object_new_string(p->location));
	json_object_object_add(o, "serial", json_object_new_string(p->serial));
	json_object_array_add(arr, o);
}

static int cmd_devices_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	json_object *arr = ctx->json ? json_object_new_array() : NULL;
	int status = CLI_EXIT_OK;
	size_t shown = 0;

	if (argc > 1)
		return cli_usage_error(&cli_cmd_devices_entry, _("unexpected argument '%s'"),
				       argv[1]);
	for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
		struct drv_peripheral *list = NULL;
		struct retas_error err = {0};
		size_t n = 0;

		if (classes[c].list(&list, &n, &err) < 0) {
			cli_error(_("cannot list %s devices: %s"), _(classes[c].label),
				  err.message);
			status = CLI_EXIT_REFUSED;
			continue;
		}
		for (size_t i = 0; i < n; i++, shown++) {
			if (arr) {
				print_json(&classes[c], &list[i], arr);
				continue;
			}
			if (shown == 0)
				printf("%-12s %-28s %-10s %-10s %s\n", _("CLASS"), _("MODEL"),
				       _("DRIVER"), _("LOCATION"), _("SERIAL"));
			printf("%-12s %-28s %-10s %-10s %s\n", _(classes[c].label), list[i].model,
			       list[i].driver, list[i].location,
			       list[i].serial[0] ? list[i].serial : "-");
		}
		free(list);
	}
	if (arr) {
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
		json_object_put(arr);
	} else if (shown == 0 && status == CLI_EXIT_OK) {
		printf(_("No peripherals found.\n"));
	}
	return status;
}
