/*
 * A PATCH that head office refuses before its body, sent with "Expect:
 * 100-continue" as the van sends its first chunk after a failure: the
 * refusal comes at once, with no 100 Continue before it, so the van never
 * spends the chunk. Spoken over a raw socket, since only the bytes on the
 * wire show whether 100 Continue was sent.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "hq-harness.h"
#include "retas-time.h"

#define CHUNK (1024 * 1024)

static const char *bin;

/* Sends head (a request without its body) and reads the first answer's
 * head within 5 s; fails the test if the server waits for the body. */
static void first_answer(unsigned port, const char *head, char *out, size_t size)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int64_t end = retas_time_mono_ms() + 5000;
	size_t n = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, head, strlen(head)), (ssize_t)strlen(head));
	while (n < size - 1 && !strstr(out, "\r\n\r\n")) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = end - retas_time_mono_ms();
		ssize_t got;

		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			fail_msg("no answer in 5 s without the body (got '%s')", out);
		got = read(fd, out + n, size - 1 - n);
		assert_true(got > 0);
		n += (size_t)got;
		out[n] = 0;
	}
	close(fd);
}

static void hq_expect_refusal_before_body(void **state)
{
	struct test_van van;
	struct hq_fx fx;
	struct http_resp r;
	char lenh[64], head[1024], answer[4096] = {0}, *auth, *loc;

	hq_fx_init(&fx, bin, NULL);
	test_van_new(&van, "MPK-01");
	test_van_register(&fx, &van);
	hq_fx_start(&fx);
	snprintf(lenh, sizeof(lenh), "Upload-Length: %d", 2 * CHUNK);
	auth = test_van_auth(&van, "POST", "/tus/", 0);
	http_do(&fx, "POST", "/tus/",
		(const char *const[]){"Tus-Resumable: 1.0.0", lenh, auth, NULL}, NULL, 0, &r);
	free(auth);
	assert_int_equal(r.status, 201);
	loc = http_header(&r, "Location");
	assert_non_null(loc);
	http_resp_clear(&r);

	/* The upload stands at 0; a van that believes CHUNK is told 409. */
	auth = test_van_auth(&van, "PATCH", loc, 0);
	snprintf(head, sizeof(head),
		 "PATCH %s HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n"
		 "Upload-Offset: %d\r\nContent-Type: application/offset+octet-stream\r\n"
		 "Content-Length: %d\r\nExpect: 100-continue\r\n%s\r\n\r\n",
		 loc, CHUNK, CHUNK, auth);
	free(auth);
	first_answer(fx.port, head, answer, sizeof(answer));
	if (strncmp(answer, "HTTP/1.1 409 ", 13) != 0)
		fail_msg("first answer: '%s'", answer);
	assert_null(strstr(answer, "100 Continue"));
	free(loc);
	hq_fx_cleanup(&fx);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hq_expect_refusal_before_body),
	};

	bin = hq_fx_binary(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
