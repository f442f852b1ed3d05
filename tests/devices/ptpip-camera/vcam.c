/* Running the virtual PTP/IP camera from a test (see vcam.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vcam.h"

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vcam_start(struct vcam *vc, const char *const *args)
{
	const char *prog = getenv("RETAS_PTPIP_CAMERA");
	const char *argv[64];
	int in[2], out[2], n = 0, r;
	bool has_port = false;
	char line[256];

	memset(vc, 0, sizeof(*vc));
	vc->pid = -1;
	if (!prog)
		return -ENOENT;
	argv[n++] = prog;
	for (size_t i = 0; args && args[i] && n < 60; i++) {
		has_port |= strcmp(args[i], "--port") == 0;
		argv[n++] = args[i];
	}
	if (!has_port) {
		argv[n++] = "--port";
		argv[n++] = "0";
	}
	argv[n++] = "--stdin";
	argv[n] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		r = -errno;
		close(in[0]);
		close(in[1]);
		return r;
	}
	vc->pid = fork();
	if (vc->pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	vc->in_fd = in[1];
	vc->out_fd = out[0];
	if (vc->pid < 0) {
		r = -errno;
		vcam_stop(vc);
		return r;
	}
	r = vcam_wait_line(vc, "ready port=", 10000, line, sizeof(line));
	if (r < 0) {
		vcam_stop(vc);
		return r;
	}
	vc->port = (unsigned)strtoul(line + strlen("ready port="), NULL, 10);
	return vc->port ? 0 : -EINVAL;
}

int vcam_wait_line(struct vcam *vc, const char *prefix, int timeout_ms, char *line, size_t size)
{
	long long end = mono_ms() + timeout_ms;

	for (;;) {
		char *nl;

		while ((nl = memchr(vc->buf, '\n', vc->len))) {
			size_t n = (size_t)(nl - vc->buf);
			bool match =
			    strncmp(vc->buf, prefix, strlen(prefix)) == 0 && n >= strlen(prefix);

			*nl = 0;
			if (getenv("VCAM_TRACE"))
				fprintf(stderr, "vcam: %s\n", vc->buf);
			if (match && line)
				snprintf(line, size, "%s", vc->buf);
			vc->len -= n + 1;
			memmove(vc->buf, nl + 1, vc->len);
			if (match)
				return 0;
		}
		long long left = end - mono_ms();
		struct pollfd p = {.fd = vc->out_fd, .events = POLLIN};
		ssize_t got;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (vc->len == sizeof(vc->buf))
			vc->len = 0;
		got = read(vc->out_fd, vc->buf + vc->len, sizeof(vc->buf) - vc->len);
		if (got <= 0)
			return -EPIPE;
		vc->len += (size_t)got;
	}
}

int vcam_send(struct vcam *vc, const char *line)
{
	size_t n = strlen(line);

	if (write(vc->in_fd, line, n) != (ssize_t)n || write(vc->in_fd, "\n", 1) != 1)
		return -EPIPE;
	return 0;
}

void vcam_stop(struct vcam *vc)
{
	long long end = mono_ms() + 5000;
	int status, pidfd;

	if (vc->in_fd > 0)
		close(vc->in_fd);
	vc->in_fd = -1;
	if (vc->pid > 0) {
		/* It exits when its stdin ends: wait on a pidfd for up to 5 s,
		 * draining its stdout so it never blocks on a full pipe. */
		pidfd = (int)syscall(SYS_pidfd_open, vc->pid, 0);
		while (pidfd >= 0) {
			struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN},
					      {.fd = vc->out_fd, .events = POLLIN}};
			long long left = end - mono_ms();
			char junk[512];

			if (left <= 0 || poll(p, 2, (int)left) <= 0 || p[0].revents)
				break;
			if (p[1].revents && read(vc->out_fd, junk, sizeof(junk)) <= 0)
				vc->out_fd = -vc->out_fd; /* EOF: stop watching, keep to close */
		}
		if (vc->out_fd < 0)
			vc->out_fd = -vc->out_fd;
		if (waitpid(vc->pid, &status, WNOHANG) == 0) {
			kill(vc->pid, SIGKILL);
			waitpid(vc->pid, &status, 0);
		}
		if (pidfd >= 0)
			close(pidfd);
	}
	if (vc->out_fd > 0)
		close(vc->out_fd);
	vc->out_fd = -1;
	vc->pid = -1;
}

void vcam_port_string(const struct vcam *vc, char *buf, size_t size)
{
	snprintf(buf, size, "ptpip:127.0.0.1:%u:%u", vc->port, vc->port);
}
