/*
 * The captures of an enrolment: CaptureFinger, MarkFingerException,
 * CapturePhoto, CaptureSignature, ConfirmSignature and ClearSignature.
 *
 * A capture blocks on its device for seconds, so it never runs on the
 * loop: a finger or a signature runs on a thread of its own, which hands
 * progress and its end to the loop as json objects through a pipe (a
 * pointer per write, atomic below PIPE_BUF); the photo runs on the camera
 * driver's worker, whose eventfd the loop watches, and its normalisation
 * on retasd's worker. Progress goes to the caller as varlink continued
 * replies when it asked for "more". One capture at a time per enrolment;
 * EnrollAbort cancels a running one (the fingerprint wait and the pad
 * watch both stop at once; a camera capture ends by its deadline).
 *
 * The captures stay in memory with the enrolment until EnrollCommit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "api.h"
#include "cam.h"
#include "retas-log.h"
#include "retas-time.h"
#include "retas-util.h"

#define FINGER_TIMEOUT_MS 30000
#define SIGNATURE_TIMEOUT_MS 120000
#define PHOTO_TIMEOUT_MS 30000

enum capture_kind {
	CAPTURE_FINGER,
	CAPTURE_SIGNATURE,
	CAPTURE_PHOTO,
};

struct rd_capture {
	struct rd_daemon *d;
	struct rd_enrolment *e;
	struct rd_call *call;
	enum capture_kind kind;
	int position;
	pthread_t thread;
	bool thread_started;
	int pipe[2];	  /* thread -> loop: json_object pointers, NULL at the end */
	int cancel_fd;	  /* eventfd: the loop asks the thread to stop */
	int control[2];	  /* signature: sig_command bytes to the pad's capture */
	sd_event_source *src;
	atomic_bool cancelled;

	/* Written by the thread before its final NULL. */
	int result;
	struct retas_error err;
	struct fp_capture_result fp;
	struct sig_signature *sig;
	unsigned last_strokes; /* what the last progress said, to send changes only */
	bool last_pen_down;
	int last_stage;
	unsigned last_attempt;
};

static const struct rd_param id_params[] = {
    {"id", RD_PARAM_STRING, .max_len = 36},
    {NULL},
};

static const struct rd_param finger_params[] = {
    {"id", RD_PARAM_STRING, .max_len = 36},
    {"position", RD_PARAM_INT},
    {NULL},
};

static const struct rd_param exception_params[] = {
    {"id", RD_PARAM_STRING, .max_len = 36},
    {"position", RD_PARAM_INT},
    {"reason", RD_PARAM_STRING, .max_len = 16},
    {"confirmed", RD_PARAM_BOOL},
    {NULL},
};

static const char *const exception_reasons[] = {"missing", "bandaged", "scarred", "unreadable"};

static const char *str_param(struct rd_call *call, const char *name)
{
	json_object *v = json_object_object_get(call->params, name);

	return v ? json_object_get_string(v) : "";
}

/* The enrolment the call names, or NULL after refusing the call. */
static struct rd_enrolment *enrolment_for(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	const char *id = str_param(call, "id");

	if (!d->enrol || !streq(d->enrol->id, id)) {
		rd_api_refuse(call, NULL, "enroll.unknown", RD_ARGS("id", id));
		return NULL;
	}
	if (d->enrol->capture || d->enrol->committing) {
		rd_api_refuse(call, NULL, "enroll.capturing", RD_NO_ARGS);
		return NULL;
	}
	return d->enrol;
}

/* The position when it is one of the letter's jari, else 0 after refusing. */
static int position_for(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	int pos = json_object_get_int(json_object_object_get(call->params, "position"));
	char buf[16];

	for (size_t i = 0; i < d->st->n_jari; i++)
		if (d->st->jari[i] == pos)
			return pos;
	snprintf(buf, sizeof(buf), "%d", pos);
	rd_api_refuse(call, NULL, "enroll.finger", RD_ARGS("position", buf));
	return 0;
}

static void post(struct rd_capture *c, json_object *msg)
{
	ssize_t n;

	do
		n = write(c->pipe[1], &msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(msg))
		json_object_put(msg);
}

static json_object *progress_msg(const char *stage)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "stage", json_object_new_string(stage));
	return o;
}

/* ---- the fingerprint thread ---------------------------------------------- */

static int64_t cap_now_ms(void *userdata)
{
	(void)userdata;
	return retas_time_mono_ms();
}

/* Sleeps until when_ms unless the loop cancels first. */
static int cap_sleep_until_ms(int64_t when_ms, void *userdata)
{
	struct rd_capture *c = userdata;

	for (;;) {
		int64_t left = when_ms - retas_time_mono_ms();
		struct pollfd p = {.fd = c->cancel_fd, .events = POLLIN};
		int r;

		if (atomic_load(&c->cancelled))
			return -ECANCELED;
		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
		if (r > 0)
			return -ECANCELED;
	}
}

static int finger_progress(const struct fp_progress *p, void *userdata)
{
	struct rd_capture *c = userdata;
	static const char *const stages[] = {"wait_lift", "place_finger", "finger_on", "reading",
					     "captured"};
	json_object *o;

	if (atomic_load(&c->cancelled))
		return -ECANCELED;
	/* Image transfer reports every unit; the officer needs its start only. */
	if (p->stage == FP_STAGE_READING && p->done > 0)
		return 0;
	/* Polling reports every level; the stage change is what matters. */
	if ((p->stage == FP_STAGE_WAIT_FINGER || p->stage == FP_STAGE_WAIT_LIFT) &&
	    c->last_stage == (int)p->stage + 1 && c->last_attempt == p->attempt)
		return 0;
	c->last_stage = (int)p->stage + 1;
	c->last_attempt = p->attempt;
	o = progress_msg(stages[p->stage]);
	json_object_object_add(o, "level", json_object_new_int((int)p->level));
	json_object_object_add(o, "attempt", json_object_new_int((int)p->attempt));
	post(c, o);
	return 0;
}

static void *finger_thread(void *arg)
{
	struct rd_capture *c = arg;
	struct rd_daemon *d = c->d;
	struct fp_clock clock = {cap_now_ms, cap_sleep_until_ms, c};
	struct fp_open_options opts = {.clock = &clock};
	struct fp_capture_request req = {
	    .deadline_ms = retas_time_mono_ms() + d->config->fingerprint_timeout_s * 1000,
	    .quality_threshold = (unsigned)d->config->fingerprint_quality,
	    .retries = (unsigned)d->config->fingerprint_retries,
	    .progress = finger_progress,
	    .userdata = c,
	};
	int r = 0;

	if (!d->fp_ctx)
		r = fp_context_new(&d->fp_ctx, &c->err);
	if (r == 0 && !d->fp_dev)
		r = fp_device_open(d->fp_ctx, &opts, &d->fp_dev, &c->err);
	if (r == 0) {
		/* The device keeps the clock it was opened with; point it at
		 * this capture's cancellation. */
		d->fp_dev->clock = clock;
		r = fp_capture_finger(d->fp_dev, &req, &c->fp, &c->err);
		d->fp_dev->clock.userdata = NULL;
		d->fp_dev->clock.sleep_until_ms = fp_clock_monotonic.sleep_until_ms;
		if (r < 0 && r != -ECANCELED && r != -ETIMEDOUT) {
			/* A reader that failed is reopened for the next finger. */
			fp_device_close(d->fp_dev);
			d->fp_dev = NULL;
		}
	}
	c->result = r;
	post(c, NULL);
	return NULL;
}

/* ---- the signature thread ------------------------------------------------ */

static void sig_progress(void *userdata, const struct sig_progress *p)
{
	struct rd_capture *c = userdata;
	json_object *o;

	if (p->strokes == c->last_strokes && p->pen_down == c->last_pen_down && !p->cleared)
		return;
	c->last_strokes = p->strokes;
	c->last_pen_down = p->pen_down;
	o = progress_msg(p->cleared ? "cleared" : p->pen_down ? "pen_down" : "pen_up");
	json_object_object_add(o, "points", json_object_new_int((int)p->points));
	json_object_object_add(o, "strokes", json_object_new_int((int)p->strokes));
	post(c, o);
}

static void *signature_thread(void *arg)
{
	struct rd_capture *c = arg;
	struct rd_daemon *d = c->d;
	struct sig_config cfg;
	struct sig_device *dev = NULL;
	struct sig_capture_params params = {
	    .deadline_ms = retas_time_mono_ms() + SIGNATURE_TIMEOUT_MS,
	    .control_fd = c->control[0],
	    .progress = sig_progress,
	    .userdata = c,
	};
	int r;

	sig_config_defaults(&cfg);
	if (d->config->signature_device && d->config->signature_device[0])
		cfg.device_node = d->config->signature_device;
	r = sig_device_open(NULL, &cfg, &dev, &c->err);
	if (r == 0) {
		post(c, progress_msg("sign_now"));
		r = sig_device_capture(dev, &params, &c->sig, &c->err);
		sig_device_close(dev);
	}
	c->result = r;
	post(c, NULL);
	return NULL;
}

/* ---- the loop's side ----------------------------------------------------- */

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void capture_free(struct rd_capture *c)
{
	if (!c)
		return;
	sd_event_source_disable_unref(c->src);
	close_fd(c->pipe[0]);
	close_fd(c->pipe[1]);
	close_fd(c->cancel_fd);
	close_fd(c->control[0]);
	close_fd(c->control[1]);
	fp_capture_result_clear(&c->fp);
	sig_signature_free(c->sig);
	free(c);
}

static json_object *error_args(const struct retas_error *err, int r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(err->reason[0] ? err->reason
										 : strerror(-r)));
	return o;
}

static void finish_finger(struct rd_capture *c)
{
	struct rd_finger *f = &c->e->fingers[c->position];
	struct rd_daemon *d = c->d;
	json_object *p;

	if (c->result < 0) {
		const char *msg = c->err.message[0] ? c->err.message : strerror(-c->result);

		rd_api_refuse(c->call, error_args(&c->err, c->result),
			      c->result == -ECANCELED ? "enroll.cancelled" : "capture.finger",
			      RD_ARGS("detail", msg));
		return;
	}
	fp_image_free(f->image);
	f->image = steal_ptr(c->fp.image);
	f->state = RD_FINGER_CAPTURED;
	f->quality = c->fp.quality;
	f->attempts = c->fp.attempts;
	f->below_threshold = (c->fp.flags & FP_CAPTURE_BELOW_THRESHOLD) ||
			     c->fp.quality < (unsigned)d->config->fingerprint_quality;
	f->reason[0] = '\0';
	f->captured_at_ms = rd_daemon_now(d);
	if (d->fp_dev)
		fp_device_describe(d->fp_dev, &c->e->reader);
	p = json_object_new_object();
	json_object_object_add(p, "position", json_object_new_int(c->position));
	json_object_object_add(p, "name", json_object_new_string(rd_finger_name(c->position)));
	json_object_object_add(p, "quality", json_object_new_int((int)f->quality));
	json_object_object_add(p, "threshold",
			       json_object_new_int((int)d->config->fingerprint_quality));
	json_object_object_add(p, "attempts", json_object_new_int((int)f->attempts));
	json_object_object_add(p, "accepted", json_object_new_boolean(!f->below_threshold));
	rd_call_reply(c->call, p);
}

static void finish_signature(struct rd_capture *c)
{
	json_object *p;

	if (c->result < 0) {
		const char *msg = c->err.message[0] ? c->err.message : strerror(-c->result);

		rd_api_refuse(c->call, error_args(&c->err, c->result),
			      c->result == -ECANCELED ? "enroll.cancelled" : "capture.signature",
			      RD_ARGS("detail", msg));
		return;
	}
	sig_signature_free(c->e->signature);
	c->e->signature = steal_ptr(c->sig);
	c->e->signature_takes++;
	p = json_object_new_object();
	json_object_object_add(p, "points", json_object_new_int((int)c->e->signature->n_points));
	json_object_object_add(p, "strokes",
			       json_object_new_int((int)sig_signature_strokes(c->e->signature)));
	json_object_object_add(p, "ink_mm",
			       json_object_new_double(sig_signature_ink_mm(c->e->signature)));
	rd_call_reply(c->call, p);
}

static int on_capture_pipe(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct rd_capture *c = userdata;
	json_object *msg;
	ssize_t n;

	(void)s;
	(void)revents;
	for (;;) {
		n = read(fd, &msg, sizeof(msg));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(msg))
			return 0; /* drained (EAGAIN) */
		if (msg) {
			rd_call_notify(c->call, msg);
			continue;
		}
		pthread_join(c->thread, NULL);
		c->thread_started = false;
		c->e->capture = NULL;
		if (c->kind == CAPTURE_FINGER)
			finish_finger(c);
		else
			finish_signature(c);
		capture_free(c);
		return 0;
	}
}

void rd_capture_cancel(struct rd_enrolment *e)
{
	struct rd_capture *c = e ? e->capture : NULL;
	uint64_t one = 1;

	if (!c)
		return;
	atomic_store(&c->cancelled, true);
	if (c->kind == CAPTURE_PHOTO) {
		/* The camera worker ends the capture by its deadline; the
		 * result is dropped when it arrives (d->photo_call is gone). */
		c->d->photo_capture = NULL;
		rd_api_refuse(c->call, NULL, "enroll.cancelled", RD_ARGS("detail", "abandoned"));
		e->capture = NULL;
		capture_free(c);
		return;
	}
	(void)!write(c->cancel_fd, &one, sizeof(one));
	if (c->control[1] >= 0)
		(void)!write(c->control[1], "q", 1);
	if (c->thread_started)
		pthread_join(c->thread, NULL);
	/* Whatever the thread posted is dropped with the pipe. */
	for (json_object *msg; read(c->pipe[0], &msg, sizeof(msg)) == sizeof(msg);)
		json_object_put(msg);
	e->capture = NULL;
	rd_api_refuse(c->call, NULL, "enroll.cancelled", RD_ARGS("detail", "abandoned"));
	capture_free(c);
}

static int capture_start(struct rd_call *call, struct rd_enrolment *e, enum capture_kind kind,
			 int position)
{
	struct rd_daemon *d = rd_call_daemon(call);
	struct rd_capture *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->d = d;
	c->e = e;
	c->kind = kind;
	c->position = position;
	c->pipe[0] = c->pipe[1] = c->cancel_fd = c->control[0] = c->control[1] = -1;
	if (pipe2(c->pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    (c->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
	    (kind == CAPTURE_SIGNATURE && pipe2(c->control, O_CLOEXEC) < 0)) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(d->event, &c->src, c->pipe[0], EPOLLIN, on_capture_pipe, c);
	if (r < 0)
		goto fail;
	r = -pthread_create(&c->thread, NULL,
			    kind == CAPTURE_FINGER ? finger_thread : signature_thread, c);
	if (r < 0)
		goto fail;
	c->thread_started = true;
	c->call = call;
	e->capture = c;
	return RD_CALL_PENDING;
fail:
	capture_free(c);
	return r;
}

static int capture_finger(struct rd_call *call)
{
	struct rd_enrolment *e = enrolment_for(call);
	int pos;

	if (!e)
		return 0;
	pos = position_for(call);
	if (!pos)
		return 0;
	return capture_start(call, e, CAPTURE_FINGER, pos);
}

static int mark_exception(struct rd_call *call)
{
	struct rd_enrolment *e = enrolment_for(call);
	const char *reason = str_param(call, "reason");
	bool confirmed = json_object_get_boolean(json_object_object_get(call->params, "confirmed"));
	struct rd_finger *f;
	json_object *p;
	bool known = false;
	int pos;

	if (!e)
		return 0;
	pos = position_for(call);
	if (!pos)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(exception_reasons); i++)
		known = known || streq(reason, exception_reasons[i]);
	if (!known)
		return rd_api_refuse(call, NULL, "enroll.exception-reason", RD_ARGS("reason", reason));
	if (!confirmed)
		return rd_api_refuse(call, NULL, "enroll.exception-unconfirmed",
				     RD_ARGS("finger", rd_finger_name(pos)));
	f = &e->fingers[pos];
	fp_image_free(f->image);
	memset(f, 0, sizeof(*f));
	f->state = RD_FINGER_EXCEPTION;
	snprintf(f->reason, sizeof(f->reason), "%s", reason);
	p = json_object_new_object();
	json_object_object_add(p, "position", json_object_new_int(pos));
	json_object_object_add(p, "name", json_object_new_string(rd_finger_name(pos)));
	json_object_object_add(p, "reason", json_object_new_string(reason));
	return rd_call_reply(call, p);
}

static int capture_signature(struct rd_call *call)
{
	struct rd_enrolment *e = enrolment_for(call);

	return e ? capture_start(call, e, CAPTURE_SIGNATURE, 0) : 0;
}

/* Writes a command to the running signature capture; 0 when there is none. */
static int signature_command(struct rd_call *call, char cmd)
{
	struct rd_daemon *d = rd_call_daemon(call);
	const char *id = str_param(call, "id");
	struct rd_capture *c;

	if (!d->enrol || !streq(d->enrol->id, id))
		return rd_api_refuse(call, NULL, "enroll.unknown", RD_ARGS("id", id));
	c = d->enrol->capture;
	if (c && c->kind == CAPTURE_SIGNATURE) {
		(void)!write(c->control[1], &cmd, 1);
		return rd_call_reply(call, NULL);
	}
	if (cmd == SIG_CMD_CLEAR) {
		sig_signature_free(d->enrol->signature);
		d->enrol->signature = NULL;
		return rd_call_reply(call, NULL);
	}
	return rd_api_refuse(call, NULL, "enroll.no-signature", RD_NO_ARGS);
}

static int confirm_signature(struct rd_call *call)
{
	return signature_command(call, SIG_CMD_ACCEPT);
}

static int clear_signature(struct rd_call *call)
{
	return signature_command(call, SIG_CMD_CLEAR);
}

/* ---- the photo: the camera driver's worker, then normalisation ----------- */

struct photo_job {
	struct rd_daemon *d;
	struct rd_capture *c; /* NULL once the enrolment let go of it */
	struct cam_shot shot;
	struct cam_photo photo;
	struct retas_error err;
};

static int photo_work(void *arg)
{
	struct photo_job *j = arg;
	struct cam_photo_opts o;

	cam_photo_opts_default(&o);
	return cam_photo_normalise(j->shot.jpeg, j->shot.size, &o, &j->photo, &j->err);
}

static void photo_done(int result, void *arg)
{
	struct photo_job *j = arg;
	struct rd_daemon *d = j->d;
	struct rd_capture *c = d->photo_capture;
	struct rd_enrolment *e = c ? c->e : NULL;
	json_object *p, *hints;
	char text[160];

	if (!c) {
		/* abandoned meanwhile */
	} else if (result < 0) {
		d->photo_capture = NULL;
		e->capture = NULL;
		rd_api_refuse(c->call, error_args(&j->err, result), "capture.photo",
			      RD_ARGS("detail", j->err.message[0] ? j->err.message
								 : strerror(-result)));
		capture_free(c);
	} else {
		d->photo_capture = NULL;
		e->capture = NULL;
		cam_photo_clear(&e->photo);
		e->photo = j->photo;
		memset(&j->photo, 0, sizeof(j->photo));
		e->photo_takes++;
		p = json_object_new_object();
		json_object_object_add(p, "width", json_object_new_int(e->photo.width));
		json_object_object_add(p, "height", json_object_new_int(e->photo.height));
		json_object_object_add(p, "quality", json_object_new_int(e->photo.quality_score));
		json_object_object_add(p, "take", json_object_new_int((int)e->photo_takes));
		hints = json_object_new_array();
		for (size_t i = 0; i < e->photo.n_hints; i++) {
			json_object *h = json_object_new_object();

			cam_hint_describe(&e->photo.hints[i], text, sizeof(text));
			json_object_object_add(h, "id", json_object_new_string(e->photo.hints[i].id));
			json_object_object_add(h, "value",
					       json_object_new_double(e->photo.hints[i].value));
			json_object_object_add(
			    h, "threshold", json_object_new_double(e->photo.hints[i].threshold));
			json_object_object_add(h, "text", json_object_new_string(text));
			json_object_array_add(hints, h);
		}
		json_object_object_add(p, "hints", hints);
		rd_call_reply(c->call, p);
		capture_free(c);
	}
	cam_shot_clear(&j->shot);
	cam_photo_clear(&j->photo);
	free(j);
}

static int on_camera(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct rd_daemon *d = userdata;
	struct rd_capture *c = d->photo_capture;
	enum cam_stage stage;
	struct cam_result res = {0};
	struct photo_job *j;
	int r;

	(void)s;
	(void)fd;
	(void)revents;
	r = cam_worker_poll(d->cam_worker, &stage, &res);
	if (c && r == 0) {
		rd_call_notify(c->call, progress_msg(cam_stage_name(stage)));
		return 0;
	}
	if (r != 1)
		return 0;
	if (!c) {
		cam_shot_clear(&res.shot);
		return 0;
	}
	if (res.code < 0) {
		d->photo_capture = NULL;
		c->e->capture = NULL;
		rd_api_refuse(c->call, error_args(&res.error, res.code), "capture.photo",
			      RD_ARGS("detail", res.error.message[0] ? res.error.message
								    : strerror(-res.code)));
		capture_free(c);
		return 0;
	}
	rd_call_notify(c->call, progress_msg("normalising"));
	j = calloc(1, sizeof(*j));
	if (!j) {
		cam_shot_clear(&res.shot);
		return 0;
	}
	j->d = d;
	j->shot = res.shot;
	if (rd_worker_submit(d->worker, photo_work, photo_done, j) < 0)
		photo_done(-EAGAIN, j);
	return 0;
}

static int capture_photo(struct rd_call *call)
{
	struct rd_daemon *d = rd_call_daemon(call);
	struct rd_enrolment *e = enrolment_for(call);
	struct retas_error err = {0};
	struct rd_capture *c;
	int r;

	if (!e)
		return 0;
	if (d->photo_capture)
		return rd_api_refuse(call, NULL, "enroll.capturing", RD_NO_ARGS);
	if (!d->cam) {
		struct cam_config cfg = {
		    .model = d->config->camera_model,
		    .port = d->config->camera_port,
		    .settings_dir = d->config->state_dir,
		};

		r = cam_open(&cam_gphoto2_ops, &cfg, &d->cam, &err);
		if (r < 0)
			return rd_api_refuse(call, NULL, "capture.photo",
					     RD_ARGS("detail", err.message));
		r = cam_worker_new(d->cam, &d->cam_worker);
		if (r == 0)
			r = sd_event_add_io(d->event, &d->cam_src, cam_worker_fd(d->cam_worker),
					    EPOLLIN, on_camera, d);
		if (r < 0)
			return r;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->d = d;
	c->e = e;
	c->kind = CAPTURE_PHOTO;
	c->pipe[0] = c->pipe[1] = c->cancel_fd = c->control[0] = c->control[1] = -1;
	r = cam_worker_start(d->cam_worker, retas_time_mono_ms() + PHOTO_TIMEOUT_MS);
	if (r < 0) {
		free(c);
		return rd_api_refuse(call, NULL, "enroll.capturing", RD_NO_ARGS);
	}
	c->call = call;
	e->capture = c;
	d->photo_capture = c;
	return RD_CALL_PENDING;
}

void rd_capture_free_devices(struct rd_daemon *d)
{
	d->cam_src = sd_event_source_disable_unref(d->cam_src);
	cam_worker_free(d->cam_worker);
	d->cam_worker = NULL;
	cam_close(d->cam);
	d->cam = NULL;
	fp_device_close(d->fp_dev);
	d->fp_dev = NULL;
	fp_context_free(d->fp_ctx);
	d->fp_ctx = NULL;
}

const struct rd_method rd_api_capture_finger = {
    .interface = RD_INTERFACE,
    .name = "CaptureFinger",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .params = finger_params,
    .handler = capture_finger,
};

const struct rd_method rd_api_mark_finger_exception = {
    .interface = RD_INTERFACE,
    .name = "MarkFingerException",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .params = exception_params,
    .handler = mark_exception,
};

const struct rd_method rd_api_capture_photo = {
    .interface = RD_INTERFACE,
    .name = "CapturePhoto",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .params = id_params,
    .handler = capture_photo,
};

const struct rd_method rd_api_capture_signature = {
    .interface = RD_INTERFACE,
    .name = "CaptureSignature",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .params = id_params,
    .handler = capture_signature,
};

const struct rd_method rd_api_confirm_signature = {
    .interface = RD_INTERFACE,
    .name = "ConfirmSignature",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .params = id_params,
    .handler = confirm_signature,
};

const struct rd_method rd_api_clear_signature = {
    .interface = RD_INTERFACE,
    .name = "ClearSignature",
    .flags = RD_METHOD_NEEDS_LOGIN,
    .params = id_params,
    .handler = clear_signature,
};
