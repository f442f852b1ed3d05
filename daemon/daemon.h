/*
 * The daemon as a whole: its loop, configuration, store, keys, API server
 * and worker, and the in-memory picture of the state machine
 *   no assignment -> assignment loaded -> session open -> session closed
 * that the store holds durably. The picture is rebuilt from the store at
 * start and changed only after the store has committed, so a crash between
 * the two loses nothing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "cam.h"
#include "conf.h"
#include "enrol.h"
#include "retas-keys.h"
#include "retas-regions.h"
#include "retas-st.h"
#include "store.h"
#include "varlink.h"
#include "worker.h"

#define RD_INTERFACE "id.go.jambikota.dukcapil.retas"
#define RD_MAX_PIN_CHECKS 16 /* queued on the worker; more are login.queue-full */
#define RD_MAX_DOC_JOBS 8     /* queued on the document worker; more: document.queue-full */
#define RD_MAX_LOCKOUTS 32    /* NIPs whose lockout this process measures */

/* A lockout as this process measures it: the stored wall-clock end it
 * belongs to and its end on CLOCK_BOOTTIME (state.c). */
struct rd_lockout {
	char nip[19];
	int64_t wall_until;
	int64_t boot_until;
};

enum rd_phase {
	RD_PHASE_NO_ASSIGNMENT,
	RD_PHASE_ASSIGNMENT_LOADED,
	RD_PHASE_SESSION_OPEN,
	RD_PHASE_SESSION_CLOSED,
};

struct rd_daemon {
	sd_event *event;
	const struct rd_options *opts;
	struct rd_config *config;
	struct rd_store *store;
	struct retas_sign_keypair device;
	char device_key_id[17];
	uint8_t local_key[32]; /* the local index key (index.h), state_dir/local.key */
	struct retas_regions *regions; /* NULL when the data file is missing */
	struct rd_varlink *varlink;
	struct rd_worker *worker;
	/* Reports and receipts are rendered and written on a thread of their
	 * own, so a long render never holds up a PIN check or a commit. */
	struct rd_worker *doc_worker;
	sd_event_source *idle_timer;
	int lock_fd;

	/* The current surat tugas, NULL when none. */
	struct retas_st *st;
	int64_t assignment_id;
	char assignment_sha256[65];
	int64_t assignment_loaded_at;

	/* The logged-in officer, when logged_in. */
	bool logged_in;
	struct rd_store_login login;

	/* The latest session of the current assignment, when have_session. */
	bool have_session;
	struct rd_store_session session;

	/* The enrolment in progress, NULL when none (enrol.h). */
	struct rd_enrolment *enrol;
	bool enrol_checking; /* EnrollBegin's device check is on the worker */

	/* The devices, opened at their first capture (api-capture.c). The
	 * reader stays open between fingers so it remembers a finger still
	 * down; only the capture thread touches it while one runs. */
	struct fp_context *fp_ctx;
	struct fp_device *fp_dev;
	struct cam_device *cam;
	struct cam_worker *cam_worker;
	sd_event_source *cam_src;
	struct rd_capture *photo_capture; /* the photo the camera takes now */
	struct rd_sync *sync; /* uploads to head office (sync.h) */

	/* Lockouts and the idle timeout run on elapsed time (CLOCK_BOOTTIME,
	 * which counts a suspended laptop's sleep too) besides the wall clock,
	 * so a system clock set a day forwards or backwards neither lifts nor
	 * stretches them. Kept across reloads; a restart falls back to the
	 * stored wall-clock times (state.c). */
	struct rd_lockout lockouts[RD_MAX_LOCKOUTS];
	int64_t idle_anchor_wall; /* login.last_active_ms the anchor belongs to */
	int64_t idle_anchor_boot; /* CLOCK_BOOTTIME ms of that activity */
};

/* api-capture.c: closes the devices (at exit). */
void rd_capture_free_devices(struct rd_daemon *d);

/* loop.c: runs the daemon until SIGTERM/SIGINT; takes config. Returns the
 * process exit status. */
int rd_daemon_run(const struct rd_options *opts, struct rd_config *config);
/* Opens (creating) the state directory and the device key in it. */
int rd_daemon_device_key(const struct rd_config *config, struct retas_sign_keypair *out,
			 struct retas_error *err);

/* Wall-clock time as the daemon sees it: the system clock plus
 * clock.offset. Every rule about time uses this. */
int64_t rd_daemon_now(const struct rd_daemon *d);
/* Formats ms as RFC 3339 in WIB into buf[RETAS_RFC3339_MAX]. */
void rd_format_time(int64_t ms, char *buf);

/* state.c */
enum rd_phase rd_state_phase(const struct rd_daemon *d);
const char *rd_phase_name(enum rd_phase p);
/* Rebuilds the in-memory state from the store (at start, after a reload). */
int rd_state_load(struct rd_daemon *d);
void rd_state_clear(struct rd_daemon *d);
/* Index of the officer with this NIP in the current letter, or -1. */
int rd_state_petugas_index(const struct rd_daemon *d, const char *nip);
/* When the current login ends for idleness (ms, on the daemon's clock),
 * 0 when never: the earlier of the wall-clock and the elapsed-time ends. */
int64_t rd_state_idle_deadline(const struct rd_daemon *d);
/* (Re)arms the idle-logout timer for the current login. */
int rd_state_arm_idle(struct rd_daemon *d);
/* Ends the current login for idleness, with its audit row. */
int rd_state_idle_logout(struct rd_daemon *d);
/* The end (ms, daemon's clock) of the lockout of nip whose stored end is
 * stored_until, or 0 when it is not locked now. The lockout lasts its
 * length in elapsed time whatever the wall clock does meanwhile; one set
 * before this process started is clamped to login.lockout from now. */
int64_t rd_state_lockout_until(struct rd_daemon *d, const char *nip, int64_t stored_until);
/* Records a lockout of nip that ends at wall_until, login.lockout from now. */
void rd_state_lockout_start(struct rd_daemon *d, const char *nip, int64_t wall_until);
