/*
 * The checks both record targets make on a record's bytes: that a refusal
 * names its reason, that the three readers agree (what opens verifies,
 * what verifies has the header retas_record_read_header reads, and a
 * structural refusal is the same from each), and that an opened record
 * sealed again with its own header opens to the same parts.
 */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "retas-record.h"

static int header_equal(const struct retas_record_header *a, const struct retas_record_header *b)
{
	return memcmp(a->id, b->id, 16) == 0 && strcmp(a->st_nomor, b->st_nomor) == 0 &&
	       strcmp(a->device_id, b->device_id) == 0 &&
	       strcmp(a->officer_nip, b->officer_nip) == 0 && a->seq == b->seq &&
	       memcmp(a->prev_hash, b->prev_hash, 32) == 0 && a->created_ms == b->created_ms;
}

static void check_reseal(const struct retas_record_header *h, const struct retas_container *body)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct retas_record_header h2;
	struct retas_container *again = NULL;
	struct retas_error err = {0};
	uint8_t *rec = NULL;
	size_t len = 0;

	FUZZ_CHECK(retas_record_seal(h, body, k->hq_seal_pk, k->device_sk, &rec, &len, &err) == 0);
	FUZZ_CHECK(retas_record_open(rec, len, k->device_pk, k->hq_seal_pk, k->hq_seal_sk, &h2,
				     &again, &err) == 0);
	FUZZ_CHECK(header_equal(h, &h2));
	FUZZ_CHECK(again->n_parts == body->n_parts);
	for (size_t i = 0; i < body->n_parts; i++) {
		FUZZ_CHECK(strcmp(again->parts[i].name, body->parts[i].name) == 0);
		FUZZ_CHECK(again->parts[i].len == body->parts[i].len);
		FUZZ_CHECK(body->parts[i].len == 0 ||
			   memcmp(again->parts[i].data, body->parts[i].data, body->parts[i].len) ==
			       0);
	}
	retas_container_free(again);
	free(rec);
}

/* Reads data with all three entry points and checks that they agree. */
static void fuzz_record_check(const uint8_t *data, size_t size)
{
	const struct fuzz_keys *k = fuzz_keys();
	struct retas_record_header h1, h2, h3;
	struct retas_container *body = NULL;
	struct retas_error e1 = {0}, e2 = {0}, e3 = {0};
	int r1, r2, r3;

	r1 = retas_record_read_header(data, size, &h1, &e1);
	r2 = retas_record_verify(data, size, k->device_pk, &h2, &e2);
	r3 = retas_record_open(data, size, k->device_pk, k->hq_seal_pk, k->hq_seal_sk, &h3, &body,
			       &e3);
	if (r1 < 0)
		FUZZ_CHECK_REFUSAL(r1, e1);
	if (r2 < 0)
		FUZZ_CHECK_REFUSAL(r2, e2);
	if (r3 < 0) {
		FUZZ_CHECK_REFUSAL(r3, e3);
		FUZZ_CHECK(body == NULL);
	}
	if (r2 == 0) {
		FUZZ_CHECK(r1 == 0 && header_equal(&h1, &h2));
		FUZZ_CHECK(h2.seq >= 1 && h2.created_ms >= 0);
	} else if (r1 == 0) {
		FUZZ_CHECK(strcmp(e2.reason, "record.signature") == 0);
	} else {
		/* The same structural refusal from both. */
		FUZZ_CHECK(strcmp(e1.reason, e2.reason) == 0);
	}
	if (r3 == 0) {
		FUZZ_CHECK(r2 == 0 && header_equal(&h2, &h3));
		check_reseal(&h3, body);
	} else if (r2 < 0) {
		FUZZ_CHECK(strcmp(e2.reason, e3.reason) == 0);
	}
	retas_container_free(body);
}
