/*
 * `retas nik` from the outside: runs the built binary ($RETAS_CLI) once per
 * case of tests/unit/cli-nik.cases (its header documents the format) and
 * checks the exit status, stdout and stderr line by line, or stdout parsed
 * as JSON with json-c. Each case is its own cmocka test under its own name.
 * The child's output goes to memfds, so no pipe can fill up, and its end is
 * awaited on a pidfd with a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "retas-json.h"
#include "retas-util.h"

#define MAX_ARGS 32
#define MAX_LINES 64
#define DEADLINE_MS 20000

struct cli_case {
	char *name;
	unsigned line; /* where "case" is, for messages */
	char *args[MAX_ARGS + 2];
	int nargs;
	int exit_code;
	char *out[MAX_LINES];
	int nout;
	char *err[MAX_LINES];
	int nerr;
	char *json[MAX_LINES]; /* "PATH VALUE" */
	int njson;
	char *keys;
};

static const char *cli_path;

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

/* Splits at spaces; '...' groups, '' is an empty word. */
static int split_args(const char *s, struct cli_case *c, const char *file, unsigned lineno)
{
	while (*s) {
		char word[512];
		size_t n = 0;

		if (*s == ' ') {
			s++;
			continue;
		}
		if (*s == '\'') {
			const char *end = strchr(s + 1, '\'');

			if (!end || (size_t)(end - s - 1) >= sizeof(word))
				goto bad;
			n = (size_t)(end - s - 1);
			memcpy(word, s + 1, n);
			s = end + 1;
		} else {
			while (*s && *s != ' ' && n < sizeof(word) - 1)
				word[n++] = *s++;
		}
		word[n] = '\0';
		if (c->nargs == MAX_ARGS)
			goto bad;
		c->args[1 + c->nargs++] = xstrdup(word);
	}
	return 0;
bad:
	fprintf(stderr, "%s:%u: bad run line\n", file, lineno);
	return -1;
}

static int add_line(char **v, int *n, const char *text, const char *file, unsigned lineno)
{
	if (*n == MAX_LINES) {
		fprintf(stderr, "%s:%u: too many lines\n", file, lineno);
		return -1;
	}
	v[(*n)++] = xstrdup(text);
	return 0;
}

/* "out" alone and "out TEXT": the text after the keyword and one space. */
static const char *after(const char *line, const char *kw)
{
	size_t n = strlen(kw);

	if (strncmp(line, kw, n) != 0)
		return NULL;
	if (line[n] == '\0')
		return line + n;
	return line[n] == ' ' ? line + n + 1 : NULL;
}

static int load_cases(const char *file, struct cli_case **out, size_t *count)
{
	FILE *f = fopen(file, "re");
	struct cli_case *v = NULL, *c = NULL;
	size_t n = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int r = 0;

	if (!f) {
		fprintf(stderr, "%s: %s\n", file, strerror(errno));
		return -1;
	}
	while (r == 0 && (len = getline(&line, &cap, f)) >= 0) {
		const char *t;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if ((t = after(line, "case")) && *t) {
			struct cli_case *nv = realloc(v, (n + 1) * sizeof(*v));

			if (!nv)
				abort();
			v = nv;
			c = &v[n++];
			memset(c, 0, sizeof(*c));
			c->name = xstrdup(t);
			c->line = lineno;
			c->exit_code = -1;
			c->args[0] = xstrdup("retas");
		} else if (!c) {
			fprintf(stderr, "%s:%u: expected 'case NAME' first\n", file, lineno);
			r = -1;
		} else if ((t = after(line, "run"))) {
			r = split_args(t, c, file, lineno);
		} else if ((t = after(line, "exit"))) {
			c->exit_code = atoi(t);
		} else if ((t = after(line, "out"))) {
			r = add_line(c->out, &c->nout, t, file, lineno);
		} else if ((t = after(line, "err"))) {
			r = add_line(c->err, &c->nerr, t, file, lineno);
		} else if ((t = after(line, "json")) && strchr(t, ' ')) {
			r = add_line(c->json, &c->njson, t, file, lineno);
		} else if ((t = after(line, "keys")) && *t) {
			c->keys = xstrdup(t);
		} else {
			fprintf(stderr, "%s:%u: unknown line '%s'\n", file, lineno, line);
			r = -1;
		}
	}
	free(line);
	fclose(f);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (v[i].nargs == 0 || v[i].exit_code < 0) {
			fprintf(stderr, "%s:%u: case %s needs 'run' and 'exit'\n", file, v[i].line,
				v[i].name);
			r = -1;
		}
	}
	if (r == 0 && n == 0) {
		fprintf(stderr, "%s: no cases\n", file);
		r = -1;
	}
	*out = v;
	*count = n;
	return r;
}

static char *read_memfd(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *buf;

	assert_true(size >= 0);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)size, 0), size);
	buf[size] = '\0';
	return buf;
}

/* Runs the case's command; fills the exit status and both streams. */
static void run_cli(const struct cli_case *c, int *status, char **out, char **err)
{
	int ofd = memfd_create("stdout", MFD_CLOEXEC), efd = memfd_create("stderr", MFD_CLOEXEC);
	struct pollfd p = {.events = POLLIN};
	pid_t pid;

	assert_true(ofd >= 0 && efd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(ofd, 1) < 0 || dup2(efd, 2) < 0)
			_exit(125);
		execv(cli_path, c->args);
		_exit(126);
	}
	p.fd = pidfd_open(pid, 0);
	assert_true(p.fd >= 0);
	if (poll(&p, 1, DEADLINE_MS) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("%s: retas did not finish within %d ms", c->name, DEADLINE_MS);
	}
	assert_int_equal(waitpid(pid, status, 0), pid);
	close(p.fd);
	*out = read_memfd(ofd);
	*err = read_memfd(efd);
	close(ofd);
	close(efd);
}

static void check_lines(const struct cli_case *c, const char *stream, const char *text,
			char *const *want, int nwant)
{
	const char *p = text;

	for (int i = 0; i < nwant; i++) {
		const char *nl = strchr(p, '\n');

		if (!nl)
			fail_msg("%s: %s ends before line %d '%s'; got:\n%s", c->name, stream,
				 i + 1, want[i], text);
		if ((size_t)(nl - p) != strlen(want[i]) ||
		    strncmp(p, want[i], strlen(want[i])) != 0)
			fail_msg("%s: %s line %d is '%.*s', want '%s'", c->name, stream, i + 1,
				 (int)(nl - p), p, want[i]);
		p = nl + 1;
	}
	if (*p)
		fail_msg("%s: %s has more than %d lines; got:\n%s", c->name, stream, nwant, text);
}

static json_object *member_at(json_object *root, const char *path)
{
	char buf[256], *save = NULL;
	json_object *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		json_object *next;

		if (!json_object_is_type(cur, json_type_object) ||
		    !json_object_object_get_ex(cur, k, &next))
			return (json_object *)-1;
		cur = next;
	}
	return cur;
}

static void check_json(const struct cli_case *c, const char *text)
{
	_cleanup_(json_object_putp) json_object *root = NULL;

	if (retas_json_parse(text, strlen(text), &root) < 0 ||
	    !json_object_is_type(root, json_type_object))
		fail_msg("%s: stdout is not one JSON object:\n%s", c->name, text);
	for (int i = 0; i < c->njson; i++) {
		_cleanup_(json_object_putp) json_object *want = NULL;
		char path[256];
		const char *sp = strchr(c->json[i], ' '), *value = sp + 1;
		json_object *got;

		snprintf(path, sizeof(path), "%.*s", (int)(sp - c->json[i]), c->json[i]);
		/* json_tokener_parse, not retas_json_parse: expected values are
		 * often bare scalars, which json-c only finishes at a NUL. */
		if (strcmp(value, "null") != 0 && !(want = json_tokener_parse(value)))
			fail_msg("%s: bad expected JSON '%s'", c->name, value);
		got = member_at(root, path);
		if (got == (json_object *)-1)
			fail_msg("%s: no member %s in %s", c->name, path, text);
		if (!json_object_equal(got, want))
			fail_msg("%s: %s is %s, want %s", c->name, path,
				 got ? json_object_to_json_string(got) : "null", value);
	}
	if (c->keys) {
		char buf[512], *save = NULL;
		int n = 0;

		snprintf(buf, sizeof(buf), "%s", c->keys);
		for (char *k = strtok_r(buf, " ", &save); k; k = strtok_r(NULL, " ", &save), n++)
			if (!json_object_object_get_ex(root, k, NULL))
				fail_msg("%s: no member %s in %s", c->name, k, text);
		if (json_object_object_length(root) != n)
			fail_msg("%s: members other than '%s' in %s", c->name, c->keys, text);
	}
}

static void run_case(void **state)
{
	const struct cli_case *c = *state;
	_cleanup_(freep) char *out = NULL;
	_cleanup_(freep) char *err = NULL;
	int status;

	run_cli(c, &status, &out, &err);
	if (!WIFEXITED(status))
		fail_msg("%s: retas died (status 0x%x); stderr:\n%s", c->name, status, err);
	if (WEXITSTATUS(status) != c->exit_code)
		fail_msg("%s: exit %d, want %d; stdout:\n%s\nstderr:\n%s", c->name,
			 WEXITSTATUS(status), c->exit_code, out, err);
	if (c->njson || c->keys)
		check_json(c, out);
	else
		check_lines(c, "stdout", out, c->out, c->nout);
	check_lines(c, "stderr", err, c->err, c->nerr);
}

int main(int argc, char **argv)
{
	const char *file = argc > 1 ? argv[1] : RETAS_SOURCE_ROOT "/tests/unit/cli-nik.cases";
	struct cli_case *cases = NULL;
	struct CMUnitTest *tests;
	size_t n = 0;
	int failed;

	cli_path = getenv("RETAS_CLI");
	if (!cli_path || !*cli_path) {
		fprintf(stderr, "RETAS_CLI is not set: run this through meson test\n");
		return 1;
	}
	if (load_cases(file, &cases, &n) < 0)
		return 1;
	tests = calloc(n, sizeof(*tests));
	if (!tests)
		return 1;
	for (size_t i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){
		    .name = cases[i].name, .test_func = run_case, .initial_state = &cases[i]};
	failed = _cmocka_run_group_tests("cli_nik", tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		for (int j = 0; j <= cases[i].nargs; j++)
			free(cases[i].args[j]);
		for (int j = 0; j < cases[i].nout; j++)
			free(cases[i].out[j]);
		for (int j = 0; j < cases[i].nerr; j++)
			free(cases[i].err[j]);
		for (int j = 0; j < cases[i].njson; j++)
			free(cases[i].json[j]);
		free(cases[i].keys);
		free(cases[i].name);
	}
	free(cases);
	free(tests);
	return failed;
}
