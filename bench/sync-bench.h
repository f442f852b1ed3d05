/*
 * What the sync benchmarks share: a van's batch of a given size sealed with
 * the core library for a real `retas-hq serve`, the sync engine's tus
 * client run to the end of one upload with the van's signed headers, and
 * the figures file of the reliability table. Built on tests/hq's harness
 * and tests/sync's shaped link, so a failed precondition ends the program
 * with a message (cmocka's assertions outside a test exit).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hq-harness.h"
#include "shaped-link.h"
#include "sync-tus.h"

/* The daemon's default sync.chunk_size (daemon/conf.c), the engine's unit
 * of resending. */
#define SB_CHUNK (1024 * 1024)

struct sb_batch {
	char path[300]; /* the batch file, in the head-office fixture's directory */
	size_t len;
	char batch_id[40];
	size_t n_records;
};

/* hq_fx_init's work in a directory outside /tmp ($TMPDIR, else /var/tmp);
 * config (may be NULL): lines for the [server] section. */
void sb_hq_init(struct hq_fx *fx, const char *bin, const char *config);

/* Seals records of about 400 KB for van v until the batch is at least
 * bytes long, and writes the batch to a temporary file. */
void sb_batch_make(struct hq_fx *fx, struct test_van *v, size_t bytes, struct sb_batch *b);
void sb_batch_remove(struct sb_batch *b);

/* RETAS_BENCH_SYNC_MB (default 20), in bytes. */
size_t sb_batch_bytes(void);

struct sb_result {
	int64_t elapsed_ms; /* sync_tus_start to done */
	struct sync_tus_stats stats;
	unsigned waits, busy_waits; /* backoffs, those after an HTTP 423 */
};

/* Uploads b as van v through the sync engine to endpoint (an absolute tus
 * creation URL) with chunk bytes per PATCH, and checks head office named
 * the batch. Sockets are made in the calling thread's network namespace. */
void sb_engine_upload(const char *endpoint, const struct test_van *v, const struct sb_batch *b,
		      uint64_t chunk, int deadline_s, struct sb_result *out);

/* Verifies head office's signed receipt names every record of b once as
 * stored. */
void sb_assert_receipt(struct hq_fx *fx, const struct test_van *v, const struct sb_batch *b);

/* hq_fx_start_at, with the server stopped at exit (before the shaped
 * link's namespaces go). */
void sb_hq_start_at(struct hq_fx *fx, const char *host);

/* Writes $RETAS_FIGURES_DIR/<name>.json with json (an object's text) when
 * the variable is set. */
void sb_figures(const char *name, const char *json);
