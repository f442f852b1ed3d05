/*
 * ISO/IEC 19794-4:2011 finger image records: writer and a reader that
 * checks every length before it reads (fp-iso.h has the layout). The reader
 * takes input from other machines (records arriving at head office), so a
 * bad record is an error naming the field, never a crash.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fp-iso.h"
#include "fp-png.h"
#include "fp-quality.h"
#include "retas-i18n.h"
#include "retas-time.h"
#include "retas-util.h"

#define DAY_MS INT64_C(86400000)

static const uint8_t fir_magic[8] = {'F', 'I', 'R', 0, '0', '2', '0', 0};

void fp_iso_view_init(struct fp_iso_view *view, const struct fp_description *desc,
		      const struct fp_capture_result *result, uint8_t finger_position,
		      int64_t capture_time_ms)
{
	*view = (struct fp_iso_view){
	    .capture_time_ms = capture_time_ms,
	    .technology = desc->iso_technology,
	    .device_vendor = desc->iso_vendor_id,
	    .device_type = desc->iso_device_type,
	    .quality = (uint8_t)result->quality,
	    .quality_vendor = FP_QUALITY_VENDOR_ID,
	    .quality_algorithm = FP_QUALITY_ALGORITHM_ID,
	    .finger_position = finger_position,
	    .impression = FP_ISO_IMPRESSION_LIVE_PLAIN,
	    .ppi = (uint16_t)desc->ppi,
	    .image = result->image,
	};
}

static void put8(uint8_t **p, unsigned v)
{
	*(*p)++ = (uint8_t)v;
}

static void put16(uint8_t **p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v);
}

static void put32(uint8_t **p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static int check_view(const struct fp_iso_view *v, size_t i, struct retas_error *err)
{
	struct retas_date d;

	if (!v->image || v->image->width > 0xffff || v->image->height > 0xffff)
		return retas_error_set(err, -EINVAL, "fp.iso.view",
				       N_("Finger image %zu has no image or one too large."),
				       i + 1);
	if (v->finger_position > FP_ISO_FINGER_LEFT_LITTLE)
		return retas_error_set(
		    err, -EINVAL, "fp.iso.view",
		    N_("Finger image %zu has finger position %u; 0-10 are valid."), i + 1,
		    v->finger_position);
	if (v->quality > 100 && v->quality != 255)
		return retas_error_set(
		    err, -EINVAL, "fp.iso.view",
		    N_("Finger image %zu has quality %u; 0-100 or 255 are valid."), i + 1,
		    v->quality);
	retas_date_from_ms(v->capture_time_ms, 0, &d);
	if (d.year < 1 || d.year > 9999)
		return retas_error_set(err, -EINVAL, "fp.iso.view",
				       N_("Finger image %zu has a capture time outside years "
					  "1-9999."),
				       i + 1);
	return 0;
}

static void put_time(uint8_t **p, int64_t ms)
{
	struct retas_date d;
	int64_t in_day;

	retas_date_from_ms(ms, 0, &d);
	in_day = ms - retas_date_to_days(&d) * DAY_MS;
	put16(p, (unsigned)d.year);
	put8(p, (unsigned)d.month);
	put8(p, (unsigned)d.day);
	put8(p, (unsigned)(in_day / 3600000));
	put8(p, (unsigned)(in_day / 60000 % 60));
	put8(p, (unsigned)(in_day / 1000 % 60));
	put16(p, (unsigned)(in_day % 1000));
}

static unsigned distinct_positions(const struct fp_iso_view *views, size_t n)
{
	unsigned seen = 0, count = 0;

	for (size_t i = 0; i < n; i++)
		if (!(seen & (1u << views[i].finger_position))) {
			seen |= 1u << views[i].finger_position;
			count++;
		}
	return count;
}

int fp_iso_write(const struct fp_iso_view *views, size_t n, uint8_t **out, size_t *out_len,
		 struct retas_error *err)
{
	uint8_t **pngs = NULL;
	size_t *png_lens = NULL;
	uint8_t *buf = NULL, *p;
	uint64_t total = FP_ISO_GENERAL_HEADER_LEN;
	int r;

	if (n == 0 || n > FP_ISO_MAX_VIEWS) {
		r = retas_error_set(err, -EINVAL, "fp.iso.count",
				    N_("A finger image record holds 1-255 images, not %zu."), n);
		goto out;
	}
	pngs = calloc(n, sizeof(*pngs));
	png_lens = calloc(n, sizeof(*png_lens));
	if (!pngs || !png_lens) {
		r = retas_error_set(err, -ENOMEM, "fp.nomem", N_("Out of memory."));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		r = check_view(&views[i], i, err);
		if (r < 0)
			goto out;
		r = fp_png_encode(views[i].image, views[i].ppi, &pngs[i], &png_lens[i], err);
		if (r < 0)
			goto out;
		total += FP_ISO_REPR_HEADER_LEN + png_lens[i];
	}
	if (total > UINT32_MAX) {
		r = retas_error_set(err, -EFBIG, "fp.iso.size",
				    N_("The finger image record would exceed 4 GiB."));
		goto out;
	}
	buf = malloc((size_t)total);
	if (!buf) {
		r = retas_error_set(err, -ENOMEM, "fp.nomem", N_("Out of memory."));
		goto out;
	}
	p = buf;
	memcpy(p, fir_magic, sizeof(fir_magic));
	p += sizeof(fir_magic);
	put32(&p, (uint32_t)total);
	put16(&p, (unsigned)n);
	put8(&p, 0); /* no certification blocks */
	put8(&p, distinct_positions(views, n));
	for (size_t i = 0; i < n; i++) {
		const struct fp_iso_view *v = &views[i];

		put32(&p, (uint32_t)(FP_ISO_REPR_HEADER_LEN + png_lens[i]));
		put_time(&p, v->capture_time_ms);
		put8(&p, v->technology);
		put16(&p, v->device_vendor);
		put16(&p, v->device_type);
		put8(&p, 1); /* one quality block */
		put8(&p, v->quality);
		put16(&p, v->quality_vendor);
		put16(&p, v->quality_algorithm);
		put8(&p, v->finger_position);
		put8(&p, (unsigned)(i + 1));
		put8(&p, 1); /* scale units: pixels per inch */
		put16(&p, v->ppi);
		put16(&p, v->ppi);
		put16(&p, v->ppi);
		put16(&p, v->ppi);
		put8(&p, 8);
		put8(&p, FP_ISO_COMPRESSION_PNG);
		put8(&p, v->impression);
		put16(&p, v->image->width);
		put16(&p, v->image->height);
		put32(&p, (uint32_t)png_lens[i]);
		memcpy(p, pngs[i], png_lens[i]);
		p += png_lens[i];
	}
	*out = steal_ptr(buf);
	*out_len = (size_t)total;
	r = 0;
out:
	if (pngs)
		for (size_t i = 0; i < n; i++)
			free(pngs[i]);
	free(pngs);
	free(png_lens);
	free(buf);
	return r;
}

/* A bounds-checked reader: every get fails once the cursor would pass end. */
struct cursor {
	const uint8_t *p;
	const uint8_t *end;
};

static bool take(struct cursor *c, size_t n, const uint8_t **at)
{
	if ((size_t)(c->end - c->p) < n)
		return false;
	*at = c->p;
	c->p += n;
	return true;
}

static bool get8(struct cursor *c, unsigned *v)
{
	const uint8_t *at;

	if (!take(c, 1, &at))
		return false;
	*v = at[0];
	return true;
}

static bool get16(struct cursor *c, unsigned *v)
{
	const uint8_t *at;

	if (!take(c, 2, &at))
		return false;
	*v = (unsigned)at[0] << 8 | at[1];
	return true;
}

static bool get32(struct cursor *c, uint32_t *v)
{
	const uint8_t *at;

	if (!take(c, 4, &at))
		return false;
	*v = (uint32_t)at[0] << 24 | (uint32_t)at[1] << 16 | (uint32_t)at[2] << 8 | at[3];
	return true;
}

static int truncated(size_t i, struct retas_error *err)
{
	return retas_error_set(err, -EINVAL, "fp.iso.truncated",
			       N_("Finger image %zu of the record is cut short."), i + 1);
}

static int read_time(struct cursor *c, size_t i, int64_t *ms, struct retas_error *err)
{
	unsigned year, month, day, hour, minute, second, milli;
	struct retas_date d;

	if (!get16(c, &year) || !get8(c, &month) || !get8(c, &day) || !get8(c, &hour) ||
	    !get8(c, &minute) || !get8(c, &second) || !get16(c, &milli))
		return truncated(i, err);
	if (!retas_date_is_valid((int)year, (int)month, (int)day) || hour > 23 || minute > 59 ||
	    second > 59 || milli > 999)
		return retas_error_set(err, -EINVAL, "fp.iso.time",
				       N_("Finger image %zu of the record has an invalid capture "
					  "time."),
				       i + 1);
	d = (struct retas_date){(int)year, (int)month, (int)day};
	*ms = retas_date_to_days(&d) * DAY_MS + hour * INT64_C(3600000) + minute * 60000 +
	      second * 1000 + milli;
	return 0;
}

/* Reads one representation of exactly the cursor's length. */
static int read_view(struct cursor *c, size_t i, bool certified, struct fp_iso_view *v,
		     struct retas_error *err)
{
	unsigned tech, vendor, type, nq, pos, number, units, sh, sv, ih, iv, depth, comp, impr, w,
	    h, ppi = 0;
	const uint8_t *image;
	uint32_t image_len;
	int r;

	r = read_time(c, i, &v->capture_time_ms, err);
	if (r < 0)
		return r;
	if (!get8(c, &tech) || !get16(c, &vendor) || !get16(c, &type) || !get8(c, &nq))
		return truncated(i, err);
	v->technology = (uint8_t)tech;
	v->device_vendor = (uint16_t)vendor;
	v->device_type = (uint16_t)type;
	v->quality = 255;
	for (unsigned q = 0; q < nq; q++) {
		unsigned score, qv, qa;

		if (!get8(c, &score) || !get16(c, &qv) || !get16(c, &qa))
			return truncated(i, err);
		/* The first block is the one this kit reads back. */
		if (q == 0) {
			v->quality = (uint8_t)score;
			v->quality_vendor = (uint16_t)qv;
			v->quality_algorithm = (uint16_t)qa;
		}
	}
	if (certified) {
		unsigned ncert;
		const uint8_t *skip;

		if (!get8(c, &ncert) || !take(c, (size_t)ncert * 3, &skip))
			return truncated(i, err);
	}
	if (!get8(c, &pos) || !get8(c, &number) || !get8(c, &units) || !get16(c, &sh) ||
	    !get16(c, &sv) || !get16(c, &ih) || !get16(c, &iv) || !get8(c, &depth) ||
	    !get8(c, &comp) || !get8(c, &impr) || !get16(c, &w) || !get16(c, &h) ||
	    !get32(c, &image_len))
		return truncated(i, err);
	if (pos > FP_ISO_FINGER_LEFT_LITTLE)
		return retas_error_set(err, -EINVAL, "fp.iso.position",
				       N_("Finger image %zu of the record has finger position %u."),
				       i + 1, pos);
	if (units == 1)
		ppi = ih;
	else if (units == 2)
		ppi = (unsigned)((ih * 254 + 50) / 100);
	else if (ih != 0)
		return retas_error_set(err, -EINVAL, "fp.iso.units",
				       N_("Finger image %zu of the record has scale units %u."),
				       i + 1, units);
	if (depth != 8)
		return retas_error_set(err, -ENOTSUP, "fp.iso.depth",
				       N_("Finger image %zu of the record is %u-bit; only 8-bit "
					  "images are read."),
				       i + 1, depth);
	if (comp != FP_ISO_COMPRESSION_PNG)
		return retas_error_set(
		    err, -ENOTSUP, "fp.iso.compression",
		    N_("Finger image %zu of the record uses compression %u; only "
		       "PNG (6) is read."),
		    i + 1, comp);
	if (!take(c, image_len, &image))
		return truncated(i, err);
	/* Whatever follows the image inside the representation is extended
	 * data (segmentation, annotation, comments): not needed here. */
	r = fp_png_decode(image, image_len, &v->image, NULL, err);
	if (r < 0) {
		retas_error_prefix(err, _("finger image %zu"), i + 1);
		return r;
	}
	if (v->image->width != w || v->image->height != h) {
		fp_image_free(v->image);
		v->image = NULL;
		return retas_error_set(err, -EINVAL, "fp.iso.size",
				       N_("Finger image %zu of the record says %ux%u but its PNG "
					  "is another size."),
				       i + 1, w, h);
	}
	v->finger_position = (uint8_t)pos;
	v->impression = (uint8_t)impr;
	v->ppi = (uint16_t)ppi;
	return 0;
}

int fp_iso_read(const uint8_t *buf, size_t len, struct fp_iso_view **views, size_t *n,
		struct retas_error *err)
{
	struct cursor c = {.p = buf, .end = buf + len};
	struct fp_iso_view *list = NULL;
	const uint8_t *magic;
	unsigned count = 0, cert, positions;
	uint32_t total;
	size_t done = 0;
	int r;

	if (!take(&c, sizeof(fir_magic), &magic) || !get32(&c, &total) || !get16(&c, &count) ||
	    !get8(&c, &cert) || !get8(&c, &positions)) {
		r = retas_error_set(err, -EINVAL, "fp.iso.truncated",
				    N_("The finger image record is shorter than its header."));
		goto out;
	}
	if (memcmp(magic, fir_magic, sizeof(fir_magic)) != 0) {
		r = retas_error_set(err, -EINVAL, "fp.iso.magic",
				    N_("This is not an ISO/IEC 19794-4:2011 finger image record."));
		goto out;
	}
	if (total != len) {
		r = retas_error_set(err, -EINVAL, "fp.iso.length",
				    N_("The finger image record says %u bytes but has %zu."),
				    (unsigned)total, len);
		goto out;
	}
	if (count == 0 || cert > 1) {
		r = retas_error_set(err, -EINVAL, "fp.iso.header",
				    N_("The finger image record's header is invalid."));
		goto out;
	}
	list = calloc(count, sizeof(*list));
	if (!list) {
		r = retas_error_set(err, -ENOMEM, "fp.nomem", N_("Out of memory."));
		goto out;
	}
	for (done = 0; done < count; done++) {
		struct cursor rc;
		uint32_t rlen;
		const uint8_t *body;

		if (!get32(&c, &rlen) || rlen < 4 || !take(&c, rlen - 4, &body)) {
			r = truncated(done, err);
			goto out;
		}
		rc = (struct cursor){.p = body, .end = body + (rlen - 4)};
		r = read_view(&rc, done, cert == 1, &list[done], err);
		if (r < 0)
			goto out;
	}
	if (c.p != c.end) {
		r = retas_error_set(err, -EINVAL, "fp.iso.length",
				    N_("The finger image record has bytes after its last image."));
		goto out;
	}
	if (distinct_positions(list, count) != positions) {
		r = retas_error_set(err, -EINVAL, "fp.iso.header",
				    N_("The finger image record counts %u finger positions but "
				       "holds %u."),
				    positions, distinct_positions(list, count));
		goto out;
	}
	*views = steal_ptr(list);
	*n = count;
	r = 0;
out:
	fp_iso_views_free(list, done);
	return r;
}

void fp_iso_views_free(struct fp_iso_view *views, size_t n)
{
	if (!views)
		return;
	for (size_t i = 0; i < n; i++)
		fp_image_free(views[i].image);
	free(views);
}
