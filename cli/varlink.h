/*
 * retas's varlink client: one call to retasd per command. Connects to the
 * socket of the cli_ctx with a deadline, sends one NUL-terminated JSON
 * call, reads one answer. When the daemon cannot be reached the message
 * names the socket path tried and the command exits 3; refusals and other
 * varlink errors are rendered for the officer in their language from the
 * reason id and arguments the daemon sends (lib/retas-reason.h).
 */
#pragma once

#include <json-c/json.h>

#include "cli.h"

#define CLI_INTERFACE "id.go.jambikota.dukcapil.retas"
#define CLI_CALL_TIMEOUT_MS 30000

struct cli_reply {
	json_object *msg;    /* the whole answer, owned */
	json_object *params; /* its "parameters", borrowed; never NULL */
	const char *error;   /* its "error", borrowed; NULL on success */
};

/*
 * Calls method (a name in CLI_INTERFACE, e.g. "Status", or a full
 * "iface.Method") with params (taken; NULL for none). Returns CLI_EXIT_OK
 * with *out filled when an answer arrived, success or error; otherwise
 * prints why the daemon at the socket path could not be reached and
 * returns CLI_EXIT_UNREACHABLE.
 */
int cli_call(struct cli_ctx *ctx, const char *method, json_object *params, struct cli_reply *out);
/* cli_call that leaves the connection open and hands it over in *fd (the
 * caller closes it) when it returns CLI_EXIT_OK: for a call whose effect
 * lasts as long as its connection, as EnrollBegin's enrolment does. */
int cli_call_keep(struct cli_ctx *ctx, const char *method, json_object *params,
		  struct cli_reply *out, int *fd);
void cli_reply_clear(struct cli_reply *r);

/* Called with each continued reply's parameters (borrowed). */
typedef void (*cli_progress_fn)(json_object *params, void *userdata);

/*
 * cli_call with "more": the daemon's continued replies go to progress,
 * the last one to *out. Waits up to timeout_ms for each message, so a long
 * stream that keeps talking is not cut. When *stop (may be NULL)
 * becomes non-zero (a signal handler sets it; poll returns EINTR) it gives
 * up the call and returns -EINTR; the daemon learns from the hang-up.
 */
int cli_call_stream(struct cli_ctx *ctx, const char *method, json_object *params,
		    int64_t timeout_ms, cli_progress_fn progress, void *userdata,
		    const volatile int *stop, struct cli_reply *out);
/* Prints the answer as one line of JSON (for --json). */
void cli_print_json(const struct cli_reply *r);

/* For an error answer: prints the reason in the officer's language and
 * returns CLI_EXIT_REFUSED. */
int cli_report_error(const struct cli_reply *r);

/*
 * The usual ending of a command: with --json prints the answer; on an error
 * reports it. Returns the exit code, CLI_EXIT_OK when the caller should go
 * on to print the success in words (only then, and only without --json, is
 * *print set).
 */
int cli_finish(struct cli_ctx *ctx, const struct cli_reply *r, bool *print);

/* Borrowed string member of obj (a path "a.b" descends objects), or "". */
const char *cli_str(json_object *obj, const char *path);
/* "2026-11-24 07:00 WIB" from an RFC 3339 time in WIB; other offsets and
 * unparsable text are copied as they are. buf holds 64 bytes. */
const char *cli_time(const char *rfc3339, char *buf);
