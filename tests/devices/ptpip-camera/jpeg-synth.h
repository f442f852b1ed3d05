/*
 * Synthetic JPEG photos for the camera tests, the virtual camera and the
 * benchmarks, made with libjpeg at run time so no binary photo is checked in.
 *
 * A picture is described as it should be *seen* (display width and height,
 * pattern); the generator stores it rotated or mirrored according to an EXIF
 * orientation (1..8) and writes that orientation in an APP1 Exif segment, the
 * way a camera held sideways does. A reader that applies the orientation gets
 * the described picture back.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum synth_pattern {
	/* Four coloured quadrants as seen: red top left, green top right, blue
	 * bottom left, light grey bottom right. Orientation tests read them. */
	SYNTH_QUADRANTS,
	/* Quadrants with fine noise and a gradient on top: about the entropy of a
	 * real photo, for sizes and timings that resemble a camera's. */
	SYNTH_PHOTO,
	/* Uniform grey at `level`. */
	SYNTH_FLAT,
	/* A smooth horizontal ramp: no edges, so it reads as blurred. */
	SYNTH_RAMP,
	/* Per-pixel noise around mid grey: many edges, reads as sharp. */
	SYNTH_NOISE,
};

struct synth_opts {
	int width;	 /* as displayed */
	int height;	 /* as displayed */
	int orientation; /* EXIF 1..8; 0 = no Exif segment at all */
	int big_endian;	 /* write the Exif TIFF header as "MM" instead of "II" */
	enum synth_pattern pattern;
	int level;     /* grey level for SYNTH_FLAT */
	int quality;   /* JPEG quality, 0 = 92 */
	uint32_t seed; /* noise seed */
};

/* The quadrant colours of SYNTH_QUADRANTS, index 0 TL, 1 TR, 2 BL, 3 BR. */
extern const uint8_t synth_quadrant_rgb[4][3];

/* Encodes the picture; *out is malloc'd and owned by the caller. 0 or a
 * negative errno (-EINVAL for bad options, -ENOMEM). */
int synth_jpeg(const struct synth_opts *o, uint8_t **out, size_t *out_len);

/* Writes a whole buffer to a new file (0644). 0 or a negative errno. */
int synth_write_file(const char *path, const uint8_t *data, size_t len);
