/*
 * The retas command line: every command is one cmd-*.c file exporting one
 * struct cli_cmd_entry; cli.c owns lookup, usage errors and help, so the
 * command line stays uniform because the table is.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "retas-i18n.h"

/* Exit codes, documented in `retas help`. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_REFUSED = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_UNREACHABLE = 3,
};

#define CLI_DEFAULT_SOCKET "/run/retas/retasd.sock"

struct cli_ctx {
	const char *socket_path; /* --socket, $RETAS_SOCKET, or the default */
	bool json;               /* --json: print machine-readable answers */
	const char *argv0;
};

struct cli_cmd_entry {
	const char *name;    /* one or two words: "status", "assignment verify" */
	const char *args;    /* usage after the name, e.g. "FILE [--key KEY]" */
	const char *summary; /* one line, a msgid (N_) */
	const char *help;    /* longer help for `retas NAME --help`, a msgid, or NULL */
	/* argv[0] is the command's last word; returns a CLI_EXIT_* code. */
	int (*exec)(struct cli_ctx *ctx, int argc, char **argv);
};

/* Prints "usage: retas NAME ARGS" to stderr and returns CLI_EXIT_USAGE. */
int cli_usage(const struct cli_cmd_entry *e);
/* Prints a usage error naming what is wrong and the usage line; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_cmd_entry *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* True when argv holds -h or --help; prints the command's help. */
bool cli_wants_help(const struct cli_cmd_entry *e, int argc, char **argv);
void cli_print_help(const struct cli_cmd_entry *e);
/* Prints "retas: MESSAGE" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads at most cap bytes of path ("-": standard input) into a new
 * NUL-terminated buffer (caller frees); *len tells how many. A file longer
 * than cap is cut at cap: pass one more than the largest size you accept
 * to tell an oversize file from one that fits. */
int cli_read_file(const char *path, size_t cap, char **out, size_t *len);

extern const struct cli_cmd_entry *const cli_commands[];
