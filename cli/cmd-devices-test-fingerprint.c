/*
 * retas devices test fingerprint: captures one finger with the attached
 * reader, prints its quality and, with --save, writes the image as PNG, so
 * an officer can check a reader before leaving for a school. It drives the
 * reader through the driver library itself; while retasd holds the reader
 * this reports it busy.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fp-png.h"
#include "fp.h"
#include "retas-time.h"

/* What `retas devices test` calls good enough; the daemon takes its own
 * threshold from the configuration. */
#define TEST_QUALITY_THRESHOLD 40
#define DEFAULT_TIMEOUT_S 30
#define MAX_TIMEOUT_S 600

static int cmd_devices_test_fingerprint_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_devices_test_fingerprint_entry = {
    .name = "devices test fingerprint",
    .args = "[--save FILE.png] [--device BUS:ADDR] [--timeout SEC]",
    .summary = N_("Capture one finger to check the fingerprint reader."),
    .help = N_("Waits for a finger on the reader, captures it and prints its quality\n"
	       "(0-100). Options:\n"
	       "  --save FILE.png    also write the image as PNG\n"
	       "  --device BUS:ADDR  the reader at this USB bus and address (as lsusb\n"
	       "                     shows them), when more than one is attached\n"
	       "  --timeout SEC      how long to wait for the finger (1-600, default 30)\n"),
    .exec = cmd_devices_test_fingerprint_exec,
};

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int parse_device(const char *s, uint8_t *bus, uint8_t *addr)
{
	char head[8];
	const char *colon = strchr(s, ':');
	unsigned b, a;

	if (!colon || (size_t)(colon - s) >= sizeof(head))
		return -EINVAL;
	memcpy(head, s, (size_t)(colon - s));
	head[colon - s] = '\0';
	if (parse_uint(head, 255, &b) < 0 || parse_uint(colon + 1, 127, &a) < 0 || !b || !a)
		return -EINVAL;
	*bus = (uint8_t)b;
	*addr = (uint8_t)a;
	return 0;
}

struct say {
	int last_stage;
};

/* Tells the officer what to do, once per change of stage. */
static int on_progress(const struct fp_progress *p, void *userdata)
{
	struct say *say = userdata;

	if ((int)p->stage == say->last_stage)
		return 0;
	say->last_stage = (int)p->stage;
	if (p->stage == FP_STAGE_WAIT_LIFT)
		fprintf(stderr, _("Lift the finger from the reader.\n"));
	else if (p->stage == FP_STAGE_FINGER_ON)
		fprintf(stderr, _("Finger detected; hold still.\n"));
	return 0;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r = 0;

	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

static void print_json(const struct fp_description *d, const struct fp_capture_result *res,
		       const char *saved)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "model", json_object_new_string(d->model));
	json_object_object_add(o, "driver", json_object_new_string(d->driver));
	json_object_object_add(o, "bus", json_object_new_int(d->bus));
	json_object_object_add(o, "address", json_object_new_int(d->address));
	json_object_object_add(o, "serial", json_object_new_string(d->serial));
	json_object_object_add(o, "quality", json_object_new_int((int)res->quality));
	json_object_object_add(o, "width", json_object_new_int((int)res->image->width));
	json_object_object_add(o, "height", json_object_new_int((int)res->image->height));
	json_object_object_add(o, "saved", saved ? json_object_new_string(saved) : NULL);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static int cmd_devices_test_fingerprint_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"save", required_argument, NULL, 's'},
	    {"device", required_argument, NULL, 'd'},
	    {"timeout", required_argument, NULL, 't'},
	    {0},
	};
	const struct cli_cmd_entry *e = &cli_cmd_devices_test_fingerprint_entry;
	struct fp_open_options open_opts = {0};
	struct fp_capture_result res = {0};
	struct retas_error err = {0};
	struct fp_context *fpc = NULL;
	struct fp_device *dev = NULL;
	struct fp_description d;
	struct say say = {.last_stage = -1};
	unsigned timeout_s = DEFAULT_TIMEOUT_S;
	const char *save = NULL;
	uint8_t *png = NULL;
	size_t png_len = 0;
	int c, r, status;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			save = optarg;
			break;
		case 'd':
			if (parse_device(optarg, &open_opts.bus, &open_opts.address) < 0)
				return cli_usage_error(e,
						       _("--device wants BUS:ADDR, e.g. 3:7, not "
							 "'%s'"),
						       optarg);
			break;
		case 't':
			if (parse_uint(optarg, MAX_TIMEOUT_S, &timeout_s) < 0 || timeout_s == 0)
				return cli_usage_error(e,
						       _("--timeout wants 1-%d seconds, not '%s'"),
						       MAX_TIMEOUT_S, optarg);
			break;
		default:
			return cli_usage(e);
		}
	}
	if (optind < argc)
		return cli_usage_error(e, _("unexpected argument '%s'"), argv[optind]);

	status = CLI_EXIT_REFUSED;
	r = fp_context_new(&fpc, &err);
	if (r < 0)
		goto fail;
	r = fp_device_open(fpc, &open_opts, &dev, &err);
	if (r < 0)
		goto fail;
	fp_device_describe(dev, &d);
	if (!ctx->json) {
		printf(_("Reader: %s at USB %u:%u, driver %s\n"), d.model, d.bus, d.address,
		       d.driver);
		if (d.serial[0])
			printf(_("Serial: %s\n"), d.serial);
		printf(_("Place a finger on the reader (waiting up to %u s).\n"), timeout_s);
		fflush(stdout);
	}
	r = fp_capture_finger(dev,
			      &(struct fp_capture_request){
				  .deadline_ms = retas_time_mono_ms() + timeout_s * 1000LL,
				  .quality_threshold = TEST_QUALITY_THRESHOLD,
				  .progress = ctx->json ? NULL : on_progress,
				  .userdata = &say,
			      },
			      &res, &err);
	if (r < 0)
		goto fail;
	if (save) {
		r = fp_png_encode(res.image, d.ppi, &png, &png_len, &err);
		if (r < 0)
			goto fail;
		r = write_file(save, png, png_len);
		if (r < 0) {
			cli_error(_("cannot write %s: %s"), save, strerror(-r));
			goto out;
		}
	}
	if (ctx->json) {
		print_json(&d, &res, save);
	} else {
		printf(_("Quality: %u/100\n"), res.quality);
		if (res.flags & FP_CAPTURE_BELOW_THRESHOLD)
			printf(_("That is below %u: clean the sensor and press the finger flat and "
				 "firmly.\n"),
			       TEST_QUALITY_THRESHOLD);
		if (save)
			printf(_("Saved %s (%ux%u)\n"), save, res.image->width, res.image->height);
	}
	status = CLI_EXIT_OK;
	goto out;
fail:
	cli_error("%s", err.message);
out:
	free(png);
	fp_capture_result_clear(&res);
	fp_device_close(dev);
	fp_context_free(fpc);
	return status;
}
