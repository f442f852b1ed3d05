/*
 * The signature driver against an emulated Wacom One by Wacom S (CTL-472):
 * umockdev-run serves the pad's sysfs/udev description, its EVIOC* answers
 * and its pen events (fixtures from gen-fixtures.py, one set per scenario),
 * and the unchanged driver finds the pad through udev, grabs it and reads
 * it with libevdev. Each scenario's .expect file says what the driver must
 * report: the samples exactly, or the refusal with its reason.
 *
 *   test-sig-wacom FIXTURES SCENARIO      outer: runs itself (or, for the
 *                                         cli-* scenarios, retas) under
 *                                         umockdev-run; exit 77 when
 *                                         umockdev cannot run here
 *   test-sig-wacom --inner FIXTURES SCENARIO   inside the testbed
 *
 * "device gone" pulls the cable the only way umockdev allows: once the
 * inner process has read every frame of the half-finished stroke and the
 * driver asks the clock for its next wait, it says "ready" and the outer
 * process kills umockdev-run, so the emulated node hangs up (POLLHUP|POLLERR,
 * as evdev answers for an unplugged device). The inner process, orphaned,
 * is reaped here as child subreaper. From then on its preload library
 * aborts on any read or ioctl of the node (they pass through umockdev-run),
 * so the test also proves the driver touches a dead device no more.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <png.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "retas-json.h"
#include "retas-time.h"
#include "sig-png-check.h"
#include "sig.h"

#define NODE "/dev/input/event5"
#define OUTER_DEADLINE_MS 90000
#define CAPTURE_DEADLINE_MS 45000
#define IDLE_MS 300

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);   \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

struct expect {
	char open[32];	 /* ok, no_pad, no_resolution */
	char end[16];	 /* idle, accept, accept-now, gone */
	char result[48]; /* ok or the refusal's reason */
	unsigned frames;
	unsigned clear_at; /* 0: no clear */
	bool pressure_check;
	double p_lo_mm, p_hi_mm;
	struct sig_point *pts;
	size_t n_pts;
};

static char *path_of(const char *dir, const char *scenario, const char *suffix)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s%s", dir, scenario, suffix) < 0)
		abort();
	return p;
}

static int read_expect(const char *dir, const char *scenario, struct expect *e)
{
	_cleanup_(freep) char *path = path_of(dir, scenario, ".expect");
	char line[256];
	FILE *f = fopen(path, "re");

	memset(e, 0, sizeof(*e));
	if (!f) {
		fprintf(stderr, "cannot read %s: %m\n", path);
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned flags, t, p;
		int x, y;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "open %31s", e->open) == 1 ||
		    sscanf(line, "end %15s", e->end) == 1 ||
		    sscanf(line, "result %47s", e->result) == 1 ||
		    sscanf(line, "frames %u", &e->frames) == 1 ||
		    sscanf(line, "clear-at %u", &e->clear_at) == 1)
			continue;
		if (sscanf(line, "pressure-check %lf %lf", &e->p_lo_mm, &e->p_hi_mm) == 2) {
			e->pressure_check = true;
			continue;
		}
		if (sscanf(line, "point %u %u %d %d %u", &flags, &t, &x, &y, &p) == 5) {
			struct sig_point *n = reallocarray(e->pts, e->n_pts + 1, sizeof(*n));

			if (!n)
				abort();
			e->pts = n;
			e->pts[e->n_pts++] = (struct sig_point){.t_ms = t,
								.x = x,
								.y = y,
								.pressure = (uint16_t)p,
								.flags = (uint8_t)flags};
			continue;
		}
		fprintf(stderr, "%s: cannot parse: %s", path, line);
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	return 0;
}

/* ---- inside the testbed --------------------------------------------------- */

struct run {
	const struct expect *e;
	int control_w;
	bool sent_accept, sent_clear, said_ready, saw_cleared, saw_in_range;
	unsigned max_points, frames, points_cleared;
	unsigned last_points;
};

static void on_progress(void *userdata, const struct sig_progress *p)
{
	struct run *run = userdata;
	const struct expect *e = run->e;

	if (p->cleared) {
		run->saw_cleared = true;
		run->points_cleared = run->last_points;
	}
	run->last_points = p->points;
	run->frames = p->frames;
	run->saw_in_range |= p->in_range;
	if (p->points > run->max_points)
		run->max_points = p->points;
	if (e->clear_at && p->frames == e->clear_at && !run->sent_clear) {
		run->sent_clear = write(run->control_w, "c", 1) == 1;
		CHECK(run->sent_clear, "writing the clear command: %m");
	}
	if (streq(e->end, "accept") && p->frames >= e->frames && !run->sent_accept) {
		run->sent_accept = write(run->control_w, "a", 1) == 1;
		CHECK(run->sent_accept, "writing the accept command: %m");
	}
}

/* The driver reads its clock right before it waits in poll(), after it has
 * read all the device had: the moment the cable can come out without the
 * emulation aborting a read in flight. */
static int64_t test_clock(void *userdata)
{
	struct run *run = userdata;

	if (streq(run->e->end, "gone") && run->frames >= run->e->frames && !run->said_ready) {
		printf("ready\n");
		fflush(stdout);
		run->said_ready = true;
	}
	return retas_time_mono_ms();
}

static struct sig_signature *expected_signature(const struct expect *e)
{
	struct sig_signature *s = sig_signature_new(100000, 100000, 15200, 9500, 2047);

	if (!s)
		abort();
	for (size_t i = 0; i < e->n_pts; i++)
		if (sig_signature_append(s, &e->pts[i]) < 0)
			abort();
	return s;
}

static void check_points(const struct sig_signature *got, const struct expect *e)
{
	CHECK(got->x_units_per_m == 100000 && got->y_units_per_m == 100000, "scale %u/%u",
	      got->x_units_per_m, got->y_units_per_m);
	CHECK(got->x_extent == 15200 && got->y_extent == 9500, "extent %u x %u", got->x_extent,
	      got->y_extent);
	CHECK(got->pressure_max == 2047, "pressure_max %u", got->pressure_max);
	CHECK(got->n_points == e->n_pts, "%zu samples, generated %zu", got->n_points, e->n_pts);
	for (size_t i = 0; i < got->n_points && i < e->n_pts; i++) {
		const struct sig_point *a = &got->points[i], *b = &e->pts[i];

		CHECK(
		    a->t_ms == b->t_ms && a->x == b->x && a->y == b->y &&
			a->pressure == b->pressure && a->flags == b->flags,
		    "sample %zu: got flags %u t %u (%d, %d) p %u, generated flags %u t %u (%d, %d) "
		    "p %u",
		    i, a->flags, a->t_ms, a->x, a->y, a->pressure, b->flags, b->t_ms, b->x, b->y,
		    b->pressure);
	}
}

static void check_series(const struct sig_signature *got)
{
	_cleanup_(sig_signature_freep) struct sig_signature *back = NULL;
	_cleanup_(json_object_putp) json_object *o = NULL;
	struct retas_error err = {0};
	json_object *strokes = NULL;
	uint8_t *buf = NULL;
	char *json = NULL;
	size_t len = 0;

	CHECK(sig_series_encode(got, &buf, &len) == 0, "encoding the series");
	CHECK(sig_series_decode(buf, len, &back, &err) == 0, "decoding the series: %s",
	      err.message);
	if (back) {
		CHECK(back->n_points == got->n_points, "series round trip count");
		CHECK(back->n_points == got->n_points &&
			  !memcmp(back->points, got->points, got->n_points * sizeof(*got->points)),
		      "series round trip samples");
	}
	CHECK(sig_series_to_json(got, &json) == 0, "JSON export");
	if (json && retas_json_parse(json, strlen(json), &o) == 0 &&
	    retas_json_get_array(o, "strokes", &strokes) == 0)
		CHECK(json_object_array_length(strokes) == sig_signature_strokes(got),
		      "JSON has %zu strokes, the signature %u", json_object_array_length(strokes),
		      sig_signature_strokes(got));
	else
		CHECK(false, "JSON export does not parse: %s", json ? json : "(none)");
	free(buf);
	free(json);
}

/* The PNG against the generated samples: size and DPI from their physical
 * extent, ink on their path and nowhere else. */
static void check_png(const uint8_t *buf, size_t len, const struct sig_signature *want,
		      const struct sig_render_opts *o, const struct expect *e)
{
	struct test_png png;
	unsigned w, h;
	double ox, oy;

	test_png_expected_geometry(want, o, &w, &h, &ox, &oy);
	if (test_png_decode(buf, len, &png) < 0) {
		CHECK(false, "the PNG does not decode as 8-bit grey");
		return;
	}
	CHECK(png.width == w && png.height == h, "PNG %ux%u, the ink's extent at %u DPI is %ux%u",
	      png.width, png.height, o->dpi, w, h);
	CHECK(png.has_phys && png.phys_unit == PNG_RESOLUTION_METER &&
		  png.ppm_x == (uint32_t)lround(o->dpi / 0.0254) && png.ppm_y == png.ppm_x,
	      "pHYs %u/%u unit %d for %u DPI", png.ppm_x, png.ppm_y, png.phys_unit, o->dpi);
	CHECK(test_png_ink_off_path(&png, want, o, ox, oy) == 0, "ink off the stroke path");
	CHECK(test_png_path_gaps(&png, want, ox, oy) == 0, "stroke path without ink");
	if (e->pressure_check) {
		/* width follows pressure: measure across the line at both ends */
		unsigned lo = test_png_column_ink(&png, e->p_lo_mm, ox);
		unsigned hi = test_png_column_ink(&png, e->p_hi_mm, ox);
		double px = o->dpi / 25.4;
		double want_lo = 0, want_hi = 0;

		for (size_t i = 0; i < want->n_points; i++) {
			double x = sig_x_mm(want, want->points[i].x);
			double wmm = o->min_width_mm + (o->max_width_mm - o->min_width_mm) *
							   want->points[i].pressure / 2047.0;

			if (fabs(x - e->p_lo_mm) < 0.3)
				want_lo = wmm * px;
			if (fabs(x - e->p_hi_mm) < 0.3)
				want_hi = wmm * px;
		}
		CHECK(want_lo > 0 && want_hi > 0, "no samples near the pressure check points");
		CHECK(fabs(lo - want_lo) <= 1.5, "light end %u px wide, pen width %.1f px", lo,
		      want_lo);
		CHECK(fabs(hi - want_hi) <= 1.5, "firm end %u px wide, pen width %.1f px", hi,
		      want_hi);
		CHECK(hi > lo + 3, "the firm end (%u px) is not wider than the light end (%u px)",
		      hi, lo);
	}
	test_png_release(&png);
}

static void check_render(const struct sig_signature *got, const struct expect *e)
{
	_cleanup_(sig_signature_freep) struct sig_signature *want = expected_signature(e);
	static const unsigned dpis[] = {300, 600};

	for (size_t i = 0; i < ARRAY_SIZE(dpis); i++) {
		struct sig_render_opts o;
		struct retas_error err = {0};
		uint8_t *buf = NULL;
		size_t len = 0;

		sig_render_opts_defaults(&o);
		o.dpi = dpis[i];
		if (sig_render_png(got, &o, &buf, &len, &err) < 0) {
			CHECK(false, "rendering at %u DPI: %s", dpis[i], err.message);
			continue;
		}
		check_png(buf, len, want, &o, e);
		free(buf);
	}
}

static int inner_open_only(const struct expect *e)
{
	_cleanup_(sig_device_closep) struct sig_device *dev = NULL;
	struct retas_error err = {0};
	struct sig_config cfg;
	struct sig_info info;
	int r;

	sig_config_defaults(&cfg);
	r = sig_device_open(NULL, &cfg, &dev, &err);
	if (streq(e->open, "no_pad")) {
		CHECK(r == -ENODEV, "open: %d, want -ENODEV", r);
		CHECK(streq(err.reason, "signature.no_pad"), "reason %s", err.reason);
		CHECK(strstr(err.message, "No signature pad") != NULL, "message: %s", err.message);
		return 0;
	}
	/* no_resolution */
	CHECK(r == -EINVAL, "open: %d, want -EINVAL", r);
	CHECK(streq(err.reason, "signature.no_resolution"), "reason %s", err.reason);
	CHECK(strstr(err.message, "signature.width_mm") != NULL, "message: %s", err.message);
	CHECK(dev == NULL, "a device came back with the error");
	cfg.width_mm = 152;
	cfg.height_mm = 95;
	retas_error_clear(&err);
	r = sig_device_open(NULL, &cfg, &dev, &err);
	CHECK(r == 0, "open with a configured size: %s", err.message);
	if (r == 0) {
		CHECK(sig_device_describe(dev, &info) == 0, "describe");
		CHECK(info.size_configured, "size not marked as configured");
		CHECK(fabs(info.width_mm - 152) < 1e-9 && fabs(info.height_mm - 95) < 1e-9,
		      "size %.3f x %.3f mm", info.width_mm, info.height_mm);
	}
	return 0;
}

static int inner(const char *dir, const char *scenario)
{
	_cleanup_(sig_device_closep) struct sig_device *dev = NULL;
	_cleanup_(sig_signature_freep) struct sig_signature *got = NULL;
	struct retas_error err = {0};
	struct sig_config cfg;
	struct sig_info info;
	struct expect e;
	struct run run = {0};
	int pipefd[2], r;

	printf("pid %ld\n", (long)getpid());
	fflush(stdout);
	if (read_expect(dir, scenario, &e) < 0)
		return 1;
	if (!streq(e.open, "ok"))
		return inner_open_only(&e) == 0 && failures == 0 ? 0 : 1;

	sig_config_defaults(&cfg);
	cfg.idle_ms = streq(e.end, "idle") ? IDLE_MS : 0;
	/* found through udev: ID_INPUT_TABLET on the emulated event node */
	r = sig_device_open(NULL, &cfg, &dev, &err);
	if (r < 0) {
		fprintf(stderr, "open: %s (%s)\n", err.message, err.reason);
		return 1;
	}
	CHECK(sig_device_describe(dev, &info) == 0, "describe");
	CHECK(streq(info.driver, "evdev") && streq(info.name, "Wacom One by Wacom S Pen") &&
		  streq(info.node, NODE),
	      "found %s '%s' at %s", info.driver, info.name, info.node);
	CHECK(fabs(info.width_mm - 152) < 1e-9 && fabs(info.height_mm - 95) < 1e-9 &&
		  !info.size_configured,
	      "surface %.3f x %.3f mm", info.width_mm, info.height_mm);
	CHECK(info.pressure_levels == 2048, "%u pressure levels", info.pressure_levels);

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return 1;
	run.e = &e;
	run.control_w = pipefd[1];
	if (streq(e.end, "accept-now"))
		run.sent_accept = write(pipefd[1], "a", 1) == 1;
	{
		struct sig_capture_params p = {
		    .deadline_ms = retas_time_mono_ms() + CAPTURE_DEADLINE_MS,
		    .now_ms = test_clock,
		    .control_fd = pipefd[0],
		    .progress = on_progress,
		    .userdata = &run,
		};

		r = sig_device_capture(dev, &p, &got, &err);
	}
	close(pipefd[0]);
	close(pipefd[1]);

	if (streq(e.result, "ok")) {
		CHECK(r == 0, "capture: %d %s: %s", r, err.reason, err.message);
		if (got) {
			check_points(got, &e);
			check_series(got);
			check_render(got, &e);
		}
		if (e.clear_at)
			CHECK(run.saw_cleared && run.points_cleared > 0,
			      "the clear was not reported, or nothing was cleared (%u samples)",
			      run.points_cleared);
	} else {
		int want = streq(e.result, "signature.removed") ? -ENODEV : -ENODATA;

		CHECK(r == want, "capture: %d, want %d (%s)", r, want, e.result);
		CHECK(got == NULL, "a signature came back with the refusal");
		CHECK(streq(err.reason, e.result), "reason %s, want %s", err.reason, e.result);
		if (want == -ENODATA)
			CHECK(strstr(err.message, "sign again") != NULL, "message: %s",
			      err.message);
		else
			CHECK(strstr(err.message, "disconnected") != NULL, "message: %s",
			      err.message);
		if (streq(e.end, "accept") || streq(e.end, "gone"))
			CHECK(run.sent_accept || run.said_ready, "not all %u frames arrived",
			      e.frames);
		if (streq(scenario, "hover-only"))
			CHECK(run.saw_in_range && run.max_points == 0,
			      "hovering: in range %d, %u samples", run.saw_in_range,
			      run.max_points);
	}
	free(e.pts);
	return failures ? 1 : 0;
}

/* ---- outside: drive umockdev-run ---------------------------------------- */

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	_cleanup_(freep) char *copy = strdup(path && *path ? path : "/usr/bin:/bin");

	for (char *save = NULL, *d = strtok_r(copy, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		_cleanup_(freep) char *p = NULL;

		if (asprintf(&p, "%s/%s", d, prog) >= 0 && access(p, X_OK) == 0)
			return true;
	}
	return false;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

struct child {
	pid_t pid;
	int out;   /* its stdout and stderr */
	int in;	   /* its stdin, or -1 */
	char *log; /* everything read from out */
	size_t log_len;
};

static int spawn(char **argv, const char *tmpdir, bool want_stdin, struct child *c)
{
	int out[2], in[2] = {-1, -1};

	if (pipe2(out, O_CLOEXEC) < 0 || (want_stdin && pipe2(in, O_CLOEXEC) < 0))
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		if (want_stdin)
			dup2(in[0], STDIN_FILENO);
		else {
			int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

			dup2(null, STDIN_FILENO);
		}
		setenv("TMPDIR", tmpdir, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	c->out = out[0];
	c->in = -1;
	if (want_stdin) {
		close(in[0]);
		c->in = in[1];
	}
	return 0;
}

/* Reads the child's output until it closes; on_line sees each complete
 * line. false when the deadline passed first. */
static bool collect(struct child *c, int64_t deadline, void (*on_line)(const char *, void *),
		    void *userdata)
{
	size_t scanned = 0;

	for (;;) {
		struct pollfd p = {.fd = c->out, .events = POLLIN};
		int64_t left = deadline - retas_time_mono_ms();
		char buf[4096];
		ssize_t n;

		if (left <= 0)
			return false;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(c->out, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
		c->log = realloc(c->log, c->log_len + (size_t)n + 1);
		if (!c->log)
			abort();
		memcpy(c->log + c->log_len, buf, (size_t)n);
		c->log_len += (size_t)n;
		c->log[c->log_len] = '\0';
		while (on_line) {
			char *nl = memchr(c->log + scanned, '\n', c->log_len - scanned);

			if (!nl)
				break;
			*nl = '\0';
			on_line(c->log + scanned, userdata);
			*nl = '\n';
			scanned = (size_t)(nl - c->log) + 1;
		}
	}
}

struct watch {
	pid_t umockdev;
	pid_t inner;
	bool killed;
};

static void on_line(const char *line, void *userdata)
{
	struct watch *w = userdata;
	long pid;

	if (sscanf(line, "pid %ld", &pid) == 1)
		w->inner = (pid_t)pid;
	if (streq(line, "ready") && !w->killed) {
		/* the cable comes out: the emulated node hangs up */
		kill(w->umockdev, SIGKILL);
		w->killed = true;
	}
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "child died of signal %d\n", WTERMSIG(status));
	return 1;
}

static int run_umockdev(char **argv, const char *tmpdir, const char *stdin_text, struct child *c,
			struct watch *w)
{
	int64_t deadline = retas_time_mono_ms() + OUTER_DEADLINE_MS;
	int status = 0, code;

	if (spawn(argv, tmpdir, stdin_text != NULL, c) < 0) {
		fprintf(stderr, "cannot start %s: %m\n", argv[0]);
		return 1;
	}
	w->umockdev = c->pid;
	if (stdin_text) {
		if (write(c->in, stdin_text, strlen(stdin_text)) < 0)
			fprintf(stderr, "writing the child's input: %m\n");
		close(c->in);
	}
	if (!collect(c, deadline, on_line, w)) {
		fprintf(stderr, "no end after %d ms; killing\n", OUTER_DEADLINE_MS);
		if (w->inner > 0)
			kill(w->inner, SIGKILL);
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &status, 0);
		if (w->inner > 0)
			waitpid(w->inner, &status, 0);
		return 1;
	}
	waitpid(c->pid, &status, 0);
	code = exit_code(status);
	if (w->killed) {
		/* umockdev-run is gone; its orphaned child is ours to reap */
		if (w->inner <= 0 || waitpid(w->inner, &status, 0) != w->inner) {
			fprintf(stderr, "the test process could not be reaped\n");
			return 1;
		}
		code = exit_code(status);
	}
	return code;
}

static int verify_cli_png(const char *fixtures, const char *png_path)
{
	struct expect e;
	_cleanup_(sig_signature_freep) struct sig_signature *want = NULL;
	struct sig_render_opts o;
	uint8_t *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (read_expect(fixtures, "one-stroke", &e) < 0)
		return 1;
	want = expected_signature(&e);
	f = fopen(png_path, "rbe");
	CHECK(f != NULL, "%s was not saved: %m", png_path);
	if (f) {
		buf = malloc(16 << 20);
		len = buf ? fread(buf, 1, 16 << 20, f) : 0;
		fclose(f);
		sig_render_opts_defaults(&o);
		check_png(buf, len, want, &o, &e);
		free(buf);
	}
	free(e.pts);
	return failures ? 1 : 0;
}

static int outer(const char *self, const char *fixtures, const char *scenario)
{
	bool cli = !strncmp(scenario, "cli-", 4);
	const char *fixture = streq(scenario, "cli-save") || streq(scenario, "cli-list")
				  ? "one-stroke"
			      : streq(scenario, "cli-empty") ? "no-ink"
							     : scenario;
	_cleanup_(freep) char *dev = path_of(fixtures, fixture, ".umockdev");
	_cleanup_(freep) char *ioc = path_of(fixtures, fixture, ".ioctl");
	_cleanup_(freep) char *evt = path_of(fixtures, fixture, ".events");
	_cleanup_(freep) char *ioc_arg = NULL, *evt_arg = NULL, *png = NULL;
	const char *tmp = getenv("TMPDIR");
	_cleanup_(freep) char *tmpdir = NULL;
	struct child c = {0};
	struct watch w = {0};
	char *argv[24];
	int n = 0, code;
	const char *asan = getenv("ASAN_OPTIONS");
	_cleanup_(freep) char *asan_new = NULL;

	if (!in_path("umockdev-run")) {
		fprintf(stderr, "SKIP: umockdev-run is not installed\n");
		return 77;
	}
	if (asprintf(&tmpdir, "%s/sig-test.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0 ||
	    !mkdtemp(tmpdir)) {
		fprintf(stderr, "cannot make a temporary directory: %m\n");
		return 1;
	}
	/* The preload library comes before the sanitizer runtime in a
	 * sanitized test process; the order does not matter for what it wraps. */
	if (asprintf(&asan_new, "%s%sverify_asan_link_order=0", asan ? asan : "",
		     asan && *asan ? ":" : "") < 0)
		return 1;
	setenv("ASAN_OPTIONS", asan_new, 1);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		fprintf(stderr, "cannot become child subreaper: %m\n");
		return 1;
	}

	/* Can umockdev build a testbed here at all? */
	{
		char *probe[] = {"umockdev-run", "-d", dev, "--", (char *)self, "--probe", NULL};
		struct child pc = {0};
		struct watch pw = {0};

		if (run_umockdev(probe, tmpdir, NULL, &pc, &pw) != 0) {
			fprintf(stderr, "SKIP: umockdev cannot run here:\n%s\n",
				pc.log ? pc.log : "");
			free(pc.log);
			nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
			return 77;
		}
		free(pc.log);
	}

	argv[n++] = "umockdev-run";
	argv[n++] = "-d";
	argv[n++] = dev;
	if (access(ioc, R_OK) == 0) {
		if (asprintf(&ioc_arg, NODE "=%s", ioc) < 0 ||
		    asprintf(&evt_arg, NODE "=%s", evt) < 0)
			return 1;
		argv[n++] = "-i";
		argv[n++] = ioc_arg;
		argv[n++] = "-e";
		argv[n++] = evt_arg;
	}
	argv[n++] = "--";
	if (streq(scenario, "cli-list")) {
		const char *retas = getenv("RETAS_CLI");

		if (!retas)
			return 1;
		argv[n++] = (char *)retas;
		argv[n++] = "--json";
		argv[n++] = "devices";
	} else if (cli) {
		const char *retas = getenv("RETAS_CLI");

		if (!retas || asprintf(&png, "%s/signature.png", tmpdir) < 0) {
			fprintf(stderr, "RETAS_CLI is not set\n");
			return 1;
		}
		argv[n++] = (char *)retas;
		argv[n++] = "devices";
		argv[n++] = "test";
		argv[n++] = "signature";
		argv[n++] = "--save";
		argv[n++] = png;
		argv[n++] = "--device";
		argv[n++] = NODE;
		argv[n++] = "--idle";
		argv[n++] = "0.3";
	} else {
		argv[n++] = (char *)self;
		argv[n++] = "--inner";
		argv[n++] = (char *)fixtures;
		argv[n++] = (char *)scenario;
	}
	argv[n] = NULL;

	code = run_umockdev(argv, tmpdir, streq(scenario, "cli-empty") ? "\n" : NULL, &c, &w);
	if (c.log && c.log_len)
		fprintf(stderr, "--- output under umockdev-run ---\n%s", c.log);
	if (streq(scenario, "device-gone"))
		CHECK(w.killed, "the pen never reached the point where the cable comes out");
	if (streq(scenario, "cli-list")) {
		CHECK(code == 0, "retas devices exited %d", code);
		CHECK(c.log &&
			  strstr(c.log, "{\"class\":\"signature\",\"model\":\"Wacom One by "
					"Wacom S Pen\",\"driver\":\"evdev\",\"location\":\"\\/"
					"dev\\/input\\/event5\",\"serial\":\"8BH00U1000000\"}"),
		      "the pad is not listed as it should be");
	} else if (streq(scenario, "cli-save")) {
		CHECK(code == 0, "retas devices test signature exited %d", code);
		CHECK(c.log && strstr(c.log, "300 DPI"), "no DPI in the report");
		code = verify_cli_png(fixtures, png);
	} else if (streq(scenario, "cli-empty")) {
		CHECK(code == 1, "retas devices test signature exited %d, want 1 (refused)", code);
		CHECK(c.log && strstr(c.log, "Please sign again"), "no request to sign again");
		CHECK(access(png, F_OK) != 0, "a PNG was saved for an empty signature");
		code = 0;
	}
	free(c.log);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return failures ? 1 : code;
}

int main(int argc, char **argv)
{
	char self[PATH_MAX];
	ssize_t n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && streq(argv[1], "--probe"))
		return getenv("UMOCKDEV_DIR") ? 0 : 1;
	if (argc == 4 && streq(argv[1], "--inner"))
		return inner(argv[2], argv[3]);
	if (argc != 3) {
		fprintf(stderr, "usage: %s FIXTURES SCENARIO\n", argv[0]);
		return 2;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return 1;
	self[n] = '\0';
	return outer(self, argv[1], argv[2]);
}
