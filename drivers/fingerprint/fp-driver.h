/*
 * What fingerprint drivers share and callers never see: libusb error
 * mapping, bulk transfers under a deadline with stall recovery, progress
 * reporting and the finger-level polling loop. Only driver files include
 * this header (it includes libusb).
 */
#pragma once

#include <libusb.h>

#include "fp.h"

/*
 * Maps a libusb error code to a negative errno and fills err with a reason
 * naming the failure class; step says what was being done (translated,
 * e.g. "image packet 3 of 90"). LIBUSB_ERROR_TIMEOUT maps to -EIO
 * "fp.no_answer": callers that know a deadline was the limit say so
 * themselves.
 *   NO_DEVICE -> -ENODEV "fp.unplugged"    BUSY   -> -EBUSY "fp.busy"
 *   ACCESS    -> -EACCES "fp.access"       PIPE   -> -EPIPE "fp.stall"
 *   OVERFLOW  -> -EPROTO "fp.overflow"     NO_MEM -> -ENOMEM "fp.nomem"
 *   anything else -> -EIO "fp.usb"
 */
int fp_usb_error(int usb_err, const char *step, struct retas_error *err);

/*
 * One bulk transfer of len bytes on ep (direction from its 0x80 bit). The
 * timeout is timeout_ms or what is left before deadline_ms, whichever is
 * less; a deadline that has already passed is -ETIMEDOUT "fp.deadline",
 * and so is a transfer timeout cut short by it. A stalled endpoint is
 * cleared and the transfer retried once (counted in
 * dev->stall_recoveries when the retry works); a second stall is -EPIPE
 * "fp.stall". *got receives the bytes moved (may be NULL for OUT). A short
 * OUT transfer is -EIO "fp.short_write".
 */
int fp_usb_bulk(struct fp_device *dev, libusb_device_handle *h, unsigned char ep, uint8_t *buf,
		size_t len, size_t *got, unsigned timeout_ms, int64_t deadline_ms, const char *step,
		struct retas_error *err);

/* Reads /sys/bus/usb/devices/<port path>/serial, the string the kernel
 * read at enumeration, so no control transfer is needed. Writes "" when
 * there is none. */
void fp_usb_read_serial(libusb_device *udev, char *out, size_t size);

/* Calls progress (when set); a negative return becomes the operation's
 * error with reason "fp.cancelled". */
int fp_report(fp_progress_fn progress, void *userdata, const struct fp_progress *p,
	      struct retas_error *err);

static inline int64_t fp_now(const struct fp_device *dev)
{
	return dev->clock.now_ms(dev->clock.userdata);
}

/*
 * Polls a finger level every interval_ms from now until want_present is
 * met (level > threshold when want_present, level <= threshold otherwise)
 * or the next poll would fall after deadline_ms. Polls keep to a fixed
 * schedule (start + k * interval), so a slow transfer shortens the sleep
 * rather than adding to it. read_level performs one poll. Reports stage
 * with the level after each poll. On timeout: -ETIMEDOUT with reason
 * "fp.finger_timeout" or "fp.lift_timeout".
 */
int fp_poll_level(struct fp_device *dev, bool want_present, unsigned threshold,
		  unsigned interval_ms, int64_t deadline_ms,
		  int (*read_level)(struct fp_device *dev, int64_t deadline_ms, unsigned *level,
				    struct retas_error *err),
		  fp_progress_fn progress, void *userdata, struct retas_error *err);
