/*
 * The fingerprint class core without a device: the registry, the NULL-op
 * rule, libusb error mapping (a busy reader cannot be emulated: umockdev
 * grants every claim), the polling schedule on the caller's clock, the
 * capture sequence with its quality retries (through a test driver that
 * implements the ops, as any reader would), and NB-1010 packet checks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fp-driver.h"
#include "fp-nb1010.h"
#include "fp-quality.h"
#include "synth.h"

static void usb_errors_map_to_distinct_reasons(void **state)
{
	static const struct {
		int usb;
		int errnum;
		const char *reason;
	} map[] = {
	    {LIBUSB_ERROR_BUSY, -EBUSY, "fp.busy"},
	    {LIBUSB_ERROR_ACCESS, -EACCES, "fp.access"},
	    {LIBUSB_ERROR_NO_DEVICE, -ENODEV, "fp.unplugged"},
	    {LIBUSB_ERROR_PIPE, -EPIPE, "fp.stall"},
	    {LIBUSB_ERROR_TIMEOUT, -EIO, "fp.no_answer"},
	    {LIBUSB_ERROR_OVERFLOW, -EPROTO, "fp.overflow"},
	    {LIBUSB_ERROR_NO_MEM, -ENOMEM, "fp.nomem"},
	    {LIBUSB_ERROR_IO, -EIO, "fp.usb"},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		struct retas_error err = {0};

		assert_int_equal(fp_usb_error(map[i].usb, "claiming the reader", &err),
				 map[i].errnum);
		assert_int_equal(err.code, map[i].errnum);
		assert_string_equal(err.reason, map[i].reason);
		assert_non_null(strstr(err.message, "claiming the reader"));
	}
}

static void registry_matches_usb_ids(void **state)
{
	assert_ptr_equal(fp_driver_for_usb_id(0x298d, 0x1010), &fp_nb1010_ops);
	assert_null(fp_driver_for_usb_id(0x298d, 0x1011));
	assert_null(fp_driver_for_usb_id(0x046d, 0xc31c));
	for (size_t i = 0; fp_drivers[i]; i++) {
		const struct fp_driver_ops *d = fp_drivers[i];

		assert_non_null(d->name);
		assert_non_null(d->model);
		assert_non_null(d->ids);
		assert_true(d->ids[0].vendor != 0);
		assert_non_null(d->open);
		assert_non_null(d->close);
		assert_non_null(d->describe);
		assert_non_null(d->capture);
	}
}

/* ---- a virtual clock: time moves only when someone waits ---------------- */

struct vclock {
	int64_t now;
	unsigned sleeps;
	unsigned cancel_at; /* the sleep that fails with -ECANCELED, 0 never */
};

static int64_t v_now(void *userdata)
{
	return ((struct vclock *)userdata)->now;
}

static int v_sleep(int64_t when, void *userdata)
{
	struct vclock *c = userdata;

	if (++c->sleeps == c->cancel_at)
		return -ECANCELED;
	if (when > c->now)
		c->now = when;
	return 0;
}

/* ---- a test driver ---------------------------------------------------- */

struct testdev {
	struct fp_device base;
	struct vclock clock;
	const unsigned *levels; /* finger level per poll */
	unsigned nlevels;
	unsigned polls;
	int64_t poll_times[64];
	unsigned captures;
	uint32_t seeds[4]; /* 0: a blank frame */
	int capture_error;
};

static struct testdev *to_test(struct fp_device *dev)
{
	return fp_container_of(dev, struct testdev, base);
}

static int t_read_level(struct fp_device *dev, int64_t deadline, unsigned *level,
			struct retas_error *err)
{
	struct testdev *t = to_test(dev);

	if (t->polls < 64)
		t->poll_times[t->polls] = t->clock.now;
	*level = t->polls < t->nlevels ? t->levels[t->polls] : 0;
	t->polls++;
	t->clock.now += 3; /* a transfer takes a little time */
	return 0;
}

static int t_wait_finger(struct fp_device *dev, int64_t deadline, fp_progress_fn progress,
			 void *userdata, struct retas_error *err)
{
	return fp_poll_level(dev, true, 0x30, 50, deadline, t_read_level, progress, userdata, err);
}

static int t_wait_lift(struct fp_device *dev, int64_t deadline, fp_progress_fn progress,
		       void *userdata, struct retas_error *err)
{
	return fp_poll_level(dev, false, 0x30, 50, deadline, t_read_level, progress, userdata, err);
}

static int t_capture(struct fp_device *dev, int64_t deadline, fp_progress_fn progress,
		     void *userdata, struct fp_image **out, struct retas_error *err)
{
	struct testdev *t = to_test(dev);
	struct fp_image *img;
	uint32_t seed;

	if (t->capture_error)
		return retas_error_set(err, t->capture_error, "test.capture", "capture failed");
	img = fp_image_new(256, 180);
	assert_non_null(img);
	seed = t->seeds[t->captures++ % 4];
	if (seed)
		synth_finger(img->pixels, 256, 180, seed);
	else
		synth_blank(img->pixels, 256 * 180, 236);
	*out = img;
	return 0;
}

static const struct fp_driver_ops test_ops = {
    .name = "test",
    .model = "Test reader",
    .wait_finger = t_wait_finger,
    .capture = t_capture,
    .wait_lift = t_wait_lift,
};

static const struct fp_driver_ops bare_ops = {
    .name = "bare",
    .model = "Reader without finger detection",
    .capture = t_capture,
};

static void testdev_init(struct testdev *t, const struct fp_driver_ops *ops)
{
	memset(t, 0, sizeof(*t));
	t->base.ops = ops;
	t->base.clock = (struct fp_clock){v_now, v_sleep, &t->clock};
	t->clock.now = 1000000;
}

static void null_ops_are_unsupported(void **state)
{
	struct fp_capture_request req = {.deadline_ms = 1000000 + 5000, .quality_threshold = 40};
	struct fp_capture_result res = {0};
	struct retas_error err = {0};
	struct testdev t;

	testdev_init(&t, &bare_ops);
	t.seeds[0] = 3;
	assert_int_equal(fp_device_wait_finger(&t.base, 0, NULL, NULL, &err), -EOPNOTSUPP);
	assert_string_equal(err.reason, "fp.unsupported");
	assert_int_equal(fp_device_wait_lift(&t.base, 0, NULL, NULL, &err), -EOPNOTSUPP);
	/* The sequence skips what the reader cannot do and still captures. */
	assert_int_equal(fp_capture_finger(&t.base, &req, &res, &err), 0);
	assert_int_equal(res.attempts, 1);
	assert_true(res.quality >= 70);
	fp_capture_result_clear(&res);
}

static void poll_keeps_schedule_until_deadline(void **state)
{
	static const unsigned absent[1] = {0x10};
	struct retas_error err = {0};
	struct testdev t;

	testdev_init(&t, &test_ops);
	t.levels = absent;
	t.nlevels = 1;
	assert_int_equal(fp_device_wait_finger(&t.base, t.clock.now + 1000, NULL, NULL, &err),
			 -ETIMEDOUT);
	assert_string_equal(err.reason, "fp.finger_timeout");
	/* Polls at 0, 50, ... 950 ms; none at the deadline itself. */
	assert_int_equal(t.polls, 20);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(t.poll_times[i] - 1000000, i * 50);
	assert_false(t.base.finger_down);
}

static int cancel_on_third(const struct fp_progress *p, void *userdata)
{
	unsigned *n = userdata;

	return ++*n == 3 ? -ECANCELED : 0;
}

static void poll_cancelled_by_clock_or_progress(void **state)
{
	struct retas_error err = {0};
	struct testdev t;
	unsigned n = 0;

	testdev_init(&t, &test_ops);
	t.clock.cancel_at = 2;
	assert_int_equal(fp_device_wait_finger(&t.base, t.clock.now + 1000, NULL, NULL, &err),
			 -ECANCELED);
	assert_string_equal(err.reason, "fp.cancelled");
	assert_int_equal(t.polls, 2);

	testdev_init(&t, &test_ops);
	assert_int_equal(
	    fp_device_wait_finger(&t.base, t.clock.now + 1000, cancel_on_third, &n, &err),
	    -ECANCELED);
	assert_string_equal(err.reason, "fp.cancelled");
	assert_int_equal(t.polls, 3);
}

struct stages {
	unsigned lift, finger;
	unsigned attempts_seen;
};

static int count_stages(const struct fp_progress *p, void *userdata)
{
	struct stages *s = userdata;

	s->lift += p->stage == FP_STAGE_WAIT_LIFT;
	s->finger += p->stage == FP_STAGE_WAIT_FINGER;
	s->attempts_seen = p->attempt;
	return 0;
}

static void capture_retries_below_threshold(void **state)
{
	/* press, lift, press again */
	static const unsigned levels[] = {0xc0, 0x08, 0xc0};
	struct stages st = {0};
	struct fp_capture_request req = {
	    .quality_threshold = 60,
	    .retries = 2,
	    .progress = count_stages,
	    .userdata = &st,
	};
	struct fp_capture_result res = {0};
	struct retas_error err = {0};
	struct testdev t;

	testdev_init(&t, &test_ops);
	t.levels = levels;
	t.nlevels = 3;
	t.seeds[0] = 0; /* blank first: quality 0 */
	t.seeds[1] = 5;
	req.deadline_ms = t.clock.now + 5000;
	assert_int_equal(fp_capture_finger(&t.base, &req, &res, &err), 0);
	assert_int_equal(res.attempts, 2);
	assert_true(res.quality >= 60);
	assert_int_equal(res.flags, 0);
	assert_int_equal(st.lift, 1);
	assert_int_equal(st.finger, 2);
	assert_int_equal(st.attempts_seen, 2);
	assert_true(t.base.finger_down);
	fp_capture_result_clear(&res);
}

static void capture_keeps_best_when_officer_gives_up(void **state)
{
	/* one press, lifted, then no finger again */
	static const unsigned levels[] = {0xc0, 0x08};
	struct fp_capture_request req = {.quality_threshold = 99, .retries = 3};
	struct fp_capture_result res = {0};
	struct retas_error err = {0};
	struct testdev t;

	testdev_init(&t, &test_ops);
	t.levels = levels;
	t.nlevels = 2;
	t.seeds[0] = 4;
	req.deadline_ms = t.clock.now + 2000;
	assert_int_equal(fp_capture_finger(&t.base, &req, &res, &err), 0);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(res.flags, FP_CAPTURE_BELOW_THRESHOLD);
	assert_true(res.quality >= 70);
	assert_non_null(res.image);
	assert_int_equal(err.code, 0);
	fp_capture_result_clear(&res);
}

static void capture_error_writes_nothing(void **state)
{
	static const unsigned levels[] = {0xc0};
	struct fp_capture_request req = {.quality_threshold = 40};
	struct fp_capture_result res = {.attempts = 42};
	struct retas_error err = {0};
	struct testdev t;

	testdev_init(&t, &test_ops);
	t.levels = levels;
	t.nlevels = 1;
	t.capture_error = -EPROTO;
	req.deadline_ms = t.clock.now + 2000;
	assert_int_equal(fp_capture_finger(&t.base, &req, &res, &err), -EPROTO);
	assert_int_equal(res.attempts, 42);
	assert_null(res.image);
	/* the finger was seen: the next capture waits for it to lift */
	assert_true(t.base.finger_down);
}

/* ---- NB-1010 packets ---------------------------------------------------- */

static void packet_for(uint8_t pkt[540], unsigned i)
{
	memset(pkt, 0, 540);
	pkt[0] = 0x80;
	pkt[1] = 0x21;
	pkt[4] = 0x1c;
	pkt[5] = 0x02;
	pkt[12] = i < 89;
	pkt[16] = (uint8_t)(2 * i + 1);
	for (unsigned k = 0; k < 512; k++)
		pkt[25 + k] = (uint8_t)(i + k);
}

static void nb1010_packet_checks(void **state)
{
	static uint8_t frame[256 * 180];
	struct retas_error err = {0};
	uint8_t pkt[540];

	for (unsigned i = 0; i < 90; i++) {
		packet_for(pkt, i);
		assert_int_equal(fp_nb1010_parse_packet(pkt, 540, i, frame, &err), 0);
		assert_memory_equal(frame + i * 512, pkt + 25, 512);
	}
	packet_for(pkt, 3);
	assert_int_equal(fp_nb1010_parse_packet(pkt, 539, 3, frame, &err), -EPROTO);
	assert_string_equal(err.reason, "fp.packet.short");
	pkt[0] = 0x00;
	assert_int_equal(fp_nb1010_parse_packet(pkt, 540, 3, frame, &err), -EPROTO);
	assert_string_equal(err.reason, "fp.packet.magic");
	packet_for(pkt, 3);
	pkt[1] = 0x20;
	assert_int_equal(fp_nb1010_parse_packet(pkt, 540, 3, frame, &err), -EPROTO);
	assert_string_equal(err.reason, "fp.packet.code");
	packet_for(pkt, 3);
	pkt[6] = 1;
	assert_int_equal(fp_nb1010_parse_packet(pkt, 540, 3, frame, &err), -EPROTO);
	assert_string_equal(err.reason, "fp.packet.length");
	packet_for(pkt, 89);
	pkt[12] = 1;
	assert_int_equal(fp_nb1010_parse_packet(pkt, 540, 89, frame, &err), -EPROTO);
	assert_string_equal(err.reason, "fp.packet.last");
	packet_for(pkt, 3);
	assert_int_equal(fp_nb1010_parse_packet(pkt, 540, 4, frame, &err), -EPROTO);
	assert_string_equal(err.reason, "fp.packet.row");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(usb_errors_map_to_distinct_reasons),
	    cmocka_unit_test(registry_matches_usb_ids),
	    cmocka_unit_test(null_ops_are_unsupported),
	    cmocka_unit_test(poll_keeps_schedule_until_deadline),
	    cmocka_unit_test(poll_cancelled_by_clock_or_progress),
	    cmocka_unit_test(capture_retries_below_threshold),
	    cmocka_unit_test(capture_keeps_best_when_officer_gives_up),
	    cmocka_unit_test(capture_error_writes_nothing),
	    cmocka_unit_test(nb1010_packet_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
