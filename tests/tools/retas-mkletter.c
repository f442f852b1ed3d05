/*
 * retas-mkletter: a test-only tool (built, never installed) that plays head
 * office's signing step, so daemon, CLI and demo tests can make real signed
 * surat tugas without retas-hq.
 *
 * usage: retas-mkletter --sign-key FILE [-o FILE] [letter options]
 *
 *   --sign-key FILE     HQ Ed25519 key file (lib/retas-keys.h format, mode
 *                       0600), created when missing. Its public key is
 *                       written to FILE.pub (base64url and a newline) and,
 *                       without -o, printed on stdout: that is all the tool
 *                       does then. The same makes a van's device key pair.
 *   -o FILE             write the signed letter (the JWS and a newline);
 *                       "-" is stdout.
 *   --payload FILE      sign FILE's bytes as the payload, unchecked (for
 *                       tests of letters the parser must refuse); every
 *                       letter option below is then ignored.
 *   --device-key KEY    the van's Ed25519 public key (required for a letter)
 *   --seal-key KEY      HQ's X25519 public key (required for a letter, or
 *                       --seal-keypair)
 *                       KEY is base64url, or @PATH of a public key file.
 *   --seal-keypair FILE HQ's X25519 key file, created when missing, its
 *                       public key written to FILE.pub and used as the
 *                       letter's seal key (HQ tests open records with it).
 *   --from TIME         valid_from, RFC 3339 with offset (default: now - 1 h)
 *   --until TIME        valid_until (default: valid_from + 9 h)
 *   --petugas NIP:NAME:PIN   an officer, repeatable (at least one); the PIN
 *                       is hashed with crypto_pwhash_str (argon2id, the
 *                       INTERACTIVE limits, so tests stay fast)
 *   --nomor S           (default 800/001/DUKCAPIL/2026)
 *   --tanggal DATE      (default: the date of valid_from in WIB)
 *   --npsn N            (default 10504187)
 *   --sekolah NAME      (default SMA Negeri 1 Kota Jambi)
 *   --alamat S          (default Jl. Urip Sumoharjo)
 *   --kecamatan CODE    (default 157101)
 *   --van-id ID         (default MPK-01)
 *   --hq-url URL        (default https://retas.dukcapil.example/)
 *   --jari LIST         comma-separated finger positions (default 1..10)
 *   --min-age N         (default 16)
 *
 * Times in the letter are written in WIB (+07:00) whatever offset they were
 * given with. Exit 0 done, 1 when the letter would not be valid (the
 * parser's reason is printed), 2 on a usage error.
 *
 * Example:
 *   retas-mkletter --sign-key hq.key --device-key "$(cat van.pub)" \
 *       --seal-key "$(cat seal.pub)" --from 2026-11-24T07:00:00+07:00 \
 *       --until 2026-11-24T16:00:00+07:00 \
 *       --petugas 198703152010011002:"Rina Marlina":123456 -o letter.jws
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "retas-b64.h"
#include "retas-jws.h"
#include "retas-keys.h"
#include "retas-st.h"
#include "retas-util.h"

#define MAX_PETUGAS RETAS_ST_MAX_PETUGAS

static int usage(const char *msg)
{
	fprintf(stderr, "retas-mkletter: %s\n", msg);
	fprintf(stderr, "usage: retas-mkletter --sign-key FILE [-o FILE] [--device-key KEY "
			"--seal-key KEY --petugas NIP:NAME:PIN ...] (see the source's header)\n");
	return 2;
}

static int read_line_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	_cleanup_(closep) int fd = -1;
	size_t len = strlen(text);

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		return -EIO;
	return fsync(fd) < 0 ? -errno : 0;
}

static int parse_key(const char *arg, uint8_t key[32])
{
	char line[128];

	if (arg[0] == '@') {
		if (read_line_file(arg + 1, line, sizeof(line)) < 0)
			return -ENOENT;
		arg = line;
	}
	return retas_b64url_decode_key(arg, key, 32);
}

static int add_petugas(struct retas_st *st, const char *arg)
{
	const char *c1 = strchr(arg, ':'), *c2 = strrchr(arg, ':');
	struct retas_st_petugas *p;
	char pin[128];

	if (!c1 || c1 == c2 || c1 - arg != 18 || st->n_petugas >= MAX_PETUGAS ||
	    (size_t)(c2 - c1) < 2 || strlen(c2 + 1) >= sizeof(pin))
		return -EINVAL;
	p = &st->petugas[st->n_petugas];
	memcpy(p->nip, arg, 18);
	p->nip[18] = '\0';
	p->nama = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
	p->pin = malloc(crypto_pwhash_STRBYTES);
	snprintf(pin, sizeof(pin), "%s", c2 + 1);
	if (!p->nama || !p->pin ||
	    crypto_pwhash_str(p->pin, pin, strlen(pin), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		free(p->nama);
		free(p->pin);
		p->nama = p->pin = NULL;
		sodium_memzero(pin, sizeof(pin));
		return -ENOMEM;
	}
	sodium_memzero(pin, sizeof(pin));
	st->n_petugas++;
	return 0;
}

static int parse_jari(struct retas_st *st, const char *arg)
{
	const char *p = arg;

	st->n_jari = 0;
	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p || st->n_jari >= 10)
			return -EINVAL;
		st->jari[st->n_jari++] = (int)v;
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -EINVAL;
	}
	return st->n_jari ? 0 : -EINVAL;
}

static char *dup_or(const char *s, const char *def)
{
	return strdup(s ? s : def);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"sign-key", required_argument, NULL, 'K'},
	    {"payload", required_argument, NULL, 'P'},
	    {"device-key", required_argument, NULL, 'd'},
	    {"seal-key", required_argument, NULL, 's'},
	    {"seal-keypair", required_argument, NULL, 'X'},
	    {"from", required_argument, NULL, 'f'},
	    {"until", required_argument, NULL, 'u'},
	    {"petugas", required_argument, NULL, 'p'},
	    {"nomor", required_argument, NULL, 'n'},
	    {"tanggal", required_argument, NULL, 't'},
	    {"npsn", required_argument, NULL, 'N'},
	    {"sekolah", required_argument, NULL, 'S'},
	    {"alamat", required_argument, NULL, 'A'},
	    {"kecamatan", required_argument, NULL, 'k'},
	    {"van-id", required_argument, NULL, 'v'},
	    {"hq-url", required_argument, NULL, 'h'},
	    {"jari", required_argument, NULL, 'j'},
	    {"min-age", required_argument, NULL, 'm'},
	    {"output", required_argument, NULL, 'o'},
	    {0},
	};
	const char *key_path = NULL, *seal_path = NULL, *payload_path = NULL, *out_path = NULL,
		   *from = NULL, *until = NULL, *nomor = NULL, *tanggal = NULL, *npsn = NULL,
		   *sekolah = NULL, *alamat = NULL, *kecamatan = NULL, *van_id = NULL,
		   *hq_url = NULL;
	struct retas_st st = {0};
	struct retas_st *check = NULL;
	struct retas_error err = {0};
	struct retas_sign_keypair kp;
	bool have_device = false, have_seal = false;
	char kid[17], *json = NULL, *token = NULL, *pub = NULL, *pubpath = NULL;
	size_t json_len = 0;
	int c, ret = 1;

	if (sodium_init() < 0)
		return 1;
	st.petugas = calloc(MAX_PETUGAS, sizeof(*st.petugas));
	if (!st.petugas)
		return 1;
	st.min_age = 16;
	for (int i = 0; i < 10; i++)
		st.jari[i] = i + 1;
	st.n_jari = 10;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'K':
			key_path = optarg;
			break;
		case 'P':
			payload_path = optarg;
			break;
		case 'd':
			if (parse_key(optarg, st.kendaraan.device_key) < 0) {
				ret = usage("--device-key is not a 32-byte base64url key");
				goto out;
			}
			have_device = true;
			break;
		case 's':
			if (parse_key(optarg, st.hq.seal_key) < 0) {
				ret = usage("--seal-key is not a 32-byte base64url key");
				goto out;
			}
			have_seal = true;
			break;
		case 'X':
			seal_path = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 'u':
			until = optarg;
			break;
		case 'p':
			if (add_petugas(&st, optarg) < 0) {
				ret = usage("--petugas wants NIP:NAME:PIN (18-digit NIP), at most "
					    "16 times");
				goto out;
			}
			break;
		case 'n':
			nomor = optarg;
			break;
		case 't':
			tanggal = optarg;
			break;
		case 'N':
			npsn = optarg;
			break;
		case 'S':
			sekolah = optarg;
			break;
		case 'A':
			alamat = optarg;
			break;
		case 'k':
			kecamatan = optarg;
			break;
		case 'v':
			van_id = optarg;
			break;
		case 'h':
			hq_url = optarg;
			break;
		case 'j':
			if (parse_jari(&st, optarg) < 0) {
				ret = usage("--jari wants a comma-separated list of 1 to 10 "
					    "numbers");
				goto out;
			}
			break;
		case 'm':
			st.min_age = atoi(optarg);
			break;
		case 'o':
			out_path = optarg;
			break;
		default: {
			ret = usage("unknown option");
			goto out;
		}
		}
	}
	if (optind != argc) {
		ret = usage("unexpected argument");
		goto out;
	}
	if (!key_path) {
		ret = usage("--sign-key FILE is required");
		goto out;
	}
	if (retas_sign_keypair_load(key_path, 1, &kp, &err) < 0 ||
	    retas_b64url_encode(kp.pk, 32, &pub) < 0 ||
	    asprintf(&pubpath, "%s.pub", key_path) < 0 ||
	    retas_pubkey_write(pubpath, kp.pk, &err) < 0) {
		fprintf(stderr, "retas-mkletter: %s: %s\n", key_path, err.message);
		goto out;
	}
	if (seal_path) {
		struct retas_box_keypair box;
		_cleanup_(freep) char *seal_pub = NULL;

		if (retas_box_keypair_load(seal_path, 1, &box, &err) < 0 ||
		    asprintf(&seal_pub, "%s.pub", seal_path) < 0 ||
		    retas_pubkey_write(seal_pub, box.pk, &err) < 0) {
			fprintf(stderr, "retas-mkletter: %s: %s\n", seal_path, err.message);
			goto out;
		}
		memcpy(st.hq.seal_key, box.pk, 32);
		sodium_memzero(&box, sizeof(box));
		have_seal = true;
	}
	if (!out_path) {
		printf("%s\n", pub);
		ret = 0;
		goto out;
	}

	if (payload_path) {
		FILE *f = fopen(payload_path, "re");

		if (!f) {
			fprintf(stderr, "retas-mkletter: cannot read %s\n", payload_path);
			goto out;
		}
		json = malloc(RETAS_JWS_MAX_LEN);
		json_len = json ? fread(json, 1, RETAS_JWS_MAX_LEN, f) : 0;
		fclose(f);
	} else {
		if (!have_device || !have_seal || st.n_petugas == 0) {
			ret = usage("a letter needs --device-key, --seal-key and --petugas");
			goto out;
		}
		if (from) {
			if (retas_time_parse_rfc3339(from, &st.valid_from, NULL) < 0) {
				ret = usage("--from is not RFC 3339 with an offset");
				goto out;
			}
		} else {
			int64_t now = retas_time_now_ms();

			st.valid_from = now - now % 60000 - 3600 * 1000;
		}
		if (until) {
			if (retas_time_parse_rfc3339(until, &st.valid_until, NULL) < 0) {
				ret = usage("--until is not RFC 3339 with an offset");
				goto out;
			}
		} else {
			st.valid_until = st.valid_from + 9 * 3600 * 1000LL;
		}
		st.valid_offset_min = RETAS_WIB_OFFSET_MIN;
		if (tanggal) {
			if (retas_date_parse(tanggal, &st.tanggal) < 0) {
				ret = usage("--tanggal is not YYYY-MM-DD");
				goto out;
			}
		} else {
			retas_date_from_ms(st.valid_from, RETAS_WIB_OFFSET_MIN, &st.tanggal);
		}
		if ((npsn && strlen(npsn) != 8) || (kecamatan && strlen(kecamatan) != 6)) {
			ret = usage("--npsn wants 8 digits, --kecamatan 6");
			goto out;
		}
		snprintf(st.sekolah.npsn, sizeof(st.sekolah.npsn), "%s", npsn ? npsn : "10504187");
		snprintf(st.sekolah.kecamatan, sizeof(st.sekolah.kecamatan), "%s",
			 kecamatan ? kecamatan : "157101");
		st.nomor = dup_or(nomor, "800/001/DUKCAPIL/2026");
		st.sekolah.nama = dup_or(sekolah, "SMA Negeri 1 Kota Jambi");
		st.sekolah.alamat = dup_or(alamat, "Jl. Urip Sumoharjo");
		st.kendaraan.id = dup_or(van_id, "MPK-01");
		st.hq.url = dup_or(hq_url, "https://retas.dukcapil.example/");
		snprintf(st.penandatangan.nip, sizeof(st.penandatangan.nip), "196702221985121001");
		st.penandatangan.nama = strdup("Drs. NIRWAN, ME");
		st.penandatangan.jabatan =
		    strdup("Kepala Dinas Kependudukan dan Pencatatan Sipil Kota Jambi");
		if (retas_st_to_json(&st, &json) < 0)
			goto out;
		json_len = strlen(json);
		/* Refuse to sign what a van would refuse to load. */
		if (retas_st_parse(json, json_len, NULL, &check, &err) < 0) {
			fprintf(stderr, "retas-mkletter: the letter would be invalid: %s (%s)\n",
				err.message, err.reason);
			goto out;
		}
	}
	retas_key_id(kp.pk, kid);
	if (!json ||
	    retas_jws_sign(json, json_len, RETAS_ST_JWS_TYP, kid, kp.sk, &token, &err) < 0) {
		fprintf(stderr, "retas-mkletter: cannot sign: %s\n", err.message);
		goto out;
	}
	if (streq(out_path, "-")) {
		printf("%s\n", token);
	} else if (write_file(out_path, token, 0644) < 0) {
		fprintf(stderr, "retas-mkletter: cannot write %s\n", out_path);
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(&kp, sizeof(kp));
	retas_st_free(check);
	free(st.nomor);
	free(st.sekolah.nama);
	free(st.sekolah.alamat);
	for (size_t i = 0; i < st.n_petugas; i++) {
		free(st.petugas[i].nama);
		free(st.petugas[i].pin);
	}
	free(st.petugas);
	free(st.kendaraan.id);
	free(st.hq.url);
	free(st.penandatangan.nama);
	free(st.penandatangan.jabatan);
	free(json);
	free(token);
	free(pub);
	free(pubpath);
	return ret;
}
