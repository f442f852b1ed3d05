/*
 * The Draft Laporan RETAS built from retasd's store (report.c).
 */
#pragma once

#include "daemon.h"
#include "retas-report.h"

/* The current draft of the loaded letter's session. */
int rd_report_build(struct rd_daemon *d, struct retas_report **out, struct retas_error *err);
/* Writes the draft as laporan/NAME.jws (signed by the device key), .csv
 * and .pdf in the state directory. */
int rd_report_write(struct rd_daemon *d, const char *name, struct retas_error *err);
