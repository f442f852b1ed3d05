/* The refusal sentences: every reason the daemon sends has one, {name}
 * placeholders fill from the arguments, and the Indonesian catalogue
 * translates them when the locale asks for it. */
#include <errno.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "retas-i18n.h"
#include "retas-reason.h"

static json_object *args2(const char *k1, const char *v1, const char *k2, const char *v2)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, k1, json_object_new_string(v1));
	if (k2)
		json_object_object_add(o, k2, json_object_new_string(v2));
	return o;
}

static void reason_every_daemon_reason_has_a_sentence(void **state)
{
	static const char *const ids[] = {
	    "assignment.none",
	    "assignment.no-hq-key",
	    "assignment.session-open",
	    "assignment.changed",
	    "st.expired",
	    "st.not-yet-valid",
	    "st.other-van",
	    "st.json",
	    "st.nip",
	    "jws.signature",
	    "jws.alg",
	    "jws.size",
	    "jws.format",
	    "jws.trailing",
	    "jws.crit",
	    "login.unknown-nip",
	    "login.locked",
	    "login.wrong-pin",
	    "login.wrong-pin-locked",
	    "login.queue-full",
	    "document.queue-full",
	    "login.required",
	    "login.idle",
	    "login.other-user",
	    "api.permission",
	    "session.already-open",
	    "session.not-open",
	    "preflight.disk",
	    "internal.store",
	    "internal.pin-check",
	};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (!retas_reason_template(ids[i]))
			fail_msg("no sentence for %s", ids[i]);
	assert_null(retas_reason_template("no.such"));
	assert_null(retas_reason_template(NULL));
}

static void reason_placeholders_fill(void **state)
{
	json_object *a = args2("nip", "198703152010011002", "until", "2026-11-24T10:00:00+07:00");
	char *s = NULL;

	assert_int_equal(retas_reason_render("login.locked", a, false, &s), 0);
	assert_string_equal(s, "NIP 198703152010011002 is locked after too many wrong PINs "
			       "until 2026-11-24T10:00:00+07:00.");
	free(s);
	assert_int_equal(retas_reason_render("no.such", a, false, &s), -ENOENT);
	json_object_put(a);

	/* Missing arguments and stray braces stay as they are. */
	a = args2("a", "1", NULL, NULL);
	assert_int_equal(retas_reason_format("{a}{b} {} {a", a, &s), 0);
	assert_string_equal(s, "1{b} {} {a");
	free(s);
	assert_int_equal(retas_reason_format("none", NULL, &s), 0);
	assert_string_equal(s, "none");
	free(s);
	json_object_put(a);

	a = args2("field", "nip", "detail", "must be 18 digits");
	assert_int_equal(retas_reason_render("st.nip", a, false, &s), 0);
	assert_string_equal(s, "The surat tugas has an invalid field nip: must be 18 digits");
	free(s);
	json_object_put(a);
}

static void reason_translated_in_indonesian(void **state)
{
	json_object *a = args2("nip", "198703152010011002", "remaining", "3");
	char *s = NULL;

	if (!setlocale(LC_ALL, "id_ID.UTF-8"))
		skip();
	bindtextdomain(GETTEXT_PACKAGE, getenv("RETAS_LOCALEDIR"));
	assert_int_equal(retas_reason_render("login.wrong-pin", a, true, &s), 0);
	assert_string_equal(s, "PIN salah untuk NIP 198703152010011002. Sisa percobaan sebelum "
			       "dikunci: 3.");
	free(s);
	json_object_put(a);
	setlocale(LC_ALL, "C");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reason_every_daemon_reason_has_a_sentence),
	    cmocka_unit_test(reason_placeholders_fill),
	    cmocka_unit_test(reason_translated_in_indonesian),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
