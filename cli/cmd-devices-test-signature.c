/*
 * retas devices test signature [--save FILE.png] [--device NODE] [--idle SEC]:
 * checks the signature pad on the spot, without the daemon. It captures one
 * signature through the driver itself (the same code the daemon runs),
 * draws it at 300 DPI and saves the PNG, with the pen's time series as JSON
 * beside it, so an officer can see that the pad, its size and its pressure
 * work before the first student signs. Keys while signing: Enter accepts,
 * c clears the pad for a new try, q cancels. Exit 0 saved, 1 refused (no
 * pad, pad busy or unplugged, nothing or too little drawn), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "retas-json.h"
#include "retas-time.h"
#include "sig.h"

#define CAPTURE_TIMEOUT_MS (180 * 1000)

static int cmd_devices_test_signature_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_devices_test_signature_entry = {
    .name = "devices test signature",
    .args = "[--save FILE.png] [--device NODE] [--idle SEC]",
    .summary = N_("Capture one signature on the pad and save it as a PNG."),
    .help = N_("Finds the signature pad (or uses --device), captures one signature and\n"
	       "saves it as an 8-bit grey PNG at 300 DPI, cropped to the ink, with the\n"
	       "pen's time series as JSON beside it (FILE.json).\n"
	       "\n"
	       "While signing: Enter accepts, c clears the pad to sign again, q cancels.\n"
	       "\n"
	       "  --save FILE.png  where to save (default signature.png)\n"
	       "  --device NODE    the pad's event device, e.g. /dev/input/event5\n"
	       "                   (default: the first pen tablet udev knows)\n"
	       "  --idle SEC       end the signature SEC seconds after the last stroke\n"
	       "                   (default 2; 0: only Enter ends it)\n"
	       "  --json           print the result as JSON\n"
	       "\n"
	       "Exit status: 0 saved, 1 refused (the reason is printed), 2 usage error.\n"),
    .exec = cmd_devices_test_signature_exec,
};

/* Seconds with up to three decimals, as milliseconds; a decimal point
 * whatever the locale says. */
static int parse_seconds(const char *s, int *out_ms)
{
	long ms = 0;
	int decimals = -1, digits = 0;

	for (const char *p = s; *p; p++) {
		if (*p == '.' && decimals < 0) {
			decimals = 0;
			continue;
		}
		if (*p < '0' || *p > '9' || decimals >= 3 || ms > 3600000)
			return -EINVAL;
		ms = ms * 10 + (*p - '0');
		digits++;
		if (decimals >= 0)
			decimals++;
	}
	if (!digits)
		return -EINVAL;
	for (int d = decimals < 0 ? 0 : decimals; d < 3; d++)
		ms *= 10;
	if (ms > 600000)
		return -ERANGE;
	*out_ms = (int)ms;
	return 0;
}

/* Writes data beside path and renames it into place, so a failure leaves
 * no half-written file. */
static int save_file(const char *path, const void *data, size_t len)
{
	_cleanup_(freep) char *tmp = NULL;
	const uint8_t *p = data;
	int fd, r = 0;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static char *json_path_for(const char *png)
{
	size_t len = strlen(png);
	char *out = NULL;

	if (len > 4 && strcmp(png + len - 4, ".png") == 0) {
		if (asprintf(&out, "%.*s.json", (int)(len - 4), png) < 0)
			return NULL;
	} else if (asprintf(&out, "%s.json", png) < 0) {
		return NULL;
	}
	return out;
}

struct live {
	bool tty;
	unsigned strokes;
};

static void on_progress(void *userdata, const struct sig_progress *p)
{
	struct live *l = userdata;

	if (p->cleared)
		fprintf(stderr, _("Cleared. Please sign again.\n"));
	else if (l->tty && p->strokes != l->strokes)
		fprintf(stderr, _("\rStrokes: %u, samples: %u "), p->strokes, p->points);
	l->strokes = p->strokes;
}

static void print_result(struct cli_ctx *ctx, const char *png_path, const char *json_path,
			 const struct sig_signature *sig, unsigned w, unsigned h, unsigned dpi)
{
	double ink = sig_signature_ink_mm(sig);
	unsigned strokes = sig_signature_strokes(sig);

	if (ctx->json) {
		_cleanup_(json_object_putp) json_object *o = json_object_new_object();
		char *text = NULL;

		json_object_object_add(o, "png", json_object_new_string(png_path));
		json_object_object_add(o, "series", json_object_new_string(json_path));
		json_object_object_add(o, "width_px", json_object_new_int64(w));
		json_object_object_add(o, "height_px", json_object_new_int64(h));
		json_object_object_add(o, "dpi", json_object_new_int64(dpi));
		json_object_object_add(o, "samples", json_object_new_int64((int64_t)sig->n_points));
		json_object_object_add(o, "strokes", json_object_new_int64(strokes));
		json_object_object_add(o, "ink_um", json_object_new_int64((int64_t)(ink * 1000)));
		if (retas_json_to_string(o, &text) == 0)
			printf("%s\n", text);
		free(text);
		return;
	}
	printf(_("Saved %s: %u x %u pixels at %u DPI (%.1f x %.1f mm).\n"), png_path, w, h, dpi,
	       w * 25.4 / dpi, h * 25.4 / dpi);
	printf(dngettext(GETTEXT_PACKAGE,
			 "%zu samples in %u stroke, %.0f mm of ink; time series in %s.\n",
			 "%zu samples in %u strokes, %.0f mm of ink; time series in %s.\n",
			 strokes),
	       sig->n_points, strokes, ink, json_path);
}

static int capture(struct cli_ctx *ctx, struct sig_device *dev, const char *png_path)
{
	_cleanup_(sig_signature_freep) struct sig_signature *sig = NULL;
	_cleanup_(sig_image_freep) struct sig_image *img = NULL;
	_cleanup_(freep) char *json_path = json_path_for(png_path);
	_cleanup_(freep) uint8_t *png = NULL;
	_cleanup_(freep) char *series = NULL;
	struct retas_error err = {0};
	struct sig_render_opts opts;
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO);
	struct live live = {.tty = isatty(STDERR_FILENO)};
	struct sig_capture_params params = {
	    .deadline_ms = retas_time_mono_ms() + CAPTURE_TIMEOUT_MS,
	    .control_fd = STDIN_FILENO,
	    .progress = on_progress,
	    .userdata = &live,
	};
	size_t png_len = 0;
	int r;

	if (!json_path)
		return CLI_EXIT_REFUSED;
	/* single keys, no echo: Enter, c and q act at once */
	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else {
		tty = false;
	}
	r = sig_device_capture(dev, &params, &sig, &err);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (live.tty && live.strokes)
		fputc('\n', stderr);
	if (r < 0) {
		cli_error("%s", err.message);
		return CLI_EXIT_REFUSED;
	}

	sig_render_opts_defaults(&opts);
	if (sig_render(sig, &opts, &img) < 0 || sig_image_to_png(img, &png, &png_len) < 0) {
		cli_error(_("cannot draw the signature as a PNG"));
		return CLI_EXIT_REFUSED;
	}
	if (sig_series_to_json(sig, &series) < 0) {
		cli_error(_("cannot write the time series"));
		return CLI_EXIT_REFUSED;
	}
	r = save_file(png_path, png, png_len);
	if (r == 0)
		r = save_file(json_path, series, strlen(series));
	if (r < 0) {
		cli_error(_("cannot save %s: %s"), png_path, strerror(-r));
		return CLI_EXIT_REFUSED;
	}
	print_result(ctx, png_path, json_path, sig, img->width, img->height, img->dpi);
	return CLI_EXIT_OK;
}

static int cmd_devices_test_signature_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"save", required_argument, NULL, 's'},
	    {"device", required_argument, NULL, 'd'},
	    {"idle", required_argument, NULL, 'i'},
	    {0},
	};
	const struct cli_cmd_entry *e = &cli_cmd_devices_test_signature_entry;
	_cleanup_(sig_device_closep) struct sig_device *dev = NULL;
	const char *save = "signature.png";
	struct retas_error err = {0};
	struct sig_config cfg;
	struct sig_info info;
	int c;

	sig_config_defaults(&cfg);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!*optarg)
				return cli_usage_error(e, _("--save needs a file name"));
			save = optarg;
			break;
		case 'd':
			cfg.device_node = optarg;
			break;
		case 'i':
			if (parse_seconds(optarg, &cfg.idle_ms) < 0)
				return cli_usage_error(e,
						       _("--idle wants seconds from 0 to 600, "
							 "e.g. 2 or 0.5, not '%s'"),
						       optarg);
			break;
		default:
			return cli_usage(e);
		}
	}
	if (optind < argc)
		return cli_usage_error(e, _("unexpected argument '%s'"), argv[optind]);

	if (sig_device_open(NULL, &cfg, &dev, &err) < 0) {
		cli_error("%s", err.message);
		return CLI_EXIT_REFUSED;
	}
	if (sig_device_describe(dev, &info) == 0 && !ctx->json) {
		printf(_("Signature pad: %s at %s, %.0f x %.0f mm%s, %u pressure levels.\n"),
		       info.name, info.node, info.width_mm, info.height_mm,
		       info.size_configured ? _(" (configured)") : "", info.pressure_levels);
		if (cfg.idle_ms)
			printf(_("Sign on the pad. Enter accepts, c clears, q cancels; the "
				 "signature also ends %.1f s after the last stroke.\n"),
			       cfg.idle_ms / 1000.0);
		else
			printf(_("Sign on the pad. Enter accepts, c clears, q cancels.\n"));
		fflush(stdout);
	}
	return capture(ctx, dev, save);
}
