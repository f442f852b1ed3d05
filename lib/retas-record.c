/*
 * The sealed record envelope (DESIGN.md §3.2; byte layout in
 * docs/record-format.md §3). Sealing encodes the header canonically, seals
 * a fresh XChaCha20-Poly1305 key to head office's X25519 key, encrypts the
 * part container with the header as associated data and signs everything
 * with the van's Ed25519 key. Reading checks in the order that needs the
 * least trust first: structure, then the device signature, then the sealed
 * key, then the ciphertext, then the container; each step fails with its
 * own reason so head office can tell corruption from forgery from a record
 * sealed to another key.
 */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "retas-bytes.h"
#include "retas-i18n.h"
#include "retas-record.h"
#include "retas-util.h"

#define RECORD_MAGIC "RTSR"
#define RECORD_VERSION 1
#define SEALED_KEY_LEN (crypto_box_SEALBYTES + crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SIG_LEN crypto_sign_BYTES
#define NIP_LEN 18
#define STR_MAX 63
/* magic, version, id, three length-prefixed strings at their longest, seq,
 * prev hash, created. */
#define HEADER_MAX (4 + 1 + 16 + 3 * (1 + STR_MAX) + 8 + 32 + 8)

_Static_assert(SEALED_KEY_LEN == 80, "crypto_box_seal of a 32-byte key is 80 bytes");
_Static_assert(NONCE_LEN == 24 && TAG_LEN == 16 && SIG_LEN == 64, "libsodium sizes");

RETAS_DEFINE_CLEANUP(struct retas_container, retas_container_free)

/* Where the parts of a record lie, borrowed from its bytes. */
struct layout {
	struct retas_record_header h;
	size_t header_len; /* bytes 0..header_len are the associated data */
	const uint8_t *sealed_key;
	const uint8_t *nonce;
	const uint8_t *ct; /* ciphertext and tag */
	size_t ct_len;
	size_t signed_len; /* bytes the signature covers */
	const uint8_t *sig;
};

static bool text_is_valid(const char *s, size_t len)
{
	if (len < 1 || len > STR_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static bool nip_is_valid(const char *s, size_t len)
{
	if (len != NIP_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int header_invalid(struct retas_error *err, const char *field)
{
	return retas_error_set(err, -EBADMSG, "record.header",
			       N_("The record's header has an invalid %s."), field);
}

/* The field checks shared by sealing and reading; strings are taken with
 * their lengths because on the wire they are not NUL-terminated. */
static int check_fields(const uint8_t id[16], const char *st, size_t st_len, const char *dev,
			size_t dev_len, const char *nip, size_t nip_len, uint64_t seq,
			int64_t created_ms, struct retas_error *err)
{
	if ((id[6] >> 4) != 7 || (id[8] >> 6) != 2)
		return header_invalid(err, "id");
	if (!text_is_valid(st, st_len))
		return header_invalid(err, "st_nomor");
	if (!text_is_valid(dev, dev_len))
		return header_invalid(err, "device_id");
	if (!nip_is_valid(nip, nip_len))
		return header_invalid(err, "officer_nip");
	if (seq < 1 || seq > INT64_MAX)
		return header_invalid(err, "seq");
	if (created_ms < 0)
		return header_invalid(err, "created_ms");
	return 0;
}

static int put_str(uint8_t *w, const char *s, size_t len)
{
	w[0] = (uint8_t)len;
	memcpy(w + 1, s, len);
	return (int)(1 + len);
}

/* Writes the canonical header (magic and version included) into buf
 * (HEADER_MAX bytes) and returns its length, or a negative errno. */
static int encode_header(const struct retas_record_header *h, uint8_t *buf, struct retas_error *err)
{
	size_t st_len = strnlen(h->st_nomor, sizeof(h->st_nomor));
	size_t dev_len = strnlen(h->device_id, sizeof(h->device_id));
	size_t nip_len = strnlen(h->officer_nip, sizeof(h->officer_nip));
	uint8_t *w = buf;
	int r;

	/* A string that fills its array has no NUL: refuse rather than guess. */
	if (st_len == sizeof(h->st_nomor))
		return header_invalid(err, "st_nomor");
	if (dev_len == sizeof(h->device_id))
		return header_invalid(err, "device_id");
	if (nip_len == sizeof(h->officer_nip))
		return header_invalid(err, "officer_nip");
	r = check_fields(h->id, h->st_nomor, st_len, h->device_id, dev_len, h->officer_nip, nip_len,
			 h->seq, h->created_ms, err);
	if (r < 0)
		return r;
	memcpy(w, RECORD_MAGIC, 4);
	w[4] = RECORD_VERSION;
	w += 5;
	memcpy(w, h->id, 16);
	w += 16;
	w += put_str(w, h->st_nomor, st_len);
	w += put_str(w, h->device_id, dev_len);
	w += put_str(w, h->officer_nip, nip_len);
	retas_put_u64(w, h->seq);
	w += 8;
	memcpy(w, h->prev_hash, 32);
	w += 32;
	retas_put_u64(w, (uint64_t)h->created_ms);
	w += 8;
	return (int)(w - buf);
}

static int format_error(struct retas_error *err)
{
	return retas_error_set(err, -EBADMSG, "record.format",
			       N_("The record is cut short or malformed."));
}

static bool read_str(struct retas_reader *rd, const char **s, uint8_t *len)
{
	const uint8_t *p;

	if (!retas_read_u8(rd, len) || !retas_read_bytes(rd, *len, &p))
		return false;
	*s = (const char *)p;
	return true;
}

/* Checks everything about a record that needs no key and finds its parts. */
static int parse_record(const uint8_t *rec, size_t len, struct layout *l, struct retas_error *err)
{
	struct retas_reader rd = {.p = rec, .len = len};
	const uint8_t *magic, *id, *prev;
	const char *st, *dev, *nip;
	uint8_t version, st_len, dev_len, nip_len;
	uint64_t seq, created;
	uint32_t ct_len;
	int r;

	if (len > RETAS_RECORD_MAX_LEN)
		return retas_error_set(err, -E2BIG, "record.size",
				       N_("The record is %zu bytes; at most %u are allowed."), len,
				       RETAS_RECORD_MAX_LEN);
	if (!retas_read_bytes(&rd, 4, &magic) || !retas_read_u8(&rd, &version))
		return format_error(err);
	if (memcmp(magic, RECORD_MAGIC, 4) != 0)
		return retas_error_set(err, -EBADMSG, "record.magic",
				       N_("The data is not a sealed RETAS record."));
	if (version != RECORD_VERSION)
		return retas_error_set(err, -EPROTONOSUPPORT, "record.version",
				       N_("The record has format version %u; this program reads "
					  "version %u."),
				       version, RECORD_VERSION);
	if (!retas_read_bytes(&rd, 16, &id) || !read_str(&rd, &st, &st_len) ||
	    !read_str(&rd, &dev, &dev_len) || !read_str(&rd, &nip, &nip_len) ||
	    !retas_read_u64(&rd, &seq) || !retas_read_bytes(&rd, 32, &prev) ||
	    !retas_read_u64(&rd, &created))
		return format_error(err);
	l->header_len = rd.off;
	if (!retas_read_bytes(&rd, SEALED_KEY_LEN, &l->sealed_key) ||
	    !retas_read_bytes(&rd, NONCE_LEN, &l->nonce) || !retas_read_u32(&rd, &ct_len) ||
	    ct_len < TAG_LEN || !retas_read_bytes(&rd, ct_len, &l->ct))
		return format_error(err);
	l->ct_len = ct_len;
	l->signed_len = rd.off;
	if (!retas_read_bytes(&rd, SIG_LEN, &l->sig) || retas_reader_left(&rd) != 0)
		return format_error(err);
	r = check_fields(id, st, st_len, dev, dev_len, nip, nip_len, seq, (int64_t)created, err);
	if (r < 0)
		return r;
	memset(&l->h, 0, sizeof(l->h));
	memcpy(l->h.id, id, 16);
	memcpy(l->h.st_nomor, st, st_len);
	memcpy(l->h.device_id, dev, dev_len);
	memcpy(l->h.officer_nip, nip, nip_len);
	l->h.seq = seq;
	memcpy(l->h.prev_hash, prev, 32);
	l->h.created_ms = (int64_t)created;
	return 0;
}

int retas_record_seal(const struct retas_record_header *h, const struct retas_container *body,
		      const uint8_t hq_seal_pk[32], const uint8_t device_sk[64], uint8_t **out,
		      size_t *outlen, struct retas_error *err)
{
	uint8_t header[HEADER_MAX], key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t *plain = NULL, *rec = NULL, *w;
	size_t plain_len = 0, total;
	int r, hlen;

	/* Idempotent; picks libsodium's fastest implementations for this CPU. */
	if (sodium_init() < 0) {
		r = retas_error_set(err, -EIO, "record.crypto", N_("libsodium cannot start."));
		goto out;
	}
	hlen = encode_header(h, header, err);
	if (hlen < 0) {
		r = hlen;
		goto out;
	}
	r = retas_container_encode(body, &plain, &plain_len, err);
	if (r < 0)
		goto out;
	total = (size_t)hlen + SEALED_KEY_LEN + NONCE_LEN + 4 + plain_len + TAG_LEN + SIG_LEN;
	if (total > RETAS_RECORD_MAX_LEN) {
		r = retas_error_set(err, -E2BIG, "record.size",
				    N_("The sealed record would be %zu bytes; at most %u are "
				       "allowed."),
				    total, RETAS_RECORD_MAX_LEN);
		goto out;
	}
	rec = malloc(total);
	if (!rec) {
		r = retas_error_set(err, -ENOMEM, "record.memory", N_("Out of memory."));
		goto out;
	}
	memcpy(rec, header, (size_t)hlen);
	w = rec + hlen;
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	if (crypto_box_seal(w, key, sizeof(key), hq_seal_pk) != 0) {
		r = retas_error_set(err, -EINVAL, "record.seal",
				    N_("The head office seal key is not usable."));
		goto out;
	}
	w += SEALED_KEY_LEN;
	randombytes_buf(w, NONCE_LEN);
	retas_put_u32(w + NONCE_LEN, (uint32_t)(plain_len + TAG_LEN));
	crypto_aead_xchacha20poly1305_ietf_encrypt(w + NONCE_LEN + 4, NULL, plain, plain_len, rec,
						   (unsigned long long)hlen, NULL, w, key);
	w += NONCE_LEN + 4 + plain_len + TAG_LEN;
	crypto_sign_detached(w, NULL, rec, total - SIG_LEN, device_sk);
	*out = steal_ptr(rec);
	*outlen = total;
	r = 0;
out:
	sodium_memzero(key, sizeof(key));
	retas_free_secret(plain, plain_len);
	free(rec);
	return r;
}

int retas_record_read_header(const uint8_t *rec, size_t len, struct retas_record_header *h,
			     struct retas_error *err)
{
	struct layout l;
	int r = parse_record(rec, len, &l, err);

	if (r == 0)
		*h = l.h;
	return r;
}

static int verify_layout(const uint8_t *rec, size_t len, const uint8_t device_pk[32],
			 struct layout *l, struct retas_error *err)
{
	int r = parse_record(rec, len, l, err);

	if (r < 0)
		return r;
	if (crypto_sign_verify_detached(l->sig, rec, l->signed_len, device_pk) != 0)
		return retas_error_set(err, -EBADMSG, "record.signature",
				       N_("The record's signature does not match the device "
					  "key."));
	return 0;
}

int retas_record_verify(const uint8_t *rec, size_t len, const uint8_t device_pk[32],
			struct retas_record_header *h, struct retas_error *err)
{
	struct layout l;
	int r = verify_layout(rec, len, device_pk, &l, err);

	if (r == 0 && h)
		*h = l.h;
	return r;
}

int retas_record_open(const uint8_t *rec, size_t len, const uint8_t device_pk[32],
		      const uint8_t hq_seal_pk[32], const uint8_t hq_seal_sk[32],
		      struct retas_record_header *h, struct retas_container **body,
		      struct retas_error *err)
{
	_cleanup_(retas_container_freep) struct retas_container *c = NULL;
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	struct layout l;
	struct retas_error cerr = {0};
	int r;

	if (sodium_init() < 0) {
		r = retas_error_set(err, -EIO, "record.crypto", N_("libsodium cannot start."));
		goto out;
	}
	r = verify_layout(rec, len, device_pk, &l, err);
	if (r < 0)
		goto out;
	if (crypto_box_seal_open(key, l.sealed_key, SEALED_KEY_LEN, hq_seal_pk, hq_seal_sk) != 0) {
		r = retas_error_set(err, -EBADMSG, "record.seal",
				    N_("The record's key was not sealed to this head office "
				       "key, or is damaged."));
		goto out;
	}
	plain_len = l.ct_len - TAG_LEN;
	plain = malloc(plain_len ? plain_len : 1);
	if (!plain) {
		r = retas_error_set(err, -ENOMEM, "record.memory", N_("Out of memory."));
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, l.ct, l.ct_len, rec,
						       l.header_len, l.nonce, key) != 0) {
		r = retas_error_set(err, -EBADMSG, "record.decrypt",
				    N_("The record's body does not decrypt: it or its header "
				       "was altered."));
		goto out;
	}
	r = retas_container_decode(plain, plain_len, &c, &cerr);
	if (r < 0) {
		retas_error_set(err, r, "record.container",
				N_("The record's body is malformed: %s"), cerr.message);
		goto out;
	}
	if (h)
		*h = l.h;
	*body = steal_ptr(c);
	r = 0;
out:
	sodium_memzero(key, sizeof(key));
	retas_free_secret(plain, plain_len);
	return r;
}

void retas_record_hash(const uint8_t *rec, size_t len, uint8_t out[32])
{
	crypto_hash_sha256(out, rec, len);
}
