/*
 * The methods of retasd's varlink interface, one file each (api-*.c), and
 * what they share: the central check of a method's flags against the
 * caller, the audit row every non-read-only call leaves, and refusals that
 * name their rule with a stable reason id and arguments (lib/retas-reason.h
 * holds the sentences; the interface description explains the contract).
 */
#pragma once

#include <json-c/json.h>

#include "daemon.h"
#include "varlink.h"

extern const struct rd_method rd_api_get_info;
extern const struct rd_method rd_api_get_interface_description;
extern const struct rd_method rd_api_status;
extern const struct rd_method rd_api_load_assignment;
extern const struct rd_method rd_api_show_assignment;
extern const struct rd_method rd_api_login;
extern const struct rd_method rd_api_logout;
extern const struct rd_method rd_api_open_session;
extern const struct rd_method rd_api_close_session;
extern const struct rd_method rd_api_verify_audit;
extern const struct rd_method rd_api_import_students;
extern const struct rd_method rd_api_list_students;
extern const struct rd_method rd_api_mark_absent;
extern const struct rd_method rd_api_enroll_begin;
extern const struct rd_method rd_api_enroll_abort;
extern const struct rd_method rd_api_capture_finger;
extern const struct rd_method rd_api_mark_finger_exception;
extern const struct rd_method rd_api_capture_photo;
extern const struct rd_method rd_api_capture_signature;
extern const struct rd_method rd_api_confirm_signature;
extern const struct rd_method rd_api_clear_signature;
extern const struct rd_method rd_api_enroll_commit;
extern const struct rd_method rd_api_receipt;
extern const struct rd_method rd_api_report;
extern const struct rd_method rd_api_sync;
extern const struct rd_method rd_api_sync_export;
extern const struct rd_method rd_api_sync_import_receipt;
extern const struct rd_method rd_api_queue;

/* Every method, NULL-terminated: what the server dispatches on. */
extern const struct rd_method *const rd_api_methods[];

/* The varlink IDL of RD_INTERFACE and of org.varlink.service. */
extern const char rd_interface_description[];
extern const char rd_service_description[];

static inline struct rd_daemon *rd_call_daemon(struct rd_call *call)
{
	return call->userdata;
}

/* The server's check hook: permission for methods that change state, and a
 * live login from the same uid for those that need one. */
int rd_api_check(struct rd_call *call);

/* Appends the call's audit row (nothing for read-only methods). detail is
 * borrowed, NULL for {}. Call it inside the transaction of the change. */
int rd_api_audit(struct rd_call *call, const char *outcome, const char *reason,
		 json_object *detail);

/* A NULL-terminated list of name, value pairs for a refusal's arguments. */
#define RD_ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define RD_NO_ARGS ((const char *const[]){NULL})

/*
 * Refuses the call with the error Refused: reason, args (name/value pairs)
 * and the English sentence from the reason table. Leaves an audit row with
 * detail (taken, NULL for {}) for methods that are not read-only. Returns 0
 * (the call is answered), so handlers can `return rd_api_refuse(...)`.
 */
int rd_api_refuse(struct rd_call *call, json_object *detail, const char *reason,
		  const char *const *args);

/* The two halves of rd_api_refuse, for a refusal that changes state too
 * (a wrong PIN counts): audit inside the change's transaction, commit, then
 * send. */
int rd_api_refusal_audit(struct rd_call *call, json_object *detail, const char *reason);
int rd_api_refusal_send(struct rd_call *call, const char *reason, const char *const *args);

/* Refuses with internal.store naming the error r, for a store that failed
 * in the middle of a change (rolled back by the caller). */
int rd_api_store_failed(struct rd_call *call, int r);

/* Builders for the answers' shared types (see the interface description). */
json_object *rd_api_officer(const struct retas_st_petugas *p);
json_object *rd_api_time(int64_t ms);
json_object *rd_api_assignment_summary(const struct rd_daemon *d);
json_object *rd_api_assignment(const struct rd_daemon *d);
json_object *rd_api_login_info(const struct rd_daemon *d);
json_object *rd_api_session(const struct rd_daemon *d);
struct rd_student;
struct retas_date;
/* A Student of the interface, ages taken on date. */
struct rd_sync_progress;
/* A SyncProgress of the interface (api-sync.c). */
json_object *rd_api_sync_progress(const struct rd_sync_progress *p);
json_object *rd_api_student(const struct rd_student *s, const struct retas_date *date);
/* Refuses the call (st.expired or st.not-yet-valid, naming the window's
 * end that was crossed) when the daemon's clock is outside the current
 * letter's window; 1 when it refused, 0 when inside (api-open-session.c). */
int rd_api_refuse_outside_window(struct rd_call *call, struct rd_daemon *d);
/* Refuses the call (preflight.clock-behind) when the daemon's clock reads
 * before the van's latest record: a clock set back would date a record
 * before the one it follows. 1 when it refused (api-enroll.c). */
int rd_api_refuse_clock_behind(struct rd_call *call, struct rd_daemon *d);
