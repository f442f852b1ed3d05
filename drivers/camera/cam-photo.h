/*
 * The face photo, from the camera's original to what a record carries: a
 * portrait of a configured size (600x800 by default), upright, JPEG quality
 * 90, and hints for the officer when it is too dark, too bright or blurred.
 * Also the optional keeping of originals on the laptop for a retention time.
 *
 * Pure functions of their input: no device, no clock (the caller passes the
 * time), safe on any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "retas-error.h"

struct cam_photo_opts {
	int width;	     /* output, default 600 */
	int height;	     /* output, default 800; width:height is the crop's aspect */
	int quality;	     /* JPEG quality 1..100, default 90 */
	double dark_below;   /* mean luminance (0..255) under which a photo is too dark */
	double bright_above; /* mean luminance over which it is too bright */
	double blur_below;   /* variance of the Laplacian under which it is blurred */
};

/* 600x800, quality 90, dark below 70, bright above 190, blurred below 40. */
void cam_photo_opts_default(struct cam_photo_opts *o);

enum cam_hint_kind {
	CAM_HINT_DARK,
	CAM_HINT_BRIGHT,
	CAM_HINT_BLURRED,
};

struct cam_hint {
	enum cam_hint_kind kind;
	const char *id;	  /* "photo.dark", "photo.bright", "photo.blurred" */
	double value;	  /* what was measured */
	double threshold; /* the limit it crossed */
};

struct cam_photo {
	uint8_t *jpeg; /* the normalised photo, malloc'd; cam_photo_clear() frees it */
	size_t size;
	int width, height;
	int orientation; /* EXIF orientation of the original that was applied, 1..8 */
	int source_width, source_height; /* the original as stored */
	int scale_eighths;		 /* the DCT scaling used to decode: n/8 */
	double mean_luma;		 /* of the normalised photo */
	double sharpness;		 /* variance of its Laplacian */
	int quality_score;		 /* 0..100: 100 without hints, less the further a
					    measure is past its limit */
	struct cam_hint hints[3];
	size_t n_hints;
};

/*
 * Decodes a camera original (with libjpeg-turbo's DCT scaling when it is
 * large), applies its EXIF orientation, centre-crops it to the output's
 * aspect, scales it to the output size and encodes it. Corrupt, truncated or
 * non-JPEG input is refused with a clear error (-EBADMSG, reasons
 * "photo.not_jpeg", "photo.damaged", "photo.unsupported"; -EFBIG
 * "photo.too_large"). *out is written only on success.
 */
int cam_photo_normalise(const uint8_t *jpeg, size_t len, const struct cam_photo_opts *opts,
			struct cam_photo *out, struct retas_error *err);

void cam_photo_clear(struct cam_photo *p);

/* The officer's sentence for a hint, with its measure and limit. */
void cam_hint_describe(const struct cam_hint *h, char *buf, size_t size);

/* The Orientation tag (1..8) of an APP1 segment's body ("Exif\0\0" + TIFF);
 * 1 when it has none or is malformed. */
int cam_exif_orientation(const uint8_t *app1, size_t len);

/*
 * Originals on the laptop, only when configured: kept as DIR/NAME (mode 0600,
 * written whole or not at all) and purged once older than the retention. NAME
 * is a plain file name (no '/', no leading '.'). now_ms and the files' times
 * are CLOCK_REALTIME milliseconds.
 */
int cam_original_keep(const char *dir, const char *name, const uint8_t *data, size_t len,
		      struct retas_error *err);
/* Removes originals last written before now_ms - retention_ms; *removed
 * (may be NULL) counts them. Other files in dir are left alone. */
int cam_original_purge(const char *dir, int64_t now_ms, int64_t retention_ms, unsigned *removed);
