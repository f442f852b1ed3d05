/*
 * The Draft Laporan RETAS (draft report, RETAS SOP step 5): the model of one
 * school session, built by retasd from its store and by retas-hq from a
 * van's batch, and its exports (JSON, CSV, a JWS signed by the device key).
 * The renderers (PDF, receipts) live in the separate retas-render library so
 * that programs that only read or write the model do not link cairo.
 *
 * The model holds facts once: a row per student, a row per device
 * incident and the header. Every count the report shows (targets against
 * recorded, reasons for not recording, exceptions per finger, quality per
 * finger) is derived from the rows by retas_report_counts(), never stored.
 * NIKs are held masked (retas_nik_mask) from the moment a row is added: no
 * full NIK ever reaches a report file. The JSON schema is docs/report-schema.md.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include <stdint.h>

#include "retas-error.h"
#include "retas-nik.h"
#include "retas-time.h"

#define RETAS_REPORT_TYP "retas.laporan.v1"
#define RETAS_REPORT_JWS_TYP "retas-laporan+jws"

#define RETAS_REPORT_DINAS "Dinas Kependudukan dan Pencatatan Sipil Kota Jambi"
#define RETAS_REPORT_BIDANG "Bidang Pelayanan Pendaftaran Penduduk"
/* RETAS SOP step 5 ("Petugas melaksanakan RETAS"), mutu baku waktu. */
#define RETAS_REPORT_SOP_MINUTES 5

#define RETAS_REPORT_MAX_OFFICERS 8
#define RETAS_REPORT_MAX_STUDENTS 20000
#define RETAS_REPORT_MAX_INCIDENTS 10000
#define RETAS_REPORT_MAX_JSON (32u * 1024 * 1024)
#define RETAS_FINGERS 10

/* Byte limits of the text fields, NUL excluded. */
#define RETAS_REPORT_TEXT_MAX 127
#define RETAS_REPORT_NAME_MAX 100
#define RETAS_REPORT_KELAS_MAX 32
#define RETAS_REPORT_WHAT_MAX 240

/* What became of a student in this session. */
enum retas_report_status {
	RETAS_REPORT_PENDING = 0,      /* on the list, not handled yet */
	RETAS_REPORT_RECORDED,	       /* a sealed record exists */
	RETAS_REPORT_ABSENT,	       /* not recorded: tidak hadir */
	RETAS_REPORT_INVALID_NIK,      /* not recorded: NIK tidak valid */
	RETAS_REPORT_ALREADY_RECORDED, /* not recorded: sudah direkam */
	RETAS_REPORT_REFUSED,	       /* not recorded: menolak */
	RETAS_REPORT_DEVICE_FAILURE,   /* not recorded: gangguan perangkat */
	RETAS_REPORT_N_STATUS,
};

/* Why a finger could not be captured (DESIGN.md §1). */
enum retas_finger_reason {
	RETAS_FINGER_MISSING = 0, /* tidak ada */
	RETAS_FINGER_BANDAGED,	  /* diperban */
	RETAS_FINGER_SCARRED,	  /* bekas luka */
	RETAS_FINGER_UNREADABLE,  /* tidak terbaca */
	RETAS_FINGER_N_REASONS,
};

struct retas_report_exception {
	int finger; /* ISO/IEC 19794-4 finger position 1..10 */
	enum retas_finger_reason reason;
};

struct retas_report_student {
	/* Masked in the model ("157101******0001"). retas_report_add_student
	 * takes a full NIK here and masks it; anything that is not 16
	 * characters is masked whole. */
	char nik[17];
	char *nama;		       /* UTF-8, 1..RETAS_REPORT_NAME_MAX bytes */
	char *kelas;		       /* UTF-8, 0..RETAS_REPORT_KELAS_MAX bytes */
	enum retas_gender gender;      /* L, P, or unknown (an unreadable NIK) */
	bool on_list;		       /* on the school's target list (sasaran) */
	bool record_only;	       /* under 17 on the session date */
	struct retas_date eligible_on; /* the 17th birthday, when record_only */
	enum retas_report_status status;
	char record_id[37]; /* UUID of the sealed record; "" unless recorded */
	size_t n_exceptions;
	struct retas_report_exception exceptions[RETAS_FINGERS];
	/* Quality score 0..100 per finger position (index 0 = position 1);
	 * -1 when not captured. Only recorded students have scores. */
	int quality[RETAS_FINGERS];
};

/* A device incident from the audit log. */
struct retas_report_incident {
	int64_t at_ms;
	char device[24]; /* device class id: "fingerprint", "camera", "signature", ... */
	char *what;	 /* what happened, 1..RETAS_REPORT_WHAT_MAX bytes of UTF-8 */
};

struct retas_report_officer {
	char nip[19]; /* 18 digits */
	char nama[RETAS_REPORT_NAME_MAX + 1];
};

struct retas_report_header {
	char dinas[RETAS_REPORT_TEXT_MAX + 1];
	char bidang[RETAS_REPORT_TEXT_MAX + 1];
	char st_nomor[64];	      /* surat tugas number */
	struct retas_date st_tanggal; /* surat tugas date */
	char npsn[9];		      /* 8 digits */
	char sekolah[RETAS_REPORT_TEXT_MAX + 1];
	char kecamatan[7]; /* 6 digits, e.g. 157101 */
	char kecamatan_nama[64];
	struct retas_report_officer petugas[RETAS_REPORT_MAX_OFFICERS];
	size_t n_petugas;	   /* 1..RETAS_REPORT_MAX_OFFICERS */
	char van[32];		   /* kendaraan id, e.g. MPK-01 */
	struct retas_date tanggal; /* session date */
	int64_t opened_ms;	   /* session opened; 0 = not opened yet */
	int64_t closed_ms;	   /* session closed; 0 = still open */
	int sop_minutes;	   /* time standard per student, SOP step 5 */
};

struct retas_report {
	struct retas_report_header h;
	struct retas_report_student *students; /* in the order they were added */
	size_t n_students;
	struct retas_report_incident *incidents; /* in the order added (the audit log's) */
	size_t n_incidents;
	size_t cap_students, cap_incidents;
};

struct retas_report_quality {
	unsigned count; /* scores present */
	int min, max;	/* 0 when count is 0 */
	unsigned sum;	/* mean = sum / count */
};

struct retas_report_band {
	unsigned target;   /* rows on the list */
	unsigned recorded; /* rows recorded, on the list or added on the spot */
};

/* Everything the report counts, derived from the rows. */
struct retas_report_counts {
	struct retas_report_band total, male, female, record_only, print_eligible;
	unsigned added;				   /* recorded but not on the list */
	unsigned by_status[RETAS_REPORT_N_STATUS]; /* rows per status */
	unsigned not_recorded;	 /* absent + invalid + already + refused + device */
	unsigned with_exception; /* recorded students with >= 1 exception */
	unsigned exceptions[RETAS_FINGERS][RETAS_FINGER_N_REASONS];
	unsigned exceptions_total;
	struct retas_report_quality quality[RETAS_FINGERS];
	int64_t duration_min; /* closed - opened, whole minutes; -1 while open */
	int64_t standard_min; /* sop_minutes x recorded */
};

/* Fills h with the fixed Dinas/Bidang names and the SOP standard; the
 * caller fills the rest. */
void retas_report_header_init(struct retas_report_header *h);

/*
 * A new empty report for header h (copied), which is validated first.
 * Errors (err->reason): report.dinas report.bidang report.st-nomor
 * report.st-tanggal report.npsn report.sekolah report.kecamatan
 * report.kecamatan-nama report.petugas report.nip report.van
 * report.tanggal report.session report.sop.
 */
int retas_report_new(const struct retas_report_header *h, struct retas_report **out,
		     struct retas_error *err);
void retas_report_free(struct retas_report *r);

/*
 * Appends a copy of s (strings duplicated, NIK masked). The row is checked:
 * status, gender, names, record id (a UUID, present exactly when recorded),
 * exceptions (distinct fingers 1..10 with a known reason, recorded rows
 * only, no score for an excepted finger), scores (0..100 or -1, recorded rows
 * only), eligibility date (a real date when record_only).
 * Errors: report.nama report.kelas report.gender report.status
 * report.record-id report.exception report.quality report.eligible
 * report.students (too many).
 */
int retas_report_add_student(struct retas_report *r, const struct retas_report_student *s,
			     struct retas_error *err);

/* Appends an incident (copied). Errors: report.incident report.incidents. */
int retas_report_add_incident(struct retas_report *r, const struct retas_report_incident *inc,
			      struct retas_error *err);

/* Derives every count from the rows. */
void retas_report_counts(const struct retas_report *r, struct retas_report_counts *out);

/* True when both hold the same header, rows and incidents. */
bool retas_report_equal(const struct retas_report *a, const struct retas_report *b);

/*
 * The report as compact JSON (typ retas.laporan.v1, docs/report-schema.md),
 * with a "ringkasan" member carrying the derived counts. *out is a new
 * NUL-terminated string of *len bytes the caller frees.
 */
int retas_report_to_json(const struct retas_report *r, char **out, size_t *len,
			 struct retas_error *err);

/* The same as a new json-c object the caller puts (e.g. to hand to
 * retas_manifest_set_report). */
int retas_report_json_object(const struct retas_report *r, json_object **out,
			     struct retas_error *err);

/*
 * Reads a report from len bytes of JSON, validating every member: a wrong or
 * missing field is -EINVAL with err->reason "report.json" and a message
 * naming the field (e.g. siswa[3].nik); a "ringkasan" that does not match the
 * rows is -EINVAL with reason report.summary. A full (unmasked) NIK is
 * refused. The caller frees *out.
 */
int retas_report_from_json(const char *json, size_t len, struct retas_report **out,
			   struct retas_error *err);
/* The same from a parsed object (e.g. a manifest's "report"); o is
 * borrowed. */
int retas_report_from_object(json_object *o, struct retas_report **out, struct retas_error *err);

/*
 * One CSV row per student after a header row, RFC 4180 (comma, CRLF, fields
 * quoted when they hold a comma, quote, CR or LF). Columns: no, nik, nama,
 * kelas, jenis_kelamin, sasaran, status, rekam_saja, layak_cetak,
 * pengecualian, record_id. *out is NUL-terminated, *len bytes.
 */
int retas_report_to_csv(const struct retas_report *r, char **out, size_t *len,
			struct retas_error *err);

/*
 * The JSON export signed with the device key sk (libsodium 64-byte form):
 * a JWS with typ retas-laporan+jws and kid when not NULL. *out is a new
 * token the caller frees.
 */
int retas_report_sign(const struct retas_report *r, const uint8_t sk[64], const char *kid,
		      char **out, struct retas_error *err);

/* Verifies a signed report against the device public key pk and imports
 * it. Errors are those of retas_jws_verify and retas_report_from_json. */
int retas_report_verify(const char *token, size_t len, const uint8_t pk[32],
			struct retas_report **out, struct retas_error *err);

/* Stable ids used in JSON and CSV ("recorded", "absent", ...; "bandaged",
 * ...), NULL when out of range; and their reverse, -1 when unknown. */
const char *retas_report_status_id(enum retas_report_status s);
int retas_report_status_from_id(const char *id);
const char *retas_finger_reason_id(enum retas_finger_reason r);
int retas_finger_reason_from_id(const char *id);

/* True when s is well-formed UTF-8 of at most max bytes without control
 * characters (C0, DEL, C1): text that may go on a printed line or into a
 * CSV cell. Empty text passes only when allow_empty is set. */
bool retas_report_text_ok(const char *s, size_t max, bool allow_empty);

/* True when nik is in the masked form the report keeps:
 * "157101******0001", or sixteen '*' for a NIK that could not be read. */
bool retas_nik_is_masked(const char *nik);

/* The display status of a row as the report shows it: "recorded",
 * "record-only" (recorded, under 17), "exception" (recorded with
 * exceptions), or the status id. */
const char *retas_report_row_status(const struct retas_report_student *s);

/* The Indonesian labels the printed report and receipts use (an Indonesian
 * government document: fixed text, not translated through gettext), NULL
 * when out of range. finger is 1..10 ("ibu jari kanan" ...). */
const char *retas_finger_label(int finger);
const char *retas_finger_reason_label(enum retas_finger_reason r);
const char *retas_report_status_label(const struct retas_report_student *s);
const char *retas_device_label(const char *device);
