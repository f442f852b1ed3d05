/*
 * The camera device class's dispatch: callers go through these so a driver
 * that leaves a member out answers -EOPNOTSUPP instead of crashing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cam.h"
#include "retas-i18n.h"

int cam_open(const struct cam_ops *ops, const struct cam_config *cfg, struct cam_device **out,
	     struct retas_error *err)
{
	if (!ops || !ops->open)
		return retas_error_set(err, -EOPNOTSUPP, "camera.unsupported",
				       N_("This camera driver cannot be opened."));
	return ops->open(cfg, out, err);
}

int cam_capture(struct cam_device *dev, int64_t deadline_ms, cam_progress_fn progress,
		void *userdata, struct cam_shot *out, struct retas_error *err)
{
	if (!dev->ops->capture)
		return retas_error_set(err, -EOPNOTSUPP, "camera.unsupported",
				       N_("This camera cannot take photos."));
	return dev->ops->capture(dev, deadline_ms, progress, userdata, out, err);
}

int cam_describe(struct cam_device *dev, int64_t deadline_ms, struct cam_info *out,
		 struct retas_error *err)
{
	if (!dev->ops->describe)
		return retas_error_set(err, -EOPNOTSUPP, "camera.unsupported",
				       N_("This camera cannot describe itself."));
	return dev->ops->describe(dev, deadline_ms, out, err);
}

void cam_close(struct cam_device *dev)
{
	if (dev && dev->ops->close)
		dev->ops->close(dev);
}

void cam_shot_clear(struct cam_shot *shot)
{
	if (!shot)
		return;
	free(shot->jpeg);
	memset(shot, 0, sizeof(*shot));
}

const char *cam_stage_name(enum cam_stage stage)
{
	switch (stage) {
	case CAM_STAGE_CONNECTING:
		return "connecting";
	case CAM_STAGE_TRIGGERING:
		return "triggering";
	case CAM_STAGE_WAITING:
		return "waiting";
	case CAM_STAGE_DOWNLOADING:
		return "downloading";
	case CAM_STAGE_DELETING:
		return "deleting";
	case CAM_STAGE_DONE:
		return "done";
	}
	return "unknown";
}
