/*
 * The signature class without a device: the binary time series (exact
 * bytes, round trips, every way a decoder must refuse input), the JSON
 * export, the refusal of empty and trivial signatures, the renderer's
 * geometry, DPI and ink placement, and the core's dispatch rules.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "retas-json.h"
#include "sig-png-check.h"
#include "sig.h"

static struct sig_signature *make_sig(uint32_t pmax)
{
	struct sig_signature *s = sig_signature_new(100000, 100000, 15200, 9500, pmax);

	assert_non_null(s);
	return s;
}

static void add_point(struct sig_signature *s, uint32_t t, int32_t x, int32_t y, uint16_t p,
		      uint8_t flags)
{
	struct sig_point pt = {.t_ms = t, .x = x, .y = y, .pressure = p, .flags = flags};

	assert_int_equal(sig_signature_append(s, &pt), 0);
}

/* A wavy two-stroke signature of n samples, 5 ms apart. */
static struct sig_signature *wavy(size_t n, uint32_t pmax)
{
	struct sig_signature *s = make_sig(pmax);

	for (size_t i = 0; i < n; i++) {
		double u = (double)i / n;
		int32_t x = (int32_t)(2000 + 6000 * u);
		int32_t y = (int32_t)(3000 + 800 * sin(u * 12));
		uint8_t f = (i == 0 || i == n / 2) ? SIG_POINT_STROKE_START : 0;

		add_point(s, (uint32_t)(i * 5), x, y, pmax ? (uint16_t)(pmax * (0.2 + 0.7 * u)) : 0,
			  f);
	}
	return s;
}

static void assert_same(const struct sig_signature *a, const struct sig_signature *b)
{
	assert_int_equal(a->x_units_per_m, b->x_units_per_m);
	assert_int_equal(a->y_units_per_m, b->y_units_per_m);
	assert_int_equal(a->x_extent, b->x_extent);
	assert_int_equal(a->y_extent, b->y_extent);
	assert_int_equal(a->pressure_max, b->pressure_max);
	assert_int_equal(a->n_points, b->n_points);
	for (size_t i = 0; i < a->n_points; i++) {
		assert_int_equal(a->points[i].t_ms, b->points[i].t_ms);
		assert_int_equal(a->points[i].x, b->points[i].x);
		assert_int_equal(a->points[i].y, b->points[i].y);
		assert_int_equal(a->points[i].pressure, b->points[i].pressure);
		assert_int_equal(a->points[i].flags, b->points[i].flags);
	}
}

static void series_encode_exact_bytes(void **state)
{
	_cleanup_(sig_signature_freep) struct sig_signature *s = make_sig(2047);
	uint8_t *buf = NULL;
	size_t len = 0;
	static const uint8_t want_points[] = {
	    /* flags, dt, zz(dx), zz(dy), zz(dp) */
	    0x01, 0x00, 0xd0, 0x0f, 0xa0, 0x1f, 0xa4, 0x02, /* t0 x1000 y2000 p146 */
	    0x02, 0x05, 0x01, 0x80, 0x01, 0x03,		    /* t5 x999 y2064 p144 */
	    0x01, 0xc8, 0x01, 0x00, 0x00, 0x9f, 0x02,	    /* t205 stroke, p0 */
	};

	add_point(s, 0, 1000, 2000, 146, SIG_POINT_STROKE_START);
	add_point(s, 5, 999, 2064, 144, SIG_POINT_RESYNC);
	add_point(s, 205, 999, 2064, 0, SIG_POINT_STROKE_START);
	assert_int_equal(sig_series_encode(s, &buf, &len), 0);
	assert_int_equal(len, 32 + sizeof(want_points) + 4);
	assert_memory_equal(buf, "RSIG\x01\0\0\0", 8);
	assert_memory_equal(buf + 8, "\xa0\x86\x01\x00\xa0\x86\x01\x00", 8);  /* 100000 */
	assert_memory_equal(buf + 16, "\x60\x3b\x00\x00\x1c\x25\x00\x00", 8); /* 15200, 9500 */
	assert_memory_equal(buf + 24, "\xff\x07\x00\x00\x03\x00\x00\x00", 8);
	assert_memory_equal(buf + 32, want_points, sizeof(want_points));
	{
		uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)(len - 4));
		uint8_t le[4] = {(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16),
				 (uint8_t)(crc >> 24)};

		assert_memory_equal(buf + len - 4, le, 4);
	}
	free(buf);
}

static void series_roundtrip(void **state)
{
	_cleanup_(sig_signature_freep) struct sig_signature *s = wavy(2000, 2047);
	_cleanup_(sig_signature_freep) struct sig_signature *back = NULL;
	_cleanup_(sig_signature_freep) struct sig_signature *edge = make_sig(65535);
	_cleanup_(sig_signature_freep) struct sig_signature *back2 = NULL;
	struct retas_error err = {0};
	uint8_t *buf = NULL;
	size_t len;

	assert_int_equal(sig_series_encode(s, &buf, &len), 0);
	/* compact: far below the 15 bytes a packed sample would take */
	assert_true(len < 32 + 4 + 2000 * 8);
	assert_int_equal(sig_series_decode(buf, len, &back, &err), 0);
	assert_same(s, back);
	free(buf);

	/* extremes of every field survive */
	add_point(edge, 0, INT32_MIN, INT32_MAX, 65535, SIG_POINT_STROKE_START);
	add_point(edge, UINT32_MAX, INT32_MAX, INT32_MIN, 0,
		  SIG_POINT_STROKE_START | SIG_POINT_RESYNC);
	assert_int_equal(sig_series_encode(edge, &buf, &len), 0);
	assert_int_equal(sig_series_decode(buf, len, &back2, &err), 0);
	assert_same(edge, back2);
	free(buf);
}

static void series_encode_refuses_invalid(void **state)
{
	_cleanup_(sig_signature_freep) struct sig_signature *s = make_sig(100);
	uint8_t *buf = NULL;
	size_t len;

	add_point(s, 0, 1, 1, 10, 0); /* first sample must start a stroke */
	assert_int_equal(sig_series_encode(s, &buf, &len), -EINVAL);
	s->points[0].flags = SIG_POINT_STROKE_START;
	s->points[0].pressure = 101; /* over pressure_max */
	assert_int_equal(sig_series_encode(s, &buf, &len), -EINVAL);
	s->points[0].pressure = 100;
	add_point(s, 10, 1, 1, 10, 0);
	add_point(s, 9, 1, 1, 10, 0); /* time goes back */
	assert_int_equal(sig_series_encode(s, &buf, &len), -EINVAL);
	s->n_points = 1;
	s->points[0].t_ms = 3; /* the first sample is at 0 */
	assert_int_equal(sig_series_encode(s, &buf, &len), -EINVAL);
}

/* Re-seals a modified buffer with a correct CRC so the check under test is
 * the one that refuses it. */
static void reseal(uint8_t *buf, size_t len)
{
	uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)(len - 4));

	buf[len - 4] = (uint8_t)crc;
	buf[len - 3] = (uint8_t)(crc >> 8);
	buf[len - 2] = (uint8_t)(crc >> 16);
	buf[len - 1] = (uint8_t)(crc >> 24);
}

static void expect_bad(const uint8_t *buf, size_t len, const char *what)
{
	struct sig_signature *out = NULL;
	struct retas_error err = {0};

	assert_int_equal(sig_series_decode(buf, len, &out, &err), -EBADMSG);
	assert_null(out);
	assert_string_equal(err.reason, "signature.series");
	if (!strstr(err.message, what))
		fail_msg("message '%s' does not name '%s'", err.message, what);
}

static void series_decode_refuses(void **state)
{
	_cleanup_(sig_signature_freep) struct sig_signature *s = make_sig(2047);
	uint8_t *buf = NULL, *b;
	size_t len;

	add_point(s, 0, 1000, 2000, 146, SIG_POINT_STROKE_START);
	add_point(s, 5, 1001, 2001, 150, 0);
	assert_int_equal(sig_series_encode(s, &buf, &len), 0);
	b = malloc(len + 8);
	assert_non_null(b);

	expect_bad(buf, 35, "too short");
	memcpy(b, buf, len);
	b[0] = 'X';
	expect_bad(b, len, "not a signature series");
	memcpy(b, buf, len);
	b[4] = 2;
	expect_bad(b, len, "unknown version");
	memcpy(b, buf, len);
	b[6] = 1;
	expect_bad(b, len, "reserved");
	memcpy(b, buf, len);
	b[33] ^= 1; /* a flipped bit anywhere */
	expect_bad(b, len, "checksum");
	memcpy(b, buf, len);
	b[28] = 200; /* more samples than bytes */
	reseal(b, len);
	expect_bad(b, len, "sample count");
	memcpy(b, buf, len);
	b[8] = b[9] = b[10] = b[11] = 0;
	reseal(b, len);
	expect_bad(b, len, "zero scale");
	memcpy(b, buf, len);
	b[32] = 0x04; /* unknown flag */
	reseal(b, len);
	expect_bad(b, len, "flags");
	memcpy(b, buf, len);
	b[32] = 0x00; /* first sample without stroke start */
	reseal(b, len);
	expect_bad(b, len, "first sample");
	memcpy(b, buf, len);
	b[24] = 100; /* pressure_max below the samples' */
	b[25] = 0;
	reseal(b, len);
	expect_bad(b, len, "pressure out of range");
	/* a trailing byte before the CRC */
	memcpy(b, buf, len - 4);
	b[len - 4] = 0;
	reseal(b, len + 1);
	expect_bad(b, len + 1, "trailing");
	/* an overlong varint: 0x80 0x00 for 0 as the second sample's flags */
	{
		size_t first = 8; /* bytes of the first sample */
		size_t at = 32 + first;

		memcpy(b, buf, at);
		b[at] = 0x80;
		b[at + 1] = 0x00;
		memcpy(b + at + 2, buf + at + 1, len - at - 1);
		reseal(b, len + 1);
		expect_bad(b, len + 1, "overlong");
	}
	free(b);
	free(buf);
}

static void series_json_export(void **state)
{
	_cleanup_(sig_signature_freep) struct sig_signature *s = make_sig(2047);
	_cleanup_(json_object_putp) json_object *o = NULL;
	json_object *strokes, *pts, *pt, *v;
	char *text = NULL;
	const char *str;

	add_point(s, 0, 4000, 3000, 310, SIG_POINT_STROKE_START);
	add_point(s, 5, 4042, 3013, 402, 0);
	add_point(s, 900, 7150, 2800, 280, SIG_POINT_STROKE_START | SIG_POINT_RESYNC);
	/* the officers' locale writes a decimal comma; JSON must not */
	setlocale(LC_NUMERIC, "id_ID.UTF-8");
	assert_int_equal(sig_series_to_json(s, &text), 0);
	setlocale(LC_NUMERIC, "C");
	assert_non_null(strstr(text, "\"x\":40.420"));
	assert_null(strchr(text, ' '));
	assert_int_equal(retas_json_parse(text, strlen(text), &o), 0);
	assert_int_equal(retas_json_get_string(o, "type", &str), 0);
	assert_string_equal(str, "retas.signature-series.v1");
	assert_true(json_object_object_get_ex(o, "width_mm", &v));
	assert_true(fabs(json_object_get_double(v) - 152.0) < 1e-9);
	assert_true(json_object_object_get_ex(o, "duration_ms", &v));
	assert_int_equal(json_object_get_int(v), 900);
	assert_true(json_object_object_get_ex(o, "ink_mm", &v));
	assert_true(fabs(json_object_get_double(v) - 0.440) < 1e-9); /* hypot(0.42, 0.13) */
	assert_int_equal(retas_json_get_array(o, "strokes", &strokes), 0);
	assert_int_equal(json_object_array_length(strokes), 2);
	assert_int_equal(
	    retas_json_get_array(json_object_array_get_idx(strokes, 0), "points", &pts), 0);
	assert_int_equal(json_object_array_length(pts), 2);
	pt = json_object_array_get_idx(pts, 1);
	assert_true(json_object_object_get_ex(pt, "t", &v));
	assert_int_equal(json_object_get_int(v), 5);
	assert_true(json_object_object_get_ex(pt, "y", &v));
	assert_true(fabs(json_object_get_double(v) - 30.130) < 1e-9);
	assert_true(json_object_object_get_ex(pt, "p", &v));
	assert_int_equal(json_object_get_int(v), 402);
	assert_false(json_object_object_get_ex(pt, "resync", &v));
	assert_int_equal(
	    retas_json_get_array(json_object_array_get_idx(strokes, 1), "points", &pts), 0);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(pts, 0), "resync", &v));
	assert_true(json_object_get_boolean(v));
	free(text);
}

static void check_refuses_empty_and_trivial(void **state)
{
	_cleanup_(sig_signature_freep) struct sig_signature *s = make_sig(2047);
	struct sig_limits lim = {.min_points = 10, .min_ink_mm = 15};
	struct retas_error err = {0};

	assert_int_equal(sig_signature_check(s, &lim, &err), -ENODATA);
	assert_string_equal(err.reason, "signature.empty");
	assert_non_null(strstr(err.message, "sign again"));
	/* 20 points over 10 mm: enough points, too little ink */
	for (int i = 0; i < 20; i++)
		add_point(s, (uint32_t)i * 5, 1000 + i * 50, 1000, 500,
			  i == 0 ? SIG_POINT_STROKE_START : 0);
	retas_error_clear(&err);
	assert_int_equal(sig_signature_check(s, &lim, &err), -ENODATA);
	assert_string_equal(err.reason, "signature.too_short");
	assert_non_null(strstr(err.message, "sign again"));
	assert_non_null(strstr(err.message, "10 mm"));
	/* a jump between strokes is not ink */
	add_point(s, 200, 9000, 1000, 500, SIG_POINT_STROKE_START);
	assert_true(fabs(sig_signature_ink_mm(s) - 9.5) < 1e-9);
	assert_int_equal(sig_signature_strokes(s), 2);
	assert_int_equal(sig_signature_check(s, &lim, &err), -ENODATA);
	for (int i = 1; i < 20; i++)
		add_point(s, 200 + (uint32_t)i * 5, 9000, 1000 + i * 50, 500, 0);
	assert_int_equal(sig_signature_check(s, &lim, NULL), 0);
	/* too few points however long */
	lim.min_points = 100;
	assert_int_equal(sig_signature_check(s, &lim, NULL), -ENODATA);
}

static void render_geometry_dpi_and_ink(void **state)
{
	static const unsigned dpis[] = {300, 600, 150};
	_cleanup_(sig_signature_freep) struct sig_signature *s = wavy(400, 2047);

	for (size_t k = 0; k < ARRAY_SIZE(dpis); k++) {
		struct sig_render_opts o;
		struct retas_error err = {0};
		struct test_png png;
		uint8_t *buf = NULL;
		size_t len;
		unsigned w, h;
		double ox, oy;

		sig_render_opts_defaults(&o);
		o.dpi = dpis[k];
		assert_int_equal(sig_render_png(s, &o, &buf, &len, &err), 0);
		assert_int_equal(test_png_decode(buf, len, &png), 0);
		test_png_expected_geometry(s, &o, &w, &h, &ox, &oy);
		assert_int_equal(png.width, w);
		assert_int_equal(png.height, h);
		assert_int_equal(png.color_type, 0);
		assert_int_equal(png.bit_depth, 8);
		assert_true(png.has_phys);
		assert_int_equal(png.phys_unit, 1);
		assert_int_equal(png.ppm_x, lround(dpis[k] / 0.0254));
		assert_int_equal(png.ppm_y, png.ppm_x);
		assert_int_equal(lround(png.ppm_x * 0.0254), dpis[k]);
		assert_int_equal(test_png_ink_off_path(&png, s, &o, ox, oy), 0);
		assert_int_equal(test_png_path_gaps(&png, s, ox, oy), 0);
		test_png_release(&png);
		free(buf);
	}
}

static void render_width_follows_pressure(void **state)
{
	_cleanup_(sig_signature_freep) struct sig_signature *s = make_sig(1000);
	struct sig_render_opts o;
	_cleanup_(sig_image_freep) struct sig_image *img = NULL;
	uint8_t *buf = NULL;
	size_t len;
	struct test_png png;
	unsigned lo, hi;

	/* a horizontal line from 10 to 60 mm, pressure rising 0 -> 1000 */
	for (int i = 0; i <= 100; i++)
		add_point(s, (uint32_t)i * 5, 1000 + i * 50, 3000, (uint16_t)(i * 10),
			  i == 0 ? SIG_POINT_STROKE_START : 0);
	sig_render_opts_defaults(&o);
	o.dpi = 600;
	assert_int_equal(sig_render(s, &o, &img), 0);
	assert_true(fabs(img->origin_x_mm - 7.0) < 1e-9);
	assert_int_equal(sig_image_to_png(img, &buf, &len), 0);
	assert_int_equal(test_png_decode(buf, len, &png), 0);
	lo = test_png_column_ink(&png, 12.0, img->origin_x_mm);
	hi = test_png_column_ink(&png, 58.0, img->origin_x_mm);
	/* 0.3 + 0.5 * 0.04 = 0.32 mm = 7.6 px; 0.3 + 0.5 * 0.96 = 0.78 mm = 18.4 px */
	assert_in_range(lo, 6, 9);
	assert_in_range(hi, 17, 20);
	test_png_release(&png);
	free(buf);
}

static void render_dot_and_no_pressure(void **state)
{
	_cleanup_(sig_signature_freep) struct sig_signature *s = make_sig(0);
	_cleanup_(sig_image_freep) struct sig_image *img = NULL;
	struct sig_render_opts o;
	unsigned ink = 0;

	add_point(s, 0, 5000, 5000, 0, SIG_POINT_STROKE_START);
	sig_render_opts_defaults(&o);
	assert_int_equal(sig_render(s, &o, &img), 0);
	/* 6 mm square at 300 DPI */
	assert_int_equal(img->width, 71);
	assert_int_equal(img->height, 71);
	for (size_t i = 0; i < (size_t)img->width * img->height; i++)
		ink += img->pixels[i] < 128;
	/* a 0.8 mm disc: pi * (4.72 px)^2 = 70 px */
	assert_in_range(ink, 55, 85);
	assert_true(img->pixels[35 * 71 + 35] < 16);
	assert_int_equal(img->pixels[0], 255);
}

static void render_refuses_bad_options(void **state)
{
	_cleanup_(sig_signature_freep) struct sig_signature *s = wavy(50, 100);
	_cleanup_(sig_signature_freep) struct sig_signature *empty = make_sig(100);
	_cleanup_(sig_signature_freep) struct sig_signature *huge = make_sig(100);
	struct sig_image *img = NULL;
	struct sig_render_opts o;
	struct retas_error err = {0};
	uint8_t *buf = NULL;
	size_t len;

	sig_render_opts_defaults(&o);
	assert_int_equal(sig_render(empty, &o, &img), -EINVAL);
	o.dpi = 71;
	assert_int_equal(sig_render(s, &o, &img), -EINVAL);
	o.dpi = 2401;
	assert_int_equal(sig_render_png(s, &o, &buf, &len, &err), -EINVAL);
	assert_string_equal(err.reason, "signature.render");
	sig_render_opts_defaults(&o);
	o.margin_mm = 0.2; /* less than half the widest pen */
	assert_int_equal(sig_render(s, &o, &img), -EINVAL);
	sig_render_opts_defaults(&o);
	o.min_width_mm = NAN;
	assert_int_equal(sig_render(s, &o, &img), -EINVAL);
	sig_render_opts_defaults(&o);
	add_point(huge, 0, 0, 0, 0, SIG_POINT_STROKE_START);
	add_point(huge, 5, 2000000, 0, 0, 0); /* 20 m wide */
	assert_int_equal(sig_render_png(huge, &o, &buf, &len, &err), -E2BIG);
	assert_string_equal(err.reason, "signature.too_big");
	assert_null(img);
}

/* A device class member left NULL answers -EOPNOTSUPP from the core. */
static int stub_open(const struct sig_config *cfg, struct sig_device **out,
		     struct retas_error *err);
static void stub_close(struct sig_device *dev)
{
	free(dev);
}

static const struct sig_ops stub_ops = {
    .name = "stub",
    .open = stub_open,
    .close = stub_close,
};

static int stub_open(const struct sig_config *cfg, struct sig_device **out, struct retas_error *err)
{
	struct sig_device *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->ops = &stub_ops;
	*out = d;
	return 0;
}

static void core_null_member_is_eopnotsupp(void **state)
{
	struct sig_config cfg;
	_cleanup_(sig_device_closep) struct sig_device *dev = NULL;
	struct sig_signature *sig = NULL;
	struct sig_capture_params p = {.deadline_ms = 1, .control_fd = -1};
	struct sig_info info;
	struct retas_error err = {0};

	sig_config_defaults(&cfg);
	assert_int_equal(cfg.idle_ms, SIG_DEFAULT_IDLE_MS);
	assert_int_equal(sig_device_open(&stub_ops, &cfg, &dev, &err), 0);
	assert_int_equal(dev->limits.min_points, SIG_DEFAULT_MIN_POINTS);
	assert_int_equal(sig_device_describe(dev, &info), -EOPNOTSUPP);
	assert_int_equal(sig_device_capture(dev, &p, &sig, &err), -EOPNOTSUPP);
	assert_null(sig);
	cfg.idle_ms = -1;
	assert_int_equal(sig_device_open(&stub_ops, &cfg, &dev, &err), -EINVAL);
	assert_string_equal(err.reason, "signature.config");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(series_encode_exact_bytes),
	    cmocka_unit_test(series_roundtrip),
	    cmocka_unit_test(series_encode_refuses_invalid),
	    cmocka_unit_test(series_decode_refuses),
	    cmocka_unit_test(series_json_export),
	    cmocka_unit_test(check_refuses_empty_and_trivial),
	    cmocka_unit_test(render_geometry_dpi_and_ink),
	    cmocka_unit_test(render_width_follows_pressure),
	    cmocka_unit_test(render_dot_and_no_pressure),
	    cmocka_unit_test(render_refuses_bad_options),
	    cmocka_unit_test(core_null_member_is_eopnotsupp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
