/*
 * Shared driver plumbing (fp-driver.h): libusb errors as errnos with
 * reasons an officer can act on, bulk transfers that respect the capture's
 * deadline and recover once from a stalled endpoint, the serial number
 * from sysfs, and the fixed-schedule finger-level polling loop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fp-driver.h"
#include "retas-i18n.h"
#include "retas-util.h"

int fp_usb_error(int usb_err, const char *step, struct retas_error *err)
{
	switch (usb_err) {
	case LIBUSB_ERROR_NO_DEVICE:
		return retas_error_set(err, -ENODEV, "fp.unplugged",
				       N_("The fingerprint reader was unplugged (%s)."), step);
	case LIBUSB_ERROR_BUSY:
		return retas_error_set(err, -EBUSY, "fp.busy",
				       N_("The fingerprint reader is in use by another program "
					  "(is retasd capturing?) (%s)."),
				       step);
	case LIBUSB_ERROR_ACCESS:
		return retas_error_set(err, -EACCES, "fp.access",
				       N_("No permission to use the fingerprint reader; is this "
					  "user in group retas? (%s)"),
				       step);
	case LIBUSB_ERROR_PIPE:
		return retas_error_set(err, -EPIPE, "fp.stall",
				       N_("The fingerprint reader stalled twice (%s); unplug it "
					  "and plug it in again."),
				       step);
	case LIBUSB_ERROR_OVERFLOW:
		return retas_error_set(
		    err, -EPROTO, "fp.overflow",
		    N_("The fingerprint reader sent more data than asked for (%s)."), step);
	case LIBUSB_ERROR_TIMEOUT:
		return retas_error_set(err, -EIO, "fp.no_answer",
				       N_("The fingerprint reader stopped answering (%s)."), step);
	case LIBUSB_ERROR_NO_MEM:
		return retas_error_set(err, -ENOMEM, "fp.nomem", N_("Out of memory (%s)."), step);
	default:
		return retas_error_set(err, -EIO, "fp.usb",
				       N_("USB error talking to the fingerprint reader (%s): %s."),
				       step, libusb_error_name(usb_err));
	}
}

static int deadline_passed(const char *step, struct retas_error *err)
{
	return retas_error_set(err, -ETIMEDOUT, "fp.deadline",
			       N_("The capture ran out of time (%s)."), step);
}

/* One attempt: the timeout this transfer may use, and the transfer. */
static int bulk_once(struct fp_device *dev, libusb_device_handle *h, unsigned char ep, uint8_t *buf,
		     size_t len, int *moved, unsigned timeout_ms, int64_t deadline_ms,
		     bool *cut_by_deadline)
{
	int64_t left = deadline_ms - fp_now(dev);
	unsigned t = timeout_ms;

	*moved = 0;
	*cut_by_deadline = false;
	if (left <= 0) {
		*cut_by_deadline = true;
		return LIBUSB_ERROR_TIMEOUT;
	}
	if (left < (int64_t)t) {
		t = (unsigned)left;
		*cut_by_deadline = true;
	}
	/* libusb reads a timeout of 0 as "forever"; left > 0 keeps t >= 1. */
	return libusb_bulk_transfer(h, ep, buf, (int)len, moved, t);
}

int fp_usb_bulk(struct fp_device *dev, libusb_device_handle *h, unsigned char ep, uint8_t *buf,
		size_t len, size_t *got, unsigned timeout_ms, int64_t deadline_ms, const char *step,
		struct retas_error *err)
{
	bool cut = false;
	int moved = 0, r;

	r = bulk_once(dev, h, ep, buf, len, &moved, timeout_ms, deadline_ms, &cut);
	if (r == LIBUSB_ERROR_PIPE) {
		/* A halted endpoint stays halted until the host clears it; one
		 * clear and one retry, so a reader that keeps stalling fails
		 * rather than loops. */
		r = libusb_clear_halt(h, ep);
		if (r < 0) {
			r = fp_usb_error(r, step, err);
			goto out;
		}
		r = bulk_once(dev, h, ep, buf, len, &moved, timeout_ms, deadline_ms, &cut);
		if (r == 0)
			dev->stall_recoveries++;
	}
	if (r == LIBUSB_ERROR_TIMEOUT && cut) {
		r = deadline_passed(step, err);
		goto out;
	}
	if (r < 0) {
		r = fp_usb_error(r, step, err);
		goto out;
	}
	if (!(ep & LIBUSB_ENDPOINT_IN) && (size_t)moved != len) {
		r = retas_error_set(err, -EIO, "fp.short_write",
				    N_("The fingerprint reader took %d of %zu bytes (%s)."), moved,
				    len, step);
		goto out;
	}
	if (got)
		*got = (size_t)moved;
	r = 0;
out:
	return r;
}

void fp_usb_read_serial(libusb_device *udev, char *out, size_t size)
{
	uint8_t ports[8];
	char path[128];
	char line[128] = "";
	int n, len;
	FILE *f;

	out[0] = '\0';
	n = libusb_get_port_numbers(udev, ports, (int)sizeof(ports));
	if (n <= 0)
		return;
	len = snprintf(path, sizeof(path), "/sys/bus/usb/devices/%u-", libusb_get_bus_number(udev));
	for (int i = 0; i < n && len > 0 && (size_t)len < sizeof(path); i++)
		len += snprintf(path + len, sizeof(path) - (size_t)len, i ? ".%u" : "%u", ports[i]);
	if (len <= 0 || (size_t)len >= sizeof(path) - sizeof("/serial"))
		return;
	strcat(path, "/serial");
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		/* Printable ASCII only: it goes into logs and the officer's screen. */
		for (char *p = line; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
		snprintf(out, size, "%s", line);
	}
	fclose(f);
}

int fp_report(fp_progress_fn progress, void *userdata, const struct fp_progress *p,
	      struct retas_error *err)
{
	int r;

	if (!progress)
		return 0;
	r = progress(p, userdata);
	if (r < 0)
		return retas_error_set(err, r, "fp.cancelled", N_("The capture was cancelled."));
	return 0;
}

int fp_poll_level(struct fp_device *dev, bool want_present, unsigned threshold,
		  unsigned interval_ms, int64_t deadline_ms,
		  int (*read_level)(struct fp_device *dev, int64_t deadline_ms, unsigned *level,
				    struct retas_error *err),
		  fp_progress_fn progress, void *userdata, struct retas_error *err)
{
	int64_t start = fp_now(dev), next;
	unsigned level = 0;
	int r;

	for (int64_t k = 1;; k++) {
		struct fp_progress p = {
		    .stage = want_present ? FP_STAGE_WAIT_FINGER : FP_STAGE_WAIT_LIFT,
		};

		r = read_level(dev, deadline_ms, &level, err);
		if (r == -ETIMEDOUT)
			goto timeout; /* the deadline cut the poll short */
		if (r < 0)
			goto out;
		p.level = level;
		r = fp_report(progress, userdata, &p, err);
		if (r < 0)
			goto out;
		if ((level > threshold) == want_present)
			break;
		next = start + k * (int64_t)interval_ms;
		/* A poll needs time to answer: none starts at the deadline. */
		if (next >= deadline_ms)
			goto timeout;
		r = dev->clock.sleep_until_ms(next, dev->clock.userdata);
		if (r < 0) {
			r = retas_error_set(err, r, "fp.cancelled",
					    N_("The capture was cancelled."));
			goto out;
		}
	}
	r = 0;
	goto out;
timeout:
	if (want_present)
		r = retas_error_set(err, -ETIMEDOUT, "fp.finger_timeout",
				    N_("No finger was placed on the reader in time."));
	else
		r = retas_error_set(err, -ETIMEDOUT, "fp.lift_timeout",
				    N_("The finger was not lifted from the reader in time; lift "
				       "it before the next finger."));
out:
	return r;
}
