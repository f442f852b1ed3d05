/*
 * The enrolment of one student in progress (at most one per van: there is
 * one set of devices). EnrollBegin creates it after the checks on the
 * student and the pre-flight checks; EnrollAbort (or a new letter or
 * session close, or the close of the connection that began it) ends it.
 * It holds the captures taken so far (fingers, photo, signature) in memory
 * only: nothing of them reaches the disk before
 * EnrollCommit seals them.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cam-photo.h"
#include "fp.h"
#include "retas-nik.h"
#include "sig.h"
#include "retas-time.h"

enum rd_finger_state {
	RD_FINGER_NONE,
	RD_FINGER_CAPTURED,
	RD_FINGER_EXCEPTION,
};

struct rd_finger {
	enum rd_finger_state state;
	struct fp_image *image; /* RD_FINGER_CAPTURED: the best attempt */
	unsigned quality;
	unsigned attempts;
	bool below_threshold;
	int64_t captured_at_ms; /* wall clock, for the ISO record */
	char reason[16]; /* RD_FINGER_EXCEPTION: missing|bandaged|scarred|unreadable */
};

struct rd_capture; /* a capture running on its thread (api-capture.c) */

struct rd_enrolment {
	char id[37];
	char nik[17];
	char *nama;
	char *kelas;
	enum retas_gender gender;
	struct retas_date birth;
	bool on_list;
	bool redo;
	char *reason; /* the redo reason, NULL otherwise */
	int64_t started_at_ms;
	int64_t started_by_uid;
	int64_t started_by_pid;
	/* The connection that began it: the enrolment lives as long as it
	 * stays open (rd_enroll_hangup). */
	uint64_t conn_id;

	struct rd_finger fingers[11]; /* by ISO position 1..10 */
	struct fp_description reader; /* the reader of the captures, for the ISO records */
	struct cam_photo photo;	      /* photo.jpeg NULL until one is taken */
	unsigned photo_takes;
	struct sig_signature *signature; /* NULL until one is accepted */
	unsigned signature_takes;
	struct rd_capture *capture; /* the capture running now, NULL when none */
	bool committing;	    /* EnrollCommit is sealing it on the worker */
	bool orphaned; /* freed while committing: the commit's end frees it */
};

/* Stops the enrolment's running capture, if any, and waits for its thread
 * (bounded by the capture's deadline); its call is answered as cancelled. */
void rd_capture_cancel(struct rd_enrolment *e);

void rd_enrolment_free(struct rd_enrolment *e);

/* The varlink server's hang-up callback (userdata the daemon): when the
 * connection that began the enrolment in progress closes, the enrolment is
 * abandoned as EnrollAbort would (audited with why "disconnected"), its
 * running capture cancelled, so a client killed mid-way never blocks the
 * next student. */
void rd_enroll_hangup(uint64_t conn_id, void *userdata);

/* The Indonesian name of an ISO/IEC 19794-4 finger position 1..10 ("ibu jari
 * kanan", ...); NULL for any other. Domain names, not translated. */
const char *rd_finger_name(int position);
