/*
 * The signature device class. A signature pad is anything that reports pen
 * positions on a surface of known physical size; a concrete driver (one file
 * per kind of device, e.g. sig-evdev.c for every pen tablet the kernel
 * exposes through evdev) fills in a const struct sig_ops. The core in sig.c
 * dispatches through it (a NULL member answers -EOPNOTSUPP), applies the
 * refusal rules for empty or trivial signatures the same way for every
 * driver, and owns the signature type: the pen's time series in pad units
 * with the scale that makes them physical. sig-render.c turns a signature
 * into a PNG at a true DPI; sig-series.c writes its compact binary form
 * (docs/signature-series.md) and a JSON export.
 *
 * Everything here is synchronous: a capture blocks its thread until the
 * signature ends, the deadline passes or the pad goes away. The daemon runs
 * it on a worker thread and talks to it through the control fd.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drv-peripheral.h"
#include "retas-error.h"
#include "retas-util.h"

/* ---- the signature: a time series of pen samples ---------------------- */

enum {
	SIG_POINT_STROKE_START = 1u << 0, /* the pen touched down at this sample */
	SIG_POINT_RESYNC = 1u << 1,	  /* first sample after the kernel dropped events */
};
#define SIG_POINT_FLAGS_KNOWN (SIG_POINT_STROKE_START | SIG_POINT_RESYNC)

/* One sample while the pen touches the surface. The pen lifts after the
 * last sample of each stroke (the sample before the next STROKE_START, or
 * the last sample of the signature). */
struct sig_point {
	uint32_t t_ms;	   /* since the first sample of the signature */
	int32_t x, y;	   /* pad units from the axis minimum, y downwards */
	uint16_t pressure; /* 0..pressure_max */
	uint8_t flags;	   /* SIG_POINT_* */
};

struct sig_signature {
	uint32_t x_units_per_m; /* scale: x in metres = x / x_units_per_m */
	uint32_t y_units_per_m;
	uint32_t x_extent; /* width of the pad's surface in pad units */
	uint32_t y_extent;
	uint32_t pressure_max; /* 0 when the pad has no pressure axis */
	size_t n_points;
	struct sig_point *points;
	size_t capacity; /* allocated points */
};

/* An empty signature with the given scale; NULL without memory. */
struct sig_signature *sig_signature_new(uint32_t x_units_per_m, uint32_t y_units_per_m,
					uint32_t x_extent, uint32_t y_extent,
					uint32_t pressure_max);
void sig_signature_free(struct sig_signature *s);
RETAS_DEFINE_CLEANUP(struct sig_signature, sig_signature_free)
/* Appends a copy of p; 0 or -ENOMEM (the signature is unchanged then). */
int sig_signature_append(struct sig_signature *s, const struct sig_point *p);
/* Forgets every sample (the officer's "clear"); keeps the scale. */
void sig_signature_clear(struct sig_signature *s);
/* A deep copy into *out; 0 or -ENOMEM. */
int sig_signature_copy(const struct sig_signature *s, struct sig_signature **out);

static inline double sig_x_mm(const struct sig_signature *s, double x)
{
	return x * 1000.0 / s->x_units_per_m;
}

static inline double sig_y_mm(const struct sig_signature *s, double y)
{
	return y * 1000.0 / s->y_units_per_m;
}

/* Length of the ink in millimetres: the sum of the segments within strokes. */
double sig_signature_ink_mm(const struct sig_signature *s);
unsigned sig_signature_strokes(const struct sig_signature *s);

/* What a signature must have to be accepted. */
struct sig_limits {
	unsigned min_points; /* samples on the surface */
	double min_ink_mm;   /* length of ink */
};

/* 0, or -ENODATA with reason signature.empty / signature.too_short and a
 * message that asks the student to sign again. */
int sig_signature_check(const struct sig_signature *s, const struct sig_limits *lim,
			struct retas_error *err);

/* ---- the device class -------------------------------------------------- */

/* The configuration keys signature.* (see packaging's default config). */
struct sig_config {
	const char *device_node; /* signature.device; NULL: the first pen tablet udev knows */
	double width_mm;	 /* signature.width_mm / height_mm: the surface's size for pads */
	double height_mm;	 /* that do not report a resolution; 0 = not configured */
	int idle_ms; /* signature.idle_ms: end this long after the last stroke; 0 = never */
	struct sig_limits limits; /* signature.min_points, signature.min_ink_mm */
};

#define SIG_DEFAULT_IDLE_MS 2000
#define SIG_DEFAULT_MIN_POINTS 10
#define SIG_DEFAULT_MIN_INK_MM 15.0

void sig_config_defaults(struct sig_config *cfg);

struct sig_info {
	char driver[16];
	char name[128];	 /* the device's own name */
	char node[256];	 /* e.g. /dev/input/event5 */
	double width_mm; /* the surface */
	double height_mm;
	bool size_configured;	  /* from signature.width_mm/height_mm, not the device */
	uint32_t pressure_levels; /* 0: no pressure axis */
};

/* Bytes the caller writes to the control fd during a capture. */
enum sig_command {
	SIG_CMD_ACCEPT = 'a', /* also '\n' and '\r': the officer accepts what is drawn */
	SIG_CMD_CLEAR = 'c',  /* forget what is drawn, keep capturing ("clear and redo") */
	SIG_CMD_CANCEL = 'q', /* give up: -ECANCELED */
};

struct sig_progress {
	unsigned frames; /* complete pen reports read so far, hovering included */
	unsigned points; /* samples with ink kept */
	unsigned strokes;
	bool pen_down;
	bool in_range;
	bool cleared; /* this report follows a clear */
};

struct sig_capture_params {
	/* Mandatory: the capture fails with -ETIMEDOUT at this instant of
	 * now_ms's clock. */
	int64_t deadline_ms;
	/* The clock; NULL means CLOCK_MONOTONIC in milliseconds. */
	int64_t (*now_ms)(void *userdata);
	/* -1 for none; otherwise readable bytes are enum sig_command. End of
	 * file stops the watching, nothing else. */
	int control_fd;
	/* Called on the capturing thread after each pen report and after a
	 * clear; may write to the control fd. */
	void (*progress)(void *userdata, const struct sig_progress *p);
	void *userdata;
};

struct sig_device;

struct sig_ops {
	const char *name;
	/* Finds and opens the device the configuration names; the driver
	 * allocates its instance (embedding struct sig_device) and sets ops. */
	int (*open)(const struct sig_config *cfg, struct sig_device **out, struct retas_error *err);
	int (*describe)(struct sig_device *dev, struct sig_info *out);
	/* One signature from pen down to the officer's acceptance or the idle
	 * time; owns the device exclusively meanwhile. Returns a signature with
	 * at least one sample, or a negative errno with err set. */
	int (*capture)(struct sig_device *dev, const struct sig_capture_params *params,
		       struct sig_signature **out, struct retas_error *err);
	void (*close)(struct sig_device *dev);
};

/* The base every driver instance embeds first. */
struct sig_device {
	const struct sig_ops *ops;
	struct sig_limits limits;
};

extern const struct sig_ops sig_evdev_ops;
/* The pen tablets udev knows (a drv_list_fn for `retas devices`). */
int sig_list_peripherals(struct drv_peripheral **out, size_t *n, struct retas_error *err);
/* The drivers sig_device_open() tries, in order; NULL-terminated. */
extern const struct sig_ops *const sig_drivers[];

/*
 * Opens a signature device with ops, or with the first driver of
 * sig_drivers[] that finds one when ops is NULL. *out is the caller's, for
 * sig_device_close(). -ENODEV (reason signature.no_pad) when there is none.
 */
int sig_device_open(const struct sig_ops *ops, const struct sig_config *cfg,
		    struct sig_device **out, struct retas_error *err);
int sig_device_describe(struct sig_device *dev, struct sig_info *out);
/*
 * Captures one signature and applies the configured limits: on success *out
 * is a signature the caller owns and may still discard to capture again
 * (nothing is stored here). A refused signature is freed and answered with
 * -ENODATA and a message asking to sign again.
 */
int sig_device_capture(struct sig_device *dev, const struct sig_capture_params *params,
		       struct sig_signature **out, struct retas_error *err);
void sig_device_close(struct sig_device *dev);
RETAS_DEFINE_CLEANUP(struct sig_device, sig_device_close)

/* ---- output -------------------------------------------------------------- */

struct sig_render_opts {
	unsigned dpi;	     /* signature.dpi, default 300 */
	double margin_mm;    /* around the ink's bounding box, default 3 */
	double min_width_mm; /* stroke width at the lightest touch, default 0.3 */
	double max_width_mm; /* at full pressure (and without a pressure axis), default 0.8 */
};

#define SIG_DEFAULT_DPI 300
#define SIG_MIN_DPI 72
#define SIG_MAX_DPI 2400
#define SIG_MAX_IMAGE_SIDE 20000

void sig_render_opts_defaults(struct sig_render_opts *o);

/* An 8-bit grey picture: 255 paper, 0 full ink. */
struct sig_image {
	unsigned width, height; /* pixels; the stride is width */
	unsigned dpi;
	double origin_x_mm; /* the pad position of the left edge of pixel column 0 */
	double origin_y_mm; /* and of the top edge of row 0 */
	uint8_t *pixels;
};

void sig_image_free(struct sig_image *img);
RETAS_DEFINE_CLEANUP(struct sig_image, sig_image_free)

/*
 * Draws the signature with anti-aliased strokes whose width follows the
 * pressure, cropped to the ink's bounding box plus the margin, so the
 * picture's size in pixels is that physical extent at the DPI (rounded up).
 * -EINVAL for bad options or an empty signature, -E2BIG for a picture over
 * SIG_MAX_IMAGE_SIDE, -ENOMEM.
 */
int sig_render(const struct sig_signature *s, const struct sig_render_opts *o,
	       struct sig_image **out);
/* Encodes img as an 8-bit greyscale PNG with its DPI in the pHYs chunk.
 * *out is the caller's (free()). */
int sig_image_to_png(const struct sig_image *img, uint8_t **out, size_t *out_len);
/* sig_render() then sig_image_to_png(); err says what went wrong. */
int sig_render_png(const struct sig_signature *s, const struct sig_render_opts *o, uint8_t **out,
		   size_t *out_len, struct retas_error *err);

/*
 * The compact binary form of docs/signature-series.md. encode: *out is the
 * caller's (free()). decode: -EBADMSG with err naming what is wrong for any
 * input that is not exactly one valid series.
 */
int sig_series_encode(const struct sig_signature *s, uint8_t **out, size_t *out_len);
int sig_series_decode(const uint8_t *buf, size_t len, struct sig_signature **out,
		      struct retas_error *err);
/* The JSON export (docs/signature-series.md); *out is the caller's. */
int sig_series_to_json(const struct sig_signature *s, char **out);
