/*
 * A small tus 1.0.0 server on libmicrohttpd for the sync tests, answering
 * with the status codes and headers head office uses (201 with a relative
 * Location, 204 with Upload-Offset, 409, 460, JSON error bodies,
 * Retas-Batch/Retas-Receipt on the last byte, Retas-Rejected on HEAD), with
 * knobs for the failures the client must survive. It runs on MHD's own
 * thread; its state (the "disk") survives server_stop()/server_start().
 */
#pragma once

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define TUS_SERVER_MAX_UPLOADS 8
/* The largest PATCH body it takes. */
#define TUS_SERVER_MAX_BODY (256 * 1024)

struct upload {
	bool used;
	uint8_t *data;
	uint64_t length, offset;
	char metadata[512];
	bool ingested;	      /* head office took the batch */
	const char *rejected; /* or refused it, with this reason */
};

struct fault_knob {
	const char *method; /* NULL: none */
	unsigned status;
	const char *retry_after;
	const char *body;
	int count;
};

struct tus_server {
	pthread_mutex_t lock;
	struct MHD_Daemon *mhd;
	uint16_t port;
	struct upload uploads[TUS_SERVER_MAX_UPLOADS];
	struct fault_knob knob;
	int corrupt_patches; /* answer 460 to this many PATCHes */
	int fail_ingest;     /* the last byte arrives but ingest fails (500) this many times */
	unsigned creates, heads, patches, deletes;
	uint64_t received;	   /* PATCH body bytes that arrived, partial ones too */
	int64_t last_fault_ms;	   /* when the knob last answered */
	int64_t first_after_fault; /* the first request after it */
};

extern struct tus_server srv;

/* On 127.0.0.1:port (0: any free port; srv.port tells). */
void server_start(uint16_t port);
/* On a socket already listening (made in another network namespace). */
void server_start_fd(int listen_fd);
void server_stop(void);
/* Forgets every upload, knob and counter. */
void server_reset(void);
