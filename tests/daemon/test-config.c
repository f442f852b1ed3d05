/* retasd's configuration: defaults, every key type's validation, the INI
 * reader's errors with file and line, --set and the order of sources. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"

static struct rd_config *fresh(void)
{
	struct rd_config *c = NULL;

	assert_int_equal(rd_config_new(&c), 0);
	return c;
}

static void config_defaults(void **state)
{
	struct rd_config *c = fresh();

	assert_string_equal(c->state_dir, "/var/lib/retas");
	assert_string_equal(c->socket_path, "/run/retas/retasd.sock");
	assert_int_equal(c->login_max_failures, 5);
	assert_int_equal(c->login_lockout_s, 300);
	assert_int_equal(c->clock_offset_s, 0);
	assert_false(c->have_hq_sign_key);
	rd_config_free(c);
}

static void config_set_validates_each_type(void **state)
{
	struct rd_config *c = fresh();
	struct retas_error err = {0};

	assert_int_equal(rd_config_set(c, "login.lockout", "42", &err), 0);
	assert_int_equal(c->login_lockout_s, 42);
	assert_int_equal(rd_config_set(c, "clock.offset", "-3600", &err), 0);
	assert_int_equal(c->clock_offset_s, -3600);

	assert_int_equal(rd_config_set(c, "login.lockout", "0", &err), -EINVAL);
	assert_string_equal(err.reason, "config.value");
	assert_non_null(strstr(err.message, "login.lockout: expected a whole number of seconds "
					    "from 1 to 604800, got '0'"));
	assert_int_equal(c->login_lockout_s, 42); /* unchanged on error */
	assert_int_equal(rd_config_set(c, "login.lockout", "12x", &err), -EINVAL);
	assert_int_equal(rd_config_set(c, "login.lockout", " 12", &err), -EINVAL);
	assert_int_equal(rd_config_set(c, "login.lockout", "", &err), -EINVAL);
	assert_int_equal(rd_config_set(c, "login.lockout", "99999999999999999999", &err), -EINVAL);

	assert_int_equal(rd_config_set(c, "hq.sign_key", "too-short", &err), -EINVAL);
	assert_false(c->have_hq_sign_key);
	assert_int_equal(
	    rd_config_set(c, "hq.sign_key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", &err),
	    0);
	assert_true(c->have_hq_sign_key);
	assert_int_equal(c->hq_sign_key[31], 31);

	assert_int_equal(rd_config_set(c, "daemon.socket", "run/x.sock", &err), -EINVAL);
	assert_int_equal(rd_config_set(c, "daemon.socket", "/tmp/x.sock", &err), 0);
	assert_string_equal(c->socket_path, "/tmp/x.sock");
	assert_int_equal(rd_config_set(c, "daemon.log_level", "chatty", &err), -EINVAL);
	assert_int_equal(rd_config_set(c, "camera.model", "", &err), -EINVAL);
	assert_int_equal(rd_config_set(c, "camera.model", "PTP/IP Camera", &err), 0);

	assert_int_equal(rd_config_set(c, "login.lockuot", "5", &err), -ENOENT);
	assert_string_equal(err.reason, "config.unknown-key");
	assert_non_null(strstr(err.message, "'login.lockuot'"));
	rd_config_free(c);
}

static void config_set_assignment_syntax(void **state)
{
	struct rd_config *c = fresh();
	struct retas_error err = {0};

	assert_int_equal(rd_config_set_assignment(c, "login.idle_timeout=0", &err), 0);
	assert_int_equal(c->login_idle_s, 0);
	assert_int_equal(rd_config_set_assignment(c, "camera.port=ptpip:127.0.0.1:1=2", &err), 0);
	assert_string_equal(c->camera_port, "ptpip:127.0.0.1:1=2");
	assert_int_equal(rd_config_set_assignment(c, "login.lockout", &err), -EINVAL);
	assert_string_equal(err.reason, "config.set");
	assert_int_equal(rd_config_set_assignment(c, "=5", &err), -EINVAL);
	assert_int_equal(rd_config_set_assignment(c, "lockout=5", &err), -EINVAL);
	rd_config_free(c);
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/retasd-conf-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void config_file_errors_name_line_and_key(void **state)
{
	static const struct {
		const char *text;
		const char *reason;
		const char *message;
	} cases[] = {
	    {"[login]\n\nlockout = 10\nmax_failures = many\n", "config.value",
	     ":4: login.max_failures: expected"},
	    {"; comment\n[hq]\nurl = https://x/\nbogus = 1\n", "config.unknown-key",
	     ":4: unknown key 'hq.bogus'"},
	    {"lockout = 1\n", "config.section", ":1: key 'lockout' is outside any [section]"},
	    {"[login]\nthis is not a pair\n", "config.syntax",
	     ":2: not a [section] or key = value line"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rd_config *c = fresh();
		struct retas_error err = {0};
		char *path = write_temp(cases[i].text);

		assert_true(rd_config_load_file(c, path, false, &err) < 0);
		assert_string_equal(err.reason, cases[i].reason);
		assert_non_null(strstr(err.message, path));
		if (!strstr(err.message, cases[i].message))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].message);
		unlink(path);
		free(path);
		rd_config_free(c);
	}
}

static void config_sources_in_order(void **state)
{
	char *path = write_temp("[daemon]\nstate_dir = /srv/a\n[login]\nlockout = 10\n"
				"max_failures = 3\n");
	const char *sets[] = {"login.lockout=20", "login.lockout=30"};
	struct rd_options o = {
	    .config_path = path,
	    .config_explicit = true,
	    .sets = sets,
	    .n_sets = 2,
	    .state_dir = "/srv/b",
	};
	struct retas_error err = {0};
	struct rd_config *c = NULL;

	assert_int_equal(rd_config_load_all(&o, &c, &err), 0);
	assert_int_equal(c->login_lockout_s, 30);
	assert_int_equal(c->login_max_failures, 3);
	assert_string_equal(c->state_dir, "/srv/b");
	rd_config_free(c);

	/* A missing file is fine by default, an error when named. */
	o.config_path = "/nonexistent/retasd.conf";
	assert_int_equal(rd_config_load_all(&o, &c, &err), -ENOENT);
	assert_string_equal(err.reason, "config.open");
	o.config_explicit = false;
	assert_int_equal(rd_config_load_all(&o, &c, &err), 0);
	assert_int_equal(c->login_max_failures, 5);
	rd_config_free(c);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(config_defaults),
	    cmocka_unit_test(config_set_validates_each_type),
	    cmocka_unit_test(config_set_assignment_syntax),
	    cmocka_unit_test(config_file_errors_name_line_and_key),
	    cmocka_unit_test(config_sources_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
