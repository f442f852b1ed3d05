/*
 * libFuzzer target: the sealed record reader behind the signature. The
 * harness signs the mutated bytes again with the fixed device key before
 * reading them, so the header field checks, the sealed key and the
 * decryption are reached on every input.
 *
 * Input: one mode byte, then a record. Mode bit 0 clear: the record is
 * only signed again (a mutated sealed key or ciphertext then fails at
 * record.seal or record.decrypt). Bit 0 set: the bytes where the
 * ciphertext stands are taken as the plaintext part container and sealed
 * (record key sealed to the fixed head office key, encrypted with the
 * header as associated data) before signing, so the fuzzer drives the
 * container decoder through the whole open path. A re-sealed record must
 * then never fail for its signature, key or ciphertext. The checks shared
 * with fuzz-record are in fuzz-record.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-record.h"

#define SEALED_KEY_LEN 80
#define NONCE_LEN 24
#define TAG_LEN 16
#define SIG_LEN 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_keys();
	return 0;
}

/* The header's length (docs/record-format.md §3.2), 0 when cut short. */
static size_t header_len(const uint8_t *rec, size_t len)
{
	size_t off = 21;

	for (int i = 0; i < 3; i++) {
		if (off >= len)
			return 0;
		off += 1 + (size_t)rec[off];
	}
	off += 8 + 32 + 8;
	return off <= len ? off : 0;
}

/* header | sealed key | nonce (from the input) | ct length | AEAD(plaintext) | room for the
 * signature; NULL when the input is too short to hold a header, a nonce and a signature. */
static uint8_t *reseal(const uint8_t *rec, size_t len, size_t *out_len)
{
	const struct fuzz_keys *k = fuzz_keys();
	size_t h = header_len(rec, len), plain_off, plain_len, total;
	uint8_t key[32], *out, *w;

	if (!h || len < h + SEALED_KEY_LEN + NONCE_LEN + 4 + SIG_LEN)
		return NULL;
	plain_off = h + SEALED_KEY_LEN + NONCE_LEN + 4;
	plain_len = len - SIG_LEN - plain_off;
	total = plain_off + plain_len + TAG_LEN + SIG_LEN;
	out = malloc(total);
	FUZZ_CHECK(out);
	memcpy(out, rec, h);
	w = out + h;
	memset(key, FUZZ_RECORD_KEY_FILL, sizeof(key));
	FUZZ_CHECK(crypto_box_seal(w, key, sizeof(key), k->hq_seal_pk) == 0);
	w += SEALED_KEY_LEN;
	memcpy(w, rec + h + SEALED_KEY_LEN, NONCE_LEN);
	w += NONCE_LEN;
	for (int i = 0; i < 4; i++)
		w[i] = (uint8_t)((plain_len + TAG_LEN) >> (8 * i));
	w += 4;
	crypto_aead_xchacha20poly1305_ietf_encrypt(w, NULL, rec + plain_off, plain_len, out, h,
						   NULL, w - 4 - NONCE_LEN, key);
	*out_len = total;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct retas_container *body = NULL;
	struct retas_error err = {0};
	uint8_t *rec = NULL;
	size_t len = 0;
	int resealed = 0, r;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		rec = reseal(data + 1, size - 1, &len);
		resealed = rec != NULL;
	}
	if (!rec) {
		len = size - 1;
		rec = malloc(len ? len : 1);
		FUZZ_CHECK(rec);
		if (len)
			memcpy(rec, data + 1, len);
	}
	if (len >= SIG_LEN)
		crypto_sign_detached(rec + len - SIG_LEN, NULL, rec, len - SIG_LEN, k->device_sk);
	fuzz_record_check(rec, len);
	if (resealed) {
		r = retas_record_open(rec, len, k->device_pk, k->hq_seal_pk, k->hq_seal_sk, NULL,
				      &body, &err);
		/* Only the header's bytes or the container can be wrong now. */
		FUZZ_CHECK(r == 0 || strcmp(err.reason, "record.magic") == 0 ||
			   strcmp(err.reason, "record.version") == 0 ||
			   strcmp(err.reason, "record.header") == 0 ||
			   strcmp(err.reason, "record.container") == 0);
		retas_container_free(body);
	}
	free(rec);
	return 0;
}
