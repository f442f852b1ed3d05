/*
 * The sync benchmarks' shared parts (see sync-bench.h). The link is made
 * as tests/sync/test-sync-slowlink.c makes it, with ip(8) and tc(8), and
 * the namespaces are entered per thread with setns(), so every socket the
 * engine or a spawned process opens lives on the van's side of the link.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "retas-b64.h"
#include "retas-time.h"
#include "sync-auth.h"
#include "sync-bench.h"
#include "sync-receipt.h"

#define ST_NOMOR "800/041/DUKCAPIL/2026"
#define OFFICER "198703152010011002"
#define PHOTO_LEN (400 * 1024)

extern char **environ;

static char ns_van[32], ns_hq[32];
static const char *ip_bin, *tc_bin;
static int orig_ns = -1;
static struct hq_fx *live_hq[4];

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

size_t sb_batch_bytes(void)
{
	const char *s = getenv("RETAS_BENCH_SYNC_MB");
	long mb = s ? strtol(s, NULL, 10) : 20;

	if (mb < 1 || mb > 1024) {
		fprintf(stderr, "RETAS_BENCH_SYNC_MB must be 1..1024, not '%s'\n", s);
		exit(2);
	}
	return (size_t)mb * 1000 * 1000;
}

/* Outside /tmp, whose retas-* entries other runs on a shared machine may
 * sweep away while a long benchmark still uses them. */
static const char *bench_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t ? t : "/var/tmp";
}

static void read_pub(const char *dir, const char *name, uint8_t pk[32])
{
	char path[512], *text;

	snprintf(path, sizeof(path), "%s/keys/%s", dir, name);
	text = read_file(path, NULL);
	text[strcspn(text, "\r\n")] = 0;
	assert_int_equal(retas_b64url_decode_key(text, pk, 32), 0);
	free(text);
}

void sb_hq_init(struct hq_fx *fx, const char *bin, const char *config)
{
	char *argv[] = {(char *)bin, "init", fx->dir, NULL};
	pid_t pid;
	int status;

	memset(fx, 0, sizeof(*fx));
	fx->bin = bin;
	fx->pidfd = -1;
	snprintf(fx->tmp, sizeof(fx->tmp), "%s/retas-bench-sync-XXXXXX", bench_tmpdir());
	assert_non_null(mkdtemp(fx->tmp));
	snprintf(fx->dir, sizeof(fx->dir), "%s/hq", fx->tmp);
	argv[2] = fx->dir;
	assert_int_equal(posix_spawn(&pid, bin, NULL, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (config) {
		char path[512];
		FILE *f;

		/* retas-hq.conf takes the last value of a key */
		snprintf(path, sizeof(path), "%s/retas-hq.conf", fx->dir);
		f = fopen(path, "ae");
		assert_non_null(f);
		fprintf(f, "\n[server]\n%s\n", config);
		assert_int_equal(fclose(f), 0);
	}
	read_pub(fx->dir, "seal.pub", fx->seal_pk);
	read_pub(fx->dir, "sign.pub", fx->sign_pk);
}

void sb_batch_make(struct hq_fx *fx, struct test_van *v, size_t bytes, struct sb_batch *b)
{
	size_t n = (bytes + PHOTO_LEN - 1) / PHOTO_LEN, cap = n;
	uint8_t **recs = calloc(cap, sizeof(*recs)), *batch = NULL;
	size_t *lens = calloc(cap, sizeof(*lens));
	int fd;

	assert_true(recs && lens);
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < n; i++)
		test_van_record(v, fx->seal_pk, ST_NOMOR, OFFICER, retas_time_now_ms(),
				"{\"nik\":\"1571014808090001\",\"nama\":\"Siti Aminah\"}",
				PHOTO_LEN, NULL, &recs[i], &lens[i]);
	test_van_batch(v, ST_NOMOR, recs, lens, n, NULL, &batch, &b->len, b->batch_id);
	snprintf(b->path, sizeof(b->path), "%s/batch-XXXXXX", fx->tmp);
	fd = mkstemp(b->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, batch, b->len), (ssize_t)b->len);
	close(fd);
	b->n_records = n;
	for (size_t i = 0; i < n; i++)
		free(recs[i]);
	free(recs);
	free(lens);
	free(batch);
}

void sb_batch_remove(struct sb_batch *b)
{
	if (b->path[0])
		unlink(b->path);
	b->path[0] = 0;
}

/* The engine's client for one upload. */
struct up {
	const struct test_van *van;
	char *url;
	uint64_t offset;
	bool done;
	int result;
	struct retas_error err;
	unsigned waits, busy_waits;
};

static int u_headers(void *ud, const char *method, const char *url, const char *path,
		     struct curl_slist **list)
{
	struct up *u = ud;
	uint8_t nonce[SYNC_AUTH_NONCE_LEN];
	char *value = NULL, *line = NULL;
	struct curl_slist *n;
	int r;

	randombytes_buf(nonce, sizeof(nonce));
	r = sync_auth_sign(method, path, retas_time_now_ms(), nonce, u->van->pk, u->van->sk,
			   &value);
	if (r < 0)
		return r;
	if (asprintf(&line, "%s: %s", SYNC_AUTH_HEADER, value) < 0) {
		free(value);
		return -ENOMEM;
	}
	n = curl_slist_append(*list, line);
	free(value);
	free(line);
	if (!n)
		return -ENOMEM;
	*list = n;
	return 0;
}

static int u_load(void *ud, char **url, uint64_t *offset)
{
	struct up *u = ud;

	*url = u->url ? strdup(u->url) : NULL;
	*offset = u->offset;
	return 0;
}

static int u_save(void *ud, const char *url, uint64_t offset)
{
	struct up *u = ud;

	free(u->url);
	u->url = url ? strdup(url) : NULL;
	u->offset = offset;
	return 0;
}

static void u_done(void *ud, enum sync_tus_end end, int r, const struct retas_error *err)
{
	struct up *u = ud;

	u->done = true;
	u->result = r;
	if (err)
		u->err = *err;
}

static void u_waiting(void *ud, uint64_t delay_ms, const struct retas_error *why)
{
	struct up *u = ud;

	u->waits++;
	if (strstr(why->message, "HTTP 423"))
		u->busy_waits++;
}

static uint32_t u_random(void *ud)
{
	return randombytes_random();
}

static int64_t u_now(void *ud)
{
	return retas_time_now_ms();
}

static const struct sync_tus_ops up_ops = {
    .headers = u_headers,
    .load = u_load,
    .save = u_save,
    .done = u_done,
    .waiting = u_waiting,
    .random = u_random,
    .now_ms = u_now,
};

void sb_engine_upload(const char *endpoint, const struct test_van *v, const struct sb_batch *b,
		      uint64_t chunk, int deadline_s, struct sb_result *out)
{
	struct sync_tus_config cfg = {
	    .http = {.allow_plain_http = true,
		     .connect_timeout_ms = 5000,
		     .low_speed_limit = 1024,
		     .low_speed_time_s = 30},
	    .endpoint = endpoint,
	    .chunk_size = chunk,
	    .retry = {.base_ms = 100, .cap_ms = 1000, .max_attempts = 60},
	};
	struct up u = {.van = v};
	struct sync_http *http = NULL;
	struct sync_tus *tus = NULL;
	sd_event *e = NULL;
	int64_t t0, end;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(sync_http_new(e, &http), 0);
	assert_int_equal(sync_tus_new(http, &cfg, &up_ops, &u, &tus), 0);
	t0 = retas_time_mono_ms();
	end = t0 + (int64_t)deadline_s * 1000;
	assert_int_equal(sync_tus_start(tus, b->path, NULL), 0);
	while (!u.done) {
		int64_t left = end - retas_time_mono_ms();

		if (left <= 0)
			fail_msg("the upload did not finish in %d s", deadline_s);
		assert_true(sd_event_run(e, (uint64_t)left * 1000) >= 0);
	}
	out->elapsed_ms = retas_time_mono_ms() - t0;
	if (u.result != 0)
		fail_msg("upload failed: %s (%s)", u.err.message, u.err.reason);
	assert_non_null(sync_tus_batch_id(tus));
	assert_string_equal(sync_tus_batch_id(tus), b->batch_id);
	sync_tus_get_stats(tus, &out->stats);
	out->waits = u.waits;
	out->busy_waits = u.busy_waits;
	sync_tus_free(tus);
	sync_http_free(http);
	sd_event_unref(e);
	free(u.url);
}

void sb_assert_receipt(struct hq_fx *fx, const struct test_van *v, const struct sb_batch *b)
{
	struct sync_receipt *rc = fetch_receipt(fx, v, b->batch_id);

	assert_string_equal(rc->batch_id, b->batch_id);
	assert_int_equal(rc->n_records, b->n_records);
	for (size_t i = 0; i < rc->n_records; i++)
		assert_int_equal(rc->records[i].outcome, SYNC_OUTCOME_STORED);
	assert_int_equal(rc->n_anomalies, 0);
	sync_receipt_free(rc);
}

static void at_exit(void)
{
	for (size_t i = 0; i < sizeof(live_hq) / sizeof(live_hq[0]); i++) {
		struct hq_fx *fx = live_hq[i];
		int status;

		if (fx && fx->pid) {
			kill(fx->pid, SIGTERM);
			waitpid(fx->pid, &status, 0);
			fx->pid = 0;
		}
	}
	if (ns_van[0]) {
		if (orig_ns >= 0)
			setns(orig_ns, CLONE_NEWNET);
		run(ip_bin, "netns del %s", ns_van);
		run(ip_bin, "netns del %s", ns_hq);
		ns_van[0] = 0;
	}
}

static int shape(const char *verb, unsigned rate_kbit)
{
	/* A queue of 200 ms, as a mobile link's buffer; a burst of 16 KiB. */
	return run(tc_bin, "-n %s qdisc %s dev v0 root tbf rate %ukbit burst 16kb latency 200ms",
		   ns_van, verb, rate_kbit) ||
	       run(tc_bin, "-n %s qdisc %s dev v1 root tbf rate %ukbit burst 16kb latency 200ms",
		   ns_hq, verb, rate_kbit);
}

void sb_link_make(unsigned rate_kbit)
{
	ip_bin = find_tool("ip");
	tc_bin = find_tool("tc");
	if (!ip_bin || !tc_bin) {
		fprintf(stderr, "no ip(8) or tc(8): skipped\n");
		exit(77);
	}
	snprintf(ns_van, sizeof(ns_van), "retas-bvan-%d", (int)getpid());
	snprintf(ns_hq, sizeof(ns_hq), "retas-bhq-%d", (int)getpid());
	if (run(ip_bin, "netns add %s", ns_van) != 0) {
		fprintf(stderr, "cannot create a network namespace: skipped\n");
		ns_van[0] = 0;
		exit(77);
	}
	atexit(at_exit);
	if (run(ip_bin, "netns add %s", ns_hq) != 0 ||
	    run(ip_bin, "-n %s link add v0 type veth peer name v1 netns %s", ns_van, ns_hq) ||
	    run(ip_bin, "-n %s addr add 10.79.0.1/24 dev v0", ns_van) ||
	    run(ip_bin, "-n %s addr add " SB_HQ_ADDR "/24 dev v1", ns_hq) ||
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

void sb_link_rate(unsigned rate_kbit)
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

void sb_ns_enter_van(void)
{
	enter(ns_van);
}

void sb_ns_enter_hq(void)
{
	enter(ns_hq);
}

void sb_ns_leave(void)
{
	assert_int_equal(setns(orig_ns, CLONE_NEWNET), 0);
}

const char *sb_ns_van(void)
{
	return ns_van;
}

void sb_hq_start_at(struct hq_fx *fx, const char *host)
{
	char listen[64], log[512], line[256], want[96];
	char *argv[] = {(char *)fx->bin, "--dir", fx->dir, "serve", "--listen", listen, NULL};
	posix_spawn_file_actions_t fa;
	int64_t end = retas_time_mono_ms() + 20000;
	size_t n = 0;
	int pipefd[2];

	snprintf(listen, sizeof(listen), "%s:0", host);
	snprintf(log, sizeof(log), "%s/server.log", fx->tmp);
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_int_equal(posix_spawn(&fx->pid, fx->bin, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	for (size_t i = 0; i < sizeof(live_hq) / sizeof(live_hq[0]); i++)
		if (!live_hq[i] || live_hq[i] == fx) {
			live_hq[i] = fx;
			break;
		}
	fx->pidfd = (int)syscall(SYS_pidfd_open, fx->pid, 0);
	assert_true(fx->pidfd >= 0);
	/* "retas-hq: listening on HOST:PORT (http)" */
	while (n < sizeof(line) - 1) {
		struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
		int64_t left = end - retas_time_mono_ms();
		ssize_t got;

		if (left <= 0)
			fail_msg("retas-hq serve printed no readiness line in 20 s (see %s)", log);
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		got = read(pipefd[0], line + n, 1);
		if (got <= 0)
			fail_msg("retas-hq serve exited before it was ready (see %s)", log);
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	close(pipefd[0]);
	snprintf(want, sizeof(want), "listening on %s:", host);
	assert_non_null(strstr(line, want));
	fx->port = (unsigned)strtoul(strstr(line, want) + strlen(want), NULL, 10);
	assert_true(fx->port > 0 && fx->port < 65536);
	snprintf(fx->base, sizeof(fx->base), "http://%s:%u", host, fx->port);
}

void sb_figures(const char *name, const char *json)
{
	const char *dir = getenv("RETAS_FIGURES_DIR");
	char path[512];
	FILE *f;

	if (!dir || !*dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	f = fopen(path, "we");
	if (!f || fprintf(f, "%s\n", json) < 0 || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}
