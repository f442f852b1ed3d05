/* The pure part of retasd's wire protocol: rd_varlink_frame cuts messages
 * at NUL and handles oversize ones across reads; rd_varlink_parse turns a
 * message into a validated call of the daemon's method table or into the
 * error to answer. The end-to-end view is tests/daemon/test_protocol.py;
 * the fuzz target tests/fuzz/fuzz-varlink.c runs both on random input. */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api.h"
#include "daemon.h"
#include "varlink.h"

#define PROTOCOL_ERROR RD_INTERFACE ".ProtocolError"

static void varlink_frame_message_and_partial_tail(void **state)
{
	static const char buf[] = "{}\0{\"me";
	struct rd_frame f;
	bool discarding = false;

	rd_varlink_frame(buf, sizeof(buf) - 1, 16, &discarding, &f);
	assert_int_equal(f.kind, RD_FRAME_MESSAGE);
	assert_int_equal(f.len, 2);
	assert_int_equal(f.consume, 3);
	rd_varlink_frame(buf + 3, sizeof(buf) - 1 - 3, 16, &discarding, &f);
	assert_int_equal(f.kind, RD_FRAME_NEED_MORE);
	assert_int_equal(f.consume, 0);
	assert_false(discarding);
}

static void varlink_frame_exactly_at_the_limit(void **state)
{
	static const char buf[] = "0123456789abcdef\0";
	struct rd_frame f;
	bool discarding = false;

	/* 16 bytes and no NUL yet: may still end in time. */
	rd_varlink_frame(buf, 16, 16, &discarding, &f);
	assert_int_equal(f.kind, RD_FRAME_NEED_MORE);
	rd_varlink_frame(buf, 17, 16, &discarding, &f);
	assert_int_equal(f.kind, RD_FRAME_MESSAGE);
	assert_int_equal(f.len, 16);
	/* One byte over, NUL seen: answered, skipped, no state left. */
	rd_varlink_frame(buf, 17, 15, &discarding, &f);
	assert_int_equal(f.kind, RD_FRAME_TOO_LARGE);
	assert_int_equal(f.consume, 17);
	assert_false(discarding);
}

static void varlink_frame_oversize_skipped_across_reads(void **state)
{
	struct rd_frame f;
	bool discarding = false;

	rd_varlink_frame("0123456789", 10, 8, &discarding, &f);
	assert_int_equal(f.kind, RD_FRAME_TOO_LARGE);
	assert_int_equal(f.consume, 10);
	assert_true(discarding);
	rd_varlink_frame("abc", 3, 8, &discarding, &f);
	assert_int_equal(f.kind, RD_FRAME_NEED_MORE);
	assert_int_equal(f.consume, 3);
	assert_true(discarding);
	rd_varlink_frame("de\0{}\0", 6, 8, &discarding, &f);
	assert_int_equal(f.kind, RD_FRAME_SKIPPED);
	assert_int_equal(f.consume, 3);
	assert_false(discarding);
	rd_varlink_frame("{}\0", 3, 8, &discarding, &f);
	assert_int_equal(f.kind, RD_FRAME_MESSAGE);
}

static void parse(const char *text, struct rd_request *q)
{
	assert_int_equal(rd_varlink_parse(rd_api_methods, PROTOCOL_ERROR, text, strlen(text), q),
			 0);
}

/* The reply's error and its one parameter, compared as text. */
static void assert_reply(const struct rd_request *q, const char *expect)
{
	assert_null(q->method);
	assert_non_null(q->reply);
	assert_string_equal(json_object_to_json_string_ext(q->reply, JSON_C_TO_STRING_PLAIN),
			    expect);
}

static void varlink_parse_valid_call_with_flags(void **state)
{
	struct rd_request q;

	parse("{\"method\":\"" RD_INTERFACE ".Login\",\"parameters\":{\"nip\":"
	      "\"198703152010011002\",\"pin\":\"482915\"},\"more\":true}",
	      &q);
	assert_non_null(q.method);
	assert_string_equal(q.method->name, "Login");
	assert_true(q.more);
	assert_false(q.oneway);
	assert_null(q.reply);
	assert_string_equal(json_object_get_string(json_object_object_get(q.params, "pin")),
			    "482915");
	rd_request_clear(&q);

	/* No parameters is an empty object; more is dropped when oneway. */
	parse("{\"method\":\"" RD_INTERFACE ".Status\",\"oneway\":true,\"more\":true}", &q);
	assert_non_null(q.method);
	assert_true(q.oneway);
	assert_false(q.more);
	assert_int_equal(json_object_object_length(q.params), 0);
	rd_request_clear(&q);
}

static void varlink_parse_errors_answered(void **state)
{
	struct rd_request q;

	parse("{\"method\":", &q);
	assert_reply(&q, "{\"error\":\"" PROTOCOL_ERROR "\",\"parameters\":{\"reason\":"
			 "\"protocol.json\",\"message\":\"the message is not valid JSON\"}}");
	rd_request_clear(&q);
	parse("{\"method\":\"" RD_INTERFACE ".Status\",\"parameters\":{\"verbose\":true}}", &q);
	assert_reply(&q, "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":"
			 "{\"parameter\":\"verbose\"}}");
	rd_request_clear(&q);
	parse("{\"method\":\"com.example.Thing.Do\"}", &q);
	assert_reply(&q, "{\"error\":\"org.varlink.service.InterfaceNotFound\",\"parameters\":"
			 "{\"interface\":\"com.example.Thing\"}}");
	rd_request_clear(&q);
}

static void varlink_parse_method_with_nul_not_found(void **state)
{
	struct rd_request q;

	parse("{\"method\":\"" RD_INTERFACE ".Status\\u0000x\"}", &q);
	assert_reply(&q, "{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":"
			 "{\"method\":\"" RD_INTERFACE ".Status\\u0000x\"}}");
	rd_request_clear(&q);
}

static void varlink_parse_oneway_unknown_unanswered_but_protocol_error_is(void **state)
{
	struct rd_request q;

	parse("{\"method\":\"" RD_INTERFACE ".Nope\",\"oneway\":true}", &q);
	assert_null(q.method);
	assert_null(q.reply);
	assert_null(q.problem);
	rd_request_clear(&q);
	parse("{\"method\":\"a.B\",\"oneway\":true,\"more\":1}", &q);
	assert_non_null(q.reply);
	assert_string_equal(q.problem, "'oneway', 'more' and 'upgrade' must be booleans");
	rd_request_clear(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(varlink_frame_message_and_partial_tail),
	    cmocka_unit_test(varlink_frame_exactly_at_the_limit),
	    cmocka_unit_test(varlink_frame_oversize_skipped_across_reads),
	    cmocka_unit_test(varlink_parse_valid_call_with_flags),
	    cmocka_unit_test(varlink_parse_errors_answered),
	    cmocka_unit_test(varlink_parse_method_with_nul_not_found),
	    cmocka_unit_test(varlink_parse_oneway_unknown_unanswered_but_protocol_error_is),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
