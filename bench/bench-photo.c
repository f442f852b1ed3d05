/*
 * Face photo benchmarks, each against its baseline in the same run:
 *
 *  1. Normalising a 24-megapixel original (6000x4000, generated here with
 *     libjpeg) to the 600x800 portrait, against libjpeg-turbo's own tools
 *     doing the nearest thing from the shell: `djpeg -scale 1/4 | cjpeg
 *     -quality 90` on the same file (which only shrinks, no crop, no final
 *     size, no hints).
 *  2. Capture to file through the driver (connect, trigger, wait, download,
 *     delete, write, disconnect) against `gphoto2 --capture-image-and-download`
 *     doing the same on the same virtual PTP/IP camera with the same photo.
 *
 * Prints the median of each and the ratio baseline / ours (above 1: ours is
 * faster).
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cam-photo.h"
#include "cam.h"
#include "jpeg-synth.h"
#include "retas-time.h"
#include "vcam.h"

#define RUNS 5

static char dir[256];

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static double median_ms(int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	return n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Runs a shell command; its exit status. */
static int shell(const char *cmd)
{
	int st = system(cmd);

	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	return synth_write_file(path, data, len);
}

static int bench_normalise(const uint8_t *orig, size_t len, const char *orig_path)
{
	int64_t ours[RUNS], base[RUNS];
	char cmd[1024];
	double a, b;

	for (int i = 0; i < RUNS; i++) {
		struct cam_photo p = {0};
		struct retas_error err = {0};
		int64_t t0 = retas_time_mono_ms();

		if (cam_photo_normalise(orig, len, NULL, &p, &err) < 0) {
			fprintf(stderr, "normalise: %s\n", err.message);
			return 1;
		}
		ours[i] = retas_time_mono_ms() - t0;
		cam_photo_clear(&p);
	}
	snprintf(cmd, sizeof(cmd), "djpeg -scale 1/4 '%s' | cjpeg -quality 90 > '%s/base.jpg'",
		 orig_path, dir);
	for (int i = 0; i < RUNS; i++) {
		int64_t t0 = retas_time_mono_ms();

		if (shell(cmd) != 0) {
			fprintf(stderr, "baseline failed: %s (is libjpeg-turbo-progs installed?)\n",
				cmd);
			return 1;
		}
		base[i] = retas_time_mono_ms() - t0;
	}
	a = median_ms(ours, RUNS);
	b = median_ms(base, RUNS);
	printf("normalise 6000x4000 -> 600x800: %.0f ms; djpeg -scale 1/4 | cjpeg: %.0f ms; "
	       "ratio %.2f\n",
	       a, b, b / (a > 0 ? a : 1));
	return 0;
}

static int bench_capture(const char *orig_path)
{
	const char *args[] = {"--image", orig_path, NULL};
	struct cam_config cfg = {.model = "PTP/IP Camera"};
	int64_t ours[RUNS], base[RUNS], warm[RUNS];
	struct cam_device *dev = NULL;
	struct vcam vc;
	char port[64], cmd[1024], out[300];
	double a, b, w;
	int r = 1;

	if (vcam_start(&vc, args) < 0) {
		fprintf(stderr, "cannot start the virtual camera ($RETAS_PTPIP_CAMERA)\n");
		return 1;
	}
	vcam_port_string(&vc, port, sizeof(port));
	cfg.port = port;
	snprintf(out, sizeof(out), "%s/captured.jpg", dir);

	for (int i = 0; i < RUNS; i++) {
		struct retas_error err = {0};
		struct cam_shot shot = {0};
		int64_t t0 = retas_time_mono_ms();

		if (cam_open(&cam_gphoto2_ops, &cfg, &dev, &err) < 0 ||
		    cam_capture(dev, t0 + 30000, NULL, NULL, &shot, &err) < 0 ||
		    write_file(out, shot.jpeg, shot.size) < 0) {
			fprintf(stderr, "driver capture: %s\n", err.message);
			cam_shot_clear(&shot);
			goto out;
		}
		cam_shot_clear(&shot);
		cam_close(dev);
		dev = NULL;
		ours[i] = retas_time_mono_ms() - t0;
	}

	snprintf(cmd, sizeof(cmd),
		 "gphoto2 --quiet --camera 'PTP/IP Camera' --port '%s' "
		 "--capture-image-and-download --force-overwrite --filename '%s/gphoto2.jpg' "
		 ">/dev/null",
		 port, dir);
	for (int i = 0; i < RUNS; i++) {
		int64_t t0 = retas_time_mono_ms();

		if (shell(cmd) != 0) {
			fprintf(stderr, "baseline failed: %s\n", cmd);
			goto out;
		}
		base[i] = retas_time_mono_ms() - t0;
	}

	/* What the daemon does: one connection kept over many captures. */
	{
		struct retas_error err = {0};

		if (cam_open(&cam_gphoto2_ops, &cfg, &dev, &err) < 0)
			goto out;
	}
	for (int i = 0; i < RUNS; i++) {
		struct retas_error err = {0};
		struct cam_shot shot = {0};
		int64_t t0 = retas_time_mono_ms();

		if (cam_capture(dev, t0 + 30000, NULL, NULL, &shot, &err) < 0 ||
		    write_file(out, shot.jpeg, shot.size) < 0) {
			fprintf(stderr, "driver capture: %s\n", err.message);
			cam_shot_clear(&shot);
			goto out;
		}
		cam_shot_clear(&shot);
		warm[i] = retas_time_mono_ms() - t0;
	}
	a = median_ms(ours, RUNS);
	b = median_ms(base, RUNS);
	w = median_ms(warm, RUNS);
	printf("capture to file (24 MP, PTP/IP): driver %.0f ms; gphoto2 "
	       "--capture-image-and-download %.0f ms; ratio %.2f\n",
	       a, b, b / (a > 0 ? a : 1));
	printf("capture to file, connection kept (as the daemon): %.0f ms; ratio to gphoto2 %.2f\n",
	       w, b / (w > 0 ? w : 1));
	r = 0;
out:
	cam_close(dev);
	vcam_stop(&vc);
	return r;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	struct synth_opts o = {
	    .width = 6000, .height = 4000, .orientation = 1, .pattern = SYNTH_PHOTO, .seed = 11};
	const char *tmp = getenv("TMPDIR");
	char orig_path[300];
	uint8_t *orig = NULL;
	size_t len = 0;
	int r;

	snprintf(dir, sizeof(dir), "%s/retas-bench-photo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("HOME", dir, 1); /* libgphoto2's settings, for us and gphoto2 */
	snprintf(orig_path, sizeof(orig_path), "%s/original.jpg", dir);
	if (synth_jpeg(&o, &orig, &len) < 0 || write_file(orig_path, orig, len) < 0) {
		fprintf(stderr, "cannot make the 24 MP original\n");
		return 1;
	}
	printf("original: 6000x4000, %zu bytes\n", len);
	r = bench_normalise(orig, len, orig_path);
	if (r == 0)
		r = bench_capture(orig_path);
	free(orig);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return r;
}
