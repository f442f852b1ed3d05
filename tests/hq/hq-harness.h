/*
 * Test harness for retas-hq: a head-office directory in a temporary
 * directory, the real `retas-hq` binary run as a command and as a server on
 * a loopback port (port 0, the readiness line tells which), a libcurl
 * client, and vans with their own device keys that seal records and build
 * batches with the core library.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <json-c/json.h>

struct hq_fx {
	const char *bin; /* the retas-hq binary */
	char dir[256];	 /* the head-office directory */
	char tmp[256];	 /* the temporary directory holding it */
	pid_t pid;	 /* the running server, 0 when none */
	int pidfd;
	unsigned port;
	char base[64]; /* http://127.0.0.1:PORT */
	uint8_t seal_pk[32];
	uint8_t sign_pk[32];
};

struct http_resp {
	long status;
	char *body;
	size_t len;
	char *headers; /* raw header block */
};

struct test_van {
	char id[32];
	uint8_t pk[32];
	uint8_t sk[64];
	uint64_t seq;	       /* last sequence number used */
	uint8_t last_hash[32]; /* hash of the last record sealed */
};

/* The retas-hq path from argv[1] or $RETAS_HQ; exits 77 when missing. */
const char *hq_fx_binary(int argc, char **argv);

/* Creates a temporary directory and runs `retas-hq init` in it. extra_config
 * (may be NULL) replaces lines of retas-hq.conf: "key = value" lines whose
 * key matches. */
void hq_fx_init(struct hq_fx *fx, const char *bin, const char *extra_config);
/* Stops the server if running and removes the directory. */
void hq_fx_cleanup(struct hq_fx *fx);

/* Runs retas-hq --dir DIR ARGS...; returns its exit status; *out (may be
 * NULL) receives stdout (caller frees). NULL-terminated arguments. */
int hq_fx_run(struct hq_fx *fx, char **out, ...) __attribute__((sentinel));
/* The same with input written to its stdin. */
int hq_fx_run_in(struct hq_fx *fx, const char *input, char **out, ...) __attribute__((sentinel));

/* Starts `retas-hq serve --listen 127.0.0.1:0` and waits for its readiness
 * line (20 s deadline). */
void hq_fx_start(struct hq_fx *fx);
/* The same, listening on host (an address of the calling thread's network
 * namespace) instead of 127.0.0.1. */
void hq_fx_start_at(struct hq_fx *fx, const char *host);
/* SIGTERM and wait (20 s deadline); asserts a clean exit. */
void hq_fx_stop(struct hq_fx *fx);

/* Adds a staff member through the CLI and returns the token (caller frees). */
char *hq_fx_staff(struct hq_fx *fx, const char *nip, const char *name, const char *role);

/* A van with a fresh device key, registered through the CLI when register_it. */
void test_van_new(struct test_van *v, const char *id);
void test_van_register(struct hq_fx *fx, const struct test_van *v);
/* "Retas-Auth: ..." for method and path at now_ms (0: the current time). */
char *test_van_auth(const struct test_van *v, const char *method, const char *path, int64_t now_ms);

/* Seals the next record of van v (seq v->seq + 1) with a demografi.json
 * part (demografi JSON text) and a 'foto.jpg' of photo_len pseudo-random
 * bytes; updates v's chain. id: the record id, NULL for a new UUIDv7. *out
 * is the record (caller frees). */
void test_van_record(struct test_van *v, const uint8_t hq_seal_pk[32], const char *st_nomor,
		     const char *officer_nip, int64_t created_ms, const char *demografi,
		     size_t photo_len, const uint8_t *id, uint8_t **out, size_t *outlen);
/* Builds a batch file of the n records, its manifest signed by v (report
 * JSON text, or NULL). *batch_id (37 bytes) receives the batch id. */
void test_van_batch(const struct test_van *v, const char *st_nomor, uint8_t *const *recs,
		    const size_t *lens, size_t n, const char *report, uint8_t **out, size_t *outlen,
		    char *batch_id);

/* An HTTP request to the server. headers: NULL-terminated list of
 * "Name: value" lines (may be NULL). body may be NULL. */
void http_do(struct hq_fx *fx, const char *method, const char *path, const char *const *headers,
	     const void *body, size_t len, struct http_resp *out);
/* The same on the caller's handle c (reset first) to base, asserting
 * nothing, so threads may use it: 0, or -1 with out->status the negated
 * CURLcode. out is filled (and must be cleared) either way. */
int http_do_on(CURL *c, const char *base, const char *method, const char *path,
	       const char *const *headers, const void *body, size_t len, long timeout_s,
	       struct http_resp *out);
void http_resp_clear(struct http_resp *r);
/* The value of a response header (case-insensitive), a new string, or NULL. */
char *http_header(const struct http_resp *r, const char *name);
/* The body parsed as JSON (asserts it is); caller puts it. */
json_object *http_json(const struct http_resp *r);
/* The body's "error" member, asserting a JSON error body. */
void http_assert_error(const struct http_resp *r, long status, const char *reason);

/* POST /tus/ as van v for len bytes (asserting 201); returns the upload
 * path, a new string. */
char *tus_create(struct hq_fx *fx, const struct test_van *v, size_t len);
/* Uploads a whole batch over tus as van v: POST, one PATCH with its
 * checksum. Returns the final PATCH's status; *upload (may be NULL)
 * receives the upload path. */
long tus_upload(struct hq_fx *fx, const struct test_van *v, const uint8_t *batch, size_t len,
		char **upload);
/* Fetches and verifies the receipt of batch_id as van v. */
struct sync_receipt;
struct sync_receipt *fetch_receipt(struct hq_fx *fx, const struct test_van *v,
				   const char *batch_id);

/* Reads a whole file (caller frees); asserts. */
char *read_file(const char *path, size_t *len);

/* A staff API call with "Authorization: Bearer token" (token may be NULL)
 * and a JSON body (may be NULL). */
void api_do(struct hq_fx *fx, const char *method, const char *path, const char *token,
	    const char *json, struct http_resp *out);

struct staff_tokens {
	char *bidang, *kabid, *kadis, *fo, *operator;
};

#define NIP_BIDANG "198001012005011001"
#define NIP_KABID "197502022000031002"
#define NIP_KADIS "196702221985121001"
#define NIP_FO "199003032015022003"
#define NIP_OPERATOR "199104042016031004"

/* One staff member per role, through the CLI. */
void hq_fx_staff_all(struct hq_fx *fx, struct staff_tokens *t);
void staff_tokens_free(struct staff_tokens *t);
/* An usulan for the school, approved, its surat tugas nomor drafted for van
 * (officer NIP 198703152010011002, PIN 123456) and signed; returns the
 * JWS (caller frees). */
char *hq_fx_make_st(struct hq_fx *fx, const struct staff_tokens *t, const char *nomor,
		    const char *van, const char *npsn, const char *nama, const char *kecamatan);
/* "%2F" for each '/' of s (new string). */
char *url_escape_slashes(const char *s);

/* demografi.json text for a student born years old (minus extra_days) as
 * of today (WIB), with a NIK that carries the birth date and gender, and
 * n_exceptions finger exceptions. */
void student_demografi(char *buf, size_t size, const char *nama, char gender, int years,
		       int extra_days, int serial, int n_exceptions);
