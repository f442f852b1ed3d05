/*
 * retasd's Status round trip: `retas status` (a whole CLI process: exec,
 * locale, connect, call, print) against a bare connect/write/read of the
 * same call on the same socket, 1000 of each in the same run, medians and
 * their ratio. Then the daemon's resident memory after start and after
 * 10 000 more Status calls, each on its own connection: it must not grow.
 *
 * usage: bench-status RETASD RETAS
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CALLS 1000
#define LEAK_CALLS 10000
#define GROWTH_LIMIT_KB 512

extern char **environ;

static const char request[] = "{\"method\":\"id.go.jambikota.dukcapil.retas.Status\"}";

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-status: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* One Status call on a fresh connection; returns the answer's length. */
static size_t bare_call(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[8192];
	size_t got = 0;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	if (write(fd, request, sizeof(request)) != (ssize_t)sizeof(request))
		die("write");
	for (;;) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);

		if (n <= 0)
			die("read");
		got += (size_t)n;
		if (memchr(buf, '\0', got))
			break;
	}
	close(fd);
	return got;
}

static void cli_call(const char *retas, const char *sock)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = {(char *)retas, "--socket", (char *)sock, "status", NULL};
	int status;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, retas, &fa, NULL, argv, environ) != 0)
		die("spawn retas");
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench-status: retas status failed\n");
		exit(1);
	}
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		die("open /proc/PID/status");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Starts retasd with a notify socket of our own and waits for READY=1. */
static pid_t start_daemon(const char *retasd, const char *dir, const char *sock)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char state[512], conf[512], env[600], buf[512];
	int nfd;
	pid_t pid;

	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(conf, sizeof(conf), "%s/none.conf", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
	nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (nfd < 0 || bind(nfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("notify socket");
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", sa.sun_path);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char *argv[] = {(char *)retasd,
				"--state-dir",
				state,
				"--socket",
				(char *)sock,
				"--set",
				"daemon.log_level=warning",
				NULL};

		putenv(env);
		execv(retasd, argv);
		_exit(127);
	}
	for (;;) {
		struct pollfd p = {.fd = nfd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 30000) <= 0) {
			fprintf(stderr, "bench-status: retasd not ready within 30 s\n");
			exit(1);
		}
		n = recv(nfd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			die("recv");
		buf[n] = '\0';
		if (strstr(buf, "READY=1"))
			break;
	}
	close(nfd);
	return pid;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/bench-status-XXXXXX", sock[600], cmd[700];
	static double cli[CALLS], bare[CALLS];
	double m_cli, m_bare;
	long rss_start, rss_end;
	int status, r = 0;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: bench-status RETASD RETAS\n");
		return 2;
	}
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(sock, sizeof(sock), "%s/retasd.sock", dir);
	pid = start_daemon(argv[1], dir, sock);
	bare_call(sock); /* first touch of every page the call needs */
	rss_start = rss_kb(pid);

	/* Interleaved, so both see the same machine load. */
	for (int i = 0; i < CALLS; i++) {
		double t0 = now_us();

		cli_call(argv[2], sock);
		cli[i] = now_us() - t0;
		t0 = now_us();
		bare_call(sock);
		bare[i] = now_us() - t0;
	}
	m_cli = median(cli, CALLS);
	m_bare = median(bare, CALLS);
	printf("retas status round trip, median of %d: %.1f us\n", CALLS, m_cli);
	printf("bare connect/write/read, median of %d: %.1f us\n", CALLS, m_bare);
	printf("ratio cli/bare: %.1f\n", m_cli / m_bare);

	for (int i = 0; i < LEAK_CALLS; i++)
		bare_call(sock);
	rss_end = rss_kb(pid);
	printf("retasd RSS after start: %ld kB, after %d more Status calls: %ld kB (%+ld kB)\n",
	       rss_start, CALLS * 2 + LEAK_CALLS, rss_end, rss_end - rss_start);
	if (rss_end - rss_start > GROWTH_LIMIT_KB) {
		printf("FAIL: resident memory grew by more than %d kB\n", GROWTH_LIMIT_KB);
		r = 1;
	}
	kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("FAIL: retasd did not stop cleanly\n");
		r = 1;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		r = 1;
	return r;
}
