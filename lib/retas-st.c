/*
 * The surat tugas payload (DESIGN.md §6): strict parsing into struct
 * retas_st, serialising back, and the questions the van asks of a letter.
 *
 * Every field is checked here, once, so the daemon and the CLI refuse the
 * same letters for the same reasons. Each refusal carries its own reason id
 * ("st.<field>") and a sentence naming the field, because the person who
 * reads it has to go back to head office and say what is wrong. Texts that
 * end up on a terminal or a printed report must be valid UTF-8 without
 * control characters. Unknown members are ignored so head office can add
 * fields without breaking vans already in the field.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "retas-b64.h"
#include "retas-i18n.h"
#include "retas-json.h"
#include "retas-jws.h"
#include "retas-st.h"

#define MAX_NOMOR 128
#define MAX_NAME 200
#define MAX_LONG_TEXT 512
#define MAX_VAN_ID 64
#define MAX_URL 512
/* argon2id memory cost (KiB) above which a van could not check a PIN. */
#define MAX_PIN_MEM_KIB (1024 * 1024)
#define MAX_PIN_OPS 64

RETAS_DEFINE_CLEANUP(struct retas_st, retas_st_free)
RETAS_DEFINE_CLEANUP(struct retas_jws, retas_jws_free)

static bool is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return s[n] == '\0';
}

/* Valid UTF-8 (no overlongs, no surrogates) without C0 controls or DEL. */
static bool is_clean_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p;
		int more;
		unsigned cp;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (int i = 1; i <= more; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		p += more + 1;
	}
	return true;
}

/*
 * Reads a member that must be a non-empty clean text of at most max bytes.
 * 0 with *out borrowed, -ENOENT when absent, -EINVAL otherwise.
 */
static int get_text(json_object *obj, const char *key, size_t max, const char **out)
{
	const char *s = NULL;
	int r = retas_json_get_string(obj, key, &s);

	if (r < 0)
		return r;
	if (json_object_get_string_len(json_object_object_get(obj, key)) != (int)strlen(s))
		return -EINVAL; /* an embedded NUL */
	if (*s == '\0' || strlen(s) > max || !is_clean_text(s))
		return -EINVAL;
	*out = s;
	return 0;
}

static int dup_text(json_object *obj, const char *key, size_t max, char **out)
{
	const char *s = NULL;
	int r = get_text(obj, key, max, &s);

	if (r < 0)
		return r;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int fail(int r, struct retas_error *err, const char *reason, const char *msg)
{
	if (r == -ENOMEM)
		return retas_error_set(err, r, "st.memory",
				       N_("Out of memory while reading the "
					  "surat tugas."));
	return retas_error_set(err, -EINVAL, reason, "%s", _(msg));
}

static int get_nip(json_object *obj, char nip[19])
{
	const char *s = NULL;
	int r = retas_json_get_string(obj, "nip", &s);

	if (r < 0)
		return r;
	if (strlen(s) != 18 || !is_digits(s, 18))
		return -EINVAL;
	memcpy(nip, s, 19);
	return 0;
}

static int parse_u32(const char **pp, uint32_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
		p++;
	}
	*out = (uint32_t)v;
	*pp = p;
	return 0;
}

/*
 * An argon2id PHC string as crypto_pwhash_str writes it:
 * $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>. The prefix is
 * parsed here to bound the cost a PIN check will take on the van; libsodium
 * then decodes the whole string.
 */
static bool is_pin_hash(const char *s)
{
	static const char prefix[] = "$argon2id$v=19$m=";
	const char *p = s;
	uint32_t m, t, lanes;

	if (strlen(s) >= crypto_pwhash_STRBYTES || strncmp(p, prefix, strlen(prefix)) != 0)
		return false;
	p += strlen(prefix);
	if (parse_u32(&p, &m) < 0 || strncmp(p, ",t=", 3) != 0)
		return false;
	p += 3;
	if (parse_u32(&p, &t) < 0 || strncmp(p, ",p=", 3) != 0)
		return false;
	p += 3;
	if (parse_u32(&p, &lanes) < 0 || *p != '$')
		return false;
	if (m > MAX_PIN_MEM_KIB || t < 1 || t > MAX_PIN_OPS || lanes != 1)
		return false;
	/* needs_rehash decodes salt and hash; -1 means it could not. */
	return crypto_pwhash_str_needs_rehash(s, crypto_pwhash_OPSLIMIT_INTERACTIVE,
					      crypto_pwhash_MEMLIMIT_INTERACTIVE) >= 0;
}

static int parse_time(json_object *root, const char *key, int64_t *ms, int *off)
{
	const char *s = NULL;
	int r = retas_json_get_string(root, key, &s);

	if (r < 0)
		return r;
	if (strlen(s) >= RETAS_RFC3339_MAX)
		return -EINVAL;
	return retas_time_parse_rfc3339(s, ms, off);
}

static int parse_sekolah(json_object *root, const struct retas_regions *regions,
			 struct retas_st *st, struct retas_error *err)
{
	json_object *o = NULL;
	const char *s = NULL;
	int r;

	if (retas_json_get_object(root, "sekolah", &o) < 0)
		return fail(-EINVAL, err, "st.sekolah",
			    N_("The surat tugas has no \"sekolah\" object."));
	r = retas_json_get_string(o, "npsn", &s);
	if (r < 0 || strlen(s) != 8 || !is_digits(s, 8))
		return fail(
		    -EINVAL, err, "st.npsn",
		    N_("The surat tugas field \"sekolah.npsn\" must be the school's 8-digit "
		       "NPSN."));
	memcpy(st->sekolah.npsn, s, 9);
	r = dup_text(o, "nama", MAX_NAME, &st->sekolah.nama);
	if (r < 0)
		return fail(r, err, "st.sekolah",
			    N_("The surat tugas field \"sekolah.nama\" must be a non-empty text of "
			       "at most 200 bytes."));
	r = dup_text(o, "alamat", MAX_LONG_TEXT, &st->sekolah.alamat);
	if (r < 0 && r != -ENOENT)
		return fail(r, err, "st.sekolah",
			    N_("The surat tugas field \"sekolah.alamat\" must be a non-empty text "
			       "of at most 512 bytes."));
	r = retas_json_get_string(o, "kecamatan", &s);
	if (r < 0 || strlen(s) != 6 || !is_digits(s, 6) ||
	    (regions && !retas_regions_is_kecamatan(regions, s)))
		return fail(-EINVAL, err, "st.kecamatan",
			    N_("The surat tugas field \"sekolah.kecamatan\" is not a known "
			       "kecamatan code."));
	memcpy(st->sekolah.kecamatan, s, 7);
	return 0;
}

static int parse_petugas(json_object *root, struct retas_st *st, struct retas_error *err)
{
	json_object *arr = NULL;
	size_t n;
	int r;

	if (retas_json_get_array(root, "petugas", &arr) < 0)
		return fail(-EINVAL, err, "st.petugas",
			    N_("The surat tugas has no \"petugas\" list."));
	n = json_object_array_length(arr);
	if (n < 1 || n > RETAS_ST_MAX_PETUGAS)
		return fail(-EINVAL, err, "st.petugas",
			    N_("The surat tugas field \"petugas\" must name 1 to 16 officers."));
	st->petugas = calloc(n, sizeof(*st->petugas));
	if (!st->petugas)
		return fail(-ENOMEM, err, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		struct retas_st_petugas *p = &st->petugas[i];
		const char *pin = NULL;

		if (!json_object_is_type(o, json_type_object))
			return fail(-EINVAL, err, "st.petugas",
				    N_("An entry of the surat tugas field \"petugas\" is not an "
				       "object."));
		st->n_petugas = i + 1; /* so retas_st_free releases this entry */
		if (get_nip(o, p->nip) < 0)
			return fail(-EINVAL, err, "st.nip",
				    N_("An officer's \"petugas.nip\" in the surat tugas is not an "
				       "18-digit NIP."));
		for (size_t j = 0; j < i; j++) {
			if (streq(st->petugas[j].nip, p->nip))
				return fail(-EINVAL, err, "st.nip",
					    N_("The surat tugas names the same \"petugas.nip\" "
					       "twice."));
		}
		r = dup_text(o, "nama", MAX_NAME, &p->nama);
		if (r < 0)
			return fail(
			    r, err, "st.petugas",
			    N_("An officer's \"petugas.nama\" in the surat tugas is missing, "
			       "empty or too long."));
		r = retas_json_get_string(o, "pin", &pin);
		if (r < 0 || !is_pin_hash(pin))
			return fail(-EINVAL, err, "st.pin",
				    N_("An officer's \"petugas.pin\" in the surat tugas is not an "
				       "argon2id PIN hash."));
		p->pin = strdup(pin);
		if (!p->pin)
			return fail(-ENOMEM, err, NULL, NULL);
	}
	return 0;
}

static int parse_kendaraan_hq(json_object *root, struct retas_st *st, struct retas_error *err)
{
	json_object *o = NULL;
	const char *s = NULL;
	int r;

	if (retas_json_get_object(root, "kendaraan", &o) < 0)
		return fail(-EINVAL, err, "st.kendaraan",
			    N_("The surat tugas has no \"kendaraan\" object."));
	r = dup_text(o, "id", MAX_VAN_ID, &st->kendaraan.id);
	if (r < 0)
		return fail(r, err, "st.kendaraan",
			    N_("The surat tugas field \"kendaraan.id\" must be a non-empty text of "
			       "at most 64 bytes."));
	r = retas_json_get_string(o, "device_key", &s);
	if (r < 0 || retas_b64url_decode_key(s, st->kendaraan.device_key, 32) < 0)
		return fail(-EINVAL, err, "st.device_key",
			    N_("The surat tugas field \"kendaraan.device_key\" is not a base64url "
			       "32-byte key."));

	if (retas_json_get_object(root, "hq", &o) < 0)
		return fail(-EINVAL, err, "st.hq", N_("The surat tugas has no \"hq\" object."));
	r = get_text(o, "url", MAX_URL, &s);
	if (r < 0 ||
	    !((strncmp(s, "https://", 8) == 0 && s[8] && s[8] != '/') ||
	      (strncmp(s, "http://", 7) == 0 && s[7] && s[7] != '/')) ||
	    strchr(s, ' '))
		return fail(-EINVAL, err, "st.hq",
			    N_("The surat tugas field \"hq.url\" must be an http or https URL."));
	st->hq.url = strdup(s);
	if (!st->hq.url)
		return fail(-ENOMEM, err, NULL, NULL);
	r = retas_json_get_string(o, "seal_key", &s);
	if (r < 0 || retas_b64url_decode_key(s, st->hq.seal_key, 32) < 0)
		return fail(-EINVAL, err, "st.seal_key",
			    N_("The surat tugas field \"hq.seal_key\" is not a base64url 32-byte "
			       "key."));
	return 0;
}

static int parse_min_age_jari(json_object *root, struct retas_st *st, struct retas_error *err)
{
	json_object *arr = NULL;
	int64_t v = 0;
	size_t n;
	int r;

	r = retas_json_get_int64(root, "min_age", &v);
	if (r == -ENOENT) {
		v = 16;
	} else if (r < 0 || v < 10 || v > 30) {
		return fail(-EINVAL, err, "st.min_age",
			    N_("The surat tugas field \"min_age\" must be a whole number from 10 "
			       "to 30."));
	}
	st->min_age = (int)v;

	r = retas_json_get_array(root, "jari", &arr);
	if (r == -ENOENT) {
		for (int i = 0; i < 10; i++)
			st->jari[i] = i + 1;
		st->n_jari = 10;
		return 0;
	}
	n = r < 0 ? 0 : json_object_array_length(arr);
	if (n < 1 || n > 10)
		return fail(-EINVAL, err, "st.jari",
			    N_("The surat tugas field \"jari\" must list 1 to 10 finger "
			       "positions."));
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		int64_t pos;

		if (!json_object_is_type(e, json_type_int))
			goto bad;
		pos = json_object_get_int64(e);
		if (pos < 1 || pos > 10)
			goto bad;
		for (size_t j = 0; j < i; j++) {
			if (st->jari[j] == pos)
				goto bad;
		}
		st->jari[i] = (int)pos;
	}
	st->n_jari = n;
	return 0;
bad:
	return fail(-EINVAL, err, "st.jari",
		    N_("The surat tugas field \"jari\" must hold finger positions 1 to 10, each "
		       "at most once."));
}

static int parse_penandatangan(json_object *root, struct retas_st *st, struct retas_error *err)
{
	json_object *o = NULL;
	int r;

	if (retas_json_get_object(root, "penandatangan", &o) < 0)
		return fail(-EINVAL, err, "st.penandatangan",
			    N_("The surat tugas has no \"penandatangan\" object."));
	if (get_nip(o, st->penandatangan.nip) < 0)
		return fail(-EINVAL, err, "st.penandatangan",
			    N_("The surat tugas field \"penandatangan.nip\" is not an 18-digit "
			       "NIP."));
	r = dup_text(o, "nama", MAX_NAME, &st->penandatangan.nama);
	if (r < 0)
		return fail(r, err, "st.penandatangan",
			    N_("The surat tugas field \"penandatangan.nama\" is missing, empty or "
			       "too long."));
	r = dup_text(o, "jabatan", MAX_LONG_TEXT, &st->penandatangan.jabatan);
	if (r < 0)
		return fail(r, err, "st.penandatangan",
			    N_("The surat tugas field \"penandatangan.jabatan\" is missing, empty "
			       "or too long."));
	return 0;
}

int retas_st_parse(const char *json, size_t len, const struct retas_regions *regions,
		   struct retas_st **out, struct retas_error *err)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	_cleanup_(retas_st_freep) struct retas_st *st = NULL;
	struct retas_date until_date;
	const char *s = NULL;
	int until_off = 0;
	int r;

	if (!json || retas_json_parse(json, len, &root) < 0 ||
	    !json_object_is_type(root, json_type_object)) {
		r = fail(-EINVAL, err, "st.json",
			 N_("The surat tugas content is not a JSON object."));
		goto out;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		r = fail(-ENOMEM, err, NULL, NULL);
		goto out;
	}
	r = retas_json_get_string(root, "typ", &s);
	if (r < 0 || !streq(s, RETAS_ST_PAYLOAD_TYP)) {
		r = fail(-EINVAL, err, "st.typ",
			 N_("The surat tugas field \"typ\" is not \"retas.surat-tugas.v1\"."));
		goto out;
	}
	r = dup_text(root, "nomor", MAX_NOMOR, &st->nomor);
	if (r < 0) {
		r = fail(r, err, "st.nomor",
			 N_("The surat tugas field \"nomor\" must be a non-empty text of at most "
			    "128 bytes."));
		goto out;
	}
	r = retas_json_get_string(root, "tanggal", &s);
	if (r < 0 || retas_date_parse(s, &st->tanggal) < 0) {
		r = fail(-EINVAL, err, "st.tanggal",
			 N_("The surat tugas field \"tanggal\" is not a date (YYYY-MM-DD)."));
		goto out;
	}
	r = parse_time(root, "valid_from", &st->valid_from, &st->valid_offset_min);
	if (r < 0) {
		r = fail(-EINVAL, err, "st.valid_from",
			 N_("The surat tugas field \"valid_from\" is not an RFC 3339 time with "
			    "an offset."));
		goto out;
	}
	r = parse_time(root, "valid_until", &st->valid_until, &until_off);
	if (r < 0) {
		r = fail(-EINVAL, err, "st.valid_until",
			 N_("The surat tugas field \"valid_until\" is not an RFC 3339 time with "
			    "an offset."));
		goto out;
	}
	/* retas_st_to_json writes valid_until at valid_from's offset: an
	 * instant whose date there lies outside years 1-9999 would be written
	 * as a time no parser takes back. */
	retas_date_from_ms(st->valid_until, st->valid_offset_min, &until_date);
	if (until_date.year < 1 || until_date.year > 9999) {
		r = fail(-EINVAL, err, "st.valid_until",
			 N_("The surat tugas field \"valid_until\" lies outside the years "
			    "0001-9999 at the offset of \"valid_from\"."));
		goto out;
	}
	if (st->valid_from >= st->valid_until) {
		r = fail(-EINVAL, err, "st.window",
			 N_("The surat tugas field \"valid_until\" is not after "
			    "\"valid_from\"."));
		goto out;
	}
	r = parse_sekolah(root, regions, st, err);
	if (r < 0)
		goto out;
	r = parse_petugas(root, st, err);
	if (r < 0)
		goto out;
	r = parse_kendaraan_hq(root, st, err);
	if (r < 0)
		goto out;
	r = parse_min_age_jari(root, st, err);
	if (r < 0)
		goto out;
	r = parse_penandatangan(root, st, err);
	if (r < 0)
		goto out;
	*out = steal_ptr(st);
	r = 0;
out:
	return r;
}

int retas_st_verify(const char *token, size_t len, const uint8_t hq_sign_pk[32],
		    const struct retas_regions *regions, struct retas_st **out,
		    struct retas_error *err)
{
	_cleanup_(retas_jws_freep) struct retas_jws *jws = NULL;
	_cleanup_(retas_st_freep) struct retas_st *st = NULL;
	int r;

	r = retas_jws_verify(token, len, hq_sign_pk, RETAS_ST_JWS_TYP, &jws, err);
	if (r < 0)
		goto out;
	r = retas_st_parse((const char *)jws->payload, jws->payload_len, regions, &st, err);
	if (r < 0)
		goto out;
	st->kid = steal_ptr(jws->kid);
	st->token = strndup(token, len);
	if (!st->token) {
		r = fail(-ENOMEM, err, NULL, NULL);
		goto out;
	}
	*out = steal_ptr(st);
	r = 0;
out:
	return r;
}

static int add(json_object *o, const char *key, json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int add_str(json_object *o, const char *key, const char *s)
{
	return add(o, key, json_object_new_string(s));
}

static int add_key(json_object *o, const char *key, const uint8_t k[32])
{
	_cleanup_(freep) char *s = NULL;
	int r = retas_b64url_encode(k, 32, &s);

	return r < 0 ? r : add_str(o, key, s);
}

static int add_object(json_object *o, const char *key, json_object **child)
{
	json_object *c = json_object_new_object();
	int r = add(o, key, c);

	if (r == 0)
		*child = c;
	return r;
}

int retas_st_to_json(const struct retas_st *st, char **out)
{
	_cleanup_(json_object_putp) json_object *root = json_object_new_object();
	json_object *o = NULL, *arr = NULL;
	char buf[RETAS_RFC3339_MAX];
	int r = -ENOMEM;

	if (!root)
		goto out;
	if (add_str(root, "typ", RETAS_ST_PAYLOAD_TYP) < 0 || add_str(root, "nomor", st->nomor) < 0)
		goto out;
	retas_date_format(&st->tanggal, buf);
	if (add_str(root, "tanggal", buf) < 0)
		goto out;
	retas_time_format_rfc3339(st->valid_from, st->valid_offset_min, buf);
	if (add_str(root, "valid_from", buf) < 0)
		goto out;
	retas_time_format_rfc3339(st->valid_until, st->valid_offset_min, buf);
	if (add_str(root, "valid_until", buf) < 0)
		goto out;

	if (add_object(root, "sekolah", &o) < 0 || add_str(o, "npsn", st->sekolah.npsn) < 0 ||
	    add_str(o, "nama", st->sekolah.nama) < 0 ||
	    (st->sekolah.alamat && add_str(o, "alamat", st->sekolah.alamat) < 0) ||
	    add_str(o, "kecamatan", st->sekolah.kecamatan) < 0)
		goto out;

	arr = json_object_new_array();
	if (add(root, "petugas", arr) < 0)
		goto out;
	for (size_t i = 0; i < st->n_petugas; i++) {
		json_object *p = json_object_new_object();

		if (!p || json_object_array_add(arr, p) < 0) {
			json_object_put(p);
			goto out;
		}
		if (add_str(p, "nip", st->petugas[i].nip) < 0 ||
		    add_str(p, "nama", st->petugas[i].nama) < 0 ||
		    add_str(p, "pin", st->petugas[i].pin) < 0)
			goto out;
	}

	if (add_object(root, "kendaraan", &o) < 0 || add_str(o, "id", st->kendaraan.id) < 0 ||
	    add_key(o, "device_key", st->kendaraan.device_key) < 0)
		goto out;
	if (add_object(root, "hq", &o) < 0 || add_str(o, "url", st->hq.url) < 0 ||
	    add_key(o, "seal_key", st->hq.seal_key) < 0)
		goto out;
	if (add(root, "min_age", json_object_new_int(st->min_age)) < 0)
		goto out;
	arr = json_object_new_array();
	if (add(root, "jari", arr) < 0)
		goto out;
	for (size_t i = 0; i < st->n_jari; i++) {
		json_object *v = json_object_new_int(st->jari[i]);

		if (!v || json_object_array_add(arr, v) < 0) {
			json_object_put(v);
			goto out;
		}
	}
	if (add_object(root, "penandatangan", &o) < 0 ||
	    add_str(o, "nip", st->penandatangan.nip) < 0 ||
	    add_str(o, "nama", st->penandatangan.nama) < 0 ||
	    add_str(o, "jabatan", st->penandatangan.jabatan) < 0)
		goto out;
	r = retas_json_to_string(root, out);
out:
	return r;
}

int retas_st_check_time(const struct retas_st *st, int64_t now_ms, struct retas_error *err)
{
	char buf[RETAS_RFC3339_MAX];

	if (now_ms < st->valid_from) {
		retas_time_format_rfc3339(st->valid_from, st->valid_offset_min, buf);
		return retas_error_set(
		    err, -EKEYREJECTED, "st.not-yet-valid",
		    N_("The surat tugas is not valid yet: its window opens at %s."), buf);
	}
	if (now_ms >= st->valid_until) {
		retas_time_format_rfc3339(st->valid_until, st->valid_offset_min, buf);
		return retas_error_set(err, -EKEYEXPIRED, "st.expired",
				       N_("The surat tugas has expired: its window closed at %s."),
				       buf);
	}
	return 0;
}

int retas_st_check_van(const struct retas_st *st, const uint8_t device_pk[32],
		       struct retas_error *err)
{
	if (sodium_memcmp(st->kendaraan.device_key, device_pk, 32) != 0)
		return retas_error_set(err, -EPERM, "st.other-van",
				       N_("The surat tugas is for another van (%s): this van's "
					  "device key is not the one it names."),
				       st->kendaraan.id);
	return 0;
}

const struct retas_st_petugas *retas_st_find_petugas(const struct retas_st *st, const char *nip)
{
	if (!st || !nip)
		return NULL;
	for (size_t i = 0; i < st->n_petugas; i++) {
		if (streq(st->petugas[i].nip, nip))
			return &st->petugas[i];
	}
	return NULL;
}

int retas_st_check_pin(const struct retas_st_petugas *p, const char *pin)
{
	if (!p || !p->pin || !pin)
		return -EACCES;
	if (crypto_pwhash_str_verify(p->pin, pin, strlen(pin)) != 0)
		return -EACCES;
	return 0;
}

void retas_st_free(struct retas_st *st)
{
	if (!st)
		return;
	free(st->nomor);
	free(st->sekolah.nama);
	free(st->sekolah.alamat);
	for (size_t i = 0; i < st->n_petugas; i++) {
		free(st->petugas[i].nama);
		free(st->petugas[i].pin);
	}
	free(st->petugas);
	free(st->kendaraan.id);
	free(st->hq.url);
	free(st->penandatangan.nama);
	free(st->penandatangan.jabatan);
	free(st->kid);
	free(st->token);
	free(st);
}
