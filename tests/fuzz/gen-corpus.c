/*
 * Writes the seed corpus of the fuzz targets: for each target a few small,
 * valid inputs made with the library's own writers and the fixed keys of
 * fuzz-common.h, so the fuzzers start from inputs that get all the way
 * through and mutate from there. Run once, when a format changes, and
 * check the result in:
 *
 *   meson compile -C build-fuzz fuzz-gen-corpus
 *   build-fuzz/tests/fuzz/fuzz-gen-corpus tests/fuzz/corpus
 *
 * The seeds of fuzz-batch, fuzz-qr and fuzz-tus-headers are head office's
 * (gen_hq); every other target has a directory of its own name.
 * Every seed is checked with the reader it feeds before it is written.
 * Nothing here is real personal data: names, NIKs and NIPs are made up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fp-iso.h"
#include "fuzz-common.h"
#include "retas-jws.h"
#include "retas-manifest.h"
#include "retas-record.h"
#include "retas-st.h"
#include "retas-students.h"
#include "retas-time.h"
#include "retas-uuid.h"
#include "sync-auth.h"
#include "sync-batch.h"
#include "sync-qr.h"
#include "sync-receipt.h"

#define T0 1795478400000LL /* 2026-11-24T07:00:00+07:00 */
#define NIP "198703152010011002"
#define ST_NOMOR "800/041/DUKCAPIL/2026"
#define DEVICE_ID "MPK-01"

static const char *outdir;

static void die(const char *what)
{
	fprintf(stderr, "gen-corpus: %s\n", what);
	exit(1);
}

static void check(int ok, const char *what)
{
	if (!ok)
		die(what);
}

static void write_seed(const char *target, const char *name, const void *data, size_t len);

/* A seed whose first byte picks the target's entry (fuzz-batch). */
static void write_mode_seed(const char *target, const char *name, uint8_t mode, const void *data,
			    size_t len)
{
	uint8_t *buf = malloc(len + 1);

	check(buf != NULL, "memory");
	buf[0] = mode;
	memcpy(buf + 1, data, len);
	write_seed(target, name, buf, len + 1);
	free(buf);
}

static void write_seed(const char *target, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die("cannot create a corpus directory");
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die("cannot write a seed");
	printf("%s %zu\n", path, len);
}

/* A letter: full, or without the optional members (alamat, min_age, jari). */
static char *letter_json(int minimal)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct retas_st st = {0};
	struct retas_st_petugas p[2] = {0};
	char pin[2][crypto_pwhash_STRBYTES];
	char *json = NULL;
	struct retas_st *back = NULL;
	struct retas_error err = {0};

	/* The cheapest argon2id parameters the parser takes: the seeds must
	 * not make a PIN check slow, and the fuzzers never check one. */
	for (int i = 0; i < 2; i++)
		check(crypto_pwhash_str(pin[i], i ? "654321" : "123456", 6,
					crypto_pwhash_OPSLIMIT_MIN,
					crypto_pwhash_MEMLIMIT_MIN) == 0,
		      "pwhash");
	st.nomor = ST_NOMOR;
	st.tanggal = (struct retas_date){2026, 11, 24};
	st.valid_from = T0;
	st.valid_until = T0 + 9 * 3600 * 1000LL;
	st.valid_offset_min = RETAS_WIB_OFFSET_MIN;
	memcpy(st.sekolah.npsn, "10505001", 9);
	st.sekolah.nama = "SMA Negeri 1 Kota Jambi";
	st.sekolah.alamat = minimal ? NULL : "Jl. Contoh No. 1, Telanaipura";
	memcpy(st.sekolah.kecamatan, "157101", 7);
	memcpy(p[0].nip, NIP, 19);
	p[0].nama = "Petugas Satu";
	p[0].pin = pin[0];
	memcpy(p[1].nip, "199001012015032001", 19);
	p[1].nama = "Petugas Dua";
	p[1].pin = pin[1];
	st.petugas = p;
	st.n_petugas = minimal ? 1 : 2;
	st.kendaraan.id = DEVICE_ID;
	memcpy(st.kendaraan.device_key, k->device_pk, 32);
	st.hq.url = "https://retas.example.go.id/";
	memcpy(st.hq.seal_key, k->hq_seal_pk, 32);
	st.min_age = 16;
	st.n_jari = minimal ? 10 : 4;
	for (size_t i = 0; i < st.n_jari; i++)
		st.jari[i] = minimal ? (int)i + 1 : (int[]){1, 2, 6, 7}[i];
	memcpy(st.penandatangan.nip, "197001011995031001", 19);
	st.penandatangan.nama = "Kepala Dinas";
	st.penandatangan.jabatan = "Kepala Dinas Kependudukan dan Pencatatan Sipil Kota Jambi";
	check(retas_st_to_json(&st, &json) == 0, "st to json");
	if (minimal) {
		/* Drop the members a letter may leave out. */
		char *m = strstr(json, ",\"min_age\"");
		char *j = m ? strstr(m, ",\"penandatangan\"") : NULL;

		check(m && j, "st members");
		memmove(m, j, strlen(j) + 1);
	}
	check(retas_st_parse(json, strlen(json), fuzz_regions(), &back, &err) == 0, err.message);
	retas_st_free(back);
	return json;
}

static void gen_st_and_jws(void)
{
	const struct fuzz_keys *k = fuzz_keys();
	char *full = letter_json(0), *minimal = letter_json(1), *token = NULL;
	char kid[17];
	struct retas_st *st = NULL;
	struct retas_error err = {0};

	write_seed("st", "letter.json", full, strlen(full));
	write_seed("st", "letter-minimal.json", minimal, strlen(minimal));

	retas_key_id(k->hq_sign_pk, kid);
	check(retas_jws_sign(full, strlen(full), RETAS_ST_JWS_TYP, kid, k->hq_sign_sk, &token,
			     &err) == 0,
	      "sign letter");
	check(retas_st_verify(token, strlen(token), k->hq_sign_pk, fuzz_regions(), &st, &err) == 0,
	      "verify letter");
	retas_st_free(st);
	write_seed("jws", "letter.jws", token, strlen(token));
	free(token);
	check(retas_jws_sign("{}", 2, NULL, NULL, k->hq_sign_sk, &token, &err) == 0, "sign {}");
	write_seed("jws", "bare.jws", token, strlen(token));
	free(token);
	free(full);
	free(minimal);
}

static void gen_students(void)
{
	static const struct retas_date session = {2026, 11, 24};
	static const char comma[] = "NIK,Nama,Jenis Kelamin,Tanggal Lahir,Kelas\n"
				    "1571011208090001,Budi Santoso,L,2009-08-12,XII IPA 1\n"
				    "1571024503100002,Siti Aminah,P,05-03-2010,XI IPS 2\n"
				    "1571030101110003,Adik,L,2011-01-01,IX\n"
				    "1571011208090001,Budi Lagi,L,2009-08-12,XII\n";
	static const char semicolon[] =
	    "\xef\xbb\xbfno nik;nama lengkap;jk;tgl_lahir;rombel\r\n"
	    "1571011208090001;\"Rahman; Budi\";L;12/08/2009;XII IPA 1\r\n"
	    "\r\n"
	    "1571024503100002;\"Siti \"\"Ani\"\" Aminah\";perempuan;"
	    "2010-03-05;XI IPS 2\r\n";
	const char *seeds[2] = {comma, semicolon};
	const char *names[2] = {"comma.csv", "semicolon-bom-crlf.csv"};

	for (int i = 0; i < 2; i++) {
		struct retas_student_list *l = NULL;
		struct retas_error err = {0};

		check(retas_students_parse(seeds[i], strlen(seeds[i]), &session, 16, fuzz_regions(),
					   &l, &err) == 0 &&
			  l->n_students == 2,
		      "students seed");
		retas_student_list_free(l);
		write_seed("students", names[i], seeds[i], strlen(seeds[i]));
	}
}

/* A striped grey image, ridge-like, w x h. */
static struct fp_image *stripes(unsigned w, unsigned h, unsigned period)
{
	struct fp_image *img = fp_image_new(w, h);

	check(img != NULL, "image");
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++)
			img->pixels[y * w + x] = ((x + y / 2) % period) < period / 2 ? 40 : 210;
	return img;
}

static uint8_t *iso_record(size_t n, size_t *len)
{
	struct fp_iso_view views[2];
	struct fp_iso_view *back = NULL;
	struct retas_error err = {0};
	uint8_t *buf = NULL;
	size_t n2 = 0;

	for (size_t i = 0; i < n; i++) {
		views[i] = (struct fp_iso_view){
		    .capture_time_ms = T0 + (int64_t)i * 4321,
		    .technology = 0,
		    .device_vendor = 0,
		    .device_type = 0,
		    .quality = i ? 255 : 72,
		    .quality_vendor = 0,
		    .quality_algorithm = 0,
		    .finger_position = i ? FP_ISO_FINGER_LEFT_INDEX : FP_ISO_FINGER_RIGHT_THUMB,
		    .impression = FP_ISO_IMPRESSION_LIVE_PLAIN,
		    .ppi = i ? 0 : 500,
		    .image = stripes(i ? 20 : 32, i ? 24 : 40, i ? 6 : 8),
		};
	}
	check(fp_iso_write(views, n, &buf, len, &err) == 0, "iso write");
	check(fp_iso_read(buf, *len, &back, &n2, &err) == 0 && n2 == n, "iso read");
	fp_iso_views_free(back, n2);
	for (size_t i = 0; i < n; i++)
		fp_image_free(views[i].image);
	return buf;
}

static struct retas_container *body(int small)
{
	static const char demografi[] =
	    "{\"nik\":\"1571011208090001\",\"nama\":\"Budi Santoso\",\"jenis_kelamin\":\"L\","
	    "\"tanggal_lahir\":\"2009-08-12\",\"kelas\":\"XII IPA 1\",\"sekolah\":\"10505001\","
	    "\"catatan\":\"                                                            \"}";
	static const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J',	 'F',
				       'I',  'F',  0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
				       0x00, 0x01, 0x00, 0x00, 0xff, 0xd9};
	struct retas_container *c = NULL;
	uint8_t *iso;
	size_t iso_len;

	check(retas_container_new(&c) == 0, "container");
	check(retas_container_add(c, "demografi.json", "application/json", demografi,
				  strlen(demografi)) == 0,
	      "add json");
	if (small)
		return c;
	iso = iso_record(1, &iso_len);
	check(retas_container_add(c, "jari-01.iso", "application/octet-stream", iso, iso_len) == 0,
	      "add iso");
	free(iso);
	check(retas_container_add(c, "foto.jpg", "image/jpeg", jpeg, sizeof(jpeg)) == 0, "add jpg");
	check(retas_container_add(c, "kosong.txt", "text/plain;charset=utf-8", "", 0) == 0,
	      "add empty");
	return c;
}

static void header(struct retas_record_header *h, uint64_t seq)
{
	memset(h, 0, sizeof(*h));
	retas_uuid7_new(T0 + (int64_t)seq, h->id);
	strcpy(h->st_nomor, ST_NOMOR);
	strcpy(h->device_id, DEVICE_ID);
	strcpy(h->officer_nip, NIP);
	h->seq = seq;
	if (seq > 1)
		memset(h->prev_hash, 0xab, 32);
	h->created_ms = T0 + (int64_t)seq * 60000;
}

static uint8_t *sealed(uint64_t seq, int small, size_t *len)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct retas_record_header h;
	struct retas_container *c = body(small), *back = NULL;
	struct retas_error err = {0};
	uint8_t *rec = NULL;

	header(&h, seq);
	check(retas_record_seal(&h, c, k->hq_seal_pk, k->device_sk, &rec, len, &err) == 0, "seal");
	check(retas_record_open(rec, *len, k->device_pk, k->hq_seal_pk, k->hq_seal_sk, NULL, &back,
				&err) == 0,
	      "open");
	retas_container_free(back);
	retas_container_free(c);
	return rec;
}

static void gen_container_and_records(void)
{
	/* docs/record-format.md §2.3: one stored part, 47 bytes. */
	static const uint8_t pinned[] = {'R', 'T', 'P', 'C', 1,	  1,   0,   6,	 'd', '.', 'j', 's',
					 'o', 'n', 16,	'a', 'p', 'p', 'l', 'i', 'c', 'a', 't', 'i',
					 'o', 'n', '/', 'j', 's', 'o', 'n', 0,	 7,   0,   0,	0,
					 7,   0,   0,	0,   '{', '"', 'a', '"', ':', '1', '}'};
	struct retas_container *c = body(0), *back = NULL;
	struct retas_error err = {0};
	uint8_t *enc = NULL, *rec, *plain;
	size_t enc_len = 0, len, hlen;
	struct retas_record_header h;

	check(retas_container_decode(pinned, sizeof(pinned), &back, &err) == 0, "pinned");
	retas_container_free(back);
	write_seed("container", "pinned.bin", pinned, sizeof(pinned));
	check(retas_container_encode(c, &enc, &enc_len, &err) == 0, "encode");
	write_seed("container", "parts.bin", enc, enc_len);

	rec = sealed(1, 0, &len);
	write_seed("record", "sealed.bin", rec, len);
	plain = malloc(len + 1);
	check(plain != NULL, "memory");
	plain[0] = 0;
	memcpy(plain + 1, rec, len);
	write_seed("record-resigned", "mode0-sealed.bin", plain, len + 1);
	free(plain);
	free(rec);
	rec = sealed(2, 1, &len);
	write_seed("record", "sealed-small.bin", rec, len);
	free(rec);

	/* Mode 1 of fuzz-record-resigned: the container in clear where the
	 * ciphertext goes; the harness seals it. */
	rec = sealed(3, 1, &len);
	check(retas_record_read_header(rec, len, &h, &err) == 0, "header");
	/* magic, version, id, three length-prefixed strings, seq, prev, created */
	hlen = 21;
	for (int i = 0; i < 3; i++)
		hlen += 1 + rec[hlen];
	hlen += 48;
	plain = calloc(1, 1 + hlen + 80 + 24 + 4 + enc_len + 64);
	check(plain != NULL, "memory");
	plain[0] = 1;
	memcpy(plain + 1, rec, hlen + 80 + 24);
	memcpy(plain + 1 + hlen + 108, enc, enc_len);
	write_seed("record-resigned", "mode1-plain.bin", plain, 1 + hlen + 108 + enc_len + 64);
	free(plain);
	free(rec);
	free(enc);
	retas_container_free(c);
}

static void gen_manifest(void)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct retas_manifest *m = NULL, *back = NULL;
	struct retas_error err = {0};
	char *json = NULL, *token = NULL;
	json_object *row, *report;

	check(retas_manifest_new(DEVICE_ID, ST_NOMOR, T0 + 5, &m) == 0, "manifest");
	check(retas_manifest_to_json(m, &json) == 0, "manifest json");
	write_seed("manifest", "empty.json", json, strlen(json));
	free(json);
	for (uint64_t seq = 1; seq <= 2; seq++) {
		size_t len;
		uint8_t *rec = sealed(seq, 1, &len);

		check(retas_manifest_add_record(m, rec, len, &err) == 0, "add record");
		free(rec);
	}
	row = json_tokener_parse("{\"seq\":1,\"event\":\"session.open\",\"prev\":\"00\"}");
	check(row && retas_manifest_add_audit(m, row) == 0, "audit");
	report = json_tokener_parse("{\"jumlah\":2,\"record_only\":0,\"pengecualian\":[]}");
	check(report != NULL, "report");
	retas_manifest_set_report(m, report);
	check(retas_manifest_to_json(m, &json) == 0, "manifest json");
	check(retas_manifest_parse(json, strlen(json), &back, &err) == 0, "manifest parse");
	retas_manifest_free(back);
	write_seed("manifest", "batch.json", json, strlen(json));
	check(retas_manifest_sign(m, k->device_sk, &token, &err) == 0, "manifest sign");
	write_seed("jws", "manifest.jws", token, strlen(token));
	free(token);
	free(json);
	retas_manifest_free(m);
}

static void gen_fp_iso(void)
{
	for (size_t n = 1; n <= 2; n++) {
		size_t len;
		uint8_t *iso = iso_record(n, &len);

		write_seed("fp-iso", n == 1 ? "one-finger.iso" : "two-fingers.iso", iso, len);
		free(iso);
	}
}

/* What head office parses from vans: a batch file, a signed manifest and
 * receipt, a receipt QR token and the tus and Retas-Auth headers. */
static void gen_hq(void)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct sync_receipt_record rr = {.seq = 1};
	struct sync_receipt rcpt = {.batch_id = "01890a5d-ac96-774b-bcce-b302099a8057",
				    .device_id = DEVICE_ID,
				    .st_nomor = ST_NOMOR,
				    .received_ms = T0,
				    .records = &rr,
				    .n_records = 1};
	struct sync_qr q = {.npsn = "10505001", .date = {2026, 11, 24}};
	struct retas_record_header h;
	struct retas_manifest *m = NULL;
	struct retas_error err = {0};
	struct retas_jws *j = NULL;
	const uint8_t *recs[1];
	uint8_t *rec, *batch = NULL, nonce[SYNC_AUTH_NONCE_LEN] = {0};
	size_t rec_len, batch_len, n = 0;
	char *jws = NULL, *rjws = NULL, *tok = NULL, *auth = NULL, headers[1024];
	const char *fields[4] = {"1048576", "sha256 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
				 "filename YmF0Y2gucmV0YXMtYmF0Y2g=,is_final", NULL};

	rec = sealed(1, 1, &rec_len);
	check(retas_record_read_header(rec, rec_len, &h, &err) == 0, "header");
	check(retas_manifest_new(DEVICE_ID, ST_NOMOR, T0, &m) == 0 &&
		  retas_manifest_add_record(m, rec, rec_len, &err) == 0 &&
		  retas_manifest_sign(m, k->device_sk, &jws, &err) == 0,
	      "batch manifest");
	recs[0] = rec;
	check(sync_batch_encode(jws, strlen(jws), recs, &rec_len, 1, &batch, &batch_len) == 0,
	      "batch");
	memcpy(rr.id, h.id, 16);
	retas_record_hash(rec, rec_len, rr.sha256);
	memcpy(q.record_id, h.id, 16);
	memcpy(q.record_hash, rr.sha256, 32);
	/* fuzz-batch checks receipts against the device key: one key for all. */
	check(sync_receipt_sign(&rcpt, k->device_pk, k->device_sk, &rjws, &err) == 0, "receipt");
	check(sync_qr_make(&q, k->device_pk, k->device_sk, &tok) == 0, "qr");
	check(sync_auth_sign("PATCH", "/tus/0123", T0, nonce, k->device_pk, k->device_sk, &auth) ==
		  0,
	      "auth");

	write_mode_seed("batch", "batch.bin", 0, batch, batch_len);
	check(retas_jws_peek(jws, strlen(jws), &j, &err) == 0, "peek manifest");
	write_mode_seed("batch", "manifest-payload.bin", 1, j->payload, j->payload_len);
	retas_jws_free(j);
	check(retas_jws_peek(rjws, strlen(rjws), &j, &err) == 0, "peek receipt");
	write_mode_seed("batch", "receipt-payload.bin", 2, j->payload, j->payload_len);
	retas_jws_free(j);
	write_mode_seed("batch", "manifest-jws.bin", 3, jws, strlen(jws));
	write_seed("qr", "token.txt", tok, strlen(tok));
	fields[3] = auth;
	for (size_t i = 0; i < 4; i++) {
		size_t l = strlen(fields[i]);

		memcpy(headers + n, fields[i], l);
		n += l;
		if (i < 3)
			headers[n++] = 0;
	}
	write_seed("tus-headers", "headers.bin", headers, n);
	retas_manifest_free(m);
	free(rec);
	free(batch);
	free(jws);
	free(rjws);
	free(tok);
	free(auth);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) < 0 && errno != EEXIST)
		die("cannot create the corpus directory");
	gen_st_and_jws();
	gen_students();
	gen_container_and_records();
	gen_manifest();
	gen_fp_iso();
	gen_hq();
	return 0;
}
