/*
 * The wire formats shared by the van and head office (sync/): batch
 * framing, signed request headers, receipts and receipt QR tokens, each
 * round-tripped and each refused when altered.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "retas-jws.h"
#include "retas-uuid.h"
#include "sync-auth.h"
#include "sync-batch.h"
#include "sync-qr.h"
#include "sync-receipt.h"

static void wire_batch_round_trip(void **state)
{
	const char *manifest = "eyJhbGciOiJFZERTQSJ9.e30.c2ln";
	const uint8_t r1[] = "first record", r2[] = "second";
	const uint8_t *recs[] = {r1, r2};
	size_t lens[] = {sizeof(r1), sizeof(r2)}, len;
	struct sync_batch *b = NULL;
	uint8_t *buf = NULL;

	assert_int_equal(sync_batch_encode(manifest, strlen(manifest), recs, lens, 2, &buf, &len),
			 0);
	assert_int_equal(len, sync_batch_size(strlen(manifest), lens, 2));
	assert_int_equal(len, 8 + 4 + strlen(manifest) + 4 + 4 + sizeof(r1) + 4 + sizeof(r2));
	assert_memory_equal(buf, "RETASBT1", 8);
	assert_int_equal(sync_batch_parse(buf, len, &b, NULL), 0);
	assert_int_equal(b->manifest_len, strlen(manifest));
	assert_memory_equal(b->manifest, manifest, strlen(manifest));
	assert_int_equal(b->n_records, 2);
	assert_int_equal(b->records[1].len, sizeof(r2));
	assert_memory_equal(b->records[1].data, r2, sizeof(r2));
	sync_batch_free(b);
	free(buf);
}

static void wire_batch_refuses_bad_framing(void **state)
{
	const char *manifest = "m.a.n";
	const uint8_t r1[] = "abc";
	const uint8_t *recs[] = {r1};
	size_t lens[] = {3}, len, zero = 0;
	struct retas_error err = {0};
	struct sync_batch *b = NULL;
	uint8_t *buf = NULL, *big;

	assert_int_equal(sync_batch_encode(manifest, 5, recs, lens, 1, &buf, &len), 0);
	/* every truncation is refused */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(sync_batch_parse(buf, cut, &b, &err), -EBADMSG);
	big = malloc(len + 1);
	memcpy(big, buf, len);
	big[len] = 0;
	assert_int_equal(sync_batch_parse(big, len + 1, &b, &err), -EBADMSG);
	assert_string_equal(err.reason, "batch.trailing");
	/* a count larger than the bytes could hold */
	memcpy(big, buf, len);
	big[8 + 4 + 5 + 3] = 0x7f;
	assert_int_equal(sync_batch_parse(big, len, &b, &err), -EBADMSG);
	assert_string_equal(err.reason, "batch.count");
	/* a zero-length record */
	memcpy(big, buf, len);
	memset(big + 8 + 4 + 5 + 4, 0, 4);
	assert_int_equal(sync_batch_parse(big, len, &b, &err), -EBADMSG);
	assert_string_equal(err.reason, "batch.record");
	big[0] = 'X';
	assert_int_equal(sync_batch_parse(big, len, &b, &err), -EBADMSG);
	assert_string_equal(err.reason, "batch.magic");
	assert_int_equal(sync_batch_encode(manifest, 5, recs, &zero, 1, &buf, &len), -EINVAL);
	free(big);
	free(buf);
}

static void wire_auth_round_trip_and_tamper(void **state)
{
	uint8_t pk[32], sk[64], pk2[32], sk2[64], nonce[16] = {1, 2, 3};
	struct sync_auth a;
	struct retas_error err = {0};
	char *h = NULL;

	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	assert_int_equal(sync_auth_sign("PATCH", "/tus/abc", 1700000000123, nonce, pk, sk, &h), 0);
	assert_int_equal(strncmp(h, "v1 kid=", 7), 0);
	assert_int_equal(sync_auth_parse(h, strlen(h), &a, &err), 0);
	assert_int_equal(a.ts_ms, 1700000000123);
	assert_int_equal(sync_auth_verify(&a, "PATCH", "/tus/abc", pk, &err), 0);
	assert_int_equal(sync_auth_verify(&a, "HEAD", "/tus/abc", pk, &err), -EPERM);
	assert_int_equal(sync_auth_verify(&a, "PATCH", "/tus/abd", pk, &err), -EPERM);
	assert_int_equal(sync_auth_verify(&a, "PATCH", "/tus/abc", pk2, &err), -EPERM);
	a.ts_ms++;
	assert_int_equal(sync_auth_verify(&a, "PATCH", "/tus/abc", pk, &err), -EPERM);
	assert_string_equal(err.reason, "auth.signature");
	/* strict form */
	{
		char bad[400];

		snprintf(bad, sizeof(bad), "%s ", h);
		assert_int_equal(sync_auth_parse(bad, strlen(bad), &a, &err), -EINVAL);
		snprintf(bad, sizeof(bad), "v2%s", h + 2);
		assert_int_equal(sync_auth_parse(bad, strlen(bad), &a, &err), -EINVAL);
		assert_int_equal(
		    sync_auth_parse("v1 kid=AAAAAAAAAAAAAAAA,ts=01,nonce=x,sig=y", 42, &a, &err),
		    -EINVAL);
		assert_string_equal(err.reason, "auth.format");
		assert_int_equal(sync_auth_parse("", 0, &a, &err), -EINVAL);
	}
	free(h);
}

static void wire_receipt_round_trip_and_forged(void **state)
{
	uint8_t pk[32], sk[64], pk2[32], sk2[64];
	struct sync_receipt_record recs[2] = {0};
	struct sync_receipt_anomaly an = {.kind = "gap", .seq_from = 3, .seq_to = 4};
	struct sync_receipt r = {.batch_id = "01890a5d-ac96-774b-bcce-b302099a8057",
				 .device_id = "MPK-01",
				 .st_nomor = "800/041/DUKCAPIL/2026",
				 .received_ms = 1795500000000,
				 .records = recs,
				 .n_records = 2,
				 .anomalies = &an,
				 .n_anomalies = 1};
	struct sync_receipt *back = NULL;
	struct retas_error err = {0};
	struct retas_jws *jws = NULL;
	char *tok = NULL, kid[17];

	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	retas_uuid7_new(1795500000000, recs[0].id);
	retas_uuid7_new(1795500000001, recs[1].id);
	recs[0].seq = 5;
	recs[1].seq = 6;
	memset(recs[0].sha256, 0xab, 32);
	recs[1].outcome = SYNC_OUTCOME_QUARANTINED;
	snprintf(recs[1].reason, sizeof(recs[1].reason), "record.hash");
	assert_int_equal(sync_receipt_sign(&r, pk, sk, &tok, &err), 0);
	assert_int_equal(retas_jws_peek(tok, strlen(tok), &jws, NULL), 0);
	assert_string_equal(jws->typ, SYNC_RECEIPT_JWS_TYP);
	retas_key_id(pk, kid);
	assert_string_equal(jws->kid, kid);
	retas_jws_free(jws);
	assert_int_equal(sync_receipt_verify(tok, strlen(tok), pk, &back, &err), 0);
	assert_string_equal(back->batch_id, r.batch_id);
	assert_string_equal(back->device_id, "MPK-01");
	assert_string_equal(back->st_nomor, r.st_nomor);
	assert_int_equal(back->received_ms, r.received_ms);
	assert_int_equal(back->n_records, 2);
	assert_memory_equal(back->records[0].sha256, recs[0].sha256, 32);
	assert_int_equal(back->records[0].outcome, SYNC_OUTCOME_STORED);
	assert_int_equal(back->records[1].seq, 6);
	assert_string_equal(back->records[1].reason, "record.hash");
	assert_ptr_equal(sync_receipt_find(back, recs[1].id), &back->records[1]);
	assert_int_equal(back->n_anomalies, 1);
	assert_int_equal(back->anomalies[0].seq_to, 4);
	sync_receipt_free(back);
	/* a receipt under another key is refused */
	assert_true(sync_receipt_verify(tok, strlen(tok), pk2, &back, &err) < 0);
	assert_string_equal(err.reason, "jws.signature");
	free(tok);
	/* another typ (a surat tugas signed with the same key) is no receipt */
	assert_int_equal(retas_jws_sign("{}", 2, "retas-st+jws", NULL, sk, &tok, NULL), 0);
	assert_true(sync_receipt_verify(tok, strlen(tok), pk, &back, &err) < 0);
	assert_string_equal(err.reason, "jws.typ");
	free(tok);
}

static void wire_qr_token_round_trip(void **state)
{
	uint8_t pk[32], sk[64], pk2[32], sk2[64];
	struct sync_qr q = {.npsn = "10504187", .date = {2026, 11, 24}}, back;
	struct retas_error err = {0};
	char *tok = NULL, kid[17];

	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	retas_uuid7_new(1795500000000, q.record_id);
	memset(q.record_hash, 0x5a, 32);
	assert_int_equal(sync_qr_make(&q, pk, sk, &tok), 0);
	assert_int_equal(strlen(tok), SYNC_QR_TOKEN_LEN);
	assert_int_equal(strncmp(tok, SYNC_QR_PREFIX, 4), 0);
	assert_int_equal(sync_qr_peek(tok, strlen(tok), &back, &err), 0);
	retas_key_id(pk, kid);
	assert_string_equal(back.kid, kid);
	assert_int_equal(sync_qr_verify(tok, strlen(tok), pk, &back, &err), 0);
	assert_memory_equal(back.record_id, q.record_id, 16);
	assert_string_equal(back.npsn, "10504187");
	assert_int_equal(back.date.year, 2026);
	assert_int_equal(back.date.month, 11);
	assert_int_equal(back.date.day, 24);
	assert_memory_equal(back.record_hash, q.record_hash, 32);
	assert_int_equal(sync_qr_verify(tok, strlen(tok), pk2, &back, &err), -EPERM);
	assert_string_equal(err.reason, "qr.key");
	/* one character changed in the body */
	tok[40] = tok[40] == 'A' ? 'B' : 'A';
	assert_true(sync_qr_verify(tok, strlen(tok), pk, &back, &err) < 0);
	assert_int_equal(sync_qr_verify(tok, 10, pk, &back, &err), -EINVAL);
	assert_string_equal(err.reason, "qr.format");
	free(tok);
	strcpy(q.npsn, "1050418");
	assert_int_equal(sync_qr_make(&q, pk, sk, &tok), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(wire_batch_round_trip),
	    cmocka_unit_test(wire_batch_refuses_bad_framing),
	    cmocka_unit_test(wire_auth_round_trip_and_tamper),
	    cmocka_unit_test(wire_receipt_round_trip_and_forged),
	    cmocka_unit_test(wire_qr_token_round_trip),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
