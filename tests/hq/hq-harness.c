/*
 * The retas-hq test harness (see hq-harness.h). Waiting is always on an
 * event with a deadline: the server's readiness line on a pipe, its exit
 * on a pidfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>

#include "hq-harness.h"
#include "retas-b64.h"
#include "retas-json.h"
#include "retas-jws.h"
#include "retas-manifest.h"
#include "retas-record.h"
#include "retas-time.h"
#include "retas-uuid.h"
#include "sync-auth.h"
#include "sync-batch.h"
#include "sync-receipt.h"

extern char **environ;

const char *hq_fx_binary(int argc, char **argv)
{
	const char *bin = argc > 1 ? argv[1] : getenv("RETAS_HQ");

	if (!bin || access(bin, X_OK) != 0) {
		fprintf(stderr, "retas-hq binary not given\n");
		exit(77);
	}
	if (sodium_init() < 0)
		exit(1);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return bin;
}

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	assert_non_null(f);
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static void read_pub(const char *dir, const char *name, uint8_t pk[32])
{
	char path[512];
	char *text;

	snprintf(path, sizeof(path), "%s/keys/%s", dir, name);
	text = read_file(path, NULL);
	text[strcspn(text, "\r\n")] = 0;
	assert_int_equal(retas_b64url_decode_key(text, pk, 32), 0);
	free(text);
}

static void rewrite_config(const char *dir, const char *extra)
{
	char path[512], *text, *out, *line;
	size_t cap;

	snprintf(path, sizeof(path), "%s/retas-hq.conf", dir);
	text = read_file(path, NULL);
	cap = strlen(text) + strlen(extra) + 2;
	out = calloc(1, cap);
	assert_non_null(out);
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		const char *e = extra;
		size_t klen = strcspn(line, " =");
		bool replaced = false;

		while (*e && line[0] != '#' && line[0] != '[') {
			size_t elen = strcspn(e, "\n");

			if (strcspn(e, " =") == klen && strncmp(e, line, klen) == 0) {
				strncat(out, e, elen);
				replaced = true;
				break;
			}
			e += elen + (e[elen] == '\n');
		}
		if (!replaced)
			strcat(out, line);
		strcat(out, "\n");
	}
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs(out, f);
	fclose(f);
	free(out);
	free(text);
}

void hq_fx_init(struct hq_fx *fx, const char *bin, const char *extra_config)
{
	char *out = NULL;
	pid_t pid;
	int status;
	char *argv[] = {(char *)bin, "init", fx->dir, NULL};

	memset(fx, 0, sizeof(*fx));
	fx->bin = bin;
	fx->pidfd = -1;
	snprintf(fx->tmp, sizeof(fx->tmp), "/tmp/retas-hq-test-XXXXXX");
	assert_non_null(mkdtemp(fx->tmp));
	snprintf(fx->dir, sizeof(fx->dir), "%s/hq", fx->tmp);
	argv[2] = fx->dir;
	assert_int_equal(posix_spawn(&pid, bin, NULL, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (extra_config)
		rewrite_config(fx->dir, extra_config);
	read_pub(fx->dir, "seal.pub", fx->seal_pk);
	read_pub(fx->dir, "sign.pub", fx->sign_pk);
	(void)out;
}

void hq_fx_cleanup(struct hq_fx *fx)
{
	char *argv[] = {"rm", "-rf", fx->tmp, NULL};
	pid_t pid;
	int status;

	if (fx->pid)
		hq_fx_stop(fx);
	if (!fx->tmp[0])
		return;
	if (getenv("RETAS_TEST_KEEP")) {
		fprintf(stderr, "kept %s\n", fx->tmp);
		return;
	}
	if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ) == 0)
		waitpid(pid, &status, 0);
}

/* Reads fd to EOF within deadline_ms. */
static char *slurp(int fd, int deadline_ms)
{
	int64_t end = retas_time_mono_ms() + deadline_ms;
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap);

	assert_non_null(buf);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = end - retas_time_mono_ms();
		ssize_t got;

		assert_true(left > 0);
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (n + 1024 + 1 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		assert_true(got >= 0);
		if (got == 0)
			break;
		n += (size_t)got;
	}
	buf[n] = 0;
	return buf;
}

static int run_v(struct hq_fx *fx, const char *input, char **out, va_list ap)
{
	char *argv[64];
	int argc = 0, pipefd[2], infd[2] = {-1, -1}, status;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	char *text;

	argv[argc++] = (char *)fx->bin;
	argv[argc++] = "--dir";
	argv[argc++] = fx->dir;
	for (char *a; (a = va_arg(ap, char *)) && argc < 63;)
		argv[argc++] = a;
	argv[argc] = NULL;
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	if (input) {
		assert_int_equal(pipe2(infd, O_CLOEXEC), 0);
		posix_spawn_file_actions_adddup2(&fa, infd[0], 0);
	} else {
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	}
	assert_int_equal(posix_spawn(&pid, fx->bin, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (input) {
		/* small inputs: the pipe buffer holds them */
		close(infd[0]);
		assert_int_equal(write(infd[1], input, strlen(input)), (ssize_t)strlen(input));
		close(infd[1]);
	}
	text = slurp(pipefd[0], 60000);
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (out)
		*out = text;
	else
		free(text);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

int hq_fx_run(struct hq_fx *fx, char **out, ...)
{
	va_list ap;
	int r;

	va_start(ap, out);
	r = run_v(fx, NULL, out, ap);
	va_end(ap);
	return r;
}

int hq_fx_run_in(struct hq_fx *fx, const char *input, char **out, ...)
{
	va_list ap;
	int r;

	va_start(ap, out);
	r = run_v(fx, input, out, ap);
	va_end(ap);
	return r;
}

void hq_fx_start_at(struct hq_fx *fx, const char *host)
{
	char listen[64], log[512], line[256], want[96];
	char *argv[] = {(char *)fx->bin, "--dir", fx->dir, "serve", "--listen", listen, NULL};
	posix_spawn_file_actions_t fa;
	int pipefd[2];
	size_t n = 0;
	int64_t end = retas_time_mono_ms() + 20000;

	snprintf(listen, sizeof(listen), "%s:0", host);
	snprintf(log, sizeof(log), "%s/server.log", fx->tmp);
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_int_equal(posix_spawn(&fx->pid, fx->bin, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	fx->pidfd = (int)syscall(SYS_pidfd_open, fx->pid, 0);
	assert_true(fx->pidfd >= 0);
	/* The readiness line: "retas-hq: listening on HOST:PORT (http)". */
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

void hq_fx_start(struct hq_fx *fx)
{
	hq_fx_start_at(fx, "127.0.0.1");
}

void hq_fx_stop(struct hq_fx *fx)
{
	struct pollfd p = {.fd = fx->pidfd, .events = POLLIN};
	int status;

	if (!fx->pid)
		return;
	kill(fx->pid, SIGTERM);
	assert_int_equal(poll(&p, 1, 20000), 1);
	assert_int_equal(waitpid(fx->pid, &status, 0), fx->pid);
	close(fx->pidfd);
	fx->pidfd = -1;
	fx->pid = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

char *hq_fx_staff(struct hq_fx *fx, const char *nip, const char *name, const char *role)
{
	char *out = NULL;

	assert_int_equal(
	    hq_fx_run(fx, &out, "staff", "add", nip, "--name", name, "--role", role, NULL), 0);
	out[strcspn(out, "\n")] = 0;
	assert_int_equal(strncmp(out, "rhq_", 4), 0);
	return out;
}

void test_van_new(struct test_van *v, const char *id)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->id, sizeof(v->id), "%s", id);
	crypto_sign_keypair(v->pk, v->sk);
}

void test_van_register(struct hq_fx *fx, const struct test_van *v)
{
	char *b64 = NULL;

	assert_int_equal(retas_b64url_encode(v->pk, 32, &b64), 0);
	assert_int_equal(hq_fx_run(fx, NULL, "van", "register", b64, "--id", v->id, NULL), 0);
	free(b64);
}

char *test_van_auth(const struct test_van *v, const char *method, const char *path, int64_t now_ms)
{
	uint8_t nonce[SYNC_AUTH_NONCE_LEN];
	char *value = NULL, *line = NULL;

	randombytes_buf(nonce, sizeof(nonce));
	assert_int_equal(sync_auth_sign(method, path, now_ms ? now_ms : retas_time_now_ms(), nonce,
					v->pk, v->sk, &value),
			 0);
	assert_true(asprintf(&line, "%s: %s", SYNC_AUTH_HEADER, value) > 0);
	free(value);
	return line;
}

void test_van_record(struct test_van *v, const uint8_t hq_seal_pk[32], const char *st_nomor,
		     const char *officer_nip, int64_t created_ms, const char *demografi,
		     size_t photo_len, const uint8_t *id, uint8_t **out, size_t *outlen)
{
	struct retas_record_header h = {0};
	struct retas_container *c = NULL;
	struct retas_error err = {0};
	uint8_t *photo = malloc(photo_len ? photo_len : 1);

	assert_non_null(photo);
	randombytes_buf(photo, photo_len);
	if (id)
		memcpy(h.id, id, 16);
	else
		retas_uuid7_new(created_ms, h.id);
	snprintf(h.st_nomor, sizeof(h.st_nomor), "%s", st_nomor);
	snprintf(h.device_id, sizeof(h.device_id), "%s", v->id);
	snprintf(h.officer_nip, sizeof(h.officer_nip), "%s", officer_nip);
	h.seq = v->seq + 1;
	memcpy(h.prev_hash, v->last_hash, 32);
	h.created_ms = created_ms;
	assert_int_equal(retas_container_new(&c), 0);
	assert_int_equal(retas_container_add(c, "demografi.json", "application/json", demografi,
					     strlen(demografi)),
			 0);
	assert_int_equal(retas_container_add(c, "foto.jpg", "image/jpeg", photo, photo_len), 0);
	if (retas_record_seal(&h, c, hq_seal_pk, v->sk, out, outlen, &err) < 0)
		fail_msg("seal: %s (%s)", err.message, err.reason);
	retas_container_free(c);
	free(photo);
	v->seq = h.seq;
	retas_record_hash(*out, *outlen, v->last_hash);
}

void test_van_batch(const struct test_van *v, const char *st_nomor, uint8_t *const *recs,
		    const size_t *lens, size_t n, const char *report, uint8_t **out, size_t *outlen,
		    char *batch_id)
{
	struct retas_manifest *m = NULL;
	struct retas_error err = {0};
	char *jws = NULL;

	assert_int_equal(retas_manifest_new(v->id, st_nomor, retas_time_now_ms(), &m), 0);
	for (size_t i = 0; i < n; i++)
		if (retas_manifest_add_record(m, recs[i], lens[i], &err) < 0)
			fail_msg("manifest add: %s", err.message);
	if (report) {
		json_object *o = NULL;

		assert_int_equal(retas_json_parse(report, strlen(report), &o), 0);
		retas_manifest_set_report(m, o);
	}
	if (retas_manifest_sign(m, v->sk, &jws, &err) < 0)
		fail_msg("manifest sign: %s", err.message);
	assert_int_equal(
	    sync_batch_encode(jws, strlen(jws), (const uint8_t *const *)recs, lens, n, out, outlen),
	    0);
	memcpy(batch_id, m->batch_id, RETAS_UUID_STR_LEN);
	free(jws);
	retas_manifest_free(m);
}

struct buf {
	char *data;
	size_t len;
};

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *user)
{
	struct buf *b = user;
	size_t n = size * nmemb;
	char *nd = realloc(b->data, b->len + n + 1);

	if (!nd)
		return 0;
	b->data = nd;
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = 0;
	return n;
}

int http_do_on(CURL *c, const char *base, const char *method, const char *path,
	       const char *const *headers, const void *body, size_t len, long timeout_s,
	       struct http_resp *out)
{
	struct curl_slist *hl = NULL;
	struct buf b = {0}, h = {0};
	char url[1024];
	CURLcode rc;

	curl_easy_reset(c);
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (streq(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	/* No "Expect: 100-continue" round trip in tests. */
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (body || streq(method, "POST") || streq(method, "PATCH")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_slist_free_all(hl);
	memset(out, 0, sizeof(*out));
	out->body = b.data ? b.data : strdup("");
	out->len = b.len;
	out->headers = h.data ? h.data : strdup("");
	if (rc != CURLE_OK) {
		out->status = -(long)rc;
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	return 0;
}

void http_do(struct hq_fx *fx, const char *method, const char *path, const char *const *headers,
	     const void *body, size_t len, struct http_resp *out)
{
	CURL *c = curl_easy_init();

	assert_non_null(c);
	if (http_do_on(c, fx->base, method, path, headers, body, len, 60L, out) < 0)
		fail_msg("%s %s: %s", method, path, curl_easy_strerror((CURLcode)-out->status));
	curl_easy_cleanup(c);
}

void http_resp_clear(struct http_resp *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}

char *http_header(const struct http_resp *r, const char *name)
{
	size_t nlen = strlen(name);

	for (const char *p = r->headers; p && *p;) {
		const char *eol = strstr(p, "\r\n");
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);

		if (llen > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
			const char *v = p + nlen + 1;

			while (*v == ' ')
				v++;
			return strndup(v, llen - (size_t)(v - p));
		}
		p += llen + (eol ? 2 : 0);
	}
	return NULL;
}

json_object *http_json(const struct http_resp *r)
{
	json_object *o = NULL;

	if (retas_json_parse(r->body, r->len, &o) < 0)
		fail_msg("not JSON (status %ld): %s", r->status, r->body);
	return o;
}

void http_assert_error(const struct http_resp *r, long status, const char *reason)
{
	json_object *o;
	const char *got = NULL, *msg = NULL;

	if (r->status != status)
		fail_msg("expected %ld, got %ld: %s", status, r->status, r->body);
	o = http_json(r);
	assert_int_equal(retas_json_get_string(o, "error", &got), 0);
	assert_int_equal(retas_json_get_string(o, "message", &msg), 0);
	assert_true(strlen(msg) > 0);
	if (reason && !streq(got, reason))
		fail_msg("expected error %s, got %s (%s)", reason, got, msg);
	json_object_put(o);
}

char *tus_create(struct hq_fx *fx, const struct test_van *v, size_t len)
{
	struct http_resp r;
	char lenh[64], *auth = test_van_auth(v, "POST", "/tus/", 0), *loc;

	snprintf(lenh, sizeof(lenh), "Upload-Length: %zu", len);
	http_do(fx, "POST", "/tus/",
		(const char *const[]){"Tus-Resumable: 1.0.0", lenh, auth, NULL}, NULL, 0, &r);
	free(auth);
	if (r.status != 201)
		fail_msg("POST /tus/: %ld %s", r.status, r.body);
	loc = http_header(&r, "Location");
	assert_non_null(loc);
	http_resp_clear(&r);
	return loc;
}

long tus_upload(struct hq_fx *fx, const struct test_van *v, const uint8_t *batch, size_t len,
		char **upload)
{
	struct http_resp r;
	char sumh[128], *auth, *loc;
	uint8_t sha[32];
	char b64[64];
	long status;

	loc = tus_create(fx, v, len);
	crypto_hash_sha256(sha, batch, len);
	sodium_bin2base64(b64, sizeof(b64), sha, 32, sodium_base64_VARIANT_ORIGINAL);
	snprintf(sumh, sizeof(sumh), "Upload-Checksum: sha256 %s", b64);
	auth = test_van_auth(v, "PATCH", loc, 0);
	http_do(fx, "PATCH", loc,
		(const char *const[]){"Tus-Resumable: 1.0.0", "Upload-Offset: 0", sumh,
				      "Content-Type: application/offset+octet-stream", auth, NULL},
		batch, len, &r);
	free(auth);
	status = r.status;
	http_resp_clear(&r);
	if (upload)
		*upload = loc;
	else
		free(loc);
	return status;
}

struct sync_receipt *fetch_receipt(struct hq_fx *fx, const struct test_van *v, const char *batch_id)
{
	struct sync_receipt *rc = NULL;
	struct retas_error err = {0};
	struct http_resp r;
	char path[128], *auth;

	snprintf(path, sizeof(path), "/api/v1/batches/%s/receipt", batch_id);
	auth = test_van_auth(v, "GET", path, 0);
	http_do(fx, "GET", path, (const char *const[]){auth, NULL}, NULL, 0, &r);
	free(auth);
	if (r.status != 200)
		fail_msg("GET %s: %ld %s", path, r.status, r.body);
	if (sync_receipt_verify(r.body, r.len, fx->sign_pk, &rc, &err) < 0)
		fail_msg("receipt does not verify: %s", err.message);
	http_resp_clear(&r);
	return rc;
}

void api_do(struct hq_fx *fx, const char *method, const char *path, const char *token,
	    const char *json, struct http_resp *out)
{
	char auth[256];
	const char *headers[3] = {0};
	int n = 0;

	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		headers[n++] = auth;
	}
	if (json)
		headers[n++] = "Content-Type: application/json";
	http_do(fx, method, path, headers, json, json ? strlen(json) : 0, out);
}

void hq_fx_staff_all(struct hq_fx *fx, struct staff_tokens *t)
{
	t->bidang = hq_fx_staff(fx, NIP_BIDANG, "Budi Bidang", "bidang");
	t->kabid = hq_fx_staff(fx, NIP_KABID, "Kartini Kabid", "kabid");
	t->kadis = hq_fx_staff(fx, NIP_KADIS, "Drs. NIRWAN, ME", "kadis");
	t->fo = hq_fx_staff(fx, NIP_FO, "Fitri Front Office", "fo");
	t->operator= hq_fx_staff(fx, NIP_OPERATOR, "Oscar Operator", "operator");
}

void staff_tokens_free(struct staff_tokens *t)
{
	free(t->bidang);
	free(t->kabid);
	free(t->kadis);
	free(t->fo);
	free(t->operator);
}

char *url_escape_slashes(const char *s)
{
	char *out = calloc(1, strlen(s) * 3 + 1), *p = out;

	assert_non_null(out);
	for (; *s; s++) {
		if (*s == '/') {
			memcpy(p, "%2F", 3);
			p += 3;
		} else {
			*p++ = *s;
		}
	}
	return out;
}

static int64_t json_id(const struct http_resp *r)
{
	json_object *o = http_json(r);
	int64_t id = 0;

	assert_int_equal(retas_json_get_int64(o, "id", &id), 0);
	json_object_put(o);
	return id;
}

char *hq_fx_make_st(struct hq_fx *fx, const struct staff_tokens *t, const char *nomor,
		    const char *van, const char *npsn, const char *nama, const char *kecamatan)
{
	char from[RETAS_RFC3339_MAX], until[RETAS_RFC3339_MAX], body[1024], path[256];
	int64_t now = retas_time_now_ms(), id;
	struct http_resp r;
	json_object *o;
	const char *jws;
	char *esc, *out;

	retas_time_format_rfc3339(now + 3600000, RETAS_WIB_OFFSET_MIN, from);
	retas_time_format_rfc3339(now + 10 * 3600000, RETAS_WIB_OFFSET_MIN, until);
	snprintf(body, sizeof(body),
		 "{\"npsn\":\"%s\",\"nama\":\"%s\",\"alamat\":\"Jl. Urip Sumoharjo\","
		 "\"kecamatan\":\"%s\",\"valid_from\":\"%s\",\"valid_until\":\"%s\"}",
		 npsn, nama, kecamatan, from, until);
	api_do(fx, "POST", "/api/v1/usulan", t->bidang, body, &r);
	if (r.status != 201)
		fail_msg("usulan: %ld %s", r.status, r.body);
	id = json_id(&r);
	http_resp_clear(&r);
	snprintf(path, sizeof(path), "/api/v1/usulan/%lld/approve", (long long)id);
	api_do(fx, "POST", path, t->kadis, NULL, &r);
	assert_int_equal(r.status, 200);
	http_resp_clear(&r);
	snprintf(body, sizeof(body),
		 "{\"usulan\":%lld,\"nomor\":\"%s\",\"van\":\"%s\",\"petugas\":[{\"nip\":"
		 "\"198703152010011002\",\"nama\":\"Rina Marlina\",\"pin\":\"123456\"}]}",
		 (long long)id, nomor, van);
	api_do(fx, "POST", "/api/v1/surat-tugas", t->kabid, body, &r);
	if (r.status != 201)
		fail_msg("draft: %ld %s", r.status, r.body);
	http_resp_clear(&r);
	esc = url_escape_slashes(nomor);
	snprintf(path, sizeof(path), "/api/v1/surat-tugas/%s/sign", esc);
	free(esc);
	api_do(fx, "POST", path, t->kadis, NULL, &r);
	if (r.status != 200)
		fail_msg("sign: %ld %s", r.status, r.body);
	o = http_json(&r);
	assert_int_equal(retas_json_get_string(o, "jws", &jws), 0);
	out = strdup(jws);
	json_object_put(o);
	http_resp_clear(&r);
	return out;
}

void student_demografi(char *buf, size_t size, const char *nama, char gender, int years,
		       int extra_days, int serial, int n_exceptions)
{
	struct retas_date today, birth;
	char b[11], exc[256] = "";

	retas_date_from_ms(retas_time_now_ms(), RETAS_WIB_OFFSET_MIN, &today);
	retas_date_add_years(
	    &(struct retas_date){today.year - years, today.month,
				 today.day > 28 && today.month == 2 ? 28 : today.day},
	    0, &birth);
	retas_date_from_days(retas_date_to_days(&birth) - extra_days, &birth);
	retas_date_format(&birth, b);
	for (int i = 0; i < n_exceptions; i++)
		snprintf(exc + strlen(exc), sizeof(exc) - strlen(exc),
			 "%s{\"jari\":%d,\"alasan\":\"bandaged\"}", i ? "," : "", i + 1);
	snprintf(buf, size,
		 "{\"nik\":\"157101%02d%02d%02d%04d\",\"nama\":\"%s\",\"jenis_kelamin\":\"%c\","
		 "\"tanggal_lahir\":\"%s\",\"kelas\":\"XII IPA 1\",\"npsn\":\"10504187\","
		 "\"pengecualian\":[%s]}",
		 birth.day + (gender == 'P' ? 40 : 0), birth.month, birth.year % 100, serial, nama,
		 gender, b, exc);
}
