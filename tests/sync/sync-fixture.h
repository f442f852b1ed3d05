/*
 * What the sync tests share: tests/tools/faultproxy run as a child on a
 * pipe pair, its readiness line read under a deadline, commands that change
 * the fault between connections.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

struct proxy {
	pid_t pid;
	int in, out; /* its stdin (we write), its stdout (we read) */
	uint16_t port;
};

/* Reads one line (without the newline) within timeout_ms. 0, -ETIMEDOUT,
 * -EIO, -E2BIG. */
int fixture_read_line(int fd, char *buf, size_t size, int timeout_ms);

/* Starts $FAULTPROXY towards target (exits 77 when it is not set) and
 * applies fault (a command line, or NULL). */
void proxy_start(struct proxy *p, uint16_t target, const char *fault);
/* Sends one command and asserts the "ok", skipping event lines. */
void proxy_cmd(struct proxy *p, const char *cmd);
/* Closes its stdin, which ends it, and reaps it. */
void proxy_stop(struct proxy *p);
