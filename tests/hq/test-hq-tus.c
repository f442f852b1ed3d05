/*
 * tus 1.0.0 at /tus/ on a real retas-hq: every status code the protocol
 * and the signed van header give, the staging directory surviving a
 * restart, and a refused batch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "hq-harness.h"
#include "retas-time.h"
#include "retas-util.h"

static const char *bin;
static struct hq_fx fx;
static struct test_van van, other, stranger;

#define TUS "Tus-Resumable: 1.0.0"
#define OCTETS "Content-Type: application/offset+octet-stream"

static int setup(void **state)
{
	hq_fx_init(&fx, bin, "max_size = 65536\nclock_skew = 60");
	test_van_new(&van, "MPK-01");
	test_van_new(&other, "MPK-02");
	test_van_new(&stranger, "MPK-99");
	test_van_register(&fx, &van);
	test_van_register(&fx, &other);
	hq_fx_start(&fx);
	return 0;
}

static int teardown(void **state)
{
	hq_fx_cleanup(&fx);
	return 0;
}

static void sha_header(const void *data, size_t len, char *out, size_t size)
{
	uint8_t sha[32];
	char b64[64];

	crypto_hash_sha256(sha, data, len);
	sodium_bin2base64(b64, sizeof(b64), sha, 32, sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, size, "Upload-Checksum: sha256 %s", b64);
}

static void patch(const struct test_van *v, const char *loc, uint64_t offset, const void *data,
		  size_t len, const char *extra, struct http_resp *r)
{
	char offh[64], *auth = test_van_auth(v, "PATCH", loc, 0);

	snprintf(offh, sizeof(offh), "Upload-Offset: %llu", (unsigned long long)offset);
	http_do(&fx, "PATCH", loc, (const char *const[]){TUS, OCTETS, offh, auth, extra, NULL},
		data, len, r);
	free(auth);
}

static long head_offset(const struct test_van *v, const char *loc)
{
	struct http_resp r;
	char *auth = test_van_auth(v, "HEAD", loc, 0), *off;
	long n;

	http_do(&fx, "HEAD", loc, (const char *const[]){TUS, auth, NULL}, NULL, 0, &r);
	free(auth);
	if (r.status != 200) {
		n = -r.status;
		http_resp_clear(&r);
		return n;
	}
	off = http_header(&r, "Upload-Offset");
	assert_non_null(off);
	n = strtol(off, NULL, 10);
	free(off);
	http_resp_clear(&r);
	return n;
}

static void tus_options_advertises_protocol(void **state)
{
	struct http_resp r;
	char *v;

	http_do(&fx, "OPTIONS", "/tus/", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 204);
	assert_string_equal(v = http_header(&r, "Tus-Version"), "1.0.0");
	free(v);
	assert_string_equal(v = http_header(&r, "Tus-Resumable"), "1.0.0");
	free(v);
	assert_string_equal(v = http_header(&r, "Tus-Extension"), "creation,checksum,termination");
	free(v);
	assert_string_equal(v = http_header(&r, "Tus-Max-Size"), "65536");
	free(v);
	assert_string_equal(v = http_header(&r, "Tus-Checksum-Algorithm"), "sha256");
	free(v);
	http_resp_clear(&r);
}

static void tus_create_201_location(void **state)
{
	char *loc = tus_create(&fx, &van, 100);

	assert_int_equal(strncmp(loc, "/tus/", 5), 0);
	assert_int_equal(strlen(loc), 5 + 32);
	assert_int_equal(head_offset(&van, loc), 0);
	free(loc);
}

static void tus_create_413_above_max(void **state)
{
	struct http_resp r;
	char *auth = test_van_auth(&van, "POST", "/tus/", 0);

	http_do(&fx, "POST", "/tus/",
		(const char *const[]){TUS, "Upload-Length: 65537", auth, NULL}, NULL, 0, &r);
	free(auth);
	http_assert_error(&r, 413, "tus.too-large");
	http_resp_clear(&r);
}

static void tus_create_400_without_length(void **state)
{
	struct http_resp r;
	char *auth = test_van_auth(&van, "POST", "/tus/", 0);

	http_do(&fx, "POST", "/tus/", (const char *const[]){TUS, auth, NULL}, NULL, 0, &r);
	free(auth);
	http_assert_error(&r, 400, "tus.length");
	http_resp_clear(&r);
	auth = test_van_auth(&van, "POST", "/tus/", 0);
	http_do(
	    &fx, "POST", "/tus/",
	    (const char *const[]){TUS, "Upload-Length: 10", "Upload-Metadata: a b,,", auth, NULL},
	    NULL, 0, &r);
	free(auth);
	http_assert_error(&r, 400, "tus.metadata");
	http_resp_clear(&r);
}

static void tus_412_other_version(void **state)
{
	struct http_resp r;
	char *auth = test_van_auth(&van, "POST", "/tus/", 0), *v;

	http_do(&fx, "POST", "/tus/",
		(const char *const[]){"Tus-Resumable: 0.2.2", "Upload-Length: 10", auth, NULL},
		NULL, 0, &r);
	free(auth);
	http_assert_error(&r, 412, "tus.version");
	assert_string_equal(v = http_header(&r, "Tus-Version"), "1.0.0");
	free(v);
	http_resp_clear(&r);
}

static void tus_401_unknown_key(void **state)
{
	struct http_resp r;
	char *auth = test_van_auth(&stranger, "POST", "/tus/", 0);

	http_do(&fx, "POST", "/tus/", (const char *const[]){TUS, "Upload-Length: 10", auth, NULL},
		NULL, 0, &r);
	free(auth);
	http_assert_error(&r, 401, "auth.unknown-key");
	http_resp_clear(&r);
	http_do(&fx, "POST", "/tus/", (const char *const[]){TUS, "Upload-Length: 10", NULL}, NULL,
		0, &r);
	http_assert_error(&r, 401, "auth.missing");
	http_resp_clear(&r);
	http_do(&fx, "POST", "/tus/",
		(const char *const[]){TUS, "Upload-Length: 10", "Retas-Auth: v1 kid=x", NULL}, NULL,
		0, &r);
	http_assert_error(&r, 401, "auth.format");
	http_resp_clear(&r);
}

static void tus_401_stale_time(void **state)
{
	struct http_resp r;
	char *auth = test_van_auth(&van, "POST", "/tus/", retas_time_now_ms() - 120000);

	http_do(&fx, "POST", "/tus/", (const char *const[]){TUS, "Upload-Length: 10", auth, NULL},
		NULL, 0, &r);
	free(auth);
	http_assert_error(&r, 401, "auth.stale");
	http_resp_clear(&r);
}

static void tus_401_reused_nonce(void **state)
{
	struct http_resp r;
	char *auth = test_van_auth(&van, "POST", "/tus/", 0);

	http_do(&fx, "POST", "/tus/", (const char *const[]){TUS, "Upload-Length: 10", auth, NULL},
		NULL, 0, &r);
	assert_int_equal(r.status, 201);
	http_resp_clear(&r);
	http_do(&fx, "POST", "/tus/", (const char *const[]){TUS, "Upload-Length: 10", auth, NULL},
		NULL, 0, &r);
	http_assert_error(&r, 401, "auth.replay");
	http_resp_clear(&r);
	free(auth);
}

static void tus_401_signature_for_other_path(void **state)
{
	char *loc = tus_create(&fx, &van, 10);
	struct http_resp r;
	char *auth = test_van_auth(&van, "HEAD", "/tus/0123456789abcdef0123456789abcdef", 0);

	http_do(&fx, "HEAD", loc, (const char *const[]){TUS, auth, NULL}, NULL, 0, &r);
	assert_int_equal(r.status, 401);
	http_resp_clear(&r);
	free(auth);
	free(loc);
}

static void tus_head_200_offset_length_no_store(void **state)
{
	char *loc = tus_create(&fx, &van, 100), *auth = test_van_auth(&van, "HEAD", loc, 0), *v;
	struct http_resp r;

	http_do(&fx, "HEAD", loc, (const char *const[]){TUS, auth, NULL}, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(v = http_header(&r, "Upload-Offset"), "0");
	free(v);
	assert_string_equal(v = http_header(&r, "Upload-Length"), "100");
	free(v);
	assert_string_equal(v = http_header(&r, "Cache-Control"), "no-store");
	free(v);
	assert_string_equal(v = http_header(&r, "Tus-Resumable"), "1.0.0");
	free(v);
	http_resp_clear(&r);
	free(auth);
	free(loc);
}

static void tus_head_404_unknown(void **state)
{
	assert_int_equal(head_offset(&van, "/tus/0123456789abcdef0123456789abcdef"), -404);
	assert_int_equal(head_offset(&van, "/tus/nothex"), -404);
}

static void tus_patch_204_409_415_460_413(void **state)
{
	uint8_t data[100];
	char *loc = tus_create(&fx, &van, sizeof(data)), sum[128], *v;
	struct http_resp r;

	randombytes_buf(data, sizeof(data));
	/* 204 and the new offset */
	patch(&van, loc, 0, data, 40, NULL, &r);
	assert_int_equal(r.status, 204);
	assert_string_equal(v = http_header(&r, "Upload-Offset"), "40");
	free(v);
	http_resp_clear(&r);
	assert_int_equal(head_offset(&van, loc), 40);

	/* 409: the offset is not where the upload stands */
	patch(&van, loc, 0, data, 10, NULL, &r);
	http_assert_error(&r, 409, "tus.offset-mismatch");
	http_resp_clear(&r);

	/* 415: wrong content type */
	{
		char *auth = test_van_auth(&van, "PATCH", loc, 0);

		http_do(&fx, "PATCH", loc,
			(const char *const[]){TUS, "Content-Type: application/octet-stream",
					      "Upload-Offset: 40", auth, NULL},
			data + 40, 10, &r);
		free(auth);
		http_assert_error(&r, 415, "tus.content-type");
		http_resp_clear(&r);
	}

	/* 460: a chunk that does not match its checksum is discarded */
	sha_header(data, 10, sum, sizeof(sum));
	patch(&van, loc, 40, data + 40, 10, sum, &r);
	http_assert_error(&r, 460, "tus.checksum-mismatch");
	http_resp_clear(&r);
	assert_int_equal(head_offset(&van, loc), 40);

	/* the same chunk with its own checksum is taken */
	sha_header(data + 40, 10, sum, sizeof(sum));
	patch(&van, loc, 40, data + 40, 10, sum, &r);
	assert_int_equal(r.status, 204);
	http_resp_clear(&r);
	assert_int_equal(head_offset(&van, loc), 50);

	/* 400: an algorithm other than sha256 */
	patch(&van, loc, 50, data + 50, 10, "Upload-Checksum: md5 AAAAAAAAAAAAAAAAAAAAAA==", &r);
	http_assert_error(&r, 400, "tus.checksum-algorithm");
	http_resp_clear(&r);

	/* 413: past the upload's length */
	patch(&van, loc, 50, data, 60, NULL, &r);
	http_assert_error(&r, 413, "tus.too-long");
	http_resp_clear(&r);
	assert_int_equal(head_offset(&van, loc), 50);
	free(loc);
}

static void tus_delete_204_then_404(void **state)
{
	char *loc = tus_create(&fx, &van, 10), *auth = test_van_auth(&van, "DELETE", loc, 0);
	struct http_resp r;

	http_do(&fx, "DELETE", loc, (const char *const[]){TUS, auth, NULL}, NULL, 0, &r);
	free(auth);
	assert_int_equal(r.status, 204);
	http_resp_clear(&r);
	assert_int_equal(head_offset(&van, loc), -404);
	free(loc);
}

static void tus_other_vans_upload_404(void **state)
{
	char *loc = tus_create(&fx, &van, 10);
	struct http_resp r;

	assert_int_equal(head_offset(&other, loc), -404);
	patch(&other, loc, 0, "0123456789", 10, NULL, &r);
	http_assert_error(&r, 404, "tus.unknown");
	http_resp_clear(&r);
	assert_int_equal(head_offset(&van, loc), 0);
	free(loc);
}

static void tus_405_wrong_method(void **state)
{
	struct http_resp r;
	char *allow;

	http_do(&fx, "PUT", "/tus/", (const char *const[]){TUS, NULL}, "x", 1, &r);
	http_assert_error(&r, 405, "http.method");
	assert_non_null(allow = http_header(&r, "Allow"));
	free(allow);
	http_resp_clear(&r);
	http_do(&fx, "POST", "/tus/0123456789abcdef0123456789abcdef",
		(const char *const[]){TUS, NULL}, NULL, 0, &r);
	http_assert_error(&r, 405, "http.method");
	http_resp_clear(&r);
}

static void tus_staging_survives_restart(void **state)
{
	uint8_t data[300];
	char *loc = tus_create(&fx, &van, sizeof(data));
	struct http_resp r;

	randombytes_buf(data, sizeof(data));
	patch(&van, loc, 0, data, 120, NULL, &r);
	assert_int_equal(r.status, 204);
	http_resp_clear(&r);
	hq_fx_stop(&fx);
	hq_fx_start(&fx);
	assert_int_equal(head_offset(&van, loc), 120);
	patch(&van, loc, 120, data + 120, 100, NULL, &r);
	assert_int_equal(r.status, 204);
	http_resp_clear(&r);
	assert_int_equal(head_offset(&van, loc), 220);
	free(loc);
}

static void tus_garbage_batch_422_rejected(void **state)
{
	uint8_t data[64];
	char *loc = tus_create(&fx, &van, sizeof(data)), *auth, *v;
	struct http_resp r;

	memset(data, 'x', sizeof(data));
	patch(&van, loc, 0, data, sizeof(data), NULL, &r);
	http_assert_error(&r, 422, "batch.magic");
	assert_string_equal(v = http_header(&r, "Upload-Offset"), "64");
	free(v);
	http_resp_clear(&r);
	auth = test_van_auth(&van, "HEAD", loc, 0);
	http_do(&fx, "HEAD", loc, (const char *const[]){TUS, auth, NULL}, NULL, 0, &r);
	free(auth);
	assert_int_equal(r.status, 200);
	assert_string_equal(v = http_header(&r, "Retas-Rejected"), "batch.magic");
	free(v);
	http_resp_clear(&r);
	/* a finished upload takes no more bytes */
	patch(&van, loc, 64, data, 1, NULL, &r);
	assert_int_equal(r.status, 409);
	http_resp_clear(&r);
	free(loc);
}

static void tus_server_survives_garbage_requests(void **state)
{
	struct http_resp r;

	http_do(&fx, "GET", "/nowhere", NULL, NULL, 0, &r);
	http_assert_error(&r, 404, "http.not-found");
	http_resp_clear(&r);
	http_do(&fx, "GET", "/healthz", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"status\":\"ok\"}");
	http_resp_clear(&r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tus_options_advertises_protocol),
	    cmocka_unit_test(tus_create_201_location),
	    cmocka_unit_test(tus_create_413_above_max),
	    cmocka_unit_test(tus_create_400_without_length),
	    cmocka_unit_test(tus_412_other_version),
	    cmocka_unit_test(tus_401_unknown_key),
	    cmocka_unit_test(tus_401_stale_time),
	    cmocka_unit_test(tus_401_reused_nonce),
	    cmocka_unit_test(tus_401_signature_for_other_path),
	    cmocka_unit_test(tus_head_200_offset_length_no_store),
	    cmocka_unit_test(tus_head_404_unknown),
	    cmocka_unit_test(tus_patch_204_409_415_460_413),
	    cmocka_unit_test(tus_delete_204_then_404),
	    cmocka_unit_test(tus_other_vans_upload_404),
	    cmocka_unit_test(tus_405_wrong_method),
	    cmocka_unit_test(tus_staging_survives_restart),
	    cmocka_unit_test(tus_garbage_batch_422_rejected),
	    cmocka_unit_test(tus_server_survives_garbage_requests),
	};

	bin = hq_fx_binary(argc, argv);
	return cmocka_run_group_tests(tests, setup, teardown);
}
