/*
 * Fingerprint readers: the device-class interface every reader driver
 * implements, the registry that matches attached USB devices to drivers,
 * and the capture sequence callers use (wait for the previous finger to
 * lift, wait for a finger, capture, score, retry below the threshold).
 *
 * A driver is one file exporting one const struct fp_driver_ops; its
 * instances embed struct fp_device as their first member and reach their
 * own state with fp_container_of(). A NULL op means the reader cannot do
 * that step (a reader that detects fingers itself has no wait_finger) and
 * the core answers -EOPNOTSUPP, so callers never test for a driver.
 *
 * Everything here is synchronous: the daemon runs it on a worker thread per
 * device. Every wait has a deadline on the caller's monotonic clock; every
 * USB transfer has its own timeout under that deadline. The caller supplies
 * the clock (struct fp_clock), so tests and the daemon can cancel a wait.
 *
 * This header does not include libusb: only drivers/ does.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drv-peripheral.h"
#include "retas-error.h"

struct libusb_device;

#define fp_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* An 8-bit grey image: width * height bytes, row-major, top row first,
 * 0 = black. Ridges are dark, as on an inked card. */
struct fp_image {
	unsigned width;
	unsigned height;
	uint8_t *pixels;
};

/* Largest side of an image any function here accepts (ISO/IEC 19794-4 line
 * lengths are 16 bits; readers are far smaller). */
#define FP_IMAGE_MAX_SIDE 4096

/* A zeroed image; NULL when a side is 0 or above FP_IMAGE_MAX_SIDE, or on
 * ENOMEM. */
struct fp_image *fp_image_new(unsigned width, unsigned height);
/* A copy of img, or NULL on ENOMEM. */
struct fp_image *fp_image_dup(const struct fp_image *img);
/* NULL is a no-op. */
void fp_image_free(struct fp_image *img);

/*
 * The caller's monotonic clock: now_ms returns milliseconds on a clock that
 * never jumps; sleep_until_ms returns at when_ms (or at once when it has
 * passed) with 0, or with a negative errno to abandon the wait (the daemon
 * uses -ECANCELED when the officer cancels).
 */
struct fp_clock {
	int64_t (*now_ms)(void *userdata);
	int (*sleep_until_ms)(int64_t when_ms, void *userdata);
	void *userdata;
};

/* CLOCK_MONOTONIC and clock_nanosleep(TIMER_ABSTIME). */
extern const struct fp_clock fp_clock_monotonic;

enum fp_stage {
	FP_STAGE_WAIT_LIFT,   /* a finger is still down from the last capture; level set */
	FP_STAGE_WAIT_FINGER, /* polling for a finger; level set */
	FP_STAGE_FINGER_ON,   /* finger detected; the capture starts */
	FP_STAGE_READING,     /* image transfer: done of total units */
	FP_STAGE_DONE,	      /* image complete */
};

struct fp_progress {
	enum fp_stage stage;
	unsigned level;	  /* finger level 0-255 the reader reported, 0 when it has none */
	unsigned done;	  /* FP_STAGE_READING: units read so far */
	unsigned total;	  /* FP_STAGE_READING: units in one image */
	unsigned attempt; /* 1-based attempt number within fp_capture_finger(), else 0 */
};

/* Called on the capturing thread. Return 0 to go on, or a negative errno to
 * stop the operation, which then fails with that errno (reason
 * "fp.cancelled"). */
typedef int (*fp_progress_fn)(const struct fp_progress *p, void *userdata);

struct fp_usb_id {
	uint16_t vendor;
	uint16_t product;
};

/* What a reader is, for logs, the officer and the ISO record. */
struct fp_description {
	const char *driver; /* registry name, e.g. "nb1010" */
	const char *model;  /* e.g. "NEXT Biometrics NB-1010-U" */
	char serial[64];    /* "" when the reader does not report one */
	uint16_t vendor_id; /* USB ids */
	uint16_t product_id;
	uint8_t bus; /* USB bus number and device address */
	uint8_t address;
	unsigned width; /* image size in pixels */
	unsigned height;
	unsigned ppi;		  /* pixels per inch; 0 when no source documents it */
	const char *ppi_source;	  /* where ppi comes from, or why it is 0 */
	uint8_t iso_technology;	  /* ISO/IEC 19794-4:2011 capture device technology */
	uint16_t iso_vendor_id;	  /* IBIA-registered vendor id, 0 = unreported */
	uint16_t iso_device_type; /* vendor-assigned type, 0 = unreported */
};

struct fp_device;

struct fp_open_options {
	/* Which reader: bus and address as lsusb prints them; both 0 for the
	 * first supported reader found. */
	uint8_t bus;
	uint8_t address;
	/* NULL for fp_clock_monotonic. Copied into the device. */
	const struct fp_clock *clock;
	/* Per-transfer timeout; 0 for the driver's default. */
	unsigned transfer_timeout_ms;
};

/*
 * One reader driver. Designated initialisers; NULL ops are unsupported.
 * Every op that can fail fills err and returns a negative errno; on any
 * failure the device is left able to run the next operation.
 */
struct fp_driver_ops {
	const char *name;	     /* short registry name */
	const char *model;	     /* what the officer reads */
	const struct fp_usb_id *ids; /* USB ids it serves, ending with {0, 0} */

	/* Opens and claims udev. On failure nothing stays open or claimed.
	 * *out is the embedded struct fp_device of a new instance. */
	int (*open)(struct libusb_device *udev, const struct fp_open_options *opts,
		    struct fp_device **out, struct retas_error *err);
	/* Releases the interface and closes the device; frees dev. */
	void (*close)(struct fp_device *dev);
	void (*describe)(struct fp_device *dev, struct fp_description *out);
	/* Returns 0 once a finger is on the sensor, -ETIMEDOUT
	 * ("fp.finger_timeout") when deadline_ms passes first. */
	int (*wait_finger)(struct fp_device *dev, int64_t deadline_ms, fp_progress_fn progress,
			   void *userdata, struct retas_error *err);
	/* Captures one image of the finger now on the sensor. */
	int (*capture)(struct fp_device *dev, int64_t deadline_ms, fp_progress_fn progress,
		       void *userdata, struct fp_image **out, struct retas_error *err);
	/* Returns 0 once no finger is on the sensor, -ETIMEDOUT
	 * ("fp.lift_timeout") when deadline_ms passes first. */
	int (*wait_lift)(struct fp_device *dev, int64_t deadline_ms, fp_progress_fn progress,
			 void *userdata, struct retas_error *err);
};

/* The base every driver instance embeds. Drivers fill ops and clock in
 * open(); the core owns the rest. */
struct fp_device {
	const struct fp_driver_ops *ops;
	struct fp_clock clock;
	/* A capture ended with the finger still down: the next capture waits
	 * for it to lift, so one press is never stored as two fingers. */
	bool finger_down;
	/* Stalled transfers cleared and retried successfully since the core
	 * last reset it (at the start of each capture attempt). */
	unsigned stall_recoveries;
};

/* The registry: every driver, NULL-terminated. One line per driver in
 * fp-registry.c. */
extern const struct fp_driver_ops *const fp_drivers[];

/* The driver serving vendor:product, or NULL. */
const struct fp_driver_ops *fp_driver_for_usb_id(uint16_t vendor, uint16_t product);

/* A libusb context of our own; callers never see libusb. */
struct fp_context;

int fp_context_new(struct fp_context **out, struct retas_error *err);
/* NULL is a no-op. Close every device of the context first. */
void fp_context_free(struct fp_context *ctx);

struct fp_reader {
	const struct fp_driver_ops *driver;
	uint16_t vendor_id;
	uint16_t product_id;
	uint8_t bus;
	uint8_t address;
	char serial[64]; /* "" when the reader reports none */
};

/* The attached readers some driver serves, in bus/address order. *out is
 * an array the caller frees with free() (NULL when *n is 0). */
int fp_enumerate(struct fp_context *ctx, struct fp_reader **out, size_t *n,
		 struct retas_error *err);

/* The fingerprint class's entry for `retas devices` (drv-peripheral.h). */
int fp_list_peripherals(struct drv_peripheral **out, size_t *n, struct retas_error *err);

/*
 * Opens the reader opts selects (opts may be NULL: the first reader).
 * -ENOENT "fp.no_reader" when none matches, -EBUSY "fp.busy" when another
 * program holds it, -EACCES "fp.access" without permission.
 */
int fp_device_open(struct fp_context *ctx, const struct fp_open_options *opts,
		   struct fp_device **out, struct retas_error *err);
/* NULL is a no-op. Nothing stays claimed or open afterwards. */
void fp_device_close(struct fp_device *dev);
void fp_device_describe(struct fp_device *dev, struct fp_description *out);

/* The steps one by one (-EOPNOTSUPP "fp.unsupported" when the driver has
 * no such op). fp_capture_finger() strings them together. */
int fp_device_wait_lift(struct fp_device *dev, int64_t deadline_ms, fp_progress_fn progress,
			void *userdata, struct retas_error *err);
int fp_device_wait_finger(struct fp_device *dev, int64_t deadline_ms, fp_progress_fn progress,
			  void *userdata, struct retas_error *err);
int fp_device_capture(struct fp_device *dev, int64_t deadline_ms, fp_progress_fn progress,
		      void *userdata, struct fp_image **out, struct retas_error *err);

struct fp_capture_request {
	int64_t deadline_ms;	    /* monotonic; for the whole series of attempts */
	unsigned quality_threshold; /* 0-100, from the configuration */
	unsigned retries;	    /* further attempts while below the threshold */
	fp_progress_fn progress;    /* may be NULL */
	void *userdata;
};

enum {
	FP_CAPTURE_STALL_RECOVERED = 1 << 0, /* a stalled endpoint was cleared on the way */
	FP_CAPTURE_BELOW_THRESHOLD = 1 << 1, /* no attempt reached the threshold */
};

/* In the manner of MOSIP SBI: the image with its quality, how many
 * attempts it took and what happened on the way. */
struct fp_capture_result {
	struct fp_image *image; /* the best attempt; owned */
	unsigned quality;	/* 0-100, fp-quality.h */
	unsigned attempts;	/* presses it took, 1 or more */
	unsigned flags;		/* FP_CAPTURE_* */
};

/*
 * Captures one finger: waits for the previous finger to lift when one may
 * still be down, waits for a finger, captures and scores it; below the
 * threshold it asks for another press up to req->retries times and keeps
 * the best. When a retry times out waiting for the finger after at least
 * one image was taken, that best image is returned with
 * FP_CAPTURE_BELOW_THRESHOLD. *out is written only on success; free it
 * with fp_capture_result_clear().
 */
int fp_capture_finger(struct fp_device *dev, const struct fp_capture_request *req,
		      struct fp_capture_result *out, struct retas_error *err);
void fp_capture_result_clear(struct fp_capture_result *r);
