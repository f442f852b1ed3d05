/*
 * The Draft Laporan RETAS built from retasd's store (report.c).
 */
#pragma once

#include "daemon.h"
#include "retas-report.h"

/* The current draft of the loaded letter's session. */
int rd_report_build(struct rd_daemon *d, struct retas_report **out, struct retas_error *err);
/* Called on the loop when the draft is written (result 0) or not (a
 * negative errno, err says why; -ECANCELED when the daemon stopped first). */
typedef void (*rd_report_done_fn)(int result, const struct retas_error *err, void *userdata);
/* Writes the draft as laporan/NAME.jws (signed by the device key), .csv
 * and .pdf in the state directory: builds the model now, on the loop, and
 * signs, renders and writes it on the worker, then calls done. Returns 0
 * when done will be called, or a negative errno (err set) when the model
 * could not be built; done is then not called. */
int rd_report_write(struct rd_daemon *d, const char *name, rd_report_done_fn done, void *userdata,
		    struct retas_error *err);
