/*
 * The rtnetlink watcher in a network namespace of its own: a veth pair
 * created down says nothing, bringing it up reports one debounced link-up,
 * then an address and a default route are reported. Skipped (77) where
 * namespaces cannot be made.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
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
#include "sync-netwatch.h"

static char ns_name[64];
static const char *ip_bin;

struct seen {
	unsigned calls;
	unsigned link_up_calls;
	unsigned bits;
};

static void on_net(void *userdata, unsigned events)
{
	struct seen *s = userdata;

	s->calls++;
	s->bits |= events;
	if (events & SYNC_NET_LINK_UP)
		s->link_up_calls++;
}

static int ip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int ip(const char *fmt, ...)
{
	char args[256], cmd[512];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>&1", ip_bin, args);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs the loop for ms, or until want bits were seen when want != 0. */
static void run_for(sd_event *e, struct seen *s, unsigned want, int64_t ms)
{
	int64_t deadline = retas_time_mono_ms() + ms;

	for (;;) {
		int64_t left = deadline - retas_time_mono_ms();
		if (left <= 0 || (want && (s->bits & want) == want))
			return;
		assert_true(sd_event_run(e, (uint64_t)left * 1000) >= 0);
	}
}

static int ns_setup(void **state)
{
	const char *candidates[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"};

	for (size_t i = 0; i < 4 && !ip_bin; i++)
		if (access(candidates[i], X_OK) == 0)
			ip_bin = candidates[i];
	if (!ip_bin) {
		print_message("no ip(8): skipped\n");
		exit(77);
	}
	snprintf(ns_name, sizeof(ns_name), "retas-nw-%d", (int)getpid());
	if (ip("netns add %s", ns_name) != 0) {
		print_message("cannot create a network namespace: skipped\n");
		exit(77);
	}
	return 0;
}

static int ns_teardown(void **state)
{
	ip("netns del %s", ns_name);
	return 0;
}

static void netwatch_reports_link_addr_route(void **state)
{
	struct sync_netwatch *w = NULL;
	struct seen s = {0};
	char path[128];
	sd_event *e = NULL;
	int orig, ns;

	/* The watcher's socket belongs to the namespace it was opened in;
	 * the test thread goes back to its own right after. */
	snprintf(path, sizeof(path), "/run/netns/%s", ns_name);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(ns >= 0 && orig >= 0);
	assert_int_equal(setns(ns, CLONE_NEWNET), 0);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(sync_netwatch_new(e, 200, on_net, &s, &w), 0);
	assert_int_equal(setns(orig, CLONE_NEWNET), 0);
	close(ns);
	close(orig);

	/* A link that is down is no news. */
	assert_int_equal(ip("-n %s link add v0 type veth peer name v1", ns_name), 0);
	run_for(e, &s, 0, 400);
	assert_int_equal(s.calls, 0);

	/* Both ends up in one burst: one call. */
	assert_int_equal(ip("-n %s link set v0 up", ns_name), 0);
	assert_int_equal(ip("-n %s link set v1 up", ns_name), 0);
	run_for(e, &s, SYNC_NET_LINK_UP, 5000);
	assert_true(s.bits & SYNC_NET_LINK_UP);
	assert_int_equal(s.link_up_calls, 1);
	run_for(e, &s, 0, 300);
	assert_int_equal(s.link_up_calls, 1);

	s.bits = 0;
	assert_int_equal(ip("-n %s addr add 10.77.0.1/24 dev v0", ns_name), 0);
	run_for(e, &s, SYNC_NET_ADDR_NEW, 5000);
	assert_true(s.bits & SYNC_NET_ADDR_NEW);
	assert_false(s.bits & SYNC_NET_DEFAULT_ROUTE);

	s.bits = 0;
	assert_int_equal(ip("-n %s route add default via 10.77.0.2", ns_name), 0);
	run_for(e, &s, SYNC_NET_DEFAULT_ROUTE, 5000);
	assert_true(s.bits & SYNC_NET_DEFAULT_ROUTE);
	assert_false(s.bits & SYNC_NET_LINK_UP);

	/* Down and up again is a new link-up. */
	assert_int_equal(ip("-n %s link set v1 down", ns_name), 0);
	run_for(e, &s, 0, 300);
	s.bits = 0;
	assert_int_equal(ip("-n %s link set v1 up", ns_name), 0);
	run_for(e, &s, SYNC_NET_LINK_UP, 5000);
	assert_true(s.bits & SYNC_NET_LINK_UP);
	assert_int_equal(s.link_up_calls, 2);

	sync_netwatch_free(w);
	sd_event_unref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(netwatch_reports_link_addr_route),
	};

	return cmocka_run_group_tests(tests, ns_setup, ns_teardown);
}
