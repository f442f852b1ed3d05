/*
 * ISO/IEC 19794-4:2011 finger image records (format "FIR", version "020"),
 * the form fingerprints take inside a sealed record: a 16-byte general
 * header and, per finger image ("representation"), a representation header
 * followed by the image, here always 8-bit grey compressed as PNG
 * (compression code 6).
 *
 * Layout written (big-endian, as the standard has it):
 *   general header   "FIR\0" "020\0" record length u32, representations
 *                    u16, certification flag u8 (0), distinct finger
 *                    positions u8
 *   representation   length u32 (header + image), capture time (year u16,
 *                    month, day, hour, minute, second u8, millisecond u16;
 *                    UTC), device technology u8, device vendor u16, device
 *                    type u16, quality block count u8 (1) and block (score
 *                    u8, algorithm vendor u16, algorithm u16), finger
 *                    position u8, representation number u8, scale units u8
 *                    (1 = pixels per inch), scan and image sampling rates
 *                    h/v u16 each, bit depth u8 (8), compression u8 (6),
 *                    impression type u8, line lengths h/v u16, image length
 *                    u32, image
 * A sampling rate of 0 means the reader's resolution is not known (see
 * struct fp_description.ppi).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fp.h"

#define FP_ISO_GENERAL_HEADER_LEN 16
/* Representation header with one quality block and no certification
 * blocks, up to and including the image length field. */
#define FP_ISO_REPR_HEADER_LEN 46
#define FP_ISO_COMPRESSION_PNG 6
#define FP_ISO_IMPRESSION_LIVE_PLAIN 0
#define FP_ISO_MAX_VIEWS 255

/* Finger positions (ISO/IEC 19794-4 table 2), the codes the surat tugas's
 * "jari" lists. */
enum fp_iso_finger {
	FP_ISO_FINGER_UNKNOWN = 0,
	FP_ISO_FINGER_RIGHT_THUMB = 1,
	FP_ISO_FINGER_RIGHT_INDEX = 2,
	FP_ISO_FINGER_RIGHT_MIDDLE = 3,
	FP_ISO_FINGER_RIGHT_RING = 4,
	FP_ISO_FINGER_RIGHT_LITTLE = 5,
	FP_ISO_FINGER_LEFT_THUMB = 6,
	FP_ISO_FINGER_LEFT_INDEX = 7,
	FP_ISO_FINGER_LEFT_MIDDLE = 8,
	FP_ISO_FINGER_LEFT_RING = 9,
	FP_ISO_FINGER_LEFT_LITTLE = 10,
};

/* One finger image and what the record says about it. */
struct fp_iso_view {
	int64_t capture_time_ms;    /* Unix time in ms, from the caller's clock */
	uint8_t technology;	    /* capture device technology */
	uint16_t device_vendor;	    /* capture device vendor id, 0 = unreported */
	uint16_t device_type;	    /* capture device type id, 0 = unreported */
	uint8_t quality;	    /* 0-100 (255 = failed to compute) */
	uint16_t quality_vendor;    /* quality algorithm vendor id */
	uint16_t quality_algorithm; /* quality algorithm id */
	uint8_t finger_position;    /* enum fp_iso_finger */
	uint8_t impression;	    /* FP_ISO_IMPRESSION_LIVE_PLAIN for a press reader */
	uint16_t ppi;		    /* pixels per inch, 0 = not known */
	struct fp_image *image;	    /* writer: borrowed; reader: owned */
};

/* Fills a view for a capture from the reader described by desc (image
 * borrowed from result). */
void fp_iso_view_init(struct fp_iso_view *view, const struct fp_description *desc,
		      const struct fp_capture_result *result, uint8_t finger_position,
		      int64_t capture_time_ms);

/*
 * Writes one record holding n views (1..FP_ISO_MAX_VIEWS), numbered 1..n
 * in order. Images are PNG-compressed here. *out is malloc'd, owned by the
 * caller; written only on success. -EINVAL "fp.iso.view" names a bad field
 * (finger position above 10, quality above 100 and not 255, a capture time
 * outside years 1..9999).
 */
int fp_iso_write(const struct fp_iso_view *views, size_t n, uint8_t **out, size_t *out_len,
		 struct retas_error *err);

/*
 * Reads a record written by fp_iso_write() or any 19794-4:2011 writer
 * using 8-bit PNG images: every length is checked against the buffer, the
 * general header against the representations, and each PNG against the
 * line lengths. Certification blocks and extended data are skipped.
 * *views is an array of *n views whose images the caller owns: free it
 * with fp_iso_views_free(). -EINVAL "fp.iso.*" names what is wrong,
 * -ENOTSUP for another depth or compression.
 */
int fp_iso_read(const uint8_t *buf, size_t len, struct fp_iso_view **views, size_t *n,
		struct retas_error *err);
void fp_iso_views_free(struct fp_iso_view *views, size_t n);
