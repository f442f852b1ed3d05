/*
 * retasd's side of sync (DESIGN.md §4, docs/sync-protocol.md): the outbox
 * that stages one batch at a time on disk and in the store (so a restart
 * resumes the same batch and the same tus upload), and the engine that
 * moves it to head office on the daemon's own sd-event loop: rtnetlink
 * hints and a backoff timer lead to a /healthz probe, a probe that answers
 * leads to the upload, the last byte to the receipt, and only a receipt
 * that verifies against hq.sign_key acknowledges records.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "retas-error.h"
#include "retas-uuid.h"

struct rd_daemon;
struct rd_sync;

/* --- the outbox (sync-outbox.c) --- */
struct rd_outbox_batch {
	int64_t row;
	char batch_id[RETAS_UUID_STR_LEN];
	char device_id[64];
	int64_t size;
	int64_t n_records;
	char path[512]; /* state_dir/outbox/<batch id>.retas-batch */
};

/* What applying a receipt did. */
struct rd_outbox_result {
	int64_t acknowledged; /* records newly acknowledged */
	int64_t quarantined;  /* records head office kept aside */
	int64_t unmatched;    /* listed in the batch but not acknowledged by this receipt */
};

struct rd_sync_queue {
	int64_t waiting;      /* neither acknowledged nor quarantined, not in the pending batch */
	int64_t uploading;    /* in the pending batch */
	int64_t acknowledged;
	int64_t quarantined;
	int64_t purged;	      /* acknowledged and their ciphertext gone */
	int64_t bytes_waiting; /* sealed bytes not yet acknowledged */
	int64_t batch_bytes;  /* the pending batch's size, 0 when none */
	int64_t batch_offset; /* what head office confirmed of it */
	int64_t last_contact_ms; /* 0 when never */
	char last_outcome[64];
};

/* A record head office kept aside, as the officer sees it in Queue. */
struct rd_quarantined {
	char id[RETAS_UUID_STR_LEN];
	int64_t seq;
	char reason[64];		   /* head office's reason id, e.g. record.seal */
	char batch_id[RETAS_UUID_STR_LEN]; /* the batch whose receipt said so, "" if unknown */
	int64_t settled_ms;		   /* when that receipt was applied, 0 if unknown */
};

/* At most this many quarantined records are listed (the oldest first);
 * rd_sync_queue.quarantined counts them all. */
#define RD_QUARANTINE_LIST_MAX 1000

/* The pending batch, or -ENOENT. */
int rd_outbox_pending(struct rd_daemon *d, struct rd_outbox_batch *out);
/*
 * The pending batch, or a new one staged from the records not yet
 * acknowledged in sequence order, up to sync.batch_size, with the audit
 * rows not yet shipped and, once the session is closed, the draft report
 * (state_dir/draft-report.json) when no batch carried it since. The file is
 * durable before its row commits. -ENOENT when there is nothing to send.
 */
int rd_outbox_stage(struct rd_daemon *d, struct rd_outbox_batch *out, struct retas_error *err);
int rd_outbox_load_upload(struct rd_daemon *d, int64_t row, char **url, uint64_t *offset);
int rd_outbox_save_upload(struct rd_daemon *d, int64_t row, const char *url, uint64_t offset);
/* Head office refused the batch as a whole: it is set aside with reason;
 * its records are not staged again by themselves. */
int rd_outbox_reject(struct rd_daemon *d, int64_t row, const char *reason);
/*
 * Verifies a receipt against hq.sign_key, checks it names one of our
 * batches and our device, and settles that batch's records: acknowledged
 * when stored or already received with the hash we sent, quarantined with
 * head office's reason. The batch file goes. Errors: the receipt.* and
 * jws.* reasons, sync.no-hq-key, sync.unknown-batch, sync.receipt-device.
 */
int rd_outbox_apply_receipt(struct rd_daemon *d, const char *jws, size_t len,
			    struct rd_outbox_result *res, char *batch_id,
			    struct retas_error *err);
/* Drops the ciphertext of records acknowledged more than retention ago. */
int rd_outbox_purge(struct rd_daemon *d, int64_t now_ms, int64_t retention_s, int64_t *n);
int rd_outbox_contact(struct rd_daemon *d, int64_t now_ms, const char *outcome);
int rd_outbox_queue(struct rd_daemon *d, struct rd_sync_queue *q);
/* The records head office quarantined, in sequence order, with its reason.
 * They stay in the store (never purged, never staged again). *out is
 * malloc'd (NULL when *n is 0). */
int rd_outbox_quarantined(struct rd_daemon *d, struct rd_quarantined **out, size_t *n);
/* Removes staged files no batch row names (a crash between the two). */
void rd_outbox_tidy(struct rd_daemon *d);

/* --- the engine (sync.c) --- */
enum rd_sync_phase {
	RD_SYNC_OFF,	 /* no head office URL or key */
	RD_SYNC_IDLE,	 /* nothing to send */
	RD_SYNC_WAITING, /* backing off until the timer or a network change */
	RD_SYNC_PROBING,
	RD_SYNC_UPLOADING,
	RD_SYNC_RECEIPT,
};

struct rd_sync_progress {
	enum rd_sync_phase phase;
	uint64_t sent, total, rate_bps;
	int64_t eta_s; /* -1 when unknown */
	const char *batch_id;
	/* finished: the run ended with outcome (a reason id or "acknowledged",
	 * "nothing", "unreachable"...) */
	bool finished;
	const char *outcome;
	int64_t acknowledged, quarantined;
};

typedef void (*rd_sync_watch_fn)(void *userdata, const struct rd_sync_progress *p);
struct rd_sync_watcher;

int rd_sync_new(struct rd_daemon *d, struct rd_sync **out);
void rd_sync_free(struct rd_sync *s);
/* The configuration changed (SIGHUP). */
void rd_sync_reconfigure(struct rd_sync *s);
/* Start a run now, cutting a backoff short (Sync {now}). */
void rd_sync_now(struct rd_sync *s);
/* New records are waiting: start a run if sync.auto and idle. */
void rd_sync_poke(struct rd_sync *s);
enum rd_sync_phase rd_sync_phase(const struct rd_sync *s);
const char *rd_sync_phase_name(enum rd_sync_phase p);
/* Milliseconds until the next attempt while waiting, else -1. */
int64_t rd_sync_next_attempt_ms(const struct rd_sync *s);
/* Counters for tests and Queue: timer wakeups, probes started. */
void rd_sync_counters(const struct rd_sync *s, uint64_t *wakeups, uint64_t *probes);
/* Calls fn with every progress report until the run ends (fn then gets
 * finished = true and the watcher is gone). */
int rd_sync_watch(struct rd_sync *s, rd_sync_watch_fn fn, void *userdata,
		  struct rd_sync_watcher **out);
void rd_sync_unwatch(struct rd_sync *s, struct rd_sync_watcher *w);
/* The receipt was applied from elsewhere (import-receipt): forget the
 * upload of that batch if it was running. */
void rd_sync_settled(struct rd_sync *s, const char *batch_id);
/* The engine's picture from memory (Status): phase, progress, the last
 * contact with head office and its outcome (kept across restarts). */
void rd_sync_status(const struct rd_sync *s, struct rd_sync_progress *p, int64_t *last_contact,
		    const char **last_outcome);
