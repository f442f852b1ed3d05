/*
 * retas-hq init, serve, van register and staff add/revoke: the directory and
 * its key modes, /healthz over HTTP and TLS, one log line per request,
 * malformed and oversize requests answered while the server stays up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>

#include "hq-harness.h"
#include "retas-b64.h"
#include "retas-util.h"

extern char **environ;

static const char *bin;
static struct hq_fx fx;

static int setup(void **state)
{
	hq_fx_init(&fx, bin, NULL);
	hq_fx_start(&fx);
	return 0;
}

static int teardown(void **state)
{
	hq_fx_cleanup(&fx);
	return 0;
}

static void server_init_keys_private_and_refuses_twice(void **state)
{
	char path[512], *out = NULL;
	struct stat st;
	char *argv[] = {(char *)bin, "init", fx.dir, NULL};
	pid_t pid;
	int status;

	assert_int_equal(stat(fx.dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/keys/seal.key", fx.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/keys/sign.key", fx.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(posix_spawn(&pid, bin, NULL, NULL, argv, environ), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 1);
	/* not a head-office directory */
	assert_int_equal(hq_fx_run(&fx, &out, "--dir", fx.tmp, "staff", "revoke", "1", NULL), 1);
	free(out);
}

static void server_healthz_and_methods(void **state)
{
	struct http_resp r;
	char *ct;

	http_do(&fx, "GET", "/healthz", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"status\":\"ok\"}");
	assert_string_equal(ct = http_header(&r, "Content-Type"), "application/json");
	free(ct);
	http_resp_clear(&r);
	http_do(&fx, "HEAD", "/healthz", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	http_resp_clear(&r);
	http_do(&fx, "POST", "/healthz", NULL, "x", 1, &r);
	http_assert_error(&r, 405, "http.method");
	http_resp_clear(&r);
	http_do(&fx, "GET", "/api/v1/nothing", NULL, NULL, 0, &r);
	http_assert_error(&r, 404, "http.not-found");
	http_resp_clear(&r);
}

static void server_logs_one_line_per_request(void **state)
{
	char path[512], *log;
	struct http_resp r;

	http_do(&fx, "GET", "/healthz?probe=log-line", NULL, NULL, 0, &r);
	http_resp_clear(&r);
	http_do(&fx, "GET", "/nowhere", NULL, NULL, 0, &r);
	http_resp_clear(&r);
	/* The line is written once the response is sent; after a clean stop
	 * every line is in the file. */
	hq_fx_stop(&fx);
	snprintf(path, sizeof(path), "%s/server.log", fx.tmp);
	log = read_file(path, NULL);
	assert_non_null(strstr(log, "GET /healthz 200 in=0 "));
	assert_non_null(strstr(log, "GET /nowhere 404 in=0 "));
	free(log);
	hq_fx_start(&fx);
}

static void server_oversize_and_malformed_requests(void **state)
{
	size_t big = 2 * 1024 * 1024;
	char *body = malloc(big);
	struct http_resp r;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char buf[512];
	int fd;
	ssize_t n;

	memset(body, '{', big);
	http_do(&fx, "POST", "/api/v1/usulan", NULL, body, big, &r);
	http_assert_error(&r, 413, "http.too-large");
	http_resp_clear(&r);
	free(body);

	/* A request line that is no HTTP at all. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	sa.sin_port = htons((uint16_t)fx.port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, "\x01\x02 BLAH\r\n\r\n", 11), 11);
	{
		struct pollfd p = {.fd = fd, .events = POLLIN};

		assert_int_equal(poll(&p, 1, 10000), 1);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	/* A 400 answer, or the connection dropped (a reset when our bytes
	 * were left unread): either way the server refuses and goes on. */
	assert_true(n >= 0 || errno == ECONNRESET);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	if (n > 0)
		assert_non_null(strstr(buf, " 400 "));

	http_do(&fx, "GET", "/healthz", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	http_resp_clear(&r);
}

static void server_van_register_checks(void **state)
{
	struct test_van v;
	char *b64 = NULL, path[512], *out = NULL;
	FILE *f;

	test_van_new(&v, "MPK-01");
	assert_int_equal(retas_b64url_encode(v.pk, 32, &b64), 0);
	assert_int_equal(hq_fx_run(&fx, NULL, "van", "register", "not-a-key", "--id", "X", NULL),
			 2);
	assert_int_equal(hq_fx_run(&fx, NULL, "van", "register", b64, NULL), 2);
	assert_int_equal(hq_fx_run(&fx, NULL, "van", "register", b64, "--id", "bad id", NULL), 1);
	assert_int_equal(hq_fx_run(&fx, &out, "van", "register", b64, "--id", "MPK-01", NULL), 0);
	assert_non_null(strstr(out, "van MPK-01 registered"));
	free(out);
	/* the same key again, or the same id with another key */
	assert_int_equal(hq_fx_run(&fx, NULL, "van", "register", b64, "--id", "MPK-02", NULL), 1);
	test_van_new(&v, "MPK-01");
	free(b64);
	assert_int_equal(retas_b64url_encode(v.pk, 32, &b64), 0);
	assert_int_equal(hq_fx_run(&fx, NULL, "van", "register", b64, "--id", "MPK-01", NULL), 1);
	/* a key file as retasd --print-device-key writes it */
	snprintf(path, sizeof(path), "%s/device.pub", fx.tmp);
	f = fopen(path, "we");
	fprintf(f, "%s\n", b64);
	fclose(f);
	assert_int_equal(hq_fx_run(&fx, NULL, "van", "register", path, "--id", "MPK-03", NULL), 0);
	free(b64);
}

static void server_staff_token_once_and_hashed(void **state)
{
	char *token = hq_fx_staff(&fx, "199001012020121001", "Andi", "bidang");
	char path[512], *db;
	size_t len;

	assert_int_equal(strlen(token), 4 + 43);
	snprintf(path, sizeof(path), "%s/hq.db", fx.dir);
	db = read_file(path, &len);
	assert_null(memmem(db, len, token, strlen(token)));
	assert_null(memmem(db, len, token + 4, 20));
	free(db);
	assert_int_equal(hq_fx_run(&fx, NULL, "staff", "add", "199001012020121001", "--name", "A",
				   "--role", "bidang", NULL),
			 1);
	assert_int_equal(hq_fx_run(&fx, NULL, "staff", "add", "199001012020121002", "--name", "A",
				   "--role", "camat", NULL),
			 2);
	assert_int_equal(
	    hq_fx_run(&fx, NULL, "staff", "add", "1990", "--name", "A", "--role", "bidang", NULL),
	    1);
	assert_int_equal(hq_fx_run(&fx, NULL, "staff", "revoke", "199001012020121001", NULL), 0);
	assert_int_equal(hq_fx_run(&fx, NULL, "staff", "revoke", "199001012020121001", NULL), 1);
	/* re-admitted with a new token */
	free(token);
	token = hq_fx_staff(&fx, "199001012020121001", "Andi", "kabid");
	free(token);
}

static int have_openssl(void)
{
	char *argv[] = {"openssl", "version", NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "openssl", &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return 0;
	}
	posix_spawn_file_actions_destroy(&fa);
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void server_tls_from_configured_cert(void **state)
{
	struct hq_fx tls;
	char cert[512], key[512], url[128];
	CURL *c;
	long code = 0;
	pid_t pid;
	int status;

	if (!have_openssl())
		skip();
	hq_fx_init(&tls, bin, "tls_cert = cert.pem\ntls_key = key.pem");
	snprintf(cert, sizeof(cert), "%s/cert.pem", tls.dir);
	snprintf(key, sizeof(key), "%s/key.pem", tls.dir);
	{
		char *argv[] = {"openssl",
				"req",
				"-x509",
				"-newkey",
				"ec",
				"-pkeyopt",
				"ec_paramgen_curve:prime256v1",
				"-nodes",
				"-days",
				"2",
				"-subj",
				"/CN=127.0.0.1",
				"-addext",
				"subjectAltName=IP:127.0.0.1",
				"-keyout",
				key,
				"-out",
				cert,
				NULL};
		posix_spawn_file_actions_t fa;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
		assert_int_equal(posix_spawnp(&pid, "openssl", &fa, NULL, argv, environ), 0);
		posix_spawn_file_actions_destroy(&fa);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	hq_fx_start(&tls);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/healthz", tls.port);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, cert);
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	assert_int_equal(code, 200);
	curl_easy_cleanup(c);
	hq_fx_cleanup(&tls);
}

static void server_bad_config_refused(void **state)
{
	struct hq_fx bad;
	char path[512], *out = NULL;
	FILE *f;

	hq_fx_init(&bad, bin, NULL);
	snprintf(path, sizeof(path), "%s/retas-hq.conf", bad.dir);
	f = fopen(path, "ae");
	fputs("[server]\nthreads = many\n", f);
	fclose(f);
	assert_int_equal(hq_fx_run(&bad, &out, "serve", "--listen", "127.0.0.1:0", NULL), 1);
	free(out);
	hq_fx_cleanup(&bad);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(server_init_keys_private_and_refuses_twice),
	    cmocka_unit_test(server_healthz_and_methods),
	    cmocka_unit_test(server_logs_one_line_per_request),
	    cmocka_unit_test(server_oversize_and_malformed_requests),
	    cmocka_unit_test(server_van_register_checks),
	    cmocka_unit_test(server_staff_token_once_and_hashed),
	    cmocka_unit_test(server_tls_from_configured_cert),
	    cmocka_unit_test(server_bad_config_refused),
	};

	bin = hq_fx_binary(argc, argv);
	return cmocka_run_group_tests(tests, setup, teardown);
}
