/*
 * The NB-1010-U driver against emulated USB traffic: one scenario per run,
 * `test-nb1010 SCENARIO FIXTURE_DIR`. Started outside a testbed, the
 * program runs itself again under `umockdev-run -d nb1010.umockdev -p
 * SYSFS=SCENARIO.pcap`; inside, the real driver talks through the real
 * libusb to umockdev's replay of the model's capture (nb1010-model.c), and
 * the scenario asserts the exact outcome: image bytes, error and reason,
 * progress counts, timing bounds, and that closing leaves no descriptor of
 * the reader open (so nothing stays claimed).
 *
 * When umockdev-run is missing, or cannot start a program on this machine
 * (no LD_PRELOAD, no /sys), the test exits 77: skipped, never passed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fp.h"
#include "retas-time.h"

#define SYSFS_PATH "/sys/devices/pci0000:00/0000:00:14.0/usb3/3-2"
#define W 256
#define H 180
#define SKIP 77

static const char *fixtures;

/* ---- running under umockdev ---------------------------------------- */

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog);
		if (access(buf, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* umockdev works by LD_PRELOAD, which puts its library ahead of the
 * sanitizer runtime of an ASan build; tell ASan that is intended. */
static void asan_allow_preload(void)
{
	const char *old = getenv("ASAN_OPTIONS");
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s%sverify_asan_link_order=0", old ? old : "",
		 old && *old ? ":" : "");
	setenv("ASAN_OPTIONS", buf, 1);
}

static int run_in_testbed(char **argv)
{
	const char *scenario = argv[1];
	char dev[4096], pcap[4096], mark[] = "/tmp/retas-umockdev-XXXXXX";
	int fd, status;
	pid_t pid;

	if (!in_path("umockdev-run")) {
		fprintf(stderr, "SKIP: umockdev-run is not installed\n");
		return SKIP;
	}
	fd = mkstemp(mark);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	unlink(mark); /* the child creates it once it runs inside the testbed */
	setenv("RETAS_UMOCKDEV_MARK", mark, 1);
	asan_allow_preload();
	if (strcmp(scenario, "no-reader") == 0) {
		snprintf(dev, sizeof(dev), "%s/keyboard.umockdev", fixtures);
		pcap[0] = '\0';
	} else {
		snprintf(dev, sizeof(dev), "%s/nb1010.umockdev", fixtures);
		snprintf(pcap, sizeof(pcap), "%s=%s/%s.pcap", SYSFS_PATH, fixtures, scenario);
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		char *args[] = {"umockdev-run", "-d",	 dev,	  "-p",	   pcap,
				"--",		argv[0], argv[1], argv[2], NULL};

		if (!pcap[0]) {
			args[3] = "--";
			args[4] = argv[0];
			args[5] = argv[1];
			args[6] = argv[2];
			args[7] = NULL;
		}
		execvp(args[0], args);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("waitpid");
			return 1;
		}
	if (access(mark, F_OK) != 0) {
		fprintf(stderr, "SKIP: umockdev-run could not start the test here (status %d)\n",
			status);
		return SKIP;
	}
	unlink(mark);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "test killed by signal %d\n", WTERMSIG(status));
	return 1;
}

/* ---- helpers --------------------------------------------------------- */

static uint8_t *load_raw(const char *name)
{
	char path[4096];
	uint8_t *buf = malloc(W * H);
	FILE *f;

	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, W * H, f), W * H);
	fclose(f);
	return buf;
}

static void assert_image(const struct fp_image *img, const char *raw)
{
	uint8_t *want = load_raw(raw);

	assert_non_null(img);
	assert_int_equal(img->width, W);
	assert_int_equal(img->height, H);
	assert_memory_equal(img->pixels, want, W * H);
	free(want);
}

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

struct progress_log {
	unsigned stage[FP_STAGE_DONE + 1];
	unsigned levels[128];
	unsigned nlevels;
	unsigned last_done;
	unsigned attempt;
};

static int log_progress(const struct fp_progress *p, void *userdata)
{
	struct progress_log *log = userdata;

	log->stage[p->stage]++;
	if (p->stage == FP_STAGE_WAIT_FINGER || p->stage == FP_STAGE_WAIT_LIFT)
		if (log->nlevels < 128)
			log->levels[log->nlevels++] = p->level;
	if (p->stage == FP_STAGE_READING) {
		assert_int_equal(p->total, 90);
		assert_int_equal(p->done, log->last_done + 1);
		log->last_done = p->done;
	}
	log->attempt = p->attempt;
	return 0;
}

struct bed {
	struct fp_context *ctx;
	struct fp_device *dev;
	unsigned fds_before_open;
};

static void bed_open(struct bed *b, unsigned transfer_timeout_ms)
{
	struct fp_open_options opts = {.transfer_timeout_ms = transfer_timeout_ms};
	struct retas_error err = {0};

	if (!b->ctx)
		assert_int_equal(fp_context_new(&b->ctx, &err), 0);
	b->fds_before_open = count_fds();
	assert_int_equal(fp_device_open(b->ctx, &opts, &b->dev, &err), 0);
}

/* Closes the reader and checks its descriptor is gone with it: the kernel
 * releases a claimed interface when the last descriptor closes. */
static void bed_close_device(struct bed *b)
{
	fp_device_close(b->dev);
	b->dev = NULL;
	assert_int_equal(count_fds(), b->fds_before_open);
}

static void bed_free(struct bed *b)
{
	if (b->dev)
		bed_close_device(b);
	fp_context_free(b->ctx);
}

static int capture(struct bed *b, int64_t timeout_ms, struct progress_log *log,
		   struct fp_capture_result *res, struct retas_error *err)
{
	struct fp_capture_request req = {
	    .deadline_ms = retas_time_mono_ms() + timeout_ms,
	    .quality_threshold = 40,
	    .progress = log_progress,
	    .userdata = log,
	};

	memset(log, 0, sizeof(*log));
	retas_error_clear(err);
	return fp_capture_finger(b->dev, &req, res, err);
}

/* Captures and expects success with the model's image raw. */
static void capture_ok(struct bed *b, const char *raw, struct progress_log *log)
{
	struct fp_capture_result res = {0};
	struct retas_error err = {0};

	assert_int_equal(capture(b, 10000, log, &res, &err), 0);
	assert_image(res.image, raw);
	assert_int_equal(res.attempts, 1);
	assert_true(res.quality >= 40);
	assert_int_equal(log->stage[FP_STAGE_FINGER_ON], 1);
	assert_int_equal(log->stage[FP_STAGE_READING], 90);
	assert_int_equal(log->stage[FP_STAGE_DONE], 1);
	assert_int_equal(log->attempt, 1);
	fp_capture_result_clear(&res);
}

/* ---- scenarios ------------------------------------------------------- */

static void nb1010_capture_happy(void **state)
{
	struct fp_open_options wrong = {.bus = 3, .address = 8};
	struct progress_log log;
	struct fp_description d;
	struct retas_error err = {0};
	struct fp_reader *readers = NULL;
	struct fp_device *dev = NULL;
	struct bed b = {0};
	size_t n = 0;

	assert_int_equal(fp_context_new(&b.ctx, &err), 0);
	assert_int_equal(fp_enumerate(b.ctx, &readers, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(readers[0].driver->name, "nb1010");
	assert_int_equal(readers[0].bus, 3);
	assert_int_equal(readers[0].address, 7);
	assert_string_equal(readers[0].serial, "NB1010-SYNTH-0042");
	free(readers);

	assert_int_equal(fp_device_open(b.ctx, &wrong, &dev, &err), -ENOENT);
	assert_string_equal(err.reason, "fp.no_reader");
	assert_null(dev);

	bed_open(&b, 0);
	fp_device_describe(b.dev, &d);
	assert_string_equal(d.driver, "nb1010");
	assert_string_equal(d.model, "NEXT Biometrics NB-1010-U");
	assert_string_equal(d.serial, "NB1010-SYNTH-0042");
	assert_int_equal(d.vendor_id, 0x298d);
	assert_int_equal(d.product_id, 0x1010);
	assert_int_equal(d.bus, 3);
	assert_int_equal(d.address, 7);
	assert_int_equal(d.width, 256);
	assert_int_equal(d.height, 180);
	assert_int_equal(d.ppi, 0);
	assert_non_null(d.ppi_source);
	assert_int_equal(d.iso_technology, 15);

	capture_ok(&b, "finger-a.raw", &log);
	assert_int_equal(log.stage[FP_STAGE_WAIT_FINGER], 1);
	assert_int_equal(log.stage[FP_STAGE_WAIT_LIFT], 0);
	assert_int_equal(log.levels[0], 0xc0);
	bed_free(&b);
}

static void nb1010_capture_absent_then_present(void **state)
{
	static const unsigned want[] = {0x10, 0x10, 0x10, 0x10, 0x10, 0xc0};
	struct progress_log log;
	struct bed b = {0};
	int64_t t0;

	bed_open(&b, 0);
	t0 = retas_time_mono_ms();
	capture_ok(&b, "finger-a.raw", &log);
	/* Six polls on a 50 ms schedule: at least five intervals. */
	assert_true(retas_time_mono_ms() - t0 >= 250);
	assert_int_equal(log.stage[FP_STAGE_WAIT_FINGER], 6);
	assert_int_equal(log.nlevels, 6);
	assert_memory_equal(log.levels, want, sizeof(want));
	bed_free(&b);
}

static void nb1010_capture_held_waits_for_lift(void **state)
{
	static const unsigned want[] = {0xc0, 0xc0, 0xc0, 0xc0, 0x08, 0x10, 0x10, 0xc0};
	struct progress_log log;
	struct bed b = {0};
	int64_t t0;

	bed_open(&b, 0);
	capture_ok(&b, "finger-a.raw", &log);
	t0 = retas_time_mono_ms();
	/* The same press is still down: the second capture must not take it. */
	capture_ok(&b, "finger-b.raw", &log);
	assert_true(retas_time_mono_ms() - t0 >= 300);
	assert_int_equal(log.stage[FP_STAGE_WAIT_LIFT], 5);
	assert_int_equal(log.stage[FP_STAGE_WAIT_FINGER], 3);
	assert_int_equal(log.nlevels, 8);
	assert_memory_equal(log.levels, want, sizeof(want));
	bed_free(&b);
}

static void nb1010_capture_timeout_never_present(void **state)
{
	struct fp_capture_result res = {0};
	struct retas_error err = {0};
	struct progress_log log;
	struct bed b = {0};
	unsigned first;
	int64_t t0, took;

	bed_open(&b, 0);
	t0 = retas_time_mono_ms();
	assert_int_equal(capture(&b, 1000, &log, &res, &err), -ETIMEDOUT);
	took = retas_time_mono_ms() - t0;
	assert_string_equal(err.reason, "fp.finger_timeout");
	assert_null(res.image);
	/* Gives up at the last poll that fits the deadline, not long after. */
	assert_true(took >= 950);
	assert_true(took <= 1600);
	first = log.stage[FP_STAGE_WAIT_FINGER];
	assert_true(first >= 1 && first <= 21);
	assert_int_equal(log.stage[FP_STAGE_FINGER_ON], 0);
	bed_close_device(&b);

	/* Reopened, the reader works: the remaining absent polls, then the
	 * finger: 41 polls in all across both captures, or 40 reported when
	 * the deadline cut one poll between its command and its reply. */
	bed_open(&b, 0);
	capture_ok(&b, "finger-a.raw", &log);
	assert_in_range(first + log.stage[FP_STAGE_WAIT_FINGER], 40, 41);
	bed_free(&b);
}

static void nb1010_capture_stall_recovered(void **state)
{
	struct fp_capture_result res = {0};
	struct retas_error err = {0};
	struct progress_log log;
	struct bed b = {0};

	bed_open(&b, 0);
	assert_int_equal(capture(&b, 10000, &log, &res, &err), 0);
	assert_image(res.image, "finger-a.raw");
	assert_int_equal(res.flags & FP_CAPTURE_STALL_RECOVERED, FP_CAPTURE_STALL_RECOVERED);
	fp_capture_result_clear(&res);
	bed_free(&b);
}

/* A capture that fails with errno/reason, then a capture on the same open
 * reader that works (it first sees the finger lifted). */
static void fails_then_recovers(unsigned transfer_timeout_ms, int want_errno, const char *reason,
				const char *message_part, unsigned packets_read)
{
	struct fp_capture_result res = {0};
	struct retas_error err = {0};
	struct progress_log log;
	struct bed b = {0};

	bed_open(&b, transfer_timeout_ms);
	assert_int_equal(capture(&b, 10000, &log, &res, &err), want_errno);
	assert_string_equal(err.reason, reason);
	if (message_part && !strstr(err.message, message_part))
		fail_msg("message '%s' lacks '%s'", err.message, message_part);
	assert_null(res.image);
	assert_int_equal(log.stage[FP_STAGE_READING], packets_read);
	assert_int_equal(log.stage[FP_STAGE_DONE], 0);

	capture_ok(&b, "finger-a.raw", &log);
	assert_int_equal(log.stage[FP_STAGE_WAIT_LIFT], 1);
	assert_int_equal(log.stage[FP_STAGE_WAIT_FINGER], 1);
	bed_free(&b);
}

static void nb1010_capture_stall_twice(void **state)
{
	fails_then_recovers(0, -EPIPE, "fp.stall", NULL, 0);
}

static void nb1010_capture_short_packet(void **state)
{
	fails_then_recovers(0, -EPROTO, "fp.packet.short", "41", 40);
}

static void nb1010_capture_wrong_magic(void **state)
{
	fails_then_recovers(0, -EPROTO, "fp.packet.magic", "0x81", 0);
}

static void nb1010_capture_wrong_row(void **state)
{
	fails_then_recovers(0, -EPROTO, "fp.packet.row", "37", 17);
}

static void nb1010_capture_wrong_length(void **state)
{
	fails_then_recovers(0, -EPROTO, "fp.packet.length", "544", 60);
}

static void nb1010_capture_silent_mid_image(void **state)
{
	struct fp_capture_result res = {0};
	struct retas_error err = {0};
	struct progress_log log;
	struct bed b = {0};
	int64_t t0, took;

	bed_open(&b, 500);
	t0 = retas_time_mono_ms();
	assert_int_equal(capture(&b, 10000, &log, &res, &err), -EIO);
	took = retas_time_mono_ms() - t0;
	assert_string_equal(err.reason, "fp.no_answer");
	assert_non_null(strstr(err.message, "46"));
	assert_int_equal(log.stage[FP_STAGE_READING], 45);
	/* One transfer timeout, not the capture's 10 s deadline. */
	assert_true(took >= 500);
	assert_true(took <= 2500);

	capture_ok(&b, "finger-a.raw", &log);
	assert_int_equal(log.stage[FP_STAGE_WAIT_LIFT], 1);
	bed_free(&b);
}

static void nb1010_capture_unplugged(void **state)
{
	struct fp_capture_result res = {0};
	struct retas_error err = {0};
	struct progress_log log;
	struct bed b = {0};

	bed_open(&b, 0);
	assert_int_equal(capture(&b, 10000, &log, &res, &err), -ENODEV);
	assert_string_equal(err.reason, "fp.unplugged");
	assert_int_equal(log.stage[FP_STAGE_READING], 10);
	assert_null(res.image);
	bed_free(&b);
}

static void nb1010_open_no_reader(void **state)
{
	struct drv_peripheral *list = NULL;
	struct fp_reader *readers = NULL;
	struct retas_error err = {0};
	struct fp_device *dev = NULL;
	struct fp_context *ctx = NULL;
	size_t n = 99;

	assert_int_equal(fp_context_new(&ctx, &err), 0);
	assert_int_equal(fp_enumerate(ctx, &readers, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(readers);
	assert_int_equal(fp_device_open(ctx, NULL, &dev, &err), -ENOENT);
	assert_string_equal(err.reason, "fp.no_reader");
	assert_null(dev);
	fp_context_free(ctx);
	n = 99;
	assert_int_equal(fp_list_peripherals(&list, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(list);
}

struct scenario {
	const char *name;
	CMUnitTestFunction fn;
};

static const struct scenario scenarios[] = {
    {"happy", nb1010_capture_happy},
    {"absent-then-present", nb1010_capture_absent_then_present},
    {"held-two-captures", nb1010_capture_held_waits_for_lift},
    {"never-present", nb1010_capture_timeout_never_present},
    {"stall-recovered", nb1010_capture_stall_recovered},
    {"stall-twice", nb1010_capture_stall_twice},
    {"short-packet", nb1010_capture_short_packet},
    {"wrong-magic", nb1010_capture_wrong_magic},
    {"wrong-row", nb1010_capture_wrong_row},
    {"wrong-length", nb1010_capture_wrong_length},
    {"silent-mid-image", nb1010_capture_silent_mid_image},
    {"unplugged", nb1010_capture_unplugged},
    {"no-reader", nb1010_open_no_reader},
};

int main(int argc, char **argv)
{
	const char *mark = getenv("RETAS_UMOCKDEV_MARK");

	if (argc != 3) {
		fprintf(stderr, "usage: %s SCENARIO FIXTURE_DIR\n", argv[0]);
		return 2;
	}
	fixtures = argv[2];
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		struct CMUnitTest test = {.name = scenarios[i].name, .test_func = scenarios[i].fn};

		if (strcmp(argv[1], scenarios[i].name) != 0)
			continue;
		if (!getenv("UMOCKDEV_DIR"))
			return run_in_testbed(argv);
		if (mark) {
			int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

			if (fd >= 0)
				close(fd);
		}
		return _cmocka_run_group_tests(scenarios[i].name, &test, 1, NULL, NULL);
	}
	fprintf(stderr, "unknown scenario '%s'\n", argv[1]);
	return 2;
}
