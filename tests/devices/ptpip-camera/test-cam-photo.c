/*
 * Face photo normalisation: output size and orientation for every EXIF
 * orientation, DCT scaling on large originals, the officer's hints with
 * their measures, clear errors on corrupt, truncated and non-JPEG input (with
 * a short, bounded fuzz loop of mutated photos), and the keeping and purging
 * of originals.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jpeglib.h>

#include "cam-photo.h"
#include "jpeg-synth.h"

static uint8_t *synth(int w, int h, int orientation, int big_endian, enum synth_pattern pattern,
		      int level, size_t *len)
{
	struct synth_opts o = {.width = w,
			       .height = h,
			       .orientation = orientation,
			       .big_endian = big_endian,
			       .pattern = pattern,
			       .level = level,
			       .seed = 3};
	uint8_t *out = NULL;

	assert_int_equal(synth_jpeg(&o, &out, len), 0);
	return out;
}

/* Decodes a JPEG fully, for checking the output. */
static uint8_t *decode(const uint8_t *jpeg, size_t len, int *w, int *h)
{
	struct jpeg_decompress_struct ci;
	struct jpeg_error_mgr jerr;
	uint8_t *rgb;

	ci.err = jpeg_std_error(&jerr);
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, jpeg, (unsigned long)len);
	assert_int_equal(jpeg_read_header(&ci, TRUE), JPEG_HEADER_OK);
	ci.out_color_space = JCS_RGB;
	jpeg_start_decompress(&ci);
	*w = (int)ci.output_width;
	*h = (int)ci.output_height;
	rgb = malloc((size_t)*w * *h * 3);
	assert_non_null(rgb);
	while (ci.output_scanline < ci.output_height) {
		JSAMPROW row = rgb + (size_t)ci.output_scanline * *w * 3;

		jpeg_read_scanlines(&ci, &row, 1);
	}
	jpeg_finish_decompress(&ci);
	jpeg_destroy_decompress(&ci);
	return rgb;
}

/* The quadrant colours seen where they should be, within JPEG's error. */
static void assert_quadrants(const uint8_t *rgb, int w, int h)
{
	const int at[4][2] = {
	    {w / 4, h / 4}, {3 * w / 4, h / 4}, {w / 4, 3 * h / 4}, {3 * w / 4, 3 * h / 4}};

	for (int q = 0; q < 4; q++) {
		const uint8_t *p = rgb + ((size_t)at[q][1] * w + at[q][0]) * 3;

		for (int c = 0; c < 3; c++) {
			int d = p[c] - synth_quadrant_rgb[q][c];

			if (d < -12 || d > 12)
				fail_msg("quadrant %d channel %d: %d, want %d", q, c, p[c],
					 synth_quadrant_rgb[q][c]);
		}
	}
}

static void photo_large_original_default_size(void **state)
{
	struct cam_photo p = {0};
	struct retas_error err = {0};
	size_t len;
	uint8_t *in = synth(6000, 4000, 1, 0, SYNTH_QUADRANTS, 0, &len), *rgb;
	int w, h;

	assert_int_equal(cam_photo_normalise(in, len, NULL, &p, &err), 0);
	assert_int_equal(p.width, 600);
	assert_int_equal(p.height, 800);
	assert_int_equal(p.source_width, 6000);
	assert_int_equal(p.source_height, 4000);
	/* The 3000x4000 crop needs 800 rows: 1/4 gives 1000, 1/8 only 500. */
	assert_int_equal(p.scale_eighths, 2);
	rgb = decode(p.jpeg, p.size, &w, &h);
	assert_int_equal(w, 600);
	assert_int_equal(h, 800);
	assert_quadrants(rgb, w, h);
	free(rgb);
	cam_photo_clear(&p);
	free(in);
}

/* Every EXIF orientation, both TIFF byte orders, portrait and landscape as
 * seen: the output is upright. */
static void photo_exif_orientations(void **state)
{
	for (int o = 1; o <= 8; o++) {
		for (int be = 0; be < 2; be++) {
			for (int landscape = 0; landscape < 2; landscape++) {
				struct cam_photo p = {0};
				struct retas_error err = {0};
				size_t len;
				int w, h;
				uint8_t *in =
				    synth(landscape ? 1600 : 1200, landscape ? 1200 : 1600, o, be,
					  SYNTH_QUADRANTS, 0, &len);
				uint8_t *rgb;

				assert_int_equal(cam_photo_normalise(in, len, NULL, &p, &err), 0);
				assert_int_equal(p.orientation, o);
				assert_int_equal(p.source_width,
						 (o >= 5) != landscape ? 1600 : 1200);
				rgb = decode(p.jpeg, p.size, &w, &h);
				assert_int_equal(w, 600);
				assert_int_equal(h, 800);
				assert_quadrants(rgb, w, h);
				free(rgb);
				cam_photo_clear(&p);
				free(in);
			}
		}
	}
}

static void photo_configured_size(void **state)
{
	struct cam_photo_opts o;
	struct cam_photo p = {0};
	struct retas_error err = {0};
	size_t len;
	uint8_t *in = synth(4000, 3000, 6, 0, SYNTH_QUADRANTS, 0, &len), *rgb;
	int w, h;

	cam_photo_opts_default(&o);
	o.width = 300;
	o.height = 400;
	o.quality = 75;
	assert_int_equal(cam_photo_normalise(in, len, &o, &p, &err), 0);
	rgb = decode(p.jpeg, p.size, &w, &h);
	assert_int_equal(w, 300);
	assert_int_equal(h, 400);
	assert_quadrants(rgb, w, h);
	free(rgb);
	cam_photo_clear(&p);

	/* Smaller than asked for: decoded at full size and enlarged. */
	o.width = 1200;
	o.height = 1600;
	free(in);
	in = synth(900, 1200, 1, 0, SYNTH_QUADRANTS, 0, &len);
	assert_int_equal(cam_photo_normalise(in, len, &o, &p, &err), 0);
	assert_int_equal(p.scale_eighths, 8);
	rgb = decode(p.jpeg, p.size, &w, &h);
	assert_int_equal(w, 1200);
	assert_int_equal(h, 1600);
	assert_quadrants(rgb, w, h);
	free(rgb);
	cam_photo_clear(&p);

	o.width = 10;
	assert_int_equal(cam_photo_normalise(in, len, &o, &p, &err), -EINVAL);
	assert_string_equal(err.reason, "photo.config");
	free(in);
}

static void normalise_pattern(enum synth_pattern pattern, int level, struct cam_photo *p)
{
	struct retas_error err = {0};
	size_t len;
	uint8_t *in = synth(600, 800, 0, 0, pattern, level, &len);

	assert_int_equal(cam_photo_normalise(in, len, NULL, p, &err), 0);
	free(in);
}

static const struct cam_hint *find_hint(const struct cam_photo *p, enum cam_hint_kind kind)
{
	for (size_t i = 0; i < p->n_hints; i++)
		if (p->hints[i].kind == kind)
			return &p->hints[i];
	return NULL;
}

static void photo_hints(void **state)
{
	struct cam_photo p = {0};
	const struct cam_hint *h;
	char text[256];

	normalise_pattern(SYNTH_FLAT, 30, &p);
	h = find_hint(&p, CAM_HINT_DARK);
	assert_non_null(h);
	assert_string_equal(h->id, "photo.dark");
	assert_true(h->value > 27 && h->value < 33);
	assert_true(h->threshold == 70);
	assert_null(find_hint(&p, CAM_HINT_BRIGHT));
	assert_non_null(find_hint(&p, CAM_HINT_BLURRED));
	assert_true(p.quality_score < 50);
	cam_hint_describe(h, text, sizeof(text));
	assert_non_null(strstr(text, "30"));
	assert_non_null(strstr(text, "70"));
	cam_photo_clear(&p);

	normalise_pattern(SYNTH_FLAT, 235, &p);
	h = find_hint(&p, CAM_HINT_BRIGHT);
	assert_non_null(h);
	assert_true(h->value > 231 && h->value < 239);
	assert_true(h->threshold == 190);
	assert_null(find_hint(&p, CAM_HINT_DARK));
	cam_photo_clear(&p);

	normalise_pattern(SYNTH_RAMP, 0, &p);
	assert_int_equal(p.n_hints, 1);
	h = find_hint(&p, CAM_HINT_BLURRED);
	assert_non_null(h);
	assert_true(h->value < 1);
	assert_true(h->threshold == 40);
	cam_hint_describe(h, text, sizeof(text));
	assert_non_null(strstr(text, "40.0"));
	cam_photo_clear(&p);

	normalise_pattern(SYNTH_NOISE, 0, &p);
	assert_int_equal(p.n_hints, 0);
	assert_true(p.sharpness > 1000);
	assert_true(p.mean_luma > 110 && p.mean_luma < 146);
	assert_int_equal(p.quality_score, 100);
	cam_photo_clear(&p);
}

static void expect_refused(const uint8_t *data, size_t len, int code, const char *reason)
{
	struct cam_photo p = {0};
	struct retas_error err = {0};

	assert_int_equal(cam_photo_normalise(data, len, NULL, &p, &err), code);
	assert_string_equal(err.reason, reason);
	assert_true(err.message[0] != 0);
	assert_null(p.jpeg);
}

static void photo_refuses_non_jpeg(void **state)
{
	static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0};
	static const uint8_t soi_only[] = {0xFF, 0xD8, 0xFF, 0xD9};

	expect_refused(png, sizeof(png), -EBADMSG, "photo.not_jpeg");
	expect_refused((const uint8_t *)"hello, world", 12, -EBADMSG, "photo.not_jpeg");
	expect_refused(png, 0, -EBADMSG, "photo.not_jpeg");
	expect_refused(NULL, 0, -EBADMSG, "photo.not_jpeg");
	expect_refused(soi_only, sizeof(soi_only), -EBADMSG, "photo.damaged");
}

static void photo_refuses_truncated(void **state)
{
	size_t len;
	uint8_t *in = synth(1200, 1600, 1, 0, SYNTH_PHOTO, 0, &len);

	/* Cut inside the headers, and inside the rows the crop needs. */
	expect_refused(in, 200, -EBADMSG, "photo.damaged");
	expect_refused(in, len / 3, -EBADMSG, "photo.damaged");
	expect_refused(in, len / 2, -EBADMSG, "photo.damaged");
	free(in);
}

static void photo_refuses_huge_header(void **state)
{
	size_t len;
	uint8_t *in = synth(64, 48, 0, 0, SYNTH_FLAT, 100, &len);

	/* Claim 60000x60000 in the SOF0 frame header. */
	for (size_t i = 2; i + 9 < len; i++) {
		if (in[i] == 0xFF && in[i + 1] == 0xC0) {
			in[i + 5] = in[i + 7] = 0xEA;
			in[i + 6] = in[i + 8] = 0x60;
			break;
		}
	}
	expect_refused(in, len, -EFBIG, "photo.too_large");
	free(in);
}

/*
 * A bounded fuzz loop: 400 mutations of a small photo (byte flips, bytes
 * set to markers, cuts, duplicated runs), each either normalised to the
 * configured size or refused with a reason. Under ASan this is where a
 * memory error in the decoder's use would show.
 */
static void photo_fuzz_mutations(void **state)
{
	size_t len;
	uint8_t *in = synth(320, 240, 6, 0, SYNTH_PHOTO, 0, &len);
	uint32_t rng = 0x12345678;
	unsigned ok = 0, refused = 0;

	for (int iter = 0; iter < 400; iter++) {
		uint8_t *m = malloc(len + 64);
		size_t mlen = len;
		struct cam_photo p = {0};
		struct retas_error err = {0};
		int r, edits;

		assert_non_null(m);
		memcpy(m, in, len);
		rng = rng * 1103515245u + 12345u;
		edits = 1 + (int)((rng >> 16) % 4);
		for (int e = 0; e < edits; e++) {
			size_t at;

			rng = rng * 1103515245u + 12345u;
			at = (rng >> 8) % mlen;
			switch ((rng >> 4) % 4) {
			case 0:
				m[at] ^= (uint8_t)(1u << ((rng >> 20) % 8));
				break;
			case 1:
				m[at] = 0xFF;
				if (at + 1 < mlen)
					m[at + 1] = (uint8_t)(0xC0 + (rng >> 24) % 0x3F);
				break;
			case 2:
				mlen = at > 4 ? at : 4;
				break;
			case 3: {
				size_t n = (rng >> 24) % 48 + 1;

				if (at + n <= mlen) {
					memmove(m + at + n, m + at, mlen - at);
					mlen += n;
				}
				if (mlen > len + 64 - 48)
					mlen = len;
				break;
			}
			}
		}
		r = cam_photo_normalise(m, mlen, NULL, &p, &err);
		if (r == 0) {
			assert_int_equal(p.width, 600);
			assert_int_equal(p.height, 800);
			assert_non_null(p.jpeg);
			ok++;
		} else {
			assert_true(r == -EBADMSG || r == -EFBIG);
			assert_true(strncmp(err.reason, "photo.", 6) == 0);
			refused++;
		}
		cam_photo_clear(&p);
		free(m);
	}
	/* Both outcomes occur: the loop exercised the decoder's error paths. */
	assert_true(refused > 50);
	assert_true(ok > 0);
	free(in);
}

static void photo_exif_malformed(void **state)
{
	uint8_t b[64] = "Exif\0\0II*\0";

	assert_int_equal(cam_exif_orientation(NULL, 0), 1);
	assert_int_equal(cam_exif_orientation((const uint8_t *)"Exif\0\0", 6), 1);
	/* IFD offset past the end. */
	b[10] = 0xF0;
	assert_int_equal(cam_exif_orientation(b, 20), 1);
	/* One entry, orientation 9 (out of range). */
	b[10] = 8;
	b[14] = 1;
	b[16] = 0x12;
	b[17] = 0x01;
	b[18] = 3;
	b[20] = 1;
	b[24] = 9;
	assert_int_equal(cam_exif_orientation(b, 6 + 8 + 2 + 12 + 4), 1);
	b[24] = 6;
	assert_int_equal(cam_exif_orientation(b, 6 + 8 + 2 + 12 + 4), 6);
	/* The same, cut short inside the entry. */
	assert_int_equal(cam_exif_orientation(b, 6 + 8 + 2 + 6), 1);
	/* Wrong type (LONG). */
	b[18] = 4;
	assert_int_equal(cam_exif_orientation(b, 6 + 8 + 2 + 12 + 4), 1);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void set_mtime(const char *dir, const char *name, time_t t)
{
	char path[512];
	struct timespec ts[2] = {{.tv_sec = t}, {.tv_sec = t}};

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void photo_originals_kept_and_purged(void **state)
{
	char dir[] = "/tmp/retas-originals-XXXXXX", path[512];
	struct retas_error err = {0};
	struct stat st;
	unsigned removed = 99;
	int64_t now = 1795000000000;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(
	    cam_original_keep(dir, "old.jpg", (const uint8_t *)"\xFF\xD8\xFF", 3, &err), 0);
	assert_int_equal(
	    cam_original_keep(dir, "new.jpg", (const uint8_t *)"\xFF\xD8\xFF", 3, &err), 0);
	snprintf(path, sizeof(path), "%s/new.jpg", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(cam_original_keep(dir, "../x.jpg", (const uint8_t *)"a", 1, &err),
			 -EINVAL);
	assert_int_equal(cam_original_keep(dir, ".hidden.jpg", (const uint8_t *)"a", 1, &err),
			 -EINVAL);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	assert_int_equal(synth_write_file(path, (const uint8_t *)"x", 1), 0);

	/* Retention one day: old.jpg is two days old, new.jpg an hour. */
	set_mtime(dir, "old.jpg", (time_t)(now / 1000 - 2 * 86400));
	set_mtime(dir, "new.jpg", (time_t)(now / 1000 - 3600));
	set_mtime(dir, "notes.txt", (time_t)(now / 1000 - 9 * 86400));
	assert_int_equal(cam_original_purge(dir, now, 86400000, &removed), 0);
	assert_int_equal(removed, 1);
	snprintf(path, sizeof(path), "%s/old.jpg", dir);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/new.jpg", dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	assert_int_equal(stat(path, &st), 0);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(photo_large_original_default_size),
	    cmocka_unit_test(photo_exif_orientations),
	    cmocka_unit_test(photo_configured_size),
	    cmocka_unit_test(photo_hints),
	    cmocka_unit_test(photo_refuses_non_jpeg),
	    cmocka_unit_test(photo_refuses_truncated),
	    cmocka_unit_test(photo_refuses_huge_header),
	    cmocka_unit_test(photo_fuzz_mutations),
	    cmocka_unit_test(photo_exif_malformed),
	    cmocka_unit_test(photo_originals_kept_and_purged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
