/*
 * Running the virtual PTP/IP camera from a test: start it, wait for its
 * readiness line (never a fixed sleep), wait for the lines it prints as
 * things happen, send it control lines, stop it. The program's path comes
 * from $RETAS_PTPIP_CAMERA (set by meson).
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct vcam {
	pid_t pid;
	int in_fd;  /* its stdin: control lines */
	int out_fd; /* its stdout: event lines */
	unsigned port;
	char buf[8192];
	size_t len;
};

/* Starts the camera with the extra arguments (NULL-terminated; --port 0
 * and --stdin are added unless args holds --port) and waits up to 10 s for
 * "ready port=P". 0 or a negative errno. */
int vcam_start(struct vcam *vc, const char *const *args);
/* Waits up to timeout_ms for a line starting with prefix; copies it into
 * line (may be NULL). Earlier lines are consumed. 0, -ETIMEDOUT or -EPIPE. */
int vcam_wait_line(struct vcam *vc, const char *prefix, int timeout_ms, char *line, size_t size);
/* Sends a control line ("fault busy:1"). */
int vcam_send(struct vcam *vc, const char *line);
/* Closes its stdin, waits for it to exit (SIGKILL after 5 s). */
void vcam_stop(struct vcam *vc);
/* "ptpip:127.0.0.1:P:P" */
void vcam_port_string(const struct vcam *vc, char *buf, size_t size);
