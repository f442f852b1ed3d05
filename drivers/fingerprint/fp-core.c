/*
 * The fingerprint class core: images, the default clock, matching attached
 * USB devices to drivers, opening them, the NULL-op rule and the capture
 * sequence with quality retries (fp.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fp-driver.h"
#include "fp-quality.h"
#include "retas-i18n.h"
#include "retas-util.h"

struct fp_context {
	libusb_context *usb;
};

static int64_t mono_now(void *userdata)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int mono_sleep_until(int64_t when_ms, void *userdata)
{
	struct timespec ts = {
	    .tv_sec = (time_t)(when_ms / 1000),
	    .tv_nsec = (long)(when_ms % 1000) * 1000000,
	};
	int r;

	if (when_ms <= 0)
		return 0;
	do
		r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	while (r == EINTR);
	return -r;
}

const struct fp_clock fp_clock_monotonic = {
    .now_ms = mono_now,
    .sleep_until_ms = mono_sleep_until,
};

const struct fp_driver_ops *fp_driver_for_usb_id(uint16_t vendor, uint16_t product)
{
	for (size_t i = 0; fp_drivers[i]; i++)
		for (const struct fp_usb_id *id = fp_drivers[i]->ids; id->vendor; id++)
			if (id->vendor == vendor && id->product == product)
				return fp_drivers[i];
	return NULL;
}

int fp_context_new(struct fp_context **out, struct retas_error *err)
{
	struct fp_context *ctx;
	int r;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return retas_error_set(err, -ENOMEM, "fp.nomem", N_("Out of memory."));
	r = libusb_init(&ctx->usb);
	if (r < 0) {
		free(ctx);
		return retas_error_set(err, -EIO, "fp.usb_init",
				       N_("Cannot use USB on this machine: %s."),
				       libusb_error_name(r));
	}
	*out = ctx;
	return 0;
}

void fp_context_free(struct fp_context *ctx)
{
	if (!ctx)
		return;
	libusb_exit(ctx->usb);
	free(ctx);
}

static int reader_cmp(const void *a, const void *b)
{
	const struct fp_reader *x = a, *y = b;

	if (x->bus != y->bus)
		return x->bus < y->bus ? -1 : 1;
	return (x->address > y->address) - (x->address < y->address);
}

/* Lists the USB devices some driver serves; devs_out (optional) receives
 * the libusb list, which the caller frees with libusb_free_device_list(, 1)
 * and whose entries line up with nothing: look them up by bus/address. */
static int enumerate(struct fp_context *ctx, struct fp_reader **out, size_t *n,
		     libusb_device ***devs_out, struct retas_error *err)
{
	libusb_device **devs = NULL;
	struct fp_reader *list = NULL;
	size_t count = 0;
	ssize_t total;
	int r;

	total = libusb_get_device_list(ctx->usb, &devs);
	if (total < 0) {
		r = fp_usb_error((int)total, _("listing USB devices"), err);
		goto out;
	}
	list = calloc((size_t)total + 1, sizeof(*list));
	if (!list) {
		r = retas_error_set(err, -ENOMEM, "fp.nomem", N_("Out of memory."));
		goto out;
	}
	for (ssize_t i = 0; i < total; i++) {
		struct libusb_device_descriptor desc;
		const struct fp_driver_ops *drv;

		if (libusb_get_device_descriptor(devs[i], &desc) < 0)
			continue;
		drv = fp_driver_for_usb_id(desc.idVendor, desc.idProduct);
		if (!drv)
			continue;
		list[count++] = (struct fp_reader){
		    .driver = drv,
		    .vendor_id = desc.idVendor,
		    .product_id = desc.idProduct,
		    .bus = libusb_get_bus_number(devs[i]),
		    .address = libusb_get_device_address(devs[i]),
		};
		fp_usb_read_serial(devs[i], list[count - 1].serial, sizeof(list[count - 1].serial));
	}
	qsort(list, count, sizeof(*list), reader_cmp);
	if (count == 0) {
		free(list);
		list = NULL;
	}
	*out = steal_ptr(list);
	*n = count;
	if (devs_out)
		*devs_out = steal_ptr(devs);
	r = 0;
out:
	free(list);
	if (devs)
		libusb_free_device_list(devs, 1);
	return r;
}

int fp_enumerate(struct fp_context *ctx, struct fp_reader **out, size_t *n, struct retas_error *err)
{
	return enumerate(ctx, out, n, NULL, err);
}

int fp_list_peripherals(struct drv_peripheral **out, size_t *n, struct retas_error *err)
{
	struct drv_peripheral *list = NULL;
	struct fp_reader *readers = NULL;
	struct fp_context *ctx = NULL;
	size_t count = 0;
	int r;

	r = fp_context_new(&ctx, err);
	if (r < 0)
		goto out;
	r = fp_enumerate(ctx, &readers, &count, err);
	if (r < 0)
		goto out;
	if (count) {
		list = calloc(count, sizeof(*list));
		if (!list) {
			r = retas_error_set(err, -ENOMEM, "fp.nomem", N_("Out of memory."));
			goto out;
		}
	}
	for (size_t i = 0; i < count; i++) {
		snprintf(list[i].model, sizeof(list[i].model), "%s", readers[i].driver->model);
		snprintf(list[i].driver, sizeof(list[i].driver), "%s", readers[i].driver->name);
		snprintf(list[i].location, sizeof(list[i].location), "usb %u:%u", readers[i].bus,
			 readers[i].address);
		snprintf(list[i].serial, sizeof(list[i].serial), "%s", readers[i].serial);
	}
	*out = steal_ptr(list);
	*n = count;
	r = 0;
out:
	free(list);
	free(readers);
	fp_context_free(ctx);
	return r;
}

static int no_reader(const struct fp_open_options *opts, struct retas_error *err)
{
	if (opts && (opts->bus || opts->address))
		return retas_error_set(
		    err, -ENOENT, "fp.no_reader",
		    N_("No supported fingerprint reader at USB bus %u address %u."), opts->bus,
		    opts->address);
	return retas_error_set(err, -ENOENT, "fp.no_reader",
			       N_("No supported fingerprint reader is attached."));
}

int fp_device_open(struct fp_context *ctx, const struct fp_open_options *opts,
		   struct fp_device **out, struct retas_error *err)
{
	libusb_device **devs = NULL;
	struct fp_reader *readers = NULL;
	const struct fp_reader *pick = NULL;
	struct fp_device *dev = NULL;
	libusb_device *udev = NULL;
	size_t count = 0;
	int r;

	r = enumerate(ctx, &readers, &count, &devs, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < count && !pick; i++)
		if (!opts || (!opts->bus && !opts->address) ||
		    (readers[i].bus == opts->bus && readers[i].address == opts->address))
			pick = &readers[i];
	if (!pick) {
		r = no_reader(opts, err);
		goto out;
	}
	for (size_t i = 0; devs[i]; i++)
		if (libusb_get_bus_number(devs[i]) == pick->bus &&
		    libusb_get_device_address(devs[i]) == pick->address)
			udev = devs[i];
	if (!udev) {
		r = no_reader(opts, err);
		goto out;
	}
	r = pick->driver->open(udev, opts, &dev, err);
	if (r < 0)
		goto out;
	dev->ops = pick->driver;
	dev->clock = opts && opts->clock ? *opts->clock : fp_clock_monotonic;
	*out = steal_ptr(dev);
	r = 0;
out:
	free(readers);
	if (devs)
		libusb_free_device_list(devs, 1);
	return r;
}

void fp_device_close(struct fp_device *dev)
{
	if (dev)
		dev->ops->close(dev);
}

void fp_device_describe(struct fp_device *dev, struct fp_description *out)
{
	dev->ops->describe(dev, out);
}

static int unsupported(struct retas_error *err)
{
	return retas_error_set(err, -EOPNOTSUPP, "fp.unsupported",
			       N_("This fingerprint reader cannot do that."));
}

int fp_device_wait_lift(struct fp_device *dev, int64_t deadline_ms, fp_progress_fn progress,
			void *userdata, struct retas_error *err)
{
	int r;

	if (!dev->ops->wait_lift)
		return unsupported(err);
	r = dev->ops->wait_lift(dev, deadline_ms, progress, userdata, err);
	if (r >= 0)
		dev->finger_down = false;
	return r;
}

int fp_device_wait_finger(struct fp_device *dev, int64_t deadline_ms, fp_progress_fn progress,
			  void *userdata, struct retas_error *err)
{
	int r;

	if (!dev->ops->wait_finger)
		return unsupported(err);
	r = dev->ops->wait_finger(dev, deadline_ms, progress, userdata, err);
	/* From here on the finger is down until a poll sees it lifted, even
	 * when the capture then fails. */
	if (r >= 0)
		dev->finger_down = true;
	return r;
}

int fp_device_capture(struct fp_device *dev, int64_t deadline_ms, fp_progress_fn progress,
		      void *userdata, struct fp_image **out, struct retas_error *err)
{
	if (!dev->ops->capture)
		return unsupported(err);
	return dev->ops->capture(dev, deadline_ms, progress, userdata, out, err);
}

/* Stamps the attempt number on the caller's progress reports. */
struct attempt_progress {
	const struct fp_capture_request *req;
	unsigned attempt;
};

static int attempt_progress(const struct fp_progress *p, void *userdata)
{
	struct attempt_progress *ap = userdata;
	struct fp_progress copy = *p;

	copy.attempt = ap->attempt;
	return ap->req->progress(&copy, ap->req->userdata);
}

void fp_capture_result_clear(struct fp_capture_result *r)
{
	if (!r)
		return;
	fp_image_free(r->image);
	memset(r, 0, sizeof(*r));
}

int fp_capture_finger(struct fp_device *dev, const struct fp_capture_request *req,
		      struct fp_capture_result *out, struct retas_error *err)
{
	struct attempt_progress ap = {.req = req};
	fp_progress_fn progress = req->progress ? attempt_progress : NULL;
	struct fp_capture_result best = {0};
	struct fp_image *img = NULL;
	int r;

	for (unsigned attempt = 1; attempt <= req->retries + 1; attempt++) {
		unsigned q;

		ap.attempt = attempt;
		dev->stall_recoveries = 0;
		if (dev->finger_down) {
			r = fp_device_wait_lift(dev, req->deadline_ms, progress, &ap, err);
			if (r == -EOPNOTSUPP)
				retas_error_clear(err);
			else if (r < 0)
				goto out;
		}
		r = fp_device_wait_finger(dev, req->deadline_ms, progress, &ap, err);
		if (r == -ETIMEDOUT && best.image) {
			/* The officer did not press again: keep what we have. */
			retas_error_clear(err);
			break;
		}
		if (r == -EOPNOTSUPP)
			retas_error_clear(err);
		else if (r < 0)
			goto out;
		r = fp_device_capture(dev, req->deadline_ms, progress, &ap, &img, err);
		if (r < 0)
			goto out;
		q = fp_quality_score(img, NULL);
		best.attempts = attempt;
		if (dev->stall_recoveries)
			best.flags |= FP_CAPTURE_STALL_RECOVERED;
		if (!best.image || q > best.quality) {
			fp_image_free(best.image);
			best.image = steal_ptr(img);
			best.quality = q;
		}
		fp_image_free(steal_ptr(img));
		if (best.quality >= req->quality_threshold)
			break;
	}
	if (best.quality < req->quality_threshold)
		best.flags |= FP_CAPTURE_BELOW_THRESHOLD;
	*out = best;
	best.image = NULL;
	r = 0;
out:
	fp_image_free(img);
	fp_image_free(best.image);
	return r;
}
