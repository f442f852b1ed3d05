/*
 * The libgphoto2 camera driver: any camera libgphoto2 can trigger, over USB
 * or PTP/IP.
 *
 * A capture is gp_camera_trigger_capture() followed by a
 * gp_camera_wait_for_event() loop under our own deadline, then a download and
 * a delete. The plain gp_camera_capture() is never used: it waits inside
 * libgphoto2 for a completion the camera may never report.
 *
 * libgphoto2 2.5.30's PTP/IP transport reads its sockets with blocking
 * read() and no timeout, so a camera that falls silent in the middle of an
 * operation would hold the capturing thread for ever. A guard thread per
 * device watches the deadline; when it passes, it shuts down the sockets
 * connected to the camera's address (found in /proc/self/fd), which makes the
 * blocked read return, and the capture ends in -ETIMEDOUT. shutdown() does not
 * close the descriptors, so libgphoto2 still owns and closes them. Over USB,
 * libgphoto2's own port timeouts and the context's cancel function bound
 * every call.
 *
 * Any failure but "busy" and "not a JPEG" drops the connection, so the next
 * capture connects afresh: a camera that was switched off and on, unplugged
 * or restarted works again without restarting the daemon.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gphoto2/gphoto2.h>

#include "cam.h"
#include "retas-i18n.h"
#include "retas-log.h"
#include "retas-time.h"
#include "retas-util.h"

#define MAX_ADDED 8
/* Time for CloseSession when a healthy camera is let go. */
#define CLOSE_GRACE_MS 2000

struct gp_dev {
	struct cam_device base;
	char *model; /* configured, or NULL to autodetect over USB */
	char *port;
	GPContext *ctx;
	CameraAbilitiesList *abilities;
	GPPortInfoList *ports;
	Camera *camera; /* connected, or NULL */
	char cur_model[128];
	char cur_port[128];
	int64_t deadline; /* of the call in progress, for the cancel function */

	/* Where a PTP/IP camera listens, for the guard. */
	bool ip;
	struct in_addr ip_addr;
	uint16_t ip_ports[2];

	/* Files a failed capture left on the camera, deleted at the next one. */
	CameraFilePath leftover[MAX_ADDED];
	size_t n_leftover;

	pthread_t guard;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int64_t guard_deadline; /* 0: disarmed */
	bool guard_fired;
	bool guard_quit;
};

#define to_gp_dev(d)                                                                               \
	({                                                                                         \
		struct cam_device *_d = (d);                                                       \
		(struct gp_dev *)((char *)_d - offsetof(struct gp_dev, base));                     \
	})

static int64_t now_ms(void)
{
	return retas_time_mono_ms();
}

/* --- PTP/IP transport guard --------------------------------------------- */

/* "ptpip:HOST[:PORT[:EVTPORT]]" with a dotted IPv4 HOST, as libgphoto2
 * parses it; the event port defaults to 15740 like there. */
static bool parse_ptpip(const char *port, struct in_addr *addr, uint16_t ports[2])
{
	char host[64];
	unsigned p1 = 15740, p2 = 15740;
	const char *s;
	size_t n;

	if (strncmp(port, "ptpip:", 6) != 0)
		return false;
	s = port + 6;
	n = strcspn(s, ":");
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = 0;
	if (inet_pton(AF_INET, host, addr) != 1)
		return false;
	s += n;
	if (*s == ':' && sscanf(s + 1, "%u", &p1) != 1)
		return false;
	if (*s == ':' && (s = strchr(s + 1, ':')) && sscanf(s + 1, "%u", &p2) != 1)
		return false;
	if (p1 == 0 || p1 > 65535 || p2 == 0 || p2 > 65535)
		return false;
	ports[0] = (uint16_t)p1;
	ports[1] = (uint16_t)p2;
	return true;
}

/* Calls fn on every socket of this process connected to the camera; returns
 * how many there were. */
static int for_each_camera_socket(struct gp_dev *d, void (*fn)(int fd, void *data), void *data)
{
	DIR *dir;
	struct dirent *de;
	int count = 0;

	dir = opendir("/proc/self/fd");
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		struct stat st;
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || fd < 0 || fd == dirfd(dir))
			continue;
		if (fstat((int)fd, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (getpeername((int)fd, (struct sockaddr *)&peer, &len) < 0 ||
		    peer.sin_family != AF_INET || peer.sin_addr.s_addr != d->ip_addr.s_addr)
			continue;
		if (ntohs(peer.sin_port) != d->ip_ports[0] &&
		    ntohs(peer.sin_port) != d->ip_ports[1])
			continue;
		count++;
		if (fn)
			fn((int)fd, data);
	}
	closedir(dir);
	return count;
}

static void cut_one(int fd, void *data)
{
	shutdown(fd, SHUT_RDWR);
}

/* Makes every blocked read or write on the camera's sockets return. */
static void cut_transport(struct gp_dev *d)
{
	if (d->ip)
		for_each_camera_socket(d, cut_one, NULL);
}

static void check_hangup(int fd, void *data)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};

	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
		*(bool *)data = true;
}

/* Whether the camera hung up (PTP/IP), or the error says the device went
 * away (USB). */
static bool transport_lost(struct gp_dev *d, int gr)
{
	bool hung_up = false;

	if (d->ip)
		return for_each_camera_socket(d, check_hangup, &hung_up) == 0 || hung_up;
	return gr == GP_ERROR_IO || gr == GP_ERROR_IO_READ || gr == GP_ERROR_IO_WRITE ||
	       gr == GP_ERROR_IO_USB_FIND || gr == GP_ERROR_IO_INIT;
}

static void *guard_main(void *data)
{
	struct gp_dev *d = data;

	pthread_mutex_lock(&d->lock);
	while (!d->guard_quit) {
		if (d->guard_deadline == 0 || d->guard_fired) {
			pthread_cond_wait(&d->cond, &d->lock);
			continue;
		}
		if (now_ms() >= d->guard_deadline) {
			d->guard_fired = true;
			log_debug("camera: deadline passed, cutting the connection");
			cut_transport(d);
			continue;
		}
		struct timespec ts = {
		    .tv_sec = d->guard_deadline / 1000,
		    .tv_nsec = (d->guard_deadline % 1000) * 1000000,
		};
		pthread_cond_timedwait(&d->cond, &d->lock, &ts);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static void guard_arm(struct gp_dev *d, int64_t deadline)
{
	pthread_mutex_lock(&d->lock);
	d->guard_deadline = deadline > 0 ? deadline : 1;
	d->guard_fired = false;
	d->deadline = deadline;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

static bool guard_fired(struct gp_dev *d)
{
	bool fired;

	pthread_mutex_lock(&d->lock);
	fired = d->guard_fired;
	pthread_mutex_unlock(&d->lock);
	return fired;
}

/* Returns whether the guard fired while armed. */
static bool guard_disarm(struct gp_dev *d)
{
	bool fired;

	pthread_mutex_lock(&d->lock);
	fired = d->guard_fired;
	d->guard_deadline = 0;
	d->guard_fired = false;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return fired;
}

static GPContextFeedback cancel_past_deadline(GPContext *ctx, void *data)
{
	struct gp_dev *d = data;

	return d->deadline > 0 && now_ms() >= d->deadline ? GP_CONTEXT_FEEDBACK_CANCEL
							  : GP_CONTEXT_FEEDBACK_OK;
}

static void gphoto2_log(GPLogLevel level, const char *domain, const char *str, void *data)
{
	log_debug("libgphoto2 %s: %s", domain, str);
}

/* --- errors -------------------------------------------------------------- */

static int err_timeout(struct retas_error *err, int64_t deadline)
{
	return retas_error_set(err, -ETIMEDOUT, "camera.timeout",
			       N_("The camera took no photo in the time allowed. Check that it is "
				  "switched on and focused, then try again."));
}

static int err_busy(struct retas_error *err)
{
	return retas_error_set(err, -EBUSY, "camera.busy",
			       N_("The camera is busy. Wait a moment and take the photo again."));
}

static int err_held(struct retas_error *err, const char *port)
{
	return retas_error_set(err, -EACCES, "camera.held",
			       N_("The camera at %s is in use by another program or computer. "
				  "Close that program, then try again."),
			       port);
}

static int err_disconnected(struct retas_error *err)
{
	return retas_error_set(err, -ECONNRESET, "camera.disconnected",
			       N_("The camera disconnected during the photo. Check its cable or "
				  "network and that it is switched on, then try again."));
}

/* An error from gp_camera_init(). */
static int map_connect_error(struct gp_dev *d, int gr, struct retas_error *err)
{
	if (guard_fired(d) || gr == GP_ERROR_TIMEOUT || gr == GP_ERROR_CANCEL)
		return err_timeout(err, d->deadline);
	switch (gr) {
	case GP_ERROR_IO_USB_CLAIM:
	case GP_ERROR_IO_LOCK:
		return err_held(err, d->cur_port);
	case GP_ERROR_CAMERA_BUSY:
		return err_busy(err);
	case GP_ERROR:
		/* ptp2 answers a PTP/IP Init_Fail (the camera turns a second
		 * initiator away) with a bare GP_ERROR; a port with nothing
		 * listening fails to connect with GP_ERROR_IO instead. */
		if (d->ip)
			return err_held(err, d->cur_port);
		break;
	default:
		break;
	}
	return retas_error_set(err, -ENODEV, "camera.none",
			       N_("No camera answered at %s (%s). Check that it is connected and "
				  "switched on."),
			       d->cur_port, gp_result_as_string(gr));
}

/* An error from a call on a connected camera. */
static int map_capture_error(struct gp_dev *d, int gr, const char *what, struct retas_error *err)
{
	if (guard_fired(d) || gr == GP_ERROR_TIMEOUT || gr == GP_ERROR_CANCEL)
		return err_timeout(err, d->deadline);
	if (gr == GP_ERROR_CAMERA_BUSY)
		return err_busy(err);
	if (gr == GP_ERROR_IO_USB_CLAIM || gr == GP_ERROR_IO_LOCK)
		return err_held(err, d->cur_port);
	if (transport_lost(d, gr))
		return err_disconnected(err);
	return retas_error_set(err, -EIO, "camera.failed", N_("The camera failed to %s: %s."), what,
			       gp_result_as_string(gr));
}

/* --- connection ---------------------------------------------------------- */

static void disconnect(struct gp_dev *d, bool graceful)
{
	if (!d->camera)
		return;
	if (!graceful)
		cut_transport(d);
	gp_camera_exit(d->camera, d->ctx);
	gp_camera_unref(d->camera);
	d->camera = NULL;
}

/* The first USB camera libgphoto2 finds. */
static int autodetect(struct gp_dev *d, struct retas_error *err)
{
	CameraList *list = NULL;
	int n, r = -ENODEV;

	if (gp_list_new(&list) < GP_OK)
		return -ENOMEM;
	n = gp_camera_autodetect(list, d->ctx);
	for (int i = 0; i < n; i++) {
		const char *name = NULL, *port = NULL;

		gp_list_get_name(list, i, &name);
		gp_list_get_value(list, i, &port);
		if (name && port && strncmp(port, "usb:", 4) == 0) {
			snprintf(d->cur_model, sizeof(d->cur_model), "%s", name);
			snprintf(d->cur_port, sizeof(d->cur_port), "%s", port);
			r = 0;
			break;
		}
	}
	gp_list_free(list);
	if (r < 0)
		retas_error_set(err, -ENODEV, "camera.none",
				N_("No camera was found on USB. Check that it is connected, "
				   "switched on and set to PTP mode."));
	return r;
}

/* Looks the model and port up in libgphoto2's lists and gives them to cam. */
static int set_model_and_port(struct gp_dev *d, Camera *cam, const char *model, const char *port,
			      struct retas_error *err)
{
	CameraAbilities a;
	GPPortInfo pi;
	int i;

	i = gp_abilities_list_lookup_model(d->abilities, model);
	if (i < GP_OK || gp_abilities_list_get_abilities(d->abilities, i, &a) < GP_OK)
		return retas_error_set(err, -EINVAL, "camera.model",
				       N_("libgphoto2 does not know the camera model '%s'."),
				       model);
	i = gp_port_info_list_lookup_path(d->ports, port);
	if (i < GP_OK || gp_port_info_list_get_info(d->ports, i, &pi) < GP_OK)
		return retas_error_set(err, -EINVAL, "camera.port",
				       N_("The camera port '%s' is not one libgphoto2 can use."),
				       port);
	if (cam &&
	    (gp_camera_set_abilities(cam, a) < GP_OK || gp_camera_set_port_info(cam, pi) < GP_OK))
		return retas_error_set(err, -EIO, "camera.failed",
				       N_("libgphoto2 refused the camera model or port."));
	return 0;
}

static bool label_has(const char *label, const char *word)
{
	return strcasestr(label, word) != NULL;
}

static bool jpeg_only(const char *label)
{
	return (label_has(label, "JPEG") || label_has(label, "JPG")) && !label_has(label, "RAW") &&
	       !strchr(label, '+');
}

/*
 * Where the camera offers them, captures to its RAM (nothing is written to
 * the card) and in a JPEG-only format. The choices come from the camera's
 * own widgets; a choice is recognised by what its label names (RAM, JPEG),
 * and nothing is set when no choice fits. Best effort: a camera without these
 * settings captures as it is configured.
 */
static void prefer_ram_and_jpeg(struct gp_dev *d)
{
	static const struct {
		const char *widget;
		bool (*fits)(const char *label);
	} prefs[] = {
	    {"capturetarget", NULL},
	    {"imageformat", jpeg_only},
	    {"imagequality", jpeg_only},
	};

	for (size_t p = 0; p < ARRAY_SIZE(prefs); p++) {
		CameraWidget *w = NULL;
		CameraWidgetType type;
		const char *cur = NULL, *pick = NULL;
		int n;

		/* 2.5.30 can answer GP_OK without a widget for a name it lacks. */
		if (gp_camera_get_single_config(d->camera, prefs[p].widget, &w, d->ctx) < GP_OK ||
		    !w)
			continue;
		if (gp_widget_get_type(w, &type) < GP_OK ||
		    (type != GP_WIDGET_RADIO && type != GP_WIDGET_MENU) ||
		    gp_widget_get_value(w, &cur) < GP_OK || !cur)
			goto next;
		n = gp_widget_count_choices(w);
		for (int i = 0; i < n && !pick; i++) {
			const char *c = NULL;

			if (gp_widget_get_choice(w, i, &c) < GP_OK || !c)
				continue;
			if (prefs[p].fits ? prefs[p].fits(c) : label_has(c, "RAM"))
				pick = c;
		}
		if (pick && !(prefs[p].fits ? prefs[p].fits(cur) : label_has(cur, "RAM")) &&
		    gp_widget_set_value(w, pick) >= GP_OK) {
			int r = gp_camera_set_single_config(d->camera, prefs[p].widget, w, d->ctx);

			log_debug("camera: %s set to '%s': %s", prefs[p].widget, pick,
				  gp_result_as_string(r));
		}
	next:
		gp_widget_free(w);
	}
}

/*
 * Whether anything listens at a PTP/IP camera's command port, before
 * libgphoto2 tries: with nothing there, gp_camera_init() fails only after
 * ptp2 has set up state it does not free on that path (about 64 KiB per
 * attempt, while a camera is switched off and the officer keeps trying).
 * The probe connection is closed at once, before any PTP/IP packet.
 */
static int probe_ptpip(struct gp_dev *d, struct retas_error *err)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_addr = d->ip_addr, .sin_port = htons(d->ip_ports[0])};
	int64_t left = d->deadline - now_ms();
	int fd, r = 0, soerr = 0;
	socklen_t len = sizeof(soerr);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};

		if (errno != EINPROGRESS)
			soerr = errno;
		else if (poll(&p, 1, (int)(left < 0 ? 0 : left > 5000 ? 5000 : left)) != 1)
			soerr = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
	}
	close(fd);
	if (soerr)
		r = retas_error_set(
		    err, -ENODEV, "camera.none",
		    N_("No camera answered at %s (%s). Check that it is switched on "
		       "and on the network."),
		    d->cur_port, strerror(soerr));
	return r;
}

static int connect_camera(struct gp_dev *d, struct retas_error *err)
{
	Camera *cam = NULL;
	int gr, r;

	if (d->model) {
		snprintf(d->cur_model, sizeof(d->cur_model), "%s", d->model);
		snprintf(d->cur_port, sizeof(d->cur_port), "%s", d->port);
	} else {
		r = autodetect(d, err);
		if (r < 0)
			return r;
	}
	if (d->ip) {
		r = probe_ptpip(d, err);
		if (r < 0)
			return r;
	}
	if (gp_camera_new(&cam) < GP_OK)
		return -ENOMEM;
	r = set_model_and_port(d, cam, d->cur_model, d->cur_port, err);
	if (r < 0)
		goto fail;
	gr = gp_camera_init(cam, d->ctx);
	if (gr < GP_OK) {
		cut_transport(d);
		r = map_connect_error(d, gr, err);
		goto fail;
	}
	d->camera = cam;
	prefer_ram_and_jpeg(d);
	log_debug("camera: connected to %s at %s", d->cur_model, d->cur_port);
	return 0;
fail:
	gp_camera_unref(cam);
	return r;
}

/* --- capture ------------------------------------------------------------- */

static void report(cam_progress_fn progress, void *userdata, enum cam_stage stage)
{
	if (progress)
		progress(stage, userdata);
}

static bool is_jpeg_name(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0);
}

static void remember_leftover(struct gp_dev *d, const CameraFilePath *p)
{
	if (d->n_leftover < MAX_ADDED)
		d->leftover[d->n_leftover++] = *p;
}

/* Removes what earlier failed captures left on the camera. */
static void delete_leftovers(struct gp_dev *d)
{
	for (size_t i = 0; i < d->n_leftover; i++) {
		int gr = gp_camera_file_delete(d->camera, d->leftover[i].folder,
					       d->leftover[i].name, d->ctx);

		log_debug("camera: deleting leftover %s/%s: %s", d->leftover[i].folder,
			  d->leftover[i].name, gp_result_as_string(gr));
	}
	d->n_leftover = 0;
}

/*
 * Waits for the photo: collects the files the camera adds until it reports
 * the capture complete, or, for cameras that never say so, until a short
 * quiet spell after the first file.
 */
static int wait_for_files(struct gp_dev *d, int64_t deadline, CameraFilePath *added, size_t *n,
			  struct retas_error *err)
{
	int64_t quiet_until = 0;

	*n = 0;
	for (;;) {
		int64_t now = now_ms(), left = deadline - now;
		CameraEventType type;
		void *data = NULL;
		int gr;

		if (quiet_until && now >= quiet_until)
			return 0;
		if (left <= 0)
			return *n ? 0 : err_timeout(err, deadline);
		if (quiet_until && quiet_until - now < left)
			left = quiet_until - now;
		gr = gp_camera_wait_for_event(d->camera, (int)(left > 1000 ? 1000 : left), &type,
					      &data, d->ctx);
		if (gr < GP_OK)
			return map_capture_error(d, gr, N_("report the photo"), err);
		if (type == GP_EVENT_FILE_ADDED) {
			const CameraFilePath *p = data;

			log_debug("camera: file added %s/%s", p->folder, p->name);
			if (*n < MAX_ADDED)
				added[(*n)++] = *p;
			if (!quiet_until)
				quiet_until = now_ms() + 500;
		} else if (type == GP_EVENT_CAPTURE_COMPLETE && *n) {
			free(data);
			return 0;
		}
		free(data);
	}
}

/*
 * Downloads into a memfd rather than a memory CameraFile: libgphoto2 grows
 * a memory file by realloc() for every data packet, which for a 24 MP photo
 * copies the photo many times over; a file descriptor takes plain writes.
 */
static int download(struct gp_dev *d, const CameraFilePath *path, struct cam_shot *shot,
		    struct retas_error *err)
{
	CameraFile *file = NULL;
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd, gr, r = 0;

	fd = memfd_create("retas-camera", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The file owns fd from here and closes it. */
	if (gp_file_new_from_fd(&file, fd) < GP_OK) {
		close(fd);
		return -ENOMEM;
	}
	gr = gp_camera_file_get(d->camera, path->folder, path->name, GP_FILE_TYPE_NORMAL, file,
				d->ctx);
	if (gr < GP_OK) {
		r = map_capture_error(d, gr, N_("send the photo"), err);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size == 0) {
		r = retas_error_set(err, -EBADMSG, "camera.not_jpeg",
				    N_("The camera sent an empty file instead of a photo."));
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);

		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	shot->jpeg = steal_ptr(buf);
	shot->size = got;
	snprintf(shot->name, sizeof(shot->name), "%s", path->name);
out:
	free(buf);
	gp_file_unref(file);
	return r;
}

static int gp_capture(struct cam_device *dev, int64_t deadline, cam_progress_fn progress,
		      void *userdata, struct cam_shot *out, struct retas_error *err)
{
	struct gp_dev *d = to_gp_dev(dev);
	CameraFilePath added[MAX_ADDED];
	struct cam_shot shot = {0};
	size_t n_added = 0, pick = 0;
	bool fresh, fired;
	int gr, r;

	guard_arm(d, deadline);
again:
	fresh = !d->camera;
	if (!d->camera) {
		report(progress, userdata, CAM_STAGE_CONNECTING);
		r = connect_camera(d, err);
		if (r < 0)
			goto out;
	}
	if (d->n_leftover)
		delete_leftovers(d);

	report(progress, userdata, CAM_STAGE_TRIGGERING);
	gr = gp_camera_trigger_capture(d->camera, d->ctx);
	if (gr < GP_OK) {
		/* A connection kept from the last capture may have died since
		 * (camera switched off and on): connect once more. */
		if (!fresh && shot.retries == 0 && gr != GP_ERROR_CAMERA_BUSY && !guard_fired(d) &&
		    transport_lost(d, gr)) {
			log_debug("camera: kept connection is gone, reconnecting");
			disconnect(d, false);
			shot.retries++;
			goto again;
		}
		r = map_capture_error(d, gr, N_("take the photo"), err);
		goto out;
	}

	report(progress, userdata, CAM_STAGE_WAITING);
	r = wait_for_files(d, deadline, added, &n_added, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n_added; i++) {
		if (is_jpeg_name(added[i].name)) {
			pick = i;
			break;
		}
	}

	report(progress, userdata, CAM_STAGE_DOWNLOADING);
	r = download(d, &added[pick], &shot, err);

	report(progress, userdata, CAM_STAGE_DELETING);
	shot.deleted = true;
	for (size_t i = 0; i < n_added; i++) {
		/* After a failed download the connection is dropped: the files
		 * are deleted at the next capture instead. */
		gr = r < 0
			 ? GP_ERROR
			 : gp_camera_file_delete(d->camera, added[i].folder, added[i].name, d->ctx);
		if (gr < GP_OK) {
			remember_leftover(d, &added[i]);
			if (i == pick)
				shot.deleted = false;
		}
	}
	if (r < 0)
		goto out;
	if (shot.size < 3 || shot.jpeg[0] != 0xFF || shot.jpeg[1] != 0xD8 || shot.jpeg[2] != 0xFF) {
		r = retas_error_set(err, -EBADMSG, "camera.not_jpeg",
				    N_("The camera sent '%s', which is not a JPEG photo. Set the "
				       "camera to JPEG."),
				    shot.name);
		goto out;
	}
	report(progress, userdata, CAM_STAGE_DONE);
	*out = shot;
	shot = (struct cam_shot){0};
out:
	fired = guard_disarm(d);
	if (fired && r < 0 && r != -ETIMEDOUT)
		r = err_timeout(err, deadline);
	if (fired || (r < 0 && r != -EBUSY && r != -EBADMSG))
		disconnect(d, false);
	cam_shot_clear(&shot);
	return r;
}

/* --- describe, open, close ------------------------------------------------ */

static void config_text(struct gp_dev *d, const char *name, char *buf, size_t size)
{
	CameraWidget *w = NULL;
	const char *v = NULL;

	if (gp_camera_get_single_config(d->camera, name, &w, d->ctx) < GP_OK || !w)
		return;
	if (gp_widget_get_value(w, &v) >= GP_OK && v)
		snprintf(buf, size, "%s", v);
	gp_widget_free(w);
}

static int gp_describe(struct cam_device *dev, int64_t deadline, struct cam_info *out,
		       struct retas_error *err)
{
	struct gp_dev *d = to_gp_dev(dev);
	struct cam_info info = {0};
	int r = 0;

	guard_arm(d, deadline);
	if (!d->camera)
		r = connect_camera(d, err);
	if (r >= 0) {
		snprintf(info.driver, sizeof(info.driver), "gphoto2");
		snprintf(info.model, sizeof(info.model), "%s", d->cur_model);
		snprintf(info.port, sizeof(info.port), "%s", d->cur_port);
		config_text(d, "manufacturer", info.manufacturer, sizeof(info.manufacturer));
		config_text(d, "cameramodel", info.model, sizeof(info.model));
		config_text(d, "serialnumber", info.serial, sizeof(info.serial));
	}
	if (guard_disarm(d)) {
		disconnect(d, false);
		r = err_timeout(err, deadline);
	}
	if (r >= 0)
		*out = info;
	return r;
}

static void gp_close(struct cam_device *dev)
{
	struct gp_dev *d = to_gp_dev(dev);

	if (d->camera) {
		guard_arm(d, now_ms() + CLOSE_GRACE_MS);
		disconnect(d, true);
		guard_disarm(d);
	}
	pthread_mutex_lock(&d->lock);
	d->guard_quit = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->guard, NULL);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	if (d->ports)
		gp_port_info_list_free(d->ports);
	if (d->abilities)
		gp_abilities_list_free(d->abilities);
	if (d->ctx)
		gp_context_unref(d->ctx);
	free(d->model);
	free(d->port);
	free(d);
}

/* libgphoto2 keeps its settings (the PTP/IP GUID among them) in $HOME/.gphoto. */
static int use_settings_dir(const char *dir, struct retas_error *err)
{
	const char *home = dir && *dir ? dir : getenv("HOME");

	if (!home || !*home || access(home, W_OK | X_OK) < 0)
		return retas_error_set(err, -EACCES, "camera.settings",
				       N_("The camera settings directory '%s' is not writable."),
				       home ? home : "$HOME");
	if (dir && *dir && setenv("HOME", dir, 1) < 0)
		return -errno;
	return 0;
}

static void ignore_sigpipe(void)
{
	struct sigaction old;

	/* A camera that hangs up makes libgphoto2's next write raise SIGPIPE,
	 * which would kill the daemon. Leave a handler someone set alone. */
	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

/* libgphoto2's own messages, only when debugging: once any log function is
 * registered, libgphoto2 hex-dumps every data packet it moves, which makes a
 * 24 MP download take three times as long. */
static void add_log_func(void)
{
	const char *level = getenv("RETAS_LOG_LEVEL");

	if (level && streq(level, "debug"))
		gp_log_add_func(GP_LOG_ERROR, gphoto2_log, NULL);
}

static int gp_open(const struct cam_config *cfg, struct cam_device **out, struct retas_error *err)
{
	struct gp_dev *d = NULL;
	bool have_model = cfg && cfg->model && *cfg->model,
	     have_port = cfg && cfg->port && *cfg->port;
	pthread_condattr_t ca;
	int r;

	if (have_model != have_port)
		return retas_error_set(err, -EINVAL, "camera.config",
				       N_("Set both camera.model and camera.port, or neither to "
					  "find a USB camera."));
	r = use_settings_dir(cfg ? cfg->settings_dir : NULL, err);
	if (r < 0)
		return r;
	ignore_sigpipe();
	pthread_once(&log_once, add_log_func);

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->base.ops = &cam_gphoto2_ops;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&d->guard, NULL, guard_main, d) != 0) {
		pthread_cond_destroy(&d->cond);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return -EAGAIN;
	}
	d->ctx = gp_context_new();
	if (!d->ctx || gp_abilities_list_new(&d->abilities) < GP_OK ||
	    gp_port_info_list_new(&d->ports) < GP_OK) {
		r = -ENOMEM;
		goto fail;
	}
	gp_context_set_cancel_func(d->ctx, cancel_past_deadline, d);
	if (gp_abilities_list_load(d->abilities, d->ctx) < GP_OK ||
	    gp_port_info_list_load(d->ports) < GP_OK) {
		r = retas_error_set(err, -EIO, "camera.library",
				    N_("libgphoto2 could not load its camera drivers."));
		goto fail;
	}
	if (have_model) {
		r = set_model_and_port(d, NULL, cfg->model, cfg->port, err);
		if (r < 0)
			goto fail;
		d->model = strdup(cfg->model);
		d->port = strdup(cfg->port);
		if (!d->model || !d->port) {
			r = -ENOMEM;
			goto fail;
		}
		d->ip = parse_ptpip(d->port, &d->ip_addr, d->ip_ports);
	}
	*out = &d->base;
	return 0;
fail:
	gp_close(&d->base);
	return r;
}

const struct cam_ops cam_gphoto2_ops = {
    .name = "gphoto2",
    .open = gp_open,
    .capture = gp_capture,
    .describe = gp_describe,
    .close = gp_close,
};
