/*
 * Error detail for functions whose callers must tell the user exactly what
 * is wrong. A fallible function returns 0 or a negative errno; when it is
 * given a struct retas_error it also fills in a stable machine-readable
 * reason (e.g. "nik.date") and a sentence for a person.
 */
#pragma once

#include <stdarg.h>

struct retas_error {
	int code;          /* negative errno, 0 when unset */
	char reason[48];   /* stable id: "<area>.<what>", never translated */
	char message[320]; /* one sentence, translated through gettext */
};

/*
 * Records an error when err is not NULL and returns code (a negative errno),
 * so callers can write `return retas_error_set(err, -EINVAL, ...)`.
 * fmt is a msgid: wrap the literal in N_() so xgettext finds it; it is
 * translated here, in the caller's locale.
 */
int retas_error_set(struct retas_error *err, int code, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Adds "context: " before an already set message. */
void retas_error_prefix(struct retas_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void retas_error_clear(struct retas_error *err);
