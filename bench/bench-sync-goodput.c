/*
 * Upload goodput of a van's batch (20 MB; RETAS_BENCH_SYNC_MB changes it)
 * over a slow link: two network namespaces joined by a veth pair shaped
 * with tbf at 1 and 8 Mbit/s, `retas-hq serve` on the far side. The sync
 * engine (tus in 1 MiB chunks, each with its sha256 and the van's signed
 * Retas-Auth) against the baseline of the curl command-line tool in the
 * same run: one tus creation POST, then `curl -T` of the whole batch in a
 * single PATCH to the same server, no chunks, no checksum per chunk. Each
 * side uploads its own van's batch of the same size, so head office stores
 * fresh records both times; both times run from the first request to head
 * office's answer to the last one (which ingests the batch), and the
 * receipt is fetched and checked after. Goodput is batch bytes over that
 * time. Exits 77 where namespaces or tc cannot be used.
 *
 * usage: bench-sync-goodput RETAS-HQ CURL
 *
 * Figures measured on the project machine: in bench/meson.build.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "retas-time.h"
#include "sync-bench.h"

extern char **environ;

static const unsigned rates_kbit[] = {1000, 8000};

/* The baseline: creation by libcurl, the bytes by `curl -T` in one PATCH.
 * Returns the milliseconds from the POST to curl's exit. */
static int64_t curl_upload(struct hq_fx *fx, const char *curl_bin, const struct test_van *v,
			   const struct sb_batch *b, int deadline_s)
{
	char sumh[128], b64[64], url[256], maxt[16], out[256] = {0};
	char *loc, *pauth;
	uint8_t sha[32];
	size_t n = 0;
	posix_spawn_file_actions_t fa;
	int pipefd[2], status;
	uint8_t *data;
	int64_t t0, t;
	pid_t pid;
	long code;

	data = (uint8_t *)read_file(b->path, NULL);
	crypto_hash_sha256(sha, data, b->len);
	free(data);
	sodium_bin2base64(b64, sizeof(b64), sha, 32, sodium_base64_VARIANT_ORIGINAL);
	snprintf(sumh, sizeof(sumh), "Upload-Checksum: sha256 %s", b64);
	snprintf(maxt, sizeof(maxt), "%d", deadline_s);

	t0 = retas_time_mono_ms();
	loc = tus_create(fx, v, b->len);
	snprintf(url, sizeof(url), "%s%s", fx->base, loc);
	pauth = test_van_auth(v, "PATCH", loc, 0);
	{
		char *argv[] = {(char *)curl_bin,
				"-sS",
				"--max-time",
				maxt,
				"-o",
				"/dev/null",
				"-w",
				"%{http_code}",
				"-X",
				"PATCH",
				"-T",
				(char *)b->path,
				"-H",
				"Tus-Resumable: 1.0.0",
				"-H",
				"Upload-Offset: 0",
				"-H",
				"Content-Type: application/offset+octet-stream",
				"-H",
				sumh,
				"-H",
				pauth,
				url,
				NULL};

		assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
		assert_int_equal(posix_spawn(&pid, curl_bin, &fa, NULL, argv, environ), 0);
		posix_spawn_file_actions_destroy(&fa);
		close(pipefd[1]);
	}
	/* curl's --max-time bounds this read. */
	for (ssize_t got; n < sizeof(out) - 1; n += (size_t)got) {
		got = read(pipefd[0], out + n, sizeof(out) - 1 - n);
		if (got < 0 && errno == EINTR)
			got = 0;
		else if (got <= 0)
			break;
	}
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	t = retas_time_mono_ms() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("curl -T failed (status %d)", status);
	code = strtol(out, NULL, 10);
	if (code != 204)
		fail_msg("curl -T: HTTP %ld", code);
	free(pauth);
	free(loc);
	return t;
}

int main(int argc, char **argv)
{
	const char *bin = hq_fx_binary(argc, argv);
	const char *curl_bin = argc > 2 ? argv[2] : "/usr/bin/curl";
	size_t bytes = sb_batch_bytes();
	double eng_bps[2], curl_bps[2];
	char endpoint[96], json[1024];
	struct test_van van_e, van_c;
	struct hq_fx fx;
	size_t off = 0;

	signal(SIGPIPE, SIG_IGN);
	if (access(curl_bin, X_OK) != 0) {
		fprintf(stderr, "no curl at %s: skipped\n", curl_bin);
		return 77;
	}
	shaped_link_make(rates_kbit[0]);
	sb_hq_init(&fx, bin, NULL);
	test_van_new(&van_e, "MPK-01");
	test_van_new(&van_c, "MPK-02");
	test_van_register(&fx, &van_e);
	test_van_register(&fx, &van_c);
	shaped_link_enter_hq();
	sb_hq_start_at(&fx, SHAPED_LINK_HQ_ADDR);
	shaped_link_leave();
	snprintf(endpoint, sizeof(endpoint), "%s/tus/", fx.base);
	printf("batch %.1f MB, engine chunks of %d KiB, tbf both ways (burst 16 KiB, 200 ms "
	       "queue)\n",
	       (double)bytes / 1e6, SB_CHUNK / 1024);
	printf("baseline: curl -T, one tus PATCH of the whole batch to the same retas-hq\n");

	for (size_t i = 0; i < sizeof(rates_kbit) / sizeof(rates_kbit[0]); i++) {
		/* link time plus a margin for slow machines */
		int deadline_s = (int)((double)bytes * 8 / (rates_kbit[i] * 1000.0) * 2) + 60;
		struct sb_batch be, bc;
		struct sb_result res;
		int64_t curl_ms;

		shaped_link_rate(rates_kbit[i]);
		sb_batch_make(&fx, &van_e, bytes, &be);
		sb_batch_make(&fx, &van_c, bytes, &bc);
		shaped_link_enter_van();
		sb_engine_upload(endpoint, &van_e, &be, SB_CHUNK, deadline_s, &res);
		sb_assert_receipt(&fx, &van_e, &be);
		curl_ms = curl_upload(&fx, curl_bin, &van_c, &bc, deadline_s);
		sb_assert_receipt(&fx, &van_c, &bc);
		shaped_link_leave();
		assert_int_equal(res.stats.body_bytes, be.len);
		eng_bps[i] = (double)be.len / ((double)res.elapsed_ms / 1000);
		curl_bps[i] = (double)bc.len / ((double)curl_ms / 1000);
		printf("%5.1f Mbit/s: engine %7.1f KB/s (%.1f s, %u PATCHes, %u retries)  curl -T "
		       "%7.1f KB/s (%.1f s)  ratio engine/curl %.3f\n",
		       rates_kbit[i] / 1000.0, eng_bps[i] / 1e3, (double)res.elapsed_ms / 1000,
		       res.stats.patches, res.stats.failures, curl_bps[i] / 1e3,
		       (double)curl_ms / 1000, eng_bps[i] / curl_bps[i]);
		fflush(stdout);
		sb_batch_remove(&be);
		sb_batch_remove(&bc);
	}
	hq_fx_stop(&fx);
	hq_fx_cleanup(&fx);

	off += (size_t)snprintf(json + off, sizeof(json) - off, "{\"batch_bytes\": %zu", bytes);
	for (size_t i = 0; i < sizeof(rates_kbit) / sizeof(rates_kbit[0]); i++) {
		unsigned m = rates_kbit[i] / 1000;

		off += (size_t)snprintf(json + off, sizeof(json) - off,
					", \"engine_%umbit_Bps\": %.0f, \"curl_%umbit_Bps\": %.0f, "
					"\"ratio_%umbit\": %.3f",
					m, eng_bps[i], m, curl_bps[i], m, eng_bps[i] / curl_bps[i]);
	}
	snprintf(json + off, sizeof(json) - off, ", \"baseline\": \"curl -T one PATCH\"}");
	sb_figures("sync-goodput", json);
	return 0;
}
