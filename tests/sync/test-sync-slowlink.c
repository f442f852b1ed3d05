/*
 * A real slow link: the van and the server in two network namespaces
 * joined by a veth pair shaped with tbf to 1 Mbit/s, as on a weak mobile
 * connection. The upload takes the time the link allows, never trips the
 * low-speed limit, and reports a rate the link can carry. Skipped (77)
 * where namespaces or tc cannot be used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "retas-time.h"
#include "sync-tus.h"
#include "tus-server.h"

#define CHUNK (64 * 1024)
#define FILE_LEN (4 * CHUNK)
#define RATE_BPS 125000 /* 1 Mbit/s */

static char ns_van[32], ns_hq[32];
static const char *ip_bin, *tc_bin;

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

static const char *find_tool(const char *name)
{
	static char found[2][64];
	static int n;
	const char *dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};

	for (size_t i = 0; i < 4; i++) {
		snprintf(found[n], sizeof(found[n]), "%s/%s", dirs[i], name);
		if (access(found[n], X_OK) == 0)
			return found[n++];
	}
	return NULL;
}

static int netns_teardown(void **state)
{
	run(ip_bin, "netns del %s", ns_van);
	run(ip_bin, "netns del %s", ns_hq);
	return 0;
}

static int netns_setup(void **state)
{
	ip_bin = find_tool("ip");
	tc_bin = find_tool("tc");
	if (!ip_bin || !tc_bin) {
		print_message("no ip(8) or tc(8): skipped\n");
		exit(77);
	}
	snprintf(ns_van, sizeof(ns_van), "retas-van-%d", (int)getpid());
	snprintf(ns_hq, sizeof(ns_hq), "retas-hq-%d", (int)getpid());
	if (run(ip_bin, "netns add %s", ns_van) != 0) {
		print_message("cannot create a network namespace: skipped\n");
		exit(77);
	}
	if (run(ip_bin, "netns add %s", ns_hq) != 0 ||
	    run(ip_bin, "-n %s link add v0 type veth peer name v1 netns %s", ns_van, ns_hq) ||
	    run(ip_bin, "-n %s addr add 10.79.0.1/24 dev v0", ns_van) ||
	    run(ip_bin, "-n %s addr add 10.79.0.2/24 dev v1", ns_hq) ||
	    run(ip_bin, "-n %s link set v0 up", ns_van) ||
	    run(ip_bin, "-n %s link set v1 up", ns_hq) ||
	    run(tc_bin, "-n %s qdisc add dev v0 root tbf rate 1mbit burst 16kb latency 200ms",
		ns_van) ||
	    run(tc_bin, "-n %s qdisc add dev v1 root tbf rate 1mbit burst 16kb latency 200ms",
		ns_hq)) {
		netns_teardown(state);
		print_message("cannot build the shaped link: skipped\n");
		exit(77);
	}
	return 0;
}

/* Switches the calling thread to the named namespace; returns the fd of
 * the one it was in. */
static int enter_ns(const char *name)
{
	char path[96];
	int orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(orig >= 0 && fd >= 0);
	assert_int_equal(setns(fd, CLONE_NEWNET), 0);
	close(fd);
	return orig;
}

static void leave_ns(int orig)
{
	assert_int_equal(setns(orig, CLONE_NEWNET), 0);
	close(orig);
}

struct run_state {
	char *url;
	uint64_t offset;
	bool done;
	int result;
	struct retas_error err;
	uint64_t max_rate;
	unsigned progress_calls;
};

static int s_load(void *ud, char **url, uint64_t *offset)
{
	struct run_state *s = ud;

	*url = s->url ? strdup(s->url) : NULL;
	*offset = s->offset;
	return 0;
}

static int s_save(void *ud, const char *url, uint64_t offset)
{
	struct run_state *s = ud;

	free(s->url);
	s->url = url ? strdup(url) : NULL;
	s->offset = offset;
	return 0;
}

static void s_progress(void *ud, const struct sync_tus_progress *p)
{
	struct run_state *s = ud;

	s->progress_calls++;
	if (p->rate_bps > s->max_rate)
		s->max_rate = p->rate_bps;
}

static void s_done(void *ud, enum sync_tus_end end, int r, const struct retas_error *err)
{
	struct run_state *s = ud;

	s->done = true;
	s->result = r;
	if (err)
		s->err = *err;
}

static uint32_t s_random(void *ud)
{
	return 0x80000000u;
}

static int64_t s_now(void *ud)
{
	return retas_time_now_ms();
}

static const struct sync_tus_ops ops = {
    .load = s_load,
    .save = s_save,
    .progress = s_progress,
    .done = s_done,
    .random = s_random,
    .now_ms = s_now,
};

static void slowlink_upload_at_link_rate(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t salen = sizeof(sa);
	struct sync_tus_config cfg;
	struct sync_tus_stats st;
	struct run_state rs = {0};
	struct sync_http *http = NULL;
	struct sync_tus *tus = NULL;
	sd_event *e = NULL;
	char endpoint[64], path[] = "/tmp/test-sync-slowlink-XXXXXX";
	uint8_t *data = malloc(FILE_LEN);
	int64_t t0, elapsed;
	int orig, lfd, fd, one = 1;

	/* The server listens on the far side of the link. */
	orig = enter_ns(ns_hq);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, "10.79.0.2", &sa.sin_addr);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
	leave_ns(orig);
	server_reset();
	server_start_fd(lfd);

	for (size_t i = 0; i < FILE_LEN; i++)
		data[i] = (uint8_t)(i * 13 + i / 257);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, FILE_LEN), FILE_LEN);
	close(fd);

	/* The van: every socket curl opens is made in its namespace. */
	orig = enter_ns(ns_van);
	snprintf(endpoint, sizeof(endpoint), "http://10.79.0.2:%u/files/", ntohs(sa.sin_port));
	cfg = (struct sync_tus_config){
	    .http = {.allow_plain_http = true,
		     .connect_timeout_ms = 5000,
		     .low_speed_limit = 1024,
		     .low_speed_time_s = 5},
	    .endpoint = endpoint,
	    .chunk_size = CHUNK,
	    .retry = {.base_ms = 100, .cap_ms = 1000, .max_attempts = 5},
	};
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(sync_http_new(e, &http), 0);
	assert_int_equal(sync_tus_new(http, &cfg, &ops, &rs, &tus), 0);
	t0 = retas_time_mono_ms();
	assert_int_equal(sync_tus_start(tus, path, NULL), 0);
	while (!rs.done) {
		int64_t left = t0 + 30000 - retas_time_mono_ms();
		if (left <= 0)
			fail_msg("no result in 30 s");
		assert_true(sd_event_run(e, (uint64_t)left * 1000) >= 0);
	}
	elapsed = retas_time_mono_ms() - t0;
	leave_ns(orig);

	if (rs.result != 0)
		fail_msg("upload failed: %s", rs.err.message);
	sync_tus_get_stats(tus, &st);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.patches, 4);
	assert_int_equal(st.body_bytes, FILE_LEN);
	assert_true(srv.uploads[0].used);
	assert_memory_equal(srv.uploads[0].data, data, FILE_LEN);
	/* 256 KiB at 1 Mbit/s is 2.1 s; the bucket's 16 KiB head start
	 * takes a little off. */
	print_message("slow link: %d KiB in %" PRId64 " ms, top rate %" PRIu64 " B/s\n",
		      FILE_LEN / 1024, elapsed, rs.max_rate);
	assert_true(elapsed >= 1700);
	assert_true(elapsed < 8000);
	/* curl rates a chunk over its own time, the bucket's burst included. */
	assert_true(rs.max_rate <= RATE_BPS * 3 / 2);

	sync_tus_free(tus);
	sync_http_free(http);
	sd_event_unref(e);
	server_stop();
	server_reset();
	unlink(path);
	free(data);
	free(rs.url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(slowlink_upload_at_link_rate),
	};

	return cmocka_run_group_tests(tests, netns_setup, netns_teardown);
}
