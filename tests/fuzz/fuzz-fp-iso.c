/*
 * libFuzzer target: the ISO/IEC 19794-4:2011 finger image record reader
 * (fp_iso_read, drivers/fingerprint), what head office runs on every
 * finger a van sends. Besides the sanitizers it asserts that a refusal
 * names its reason, that what is read keeps the documented bounds, and
 * that a record read and written again (fp_iso_write) reads back to the
 * same views and pixels.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fp-iso.h"
#include "fuzz-common.h"

/* Re-encoding a large image as PNG costs more than the read being fuzzed:
 * the round trip is checked on images up to this many pixels. */
#define ROUNDTRIP_MAX_PIXELS (256u * 256u)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void check_roundtrip(const struct fp_iso_view *views, size_t n)
{
	struct fp_iso_view *back = NULL;
	struct retas_error err = {0};
	uint8_t *buf = NULL;
	size_t len = 0, n2 = 0;
	int r;

	if (n > FP_ISO_MAX_VIEWS)
		return; /* the reader takes up to 65535 views, the writer 255 */
	for (size_t i = 0; i < n; i++)
		if ((views[i].quality > 100 && views[i].quality != 255) ||
		    (size_t)views[i].image->width * views[i].image->height > ROUNDTRIP_MAX_PIXELS)
			return; /* the writer refuses such a quality; too slow to re-encode */
	r = fp_iso_write(views, n, &buf, &len, &err);
	if (r < 0)
		fprintf(stderr, "write refused (%s): %s\n", err.reason, err.message);
	FUZZ_CHECK(r == 0);
	r = fp_iso_read(buf, len, &back, &n2, &err);
	if (r < 0)
		fprintf(stderr, "read back refused (%s): %s\n", err.reason, err.message);
	FUZZ_CHECK(r == 0 && n2 == n);
	for (size_t i = 0; i < n; i++) {
		const struct fp_iso_view *a = &views[i], *b = &back[i];

		FUZZ_CHECK(a->capture_time_ms == b->capture_time_ms);
		FUZZ_CHECK(a->technology == b->technology && a->device_vendor == b->device_vendor &&
			   a->device_type == b->device_type);
		FUZZ_CHECK(a->quality == b->quality && a->quality_vendor == b->quality_vendor &&
			   a->quality_algorithm == b->quality_algorithm);
		FUZZ_CHECK(a->finger_position == b->finger_position &&
			   a->impression == b->impression && a->ppi == b->ppi);
		FUZZ_CHECK(a->image->width == b->image->width &&
			   a->image->height == b->image->height);
		FUZZ_CHECK(memcmp(a->image->pixels, b->image->pixels,
				  (size_t)a->image->width * a->image->height) == 0);
	}
	fp_iso_views_free(back, n2);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_iso_view *views = NULL;
	struct retas_error err = {0};
	size_t n = 0;
	int r;

	r = fp_iso_read(data, size, &views, &n, &err);
	if (r < 0) {
		FUZZ_CHECK_REFUSAL(r, err);
		FUZZ_CHECK(strncmp(err.reason, "fp.", 3) == 0);
		return 0;
	}
	FUZZ_CHECK(r == 0 && views && n >= 1);
	for (size_t i = 0; i < n; i++) {
		const struct fp_image *img = views[i].image;

		FUZZ_CHECK(img && img->pixels);
		FUZZ_CHECK(img->width >= 1 && img->width <= FP_IMAGE_MAX_SIDE);
		FUZZ_CHECK(img->height >= 1 && img->height <= FP_IMAGE_MAX_SIDE);
		FUZZ_CHECK(views[i].finger_position <= FP_ISO_FINGER_LEFT_LITTLE);
	}
	check_roundtrip(views, n);
	fp_iso_views_free(views, n);
	return 0;
}
