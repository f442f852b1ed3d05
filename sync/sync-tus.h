/*
 * A tus 1.0.0 client (core, creation, checksum with sha256, termination)
 * for one file at a time, on sync-http's multi handle and sd-event loop.
 *
 * POST creates the upload (Upload-Length, Upload-Metadata); PATCH sends the
 * file in chunks, each with "Upload-Checksum: sha256 <base64>", so a chunk
 * cut short is dropped whole by the server and sent again whole: at most one
 * chunk travels twice. After any failure the client waits as the retry
 * policy says, then asks the server with HEAD where the upload stands and
 * continues from that offset, never from zero. The upload URL and the last
 * offset the server confirmed go to the caller's store after every step, so
 * a daemon restarted from scratch resumes the same upload.
 *
 * Head office's own answers (docs/sync-protocol.md §3) are understood too:
 * Retas-Batch and Retas-Receipt on the last PATCH, Retas-Rejected on HEAD,
 * and an empty PATCH at the end when every byte is there but the batch was
 * not taken (its ingest failed and must run again).
 *
 * Every callback runs from the event loop. None may free the client except
 * done (its last act for that upload); progress runs inside libcurl and must
 * not call back into this module.
 */
#pragma once

#include <curl/curl.h>
#include <stdint.h>

#include "retas-error.h"
#include "sync-http.h"
#include "sync-retry.h"

#define SYNC_TUS_VERSION "1.0.0"
#define SYNC_TUS_CHECKSUM_MISMATCH 460

struct sync_tus;

struct sync_tus_config {
	struct sync_http_config http;
	const char *endpoint; /* the creation URL, absolute (https://hq.example/tus/) */
	uint64_t chunk_size;  /* bytes per PATCH; 0 means 1 MiB */
	struct sync_retry_policy retry;
};

struct sync_tus_progress {
	uint64_t sent;	   /* the confirmed offset plus this chunk's bytes on the wire */
	uint64_t total;	   /* Upload-Length */
	uint64_t rate_bps; /* bytes per second of the running chunk, 0 when unknown */
};

struct sync_tus_stats {
	uint64_t length;     /* of the file */
	uint64_t offset;     /* the last offset the server confirmed */
	uint64_t body_bytes; /* PATCH body bytes handed to libcurl, resends included */
	unsigned creates, heads, patches, deletes;
	unsigned failures; /* requests that failed and were retried */
};

enum sync_tus_end {
	SYNC_TUS_UPLOADED,   /* the server holds every byte */
	SYNC_TUS_TERMINATED, /* the DELETE sync_tus_terminate() asked for went through */
};

struct sync_tus_ops {
	/* Adds the caller's headers to one request (the van's signed
	 * Retas-Auth header) with curl_slist_append. path is the URL's path,
	 * percent-decoded. 0, or a negative errno that fails the upload.
	 * Optional. */
	int (*headers)(void *userdata, const char *method, const char *url, const char *path,
		       struct curl_slist **list);
	/* The persisted state of this file's upload: *url (malloc'd) and
	 * *offset, or *url NULL when there is none. 0 or a negative errno.
	 * Required. */
	int (*load)(void *userdata, char **url, uint64_t *offset);
	/* Stores url and offset durably before the client goes on; url NULL
	 * clears the state. 0 or a negative errno (fails the upload: going on
	 * could not be resumed). Required. */
	int (*save)(void *userdata, const char *url, uint64_t offset);
	/* Throttled to a few calls a second, and once per confirmed chunk.
	 * Optional. */
	void (*progress)(void *userdata, const struct sync_tus_progress *p);
	/* A request failed and the client waits delay_ms before the next one.
	 * Optional. */
	void (*waiting)(void *userdata, uint64_t delay_ms, const struct retas_error *why);
	/* The upload ended: r 0 with end saying how, or a negative errno
	 * and err (reason ids "sync.refused", "sync.rejected", "sync.attempts",
	 * "sync.file", "sync.length", "sync.gone", "sync.local", "sync.state").
	 * Required. */
	void (*done)(void *userdata, enum sync_tus_end end, int r, const struct retas_error *err);
	/* A uniform 32-bit random value for the backoff's jitter. Required. */
	uint32_t (*random)(void *userdata);
	/* Wall clock in Unix ms, for a Retry-After HTTP-date. Required. */
	int64_t (*now_ms)(void *userdata);
};

/* cfg's strings and ops are borrowed and must outlive the client. 0,
 * -EINVAL (no endpoint, a required op missing), -ENOMEM. */
int sync_tus_new(struct sync_http *http, const struct sync_tus_config *cfg,
		 const struct sync_tus_ops *ops, void *userdata, struct sync_tus **out);
/* Stops whatever runs (no callback) and frees; the persisted state stays,
 * so a new client resumes. NULL is a no-op. */
void sync_tus_free(struct sync_tus *t);

/*
 * Uploads (or resumes uploading) the file at path. metadata is NULL or a
 * NULL-terminated list of key, value, key, value... strings sent as
 * Upload-Metadata on creation (keys: printable ASCII without space or
 * comma). The file must not change until done. Returns 0 when the first
 * request is under way; -EBUSY when an upload runs, -EINVAL for bad
 * metadata, or a negative errno from opening the file or from load. done
 * follows, never from inside this call.
 */
int sync_tus_start(struct sync_tus *t, const char *path, const char *const *metadata);

/* Stops the running request or wait, keeping the state; start() again
 * resumes. */
void sync_tus_stop(struct sync_tus *t);

/* While waiting out a backoff: try now (a network just came up). Returns 1
 * when a wait was cut short, 0 otherwise. */
int sync_tus_kick(struct sync_tus *t);

/*
 * Terminates the upload (tus termination: DELETE) and clears the state.
 * Stops what runs first. Returns 0 when the DELETE is under way (done
 * follows with SYNC_TUS_TERMINATED), 1 when there was no upload on the
 * server to delete (state cleared, no callback), or a negative errno.
 */
int sync_tus_terminate(struct sync_tus *t);

/* The upload URL, or NULL before creation. Borrowed. */
const char *sync_tus_url(const struct sync_tus *t);
/* Head office's Retas-Batch and Retas-Receipt (the receipt's path, e.g.
 * /api/v1/batches/<id>/receipt) from the answer that completed the upload
 * or from a HEAD after it; NULL when it sent none (a plain tus server).
 * Valid from done until the next start. A 204 is no acknowledgement: the
 * caller fetches and verifies the receipt. */
const char *sync_tus_batch_id(const struct sync_tus *t);
const char *sync_tus_receipt_path(const struct sync_tus *t);
void sync_tus_get_stats(const struct sync_tus *t, struct sync_tus_stats *out);
