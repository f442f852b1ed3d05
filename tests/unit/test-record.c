/*
 * The part container and the sealed record envelope: round trips, what is
 * deflated and what is stored, every documented failure with its reason,
 * single-bit flips at every offset of a record, truncation at every length,
 * the header bytes pinned against docs/record-format.md, and a record built
 * here straight from the spec with bare libsodium that the library opens.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>
#include <zlib.h>

#include "retas-record.h"
#include "retas-util.h"

RETAS_DEFINE_CLEANUP(struct retas_container, retas_container_free)

/* Byte offsets of the pinned header (docs/record-format.md §3.4). */
#define OFF_ID 5
#define HDR_STR_OFF 21
#define SEALED_KEY_LEN 80
#define NONCE_LEN 24
#define TAG_LEN 16
#define SIG_LEN 64

static const char pinned_header_hex[] = "525453520101a20ada2c007abc8def01"
					"23456789ab153830302f3034312f4455"
					"4b434150494c2f32303236064d504b2d"
					"30311231393837303331353230313030"
					"31313030322a00000000000000000102"
					"030405060708090a0b0c0d0e0f101112"
					"131415161718191a1b1c1d1e1f002cda"
					"0aa2010000";

struct keys {
	uint8_t dev_pk[32], dev_sk[64];
	uint8_t hq_pk[32], hq_sk[32];
};

static void make_keys(struct keys *k)
{
	crypto_sign_keypair(k->dev_pk, k->dev_sk);
	crypto_box_keypair(k->hq_pk, k->hq_sk);
}

static void fixed_header(struct retas_record_header *h)
{
	static const uint8_t id[16] = {0x01, 0xa2, 0x0a, 0xda, 0x2c, 0x00, 0x7a, 0xbc,
				       0x8d, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab};

	memset(h, 0, sizeof(*h));
	memcpy(h->id, id, 16);
	strcpy(h->st_nomor, "800/041/DUKCAPIL/2026");
	strcpy(h->device_id, "MPK-01");
	strcpy(h->officer_nip, "198703152010011002");
	h->seq = 42;
	for (int i = 0; i < 32; i++)
		h->prev_hash[i] = (uint8_t)i;
	h->created_ms = 1795478400000LL;
}

/* A 256x180 8-bit grey frame with ridge-like stripes and a little noise:
 * compressible the way raw finger images are. */
static uint8_t *grey_image(size_t len)
{
	uint8_t *img = malloc(len);
	uint32_t seed = 12345;

	assert_non_null(img);
	for (size_t i = 0; i < len; i++) {
		size_t x = i % 256, y = i / 256;

		seed = seed * 1103515245u + 12345u;
		img[i] = (uint8_t)((((x + y / 3) / 6) % 2 ? 200 : 60) + ((seed >> 16) & 1));
	}
	return img;
}

static uint8_t *random_bytes(size_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	assert_non_null(b);
	randombytes_buf(b, len);
	return b;
}

static const char demo_json[] =
    "{\"nik\":\"1571014707090001\",\"nama\":\"Siti Aminah\",\"kelas\":\"XI IPA 2\","
    "\"jenis_kelamin\":\"P\",\"tanggal_lahir\":\"2009-07-07\",\"tempat_lahir\":\"Jambi\","
    "\"alamat\":\"Jl. Urip Sumoharjo No. 12, Kota Jambi\",\"agama\":\"Islam\","
    "\"golongan_darah\":\"O\",\"status\":\"BELUM KAWIN\",\"pekerjaan\":\"PELAJAR/MAHASISWA\","
    "\"nama_ibu\":\"Nurhayati\",\"nama_ayah\":\"Ahmad Fauzi\",\"kewarganegaraan\":\"WNI\"}";

/* Walks an encoded container by the documented layout (§2) and reports
 * one part's flags and lengths. */
struct wire {
	uint8_t flags;
	uint32_t orig, stored;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void wire_parts(const uint8_t *enc, size_t len, struct wire *out, size_t n)
{
	size_t off = 7;

	assert_memory_equal(enc, "RTPC\x01", 5);
	assert_int_equal(enc[5] | enc[6] << 8, n);
	for (size_t i = 0; i < n; i++) {
		off += 1 + enc[off];
		off += 1 + enc[off];
		out[i].flags = enc[off];
		out[i].orig = le32(enc + off + 1);
		out[i].stored = le32(enc + off + 5);
		off += 9 + out[i].stored;
	}
	assert_int_equal(off, len);
}

static void container_round_trip(void **state)
{
	_cleanup_(retas_container_freep) struct retas_container *c = NULL, *back = NULL;
	_cleanup_(freep) uint8_t *grey = grey_image(46080), *jpeg = random_bytes(5000);
	_cleanup_(freep) uint8_t *enc = NULL;
	size_t len;
	struct retas_error err = {0};

	assert_int_equal(retas_container_new(&c), 0);
	assert_int_equal(retas_container_add(c, "demografi.json", "application/json", demo_json,
					     strlen(demo_json)),
			 0);
	assert_int_equal(
	    retas_container_add(c, "jari-01.raw", "application/octet-stream", grey, 46080), 0);
	assert_int_equal(retas_container_add(c, "foto.jpg", "image/jpeg", jpeg, 5000), 0);
	assert_int_equal(retas_container_add(c, "kosong", "text/plain", NULL, 0), 0);
	assert_int_equal(retas_container_encode(c, &enc, &len, &err), 0);
	assert_int_equal(retas_container_decode(enc, len, &back, &err), 0);
	assert_int_equal(back->n_parts, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(back->parts[i].name, c->parts[i].name);
		assert_string_equal(back->parts[i].type, c->parts[i].type);
		assert_int_equal(back->parts[i].len, c->parts[i].len);
		if (c->parts[i].len)
			assert_memory_equal(back->parts[i].data, c->parts[i].data, c->parts[i].len);
	}
	assert_memory_equal(retas_container_get(back, "foto.jpg")->data, jpeg, 5000);
	assert_null(retas_container_get(back, "foto.png"));
}

static void container_compresses_only_where_it_pays(void **state)
{
	_cleanup_(retas_container_freep) struct retas_container *c = NULL;
	_cleanup_(freep) uint8_t *grey = grey_image(46080), *jpeg = random_bytes(300000);
	_cleanup_(freep) uint8_t *noise = random_bytes(4000), *png = grey_image(2000);
	_cleanup_(freep) uint8_t *enc = NULL;
	struct wire w[5];
	size_t len;

	assert_int_equal(retas_container_new(&c), 0);
	assert_int_equal(retas_container_add(c, "demografi.json", "application/json", demo_json,
					     strlen(demo_json)),
			 0);
	assert_int_equal(
	    retas_container_add(c, "jari-01.raw", "application/octet-stream", grey, 46080), 0);
	assert_int_equal(retas_container_add(c, "foto.jpg", "image/jpeg", jpeg, 300000), 0);
	/* Compressible by its type, but random: deflating does not shrink it. */
	assert_int_equal(
	    retas_container_add(c, "acak.bin", "application/octet-stream", noise, 4000), 0);
	/* Already compressed by its type: stored even though deflate would
	 * shrink these bytes. */
	assert_int_equal(retas_container_add(c, "ttd.png", "IMAGE/PNG", png, 2000), 0);
	assert_int_equal(retas_container_encode(c, &enc, &len, NULL), 0);
	wire_parts(enc, len, w, 5);

	assert_int_equal(w[0].flags, 1);
	assert_int_equal(w[0].orig, strlen(demo_json));
	assert_true(w[0].stored < w[0].orig * 3 / 4);

	assert_int_equal(w[1].flags, 1);
	assert_int_equal(w[1].orig, 46080);
	assert_true(w[1].stored < 46080 / 2);

	assert_int_equal(w[2].flags, 0);
	assert_int_equal(w[2].orig, 300000);
	assert_int_equal(w[2].stored, 300000);

	assert_int_equal(w[3].flags, 0);
	assert_int_equal(w[3].stored, 4000);

	assert_int_equal(w[4].flags, 0);
	assert_int_equal(w[4].stored, 2000);
	/* The JPEG sits in the encoding byte for byte. */
	assert_non_null(memmem(enc, len, jpeg, 300000));
}

static void container_bytes_pinned(void **state)
{
	_cleanup_(retas_container_freep) struct retas_container *c = NULL;
	_cleanup_(freep) uint8_t *enc = NULL;
	static const char want[] = "52545043010100"
				   "06642e6a736f6e"
				   "106170706c69636174696f6e2f6a736f6e"
				   "00"
				   "07000000"
				   "07000000"
				   "7b2261223a317d";
	char hex[2 * 47 + 1];
	size_t len;

	/* The example of docs/record-format.md §2.3: seven bytes of JSON do not
	 * deflate smaller, so the part is stored. */
	assert_int_equal(retas_container_new(&c), 0);
	assert_int_equal(retas_container_add(c, "d.json", "application/json", "{\"a\":1}", 7), 0);
	assert_int_equal(retas_container_encode(c, &enc, &len, NULL), 0);
	assert_int_equal(len, 47);
	retas_hex_encode(enc, len, hex);
	assert_string_equal(hex, want);
}

static void container_max_ratio_round_trip(void **state)
{
	_cleanup_(retas_container_freep) struct retas_container *c = NULL, *back = NULL;
	_cleanup_(freep) uint8_t *zeros = calloc(1, 4 << 20), *enc = NULL;
	struct wire w;
	size_t len;

	/* Zeros deflate close to zlib's 1032:1 limit; the decoder's ratio
	 * bound must still accept them. */
	assert_int_equal(retas_container_new(&c), 0);
	assert_int_equal(retas_container_add(c, "nol", "application/octet-stream", zeros, 4 << 20),
			 0);
	assert_int_equal(retas_container_encode(c, &enc, &len, NULL), 0);
	wire_parts(enc, len, &w, 1);
	assert_int_equal(w.flags, 1);
	assert_true(w.stored < (4 << 20) / 500);
	assert_int_equal(retas_container_decode(enc, len, &back, NULL), 0);
	assert_int_equal(back->parts[0].len, 4 << 20);
	assert_memory_equal(back->parts[0].data, zeros, 4 << 20);
}

static void container_add_refusals(void **state)
{
	_cleanup_(retas_container_freep) struct retas_container *c = NULL;
	char name[80];

	assert_int_equal(retas_container_new(&c), 0);
	assert_int_equal(retas_container_add(c, "", "text/plain", "x", 1), -EINVAL);
	assert_int_equal(retas_container_add(c, ".hidden", "text/plain", "x", 1), -EINVAL);
	assert_int_equal(retas_container_add(c, "a/b", "text/plain", "x", 1), -EINVAL);
	assert_int_equal(retas_container_add(c, "a b", "text/plain", "x", 1), -EINVAL);
	memset(name, 'a', 64);
	name[64] = '\0';
	assert_int_equal(retas_container_add(c, name, "text/plain", "x", 1), -EINVAL);
	name[63] = '\0';
	assert_int_equal(retas_container_add(c, name, "text/plain", "x", 1), 0);
	assert_int_equal(retas_container_add(c, "t", "textplain", "x", 1), -EINVAL);
	assert_int_equal(retas_container_add(c, "t", "text/", "x", 1), -EINVAL);
	assert_int_equal(retas_container_add(c, "t", "text/plain; q=1", "x", 1), -EINVAL);
	assert_int_equal(retas_container_add(c, "t", "text/plain", NULL, 1), -EINVAL);
	assert_int_equal(retas_container_add(c, name, "text/plain", "y", 1), -EEXIST);
	for (int i = 1; i < RETAS_CONTAINER_MAX_PARTS; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		assert_int_equal(retas_container_add(c, name, "text/plain", "x", 1), 0);
	}
	assert_int_equal(retas_container_add(c, "one-more", "text/plain", "x", 1), -E2BIG);
	assert_int_equal(c->n_parts, RETAS_CONTAINER_MAX_PARTS);
}

/* Writes one part by the documented layout; returns the bytes written. */
static size_t put_part(uint8_t *w, const char *name, const char *type, uint8_t flags, uint32_t orig,
		       uint32_t stored, const void *data)
{
	size_t off = 0, nl = strlen(name), tl = strlen(type);

	w[off++] = (uint8_t)nl;
	memcpy(w + off, name, nl);
	off += nl;
	w[off++] = (uint8_t)tl;
	memcpy(w + off, type, tl);
	off += tl;
	w[off++] = flags;
	for (int i = 0; i < 4; i++)
		w[off + i] = (uint8_t)(orig >> (8 * i));
	for (int i = 0; i < 4; i++)
		w[off + 4 + i] = (uint8_t)(stored >> (8 * i));
	off += 8;
	if (data && stored)
		memcpy(w + off, data, stored);
	return off + stored;
}

static size_t put_head(uint8_t *w, uint16_t count)
{
	memcpy(w, "RTPC\x01", 5);
	w[5] = (uint8_t)count;
	w[6] = (uint8_t)(count >> 8);
	return 7;
}

static void expect_decode(const uint8_t *buf, size_t len, int code, const char *reason)
{
	struct retas_container *c = (struct retas_container *)0x1;
	struct retas_error err = {0};

	assert_int_equal(retas_container_decode(buf, len, &c, &err), code);
	assert_string_equal(err.reason, reason);
	if (code == 0) {
		retas_container_free(c);
		return;
	}
	assert_true(err.message[0] != '\0');
	/* Out-parameters are untouched on failure. */
	assert_ptr_equal(c, (struct retas_container *)0x1);
}

static void container_decode_reasons(void **state)
{
	_cleanup_(freep) uint8_t *buf = calloc(1, 200000);
	_cleanup_(freep) uint8_t *zeros = calloc(1, 100000);
	uint8_t packed[2048];
	uLongf plen = sizeof(packed);
	size_t n;

	assert_int_equal(compress2(packed, &plen, zeros, 100000, 6), Z_OK);

	n = put_head(buf, 1);
	n += put_part(buf + n, "a", "text/plain", 0, 3, 3, "abc");
	expect_decode(buf, n - 1, -EBADMSG, "container.format");
	expect_decode(buf, 6, -EBADMSG, "container.format");

	buf[n] = 0;
	expect_decode(buf, n + 1, -EBADMSG, "container.trailing");

	buf[0] = 'X';
	expect_decode(buf, n, -EBADMSG, "container.magic");
	buf[0] = 'R';
	buf[4] = 2;
	expect_decode(buf, n, -EPROTONOSUPPORT, "container.version");
	buf[4] = 1;

	n = put_head(buf, RETAS_CONTAINER_MAX_PARTS + 1);
	expect_decode(buf, n, -EBADMSG, "container.count");

	n = put_head(buf, 1);
	n += put_part(buf + n, "a/b", "text/plain", 0, 1, 1, "x");
	expect_decode(buf, n, -EBADMSG, "container.name");
	n = put_head(buf, 1);
	n += put_part(buf + n, "", "text/plain", 0, 1, 1, "x");
	expect_decode(buf, n, -EBADMSG, "container.name");

	n = put_head(buf, 1);
	n += put_part(buf + n, "a", "text plain", 0, 1, 1, "x");
	expect_decode(buf, n, -EBADMSG, "container.type");

	n = put_head(buf, 1);
	n += put_part(buf + n, "a", "text/plain", 2, 1, 1, "x");
	expect_decode(buf, n, -EBADMSG, "container.flags");

	n = put_head(buf, 1);
	n += put_part(buf + n, "a", "text/plain", 0, 2, 1, "x");
	expect_decode(buf, n, -EBADMSG, "container.length");
	/* Deflated but not smaller than the data: not what an encoder writes. */
	n = put_head(buf, 1);
	n += put_part(buf + n, "a", "text/plain", 1, (uint32_t)plen, (uint32_t)plen, packed);
	expect_decode(buf, n, -EBADMSG, "container.length");

	n = put_head(buf, 2);
	n += put_part(buf + n, "a", "text/plain", 0, 1, 1, "x");
	n += put_part(buf + n, "a", "text/plain", 0, 1, 1, "y");
	expect_decode(buf, n, -EBADMSG, "container.duplicate");

	/* More than deflate can produce from the stored bytes: refused before
	 * any allocation. */
	n = put_head(buf, 1);
	n += put_part(buf + n, "a", "text/plain", 1, (uint32_t)plen * 1032 + 1, (uint32_t)plen,
		      packed);
	expect_decode(buf, n, -EBADMSG, "container.size");
	/* Plausible parts that add up to more than the bound. */
	n = put_head(buf, 2);
	n += put_part(buf + n, "a", "text/plain", 1, 40000 * 1032, 40000, zeros);
	n += put_part(buf + n, "b", "text/plain", 1, 40000 * 1032, 40000, zeros);
	expect_decode(buf, n, -EBADMSG, "container.size");

	/* An inflate bomb in miniature: the stream holds 100000 bytes but the
	 * part declares fewer; inflation stops at the declared size. */
	n = put_head(buf, 1);
	n += put_part(buf + n, "a", "text/plain", 1, 5000, (uint32_t)plen, packed);
	expect_decode(buf, n, -EBADMSG, "container.inflate");
	/* Declares more than the stream holds. */
	n = put_head(buf, 1);
	n += put_part(buf + n, "a", "text/plain", 1, 100001, (uint32_t)plen, packed);
	expect_decode(buf, n, -EBADMSG, "container.inflate");
	/* A damaged stream (its Adler-32 no longer matches). */
	n = put_head(buf, 1);
	n += put_part(buf + n, "a", "text/plain", 1, 100000, (uint32_t)plen, packed);
	buf[n - 1] ^= 0x01;
	expect_decode(buf, n, -EBADMSG, "container.inflate");
	buf[n - 1] ^= 0x01;
	expect_decode(buf, n, 0, "");
}

static void container_decode_truncated_every_length(void **state)
{
	_cleanup_(retas_container_freep) struct retas_container *c = NULL;
	_cleanup_(freep) uint8_t *enc = NULL;
	size_t len;

	assert_int_equal(retas_container_new(&c), 0);
	assert_int_equal(retas_container_add(c, "demografi.json", "application/json", demo_json,
					     strlen(demo_json)),
			 0);
	assert_int_equal(retas_container_add(c, "foto.jpg", "image/jpeg", "\xff\xd8\xff", 3), 0);
	assert_int_equal(retas_container_encode(c, &enc, &len, NULL), 0);
	for (size_t cut = 0; cut < len; cut++) {
		struct retas_container *out = NULL;
		struct retas_error err = {0};

		assert_int_equal(retas_container_decode(enc, cut, &out, &err), -EBADMSG);
		assert_string_equal(err.reason, "container.format");
		assert_null(out);
	}
}

/* A small record for the exhaustive tests: one short part. */
static uint8_t *seal_small(const struct keys *k, size_t *len)
{
	_cleanup_(retas_container_freep) struct retas_container *c = NULL;
	struct retas_record_header h;
	uint8_t *rec = NULL;

	fixed_header(&h);
	assert_int_equal(retas_container_new(&c), 0);
	assert_int_equal(retas_container_add(c, "d.json", "application/json", "{\"a\":1}", 7), 0);
	assert_int_equal(retas_record_seal(&h, c, k->hq_pk, k->dev_sk, &rec, len, NULL), 0);
	return rec;
}

static void record_seal_open_round_trip(void **state)
{
	_cleanup_(retas_container_freep) struct retas_container *c = NULL, *body = NULL;
	_cleanup_(freep) uint8_t *grey = grey_image(46080), *jpeg = random_bytes(60000);
	_cleanup_(freep) uint8_t *rec = NULL;
	struct retas_record_header h, got, peek;
	struct retas_error err = {0};
	struct keys k;
	size_t len;

	make_keys(&k);
	fixed_header(&h);
	assert_int_equal(retas_container_new(&c), 0);
	assert_int_equal(retas_container_add(c, "demografi.json", "application/json", demo_json,
					     strlen(demo_json)),
			 0);
	assert_int_equal(
	    retas_container_add(c, "jari-01.raw", "application/octet-stream", grey, 46080), 0);
	assert_int_equal(retas_container_add(c, "foto.jpg", "image/jpeg", jpeg, 60000), 0);
	assert_int_equal(retas_record_seal(&h, c, k.hq_pk, k.dev_sk, &rec, &len, &err), 0);
	/* Compression paid: the record is smaller than its parts. */
	assert_true(len < strlen(demo_json) + 46080 + 60000);
	assert_null(memmem(rec, len, demo_json, 32));

	assert_int_equal(retas_record_read_header(rec, len, &peek, &err), 0);
	assert_memory_equal(&peek, &h, sizeof(h));
	memset(&peek, 0, sizeof(peek));
	assert_int_equal(retas_record_verify(rec, len, k.dev_pk, &peek, &err), 0);
	assert_memory_equal(&peek, &h, sizeof(h));
	assert_int_equal(retas_record_verify(rec, len, k.dev_pk, NULL, &err), 0);

	assert_int_equal(retas_record_open(rec, len, k.dev_pk, k.hq_pk, k.hq_sk, &got, &body, &err),
			 0);
	assert_memory_equal(&got, &h, sizeof(h));
	assert_int_equal(body->n_parts, 3);
	assert_string_equal(body->parts[0].name, "demografi.json");
	assert_string_equal(body->parts[0].type, "application/json");
	assert_int_equal(body->parts[0].len, strlen(demo_json));
	assert_memory_equal(body->parts[0].data, demo_json, strlen(demo_json));
	assert_int_equal(body->parts[1].len, 46080);
	assert_memory_equal(body->parts[1].data, grey, 46080);
	assert_string_equal(body->parts[2].type, "image/jpeg");
	assert_int_equal(body->parts[2].len, 60000);
	assert_memory_equal(body->parts[2].data, jpeg, 60000);
}

static void record_header_bytes_pinned(void **state)
{
	_cleanup_(freep) uint8_t *rec = NULL;
	uint8_t pinned[sizeof(pinned_header_hex) / 2];
	char hex[2 * sizeof(pinned) + 1];
	struct keys k;
	size_t len;

	make_keys(&k);
	rec = seal_small(&k, &len);
	assert_int_equal(sizeof(pinned), 117);
	assert_int_equal(retas_hex_decode(pinned_header_hex, pinned, sizeof(pinned)), 0);
	retas_hex_encode(rec, sizeof(pinned), hex);
	print_message("header: %s\n", hex);
	assert_memory_equal(rec, pinned, sizeof(pinned));
	/* Then the sealed key, the nonce and the ciphertext length: a
	 * one-part container of 7 + 1+6 + 1+16 + 9 + 7 bytes, stored since 7
	 * bytes of JSON do not deflate smaller, plus the tag. */
	assert_int_equal(le32(rec + 117 + SEALED_KEY_LEN + NONCE_LEN), 47 + TAG_LEN);
	assert_int_equal(len, 117 + SEALED_KEY_LEN + NONCE_LEN + 4 + 47 + TAG_LEN + SIG_LEN);
}

/* The region of a record each byte belongs to, for the pinned header. */
enum region {
	R_MAGIC,
	R_VERSION,
	R_ID,
	R_LENGTH, /* a string's length byte */
	R_TEXT,
	R_NIP,
	R_SEQ,
	R_PREV,
	R_CREATED,
	R_SEALED_KEY,
	R_NONCE,
	R_CT_LEN,
	R_CT,
	R_TAG,
	R_SIG,
};

static enum region region_of(size_t o, size_t len)
{
	/* 21: st length, 22..42 st, 43 device length, 44..49 device, 50 NIP
	 * length, 51..68 NIP, 69 seq, 77 prev hash, 109 created, 117 end. */
	if (o < 4)
		return R_MAGIC;
	if (o == 4)
		return R_VERSION;
	if (o < 21)
		return R_ID;
	if (o == 21 || o == 43 || o == 50)
		return R_LENGTH;
	if (o < 50)
		return R_TEXT;
	if (o < 69)
		return R_NIP;
	if (o < 77)
		return R_SEQ;
	if (o < 109)
		return R_PREV;
	if (o < 117)
		return R_CREATED;
	if (o < 117 + SEALED_KEY_LEN)
		return R_SEALED_KEY;
	if (o < 117 + SEALED_KEY_LEN + NONCE_LEN)
		return R_NONCE;
	if (o < 117 + SEALED_KEY_LEN + NONCE_LEN + 4)
		return R_CT_LEN;
	if (o < len - SIG_LEN - TAG_LEN)
		return R_CT;
	if (o < len - SIG_LEN)
		return R_TAG;
	return R_SIG;
}

/* The one reason a flip of bit b at offset o must give, or NULL where
 * the length bytes of strings let several reasons apply. */
static const char *expected_reason(const uint8_t *orig, size_t len, size_t o, int b)
{
	uint8_t v = (uint8_t)(orig[o] ^ (1u << b));

	switch (region_of(o, len)) {
	case R_MAGIC:
		return "record.magic";
	case R_VERSION:
		return "record.version";
	case R_ID:
		/* The UUID version nibble and variant bits are checked. */
		if ((o == OFF_ID + 6 && b >= 4) || (o == OFF_ID + 8 && b >= 6))
			return "record.header";
		return "record.signature";
	case R_LENGTH:
		return NULL;
	case R_TEXT:
		return v >= 0x20 && v <= 0x7e ? "record.signature" : "record.header";
	case R_NIP:
		return v >= '0' && v <= '9' ? "record.signature" : "record.header";
	case R_SEQ: {
		uint64_t seq = le64(orig + 69) ^ ((uint64_t)1 << ((o - 69) * 8 + (size_t)b));

		return seq == 0 || seq > INT64_MAX ? "record.header" : "record.signature";
	}
	case R_CREATED:
		return o == 116 && b == 7 ? "record.header" : "record.signature";
	case R_CT_LEN:
		return "record.format";
	default:
		return "record.signature";
	}
}

static void record_every_bit_flip_fails(void **state)
{
	_cleanup_(freep) uint8_t *rec = NULL, *orig = NULL;
	size_t len, counted[R_SIG + 1] = {0};
	struct keys k;

	make_keys(&k);
	rec = seal_small(&k, &len);
	orig = malloc(len);
	assert_non_null(orig);
	memcpy(orig, rec, len);
	for (size_t o = 0; o < len; o++) {
		for (int b = 0; b < 8; b++) {
			struct retas_container *body = NULL;
			struct retas_record_header h;
			struct retas_error err = {0}, oerr = {0};
			const char *want = expected_reason(orig, len, o, b);
			int r;

			rec[o] ^= (uint8_t)(1u << b);
			r = retas_record_verify(rec, len, k.dev_pk, &h, &err);
			if (r == 0)
				fail_msg("flip of bit %d at offset %zu verified", b, o);
			if (want)
				assert_string_equal(err.reason, want);
			else if (!streq(err.reason, "record.format") &&
				 !streq(err.reason, "record.header") &&
				 !streq(err.reason, "record.signature"))
				fail_msg("offset %zu bit %d: reason %s", o, b, err.reason);
			assert_true(retas_record_open(rec, len, k.dev_pk, k.hq_pk, k.hq_sk, &h,
						      &body, &oerr) < 0);
			assert_null(body);
			assert_string_equal(oerr.reason, err.reason);
			counted[region_of(o, len)]++;
			rec[o] ^= (uint8_t)(1u << b);
		}
	}
	assert_memory_equal(rec, orig, len);
	for (int r = R_MAGIC; r <= R_SIG; r++)
		assert_true(counted[r] > 0);
	assert_int_equal(counted[R_TAG], TAG_LEN * 8);
	assert_int_equal(counted[R_SIG], SIG_LEN * 8);
}

/* Signs a record again after a change, the way a forger holding the device
 * key would, so the later checks (seal, AEAD) are reached. */
static void resign(uint8_t *rec, size_t len, const uint8_t sk[64])
{
	crypto_sign_detached(rec + len - SIG_LEN, NULL, rec, len - SIG_LEN, sk);
}

static void expect_open(const uint8_t *rec, size_t len, const struct keys *k, int code,
			const char *reason)
{
	struct retas_container *body = NULL;
	struct retas_record_header h;
	struct retas_error err = {0};

	assert_int_equal(
	    retas_record_open(rec, len, k->dev_pk, k->hq_pk, k->hq_sk, &h, &body, &err), code);
	assert_string_equal(err.reason, reason);
	if (code == 0) {
		assert_non_null(body);
		retas_container_free(body);
	} else {
		assert_null(body);
	}
}

static void record_region_flips_past_the_signature(void **state)
{
	_cleanup_(freep) uint8_t *rec = NULL;
	size_t len, ct = 117 + SEALED_KEY_LEN + NONCE_LEN + 4;
	struct {
		size_t off;
		const char *reason;
	} cases[] = {
	    {OFF_ID + 3, "record.decrypt"},		   /* id: the header is the AD */
	    {HDR_STR_OFF + 5, "record.decrypt"},	   /* st_nomor */
	    {46, "record.decrypt"},			   /* device_id */
	    {60, "record.decrypt"},			   /* officer_nip */
	    {69, "record.decrypt"},			   /* seq */
	    {90, "record.decrypt"},			   /* prev_hash */
	    {110, "record.decrypt"},			   /* created_ms */
	    {117, "record.seal"},			   /* sealed key: ephemeral public key */
	    {117 + 40, "record.seal"},			   /* sealed key: MAC */
	    {117 + 79, "record.seal"},			   /* sealed key: box */
	    {117 + SEALED_KEY_LEN, "record.decrypt"},	   /* nonce */
	    {117 + SEALED_KEY_LEN + 23, "record.decrypt"}, /* nonce */
	    {ct, "record.decrypt"},			   /* ciphertext */
	    {0, "record.decrypt"},			   /* tag: offset set below */
	};
	struct keys k;

	make_keys(&k);
	rec = seal_small(&k, &len);
	cases[ARRAY_SIZE(cases) - 1].off = len - SIG_LEN - 1;
	expect_open(rec, len, &k, 0, "");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		rec[cases[i].off] ^= 0x01;
		resign(rec, len, k.dev_sk);
		expect_open(rec, len, &k, -EBADMSG, cases[i].reason);
		rec[cases[i].off] ^= 0x01;
		resign(rec, len, k.dev_sk);
	}
	expect_open(rec, len, &k, 0, "");
}

static void record_wrong_keys(void **state)
{
	_cleanup_(freep) uint8_t *rec = NULL;
	struct retas_container *body = NULL;
	struct retas_record_header h;
	struct retas_error err = {0};
	struct keys k, other;
	size_t len;

	make_keys(&k);
	make_keys(&other);
	rec = seal_small(&k, &len);
	assert_int_equal(
	    retas_record_open(rec, len, k.dev_pk, other.hq_pk, other.hq_sk, &h, &body, &err),
	    -EBADMSG);
	assert_string_equal(err.reason, "record.seal");
	assert_null(body);
	assert_int_equal(retas_record_verify(rec, len, other.dev_pk, &h, &err), -EBADMSG);
	assert_string_equal(err.reason, "record.signature");
	assert_int_equal(
	    retas_record_open(rec, len, other.dev_pk, k.hq_pk, k.hq_sk, &h, &body, &err), -EBADMSG);
	assert_string_equal(err.reason, "record.signature");
	assert_null(body);
}

static void record_seal_refuses_unusable_hq_key(void **state)
{
	_cleanup_(retas_container_freep) struct retas_container *c = NULL;
	static const uint8_t zero_pk[32];
	struct retas_record_header h;
	struct retas_error err = {0};
	uint8_t *rec = NULL;
	size_t len = 0;
	struct keys k;

	/* The all-zero point gives an all-zero shared secret, which libsodium
	 * refuses: a misconfigured seal key must not yield a record. */
	make_keys(&k);
	fixed_header(&h);
	assert_int_equal(retas_container_new(&c), 0);
	assert_int_equal(retas_record_seal(&h, c, zero_pk, k.dev_sk, &rec, &len, &err), -EINVAL);
	assert_string_equal(err.reason, "record.seal");
	assert_null(rec);
	assert_int_equal(len, 0);
}

static void record_truncated_every_length(void **state)
{
	_cleanup_(freep) uint8_t *rec = NULL, *longer = NULL;
	struct retas_container *body = NULL;
	struct retas_record_header h;
	struct keys k;
	size_t len;

	make_keys(&k);
	rec = seal_small(&k, &len);
	for (size_t cut = 0; cut < len; cut++) {
		struct retas_error err = {0};
		/* A copy of exactly cut bytes, so ASan sees any read past it. */
		_cleanup_(freep) uint8_t *part = malloc(cut ? cut : 1);

		memcpy(part, rec, cut);
		assert_int_equal(retas_record_read_header(part, cut, &h, &err), -EBADMSG);
		assert_string_equal(err.reason, "record.format");
		assert_int_equal(retas_record_verify(part, cut, k.dev_pk, &h, &err), -EBADMSG);
		assert_string_equal(err.reason, "record.format");
		assert_int_equal(
		    retas_record_open(part, cut, k.dev_pk, k.hq_pk, k.hq_sk, &h, &body, &err),
		    -EBADMSG);
		assert_string_equal(err.reason, "record.format");
		assert_null(body);
	}
	longer = malloc(len + 1);
	memcpy(longer, rec, len);
	longer[len] = 0;
	expect_open(longer, len + 1, &k, -EBADMSG, "record.format");
}

static void record_refuses_oversize_input(void **state)
{
	_cleanup_(freep) uint8_t *big = calloc(1, (size_t)RETAS_RECORD_MAX_LEN + 1);
	struct retas_record_header h;
	struct retas_error err = {0};
	struct keys k;

	make_keys(&k);
	assert_non_null(big);
	memcpy(big, "RTSR\x01", 5);
	assert_int_equal(
	    retas_record_verify(big, (size_t)RETAS_RECORD_MAX_LEN + 1, k.dev_pk, &h, &err), -E2BIG);
	assert_string_equal(err.reason, "record.size");
}

static void record_seal_refuses_bad_header(void **state)
{
	_cleanup_(retas_container_freep) struct retas_container *c = NULL;
	struct retas_record_header h;
	struct keys k;

	make_keys(&k);
	assert_int_equal(retas_container_new(&c), 0);
#define EXPECT_REFUSED(stmt, msg_part)                                                             \
	do {                                                                                       \
		uint8_t *rec = NULL;                                                               \
		size_t len = 0;                                                                    \
		struct retas_error err = {0};                                                      \
		fixed_header(&h);                                                                  \
		stmt;                                                                              \
		assert_int_equal(retas_record_seal(&h, c, k.hq_pk, k.dev_sk, &rec, &len, &err),    \
				 -EBADMSG);                                                        \
		assert_string_equal(err.reason, "record.header");                                  \
		assert_non_null(strstr(err.message, msg_part));                                    \
		assert_null(rec);                                                                  \
	} while (0)
	EXPECT_REFUSED(h.id[6] = 0x4a, "id");
	EXPECT_REFUSED(h.id[8] = 0xcd, "id");
	EXPECT_REFUSED(h.st_nomor[0] = '\0', "st_nomor");
	EXPECT_REFUSED(h.st_nomor[3] = '\n', "st_nomor");
	EXPECT_REFUSED(memset(h.st_nomor, 'x', sizeof(h.st_nomor)), "st_nomor");
	EXPECT_REFUSED(h.device_id[0] = '\0', "device_id");
	EXPECT_REFUSED(h.device_id[1] = (char)0xc3, "device_id");
	EXPECT_REFUSED(h.officer_nip[17] = '\0', "officer_nip");
	EXPECT_REFUSED(h.officer_nip[4] = 'x', "officer_nip");
	EXPECT_REFUSED(memset(h.officer_nip, '1', sizeof(h.officer_nip)), "officer_nip");
	EXPECT_REFUSED(h.seq = 0, "seq");
	EXPECT_REFUSED(h.seq = (uint64_t)INT64_MAX + 1, "seq");
	EXPECT_REFUSED(h.created_ms = -1, "created_ms");
#undef EXPECT_REFUSED
}

/*
 * A record built here from docs/record-format.md with nothing but
 * libsodium and zlib: the library must open it. This keeps the spec and
 * the code honest with each other.
 */
static size_t build_record(const struct keys *k, const uint8_t *plain, size_t plain_len,
			   uint8_t **out)
{
	uint8_t header[117], key[32], *rec, *w;
	size_t len;

	assert_int_equal(retas_hex_decode(pinned_header_hex, header, sizeof(header)), 0);
	len = sizeof(header) + SEALED_KEY_LEN + NONCE_LEN + 4 + plain_len + TAG_LEN + SIG_LEN;
	rec = malloc(len);
	assert_non_null(rec);
	memcpy(rec, header, sizeof(header));
	w = rec + sizeof(header);
	randombytes_buf(key, sizeof(key));
	assert_int_equal(crypto_box_seal(w, key, 32, k->hq_pk), 0);
	w += SEALED_KEY_LEN;
	randombytes_buf(w, NONCE_LEN);
	w[NONCE_LEN] = (uint8_t)(plain_len + TAG_LEN);
	w[NONCE_LEN + 1] = (uint8_t)((plain_len + TAG_LEN) >> 8);
	w[NONCE_LEN + 2] = 0;
	w[NONCE_LEN + 3] = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(w + NONCE_LEN + 4, NULL, plain, plain_len, rec,
						   sizeof(header), NULL, w, key);
	resign(rec, len, k->dev_sk);
	*out = rec;
	return len;
}

static void record_built_from_the_spec_opens(void **state)
{
	_cleanup_(retas_container_freep) struct retas_container *body = NULL;
	_cleanup_(freep) uint8_t *rec = NULL, *bad = NULL, *empty = NULL;
	uint8_t plain[1200], packed[1024];
	uLongf plen = sizeof(packed);
	struct retas_record_header h, want;
	struct retas_error err = {0};
	size_t n, len;
	struct keys k;

	make_keys(&k);
	assert_int_equal(compress2(packed, &plen, (const Bytef *)demo_json, strlen(demo_json), 9),
			 Z_OK);
	assert_true(plen < sizeof(packed));
	n = put_head(plain, 1);
	n += put_part(plain + n, "demografi.json", "application/json", 1,
		      (uint32_t)strlen(demo_json), (uint32_t)plen, packed);
	assert_true(n <= sizeof(plain));
	len = build_record(&k, plain, n, &rec);
	assert_int_equal(retas_record_open(rec, len, k.dev_pk, k.hq_pk, k.hq_sk, &h, &body, &err),
			 0);
	fixed_header(&want);
	assert_memory_equal(&h, &want, sizeof(h));
	assert_int_equal(body->n_parts, 1);
	assert_int_equal(body->parts[0].len, strlen(demo_json));
	assert_memory_equal(body->parts[0].data, demo_json, strlen(demo_json));

	/* Authentic, decrypts, but the plaintext is not a container. */
	len = build_record(&k, (const uint8_t *)"RTPC\x01\x01\x00", 7, &bad);
	expect_open(bad, len, &k, -EBADMSG, "record.container");
	/* An empty container is a valid body. */
	len = build_record(&k, (const uint8_t *)"RTPC\x01\x00\x00", 7, &empty);
	expect_open(empty, len, &k, 0, "");
}

static void record_magic_and_version(void **state)
{
	_cleanup_(freep) uint8_t *rec = NULL;
	struct retas_record_header h;
	struct retas_error err = {0};
	struct keys k;
	size_t len;

	make_keys(&k);
	rec = seal_small(&k, &len);
	rec[4] = 2;
	resign(rec, len, k.dev_sk);
	assert_int_equal(retas_record_verify(rec, len, k.dev_pk, &h, &err), -EPROTONOSUPPORT);
	assert_string_equal(err.reason, "record.version");
	rec[4] = 1;
	rec[0] = 'X';
	resign(rec, len, k.dev_sk);
	assert_int_equal(retas_record_read_header(rec, len, &h, &err), -EBADMSG);
	assert_string_equal(err.reason, "record.magic");
}

static void record_hash_is_sha256_of_the_bytes(void **state)
{
	uint8_t out[32];
	char hex[65];

	retas_record_hash((const uint8_t *)"abc", 3, out);
	retas_hex_encode(out, 32, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void record_seals_differ_each_time(void **state)
{
	_cleanup_(freep) uint8_t *a = NULL, *b = NULL;
	size_t la, lb;
	struct keys k;

	/* A fresh key and nonce per record: the same content never seals to
	 * the same bytes, yet the header is canonical. */
	make_keys(&k);
	a = seal_small(&k, &la);
	b = seal_small(&k, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, 117);
	assert_memory_not_equal(a + 117, b + 117, SEALED_KEY_LEN + NONCE_LEN);
}

static int setup(void **state)
{
	return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(container_round_trip),
	    cmocka_unit_test(container_compresses_only_where_it_pays),
	    cmocka_unit_test(container_bytes_pinned),
	    cmocka_unit_test(container_max_ratio_round_trip),
	    cmocka_unit_test(container_add_refusals),
	    cmocka_unit_test(container_decode_reasons),
	    cmocka_unit_test(container_decode_truncated_every_length),
	    cmocka_unit_test(record_seal_open_round_trip),
	    cmocka_unit_test(record_header_bytes_pinned),
	    cmocka_unit_test(record_every_bit_flip_fails),
	    cmocka_unit_test(record_region_flips_past_the_signature),
	    cmocka_unit_test(record_wrong_keys),
	    cmocka_unit_test(record_seal_refuses_unusable_hq_key),
	    cmocka_unit_test(record_truncated_every_length),
	    cmocka_unit_test(record_refuses_oversize_input),
	    cmocka_unit_test(record_seal_refuses_bad_header),
	    cmocka_unit_test(record_built_from_the_spec_opens),
	    cmocka_unit_test(record_magic_and_version),
	    cmocka_unit_test(record_hash_is_sha256_of_the_bytes),
	    cmocka_unit_test(record_seals_differ_each_time),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
