/*
 * What the report and receipt renderers share: cairo output into memory,
 * the one font the documents use (DejaVu Sans through cairo's toy API, so
 * output does not change with the fonts a machine happens to have), text
 * that wraps to a width, and the Indonesian forms of dates, times and NIPs
 * the printed documents use. Internal to the retas-render library.
 */
#pragma once

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "retas-time.h"

#define RETAS_RENDER_FONT "DejaVu Sans"
#define RETAS_RENDER_PEMERINTAH "PEMERINTAH KOTA JAMBI"

/* A growing byte buffer for cairo's stream writers. */
struct retas_render_buf {
	unsigned char *p;
	size_t len, cap;
};

/* cairo_write_func_t appending to a struct retas_render_buf (closure). */
cairo_status_t retas_render_write(void *closure, const unsigned char *data, unsigned int length);

void retas_render_font(cairo_t *cr, bool bold, double size);
double retas_render_width(cairo_t *cr, const char *s, size_t len);

/* A line of wrapped text: len bytes from start. */
struct retas_render_span {
	const char *start;
	size_t len;
};

/*
 * Breaks s into lines no wider than width in the current font: at spaces
 * where it can, inside a word (at a UTF-8 character boundary) where a word
 * is wider than the line. Writes at most max spans and returns the number
 * of lines (at least 1); the last line holds whatever did not fit before.
 */
size_t retas_render_wrap(cairo_t *cr, const char *s, double width, struct retas_render_span *out,
			 size_t max);

/* Selects the largest font size from max down to min (in quarter points)
 * at which text fits width on one line, min when none does; returns it. */
double retas_render_fit(cairo_t *cr, bool bold, const char *text, double width, double max,
			double min);

/* Draws len bytes of s with its left edge at x (align 0), its centre at x
 * (align 1) or its right edge at x (align 2), on baseline y. */
void retas_render_text(cairo_t *cr, double x, double y, int align, const char *s, size_t len);

/* "24 November 2026" and "Selasa, 24 November 2026". buf >= 48 bytes. */
void retas_render_date(const struct retas_date *d, bool weekday, char *buf, size_t size);
/* "07:30 WIB" for an instant, at WIB. */
void retas_render_time(int64_t ms, char *buf, size_t size);
/* "19870315 201001 1 002": the NIP in its printed groups. */
void retas_render_nip(const char *nip, char *buf, size_t size);
/* ASCII letters to upper case (names of offices on the letterhead). */
void retas_render_upper(const char *s, char *buf, size_t size);
