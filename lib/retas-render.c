/* Shared pieces of the PDF and PNG renderers (see retas-render.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retas-render.h"

cairo_status_t retas_render_write(void *closure, const unsigned char *data, unsigned int length)
{
	struct retas_render_buf *b = closure;

	if (b->len + length > b->cap) {
		size_t cap = b->cap ? b->cap : 64 * 1024;
		unsigned char *np;

		while (b->len + length > cap)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return CAIRO_STATUS_WRITE_ERROR;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, length);
	b->len += length;
	return CAIRO_STATUS_SUCCESS;
}

void retas_render_font(cairo_t *cr, bool bold, double size)
{
	cairo_select_font_face(cr, RETAS_RENDER_FONT, CAIRO_FONT_SLANT_NORMAL,
			       bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
}

/* cairo wants NUL-terminated text; pieces of lines are copied to the stack
 * (every string the documents print is bounded well below this). */
#define PIECE_MAX 1024

double retas_render_width(cairo_t *cr, const char *s, size_t len)
{
	char tmp[PIECE_MAX];
	cairo_text_extents_t ext;

	if (len >= sizeof(tmp))
		len = sizeof(tmp) - 1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	cairo_text_extents(cr, tmp, &ext);
	return ext.x_advance;
}

double retas_render_fit(cairo_t *cr, bool bold, const char *text, double width, double max,
			double min)
{
	double size = max;

	for (; size > min; size -= 0.25) {
		retas_render_font(cr, bold, size);
		if (retas_render_width(cr, text, strlen(text)) <= width)
			break;
	}
	if (size < min)
		size = min;
	retas_render_font(cr, bold, size);
	return size;
}

static size_t utf8_next(const char *s, size_t i, size_t len)
{
	i++;
	while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
		i++;
	return i;
}

size_t retas_render_wrap(cairo_t *cr, const char *s, double width, struct retas_render_span *out,
			 size_t max)
{
	size_t len = strlen(s), pos = 0, n = 0;

	while (pos < len && s[pos] == ' ')
		pos++;
	if (pos >= len) {
		out[0] = (struct retas_render_span){s + len, 0};
		return 1;
	}
	while (pos < len) {
		size_t end = pos, fit = pos;

		/* Most cells fit whole: one measurement instead of one per word. */
		if (n + 1 == max || retas_render_width(cr, s + pos, len - pos) <= width) {
			out[n++] = (struct retas_render_span){s + pos, len - pos};
			break;
		}
		/* The longest run of whole words that fits. */
		while (end < len) {
			size_t next = end;

			while (next < len && s[next] == ' ')
				next++;
			while (next < len && s[next] != ' ')
				next++;
			if (retas_render_width(cr, s + pos, next - pos) > width)
				break;
			end = fit = next;
		}
		if (fit == pos) {
			/* A word wider than the line: as many characters as fit,
			 * at least one so the loop advances. */
			fit = utf8_next(s, pos, len);
			while (fit < len && s[fit] != ' ') {
				size_t next = utf8_next(s, fit, len);

				if (retas_render_width(cr, s + pos, next - pos) > width)
					break;
				fit = next;
			}
		}
		out[n++] = (struct retas_render_span){s + pos, fit - pos};
		pos = fit;
		while (pos < len && s[pos] == ' ')
			pos++;
	}
	return n;
}

void retas_render_text(cairo_t *cr, double x, double y, int align, const char *s, size_t len)
{
	char tmp[PIECE_MAX];

	if (len >= sizeof(tmp))
		len = sizeof(tmp) - 1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (align) {
		cairo_text_extents_t ext;

		cairo_text_extents(cr, tmp, &ext);
		x -= align == 1 ? ext.x_advance / 2 : ext.x_advance;
	}
	cairo_move_to(cr, x, y);
	cairo_show_text(cr, tmp);
}

static const char *const months[12] = {
    "Januari", "Februari", "Maret",	"April",   "Mei",      "Juni",
    "Juli",    "Agustus",  "September", "Oktober", "November", "Desember",
};

/* 1970-01-01 was a Thursday (Kamis). */
static const char *const weekdays[7] = {
    "Kamis", "Jumat", "Sabtu", "Minggu", "Senin", "Selasa", "Rabu",
};

void retas_render_date(const struct retas_date *d, bool weekday, char *buf, size_t size)
{
	int64_t days = retas_date_to_days(d);
	int wd = (int)(((days % 7) + 7) % 7);

	if (d->month < 1 || d->month > 12) {
		snprintf(buf, size, "-");
		return;
	}
	snprintf(buf, size, "%s%s%d %s %d", weekday ? weekdays[wd] : "", weekday ? ", " : "",
		 d->day, months[d->month - 1], d->year);
}

void retas_render_time(int64_t ms, char *buf, size_t size)
{
	int64_t local = ms / 1000 + RETAS_WIB_OFFSET_MIN * 60;
	int64_t secs = ((local % 86400) + 86400) % 86400;

	snprintf(buf, size, "%02d:%02d WIB", (int)(secs / 3600), (int)(secs / 60 % 60));
}

void retas_render_nip(const char *nip, char *buf, size_t size)
{
	if (strlen(nip) != 18) {
		snprintf(buf, size, "%s", nip);
		return;
	}
	snprintf(buf, size, "%.8s %.6s %.1s %.3s", nip, nip + 8, nip + 14, nip + 15);
}

void retas_render_upper(const char *s, char *buf, size_t size)
{
	size_t i = 0;

	for (; s[i] && i + 1 < size; i++)
		buf[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
	buf[i] = '\0';
}
