/*
 * Synthetic JPEG photos (see jpeg-synth.h). Rows are generated one at a time
 * so a 24-megapixel original needs no more than one row of memory besides
 * the encoder's output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>

#include "jpeg-synth.h"

const uint8_t synth_quadrant_rgb[4][3] = {
    {200, 40, 40},
    {40, 200, 40},
    {40, 40, 200},
    {220, 220, 220},
};

static uint32_t mix(uint32_t x, uint32_t y, uint32_t seed)
{
	uint32_t h = x * 0x9E3779B1u ^ y * 0x85EBCA77u ^ seed * 0xC2B2AE3Du;

	h ^= h >> 15;
	h *= 0x2C1B3C6Du;
	h ^= h >> 12;
	h *= 0x297A2D39u;
	h ^= h >> 15;
	return h;
}

static uint8_t clamp8(int v)
{
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

/* Where stored pixel (x, y) of a stored sw x sh picture is seen, per EXIF
 * orientation (TIFF 6.0 / Exif 2.3 tag 0x0112: 6 means the 0th row is the
 * visual right-hand side and the 0th column the visual top). */
static void to_display(int o, int x, int y, int sw, int sh, int *dx, int *dy)
{
	switch (o) {
	case 2:
		*dx = sw - 1 - x;
		*dy = y;
		break;
	case 3:
		*dx = sw - 1 - x;
		*dy = sh - 1 - y;
		break;
	case 4:
		*dx = x;
		*dy = sh - 1 - y;
		break;
	case 5:
		*dx = y;
		*dy = x;
		break;
	case 6:
		*dx = sh - 1 - y;
		*dy = x;
		break;
	case 7:
		*dx = sh - 1 - y;
		*dy = sw - 1 - x;
		break;
	case 8:
		*dx = y;
		*dy = sw - 1 - x;
		break;
	default:
		*dx = x;
		*dy = y;
		break;
	}
}

static void pixel(const struct synth_opts *o, int dx, int dy, uint8_t *rgb)
{
	int q = (dx >= o->width / 2) + 2 * (dy >= o->height / 2);
	int n;

	switch (o->pattern) {
	case SYNTH_QUADRANTS:
		memcpy(rgb, synth_quadrant_rgb[q], 3);
		break;
	case SYNTH_PHOTO:
		n = (int)(mix((uint32_t)dx, (uint32_t)dy, o->seed) & 31) - 16;
		n += (dx + dy) * 24 / (o->width + o->height) - 12;
		for (int c = 0; c < 3; c++)
			rgb[c] = clamp8(synth_quadrant_rgb[q][c] + n);
		break;
	case SYNTH_FLAT:
		rgb[0] = rgb[1] = rgb[2] = clamp8(o->level);
		break;
	case SYNTH_RAMP:
		rgb[0] = rgb[1] = rgb[2] =
		    clamp8(64 + dx * 128 / (o->width > 1 ? o->width - 1 : 1));
		break;
	case SYNTH_NOISE:
		rgb[0] = rgb[1] = rgb[2] =
		    clamp8(128 + (int)(mix((uint32_t)dx, (uint32_t)dy, o->seed) % 161) - 80);
		break;
	}
}

/* Exif APP1 body holding only IFD0 with the Orientation tag. */
static size_t exif_body(int orientation, int big_endian, uint8_t *b)
{
	static const uint8_t head[6] = {'E', 'x', 'i', 'f', 0, 0};
	uint8_t *t = b + 6;

	memcpy(b, head, 6);
	memset(t, 0, 26);
#define PUT16(p, v)                                                                                \
	do {                                                                                       \
		(p)[big_endian ? 1 : 0] = (uint8_t)((v)&0xff);                                     \
		(p)[big_endian ? 0 : 1] = (uint8_t)((v) >> 8);                                     \
	} while (0)
	t[0] = t[1] = big_endian ? 'M' : 'I';
	PUT16(t + 2, 42);
	PUT16(t + (big_endian ? 6 : 4), 8);   /* IFD0 offset, u32 */
	PUT16(t + 8, 1);		      /* one entry */
	PUT16(t + 10, 0x0112);		      /* Orientation */
	PUT16(t + 12, 3);		      /* SHORT */
	PUT16(t + (big_endian ? 16 : 14), 1); /* count, u32 */
	PUT16(t + 18, orientation);	      /* value, left-justified */
					      /* next IFD offset (u32 at t+22) stays 0 */
#undef PUT16
	return 6 + 26;
}

int synth_jpeg(const struct synth_opts *o, uint8_t **out, size_t *out_len)
{
	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr jerr;
	unsigned char *buf = NULL;
	unsigned long len = 0;
	uint8_t *row = NULL;
	int sw, sh, r = 0;

	if (!o || o->width < 1 || o->height < 1 || o->width > 20000 || o->height > 20000 ||
	    o->orientation < 0 || o->orientation > 8)
		return -EINVAL;
	sw = o->orientation >= 5 ? o->height : o->width;
	sh = o->orientation >= 5 ? o->width : o->height;
	row = malloc((size_t)sw * 3);
	if (!row)
		return -ENOMEM;

	cinfo.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&cinfo);
	jpeg_mem_dest(&cinfo, &buf, &len);
	cinfo.image_width = (JDIMENSION)sw;
	cinfo.image_height = (JDIMENSION)sh;
	cinfo.input_components = 3;
	cinfo.in_color_space = JCS_RGB;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, o->quality ? o->quality : 92, TRUE);
	if (o->orientation)
		cinfo.write_JFIF_header = FALSE;
	jpeg_start_compress(&cinfo, TRUE);
	if (o->orientation) {
		uint8_t exif[64];
		size_t n = exif_body(o->orientation, o->big_endian, exif);

		jpeg_write_marker(&cinfo, JPEG_APP0 + 1, exif, (unsigned)n);
	}
	for (int y = 0; y < sh; y++) {
		JSAMPROW rp = row;

		for (int x = 0; x < sw; x++) {
			int dx, dy;

			to_display(o->orientation, x, y, sw, sh, &dx, &dy);
			pixel(o, dx, dy, row + 3 * x);
		}
		jpeg_write_scanlines(&cinfo, &rp, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	free(row);
	*out = buf;
	*out_len = len;
	return r;
}

int synth_write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}
