/*
 * retas assignment verify FILE: checks a surat tugas offline, the way the
 * daemon will when it is loaded, and shows what it says. Officers use it
 * before leaving head office (is this the letter for our van, for today?)
 * and anyone can use it to tell a forged letter from a real one.
 *
 * The HQ signing key comes from --key or from the [hq] sign_key of the
 * daemon's configuration (the same trust anchor retasd uses), never from the
 * letter itself. A letter whose signature does not verify shows nothing of
 * its content: only the reason. PIN hashes are never printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ini.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "retas-b64.h"
#include "retas-jws.h"
#include "retas-regions.h"
#include "retas-st.h"
#include "retas-util.h"

/* Where retasd.service points the daemon. */
#define DEFAULT_CONFIG "/etc/retas/retasd.conf"

static int cmd_assignment_verify_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_assignment_verify_entry = {
    .name = "assignment verify",
    .args = "FILE [--key BASE64URL | --config FILE] [--on TIME] [--device-key BASE64URL] "
	    "[--json]",
    .summary = N_("Verify a surat tugas offline and show what it says."),
    .help = N_("Checks the signature of the surat tugas in FILE (- reads standard input)\n"
	       "against head office's signing key, every field, and its validity window,\n"
	       "then prints the letter: number, date, window (WIB), school, officers, van\n"
	       "and signer.\n"
	       "\n"
	       "  --key BASE64URL        head office's Ed25519 public key\n"
	       "  --config FILE          read the key from [hq] sign_key of FILE\n"
	       "                         (default /etc/retas/retasd.conf)\n"
	       "  --on TIME              check the window at TIME (RFC 3339 with offset),\n"
	       "                         not now\n"
	       "  --device-key BASE64URL also check the letter is for the van with this\n"
	       "                         device key\n"
	       "  --json                 print the answer as JSON\n"
	       "\n"
	       "Exit status 0 when the letter is valid, 1 when it is forged, malformed,\n"
	       "expired, not yet valid or for another van (the reason is printed), 2 on a\n"
	       "usage error.\n"),
    .exec = cmd_assignment_verify_exec,
};

struct config_key {
	char value[512];
	bool found;
};

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct config_key *k = user;

	if (streq(section, "hq") && streq(name, "sign_key")) {
		snprintf(k->value, sizeof(k->value), "%s", value);
		k->found = true;
	}
	return 1;
}

/* Reads a key file: one base64url key and an optional newline. */
static int read_key_file(const char *path, uint8_t pk[32])
{
	char buf[128];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return retas_b64url_decode_key(buf, pk, 32);
}

/*
 * The [hq] sign_key of the config is the base64url key itself or the path
 * of a public key file holding it.
 */
static int key_from_config(const struct cli_cmd_entry *e, const char *path, uint8_t pk[32])
{
	struct config_key k = {0};
	int r = ini_parse(path, config_handler, &k);

	if (r < 0) {
		cli_error(_("cannot read the configuration %s: %s"), path, strerror(errno));
		return cli_usage(e);
	}
	if (r > 0) {
		cli_error(_("the configuration %s has a syntax error on line %d"), path, r);
		return cli_usage(e);
	}
	if (!k.found) {
		cli_error(_("the configuration %s has no [hq] sign_key; give --key"), path);
		return cli_usage(e);
	}
	if (retas_b64url_decode_key(k.value, pk, 32) == 0)
		return 0;
	if (k.value[0] == '/' && read_key_file(k.value, pk) == 0)
		return 0;
	cli_error(_("[hq] sign_key in %s is neither a base64url 32-byte key nor a readable key "
		    "file"),
		  path);
	return cli_usage(e);
}

/* Reads the whole letter (a little more than the JWS limit, so an oversize
 * file is refused by the verifier with its reason). */
static int read_letter(const char *path, char **out, size_t *outlen)
{
	_cleanup_(freep) char *buf = NULL;
	size_t n;
	int r = cli_read_file(path, RETAS_JWS_MAX_LEN + 3, &buf, &n);

	if (r < 0)
		return r;
	/* One line ending, as editors and `echo` write it, is not part of
	 * the token. */
	if (n && buf[n - 1] == '\n') {
		n--;
		if (n && buf[n - 1] == '\r')
			n--;
	}
	buf[n] = '\0';
	*out = steal_ptr(buf);
	*outlen = n;
	return 0;
}

/* "2026-11-24 07:00" for instant ms in WIB. */
static void format_wib(int64_t ms, char *buf, size_t size)
{
	char rfc[RETAS_RFC3339_MAX];

	retas_time_format_rfc3339(ms - ms % 60000, RETAS_WIB_OFFSET_MIN, rfc);
	snprintf(buf, size, "%.10s %.5s", rfc, rfc + 11);
}

static void print_text(const struct retas_st *st, const struct retas_regions *regions,
		       const char *kid)
{
	const char *kec = regions ? retas_regions_name(regions, st->sekolah.kecamatan) : NULL;
	char from[32], until[32], date[11];

	retas_date_format(&st->tanggal, date);
	format_wib(st->valid_from, from, sizeof(from));
	format_wib(st->valid_until, until, sizeof(until));
	printf(_("Number: %s\n"), st->nomor);
	printf(_("Date: %s\n"), date);
	printf(_("Valid: %s to %s WIB\n"), from, until);
	printf(_("School: %s (NPSN %s)\n"), st->sekolah.nama, st->sekolah.npsn);
	if (st->sekolah.alamat)
		printf(_("Address: %s\n"), st->sekolah.alamat);
	if (kec)
		printf(_("Kecamatan: %s %s\n"), st->sekolah.kecamatan, kec);
	else
		printf(_("Kecamatan: %s\n"), st->sekolah.kecamatan);
	for (size_t i = 0; i < st->n_petugas; i++)
		printf(_("Officer: %s %s\n"), st->petugas[i].nip, st->petugas[i].nama);
	printf(_("Van: %s\n"), st->kendaraan.id);
	printf(_("Head office: %s\n"), st->hq.url);
	printf(_("Minimum age: %d\n"), st->min_age);
	printf(_("Fingers:"));
	for (size_t i = 0; i < st->n_jari; i++)
		printf(" %d", st->jari[i]);
	printf("\n");
	printf(_("Signed by: %s (%s)\n"), st->penandatangan.nama, st->penandatangan.nip);
	printf(_("Position: %s\n"), st->penandatangan.jabatan);
	printf(_("Key id: %s\n"), kid);
}

static void add_str(json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

static json_object *to_json(const struct retas_st *st, const struct retas_regions *regions,
			    const char *kid)
{
	json_object *o = json_object_new_object(), *s, *arr;
	char buf[RETAS_RFC3339_MAX];

	if (!o)
		return NULL;
	add_str(o, "nomor", st->nomor);
	retas_date_format(&st->tanggal, buf);
	add_str(o, "tanggal", buf);
	retas_time_format_rfc3339(st->valid_from, RETAS_WIB_OFFSET_MIN, buf);
	add_str(o, "valid_from", buf);
	retas_time_format_rfc3339(st->valid_until, RETAS_WIB_OFFSET_MIN, buf);
	add_str(o, "valid_until", buf);
	s = json_object_new_object();
	json_object_object_add(o, "sekolah", s);
	add_str(s, "npsn", st->sekolah.npsn);
	add_str(s, "nama", st->sekolah.nama);
	if (st->sekolah.alamat)
		add_str(s, "alamat", st->sekolah.alamat);
	add_str(s, "kecamatan", st->sekolah.kecamatan);
	if (regions)
		add_str(s, "kecamatan_nama", retas_regions_name(regions, st->sekolah.kecamatan));
	arr = json_object_new_array();
	json_object_object_add(o, "petugas", arr);
	for (size_t i = 0; i < st->n_petugas; i++) {
		json_object *p = json_object_new_object();

		add_str(p, "nip", st->petugas[i].nip);
		add_str(p, "nama", st->petugas[i].nama);
		json_object_array_add(arr, p);
	}
	s = json_object_new_object();
	json_object_object_add(o, "kendaraan", s);
	add_str(s, "id", st->kendaraan.id);
	s = json_object_new_object();
	json_object_object_add(o, "hq", s);
	add_str(s, "url", st->hq.url);
	json_object_object_add(o, "min_age", json_object_new_int(st->min_age));
	arr = json_object_new_array();
	json_object_object_add(o, "jari", arr);
	for (size_t i = 0; i < st->n_jari; i++)
		json_object_array_add(arr, json_object_new_int(st->jari[i]));
	s = json_object_new_object();
	json_object_object_add(o, "penandatangan", s);
	add_str(s, "nip", st->penandatangan.nip);
	add_str(s, "nama", st->penandatangan.nama);
	add_str(s, "jabatan", st->penandatangan.jabatan);
	add_str(o, "kid", kid);
	return o;
}

static void print_json(const struct retas_st *st, const struct retas_regions *regions,
		       const char *kid, const struct retas_error *err)
{
	json_object *o = st ? to_json(st, regions, kid) : json_object_new_object();

	if (!o)
		return;
	json_object_object_add(o, "valid", json_object_new_boolean(err == NULL));
	if (err) {
		add_str(o, "reason", err->reason);
		add_str(o, "message", err->message);
	}
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int cmd_assignment_verify_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"config", required_argument, NULL, 'c'},
	    {"on", required_argument, NULL, 'o'},
	    {"device-key", required_argument, NULL, 'd'},
	    {0},
	};
	const struct cli_cmd_entry *e = &cli_cmd_assignment_verify_entry;
	const char *key = NULL, *config = NULL, *on = NULL, *device = NULL, *path;
	_cleanup_(freep) char *token = NULL;
	struct retas_regions *regions = NULL;
	struct retas_st *st = NULL;
	struct retas_error err = {0};
	uint8_t pk[32], device_pk[32];
	int64_t now;
	size_t len = 0;
	char kid[17];
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'o':
			on = optarg;
			break;
		case 'd':
			device = optarg;
			break;
		default:
			return cli_usage(e);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(e, _("give exactly one FILE"));
	path = argv[optind];
	if (key && config)
		return cli_usage_error(e, _("give --key or --config, not both"));
	if (key && retas_b64url_decode_key(key, pk, 32) < 0)
		return cli_usage_error(e, _("--key is not a base64url 32-byte public key"));
	if (!key) {
		r = key_from_config(e, config ? config : DEFAULT_CONFIG, pk);
		if (r != 0)
			return r;
	}
	if (device && retas_b64url_decode_key(device, device_pk, 32) < 0)
		return cli_usage_error(e, _("--device-key is not a base64url 32-byte public key"));
	if (on) {
		if (retas_time_parse_rfc3339(on, &now, NULL) < 0)
			return cli_usage_error(e, _("--on is not an RFC 3339 time with an offset, "
						    "e.g. 2026-11-24T08:00:00+07:00"));
	} else {
		now = retas_time_now_ms();
	}
	if (sodium_init() < 0) {
		cli_error(_("libsodium could not start"));
		return CLI_EXIT_REFUSED;
	}

	r = read_letter(path, &token, &len);
	if (r < 0) {
		cli_error(_("cannot read %s: %s"), path, strerror(-r));
		return CLI_EXIT_REFUSED;
	}
	/* Region names are a courtesy: without the data file the letter is
	 * still checked, only the kecamatan is shown as its code. */
	if (retas_regions_load_default(&regions, NULL) < 0)
		regions = NULL;

	retas_key_id(pk, kid);
	r = retas_st_verify(token, len, pk, regions, &st, &err);
	if (r >= 0)
		r = retas_st_check_time(st, now, &err);
	if (r >= 0 && device)
		r = retas_st_check_van(st, device_pk, &err);

	/* A letter that failed its signature or parse shows nothing of itself. */
	if (ctx->json) {
		print_json(st, regions, kid, r < 0 ? &err : NULL);
	} else {
		if (st)
			print_text(st, regions, kid);
		if (r < 0)
			printf(_("Status: refused (%s)\n"), err.reason);
		else
			printf(_("Status: valid\n"));
	}
	if (r < 0)
		cli_error("%s (%s)", err.message, err.reason);
	retas_st_free(st);
	retas_regions_free(regions);
	return r < 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
}
