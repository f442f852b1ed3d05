/*
 * A worker thread for work that would block the event loop: retasd has one
 * for PIN checks, device checks and sealing, and one for documents (reports
 * and receipts); the cameras have threads of their own. Jobs run
 * one at a time in submission order; each job's result is handed back on
 * the loop through an eventfd, where its done callback runs.
 */
#pragma once

#include <systemd/sd-event.h>

struct rd_worker;

/* Runs on the worker thread; returns 0 or a negative errno. Must not touch
 * anything the loop owns. */
typedef int (*rd_work_fn)(void *arg);
/* Runs on the loop with the work's result, or -ECANCELED when the worker
 * was freed before the job ran. Owns arg from then on. */
typedef void (*rd_done_fn)(int result, void *arg);

int rd_worker_new(sd_event *e, unsigned max_queued, struct rd_worker **out);
/* Stops the thread after the job it is running, then cancels the rest. */
void rd_worker_free(struct rd_worker *w);

/* Queues a job; -EAGAIN when max_queued jobs wait already. */
int rd_worker_submit(struct rd_worker *w, rd_work_fn work, rd_done_fn done, void *arg);
/* Queues a job past max_queued: for work that must not be lost (what was
 * stored already must reach the disk) and is bounded by its callers. */
int rd_worker_submit_always(struct rd_worker *w, rd_work_fn work, rd_done_fn done, void *arg);
