/*
 * retas nik NIK [--on DATE] [--gender L|P]: decodes a NIK on the spot, or
 * says exactly why it is invalid, without the daemon. The reference date for
 * the birth year's century and the age is --on, or today in WIB. The verdict
 * is the command's answer, so both a valid and an invalid NIK are reported
 * on stdout; exit 0 valid, 1 invalid, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "retas-json.h"
#include "retas-nik.h"
#include "retas-regions.h"
#include "retas-time.h"

static int cmd_nik_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_nik_entry = {
    .name = "nik",
    .args = "NIK [--json] [--on DATE] [--gender L|P]",
    .summary = N_("Decode a NIK, or say exactly why it is invalid."),
    .help = N_("Checks the 16 digits of a NIK (province, regency/city, district, birth date\n"
	       "with +40 on the day for women, serial) and prints what they say.\n"
	       "\n"
	       "  --on DATE       reference date YYYY-MM-DD for the birth year's century and\n"
	       "                  the age (default: today in WIB)\n"
	       "  --gender L|P    the gender the student states; refused when the NIK says\n"
	       "                  otherwise\n"
	       "  --json          print a JSON object\n"
	       "\n"
	       "Exit status: 0 valid, 1 invalid (the reason is printed), 2 usage error.\n"),
    .exec = cmd_nik_exec,
};

RETAS_DEFINE_CLEANUP(struct retas_regions, retas_regions_free)

static const char *gender_word(enum retas_gender g)
{
	return g == RETAS_GENDER_FEMALE ? _("female") : _("male");
}

/* "1571 Kota Jambi", or the code alone with a note: a NIK first registered
 * outside the data is still valid. */
static const char *region_text(char *buf, size_t size, const struct retas_regions *regions,
			       const char *code)
{
	const char *name = retas_regions_name(regions, code);

	if (name)
		snprintf(buf, size, "%s %s", code, name);
	else
		snprintf(buf, size, _("%s (not in the region data)"), code);
	return buf;
}

static void print_text(const struct retas_nik *n, const struct retas_regions *regions,
		       const struct retas_date *on)
{
	char birth[11], day[11], buf[160];

	retas_date_format(&n->birth, birth);
	retas_date_format(on, day);
	printf(_("NIK %s is valid.\n"), n->nik);
	printf(_("Province: %s\n"), region_text(buf, sizeof(buf), regions, n->province));
	printf(_("Regency/city: %s\n"), region_text(buf, sizeof(buf), regions, n->regency));
	printf(_("District (kecamatan): %s\n"),
	       region_text(buf, sizeof(buf), regions, n->district));
	printf(_("Birth date: %s\n"), birth);
	printf(_("Gender: %s (%c)\n"), gender_word(n->gender), (char)n->gender);
	printf(_("Serial: %04u\n"), n->serial);
	printf(_("Age on %s: %d\n"), day, retas_date_age(&n->birth, on));
}

static json_object *json_region(const char *code, const char *name)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "name", name ? json_object_new_string(name) : NULL);
	return o;
}

static int print_json(const struct retas_nik *n, const struct retas_error *err,
		      const struct retas_regions *regions, const struct retas_date *on)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	char birth[11], day[11], gender[2] = {(char)(n ? n->gender : 0), 0};

	if (!o)
		return -ENOMEM;
	retas_date_format(on, day);
	json_object_object_add(o, "valid", json_object_new_boolean(n != NULL));
	if (n) {
		retas_date_format(&n->birth, birth);
		json_object_object_add(o, "nik", json_object_new_string(n->nik));
		json_object_object_add(
		    o, "province",
		    json_region(n->province, retas_regions_name(regions, n->province)));
		json_object_object_add(
		    o, "regency", json_region(n->regency, retas_regions_name(regions, n->regency)));
		json_object_object_add(
		    o, "district",
		    json_region(n->district, retas_regions_name(regions, n->district)));
		json_object_object_add(o, "birth_date", json_object_new_string(birth));
		json_object_object_add(o, "gender", json_object_new_string(gender));
		json_object_object_add(o, "serial", json_object_new_int((int)n->serial));
		json_object_object_add(o, "on", json_object_new_string(day));
		json_object_object_add(o, "age",
				       json_object_new_int(retas_date_age(&n->birth, on)));
	} else {
		json_object_object_add(o, "reason", json_object_new_string(err->reason));
		json_object_object_add(o, "message", json_object_new_string(err->message));
	}
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

static int parse_gender(const char *s, enum retas_gender *out)
{
	if (strcmp(s, "L") == 0 || strcmp(s, "l") == 0)
		*out = RETAS_GENDER_MALE;
	else if (strcmp(s, "P") == 0 || strcmp(s, "p") == 0)
		*out = RETAS_GENDER_FEMALE;
	else
		return -EINVAL;
	return 0;
}

static int cmd_nik_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"on", required_argument, NULL, 'o'},
	    {"gender", required_argument, NULL, 'g'},
	    {0},
	};
	const struct cli_cmd_entry *e = &cli_cmd_nik_entry;
	_cleanup_(retas_regions_freep) struct retas_regions *regions = NULL;
	enum retas_gender declared = RETAS_GENDER_UNKNOWN;
	struct retas_error err = {0};
	struct retas_date on;
	struct retas_nik n;
	bool have_on = false;
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (retas_date_parse(optarg, &on) < 0)
				return cli_usage_error(
				    e, _("--on wants a date YYYY-MM-DD, not '%s'"), optarg);
			have_on = true;
			break;
		case 'g':
			if (parse_gender(optarg, &declared) < 0)
				return cli_usage_error(e, _("--gender wants L or P, not '%s'"),
						       optarg);
			break;
		case ':':
			return cli_usage_error(e, _("option '%s' needs a value"), argv[optind - 1]);
		default:
			return cli_usage_error(e, _("unknown option '%s'"), argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(e, _("give the NIK to check"));
	if (argc - optind > 1)
		return cli_usage_error(e, _("give one NIK only"));
	if (!have_on)
		retas_date_from_ms(retas_time_now_ms(), RETAS_WIB_OFFSET_MIN, &on);

	r = retas_regions_load_default(&regions, &err);
	if (r < 0) {
		cli_error("%s", err.message[0] ? err.message : strerror(-r));
		return CLI_EXIT_REFUSED;
	}
	r = retas_nik_parse(argv[optind], &on, declared, regions, &n, &err);
	if (ctx->json) {
		if (print_json(r < 0 ? NULL : &n, &err, regions, &on) < 0) {
			cli_error("%s", strerror(ENOMEM));
			return CLI_EXIT_REFUSED;
		}
	} else if (r < 0) {
		printf(_("NIK is invalid: %s\n"), err.message);
	} else {
		print_text(&n, regions, &on);
	}
	return r < 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
}
