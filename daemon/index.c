/*
 * The local index: key file, keyed NIK hash, the encrypted entries, and the
 * roster decrypted from them for one call at a time (never kept in memory
 * between calls, so a core dump holds as little as the work needs).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "index.h"
#include "retas-students.h"
#include "retas-util.h"

static int read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EBADMSG;
		got += (size_t)n;
	}
	return 0;
}

int rd_index_key_load(const char *path, uint8_t key[RD_INDEX_KEY_BYTES], struct retas_error *err)
{
	_cleanup_(closep) int fd = -1;
	uint8_t k[RD_INDEX_KEY_BYTES], extra;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		randombytes_buf(k, sizeof(k));
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return retas_error_set(err, -errno, "index.key", "%s: cannot create: %s",
					       path, strerror(errno));
		if (write(fd, k, sizeof(k)) != (ssize_t)sizeof(k) || fsync(fd) < 0) {
			r = retas_error_set(err, -EIO, "index.key", "%s: cannot write", path);
			unlink(path);
			goto out;
		}
		memcpy(key, k, sizeof(k));
		r = 0;
		goto out;
	}
	if (fd < 0)
		return retas_error_set(err, -errno, "index.key", "%s: cannot open: %s", path,
				       strerror(errno));
	r = read_full(fd, k, sizeof(k));
	if (r == 0 && read(fd, &extra, 1) != 0)
		r = -EBADMSG;
	if (r < 0) {
		retas_error_set(err, r, "index.key", "%s: not a %d-byte key", path,
				RD_INDEX_KEY_BYTES);
		goto out;
	}
	memcpy(key, k, sizeof(k));
out:
	sodium_memzero(k, sizeof(k));
	return r;
}

void rd_index_nik_hash(const uint8_t key[RD_INDEX_KEY_BYTES], const char *nik, uint8_t out[32])
{
	/* A context prefix keeps this hash apart from any other use of the key. */
	crypto_generichash_state h;

	crypto_generichash_init(&h, key, RD_INDEX_KEY_BYTES, 32);
	crypto_generichash_update(&h, (const uint8_t *)"retas.nik\0", 10);
	crypto_generichash_update(&h, (const uint8_t *)nik, strlen(nik));
	crypto_generichash_final(&h, out, 32);
}

int rd_index_seal(const uint8_t key[RD_INDEX_KEY_BYTES], json_object *o, uint8_t **out,
		  size_t *len)
{
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(text);
	size_t total = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
	uint8_t *buf = malloc(total);

	if (!buf)
		return -ENOMEM;
	randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES, (const uint8_t *)text, n, buf,
			      key);
	*out = buf;
	*len = total;
	return 0;
}

int rd_index_open(const uint8_t key[RD_INDEX_KEY_BYTES], const uint8_t *in, size_t len,
		  json_object **out)
{
	const size_t over = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
	_cleanup_(freep) char *text = NULL;
	json_object *o;
	size_t n;

	if (len < over)
		return -EBADMSG;
	n = len - over;
	text = malloc(n + 1);
	if (!text)
		return -ENOMEM;
	if (crypto_secretbox_open_easy((uint8_t *)text, in + crypto_secretbox_NONCEBYTES,
				       len - crypto_secretbox_NONCEBYTES, in, key) < 0)
		return -EBADMSG;
	text[n] = '\0';
	o = json_tokener_parse(text);
	sodium_memzero(text, n);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EBADMSG;
	}
	*out = o;
	return 0;
}

json_object *rd_index_entry(const char *nik, const char *nama, const char *kelas,
			    enum retas_gender g, const struct retas_date *birth)
{
	json_object *o = json_object_new_object();
	char date[11], jk[2] = {(char)g, 0};

	retas_date_format(birth, date);
	json_object_object_add(o, "nik", json_object_new_string(nik));
	json_object_object_add(o, "nama", json_object_new_string(nama));
	json_object_object_add(o, "kelas", json_object_new_string(kelas ? kelas : ""));
	json_object_object_add(o, "jk", json_object_new_string(jk));
	json_object_object_add(o, "lahir", json_object_new_string(date));
	return o;
}

enum rd_student_status rd_student_status(const struct rd_student *s)
{
	if (s->record_id[0])
		return RD_STUDENT_RECORDED;
	return s->absent ? RD_STUDENT_ABSENT : RD_STUDENT_PENDING;
}

const char *rd_student_status_name(enum rd_student_status st)
{
	switch (st) {
	case RD_STUDENT_ABSENT:
		return "absent";
	case RD_STUDENT_RECORDED:
		return "recorded";
	default:
		return "pending";
	}
}

bool rd_student_has_exception(const struct rd_student *s)
{
	json_object *ex;

	return s->summary && json_object_object_get_ex(s->summary, "exceptions", &ex) &&
	       json_object_array_length(ex) > 0;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : "";
}

struct load_ctx {
	struct rd_daemon *d;
	struct rd_roster *r;
	size_t cap;
};

static int load_one(const struct rd_store_student *row, void *userdata)
{
	struct load_ctx *c = userdata;
	struct rd_student *s;
	json_object *o = NULL;
	int r;

	if (c->r->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct rd_student *grown = realloc(c->r->s, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		c->r->s = grown;
		c->cap = cap;
	}
	r = rd_index_open(c->d->local_key, row->sealed, row->sealed_len, &o);
	if (r < 0)
		return r;
	s = &c->r->s[c->r->n];
	memset(s, 0, sizeof(*s));
	s->id = row->id;
	snprintf(s->nik, sizeof(s->nik), "%s", jstr(o, "nik"));
	s->nama = strdup(jstr(o, "nama"));
	s->kelas = strdup(jstr(o, "kelas"));
	s->gender = (enum retas_gender)jstr(o, "jk")[0];
	if (retas_date_parse(jstr(o, "lahir"), &s->birth) < 0)
		memset(&s->birth, 0, sizeof(s->birth));
	s->on_list = row->on_list;
	s->absent = row->absent;
	s->n_records = row->n_records;
	if (row->record_id) {
		snprintf(s->record_id, sizeof(s->record_id), "%s", row->record_id);
		s->summary = json_tokener_parse(row->summary ? row->summary : "{}");
		s->token = strdup(row->token ? row->token : "");
		s->recorded_at_ms = row->recorded_at_ms;
	}
	json_object_put(o);
	c->r->n++;
	if (!s->nama || !s->kelas || (row->record_id && !s->token))
		return -ENOMEM;
	return 0;
}

int rd_roster_load(struct rd_daemon *d, struct rd_roster *out)
{
	struct rd_roster r = {0};
	struct load_ctx c = {.d = d, .r = &r};
	int ret;

	ret = rd_store_students_each(d->store, d->assignment_id, load_one, &c);
	if (ret < 0) {
		rd_roster_clear(&r);
		return ret;
	}
	*out = r;
	return 0;
}

void rd_roster_clear(struct rd_roster *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->s[i].nama);
		free(r->s[i].kelas);
		free(r->s[i].token);
		json_object_put(r->s[i].summary);
		sodium_memzero(r->s[i].nik, sizeof(r->s[i].nik));
	}
	free(r->s);
	memset(r, 0, sizeof(*r));
}

struct rd_student *rd_roster_find(struct rd_roster *r, const char *nik)
{
	for (size_t i = 0; i < r->n; i++)
		if (streq(r->s[i].nik, nik))
			return &r->s[i];
	return NULL;
}

void rd_session_date(const struct rd_daemon *d, struct retas_date *out)
{
	int64_t ms = d->have_session ? d->session.opened_at_ms : d->st ? d->st->valid_from : 0;

	retas_date_from_ms(ms, RETAS_WIB_OFFSET_MIN, out);
}

int rd_student_age(const struct rd_student *s, const struct retas_date *date, bool *record_only,
		   struct retas_date *eligible_on)
{
	int age = retas_date_age(&s->birth, date);

	*record_only = age < RETAS_PRINT_AGE;
	retas_date_add_years(&s->birth, RETAS_PRINT_AGE, eligible_on);
	return age;
}
