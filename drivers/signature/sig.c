/*
 * The signature device class core: dispatch through a driver's ops (a
 * missing member is -EOPNOTSUPP), the driver registry, the signature type
 * and the rules that refuse an empty or trivial signature, applied here
 * once so every driver refuses the same way.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "retas-i18n.h"
#include "sig.h"

const struct sig_ops *const sig_drivers[] = {
    &sig_evdev_ops,
    NULL,
};

struct sig_signature *sig_signature_new(uint32_t x_units_per_m, uint32_t y_units_per_m,
					uint32_t x_extent, uint32_t y_extent, uint32_t pressure_max)
{
	struct sig_signature *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->x_units_per_m = x_units_per_m;
	s->y_units_per_m = y_units_per_m;
	s->x_extent = x_extent;
	s->y_extent = y_extent;
	s->pressure_max = pressure_max;
	return s;
}

void sig_signature_free(struct sig_signature *s)
{
	if (!s)
		return;
	free(s->points);
	free(s);
}

int sig_signature_append(struct sig_signature *s, const struct sig_point *p)
{
	if (s->n_points == s->capacity) {
		size_t cap = s->capacity ? s->capacity * 2 : 256;
		struct sig_point *n = reallocarray(s->points, cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->points = n;
		s->capacity = cap;
	}
	s->points[s->n_points++] = *p;
	return 0;
}

void sig_signature_clear(struct sig_signature *s)
{
	s->n_points = 0;
}

int sig_signature_copy(const struct sig_signature *s, struct sig_signature **out)
{
	_cleanup_(sig_signature_freep) struct sig_signature *c = NULL;

	c = sig_signature_new(s->x_units_per_m, s->y_units_per_m, s->x_extent, s->y_extent,
			      s->pressure_max);
	if (!c)
		return -ENOMEM;
	if (s->n_points) {
		c->points = calloc(s->n_points, sizeof(*c->points));
		if (!c->points)
			return -ENOMEM;
		memcpy(c->points, s->points, s->n_points * sizeof(*c->points));
		c->n_points = c->capacity = s->n_points;
	}
	*out = steal_ptr(c);
	return 0;
}

double sig_signature_ink_mm(const struct sig_signature *s)
{
	double len = 0;

	for (size_t i = 1; i < s->n_points; i++) {
		const struct sig_point *a = &s->points[i - 1], *b = &s->points[i];

		if (b->flags & SIG_POINT_STROKE_START)
			continue;
		len += hypot(sig_x_mm(s, (double)b->x - a->x), sig_y_mm(s, (double)b->y - a->y));
	}
	return len;
}

unsigned sig_signature_strokes(const struct sig_signature *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < s->n_points; i++)
		n += (i == 0 || (s->points[i].flags & SIG_POINT_STROKE_START)) ? 1 : 0;
	return n;
}

int sig_signature_check(const struct sig_signature *s, const struct sig_limits *lim,
			struct retas_error *err)
{
	double ink;

	if (!s || s->n_points == 0)
		return retas_error_set(err, -ENODATA, "signature.empty",
				       N_("Nothing was drawn on the signature pad. Please sign "
					  "again."));
	ink = sig_signature_ink_mm(s);
	if (s->n_points < lim->min_points || ink < lim->min_ink_mm)
		return retas_error_set(err, -ENODATA, "signature.too_short",
				       N_("The signature is too short to accept (%.0f mm of ink "
					  "in %zu points). Please clear the pad and sign again."),
				       ink, s->n_points);
	return 0;
}

void sig_config_defaults(struct sig_config *cfg)
{
	*cfg = (struct sig_config){
	    .idle_ms = SIG_DEFAULT_IDLE_MS,
	    .limits = {.min_points = SIG_DEFAULT_MIN_POINTS, .min_ink_mm = SIG_DEFAULT_MIN_INK_MM},
	};
}

int sig_device_open(const struct sig_ops *ops, const struct sig_config *cfg,
		    struct sig_device **out, struct retas_error *err)
{
	struct sig_device *dev = NULL;
	int r = -ENODEV;

	if (cfg->idle_ms < 0 || cfg->width_mm < 0 || cfg->height_mm < 0 ||
	    cfg->limits.min_ink_mm < 0 || !isfinite(cfg->limits.min_ink_mm) ||
	    !isfinite(cfg->width_mm) || !isfinite(cfg->height_mm))
		return retas_error_set(err, -EINVAL, "signature.config",
				       N_("The signature.* configuration has a negative or "
					  "invalid value."));
	if (ops) {
		if (!ops->open)
			return -EOPNOTSUPP;
		r = ops->open(cfg, &dev, err);
	} else {
		for (size_t i = 0; sig_drivers[i]; i++) {
			if (!sig_drivers[i]->open)
				continue;
			retas_error_clear(err);
			r = sig_drivers[i]->open(cfg, &dev, err);
			if (r != -ENODEV)
				break;
		}
	}
	if (r < 0)
		return r;
	dev->limits = cfg->limits;
	*out = dev;
	return 0;
}

int sig_device_describe(struct sig_device *dev, struct sig_info *out)
{
	if (!dev->ops->describe)
		return -EOPNOTSUPP;
	memset(out, 0, sizeof(*out));
	return dev->ops->describe(dev, out);
}

int sig_device_capture(struct sig_device *dev, const struct sig_capture_params *params,
		       struct sig_signature **out, struct retas_error *err)
{
	_cleanup_(sig_signature_freep) struct sig_signature *s = NULL;
	int r;

	if (!dev->ops->capture)
		return -EOPNOTSUPP;
	if (params->deadline_ms <= 0)
		return retas_error_set(err, -EINVAL, "signature.deadline",
				       N_("A signature capture needs a deadline."));
	r = dev->ops->capture(dev, params, &s, err);
	if (r < 0)
		return r;
	r = sig_signature_check(s, &dev->limits, err);
	if (r < 0)
		return r;
	*out = steal_ptr(s);
	return 0;
}

void sig_device_close(struct sig_device *dev)
{
	if (!dev)
		return;
	if (dev->ops->close)
		dev->ops->close(dev);
}
