/*
 * What a captured finger costs the laptop once the reader has sent it
 * (device waiting excluded): NB-1010 frame assembly from its 90 packets,
 * the quality score and the ISO/IEC 19794-4 record with its PNG image,
 * against the floor of a bare libpng encode of the same pixels in the same
 * run, per finger and for a ten-finger set. Images are synthetic.
 *
 * usage: bench-fingerprint [ITERATIONS]
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fp-iso.h"
#include "fp-nb1010.h"
#include "fp-quality.h"
#include "synth.h"

#define W FP_NB1010_WIDTH
#define H FP_NB1010_HEIGHT
#define FINGERS 10

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The reader's 90 packets for one frame (tests/devices/nb1010 has the
 * model this mirrors). */
static void make_packets(const uint8_t *frame, uint8_t pkts[][FP_NB1010_PACKET_LEN])
{
	for (unsigned i = 0; i < FP_NB1010_PACKETS; i++) {
		uint8_t *p = pkts[i];

		memset(p, 0, FP_NB1010_PACKET_LEN);
		p[0] = 0x80;
		p[1] = 0x21;
		p[4] = 0x1c;
		p[5] = 0x02;
		p[12] = i + 1 < FP_NB1010_PACKETS;
		p[16] = (uint8_t)(2 * i + 1);
		memcpy(p + 25, frame + (size_t)i * 2 * W, 2 * W);
	}
}

struct sink {
	uint8_t *data;
	size_t len, cap;
};

static void sink_write(png_structp png, png_bytep data, size_t len)
{
	struct sink *s = png_get_io_ptr(png);

	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->data = realloc(s->data, s->cap);
		if (!s->data)
			abort();
	}
	memcpy(s->data + s->len, data, len);
	s->len += len;
}

static void sink_flush(png_structp png)
{
}

/* The baseline: libpng with its defaults, nothing else. */
static size_t bare_png(const uint8_t *pixels)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	png_bytep rows[H];
	struct sink s = {0};
	size_t len;

	if (!png || !info || setjmp(png_jmpbuf(png)))
		abort();
	for (unsigned y = 0; y < H; y++)
		rows[y] = (png_bytep)pixels + (size_t)y * W;
	png_set_write_fn(png, &s, sink_write, sink_flush);
	png_set_IHDR(png, info, W, H, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	png_write_image(png, rows);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	len = s.len;
	free(s.data);
	return len;
}

struct timing {
	double assembly, quality, iso, bare;
	size_t iso_bytes, png_bytes;
};

/* The pipeline for fingers [0, n) as one record; adds to t. */
static void pipeline(uint8_t (*pkts)[FP_NB1010_PACKETS][FP_NB1010_PACKET_LEN], unsigned n,
		     struct fp_image **frames, struct timing *t)
{
	struct fp_iso_view views[FINGERS];
	unsigned q[FINGERS];
	uint8_t *rec = NULL;
	size_t len = 0;
	double t0 = now_ms(), t1, t2;

	for (unsigned f = 0; f < n; f++)
		for (unsigned i = 0; i < FP_NB1010_PACKETS; i++)
			if (fp_nb1010_parse_packet(pkts[f][i], FP_NB1010_PACKET_LEN, i,
						   frames[f]->pixels, NULL) < 0)
				abort();
	t1 = now_ms();
	for (unsigned f = 0; f < n; f++)
		q[f] = fp_quality_score(frames[f], NULL);
	t2 = now_ms();
	for (unsigned f = 0; f < n; f++)
		views[f] = (struct fp_iso_view){
		    .capture_time_ms = 1795488087305LL,
		    .technology = 15,
		    .quality = (uint8_t)q[f],
		    .quality_vendor = FP_QUALITY_VENDOR_ID,
		    .quality_algorithm = FP_QUALITY_ALGORITHM_ID,
		    .finger_position = (uint8_t)(f + 1),
		    .image = frames[f],
		};
	if (fp_iso_write(views, n, &rec, &len, NULL) < 0)
		abort();
	t->assembly += t1 - t0;
	t->quality += t2 - t1;
	t->iso += now_ms() - t2;
	t->iso_bytes = len;
	free(rec);
}

int main(int argc, char **argv)
{
	static uint8_t pkts[FINGERS][FP_NB1010_PACKETS][FP_NB1010_PACKET_LEN];
	struct fp_image *src[FINGERS], *frames[FINGERS];
	struct timing one = {0}, ten = {0};
	unsigned iters = argc > 1 ? (unsigned)atoi(argv[1]) : 30;
	double p1, p10;

	if (iters == 0)
		iters = 1;
	for (unsigned f = 0; f < FINGERS; f++) {
		src[f] = fp_image_new(W, H);
		frames[f] = fp_image_new(W, H);
		if (!src[f] || !frames[f])
			abort();
		synth_finger(src[f]->pixels, W, H, f + 1);
		make_packets(src[f]->pixels, pkts[f]);
	}
	/* warm-up, and a check that the pipeline reproduces the frames */
	pipeline(pkts, FINGERS, frames, &(struct timing){0});
	for (unsigned f = 0; f < FINGERS; f++)
		if (memcmp(frames[f]->pixels, src[f]->pixels, (size_t)W * H) != 0)
			abort();

	/* Interleaved, so drift in machine load hits both sides alike. */
	for (unsigned it = 0; it < iters; it++) {
		double t0;

		for (unsigned f = 0; f < FINGERS; f++) {
			pipeline(&pkts[f], 1, &frames[f], &one);
			t0 = now_ms();
			one.png_bytes = bare_png(src[f]->pixels);
			one.bare += now_ms() - t0;
		}
		pipeline(pkts, FINGERS, frames, &ten);
		t0 = now_ms();
		for (unsigned f = 0; f < FINGERS; f++)
			ten.png_bytes += bare_png(src[f]->pixels);
		ten.bare += now_ms() - t0;
	}
	p1 = (one.assembly + one.quality + one.iso) / (iters * FINGERS);
	p10 = (ten.assembly + ten.quality + ten.iso) / iters;
	printf("fingerprint, per finger (%u x %u fingers): assembly %.3f ms + quality %.3f ms + "
	       "ISO/PNG record %.3f ms = %.3f ms; bare libpng encode %.3f ms; ratio %.2f\n",
	       iters, FINGERS, one.assembly / (iters * FINGERS), one.quality / (iters * FINGERS),
	       one.iso / (iters * FINGERS), p1, one.bare / (iters * FINGERS),
	       p1 / (one.bare / (iters * FINGERS)));
	printf("fingerprint, ten-finger set (%u runs): assembly %.3f ms + quality %.3f ms + "
	       "ISO/PNG record %.3f ms = %.3f ms; bare libpng encodes %.3f ms; ratio %.2f; "
	       "record %zu bytes vs %zu bytes of bare PNG\n",
	       iters, ten.assembly / iters, ten.quality / iters, ten.iso / iters, p10,
	       ten.bare / iters, p10 / (ten.bare / iters), ten.iso_bytes, ten.png_bytes / iters);
	for (unsigned f = 0; f < FINGERS; f++) {
		fp_image_free(src[f]);
		fp_image_free(frames[f]);
	}
	return 0;
}
