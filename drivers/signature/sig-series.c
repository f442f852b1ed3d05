/*
 * The pen's time series as bytes: a fixed little-endian header with the
 * physical scale, then per sample five LEB128 varints holding the flags and
 * the differences to the previous sample (zigzag for signed ones), then a
 * CRC-32. Samples 5 ms apart that move a few tenths of a millimetre take
 * 5-8 bytes instead of the 15 of a packed struct. The format, and the
 * JSON export next to it, are specified in docs/signature-series.md; the
 * decoder accepts exactly what that document allows and nothing else.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "retas-i18n.h"
#include "retas-json.h"
#include "sig.h"

#define SERIES_MAGIC "RSIG"
#define SERIES_VERSION 1
#define SERIES_HEADER 32
#define SERIES_CRC 4
#define SERIES_MAX_POINTS 1000000u
#define SERIES_MIN_POINT_BYTES 5

struct wbuf {
	uint8_t *data;
	size_t len, cap;
	bool oom;
};

static void wbuf_put(struct wbuf *b, const void *p, size_t n)
{
	if (b->oom)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *d;

		while (cap - b->len < n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			b->oom = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void wbuf_u32(struct wbuf *b, uint32_t v)
{
	uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	wbuf_put(b, le, sizeof(le));
}

static void wbuf_varint(struct wbuf *b, uint64_t v)
{
	uint8_t out[10];
	size_t n = 0;

	do {
		out[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	wbuf_put(b, out, n);
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* What sig_series_encode() accepts is what sig_series_decode() returns. */
static bool series_valid(const struct sig_signature *s)
{
	if (!s->x_units_per_m || !s->y_units_per_m || s->pressure_max > UINT16_MAX ||
	    s->n_points > SERIES_MAX_POINTS)
		return false;
	for (size_t i = 0; i < s->n_points; i++) {
		const struct sig_point *p = &s->points[i];

		if (p->flags & ~SIG_POINT_FLAGS_KNOWN || p->pressure > s->pressure_max)
			return false;
		if (i == 0 && (p->t_ms != 0 || !(p->flags & SIG_POINT_STROKE_START)))
			return false;
		if (i > 0 && p->t_ms < s->points[i - 1].t_ms)
			return false;
	}
	return true;
}

int sig_series_encode(const struct sig_signature *s, uint8_t **out, size_t *out_len)
{
	struct wbuf b = {0};
	int64_t px = 0, py = 0, pp = 0;
	uint32_t pt = 0;

	if (!series_valid(s))
		return -EINVAL;
	wbuf_put(&b, SERIES_MAGIC, 4);
	wbuf_put(&b, (uint8_t[]){SERIES_VERSION, 0, 0, 0}, 4);
	wbuf_u32(&b, s->x_units_per_m);
	wbuf_u32(&b, s->y_units_per_m);
	wbuf_u32(&b, s->x_extent);
	wbuf_u32(&b, s->y_extent);
	wbuf_u32(&b, s->pressure_max);
	wbuf_u32(&b, (uint32_t)s->n_points);
	for (size_t i = 0; i < s->n_points; i++) {
		const struct sig_point *p = &s->points[i];

		wbuf_varint(&b, p->flags);
		wbuf_varint(&b, p->t_ms - pt);
		wbuf_varint(&b, zigzag(p->x - px));
		wbuf_varint(&b, zigzag(p->y - py));
		wbuf_varint(&b, zigzag(p->pressure - pp));
		pt = p->t_ms;
		px = p->x;
		py = p->y;
		pp = p->pressure;
	}
	if (!b.oom)
		wbuf_u32(&b, (uint32_t)crc32(0L, b.data, (uInt)b.len));
	if (b.oom) {
		free(b.data);
		return -ENOMEM;
	}
	*out = b.data;
	*out_len = b.len;
	return 0;
}

struct rbuf {
	const uint8_t *p, *end;
};

/* LEB128 of at most 64 bits, in its shortest form. */
static int read_varint(struct rbuf *r, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t byte;

		if (r->p == r->end)
			return -EBADMSG;
		byte = *r->p++;
		if (shift == 63 && byte > 1)
			return -EBADMSG;
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			if (byte == 0 && shift > 0)
				return -EBADMSG; /* overlong */
			*out = v;
			return 0;
		}
	}
	return -EBADMSG;
}

static int bad(struct retas_error *err, const char *what)
{
	return retas_error_set(err, -EBADMSG, "signature.series",
			       N_("The signature time series is invalid: %s."), what);
}

static int decode_points(struct rbuf *r, struct sig_signature *s, uint32_t n,
			 struct retas_error *err)
{
	int64_t x = 0, y = 0, p = 0, t = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t f, dt, dx, dy, dp;
		struct sig_point pt;

		if (read_varint(r, &f) < 0 || read_varint(r, &dt) < 0 || read_varint(r, &dx) < 0 ||
		    read_varint(r, &dy) < 0 || read_varint(r, &dp) < 0)
			return bad(err, "truncated or overlong number");
		if (f & ~(uint64_t)SIG_POINT_FLAGS_KNOWN)
			return bad(err, "unknown sample flags");
		if (i == 0 && !(f & SIG_POINT_STROKE_START))
			return bad(err, "the first sample does not start a stroke");
		if (dt > UINT32_MAX || (i == 0 && dt != 0))
			return bad(err, "time out of range");
		t += (int64_t)dt;
		x += unzigzag(dx);
		y += unzigzag(dy);
		p += unzigzag(dp);
		if (t > UINT32_MAX || x < INT32_MIN || x > INT32_MAX || y < INT32_MIN ||
		    y > INT32_MAX)
			return bad(err, "sample out of range");
		if (p < 0 || p > s->pressure_max)
			return bad(err, "pressure out of range");
		pt = (struct sig_point){.t_ms = (uint32_t)t,
					.x = (int32_t)x,
					.y = (int32_t)y,
					.pressure = (uint16_t)p,
					.flags = (uint8_t)f};
		if (sig_signature_append(s, &pt) < 0)
			return -ENOMEM;
	}
	return 0;
}

int sig_series_decode(const uint8_t *buf, size_t len, struct sig_signature **out,
		      struct retas_error *err)
{
	_cleanup_(sig_signature_freep) struct sig_signature *s = NULL;
	struct rbuf r;
	uint32_t n;
	int ret;

	if (len < SERIES_HEADER + SERIES_CRC)
		return bad(err, "too short");
	if (memcmp(buf, SERIES_MAGIC, 4) != 0)
		return bad(err, "not a signature series");
	if (buf[4] != SERIES_VERSION)
		return bad(err, "unknown version");
	if (buf[5] || buf[6] || buf[7])
		return bad(err, "reserved header bytes are set");
	if (get_u32(buf + len - SERIES_CRC) != (uint32_t)crc32(0L, buf, (uInt)(len - SERIES_CRC)))
		return bad(err, "checksum mismatch");
	n = get_u32(buf + 28);
	if (n > SERIES_MAX_POINTS ||
	    n > (len - SERIES_HEADER - SERIES_CRC) / SERIES_MIN_POINT_BYTES)
		return bad(err, "sample count does not fit the data");
	s = sig_signature_new(get_u32(buf + 8), get_u32(buf + 12), get_u32(buf + 16),
			      get_u32(buf + 20), get_u32(buf + 24));
	if (!s)
		return -ENOMEM;
	if (!s->x_units_per_m || !s->y_units_per_m)
		return bad(err, "zero scale");
	if (s->pressure_max > UINT16_MAX)
		return bad(err, "pressure range too large");
	r = (struct rbuf){.p = buf + SERIES_HEADER, .end = buf + len - SERIES_CRC};
	ret = decode_points(&r, s, n, err);
	if (ret < 0)
		return ret;
	if (r.p != r.end)
		return bad(err, "trailing bytes after the samples");
	*out = steal_ptr(s);
	return 0;
}

/* Thousandths as a decimal string without the locale's separator (JSON
 * needs '.', and the officers' locale writes ','). */
static json_object *json_milli(int64_t v)
{
	char buf[32];
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%03" PRIu64, v < 0 ? "-" : "", a / 1000,
		 a % 1000);
	return json_object_new_double_s((double)v / 1000.0, buf);
}

static int64_t to_um(int64_t units, uint32_t units_per_m)
{
	return llround((double)units * 1e6 / units_per_m);
}

static int add(json_object *obj, const char *key, json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

static int json_point(const struct sig_signature *s, const struct sig_point *p, json_object **out)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();

	if (!o || add(o, "t", json_object_new_int64(p->t_ms)) < 0 ||
	    add(o, "x", json_milli(to_um(p->x, s->x_units_per_m))) < 0 ||
	    add(o, "y", json_milli(to_um(p->y, s->y_units_per_m))) < 0 ||
	    add(o, "p", json_object_new_int(p->pressure)) < 0)
		return -ENOMEM;
	if ((p->flags & SIG_POINT_RESYNC) && add(o, "resync", json_object_new_boolean(1)) < 0)
		return -ENOMEM;
	*out = steal_ptr(o);
	return 0;
}

static int json_strokes(const struct sig_signature *s, json_object *strokes)
{
	json_object *points = NULL;

	for (size_t i = 0; i < s->n_points; i++) {
		json_object *pt;

		if (i == 0 || (s->points[i].flags & SIG_POINT_STROKE_START)) {
			_cleanup_(json_object_putp) json_object *stroke = json_object_new_object();

			points = json_object_new_array();
			if (!stroke || add(stroke, "points", points) < 0)
				return -ENOMEM;
			if (json_object_array_add(strokes, stroke) < 0)
				return -ENOMEM;
			stroke = NULL;
		}
		if (json_point(s, &s->points[i], &pt) < 0)
			return -ENOMEM;
		if (json_object_array_add(points, pt) < 0) {
			json_object_put(pt);
			return -ENOMEM;
		}
	}
	return 0;
}

int sig_series_to_json(const struct sig_signature *s, char **out)
{
	_cleanup_(json_object_putp) json_object *o = NULL;
	uint32_t duration = s->n_points ? s->points[s->n_points - 1].t_ms : 0;
	json_object *strokes;

	if (!series_valid(s))
		return -EINVAL;
	o = json_object_new_object();
	if (!o || add(o, "type", json_object_new_string("retas.signature-series.v1")) < 0 ||
	    add(o, "x_units_per_m", json_object_new_int64(s->x_units_per_m)) < 0 ||
	    add(o, "y_units_per_m", json_object_new_int64(s->y_units_per_m)) < 0 ||
	    add(o, "width_mm", json_milli(to_um(s->x_extent, s->x_units_per_m))) < 0 ||
	    add(o, "height_mm", json_milli(to_um(s->y_extent, s->y_units_per_m))) < 0 ||
	    add(o, "pressure_max", json_object_new_int64(s->pressure_max)) < 0 ||
	    add(o, "duration_ms", json_object_new_int64(duration)) < 0 ||
	    add(o, "ink_mm", json_milli(llround(sig_signature_ink_mm(s) * 1000))) < 0)
		return -ENOMEM;
	strokes = json_object_new_array();
	if (add(o, "strokes", strokes) < 0 || json_strokes(s, strokes) < 0)
		return -ENOMEM;
	return retas_json_to_string(o, out);
}
