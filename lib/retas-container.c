/*
 * The part container: the body of a sealed record, a list of named,
 * typed byte strings (demographics JSON, finger images, photo, signature).
 * Parts are deflated one by one where it pays: media that are already
 * compressed (JPEG, PNG, JPEG 2000) are stored as they are, since deflating
 * them costs many times their encryption for next to no gain, and any part
 * whose deflated form is not smaller is stored too. The byte layout is
 * specified in docs/record-format.md §2; the decoder is strict (one valid
 * encoding per content, bounded sizes, no trailing bytes) because it reads
 * what arrives from the field.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "retas-bytes.h"
#include "retas-i18n.h"
#include "retas-record.h"
#include "retas-util.h"

#define CONTAINER_MAGIC "RTPC"
#define CONTAINER_VERSION 1
#define PART_FLAG_DEFLATED 0x01
/* zlib's documented worst case: one byte of deflate data yields at most
 * 1032 bytes. A part that claims more than this from its stored length
 * cannot be honest, so it is refused before anything is allocated. */
#define DEFLATE_MAX_RATIO 1032u
#define DEFLATE_LEVEL 6

/* Fixed bytes before the parts: magic, version, part count. */
#define CONTAINER_HEAD_LEN 7
/* Fixed bytes of a part besides its name, type and data. */
#define PART_FIXED_LEN (1 + 1 + 1 + 4 + 4)

RETAS_DEFINE_CLEANUP(struct retas_container, retas_container_free)

static bool name_is_valid(const char *s, size_t len)
{
	if (len < 1 || len > RETAS_PART_NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool type_is_valid(const char *s, size_t len)
{
	const char *slash;

	if (len < 3 || len > RETAS_PART_TYPE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	slash = memchr(s, '/', len);
	return slash && slash != s && slash != s + len - 1;
}

/* Media types whose content is already compressed. Matching ignores case
 * and any parameters after ';', as media types do. */
static bool type_is_compressible(const char *type)
{
	static const char *const packed[] = {"image/jpeg", "image/png", "image/jp2"};
	size_t base = strcspn(type, ";");

	for (size_t i = 0; i < ARRAY_SIZE(packed); i++)
		if (strlen(packed[i]) == base && strncasecmp(type, packed[i], base) == 0)
			return false;
	return true;
}

int retas_container_new(struct retas_container **out)
{
	struct retas_container *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	*out = c;
	return 0;
}

void retas_container_free(struct retas_container *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_parts; i++) {
		free(c->parts[i].name);
		free(c->parts[i].type);
		/* Parts hold biometrics: leave nothing behind in freed memory. */
		retas_free_secret(c->parts[i].data, c->parts[i].len);
	}
	free(c->parts);
	free(c);
}

const struct retas_part *retas_container_get(const struct retas_container *c, const char *name)
{
	for (size_t i = 0; i < c->n_parts; i++)
		if (streq(c->parts[i].name, name))
			return &c->parts[i];
	return NULL;
}

static size_t container_total(const struct retas_container *c)
{
	size_t sum = 0;

	for (size_t i = 0; i < c->n_parts; i++)
		sum += c->parts[i].len;
	return sum;
}

/* Appends a part, taking ownership of data (len bytes, never NULL). */
static int container_push(struct retas_container *c, const char *name, size_t name_len,
			  const char *type, size_t type_len, uint8_t *data, size_t len)
{
	struct retas_part *parts, *p;
	char *n = NULL, *t = NULL;

	parts = realloc(c->parts, (c->n_parts + 1) * sizeof(*parts));
	if (!parts)
		return -ENOMEM;
	c->parts = parts;
	n = strndup(name, name_len);
	t = strndup(type, type_len);
	if (!n || !t) {
		free(n);
		free(t);
		return -ENOMEM;
	}
	p = &c->parts[c->n_parts++];
	*p = (struct retas_part){.name = n, .type = t, .data = data, .len = len};
	return 0;
}

int retas_container_add(struct retas_container *c, const char *name, const char *type,
			const void *data, size_t len)
{
	uint8_t *copy = NULL;
	int r;

	if (!name || !type || (!data && len > 0))
		return -EINVAL;
	if (!name_is_valid(name, strlen(name)) || !type_is_valid(type, strlen(type)))
		return -EINVAL;
	if (retas_container_get(c, name))
		return -EEXIST;
	if (c->n_parts >= RETAS_CONTAINER_MAX_PARTS || len > RETAS_CONTAINER_MAX_SIZE ||
	    container_total(c) + len > RETAS_CONTAINER_MAX_SIZE)
		return -E2BIG;
	/* One byte at least, so an empty part still has a non-NULL buffer. */
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, data, len);
	r = container_push(c, name, strlen(name), type, strlen(type), copy, len);
	if (r < 0)
		free(copy);
	return r;
}

/* What one part will look like on the wire. */
struct part_plan {
	const uint8_t *bytes; /* the part's data, or packed when deflated */
	uint8_t *packed;
	size_t stored_len;
	uint8_t flags;
};

/* Deflates src into a new buffer when that makes it smaller; otherwise
 * leaves plan as stored. */
static int plan_part(const struct retas_part *p, struct part_plan *plan)
{
	uLongf dlen;
	uint8_t *buf;

	*plan = (struct part_plan){.bytes = p->data, .stored_len = p->len};
	if (p->len == 0 || !type_is_compressible(p->type))
		return 0;
	dlen = compressBound(p->len);
	buf = malloc(dlen);
	if (!buf)
		return -ENOMEM;
	if (compress2(buf, &dlen, p->data, p->len, DEFLATE_LEVEL) != Z_OK) {
		free(buf);
		return -ENOMEM;
	}
	if (dlen >= p->len) {
		free(buf);
		return 0;
	}
	plan->packed = buf;
	plan->bytes = buf;
	plan->stored_len = dlen;
	plan->flags = PART_FLAG_DEFLATED;
	return 0;
}

int retas_container_encode(const struct retas_container *c, uint8_t **out, size_t *len,
			   struct retas_error *err)
{
	struct part_plan *plans = NULL;
	uint8_t *buf = NULL, *w;
	size_t total = CONTAINER_HEAD_LEN;
	int r;

	if (c->n_parts > RETAS_CONTAINER_MAX_PARTS) {
		r = retas_error_set(err, -E2BIG, "container.count",
				    N_("The record has %zu parts; at most %u are allowed."),
				    c->n_parts, RETAS_CONTAINER_MAX_PARTS);
		goto out;
	}
	if (container_total(c) > RETAS_CONTAINER_MAX_SIZE) {
		r = retas_error_set(err, -E2BIG, "container.size",
				    N_("The record's parts add up to %zu bytes; at most %u are "
				       "allowed."),
				    container_total(c), RETAS_CONTAINER_MAX_SIZE);
		goto out;
	}
	plans = calloc(c->n_parts ? c->n_parts : 1, sizeof(*plans));
	if (!plans) {
		r = retas_error_set(err, -ENOMEM, "container.memory", N_("Out of memory."));
		goto out;
	}
	for (size_t i = 0; i < c->n_parts; i++) {
		r = plan_part(&c->parts[i], &plans[i]);
		if (r < 0) {
			retas_error_set(err, r, "container.memory", N_("Out of memory."));
			goto out;
		}
		total += PART_FIXED_LEN + strlen(c->parts[i].name) + strlen(c->parts[i].type) +
			 plans[i].stored_len;
	}
	buf = malloc(total);
	if (!buf) {
		r = retas_error_set(err, -ENOMEM, "container.memory", N_("Out of memory."));
		goto out;
	}
	w = buf;
	memcpy(w, CONTAINER_MAGIC, 4);
	w[4] = CONTAINER_VERSION;
	retas_put_u16(w + 5, (uint16_t)c->n_parts);
	w += CONTAINER_HEAD_LEN;
	for (size_t i = 0; i < c->n_parts; i++) {
		const struct retas_part *p = &c->parts[i];
		size_t nl = strlen(p->name), tl = strlen(p->type);

		*w++ = (uint8_t)nl;
		memcpy(w, p->name, nl);
		w += nl;
		*w++ = (uint8_t)tl;
		memcpy(w, p->type, tl);
		w += tl;
		*w++ = plans[i].flags;
		retas_put_u32(w, (uint32_t)p->len);
		retas_put_u32(w + 4, (uint32_t)plans[i].stored_len);
		w += 8;
		if (plans[i].stored_len)
			memcpy(w, plans[i].bytes, plans[i].stored_len);
		w += plans[i].stored_len;
	}
	*out = steal_ptr(buf);
	*len = total;
	r = 0;
out:
	if (plans)
		for (size_t i = 0; i < c->n_parts; i++)
			free(plans[i].packed);
	free(plans);
	return r;
}

/* A part as found on the wire, borrowed from the input. */
struct wire_part {
	const char *name;
	uint8_t name_len;
	const char *type;
	uint8_t type_len;
	uint8_t flags;
	uint32_t orig_len;
	uint32_t stored_len;
	const uint8_t *data;
};

static int truncated(struct retas_error *err, size_t i)
{
	return retas_error_set(err, -EBADMSG, "container.format",
			       N_("The record's part %zu is cut short."), i + 1);
}

/* Reads and checks one part's fields; the data stays in the input. */
static int read_part(struct retas_reader *rd, size_t i, struct wire_part *wp,
		     struct retas_error *err)
{
	const uint8_t *p;

	if (!retas_read_u8(rd, &wp->name_len) || !retas_read_bytes(rd, wp->name_len, &p))
		return truncated(err, i);
	wp->name = (const char *)p;
	if (!name_is_valid(wp->name, wp->name_len))
		return retas_error_set(err, -EBADMSG, "container.name",
				       N_("The record's part %zu has an invalid name."), i + 1);
	if (!retas_read_u8(rd, &wp->type_len) || !retas_read_bytes(rd, wp->type_len, &p))
		return truncated(err, i);
	wp->type = (const char *)p;
	if (!type_is_valid(wp->type, wp->type_len))
		return retas_error_set(err, -EBADMSG, "container.type",
				       N_("The record's part %zu has an invalid media type."),
				       i + 1);
	if (!retas_read_u8(rd, &wp->flags) || !retas_read_u32(rd, &wp->orig_len) ||
	    !retas_read_u32(rd, &wp->stored_len))
		return truncated(err, i);
	if (wp->flags & ~PART_FLAG_DEFLATED)
		return retas_error_set(err, -EBADMSG, "container.flags",
				       N_("The record's part %zu has unknown flags 0x%02x."), i + 1,
				       wp->flags);
	/* One encoding per content: a part is deflated only when that made it
	 * smaller, and a stored part is exactly its data. */
	if (wp->flags & PART_FLAG_DEFLATED) {
		if (wp->stored_len >= wp->orig_len)
			return retas_error_set(err, -EBADMSG, "container.length",
					       N_("The record's part %zu is deflated but not "
						  "smaller than its data."),
					       i + 1);
		if ((uint64_t)wp->orig_len > (uint64_t)wp->stored_len * DEFLATE_MAX_RATIO)
			return retas_error_set(err, -EBADMSG, "container.size",
					       N_("The record's part %zu claims more data than "
						  "its compressed form can hold."),
					       i + 1);
	} else if (wp->stored_len != wp->orig_len) {
		return retas_error_set(err, -EBADMSG, "container.length",
				       N_("The record's part %zu has inconsistent lengths."),
				       i + 1);
	}
	if (!retas_read_bytes(rd, wp->stored_len, &wp->data))
		return truncated(err, i);
	return 0;
}

/* Inflates exactly want bytes from a zlib stream that must end where its
 * input ends. The output buffer is the declared size, so a stream that
 * would produce more stops there and is refused. */
static int inflate_exact(const uint8_t *in, size_t inlen, uint8_t *outbuf, size_t want)
{
	z_stream zs = {0};
	int zr, r = -EBADMSG;

	if (inflateInit(&zs) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)inlen;
	zs.next_out = outbuf;
	zs.avail_out = (uInt)want;
	zr = inflate(&zs, Z_FINISH);
	if (zr == Z_STREAM_END && zs.avail_in == 0 && zs.avail_out == 0)
		r = 0;
	else if (zr == Z_MEM_ERROR)
		r = -ENOMEM;
	inflateEnd(&zs);
	return r;
}

int retas_container_decode(const uint8_t *in, size_t len, struct retas_container **out,
			   struct retas_error *err)
{
	_cleanup_(retas_container_freep) struct retas_container *c = NULL;
	struct retas_reader rd = {.p = in, .len = len};
	struct wire_part *wps = NULL;
	const uint8_t *magic;
	uint8_t version;
	uint16_t count;
	uint64_t total = 0;
	int r;

	if (!retas_read_bytes(&rd, 4, &magic) || !retas_read_u8(&rd, &version) ||
	    !retas_read_u16(&rd, &count)) {
		r = retas_error_set(err, -EBADMSG, "container.format",
				    N_("The record's body is cut short."));
		goto out;
	}
	if (memcmp(magic, CONTAINER_MAGIC, 4) != 0) {
		r = retas_error_set(err, -EBADMSG, "container.magic",
				    N_("The record's body is not a part container."));
		goto out;
	}
	if (version != CONTAINER_VERSION) {
		r = retas_error_set(err, -EPROTONOSUPPORT, "container.version",
				    N_("The record's body has container version %u; this program "
				       "reads version %u."),
				    version, CONTAINER_VERSION);
		goto out;
	}
	if (count > RETAS_CONTAINER_MAX_PARTS) {
		r = retas_error_set(err, -EBADMSG, "container.count",
				    N_("The record has %u parts; at most %u are allowed."), count,
				    RETAS_CONTAINER_MAX_PARTS);
		goto out;
	}
	wps = calloc(count ? count : 1, sizeof(*wps));
	if (!wps) {
		r = retas_error_set(err, -ENOMEM, "container.memory", N_("Out of memory."));
		goto out;
	}
	/* First pass: structure and sizes only, so nothing is allocated or
	 * inflated for input that is wrong anywhere. */
	for (size_t i = 0; i < count; i++) {
		r = read_part(&rd, i, &wps[i], err);
		if (r < 0)
			goto out;
		for (size_t j = 0; j < i; j++)
			if (wps[j].name_len == wps[i].name_len &&
			    memcmp(wps[j].name, wps[i].name, wps[i].name_len) == 0) {
				r = retas_error_set(err, -EBADMSG, "container.duplicate",
						    N_("The record's part %zu repeats the name "
						       "of part %zu."),
						    i + 1, j + 1);
				goto out;
			}
		total += wps[i].orig_len;
		if (total > RETAS_CONTAINER_MAX_SIZE) {
			r = retas_error_set(err, -EBADMSG, "container.size",
					    N_("The record's parts add up to more than %u bytes."),
					    RETAS_CONTAINER_MAX_SIZE);
			goto out;
		}
	}
	if (retas_reader_left(&rd) != 0) {
		r = retas_error_set(err, -EBADMSG, "container.trailing",
				    N_("The record's body has %zu bytes after its last part."),
				    retas_reader_left(&rd));
		goto out;
	}
	r = retas_container_new(&c);
	if (r < 0) {
		retas_error_set(err, r, "container.memory", N_("Out of memory."));
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		uint8_t *data = malloc(wps[i].orig_len ? wps[i].orig_len : 1);

		if (!data) {
			r = retas_error_set(err, -ENOMEM, "container.memory", N_("Out of memory."));
			goto out;
		}
		if (wps[i].flags & PART_FLAG_DEFLATED)
			r = inflate_exact(wps[i].data, wps[i].stored_len, data, wps[i].orig_len);
		else if (wps[i].orig_len)
			memcpy(data, wps[i].data, wps[i].orig_len);
		if (r == 0)
			r = container_push(c, wps[i].name, wps[i].name_len, wps[i].type,
					   wps[i].type_len, data, wps[i].orig_len);
		if (r < 0) {
			retas_free_secret(data, wps[i].orig_len);
			if (r == -ENOMEM)
				retas_error_set(err, r, "container.memory", N_("Out of memory."));
			else
				retas_error_set(err, r, "container.inflate",
						N_("The record's part %zu does not inflate to "
						   "its declared %u bytes."),
						i + 1, wps[i].orig_len);
			goto out;
		}
	}
	*out = steal_ptr(c);
	r = 0;
out:
	free(wps);
	return r;
}
