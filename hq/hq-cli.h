/*
 * The retas-hq command line: like retas (cli/), every command is a table
 * entry (name, usage, summary, handler) and main.c owns lookup, usage errors
 * and help. Commands of one group (usulan, surat-tugas, issuance, ...) share a
 * file because they are thin wrappers over the same module.
 */
#pragma once

#include <stdbool.h>

#include "retas-i18n.h"

/* Exit codes, the same as retas: 0 done, 1 refused, 2 usage, 3 server
 * unreachable (report pull --server). */
enum {
	HQ_EXIT_OK = 0,
	HQ_EXIT_REFUSED = 1,
	HQ_EXIT_USAGE = 2,
	HQ_EXIT_UNREACHABLE = 3,
};

struct hq_cli {
	const char *dir; /* --dir, $RETAS_HQ_DIR, or "." */
	bool json;	 /* --json */
};

struct hq_cmd_entry {
	const char *name;    /* "serve", "staff add" */
	const char *args;    /* usage after the name */
	const char *summary; /* a msgid (N_) */
	const char *help;    /* longer help, a msgid, or NULL */
	int (*exec)(struct hq_cli *cli, int argc, char **argv);
};

int hq_cli_usage(const struct hq_cmd_entry *e);
int hq_cli_usage_error(const struct hq_cmd_entry *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "retas-hq: MESSAGE" to stderr. */
void hq_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

extern const struct hq_cmd_entry *const hq_commands[];

struct hq_ctx;
struct sqlite3;

/* Opens the head-office directory of cli and one store connection,
 * printing what went wrong. Returns HQ_EXIT_OK or an exit code. */
int hq_cli_open(const struct hq_cli *cli, struct hq_ctx **ctx, struct sqlite3 **db);

struct hq_staff;
struct json_object;
struct retas_error;

/* The staff member holding token (--token, else $RETAS_HQ_TOKEN), printing
 * why not. Returns HQ_EXIT_OK, HQ_EXIT_USAGE (no token) or
 * HQ_EXIT_REFUSED. */
int hq_cli_staff(struct sqlite3 *db, const char *token, struct hq_staff *out);
/* Prints obj as indented JSON on stdout. */
void hq_cli_print_json(struct json_object *obj);
/* Prints a module's error and returns HQ_EXIT_REFUSED. */
int hq_cli_refused(const struct retas_error *err);
