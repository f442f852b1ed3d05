/*
 * The capture worker (see cam.h): one thread per camera runs the blocking
 * capture and tells the caller's event loop through an eventfd, so the loop
 * watches one descriptor and never blocks. The thread and the loop share one
 * small state under a mutex: the request, the latest stage and the result.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cam.h"

struct cam_worker {
	struct cam_device *dev;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int efd;

	bool quit;
	bool requested; /* a capture waits to be run */
	bool running;	/* a capture is running */
	bool finished;	/* a result waits to be collected */
	int64_t deadline;
	enum cam_stage stage;
	struct cam_result result;
};

static void poke(struct cam_worker *w)
{
	uint64_t one = 1;

	/* An eventfd write only fails when the counter would overflow, which
	 * still leaves it readable: nothing to do about a failure. */
	if (write(w->efd, &one, sizeof(one)) < 0)
		return;
}

static void on_progress(enum cam_stage stage, void *userdata)
{
	struct cam_worker *w = userdata;

	pthread_mutex_lock(&w->lock);
	w->stage = stage;
	pthread_mutex_unlock(&w->lock);
	poke(w);
}

static void *worker_main(void *data)
{
	struct cam_worker *w = data;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct cam_result res = {0};
		int64_t deadline;

		while (!w->quit && !w->requested)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->quit)
			break;
		w->requested = false;
		w->running = true;
		deadline = w->deadline;
		pthread_mutex_unlock(&w->lock);

		res.code = cam_capture(w->dev, deadline, on_progress, w, &res.shot, &res.error);

		pthread_mutex_lock(&w->lock);
		w->running = false;
		w->finished = true;
		w->result = res;
		pthread_mutex_unlock(&w->lock);
		poke(w);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int cam_worker_new(struct cam_device *dev, struct cam_worker **out)
{
	struct cam_worker *w;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->dev = dev;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		r = -errno;
		free(w);
		return r;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	r = -pthread_create(&w->thread, NULL, worker_main, w);
	if (r < 0) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		close(w->efd);
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

void cam_worker_free(struct cam_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->quit = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	cam_shot_clear(&w->result.shot);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	close(w->efd);
	free(w);
}

int cam_worker_fd(const struct cam_worker *w)
{
	return w->efd;
}

int cam_worker_start(struct cam_worker *w, int64_t deadline_ms)
{
	int r = 0;

	pthread_mutex_lock(&w->lock);
	if (w->requested || w->running || w->finished) {
		r = -EBUSY;
	} else {
		w->requested = true;
		w->deadline = deadline_ms;
		w->stage = CAM_STAGE_CONNECTING;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}

int cam_worker_poll(struct cam_worker *w, enum cam_stage *stage, struct cam_result *out)
{
	uint64_t count;
	int r = 0;

	/* Nonblocking: -EAGAIN when nothing was posted since the last read. */
	if (read(w->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return -errno;
	pthread_mutex_lock(&w->lock);
	if (stage)
		*stage = w->stage;
	if (w->finished) {
		*out = w->result;
		memset(&w->result, 0, sizeof(w->result));
		w->finished = false;
		r = 1;
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}
