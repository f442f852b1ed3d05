/*
 * libFuzzer target: the part container decoder (retas_container_decode),
 * the plaintext body of a sealed record. Besides the sanitizers it asserts
 * that a refusal names its reason, that a decoded container keeps the
 * documented limits, and that encoding it and decoding the result gives
 * the same parts, byte for byte, in the same order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "retas-record.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void check_same(const struct retas_container *a, const struct retas_container *b)
{
	FUZZ_CHECK(a->n_parts == b->n_parts);
	for (size_t i = 0; i < a->n_parts; i++) {
		const struct retas_part *p = &a->parts[i], *q = &b->parts[i];

		FUZZ_CHECK(strcmp(p->name, q->name) == 0 && strcmp(p->type, q->type) == 0);
		FUZZ_CHECK(p->len == q->len);
		FUZZ_CHECK(p->len == 0 || memcmp(p->data, q->data, p->len) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retas_container *c = NULL, *again = NULL;
	struct retas_error err = {0};
	uint8_t *enc = NULL;
	size_t enc_len = 0, total = 0;
	int r;

	r = retas_container_decode(data, size, &c, &err);
	if (r < 0) {
		FUZZ_CHECK_REFUSAL(r, err);
		FUZZ_CHECK(strncmp(err.reason, "container.", 10) == 0);
		return 0;
	}
	FUZZ_CHECK(r == 0 && c);
	FUZZ_CHECK(c->n_parts <= RETAS_CONTAINER_MAX_PARTS);
	for (size_t i = 0; i < c->n_parts; i++) {
		const struct retas_part *p = &c->parts[i];

		FUZZ_CHECK(p->data != NULL);
		FUZZ_CHECK(strlen(p->name) >= 1 && strlen(p->name) <= RETAS_PART_NAME_MAX);
		FUZZ_CHECK(strlen(p->type) >= 3 && strlen(p->type) <= RETAS_PART_TYPE_MAX);
		FUZZ_CHECK(retas_container_get(c, p->name) == p);
		total += p->len;
	}
	FUZZ_CHECK(total <= RETAS_CONTAINER_MAX_SIZE);
	r = retas_container_encode(c, &enc, &enc_len, &err);
	FUZZ_CHECK(r == 0);
	r = retas_container_decode(enc, enc_len, &again, &err);
	if (r < 0)
		fprintf(stderr, "re-decode refused (%s): %s\n", err.reason, err.message);
	FUZZ_CHECK(r == 0);
	check_same(c, again);
	free(enc);
	retas_container_free(c);
	retas_container_free(again);
	return 0;
}
