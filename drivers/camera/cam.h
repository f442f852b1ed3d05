/*
 * The camera device class: one const ops table per concrete camera driver,
 * instances that embed struct cam_device, and a worker that runs captures
 * off the caller's thread.
 *
 * A capture takes one photo and hands back the camera's original JPEG; the
 * photo is removed from the camera once it is downloaded, so no student's
 * face stays on its card. Every capture runs under the caller's deadline
 * (CLOCK_MONOTONIC milliseconds, retas_time_mono_ms()), and every failure is
 * one of a few distinct errors the officer can act on:
 *
 *   -ENODEV     camera.none          no camera found at the configured port
 *   -EACCES     camera.held          another program (or host) holds the camera
 *   -EBUSY      camera.busy          the camera is busy: try again in a moment
 *   -ECONNRESET camera.disconnected  the camera went away during the capture;
 *                                    the next capture connects afresh
 *   -ETIMEDOUT  camera.timeout       no photo before the deadline
 *   -EBADMSG    camera.not_jpeg      the camera sent something that is not a JPEG
 *   -EIO        camera.failed        any other camera error
 *
 * A failed capture never leaves the device unusable: the next one works as
 * soon as the camera is back.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "retas-error.h"

struct cam_config {
	/* libgphoto2 model name and port, e.g. "PTP/IP Camera" and
	 * "ptpip:127.0.0.1:15740:15740" (give the event port too: it defaults
	 * to 15740 otherwise). Both NULL or empty: the first USB camera found. */
	const char *model;
	const char *port;
	/* Directory libgphoto2 keeps its settings in (it reads $HOME): the
	 * daemon's state directory. NULL keeps $HOME, which must be writable.
	 * libgphoto2 reads it once per process, at its first use. */
	const char *settings_dir;
};

enum cam_stage {
	CAM_STAGE_CONNECTING,
	CAM_STAGE_TRIGGERING,
	CAM_STAGE_WAITING,
	CAM_STAGE_DOWNLOADING,
	CAM_STAGE_DELETING,
	CAM_STAGE_DONE,
};

/* Called on the capturing thread as a capture moves on. */
typedef void (*cam_progress_fn)(enum cam_stage stage, void *userdata);

struct cam_shot {
	uint8_t *jpeg; /* the camera's original, malloc'd; cam_shot_clear() frees it */
	size_t size;
	char name[128];	  /* its file name on the camera */
	unsigned retries; /* reconnections the capture needed beyond the first try */
	bool deleted;	  /* removed from the camera after download */
};

struct cam_info {
	char driver[32];
	char manufacturer[64];
	char model[64];
	char serial[64];
	char port[96];
};

struct cam_device;

struct cam_ops {
	const char *name;
	/* Prepares a device from the configuration without touching the camera,
	 * so a daemon starts while the camera is still off. */
	int (*open)(const struct cam_config *cfg, struct cam_device **out, struct retas_error *err);
	/* Takes one photo before deadline_ms (CLOCK_MONOTONIC). Blocks: run it on
	 * a worker (struct cam_worker). *out is written only on success. */
	int (*capture)(struct cam_device *dev, int64_t deadline_ms, cam_progress_fn progress,
		       void *userdata, struct cam_shot *out, struct retas_error *err);
	/* What is connected; may connect. */
	int (*describe)(struct cam_device *dev, int64_t deadline_ms, struct cam_info *out,
			struct retas_error *err);
	void (*close)(struct cam_device *dev);
};

/* Every instance starts with this. */
struct cam_device {
	const struct cam_ops *ops;
};

/* The libgphoto2 driver: any camera libgphoto2 can trigger (PTP over USB or IP). */
extern const struct cam_ops cam_gphoto2_ops;

/* Dispatch through dev->ops; a missing member answers -EOPNOTSUPP. */
int cam_open(const struct cam_ops *ops, const struct cam_config *cfg, struct cam_device **out,
	     struct retas_error *err);
int cam_capture(struct cam_device *dev, int64_t deadline_ms, cam_progress_fn progress,
		void *userdata, struct cam_shot *out, struct retas_error *err);
int cam_describe(struct cam_device *dev, int64_t deadline_ms, struct cam_info *out,
		 struct retas_error *err);
/* NULL is a no-op. */
void cam_close(struct cam_device *dev);

/* Frees the photo and zeroes the shot. */
void cam_shot_clear(struct cam_shot *shot);

const char *cam_stage_name(enum cam_stage stage);

/*
 * The capture worker: one thread per camera that runs captures so the
 * daemon's event loop never blocks. The loop watches cam_worker_fd() (an
 * eventfd, readable when the stage changed or a capture finished), then calls
 * cam_worker_poll(). One capture at a time.
 */
struct cam_worker;

struct cam_result {
	int code;		  /* 0 or the capture's negative errno */
	struct retas_error error; /* when code < 0 */
	struct cam_shot shot;	  /* when code == 0; owned by the receiver */
};

/* Starts the thread; the worker borrows dev, which must outlive it. */
int cam_worker_new(struct cam_device *dev, struct cam_worker **out);
/* Waits for a running capture (bounded by its deadline), ends the thread,
 * frees an uncollected result. NULL is a no-op. */
void cam_worker_free(struct cam_worker *w);
int cam_worker_fd(const struct cam_worker *w);
/* Starts a capture; -EBUSY while one is still running or its result has
 * not been collected. */
int cam_worker_start(struct cam_worker *w, int64_t deadline_ms);
/* Clears the fd's readiness and reports: *stage the latest stage; returns 1
 * and fills *out when a capture finished (the result is handed over), 0 when
 * it is still running or nothing was started. */
int cam_worker_poll(struct cam_worker *w, enum cam_stage *stage, struct cam_result *out);
