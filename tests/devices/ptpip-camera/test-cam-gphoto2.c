/*
 * The libgphoto2 camera driver against the virtual PTP/IP camera, through
 * libgphoto2's real ptp2 camlib: photos arrive byte-identical and are deleted
 * on the camera; each fault ends in its own error within the deadline and the
 * next capture works.
 *
 * libgphoto2 reads its settings from $HOME once per process, so each case
 * runs in a process of its own (meson runs the binary once per case, naming
 * it) with a fresh HOME made here.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
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

#include "cam.h"
#include "cam-photo.h"
#include "jpeg-synth.h"
#include "retas-time.h"
#include "vcam.h"

static char home[256];

struct fixture {
	struct vcam vc;
	struct cam_device *dev;
	char port[64];
	char img[2][300];
	uint8_t *data[2];
	size_t len[2];
};

static void make_image(struct fixture *f, int i, int w, int h, int orientation)
{
	struct synth_opts o = {.width = w,
			       .height = h,
			       .orientation = orientation,
			       .pattern = SYNTH_PHOTO,
			       .seed = (uint32_t)(i + 7)};

	assert_int_equal(synth_jpeg(&o, &f->data[i], &f->len[i]), 0);
	snprintf(f->img[i], sizeof(f->img[i]), "%s/photo-%d.jpg", home, i);
	assert_int_equal(synth_write_file(f->img[i], f->data[i], f->len[i]), 0);
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*out = buf;
	*len = (size_t)st.st_size;
	return 0;
}

/* Starts the camera with two distinct photos and opens the driver on it. */
static void start(struct fixture *f, const char *fault)
{
	const char *args[8] = {"--image", f->img[0], "--image", f->img[1]};
	struct cam_config cfg = {.model = "PTP/IP Camera"};
	struct retas_error err = {0};

	if (!f->data[0]) {
		make_image(f, 0, 1200, 1600, 1);
		make_image(f, 1, 1600, 1200, 6);
	}
	if (fault) {
		args[4] = "--fault";
		args[5] = fault;
	}
	assert_int_equal(vcam_start(&f->vc, args), 0);
	vcam_port_string(&f->vc, f->port, sizeof(f->port));
	cfg.port = f->port;
	assert_int_equal(cam_open(&cam_gphoto2_ops, &cfg, &f->dev, &err), 0);
}

static void finish(struct fixture *f)
{
	cam_close(f->dev);
	vcam_stop(&f->vc);
	free(f->data[0]);
	free(f->data[1]);
}

/* Captures with a deadline of timeout_ms; *elapsed_ms is how long it took. */
static int capture(struct fixture *f, int timeout_ms, struct cam_shot *shot,
		   struct retas_error *err, int64_t *elapsed_ms)
{
	int64_t t0 = retas_time_mono_ms();
	int r;

	memset(err, 0, sizeof(*err));
	r = cam_capture(f->dev, t0 + timeout_ms, NULL, NULL, shot, err);
	if (elapsed_ms)
		*elapsed_ms = retas_time_mono_ms() - t0;
	return r;
}

static void expect_photo(struct fixture *f, int i)
{
	struct retas_error err;
	struct cam_shot shot = {0};
	char line[128];

	assert_int_equal(capture(f, 10000, &shot, &err, NULL), 0);
	assert_int_equal(shot.size, f->len[i]);
	assert_memory_equal(shot.jpeg, f->data[i], f->len[i]);
	assert_true(shot.deleted);
	/* Leftovers of an earlier failed capture may be deleted first. */
	do {
		assert_int_equal(
		    vcam_wait_line(&f->vc, "deleted handle=", 2000, line, sizeof(line)), 0);
	} while (!strstr(line, shot.name));
	cam_shot_clear(&shot);
}

static void expect_objects(struct fixture *f, int count)
{
	char line[64], want[64];

	assert_int_equal(vcam_send(&f->vc, "objects"), 0);
	assert_int_equal(vcam_wait_line(&f->vc, "objects count=", 2000, line, sizeof(line)), 0);
	snprintf(want, sizeof(want), "objects count=%d", count);
	assert_string_equal(line, want);
}

static void expect_error(struct fixture *f, int timeout_ms, int code, const char *reason)
{
	struct retas_error err;
	struct cam_shot shot = {0};
	int64_t elapsed;

	assert_int_equal(capture(f, timeout_ms, &shot, &err, &elapsed), code);
	assert_string_equal(err.reason, reason);
	assert_true(err.message[0] != 0);
	/* Within the deadline, give or take the guard's wake-up. */
	assert_true(elapsed <= timeout_ms + 1000);
	assert_null(shot.jpeg);
}

static void camera_capture_byte_identical(void **state)
{
	struct fixture f = {0};

	start(&f, NULL);
	expect_photo(&f, 0);
	expect_objects(&f, 0);
	finish(&f);
}

static void camera_capture_repeated(void **state)
{
	struct fixture f = {0};

	start(&f, NULL);
	expect_photo(&f, 0);
	expect_photo(&f, 1);
	expect_photo(&f, 0);
	expect_objects(&f, 0);
	finish(&f);
}

static void camera_fault_busy(void **state)
{
	struct fixture f = {0};

	start(&f, "busy");
	expect_error(&f, 5000, -EBUSY, "camera.busy");
	expect_photo(&f, 0);
	finish(&f);
}

static void camera_fault_never_completes(void **state)
{
	struct fixture f = {0};

	start(&f, "no-complete");
	expect_error(&f, 2000, -ETIMEDOUT, "camera.timeout");
	expect_photo(&f, 0);
	finish(&f);
}

static void camera_fault_closes_mid_download(void **state)
{
	struct fixture f = {0};

	start(&f, "drop-download");
	expect_error(&f, 5000, -ECONNRESET, "camera.disconnected");
	assert_int_equal(vcam_wait_line(&f.vc, "disconnected reason=fault-drop", 2000, NULL, 0), 0);
	/* The next capture gets the next photo, and the half-downloaded one
	 * does not stay on the camera. */
	expect_photo(&f, 1);
	expect_objects(&f, 0);
	finish(&f);
}

static void camera_fault_falls_silent(void **state)
{
	struct fixture f = {0};

	start(&f, "silent");
	expect_error(&f, 2000, -ETIMEDOUT, "camera.timeout");
	expect_photo(&f, 0);
	finish(&f);
}

static void camera_fault_refuses_connection(void **state)
{
	struct fixture f = {0};

	start(&f, "refuse");
	expect_error(&f, 5000, -EACCES, "camera.held");
	expect_photo(&f, 0);
	finish(&f);
}

/* Another initiator holds the camera: a second driver instance is turned
 * away until the first lets go. */
static void camera_held_by_another_initiator(void **state)
{
	struct fixture f = {0};
	struct cam_config cfg = {.model = "PTP/IP Camera"};
	struct cam_device *other = NULL;
	struct retas_error err = {0};
	struct cam_shot shot = {0};

	start(&f, NULL);
	expect_photo(&f, 0); /* f.dev keeps its connection */
	cfg.port = f.port;
	assert_int_equal(cam_open(&cam_gphoto2_ops, &cfg, &other, &err), 0);
	assert_int_equal(cam_capture(other, retas_time_mono_ms() + 5000, NULL, NULL, &shot, &err),
			 -EACCES);
	assert_string_equal(err.reason, "camera.held");
	cam_close(f.dev);
	f.dev = NULL;
	assert_int_equal(cam_capture(other, retas_time_mono_ms() + 5000, NULL, NULL, &shot, &err),
			 0);
	assert_memory_equal(shot.jpeg, f.data[1], f.len[1]);
	cam_shot_clear(&shot);
	cam_close(other);
	finish(&f);
}

/* Nothing listens: "no camera"; once the camera is back on that port, the
 * next capture works. */
static void camera_absent_then_back(void **state)
{
	struct fixture f = {0};
	char port_arg[16];
	const char *args[8];

	start(&f, NULL);
	snprintf(port_arg, sizeof(port_arg), "%u", f.vc.port);
	vcam_stop(&f.vc);
	expect_error(&f, 5000, -ENODEV, "camera.none");
	args[0] = "--image";
	args[1] = f.img[0];
	args[2] = "--port";
	args[3] = port_arg;
	args[4] = NULL;
	assert_int_equal(vcam_start(&f.vc, args), 0);
	expect_photo(&f, 0);
	finish(&f);
}

/* The camera restarts between two captures: the kept connection is dead,
 * and the driver reconnects within the same capture. */
static void camera_restart_between_captures(void **state)
{
	struct fixture f = {0};
	struct retas_error err;
	struct cam_shot shot = {0};
	char port_arg[16];
	const char *args[8];

	start(&f, NULL);
	expect_photo(&f, 0);
	snprintf(port_arg, sizeof(port_arg), "%u", f.vc.port);
	vcam_stop(&f.vc);
	args[0] = "--image";
	args[1] = f.img[1];
	args[2] = "--port";
	args[3] = port_arg;
	args[4] = NULL;
	assert_int_equal(vcam_start(&f.vc, args), 0);
	assert_int_equal(capture(&f, 10000, &shot, &err, NULL), 0);
	assert_int_equal(shot.retries, 1);
	assert_memory_equal(shot.jpeg, f.data[1], f.len[1]);
	cam_shot_clear(&shot);
	finish(&f);
}

static void camera_not_a_jpeg(void **state)
{
	struct fixture f = {0};
	char text[300];
	const char *args[8];
	struct cam_config cfg = {.model = "PTP/IP Camera"};
	struct retas_error err = {0};

	make_image(&f, 0, 800, 600, 1);
	make_image(&f, 1, 600, 800, 1);
	snprintf(text, sizeof(text), "%s/IMG.txt", home);
	assert_int_equal(synth_write_file(text, (const uint8_t *)"not a photo\n", 12), 0);
	args[0] = "--image";
	args[1] = text;
	args[2] = "--image";
	args[3] = f.img[0];
	args[4] = NULL;
	assert_int_equal(vcam_start(&f.vc, args), 0);
	vcam_port_string(&f.vc, f.port, sizeof(f.port));
	cfg.port = f.port;
	assert_int_equal(cam_open(&cam_gphoto2_ops, &cfg, &f.dev, &err), 0);
	expect_error(&f, 5000, -EBADMSG, "camera.not_jpeg");
	expect_objects(&f, 0); /* deleted all the same */
	expect_photo(&f, 0);
	finish(&f);
}

static void camera_config_refused(void **state)
{
	struct cam_config cfg = {.model = "PTP/IP Camera"};
	struct retas_error err = {0};
	struct cam_device *dev = NULL;

	assert_int_equal(cam_open(&cam_gphoto2_ops, &cfg, &dev, &err), -EINVAL);
	assert_string_equal(err.reason, "camera.config");
	cfg.model = "No Such Camera 3000";
	cfg.port = "ptpip:127.0.0.1:1:1";
	assert_int_equal(cam_open(&cam_gphoto2_ops, &cfg, &dev, &err), -EINVAL);
	assert_string_equal(err.reason, "camera.model");
	cfg.model = "PTP/IP Camera";
	cfg.port = "nonsense:thing";
	assert_int_equal(cam_open(&cam_gphoto2_ops, &cfg, &dev, &err), -EINVAL);
	assert_string_equal(err.reason, "camera.port");
	assert_null(dev);
}

/* A driver that leaves members out: the class answers -EOPNOTSUPP. */
static int bare_open(const struct cam_config *cfg, struct cam_device **out, struct retas_error *err)
{
	static const struct cam_ops bare = {.name = "bare"};
	static struct cam_device dev = {.ops = &bare};

	*out = &dev;
	return 0;
}

static void camera_ops_missing_members(void **state)
{
	static const struct cam_ops none = {.name = "none"};
	static const struct cam_ops only_open = {.name = "bare", .open = bare_open};
	struct cam_device *dev = NULL;
	struct retas_error err = {0};
	struct cam_shot shot = {0};
	struct cam_info info;

	assert_int_equal(cam_open(&none, NULL, &dev, &err), -EOPNOTSUPP);
	assert_int_equal(cam_open(&only_open, NULL, &dev, &err), 0);
	assert_int_equal(cam_capture(dev, 0, NULL, NULL, &shot, &err), -EOPNOTSUPP);
	assert_string_equal(err.reason, "camera.unsupported");
	assert_int_equal(cam_describe(dev, 0, &info, &err), -EOPNOTSUPP);
	cam_close(dev);
	cam_close(NULL);
}

static void camera_describe(void **state)
{
	struct fixture f = {0};
	struct cam_info info;
	struct retas_error err = {0};

	start(&f, NULL);
	assert_int_equal(cam_describe(f.dev, retas_time_mono_ms() + 5000, &info, &err), 0);
	assert_string_equal(info.driver, "gphoto2");
	assert_string_equal(info.port, f.port);
	assert_string_equal(info.manufacturer, "RETAS Test Devices");
	assert_string_equal(info.serial, "VC0000000001");
	finish(&f);
}

/* The worker runs the capture off this thread and posts through its fd:
 * this thread only polls the fd, as the daemon's loop does. */
static void camera_worker_posts_result(void **state)
{
	struct fixture f = {0};
	struct cam_worker *w = NULL;
	struct cam_result res = {0};
	enum cam_stage stage, last = CAM_STAGE_CONNECTING;
	unsigned wakeups = 0;
	int r = 0;

	start(&f, NULL);
	assert_int_equal(cam_worker_new(f.dev, &w), 0);
	assert_int_equal(cam_worker_poll(w, &stage, &res), 0);
	assert_int_equal(cam_worker_start(w, retas_time_mono_ms() + 10000), 0);
	assert_int_equal(cam_worker_start(w, retas_time_mono_ms() + 10000), -EBUSY);
	while (r == 0) {
		struct pollfd p = {.fd = cam_worker_fd(w), .events = POLLIN};

		assert_int_equal(poll(&p, 1, 15000), 1);
		wakeups++;
		r = cam_worker_poll(w, &stage, &res);
		assert_true(r >= 0);
		assert_true(stage >= last);
		last = stage;
	}
	assert_int_equal(stage, CAM_STAGE_DONE);
	assert_true(wakeups >= 1);
	assert_int_equal(res.code, 0);
	assert_memory_equal(res.shot.jpeg, f.data[0], f.len[0]);
	cam_shot_clear(&res.shot);

	/* A failure travels the same way. */
	assert_int_equal(vcam_send(&f.vc, "fault busy:1"), 0);
	assert_int_equal(vcam_wait_line(&f.vc, "armed fault=busy", 2000, NULL, 0), 0);
	assert_int_equal(cam_worker_start(w, retas_time_mono_ms() + 10000), 0);
	for (r = 0; r == 0;) {
		struct pollfd p = {.fd = cam_worker_fd(w), .events = POLLIN};

		assert_int_equal(poll(&p, 1, 15000), 1);
		r = cam_worker_poll(w, &stage, &res);
	}
	assert_int_equal(res.code, -EBUSY);
	assert_string_equal(res.error.reason, "camera.busy");
	cam_worker_free(w);
	finish(&f);
}

/* A 24-megapixel original through the camera and the normalisation. */
static void camera_original_normalised(void **state)
{
	struct fixture f = {0};
	struct retas_error err;
	struct cam_shot shot = {0};
	struct cam_photo photo = {0};

	make_image(&f, 0, 6000, 4000, 1);
	make_image(&f, 1, 4000, 6000, 8);
	start(&f, NULL);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(capture(&f, 20000, &shot, &err, NULL), 0);
		assert_memory_equal(shot.jpeg, f.data[i], f.len[i]);
		assert_int_equal(cam_photo_normalise(shot.jpeg, shot.size, NULL, &photo, &err), 0);
		assert_int_equal(photo.width, 600);
		assert_int_equal(photo.height, 800);
		assert_int_equal(photo.orientation, i == 0 ? 1 : 8);
		cam_photo_clear(&photo);
		cam_shot_clear(&shot);
	}
	finish(&f);
}

/* Runs the retas CLI with args; its stdout and stderr (joined) go to out.
 * Returns its exit status. */
static int run_cli(const char *const *args, char *out, size_t size)
{
	const char *cli = getenv("RETAS_CLI");
	const char *argv[16];
	int pipefd[2], status, n = 0;
	size_t len = 0;
	pid_t pid;

	assert_non_null(cli);
	argv[n++] = cli;
	for (size_t i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		execv(cli, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t got = read(pipefd[0], out + len, size - 1 - len);

		if (got <= 0)
			break;
		len += (size_t)got;
		if (len == size - 1)
			break;
	}
	out[len] = 0;
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void camera_cli_saves_photo(void **state)
{
	struct fixture f = {0};
	char out[4096], save[300];
	const char *args[] = {"devices", "test", "camera", "--model", "PTP/IP Camera",
			      "--port",	 NULL,	 "--save", save,      "--timeout",
			      "20",	 NULL};
	struct cam_photo check = {0};
	struct retas_error err = {0};
	uint8_t *data = NULL;
	size_t len = 0;

	make_image(&f, 0, 6000, 4000, 6);
	make_image(&f, 1, 600, 800, 1);
	start(&f, NULL);
	cam_close(f.dev); /* the CLI is the only initiator */
	f.dev = NULL;
	args[6] = f.port;
	snprintf(save, sizeof(save), "%s/saved.jpg", home);
	assert_int_equal(run_cli(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "Photo taken: IMG_0001.JPG, 4000x6000 original"));
	assert_non_null(strstr(out, "Normalised: 600x800"));
	assert_non_null(strstr(out, "deleted from the camera"));
	assert_non_null(strstr(out, "Saved to"));
	assert_int_equal(vcam_wait_line(&f.vc, "deleted handle=", 2000, NULL, 0), 0);

	/* What was saved is the normalised photo: 600x800 and upright. */
	assert_int_equal(read_file(save, &data, &len), 0);
	assert_int_equal(cam_photo_normalise(data, len, NULL, &check, &err), 0);
	assert_int_equal(check.source_width, 600);
	assert_int_equal(check.source_height, 800);
	assert_int_equal(check.orientation, 1);
	cam_photo_clear(&check);
	free(data);
	finish(&f);
}

static void camera_cli_reports_no_camera(void **state)
{
	struct fixture f = {0};
	char out[4096];
	const char *args[] = {"devices",       "test",	 "camera", "--model",
			      "PTP/IP Camera", "--port", NULL,	   NULL};

	start(&f, NULL);
	cam_close(f.dev);
	f.dev = NULL;
	args[6] = f.port;
	vcam_stop(&f.vc);
	assert_int_equal(run_cli(args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "No camera answered at"));
	args[4] = "--port";
	args[5] = "x";
	args[6] = NULL;
	assert_int_equal(run_cli(args, out, sizeof(out)), 2);
	finish(&f);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/*
 * Loads only libgphoto2's PTP/IP port driver (through $IOLIBS, which the CLI
 * the tests run inherits). Its USB port driver leaks libusb's device list
 * when the machine has no USB device at all (8 bytes per listing, reported
 * by LeakSanitizer from an unloaded module), and nothing here uses USB.
 */
static int ptpip_port_driver_only(void)
{
	const char *dir = getenv("RETAS_GPHOTO2_IOLIBDIR");
	char iolibs[300], target[512], link[400];

	if (!dir)
		return 0;
	snprintf(iolibs, sizeof(iolibs), "%s/iolibs", home);
	snprintf(target, sizeof(target), "%s/ptpip.so", dir);
	snprintf(link, sizeof(link), "%s/ptpip.so", iolibs);
	if (mkdir(iolibs, 0700) < 0 || symlink(target, link) < 0) {
		perror(iolibs);
		return -1;
	}
	setenv("IOLIBS", iolibs, 1);
	return 0;
}

/* Keeps the ptp2 camlib mapped after libgphoto2 unloads it, so that a leak
 * inside it has a name LeakSanitizer can report and lsan.supp can match. */
static void keep_ptp2_loaded(void)
{
	const char *dir = getenv("RETAS_GPHOTO2_CAMLIBDIR");
	char path[512];

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/ptp2.so", dir);
	if (!dlopen(path, RTLD_LAZY | RTLD_NODELETE))
		fprintf(stderr, "cannot keep %s loaded: %s\n", path, dlerror());
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(camera_capture_byte_identical),
	    cmocka_unit_test(camera_capture_repeated),
	    cmocka_unit_test(camera_fault_busy),
	    cmocka_unit_test(camera_fault_never_completes),
	    cmocka_unit_test(camera_fault_closes_mid_download),
	    cmocka_unit_test(camera_fault_falls_silent),
	    cmocka_unit_test(camera_fault_refuses_connection),
	    cmocka_unit_test(camera_held_by_another_initiator),
	    cmocka_unit_test(camera_absent_then_back),
	    cmocka_unit_test(camera_restart_between_captures),
	    cmocka_unit_test(camera_not_a_jpeg),
	    cmocka_unit_test(camera_config_refused),
	    cmocka_unit_test(camera_describe),
	    cmocka_unit_test(camera_ops_missing_members),
	    cmocka_unit_test(camera_worker_posts_result),
	    cmocka_unit_test(camera_original_normalised),
	    cmocka_unit_test(camera_cli_saves_photo),
	    cmocka_unit_test(camera_cli_reports_no_camera),
	};
	const char *tmp = getenv("TMPDIR");
	int r;

	snprintf(home, sizeof(home), "%s/retas-cam-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(home)) {
		perror("mkdtemp");
		return 1;
	}
	/* Before libgphoto2's first use: it reads $HOME once. */
	setenv("HOME", home, 1);
	r = ptpip_port_driver_only();
	if (r < 0)
		return 1;
	keep_ptp2_loaded();
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	nftw(home, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return r;
}
