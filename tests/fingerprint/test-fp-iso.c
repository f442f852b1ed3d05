/* ISO/IEC 19794-4:2011 records and their PNG images: exact header bytes,
 * round trips, and refusal of damaged input without crashing. */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fp-iso.h"
#include "fp-png.h"
#include "fp-quality.h"
#include "synth.h"

/* 2026-11-24T09:41:27.305+07:00 */
#define CAPTURE_MS INT64_C(1795488087305)

static struct fp_image *pattern(unsigned w, unsigned h, uint32_t seed)
{
	struct fp_image *img = fp_image_new(w, h);

	assert_non_null(img);
	synth_finger(img->pixels, w, h, seed);
	return img;
}

static struct fp_iso_view view_for(struct fp_image *img, uint8_t position)
{
	return (struct fp_iso_view){
	    .capture_time_ms = CAPTURE_MS,
	    .technology = 15,
	    .quality = 57,
	    .quality_vendor = FP_QUALITY_VENDOR_ID,
	    .quality_algorithm = FP_QUALITY_ALGORITHM_ID,
	    .finger_position = position,
	    .impression = FP_ISO_IMPRESSION_LIVE_PLAIN,
	    .image = img,
	};
}

static void iso_header_bytes_pinned(void **state)
{
	struct fp_image *img = pattern(16, 8, 5);
	struct fp_iso_view v = view_for(img, FP_ISO_FINGER_RIGHT_INDEX);
	uint8_t *rec = NULL, *png = NULL;
	size_t len = 0, png_len = 0;
	uint32_t total, rlen;

	assert_int_equal(fp_png_encode(img, 0, &png, &png_len, NULL), 0);
	assert_int_equal(fp_iso_write(&v, 1, &rec, &len, NULL), 0);
	total = (uint32_t)(16 + 46 + png_len);
	rlen = (uint32_t)(46 + png_len);
	{
		/* clang-format off */
		const uint8_t want[16 + 46] = {
			/* general header */
			'F', 'I', 'R', 0, '0', '2', '0', 0,
			total >> 24, total >> 16 & 0xff, total >> 8 & 0xff, total & 0xff,
			0x00, 0x01, /* one representation */
			0x00,       /* no certification */
			0x01,       /* one finger position */
			/* representation header */
			rlen >> 24, rlen >> 16 & 0xff, rlen >> 8 & 0xff, rlen & 0xff,
			0x07, 0xea, 11, 24, 2, 41, 27, 0x01, 0x31, /* 2026-11-24 02:41:27.305Z */
			15,         /* semiconductor thermal */
			0x00, 0x00, /* device vendor unreported */
			0x00, 0x00, /* device type unreported */
			0x01,       /* one quality block: */
			57, 0x00, 0x00, 0x00, 0x01,
			0x02,       /* right index */
			0x01,       /* representation 1 */
			0x01,       /* pixels per inch */
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* resolution unknown */
			0x08,       /* 8-bit */
			0x06,       /* PNG */
			0x00,       /* live-scan plain */
			0x00, 0x10, 0x00, 0x08, /* 16 x 8 */
			png_len >> 24, png_len >> 16 & 0xff, png_len >> 8 & 0xff, png_len & 0xff,
		};
		/* clang-format on */

		assert_int_equal(len, total);
		assert_memory_equal(rec, want, sizeof(want));
		assert_memory_equal(rec + sizeof(want), png, png_len);
	}
	free(rec);
	free(png);
	fp_image_free(img);
}

static void iso_round_trip_ten_fingers(void **state)
{
	struct fp_iso_view views[10], *back = NULL;
	struct fp_image *imgs[10];
	uint8_t *rec = NULL;
	size_t len = 0, n = 0;

	for (unsigned i = 0; i < 10; i++) {
		imgs[i] = pattern(256, 180, i + 1);
		views[i] = view_for(imgs[i], (uint8_t)(i + 1));
		views[i].capture_time_ms = CAPTURE_MS + i * 4321;
		views[i].quality = (uint8_t)(i * 11);
		views[i].ppi = i % 2 ? 508 : 0;
		views[i].device_vendor = 0x1234;
		views[i].device_type = (uint16_t)i;
	}
	views[9].quality = 255;
	assert_int_equal(fp_iso_write(views, 10, &rec, &len, NULL), 0);
	assert_int_equal(rec[15], 10);
	assert_int_equal(fp_iso_read(rec, len, &back, &n, NULL), 0);
	assert_int_equal(n, 10);
	for (unsigned i = 0; i < 10; i++) {
		assert_int_equal(back[i].capture_time_ms, views[i].capture_time_ms);
		assert_int_equal(back[i].technology, 15);
		assert_int_equal(back[i].device_vendor, 0x1234);
		assert_int_equal(back[i].device_type, i);
		assert_int_equal(back[i].quality, views[i].quality);
		assert_int_equal(back[i].quality_vendor, FP_QUALITY_VENDOR_ID);
		assert_int_equal(back[i].quality_algorithm, FP_QUALITY_ALGORITHM_ID);
		assert_int_equal(back[i].finger_position, i + 1);
		assert_int_equal(back[i].impression, 0);
		assert_int_equal(back[i].ppi, views[i].ppi);
		assert_int_equal(back[i].image->width, 256);
		assert_int_equal(back[i].image->height, 180);
		assert_memory_equal(back[i].image->pixels, imgs[i]->pixels, 256 * 180);
	}
	fp_iso_views_free(back, n);
	free(rec);
	for (unsigned i = 0; i < 10; i++)
		fp_image_free(imgs[i]);
}

static void iso_read_rejects_every_truncation(void **state)
{
	struct fp_image *img = pattern(32, 24, 9);
	struct fp_iso_view v = view_for(img, 3), *back = (struct fp_iso_view *)1;
	struct retas_error err = {0};
	uint8_t *rec = NULL, *copy;
	size_t len = 0, n = 77;

	assert_int_equal(fp_iso_write(&v, 1, &rec, &len, NULL), 0);
	for (size_t cut = 0; cut < len; cut++) {
		/* an exact-size copy, so reading past it is caught by ASan */
		copy = malloc(cut ? cut : 1);
		assert_non_null(copy);
		memcpy(copy, rec, cut);
		assert_int_equal(fp_iso_read(copy, cut, &back, &n, &err), -EINVAL);
		assert_true(back == (struct fp_iso_view *)1 && n == 77);
		/* and with a record length that agrees, so the representation's
		 * own lengths are what must catch it */
		if (cut >= 12) {
			copy[8] = (uint8_t)(cut >> 24);
			copy[9] = (uint8_t)(cut >> 16);
			copy[10] = (uint8_t)(cut >> 8);
			copy[11] = (uint8_t)cut;
			assert_int_equal(fp_iso_read(copy, cut, &back, &n, &err), -EINVAL);
			assert_true(back == (struct fp_iso_view *)1 && n == 77);
		}
		free(copy);
	}
	free(rec);
	fp_image_free(img);
}

static int read_altered(const uint8_t *rec, size_t len, size_t at, uint8_t value,
			struct retas_error *err)
{
	uint8_t *copy = malloc(len);
	struct fp_iso_view *back = NULL;
	size_t n = 0;
	int r;

	assert_non_null(copy);
	memcpy(copy, rec, len);
	copy[at] = value;
	r = fp_iso_read(copy, len, &back, &n, err);
	if (r == 0)
		fp_iso_views_free(back, n);
	free(copy);
	return r;
}

static void iso_read_names_what_is_wrong(void **state)
{
	struct fp_image *img = pattern(32, 24, 9);
	struct fp_iso_view v = view_for(img, 3);
	struct retas_error err = {0};
	uint8_t *rec = NULL;
	size_t len = 0;

	assert_int_equal(fp_iso_write(&v, 1, &rec, &len, NULL), 0);
	assert_int_equal(read_altered(rec, len, 0, 'X', &err), -EINVAL);
	assert_string_equal(err.reason, "fp.iso.magic");
	assert_int_equal(read_altered(rec, len, 11, rec[11] + 1, &err), -EINVAL);
	assert_string_equal(err.reason, "fp.iso.length");
	assert_int_equal(read_altered(rec, len, 15, 2, &err), -EINVAL);
	assert_string_equal(err.reason, "fp.iso.header");
	assert_int_equal(read_altered(rec, len, 16 + 6, 13, &err), -EINVAL);
	assert_string_equal(err.reason, "fp.iso.time");
	assert_int_equal(read_altered(rec, len, 16 + 24, 11, &err), -EINVAL);
	assert_string_equal(err.reason, "fp.iso.position");
	assert_int_equal(read_altered(rec, len, 16 + 35, 16, &err), -ENOTSUP);
	assert_string_equal(err.reason, "fp.iso.depth");
	assert_int_equal(read_altered(rec, len, 16 + 36, 5, &err), -ENOTSUP);
	assert_string_equal(err.reason, "fp.iso.compression");
	assert_int_equal(read_altered(rec, len, 16 + 39, 33, &err), -EINVAL);
	assert_string_equal(err.reason, "fp.iso.size");
	/* a flipped byte inside the PNG's image data */
	assert_int_equal(read_altered(rec, len, len - 20, rec[len - 20] ^ 0xff, &err), -EINVAL);
	assert_string_equal(err.reason, "fp.png.corrupt");
	free(rec);
	fp_image_free(img);
}

static void iso_write_refuses_bad_views(void **state)
{
	struct fp_image *img = pattern(8, 8, 1);
	struct fp_iso_view v = view_for(img, 11);
	struct retas_error err = {0};
	uint8_t *rec = (uint8_t *)1;
	size_t len = 5;

	assert_int_equal(fp_iso_write(&v, 1, &rec, &len, &err), -EINVAL);
	assert_string_equal(err.reason, "fp.iso.view");
	v = view_for(img, 1);
	v.quality = 101;
	assert_int_equal(fp_iso_write(&v, 1, &rec, &len, &err), -EINVAL);
	assert_string_equal(err.reason, "fp.iso.view");
	v.quality = 100;
	v.capture_time_ms = INT64_C(-70000000000000);
	assert_int_equal(fp_iso_write(&v, 1, &rec, &len, &err), -EINVAL);
	assert_int_equal(fp_iso_write(&v, 0, &rec, &len, &err), -EINVAL);
	assert_string_equal(err.reason, "fp.iso.count");
	assert_true(rec == (uint8_t *)1 && len == 5);
	fp_image_free(img);
}

static void png_round_trip_with_resolution(void **state)
{
	struct fp_image *img = pattern(256, 180, 3), *back = NULL;
	unsigned ppi = 1;
	uint8_t *png = NULL;
	size_t len = 0;

	assert_int_equal(fp_png_encode(img, 500, &png, &len, NULL), 0);
	assert_int_equal(fp_png_decode(png, len, &back, &ppi, NULL), 0);
	assert_int_equal(ppi, 500);
	assert_memory_equal(back->pixels, img->pixels, 256 * 180);
	fp_image_free(back);
	free(png);
	assert_int_equal(fp_png_encode(img, 0, &png, &len, NULL), 0);
	assert_int_equal(fp_png_decode(png, len, &back, &ppi, NULL), 0);
	assert_int_equal(ppi, 0);
	fp_image_free(back);
	free(png);
	fp_image_free(img);
}

struct mem {
	uint8_t buf[4096];
	size_t len;
};

static void mem_write(png_structp png, png_bytep data, size_t len)
{
	struct mem *m = png_get_io_ptr(png);

	assert_true(m->len + len <= sizeof(m->buf));
	memcpy(m->buf + m->len, data, len);
	m->len += len;
}

static void mem_flush(png_structp png)
{
}

static void png_decode_refuses_colour(void **state)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	uint8_t row[3 * 4] = {0};
	struct retas_error err = {0};
	struct fp_image *img = NULL;
	struct mem m = {.len = 0};

	if (setjmp(png_jmpbuf(png)))
		fail_msg("libpng could not write the test image");
	png_set_write_fn(png, &m, mem_write, mem_flush);
	png_set_IHDR(png, info, 4, 2, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	png_write_row(png, row);
	png_write_row(png, row);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	assert_int_equal(fp_png_decode(m.buf, m.len, &img, NULL, &err), -ENOTSUP);
	assert_string_equal(err.reason, "fp.png.format");
	assert_int_equal(fp_png_decode(m.buf, 7, &img, NULL, &err), -EINVAL);
	assert_int_equal(fp_png_decode(m.buf, m.len / 2, &img, NULL, &err), -EINVAL);
	assert_null(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(iso_header_bytes_pinned),
	    cmocka_unit_test(iso_round_trip_ten_fingers),
	    cmocka_unit_test(iso_read_rejects_every_truncation),
	    cmocka_unit_test(iso_read_names_what_is_wrong),
	    cmocka_unit_test(iso_write_refuses_bad_views),
	    cmocka_unit_test(png_round_trip_with_resolution),
	    cmocka_unit_test(png_decode_refuses_colour),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
