/*
 * Seal and open throughput of a record body of about 400 KB (a 300 KB
 * JPEG-like photo that does not compress, 100 KB of raw grey finger image
 * that does, and the demographics JSON), against the baseline of the same
 * bytes through bare zlib and XChaCha20-Poly1305 in the same run. The
 * envelope adds a signature, a sealed key and the container, and saves the
 * deflate of the JPEG; the ratio shows what that nets.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "retas-record.h"
#include "retas-util.h"
#include "retas-uuid.h"

#define JPEG_LEN (300 * 1024)
#define GREY_LEN (100 * 1024)
#define ROUNDS 5
#define ROUND_SECONDS 0.4

RETAS_DEFINE_CLEANUP(struct retas_container, retas_container_free)

static const char demo_json[] =
    "{\"nik\":\"1571014707090001\",\"nama\":\"Siti Aminah\",\"kelas\":\"XI IPA 2\","
    "\"jenis_kelamin\":\"P\",\"tanggal_lahir\":\"2009-07-07\",\"tempat_lahir\":\"Jambi\","
    "\"alamat\":\"Jl. Urip Sumoharjo No. 12, Kota Jambi\",\"agama\":\"Islam\"}";

struct ctx {
	struct retas_container *body;
	uint8_t *flat; /* the same parts end to end, for the baseline */
	size_t flat_len;
	uint8_t dev_pk[32], dev_sk[64], hq_pk[32], hq_sk[32];
	struct retas_record_header h;
	uint8_t *rec;
	size_t rec_len;
	uint8_t key[32], nonce[24];
	uint8_t *zbuf, *ct, *back;
	size_t zlen, ct_len;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "bench-seal: %s failed\n", what);
	exit(1);
}

static void ours_seal(struct ctx *c)
{
	uint8_t *rec = NULL;
	size_t len;

	if (retas_record_seal(&c->h, c->body, c->hq_pk, c->dev_sk, &rec, &len, NULL) < 0)
		fail("retas_record_seal");
	free(rec);
}

static void ours_open(struct ctx *c)
{
	struct retas_container *body = NULL;

	if (retas_record_open(c->rec, c->rec_len, c->dev_pk, c->hq_pk, c->hq_sk, NULL, &body,
			      NULL) < 0)
		fail("retas_record_open");
	retas_container_free(body);
}

static void base_seal(struct ctx *c)
{
	uLongf zlen = compressBound(c->flat_len);

	if (compress2(c->zbuf, &zlen, c->flat, c->flat_len, 6) != Z_OK)
		fail("compress2");
	randombytes_buf(c->nonce, sizeof(c->nonce));
	crypto_aead_xchacha20poly1305_ietf_encrypt(c->ct, NULL, c->zbuf, zlen, NULL, 0, NULL,
						   c->nonce, c->key);
	c->zlen = zlen;
	c->ct_len = zlen + crypto_aead_xchacha20poly1305_ietf_ABYTES;
}

static void base_open(struct ctx *c)
{
	uLongf out = c->flat_len;

	if (crypto_aead_xchacha20poly1305_ietf_decrypt(c->zbuf, NULL, NULL, c->ct, c->ct_len, NULL,
						       0, c->nonce, c->key) != 0)
		fail("decrypt");
	if (uncompress(c->back, &out, c->zbuf, c->zlen) != Z_OK || out != c->flat_len)
		fail("uncompress");
}

/* Best of several timed rounds, in operations per second. */
static double rate(struct ctx *c, void (*op)(struct ctx *))
{
	double best = 0;

	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_s(), t;
		long n = 0;

		do {
			op(c);
			n++;
			t = now_s() - t0;
		} while (t < ROUND_SECONDS);
		if (n / t > best)
			best = n / t;
	}
	return best;
}

static void setup(struct ctx *c)
{
	uint8_t *jpeg = malloc(JPEG_LEN), *grey = malloc(GREY_LEN);
	uint32_t seed = 1;

	if (!jpeg || !grey || sodium_init() < 0 || retas_container_new(&c->body) < 0)
		fail("setup");
	randombytes_buf(jpeg, JPEG_LEN);
	jpeg[0] = 0xff;
	jpeg[1] = 0xd8;
	/* Ridges a few pixels wide, dark on light, with sensor noise. */
	for (size_t i = 0; i < GREY_LEN; i++) {
		size_t x = i % 256, y = i / 256;

		seed = seed * 1103515245u + 12345u;
		grey[i] = (uint8_t)((((x + y / 3) / 6) % 2 ? 200 : 60) + ((seed >> 16) & 1));
	}
	if (retas_container_add(c->body, "demografi.json", "application/json", demo_json,
				strlen(demo_json)) < 0 ||
	    retas_container_add(c->body, "jari-01.raw", "application/octet-stream", grey,
				GREY_LEN) < 0 ||
	    retas_container_add(c->body, "foto.jpg", "image/jpeg", jpeg, JPEG_LEN) < 0)
		fail("retas_container_add");
	c->flat_len = strlen(demo_json) + GREY_LEN + JPEG_LEN;
	c->flat = malloc(c->flat_len);
	c->back = malloc(c->flat_len);
	c->zbuf = malloc(compressBound(c->flat_len));
	c->ct = malloc(compressBound(c->flat_len) + crypto_aead_xchacha20poly1305_ietf_ABYTES);
	if (!c->flat || !c->back || !c->zbuf || !c->ct)
		fail("malloc");
	memcpy(c->flat, demo_json, strlen(demo_json));
	memcpy(c->flat + strlen(demo_json), grey, GREY_LEN);
	memcpy(c->flat + strlen(demo_json) + GREY_LEN, jpeg, JPEG_LEN);
	free(jpeg);
	free(grey);

	crypto_sign_keypair(c->dev_pk, c->dev_sk);
	crypto_box_keypair(c->hq_pk, c->hq_sk);
	crypto_aead_xchacha20poly1305_ietf_keygen(c->key);
	retas_uuid7_new(1795478400000LL, c->h.id);
	strcpy(c->h.st_nomor, "800/041/DUKCAPIL/2026");
	strcpy(c->h.device_id, "MPK-01");
	strcpy(c->h.officer_nip, "198703152010011002");
	c->h.seq = 1;
	c->h.created_ms = 1795478400000LL;
	if (retas_record_seal(&c->h, c->body, c->hq_pk, c->dev_sk, &c->rec, &c->rec_len, NULL) < 0)
		fail("retas_record_seal");
	base_seal(c);
}

int main(void)
{
	struct ctx c = {0};
	double mb, seal_ours, seal_base, open_ours, open_base;

	setup(&c);
	mb = (double)c.flat_len / 1e6;
	seal_base = rate(&c, base_seal);
	seal_ours = rate(&c, ours_seal);
	open_base = rate(&c, base_open);
	open_ours = rate(&c, ours_open);

	printf("body: %zu bytes (JPEG %u, grey %u, JSON %zu)\n", c.flat_len, JPEG_LEN, GREY_LEN,
	       strlen(demo_json));
	printf("sizes: record %zu bytes, baseline zlib+AEAD %zu bytes\n", c.rec_len, c.ct_len);
	printf("seal: record %.1f MB/s, baseline %.1f MB/s, ratio %.2f\n", seal_ours * mb,
	       seal_base * mb, seal_ours / seal_base);
	printf("open: record %.1f MB/s, baseline %.1f MB/s, ratio %.2f\n", open_ours * mb,
	       open_base * mb, open_ours / open_base);
	retas_container_free(c.body);
	free(c.flat);
	free(c.back);
	free(c.zbuf);
	free(c.ct);
	free(c.rec);
	return 0;
}
