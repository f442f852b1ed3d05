/*
 * The synthetic ridge generator (synth.h). Ridges follow the level lines
 * of r + e * y, r the distance from a core point on a stretched, rotated
 * and sinusoidally warped plane: rings that open into loops below the core,
 * enough like a finger for quality scores and compression to behave as
 * they do on real prints.
 */
#include <math.h>

#include "synth.h"

#define TAU 6.283185307179586

static uint32_t next(uint32_t *s)
{
	/* xorshift32: small, deterministic, good enough for test images */
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static double unit(uint32_t *s)
{
	return (next(s) >> 8) / 16777216.0;
}

static uint32_t seed_state(uint32_t seed)
{
	uint32_t s = seed * 2654435761u + 0x9e3779b9u;

	return s ? s : 1;
}

void synth_finger(uint8_t *pix, unsigned w, unsigned h, uint32_t seed)
{
	uint32_t s = seed_state(seed);
	double cx = w * (0.38 + 0.24 * unit(&s)), cy = h * (0.30 + 0.25 * unit(&s));
	double period = 7.5 + 2.5 * unit(&s);
	double rot = (unit(&s) - 0.5) * 0.8, cr = cos(rot), sr = sin(rot);
	double stretch = 1.0 + 0.5 * unit(&s), ecc = 0.2 + 0.3 * unit(&s);
	double amp = 1.5 + 2.0 * unit(&s), freq = 1.0 / (45.0 + 30.0 * unit(&s));
	double ph1 = TAU * unit(&s), ph2 = TAU * unit(&s);
	double mx = w * (0.47 + 0.06 * unit(&s)), my = h * (0.58 + 0.08 * unit(&s));
	double ax = w * (0.40 + 0.06 * unit(&s)), ay = h * (0.62 + 0.08 * unit(&s));

	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++) {
			double wx = x + amp * sin(TAU * freq * y + ph1);
			double wy = y + amp * cos(TAU * freq * x + ph2);
			double dx = wx - cx, dy = wy - cy;
			double rx = (cr * dx - sr * dy) / stretch, ry = sr * dx + cr * dy;
			double r = sqrt(rx * rx + ry * ry) + ecc * ry;
			double ridge = 0.5 + 0.5 * cos(TAU * r / period);
			double ex = (x - mx) / ax, ey = (y - my) / ay;
			double edge = sqrt(ex * ex + ey * ey);
			/* soft finger edge over the outer 12% of the ellipse */
			double m = edge < 0.88 ? 1.0 : edge > 1.0 ? 0.0 : (1.0 - edge) / 0.12;
			double fg = 215.0 - 160.0 * ridge;
			double v = 238.0 * (1.0 - m) + fg * m + (int)(next(&s) % 7) - 3;

			pix[(size_t)y * w + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
		}
}

void synth_blank(uint8_t *pix, size_t n, uint8_t level)
{
	for (size_t i = 0; i < n; i++)
		pix[i] = level;
}

void synth_add_noise(uint8_t *pix, size_t n, unsigned sigma, uint32_t seed)
{
	uint32_t s = seed_state(seed);

	for (size_t i = 0; i < n; i++) {
		/* three uniforms on [-1, 1] sum to variance 1 */
		double g = (unit(&s) + unit(&s) + unit(&s)) * 2.0 - 3.0;
		double v = pix[i] + g * sigma;

		pix[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
	}
}
