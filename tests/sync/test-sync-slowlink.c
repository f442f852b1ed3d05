/*
 * A real slow link: the van and the server in two network namespaces
 * joined by a veth pair shaped with tbf to 1 Mbit/s, as on a weak mobile
 * connection. The upload takes the time the link allows, never trips the
 * low-speed limit, and reports a rate the link can carry. Skipped (77)
 * where namespaces or tc cannot be used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "retas-time.h"
#include "shaped-link.h"
#include "sync-tus.h"
#include "tus-server.h"

#define CHUNK (64 * 1024)
#define FILE_LEN (4 * CHUNK)
#define RATE_BPS 125000 /* 1 Mbit/s */

static int link_setup(void **state)
{
	shaped_link_make(RATE_BPS * 8 / 1000);
	return 0;
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
	int lfd, fd, one = 1;

	/* The server listens on the far side of the link. */
	shaped_link_enter_hq();
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, SHAPED_LINK_HQ_ADDR, &sa.sin_addr);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
	shaped_link_leave();
	server_reset();
	server_start_fd(lfd);

	for (size_t i = 0; i < FILE_LEN; i++)
		data[i] = (uint8_t)(i * 13 + i / 257);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, FILE_LEN), FILE_LEN);
	close(fd);

	/* The van: every socket curl opens is made in its namespace. */
	shaped_link_enter_van();
	snprintf(endpoint, sizeof(endpoint), "http://" SHAPED_LINK_HQ_ADDR ":%u/files/",
		 ntohs(sa.sin_port));
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
	shaped_link_leave();

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

	return cmocka_run_group_tests(tests, link_setup, NULL);
}
