/*
 * One worker thread with a bounded queue. Finished jobs go to a done list
 * and the eventfd wakes the loop, which runs the callbacks; the thread never
 * calls into the loop's data.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "retas-log.h"
#include "worker.h"

struct job {
	struct job *next;
	rd_work_fn work;
	rd_done_fn done;
	void *arg;
	int result;
};

struct rd_worker {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	struct job *todo, **todo_tail;
	struct job *done, **done_tail;
	unsigned queued, max_queued;
	int efd;
	sd_event_source *source;
};

static void push(struct job ***tail, struct job *j)
{
	j->next = NULL;
	**tail = j;
	*tail = &j->next;
}

static void *worker_main(void *userdata)
{
	struct rd_worker *w = userdata;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct job *j;
		uint64_t one = 1;

		while (!w->stop && !w->todo)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stop)
			break;
		j = w->todo;
		w->todo = j->next;
		if (!w->todo)
			w->todo_tail = &w->todo;
		pthread_mutex_unlock(&w->lock);

		j->result = j->work(j->arg);

		pthread_mutex_lock(&w->lock);
		push(&w->done_tail, j);
		/* An eventfd counter cannot overflow at this rate; a failed write
		 * would only delay the callback to the next wake-up. */
		if (write(w->efd, &one, sizeof(one)) < 0)
			log_warning("worker: cannot wake the loop");
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct rd_worker *w = userdata;
	struct job *list;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warning("worker: eventfd read failed");
	pthread_mutex_lock(&w->lock);
	list = w->done;
	w->done = NULL;
	w->done_tail = &w->done;
	pthread_mutex_unlock(&w->lock);
	while (list) {
		struct job *j = list;

		list = j->next;
		w->queued--;
		j->done(j->result, j->arg);
		free(j);
	}
	return 0;
}

int rd_worker_new(sd_event *e, unsigned max_queued, struct rd_worker **out)
{
	struct rd_worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->efd = -1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->todo_tail = &w->todo;
	w->done_tail = &w->done;
	w->max_queued = max_queued;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(e, &w->source, w->efd, EPOLLIN, on_done, w);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_description(w->source, "worker");
	r = -pthread_create(&w->thread, NULL, worker_main, w);
	if (r < 0)
		goto fail;
	w->started = true;
	*out = w;
	return 0;
fail:
	rd_worker_free(w);
	return r;
}

static void cancel_list(struct job *list)
{
	while (list) {
		struct job *j = list;

		list = j->next;
		j->done(-ECANCELED, j->arg);
		free(j);
	}
}

void rd_worker_free(struct rd_worker *w)
{
	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	/* Finished jobs still get their real result; the rest are cancelled. */
	while (w->done) {
		struct job *j = w->done;

		w->done = j->next;
		j->done(j->result, j->arg);
		free(j);
	}
	cancel_list(w->todo);
	sd_event_source_disable_unref(w->source);
	if (w->efd >= 0)
		close(w->efd);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

int rd_worker_submit(struct rd_worker *w, rd_work_fn work, rd_done_fn done, void *arg)
{
	if (w->queued >= w->max_queued)
		return -EAGAIN;
	return rd_worker_submit_always(w, work, done, arg);
}

int rd_worker_submit_always(struct rd_worker *w, rd_work_fn work, rd_done_fn done, void *arg)
{
	struct job *j;

	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w->lock);
	push(&w->todo_tail, j);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	w->queued++;
	return 0;
}
