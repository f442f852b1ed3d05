/*
 * retas devices test camera: takes one photo through the camera driver
 * directly (no daemon), normalises it as an enrolment would, prints the
 * hints an officer would see and optionally saves the normalised photo. Used
 * to set a camera up at the school before the first student, and to tell a
 * camera problem from a daemon problem.
 *
 * The camera is the one given with --model and --port, else the [camera]
 * model and port of the daemon's configuration, else the first USB camera.
 * The daemon must not be using the camera at the same time: the camera then
 * answers "in use by another program".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ini.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cam-photo.h"
#include "cam.h"
#include "cli.h"
#include "retas-json.h"
#include "retas-time.h"
#include "retas-util.h"

#define DEFAULT_CONFIG "/etc/retas/retasd.conf"

static int cmd_devices_test_camera_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_devices_test_camera_entry = {
    .name = "devices test camera",
    .args = "[--save FILE.jpg] [--model M --port P] [--timeout SEC] [--config FILE] [--json]",
    .summary = N_("Take one photo with the camera and show whether it is usable."),
    .help = N_("Takes one photo through the camera driver (not through the daemon),\n"
	       "normalises it as an enrolment does and prints its size and the hints:\n"
	       "too dark, too bright or blurred, each with its measure and limit.\n"
	       "The photo is deleted from the camera after download.\n"
	       "\n"
	       "  --save FILE.jpg   save the normalised photo (mode 0600)\n"
	       "  --model M         libgphoto2 camera model, e.g. 'PTP/IP Camera'\n"
	       "  --port P          its port, e.g. ptpip:192.0.2.10:15740:15740 or usb:001,004\n"
	       "                    (without both: [camera] model and port of the\n"
	       "                    configuration, else the first USB camera)\n"
	       "  --timeout SEC     give up after SEC seconds (default 30)\n"
	       "  --config FILE     the daemon's configuration (default /etc/retas/retasd.conf)\n"
	       "  --json            print the answer as JSON\n"
	       "\n"
	       "Stop the daemon's use of the camera first. Exit status 0 when a photo\n"
	       "was taken (even with hints), 1 when the camera failed (the reason is\n"
	       "printed), 2 on a usage error.\n"),
    .exec = cmd_devices_test_camera_exec,
};

struct camera_conf {
	char model[128];
	char port[128];
};

static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct camera_conf *c = user;

	if (streq(section, "camera") && streq(name, "model"))
		snprintf(c->model, sizeof(c->model), "%s", value);
	else if (streq(section, "camera") && streq(name, "port"))
		snprintf(c->port, sizeof(c->port), "%s", value);
	return 1;
}

static int save_photo(const char *path, const uint8_t *data, size_t len)
{
	_cleanup_(closep) int fd = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

static void print_json(const struct cam_shot *shot, const struct cam_photo *p, const char *saved)
{
	_cleanup_(json_object_putp) json_object *o = json_object_new_object();
	json_object *hints = json_object_new_array();

	json_object_object_add(o, "camera_file", json_object_new_string(shot->name));
	json_object_object_add(o, "original_bytes", json_object_new_int64((int64_t)shot->size));
	json_object_object_add(o, "original_width", json_object_new_int(p->source_width));
	json_object_object_add(o, "original_height", json_object_new_int(p->source_height));
	json_object_object_add(o, "orientation", json_object_new_int(p->orientation));
	json_object_object_add(o, "width", json_object_new_int(p->width));
	json_object_object_add(o, "height", json_object_new_int(p->height));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)p->size));
	json_object_object_add(o, "mean_luma", json_object_new_double(p->mean_luma));
	json_object_object_add(o, "sharpness", json_object_new_double(p->sharpness));
	json_object_object_add(o, "quality_score", json_object_new_int(p->quality_score));
	json_object_object_add(o, "deleted_from_camera", json_object_new_boolean(shot->deleted));
	json_object_object_add(o, "saved", saved ? json_object_new_string(saved) : NULL);
	for (size_t i = 0; i < p->n_hints; i++) {
		json_object *h = json_object_new_object();

		json_object_object_add(h, "id", json_object_new_string(p->hints[i].id));
		json_object_object_add(h, "value", json_object_new_double(p->hints[i].value));
		json_object_object_add(h, "threshold",
				       json_object_new_double(p->hints[i].threshold));
		json_object_array_add(hints, h);
	}
	json_object_object_add(o, "hints", hints);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

static void print_text(const struct cam_shot *shot, const struct cam_photo *p, const char *saved)
{
	char line[320];

	printf(_("Photo taken: %s, %dx%d original (%zu bytes), %s from the camera.\n"), shot->name,
	       p->source_width, p->source_height, shot->size,
	       shot->deleted ? _("deleted") : _("NOT deleted"));
	printf(
	    _("Normalised: %dx%d, %zu bytes, brightness %.0f, sharpness %.1f, quality %d/100.\n"),
	    p->width, p->height, p->size, p->mean_luma, p->sharpness, p->quality_score);
	for (size_t i = 0; i < p->n_hints; i++) {
		cam_hint_describe(&p->hints[i], line, sizeof(line));
		printf("  %s\n", line);
	}
	if (p->n_hints == 0)
		printf(_("No hints: the photo is usable.\n"));
	if (saved)
		printf(_("Saved to %s.\n"), saved);
}

static int cmd_devices_test_camera_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"save", required_argument, NULL, 's'},   {"model", required_argument, NULL, 'm'},
	    {"port", required_argument, NULL, 'p'},   {"timeout", required_argument, NULL, 't'},
	    {"config", required_argument, NULL, 'c'}, {0},
	};
	const struct cli_cmd_entry *e = &cli_cmd_devices_test_camera_entry;
	const char *save = NULL, *config = NULL;
	struct camera_conf conf = {0};
	struct cam_config cfg = {0};
	struct cam_device *dev = NULL;
	struct cam_shot shot = {0};
	struct cam_photo photo = {0};
	struct retas_error err = {0};
	long timeout = 30;
	int c, r, ret = CLI_EXIT_REFUSED;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 's':
			save = optarg;
			break;
		case 'm':
			cfg.model = optarg;
			break;
		case 'p':
			cfg.port = optarg;
			break;
		case 't':
			errno = 0;
			timeout = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || timeout < 1 || timeout > 600)
				return cli_usage_error(
				    e, _("--timeout takes 1 to 600 seconds, not '%s'"), optarg);
			break;
		case 'c':
			config = optarg;
			break;
		default:
			return cli_usage(e);
		}
	}
	if (optind < argc)
		return cli_usage_error(e, _("unexpected argument '%s'"), argv[optind]);
	if (!cfg.model != !cfg.port)
		return cli_usage_error(e, _("give --model and --port together"));
	if (!cfg.model) {
		const char *path = config ? config : DEFAULT_CONFIG;

		/* The default configuration is optional; a named one is not. */
		r = 0;
		if (config || access(path, R_OK) == 0)
			r = ini_parse(path, conf_handler, &conf);
		if (r != 0)
			return cli_usage_error(e, _("cannot read the configuration %s"), path);
		if (conf.model[0] && conf.port[0]) {
			cfg.model = conf.model;
			cfg.port = conf.port;
		}
	}

	r = cam_open(&cam_gphoto2_ops, &cfg, &dev, &err);
	if (r == -EINVAL)
		return cli_usage_error(e, "%s", err.message);
	if (r < 0) {
		cli_error("%s", err.message[0] ? err.message : strerror(-r));
		goto out;
	}
	if (!ctx->json)
		fprintf(stderr, _("Taking a photo (up to %ld seconds)...\n"), timeout);
	r = cam_capture(dev, retas_time_mono_ms() + timeout * 1000, NULL, NULL, &shot, &err);
	if (r < 0) {
		cli_error("%s", err.message[0] ? err.message : strerror(-r));
		goto out;
	}
	r = cam_photo_normalise(shot.jpeg, shot.size, NULL, &photo, &err);
	if (r < 0) {
		cli_error("%s", err.message[0] ? err.message : strerror(-r));
		goto out;
	}
	if (save) {
		r = save_photo(save, photo.jpeg, photo.size);
		if (r < 0) {
			cli_error(_("cannot save the photo to %s: %s"), save, strerror(-r));
			goto out;
		}
	}
	if (ctx->json)
		print_json(&shot, &photo, save);
	else
		print_text(&shot, &photo, save);
	ret = CLI_EXIT_OK;
out:
	cam_photo_clear(&photo);
	cam_shot_clear(&shot);
	cam_close(dev);
	return ret;
}
