/*
 * open-record: head office's side of a van's record, for the enrolment
 * tests. Reads a sealed record from retasd's store, opens it with head
 * office's seal key pair (retas_record_open) and writes its parts into a
 * directory; or verifies a receipt token against the device key.
 *
 * usage: open-record record DB RECORD_ID DEVICE_PUB SEAL_KEYPAIR_FILE OUTDIR
 *          prints the header as JSON; writes OUTDIR/PART for every part
 *        open-record token TOKEN DEVICE_PUB
 *          prints the token's fields as JSON, exit 1 when it does not verify
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retas-b64.h"
#include "retas-keys.h"
#include "retas-record.h"
#include "retas-uuid.h"
#include "sync-qr.h"

static void hexout(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

static int cmd_record(char **argv)
{
	struct retas_box_keypair seal;
	struct retas_record_header h;
	struct retas_container *body = NULL;
	struct retas_error err = {0};
	uint8_t pk[32], hash[32];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char id[37], path[4096];

	if (retas_b64url_decode_key(argv[3], pk, 32) < 0 ||
	    retas_box_keypair_load(argv[4], 0, &seal, &err) < 0) {
		fprintf(stderr, "bad keys: %s\n", err.message);
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT sealed FROM record WHERE id = ?", -1, &st, NULL) !=
		SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], sqlite3_errmsg(db));
		return 2;
	}
	sqlite3_bind_text(st, 1, argv[2], -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		fprintf(stderr, "no record %s\n", argv[2]);
		return 1;
	}
	if (retas_record_open(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), pk,
			      seal.pk, seal.sk, &h, &body, &err) < 0) {
		fprintf(stderr, "record does not open: %s (%s)\n", err.message, err.reason);
		return 1;
	}
	retas_record_hash(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), hash);
	retas_uuid_format(h.id, id);
	printf("{\"id\": \"%s\", \"seq\": %" PRIu64 ", \"st_nomor\": \"%s\", \"device_id\": \"%s\","
	       " \"officer_nip\": \"%s\", \"created_ms\": %" PRId64 ", \"prev_hash\": \"",
	       id, h.seq, h.st_nomor, h.device_id, h.officer_nip, h.created_ms);
	hexout(h.prev_hash, 32);
	printf("\", \"hash\": \"");
	hexout(hash, 32);
	printf("\", \"parts\": [");
	for (size_t i = 0; i < body->n_parts; i++) {
		FILE *f;

		printf("%s{\"name\": \"%s\", \"type\": \"%s\", \"len\": %zu}", i ? ", " : "",
		       body->parts[i].name, body->parts[i].type, body->parts[i].len);
		snprintf(path, sizeof(path), "%s/%s", argv[5], body->parts[i].name);
		f = fopen(path, "wb");
		if (!f || fwrite(body->parts[i].data, 1, body->parts[i].len, f) !=
			      body->parts[i].len || fclose(f) != 0) {
			perror(path);
			return 2;
		}
	}
	printf("]}\n");
	retas_container_free(body);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}

static int cmd_token(char **argv)
{
	struct retas_error err = {0};
	struct sync_qr q;
	uint8_t pk[32];
	char id[37], date[11];

	if (retas_b64url_decode_key(argv[2], pk, 32) < 0)
		return 2;
	if (sync_qr_verify(argv[1], strlen(argv[1]), pk, &q, &err) < 0) {
		fprintf(stderr, "token does not verify: %s (%s)\n", err.message, err.reason);
		return 1;
	}
	retas_uuid_format(q.record_id, id);
	retas_date_format(&q.date, date);
	printf("{\"kid\": \"%s\", \"record_id\": \"%s\", \"npsn\": \"%s\", \"date\": \"%s\","
	       " \"hash\": \"",
	       q.kid, id, q.npsn, date);
	hexout(q.record_hash, 32);
	printf("\"}\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "record") == 0)
		return cmd_record(argv + 1);
	if (argc == 4 && strcmp(argv[1], "token") == 0)
		return cmd_token(argv + 1);
	fprintf(stderr, "usage: see the source's header\n");
	return 2;
}
