/*
 * libFuzzer target: what retasd does with the bytes a client writes on its
 * socket, up to the point where a handler would run. The input is the
 * byte stream: it is cut into messages at NUL (rd_varlink_frame) twice,
 * once whole with the daemon's 1 MiB limit and once fed in small chunks
 * with a limit of 64 bytes, so the oversize and skip paths run on inputs
 * of fuzzer size; every message is then parsed and validated against the
 * daemon's own method table (rd_varlink_parse, rd_api_methods).
 *
 * Besides the sanitizers it asserts the contract: both cuts agree with a
 * plain split at NUL; a message is either a call that names its method
 * exactly (no NUL inside the name) and whose parameters fit it, or an
 * error answer that is one NUL-free JSON message (none only
 * for a oneway call); a ProtocolError is answered even when oneway.
 *
 * The seeds (corpus/varlink) are the messages the CLI sends, one file per
 * stream, written by hand: they need no keys.
 */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "daemon.h"
#include "fuzz-common.h"
#include "varlink.h"

#define SMALL_MAX 64
#define PROTOCOL_ERROR RD_INTERFACE ".ProtocolError"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static const struct rd_param *find_param(const struct rd_method *m, const char *key)
{
	for (size_t i = 0; m->params && m->params[i].name; i++)
		if (strcmp(m->params[i].name, key) == 0)
			return &m->params[i];
	return NULL;
}

static void check_call(const struct rd_request *q)
{
	const struct rd_method *m = q->method;
	json_object *mv;
	size_t ilen = strlen(m->interface);
	const char *name;

	/* The call names its method exactly: nothing before, after or inside. */
	FUZZ_CHECK(json_object_object_get_ex(q->request, "method", &mv));
	name = json_object_get_string(mv);
	FUZZ_CHECK((size_t)json_object_get_string_len(mv) == ilen + 1 + strlen(m->name));
	FUZZ_CHECK(strncmp(name, m->interface, ilen) == 0 && name[ilen] == '.' &&
		   strcmp(name + ilen + 1, m->name) == 0);

	FUZZ_CHECK(q->request && !q->reply && !q->problem);
	FUZZ_CHECK(json_object_is_type(q->params, json_type_object));
	FUZZ_CHECK(!(q->more && q->oneway));
	json_object_object_foreach(q->params, key, val)
	{
		const struct rd_param *p = find_param(m, key);

		FUZZ_CHECK(p);
		if (p->type == RD_PARAM_STRING) {
			FUZZ_CHECK(json_object_is_type(val, json_type_string));
			FUZZ_CHECK((size_t)json_object_get_string_len(val) <= p->max_len);
			FUZZ_CHECK(strlen(json_object_get_string(val)) ==
				   (size_t)json_object_get_string_len(val));
		} else if (p->type == RD_PARAM_INT) {
			FUZZ_CHECK(json_object_is_type(val, json_type_int));
		} else {
			FUZZ_CHECK(json_object_is_type(val, json_type_boolean));
		}
	}
	for (size_t i = 0; m->params && m->params[i].name; i++)
		FUZZ_CHECK(m->params[i].optional ||
			   json_object_object_get_ex(q->params, m->params[i].name, NULL));
}

static void check_reply(const struct rd_request *q)
{
	json_object *e;
	const char *text, *name;
	size_t len;

	FUZZ_CHECK(!q->request);
	if (!q->reply) {
		/* Only a well-formed oneway call goes unanswered. */
		FUZZ_CHECK(!q->problem);
		return;
	}
	text = json_object_to_json_string_length(q->reply, JSON_C_TO_STRING_PLAIN, &len);
	FUZZ_CHECK(text && strlen(text) == len);
	FUZZ_CHECK(json_object_object_get_ex(q->reply, "error", &e));
	name = json_object_get_string(e);
	if (q->problem)
		FUZZ_CHECK(strcmp(name, PROTOCOL_ERROR) == 0);
	else
		FUZZ_CHECK(strncmp(name, RD_VARLINK_SERVICE ".", strlen(RD_VARLINK_SERVICE) + 1) ==
			   0);
}

static void parse_one(const char *text, size_t len)
{
	struct rd_request q;

	if (rd_varlink_parse(rd_api_methods, PROTOCOL_ERROR, text, len, &q) < 0)
		return; /* out of memory */
	if (q.method)
		check_call(&q);
	else
		check_reply(&q);
	rd_request_clear(&q);
}

/* Segments of data ended by a NUL: how many, and how many are over max. */
static void count_segments(const uint8_t *data, size_t size, size_t max, size_t *n,
			   size_t *over)
{
	size_t start = 0;

	*n = *over = 0;
	for (size_t i = 0; i < size; i++) {
		if (data[i] != 0)
			continue;
		(*n)++;
		if (i - start > max)
			(*over)++;
		start = i + 1;
	}
}

/* The whole stream at once, as a client that writes quickly: every
 * complete message is parsed. */
static void cut_whole(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t off = 0, messages = 0, n, over;
	bool discarding = false;

	for (;;) {
		struct rd_frame f;

		rd_varlink_frame(buf + off, size - off, RD_VARLINK_MAX_MESSAGE, &discarding, &f);
		FUZZ_CHECK(f.consume <= size - off);
		if (f.kind == RD_FRAME_NEED_MORE) {
			FUZZ_CHECK(f.consume == 0 && !memchr(buf + off, 0, size - off));
			break;
		}
		FUZZ_CHECK(f.kind == RD_FRAME_MESSAGE);
		FUZZ_CHECK(f.consume == f.len + 1 && buf[off + f.len] == 0);
		FUZZ_CHECK(!memchr(buf + off, 0, f.len));
		parse_one(buf + off, f.len);
		messages++;
		off += f.consume;
	}
	count_segments(data, size, RD_VARLINK_MAX_MESSAGE, &n, &over);
	FUZZ_CHECK(messages == n && over == 0);
}

/* The stream trickled in chunks into a buffer the way conn_process keeps
 * it, with a small limit: each NUL-ended segment is one message or one
 * oversize answer, whatever the chunking. */
static void cut_chunked(const uint8_t *data, size_t size)
{
	size_t chunk = 1 + size % 13, fed = 0, in_len = 0, messages = 0, too_large = 0, n, over;
	size_t tail;
	char *in = malloc(size + 1);
	bool discarding = false;

	if (!in)
		return;
	while (fed < size) {
		size_t k = size - fed < chunk ? size - fed : chunk;

		memcpy(in + in_len, data + fed, k);
		in_len += k;
		fed += k;
		while (in_len > 0) {
			struct rd_frame f;

			rd_varlink_frame(in, in_len, SMALL_MAX, &discarding, &f);
			FUZZ_CHECK(f.consume <= in_len);
			if (f.kind == RD_FRAME_MESSAGE) {
				FUZZ_CHECK(f.len <= SMALL_MAX && in[f.len] == 0);
				messages++;
			} else if (f.kind == RD_FRAME_TOO_LARGE) {
				too_large++;
			}
			memmove(in, in + f.consume, in_len - f.consume);
			in_len -= f.consume;
			if (f.kind == RD_FRAME_NEED_MORE)
				break;
		}
		/* What stays buffered is a partial message within the limit. */
		FUZZ_CHECK(in_len <= SMALL_MAX && !memchr(in, 0, in_len));
	}
	free(in);
	count_segments(data, size, SMALL_MAX, &n, &over);
	FUZZ_CHECK(messages == n - over);
	/* An oversize tail without its NUL has been answered already. */
	tail = size;
	for (size_t i = 0; i < size; i++)
		if (data[i] == 0)
			tail = size - i - 1;
	FUZZ_CHECK(too_large == over + (tail > SMALL_MAX ? 1 : 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	cut_whole(data, size);
	cut_chunked(data, size);
	return 0;
}
