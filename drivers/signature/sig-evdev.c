/*
 * Signature pads the kernel exposes as an evdev pen tablet (udev sets
 * ID_INPUT_TABLET): a Wacom One, a signature pad in tablet mode, any
 * digitiser with BTN_TOUCH and absolute X/Y. The pad is found through udev
 * (sd-device) or named by signature.device, and checked when the class
 * opens it; a capture opens it afresh, reads it with libevdev and grabs it
 * (EVIOCGRAB) until the end, so the pen does not move the desktop's pointer
 * meanwhile and nothing the pen did before the capture began (the kernel
 * queues events for every open file from its open on) becomes ink.
 *
 * A sample is taken at every SYN_REPORT while BTN_TOUCH is down and the
 * tool is the pen (not the eraser end), from libevdev's view of the device
 * state, so a frame the kernel cut short by SYN_DROPPED is replaced by the
 * state libevdev re-reads from the device (the sync loop libevdev.h
 * documents under "SYN_DROPPED handling"). The physical scale comes from
 * the axes' resolution (units per millimetre), or from the configured
 * surface size for a pad that reports none.
 */
#include <errno.h>
#include <fcntl.h>
#include <libevdev/libevdev.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-device.h>
#include <unistd.h>

#include "retas-i18n.h"
#include "retas-time.h"
#include "sig.h"

struct evdev_pad {
	struct sig_device base; /* first: the core casts */
	char node[256];
	char name[128];
	int x_min, y_min, p_min;
	uint32_t x_extent, y_extent, p_max;
	uint32_t x_upm, y_upm; /* units per metre */
	bool size_configured;
	bool has_tool_pen;
	bool has_pressure;
	int idle_ms;
};

static inline struct evdev_pad *to_pad(struct sig_device *dev)
{
	return (struct evdev_pad *)dev;
}

/*
 * Event nodes udev tags ID_INPUT_TABLET: pen tablets. Uninitialised devices
 * are allowed because only udev's database marks a device initialised: a
 * device udev has not processed yet lacks ID_INPUT_TABLET anyway and does
 * not match, while emulated devices (umockdev) carry their properties
 * without a database.
 */
static int tablet_enumerator(sd_device_enumerator **out)
{
	sd_device_enumerator *e = NULL;
	int r;

	r = sd_device_enumerator_new(&e);
	if (r < 0)
		return r;
	if ((r = sd_device_enumerator_add_match_subsystem(e, "input", true)) < 0 ||
	    (r = sd_device_enumerator_add_match_sysname(e, "event*")) < 0 ||
	    (r = sd_device_enumerator_add_match_property(e, "ID_INPUT_TABLET", "1")) < 0 ||
	    (r = sd_device_enumerator_allow_uninitialized(e)) < 0) {
		sd_device_enumerator_unref(e);
		return r;
	}
	*out = e;
	return 0;
}

/* The node of a pen, or NULL: the buttons-only "pad" node of larger
 * tablets carries ID_INPUT_TABLET too, and ID_INPUT_TABLET_PAD. */
static const char *pen_node(sd_device *d)
{
	const char *devname = NULL, *pad = NULL;

	if (sd_device_get_property_value(d, "ID_INPUT_TABLET_PAD", &pad) >= 0 && streq(pad, "1"))
		return NULL;
	if (sd_device_get_devname(d, &devname) < 0)
		return NULL;
	return devname;
}

static int find_pad_node(char *node, size_t len, struct retas_error *err)
{
	_cleanup_(sd_device_enumerator_unrefp) sd_device_enumerator *e = NULL;
	int r;

	r = tablet_enumerator(&e);
	if (r < 0)
		return r;
	for (sd_device *d = sd_device_enumerator_get_device_first(e); d;
	     d = sd_device_enumerator_get_device_next(e)) {
		const char *devname = pen_node(d);

		if (!devname || strlen(devname) >= len)
			continue;
		snprintf(node, len, "%s", devname);
		return 0;
	}
	return retas_error_set(err, -ENODEV, "signature.no_pad",
			       N_("No signature pad was found. Connect the pad, or name its "
				  "device in signature.device."));
}

int sig_list_peripherals(struct drv_peripheral **out, size_t *n, struct retas_error *err)
{
	_cleanup_(sd_device_enumerator_unrefp) sd_device_enumerator *e = NULL;
	_cleanup_(freep) struct drv_peripheral *list = NULL;
	size_t count = 0;
	int r;

	r = tablet_enumerator(&e);
	if (r < 0)
		return retas_error_set(err, r, "signature.udev",
				       N_("Looking for a signature pad failed: %s."), strerror(-r));
	for (sd_device *d = sd_device_enumerator_get_device_first(e); d;
	     d = sd_device_enumerator_get_device_next(e)) {
		const char *devname = pen_node(d), *name = NULL, *serial = NULL;
		struct drv_peripheral *more, *p;
		sd_device *parent = NULL;

		if (!devname)
			continue;
		more = reallocarray(list, count + 1, sizeof(*list));
		if (!more)
			return retas_error_set(err, -ENOMEM, "signature.nomem",
					       N_("Out of memory."));
		list = more;
		p = memset(&list[count++], 0, sizeof(*p));
		/* the input device above the event node has the device's name */
		if (sd_device_get_parent(d, &parent) >= 0)
			sd_device_get_sysattr_value(parent, "name", &name);
		if (sd_device_get_property_value(d, "ID_SERIAL_SHORT", &serial) < 0)
			serial = NULL;
		snprintf(p->model, sizeof(p->model), "%s", name ? name : devname);
		snprintf(p->driver, sizeof(p->driver), "evdev");
		snprintf(p->location, sizeof(p->location), "%s", devname);
		snprintf(p->serial, sizeof(p->serial), "%s", serial ? serial : "");
	}
	*out = steal_ptr(list);
	*n = count;
	return 0;
}

static int axis_scale(struct evdev_pad *pad, struct libevdev *evdev, const struct sig_config *cfg,
		      struct retas_error *err)
{
	const struct input_absinfo *ax = libevdev_get_abs_info(evdev, ABS_X);
	const struct input_absinfo *ay = libevdev_get_abs_info(evdev, ABS_Y);

	if (ax->maximum <= ax->minimum || ay->maximum <= ay->minimum)
		return retas_error_set(err, -EINVAL, "signature.axes",
				       N_("The signature pad %s reports an empty X or Y range."),
				       pad->node);
	pad->x_min = ax->minimum;
	pad->y_min = ay->minimum;
	pad->x_extent = (uint32_t)((int64_t)ax->maximum - ax->minimum);
	pad->y_extent = (uint32_t)((int64_t)ay->maximum - ay->minimum);
	if (ax->resolution > 0 && ay->resolution > 0) {
		/* evdev resolution of ABS_X/ABS_Y is in units per millimetre */
		pad->x_upm = (uint32_t)ax->resolution * 1000u;
		pad->y_upm = (uint32_t)ay->resolution * 1000u;
		return 0;
	}
	if (cfg->width_mm > 0 && cfg->height_mm > 0) {
		double xu = pad->x_extent / cfg->width_mm * 1000.0;
		double yu = pad->y_extent / cfg->height_mm * 1000.0;

		if (xu < 1 || yu < 1 || xu > UINT32_MAX || yu > UINT32_MAX)
			return retas_error_set(err, -EINVAL, "signature.size",
					       N_("signature.width_mm and signature.height_mm do "
						  "not fit the pad %s."),
					       pad->node);
		pad->x_upm = (uint32_t)lround(xu);
		pad->y_upm = (uint32_t)lround(yu);
		pad->size_configured = true;
		return 0;
	}
	return retas_error_set(err, -EINVAL, "signature.no_resolution",
			       N_("The signature pad %s (%s) does not report its physical size: "
				  "set signature.width_mm and signature.height_mm in the "
				  "configuration."),
			       pad->node, pad->name);
}

static void evdev_close(struct sig_device *dev)
{
	free(to_pad(dev));
}

/* Opens the node and lets libevdev read the device's description. */
static int pad_open_fd(struct evdev_pad *pad, int *out_fd, struct libevdev **out_evdev,
		       struct retas_error *err)
{
	struct libevdev *evdev = NULL;
	int fd, r;

	/* Non-blocking: libevdev drains the queue until EAGAIN when it
	 * resynchronises, and every wait here is a poll() with a deadline. */
	fd = open(pad->node, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT || r == -ENODEV || r == -ENXIO)
			return retas_error_set(err, -ENODEV, "signature.no_pad",
					       N_("No signature pad at %s. Connect the pad, or "
						  "correct signature.device."),
					       pad->node);
		if (r == -EACCES || r == -EPERM)
			return retas_error_set(err, r, "signature.permission",
					       N_("No permission to read the signature pad %s."),
					       pad->node);
		return retas_error_set(err, r, "signature.open",
				       N_("Cannot open the signature pad %s: %s."), pad->node,
				       strerror(-r));
	}
	r = libevdev_new_from_fd(fd, &evdev);
	if (r < 0) {
		close(fd);
		return retas_error_set(err, r == -ENOTTY ? -EINVAL : r, "signature.not_evdev",
				       N_("%s is not an input device: %s."), pad->node,
				       strerror(-r));
	}
	*out_fd = fd;
	*out_evdev = evdev;
	return 0;
}

static int evdev_open(const struct sig_config *cfg, struct sig_device **out,
		      struct retas_error *err)
{
	struct libevdev *evdev = NULL;
	struct evdev_pad *pad;
	int fd = -1, r;

	pad = calloc(1, sizeof(*pad));
	if (!pad)
		return -ENOMEM;
	pad->base.ops = &sig_evdev_ops;
	pad->idle_ms = cfg->idle_ms;
	if (cfg->device_node && *cfg->device_node) {
		if (strlen(cfg->device_node) >= sizeof(pad->node)) {
			r = retas_error_set(err, -EINVAL, "signature.device",
					    N_("signature.device is too long."));
			goto out;
		}
		snprintf(pad->node, sizeof(pad->node), "%s", cfg->device_node);
	} else {
		r = find_pad_node(pad->node, sizeof(pad->node), err);
		if (r < 0) {
			if (!err || !err->code)
				retas_error_set(err, r, "signature.udev",
						N_("Looking for a signature pad failed: %s."),
						strerror(-r));
			goto out;
		}
	}
	r = pad_open_fd(pad, &fd, &evdev, err);
	if (r < 0)
		goto out;
	snprintf(pad->name, sizeof(pad->name), "%s",
		 libevdev_get_name(evdev) ? libevdev_get_name(evdev) : "");
	if (!libevdev_has_event_code(evdev, EV_ABS, ABS_X) ||
	    !libevdev_has_event_code(evdev, EV_ABS, ABS_Y) ||
	    !libevdev_has_event_code(evdev, EV_KEY, BTN_TOUCH)) {
		r = retas_error_set(err, -EINVAL, "signature.not_a_pen",
				    N_("%s (%s) is not a pen tablet: it lacks absolute X/Y "
				       "or BTN_TOUCH."),
				    pad->node, pad->name);
		goto out;
	}
	pad->has_tool_pen = libevdev_has_event_code(evdev, EV_KEY, BTN_TOOL_PEN);
	pad->has_pressure = libevdev_has_event_code(evdev, EV_ABS, ABS_PRESSURE);
	if (pad->has_pressure) {
		const struct input_absinfo *ap = libevdev_get_abs_info(evdev, ABS_PRESSURE);

		pad->p_min = ap->minimum;
		if (ap->maximum > ap->minimum)
			pad->p_max = (uint32_t)((int64_t)ap->maximum - ap->minimum);
		if (pad->p_max > UINT16_MAX)
			pad->p_max = UINT16_MAX;
		pad->has_pressure = pad->p_max > 0;
	}
	r = axis_scale(pad, evdev, cfg, err);
	if (r < 0)
		goto out;
	*out = &pad->base;
	pad = NULL;
	r = 0;
out:
	libevdev_free(evdev);
	if (fd >= 0)
		close(fd);
	if (pad)
		evdev_close(&pad->base);
	return r;
}

static int evdev_describe(struct sig_device *dev, struct sig_info *out)
{
	struct evdev_pad *pad = to_pad(dev);

	snprintf(out->driver, sizeof(out->driver), "evdev");
	snprintf(out->name, sizeof(out->name), "%s", pad->name);
	snprintf(out->node, sizeof(out->node), "%s", pad->node);
	out->width_mm = pad->x_extent * 1000.0 / pad->x_upm;
	out->height_mm = pad->y_extent * 1000.0 / pad->y_upm;
	out->size_configured = pad->size_configured;
	out->pressure_levels = pad->has_pressure ? pad->p_max + 1 : 0;
	return 0;
}

/* State of one capture. */
struct capture {
	struct evdev_pad *pad;
	int fd;
	struct libevdev *evdev;
	bool gone; /* the device went away: no more ioctls on it */
	const struct sig_capture_params *params;
	struct sig_signature *sig;
	struct sig_progress progress;
	bool was_down;	     /* the previous frame had ink */
	bool resync_pending; /* events were lost: flag the next sample */
	bool have_t0;
	int64_t t0_us;	 /* event time of the first sample */
	int64_t idle_at; /* 0: not armed */
	int control_fd;	 /* -1 once at end of file */
	bool accepted;
};

static int64_t cap_now(const struct capture *c)
{
	if (c->params->now_ms)
		return c->params->now_ms(c->params->userdata);
	return retas_time_mono_ms();
}

static void cap_report(struct capture *c)
{
	if (c->params->progress)
		c->params->progress(c->params->userdata, &c->progress);
	c->progress.cleared = false;
}

static int clamp_i32(int64_t v)
{
	return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int)v;
}

/* A complete pen report: sample it from libevdev's state. */
static int cap_frame(struct capture *c, const struct input_event *ev)
{
	struct libevdev *d = c->evdev;
	bool in_range = !c->pad->has_tool_pen || libevdev_get_event_value(d, EV_KEY, BTN_TOOL_PEN);
	bool down = in_range && libevdev_get_event_value(d, EV_KEY, BTN_TOUCH);
	int r;

	c->progress.frames++;
	if (down) {
		int64_t t_us = (int64_t)ev->input_event_sec * 1000000 + ev->input_event_usec;
		struct sig_point p = {0};
		int64_t t_ms;

		if (!c->have_t0) {
			c->t0_us = t_us;
			c->have_t0 = true;
		}
		/* evdev stamps events with CLOCK_REALTIME unless told otherwise;
		 * a clock stepped back mid-signature must not make time run
		 * backwards in the series */
		t_ms = (t_us - c->t0_us) / 1000;
		if (c->sig->n_points && t_ms < c->sig->points[c->sig->n_points - 1].t_ms)
			t_ms = c->sig->points[c->sig->n_points - 1].t_ms;
		p.t_ms = t_ms < 0 ? 0 : t_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)t_ms;
		p.x =
		    clamp_i32((int64_t)libevdev_get_event_value(d, EV_ABS, ABS_X) - c->pad->x_min);
		p.y =
		    clamp_i32((int64_t)libevdev_get_event_value(d, EV_ABS, ABS_Y) - c->pad->y_min);
		if (c->pad->has_pressure) {
			int64_t v = (int64_t)libevdev_get_event_value(d, EV_ABS, ABS_PRESSURE) -
				    c->pad->p_min;

			p.pressure = v < 0 ? 0 : v > c->pad->p_max ? c->pad->p_max : (uint16_t)v;
		}
		if (!c->was_down) {
			p.flags |= SIG_POINT_STROKE_START;
			c->progress.strokes++;
		}
		if (c->resync_pending)
			p.flags |= SIG_POINT_RESYNC;
		r = sig_signature_append(c->sig, &p);
		if (r < 0)
			return r;
		c->resync_pending = false;
		c->idle_at = 0;
		c->progress.points = (unsigned)c->sig->n_points;
	} else if (c->was_down && c->pad->idle_ms > 0) {
		c->idle_at = cap_now(c) + c->pad->idle_ms;
	}
	c->was_down = down;
	c->progress.pen_down = down;
	c->progress.in_range = in_range;
	cap_report(c);
	return 0;
}

static int cap_removed(struct capture *c, struct retas_error *err)
{
	c->gone = true;
	return retas_error_set(err, -ENODEV, "signature.removed",
			       N_("The signature pad was disconnected during the signature; "
				  "nothing was kept. Reconnect it and sign again."));
}

static int cap_read_error(struct capture *c, int r, struct retas_error *err)
{
	if (r == -ENODEV || r == -EIO)
		return cap_removed(c, err);
	return retas_error_set(err, r, "signature.read",
			       N_("Reading the signature pad failed: %s."), strerror(-r));
}

/* Commands from the control fd; -ECANCELED when the officer gives up. */
static int cap_control(struct capture *c, struct retas_error *err)
{
	char buf[64];
	ssize_t n = read(c->control_fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0) {
		c->control_fd = -1;
		return 0;
	}
	for (ssize_t i = 0; i < n; i++) {
		switch (buf[i]) {
		case SIG_CMD_ACCEPT:
		case '\n':
		case '\r':
			c->accepted = true;
			return 0;
		case SIG_CMD_CLEAR:
			sig_signature_clear(c->sig);
			c->have_t0 = false;
			c->was_down = false;
			c->idle_at = 0;
			c->progress.points = 0;
			c->progress.strokes = 0;
			c->progress.cleared = true;
			cap_report(c);
			break;
		case SIG_CMD_CANCEL:
			return retas_error_set(err, -ECANCELED, "signature.cancelled",
					       N_("The signature was cancelled."));
		default:
			break;
		}
	}
	return 0;
}

/*
 * A command written while reports are being read takes effect at the
 * report where it is seen, not after the whole queue: a clear then drops
 * only the ink before it, and an acceptance ends the signature there. The
 * caller's fd may block, hence the zero-timeout poll.
 */
static int cap_control_pending(struct capture *c, struct retas_error *err)
{
	struct pollfd p = {.fd = c->control_fd, .events = POLLIN};

	if (c->control_fd < 0 || poll(&p, 1, 0) <= 0 || !p.revents)
		return 0;
	return cap_control(c, err);
}

/* A complete report, then any command the report's progress call caused. */
static int cap_report_frame(struct capture *c, const struct input_event *ev,
			    struct retas_error *err)
{
	int r = cap_frame(c, ev);

	if (r < 0)
		return r;
	return cap_control_pending(c, err);
}

/* Reads everything the kernel has queued. */
static int cap_read(struct capture *c, struct retas_error *err)
{
	struct input_event ev;
	int r;

	for (;;) {
		r = libevdev_next_event(c->evdev, LIBEVDEV_READ_FLAG_NORMAL, &ev);
		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return cap_read_error(c, r, err);
		if (r == LIBEVDEV_READ_STATUS_SYNC) {
			/* ev is the SYN_DROPPED: the kernel lost events. The
			 * partial frame before it never reached a SYN_REPORT, so
			 * nothing was sampled from it; now libevdev hands out the
			 * device's current state as a frame of its own, until
			 * -EAGAIN. */
			c->resync_pending = true;
			for (;;) {
				r = libevdev_next_event(c->evdev, LIBEVDEV_READ_FLAG_SYNC, &ev);
				if (r == -EAGAIN)
					break;
				if (r < 0)
					return cap_read_error(c, r, err);
				if (ev.type == EV_SYN && ev.code == SYN_REPORT) {
					r = cap_report_frame(c, &ev, err);
					if (r < 0 || c->accepted)
						return r;
				}
			}
			continue;
		}
		if (ev.type == EV_SYN && ev.code == SYN_REPORT) {
			r = cap_report_frame(c, &ev, err);
			if (r < 0 || c->accepted)
				return r;
		}
	}
}

static int cap_loop(struct capture *c, struct retas_error *err)
{
	int r;

	/* A pen already on the surface starts its stroke at the next report. */
	for (;;) {
		struct pollfd pfd[2] = {
		    {.fd = c->fd, .events = POLLIN},
		    {.fd = c->control_fd, .events = POLLIN},
		};
		int64_t now = cap_now(c), until = c->params->deadline_ms;
		int timeout;

		if (c->accepted)
			return 0;
		if (c->idle_at && now >= c->idle_at)
			return 0;
		if (now >= c->params->deadline_ms)
			return retas_error_set(err, -ETIMEDOUT, "signature.timeout",
					       N_("No signature was completed in time. Please "
						  "sign again."));
		if (c->idle_at && c->idle_at < until)
			until = c->idle_at;
		timeout = until - now > 60000 ? 60000 : (int)(until - now);
		r = poll(pfd, c->control_fd >= 0 ? 2 : 1, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return retas_error_set(err, -errno, "signature.poll",
					       N_("Waiting for the signature pad failed: %s."),
					       strerror(errno));
		}
		/* evdev answers poll with POLLHUP|POLLERR once the device is
		 * unplugged; events still queued belong to a signature that
		 * cannot be completed, so they are not read. */
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			return cap_removed(c, err);
		if (pfd[0].revents & POLLIN) {
			r = cap_read(c, err);
			if (r < 0)
				return r;
		}
		if (c->control_fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			r = cap_control(c, err);
			if (r < 0)
				return r;
		}
	}
}

static bool same_device(const struct evdev_pad *pad, struct libevdev *evdev)
{
	const struct input_absinfo *ax = libevdev_get_abs_info(evdev, ABS_X);
	const struct input_absinfo *ay = libevdev_get_abs_info(evdev, ABS_Y);
	const char *name = libevdev_get_name(evdev);

	return ax && ay && libevdev_has_event_code(evdev, EV_KEY, BTN_TOUCH) &&
	       ax->minimum == pad->x_min && ay->minimum == pad->y_min &&
	       (int64_t)ax->maximum - ax->minimum == pad->x_extent &&
	       (int64_t)ay->maximum - ay->minimum == pad->y_extent &&
	       streq(name ? name : "", pad->name);
}

static int evdev_capture(struct sig_device *dev, const struct sig_capture_params *params,
			 struct sig_signature **out, struct retas_error *err)
{
	struct evdev_pad *pad = to_pad(dev);
	struct capture c = {
	    .pad = pad, .params = params, .fd = -1, .control_fd = params->control_fd};
	int r;

	c.sig = sig_signature_new(pad->x_upm, pad->y_upm, pad->x_extent, pad->y_extent,
				  pad->has_pressure ? pad->p_max : 0);
	if (!c.sig)
		return -ENOMEM;
	r = pad_open_fd(pad, &c.fd, &c.evdev, err);
	if (r < 0)
		goto out;
	if (!same_device(pad, c.evdev)) {
		/* replugged or replaced since the class opened it: the scale
		 * kept from then would be wrong */
		r = retas_error_set(err, -ENODEV, "signature.changed",
				    N_("The device at %s is not the signature pad opened "
				       "before. Open the pad again."),
				    pad->node);
		goto out;
	}
	r = libevdev_grab(c.evdev, LIBEVDEV_GRAB);
	if (r < 0) {
		if (r == -EBUSY)
			r = retas_error_set(err, -EBUSY, "signature.busy",
					    N_("The signature pad %s is in use by another "
					       "program."),
					    pad->node);
		else if (r == -ENODEV)
			r = cap_removed(&c, err);
		else
			r = retas_error_set(err, r, "signature.grab",
					    N_("Cannot take the signature pad %s for this "
					       "program: %s."),
					    pad->node, strerror(-r));
		goto out;
	}
	r = cap_loop(&c, err);
	/* A vanished device has released its grab with itself; the ioctl
	 * would only fail. */
	if (!c.gone)
		libevdev_grab(c.evdev, LIBEVDEV_UNGRAB);
	if (r < 0)
		goto out;
	*out = steal_ptr(c.sig);
out:
	libevdev_free(c.evdev);
	if (c.fd >= 0)
		close(c.fd);
	sig_signature_free(c.sig);
	return r;
}

const struct sig_ops sig_evdev_ops = {
    .name = "evdev",
    .open = evdev_open,
    .describe = evdev_describe,
    .capture = evdev_capture,
    .close = evdev_close,
};
