/*
 * Writes the fuzz targets' seed corpora into DIR/{manifest,record,
 * tus-headers}: a real batch, manifest, receipt, record, container and QR
 * token made with the fixed keys of fuzz-keys.h, and well-formed headers,
 * so the fuzzer starts from structures that pass every check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz-keys.h"
#include "retas-jws.h"
#include "retas-manifest.h"
#include "retas-record.h"
#include "retas-uuid.h"
#include "sync-auth.h"
#include "sync-batch.h"
#include "sync-qr.h"
#include "sync-receipt.h"

static int put(const char *dir, const char *sub, const char *name, uint8_t mode, const void *data,
	       size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "we");
	if (!f)
		return -1;
	if (mode != 0xff)
		fputc(mode, f);
	fwrite(data, 1, len, f);
	return fclose(f);
}

int main(int argc, char **argv)
{
	static const char demo[] = "{\"nik\":\"1571014507090001\",\"nama\":\"Siti\","
				   "\"jenis_kelamin\":\"P\",\"tanggal_lahir\":\"2009-07-05\"}";
	struct retas_record_header h = {.seq = 1, .created_ms = 1795500000000};
	struct sync_receipt_record rr = {.seq = 1};
	struct sync_receipt rcpt = {.batch_id = "01890a5d-ac96-774b-bcce-b302099a8057",
				    .device_id = "MPK-01",
				    .st_nomor = "800/041/DUKCAPIL/2026",
				    .received_ms = 1795500000000,
				    .records = &rr,
				    .n_records = 1};
	struct retas_container *c = NULL;
	struct retas_manifest *m = NULL;
	struct retas_error err = {0};
	struct fuzz_keys k;
	struct sync_qr q = {.npsn = "10504187", .date = {2026, 11, 24}};
	uint8_t *rec = NULL, *cont = NULL, *batch = NULL, nonce[16] = {0};
	size_t rec_len, cont_len, batch_len;
	char *jws = NULL, *rjws = NULL, *tok = NULL, *auth = NULL, headers[1024];
	const uint8_t *recs[1];
	int r = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz-seeds DIR\n");
		return 2;
	}
	if (mkdir(argv[1], 0755) < 0 && errno != EEXIST) {
		perror(argv[1]);
		return 1;
	}
	fuzz_keys(&k);
	retas_uuid7_new(h.created_ms, h.id);
	strcpy(h.st_nomor, "800/041/DUKCAPIL/2026");
	strcpy(h.device_id, "MPK-01");
	strcpy(h.officer_nip, "198703152010011002");
	if (retas_container_new(&c) < 0 ||
	    retas_container_add(c, "demografi.json", "application/json", demo, strlen(demo)) < 0 ||
	    retas_container_add(c, "foto.jpg", "image/jpeg", "\xff\xd8\xff\xe0", 4) < 0 ||
	    retas_container_encode(c, &cont, &cont_len, &err) < 0 ||
	    retas_record_seal(&h, c, k.hq_pk, k.dev_sk, &rec, &rec_len, &err) < 0 ||
	    retas_manifest_new("MPK-01", h.st_nomor, h.created_ms, &m) < 0 ||
	    retas_manifest_add_record(m, rec, rec_len, &err) < 0 ||
	    retas_manifest_sign(m, k.dev_sk, &jws, &err) < 0) {
		fprintf(stderr, "fuzz-seeds: %s (%s)\n", err.message, err.reason);
		return 1;
	}
	recs[0] = rec;
	if (sync_batch_encode(jws, strlen(jws), recs, &rec_len, 1, &batch, &batch_len) < 0)
		return 1;
	memcpy(rr.id, h.id, 16);
	retas_record_hash(rec, rec_len, rr.sha256);
	memcpy(q.record_id, h.id, 16);
	memcpy(q.record_hash, rr.sha256, 32);
	if (sync_receipt_sign(&rcpt, k.dev_pk, k.dev_sk, &rjws, NULL) < 0 ||
	    sync_qr_make(&q, k.dev_pk, k.dev_sk, &tok) < 0 ||
	    sync_auth_sign("PATCH", "/tus/0123", 1795500000000, nonce, k.dev_pk, k.dev_sk, &auth) <
		0)
		return 1;
	{
		/* the manifest's payload, for the sign-then-verify entry */
		struct retas_jws *j = NULL;

		if (retas_jws_peek(jws, strlen(jws), &j, NULL) < 0)
			return 1;
		r |= put(argv[1], "manifest", "payload", 1, j->payload, j->payload_len);
		retas_jws_free(j);
		if (retas_jws_peek(rjws, strlen(rjws), &j, NULL) < 0)
			return 1;
		r |= put(argv[1], "manifest", "receipt", 2, j->payload, j->payload_len);
		retas_jws_free(j);
	}
	r |= put(argv[1], "manifest", "batch", 0, batch, batch_len);
	r |= put(argv[1], "manifest", "jws", 3, jws, strlen(jws));
	r |= put(argv[1], "record", "record", 0, rec, rec_len);
	r |= put(argv[1], "record", "container", 1, cont, cont_len);
	r |= put(argv[1], "record", "qr", 2, tok, strlen(tok));
	{
		size_t n = 0;
		const char *fields[] = {"1048576",
					"sha256 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
					"filename YmF0Y2gucmV0YXMtYmF0Y2g=,is_final", auth};

		for (size_t i = 0; i < 4; i++) {
			size_t l = strlen(fields[i]);

			memcpy(headers + n, fields[i], l);
			n += l;
			if (i < 3)
				headers[n++] = 0;
		}
		r |= put(argv[1], "tus-headers", "headers", 0xff, headers, n);
	}
	retas_container_free(c);
	retas_manifest_free(m);
	free(rec);
	free(cont);
	free(batch);
	free(jws);
	free(rjws);
	free(tok);
	free(auth);
	return r ? 1 : 0;
}
