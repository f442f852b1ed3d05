/*
 * Fixed keys for the fuzz targets and their seed generator: a van's device
 * key and head office's seal key, derived from constant seeds so that the
 * seed records open and the fuzzer can mutate real structures.
 */
#pragma once

#include <sodium.h>
#include <string.h>

struct fuzz_keys {
	uint8_t dev_pk[32], dev_sk[64];
	uint8_t hq_pk[32], hq_sk[32];
};

static inline void fuzz_keys(struct fuzz_keys *k)
{
	uint8_t seed[32];

	if (sodium_init() < 0)
		__builtin_trap();
	memset(seed, 0x11, sizeof(seed));
	crypto_sign_seed_keypair(k->dev_pk, k->dev_sk, seed);
	memset(seed, 0x22, sizeof(seed));
	crypto_box_seed_keypair(k->hq_pk, k->hq_sk, seed);
}
