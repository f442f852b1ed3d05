/*
 * tus 1.0.0 (core, creation, checksum with sha256, termination) at /tus/.
 * Uploads are files in the staging directory; their committed offsets live
 * in the store, so a restarted server answers HEAD with the same offset and
 * an interrupted PATCH keeps what arrived (unless it carried a checksum,
 * which covers the whole chunk). Only registered vans reach it, through the
 * signed request header. The last byte hands the file to hq-ingest.c.
 */
#pragma once

#include <stdbool.h>

#include "hq-server.h"

#define HQ_TUS_VERSION "1.0.0"
#define HQ_TUS_EXTENSIONS "creation,checksum,termination"
/* The status tus's checksum extension defines for a mismatch. */
#define HQ_TUS_CHECKSUM_MISMATCH 460

enum MHD_Result hq_tus_begin(struct hq_req *r);
enum MHD_Result hq_tus_data(struct hq_req *r, const char *data, size_t len);
enum MHD_Result hq_tus_finish(struct hq_req *r);
/* The request is over (completed_ok false when the connection broke). */
void hq_tus_done(struct hq_req *r, bool completed_ok);

/* At start: ingests uploads whose last byte was committed but whose ingest
 * never finished (a crash in between). Returns how many. */
int hq_tus_recover(struct hq_ctx *ctx, sqlite3 *db);
