/*
 * Bytes sent again after a cut in the middle: the sync engine uploads a
 * van's batch (20 MB; RETAS_BENCH_SYNC_MB changes it) in the daemon's
 * default 1 MiB chunks to a real `retas-hq serve` through
 * tests/tools/faultproxy, which closes the connection (FIN both ways) once
 * half the batch has gone through. Head office keeps what it confirmed;
 * the van asks where the upload stands and goes on from there. The figure
 * is the PATCH body bytes handed to libcurl minus the batch size, held to
 * at most one chunk, against the baseline of the same upload without a
 * cut in the same run (which must send every byte exactly once). The
 * bytes on the wire (faultproxy's count, headers included) are printed
 * too.
 *
 * usage: bench-sync-resend RETAS-HQ   (FAULTPROXY in the environment)
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sync-bench.h"
#include "sync-fixture.h"

/* faultproxy's "stats" answer: bytes client->server so far. */
static uint64_t proxy_up(struct proxy *p)
{
	char line[256];
	const char *up;

	assert_int_equal(write(p->in, "stats\n", 6), 6);
	do
		assert_int_equal(fixture_read_line(p->out, line, sizeof(line), 5000), 0);
	while (strncmp(line, "stats ", 6) != 0);
	up = strstr(line, " up=");
	assert_non_null(up);
	return strtoull(up + 4, NULL, 10);
}

/* One upload through a fresh proxy; fault (cut or reset, NULL: none)
 * strikes its first connection at half the batch. */
static void one(struct hq_fx *fx, struct test_van *v, size_t bytes, const char *fault,
		struct sb_result *res, uint64_t *wire, size_t *len)
{
	char endpoint[96];
	struct sb_batch b;
	struct proxy p;

	sb_batch_make(fx, v, bytes, &b);
	if (fault) {
		char cmd[64];

		/* Half the batch, counted on the connection that carries it. */
		snprintf(cmd, sizeof(cmd), "%s %zu 1", fault, b.len / 2);
		proxy_start(&p, (uint16_t)fx->port, cmd);
	} else {
		proxy_start(&p, (uint16_t)fx->port, NULL);
	}
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%u/tus/", p.port);
	sb_engine_upload(endpoint, v, &b, SB_CHUNK, 300, res);
	sb_assert_receipt(fx, v, &b);
	*wire = proxy_up(&p);
	*len = b.len;
	proxy_stop(&p);
	sb_batch_remove(&b);
}

int main(int argc, char **argv)
{
	const char *bin = hq_fx_binary(argc, argv);
	size_t bytes = sb_batch_bytes(), len0, len1;
	struct sb_result r0, r1;
	uint64_t wire0, wire1, resent0, resent1;
	struct test_van van;
	struct hq_fx fx;
	char json[512];

	signal(SIGPIPE, SIG_IGN);
	if (!getenv("FAULTPROXY")) {
		fprintf(stderr, "FAULTPROXY not set: skipped\n");
		return 77;
	}
	/* Head office notices a connection that ended without a FIN soon, as
	 * tests/sync does, so a refused (423) try is rare. */
	sb_hq_init(&fx, bin, "request_timeout = 2");
	test_van_new(&van, "MPK-01");
	test_van_register(&fx, &van);
	sb_hq_start_at(&fx, "127.0.0.1");

	one(&fx, &van, bytes, NULL, &r0, &wire0, &len0);
	one(&fx, &van, bytes, "cut", &r1, &wire1, &len1);
	hq_fx_stop(&fx);
	hq_fx_cleanup(&fx);

	resent0 = r0.stats.body_bytes - len0;
	resent1 = r1.stats.body_bytes - len1;
	printf("batch %zu bytes, chunks of %d bytes (the daemon's sync.chunk_size default)\n", len1,
	       SB_CHUNK);
	printf("no cut:  %" PRIu64 " body bytes sent again, %" PRIu64
	       " bytes on the wire (%.4f x batch), %u PATCHes\n",
	       resent0, wire0, (double)wire0 / (double)len0, r0.stats.patches);
	printf("cut at half: %" PRIu64 " body bytes sent again (%.2f chunks), %" PRIu64
	       " bytes on the wire (%.4f x batch), %u PATCHes, %u HEADs, %u failures, %u of them "
	       "HTTP 423\n",
	       resent1, (double)resent1 / SB_CHUNK, wire1, (double)wire1 / (double)len1,
	       r1.stats.patches, r1.stats.heads, r1.stats.failures, r1.busy_waits);
	printf("ratio wire bytes cut/no cut: %.4f\n", (double)wire1 / (double)wire0);
	assert_int_equal(resent0, 0);
	assert_true(r1.stats.failures >= 1);
	if (resent1 > SB_CHUNK)
		fail_msg("%" PRIu64 " bytes sent again, more than one chunk (%d)", resent1,
			 SB_CHUNK);
	snprintf(json, sizeof(json),
		 "{\"batch_bytes\": %zu, \"chunk_bytes\": %d, \"resent_bytes\": %" PRIu64
		 ", \"resent_chunks\": %.3f, \"wire_bytes\": %" PRIu64
		 ", \"wire_bytes_no_cut\": %" PRIu64 ", \"failures\": %u, \"busy_423\": %u}",
		 len1, SB_CHUNK, resent1, (double)resent1 / SB_CHUNK, wire1, wire0,
		 r1.stats.failures, r1.busy_waits);
	sb_figures("sync-resend", json);
	return 0;
}
