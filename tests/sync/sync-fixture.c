/* faultproxy as a child of the sync tests. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "retas-time.h"
#include "sync-fixture.h"

extern char **environ;

int fixture_read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	size_t n = 0;
	int64_t deadline = retas_time_mono_ms() + timeout_ms;

	while (n + 1 < size) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - retas_time_mono_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -ETIMEDOUT;
		if (read(fd, buf + n, 1) != 1)
			return -EIO;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return 0;
		}
		n++;
	}
	return -E2BIG;
}

void proxy_start(struct proxy *p, uint16_t target, const char *fault)
{
	const char *bin = getenv("FAULTPROXY");
	char port[16], line[128];
	int in[2], out[2];
	posix_spawn_file_actions_t fa;

	if (!bin) {
		print_message("FAULTPROXY is not set\n");
		exit(77);
	}
	snprintf(port, sizeof(port), "%u", target);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	char *argv[] = {(char *)bin, "--target", port, "--lifetime", "120", NULL};
	assert_int_equal(posix_spawn(&p->pid, bin, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	p->in = in[1];
	p->out = out[0];
	assert_int_equal(fixture_read_line(p->out, line, sizeof(line), 5000), 0);
	assert_int_equal(strncmp(line, "listening 127.0.0.1:", 20), 0);
	p->port = (uint16_t)atoi(line + 20);
	if (fault)
		proxy_cmd(p, fault);
}

void proxy_cmd(struct proxy *p, const char *cmd)
{
	char line[128];

	assert_true(write(p->in, cmd, strlen(cmd)) == (ssize_t)strlen(cmd));
	assert_true(write(p->in, "\n", 1) == 1);
	do
		assert_int_equal(fixture_read_line(p->out, line, sizeof(line), 5000), 0);
	while (strncmp(line, "conn ", 5) == 0);
	assert_string_equal(line, "ok");
}

void proxy_stop(struct proxy *p)
{
	int status;

	close(p->in);
	close(p->out);
	/* EOF on its stdin ends it. */
	assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
