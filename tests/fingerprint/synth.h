/*
 * Synthetic fingerprint-like images for tests, the device model and the
 * benchmark: ridge patterns made from a warped, eccentric ring field on a
 * finger-shaped mask. No real fingerprint is in the repository or derived
 * from one. Deterministic for a seed on a given build.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Fills w x h pixels with a finger pressed on a light background: dark
 * ridges about 7-10 pixels apart, shape and pattern varying with seed. */
void synth_finger(uint8_t *pix, unsigned w, unsigned h, uint32_t seed);

/* Fills n pixels with level: an empty sensor. */
void synth_blank(uint8_t *pix, size_t n, uint8_t level);

/* Adds noise of about the given standard deviation (sum of uniforms),
 * clamped to 0-255. */
void synth_add_noise(uint8_t *pix, size_t n, unsigned sigma, uint32_t seed);
