/* See shaped-link.h. */
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "shaped-link.h"

static char ns_van[32], ns_hq[32];
static const char *ip_bin, *tc_bin;
static int orig_ns = -1;

static int run(const char *bin, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(const char *bin, const char *fmt, ...)
{
	char args[256], cmd[512];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>&1", bin, args);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ip and tc live in sbin, which a test's PATH may lack. */
static const char *find_tool(const char *name)
{
	static char found[2][64];
	static int n;
	const char *dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(found[n], sizeof(found[n]), "%s/%s", dirs[i], name);
		if (access(found[n], X_OK) == 0)
			return found[n++];
	}
	return NULL;
}

static void take_down(void)
{
	if (!ns_van[0])
		return;
	if (orig_ns >= 0)
		setns(orig_ns, CLONE_NEWNET);
	run(ip_bin, "netns del %s", ns_van);
	run(ip_bin, "netns del %s", ns_hq);
	ns_van[0] = 0;
}

static int shape(const char *verb, unsigned rate_kbit)
{
	/* A queue of 200 ms, as a mobile link's buffer; a burst of 16 KiB. */
	return run(tc_bin, "-n %s qdisc %s dev v0 root tbf rate %ukbit burst 16kb latency 200ms",
		   ns_van, verb, rate_kbit) ||
	       run(tc_bin, "-n %s qdisc %s dev v1 root tbf rate %ukbit burst 16kb latency 200ms",
		   ns_hq, verb, rate_kbit);
}

void shaped_link_make(unsigned rate_kbit)
{
	ip_bin = find_tool("ip");
	tc_bin = find_tool("tc");
	if (!ip_bin || !tc_bin) {
		fprintf(stderr, "no ip(8) or tc(8): skipped\n");
		exit(77);
	}
	snprintf(ns_van, sizeof(ns_van), "retas-van-%d", (int)getpid());
	snprintf(ns_hq, sizeof(ns_hq), "retas-hq-%d", (int)getpid());
	if (run(ip_bin, "netns add %s", ns_van) != 0) {
		fprintf(stderr, "cannot create a network namespace: skipped\n");
		ns_van[0] = 0;
		exit(77);
	}
	atexit(take_down);
	if (run(ip_bin, "netns add %s", ns_hq) != 0 ||
	    run(ip_bin, "-n %s link add v0 type veth peer name v1 netns %s", ns_van, ns_hq) ||
	    run(ip_bin, "-n %s addr add " SHAPED_LINK_VAN_ADDR "/24 dev v0", ns_van) ||
	    run(ip_bin, "-n %s addr add " SHAPED_LINK_HQ_ADDR "/24 dev v1", ns_hq) ||
	    run(ip_bin, "-n %s link set v0 up", ns_van) ||
	    run(ip_bin, "-n %s link set v1 up", ns_hq) ||
	    run(ip_bin, "-n %s link set lo up", ns_van) ||
	    run(ip_bin, "-n %s link set lo up", ns_hq) || shape("add", rate_kbit)) {
		fprintf(stderr, "cannot build the shaped link: skipped\n");
		exit(77);
	}
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(orig_ns >= 0);
}

void shaped_link_rate(unsigned rate_kbit)
{
	assert_int_equal(shape("change", rate_kbit), 0);
}

static void enter(const char *name)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(setns(fd, CLONE_NEWNET), 0);
	close(fd);
}

void shaped_link_enter_van(void)
{
	enter(ns_van);
}

void shaped_link_enter_hq(void)
{
	enter(ns_hq);
}

void shaped_link_leave(void)
{
	assert_int_equal(setns(orig_ns, CLONE_NEWNET), 0);
}

const char *shaped_link_van_ns(void)
{
	return ns_van;
}
