/*
 * The enrolment of one student in progress (at most one per van: there is
 * one set of devices). EnrollBegin creates it after the checks on the
 * student and the pre-flight checks; EnrollAbort (or a new letter or
 * session close) ends it. It holds no biometric data yet: captures and
 * EnrollCommit are the next steps of issue 7.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "retas-nik.h"
#include "retas-time.h"

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
};

void rd_enrolment_free(struct rd_enrolment *e);

/* The Indonesian name of an ISO/IEC 19794-4 finger position 1..10 ("ibu jari
 * kanan", ...); NULL for any other. Domain names, not translated. */
const char *rd_finger_name(int position);
