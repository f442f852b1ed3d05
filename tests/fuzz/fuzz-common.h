/*
 * What every libFuzzer target in tests/fuzz shares: the fixed keys the
 * corpus generator signs and seals with (so a seed from the checked-in
 * corpus verifies and the fuzzer starts past the signature), the region
 * data loaded once, and FUZZ_CHECK for the invariants a target asserts on
 * top of the sanitizers: an abort is a crash to libFuzzer, with the input
 * written out as the reproducer.
 *
 * The keys are derived from constant seeds: they protect nothing and exist
 * only so runs are repeatable.
 */
#pragma once

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "retas-error.h"
#include "retas-regions.h"

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant does not hold: %s\n", __FILE__,          \
				__LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A refusal must say why: every entry point fuzzed here documents a reason
 * id for each error it returns. */
#define FUZZ_CHECK_REFUSAL(r, err)                                                                 \
	do {                                                                                       \
		FUZZ_CHECK((r) < 0);                                                               \
		FUZZ_CHECK((err).reason[0] != '\0');                                               \
		FUZZ_CHECK((err).code == (r));                                                     \
	} while (0)

#define FUZZ_SEED_DEVICE 0x11	  /* the van's Ed25519 device key */
#define FUZZ_SEED_HQ_SEAL 0x22	  /* head office's X25519 seal key */
#define FUZZ_SEED_HQ_SIGN 0x33	  /* head office's Ed25519 signing key */
#define FUZZ_RECORD_KEY_FILL 0x44 /* the record key the re-sealing target uses */

struct fuzz_keys {
	uint8_t device_pk[32], device_sk[64];
	uint8_t hq_seal_pk[32], hq_seal_sk[32];
	uint8_t hq_sign_pk[32], hq_sign_sk[64];
};

static inline const struct fuzz_keys *fuzz_keys(void)
{
	static struct fuzz_keys k;
	static int ready;
	uint8_t seed[32];

	if (ready)
		return &k;
	if (sodium_init() < 0) {
		fprintf(stderr, "fuzz: libsodium does not start\n");
		abort();
	}
	memset(seed, FUZZ_SEED_DEVICE, sizeof(seed));
	crypto_sign_seed_keypair(k.device_pk, k.device_sk, seed);
	memset(seed, FUZZ_SEED_HQ_SEAL, sizeof(seed));
	crypto_box_seed_keypair(k.hq_seal_pk, k.hq_seal_sk, seed);
	memset(seed, FUZZ_SEED_HQ_SIGN, sizeof(seed));
	crypto_sign_seed_keypair(k.hq_sign_pk, k.hq_sign_sk, seed);
	ready = 1;
	return &k;
}

/*
 * The region data: $RETAS_DATADIR/wilayah.tsv when set (the runner sets
 * it), else the source tree's data/wilayah.tsv. A fuzzer that silently ran
 * without regions would skip the kecamatan and province checks, so a
 * missing file stops it.
 */
static inline const struct retas_regions *fuzz_regions(void)
{
	static struct retas_regions *regions;
	struct retas_error err = {0};
	int r;

	if (regions)
		return regions;
	if (getenv("RETAS_DATADIR"))
		r = retas_regions_load_default(&regions, &err);
	else
		r = retas_regions_load(RETAS_SOURCE_ROOT "/data/wilayah.tsv", &regions, &err);
	if (r < 0) {
		fprintf(stderr, "fuzz: cannot load the region data: %s\n", err.message);
		abort();
	}
	return regions;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
